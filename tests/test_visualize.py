"""to_dot, draw_graph and to_networkx: deterministic text, shared nodes once, clear errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import graphviz
import networkx as nx
import pytest
from peers import REQUIRE_PEERS

from minigrad import Graph, Scalar, draw_graph, relu, to_dot, to_networkx
from minigrad.visualize import DotNotFoundError

GOLDEN = Path(__file__).parent / "golden"


def seed_example() -> tuple[Scalar, Scalar, object]:
    a = Scalar(1.5, name="a")
    b = Scalar(-4.0, name="b")
    return a, b, a**3 / 5 + relu(b**2)


def needs_dot() -> None:
    """Skip without graphviz's dot program -- except in CI, where it is installed."""
    if shutil.which("dot") is None and not REQUIRE_PEERS:
        pytest.skip("graphviz's dot program is not installed")


def test_seed_dot_matches_golden_file() -> None:
    *_, d = seed_example()
    assert to_dot(d) == (GOLDEN / "seed.dot").read_text()


def test_dot_is_deterministic() -> None:
    assert to_dot(seed_example()[2]) == to_dot(seed_example()[2])


def test_dot_shows_names_values_gradients_and_ops() -> None:
    *_, d = seed_example()
    text = to_dot(d)
    assert '"{a | value 1.5 | grad 1.35}"' in text
    assert '"{b | value -4 | grad -8}"' in text
    assert 'label="relu"' in text and 'label="+"' in text
    assert 'label="a / b"' in text and 'label="a ** b"' in text
    assert 'rankdir="LR"' in text


def test_operand_order_is_visible() -> None:
    x, y = Scalar(1.0, name="x"), Scalar(2.0, name="y")
    text = to_dot(x - y)
    assert 'v0 -> o2 [label="a"]' in text  # x is a
    assert 'v1 -> o2 [label="b"]' in text  # y is b


def test_shared_subexpressions_are_drawn_once() -> None:
    # The seed's draw_graph is exponential here: 13 s at 14 doublings.
    y = Scalar(1.0, name="x")  # 1.0, so that y stays finite
    for _ in range(60):
        y = y * y
    text = to_dot(y, gradients=False)
    assert text.count("[label=\"{") == 61


def test_inputs_and_options() -> None:
    _, b, d = seed_example()
    text = to_dot(d, inputs={"a": 2.0}, gradients=False, graph_attr={"rankdir": "TB"})
    assert "{a | value 2}" in text
    assert "| grad" not in text
    assert 'rankdir="TB"' in text
    graph = Graph(d, b * 2)
    assert "{b | value -4 | grad 2}" in to_dot(graph, output=graph.outputs[1])


def test_names_are_escaped() -> None:
    weird = Scalar(1.0, name='a"b{c}|<d>\\')
    text = to_dot(weird * 2)
    assert r'a\"b\\{c\\}\\|\\<d\\>\\\\' in text


def test_big_graph_to_dot_and_draw_refusal() -> None:
    x = Scalar(1.0, name="x")
    terms = [x * float(i) for i in range(20_000)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    text = to_dot(total)
    assert text.count("->") > 60_000
    with pytest.raises(ValueError, match=r"40,000 nodes.*max_nodes=None"):
        draw_graph(total)


def test_dot_program_accepts_the_dot_text(tmp_path: Path) -> None:
    needs_dot()
    *_, d = seed_example()
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=to_dot(d), capture_output=True, text=True, check=True
    ).stdout
    assert svg.lstrip().startswith("<?xml") and "grad 1.35" in svg


def test_draw_graph_renders(tmp_path: Path) -> None:
    needs_dot()
    *_, d = seed_example()
    drawing = draw_graph(d)
    assert isinstance(drawing, graphviz.Source)
    assert "<svg" in drawing._repr_image_svg_xml()  # what Jupyter shows inline
    path = drawing.render(tmp_path / "seed", format="png")
    assert Path(path).read_bytes().startswith(b"\x89PNG")


def test_without_dot_the_error_says_how_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot to be found
    *_, d = seed_example()
    drawing = draw_graph(d)  # building the drawing needs no dot...
    with pytest.raises(DotNotFoundError, match=r"apt-get install graphviz.*to_dot\(\)") as info:
        drawing.pipe(format="svg")  # ...rendering does
    assert "running 'dot' failed" in str(info.value)  # not graphviz's message nested inside
    with pytest.raises(graphviz.ExecutableNotFound):  # still what graphviz users catch
        drawing.render(tmp_path / "never-rendered", format="png")


# -- networkx ------------------------------------------------------------------------------
def test_to_networkx_has_plain_attributes() -> None:
    *_, d = seed_example()
    graph = Graph(d)
    exported = to_networkx(graph, output=d)
    assert list(exported.nodes) == [f"n{i}" for i in range(7)]
    assert exported.nodes["n0"] == {"op": "scalar", "name": "a", "value": 1.5, "grad": 1.35}
    assert exported.nodes["n6"]["op"] == "add"
    assert exported.nodes["n1"]["args"] == "n0 3"
    assert "grad" not in to_networkx(graph).nodes["n0"]
    assert nx.is_isomorphic(exported, graph.nx)


def test_to_networkx_writes_graphml(tmp_path: Path) -> None:
    *_, d = seed_example()
    path = tmp_path / "seed.graphml"
    nx.write_graphml(to_networkx(Graph(d), output=d), path)
    again = nx.read_graphml(path)
    assert again.nodes["n0"]["grad"] == 1.35


def test_networkx_analysis_of_a_graph() -> None:
    # Real questions, answered with networkx on Graph.nx.
    x, w = Scalar(0.5, name="x"), Scalar(2.0, name="w")
    hidden = relu(x * w)
    out = hidden * hidden + hidden - w
    graph = Graph(out)
    ops = nx.get_node_attributes(graph.nx, "op")
    assert sorted(ops.values()).count("mul") == 2
    assert nx.dag_longest_path_length(graph.nx) == 5  # depth: x -> mul -> relu -> mul -> add -> sub
    fan_out = {node: graph.nx.out_degree(node) for node in graph.nx}
    assert fan_out[hidden] == 2 and fan_out[w] == 2  # reused nodes
    influenced = nx.descendants(graph.nx, x)
    assert out in influenced and w not in influenced

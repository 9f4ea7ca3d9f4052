"""to_dot, draw_graph and to_networkx: deterministic text, shared nodes once, clear errors."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import graphviz
import networkx as nx
import pytest
from peers import REQUIRE_PEERS

from minigrad import Constant, Graph, Scalar, draw_graph, relu, to_dot, to_networkx
from minigrad.parse import parse_expression
from minigrad.svg import to_svg
from minigrad.visualize import (
    DRAW_MAX_NODES,
    DotNotFoundError,
    DotTimeoutError,
    GraphTooLargeError,
    crossed_columns,
    drawn_nodes,
    layout_cost,
)

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
    assert "<td>a</td><td>value 1.5</td><td>grad 1.35</td>" in text
    assert "<td>b</td><td>value -4</td><td>grad -8</td>" in text
    assert "label=relu" in text and 'label="+"' in text
    assert 'label="a / b"' in text and 'label="a ** b"' in text
    assert "rankdir=LR" in text


def test_operand_order_is_visible() -> None:
    x, y = Scalar(1.0, name="x"), Scalar(2.0, name="y")
    text = to_dot(x - y)
    assert "v0 -> o2 [headlabel=a]" in text  # x is a
    assert "v1 -> o2 [headlabel=b]" in text  # y is b


def test_shared_subexpressions_are_drawn_once() -> None:
    # The seed's draw_graph is exponential here: 13 s at 14 doublings.
    y = Scalar(1.0, name="x")  # 1.0, so that y stays finite
    for _ in range(60):
        y = y * y
    text = to_dot(y, gradients=False)
    assert text.count("<table") == 61


def test_inputs_and_options() -> None:
    _, b, d = seed_example()
    text = to_dot(d, inputs={"a": 2.0}, gradients=False, graph_attr={"rankdir": "TB"})
    assert "<td>a</td><td>value 2</td></tr>" in text
    assert "<td>grad" not in text
    assert "rankdir=TB" in text
    graph = Graph(d, b * 2)
    assert "<td>b</td><td>value -4</td><td>grad 2</td>" in to_dot(graph, output=graph.outputs[1])


def test_big_graph_to_dot_and_draw_refusal() -> None:
    x = Scalar(1.0, name="x")
    terms = [x * float(i) for i in range(20_000)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    text = to_dot(total)
    assert text.count("->") > 60_000
    with pytest.raises(ValueError, match=r"too big to draw.*max_nodes=None"):
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


def test_constants_are_drawn_as_value_boxes() -> None:
    constant = Constant(2.0)
    graph = Graph(constant)
    assert "<td>value 2</td><td>grad 1</td>" in to_dot(graph)
    assert "constant" in to_svg(graph, [2.0], None)
    assert layout_cost(graph) == 1


# -- drawing stays fast (issue 8, item 9) ---------------------------------------------------
def products_sum(terms: int) -> object:
    """The issue's reproduction: a*b + a*b + ... -- a and b are used in every term."""
    expression, _ = parse_expression(" + ".join(["a*b"] * terms), {"a": 1.0, "b": 2.0})
    return expression


def test_layout_cost_counts_the_columns_that_long_edges_cross() -> None:
    graph = Graph(products_sum(100))
    assert len(graph) == 201
    assert drawn_nodes(graph) == 400  # 201 value boxes and 199 op ellipses
    # The k-th product's box feeds the sum's chain 2k columns to its right.
    assert crossed_columns(graph) == 9702
    assert layout_cost(graph) == 400 + 9702 // 3
    x = [Scalar(1.0, name=f"x{i}") for i in range(3)]
    assert crossed_columns(Graph(x[0] + x[1] + x[2])) == 0  # each leaf beside its use


def test_the_issues_slow_drawing_is_refused_at_once(monkeypatch, tmp_path) -> None:
    # Before: draw_graph accepted this 201-node graph, and dot ran for minutes on it.
    monkeypatch.setenv("PATH", str(tmp_path))  # refused before dot is even looked for
    start = time.perf_counter()
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(products_sum(100))
    assert time.perf_counter() - start < 1
    message = str(info.value)
    for advice in ["to_dot()", "to_networkx()", "smaller graph", "max_nodes=None"]:
        assert advice in message
    assert "3,634" in message and "9,702" in message
    assert isinstance(info.value, ValueError)  # what callers caught before
    assert draw_graph(products_sum(100), max_nodes=None).source  # the escape hatch


def test_what_is_accepted_draws_quickly() -> None:
    needs_dot()
    # 60 terms took dot 3.7 s before (5 s on a busy machine); now about 0.1 s.
    drawing = draw_graph(products_sum(60))
    start = time.perf_counter()
    assert "<svg" in drawing.pipe(format="svg", encoding="utf-8")
    assert time.perf_counter() - start < 2.5
    # The slowest shape we found at the limit: a sum of 1,000 variables (1.2 s).
    names = [f"x{i}" for i in range(1000)]
    expression, _ = parse_expression("+".join(names), dict.fromkeys(names, 1.0))
    assert layout_cost(Graph(expression)) <= DRAW_MAX_NODES
    start = time.perf_counter()
    draw_graph(expression, gradients=False).pipe(format="svg")
    assert time.perf_counter() - start < 10


def test_fast_layout_attributes_are_defaults_the_user_can_override() -> None:
    text = to_dot(seed_example()[2])
    assert "graph [newrank=true nslimit=1 rankdir=LR]" in text
    assert "nslimit=5" in to_dot(seed_example()[2], graph_attr={"nslimit": 5})


def test_a_slow_dot_is_stopped_with_a_clear_message(monkeypatch, tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    fake_dot = tmp_path / "dot"  # a dot that never finishes
    fake_dot.write_text(f"#!/bin/sh\nexec {sleep} 60\n")
    fake_dot.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    drawing = draw_graph(seed_example()[2], timeout=0.5)
    start = time.perf_counter()
    with pytest.raises(DotTimeoutError, match=r"stopped after 0.5 seconds.*to_dot\(\).*"
                       r"timeout=None") as info:
        drawing.pipe(format="svg")
    assert time.perf_counter() - start < 5
    assert isinstance(info.value, subprocess.TimeoutExpired)
    with pytest.raises(DotTimeoutError):
        drawing.render(tmp_path / "never", format="svg")


def test_render_writes_where_graphviz_would(tmp_path: Path, monkeypatch) -> None:
    needs_dot()
    drawing = draw_graph(seed_example()[2])
    path = drawing.render(tmp_path / "seed", format="svg", cleanup=True)
    assert path == f"{tmp_path / 'seed'}.svg" and "<svg" in Path(path).read_text()
    assert not (tmp_path / "seed").exists()  # cleanup removed the DOT source
    path = drawing.render(outfile=tmp_path / "picture.png")
    assert path == str(tmp_path / "picture.png")
    assert Path(path).read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "picture.gv").read_text() == drawing.source
    viewed = []
    monkeypatch.setattr(graphviz, "view", lambda path, quiet: viewed.append(path))
    drawing.view(tmp_path / "shown")  # graphviz's view() calls render(..., quiet_view=...)
    assert viewed == [f"{tmp_path / 'shown'}.pdf"]  # graphviz's default format


# -- networkx ------------------------------------------------------------------------------
def test_to_networkx_has_plain_attributes() -> None:
    *_, d = seed_example()
    graph = Graph(d)
    exported = to_networkx(graph, output=d)
    assert list(exported.nodes) == [f"n{i}" for i in range(7)]
    assert exported.nodes["n0"] == {"op": "scalar", "name": "a", "value": 1.5, "grad": 1.35}
    assert exported.nodes["n6"]["op"] == "add"
    assert exported.nodes["n1"]["args"] == "n0 3.0"  # exact since the export change
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

"""to_dot, draw_graph and to_networkx: deterministic text, shared nodes once, clear errors."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import time
from pathlib import Path

import graphviz
import networkx as nx
import pytest
from peers import REQUIRE_PEERS

from minigrad import (
    OPS,
    Constant,
    Graph,
    Scalar,
    backward,
    backward_trace,
    diff,
    draw_graph,
    hessian,
    relu,
    show_code,
    to_dot,
    to_networkx,
)
from minigrad.api import values_and_gradients
from minigrad.parse import parse_expression
from minigrad.svg import NUMBER_FILL, to_svg
from minigrad.visualize import (
    DRAW_MAX_NODES,
    OPERAND_SLOTS,
    ORDERED_OPS,
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
    assert 'cellpadding="3">/</td>' in text and 'cellpadding="3">**</td>' in text
    assert "rankdir=LR" in text


def test_operand_order_is_visible() -> None:
    # The ellipse of x - y says 1st and 2nd, and each edge ends at its own (a port);
    # tests/test_operand_labels.py checks where dot draws them.
    x, y = Scalar(1.0, name="x"), Scalar(2.0, name="y")
    text = to_dot(x - y)
    assert '<td port="arg0"><font point-size="9">1st</font></td>' in text
    assert '<td port="arg1"><font point-size="9">2nd</font></td>' in text
    assert 'v0 -> o2 [headport="arg0:w"]' in text  # x comes first
    assert 'v1 -> o2 [headport="arg1:w"]' in text  # y second
    assert "headlabel" not in text


def test_operand_slots_face_the_operands_in_every_direction() -> None:
    # Drawn top to bottom, the slots stand side by side at the top of the ellipse and
    # the edges come in from above; the other directions likewise.
    x, y = Scalar(1.0, name="x"), Scalar(2.0, name="y")
    for rankdir, side in {"LR": "w", "RL": "e", "TB": "n", "BT": "s"}.items():
        text = to_dot(x - y, graph_attr={"rankdir": rankdir})
        assert f'v0 -> o2 [headport="arg0:{side}"]' in text
        assert f'v1 -> o2 [headport="arg1:{side}"]' in text
    top_down = to_dot(x - y, graph_attr={"rankdir": "TB"})
    assert ('<tr><td port="arg0"><font point-size="9">1st</font></td><td port="arg1">'
            in top_down)  # one row: 1st, 2nd


def test_operand_slots_cannot_be_mistaken_for_variables() -> None:
    # Before: the op read "a ** b" and the leaf b of the seed arrived on an edge
    # labelled a.  Now the ellipse shows the symbol, and the slots are no identifiers.
    text = to_dot(seed_example()[2])
    assert 'port="a"' not in text and 'port="b"' not in text
    assert "a ** b" not in text and "a / b" not in text
    assert 'v3 -> o4 [headport="arg0:w"]' in text  # b is the 1st operand of b**2
    assert not any(slot.isidentifier() for slot in OPERAND_SLOTS)


def test_ordered_ops_come_from_the_table() -> None:
    from_the_table = {name for name, op in OPS.items() if op.arity == 2 and not op.commutative}
    assert from_the_table == ORDERED_OPS >= {"sub", "div", "pow", "atan2"}
    for name in ORDERED_OPS:  # drawn with the table's symbol, and slots for its edges
        symbol = OPS[name].symbol  # x - y, or atan2(x, y)
        expression = f"{symbol}(x, y)" if symbol.isidentifier() else symbol.join(["x", "y"])
        node, _ = parse_expression(expression, {"x": 2.0, "y": 3.0})
        text = to_dot(node)
        assert f'cellpadding="3">{html.escape(symbol)}</td>' in text
        assert text.count(">1st</font>") == text.count(">2nd</font>") == 1
        assert text.count("headport=") == 2


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


def test_constants_are_drawn_as_literals() -> None:
    # A Constant is a number, like the literal 3 of x*3: a grey box, no name, no grad.
    constant = Constant(2.0)
    graph = Graph(constant)
    text = to_dot(graph)
    assert "v0 [fillcolor=grey92 fontname=Helvetica fontsize=10 height=0.3 label=2 " \
        "shape=box style=filled width=0.4]" in text
    assert "<table" not in text
    assert "#0" in to_dot(graph, numbers=True)
    assert to_dot(graph, partials=True)  # no steps: nothing to show, and no error
    svg = to_svg(graph, [2.0], [1.0])
    assert "constant" not in svg and f'fill="{NUMBER_FILL}"' in svg and ">2</text>" in svg
    assert "grad" not in svg
    assert layout_cost(graph) == 1


def test_derivatives_that_came_out_constant_draw() -> None:
    x, y = Scalar(2.0, name="x"), Scalar(3.0, name="y")
    dx = diff(-x, x)  # -x is defined everywhere: its derivative is Constant(-1.0)
    assert isinstance(dx, Constant)
    rows = hessian(-x, [x, y])  # every entry Constant(0.0)
    graph = Graph(*(entry for row in rows for entry in row))
    for drawn in (dx, Graph(dx, x), graph):
        assert "fillcolor=grey92" in to_dot(drawn)
        assert '<td bgcolor="grey92">' in to_dot(drawn, numbers=True, partials=True)
    needs_dot()
    for drawn in (dx, graph):
        assert "<svg" in draw_graph(drawn, numbers=True).pipe(format="svg", encoding="utf-8")


# -- pictures of partials (issue 11) ----------------------------------------------------------
def test_partials_and_numbers_match_the_golden_file() -> None:
    *_, d = seed_example()
    golden = (GOLDEN / "seed_partials_numbers.dot").read_text()
    assert to_dot(d, partials=True, numbers=True) == golden
    assert draw_graph(d, partials=True, numbers=True).source == golden


def edge_labels(text: str) -> dict[str, list[str]]:
    """The label of each edge into an op in DOT text: "v0 -> o1" -> its labels."""
    labels: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "->" in line and " -> o" in line:
            edge, _, rest = line.strip().partition(" [")
            labels.setdefault(edge, []).append(rest)
    return labels


def test_each_edge_shows_the_step_of_the_backward_trace() -> None:
    x = Scalar(3.0, name="x")
    edges = edge_labels(to_dot(x - x, partials=True))
    assert edges["v0 -> o1"] == [
        'headport="arg0:w" label=<<font color="#00008b">∂ 1<br/>← 1</font>>]',
        'headport="arg1:w" label=<<font color="#00008b">∂ -1<br/>← -1</font>>]',
    ]
    # The seed: a**3 at a = 1.5 has partial 3a**2 = 6.75, and grad 0.2 sends back 1.35.
    *_, d = seed_example()
    text = to_dot(d, partials=True)
    graph = Graph(d)
    for step in backward_trace(graph, d):
        edge = f"v{step.operand_position} -> o{step.position}"
        shown = f"∂ {step.partial:.6g}<br/>← {step.contribution:.6g}"
        assert any(shown in label for label in edge_labels(text)[edge])
    assert "∂ 6.75<br/>← 1.35" in text


def test_the_contributions_on_a_values_edges_add_up_to_its_grad() -> None:
    x, y = Scalar(0.5, name="x"), Scalar(-2.0, name="y")
    f = (x * y + x.sin()) * x - y / x
    graph = Graph(f)
    grads = backward(graph, f)
    sent: dict[int, float] = {}
    for step in backward_trace(graph, f):
        sent[step.operand_position] = sent.get(step.operand_position, 0.0) + step.contribution
    for leaf in (x, y):
        assert sent[graph.index[leaf]] == pytest.approx(grads[leaf])


def test_a_grad_of_several_shares_shows_them() -> None:
    x = Scalar(3.0, name="x")
    assert "<td>grad 0 = 1 + (-1)</td>" in to_dot(x - x, partials=True)  # not "never computed"
    assert "<td>grad 27 = 9 + 9 + 9</td>" in to_dot(x * x * x, partials=True)
    assert "<td>grad 0</td>" in to_dot(x - x)  # only the pictures of the backward pass
    assert ">grad 5</td>" in to_dot(sum([x] * 5), partials=True)  # too many to list
    graph = Graph(x - x)
    values, grads = values_and_gradients(graph, graph.outputs[0])
    assert grads is not None
    steps = backward_trace(graph, graph.outputs[0]).steps
    assert ">grad 0 = 1 + (-1)</text>" in to_svg(graph, values, grads, steps=steps)


def test_gradients_of_your_own_are_drawn_as_given() -> None:
    x = Scalar(0.5, name="x")
    u = x * x
    w = u + u.sin()
    graph = Graph(w)
    text = to_dot(w, gradients={x: 0.0, u: 1.0, w: 1.0}, numbers=True)  # a wrong loop's
    assert "<td>x</td><td>value 0.5</td><td>grad 0</td>" in text
    assert "<td>value 0.25</td><td>grad 1</td>" in text
    assert "<td>value 0.247404</td></tr>" in text  # sin(u): not in the mapping, no grad
    assert to_dot(w, gradients=backward(graph, w)) == to_dot(w)  # MiniGrad's own: the same
    with pytest.raises(ValueError, match="'x' is not a node of the graph drawn"):
        to_dot(w, gradients={"x": 1.0})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="the gradient of x must be a real number, got str"):
        to_dot(w, gradients={x: "1"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="drawn as they are, without partials"):
        to_dot(w, gradients={x: 1.0}, partials=True)
    with pytest.raises(ValueError, match="drawn whole, without step"):
        draw_graph(w, gradients={}, step=0)


def test_partials_with_new_inputs_and_another_output() -> None:
    a, b, d = seed_example()
    text = to_dot(d, inputs={"a": 2.0}, partials=True)
    assert "∂ 12<br/>← 2.4" in text  # 3 * 2**2, times the grad 0.2
    graph = Graph(d, a * b)
    text = to_dot(graph, output=graph.outputs[1], partials=True)
    assert "∂ -4<br/>← -4" in text and "∂ 6.75" not in text  # only a*b passes back


def test_partials_need_the_backward_pass() -> None:
    with pytest.raises(ValueError, match="partials=True shows the backward pass"):
        to_dot(seed_example()[2], gradients=False, partials=True)


def test_without_partials_the_picture_is_as_before() -> None:
    *_, d = seed_example()
    assert to_dot(d, partials=False, numbers=False) == (GOLDEN / "seed.dot").read_text()
    numbered = to_dot(d, numbers=True)
    assert "∂" not in numbered and "#6" in numbered
    assert not any(re.search(r"\blabel=", label)  # no labels on the edges
                   for labels in edge_labels(numbered).values() for label in labels)


def test_numbers_are_those_of_the_trace_and_show_code() -> None:
    *_, d = seed_example()
    graph = Graph(d)
    text = to_dot(graph, numbers=True)
    code = show_code(graph, d)
    for i, node in enumerate(graph.order):
        assert f'<td border="0"><font color="grey35">#{i}</font></td>' in text
        if not isinstance(node, Scalar):
            assert f"#{i} = " in code  # the engine's steps name the nodes by number
    trace = backward_trace(graph, d)
    assert trace.label(0) == "#0 a" and '<font color="grey35">#0</font></td><td>a</td>' in text
    for step in trace:  # the backward stretch lists every step the trace takes
        assert f"    g[#{step.operand_position}] += g[#{step.position}] * " in code


def test_partials_and_numbers_in_the_fallback_svg() -> None:
    x = Scalar(3.0, name="x")
    graph = Graph(x - x)
    values, grads = values_and_gradients(graph, graph.outputs[0])
    assert grads is not None
    plain = to_svg(graph, values, grads)
    assert ">1st</text>" in plain and ">2nd</text>" in plain and "∂" not in plain
    steps = backward_trace(graph, graph.outputs[0]).steps
    svg = to_svg(graph, values, grads, steps=steps, numbers=True)
    for text in ["#0  x", "#1  · - ·", "∂ 1", "← 1", "∂ -1", "← -1", "local derivative"]:
        assert f">{text}</text>" in svg or text in svg


def test_partial_labels_render_apart(tmp_path: Path) -> None:
    needs_dot()
    x = Scalar(3.0, name="x")
    drawing = draw_graph(x - x, partials=True, numbers=True)
    assert Path(drawing.render(tmp_path / "x_minus_x", format="png")).read_bytes().startswith(
        b"\x89PNG")
    svg = html.unescape(drawing.pipe(format="svg", encoding="utf-8"))  # dot writes - as &#45;
    for text in ["1st", "2nd", "∂ 1", "← 1", "∂ -1", "← -1", "#0", "#1"]:
        assert f">{text}</text>" in svg


def test_labels_are_counted_in_the_layout_cost() -> None:
    # With a label on every edge, dot gives each a column: the 60-term sum below took
    # 3.9 s to draw with labels, 0.13 s without.
    graph = Graph(products_sum(60))
    assert layout_cost(graph) < DRAW_MAX_NODES < layout_cost(graph, partials=True)
    assert layout_cost(graph, partials=True) == drawn_nodes(graph) + 238 + crossed_columns(graph)
    with pytest.raises(GraphTooLargeError, match=r"238 edge labels.*every column"):
        draw_graph(products_sum(60), partials=True)
    assert draw_graph(products_sum(60)).source  # without labels: accepted, as before
    assert draw_graph(products_sum(40), partials=True).source  # 0.9 s


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

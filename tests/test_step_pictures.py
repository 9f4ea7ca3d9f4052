"""Pictures of the backward pass step by step: ``draw_graph(..., step=k)`` and the
fallback ``to_svg(..., step=k)``.

What a learner needs from them (issue 19, item 7): the same boxes in the same places in
every picture, the edge of the step just taken marked, the gradients filling in.  The
layout is checked the way a viewer sees it: every step's picture is laid out by dot (or
by svg.py) and the coordinates of every box, label and edge are compared.  The same
comparison on pictures made without the kept room finds boxes that moved, so it can
fail.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from peers import MINIGRAD_OPS, needs_dot
from test_random_dags import Program, programs

from minigrad import Constant, Graph, Node, Scalar, backward_trace, draw_graph, relu
from minigrad.nodes import format_number
from minigrad.svg import to_svg
from minigrad.trace import BackwardTrace
from minigrad.visualize import (
    CURRENT_COLOR,
    CURRENT_FILL,
    DotNotFoundError,
    dot_source,
    run_dot,
)


def seed() -> Node:
    a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")  # noqa: E702
    return a**3 / 5 + relu(b**2)


def two_users() -> Node:
    x = Scalar(0.5, name="x")
    u = x * x
    return u + u.sin()  # u's gradient comes in two steps


def examples() -> list[Node]:
    x = Scalar(3.0, name="x")
    y = Scalar(-0.123456, name="y")
    return [seed(), two_users(), x - x, x * x, x * 3 - Constant(2.0) * x,
            (x * y) / (y - 0.5) + x ** y]


def layout(dot_text: str) -> dict[str, Any]:
    """Where dot puts everything: each node's place and size, each edge's path and
    label place, and the picture's bounding box."""
    laid_out = json.loads(run_dot(dot_text, "json"))
    return {
        "bb": laid_out["bb"],
        "nodes": {node["name"]: (node["pos"], node["width"], node["height"])
                  for node in laid_out["objects"]},
        "edges": [(edge["tail"], edge["head"], edge["pos"], edge.get("lp"))
                  for edge in laid_out.get("edges", [])],
    }


def step_pictures(node: Node, **options: Any) -> list[str]:
    trace = backward_trace(Graph(node), node)
    return [draw_graph(node, step=k, **options).source for k in range(len(trace) + 1)]


# -- one layout for every step ----------------------------------------------------------------

@pytest.mark.parametrize("numbers", [False, True])
@pytest.mark.parametrize("example", range(len(examples())))
def test_every_step_is_laid_out_the_same(example: int, numbers: bool) -> None:
    needs_dot()
    node = examples()[example]
    layouts = [layout(text) for text in step_pictures(node, numbers=numbers)]
    assert len(layouts) > 1
    for k, later in enumerate(layouts[1:], start=1):
        assert later == layouts[0], f"step {k} moved something"


def test_pictures_made_without_the_kept_room_do_move() -> None:
    # The check above can fail: the same pictures without the room kept for what
    # changes (the notebook's first version drew them so) move their boxes.
    needs_dot()
    node = seed()
    trace = backward_trace(Graph(node), node)
    values = list(trace.values.values())
    layouts = [
        layout(dot_source(trace.graph, values, list(trace.gradients_after(k).values()),
                          steps=trace.steps, step=k, numbers=True))
        for k in range(len(trace) + 1)
    ]
    assert any(later["nodes"] != layouts[0]["nodes"] for later in layouts[1:])


@settings(max_examples=8)
@given(programs())
def test_random_graphs_keep_their_layout(program: Program) -> None:
    needs_dot()
    leaves = [Scalar(v, name=f"x{i}") for i, v in enumerate(program.inputs)]
    y = program(MINIGRAD_OPS, *leaves)
    trace = backward_trace(Graph(y), y)
    ks = sorted({0, len(trace) // 2, len(trace)})  # three steps: dot runs cost time
    first, *others = [layout(draw_graph(y, step=k).source) for k in ks]
    assert all(other == first for other in others)


# -- what each picture shows -----------------------------------------------------------------

def grad_cells(text: str) -> dict[int, tuple[str, bool]]:
    """Each value box's grad, and whether it is marked as just added to."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"\s*v(\d+) \[label=<.*<td([^>]*)>grad ([^<]*)</td>", line)
        if match:
            found[int(match[1])] = (match[3], CURRENT_FILL in match[2])
    return found


def marked_edges(text: str) -> list[str]:
    return [line.split("[")[0].strip() for line in text.splitlines()
            if "->" in line and f'color="{CURRENT_COLOR}"' in line.split("label=")[0]]


def test_the_step_just_taken_is_marked_and_the_gradients_fill_in() -> None:
    node = seed()
    trace = backward_trace(Graph(node), node)
    for k, text in enumerate(step_pictures(node)):
        cells = grad_cells(text)
        grads = trace.gradients_after(k)
        assert {i: shown for i, (shown, _) in cells.items()} == {
            i: format_number(grads[n]) for i, n in enumerate(trace.graph.order)}
        marked = [i for i, (_, current) in cells.items() if current]
        if k == 0:  # before the first step: nothing done, nothing marked
            assert marked == [] and marked_edges(text) == []
            assert "∂" not in text.split("digraph")[1].split("node [")[1]  # no numbers yet
            continue
        step = trace[k - 1]
        assert marked == [step.operand_position]
        assert marked_edges(text) == [f"v{step.operand_position} -> o{step.position}"]
        assert text.count("∂ ") - 1 == k  # k edges show their numbers (and the legend)


def test_orange_is_explained_only_once_there_is_a_step() -> None:
    # At step 0 nothing is orange, so the legend does not speak of it (its line is
    # blank, keeping the picture's size: the layout test above compares bounding boxes).
    node = seed()
    trace = backward_trace(Graph(node), node)
    for k, text in enumerate(step_pictures(node)):
        assert ("orange = the step just taken" in text) == (k > 0)
    for k, svg in enumerate(svg_steps(trace)):
        assert ("orange = the step just taken" in svg) == (k > 0)
    assert "orange" not in draw_graph(node, partials=True).source


def test_x_minus_x_step_by_step() -> None:
    # x's two uses: its grad is 1 after the first step, 1 + (-1) = 0 after the second,
    # which shows its shares so far.
    x = Scalar(3.0, name="x")
    pictures = step_pictures(x - x)
    assert [grad_cells(text)[0] for text in pictures] == [
        ("0", False), ("1", True), ("0 = 1 + (-1)", True)]
    assert "∂ -1<br/>← -1" not in pictures[1] and "∂ -1<br/>← -1" in pictures[2]


def test_after_the_last_step_the_numbers_are_those_of_partials() -> None:
    node = seed()
    last = step_pictures(node)[-1]
    partials = draw_graph(node, partials=True).source
    numbers = re.compile(r"[∂←] -?[\d.e+-]+|grad -?[\d.e+-]+")
    assert sorted(numbers.findall(last)) == sorted(numbers.findall(partials))


def test_new_inputs_another_output_and_numbers() -> None:
    x = Scalar(2.0, name="x")
    y = x * x
    graph = Graph(y, y + x)
    text = draw_graph(graph, {"x": 5.0}, output=graph.outputs[1], step=4, numbers=True).source
    # d(x*x + x)/dx = 1 + 5 + 5, complete after step 4, which added the second 5
    assert f'bgcolor="{CURRENT_FILL}">grad 11 = 1 + 5 + 5</td>' in text
    assert "#2</font>" in text


def test_a_leaf_has_no_steps_but_a_picture() -> None:
    x = Scalar(2.0, name="x")
    assert "grad 1</td>" in draw_graph(x, step=0).source
    with pytest.raises(ValueError, match="has 0 steps"):
        draw_graph(x, step=1)


def test_bad_steps_are_clear_errors() -> None:
    node = seed()
    for bad in (-1, 7):
        with pytest.raises(ValueError, match=r"step=-?\d: the backward pass of this graph "
                                             r"has 6 steps, so step can be 0 .* to 6"):
            draw_graph(node, step=bad)
    with pytest.raises(TypeError, match="step: expected an int, got bool"):
        draw_graph(node, step=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gradients=False skips"):
        draw_graph(node, step=1, gradients=False)


def test_without_dot_a_step_picture_is_made_and_showing_it_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot to be found
    drawing = draw_graph(seed(), step=2)  # its sizes cannot be measured, but no error...
    assert 'width="' not in drawing.source.split("node [")[1]
    with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
        drawing.pipe(format="svg")  # ...until it is drawn, as for every drawing


def test_step_pictures_render(tmp_path: Path) -> None:
    needs_dot()
    path = draw_graph(two_users(), step=3, numbers=True).render(tmp_path / "step", format="png")
    assert Path(path).read_bytes().startswith(b"\x89PNG")


# -- the fallback SVG --------------------------------------------------------------------------

def svg_steps(trace: BackwardTrace, numbers: bool = True) -> list[str]:
    values = list(trace.values.values())
    return [to_svg(trace.graph, values, list(trace.gradients_after(k).values()),
                   steps=trace.steps, numbers=numbers, step=k)
            for k in range(len(trace) + 1)]


def svg_layout(svg: str) -> tuple[Any, ...]:
    """The picture's size, and every box and arrow, as placed (colours aside)."""
    root = ElementTree.fromstring(svg)
    tag = "{http://www.w3.org/2000/svg}"
    boxes = [tuple(rect.get(key) for key in ("x", "y", "width", "height"))
             for rect in root.iter(f"{tag}rect") if rect.get("stroke") == "black"]
    arrows = [tuple(line.get(key) for key in ("x1", "y1", "x2", "y2"))
              for line in root.iter(f"{tag}line")]
    routed = [line.get("points") for line in root.iter(f"{tag}polyline")]  # round boxes
    return root.get("width"), root.get("height"), boxes, arrows, routed


@pytest.mark.parametrize("example", range(len(examples())))
def test_the_fallback_svg_keeps_its_layout_too(example: int) -> None:
    node = examples()[example]
    pictures = svg_steps(backward_trace(Graph(node), node))
    first = svg_layout(pictures[0])
    assert all(svg_layout(later) == first for later in pictures[1:])


def test_the_fallback_svg_would_move_without_the_kept_room() -> None:
    # Drawn as plain partial pictures of the steps so far, boxes grow as grads do.
    node = seed()
    trace = backward_trace(Graph(node), node)
    values = list(trace.values.values())
    plain = [svg_layout(to_svg(trace.graph, values, list(trace.gradients_after(k).values()),
                               steps=trace.steps[:k], numbers=True))
             for k in range(len(trace) + 1)]
    assert any(later != plain[0] for later in plain[1:])


def test_the_fallback_svg_marks_the_step_just_taken() -> None:
    node = seed()
    trace = backward_trace(Graph(node), node)
    for k, svg in enumerate(svg_steps(trace)):
        root = ElementTree.fromstring(svg)
        tag = "{http://www.w3.org/2000/svg}"
        orange_lines = [line for kind in ("line", "polyline") for line in root.iter(tag + kind)
                        if line.get("stroke") == CURRENT_COLOR]
        fills = [rect for rect in root.iter(f"{tag}rect") if rect.get("fill") == CURRENT_FILL]
        assert len(orange_lines) == len(fills) == (1 if k else 0)
        texts = [text.text for text in root.iter(f"{tag}text")]
        shown = {t for t in texts if t and re.match(r"← -?\d", t)}  # not the legend's
        assert shown == {f"← {step.contribution:g}" for step in trace[:k]}
        if k:
            step = trace[k - 1]
            assert f"grad {trace.gradients_after(k)[step.operand]:g}" in texts
            fill_y = float(fills[0].get("y"))  # on the operand's box, at its grad line
            boxes = [rect for rect in root.iter(f"{tag}rect") if rect.get("stroke") == "black"]
            box = boxes[step.operand_position]
            assert float(box.get("y")) < fill_y < float(box.get("y")) + float(box.get("height"))
            assert math.isclose(float(fills[0].get("x")), float(box.get("x")) + 1)

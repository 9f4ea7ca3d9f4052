"""The operand labels ``1st`` and ``2nd`` of ``-``, ``/`` and ``**``: each stands by its
own edge, in every kind of picture (issue 19, item 9).

A learner read ``a**3`` as ``3**a`` when ``1st`` sat beside the edge from the literal 3.
So the check is done the way a reader sees it: dot lays the picture out (``dot -Tjson``),
and each label must be nearer the edge of its own operand than any other edge into the
op -- whether that operand's box is above the other one or below it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from peers import needs_dot

from minigrad import Graph, Node, Scalar, backward_trace, draw_graph, relu
from minigrad.visualize import OPERAND_SLOTS, ORDERED_OPS, run_dot

Point = tuple[float, float]


def seed() -> Node:
    a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")  # noqa: E702
    return a**3 / 5 + relu(b**2)


def crossed() -> Node:
    # x - y and y - x side by side: x and y cannot both be above the other, so in one of
    # the two the 1st operand's edge comes from below.
    x = Scalar(2.0, name="x"); y = Scalar(3.0, name="y")  # noqa: E702
    return (x - y) * (y - x)


def y_above_x() -> Graph:
    # y drawn first (an output of its own, made first), then x - y.
    y = Scalar(3.0, name="y"); x = Scalar(2.0, name="x")  # noqa: E702
    return Graph(y * 2, x - y)


def divisions() -> Node:
    x, y, z, w = (Scalar(v, name=n) for v, n in ((8.0, "x"), (2.0, "y"), (4.0, "z"), (0.5, "w")))
    return 1 / (((x / y) / z) / w) - z ** (y / x)


def two_users() -> Node:
    x = Scalar(0.5, name="x")
    u = x * x
    return u - u.sin() / u


def same_operand() -> Node:
    x = Scalar(3.0, name="x")
    return (x - x) / x


EXAMPLES: dict[str, Callable[[], Node | Graph]] = {
    "seed": seed, "crossed": crossed, "y above x": y_above_x, "divisions": divisions,
    "two users": two_users, "same operand": same_operand,
}


def pictures(node_or_graph: Node | Graph) -> Iterator[tuple[str, str]]:
    """Every kind of picture of it: plain, with partials and numbers, and step by step
    (before the first step, half-way, after the last)."""
    yield "plain", draw_graph(node_or_graph).source
    yield "numbers", draw_graph(node_or_graph, numbers=True).source
    yield "partials", draw_graph(node_or_graph, partials=True, numbers=True).source
    graph = node_or_graph if isinstance(node_or_graph, Graph) else Graph(node_or_graph)
    steps = len(backward_trace(graph, graph.outputs[0]))
    for k in sorted({0, steps // 2, steps}):
        yield f"step={k}", draw_graph(node_or_graph, step=k, numbers=True).source


# -- geometry of dot's layout ----------------------------------------------------------------

def bezier_points(pos: str) -> list[Point]:
    """Points along an edge from its ``pos`` (dot's cubic B-spline, then the arrowhead's
    tip ``e,x,y``), close enough together to measure distances to the curve."""
    tip: Point | None = None
    controls: list[Point] = []
    for item in pos.split():
        if item.startswith("e,"):
            tip = tuple(map(float, item[2:].split(",")))  # type: ignore[assignment]
        elif item.startswith("s,"):
            continue
        else:
            controls.append(tuple(map(float, item.split(","))))  # type: ignore[arg-type]
    points = []
    for start in range(0, len(controls) - 3, 3):
        p0, p1, p2, p3 = controls[start:start + 4]
        for n in range(17):
            t = n / 16
            points.append(tuple(  # type: ignore[arg-type]
                (1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t**2 * c + t**3 * d
                for a, b, c, d in zip(p0, p1, p2, p3, strict=True)))
    if tip is not None:
        last = points[-1]
        points += [(last[0] + (tip[0] - last[0]) * n / 8, last[1] + (tip[1] - last[1]) * n / 8)
                   for n in range(1, 9)]
    return points


def distance(point: Point, curve: list[Point]) -> float:
    return min(math.dist(point, on_curve) for on_curve in curve)


def texts(draw_ops: list[dict[str, Any]]) -> Iterator[tuple[str, Point]]:
    """Each text drawn, at the middle of its line (dot gives the baseline and an align)."""
    size = 10.0
    for op in draw_ops:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T":
            x, y = op["pt"]
            shift = {"l": 0.5, "c": 0.0, "r": -0.5}[op["align"]] * op["width"]
            yield op["text"], (x + shift, y + size / 3)


def operand_edges(dot_text: str) -> dict[str, list[str]]:
    """Each op's operand edges in order, as the DOT text lists them: op -> tails."""
    tails: dict[str, list[str]] = {}
    for line in dot_text.splitlines():
        match = re.match(r"\s*(\w+) -> (o\d+)\b", line)
        if match:
            tails.setdefault(match[2], []).append(match[1])
    return tails


def slot_labels_and_edges(dot_text: str) -> Iterator[tuple[str, dict[str, Point], list[Any]]]:
    """For each op that shows slots: its name, where each slot's text is, and the edges
    into it in operand order, each as (points along it, its tail's centre)."""
    layout = json.loads(run_dot(dot_text, "json"))
    objects = layout["objects"]
    into: dict[str, list[dict[str, Any]]] = {}
    for edge in layout.get("edges", []):
        into.setdefault(objects[edge["head"]]["name"], []).append(edge)
    for op, tails in operand_edges(dot_text).items():
        # dot -Tjson lists edges in its own order: put them back in operand order, by
        # their tails (and, for x - x, whose edges share a tail, in the order given)
        edges: list[Any] = [None] * len(tails)
        for edge in into[op]:
            tail = objects[edge["tail"]]["name"]
            k = next(k for k, name in enumerate(tails) if name == tail and edges[k] is None)
            edges[k] = edge
        drawn = list(texts(objects[[obj["name"] for obj in objects].index(op)]
                           .get("_ldraw_", [])))
        for edge in edges:
            for key in ("_ldraw_", "_hldraw_", "_tldraw_"):
                drawn += texts(edge.get(key, []))
        slots = {text: point for text, point in drawn if text in OPERAND_SLOTS}
        if slots:
            yield op, slots, [
                (bezier_points(edge["pos"]),
                 tuple(map(float, objects[edge["tail"]]["pos"].split(","))))
                for edge in edges]


# -- the checks -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(EXAMPLES))
def test_each_operand_label_is_nearest_its_own_edge(name: str) -> None:
    needs_dot()
    node_or_graph = EXAMPLES[name]()
    graph = node_or_graph if isinstance(node_or_graph, Graph) else Graph(node_or_graph)
    ordered = sum(isinstance(getattr(node, "op", None), str) and node.op in ORDERED_OPS
                  for node in graph.order)
    for kind, dot_text in pictures(node_or_graph):
        seen = 0
        for op, slots, edges in slot_labels_and_edges(dot_text):
            seen += 1
            assert sorted(slots) == sorted(OPERAND_SLOTS), (kind, op)
            for k, slot in enumerate(OPERAND_SLOTS):
                own = distance(slots[slot], edges[k][0])
                other = distance(slots[slot], edges[1 - k][0])
                assert own < other, (
                    f"{name}, {kind}: {slot!r} at {op} is {own:.1f} from its own edge and "
                    f"{other:.1f} from the other one")
        assert seen == ordered, (name, kind)


def test_the_examples_have_a_1st_operand_below_the_2nd() -> None:
    # The check above must meet both cases: the 1st operand's box above the 2nd's, as
    # dot usually puts it, and below it (y - x beside x - y).
    needs_dot()
    below = above = 0
    for make in EXAMPLES.values():
        for _, _, edges in slot_labels_and_edges(draw_graph(make()).source):
            (_, first_tail), (_, second_tail) = edges
            below += first_tail[1] < second_tail[1]  # dot's y grows upwards
            above += first_tail[1] > second_tail[1]
    assert below and above

"""The fallback drawing (svg.py): a picture with nothing installed."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ElementTree

import pytest

from minigrad import Graph, Scalar, backward_trace
from minigrad.api import values_and_gradients
from minigrad.svg import columns, to_svg


def seed() -> tuple[Graph, Scalar, Scalar]:
    a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")  # noqa: E702
    return Graph(a**3 / 5 + (b**2).relu()), a, b


def test_an_svg_of_values_and_gradients_is_valid_xml_with_every_name() -> None:
    graph, _, _ = seed()
    values, grads = values_and_gradients(graph, graph.outputs[0])
    svg = to_svg(graph, values, grads)
    ElementTree.fromstring(svg)  # well-formed
    assert ">a</text>" in svg and ">b</text>" in svg and "16.675" in svg


def test_every_edge_points_right() -> None:
    graph, _, _ = seed()
    column = columns(graph)
    for node in graph.order:
        for operand in node.args:
            if operand in graph.index:
                assert column[graph.index[operand]] < column[graph.index[node]]


def test_the_same_graph_draws_the_same_svg() -> None:
    graph, _, _ = seed()
    values, grads = values_and_gradients(graph, graph.outputs[0])
    steps = backward_trace(graph, graph.outputs[0]).steps
    first = to_svg(graph, values, grads, steps=steps, numbers=True)
    assert first == to_svg(graph, values, grads, steps=steps, numbers=True)
    assert "#0" in first


# -- edges round boxes, labels off them --------------------------------------------------------

Box = tuple[float, float, float, float]  # left, top, right, bottom


def boxes_and_edges(svg: str) -> tuple[list[Box], list[list[tuple[float, float]]],
                                       list[tuple[str, Box]]]:
    """The picture's boxes, each edge as its points, and each edge label (the texts
    drawn centred) with the box its letters take, roughly (10-point text)."""
    root = ElementTree.fromstring(svg)
    tag = "{http://www.w3.org/2000/svg}"
    boxes = []
    for rect in root.iter(f"{tag}rect"):
        if rect.get("stroke") == "black":
            x, y, w, h = (float(rect.get(key, 0)) for key in ("x", "y", "width", "height"))
            boxes.append((x, y, x + w, y + h))
    edges = [[(float(line.get(f"x{n}", 0)), float(line.get(f"y{n}", 0))) for n in (1, 2)]
             for line in root.iter(f"{tag}line")]
    edges += [[tuple(map(float, point.split(","))) for point in line.get("points", "").split()]
              for line in root.iter(f"{tag}polyline")]
    labels = []
    for text in root.iter(f"{tag}text"):
        if text.get("text-anchor") == "middle" and text.text:
            x, y, half = float(text.get("x", 0)), float(text.get("y", 0)), len(text.text) * 2.8
            labels.append((text.text, (x - half, y - 8, x + half, y + 2)))
    return boxes, edges, labels  # type: ignore[return-value]


def crosses(start: tuple[float, float], end: tuple[float, float], box: Box) -> bool:
    """Whether the segment from ``start`` to ``end`` runs through the inside of ``box``
    (touching its sides, as an arrow does where it starts and ends, does not count)."""
    left, top, right, bottom = box[0] + 1, box[1] + 1, box[2] - 1, box[3] - 1
    t0, t1 = 0.0, 1.0  # Liang-Barsky: clip the segment to the box
    (x, y), (dx, dy) = start, (end[0] - start[0], end[1] - start[1])
    for p, q in ((-dx, x - left), (dx, right - x), (-dy, y - top), (dy, bottom - y)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            t0 = max(t0, q / p)
        else:
            t1 = min(t1, q / p)
    return t0 < t1


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def skipping_graphs() -> dict[str, Graph]:
    x, y = Scalar(0.5, name="x"), Scalar(2.0, name="y")
    u = x * x
    z = Scalar(4.0, name="z")
    return {
        "u + sin(u)": Graph(u + u.sin()),  # u skips sin(u)'s column
        "u - sin(u) / u": Graph(u - u.sin() / u),  # and two columns, past two boxes
        "seed": seed()[0],
        "divisions": Graph(1 / (((x / y) / z) / y) - z ** (y / x)),
        "tall": Graph(sum((x * float(n) for n in range(4)), start=x) * x + (y - x).exp()),
    }


@pytest.mark.parametrize("name", list(skipping_graphs()))
def test_edges_go_round_the_boxes_and_labels_stay_off_them(name: str) -> None:
    graph = skipping_graphs()[name]
    trace = backward_trace(graph, graph.outputs[0])
    values = list(trace.values.values())
    pictures = [to_svg(graph, values, list(trace.gradients.values())),
                to_svg(graph, values, list(trace.gradients.values()), steps=trace.steps,
                       numbers=True)]
    pictures += [to_svg(graph, values, list(trace.gradients_after(k).values()),
                        steps=trace.steps, step=k) for k in (0, len(trace) // 2, len(trace))]
    skipped = any(column - 1 > columns(graph)[graph.index[operand]]
                  for node, column in zip(graph.order, columns(graph), strict=True)
                  for operand in node.args if operand in graph.index)
    assert skipped or name == "seed"  # the others have edges that skip a column
    for svg in pictures:
        boxes, edges, labels = boxes_and_edges(svg)
        for points in edges:
            for start, end in itertools.pairwise(points):
                assert not any(crosses(start, end, box) for box in boxes), (name, points)
        for text, place in labels:
            assert not any(overlap(place, box) for box in boxes), (name, text, place)


def test_crosses_finds_a_line_through_a_box() -> None:
    box = (10.0, 10.0, 50.0, 30.0)
    assert crosses((0, 20), (60, 20), box)  # straight through
    assert not crosses((0, 5), (60, 5), box)  # above it
    assert not crosses((50, 20), (90, 20), box)  # from its side outwards
    assert crosses((0, 0), (60, 40), box)  # corner to corner

"""The fallback drawing (svg.py): a picture with nothing installed."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

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

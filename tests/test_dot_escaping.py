"""Text in a drawing means exactly itself: names, graph attributes, and no DOT injection.

Each name is checked the way a person sees it: the DOT text is laid out by graphviz's
``dot`` (``-Tjson``), and the text that comes back in the value box must be the name,
line by line.  Issue 8 item 10: ``a|b`` drew as two fields, ``{x}`` made dot fail,
``<p>`` vanished, ``back\\`` showed two backslashes, ``graph_attr={"dpi": 300}`` raised,
and graph_attr keys went into the DOT text unquoted.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_visualize import needs_dot

from minigrad import Graph, Scalar, backward_trace, draw_graph, to_dot
from minigrad.api import values_and_gradients
from minigrad.svg import to_svg
from minigrad.visualize import printable

#: Every character with a meaning somewhere in DOT (records, HTML, escStrings, the
#: language itself), unicode, quotes, newlines, and backslashes at the end.
SPECIAL_NAMES = [
    "a|b", "{x}", "<p>", "back\\", "back\\\\", "\\", "\\N", "\\n", "\\l", "\\G", "\\E",
    '"quoted"', "it's", '"', "say \"hi\"\\", "a\nb", "two\n\nbreaks", "ends\n",
    "x -> y", "a -- b", "]; evil [shape=box", '"]; evil [label="pwn', "<<b>bold</b>>",
    "&amp;", "&#92;", "a&b", "; , = : #", "% @ $ ^ ~ `", "[0]", "(1)", "  spaced  ",
    "é", "∂x/∂y", "日本語", "🙂", "Ωμέγα", "\u00a0nbsp", "right\u200fto\u200eleft",
    "node", "graph", "digraph", "strict", "edge", "subgraph", "-4.5", ".5", "",
    "x" * 200,
]


def seed_like(name: str) -> Scalar:
    return Scalar(1.5, name=name) * 2


def dot_json(dot_text: str) -> dict[str, object]:
    result = subprocess.run(["dot", "-Tjson"], input=dot_text.encode("utf-8"),
                            capture_output=True, check=True)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def texts_of(drawing: dict[str, object], name: str) -> list[str]:
    """The text lines dot drew for the graph (name "minigrad") or for one node."""
    if name == "minigrad":
        operations = drawing.get("_ldraw_", [])
    else:
        objects = drawing["objects"]
        assert isinstance(objects, list)
        operations = next(o for o in objects if o["name"] == name).get("_ldraw_", [])
    assert isinstance(operations, list)
    return [operation["text"] for operation in operations if operation["op"] == "T"]


def shown_lines(name: str) -> list[str]:
    """What a person should see: the name's lines (dot draws no text for empty ones)."""
    return [line for line in printable(name).split("\n") if line]


def test_the_issues_examples_in_dot_text() -> None:
    text = to_dot(Scalar(1.0, name="a|b") * Scalar(2.0, name="back\\"))
    assert "<td>a|b</td>" in text  # no field separator: one cell
    assert "<td>back\\\\</td>" in text  # doubled once, for dot, which undoes it
    assert "&lt;p&gt;" in to_dot(Scalar(1.0, name="<p>") * 2)


@pytest.mark.parametrize("name", SPECIAL_NAMES)
def test_dot_draws_each_name_exactly(name: str) -> None:
    needs_dot()
    drawing = dot_json(to_dot(seed_like(name)))
    assert texts_of(drawing, "v0") == [*shown_lines(name), "value 1.5", "grad 2"]
    assert len(drawing["objects"]) == 4  # type: ignore[arg-type]  # v0 c1_1 o1 v1: no injection


@given(st.text(max_size=30))
def test_dot_draws_any_name_exactly(name: str) -> None:
    needs_dot()
    drawing = dot_json(to_dot(seed_like(name)))
    assert texts_of(drawing, "v0") == [*shown_lines(name), "value 1.5", "grad 2"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [("tab\there", "tab\\there"), ("nul\x00", "nul\\x00"), ("cr\r", "cr\\r"),
     ("\x1b[31mred", "\\x1b[31mred"), ("lone \ud800", "lone \\ud800"), ("\ufffe", "\\ufffe")],
)
def test_characters_a_picture_cannot_show_appear_as_escapes(name: str, shown: str) -> None:
    # Control characters are invisible, dropped by dot or not allowed in SVG at all.
    assert printable(name) == shown
    needs_dot()
    assert texts_of(dot_json(to_dot(seed_like(name))), "v0")[0] == shown


def test_graph_attr_values_of_any_kind_and_literal_text() -> None:
    text = to_dot(seed_like("a"), graph_attr={"dpi": 300, "pad": 0.25, "rankdir": "TB"})
    assert "graph [dpi=300 newrank=true nslimit=1 pad=0.25 rankdir=TB]" in text
    label = 'My "graph" {x} | <p> \\N ]; evil [shape=box'
    text = to_dot(seed_like("a"), graph_attr={"label": label})
    needs_dot()
    drawing = dot_json(text)
    assert texts_of(drawing, "minigrad") == [label]
    assert len(drawing["objects"]) == 4  # type: ignore[arg-type]


def test_dpi_reaches_the_picture() -> None:
    needs_dot()
    small = draw_graph(seed_like("a"), graph_attr={"dpi": 36}).pipe(format="png")
    large = draw_graph(seed_like("a"), graph_attr={"dpi": 144}).pipe(format="png")
    assert len(large) > len(small)


@pytest.mark.parametrize(
    "key", ['rankdir="LR"] x [label', "has space", "", "1x", "a-b", "é", 'a"b', "a\\", 1, None]
)
def test_graph_attr_keys_must_be_attribute_names(key: object) -> None:
    with pytest.raises(ValueError, match="not a DOT attribute name"):
        to_dot(seed_like("a"), graph_attr={key: "x"})  # type: ignore[dict-item]


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, b"bytes", 1j])
def test_graph_attr_values_must_be_str_int_or_float(value: object) -> None:
    with pytest.raises(TypeError, match="expected a str, int or float"):
        to_dot(seed_like("a"), graph_attr={"label": value})  # type: ignore[dict-item]


@pytest.mark.parametrize("name", [*SPECIAL_NAMES, "tab\there", "nul\x00", "lone \ud800"])
def test_the_fallback_svg_shows_names_exactly_and_is_valid_xml(name: str) -> None:
    expression = seed_like(name)
    graph = Graph(expression)
    values, grads = values_and_gradients(graph, expression)
    svg = to_svg(graph, values, grads)
    root = ET.fromstring(svg)  # well-formed XML, whatever the name
    texts = [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[: len(printable(name).split("\n"))] == printable(name).split("\n")


@pytest.mark.parametrize("name", SPECIAL_NAMES)
def test_numbers_and_partials_leave_names_exact(name: str) -> None:
    needs_dot()
    drawing = dot_json(to_dot(seed_like(name), numbers=True, partials=True))
    assert texts_of(drawing, "v0") == ["#0", *shown_lines(name), "value 1.5", "grad 2"]
    assert len(drawing["objects"]) == 4  # type: ignore[arg-type]  # v0 c1_1 o1 v1: no injection


@pytest.mark.parametrize("name", [*SPECIAL_NAMES, "tab\there", "nul\x00", "lone \ud800"])
def test_the_fallback_svg_with_numbers_and_partials_is_valid_xml(name: str) -> None:
    expression = seed_like(name)
    graph = Graph(expression)
    values, grads = values_and_gradients(graph, expression)
    svg = to_svg(graph, values, grads, steps=backward_trace(graph, expression).steps,
                 numbers=True)
    root = ET.fromstring(svg)
    texts = [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text")]
    lines = printable(name).split("\n")
    assert texts[: len(lines)] == [f"#0  {lines[0]}", *lines[1:]]

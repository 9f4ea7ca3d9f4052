"""Pictures of a graph: DOT text (:func:`to_dot`) and a graphviz drawing (:func:`draw_graph`).

The seed MiniGrad drew its graph by recursing through it and re-visiting shared
subexpressions, which is exponential on a DAG (``y = y * y`` fourteen times took 13 s).
Here the DOT text is built from the graph's topological order in one loop, so each node
is drawn once, however often it is used, and nothing recurses.

Like SymPy's ``dotprint``, :func:`to_dot` is a few small pure functions producing plain
text: it needs no graphviz install and is byte-for-byte deterministic (node ids come
from topological positions, attributes are sorted), so it can be tested against a golden
file.  :func:`draw_graph` wraps that text in a ``graphviz.Source``, which shows inline in
Jupyter and renders to files when graphviz's ``dot`` program is installed.

What the picture shows (the seed's style, after micrograd): every value is a box
``name | value | grad``; each op is a small ellipse feeding its result's box.  For
``-``, ``/`` and ``**`` the two edges into the op are labelled ``a`` and ``b`` and the
op reads ``a - b``, ``a / b`` or ``a ** b``, so operand order is visible.  Literal
numbers are small grey boxes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import graphviz

from minigrad.backward import values_and_gradients
from minigrad.evaluate import Inputs
from minigrad.graph import Graph
from minigrad.nodes import Node, Operation, Scalar, format_number
from minigrad.ops import OPS

__all__ = ["DotNotFoundError", "Drawing", "dot_source", "draw_graph", "to_dot"]

#: Ops whose operand order matters: their op ellipse says "a - b" and edges say a, b.
ORDERED_OPS = {"sub", "div", "pow"}

#: Graph-wide DOT attributes; the defaults a user can override with ``graph_attr``.
DEFAULT_GRAPH_ATTR = {"rankdir": "LR"}
VALUE_STYLE = {"shape": "record", "fontname": "Helvetica", "fontsize": "11"}
EDGE_STYLE = {"fontname": "Helvetica", "fontsize": "10"}
OP_STYLE = {"shape": "ellipse", "fontname": "Helvetica", "fontsize": "11"}
LITERAL_STYLE = {
    "shape": "box", "style": "filled", "fillcolor": "grey92", "fontname": "Helvetica",
    "fontsize": "10",
}

#: draw_graph refuses graphs bigger than this by default: dot's layout of tens of
#: thousands of nodes takes minutes and the picture is unreadable anyway.
DRAW_MAX_NODES = 500


def as_graph(node_or_graph: Node | Graph) -> tuple[Graph, Node]:
    """The Graph to draw and the output whose gradients label it.

    A node is drawn with the gradients of itself; a Graph with those of its first output.
    """
    if isinstance(node_or_graph, Graph):
        return node_or_graph, node_or_graph.outputs[0]
    if isinstance(node_or_graph, Node):
        return Graph(node_or_graph), node_or_graph
    raise TypeError(f"expected a node or a Graph, got {type(node_or_graph).__name__}")


# -- small pure string functions ---------------------------------------------------------

def quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines kept as \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def record_field(text: str) -> str:
    """Escape the characters that structure a record label: { } | < > and spaces at ends."""
    for special in "\\{}|<>":
        text = text.replace(special, "\\" + special)
    return text


def attributes(attrs: dict[str, str]) -> str:
    """``[a="1" b="2"]`` with keys sorted, so the output is deterministic."""
    return "[" + " ".join(f"{key}={quote(attrs[key])}" for key in sorted(attrs)) + "]"


def value_label(node: Node, value: float, grad: float | None) -> str:
    """The record label of a value box: name (if any) | value | grad (if known)."""
    fields = []
    if isinstance(node, Scalar) and node.name is not None:
        fields.append(record_field(node.name))
    fields.append(f"value {format_number(value)}")
    if grad is not None:
        fields.append(f"grad {format_number(grad)}")
    return "{" + " | ".join(fields) + "}"


def op_label(op: str) -> str:
    """The text in an op's ellipse: the symbol, or ``a - b`` where order matters."""
    symbol = OPS[op].symbol
    return f"a {symbol} b" if op in ORDERED_OPS else symbol


# -- the DOT text --------------------------------------------------------------------------

def dot_lines(
    graph: Graph, values: list[float], grads: list[float] | None, graph_attr: dict[str, str]
) -> Iterator[str]:
    """The lines of the DOT text: value box v<i> for each node, op ellipse o<i> for each
    operation, literal box c<i>_<k> for the k-th operand of node i when it is a number."""
    yield "digraph minigrad {"
    yield f"    graph {attributes(graph_attr)}"
    yield f"    node {attributes(VALUE_STYLE)}"
    yield f"    edge {attributes(EDGE_STYLE)}"
    for i, node in enumerate(graph.order):
        grad = grads[i] if grads is not None else None
        yield f"    v{i} {attributes({'label': value_label(node, values[i], grad)})}"
        if not isinstance(node, Operation):
            continue
        yield f"    o{i} {attributes({**OP_STYLE, 'label': op_label(node.op)})}"
        yield f"    o{i} -> v{i}"
        ordered = node.op in ORDERED_OPS
        for k, operand in enumerate(node.args):
            edge = {"label": "ab"[k]} if ordered else {}
            if isinstance(operand, Node):
                source = f"v{graph.index[operand]}"
            else:
                source = f"c{i}_{k}"
                label = format_number(operand)
                yield f"    {source} {attributes({**LITERAL_STYLE, 'label': label})}"
            yield f"    {source} -> o{i}" + (f" {attributes(edge)}" if edge else "")
    yield "}"


def to_dot(
    node_or_graph: Node | Graph,
    inputs: Inputs | None = None,
    *,
    output: Node | None = None,
    gradients: bool = True,
    graph_attr: dict[str, str] | None = None,
) -> str:
    """The DOT source of a graph, with each node's value and gradient; no graphviz needed.

    Parameters
    ----------
    node_or_graph : the expression to draw, or a Graph.
    inputs : new leaf values for this drawing (as for :func:`minigrad.evaluate`).
    output : whose gradients to show; default the node drawn, or the Graph's first output.
    gradients : False to show values only (and skip the backward pass).
    graph_attr : DOT graph attributes, e.g. ``{"rankdir": "TB"}`` for top-to-bottom.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> x = Scalar(2.0, name="x")
    >>> print(to_dot(x * 3), end="")
    digraph minigrad {
        graph [rankdir="LR"]
        node [fontname="Helvetica" fontsize="11" shape="record"]
        edge [fontname="Helvetica" fontsize="10"]
        v0 [label="{x | value 2 | grad 3}"]
        v1 [label="{value 6 | grad 1}"]
        o1 [fontname="Helvetica" fontsize="11" label="*" shape="ellipse"]
        o1 -> v1
        v0 -> o1
        c1_1 [fillcolor="grey92" fontname="Helvetica" fontsize="10" label="3" shape="box" style="filled"]
        c1_1 -> o1
    }
    """  # noqa: E501
    graph, default_output = as_graph(node_or_graph)
    if output is None:
        output = default_output
    values, grads = values_and_gradients(graph, output if gradients else None, inputs)
    return dot_source(graph, values, grads, graph_attr)


def dot_source(
    graph: Graph,
    values: list[float],
    grads: list[float] | None,
    graph_attr: dict[str, str] | None = None,
) -> str:
    """The DOT text from values and gradients already computed (per ``graph.order``)."""
    lines = dot_lines(graph, values, grads, {**DEFAULT_GRAPH_ATTR, **(graph_attr or {})})
    return "\n".join(lines) + "\n"


# -- drawing with graphviz -------------------------------------------------------------------

class DotNotFoundError(graphviz.ExecutableNotFound):  # type: ignore[misc]
    """graphviz's ``dot`` program is not installed; says how to install it."""

    _msg = (
        "drawing needs graphviz's `dot` program, and running {!r} failed: it is not "
        "installed or not on PATH.  Install it (Debian/Ubuntu: `apt-get install graphviz`; "
        "macOS: `brew install graphviz`; conda: `conda install graphviz`).  "
        "minigrad.to_dot() needs no install: it returns the DOT text to render elsewhere."
    )


class Drawing(graphviz.Source):  # type: ignore[misc]
    """A ``graphviz.Source`` whose rendering errors say how to install ``dot``.

    Jupyter shows it inline (through ``pipe``); ``.render()`` and ``.pipe()`` work as in
    graphviz.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        with _explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        with _explain_missing_dot():
            return super().render(*args, **kwargs)


@contextmanager
def _explain_missing_dot() -> Iterator[None]:
    # graphviz's own error says only that it failed to execute 'dot'; ours says how to
    # install it.  It subclasses graphviz's, so existing handlers still catch it.
    try:
        yield
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(["dot"]) from None


def draw_graph(
    node_or_graph: Node | Graph,
    inputs: Inputs | None = None,
    *,
    output: Node | None = None,
    gradients: bool = True,
    graph_attr: dict[str, str] | None = None,
    max_nodes: int | None = DRAW_MAX_NODES,
) -> Drawing:
    """A graphviz drawing of the graph, with values and gradients (the seed's picture).

    Shows inline in Jupyter; ``draw_graph(d).render("graph", format="svg")`` writes a
    file.  Both need graphviz's ``dot`` program; without it they raise
    :class:`DotNotFoundError`, which says how to install it.  Graphs of more than
    ``max_nodes`` nodes are refused with a ValueError rather than left to a layout that
    takes minutes (pass ``max_nodes=None`` to draw anyway).  Parameters as for
    :func:`to_dot`.
    """
    graph, _ = as_graph(node_or_graph)
    if max_nodes is not None and len(graph) > max_nodes:
        raise ValueError(
            f"the graph has {len(graph):,} nodes, more than draw_graph draws by default "
            f"({max_nodes:,}): graphviz would take minutes and the picture would be "
            "unreadable.  Pass max_nodes=None to draw it anyway, use to_dot() for the "
            "text, or to_networkx() to analyze it."
        )
    dot_text = to_dot(
        graph, inputs, output=output, gradients=gradients, graph_attr=graph_attr
    )
    return Drawing(dot_text)

"""Pictures of a graph: DOT text (:func:`to_dot`) and a graphviz drawing (:func:`draw_graph`).

The seed MiniGrad drew its graph by recursing through it and re-visiting shared
subexpressions, which is exponential on a DAG (``y = y * y`` fourteen times took 13 s).
Here the DOT text is built from the graph's topological order in one loop, so each node
is drawn once, however often it is used, and nothing recurses.

Like SymPy's ``dotprint``, :func:`to_dot` is a few small pure functions producing plain
text: it needs no graphviz install and is byte-for-byte deterministic (node ids come
from topological positions, attributes are sorted), so it can be tested against a golden
file.  :func:`draw_graph` wraps that text in a :class:`Drawing` (a ``graphviz.Source``),
which shows inline in Jupyter and renders to files when graphviz's ``dot`` program is
installed.

What the picture shows (the seed's style, after micrograd): every value is a box
``name | value | grad``; each op is a small ellipse feeding its result's box.  For
``-``, ``/`` and ``**`` the two edges into the op are labelled ``a`` and ``b`` where
they arrive, and the op reads ``a - b``, ``a / b`` or ``a ** b``, so operand order is
visible.  Literal numbers are small grey boxes.

Text in the picture means exactly itself.  A leaf may be named ``a|b``, ``{x}``,
``<p>``, ``back\\`` or ``"é"``: value boxes are HTML-like tables whose cells are
XML-escaped, every other string goes through graphviz's own quoting, and backslashes are
doubled (graphviz's ``escape``) so that dot does not read ``\\N`` or ``\\l`` as its
escapes.  A newline in a name is a line break; other characters a picture cannot show
(control characters) appear as Python escapes such as ``\\x00``.

Drawing stays fast.  dot's time grows with the nodes it places -- boxes, ellipses, and a
hidden node at every column an edge crosses, so a value used far from where it is made
(``a`` in ``a*b + a*b + ...``) costs more than its own box.  :func:`layout_cost` counts
that work, measured on dot for the worst shapes we could build, and :func:`draw_graph`
refuses graphs over :data:`DRAW_MAX_NODES` of it at once, with a message saying what to
do instead.  Two graph attributes keep the rest cheap without changing small pictures:
``newrank=true`` (a faster way to assign columns) and ``nslimit=1`` (a cap on dot's
slowest phase, placing nodes within columns).  Operand labels are head labels, which
add no hidden nodes.  And a drawing that still takes longer than ``timeout`` seconds is
stopped with :class:`DotTimeoutError`.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import graphviz

from minigrad.backward import values_and_gradients
from minigrad.evaluate import Inputs
from minigrad.graph import Graph
from minigrad.nodes import Node, Operation, Scalar, format_number
from minigrad.ops import OPS

__all__ = [
    "DotNotFoundError",
    "DotTimeoutError",
    "Drawing",
    "GraphTooLargeError",
    "dot_source",
    "draw_graph",
    "layout_cost",
    "to_dot",
]

#: Ops whose operand order matters: their op ellipse says "a - b" and edges say a, b.
ORDERED_OPS = {"sub", "div", "pow"}

#: Graph-wide DOT attributes; the defaults a user can override with ``graph_attr``.
#: ``newrank`` and ``nslimit=1`` make dot's layout of big graphs much faster (on a sum
#: of 1,000 variables 1.2 s instead of 2.1 s; on the 60-term sum ``a*b + a*b + ...``
#: 0.1 s instead of 3.7 s) and leave small ones as they were: ``nslimit=1`` caps the
#: iterations of dot's x-placement at one per node, which small graphs never reach.
DEFAULT_GRAPH_ATTR = {"rankdir": "LR", "newrank": "true", "nslimit": "1"}
VALUE_STYLE = {"shape": "plain", "fontname": "Helvetica", "fontsize": "11"}
#: A value box: one row of cells, drawn like a record (which it replaces; record labels
#: give | { } < > and spaces meanings that names must not have).
TABLE_STYLE = 'border="0" cellborder="1" cellspacing="0" cellpadding="6"'
#: Operand labels (headlabel) sit by the arrowhead, off the edge.
EDGE_STYLE = {
    "fontname": "Helvetica", "fontsize": "10", "labelangle": "30", "labeldistance": "2",
}
OP_STYLE = {"shape": "ellipse", "fontname": "Helvetica", "fontsize": "11"}
LITERAL_STYLE = {
    "shape": "box", "style": "filled", "fillcolor": "grey92", "fontname": "Helvetica",
    "fontsize": "10", "height": "0.3", "width": "0.4",
}

#: How much layout work draw_graph accepts, in nodes (see layout_cost).  Measured with
#: dot 2.43 on this project's machine (2 cores): at this size the slowest shapes we
#: could build -- a sum of 1,000 variables (3,000 boxes and ellipses in 2,000 columns),
#: values used at every step of a long chain (8,000 to 9,000 columns crossed), dense
#: layers, Fibonacci-like chains, random DAGs -- each draw in 0.1 to 1.5 s.
DRAW_MAX_NODES = 3_000
#: Hidden nodes (columns crossed by edges) are cheaper for dot than boxes and ellipses:
#: by the same measurements, about this many of them cost as much as one.
HIDDEN_PER_NODE = 3
#: Seconds a drawing may take before dot is stopped (``timeout=None``: no limit).
DRAW_TIMEOUT = 30.0

#: A DOT attribute name: graph_attr keys must be one, so they cannot inject DOT.
ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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

def printable(text: str) -> str:
    r"""``text`` with the characters a picture cannot show written as Python escapes.

    Control characters (other than newline) are invisible, dropped by dot, or not allowed
    in SVG at all; so are lone surrogates and U+FFFE/U+FFFF.  Everything else, including
    any script or emoji, is kept.

    >>> printable("tab\there, é and 🙂")
    'tab\\there, é and 🙂'
    """
    return "".join(
        repr(char)[1:-1]
        if char != "\n" and (unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff")
        else char
        for char in text
    )


def dot_string(text: str) -> str:
    r"""``text`` as a DOT string that dot shows exactly as written.

    graphviz's ``escape`` doubles backslashes (so ``\N`` or ``\l`` in a name are not
    dot's escapes) and keeps ``<...>`` from being read as HTML; graphviz's ``quote``
    adds quotes, unless the text is a plain identifier or number, and escapes ``"``.  A
    newline becomes dot's ``\n`` line break, so each DOT statement stays on one line.

    >>> print(dot_string('say "hi"\\'))
    "say \"hi\"\\"
    >>> dot_string("LR")
    'LR'
    """
    literal = graphviz.escape(printable(text)).replace("\n", "\\n")
    return str(graphviz.quoting.quote(graphviz.nohtml(literal)))


def html_text(text: str) -> str:
    r"""``text`` inside an HTML-like label: XML-escaped, line breaks as ``<br/>``.

    dot still expands ``\N`` and ``\\`` in HTML-like labels, so backslashes are doubled
    there too.

    >>> html_text('<p> & "a|b"\\')
    '&lt;p&gt; &amp; &quot;a|b&quot;\\\\'
    """
    return html.escape(graphviz.escape(printable(text))).replace("\n", "<br/>")


class HtmlLabel(str):
    """A DOT HTML-like label, ``<...>``: written into the DOT text as it is."""

    __slots__ = ()


def attributes(attrs: Mapping[str, object]) -> str:
    """``[a=1 b="x y"]`` with keys sorted, so the output is deterministic.

    Values are strings or numbers, quoted with :func:`dot_string`, or an
    :class:`HtmlLabel`.  Keys must be DOT attribute names.
    """
    for key in attrs:
        if not isinstance(key, str) or ATTRIBUTE_NAME.fullmatch(key) is None:
            raise ValueError(f"{key!r} is not a DOT attribute name (letters, digits, _)")
    parts = []
    for key in sorted(attrs):
        value = attrs[key]
        if isinstance(value, HtmlLabel):
            parts.append(f"{key}={value}")
        elif isinstance(value, (str, int, float)):
            parts.append(f"{key}={dot_string(str(value))}")
        else:
            raise TypeError(f"DOT attribute {key}: expected a str, int or float, got "
                            f"{type(value).__name__}: {value!r:.40}")
    return "[" + " ".join(parts) + "]"


def value_label(node: Node, value: float, grad: float | None) -> HtmlLabel:
    """The label of a value box: a row of cells name (if any) | value | grad (if known)."""
    cells = []
    if isinstance(node, Scalar) and node.name is not None:
        cells.append(node.name)
    cells.append(f"value {format_number(value)}")
    if grad is not None:
        cells.append(f"grad {format_number(grad)}")
    row = "".join(f"<td>{html_text(cell)}</td>" for cell in cells)
    return HtmlLabel(f"<<table {TABLE_STYLE}><tr>{row}</tr></table>>")


def op_label(op: str) -> str:
    """The text in an op's ellipse: the symbol, or ``a - b`` where order matters."""
    symbol = OPS[op].symbol
    return f"a {symbol} b" if op in ORDERED_OPS else symbol


# -- the DOT text --------------------------------------------------------------------------

def dot_lines(
    graph: Graph, values: list[float], grads: list[float] | None,
    graph_attr: Mapping[str, object],
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
            edge = {"headlabel": "ab"[k]} if ordered else {}
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
    graph_attr: Mapping[str, str | int | float] | None = None,
) -> str:
    """The DOT source of a graph, with each node's value and gradient; no graphviz needed.

    Parameters
    ----------
    node_or_graph : the expression to draw, or a Graph.
    inputs : new leaf values for this drawing (as for :func:`minigrad.evaluate`).
    output : whose gradients to show; default the node drawn, or the Graph's first output.
    gradients : False to show values only (and skip the backward pass).
    graph_attr : DOT graph attributes, e.g. ``{"rankdir": "TB"}`` for top-to-bottom or
        ``{"dpi": 300}``.  Keys must be attribute names; values (str, int or float) are
        shown literally.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> x = Scalar(2.0, name="x")
    >>> print(to_dot(x * 3), end="")
    digraph minigrad {
        graph [newrank=true nslimit=1 rankdir=LR]
        node [fontname=Helvetica fontsize=11 shape=plain]
        edge [fontname=Helvetica fontsize=10 labelangle=30 labeldistance=2]
        v0 [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="6"><tr><td>x</td><td>value 2</td><td>grad 3</td></tr></table>>]
        v1 [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="6"><tr><td>value 6</td><td>grad 1</td></tr></table>>]
        o1 [fontname=Helvetica fontsize=11 label="*" shape=ellipse]
        o1 -> v1
        v0 -> o1
        c1_1 [fillcolor=grey92 fontname=Helvetica fontsize=10 height=0.3 label=3 shape=box style=filled width=0.4]
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
    graph_attr: Mapping[str, str | int | float] | None = None,
) -> str:
    """The DOT text from values and gradients already computed (per ``graph.order``)."""
    lines = dot_lines(graph, values, grads, {**DEFAULT_GRAPH_ATTR, **(graph_attr or {})})
    return "\n".join(lines) + "\n"


# -- how much work a drawing is ----------------------------------------------------------------

def crossed_columns(graph: Graph) -> int:
    """How many columns the edges of ``graph``'s drawing cross, in all.

    dot puts nodes in columns (ranks) and routes an edge that crosses columns through a
    hidden node in each.  dot chooses the columns that make the edges shortest in all;
    we try two simple choices -- every value box as far left as it can go (just right of
    its operands) and as far right (just left of its first use) -- and count for the
    better one.  dot's choice crosses no more, so this is an upper bound, and it is
    exact for the long sums and chains that are slow to draw.
    """
    return min(_crossings(graph, _columns(graph, leftmost=True)),
               _crossings(graph, _columns(graph, leftmost=False)))


def _columns(graph: Graph, *, leftmost: bool) -> list[int]:
    # A value box's column.  An operation's op ellipse is one column left of its box,
    # and its operands' boxes at least one more.  Leftmost: leaves in column 0, each box
    # as early as its operands allow.  Rightmost: outputs in column 0 and the others
    # counting leftwards (negative), each box just before its first use.
    column = [0] * len(graph)
    if leftmost:
        for i, node in enumerate(graph.order):  # operands before their users
            column[i] = max((column[graph.index[a]] + 2 for a in node.args
                             if isinstance(a, Node)), default=0)
    else:
        for i in reversed(range(len(graph))):  # users before their operands
            for operand in graph.order[i].args:
                if isinstance(operand, Node):
                    j = graph.index[operand]
                    column[j] = min(column[j], column[i] - 2)
    return column


def _crossings(graph: Graph, column: list[int]) -> int:
    # The columns strictly between each operand's box and its op's ellipse.
    return sum(
        (column[i] - 1) - column[graph.index[operand]] - 1
        for i, node in enumerate(graph.order)
        for operand in node.args if isinstance(operand, Node)
    )


def drawn_nodes(graph: Graph) -> int:
    """Boxes and ellipses in ``graph``'s drawing: values, ops and literal numbers."""
    ellipses = sum(isinstance(node, Operation) for node in graph.order)
    literals = sum(not isinstance(a, Node) for node in graph.order for a in node.args)
    return len(graph) + ellipses + literals


def layout_cost(graph: Graph) -> int:
    """dot's work to lay out ``graph``, in nodes: its boxes and ellipses, plus one for
    every :data:`HIDDEN_PER_NODE` columns that its edges cross.

    A sum of many terms has few nodes, but if one value is used in every term, its edges
    cross most of the drawing's columns (see :func:`crossed_columns`).

    Examples
    --------
    >>> from minigrad import Scalar
    >>> a = Scalar(1.0, name="a")
    >>> layout_cost(Graph(a * 2))  # a, 2, the * ellipse, the result
    4
    >>> total = a
    >>> for _ in range(99):
    ...     total = total + a
    >>> len(Graph(total)), drawn_nodes(Graph(total)), crossed_columns(Graph(total))
    (100, 199, 9702)
    >>> layout_cost(Graph(total))  # 199 + 9,702 / 3
    3433
    """
    return drawn_nodes(graph) + -(-crossed_columns(graph) // HIDDEN_PER_NODE)


# -- drawing with graphviz -------------------------------------------------------------------

class GraphTooLargeError(ValueError):
    """The graph is too big to draw quickly; the message says what to do instead.

    ``reason`` says why in a few words, without advice (the command line gives its own).
    """

    def __init__(self, reason: str, advice: str) -> None:
        super().__init__(f"{reason}.  {advice}")
        self.reason = reason


class DotNotFoundError(graphviz.ExecutableNotFound):  # type: ignore[misc]
    """graphviz's ``dot`` program is not installed; says how to install it."""

    _msg = (
        "drawing needs graphviz's `dot` program, and running {!r} failed: it is not "
        "installed or not on PATH.  Install it (Debian/Ubuntu: `apt-get install graphviz`; "
        "macOS: `brew install graphviz`; conda: `conda install graphviz`).  "
        "minigrad.to_dot() needs no install: it returns the DOT text to render elsewhere."
    )


class DotTimeoutError(subprocess.TimeoutExpired):
    """dot took longer than the drawing's ``timeout`` and was stopped."""

    def __str__(self) -> str:
        return (
            f"graphviz's dot was stopped after {self.timeout:g} seconds without finishing "
            "the drawing: the graph is too big or too tangled to lay out quickly.  Use "
            "to_dot() for the DOT text or to_networkx() to analyze the graph, draw a "
            "smaller part of it, or pass a larger timeout (timeout=None waits for ever)."
        )


def run_dot(
    source: str, output_format: str, *, engine: str = "dot", quiet: bool = False,
    timeout: float | None = DRAW_TIMEOUT,
) -> bytes:
    """dot's drawing of ``source`` in ``output_format`` ("svg", "png", ...), as bytes.

    graphviz's ``pipe`` and ``render`` run dot with no time limit; this is the same
    command (``dot -K<engine> -T<format>``) run with one.  Errors are graphviz's:
    :class:`DotNotFoundError` (an ``ExecutableNotFound``) when dot is not installed,
    ``graphviz.CalledProcessError`` when it fails, and :class:`DotTimeoutError` when it
    runs out of time.  dot's warnings go to standard error unless ``quiet``.
    """
    command = ["dot", f"-K{engine}", f"-T{output_format}"]
    try:
        process = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                                 timeout=timeout, check=False)
    except FileNotFoundError:
        raise DotNotFoundError(["dot"]) from None
    except subprocess.TimeoutExpired:  # subprocess.run has already stopped dot
        raise DotTimeoutError(command, timeout or 0.0) from None
    if process.stderr and not quiet:
        sys.stderr.write(process.stderr.decode("utf-8", errors="replace"))
    if process.returncode != 0:
        raise graphviz.CalledProcessError(process.returncode, command, process.stdout,
                                          process.stderr)
    return process.stdout


class Drawing(graphviz.Source):  # type: ignore[misc]
    """A ``graphviz.Source`` that draws with a time limit and explains a missing ``dot``.

    Jupyter shows it inline (through ``pipe``).  ``pipe(format)`` returns the drawing
    and ``render(filename, format=...)`` writes it next to the saved DOT source, as in
    graphviz (with graphviz's commonest options: ``directory``, ``view``, ``cleanup``,
    ``outfile``, ``engine``, ``quiet``; ``view()`` works too), but dot is stopped after
    ``timeout`` seconds (an attribute; None for no limit) with :class:`DotTimeoutError`.
    """

    timeout: float | None = DRAW_TIMEOUT

    def pipe(
        self, format: str | None = None, *, quiet: bool = False,
        engine: str | None = None, encoding: str | None = None,
    ) -> Any:
        """The drawing as bytes (or text, given ``encoding``), as in graphviz."""
        data = run_dot(self.source, format or self.format, engine=engine or self.engine,
                       quiet=quiet, timeout=self.timeout)
        return data if encoding is None else data.decode(encoding)

    def render(
        self, filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None, view: bool = False,
        cleanup: bool = False, format: str | None = None, *,
        quiet: bool = False, quiet_view: bool = False,
        outfile: str | os.PathLike[str] | None = None, engine: str | None = None,
    ) -> str:
        """Save the DOT source and write the drawing, as graphviz does: to ``outfile``, or
        beside the source as ``SOURCE.FORMAT``.  Returns the drawing's path."""
        if outfile is not None:
            outfile = Path(self.directory if directory is None else "", outfile)
            format = format or outfile.suffix.lstrip(".")
            filename = filename if filename is not None else outfile.with_suffix(".gv")
        output_format = format or self.format
        data = self.pipe(output_format, quiet=quiet, engine=engine)  # may time out
        source_path = self.save(filename, directory=directory)
        path = str(outfile) if outfile is not None else f"{source_path}.{output_format}"
        Path(path).write_bytes(data)
        if cleanup:
            os.remove(source_path)
        if view or quiet_view:  # as in graphviz: quiet_view implies view
            graphviz.view(path, quiet=quiet_view)
        return path


def check_size(graph: Graph, max_nodes: int | None = DRAW_MAX_NODES) -> None:
    """Raise :class:`GraphTooLargeError` if laying ``graph`` out is more work for dot than
    ``max_nodes`` nodes (see :func:`layout_cost`); None: no limit."""
    if max_nodes is None:
        return
    cost = layout_cost(graph)
    if cost > max_nodes:
        raise GraphTooLargeError(
            f"the graph is too big to draw quickly: for graphviz's dot it is as much work "
            f"as {cost:,} nodes ({drawn_nodes(graph):,} boxes and ellipses, plus one for "
            f"every {HIDDEN_PER_NODE} columns that its edges cross, "
            f"{crossed_columns(graph):,} in all: a value used in many places far apart "
            f"makes long edges), more than the limit of {max_nodes:,}",
            "Use to_dot() for the DOT text or to_networkx() to analyze the graph, draw a "
            "smaller graph, or pass max_nodes=None to draw it anyway (dot may take minutes)",
        )


def draw_graph(
    node_or_graph: Node | Graph,
    inputs: Inputs | None = None,
    *,
    output: Node | None = None,
    gradients: bool = True,
    graph_attr: Mapping[str, str | int | float] | None = None,
    max_nodes: int | None = DRAW_MAX_NODES,
    timeout: float | None = DRAW_TIMEOUT,
) -> Drawing:
    """A graphviz drawing of the graph, with values and gradients (the seed's picture).

    Shows inline in Jupyter; ``draw_graph(d).render("graph", format="svg")`` writes a
    file.  Both need graphviz's ``dot`` program; without it they raise
    :class:`DotNotFoundError`, which says how to install it.

    Drawing stays quick: a graph whose layout is more work than ``max_nodes`` nodes
    (see :func:`layout_cost`; about 2,000 nodes, or fewer if values are used far apart)
    is refused at once with :class:`GraphTooLargeError` (a ValueError) rather than left
    to a layout that takes minutes (``max_nodes=None`` draws anyway); and dot is stopped
    after ``timeout`` seconds with :class:`DotTimeoutError` (``timeout=None``: no
    limit).  Other parameters as for :func:`to_dot`.
    """
    graph, _ = as_graph(node_or_graph)
    check_size(graph, max_nodes)
    dot_text = to_dot(
        graph, inputs, output=output, gradients=gradients, graph_attr=graph_attr
    )
    drawing = Drawing(dot_text)
    drawing.timeout = timeout
    return drawing

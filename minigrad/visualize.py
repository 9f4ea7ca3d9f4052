"""Pictures of a graph: DOT text (:func:`to_dot`) and a graphviz drawing (:func:`draw_graph`).

The DOT text is built from the graph's topological order in one loop, so each node is
drawn once, however often it is used, and nothing recurses (a drawing that recursed and
re-visited shared subexpressions would be exponential on a DAG: ``y = y * y`` fourteen
times has 2**14 paths).

Like SymPy's ``dotprint``, :func:`to_dot` is a few small pure functions producing plain
text: it needs no graphviz install and is byte-for-byte deterministic (node ids come
from topological positions, attributes are sorted), so it can be tested against a golden
file.  :func:`draw_graph` wraps that text in a :class:`Drawing` (a ``graphviz.Source``),
which shows inline in Jupyter and renders to files when graphviz's ``dot`` program is
installed.

What the picture shows (the seed's style, after micrograd): every value is a box
``name | value | grad``; each op is a small ellipse, showing its symbol, feeding its
result's box.  Where operand order matters (``-``, ``/``, ``**``: the ops the table marks
not commutative) the op's ellipse says ``1st`` and ``2nd`` inside, on its left, and each
operand's edge ends at its own word (a graphviz *port*): so the label is where the arrow
points, wherever dot puts the operand's box, above the other operand's or below it.  (Labels
beside the edges, ``headlabel`` with a ``labelangle``, were tried first: dot turns every
head label the same way, so the 1st's could land between the two edges, next to the
2nd's, and ``a**3`` read like ``3**a``.)  The slots are ``1st`` and ``2nd``, not ``a``
and ``b``, the names the rules in ``ops.py`` give the operands: variables are called
that too, and in ``a**3/5 + relu(b**2)`` the leaf ``b`` would arrive at a slot
labelled ``a``.  An ordinal cannot be a variable's name.  Numbers -- literals like the
``3`` of ``a**3``, and :class:`~minigrad.nodes.Constant` nodes such as a derivative
that came out constant -- are small grey boxes.

Two options show more, for learning how the backward pass works.  ``numbers=True``
puts each node's number ``#i`` (its place in ``graph.order``) beside its box: the
numbers of :func:`~minigrad.backward_trace` and of :func:`~minigrad.show_code`'s
comments.  ``partials=True`` writes on each edge from an operand into an op the two
numbers of its backward step ``g[operand] += g[node] * partial``::

    ∂ 6.75      the partial, d node / d operand ("local derivative")
    ← 1.35      what the step sends back to the operand: the node's grad × ∂

A value's grad is the sum of the ``←`` numbers on the edges leaving its box, and a box
that gets more than one says so: ``grad 0 = 1 + (-1)`` for the ``x`` of ``x - x``, so a
0 reads as the sum it is, not as a grad never computed.  The numbers come from
:func:`~minigrad.backward_trace`, the backward pass recording itself, so edges and
boxes agree.

``draw_graph(..., step=k)`` shows the backward pass part-way, after its first ``k``
steps, the step just taken in orange; drawn for ``k = 0, 1, 2, ...`` the pictures show
the gradients filling in.  They must not jump from one to the next, and dot lays out
each picture afresh: a box that grows (``grad 0`` becomes ``grad 1.35``) or a label
that appears moves everything around it.  So each part that changes is given, in
every step's picture, the room it needs at its largest (HTML-like labels take a
minimum ``width`` and ``height``), measured by dot itself (:func:`measured_room`).
With the same sizes in every picture, dot, which is deterministic, places everything
the same way; the tests check it, coordinate by coordinate.  (The other usual way,
laying out once and pinning the positions for ``neato -n2``, needs the same sizes
too, or arrows fall short of a box whose text got shorter.)

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
slowest phase, placing nodes within columns).  The ``1st`` and ``2nd`` are part of the
op's own label and the edges end at ports, which adds no hidden nodes; the labels of
``partials=True`` on the edges do (dot gives each a column of its own, so that they
never overlap), and :func:`layout_cost` counts them.  And a
drawing that still takes longer than ``timeout`` seconds is stopped with
:class:`DotTimeoutError`.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import Any

import attrs
import graphviz

from minigrad.api import values_and_gradients
from minigrad.graph import Graph
from minigrad.nodes import Constant, Node, Operation, Scalar, format_number
from minigrad.ops import OPS
from minigrad.trace import TraceStep, backward_trace
from minigrad.values import Inputs

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

#: Ops of two operands whose order matters (a - b is not b - a), read off the table:
#: the edges into them say which operand is which.
ORDERED_OPS = frozenset(
    name for name, op in OPS.items() if op.arity == 2 and not op.commutative
)
#: What those edges say: the operand's place.  Ordinals, because no variable can be
#: called ``1st`` on the command line (names are identifiers), while ``a``, ``b``,
#: ``x`` -- or ``base`` and ``exponent`` -- are everyday variable names.
OPERAND_SLOTS = ("1st", "2nd")

#: Graph-wide DOT attributes; the defaults a user can override with ``graph_attr``.
#: ``newrank`` and ``nslimit=1`` make dot's layout of big graphs much faster (most of
#: all where a value is used far from where it is made, as in ``a*b + a*b + ...``) and
#: leave small ones as they were: ``nslimit=1`` caps the iterations of dot's
#: x-placement at one per node, which small graphs never reach.
DEFAULT_GRAPH_ATTR = {"rankdir": "LR", "newrank": "true", "nslimit": "1"}
VALUE_STYLE = {"shape": "plain", "fontname": "Helvetica", "fontsize": "11"}
#: A value box: one row of cells, drawn like a record (which it replaces; record labels
#: give | { } < > and spaces meanings that names must not have).
TABLE_STYLE = 'border="0" cellborder="1" cellspacing="0" cellpadding="6"'
#: The labels on edges (``partials=True``: the partial and what flows back).
EDGE_STYLE = {"fontname": "Helvetica", "fontsize": "10"}
#: The colour of the partial and what flows back (``partials=True``), so that they read
#: apart from the forward pass (PARTIALS_LEGEND, below, says what they are).
BACKWARD_COLOR = "#00008b"  # dark blue, in hex: graphviz and SVG name colours differently
#: In a picture of the backward pass part-way (``draw_graph(..., step=k)``), the step just
#: taken: its edge, drawn thicker, and its numbers in this colour, and the grad it added
#: to on this fill.  Colour and line width only: they change nothing dot measures.
CURRENT_COLOR = "#d9480f"  # orange, apart from black (forward) and dark blue (backward)
CURRENT_FILL = "#ffe8cc"  # a pale orange, behind black text
CURRENT_PENWIDTH = 2.5
OP_STYLE = {"shape": "ellipse", "fontname": "Helvetica", "fontsize": "11"}
#: The size of ``1st`` and ``2nd`` in an op's ellipse: smaller than its symbol.
SLOT_FONTSIZE = 9
#: Where in the ellipse the slots stand, and which side of them their edges come in by
#: (a compass point), for each direction of drawing (the graph's ``rankdir``): on the
#: side the operands come from, in the order dot lines the operands up -- top to
#: bottom when the drawing runs left to right, left to right when it runs downwards.
SLOT_SIDES = {"LR": "w", "RL": "e", "TB": "n", "BT": "s"}
LITERAL_STYLE = {
    "shape": "box", "style": "filled", "fillcolor": "grey92", "fontname": "Helvetica",
    "fontsize": "10", "height": "0.3", "width": "0.4",
}

#: How much layout work draw_graph accepts, in nodes (see layout_cost): the size at
#: which the slowest shapes we could build -- a sum of 1,000 variables, values used at
#: every step of a long chain, dense layers, Fibonacci-like chains, random DAGs -- still
#: draw in a second or two (measured with dot; docs/api.md says what the limit means).
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


def value_label(node: Node, value: float, grad: float | None,
                number: int | None = None, *, grad_width: int | None = None,
                current: bool = False, shares: Sequence[float] = ()) -> HtmlLabel:
    """The label of a value box: a row of cells name (if any) | value | grad (if known,
    with its ``shares``: see :func:`grad_text`), after the node's number ``#i`` (if
    asked for), which stands outside the box.

    For the pictures of the backward pass step by step: ``grad_width`` keeps the grad
    cell that many points wide at least (the width of the widest grad it will show, so
    the box keeps its size from step to step), and ``current`` fills it with
    :data:`CURRENT_FILL` (the step just taken added to it)."""
    cells = []
    if isinstance(node, Scalar) and node.name is not None:
        cells.append(node.name)
    cells.append(f"value {format_number(value)}")
    row = "".join(f"<td>{html_text(cell)}</td>" for cell in cells)
    if grad is not None:
        row += grad_cell(grad, grad_width, current, shares)
    if number is not None:
        row = f'<td border="0">{number_text(number)}</td>' + row
    return HtmlLabel(f"<<table {TABLE_STYLE}><tr>{row}</tr></table>>")


#: A grad made of two to this many shares shows them (more would make a wide box).
SHOWN_SHARES = 4


def grad_text(grad: float, shares: Sequence[float] = ()) -> str:
    """A box's grad, ``grad 1.35``, and the shares it is the sum of if there are two to
    :data:`SHOWN_SHARES`, one per use of the node: ``grad 6 = 3 + 3`` for the ``x`` of
    ``x * x``, ``grad 0 = 1 + (-1)`` for that of ``x - x``.

    >>> grad_text(1.35), grad_text(0.0, [1.0, -1.0]), grad_text(5.0, [1.0] * 5)
    ('grad 1.35', 'grad 0 = 1 + (-1)', 'grad 5')
    """
    text = f"grad {format_number(grad)}"
    if 2 <= len(shares) <= SHOWN_SHARES:
        terms = [format_number(s) for s in shares]
        text += " = " + " + ".join(f"({t})" if t.startswith("-") else t for t in terms)
    return text


def shares_of(steps: Sequence[TraceStep]) -> dict[int, list[float]]:
    """Each operand's shares of the backward pass, by its position: the contribution of
    every step that adds to its grad, in the order they are added."""
    shares: dict[int, list[float]] = {}
    for step in steps:
        shares.setdefault(step.operand_position, []).append(step.contribution)
    return shares


def grad_cell(grad: float, width: int | None = None, current: bool = False,
              shares: Sequence[float] = ()) -> str:
    """A value box's grad cell, ``<td>grad 1.35</td>`` (with its ``shares``: see
    :func:`grad_text`); at least ``width`` points wide if given (a minimum: graphviz
    widens a cell to fit its text), and filled with :data:`CURRENT_FILL` if
    ``current``."""
    attrs = ("" if width is None else f' width="{width}"') + (
        f' bgcolor="{CURRENT_FILL}"' if current else "")
    return f"<td{attrs}>{html_text(grad_text(grad, shares))}</td>"


def number_text(number: int) -> str:
    """A node's number as it shows beside its box: ``#3``, in grey (it is not a value)."""
    return f'<font color="grey35">#{number}</font>'


def number_box(value: float, number: int | None = None) -> dict[str, object]:
    """The attributes of a grey number box (a literal, or a Constant node), with the
    node's number ``#i`` beside it if given, as beside a value box."""
    if number is None:
        return {**LITERAL_STYLE, "label": format_number(value)}
    cells = (f'<td border="0">{number_text(number)}</td>'
             f'<td bgcolor="{LITERAL_STYLE["fillcolor"]}">{format_number(value)}</td>')
    table = f'<table {TABLE_STYLE}><tr>{cells}</tr></table>'
    return {"fontsize": LITERAL_STYLE["fontsize"], "label": HtmlLabel(f"<{table}>")}


def op_label(op: str, side: str = "w") -> str | HtmlLabel:
    """The text in an op's ellipse: its symbol; and where operand order matters, the
    slots ``1st`` and ``2nd`` on its ``side`` (see :data:`SLOT_SIDES`), each a port
    (:func:`slot_port`) at which its operand's edge ends.

    >>> op_label("mul")
    '*'
    >>> import re
    >>> re.findall(r'<td[^>]*>(?:<font[^>]*>)?([^<]*)', op_label("sub"))  # 2 rows, 3 cells
    ['1st', '-', '2nd']
    >>> re.findall(r'port="([a-z0-9]+)"', op_label("sub"))  # where the edges end
    ['arg0', 'arg1']
    """
    symbol = OPS[op].symbol
    if op not in ORDERED_OPS:
        return symbol
    first, second = (f'<td port="{slot_port(k)}"><font point-size="{SLOT_FONTSIZE}">'
                     f"{slot}</font></td>" for k, slot in enumerate(OPERAND_SLOTS))
    rows = {
        "w": [f'{first}<td rowspan="2" cellpadding="3">{html_text(symbol)}</td>', second],
        "e": [f'<td rowspan="2" cellpadding="3">{html_text(symbol)}</td>{first}', second],
        "n": [first + second, f'<td colspan="2" cellpadding="3">{html_text(symbol)}</td>'],
        "s": [f'<td colspan="2" cellpadding="3">{html_text(symbol)}</td>', first + second],
    }[side]
    table = "".join(f"<tr>{row}</tr>" for row in rows)
    return HtmlLabel(f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
                     f"{table}</table>>")


def slot_port(argnum: int) -> str:
    """The name of the port in an op's label where its operand ``argnum`` arrives."""
    return f"arg{argnum}"


#: Under a picture with partials: what the numbers on the edges are.
LEGEND_LINES = (
    "∂  = d result / d operand, the local derivative",
    "←  = grad of the result × ∂, added into the grad of the operand",
)
#: ... and under a picture of the backward pass part-way, what the orange is.
STEP_LEGEND_LINE = "orange = the step just taken, and the grad it added to"


def legend(lines: Sequence[str], current: str | None = None) -> dict[str, object]:
    """The graph attributes of a legend under the picture: ``lines`` in
    :data:`BACKWARD_COLOR`, then ``current`` (if any) in :data:`CURRENT_COLOR`."""
    text = "".join(f'{html_text(line)}<br align="left"/>' for line in lines)
    if current is not None:
        text += f'<font color="{CURRENT_COLOR}">{html_text(current)}</font><br align="left"/>'
    return {"label": HtmlLabel(f"<{text}>"), "labelloc": "b", "labeljust": "l",
            "fontname": "Helvetica", "fontsize": "10", "fontcolor": BACKWARD_COLOR}


PARTIALS_LEGEND = legend(LEGEND_LINES)
STEPS_LEGEND = legend(LEGEND_LINES, STEP_LEGEND_LINE)
#: Before the first step (``step=0``) nothing is orange, so nothing says what orange is;
#: but the line stays, blank, so that the picture keeps its size from step to step.
BEFORE_STEPS_LEGEND = legend(LEGEND_LINES, "\N{NO-BREAK SPACE}")


def partial_label(step: TraceStep) -> HtmlLabel:
    """An edge's label when partials are shown: the step's partial and the node's grad
    times it, sent back.  (The operand's slot, where order matters, is in the op's
    ellipse: see :func:`op_label`.)

    >>> from minigrad import Graph, Scalar, backward_trace
    >>> a = Scalar(1.5, name="a"); y = a**3
    >>> partial_label(backward_trace(Graph(y), y)[0])
    '<<font color="#00008b">∂ 6.75<br/>← 6.75</font>>'
    """
    return HtmlLabel(f"<{edge_text(step)}>")


def edge_text(step: TraceStep | None, colour: str = BACKWARD_COLOR) -> str:
    """The HTML-like text of :func:`partial_label`, its step's lines in ``colour``;
    nothing before the step is taken."""
    if step is None:
        return ""
    return f'<font color="{colour}">{"<br/>".join(step_lines(step))}</font>'


def kept_label(step: TraceStep | None, colour: str = BACKWARD_COLOR,
               size: tuple[int, int] | None = None) -> HtmlLabel:
    """An edge label for the pictures step by step: the step's numbers, once it is
    taken, at the bottom of a box at least ``size`` (width, height) points big.  So the
    label keeps its size before its step and after, and the numbers come next to the
    edge, which dot runs along the label's lower side.  Without ``size``: the label as
    it is, for measuring (:func:`measured_room`)."""
    width_height = "" if size is None else f' width="{size[0]}" height="{size[1]}"'
    text = edge_text(step, colour)
    return HtmlLabel(f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'
                     f'<tr><td valign="bottom"{width_height}>{text}</td></tr></table>>')


def step_lines(step: TraceStep) -> list[str]:
    """What an edge says of its backward step: ``∂`` the partial, ``←`` what is sent back
    (the same two lines in graphviz's drawing and in svg.py's)."""
    return [f"∂ {format_number(step.partial)}", f"← {format_number(step.contribution)}"]


# -- the DOT text --------------------------------------------------------------------------

def slot_of(node: Operation, argnum: int) -> str | None:
    """The place of ``node``'s operand ``argnum`` (``1st``, ``2nd``) if the op's operand
    order matters, else None: what the picture writes where its edge arrives."""
    return OPERAND_SLOTS[argnum] if node.op in ORDERED_OPS else None


@attrs.frozen
class Room:
    """The room, in points, kept for the parts of a picture that change from one step of
    the backward pass to the next (see :func:`measured_room`).

    Attributes
    ----------
    grad_widths : a grad cell's width, by the position of its node.
    label_sizes : an edge label's width and height, by (node position, argnum).
    """

    grad_widths: Mapping[int, int] = attrs.field(factory=dict)
    label_sizes: Mapping[tuple[int, int], tuple[int, int]] = attrs.field(factory=dict)


def dot_lines(
    graph: Graph, values: list[float], grads: Sequence[float | None] | None,
    graph_attr: Mapping[str, object], steps: Sequence[TraceStep] | None = None,
    numbers: bool = False, step: int | None = None, room: Room | None = None,
) -> Iterator[str]:
    """The lines of the DOT text: value box v<i> for each node, op ellipse o<i> for each
    operation, literal box c<i>_<k> for the k-th operand of node i when it is a number.

    ``steps`` (of a backward trace; None: partials not shown) label the edges they run
    along with their partial and contribution; ``numbers`` puts ``#i`` beside each
    node's box.

    ``step`` draws the backward pass as it stands after the first ``step`` of ``steps``
    (all the steps of the pass; ``grads`` are the gradients at that point): only their
    edges show their numbers yet, and the last of them, the step just taken, is drawn
    in :data:`CURRENT_COLOR`, with the grad it added to.  ``room`` keeps each part that
    changes from step to step at its largest size, so that dot, given boxes and labels
    of the same sizes in every step's picture, places them all the same way.
    """
    room = room or Room()
    side = SLOT_SIDES.get(str(graph_attr.get("rankdir", "TB")), "n")  # dot's default: TB
    on_edge = {(step.position, step.argnum): step for step in steps or ()}
    taken = on_edge if step is None else {  # the edges whose step is done
        (done.position, done.argnum): done for done in (steps or ())[:step]}
    current = (steps or ())[step - 1] if step else None  # the step just taken
    # Each grad with its shares: all of them (partials=True), or those added so far (step).
    shares = {} if steps is None else shares_of(steps if step is None else steps[:step])
    yield "digraph minigrad {"
    yield f"    graph {attributes(graph_attr)}"
    yield f"    node {attributes(VALUE_STYLE)}"
    yield f"    edge {attributes(EDGE_STYLE)}"
    for i, node in enumerate(graph.order):
        number = i if numbers else None
        if isinstance(node, Constant):  # a number, like a literal: no name, no input
            yield f"    v{i} {attributes(number_box(values[i], number))}"
            continue
        grad = grads[i] if grads is not None else None
        label = value_label(node, values[i], grad, number, grad_width=room.grad_widths.get(i),
                            current=current is not None and current.operand_position == i,
                            shares=shares.get(i, ()))
        yield f"    v{i} {attributes({'label': label})}"
        if not isinstance(node, Operation):
            continue
        yield f"    o{i} {attributes({**OP_STYLE, 'label': op_label(node.op, side)})}"
        yield f"    o{i} -> v{i}"
        for k, operand in enumerate(node.args):
            edge: dict[str, object] = {}
            if slot_of(node, k) is not None:  # it ends at its slot, in the op's ellipse
                edge["headport"] = f"{slot_port(k)}:{side}"
            if step is not None and (i, k) in on_edge:  # its numbers come at its step
                is_current = current is not None and (current.position, current.argnum) == (i, k)
                edge["label"] = kept_label(taken.get((i, k)),
                                           CURRENT_COLOR if is_current else BACKWARD_COLOR,
                                           room.label_sizes.get((i, k)))
                if is_current:
                    edge.update(color=CURRENT_COLOR, penwidth=CURRENT_PENWIDTH)
            elif steps is not None and (i, k) in on_edge:
                edge["label"] = partial_label(on_edge[i, k])
            if isinstance(operand, Node):
                source = f"v{graph.index[operand]}"
            else:
                source = f"c{i}_{k}"
                yield f"    {source} {attributes(number_box(operand))}"
            yield f"    {source} -> o{i}" + (f" {attributes(edge)}" if edge else "")
    yield "}"


def gradients_shown(steps: Sequence[TraceStep]) -> dict[int, list[float]]:
    """Every grad each operand's box shows in the course of the backward pass, by its
    position: 0 before the first step that adds to it, then the sum after each.

    The other boxes never change: the output's grad is 1 throughout (no step passes
    anything to it: steps run from a node to its operands, which come before it), and
    the grad of a node that no step reaches stays 0.

    >>> from minigrad import Graph, Scalar, backward_trace
    >>> x = Scalar(3.0, name="x"); y = x * x
    >>> gradients_shown(backward_trace(Graph(y), y).steps)  # x's: 0, then 3, then 6
    {0: [0.0, 3.0, 6.0]}
    """
    shown: dict[int, list[float]] = {}
    for step in steps:
        shown.setdefault(step.operand_position, [0.0]).append(step.total)
    return shown


def measured_room(steps: Sequence[TraceStep], timeout: float | None = DRAW_TIMEOUT) -> Room:
    """The room that each changing part of the pictures step by step needs, measured by
    graphviz itself: the widest grad that each box shows during the backward pass
    ``steps`` (with its shares so far), and each edge's label once its step's numbers
    are on it.

    Text widths depend on the fonts installed, so rather than guess them we ask dot: one
    run of ``dot -Tjson`` on a graph of just those parts, each the label of a node of
    its own, unconnected.  Sizes are rounded up to whole points, the unit of an
    HTML-like label's ``width`` and ``height``.
    """
    if not steps:
        return Room()
    edge_font = {key: EDGE_STYLE[key] for key in ("fontname", "fontsize")}
    parts: dict[str, dict[str, object]] = {}  # measuring node -> its attributes
    shares = shares_of(steps)
    for i, shown in gradients_shown(steps).items():
        for j, grad in enumerate(shown):  # after its j-th share: the sum of the first j
            cell = grad_cell(grad, shares=shares[i][:j])
            cell = f"<<table {TABLE_STYLE}><tr>{cell}</tr></table>>"
            parts[f"grad{i}_{j}"] = {"label": HtmlLabel(cell)}
    for step in steps:
        label = kept_label(step)
        parts[f"edge{step.position}_{step.argnum}"] = {**edge_font, "label": label}
    source = "".join(f"    {name} {attributes(attrs)}\n" for name, attrs in parts.items())
    layout = json.loads(run_dot(f"digraph measure {{\n    node {attributes(VALUE_STYLE)}\n"
                                f"{source}}}\n", "json", quiet=True, timeout=timeout))
    size = {part["name"]: (math.ceil(float(part["width"]) * 72),  # inches to points
                           math.ceil(float(part["height"]) * 72)) for part in layout["objects"]}
    grad_widths = {i: max(size[f"grad{i}_{j}"][0] for j in range(len(shown)))
                   for i, shown in gradients_shown(steps).items()}
    label_sizes = {(step.position, step.argnum): size[f"edge{step.position}_{step.argnum}"]
                   for step in steps}
    return Room(grad_widths, label_sizes)


def to_dot(
    node_or_graph: Node | Graph,
    inputs: Inputs | None = None,
    *,
    output: Node | None = None,
    gradients: bool | Mapping[Node, float] = True,
    partials: bool = False,
    numbers: bool = False,
    graph_attr: Mapping[str, str | int | float] | None = None,
) -> str:
    """The DOT source of a graph, with each node's value and gradient; no graphviz needed.

    Parameters
    ----------
    node_or_graph : the expression to draw, or a Graph.
    inputs : new leaf values for this drawing (as for :func:`minigrad.evaluate`).
    output : whose gradients to show; default the node drawn, or the Graph's first output.
    gradients : False to show values only (and skip the backward pass); or a mapping
        node -> number, gradients to show instead of MiniGrad's, e.g. from a backward
        loop of your own (a node missing from it shows no grad).
    partials : True to write on each edge into an op its partial ``∂`` (d node / d
        operand) and ``←`` the node's grad times it, what the backward pass sends back
        along the edge (from :func:`~minigrad.backward_trace`).  Needs ``gradients``.
    numbers : True to show each node's number ``#i`` (its place in ``graph.order``, as
        in :func:`~minigrad.backward_trace` and :func:`~minigrad.show_code`).
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
        edge [fontname=Helvetica fontsize=10]
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
    if isinstance(gradients, Mapping):
        if partials:
            raise ValueError("partials=True shows MiniGrad's own backward pass; gradients "
                             "given as a mapping are drawn as they are, without partials")
        values, _ = values_and_gradients(graph, None, inputs)
        return dot_source(graph, values, given_gradients(graph, gradients), graph_attr,
                          numbers=numbers)
    if not partials:
        values, grads = values_and_gradients(graph, output if gradients else None, inputs)
        return dot_source(graph, values, grads, graph_attr, numbers=numbers)
    if not gradients:
        raise ValueError("partials=True shows the backward pass, which gradients=False skips")
    # Everything from the one recorded backward pass: the labels and boxes agree.
    trace = backward_trace(graph, output, inputs)
    return dot_source(graph, list(trace.values.values()), list(trace.gradients.values()),
                      graph_attr, steps=trace.steps, numbers=numbers)


def given_gradients(graph: Graph, gradients: Mapping[Node, float]) -> list[float | None]:
    """Gradients given as a mapping node -> number, per position in ``graph.order``
    (None where a node has none), checked: every key a node of the graph, every value a
    real number."""
    strangers = [key for key in gradients if not isinstance(key, Node) or key not in graph.index]
    if strangers:
        raise ValueError(f"gradients: {strangers[0]!r:.60} is not a node of the graph drawn")
    given: list[float | None] = []
    for node in graph.order:
        grad = gradients.get(node)
        if grad is not None and (isinstance(grad, bool) or not isinstance(grad, Real)):
            raise TypeError(f"gradients: the gradient of {node} must be a real number, got "
                            f"{type(grad).__name__}: {grad!r:.40}")
        given.append(None if grad is None else float(grad))
    return given


def dot_source(
    graph: Graph,
    values: list[float],
    grads: Sequence[float | None] | None,
    graph_attr: Mapping[str, str | int | float] | None = None,
    *,
    steps: Sequence[TraceStep] | None = None,
    numbers: bool = False,
    step: int | None = None,
    room: Room | None = None,
) -> str:
    """The DOT text from values and gradients already computed (per ``graph.order``);
    with the steps of a backward trace on the edges if given (``partials``), and node
    numbers if asked for; the pass as it stands after ``step`` of its ``steps`` if
    given, with ``room`` kept for what changes (see :func:`dot_lines`)."""
    if step is not None:
        legend = STEPS_LEGEND if step else BEFORE_STEPS_LEGEND
    else:
        legend = PARTIALS_LEGEND if steps is not None else {}
    lines = dot_lines(graph, values, grads, {**DEFAULT_GRAPH_ATTR, **legend, **(graph_attr or {})},
                      steps, numbers, step, room)
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


def operand_edges(graph: Graph) -> int:
    """Edges into ``graph``'s op ellipses: one per operand, node or literal."""
    return sum(len(node.args) for node in graph.order)


def layout_cost(graph: Graph, partials: bool = False) -> int:
    """dot's work to lay out ``graph``, in nodes: its boxes and ellipses, plus one for
    every :data:`HIDDEN_PER_NODE` columns that its edges cross.

    A sum of many terms has few nodes, but if one value is used in every term, its edges
    cross most of the drawing's columns (see :func:`crossed_columns`).

    With ``partials`` every edge has a label, which dot lays out as a node of its own,
    in a column of its own between the operand and the op: so add one per edge, and the
    columns double.  Measured as for :data:`DRAW_MAX_NODES`, a column crossed then costs
    dot about as much as a node (the 60-term sum ``a*b + a*b + ...`` draws some thirty
    times slower with labels): so add one per column crossed.

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
    >>> layout_cost(Graph(total), partials=True)  # 199 + 198 edges + 9,702
    10099
    """
    if partials:
        return drawn_nodes(graph) + operand_edges(graph) + crossed_columns(graph)
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


def check_size(graph: Graph, max_nodes: int | None = DRAW_MAX_NODES, *,
               partials: bool = False) -> None:
    """Raise :class:`GraphTooLargeError` if laying ``graph`` out (with ``partials`` on
    its edges or not) is more work for dot than ``max_nodes`` nodes (see
    :func:`layout_cost`); None: no limit."""
    if max_nodes is None:
        return
    cost = layout_cost(graph, partials)
    if cost <= max_nodes:
        return
    work = (
        f"{operand_edges(graph):,} edge labels, and one for every column that its edges cross"
        if partials else f"plus one for every {HIDDEN_PER_NODE} columns that its edges cross"
    )
    raise GraphTooLargeError(
        f"the graph is too big to draw quickly: for graphviz's dot it is as much work "
        f"as {cost:,} nodes ({drawn_nodes(graph):,} boxes and ellipses, {work}, "
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
    gradients: bool | Mapping[Node, float] = True,
    partials: bool = False,
    numbers: bool = False,
    step: int | None = None,
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
    limit).  Other parameters as for :func:`to_dot`: ``partials=True`` writes each
    edge's partial and what flows back along it, ``numbers=True`` numbers the nodes,
    ``gradients`` may be a mapping node -> number to draw gradients of your own (from
    a backward loop written by hand, say, to see where it goes wrong).

    ``step=k`` draws the backward pass part-way, as it stands after its first ``k``
    steps (the steps of :func:`~minigrad.backward_trace`; ``0``: only the output has its
    grad, 1): each grad is the sum so far
    (:meth:`~minigrad.trace.BackwardTrace.gradients_after`), an edge shows its ``∂`` and
    ``←`` once its step is taken, and step ``k`` itself, the one just taken, is orange:
    its edge, drawn thicker, and the grad it added to.  Draw ``k = 0, 1, ...,
    len(trace)`` one after another to watch the gradients fill in: every box and label
    keeps its place from one picture to the next.  That is because each part that
    changes (a grad, an edge's numbers) is given in every picture the room it needs at
    its largest, which dot measures at once (so ``step`` runs dot before the picture is
    shown); with the same sizes everywhere, dot lays every picture out the same way.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> x = Scalar(3.0, name="x")
    >>> drawing = draw_graph(x - x, partials=True, numbers=True)
    >>> "∂ -1<br/>← -1" in drawing.source  # the second use of x sends back -1
    True

    The backward pass of ``x * x`` step by step (in Jupyter, ``display`` each picture):
    x's grad is 0 before the first step, 3 after it (the first use of x sends back
    3), and 6 = 3 + 3 after the second, which is orange in the last picture.

    >>> y = x * x
    >>> pictures = [draw_graph(y, step=k) for k in range(3)]
    >>> [re.findall(">grad ([0-9][^<]*)</td>", picture.source)[0] for picture in pictures]
    ['0', '3', '6 = 3 + 3']
    >>> f'bgcolor="{CURRENT_FILL}">grad 6 = 3 + 3' in pictures[2].source
    True
    """
    graph, default_output = as_graph(node_or_graph)
    if step is None:
        check_size(graph, max_nodes, partials=partials)
        dot_text = to_dot(graph, inputs, output=output, gradients=gradients,
                          partials=partials, numbers=numbers, graph_attr=graph_attr)
    else:
        check_size(graph, max_nodes, partials=True)
        dot_text = step_source(graph, output or default_output, inputs, step,
                               gradients=gradients, numbers=numbers, graph_attr=graph_attr,
                               timeout=timeout)
    drawing = Drawing(dot_text)
    drawing.timeout = timeout
    return drawing


def step_source(
    graph: Graph, output: Node, inputs: Inputs | None, step: int, *,
    gradients: bool | Mapping[Node, float] = True, numbers: bool = False,
    graph_attr: Mapping[str, str | int | float] | None = None,
    timeout: float | None = DRAW_TIMEOUT,
) -> str:
    """The DOT text of ``draw_graph(..., step=step)``: the backward pass of ``output``
    after its first ``step`` steps, every changing part kept at its largest size."""
    if isinstance(gradients, Mapping):
        raise ValueError("step= shows MiniGrad's own backward pass step by step; gradients "
                         "given as a mapping are drawn whole, without step")
    if not gradients:
        raise ValueError("step= shows the backward pass, which gradients=False skips")
    trace = backward_trace(graph, output, inputs)
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step: expected an int, got {type(step).__name__}")
    if not 0 <= step <= len(trace):
        raise ValueError(f"step={step}: the backward pass of this graph has {len(trace)} "
                         f"steps, so step can be 0 (before the first) to {len(trace)}")
    try:
        room = measured_room(trace.steps, timeout)
    except DotNotFoundError:  # then nothing can draw it: showing it raises this again,
        room = Room()         # with the advice on installing graphviz
    return dot_source(graph, list(trace.values.values()),
                      list(trace.gradients_after(step).values()), graph_attr,
                      steps=trace.steps, numbers=numbers, step=step, room=room)

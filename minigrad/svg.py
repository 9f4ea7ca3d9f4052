"""A picture with nothing installed: :func:`to_svg` draws a small graph as SVG by itself.

graphviz's ``dot`` program lays graphs out beautifully, but it is a system package that
a fresh machine may lack.  So that ``minigrad ... --render graph.svg`` always gives you
a picture, this module draws one with the simplest layout that reads well for the
small expressions people draw: left to right in columns, a node's column being the
length of the longest path to it from a leaf (so every edge points right), rows in
topological order.  One box per node: its name or op, value and gradient; a
:class:`~minigrad.nodes.Constant` is a small grey box with its number, as literals
are in :mod:`minigrad.visualize`, which this follows: ``1st``/``2nd`` on the edges into
ops whose operand order matters, and, if asked for, node numbers ``#i`` and each edge's
backward step (``∂`` and ``←``), or the backward pass part-way, step by step.

It is a fallback, not a rival to graphviz; :func:`minigrad.draw_graph` uses graphviz.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from minigrad.graph import Graph
from minigrad.nodes import Constant, Node, Operation, Scalar, format_number
from minigrad.ops import OPS
from minigrad.trace import TraceStep
from minigrad.visualize import (
    BACKWARD_COLOR,
    CURRENT_COLOR,
    CURRENT_FILL,
    CURRENT_PENWIDTH,
    LEGEND_LINES,
    STEP_LEGEND_LINE,
    GraphTooLargeError,
    gradients_shown,
    printable,
    slot_of,
    step_lines,
)

__all__ = ["SVG_MAX_NODES", "to_svg"]

SVG_MAX_NODES = 300
CHAR_WIDTH, LINE_HEIGHT, PADDING, COLUMN_GAP, ROW_GAP = 7.2, 16, 8, 60, 18
LEAF_FILL, OP_FILL = "#eef4ff", "white"
NUMBER_FILL = "#ebebeb"  # graphviz's grey92, the colour of number boxes in to_dot


def box_lines(node: Node, value: float, grad: float | None,
              number: int | None = None) -> list[str]:
    """The text lines of a node's box: what it is, then value and gradient; a
    Constant's box holds just its number.  ``number``: ``#i`` starts the first line."""
    prefix = "" if number is None else f"#{number}  "
    if isinstance(node, Constant):  # a number, drawn like a literal
        return [prefix + format_number(value)]
    if isinstance(node, Scalar):
        # A name is shown as written; a newline in it starts a new line of the box.
        title = printable(node.name) if node.name is not None else "scalar"
    else:
        assert isinstance(node, Operation)
        rule = OPS[node.op]
        operands = ["·" if isinstance(a, Node) else format_number(a) for a in node.args]
        if rule.infix:
            title = f"{operands[0]} {rule.symbol} {operands[1]}"
        else:
            title = f"{rule.symbol}({operands[0]})"
    lines = [*(prefix + title).split("\n"), f"value {format_number(value)}"]
    if grad is not None:
        lines.append(f"grad {format_number(grad)}")
    return lines


def columns(graph: Graph) -> list[int]:
    """Each node's column: 0 for leaves, else 1 + the largest column of its operands."""
    column = [0] * len(graph)
    for i, node in enumerate(graph.order):
        operand_columns = [column[graph.index[a]] for a in node.args if isinstance(a, Node)]
        column[i] = 1 + max(operand_columns) if operand_columns else 0
    return column


def label_text(x: float, y: float, anchor: str, colour: str, text: str) -> str:
    """A small label over the lines: written twice, first as a thick white outline, so
    that a line crossing it does not hide it (``paint-order`` would do it in one, but
    not every SVG renderer knows it)."""
    attributes = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="10"'
    return (f'<text {attributes} fill="white" stroke="white" stroke-width="3">'
            f'{escape(text)}</text>\n<text {attributes} fill="{colour}">{escape(text)}</text>')


def edge_label(slot: str | None, step: TraceStep | None,
               colour: str = BACKWARD_COLOR) -> list[tuple[str, str]]:
    """The text lines on an edge into an op, with their colours: its slot where order
    matters, then with partials the step's ``∂`` and ``←`` (in ``colour``), as in
    :func:`minigrad.visualize.partial_label`."""
    lines = [] if slot is None else [(slot, "black")]
    if step is not None:
        lines += [(line, colour) for line in step_lines(step)]
    return lines


def edge_labels(graph: Graph, steps: Sequence[TraceStep] | None, step: int | None = None
                ) -> dict[tuple[int, int], list[tuple[str, str]]]:
    """The lines on each edge from a node operand, by (node's position, argnum).

    ``step``: the backward pass after the first ``step`` of ``steps``.  The edges of the
    later steps keep blank lines where their numbers will come, so that nothing moves
    when they do, and the step just taken is in :data:`CURRENT_COLOR`.  A slot is the
    line next to its edge (under the numbers of a 1st operand, whose labels go above
    the edge), so that it stands by its edge before the numbers come.
    """
    step_on_edge = {(step.position, step.argnum): step for step in steps or ()}
    current = steps[step - 1] if steps and step else None
    later = {(s.position, s.argnum) for s in (steps or ())[step:]} if step is not None else set()
    labels = {}
    for i, node in enumerate(graph.order):
        for k, operand in enumerate(node.args):
            if not isinstance(operand, Node):
                continue
            assert isinstance(node, Operation)
            slot, on_edge = slot_of(node, k), step_on_edge.get((i, k))
            if on_edge is not None and (i, k) in later:  # blank where its numbers come
                lines = (edge_label(slot, None)
                         + [("", BACKWARD_COLOR)] * len(step_lines(on_edge)))
            else:
                just_taken = current is not None and on_edge is current
                lines = edge_label(slot, on_edge,
                                   CURRENT_COLOR if just_taken else BACKWARD_COLOR)
            if step is not None and slot is not None and k == 0:
                lines = lines[1:] + lines[:1]  # the 1st's slot last: next to its edge
            labels[i, k] = lines
    return labels


class Layout:
    """Where each box goes: ``x``, ``y``, ``width``, ``height`` per node, and the size
    of the picture.  Columns ``gap`` apart, with ``room`` above and below each box for
    labels."""

    def __init__(self, graph: Graph, texts: list[list[str]], gap: float, room: float) -> None:
        column = columns(graph)
        self.width = [PADDING * 2 + CHAR_WIDTH * max(map(len, lines)) for lines in texts]
        self.height = [PADDING * 2 + LINE_HEIGHT * len(lines) for lines in texts]
        n_columns = max(column) + 1
        column_width = [max((w for w, c in zip(self.width, column, strict=True) if c == k),
                            default=0.0) for k in range(n_columns)]
        column_x = [PADDING + sum(column_width[:k]) + gap * k for k in range(n_columns)]
        next_y = [PADDING + room] * n_columns
        self.x, self.y = [0.0] * len(graph), [0.0] * len(graph)
        for i in range(len(graph)):
            k = column[i]
            self.x[i], self.y[i] = column_x[k], next_y[k]
            next_y[k] += self.height[i] + ROW_GAP + room
        self.total_width = column_x[-1] + column_width[-1] + PADDING
        self.total_height = max(next_y)


def to_svg(graph: Graph, values: list[float], grads: list[float] | None, *,
           steps: Sequence[TraceStep] | None = None, numbers: bool = False,
           step: int | None = None) -> str:
    """SVG text of the graph, values and gradients given per position in ``graph.order``.

    Operands that are nodes show as ``·`` in an op's title, with an arrow from the
    operand's box labelled ``1st`` or ``2nd`` where order matters; literals show as
    numbers.  ``steps`` (of a backward trace) put each edge's ``∂`` and ``←`` on it, in
    the middle, and a legend under the picture; ``numbers`` starts each box with the
    node's number ``#i``.

    ``step`` draws the backward pass part-way, as ``draw_graph(..., step=step)`` does:
    after the first ``step`` of ``steps`` (then every step of the pass), with ``grads``
    the gradients at that point (``trace.gradients_after(step)``); the step just taken
    is orange.  The boxes are sized for the widest grad they show in the whole pass and
    the columns for all of its labels, so each step's picture has the same layout.

    >>> from minigrad import Graph, Scalar, backward_trace
    >>> x = Scalar(3.0, name="x"); y = x * x
    >>> trace = backward_trace(Graph(y), y)
    >>> one, two = (to_svg(trace.graph, list(trace.values.values()),
    ...                    list(trace.gradients_after(k).values()), steps=trace.steps, step=k)
    ...             for k in (1, 2))
    >>> "grad 3" in one and "grad 6" in two  # x's grad, after one step and after two
    True
    """
    if len(graph) > SVG_MAX_NODES:
        raise GraphTooLargeError(
            f"the graph has {len(graph):,} nodes, and MiniGrad's own simple SVG drawing "
            f"is for small graphs (at most {SVG_MAX_NODES})",
            "Install graphviz for bigger drawings, or use to_dot() for the DOT text",
        )
    labels = edge_labels(graph, steps, step)
    texts = [box_lines(node, values[i], None if grads is None else grads[i],
                       i if numbers else None)
             for i, node in enumerate(graph.order)]
    sizes = texts  # the texts that set each box's size: with step, its largest ones
    if step is not None and steps:
        sizes = list(texts)
        for i, shown in gradients_shown(steps).items():
            widest = max(shown, key=lambda grad: len(format_number(grad)))
            sizes[i] = box_lines(graph.order[i], values[i], widest, i if numbers else None)
    if steps is None:
        layout = Layout(graph, sizes, COLUMN_GAP, room=0.0)
    else:  # columns wide enough for the labels, room above and below boxes for them
        all_labels = edge_labels(graph, steps)  # the lines every step will have shown
        widest = max((len(text) for lines in all_labels.values() for text, _ in lines),
                     default=0)
        layout = Layout(graph, sizes, max(COLUMN_GAP, CHAR_WIDTH * widest + 24),
                        room=LINE_HEIGHT * 2.5)
    legend = [(line, BACKWARD_COLOR) for line in LEGEND_LINES] if steps is not None else []
    if step is not None:
        legend.append((STEP_LEGEND_LINE, CURRENT_COLOR))
    width = max(layout.total_width, PADDING * 2 + CHAR_WIDTH * 0.85 * max(
        (len(line) for line, _ in legend), default=0))
    height = layout.total_height + LINE_HEIGHT * len(legend)
    current = steps[step - 1] if steps and step else None

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f"<defs>{arrowhead('arrow', 'black', 7)}{arrowhead('arrow-current', CURRENT_COLOR, 10)}"
        "</defs>",
    ]
    on_top = []  # labels, drawn last: over the lines and boxes
    for (i, k), lines in labels.items():
        just_taken = current is not None and (current.position, current.argnum) == (i, k)
        line, label_parts = edge_parts(graph, layout, i, k, lines, middle=steps is not None,
                                       current=just_taken)
        parts.append(line)
        on_top += label_parts
    for i, node in enumerate(graph.order):
        parts += box_parts(node, layout, i, texts[i], title_lines=len(texts[i]) - (
            1 if grads is None else 2),
            current=current is not None and current.operand_position == i)
    on_top += [label_text(PADDING, layout.total_height + LINE_HEIGHT * line_number, "start",
                          colour, line) for line_number, (line, colour) in enumerate(legend)]
    parts += on_top
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def arrowhead(name: str, colour: str, size: float) -> str:
    """An SVG marker: the arrowhead, in ``colour`` and ``size`` pixels long, of the
    edges that name it (in pixels, not in line widths: a thick line's would be huge)."""
    return (f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerUnits="userSpaceOnUse" markerWidth="{size:g}" markerHeight="{size:g}" '
            f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')


def edge_parts(graph: Graph, layout: Layout, i: int, k: int, lines: list[tuple[str, str]],
               middle: bool, current: bool = False) -> tuple[str, list[str]]:
    """The arrow from node ``i``'s operand ``k`` to it, and its labels: the slot by the
    arrowhead, or (``middle``) all lines in the middle of the edge.  A 2nd operand's
    labels go below its edge, the others' above: the two edges may run side by side
    (``x - x``).  The ``current`` step's arrow is orange and thicker; a blank line
    (where a later step's numbers will come) draws nothing."""
    j = graph.index[graph.order[i].args[k]]  # type: ignore[index]
    spread = 8 if len(graph.order[i].args) == 2 else 0  # two operands: two arrowheads
    x1, y1 = layout.x[j] + layout.width[j], layout.y[j] + layout.height[j] / 2
    x2, y2 = layout.x[i], layout.y[i] + layout.height[i] / 2 + (k - 0.5) * spread
    stroke = (f'stroke="{CURRENT_COLOR}" stroke-width="{CURRENT_PENWIDTH}" '
              'marker-end="url(#arrow-current)"' if current else
              'stroke="black" marker-end="url(#arrow)"')
    arrow = f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {stroke}/>'
    if not middle:  # the 1st's slot above its arrowhead, the 2nd's below
        return arrow, [label_text(x2 - 4, y2 + (11 if k == 1 else -3), "end", colour, text)
                       for text, colour in lines]
    step = LINE_HEIGHT * 0.8
    if k == 1:
        offsets = [2 + step * (n + 1) for n in range(len(lines))]
    else:
        offsets = [-4 - step * (len(lines) - 1 - n) for n in range(len(lines))]
    return arrow, [label_text((x1 + x2) / 2, (y1 + y2) / 2 + offset, "middle", colour, text)
                   for (text, colour), offset in zip(lines, offsets, strict=True) if text]


def box_parts(node: Node, layout: Layout, i: int, lines: list[str],
              title_lines: int, current: bool = False) -> list[str]:
    """Node ``i``'s box and its lines of text, the title lines in bold; its last line,
    the grad, on :data:`CURRENT_FILL` if the ``current`` step has just added to it."""
    fill = (LEAF_FILL if isinstance(node, Scalar) else
            NUMBER_FILL if isinstance(node, Constant) else OP_FILL)
    x, y = layout.x[i], layout.y[i]
    parts = [f'<rect x="{x:.1f}" y="{y:.1f}" width="{layout.width[i]:.1f}" '
             f'height="{layout.height[i]:.1f}" rx="4" fill="{fill}" stroke="black"/>']
    if current:  # behind the last line: from its top to the box's bottom edge
        top = y + PADDING + LINE_HEIGHT * (len(lines) - 1)
        parts.append(f'<rect x="{x + 1:.1f}" y="{top:.1f}" width="{layout.width[i] - 2:.1f}" '
                     f'height="{y + layout.height[i] - 1 - top:.1f}" fill="{CURRENT_FILL}"/>')
    for line_number, line in enumerate(lines):
        baseline = y + PADDING + LINE_HEIGHT * (line_number + 0.75)
        weight = ' font-weight="bold"' if line_number < title_lines else ""
        parts.append(f'<text x="{x + PADDING:.1f}" y="{baseline:.1f}"{weight}>'
                     f"{escape(line)}</text>")
    return parts

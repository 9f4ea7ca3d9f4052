"""A picture with nothing installed: :func:`to_svg` draws a small graph as SVG by itself.

graphviz's ``dot`` program lays graphs out beautifully, but it is a system package that
a fresh machine may lack.  So that ``minigrad ... --render graph.svg`` always gives you
a picture, this module draws one with the simplest layout that reads well for the
small expressions people draw: left to right in columns, a node's column being the
length of the longest path to it from a leaf (so every edge points right), rows in
topological order.  One box per node: its name or op, value and gradient; a
:class:`~minigrad.nodes.Constant` is a small grey box with its number, as literals
are in :mod:`minigrad.visualize`, which this follows: where operand order matters, the
op's box says ``1st`` and ``2nd`` down its left side and each operand's arrow ends at
its own; and, if asked for, node numbers ``#i`` and each edge's backward step (``∂`` and
``←``), or the backward pass part-way, step by step.

An edge that skips columns (``u`` into the ``+`` of ``u + sin(u)``, past ``sin(u)``)
would cross the boxes in between, and its label land on one; so it is routed round
them, along a horizontal lane clear of every box in the columns it passes (and of the
lanes already taken), the one nearest its straight path.

It is a fallback, not a rival to graphviz; :func:`minigrad.draw_graph` uses graphviz.
"""

from __future__ import annotations

import math
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
    grad_text,
    gradients_shown,
    printable,
    shares_of,
    slot_of,
    step_lines,
)

__all__ = ["SVG_MAX_NODES", "to_svg"]

SVG_MAX_NODES = 300
CHAR_WIDTH, LINE_HEIGHT, PADDING, COLUMN_GAP, ROW_GAP = 7.2, 16, 8, 60, 18
#: Room at the left of an op's box for ``1st`` and ``2nd`` (10-point text), where the
#: arrows of its operands end.
SLOT_GUTTER = 26.0
#: How far a routed edge, and its label, keep from boxes and from each other.
CLEARANCE = 6.0
#: How far a routed edge runs level out of its operand's column and into its op, and
#: again as it turns to or from its lane.
TURN = 10.0
#: The distance between the lines of an edge's label.
LABEL_STEP = LINE_HEIGHT * 0.8
LEAF_FILL, OP_FILL = "#eef4ff", "white"
NUMBER_FILL = "#ebebeb"  # graphviz's grey92, the colour of number boxes in to_dot


def box_lines(node: Node, value: float, grad: float | None,
              number: int | None = None, shares: Sequence[float] = ()) -> list[str]:
    """The text lines of a node's box: what it is, then value and gradient (with its
    ``shares``, as in :func:`minigrad.visualize.grad_text`); a Constant's box holds just
    its number.  ``number``: ``#i`` starts the first line."""
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
        lines.append(grad_text(grad, shares))
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


def edge_label(step: TraceStep | None,
               colour: str = BACKWARD_COLOR) -> list[tuple[str, str]]:
    """The text lines on an edge into an op, with their colours: with partials the
    step's ``∂`` and ``←`` (in ``colour``), as in :func:`minigrad.visualize.partial_label`.
    (An operand's slot, ``1st`` or ``2nd``, is written in the op's box.)"""
    return [] if step is None else [(line, colour) for line in step_lines(step)]


def edge_labels(graph: Graph, steps: Sequence[TraceStep] | None, step: int | None = None
                ) -> dict[tuple[int, int], list[tuple[str, str]]]:
    """The lines on each edge from a node operand, by (node's position, argnum).

    ``step``: the backward pass after the first ``step`` of ``steps``.  The edges of the
    later steps keep blank lines where their numbers will come, so that nothing moves
    when they do, and the step just taken is in :data:`CURRENT_COLOR`.
    """
    step_on_edge = {(step.position, step.argnum): step for step in steps or ()}
    current = steps[step - 1] if steps and step else None
    later = {(s.position, s.argnum) for s in (steps or ())[step:]} if step is not None else set()
    labels = {}
    for i, node in enumerate(graph.order):
        for k, operand in enumerate(node.args):
            if not isinstance(operand, Node):
                continue
            on_edge = step_on_edge.get((i, k))
            if on_edge is not None and (i, k) in later:  # blank where its numbers come
                labels[i, k] = [("", BACKWARD_COLOR)] * len(step_lines(on_edge))
            else:
                just_taken = current is not None and on_edge is current
                labels[i, k] = edge_label(on_edge,
                                          CURRENT_COLOR if just_taken else BACKWARD_COLOR)
    return labels


def slots_shown(node: Node) -> list[int]:
    """The operands (argnums) whose slot, ``1st`` or ``2nd``, ``node``'s box shows: those
    with an arrow (node operands, not literals) where operand order matters."""
    if not isinstance(node, Operation):
        return []
    return [k for k, operand in enumerate(node.args)
            if isinstance(operand, Node) and slot_of(node, k) is not None]


class Layout:
    """Where each box goes: ``x``, ``y``, ``width``, ``height`` per node, and the size
    of the picture.  Columns ``gap`` apart, with ``room`` above and below each box for
    labels; ``gutters`` widen a box on its left (for ``1st`` and ``2nd``).  Then
    :meth:`route` finds the path of each edge."""

    def __init__(self, graph: Graph, texts: list[list[str]], gap: float, room: float,
                 gutters: Sequence[float] | None = None) -> None:
        self.graph = graph
        self.column = column = columns(graph)
        gutters = gutters or [0.0] * len(graph)
        self.width = [PADDING * 2 + CHAR_WIDTH * max(map(len, lines)) + gutter
                      for lines, gutter in zip(texts, gutters, strict=True)]
        self.height = [PADDING * 2 + LINE_HEIGHT * len(lines) for lines in texts]
        n_columns = max(column) + 1
        self.column_width = [max((w for w, c in zip(self.width, column, strict=True) if c == k),
                                 default=0.0) for k in range(n_columns)]
        self.column_x = [PADDING + sum(self.column_width[:k]) + gap * k
                         for k in range(n_columns)]
        next_y = [PADDING + room] * n_columns
        self.x, self.y = [0.0] * len(graph), [0.0] * len(graph)
        for i in range(len(graph)):
            k = column[i]
            self.x[i], self.y[i] = self.column_x[k], next_y[k]
            next_y[k] += self.height[i] + ROW_GAP + room
        self.total_width = self.column_x[-1] + self.column_width[-1] + PADDING
        self.total_height = max(next_y)
        # What a routed edge must keep clear of, by column: the boxes, then its lanes.
        self.taken: list[list[tuple[float, float]]] = [[] for _ in range(n_columns)]
        for i in range(len(graph)):
            self.taken[column[i]].append((self.y[i], self.y[i] + self.height[i]))

    def end(self, i: int, k: int) -> tuple[float, float]:
        """Where the arrow of node ``i``'s operand ``k`` ends, on the left of its box: at
        its slot, where operand order matters (1st above 2nd, each with its own third of
        the box), else a little apart from the other operand's, so two arrowheads show."""
        node = self.graph.order[i]
        shown = slots_shown(node)
        if k in shown:
            place = (shown.index(k) + 1) / (len(shown) + 1)
        else:
            spread = 8 if len(node.args) == 2 else 0  # two operands: two arrowheads
            place = 0.5 + (k - 0.5) * spread / self.height[i]
        return self.x[i], self.y[i] + self.height[i] * place

    def route(self, i: int, k: int, above: float = 0.0, below: float = 0.0
              ) -> tuple[list[tuple[float, float]], tuple[float, float]]:
        """The path of the arrow from node ``i``'s operand ``k`` to it, and the middle of
        its straight part, where its label goes.  ``above`` and ``below``: the room its
        label needs on either side of that part.

        An arrow to the next column is straight.  One that skips columns leaves its box
        level, out of its column, turns to a horizontal lane, and leaves that lane just
        before the op, which it enters level: the lane at the height nearest its straight
        path where it and its label stay :data:`CLEARANCE` off every box, and every lane
        already taken, in the columns it passes.  (Below every box there is always
        room: the picture grows if a lane needs it.)
        """
        j = self.graph.index[self.graph.order[i].args[k]]  # type: ignore[index]
        start = (self.x[j] + self.width[j], self.y[j] + self.height[j] / 2)
        end = self.end(i, k)
        first, last = self.column[j] + 1, self.column[i] - 1  # the columns in between
        if first > last:
            return [start, end], ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        blocked = sorted(span for column in range(first, last + 1) for span in self.taken[column])
        lane = nearest_free((start[1] + end[1]) / 2, blocked, above + CLEARANCE,
                            below + CLEARANCE)
        for column in range(first, last + 1):
            self.taken[column].append((lane - above, lane + below))
        self.total_height = max(self.total_height, lane + below + CLEARANCE + PADDING)
        # Out of the source's column and into the op's level, and the turns to and from
        # the lane close to them, clear of the labels of other edges in mid-gap.
        out_x = self.column_x[first - 1] + self.column_width[first - 1] + TURN
        in_x = end[0] - TURN
        points = [start, (out_x, start[1]), (out_x + TURN, lane), (in_x - TURN, lane),
                  (in_x, end[1]), end]
        return points, ((out_x + in_x) / 2, lane)


def nearest_free(target: float, blocked: Sequence[tuple[float, float]], above: float,
                 below: float) -> float:
    """The height nearest ``target`` that is at least ``above`` below every span in
    ``blocked`` (sorted (top, bottom) pairs) that ends above it, and at least ``below``
    above every span that starts below it: a lane clear of them all.

    >>> nearest_free(50, [(40, 70)], 5, 5)  # above the span: 35, nearer than 75 below
    35
    >>> nearest_free(62, [(0, 20), (40, 60), (66, 90)], 5, 5)  # 60..66 is too narrow
    35
    >>> nearest_free(10, [(8, 40)], 5, 5)  # too little room above the first span
    45
    """
    best: float | None = None
    top = PADDING / 2  # the free stretch above the first span starts here
    for low, high in [*blocked, (math.inf, math.inf)]:
        if low - below >= top + above:  # a free stretch [top, low] wide enough
            candidate = min(max(target, top + above), low - below)
            if best is None or abs(candidate - target) < abs(best - target):
                best = candidate
        top = max(top, high)
    assert best is not None  # the stretch below the last span is unbounded
    return best


def to_svg(graph: Graph, values: list[float], grads: list[float] | None, *,
           steps: Sequence[TraceStep] | None = None, numbers: bool = False,
           step: int | None = None) -> str:
    """SVG text of the graph, values and gradients given per position in ``graph.order``.

    Operands that are nodes show as ``·`` in an op's title, with an arrow from the
    operand's box, which ends at ``1st`` or ``2nd`` on the op's box where order matters;
    literals show as numbers.  ``steps`` (of a backward trace) put each edge's ``∂`` and
    ``←`` on it, in the middle, and a legend under the picture; ``numbers`` starts each
    box with the node's number ``#i``.  An edge that skips a column goes round the boxes
    in between (see :meth:`Layout.route`).

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
    # Each grad with its shares: all of them, or those added so far (step).
    shares = {} if steps is None else shares_of(steps if step is None else steps[:step])
    texts = [box_lines(node, values[i], None if grads is None else grads[i],
                       i if numbers else None, shares.get(i, ()))
             for i, node in enumerate(graph.order)]
    sizes = texts  # the texts that set each box's size: with step, its largest ones
    if step is not None and steps:
        sizes = list(texts)
        every_share = shares_of(steps)
        for i, shown in gradients_shown(steps).items():  # the box's widest grad line
            widest = max(range(len(shown)), key=lambda j: len(
                grad_text(shown[j], every_share[i][:j])))
            sizes[i] = box_lines(graph.order[i], values[i], shown[widest],
                                 i if numbers else None, every_share[i][:widest])
    gutters = [SLOT_GUTTER if slots_shown(node) else 0.0 for node in graph.order]
    if steps is None:
        layout = Layout(graph, sizes, COLUMN_GAP, room=0.0, gutters=gutters)
    else:  # columns wide enough for the labels, room above and below boxes for them
        all_labels = edge_labels(graph, steps)  # the lines every step will have shown
        widest = max((len(text) for lines in all_labels.values() for text, _ in lines),
                     default=0)
        layout = Layout(graph, sizes, max(COLUMN_GAP, CHAR_WIDTH * widest + 24),
                        room=LINE_HEIGHT * 2.5, gutters=gutters)
    # Every path before the picture's size: a lane round boxes may make it taller.
    routes = {(i, k): layout.route(i, k, *label_room(k, len(lines)))
              for (i, k), lines in labels.items()}
    legend = [(line, BACKWARD_COLOR) for line in LEGEND_LINES] if steps is not None else []
    if step is not None:  # at step 0 nothing is orange yet: a blank line, the same height
        legend.append((STEP_LEGEND_LINE if step else "", CURRENT_COLOR))
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
        line, label_parts = edge_parts(graph, i, k, lines, *routes[i, k], current=just_taken)
        parts.append(line)
        on_top += label_parts
    for i, node in enumerate(graph.order):
        parts += box_parts(node, layout, i, texts[i], title_lines=len(texts[i]) - (
            1 if grads is None else 2),
            current=current is not None and current.operand_position == i)
    on_top += [label_text(PADDING, layout.total_height + LINE_HEIGHT * line_number, "start",
                          colour, line)
               for line_number, (line, colour) in enumerate(legend) if line]
    parts += on_top
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def arrowhead(name: str, colour: str, size: float) -> str:
    """An SVG marker: the arrowhead, in ``colour`` and ``size`` pixels long, of the
    edges that name it (in pixels, not in line widths: a thick line's would be huge)."""
    return (f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerUnits="userSpaceOnUse" markerWidth="{size:g}" markerHeight="{size:g}" '
            f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')


def label_room(k: int, lines: int) -> tuple[float, float]:
    """The room (above, below) that an edge's label of ``lines`` lines takes beside the
    edge: a 2nd operand's label goes below its edge, the others' above, so that two
    edges running side by side (``x - x``) keep their labels apart."""
    if not lines:
        return 0.0, 0.0
    if k == 1:
        return 0.0, 2 + LABEL_STEP * lines + 3  # down to the last line's descenders
    return 4 + LABEL_STEP * (lines - 1) + 9, 0.0  # up to the first line's capitals


def edge_parts(graph: Graph, i: int, k: int, lines: list[tuple[str, str]],
               points: list[tuple[float, float]], middle: tuple[float, float],
               current: bool = False) -> tuple[str, list[str]]:
    """The arrow from node ``i``'s operand ``k`` to it along ``points``, the operand's
    slot (``1st``, ``2nd``) where the arrow ends if order matters, and the label
    ``lines`` by the ``middle`` of its straight part (see :func:`label_room`).  The
    ``current`` step's arrow is orange and thicker; a blank line (where a later step's
    numbers will come) draws nothing."""
    stroke = (f'stroke="{CURRENT_COLOR}" stroke-width="{CURRENT_PENWIDTH}" '
              'marker-end="url(#arrow-current)"' if current else
              'stroke="black" marker-end="url(#arrow)"')
    if len(points) == 2:
        (x1, y1), (x2, y2) = points
        arrow = f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {stroke}/>'
    else:  # round the boxes in between
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        arrow = f'<polyline points="{path}" fill="none" {stroke}/>'
    x2, y2 = points[-1]
    node = graph.order[i]
    assert isinstance(node, Operation)
    slot = slot_of(node, k)
    labels = [] if slot is None else [label_text(x2 + 3, y2 + 3.5, "start", "black", slot)]
    if k == 1:
        offsets = [2 + LABEL_STEP * (n + 1) for n in range(len(lines))]
    else:
        offsets = [-4 - LABEL_STEP * (len(lines) - 1 - n) for n in range(len(lines))]
    labels += [label_text(middle[0], middle[1] + offset, "middle", colour, text)
               for (text, colour), offset in zip(lines, offsets, strict=True) if text]
    return arrow, labels


def box_parts(node: Node, layout: Layout, i: int, lines: list[str],
              title_lines: int, current: bool = False) -> list[str]:
    """Node ``i``'s box and its lines of text, the title lines in bold, right of the
    slots' room if it shows them; its last line, the grad, on :data:`CURRENT_FILL` if
    the ``current`` step has just added to it."""
    fill = (LEAF_FILL if isinstance(node, Scalar) else
            NUMBER_FILL if isinstance(node, Constant) else OP_FILL)
    x, y = layout.x[i], layout.y[i]
    parts = [f'<rect x="{x:.1f}" y="{y:.1f}" width="{layout.width[i]:.1f}" '
             f'height="{layout.height[i]:.1f}" rx="4" fill="{fill}" stroke="black"/>']
    if current:  # behind the last line: from its top to the box's bottom edge
        top = y + PADDING + LINE_HEIGHT * (len(lines) - 1)
        parts.append(f'<rect x="{x + 1:.1f}" y="{top:.1f}" width="{layout.width[i] - 2:.1f}" '
                     f'height="{y + layout.height[i] - 1 - top:.1f}" fill="{CURRENT_FILL}"/>')
    left = x + PADDING + (SLOT_GUTTER if slots_shown(node) else 0.0)
    for line_number, line in enumerate(lines):
        baseline = y + PADDING + LINE_HEIGHT * (line_number + 0.75)
        weight = ' font-weight="bold"' if line_number < title_lines else ""
        parts.append(f'<text x="{left:.1f}" y="{baseline:.1f}"{weight}>'
                     f"{escape(line)}</text>")
    return parts

"""A picture with nothing installed: :func:`to_svg` draws a small graph as SVG by itself.

graphviz's ``dot`` program lays graphs out beautifully, but it is a system package that
a fresh machine may lack.  So that ``minigrad ... --render graph.svg`` always gives you
a picture, this module draws one with the simplest layout that reads well for the
small expressions people draw: left to right in columns, a node's column being the
length of the longest path to it from a leaf (so every edge points right), rows in
topological order.  One box per node: its name or op, value and gradient.

It is a fallback, not a rival to graphviz; :func:`minigrad.draw_graph` uses graphviz.
"""

from __future__ import annotations

from html import escape

from minigrad.graph import Graph
from minigrad.nodes import Node, Operation, Scalar, format_number, kind_of
from minigrad.ops import OPS
from minigrad.visualize import ORDERED_OPS, GraphTooLargeError, printable

__all__ = ["SVG_MAX_NODES", "to_svg"]

SVG_MAX_NODES = 300
CHAR_WIDTH, LINE_HEIGHT, PADDING, COLUMN_GAP, ROW_GAP = 7.2, 16, 8, 60, 18


def box_lines(node: Node, value: float, grad: float | None) -> list[str]:
    """The text lines of a node's box: what it is, then value and gradient."""
    if isinstance(node, Scalar):
        # A name is shown as written; a newline in it starts a new line of the box.
        title = printable(node.name) if node.name is not None else "scalar"
    elif not isinstance(node, Operation):
        title = kind_of(node)  # a Constant
    else:
        rule = OPS[node.op]
        operands = ["·" if isinstance(a, Node) else format_number(a) for a in node.args]
        if rule.infix:
            title = f"{operands[0]} {rule.symbol} {operands[1]}"
        else:
            title = f"{rule.symbol}({operands[0]})"
    lines = [*title.split("\n"), f"value {format_number(value)}"]
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


def to_svg(graph: Graph, values: list[float], grads: list[float] | None) -> str:
    """SVG text of the graph, values and gradients given per position in ``graph.order``.

    Operands that are nodes show as ``·`` in an op's title, with an arrow from the
    operand's box labelled ``a`` or ``b`` where order matters; literals show as numbers.
    """
    if len(graph) > SVG_MAX_NODES:
        raise GraphTooLargeError(
            f"the graph has {len(graph):,} nodes, and MiniGrad's own simple SVG drawing "
            f"is for small graphs (at most {SVG_MAX_NODES})",
            "Install graphviz for bigger drawings, or use to_dot() for the DOT text",
        )
    column = columns(graph)
    texts = [box_lines(node, values[i], None if grads is None else grads[i])
             for i, node in enumerate(graph.order)]
    width = [PADDING * 2 + CHAR_WIDTH * max(map(len, lines)) for lines in texts]
    height = [PADDING * 2 + LINE_HEIGHT * len(lines) for lines in texts]
    n_columns = max(column) + 1
    column_width = [max((w for w, c in zip(width, column, strict=True) if c == k), default=0.0)
                    for k in range(n_columns)]
    column_x = [PADDING + sum(column_width[:k]) + COLUMN_GAP * k for k in range(n_columns)]
    next_y = [float(PADDING)] * n_columns
    x, y = [0.0] * len(graph), [0.0] * len(graph)
    for i in range(len(graph)):
        k = column[i]
        x[i], y[i] = column_x[k], next_y[k]
        next_y[k] += height[i] + ROW_GAP
    total_width = column_x[-1] + column_width[-1] + PADDING
    total_height = max(next_y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width:.0f}" '
        f'height="{total_height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ]
    for i, node in enumerate(graph.order):
        ordered = isinstance(node, Operation) and node.op in ORDERED_OPS
        for k, operand in enumerate(node.args):
            if not isinstance(operand, Node):
                continue
            j = graph.index[operand]
            x1, y1 = x[j] + width[j], y[j] + height[j] / 2
            x2, y2 = x[i], y[i] + height[i] / 2 + (k - 0.5) * 8 * ordered
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                         'stroke="black" marker-end="url(#arrow)"/>')
            if ordered:
                parts.append(f'<text x="{x2 - 12:.1f}" y="{y2 - 3:.1f}">{"ab"[k]}</text>')
    for i in range(len(graph)):
        fill = "#eef4ff" if isinstance(graph.order[i], Scalar) else "white"
        parts.append(f'<rect x="{x[i]:.1f}" y="{y[i]:.1f}" width="{width[i]:.1f}" '
                     f'height="{height[i]:.1f}" rx="4" fill="{fill}" stroke="black"/>')
        for line_number, line in enumerate(texts[i]):
            baseline = y[i] + PADDING + LINE_HEIGHT * (line_number + 0.75)
            is_title = line_number < len(texts[i]) - (1 if grads is None else 2)
            weight = ' font-weight="bold"' if is_title else ""
            parts.append(f'<text x="{x[i] + PADDING:.1f}" y="{baseline:.1f}"{weight}>'
                         f"{escape(line)}</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"

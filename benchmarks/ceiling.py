"""The pure-Python ceiling: a graph lowered to one straight-line function, locals only.

This is what the fastest pure-Python evaluation of a fixed graph looks like: one
statement per node for the values, one per operand for the gradients, every value in a
local variable, no lists, no checks, no zero-skipping.  MiniGrad's engine is measured
against it.  It is a benchmark yardstick, not part of the library: it has no error
checking and compiles one huge function.

The statements are the op table's own rules printed with :func:`minigrad.ops.rule_text`
(``b * a ** (b - 1.0)``) and run with the float namespace's functions by name
(``where``, ``exp``, ``step``, ...: :data:`minigrad.ops.FLOATS`).  ``pow`` prints as
``**``, which on floats differs from ``math.pow`` only in its errors (a complex number
instead of ValueError), and the ceiling checks nothing anyway.  Two liberties a code
generator would take: a partial that is the literal ``1.0`` (``+``, ``-``) passes the
gradient on without a multiplication, and ``-1.0`` negates it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from minigrad import Graph, Node, Operation, Scalar
from minigrad.ops import FLOATS, OPS, rule_text

#: The names the generated code calls: every op and primitive of the float namespace.
NAMESPACE: dict[str, object] = {name: function for name, function in vars(FLOATS).items()
                                if not name.startswith("_")}


def literal(value: float) -> str:
    """A float operand as source text that reads back exactly, as an atom."""
    if math.isfinite(value):
        text = repr(float(value))
        return f"({text})" if text.startswith("-") else text
    return f"float({str(value)!r})"  # float('inf'), float('-inf'), float('nan')


def ceiling_source(graph: Graph, output: Node, leaf_nodes: list[Scalar]) -> str:
    """``def f(leaf values): ... return output value, gradients of the leaves``, both in
    the order of ``leaf_nodes``."""
    leaves = [graph.index[leaf] for leaf in leaf_nodes]

    def operands(node: Operation) -> list[str]:
        return [f"v{graph.index[a]}" if isinstance(a, Node) else literal(a) for a in node.args]

    lines = ["def f(leaves):", f"    {', '.join(f'v{i}' for i in leaves)}, = leaves"]
    for i, node in enumerate(graph.order):
        if isinstance(node, Operation):
            lines.append(f"    v{i} = {rule_text(OPS[node.op].value_rule, *operands(node))}")
        elif isinstance(node, Node) and i not in leaves:  # a constant, or a leaf not asked for
            lines.append(f"    v{i} = {literal(node.value)}")  # type: ignore[attr-defined]
    out = graph.index[output]
    lines.append(f"    g{out} = 1.0")
    assigned = {out}
    for i in range(out, -1, -1):
        node = graph.order[i]
        if not isinstance(node, Operation) or i not in assigned:
            continue
        names = [*operands(node), f"v{i}"]
        for argnum, operand in enumerate(node.args):
            if isinstance(operand, Node):
                j = graph.index[operand]
                partial = rule_text(OPS[node.op].partial_rules[argnum], *names)
                term = (f"g{i}" if partial == "1.0" else f"-g{i}" if partial == "-1.0"
                        else f"g{i} * ({partial})")
                if j in assigned:
                    lines.append(f"    g{j} += {term}")
                else:
                    lines.append(f"    g{j} = {term}")
                    assigned.add(j)
    grads = ", ".join(f"g{i}" if i in assigned else "0.0" for i in leaves)
    lines.append(f"    return v{out}, ({grads},)")
    return "\n".join(lines) + "\n"


def compile_ceiling(
    graph: Graph, output: Node, leaf_nodes: list[Scalar]
) -> tuple[Callable[..., object], float]:
    """The compiled function and the seconds it took to generate and compile it."""
    start = time.perf_counter()
    namespace: dict[str, object] = dict(NAMESPACE)
    exec(compile(ceiling_source(graph, output, leaf_nodes), "<ceiling>", "exec"), namespace)
    function = namespace["f"]
    assert callable(function)
    return function, time.perf_counter() - start

"""The pure-Python ceiling: a graph lowered to one straight-line function, locals only.

This is what the fastest pure-Python evaluation of a fixed graph looks like: one
statement per node for the values, one per operand for the gradients, every value in a
local variable, no lists, no checks, no zero-skipping.  MiniGrad's compiled path is
measured against it.  It is a benchmark yardstick, not part of the library: it has no
error checking and compiles one huge function.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from minigrad import Graph, Node, Operation, Scalar
from minigrad.codegen import fill_in, literal
from minigrad.ops import OPERAND_NAMES, OPS, RULE_NAMESPACE


def ceiling_source(graph: Graph, output: Node, leaf_nodes: list[Scalar]) -> str:
    """``def f(leaf values): ... return output value, gradients of the leaves``, both in
    the order of ``leaf_nodes``."""
    leaves = [graph.index[leaf] for leaf in leaf_nodes]
    lines = ["def f(leaves):", f"    {', '.join(f'v{i}' for i in leaves)}, = leaves"]
    for i, node in enumerate(graph.order):
        if isinstance(node, Operation):
            places = {name: f"v{graph.index[a]}" if isinstance(a, Node) else literal(a)
                      for name, a in zip(OPERAND_NAMES, node.args, strict=False)}
            lines.append(f"    v{i} = {fill_in(OPS[node.op].value_rule, places)}")
    out = graph.index[output]
    lines.append(f"    g{out} = 1.0")
    assigned = {out}
    for i in range(out, -1, -1):
        node = graph.order[i]
        if not isinstance(node, Operation) or i not in assigned:
            continue
        places = {name: f"v{graph.index[a]}" if isinstance(a, Node) else literal(a)
                  for name, a in zip(OPERAND_NAMES, node.args, strict=False)}
        places["out"] = f"v{i}"
        for argnum, operand in enumerate(node.args):
            if isinstance(operand, Node):
                j = graph.index[operand]
                partial = fill_in(OPS[node.op].partial_rules[argnum], places)
                lines.append(f"    g{j} {'+=' if j in assigned else '='} g{i} * ({partial})")
                assigned.add(j)
    grads = ", ".join(f"g{i}" if i in assigned else "0.0" for i in leaves)
    lines.append(f"    return v{out}, ({grads},)")
    return "\n".join(lines) + "\n"


def compile_ceiling(
    graph: Graph, output: Node, leaf_nodes: list[Scalar]
) -> tuple[Callable[..., object], float]:
    """The compiled function and the seconds it took to generate and compile it."""
    start = time.perf_counter()
    namespace: dict[str, object] = dict(RULE_NAMESPACE)
    exec(compile(ceiling_source(graph, output, leaf_nodes), "<ceiling>", "exec"), namespace)
    function = namespace["f"]
    assert callable(function)
    return function, time.perf_counter() - start

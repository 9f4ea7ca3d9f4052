"""The reference interpreters: the forward and backward passes as the plainest loops.

These two functions are MiniGrad's definition of what a value and a gradient are.  The
engine (``engine.py``) runs the same op rules a depth of the graph at a time with numpy,
and is tested to agree with them; these stay as the reference, and whenever the engine
meets a value or gradient that is not finite, these run again to say where and why.

**Forward** (:func:`interpret_forward`): one loop over the graph's topological order
(operands before the nodes that use them), reading operand values from an environment
and writing each result into it -- the shape of JAX's reference interpreter,
``eval_jaxpr``.  The environment is a list indexed by the node's position
in ``graph.order`` (``graph.index``): the simplest and the fastest mapping.

**Backward** (:func:`interpret_backward`).  Reverse-mode differentiation is the chain
rule applied from the output back to the leaves.  Write ``g[n]`` for d output / d n,
the *gradient* of node ``n``.  Then ``g[output] = 1``, and for every operand ``a`` of a
node ``n``::

    g[a] += g[n] * d n / d a        # the partial comes from the op's row in ops.py

Why ``+=``: this is the multivariable chain rule.  d output / d a is a sum over every
path from ``a`` to the output, each path contributing the product of the partials along
it; a node used twice (``x - x``, ``x / x``, ``x * x``) has a path through each use, so
it receives one contribution per use: for ``x * x`` that is ``x`` (through the first
operand) plus ``x`` (through the second) = ``2x``, and for ``x - x`` it is 1 - 1 = 0.

Why *reverse* order: when we reach ``n`` walking the topological order backwards, every
node that uses ``n`` comes later in the order and has already added its share into
``g[n]``, so ``g[n]`` is complete before ``n`` passes it on.  (In any other order ``n``
could pass on a gradient that a later user has not finished adding to.)

**Infinite slopes.**  A zero gradient times a finite partial passes back nothing, but
zero times an *infinite* partial has no value: for ``s = sqrt(x); y = s * s`` at
x = 0, dy/ds = 2s = 0 and ds/dx = inf, so dy/dx is 0 * inf.  (PyTorch and JAX return
NaN there; skipping the zero would silently give 0.)  So no gradient is skipped for
being zero: every partial on a path to the output is computed, and an infinite or
undefined one raises :class:`EvaluationError` naming its node.  MiniGrad returns
d output / d node for *every* node, so this holds even when a later zero slope would
cancel the infinity for the leaves: for ``sqrt(relu(x))`` at x = -1 the gradient with
respect to ``relu(x)`` is infinite and MiniGrad raises, where PyTorch and JAX report 0
for ``x`` (their relu selects the incoming gradient instead of multiplying it).

Neither writes anything anywhere but into the fresh lists it returns.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from minigrad.errors import EvaluationError, gradient_error, value_error
from minigrad.graph import Graph
from minigrad.nodes import Constant, Node, Operation, Scalar, describe
from minigrad.ops import FLOATS, OPS, RULE_ERRORS

__all__ = [
    "Step",
    "all_finite",
    "check_gradients_finite",
    "first_nonfinite_error",
    "interpret_backward",
    "interpret_forward",
]


def interpret_forward(graph: Graph, overrides: dict[int, float]) -> list[float]:
    """The value of every node, in ``graph.order``: the plain reference interpreter.

    Raises :class:`EvaluationError` at the first node whose value is undefined or not
    a finite float.
    """
    index = graph.index
    values: list[float] = []
    for position, node in enumerate(graph.order):
        if isinstance(node, Scalar | Constant):  # a leaf (its input, if given) or a constant
            values.append(overrides.get(position, node.value))
            continue
        if not isinstance(node, Operation):
            raise TypeError(
                f"{type(node).__name__} is not a node MiniGrad can evaluate: a graph's nodes "
                "are Scalar leaves, Constants and Operations (or subclasses of them)"
            )
        # read: a node operand's value from the environment; a literal as it is.
        operands = [values[index[a]] if isinstance(a, Node) else a for a in node.args]
        rule = OPS[node.op]
        try:  # the op's value rule, run on floats (ops.FLOATS: Python's math)
            values.append(rule.value_rule(FLOATS, *operands))
        except RULE_ERRORS as cause:
            raise first_nonfinite_error(graph, values) or value_error(
                node, rule, tuple(operands), cause
            ) from None
    error = first_nonfinite_error(graph, values)
    if error is not None:
        raise error
    return values


def all_finite(numbers: list[float]) -> bool:
    """Are all the numbers finite?  Usually answered by one sum, in C.

    An inf or NaN anywhere makes the sum inf or NaN.  A finite sum therefore proves all
    are finite; a non-finite one may also come from finite numbers whose sum overflows,
    so only then is each number checked.  (``sum`` is about 5x cheaper than
    ``all(map(math.isfinite, ...))``, and this runs twice per call on the fast path.)
    """
    return math.isfinite(sum(numbers)) or all(map(math.isfinite, numbers))


def first_nonfinite_error(graph: Graph, values: list[float]) -> EvaluationError | None:
    """The error for the first node whose value is inf or NaN, or None if all are finite.

    Ops like ``*`` overflow to ``inf`` without raising; checking every value at the end
    costs one fast pass, and the *first* non-finite value in topological order is the
    one to blame: its operands were finite.
    """
    if all_finite(values):
        return None
    position = next(i for i, v in enumerate(values) if not math.isfinite(v))
    node = graph.order[position]
    assert isinstance(node, Operation)  # leaves and literals are checked finite on entry
    operands = tuple(values[graph.index[a]] if isinstance(a, Node) else a for a in node.args)
    return value_error(node, OPS[node.op], operands, None)


def interpret_backward(
    graph: Graph, values: list[float], output: int, steps: list[Step] | None = None
) -> list[float]:
    """d output / d node for every node, in ``graph.order``: the reference interpreter.

    ``values`` are the forward values (from :func:`interpret_forward`), ``output`` the
    position of the output node.  Only nodes on a path to the output pass gradients
    back; the others -- nodes after it in the order, other outputs' nodes, leaves that
    do not reach it -- keep gradient 0.0 and their partials are never computed.

    If ``steps`` is a list, each contribution is recorded in it as a :class:`Step`, in
    the order it is added (``minigrad.backward_trace`` shows them).
    """
    order, index = graph.order, graph.index
    grads = [0.0] * len(order)
    grads[output] = 1.0
    # reaches[i]: does node i lie on a path to the output?  Walking backwards from the
    # output, a node is marked by the first user of it that is marked itself.
    reaches = [False] * len(order)
    reaches[output] = True
    for position in range(output, -1, -1):
        node = order[position]
        if not reaches[position] or not isinstance(node, Operation):
            continue  # no path to the output, or a leaf: nothing to pass back
        gradient = grads[position]
        # No shortcut for gradient == 0.0: the partial is computed all the same, since
        # 0 * partial is only 0 when the partial is finite (see the module docstring).
        rule = OPS[node.op]
        operands = [values[index[a]] if isinstance(a, Node) else a for a in node.args]
        out = values[position]
        for argnum, operand in enumerate(node.args):
            if not isinstance(operand, Node):
                continue  # a literal: it has no gradient, so its partial is not needed
            try:
                partial = rule.partial_rules[argnum](FLOATS, *operands, out)
            except RULE_ERRORS as cause:
                raise gradient_error(node, rule, tuple(operands), argnum, cause) from None
            if not math.isfinite(partial):  # e.g. 1 / b for a tiny b: inf, no exception
                raise gradient_error(node, rule, tuple(operands), argnum, None)
            j = index[operand]
            reaches[j] = True
            grads[j] += gradient * partial
            if steps is not None:
                steps.append(Step(position, argnum, j, gradient, partial, grads[j]))
    check_gradients_finite(graph, grads)
    return grads


class Step(NamedTuple):
    """One contribution of the backward pass: ``g[operand] += gradient * partial``."""

    position: int  #: the node passing its gradient back (its place in ``graph.order``)
    argnum: int  #: which operand of it (0 or 1)
    operand: int  #: the operand's place in ``graph.order``
    gradient: float  #: the node's gradient, d output / d node, complete at this point
    partial: float  #: d node / d operand, from the op's rule in ops.py
    total: float  #: the operand's gradient after adding gradient * partial


def check_gradients_finite(graph: Graph, grads: list[float]) -> None:
    """Raise if a gradient overflowed to inf (products of large partials can).

    Gradients flow from the output backwards, so the culprit is the non-finite
    gradient *latest* in the order: the first one that went bad.
    """
    if all_finite(grads):
        return
    position = max(i for i, g in enumerate(grads) if not math.isfinite(g))
    node = graph.order[position]
    raise EvaluationError(
        f"the gradient with respect to node {describe(node)} is {grads[position]!r}: "
        "it overflows a float",
        node=node,
        op=node.op if isinstance(node, Operation) else None,
    )

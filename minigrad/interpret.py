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
from collections.abc import Callable, Container
from typing import Any, NamedTuple

from minigrad.errors import EvaluationError, gradient_error, value_error
from minigrad.graph import Graph
from minigrad.nodes import Constant, Node, Operation, Scalar, describe
from minigrad.ops import FLOATS, OPS, RULE_ERRORS

__all__ = [
    "Step",
    "all_finite",
    "backward_pass",
    "check_gradients_finite",
    "first_nonfinite_error",
    "forward_pass",
    "interpret_backward",
    "interpret_forward",
]


# ---------------------------------------------------------------------------------------
# The two loops, for any namespace: floats here, nodes in derivatives.py and rewrite.py.
# ---------------------------------------------------------------------------------------


def forward_pass(graph: Graph, m: Any, values: list[Any]) -> list[Any]:
    """The forward loop: every operation's value, in ``graph.order``, into ``values``.

    ``values`` comes with the leaves' values in place (anything at the operations'
    places); each operation's value is the namespace ``m``'s op of its name applied to
    its operands: ``m.mul(a, b)`` -- floats for ``ops.FLOATS``, a new node for a node
    namespace.  The shape of JAX's ``eval_jaxpr``: read, apply, write.
    """
    index = graph.index
    for position, node in enumerate(graph.order):
        if isinstance(node, Operation):
            # read: a node operand's value from the environment; a literal as it is.
            operands = [values[index[a]] if isinstance(a, Node) else a for a in node.args]
            # apply: m.relu is relu's value rule from ops.py's table, bound into m by
            # ops.namespace; a primitive op such as mul is m's own (mul's rule calls it)
            values[position] = getattr(m, node.op)(*operands)
        elif not isinstance(node, Scalar | Constant):
            raise TypeError(
                f"{type(node).__name__} is not a node MiniGrad can evaluate: a graph's nodes "
                "are Scalar leaves, Constants and Operations (or subclasses of them)"
            )
    return values


#: How a backward pass gets a partial: ``partial(node, argnum, operands, out)``.
Partial = Callable[[Operation, int, list[Any], Any], Any]


def backward_pass(
    graph: Graph, m: Any, values: list[Any], output: int, partial: Partial,
    zero: Any = 0.0, one: Any = 1.0, along: Container[Node] | None = None,
    steps: list[Step] | None = None,
) -> list[Any]:
    """The backward loop: d output / d node for every node, in ``graph.order``.

    ``g[output] = one``; then, walking the order backwards from the output, every node
    on a path to it passes ``g[node] * partial(...)`` to each operand: the chain rule,
    summed over every use.  Nodes that nothing is passed back to get ``zero``.

    This is the loop of ``notebooks/how_it_works.ipynb`` (its section 3)::

        g = {node: 0.0 for node in graph.order}
        g[d] = 1.0
        for node in reversed(graph.order):
            if isinstance(node, Scalar):
                continue
            operands = [values[x] if isinstance(x, Node) else x for x in node.args]
            for k, x in enumerate(node.args):
                if isinstance(x, Node):
                    g[x] += g[node] * OPS[node.op].partial(k, *operands, values[node])

    plus five guards, each marked [1]-[5] where it is in the code, and nothing else:

    [1] *Positions, not nodes*: ``g`` and ``values`` are lists indexed by a node's place
        in ``graph.order`` (faster than dicts), walked from the output's place down.
    [2] *Only nodes on a path to the output pass gradients back* (``reaches``): in a
        graph of several outputs the others' nodes would otherwise be asked for partials.
    [3] *Partials are checked*: ``partial`` computes one from the op's rule, and the
        float interpreter's (:func:`interpret_backward`) raises :class:`EvaluationError`
        naming the node where it is infinite or undefined; no zero gradient skips it.
    [4] *Any namespace*: ``m.add``, ``m.mul``, ``zero``, ``one`` are +, *, 0.0, 1.0 on
        floats and build nodes in ``derivatives.py``; ``along``, if given, are the only
        operands to pass to (a derivative graph skips what no leaf asked about reaches),
        and ``steps`` records each share (for :func:`~minigrad.backward_trace`).
    [5] *The first share as it is*: sums start from -0.0 (-0.0 + c is c, for c = -0.0
        too), and ``given``'s condition, like a literal, is passed nothing.

    The comments at each mark say why.
    """
    order, index = graph.order, graph.index
    # [5] -0.0 is the additive identity: -0.0 + c is c for every c, where 0.0 + -0.0 is
    # 0.0; so a gradient of -0.0 stays -0.0 (atan2 tells them apart), as in PyTorch and
    # JAX, and on nodes -0.0 + g builds nothing.
    grads = [-0.0] * len(order)
    grads[output] = one
    # [2] reaches[i]: does node i lie on a path to the output?  Walking backwards from the
    # output, a node is marked by the first user of it that is marked itself.  Without it,
    # another output's node would pass back its gradient 0 times a partial that may be
    # infinite, and raise about a node this output does not even use.
    reaches = [False] * len(order)
    reaches[output] = True
    # [1] reversed(graph.order), from the output: a node after it cannot lie on a path to it.
    for position in range(output, -1, -1):
        node = order[position]
        if not reaches[position] or not isinstance(node, Operation):
            continue  # [2] no path to the output, or a leaf: nothing to pass back
        gradient, out = grads[position], values[position]
        operands = [values[index[a]] if isinstance(a, Node) else a for a in node.args]
        rules = OPS[node.op].partial_rules
        for argnum, operand in enumerate(node.args):
            if not isinstance(operand, Node) or rules[argnum] is None or (
                    along is not None and operand not in along):
                continue  # a literal, [5] a condition, [4] what no one asked about: no gradient
            # [3] No shortcut for gradient == 0.0: the partial is computed all the same,
            # since 0 * partial is only 0 when the partial is finite (module docstring).
            # After the loop, interpret_backward checks every sum stayed finite (two
            # finite shares of 1e308 add up to inf).
            slope = partial(node, argnum, operands, out)  # the table's partial rule, checked
            j = index[operand]
            reaches[j] = True
            grads[j] = m.add(grads[j], m.mul(gradient, slope))  # g[x] += g[node] * partial
            if steps is not None:
                steps.append(Step(position, argnum, j, gradient, slope, grads[j]))
    return [g if reached else zero for g, reached in zip(grads, reaches, strict=True)]  # [5]


# ---------------------------------------------------------------------------------------
# The reference interpreter: the two loops on floats, with the checks that name a node.
# ---------------------------------------------------------------------------------------


def interpret_forward(graph: Graph, overrides: dict[int, float]) -> list[float]:
    """The value of every node, in ``graph.order``: the plain reference interpreter.

    Raises :class:`EvaluationError` at the first node whose value is undefined or not
    a finite float.
    """
    values: list[Any] = [
        overrides.get(position, node.value) if isinstance(node, Scalar | Constant) else None
        for position, node in enumerate(graph.order)
    ]
    try:
        forward_pass(graph, FLOATS, values)
    except RULE_ERRORS as cause:  # the first operation without a value is the culprit
        position = values.index(None)
        node = graph.order[position]
        assert isinstance(node, Operation)
        operands = tuple(values[graph.index[a]] if isinstance(a, Node) else a for a in node.args)
        raise first_nonfinite_error(graph, values[:position]) or value_error(
            node, OPS[node.op], operands, cause) from None
    error = first_nonfinite_error(graph, values)
    if error is not None:
        raise error
    return values


def _checked_partial(node: Operation, argnum: int, operands: list[Any], out: Any) -> float:
    """A partial on floats, or the error that names its node: one that raises in the
    rule (``log(0)``) or comes out infinite (``1 / b`` for a tiny ``b``)."""
    rule = OPS[node.op]
    partial_rule = rule.partial_rules[argnum]
    assert partial_rule is not None  # backward_pass passes nothing to a condition
    try:
        partial: float = partial_rule(FLOATS, *operands, out)
    except RULE_ERRORS as cause:
        raise gradient_error(node, rule, tuple(operands), argnum, cause) from None
    if not math.isfinite(partial):
        raise gradient_error(node, rule, tuple(operands), argnum, None)
    return partial


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
    grads: list[float] = backward_pass(graph, FLOATS, values, output, _checked_partial,
                                       steps=steps)
    check_gradients_finite(graph, grads)
    return grads


def all_finite(numbers: list[float]) -> bool:
    """Are all the numbers finite?  Usually answered by one sum, in C.

    An inf or NaN anywhere makes the sum inf or NaN.  A finite sum therefore proves all
    are finite; a non-finite one may also come from finite numbers whose sum overflows,
    so only then is each number checked.
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
    # The op whose backward step overflowed: a user of the node, its own gradient finite.
    user = next((u for u in graph.order[position + 1:] if isinstance(u, Operation)
                 and node in u.args and math.isfinite(grads[graph.index[u]])), None)
    via = "" if user is None else (
        f", passed back by {user.op} (gradient {grads[graph.index[user]]!r}) at node "
        f"{describe(user)}")
    raise EvaluationError(
        f"the gradient with respect to node {describe(node)} is {grads[position]!r}: "
        f"it overflows a float{via}",
        node=node,
        op=user.op if user is not None else node.op if isinstance(node, Operation) else None,
    )

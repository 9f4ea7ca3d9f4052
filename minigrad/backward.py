"""The backward pass: the gradient of one output with respect to every node.

Reverse-mode differentiation is the chain rule applied from the output back to the
leaves.  Write ``g[n]`` for d output / d n, the *gradient* (or cotangent) of node ``n``.
Then ``g[output] = 1``, and for every operand ``a`` of a node ``n``::

    g[a] += g[n] * d n / d a        # the partial comes from the op's row in ops.py

Walking the graph's topological order *backwards* guarantees that when we reach ``n``,
every node that uses ``n`` has already added its share into ``g[n]``, so ``g[n]`` is
complete.  The ``+=`` matters: a node used twice (``x - x``, ``x / x``, ``x * x``)
receives one contribution per use.  The old MiniGrad assigned instead of adding and got
``d(x - x)/dx = -2``.

:func:`backward` is pure: it returns a *fresh* mapping and writes nothing anywhere, so
calling it twice gives two equal, separate answers (micrograd and the old MiniGrad
accumulate into ``.grad`` and double the gradients on a second call).
"""

from __future__ import annotations

import math

from minigrad.errors import EvaluationError, gradient_error
from minigrad.evaluate import Inputs, NodeValues, interpret_forward, resolve_inputs
from minigrad.graph import Graph
from minigrad.nodes import Node, Operation, describe
from minigrad.ops import OPS, RULE_ERRORS

__all__ = ["backward", "interpret_backward", "value_and_grad"]


def output_position(graph: Graph, output: object) -> int:
    """Where ``output`` sits in ``graph.order``; a clear error if it is not there."""
    if not isinstance(graph, Graph):
        raise TypeError(f"backward needs a Graph, got {type(graph).__name__}; try Graph(node)")
    if not isinstance(output, Node):
        raise TypeError(f"the output must be a node, got {type(output).__name__}")
    position = graph.index.get(output)
    if position is None:
        raise ValueError(
            f"{output!r} is not a node of this graph; build the graph from it: Graph(output)"
        )
    return position


def interpret_backward(graph: Graph, values: list[float], output: int) -> list[float]:
    """d output / d node for every node, in ``graph.order``: the reference interpreter.

    ``values`` are the forward values (from :func:`interpret_forward`), ``output`` the
    position of the output node.  Nodes after the output in the order cannot influence
    it and keep gradient 0.0, as do leaves that do not reach it.
    """
    order, index = graph.order, graph.index
    grads = [0.0] * len(order)
    grads[output] = 1.0
    for position in range(output, -1, -1):
        gradient = grads[position]
        node = order[position]
        # A zero gradient has nothing to pass back.  Skipping it saves work (dead relu
        # units) and avoids 0 * inf where a partial is infinite in a branch that does
        # not matter.  Leaves have no operands to pass to.
        if gradient == 0.0 or not isinstance(node, Operation):
            continue
        rule = OPS[node.op]
        operands = [values[index[a]] if isinstance(a, Node) else a for a in node.args]
        out = values[position]
        for argnum, operand in enumerate(node.args):
            if not isinstance(operand, Node):
                continue  # a literal: it has no gradient, so its partial is not needed
            try:
                partial = rule.partials[argnum](*operands, out)
            except RULE_ERRORS as cause:
                raise gradient_error(node, rule, tuple(operands), argnum, cause) from None
            grads[index[operand]] += gradient * partial
    check_gradients_finite(graph, grads)
    return grads


def check_gradients_finite(graph: Graph, grads: list[float]) -> None:
    """Raise if a gradient overflowed to inf (products of large partials can).

    Gradients flow from the output backwards, so the culprit is the non-finite
    gradient *latest* in the order: the first one that went bad.
    """
    if all(map(math.isfinite, grads)):
        return
    position = max(i for i, g in enumerate(grads) if not math.isfinite(g))
    node = graph.order[position]
    raise EvaluationError(
        f"the gradient with respect to node {describe(node)} is {grads[position]!r}: "
        "it overflows a float",
        node=node,
        op=node.op if isinstance(node, Operation) else None,
    )


def value_and_grad(
    graph: Graph, output: Node, inputs: Inputs | None = None
) -> tuple[NodeValues, NodeValues]:
    """Values of every node and gradients of ``output``, from one forward pass.

    Use this in a training loop that needs the loss as well as its gradients.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> x = Scalar(3.0, name="x")
    >>> y = x * x
    >>> values, grads = value_and_grad(Graph(y), y)
    >>> values[y], grads[x]
    (9.0, 6.0)
    """
    position = output_position(graph, output)
    values = interpret_forward(graph, resolve_inputs(graph, inputs))
    grads = interpret_backward(graph, values, position)
    return NodeValues(graph, values), NodeValues(graph, grads)


def backward(graph: Graph, output: Node, inputs: Inputs | None = None) -> NodeValues:
    """The gradient of ``output`` with respect to every node of ``graph``.

    Returns a fresh read-only mapping node -> float.  Leaves that do not reach
    ``output`` get 0.0.  ``inputs`` gives leaves new values for this call only.

    Raises
    ------
    EvaluationError : a value or gradient is undefined or not finite.
    ValueError : ``output`` is not a node of ``graph``; bad ``inputs``.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")
    >>> d = a**3 / 5 + (b**2).relu()
    >>> graph = Graph(d)
    >>> grads = backward(graph, d)
    >>> round(grads[a], 12), grads[b]
    (1.35, -8.0)
    >>> round(backward(graph, d, inputs={a: 2.0})[a], 12)
    2.4
    """
    return value_and_grad(graph, output, inputs)[1]

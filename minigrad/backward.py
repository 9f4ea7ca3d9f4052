"""The backward pass: :func:`backward` gives the gradient of one output w.r.t. every node.

How the chain rule is applied is in ``interpret.py`` (the reference loop, with the
explanation) and ``codegen.py`` (the same, compiled); this module is the public entry
point.

:func:`backward` is pure: it returns a *fresh* mapping and writes nothing anywhere, so
calling it twice gives two equal, separate answers (micrograd and the old MiniGrad
accumulate into ``.grad`` and double the gradients on a second call).
"""

from __future__ import annotations

from minigrad.evaluate import (
    Inputs,
    NodeValues,
    Undefined,
    compute,
    float_run,
    resolve_inputs,
)
from minigrad.graph import Graph
from minigrad.nodes import Node

__all__ = ["backward", "output_position", "value_and_grad", "values_and_gradients"]


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


def value_and_grad(
    graph: Graph, output: Node, inputs: Inputs | None = None, undefined: Undefined = "raise"
) -> tuple[NodeValues, NodeValues]:
    """Values of every node and gradients of ``output``, from one forward pass.

    Use this in a training loop that needs the loss as well as its gradients.
    ``inputs`` and ``undefined`` are as for :func:`~minigrad.evaluate.evaluate`: with
    arrays among the inputs, ``values[node]`` is the node's value at every point and
    ``grads[node]`` d output / d node at every point, each a float64 array.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> x = Scalar(3.0, name="x")
    >>> y = x * x
    >>> values, grads = value_and_grad(Graph(y), y)
    >>> values[y], grads[x]
    (9.0, 6.0)
    """
    values, grads = compute(graph, inputs, output_position(graph, output), undefined)
    assert grads is not None
    return values, grads


def values_and_gradients(
    graph: Graph, output: Node | None, inputs: Inputs | None = None
) -> tuple[list[float], list[float] | None]:
    """Values of every node and, if ``output`` is given, its gradients, as plain lists
    in ``graph.order`` -- the form that drawings and exports use.  Checks ``output``
    and ``inputs`` before any work."""
    position = None if output is None else output_position(graph, output)
    return float_run(graph, resolve_inputs(graph, inputs), position, "raise")


def backward(
    graph: Graph, output: Node, inputs: Inputs | None = None, undefined: Undefined = "raise"
) -> NodeValues:
    """The gradient of ``output`` with respect to every node of ``graph``.

    Returns a fresh read-only mapping node -> float.  Leaves that do not reach
    ``output`` get 0.0.  ``inputs`` gives leaves new values for this call only (arrays
    too, as for :func:`~minigrad.evaluate.evaluate`); ``undefined`` is as there.

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
    return value_and_grad(graph, output, inputs, undefined)[1]

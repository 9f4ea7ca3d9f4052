"""The entry points: :func:`evaluate`, :func:`backward`, :func:`value_and_grad`.

Each checks its arguments at the boundary -- the graph, the output, ``inputs`` (see
``values.py``) -- and then runs the graph on the engine (``engine.py``): one engine for
floats and for arrays of points, fast from a graph's first call.  Dask arrays go block
by block through the same engine (``batch_dask.py``).

All three are pure: each call returns *fresh* mappings and changes nothing you can see (the
Graph keeps its schedule and work memory, which never change a result), so
calling twice gives two equal, separate answers (micrograd accumulates into ``.grad``
and doubles the gradients on a second call).

numpy is an optional extra: without it, a float call runs the reference interpreter
(``interpret.py``), the same numbers to the last bit or so (numpy's ``exp`` or ``tanh``
may differ from ``math``'s in the last bit), more slowly; arrays need numpy.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from minigrad.errors import EvaluationError
from minigrad.graph import Graph
from minigrad.interpret import interpret_backward, interpret_forward
from minigrad.nodes import Constant, Node, Scalar
from minigrad.values import (
    Inputs,
    NodeValues,
    Undefined,
    batch_size,
    check_undefined,
    has_arrays,
    is_dask,
    output_position,
    resolve_inputs,
)

__all__ = ["backward", "compute", "evaluate", "run", "show_code", "value_and_grad",
           "values_and_gradients"]


def evaluate(
    graph: Graph, inputs: Inputs | None = None, undefined: Undefined = "raise"
) -> NodeValues:
    """The value of every node of ``graph``, as a fresh mapping node -> float.

    Parameters
    ----------
    graph : the Graph to evaluate.
    inputs : optional new values for leaves, keyed by leaf node or leaf name.  The
        leaves themselves do not change.  A value may be a 1-D array (numpy, or
        dask): the graph is then evaluated at every point at once, and every value
        is an array (``engine.py``; needs numpy).
    undefined : ``"raise"`` (the default): an undefined or infinite value raises.
        ``"nan"``: it is NaN instead, at the points where it happens -- for plotting
        a function over a range that leaves its domain.

    Raises
    ------
    EvaluationError : a value is undefined or not finite (names the op and node).
    KeyError, ValueError, TypeError : ``inputs`` is wrong (see :func:`resolve_inputs`).

    Examples
    --------
    >>> from minigrad import Scalar
    >>> a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")
    >>> d = a**3 / 5 + (b**2).relu()
    >>> graph = Graph(d)
    >>> evaluate(graph)[d]
    16.675
    >>> evaluate(graph, inputs={"a": 2.0, "b": 3.0})[d]
    10.6
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"evaluate needs a Graph, got {type(graph).__name__}; try Graph(node)")
    return compute(graph, inputs, None, undefined)[0]


def compute(
    graph: Graph, inputs: Inputs | None, output: int | None, undefined: Undefined,
    arrays: bool = True,
) -> tuple[NodeValues, NodeValues | None]:
    """Every node's value and, if ``output`` (a position) is given, d output / d node,
    after checking ``inputs`` (numbers only unless ``arrays``) and ``undefined``."""
    check_undefined(undefined)
    return run(graph, resolve_inputs(graph, inputs, arrays=arrays), output, undefined)


def run(
    graph: Graph, overrides: dict[int, Any], output: int | None, undefined: Undefined,
    wrt: Sequence[int] | None = None,
) -> tuple[NodeValues, NodeValues | None]:
    """:func:`compute` for inputs checked already (``values.resolve_inputs``): the one
    place that sends a call to the engine, to dask, or (no numpy) to the reference
    interpreter.  A caller that runs one graph many times on the same data (a fit)
    checks the data once and comes here; ``wrt``, the positions of the leaves whose
    gradients it reads, lets the engine keep only those over many points."""
    if any(is_dask(value) for value in overrides.values()):
        from minigrad.batch_dask import run_dask

        return run_dask(graph, overrides, output, undefined)
    engine = _engine()
    if engine is None:
        if has_arrays(overrides):  # resolve_inputs has checked numpy is there
            raise AssertionError("arrays without numpy")  # pragma: no cover
        values, grads = reference_run(graph, overrides, output, undefined)
        return NodeValues(graph, values), None if grads is None else NodeValues(graph, grads)
    result: tuple[NodeValues, NodeValues | None] = engine.run(graph, overrides, output,
                                                              undefined, wrt=wrt)
    return result


def _engine() -> ModuleType | None:
    """The engine module, or None if numpy (which it runs on) is not installed."""
    try:
        return importlib.import_module("minigrad.engine")
    except ModuleNotFoundError as error:
        if error.name != "numpy":
            raise
        return None


def reference_run(
    graph: Graph, overrides: dict[int, Any], output: int | None, undefined: Undefined
) -> tuple[list[float], list[float] | None]:
    """The reference interpreter's values and, if ``output`` is given, gradients.

    With ``undefined="nan"`` a failure makes every value and gradient NaN (a leaf's
    value stays its input): the one point there is, is undefined.
    """
    try:
        values = interpret_forward(graph, overrides)
        return values, None if output is None else interpret_backward(graph, values, output)
    except EvaluationError:
        if undefined == "raise":
            raise
    values = [
        overrides.get(i, node.value) if isinstance(node, Scalar | Constant) else math.nan
        for i, node in enumerate(graph.order)
    ]
    return values, None if output is None else [math.nan] * len(values)


def value_and_grad(
    graph: Graph, output: Node, inputs: Inputs | None = None, undefined: Undefined = "raise"
) -> tuple[NodeValues, NodeValues]:
    """Values of every node and gradients of ``output``, from one forward pass.

    Use this in a training loop that needs the loss as well as its gradients.
    ``inputs`` and ``undefined`` are as for :func:`evaluate`: with
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
    position = output_position(graph, output, "value_and_grad")
    values, grads = compute(graph, inputs, position, undefined)
    assert grads is not None
    return values, grads


def values_and_gradients(
    graph: Graph, output: Node | None, inputs: Inputs | None = None
) -> tuple[list[float], list[float] | None]:
    """Values of every node and, if ``output`` is given, its gradients, as plain lists
    in ``graph.order`` -- the form that drawings and exports use.  Floats only."""
    position = None if output is None else output_position(graph, output)
    # numbers only: a drawing shows one point
    values, grads = compute(graph, inputs, position, "raise", arrays=False)
    return values.as_list(), None if grads is None else grads.as_list()


def backward(
    graph: Graph, output: Node, inputs: Inputs | None = None, undefined: Undefined = "raise"
) -> NodeValues:
    """The gradient of ``output`` with respect to every node of ``graph``.

    Returns a fresh read-only mapping node -> float.  Leaves that do not reach
    ``output`` get 0.0.  ``inputs`` gives leaves new values for this call only (arrays
    too, as for :func:`evaluate`); ``undefined`` is as there.

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
    return compute(graph, inputs, output_position(graph, output), undefined)[1]  # type: ignore[return-value]


def show_code(graph: Graph, output: Node | None = None, inputs: Inputs | None = None) -> str:
    """What the engine runs for ``graph``: its steps, one line each, as text.

    Each step is the nodes of one op at one depth, run by one numpy call of the op's
    value rule (shown with its operands ``u``, ``v``), or a stretch of narrow depths run
    node by node in Python (each node listed by number, ``#6 = #2 + #5``).  With
    ``output``, the backward steps follow, with each partial rule (in a stretch, one
    line per share: ``g[#3] += g[#4] * (2.0 * #3 ** (2.0 - 1.0))``).  ``inputs`` with
    arrays show the schedule for many points (narrow stretches are shorter there: a
    numpy call is worth it for fewer nodes).

    Examples
    --------
    >>> from minigrad import Scalar
    >>> xs = [Scalar(float(i), name=f"x{i}") for i in range(16)]
    >>> loss = sum((x * x).tanh() for x in xs)
    >>> print(show_code(Graph(loss), loss))  # doctest: +ELLIPSIS
    64 nodes, depth 18, 3 steps (1 literal rows)
    forward, in this order:
      depth   1  mul      x16     out = u * v
      depth   2  tanh     x16     out = tanh(u)
      depths 3-18: 16 narrow nodes, one at a time in Python
        #3 ... #63 = the running sums of 0.0 + #2 + #6 + ... (16 terms, added in order)
    backward from node #63, in reverse; each operand gets g[operand] += g[out] * partial:
      depths 18-3: 16 narrow nodes, one at a time in Python, from the last
        g[each add and term of #3 ... #63] += g[#63]   (each partial of + is 1)
      depth   2  tanh     x16     d/du = 4.0 * sigmoid(2.0 * minimum(abs(u), 400.0)) * ...
      depth   1  mul      x16     d/du = v, d/dv = u
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"show_code needs a Graph, got {type(graph).__name__}; try Graph(node)")
    position = None if output is None else output_position(graph, output, "show_code")
    overrides = resolve_inputs(graph, inputs, arrays=True)
    points = batch_size(graph, overrides) if has_arrays(overrides) else 1
    from minigrad import engine  # needs numpy

    return engine.show_schedule(graph, engine.schedule_of(graph, points), position)

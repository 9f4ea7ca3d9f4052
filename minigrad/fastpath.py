"""When MiniGrad interprets a graph and when it compiles it: the policy, in one place.

Both ways compute the same numbers (``interpret.py`` is the reference, ``codegen.py``
generates straight-line code from the same rules, and the tests demand the same bits).
They differ in cost.  Generating and compiling a graph's code costs about as much as
15 to 20 interpreted calls (measured in benchmarks/run.py); the compiled code then runs
9 to 12 times faster.  So:

* A graph's first :data:`INTERPRETED_CALLS` calls are interpreted: a graph evaluated a
  few times -- a one-off million-node chain, a short sweep -- never pays for compiling.
  From then on the compiled code runs (training loops, long sweeps).  Forward passes
  and each output's backward passes are counted separately.
* Each output of a Graph needs its own backward code.  At most
  :data:`COMPILED_OUTPUTS` outputs of one graph get it; the rest stay interpreted, so
  a graph with hundreds of outputs never holds hundreds of copies of its code.
* When compiled code meets an error (``log(-1)``, a value or gradient that is not
  finite) it does not try to explain: the interpreter runs the same call again and
  raises the :class:`~minigrad.errors.EvaluationError` that names the node.  Errors
  are rare; a slower fast path is not worth a second copy of the messages.
* Batches (``batch.py``) follow the same rules with their own counters and their own
  budget of :data:`COMPILED_OUTPUTS` passes, so they never use up the float path's --
  except that a batch of more than ``batch.POINTS_PER_PIECE`` points is compiled at its
  first call: compiling costs the same however many points there are, and the
  interpreter would keep every node's arrays for all of them.

What is kept lives in the graph's private ``_cache`` (counters and compiled passes);
it never changes a result, and a pickled or copied Graph starts with it empty.
"""

from __future__ import annotations

from collections.abc import Callable

from minigrad.codegen import CompiledPass, compile_backward, compile_forward
from minigrad.graph import Graph
from minigrad.interpret import (
    all_finite,
    first_nonfinite_error,
    interpret_backward,
    interpret_forward,
)
from minigrad.nodes import Constant, Scalar
from minigrad.ops import RULE_ERRORS

__all__ = [
    "COMPILED_OUTPUTS",
    "INTERPRETED_CALLS",
    "backward_gradients",
    "compiled_pass",
    "forward_values",
    "leaf_values",
]

#: Calls of a graph that are interpreted before its code is generated.
INTERPRETED_CALLS = 10
#: Outputs of one graph whose backward pass is compiled; others stay interpreted.
COMPILED_OUTPUTS = 8


def _count_call(graph: Graph, key: str) -> int:
    """How many calls of this kind the graph had before this one (and count this one)."""
    calls = graph._cache.get(key, 0)
    assert isinstance(calls, int)
    graph._cache[key] = calls + 1
    return calls


def leaf_values(graph: Graph) -> list[float]:
    """The values list as it starts: leaf values in place, 0.0 for every operation."""
    initial = graph._cache.get("initial")
    if initial is None:
        initial = graph._cache["initial"] = [
            node.value if isinstance(node, Scalar | Constant) else 0.0 for node in graph.order
        ]
    assert isinstance(initial, list)
    return initial


def compiled_pass(
    graph: Graph, key: str, make: Callable[[], CompiledPass],
    budget: str | None = None, interpreted_calls: int | None = None,
) -> CompiledPass | None:
    """The compiled pass kept under ``key`` (made by ``make()`` once the graph has had
    ``interpreted_calls`` calls of that kind, :data:`INTERPRETED_CALLS` unless given),
    or None while it is interpreted.

    A pass with a ``budget`` -- a backward pass, one per output, is counted under
    "compiled outputs" -- is made only while fewer than :data:`COMPILED_OUTPUTS` passes
    of that budget exist.  The batched path (``batch.py``) keeps its passes here too,
    under its own keys and budget, so batches never use up the float path's.
    """
    if interpreted_calls is None:
        interpreted_calls = INTERPRETED_CALLS
    if _count_call(graph, f"{key} calls") < interpreted_calls:
        return None
    compiled = graph._cache.get(key)
    if compiled is None:
        made = graph._cache.get(budget, 0) if budget else 0
        assert isinstance(made, int)
        if made >= COMPILED_OUTPUTS:
            return None  # enough passes hold code already: this one stays interpreted
        compiled = graph._cache[key] = make()
        if budget:
            graph._cache[budget] = made + 1
    assert isinstance(compiled, CompiledPass)
    return compiled


def forward_values(graph: Graph, overrides: dict[int, float]) -> list[float]:
    """The value of every node: interpreted for a graph's first calls, then compiled."""
    forward = compiled_pass(graph, "forward", lambda: compile_forward(graph))
    if forward is None:
        return interpret_forward(graph, overrides)
    values = leaf_values(graph).copy()
    for position, value in overrides.items():
        values[position] = value
    try:
        forward(values)
    except RULE_ERRORS:
        return interpret_forward(graph, overrides)  # raises the error that names the node
    error = first_nonfinite_error(graph, values)  # one cheap sum when all are finite
    if error is not None:
        raise error
    return values


def backward_gradients(graph: Graph, values: list[float], output: int) -> list[float]:
    """d output / d node for every node: interpreted for the first calls, then compiled."""
    backward = compiled_pass(
        graph, f"backward {output}", lambda: compile_backward(graph, output),
        budget="compiled outputs",
    )
    if backward is None:
        return interpret_backward(graph, values, output)
    grads = [0.0] * len(graph.order)
    grads[output] = 1.0
    try:
        backward(values, grads)
    except RULE_ERRORS:
        return interpret_backward(graph, values, output)  # raises the error naming the node
    if not all_finite(grads):  # an infinite partial, or an overflow: let the reference say
        return interpret_backward(graph, values, output)
    return grads

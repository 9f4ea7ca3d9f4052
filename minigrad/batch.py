"""Arrays in, arrays out: one graph over many points at once, with numpy.

Give some leaves 1-D numpy arrays of one length n in ``inputs`` and :func:`evaluate`,
:func:`backward` and :func:`value_and_grad` compute every node *once for all n points*:
each node's value is an array, each statement one numpy call over the whole batch,
instead of n passes of Python over the graph.  ``value_and_grad(graph, f, inputs={x:
xs})`` gives ``values[f]``, f at every point, and ``grads[x]``, df/dx at every point::

    x_0, x_1, ..., x_n-1   --one pass, arrays-->   f(x_0), ..., f(x_n-1)

**One rule table, another interpreter.**  The calculus is the rows of ``ops.py``; this
module is one more interpreter of them (the float interpreters are ``interpret.py``
and ``codegen.py``).  A rule's text already reads as numpy code but for two things:

* a branch, ``a if a > 0.0 else 0.0`` (relu), asks *one* float a question; for arrays
  it becomes ``where(a > 0.0, a, 0.0)`` -- numpy.where picks per point;
* a call ``log(a)`` must mean numpy's log, not math's.

:func:`vector_rule` makes exactly these two changes to a rule's text, mechanically,
naming numpy's functions ``vec_log``, ``vec_where``, ...: no op's calculus is written
twice.  (The few primitives numpy lacks or writes differently -- a sigmoid that never
overflows, erf -- are in :data:`NUMPY_PRIMITIVES`, next to their float twins' names.)

numpy's ``exp`` or ``tanh`` may differ from ``math``'s in the last bit, so a batch
agrees with the float path to the last bit or so per op, not bit for bit (the float
interpreters and their compiled code, by contrast, agree exactly).  And ``where``
computes both branches at every point: a branch must be harmless where it is not
taken, or the compiled code's check (below) fires and the slower reference loop runs.

**What is batched.**  A node is *batched* if it depends on a batched leaf.  The others
(parameters, constants, anything computed from them alone) are the same at every point:
they are computed once, as floats, by the float rules, exactly as without arrays.
So ``x * w`` with ``x`` batched costs one numpy multiply by the float ``w``.  Gradients
flow back the same way: ``g[a] += g[n] * partial``, where either may be an array.

**Errors, never NaN.**  numpy does not raise for ``log(-1)``: it warns and returns NaN.
MiniGrad turns numpy's warnings off and checks instead.  The reference loop here
(:func:`interpret_forward`, :func:`interpret_backward`) checks each batched node's
array; the first point that is not finite raises :class:`EvaluationError` with the
message the float path would give at that point, plus the point's index and the
batched inputs there.  The compiled code (``codegen.py``, with the numpy forms of the
rules) skips those checks and instead runs under ``numpy.errstate(... "raise")``: the
processor's floating-point flags already record every invalid operation, overflow and
division by zero, so the check costs nothing until something fails -- then the
reference loop runs again and reports.  (Two things set no flag: float arithmetic that
overflows, and inf times a finite array; the compiled path checks the floats, and the
gradients where any inf would end up: :func:`_check_what_sets_no_flag`.)  Opt-in:
``undefined="nan"`` marks the failing points NaN in every result instead (for plotting
a function over a range that leaves its domain).

**Many points, in pieces.**  Beyond :data:`POINTS_PER_PIECE` points a call is compiled
at once and runs on one cache-sized piece of the points at a time, keeping only the
outputs' values and the leaves' gradients; any other entry is computed when first
asked for (:func:`_compiled`).

numpy is an optional dependency (``pip install "minigrad[numpy]"``): this module is
imported only when an input is an array.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import numpy as np

from minigrad.codegen import CompiledPass, backward_chunks, forward_chunks
from minigrad.errors import EvaluationError, gradient_error, value_error
from minigrad.evaluate import NodeValues
from minigrad.fastpath import compiled_pass, leaf_values
from minigrad.graph import Graph
from minigrad.interpret import all_finite
from minigrad.nodes import Constant, Node, Operation, Scalar, as_finite_float, describe
from minigrad.ops import (
    FLOAT_PRIMITIVES,
    OPERAND_NAMES,
    OPS,
    RULE_ERRORS,
    RULE_NAMESPACE,
    Op,
    rule_function,
)

__all__ = [
    "NUMPY_PRIMITIVES",
    "POINTS_PER_PIECE",
    "BatchPlan",
    "BatchValues",
    "as_batch",
    "batch_size",
    "check_shape_and_dtype",
    "interpret_backward",
    "interpret_forward",
    "make_plan",
    "run",
    "vector_rule",
]

#: The numpy form of a rule's function ``f`` is called ``vec_f`` in generated code.
PREFIX = "vec_"

#: A node's value or gradient in a batch: a float if it is the same at every point,
#: else a float64 array of shape (n,).
Value = Any


# ---------------------------------------------------------------------------------------
# The rules over arrays: the table's texts, rewritten; a few primitives in numpy.
# ---------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> Any:
    # The float path's _sigmoid, for every point: e = exp(-|x|) never overflows, and
    # 1/(1 + e) for x >= 0, e/(1 + e) for x < 0 are its two branches.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0, e) / (1.0 + e)


def _softplus(x: np.ndarray) -> Any:
    # log1p(e^-|x|) + max(x, 0), as on the float path: no overflow, tiny values exact.
    return np.log1p(np.exp(-np.abs(x))) + np.where(x > 0.0, x, 0.0)


def _pointwise(function: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
    # numpy has no erf (scipy has): run math's on each point, about 60 ns a point.
    def at_every_point(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.fromiter(map(function, x.ravel().tolist()), np.float64, x.size).reshape(
            x.shape
        )

    return at_every_point


#: The numpy twin of each of ``ops.FLOAT_PRIMITIVES``, by the same (math's) name.
NUMPY_PRIMITIVES: dict[str, Callable[..., Any]] = {
    "pow": np.power, "abs": np.abs, "tanh": np.tanh, "exp": np.exp, "log": np.log,
    "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "sigmoid": _sigmoid, "sign": np.sign,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "atan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "expm1": np.expm1, "log1p": np.log1p,
    "log2": np.log2, "log10": np.log10, "cbrt": np.cbrt, "hypot": np.hypot,
    "erf": _pointwise(math.erf), "erfc": _pointwise(math.erfc), "floor": np.floor,
    "ceil": np.ceil, "softplus": _softplus,
    "where": np.where,  # the branch: where(test, then, else), per point
}


class _Vectorize(ast.NodeTransformer):
    """``x if test else y`` -> ``vec_where(test, x, y)``; ``f(...)`` -> ``vec_f(...)``."""

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        self.generic_visit(node)
        where = ast.Name(PREFIX + "where", ast.Load())
        return ast.Call(where, [node.test, node.body, node.orelse], [])

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        assert isinstance(node.func, ast.Name), "rules call ops by name"
        node.func = ast.Name(PREFIX + node.func.id, ast.Load())
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.BoolOp):  # `and`/`or` ask one float; no numpy form
            raise ValueError(f"a rule may not use {ast.unparse(node)!r}; write a branch")
        return super().generic_visit(node)


def vector_rule(rule: str) -> str:
    """The numpy form of a rule's text: branches become ``vec_where``, calls ``vec_``.

    >>> vector_rule("a if a > 0.0 else 0.0")
    'vec_where(a > 0.0, a, 0.0)'
    >>> vector_rule("b * pow(a, b - 1.0)")
    'b * vec_pow(a, b - 1.0)'
    """
    tree = _Vectorize().visit(ast.parse(rule, mode="eval"))
    return ast.unparse(ast.fix_missing_locations(tree))


def _vector_namespace() -> dict[str, object]:
    """The names generated batch code runs with: the float rules' (for the nodes that
    are the same at every point) and each op's numpy form as ``vec_NAME``."""
    missing = sorted(FLOAT_PRIMITIVES.keys() - NUMPY_PRIMITIVES.keys())
    if missing:  # a new primitive in ops.py needs its numpy twin above
        raise ImportError(f"batch.py: no numpy form for {', '.join(missing)}")
    namespace = dict(RULE_NAMESPACE)
    namespace.update({PREFIX + name: f for name, f in NUMPY_PRIMITIVES.items()})
    for op in OPS.values():  # ops that are not a primitive: from their own value rule
        operands = ", ".join(OPERAND_NAMES[: op.arity])
        namespace.setdefault(
            PREFIX + op.name, rule_function(operands, vector_rule(op.value_rule), namespace)
        )
    return namespace


VECTOR_NAMESPACE = _vector_namespace()


@attrs.frozen
class VectorOp:
    """One row of the table over arrays: its value and partials as numpy functions."""

    value_rule: str
    partial_rules: tuple[str, ...]
    value: Callable[..., Any]
    partials: tuple[Callable[..., Any], ...]


def _vector_op(name: str) -> VectorOp:
    op = OPS[name]
    operands = ", ".join("ab"[: op.arity])
    value_rule = vector_rule(op.value_rule)
    partial_rules = tuple(vector_rule(rule) for rule in op.partial_rules)
    return VectorOp(
        value_rule,
        partial_rules,
        rule_function(operands, value_rule, VECTOR_NAMESPACE),
        tuple(rule_function(f"{operands}, out", r, VECTOR_NAMESPACE) for r in partial_rules),
    )


#: Every op's numpy form, by name.
VECTOR_OPS: dict[str, VectorOp] = {name: _vector_op(name) for name in OPS}


# ---------------------------------------------------------------------------------------
# Inputs: arrays checked at the boundary, before any work.
# ---------------------------------------------------------------------------------------


def as_batch(x: object, what: str, offset: int = 0) -> np.ndarray | float:
    """An input as a fresh 1-D float64 array (or, if 0-d, a float), or a clear error.

    Raises TypeError for a dtype that is not real numbers (bool, complex, strings,
    objects) and ValueError for 2-D arrays and NaN or infinity at some point (counted
    from ``offset``: a dask block's first point).
    """
    if isinstance(x, np.ma.MaskedArray):  # numpy would silently compute masked points
        raise TypeError(f"{what} is a masked array; pass x.compressed() or x.filled(...)")
    try:
        array = np.asarray(x)
    except (ValueError, TypeError, RuntimeError) as error:  # ragged lists, torch tensors
        raise ValueError(f"{what} is not a 1-D array of numbers: {error}") from None
    if array.ndim == 0:
        return as_finite_float(array.item(), what)
    if array.dtype.kind == "O" and array.ndim == 1:  # Fractions, huge ints: as one by one
        array = np.array([as_finite_float(v, f"{what}[{i}]") for i, v in
                          enumerate(array.tolist())], dtype=np.float64)
    check_shape_and_dtype(array, what)
    array = np.array(array, dtype=np.float64)  # a copy: later changes to x change nothing
    finite = np.isfinite(array)
    if not finite.all():
        point = int(np.argmin(finite))
        raise ValueError(
            f"{what} must be finite, got {float(array[point])!r} at point {point + offset}"
        )
    return array


def check_shape_and_dtype(array: Any, what: str) -> None:
    """TypeError unless the (numpy or dask) array holds real numbers, ValueError unless
    it is 1-D: one value per point."""
    if array.dtype.kind not in "iuf":
        kind = "bool" if array.dtype.kind == "b" else str(array.dtype)
        raise TypeError(f"{what} must be an array of real numbers, got dtype {kind}")
    if array.ndim != 1:
        raise ValueError(
            f"{what} must be a 1-D array (one value per point), got shape {array.shape}"
        )


def batch_size(graph: Graph, overrides: Mapping[int, Any]) -> int:
    """The common length of the batched inputs; ValueError if they differ."""
    lengths = {position: len(v) for position, v in overrides.items() if type(v) is not float}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(
            f"{describe(graph.order[position])}: {n}" for position, n in lengths.items()
        )
        raise ValueError(f"inputs: the arrays must all have the same length, got {shown}")
    return next(iter(lengths.values()))


# ---------------------------------------------------------------------------------------
# Which nodes are batched, worked out once per graph and set of batched leaves.
# ---------------------------------------------------------------------------------------


@attrs.frozen
class BatchPlan:
    """How one graph runs with a given set of batched leaves, worked out once."""

    key: str  # names the batched leaves in the graph's cache
    batched: tuple[bool, ...]  # per position: does the node depend on a batched leaf?
    float_operations: tuple[int, ...]  # operations the same at every point: floats
    #: Nodes with no node operands (leaves, constants, ops of literals): where every
    #: gradient ends up.
    gradient_sinks: tuple[int, ...]

    def rules(self, position: int, node: Operation) -> Op | VectorOp:
        """The row of rules a node's statement uses: numpy's forms if it is batched."""
        return VECTOR_OPS[node.op] if self.batched[position] else OPS[node.op]


def make_plan(graph: Graph, batched_leaves: Sequence[int]) -> BatchPlan:
    """The :class:`BatchPlan` for these batched leaves, kept in the graph's cache."""
    key = "batch " + ",".join(map(str, sorted(batched_leaves)))
    kept = graph._cache.get(key)
    if isinstance(kept, BatchPlan):
        return kept
    index, batched = graph.index, [False] * len(graph.order)
    for position in batched_leaves:
        batched[position] = True
    for position, node in enumerate(graph.order):  # operands first: one pass
        if isinstance(node, Operation):
            batched[position] = any(
                isinstance(a, Node) and batched[index[a]] for a in node.args
            )
    floats = (
        i for i, node in enumerate(graph.order)
        if isinstance(node, Operation) and not batched[i]
    )
    sinks = (
        i for i, node in enumerate(graph.order)
        if not isinstance(node, Operation) or not any(isinstance(a, Node) for a in node.args)
    )
    made = BatchPlan(key, tuple(batched), tuple(floats), tuple(sinks))
    graph._cache[key] = made
    return made


# ---------------------------------------------------------------------------------------
# The reference interpreters over arrays: interpret.py's loops, checking every array.
# ---------------------------------------------------------------------------------------


class _FailingPoints:
    """Finds the first failing point of an array, and raises or (``undefined="nan"``)
    remembers the failing points in ``bad``."""

    def __init__(self, graph: Graph, overrides: Mapping[int, Any], n: int, mark: bool,
                 offset: int = 0):
        self.graph, self.overrides, self.size = graph, overrides, n
        self.offset = offset  # the batch is part of a larger one from this point on (dask)
        self.undefined_points: np.ndarray | None = np.zeros(n, dtype=bool) if mark else None

    def inputs_at(self, point: int) -> str:
        """The batched inputs at one point, for the message: ``x=-0.25, y=3.0``."""
        shown = [
            f"{describe(self.graph.order[position])}={float(v[point])!r}"
            for position, v in self.overrides.items()
            if type(v) is not float
        ]
        return ", ".join(shown[:3]) + (", ..." if len(shown) > 3 else "")

    def checked(self, function: Callable[..., Any], args: list[Value], node: Operation,
             operands: list[Value], argnum: int | None = None, out: Value = None) -> Value:
        """``function(*args)``, a rule over arrays, checked: raises (or marks) at the
        first point whose result is not finite."""
        try:
            result = function(*args)
        except RULE_ERRORS:  # a part that is the same at every point failed (1.0 / 0.0)
            result = math.nan
        finite = np.isfinite(result)
        if finite.all():
            return result
        if self.undefined_points is not None:
            self.undefined_points |= ~finite
            return result
        point = int(np.argmin(np.broadcast_to(finite, (self.size,))))
        everywhere = finite.ndim == 0  # the same at every point: no point to name
        at = tuple(float(v[point]) if isinstance(v, np.ndarray) else v for v in operands)
        # The float rule at that point says what went wrong (a domain error or not).
        rule, cause = OPS[node.op], None
        try:
            if argnum is None:
                rule.value(*at)
            else:
                out_at = float(out[point]) if isinstance(out, np.ndarray) else out
                rule.partials[argnum](*at, out_at)
        except RULE_ERRORS as error:
            cause = error
        inputs, named = self.inputs_at(point), None if everywhere else point + self.offset
        if argnum is None:
            raise value_error(node, rule, at, cause, named, inputs)
        raise gradient_error(node, rule, at, argnum, cause, named, inputs)

    def fails_everywhere(self, error: EvaluationError) -> float:
        """A float, the same at every point, failed: with ``undefined="nan"`` every point
        is marked (and the float is NaN); otherwise the error is raised."""
        if self.undefined_points is None:
            raise error
        self.undefined_points[:] = True
        return math.nan


def _float_value(node: Operation, operands: list[Value]) -> float:
    # A node the same at every point: the float rule, as interpret.py runs it.
    rule = OPS[node.op]
    try:
        value: float = rule.value(*operands)
    except RULE_ERRORS as cause:
        raise value_error(node, rule, tuple(operands), cause) from None
    if not math.isfinite(value):
        raise value_error(node, rule, tuple(operands), None)
    return value


def _float_partial(node: Operation, operands: list[Value], argnum: int, out: float) -> float:
    rule = OPS[node.op]
    try:
        partial: float = rule.partials[argnum](*operands, out)
    except RULE_ERRORS as cause:
        raise gradient_error(node, rule, tuple(operands), argnum, cause) from None
    if not math.isfinite(partial):
        raise gradient_error(node, rule, tuple(operands), argnum, None)
    return partial


@contextmanager
def _quiet() -> Iterator[None]:
    """numpy's warnings off: the interpreters check every result themselves."""
    with np.errstate(all="ignore"):
        yield


@contextmanager
def _raising() -> Iterator[None]:
    """numpy raises FloatingPointError (an ArithmeticError) on an invalid operation,
    division by zero or overflow: the compiled code's check, free until it fires."""
    with np.errstate(invalid="raise", divide="raise", over="raise", under="ignore"):
        yield


def interpret_forward(graph: Graph, overrides: Mapping[int, Any], plan: BatchPlan,
                      failing: _FailingPoints) -> list[Value]:
    """The value of every node, in ``graph.order``: arrays for batched nodes, floats
    for the rest.  The reference loop of ``interpret.interpret_forward``, over arrays."""
    index, values = graph.index, []
    with _quiet():
        for position, node in enumerate(graph.order):
            if isinstance(node, Scalar | Constant):  # a leaf: its input, or its own value
                values.append(overrides.get(position, node.value))
                continue
            assert isinstance(node, Operation)
            operands = [values[index[a]] if isinstance(a, Node) else a for a in node.args]
            if plan.batched[position]:
                out = failing.checked(VECTOR_OPS[node.op].value, operands, node, operands)
            else:
                try:
                    out = _float_value(node, operands)
                except EvaluationError as error:
                    out = failing.fails_everywhere(error)
            values.append(out)
    return values


def interpret_backward(graph: Graph, values: list[Value], output: int, plan: BatchPlan,
                       failing: _FailingPoints) -> list[Value]:
    """d output / d node for every node, over arrays: ``interpret.interpret_backward``'s
    loop (read its docstring for the why), with a partial's array checked at each step."""
    order, index = graph.order, graph.index
    grads: list[Value] = [None] * len(order)  # None: no contribution yet
    grads[output] = 1.0
    reaches = [False] * len(order)
    reaches[output] = True
    with _quiet():
        for position in range(output, -1, -1):
            node = order[position]
            if not reaches[position] or not isinstance(node, Operation):
                continue
            gradient, out = grads[position], values[position]
            operands = [values[index[a]] if isinstance(a, Node) else a for a in node.args]
            for argnum, operand in enumerate(node.args):
                if not isinstance(operand, Node):
                    continue  # a literal: no gradient
                if plan.batched[position]:
                    function = VECTOR_OPS[node.op].partials[argnum]
                    partial = failing.checked(function, [*operands, out], node, operands,
                                           argnum, out)
                else:
                    try:
                        partial = _float_partial(node, operands, argnum, out)
                    except EvaluationError as error:
                        partial = failing.fails_everywhere(error)
                j = index[operand]
                reaches[j] = True
                contribution = gradient * partial
                grads[j] = contribution if grads[j] is None else grads[j] + contribution
        grads = [0.0 if g is None else g for g in grads]
        _check_gradients(graph, grads, failing)
    return grads


def _check_gradients(graph: Graph, grads: list[Value], failing: _FailingPoints) -> None:
    """Products of large partials can overflow: the latest such gradient in the order
    went bad first (as in ``interpret.check_gradients_finite``)."""
    for position in range(len(grads) - 1, -1, -1):
        finite = np.isfinite(grads[position])
        if finite.all():
            continue
        if failing.undefined_points is not None:
            failing.undefined_points |= ~finite
            continue
        node = graph.order[position]
        point = int(np.argmin(finite)) if finite.ndim else None
        where = ""
        if point is not None:
            where = f" at point {point + failing.offset} ({failing.inputs_at(point)})"
            point += failing.offset
        raise EvaluationError(
            f"the gradient with respect to node {describe(node)} overflows a float{where}",
            node=node, op=getattr(node, "op", None), point=point,
        )


# ---------------------------------------------------------------------------------------
# The compiled path, and the entry point.
# ---------------------------------------------------------------------------------------


#: Compiled batch passes of one graph (a forward pass per set of batched leaves, a
#: backward pass per set and output) count against their own budget in fastpath.py.
BUDGET = "batch compiled passes"

#: Points per piece on the compiled path.  A node's values for 2**14 points take
#: 128 KiB, so one statement's operands and result stay in the processor's cache, and
#: a piece's arrays are freed (and their memory reused, still in cache) before the
#: next.  Over 10**6 points at once every statement streams 8 MB arrays to and from
#: memory: about twice as slow (measured in benchmarks/run.py).
POINTS_PER_PIECE = 2**14


def _passes(graph: Graph, output: int | None, plan: BatchPlan,
            n: int) -> tuple[CompiledPass, CompiledPass | None] | None:
    """The compiled forward (and backward) pass, or None while still interpreted.

    A batch of more than :data:`POINTS_PER_PIECE` points is compiled at its first call:
    compiling costs the same for any number of points, and the interpreter keeps every
    node's arrays for all of them (gigabytes, for a big graph over 10**6 points).
    """
    calls = 0 if n > POINTS_PER_PIECE else None  # None: fastpath's usual number
    forward = compiled_pass(
        graph, f"{plan.key} forward",
        lambda: CompiledPass(forward_chunks(graph, rules=plan.rules), "batch forward",
                             VECTOR_NAMESPACE),
        budget=BUDGET, interpreted_calls=calls,
    )
    if output is None or forward is None:
        return None if forward is None else (forward, None)
    backward = compiled_pass(
        graph, f"{plan.key} backward {output}",
        lambda: CompiledPass(backward_chunks(graph, output, rules=plan.rules, arrays=True),
                             "batch backward", VECTOR_NAMESPACE),
        budget=BUDGET, interpreted_calls=calls,
    )
    return None if backward is None else (forward, backward)


def _run_piece(graph: Graph, passes: tuple[CompiledPass, CompiledPass | None],
               overrides: Mapping[int, Any], output: int | None, plan: BatchPlan,
               piece: slice) -> tuple[list[Value], list[Value] | None]:
    """Run the compiled passes on one piece of the points (raises on any failure)."""
    forward, backward = passes
    values: list[Value] = leaf_values(graph).copy()  # kept by the graph: made once
    for position, value in overrides.items():
        values[position] = value if type(value) is float else value[piece]
    grads: list[Value] | None = None
    with _raising():
        forward(values)
        if backward is not None and output is not None:
            grads = [0.0] * len(values)
            grads[output] = 1.0
            backward(values, grads)
    _check_what_sets_no_flag(plan, values, grads)
    return values, grads


def _check_what_sets_no_flag(plan: BatchPlan, values: list[Value],
                             grads: list[Value] | None) -> None:
    """Raise FloatingPointError for what the floating-point flags do not catch.

    Float arithmetic (``x * y`` of two floats, ``1.0 / b``) overflows to inf without
    any flag: so the floats are checked.  And inf times a finite array raises no flag
    either -- a float partial that overflowed, times a gradient array.  But a gradient
    that is not finite stays so (or raises: inf * 0, inf - inf) on its way back to the
    nodes that pass nothing on, so checking the gradients there suffices.
    """
    floats = [values[i] for i in plan.float_operations]
    if not all_finite(floats + [g for g in grads or () if type(g) is float]):
        raise FloatingPointError("a float that is the same at every point is not finite")
    sinks = [grads[i] for i in plan.gradient_sinks if type(grads[i]) is not float] if grads else []
    if sinks and not np.isfinite(np.concatenate(sinks)).all():
        raise FloatingPointError("a gradient is not finite")


#: An entry a call over many pieces did not keep (see :func:`_compiled`).
NOT_KEPT = object()

#: Both lists, every entry kept: what :class:`BatchValues` asks for a NOT_KEPT entry.
Everything = Callable[[], tuple[list[Value], list[Value] | None]]


def _compiled(graph: Graph, overrides: Mapping[int, Any], output: int | None,
              plan: BatchPlan, n: int
              ) -> tuple[list[Value], list[Value] | None, Everything | None] | None:
    """Values and gradients from the compiled passes; None while the graph is still
    interpreted, or if anything fails (then the reference loops run on the whole
    batch and name the first failing node and point).

    Up to :data:`POINTS_PER_PIECE` points, one run keeps every node's arrays.  Beyond,
    the points run a piece at a time, keeping the outputs' values and the leaves'
    gradients -- what is nearly always asked for -- besides the inputs and whatever is
    the same at every point; every other entry is :data:`NOT_KEPT`, and computed (all
    of them, by the same pieces once more) when first asked for.  Keeping every node's
    arrays for every piece would cost as much memory traffic as computing them.
    """
    passes = _passes(graph, output, plan, n)
    if passes is None:
        return None
    try:
        if n <= POINTS_PER_PIECE:
            return (*_run_piece(graph, passes, overrides, output, plan, slice(None)), None)
        outputs = {graph.index[node] for node in graph.outputs}
        leaves = {i for i, node in enumerate(graph.order) if isinstance(node, Scalar)}
        values, grads = _run_pieces(graph, passes, overrides, output, plan, n, outputs, leaves)
    except RULE_ERRORS:
        return None

    @functools.cache
    def everything() -> tuple[list[Value], list[Value] | None]:
        return _run_pieces(graph, passes, overrides, output, plan, n, None, None)

    return values, grads, everything


def _run_pieces(graph: Graph, passes: tuple[CompiledPass, CompiledPass | None],
                overrides: Mapping[int, Any], output: int | None, plan: BatchPlan, n: int,
                keep_values: set[int] | None, keep_grads: set[int] | None,
                ) -> tuple[list[Value], list[Value] | None]:
    """Run the compiled passes piece by piece, writing the pieces of the kept entries'
    arrays (all, for None) into whole ones; every other array entry is NOT_KEPT."""
    whole_values: list[Value] = []
    whole_grads: list[Value] | None = None
    value_fill: list[int] = []  # the positions whose pieces are written in
    grad_fill: list[int] = []
    for first in range(0, n, POINTS_PER_PIECE):
        piece = slice(first, first + POINTS_PER_PIECE)
        values, grads = _run_piece(graph, passes, overrides, output, plan, piece)
        if first == 0:  # the first piece shows which entries are arrays
            whole_values, value_fill = _whole(values, keep_values, n, overrides)
            if grads is not None:
                whole_grads, grad_fill = _whole(grads, keep_grads, n, {})
        for i in value_fill:
            whole_values[i][piece] = values[i]
        if grads is not None and whole_grads is not None:
            for i in grad_fill:
                whole_grads[i][piece] = grads[i]
    return whole_values, whole_grads


def _whole(piece: list[Value], keep: set[int] | None, n: int,
           inputs: Mapping[int, Any]) -> tuple[list[Value], list[int]]:
    """The list for the whole batch, from its first piece, and the positions whose
    pieces are to be written in: floats as they are, batched inputs whole, kept arrays
    made (``keep`` None: all), the rest NOT_KEPT."""
    whole: list[Value] = []
    fill: list[int] = []
    for i, v in enumerate(piece):
        if not isinstance(v, np.ndarray):
            whole.append(v)
        elif i in inputs:
            whole.append(inputs[i])
        elif keep is None or i in keep:
            whole.append(np.empty(n))
            fill.append(i)
        else:
            whole.append(NOT_KEPT)
    return whole, fill


class BatchValues(NodeValues):
    """Values or gradients over a batch of n points: node -> float64 array of shape (n,).

    A value or gradient that is the same at every point (a node that depends on no
    batched input, say) is kept as one float and handed out as an array that repeats
    it (``numpy.broadcast_to``): it costs no memory per point.  Every array handed
    out is read-only (``.copy()`` one to change it): one array may be the entry of
    several nodes -- both operands of ``+`` receive the same gradient.
    """

    __slots__ = ("_everything", "_gradients", "_size")

    def __init__(self, graph: Graph, values: list[Value], size: int,
                 everything: Everything | None = None, gradients: bool = False) -> None:
        super().__init__(graph, values)
        self._size = size
        # Where NOT_KEPT entries come from: the gradients, or the values, of everything.
        self._everything, self._gradients = everything, gradients

    def __getitem__(self, node: Node) -> Any:
        position = self._graph.index.get(node)
        if position is None:
            return super().__getitem__(node)  # raises the KeyError that says so
        value: Any = self._values[position]
        if value is NOT_KEPT:  # not kept by a call over many pieces: computed now, once
            self._values = self._complete()
            value = self._values[position]
        if type(value) is float:
            return np.broadcast_to(np.float64(value), (self._size,))
        value.flags.writeable = False  # read-only, like the mapping: nothing writes to it
        return value

    def _complete(self) -> list[Value]:
        """Every entry, the NOT_KEPT ones from the run that keeps everything."""
        if self._everything is None or not any(v is NOT_KEPT for v in self._values):
            return self._values
        values, grads = self._everything()
        every = grads if self._gradients else values
        assert every is not None
        return [e if v is NOT_KEPT else v for v, e in zip(self._values, every, strict=True)]

    def __reduce__(self) -> tuple[Any, ...]:
        return (BatchValues, (self._graph, self._complete(), self._size))

    def __deepcopy__(self, memo: dict[int, Any]) -> BatchValues:
        copied = NodeValues(self._graph, self._complete()).__deepcopy__(memo)
        return BatchValues(copied._graph, copied._values, self._size)

    def __repr__(self) -> str:
        return f"BatchValues({len(self)} nodes, {self._size} points)"


def _mark_undefined(graph: Graph, results: list[Value], bad: np.ndarray,
                    gradients: bool) -> list[Value]:
    """``undefined="nan"``: NaN at the failing points, in every value or gradient (the
    leaves' values are the inputs, as given)."""
    if not bad.any():
        return results
    return [
        r if not gradients and not isinstance(node, Operation) else np.where(bad, np.nan, r)
        for node, r in zip(graph.order, results, strict=True)
    ]


def run(graph: Graph, overrides: Mapping[int, Any], output: int | None,
        undefined: str, offset: int = 0) -> tuple[NodeValues, NodeValues | None]:
    """Values (and gradients of ``output``) for inputs with arrays among them: the
    entry point behind evaluate, backward and value_and_grad for batches.
    ``offset``: the arrays are points ``offset, offset + 1, ...`` of a larger batch
    (a dask block), for the points that error messages name."""
    n = batch_size(graph, overrides)
    plan = make_plan(graph, [i for i, v in overrides.items() if type(v) is not float])
    failing = _FailingPoints(graph, overrides, n, mark=undefined == "nan", offset=offset)
    # Compiled first, with undefined="nan" too: if it succeeds, no point failed.
    compiled = _compiled(graph, overrides, output, plan, n)
    everything = None
    if compiled is not None:
        values, grads, everything = compiled
    else:
        values = interpret_forward(graph, overrides, plan, failing)
        grads = None
        if output is not None:
            grads = interpret_backward(graph, values, output, plan, failing)
    undefined_points = failing.undefined_points
    if undefined_points is not None:
        values = _mark_undefined(graph, values, undefined_points, gradients=False)
        grads = None if grads is None else _mark_undefined(graph, grads, undefined_points, True)
    return (BatchValues(graph, values, n, everything),
            None if grads is None else BatchValues(graph, grads, n, everything, True))


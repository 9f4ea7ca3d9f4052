"""Derivative graphs keep backward()'s word at the edges (issue 21, items 1, 2, 3 and 8).

Evaluated, a gradient graph gives exactly the floats ``backward()`` gives -- the sign of
zero included -- or raises an EvaluationError exactly where ``backward()`` raises: at
domain edges (log(-1), asin'(1), 0 * inf) and at extreme magnitudes (1e200, 1e308),
for every op of the table and for random expressions.  ``simplify`` keeps every value,
bit for bit, and every error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from peers import APPLY, MINIGRAD_OPS, import_peer, jax_ops, torch_ops

import minigrad
from minigrad import (
    OPS,
    EvaluationError,
    Graph,
    Node,
    Operation,
    Scalar,
    backward,
    diff,
    evaluate,
    gradient,
    hessian,
    jvp,
    simplify,
)
from minigrad.interpret import interpret_backward, interpret_forward

BIG = 1.7976931348623157e308
#: Points at the edges: signed zeros, subnormals, the edges of the ops' domains, where
#: squares and exponentials overflow or underflow, and the largest floats.
EDGES = [
    0.0, -0.0, 5e-324, -5e-324, 1e-310, 1e-300, -1e-300, 1e-160, 0.5, -0.5, 1.0, -1.0,
    2.0, -2.0, 19.1, 27.3, -40.5, 373.0, -400.5, 709.8, 710.5, -745.2, 1e154, -1e154,
    1e200, -1e200, 1e308, -1e308, BIG, -BIG,
]
#: Fewer, for pairs.
PAIR_EDGES = [0.0, -0.0, 5e-324, 1e-300, -1e-160, 0.5, -1.0, 2.0, 710.5, -1e154, 1e200,
              -1e308, BIG]

Outcome = list[str] | str  # the floats' exact bits (float.hex), or "error"


def outcome(run: Callable[[], Sequence[float]]) -> Outcome:
    try:
        return [number.hex() for number in run()]
    except EvaluationError:
        return "error"


def reference_gradients(f: Node, leaves: Sequence[Scalar], point: Sequence[float]) -> Outcome:
    """backward()'s floats for the leaves, by the reference interpreter."""
    graph = Graph(f, *leaves)
    overrides = {graph.index[leaf]: x for leaf, x in zip(leaves, point, strict=True)}

    def run() -> list[float]:
        grads = interpret_backward(graph, interpret_forward(graph, overrides), graph.index[f])
        return [grads[graph.index[leaf]] for leaf in leaves]

    return outcome(run)


def evaluated(nodes: Sequence[Node], leaves: Sequence[Scalar],
              point: Sequence[float]) -> Outcome:
    """The nodes' values at the point, by the reference interpreter."""
    graph = Graph(*nodes, *leaves)
    overrides = {graph.index[leaf]: x for leaf, x in zip(leaves, point, strict=True)}

    def run() -> list[float]:
        values = interpret_forward(graph, overrides)
        return [values[graph.index[node]] for node in nodes]

    return outcome(run)


def engine_outcomes(f: Node, grads: Sequence[Node], leaves: Sequence[Scalar],
                    point: Sequence[float]) -> tuple[Outcome, Outcome]:
    """The same two, through the public functions (the engine)."""
    inputs: dict[object, object] = dict(zip(leaves, point, strict=True))
    graph = Graph(f, *leaves)
    through_backward = outcome(lambda: [backward(graph, f, inputs)[leaf] for leaf in leaves])
    graphs = Graph(*grads, *leaves)
    through_graphs = outcome(lambda: [evaluate(graphs, inputs)[g] for g in grads])
    return through_backward, through_graphs


def op_cases() -> list[tuple[str, tuple[float, ...]]]:
    cases = []
    for name, op in sorted(OPS.items()):
        points = itertools.product(EDGES if op.arity == 1 else PAIR_EDGES, repeat=op.arity)
        cases += [(name, point) for point in points]
    return cases


# -- every op, at every edge -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_agrees_with_backward_at_the_edges(name: str) -> None:
    op = OPS[name]
    leaves = [Scalar(1.0, name=n) for n in "xy"[: op.arity]]
    f = APPLY[name](MINIGRAD_OPS, *leaves)
    grads = gradient(f, leaves)
    by_diff = [diff(f, leaf) for leaf in leaves]
    by_jvp = [jvp(f, {leaf: 1.0}) for leaf in leaves]
    rows = hessian(f, leaves)
    second = [h for row in rows for h in row]
    for point in itertools.product(EDGES if op.arity == 1 else PAIR_EDGES, repeat=op.arity):
        expected = reference_gradients(f, leaves, point)
        assert evaluated(grads, leaves, point) == expected, (name, point)
        # One op: the forward pass multiplies the same slope by 1.0, so the same bits.
        assert evaluated(by_diff, leaves, point) == expected, (name, point, "diff")
        assert evaluated(by_jvp, leaves, point) == expected, (name, point, "jvp")
        if expected == "error":  # the Hessian is defined nowhere backward() is not
            assert evaluated(second, leaves, point) == "error", (name, point, "hessian")
        through_backward, through_graphs = engine_outcomes(f, grads, leaves, point)
        assert through_backward == through_graphs, (name, point, "engine")


def test_every_total_op_is_finite_at_every_finite_point() -> None:
    # total=True in the table: defined and finite everywhere (so no given is needed).
    for name, op in OPS.items():
        if not op.total:
            continue
        for point in itertools.product(EDGES if op.arity == 1 else PAIR_EDGES,
                                       repeat=op.arity):
            assert math.isfinite(op.value(*point)), (name, point)


# -- the repros of the issue ---------------------------------------------------------------


@pytest.mark.parametrize(("make", "at", "op", "fine"), [
    (lambda x: x.log(), -1.0, "log", 0.5),
    (lambda x: x.log1p(), -2.0, "log1p", 0.5),
    (lambda x: x.log2(), -1.0, "log2", 0.5),
    (lambda x: x.log10(), -1.0, "log10", 0.5),
    (lambda x: x.atanh(), 2.0, "atanh", 0.5),
    (lambda x: x.step().asin(), 1.0, "div", -0.5),  # asin'(1) is 1/0, times step's slope 0
    (lambda x: x.sqrt() * 0.0, 0.0, "div", 0.5),  # 0 * sqrt'(0): 0 * inf
    (lambda x: x**3.0, 1e103, "pow", 2.0),  # x**3 overflows, 3*x**2 does not
])
def test_a_derivative_graph_raises_where_backward_raises(make: Any, at: float, op: str,
                                                         fine: float) -> None:
    x = Scalar(fine, name="x")
    f = make(x)
    with pytest.raises(EvaluationError):
        backward(Graph(f), f, inputs={x: at})
    (g,) = gradient(f, [x])
    with pytest.raises(EvaluationError) as raised:
        evaluate(Graph(g), inputs={x: at})
    assert raised.value.op == op
    for derivative in (diff(f, x), jvp(f, {x: 1.0}), hessian(f, [x])[0][0], diff(f, x, 3)):
        with pytest.raises(EvaluationError):
            evaluate(Graph(derivative, x), inputs={x: at})
    assert evaluate(Graph(g))[g] == backward(Graph(f), f)[x]  # and inside, the same number


def test_the_error_names_the_node_and_the_point() -> None:
    x = Scalar(0.5, name="x")
    (d,) = gradient(x.log(), [x])
    with pytest.raises(EvaluationError, match=r"log\(-1.0\) is undefined") as raised:
        evaluate(Graph(d), inputs={x: -1.0})
    assert raised.value.op == "log"
    np = pytest.importorskip("numpy")
    with pytest.raises(EvaluationError, match=r"at point 2 \(x=-1.0\)"):
        evaluate(Graph(d), inputs={x: np.array([1.0, 2.0, -1.0])})


@pytest.mark.parametrize(("make", "point"), [
    (lambda x, y: x.atan(), (1e200, 0.0)),
    (lambda x, y: x.erf(), (1e200, 0.0)),
    (lambda x, y: x.erfc(), (-1e200, 0.0)),
    (lambda x, y: minigrad.atan2(x, y), (1e200, 1.0)),
    (lambda x, y: minigrad.atan2(x, y), (1e-200, 1e-200)),
    (lambda x, y: x.gelu(), (1e200, 0.0)),
    (lambda x, y: minigrad.minimum(x, y), (1e308, -1e308)),
    (lambda x, y: minigrad.maximum(x, y), (-1e308, 1e308)),
    (lambda x, y: x.tanh(), (1e308, 0.0)),
])
def test_a_derivative_graph_gives_a_number_where_backward_does(make: Any,
                                                               point: tuple[float, ...]) -> None:
    x, y = Scalar(point[0], name="x"), Scalar(point[1], name="y")
    f = make(x, y)
    expected = backward(Graph(f, x, y), f)
    for g, leaf in zip(gradient(f, [x, y]), (x, y), strict=True):
        assert evaluate(Graph(g, x, y))[g].hex() == expected[leaf].hex()


def test_the_gradient_keeps_backwards_signed_zero() -> None:
    # Item 8: atan2(x*y, -1), d/dy at (0, -1) is -1 * 0 = -0.0 in PyTorch, JAX, backward()
    # (every engine path) and the gradient graph: a first contribution is taken as it is.
    x, y = Scalar(0.0, name="x"), Scalar(-1.0, name="y")
    f = minigrad.atan2(x * y, -1.0)
    graph = Graph(f)
    _, gy = gradient(f, [x, y])
    assert evaluate(Graph(gy))[gy].hex() == (-0.0).hex()
    assert backward(graph, f)[y].hex() == (-0.0).hex()
    values = interpret_forward(graph, {})
    assert interpret_backward(graph, values, graph.index[f])[graph.index[y]].hex() == \
        (-0.0).hex()
    np = pytest.importorskip("numpy")
    batch: Any = backward(graph, f, inputs={x: np.zeros(3), y: -np.ones(3)})[y]
    assert [float(g).hex() for g in batch] == [(-0.0).hex()] * 3
    torch = import_peer("torch")
    tx, ty = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.0, -1.0))
    torch_ops(torch).atan2(tx * ty, -1.0).backward()
    assert ty.grad.item().hex() == (-0.0).hex()
    jax = import_peer("jax")
    jax.config.update("jax_enable_x64", True)
    ops = jax_ops(jax)
    jy = jax.grad(lambda a, b: ops.atan2(a * b, -1.0), argnums=1)(0.0, -1.0)
    assert float(jy).hex() == (-0.0).hex()


def test_two_signed_zeros_add_up_as_in_pytorch() -> None:
    # atan2(x*y + y*x, -1) at (0, 1): y gets -1 * 0.0 twice, (-0.0) + (-0.0) = -0.0.
    x, y = Scalar(0.0, name="x"), Scalar(1.0, name="y")
    f = minigrad.atan2(x * y + y * x, -1.0)
    (gy,) = gradient(f, [y])
    assert backward(Graph(f), f)[y].hex() == evaluate(Graph(gy))[gy].hex() == (-0.0).hex()
    torch = import_peer("torch")
    tx, ty = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.0, 1.0))
    torch_ops(torch).atan2(tx * ty + ty * tx, -1.0).backward()
    assert ty.grad.item().hex() == (-0.0).hex()


def test_leaves_and_conditions_nothing_reaches_get_positive_zero() -> None:
    x, y, unused = Scalar(0.5, name="x"), Scalar(2.0, name="y"), Scalar(1.0, name="u")
    f = minigrad.given(x * 3.0, y.log())  # y is a condition: no gradient flows to it
    graph = Graph(f, unused)
    for grads in (backward(graph, f), _reference(graph, f)):
        assert grads[x] == 3.0
        assert grads[y].hex() == grads[unused].hex() == (0.0).hex()
    with pytest.raises(EvaluationError, match="log"):
        backward(graph, f, inputs={y: -1.0})  # the condition is still evaluated


def _reference(graph: Graph, f: Node) -> dict[Node, float]:
    grads = interpret_backward(graph, interpret_forward(graph, {}), graph.index[f])
    return dict(zip(graph.order, grads, strict=True))


# -- simplify: the same bits, the same errors -------------------------------------------------


@pytest.mark.parametrize(("make", "at"), [
    (lambda x: minigrad.atan2(x * 0.0, -1.0), -1.0),
    (lambda x: minigrad.atan2(0.0 - x, -1.0), 0.0),
    (lambda x: minigrad.atan2(x + 0.0, -1.0), -0.0),
    (lambda x: minigrad.atan2(0.0 / x, -1.0), -2.0),
    (lambda x: minigrad.atan2(x * 1.0 - 0.0, -1.0), -0.0),
])
def test_simplify_keeps_the_sign_of_zero(make: Any, at: float) -> None:
    x = Scalar(at, name="x")
    f = make(x)
    s = simplify(f)
    assert evaluate(Graph(s, x))[s].hex() == evaluate(Graph(f))[f].hex()


def test_simplify_keeps_every_error() -> None:
    x = Scalar(-1.0, name="x")
    for f in (x.log() * 0.0, 0.0 / x.log(), x.log() ** 0.0, minigrad.given(x, x.log())):
        with pytest.raises(EvaluationError, match="log"):
            evaluate(Graph(f))
        s = simplify(f)
        with pytest.raises(EvaluationError, match="log"):
            evaluate(Graph(s, x))


# -- random expressions, anywhere ------------------------------------------------------------

#: Inputs and literals: ordinary numbers and the edges.
NUMBERS = st.one_of(
    st.sampled_from(EDGES),
    st.floats(-4.0, 4.0).map(lambda v: round(v, 2)),
    st.floats(allow_nan=False, allow_infinity=False),
)


@st.composite
def anywhere(draw: st.DrawFn) -> tuple[list[float], Callable[[Any, Any], Any]]:
    """A random program at a random point, in or out of its domain: inputs, and a
    function ``build(ops, leaves)``."""
    inputs = draw(st.lists(NUMBERS, min_size=1, max_size=3))
    steps: list[tuple[str, list[int | float]]] = []
    for _ in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(sorted(OPS)))
        operands: list[int | float] = []
        for k in range(OPS[name].arity):
            if k == 1 and draw(st.integers(0, 3)) == 0:
                operands.append(draw(NUMBERS))
            else:
                operands.append(draw(st.integers(0, len(inputs) + len(steps) - 1)))
        steps.append((name, operands))

    def build(ops: Any, leaves: Sequence[Any]) -> Any:
        values = list(leaves)
        for name, operands in steps:
            values.append(APPLY[name](ops, *(values[o] if isinstance(o, int) else o
                                            for o in operands)))
        return values[-1]

    return inputs, build


def built(case: Any) -> tuple[list[float], list[Scalar], Any]:
    """A case of anywhere() made into MiniGrad nodes: its point, its leaves x0, x1, ...
    and the expression over them."""
    inputs, build = case
    leaves = [Scalar(1.0, name=f"x{i}") for i in range(len(inputs))]
    return inputs, leaves, build(MINIGRAD_OPS, leaves)


@settings(max_examples=400, deadline=None)
@given(case=anywhere())
def test_random_gradient_graphs_agree_with_backward_anywhere(case: Any) -> None:
    inputs, leaves, f = built(case)
    if not isinstance(f, Operation):
        return
    grads = gradient(f, leaves)
    expected = reference_gradients(f, leaves, inputs)
    assert evaluated(grads, leaves, inputs) == expected
    through_backward, through_graphs = engine_outcomes(f, grads, leaves, inputs)
    assert through_backward == through_graphs == expected
    # forward mode: where backward() raises, so do diff and jvp -- but where a product
    # of slopes overflows: they multiply the slopes in the other order (derivatives.py);
    # elsewhere their numbers are backward()'s up to rounding
    forward = [diff(f, leaf) for leaf in leaves]
    got = evaluated(forward, leaves, inputs)
    if expected == "error" and got != "error":
        graph = Graph(f, *leaves)
        with pytest.raises(EvaluationError, match="overflows"):
            interpret_backward(graph, interpret_forward(graph, dict(zip(
                (graph.index[leaf] for leaf in leaves), inputs, strict=True))), graph.index[f])
    elif expected != "error" and got != "error":
        for ours, theirs in zip(got, expected, strict=True):
            assert float.fromhex(ours) == pytest.approx(float.fromhex(theirs), rel=1e-9,
                                                        abs=1e-300)


@settings(max_examples=400, deadline=None)
@given(case=anywhere())
def test_simplify_keeps_every_value_and_every_error_anywhere(case: Any) -> None:
    inputs, leaves, f = built(case)
    assert evaluated([simplify(f)], leaves, inputs) == evaluated([f], leaves, inputs)

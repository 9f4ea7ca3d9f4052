"""The engine (engine.py) against the reference interpreter (interpret.py).

Values and gradients within 1e-12 of the reference, and the same errors, on random
graphs with every op, constant subexpressions like ``sqrt(2.0)`` and literals of every
numeric type -- with each op group run by numpy (``narrow=1``) and with the default
mix of numpy groups and Python stretches; the same answer on every call.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad.engine as engine
from minigrad import (
    OPS,
    EvaluationError,
    Graph,
    Operation,
    Scalar,
    backward,
    evaluate,
    exp,
    gradient,
    hessian,
    jvp,
    log,
    relu,
    sigmoid,
    simplify,
    sin,
    sqrt,
    tanh,
)
from minigrad.interpret import interpret_backward, interpret_forward

CALLS = 3  # the first call makes the schedule; later ones reuse it


def outcome(call: object) -> object:
    """The result of a call, or its error as (type name, message): comparable."""
    try:
        return call()  # type: ignore[operator]
    except EvaluationError as error:
        return ("EvaluationError", str(error))


def outcomes_of_every_call(graph: Graph, output: Operation, leaves: list[Scalar]) -> list[object]:
    """Values and gradients (as float.hex) of CALLS calls of the same graph."""

    def one_call() -> object:
        values = evaluate(graph)
        grads = backward(graph, output)
        return [values[output].hex()] + [grads[leaf].hex() for leaf in leaves]

    return [outcome(one_call) for _ in range(CALLS)]


# -- constant subexpressions -----------------------------------------------------------


@pytest.mark.parametrize("constant", [sqrt(2.0), log(2.0), exp(1.0), sqrt(relu(2.0)) + 1.0])
def test_a_training_loop_with_a_constant_subexpression(
    constant: Operation,
) -> None:
    w = Scalar(0.5, name="w")
    loss = (w * constant - 1.0) ** 2
    graph = Graph(loss)
    c = evaluate(Graph(constant))[constant]
    w_value, learning_rate = 0.5, 0.25 / c**2  # halves the distance to 1 / c each step
    for _ in range(60):  # plain gradient descent towards w = 1 / c
        assert math.isfinite(evaluate(graph, inputs={w: w_value})[loss])
        w_value -= learning_rate * backward(graph, loss, inputs={w: w_value})[w]
    assert w_value == pytest.approx(1.0 / c, rel=1e-9)


def test_a_graph_of_constants_only() -> None:
    e = exp(1.0)
    graph = Graph(e)
    for _ in range(CALLS):
        assert evaluate(graph)[e] == math.e
        assert backward(graph, e)[e] == 1.0


def test_every_op_on_literals_only() -> None:
    for name, op in OPS.items():
        node = Operation(name, (0.5,) * op.arity)
        y = Scalar(1.0, name="x") * node
        graph = Graph(y)
        results = outcomes_of_every_call(graph, y, list(graph.leaves))
        assert all(r == results[0] for r in results), name


# -- zero times an infinite slope (issue 8, item 4) ------------------------------------


def zero_times_infinity_cases() -> list[tuple[str, object]]:
    return [
        ("sqrt(x)*sqrt(x)", lambda x: sqrt(x) * sqrt(x)),
        ("s*s, s shared", lambda x: (lambda s: s * s)(sqrt(x))),
        ("sqrt(x)**2", lambda x: sqrt(x) ** 2),
        ("x**0.5*x**0.5", lambda x: x**0.5 * x**0.5),
        ("sqrt(x)*sin(sqrt(x))", lambda x: sqrt(x) * sin(sqrt(x))),
    ]


@pytest.mark.parametrize(("label", "build"), zero_times_infinity_cases())
def test_zero_gradient_times_infinite_slope_raises_on_every_call(label: str, build: object) -> None:
    x = Scalar(0.0, name="x")
    y = build(x)  # type: ignore[operator]
    graph = Graph(y)
    assert evaluate(graph)[y] == 0.0  # the value exists...
    for _ in range(CALLS):  # ...the gradient is 0 * inf: raise, naming the infinite slope
        with pytest.raises(EvaluationError, match=r"the gradient of (sqrt\(0\.0\)|0\.0 \*\* 0\.5)"):
            backward(graph, y)
    # Away from 0 the same graph is fine: d(x)/dx = 1 for the first four.
    if label != "sqrt(x)*sin(sqrt(x))":
        assert backward(graph, y, inputs={x: 4.0})[x] == pytest.approx(1.0)


def test_an_infinite_slope_cancelled_by_relu_later_still_raises() -> None:
    # Documented choice (interpret.py): backward returns d output / d node for every
    # node, and d sqrt(r) / dr is infinite at r = relu(-1) = 0, so this raises, where
    # PyTorch and JAX report 0 for x.
    x = Scalar(-1.0, name="x")
    y = sqrt(relu(x))
    message = r"gradient of sqrt\(0\.0\).*At node: sqrt\(relu\(x\)\)"
    with pytest.raises(EvaluationError, match=message):
        backward(Graph(y), y)
    b = Scalar(-3.0, name="b")
    e = Scalar(-1.0, name="e")
    z = b ** relu(e)  # (-3) ** 0 = 1, but d/d exponent needs log(-3)
    assert evaluate(Graph(z))[z] == 1.0
    with pytest.raises(EvaluationError, match="with respect to operand 1"):
        backward(Graph(z), z)


def test_nodes_that_do_not_reach_the_output_are_not_differentiated() -> None:
    # sqrt'(0) is infinite, but y1 does not depend on sqrt(x): no error for y1.
    x = Scalar(0.0, name="x")
    y1 = x * 3.0
    y2 = sqrt(x)
    graph = Graph(y2, y1)  # y2's node comes first in the order
    for _ in range(CALLS):
        assert backward(graph, y1)[x] == 3.0


# -- saturating slopes keep their digits (issue 8, item 5) ------------------------------


def exact_tanh_slope(x: float) -> float:
    """1 / cosh(x)**2 with 60 significant digits."""
    with localcontext() as context:
        context.prec = 60
        e = Decimal(x).exp()
        cosh = (e + 1 / e) / 2
        return float(1 / (cosh * cosh))


def exact_sigmoid_slope(x: float) -> float:
    """e^-x / (1 + e^-x)**2 with 60 significant digits."""
    with localcontext() as context:
        context.prec = 60
        e = (-Decimal(x)).exp()
        return float(e / ((1 + e) * (1 + e)))


SATURATING = [-800.0, -40.0, -20.0, -10.0, -1.0, -1e-9, 0.0, 1e-9, 0.5, 3.0, 10.0, 20.0,
              37.0, 40.0, 100.0, 300.0, 800.0]


@pytest.mark.parametrize("x", SATURATING)
@pytest.mark.parametrize(
    ("function", "exact"), [(tanh, exact_tanh_slope), (sigmoid, exact_sigmoid_slope)]
)
def test_saturating_slopes_are_right_to_a_few_ulps(
    function: object, exact: object, x: float
) -> None:
    leaf = Scalar(x, name="x")
    y = function(leaf)  # type: ignore[operator]
    graph = Graph(y)
    slopes = {backward(graph, y)[leaf] for _ in range(CALLS)}  # interpreted and compiled
    assert len(slopes) == 1
    (slope,) = slopes
    assert slope == pytest.approx(exact(x), rel=4e-16, abs=0.0)  # type: ignore[operator]


# -- nodes that are not MiniGrad's --------------------------------------------------------


def test_a_node_of_another_kind_is_refused_on_every_call() -> None:
    import minigrad

    class Other(minigrad.Node):
        pass

    y = Scalar(1.0) + Other()
    graph = Graph(y)
    for _ in range(CALLS):
        with pytest.raises(TypeError, match="Other is not a node MiniGrad can evaluate"):
            evaluate(graph)
        with pytest.raises(TypeError, match="Other is not a node"):
            interpret_forward(graph, {})


# -- the class: random graphs, every op, constants, literal types, 15 calls --------------

LITERAL_TYPES = [float, int, np.float64, np.float32, np.int64, Fraction]
NUMBERS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-310, 800.0, 1e300, 2.0, -7.0]


@st.composite
def graphs_with_constants(draw: st.DrawFn) -> tuple[Operation, list[Scalar]]:
    """Any op on leaves, earlier nodes, literals of any accepted type, or constant
    subexpressions (ops on literals only); domain errors and overflows welcome."""
    leaves = [Scalar(draw(st.sampled_from(NUMBERS)), name=f"x{i}")
              for i in range(draw(st.integers(1, 3)))]
    nodes: list[object] = list(leaves)

    def literal() -> object:
        number = draw(st.sampled_from(NUMBERS))
        kind = draw(st.sampled_from(LITERAL_TYPES))
        if kind in (int, np.int64):
            number = float(round(number)) if abs(number) < 1e18 else 3.0
        if kind is np.float32 and abs(number) > 1e30:
            number = 3.0  # float32 cannot hold it
        return kind(number)

    def operand() -> object:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            return literal()
        if choice == 1:  # a constant subexpression
            op = draw(st.sampled_from(sorted(OPS)))
            return Operation(op, tuple(literal() for _ in range(OPS[op].arity)))
        return draw(st.sampled_from(nodes))

    for _ in range(draw(st.integers(1, 10))):
        op = draw(st.sampled_from(sorted(OPS)))
        args = tuple(operand() for _ in range(OPS[op].arity))
        nodes.append(Operation(op, args))
    output = nodes[-1]
    if not isinstance(output, Operation):  # pragma: no cover - the loop runs at least once
        output = leaves[0] * 1.0
    return output, leaves  # type: ignore[return-value]


@given(graphs_with_constants())
def test_every_call_gives_the_same_results_and_errors(
    case: tuple[Operation, list[Scalar]],
) -> None:
    output, leaves = case
    graph = Graph(output, *leaves)
    results = outcomes_of_every_call(graph, output, leaves)
    assert all(result == results[0] for result in results)


@settings(max_examples=30)
@given(graphs_with_constants())
def test_derivative_graphs_give_the_same_results_on_every_call(
    case: tuple[Operation, list[Scalar]],
) -> None:
    # The transformations' output is graphs like any other: every call agrees too --
    # gradient, hessian, jvp, simplify.
    output, leaves = case
    built = [*gradient(output, leaves), *hessian(output, leaves)[0],
             jvp(output, dict.fromkeys(leaves, 0.5)), simplify(output)]
    for node in built:
        if isinstance(node, Operation):
            graph = Graph(node, *leaves)
            results = outcomes_of_every_call(graph, node, leaves)
            assert all(result == results[0] for result in results)


# -- the engine against the reference ------------------------------------------------------


def reference(graph: Graph, output: Operation) -> object:
    """The reference interpreter's values and gradients, or its error message."""
    try:
        values = interpret_forward(graph, {})
        return values, interpret_backward(graph, values, graph.index[output])
    except EvaluationError as error:
        return str(error)


def assert_engine_matches_reference(graph: Graph, output: Operation) -> None:
    expected = reference(graph, output)
    try:
        values, grads = engine.run(graph, {}, graph.index[output], "raise")
    except EvaluationError as error:
        assert str(error) == expected
        return
    assert not isinstance(expected, str), f"the reference raised: {expected}"
    for ours, theirs in ((values.as_list(), expected[0]), (grads.as_list(), expected[1])):
        for got, want in zip(ours, theirs, strict=True):
            assert got == pytest.approx(want, rel=1e-12, abs=1e-300), (got, want)


@pytest.mark.parametrize("narrow", [1, engine.NARROW_FLOATS])
@settings(max_examples=60)
@given(case=graphs_with_constants())
def test_the_engine_gives_the_references_numbers_and_errors(
    narrow: int, case: tuple[Operation, list[Scalar]]
) -> None:
    output, leaves = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "NARROW_FLOATS", narrow)  # 1: every group a numpy call
        assert_engine_matches_reference(Graph(output, *leaves), output)


def test_wide_graphs_run_as_numpy_groups_and_match_the_reference() -> None:
    # Many parallel copies of every op, so each depth's ops are wide numpy groups.
    xs = [Scalar(0.1 + 0.05 * i, name=f"x{i}") for i in range(40)]
    terms = []
    for name, op in sorted(OPS.items()):
        for x in xs:
            operands = (x, xs[-1] * 0.5 + 0.3)[: op.arity] if op.arity == 2 else (x * 0.5,)
            terms.append(Operation(name, operands) * x)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    graph = Graph(total)
    schedule = engine.schedule_of(graph, 1)
    assert sum(isinstance(step, engine.Group) for step in schedule.steps) >= len(OPS)
    assert_engine_matches_reference(graph, total)


def test_outputs_that_share_wide_groups_get_only_their_own_gradients() -> None:
    # Forty outputs whose nodes sit in the same wide groups: each output's backward
    # pass keeps only the nodes of the groups that reach it.
    xs = [Scalar(0.5 + i, name=f"x{i}") for i in range(40)]
    outputs = [sqrt(x * x) * 3.0 for x in xs]
    bad = sqrt(xs[0] * 0.0)  # infinite slope: must not matter to the others
    graph = Graph(bad, *outputs)
    assert any(isinstance(step, engine.Group) and len(step.out) >= 40
               for step in engine.schedule_of(graph, 1).steps)
    for x, y in zip(xs, outputs, strict=True):
        grads = backward(graph, y)
        assert grads[x] == pytest.approx(3.0)
        assert [grads[other] for other in xs if other is not x] == [0.0] * 39
    with pytest.raises(EvaluationError, match="gradient of sqrt"):
        backward(graph, bad)


# -- long sums ---------------------------------------------------------------------------------


def long_sums() -> list[tuple[str, object]]:
    def plain(xs: list[Scalar]) -> object:
        return sum(x * x for x in xs)  # starts with the literal 0

    def shared_terms(xs: list[Scalar]) -> object:
        return sum((xs[0] for _ in xs), xs[1]) + sum(x.exp() for x in xs)

    def reused_partial_sum(xs: list[Scalar]) -> object:
        partial = sum(xs[:5], xs[5])  # used twice: the run stops before it
        return sum(xs[6:], partial) * partial

    def nested(xs: list[Scalar]) -> object:
        return sum((sum(xs[:k], 1.0) for k in range(2, len(xs))), 0.0)

    return [("plain", plain), ("shared terms", shared_terms),
            ("reused partial sum", reused_partial_sum), ("nested", nested)]


@pytest.mark.parametrize(("label", "make"), long_sums())
def test_long_sums_run_as_sums_and_match_the_reference(label: str, make: object) -> None:
    xs = [Scalar(0.1 * i - 0.7, name=f"x{i}") for i in range(14)]
    y = make(xs)  # type: ignore[operator]
    graph = Graph(y, *xs)
    runs = [node for step in engine.schedule_of(graph, 1).steps
            if isinstance(step, engine.Stretch) for node in step.nodes
            if isinstance(node, engine.SumRun)]
    assert runs, "no sum ran as a SumRun"
    values = interpret_forward(graph, {})
    grads = interpret_backward(graph, values, graph.index[y])
    ours, our_grads = engine.run(graph, {}, graph.index[y], "raise")
    assert ours.as_list() == values  # the same additions in the same order: exact
    assert our_grads.as_list() == pytest.approx(grads, rel=1e-15, abs=0.0)
    points = np.linspace(-1.0, 1.0, 7)
    batch, batch_grads = engine.run(graph, {graph.index[xs[0]]: points}, graph.index[y],
                                    "raise")
    for k, point in enumerate(points):
        at = interpret_forward(graph, {graph.index[xs[0]]: float(point)})
        expected = interpret_backward(graph, at, graph.index[y])
        assert batch[y][k] == pytest.approx(at[graph.index[y]], rel=1e-14)
        assert [batch_grads[x][k] for x in xs] == pytest.approx(
            [expected[graph.index[x]] for x in xs], rel=1e-13, abs=1e-15)


def test_a_sum_among_other_outputs_passes_back_only_to_its_own() -> None:
    xs = [Scalar(float(i), name=f"x{i}") for i in range(10)]
    total = sum(xs, 0.0)
    other = sqrt(xs[0] * 0.0)  # infinite slope at 0: must not matter to total
    graph = Graph(other, total)
    grads = backward(graph, total)
    assert [grads[x] for x in xs] == [1.0] * 10


def batch_reference(graph: Graph, output: Operation, leaf: Scalar, points: list[float]
                    ) -> list[object]:
    """The reference interpreter at each point of ``leaf``: (values, grads) or None."""
    answers: list[object] = []
    for point in points:
        try:
            values = interpret_forward(graph, {graph.index[leaf]: point})
            answers.append((values, interpret_backward(graph, values, graph.index[output])))
        except EvaluationError:
            answers.append(None)
    return answers


@pytest.mark.parametrize("narrow", [1, engine.NARROW_ARRAYS])
@settings(max_examples=60)
@given(case=graphs_with_constants())
def test_the_engine_over_many_points_gives_the_references_numbers(
    narrow: int, case: tuple[Operation, list[Scalar]]
) -> None:
    output, leaves = case
    graph = Graph(output, *leaves)
    leaf = leaves[0]
    points = [leaf.value, leaf.value * 0.5 + 0.25, -leaf.value]
    expected = batch_reference(graph, output, leaf, points)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "NARROW_ARRAYS", narrow)  # 1: every group a numpy call
        if any(answer is None for answer in expected):
            with pytest.raises(EvaluationError):
                engine.run(graph, {graph.index[leaf]: np.array(points)},
                           graph.index[output], "raise")
            return
        values, grads = engine.run(graph, {graph.index[leaf]: np.array(points)},
                                   graph.index[output], "raise")
    for k, answer in enumerate(expected):
        assert isinstance(answer, tuple)
        for ours, theirs in ((values, answer[0]), (grads, answer[1])):
            for node in graph.order:
                assert ours[node][k] == pytest.approx(theirs[graph.index[node]], rel=1e-12,
                                                      abs=1e-300)


@pytest.mark.parametrize(("label", "make"), long_sums())
def test_every_node_of_a_long_sum_can_be_the_output(label: str, make: object) -> None:
    # The adds inside a sum run: differentiated as outputs of their own (of this graph,
    # or of a graph with more outputs), their gradients are the reference's.
    xs = [Scalar(0.1 * i - 0.7, name=f"x{i}") for i in range(14)]
    y = make(xs)  # type: ignore[operator]
    graph = Graph(y, *xs)
    values = interpret_forward(graph, {})
    for node in graph.order:
        if not isinstance(node, Operation):
            continue
        expected = interpret_backward(graph, values, graph.index[node])
        _, grads = engine.run(graph, {}, graph.index[node], "raise")
        assert grads.as_list() == pytest.approx(expected, rel=1e-14, abs=0.0), node
        _, batch = engine.run(graph, {graph.index[xs[0]]: np.array([xs[0].value] * 3)},
                              graph.index[node], "raise")
        assert [batch[n][1] for n in graph.order] == pytest.approx(expected, rel=1e-14), node


def test_over_many_points_wrt_keeps_those_gradients_and_the_rest_come_when_asked() -> None:
    """``wrt`` (a fit's parameters): over many pieces only those leaves' gradients are
    kept as the pieces run; every other entry is still right when asked for, and a
    batched leaf's values are its input, handed out read-only."""
    a, b = Scalar(1.5, name="a"), Scalar(-0.5, name="b")
    x, y = Scalar(0.0, name="x"), Scalar(0.0, name="y")
    r = y - a * (b * x).exp()
    graph = Graph(r)
    n = 3 * engine.POINTS_PER_PIECE + 7  # several pieces, the last a short one
    xs, ys = np.linspace(-1.0, 1.0, n), np.cos(np.linspace(0.0, 3.0, n))
    inputs = {graph.index[x]: xs, graph.index[y]: ys}
    wrt = [graph.index[a], graph.index[b]]
    values, grads = engine.run(graph, inputs, graph.index[r], "raise", wrt=wrt)
    # Before anything else is asked for (that computes every entry again):
    assert values[x] is not xs and np.shares_memory(values[x], xs)  # the input, not a copy
    assert not values[x].flags.writeable and xs.flags.writeable
    every_values, every_grads = engine.run(graph, inputs, graph.index[r], "raise")
    assert grads is not None and every_grads is not None
    for node in graph.order:  # the kept ones and those computed when asked for
        np.testing.assert_array_equal(grads[node], every_grads[node])
        np.testing.assert_array_equal(values[node], every_values[node])
    np.testing.assert_array_equal(grads[x], -a.value * b.value * np.exp(b.value * xs))

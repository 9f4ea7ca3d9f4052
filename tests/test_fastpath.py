"""The interpret-then-compile policy never changes an answer, on any call.

A graph's first calls are interpreted and later ones run compiled code (fastpath.py).
A user must never be able to tell which: the same values, the same gradients and the
same errors on the 1st call and on the 15th -- with constant subexpressions like
``sqrt(2.0)``, literals of every numeric type, and every op.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad.fastpath as fastpath
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

CALLS = fastpath.INTERPRETED_CALLS + 5  # well past the switch to compiled code


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


# -- the 11th-call crashes of issue 8 ---------------------------------------------------


@pytest.mark.parametrize("constant", [sqrt(2.0), log(2.0), exp(1.0), sqrt(relu(2.0)) + 1.0])
def test_a_training_loop_with_a_constant_subexpression_runs_past_the_switch(
    constant: Operation,
) -> None:
    w = Scalar(0.5, name="w")
    loss = (w * constant - 1.0) ** 2
    graph = Graph(loss)
    c = evaluate(Graph(constant))[constant]
    w_value, learning_rate = 0.5, 0.25 / c**2  # halves the distance to 1 / c each step
    for _ in range(3 * CALLS):  # plain gradient descent towards w = 1 / c
        assert math.isfinite(evaluate(graph, inputs={w: w_value})[loss])
        w_value -= learning_rate * backward(graph, loss, inputs={w: w_value})[w]
    assert w_value == pytest.approx(1.0 / c, rel=1e-9)


def test_a_graph_of_constants_only_compiles() -> None:
    e = exp(1.0)
    graph = Graph(e)
    for _ in range(CALLS):
        assert evaluate(graph)[e] == math.e
        assert backward(graph, e)[e] == 1.0
    assert "backward 0" in graph._cache  # really compiled


def test_every_op_on_literals_only_survives_the_switch() -> None:
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


# -- bounded: code for a few outputs, not for all (issue 8, item 13) --------------------


def test_only_a_few_outputs_of_one_graph_hold_compiled_code() -> None:
    x = Scalar(0.3, name="x")
    outputs = [sin(x * k) for k in range(3 * fastpath.COMPILED_OUTPUTS)]
    graph = Graph(*outputs)
    for _ in range(CALLS):
        for k, y in enumerate(outputs):
            assert backward(graph, y)[x] == pytest.approx(k * math.cos(0.3 * k), abs=1e-15)
    compiled = [key for key in graph._cache if key.startswith("backward ") and "calls" not in key]
    assert len(compiled) == fastpath.COMPILED_OUTPUTS


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
    # The transformations' output is graphs like any other: their 1st and 15th calls
    # (interpreted, then compiled) must agree too -- gradient, hessian, jvp, simplify.
    output, leaves = case
    built = [*gradient(output, leaves), *hessian(output, leaves)[0],
             jvp(output, dict.fromkeys(leaves, 0.5)), simplify(output)]
    for node in built:
        if isinstance(node, Operation):
            graph = Graph(node, *leaves)
            results = outcomes_of_every_call(graph, node, leaves)
            assert all(result == results[0] for result in results)

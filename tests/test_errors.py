"""EvaluationError: never a silent NaN; the op, the operands and the node are named."""

from __future__ import annotations

import pytest

from minigrad import (
    EvaluationError,
    Graph,
    Scalar,
    backward,
    evaluate,
    exp,
    log,
    relu,
    sin,
    sqrt,
)

a = Scalar(-1.0, name="a")
zero = Scalar(0.0, name="zero")
big = Scalar(1e200, name="big")

VALUE_ERRORS = [
    # (expression, op named, operand text, a piece of the node's rendering)
    (log(a), "log", "log(-1.0)", "log(a)"),
    (sqrt(a * 4), "sqrt", "sqrt(-4.0)", "sqrt(a*4)"),
    (1 / zero, "div", "1.0 / 0.0", "1/zero"),
    (exp(-a * 1000), "exp", "exp(1000.0)", "exp(-a*1000)"),
    (zero**-1, "pow", "0.0 ** (-1.0)", "zero**(-1)"),
    ((a * 8) ** 0.5, "pow", "(-8.0) ** 0.5", "(a*8)**0.5"),
    (big * big, "mul", "1e+200 * 1e+200", "big*big"),  # overflows to inf without raising
    (big * big - big * big, "mul", "1e+200 * 1e+200", "big*big"),  # inf - inf: blame the inf
    (sin(big * big), "mul", "1e+200 * 1e+200", "big*big"),  # sin(inf) raises; blame the inf
]


@pytest.mark.parametrize(("expression", "op", "operands", "where"), VALUE_ERRORS)
def test_value_errors_name_op_operands_and_node(expression, op, operands, where) -> None:
    graph = Graph(expression)
    with pytest.raises(EvaluationError) as info:
        evaluate(graph)
    message = str(info.value)
    assert message.startswith(f"{op}: ")
    assert operands in message
    assert where in message
    assert info.value.op == op
    with pytest.raises(ArithmeticError):  # it is an ArithmeticError, and backward raises too
        backward(graph, expression)


def test_python_pow_would_be_complex() -> None:
    # The old MiniGrad returned (6.1e-17+1j) for Scalar(-1) ** 0.5.
    assert isinstance((-1.0) ** 0.5, complex)
    with pytest.raises(EvaluationError, match="undefined"):
        evaluate(Graph(Scalar(-1.0) ** 0.5))


def test_infinite_gradient_of_sqrt_at_zero_is_raised_by_backward() -> None:
    y = sqrt(zero)
    graph = Graph(y)
    assert evaluate(graph)[y] == 0.0  # the value is fine...
    with pytest.raises(EvaluationError, match=r"gradient of sqrt\(0.0\).*At node: sqrt\(zero\)"):
        backward(graph, y)  # ...its slope is not


def test_gradient_wrt_exponent_of_negative_base_is_raised() -> None:
    x = Scalar(-2.0, name="x")
    n = Scalar(2.0, name="n")
    y = x**n  # (-2)**2 = 4 is fine, but d/dn needs log(-2)
    assert evaluate(Graph(y))[y] == 4.0
    with pytest.raises(EvaluationError, match="with respect to operand 1"):
        backward(Graph(y), y)


def test_gradient_overflow_is_raised() -> None:
    # log(s) at a tiny (subnormal) s is finite, but its slope 1/s overflows to inf.
    s = Scalar(1e-310, name="s")
    y = log(s) * 2
    assert evaluate(Graph(y))[y] < 0
    with pytest.raises(
        EvaluationError,
        match=r"log: the gradient of log\(1e-310\) .* too large .* At node: log\(s\)",
    ):
        backward(Graph(y), y)


def test_zero_times_an_infinite_slope_is_an_error_not_zero() -> None:
    # relu(-1) * sqrt(x) at x = 0: the sqrt node receives gradient 0, but its slope is
    # infinite, and 0 * inf has no value (PyTorch and JAX give NaN).  Skipping the zero
    # gradient used to return 0 here.
    x = Scalar(0.0, name="x")
    y = relu(Scalar(-1.0)) * sqrt(x)
    with pytest.raises(EvaluationError, match=r"gradient of sqrt\(0.0\).*At node: sqrt\(x\)"):
        backward(Graph(y), y)


def test_long_expressions_are_cut_in_messages() -> None:
    x = Scalar(-1.0, name="x")
    y = x
    for i in range(200):
        y = y + Scalar(float(i), name=f"leaf{i}")
    with pytest.raises(EvaluationError) as info:
        evaluate(Graph(log(y - 1e6)))
    assert len(str(info.value)) < 400


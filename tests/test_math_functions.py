"""The math module's functions (issue: each one row of the op table): numerics at the
edges, domains, infinite slopes, ties, and second derivatives against JAX.

Values and first derivatives at points across each domain are checked against
PyTorch, JAX and finite differences with every other op, in test_ops.py.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from peers import APPLY, import_peer, jax_ops

import minigrad
from minigrad import EvaluationError, Graph, Scalar, backward, diff, evaluate

NEW_OPS = ["tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh",
           "atanh", "expm1", "log1p", "log2", "log10", "cbrt", "hypot", "erf", "erfc",
           "floor", "ceil", "minimum", "maximum", "softplus", "silu", "gelu"]


def value_and_slopes(name: str, *point: float) -> tuple[float, list[float]]:
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(point)]
    y = getattr(minigrad, name)(*leaves)
    grads = backward(Graph(y), y)
    return evaluate(Graph(y))[y], [grads[leaf] for leaf in leaves]


def test_every_function_is_a_function_a_method_and_a_row() -> None:
    for name in NEW_OPS:
        assert name in minigrad.OPS and callable(getattr(minigrad, name))
        if minigrad.OPS[name].arity == 1:
            assert getattr(Scalar(0.5), name)().op == name


@pytest.mark.parametrize(("name", "point", "value", "slopes"), [
    # numerically careful where the peers are: the right floats (40-digit mpmath values),
    # the right slopes
    ("log1p", (1e-20,), 1e-20, [1.0]),
    ("expm1", (1e-20,), 1e-20, [1.0]),
    ("softplus", (800.0,), 800.0, [1.0]),
    ("softplus", (-800.0,), 0.0, [0.0]),
    ("softplus", (-30.0,), 9.357622968839737e-14, [9.357622968839299e-14]),
    ("erfc", (10.0,), 2.088487583762545e-45, [-4.197656231354417e-44]),
    ("hypot", (1e200, 1e200), 1.4142135623730952e200, [0.7071067811865475, 0.7071067811865475]),
    ("atan2", (0.0, -1.0), math.pi, [-1.0, 0.0]),
    ("asinh", (1e200,), math.asinh(1e200), [1e-200]),
    ("floor", (2.7,), 2.0, [0.0]),
    ("ceil", (-2.7,), -2.0, [0.0]),
])
def test_careful_values_and_slopes(
    name: str, point: tuple[float, ...], value: float, slopes: list[float]
) -> None:
    ours, our_slopes = value_and_slopes(name, *point)
    assert ours == pytest.approx(value, rel=1e-15, abs=0.0)
    for ours_slope, slope in zip(our_slopes, slopes, strict=True):
        assert ours_slope == pytest.approx(slope, rel=1e-14, abs=0.0)


@pytest.mark.parametrize(("name", "point"), [
    ("asin", (1.5,)), ("acos", (-1.5,)), ("acosh", (0.5,)), ("atanh", (1.0,)),
    ("log1p", (-1.0,)), ("log2", (0.0,)), ("log10", (-1.0,)), ("sinh", (1000.0,)),
    ("cosh", (-1000.0,)), ("expm1", (1000.0,)),
])
def test_domains_are_errors_never_nan(name: str, point: tuple[float, ...]) -> None:
    with pytest.raises(EvaluationError, match=f"^{name}: .*At node: {name}"):
        value_and_slopes(name, *point)


@pytest.mark.parametrize(("name", "point"), [
    ("asin", (1.0,)), ("acos", (-1.0,)), ("acosh", (1.0,)), ("cbrt", (0.0,)),
    ("atan2", (0.0, 0.0)), ("hypot", (0.0, 0.0)),
])
def test_infinite_slopes_raise_where_the_value_exists(name: str, point: tuple[float, ...]) -> None:
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(point)]
    y = getattr(minigrad, name)(*leaves)
    assert math.isfinite(evaluate(Graph(y))[y])
    with pytest.raises(EvaluationError, match=f"{name}: the gradient of"):
        backward(Graph(y), y)


@pytest.mark.parametrize("name", ["minimum", "maximum"])
def test_ties_split_the_gradient_equally_as_pytorch_and_jax(name: str) -> None:
    ours = value_and_slopes(name, 2.0, 2.0)[1]
    assert ours == [0.5, 0.5]
    torch = import_peer("torch")
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    getattr(torch, name)(a, b).backward()
    assert [a.grad.item(), b.grad.item()] == ours
    jax = import_peer("jax")
    jax.config.update("jax_enable_x64", True)
    grads = jax.grad(getattr(jax.numpy, name), argnums=(0, 1))(2.0, 2.0)
    assert [float(g) for g in grads] == ours


SECOND_DERIVATIVE_POINTS: dict[str, tuple[float, ...]] = {
    "tan": (0.7,), "asin": (0.3,), "acos": (-0.4,), "atan": (1.3,), "atan2": (0.5, -1.5),
    "sinh": (0.8,), "cosh": (-1.1,), "asinh": (2.0,), "acosh": (1.7,), "atanh": (0.6,),
    "expm1": (-0.5,), "log1p": (0.4,), "log2": (3.0,), "log10": (0.2,), "cbrt": (-2.5,),
    "hypot": (1.5, -0.7), "erf": (0.9,), "erfc": (-0.3,), "floor": (2.5,), "ceil": (-0.5,),
    "minimum": (1.0, 2.0), "maximum": (1.0, 2.0), "softplus": (1.2,), "silu": (-0.8,),
    "gelu": (0.6,),
}


def test_every_new_function_has_second_derivative_points() -> None:
    assert set(SECOND_DERIVATIVE_POINTS) == set(NEW_OPS)


@pytest.mark.parametrize("name", NEW_OPS)
def test_second_derivatives_through_diff_match_jax(name: str) -> None:
    jax = import_peer("jax")
    jax.config.update("jax_enable_x64", True)
    point = SECOND_DERIVATIVE_POINTS[name]
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(point)]
    y = APPLY[name](minigrad, *leaves)
    ops = jax_ops(jax)

    def f(*xs: Any) -> Any:
        return APPLY[name](ops, *xs)

    for i, leaf in enumerate(leaves):
        second = diff(y, leaf, 2)
        ours = evaluate(Graph(second, *leaves))[second]
        theirs = jax.grad(jax.grad(f, argnums=i), argnums=i)(*point)
        assert ours == pytest.approx(float(theirs), rel=1e-9, abs=1e-12), (name, i)

"""Derivatives as graphs: diff, gradient, hessian, jvp and simplify.

Checked against backward() (bit for bit), SymPy's exact derivatives, PyTorch's and
JAX's Hessians and JVPs, and on random DAGs from hypothesis.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from peers import APPLY, MINIGRAD_OPS, import_peer, jax_ops, torch_ops
from test_random_dags import Program, programs

import minigrad
from minigrad import (
    Constant,
    EvaluationError,
    Graph,
    Operation,
    Scalar,
    backward,
    describe,
    diff,
    draw_graph,
    evaluate,
    gradient,
    hessian,
    jvp,
    simplify,
    to_dot,
    to_networkx,
)


def value(node: minigrad.Node, inputs: dict[Scalar, float] | None = None) -> float:
    # The leaves given inputs are outputs too: a derivative may not depend on them all.
    return evaluate(Graph(node, *(inputs or {})), inputs=inputs)[node]


# -- the contract of the issue, verbatim -------------------------------------------------


def test_the_contract_runs_as_written() -> None:
    x = Scalar(0.7, name="x")
    y = Scalar(-1.2, name="y")
    f = x**3 / 5 + x.sin() * y.exp()

    dfdx = diff(f, x)
    d2 = diff(f, x, 2)
    mixed = diff(diff(f, x), y)
    assert evaluate(Graph(d2), inputs={"x": 2.0})[d2] == pytest.approx(
        6 * 2.0 / 5 - math.sin(2.0) * math.exp(-1.2), rel=1e-14
    )
    gx, gy = gradient(f, [x, y])
    H = hessian(f, [x, y])
    t = jvp(f, {x: 1.0, y: 0.5})
    s = simplify(f)
    drawing = draw_graph(dfdx)
    text = str(dfdx)

    assert value(dfdx) == pytest.approx(3 * 0.7**2 / 5 + math.cos(0.7) * math.exp(-1.2))
    assert value(mixed) == pytest.approx(math.cos(0.7) * math.exp(-1.2))
    assert value(gx) == backward(Graph(f), f)[x]
    assert value(gy) == backward(Graph(f), f)[y]
    assert value(H[0][1]) == value(H[1][0]) == pytest.approx(value(mixed))
    assert value(t) == pytest.approx(value(gx) + 0.5 * value(gy))
    assert value(s) == value(f)
    assert "digraph" in drawing.source
    assert "x" in text and "cos(x)" in text and "exp(y)" in text


def test_results_are_ordinary_nodes_over_the_same_leaves() -> None:
    x = Scalar(0.7, name="x")
    y = Scalar(-1.2, name="y")
    (gx,) = gradient(x * y + x.cos(), [x])
    graph = Graph(gx)
    assert set(graph.leaves) <= {x, y}  # the very same leaf objects
    assert evaluate(graph, inputs={y: 2.0})[gx] == pytest.approx(2.0 - math.sin(0.7))
    assert evaluate(graph, inputs={"y": 2.0})[gx] == pytest.approx(2.0 - math.sin(0.7))
    assert backward(graph, gx)[x] == pytest.approx(-math.cos(0.7))  # gradients of it too
    assert "digraph" in to_dot(gx)
    assert to_networkx(graph).number_of_nodes() == len(graph)
    assert diff(gx, x) is not None


def test_a_constant_derivative_is_a_constant_node_not_an_input() -> None:
    # -x is defined everywhere: its derivative -1 needs no condition, and is a Constant.
    x = Scalar(3.0, name="x")
    d = diff(-x, x)
    assert isinstance(d, Constant) and d.value == -1.0
    graph = Graph(d)
    assert evaluate(graph)[d] == -1.0
    assert graph.leaves == ()
    with pytest.raises(ValueError, match="constant"):
        evaluate(graph, inputs={d: 5.0})
    assert isinstance(diff(-x, x, 2), Constant) and diff(-x, x, 2).value == 0.0
    unrelated = Scalar(1.0, name="u")
    assert gradient(-x, [unrelated])[0].value == 0.0  # type: ignore[attr-defined]
    assert "-1" in to_dot(d)
    # A constant used in a new expression is a literal there.
    assert (d * x).args == (-1.0, x)


def test_a_constant_derivative_keeps_the_domain_of_what_it_differentiates() -> None:
    # x*2 overflows from 9e307 on: its derivative 2 is given(2, x*2), an error there.
    x = Scalar(3.0, name="x")
    d = diff(x * 2.0, x)
    assert describe(d) == "given(2, x*2)"
    assert value(d) == 2.0
    with pytest.raises(EvaluationError, match="overflows"):
        value(d, {x: 1e308})
    assert describe(diff(x * 2.0, x, 2)) == "given(0, x*2)"
    assert describe(gradient(x * x, [Scalar(1.0, name="u")])[0]) == "given(0, x*x)"


def test_differentiating_by_something_else_is_a_clear_error() -> None:
    x = Scalar(1.0, name="x")
    f = x * x
    with pytest.raises(ValueError, match="not one"):
        diff(f, x * 2)
    with pytest.raises(TypeError, match="Scalar"):
        diff(f, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of leaves"):
        gradient(f, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="node"):
        diff(3.0, x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be"):
        diff(f, x, -1)
    with pytest.raises(TypeError, match="mapping"):
        jvp(f, [x])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        jvp(f, {x: math.nan})


# -- conventions at kinks and domain edges ------------------------------------------------


def test_kinks_keep_the_conventions() -> None:
    x = Scalar(0.0, name="x")
    assert value(diff(x.relu(), x)) == 0.0  # relu'(0) = 0
    assert value(diff(x.relu(), x), {x: 2.0}) == 1.0
    assert value(diff(x.relu(), x, 2), {x: 2.0}) == 0.0  # relu'' = 0
    assert value(diff(abs(x), x)) == 0.0  # abs'(0) = 0
    assert value(diff(abs(x), x), {x: -3.0}) == -1.0


def test_an_infinite_slope_raises_when_evaluated() -> None:
    x = Scalar(0.0, name="x")
    d = diff(x.sqrt(), x)
    with pytest.raises(EvaluationError, match="div"):
        value(d)
    assert value(d, {x: 4.0}) == 0.25


# -- agreement with backward(), bit for bit, on random DAGs --------------------------------


def leaves_and_output(program: Program) -> tuple[list[Scalar], minigrad.Node]:
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(program.inputs)]
    return leaves, program(MINIGRAD_OPS, *leaves)


@given(program=programs())
def test_gradient_nodes_evaluate_to_backward(program: Program) -> None:
    leaves, y = leaves_and_output(program)
    expected = backward(Graph(y, *leaves), y)
    for leaf, g in zip(leaves, gradient(y, leaves), strict=True):
        assert value(g) == expected[leaf]


# -- agreement with the peers -----------------------------------------------------------


def jax_hessian(fn: Any, xs: tuple[float, ...]) -> list[list[float]]:
    jax = import_peer("jax")
    jax.config.update("jax_enable_x64", True)
    ops = jax_ops(jax)
    matrix = jax.hessian(lambda v: fn(ops, *v))(jax.numpy.array(xs, dtype=jax.numpy.float64))
    return [[float(h) for h in row] for row in matrix]


def torch_hessian(fn: Any, xs: tuple[float, ...]) -> list[list[float]]:
    torch = import_peer("torch")
    ops = torch_ops(torch)
    matrix = torch.autograd.functional.hessian(
        lambda v: fn(ops, *v), torch.tensor(xs, dtype=torch.float64)
    )
    return [[float(h) for h in row] for row in matrix]


def minigrad_hessian(fn: Any, xs: tuple[float, ...]) -> list[list[float]]:
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(xs)]
    H = hessian(fn(MINIGRAD_OPS, *leaves), leaves)
    return [[value(h) for h in row] for row in H]


HAND_WRITTEN = [
    (lambda o, x, y: x**3 / 5 + o.sin(x) * o.exp(y), (0.7, -1.2)),
    (lambda o, x, y: o.tanh(x * y) + o.sigmoid(x - y), (0.3, 1.7)),
    (lambda o, x, y: o.log(x) * o.sqrt(y) / (x + y), (1.5, 2.5)),
    (lambda o, x, y: x**y + o.cos(x / y), (1.3, 0.8)),
    (lambda o, x, y: o.relu(x - y) * o.abs(y) + o.exp(-x * x), (2.0, -0.5)),
]


@pytest.mark.parametrize("peer_hessian", [jax_hessian, torch_hessian])
@pytest.mark.parametrize(("fn", "xs"), HAND_WRITTEN)
def test_hessian_matches_peers(fn: Any, xs: tuple[float, ...], peer_hessian: Any) -> None:
    ours = minigrad_hessian(fn, xs)
    theirs = peer_hessian(fn, xs)
    for row, peer_row in zip(ours, theirs, strict=True):
        for h, peer_h in zip(row, peer_row, strict=True):
            assert h == pytest.approx(peer_h, rel=1e-10, abs=1e-12)


@settings(max_examples=30)
@given(program=programs())
def test_second_derivatives_of_random_dags_match_jax(program: Program) -> None:
    leaves, y = leaves_and_output(program)
    ours = [[value(h) for h in row] for row in hessian(y, leaves)]
    theirs = jax_hessian(lambda o, *xs: program(o, *xs), program.inputs)
    scale = max(1.0, *(abs(h) for row in theirs for h in row))
    for row, peer_row in zip(ours, theirs, strict=True):
        for h, peer_h in zip(row, peer_row, strict=True):
            assert abs(h - peer_h) <= 1e-8 * scale


@settings(max_examples=40)
@given(program=programs())
def test_jvp_of_random_dags_matches_jax(program: Program) -> None:
    jax = import_peer("jax")
    jax.config.update("jax_enable_x64", True)
    leaves, y = leaves_and_output(program)
    direction = [0.5 + i for i in range(len(leaves))]
    ours = value(jvp(y, dict(zip(leaves, direction, strict=True))))
    ops = jax_ops(jax)
    _, theirs = jax.jvp(
        lambda *xs: program(ops, *xs),
        tuple(jax.numpy.float64(x) for x in program.inputs),
        tuple(jax.numpy.float64(d) for d in direction),
    )
    assert ours == pytest.approx(float(theirs), rel=1e-9, abs=1e-9)


# -- SymPy's exact derivatives, and no swell ------------------------------------------------

SWELL_CASES = {
    # name: (MiniGrad expression of x, SymPy expression of x, point)
    "tanh": (lambda x: x.tanh(), lambda s, x: s.tanh(x), 0.4),
    "sigmoid": (lambda x: x.sigmoid(), lambda s, x: 1 / (1 + s.exp(-x)), -0.6),
    "exp(sin(x))*x**2": (
        lambda x: (x.sin()).exp() * x**2, lambda s, x: s.exp(s.sin(x)) * x**2, 0.9
    ),
    "x**3/5 + sin(x)*log(x)": (
        lambda x: x**3 / 5 + x.sin() * x.log(), lambda s, x: x**3 / 5 + s.sin(x) * s.log(x), 1.3
    ),
}


def operation_count(node: minigrad.Node) -> int:
    return sum(isinstance(n, Operation) for n in Graph(node).order)


def sympy_cse_count(expression: Any) -> int:
    sympy = import_peer("sympy")
    replacements, reduced = sympy.cse(expression)
    return sum(sympy.count_ops(e) for _, e in replacements) + sympy.count_ops(reduced[0])


@pytest.mark.parametrize("name", sorted(SWELL_CASES))
def test_eighth_derivatives_match_sympy_and_do_not_swell(name: str) -> None:
    sympy = import_peer("sympy")
    ours_of, theirs_of, point = SWELL_CASES[name]
    x = Scalar(point, name="x")
    symbol = sympy.Symbol("x")
    ours: minigrad.Node = ours_of(x)
    theirs = theirs_of(sympy, symbol)
    for n in range(1, 9):
        ours = diff(ours, x)
        theirs = sympy.diff(theirs, symbol)
        exact = float(theirs.subs(symbol, point).evalf(30))
        assert value(ours) == pytest.approx(exact, rel=1e-9, abs=1e-12), n
    assert operation_count(ours) <= 10 * sympy_cse_count(theirs)


def test_a_long_chain_differentiates_without_recursion() -> None:
    x = Scalar(1.0, name="x")
    y = x
    for _ in range(100_000):
        y = (y * 1.0000001).sin()
    (g,) = gradient(y, [x])
    assert sys.getrecursionlimit() < 100_000
    assert value(g) == backward(Graph(y), y)[x]


def test_apply_table_covers_every_op() -> None:
    assert set(APPLY) == set(minigrad.OPS)


def test_describe_prints_derivatives_readably() -> None:
    x = Scalar(0.7, name="x")
    y = Scalar(-1.2, name="y")
    assert str(diff(x**3 / 5 + x.sin() * y.exp(), x)) == (
        "given(0.2*(3*x**2) + exp(y)*cos(x), x**3/5 + sin(x)*exp(y))")
    assert str(diff(x.cos().sin(), x)) == "cos(cos(x))*-sin(x)"  # total ops: no given


def test_diff_takes_any_integer_order() -> None:
    np = pytest.importorskip("numpy")
    x = Scalar(2.0, name="x")
    assert describe(diff(x**3, x, np.int64(2))) == describe(diff(x**3, x, 2))
    for bad in (2.0, True, -1, "2"):
        with pytest.raises(ValueError, match="n must be a whole number"):
            diff(x**3, x, bad)  # type: ignore[arg-type]

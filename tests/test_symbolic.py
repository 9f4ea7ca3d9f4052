"""SymPy in and out (symbolic.py): to_sympy, from_sympy, LaTeX, and the CLI's --latex."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from peers import MINIGRAD_OPS, import_peer
from test_ops import DOMAINS
from test_random_dags import Program, programs

import minigrad as mg
from minigrad import (
    OPS,
    Graph,
    Operation,
    Scalar,
    backward,
    diff,
    evaluate,
    from_sympy,
    to_sympy,
)
from minigrad.cli import main
from minigrad.symbolic import LATEX_MAX_NODES

sympy = import_peer("sympy")


def at(expr: Any, point: dict[Any, float]) -> float:
    """A SymPy expression's value at a point, to 30 digits."""
    return float(expr.evalf(30, subs={k: sympy.Float(v) for k, v in point.items()}))


# -- the contract -------------------------------------------------------------------


def test_the_contract() -> None:
    x, y = Scalar(0.7, name="x"), Scalar(-0.4, name="y")
    f = mg.sin(x) * y**2 + mg.erf(x * y)
    X, Y = sympy.symbols("x y", real=True)
    assert to_sympy(f).doit() == sympy.sin(X) * Y**2 + sympy.erf(X * Y)
    derivative = to_sympy(diff(f, x))
    assert at(derivative, {X: 0.7, Y: -0.4}) == pytest.approx(
        at(sympy.diff(to_sympy(f), X), {X: 0.7, Y: -0.4}), rel=1e-14)
    g = from_sympy(sympy.exp(X) * sympy.atan2(Y, X))
    leaves = {leaf.name: leaf for leaf in Graph(g).leaves}
    assert set(leaves) == {"x", "y"} and all(isinstance(v, Scalar) for v in leaves.values())
    inputs = {leaves["x"]: 0.7, leaves["y"]: -0.4}
    assert evaluate(Graph(g), inputs)[g] == pytest.approx(
        math.exp(0.7) * math.atan2(-0.4, 0.7), rel=1e-15)
    assert f._repr_latex_() == (r"$y^{2} \sin{\left(x \right)} + "
                                r"\operatorname{erf}{\left(x y \right)}$")


# -- out -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_sympy_form_of_the_same_value(name: str) -> None:
    op = OPS[name]
    leaves = [Scalar(1.0, name=n) for n in "ab"[: op.arity]]
    node = Operation(name, tuple(leaves))
    expr = to_sympy(node)
    symbols = {leaf.name: sympy.Symbol(leaf.name, real=True) for leaf in leaves}
    for point in DOMAINS[name]:
        expected = op.value(*point)
        got = at(expr, {symbols[leaf.name]: x for leaf, x in zip(leaves, point, strict=True)})
        assert got == pytest.approx(expected, rel=1e-13, abs=1e-13), (name, point)


def test_literals_are_exact_and_leaves_are_named() -> None:
    x = Scalar(2.0, name="x")
    assert to_sympy(x**2 + 0.1).doit() == sympy.Symbol("x", real=True) ** 2 + sympy.Float(0.1)
    assert float(to_sympy(Scalar(0.0) * 0.0 + 0.1).evalf(30)) == 0.1
    unnamed = Scalar(1.0) + Scalar(2.0)
    assert str(to_sympy(unnamed)) == "leaf0 + leaf1"
    with pytest.raises(ValueError, match="several leaves are named 'x'"):
        to_sympy(x + Scalar(1.0, name="x"))


@settings(max_examples=40)
@given(program=programs())
def test_smooth_derivatives_agree_with_sympys(program: Program) -> None:
    leaves = [Scalar(v, name=f"x{i}") for i, v in enumerate(program.inputs)]
    f = program(MINIGRAD_OPS, *leaves)
    if any(node.op in ("relu", "abs", "step", "sign", "floor", "ceil", "minimum", "maximum")
           for node in Graph(f).order if isinstance(node, Operation)):
        return  # kinks: SymPy's derivative there is not PyTorch's convention
    symbols = {leaf: sympy.Symbol(leaf.name, real=True) for leaf in leaves}
    point = {symbols[leaf]: leaf.value for leaf in leaves}
    expr = to_sympy(f)
    for leaf in leaves:
        ours = at(to_sympy(diff(f, leaf)), point) if isinstance(diff(f, leaf), Operation) \
            else diff(f, leaf).value  # type: ignore[attr-defined]
        # doit() first: SymPy 1.14 differentiates an unevaluated log(a, 10) as log(a)
        theirs = at(sympy.diff(expr.doit(), symbols[leaf]), point)
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9)


def test_a_deep_chain_converts_both_ways() -> None:
    x = Scalar(0.5, name="x")
    y: Any = x
    for _ in range(20_000):
        y = mg.sin(y)
    expr = to_sympy(y)
    back = from_sympy(expr)
    (leaf,) = Graph(back).leaves
    assert evaluate(Graph(back), {leaf: 0.5})[back] == evaluate(Graph(y))[y]


# -- in --------------------------------------------------------------------------------------

X, Y, Z = sympy.symbols("x y z", real=True)
FORMULAS = [
    sympy.sin(X) ** 2 + sympy.cos(X) * sympy.tan(Y),
    sympy.exp(-(X**2) / 2) / sympy.sqrt(2 * sympy.pi),
    sympy.log(X**2 + 1) - sympy.log(Y + 3, 2),
    X ** sympy.Rational(3, 2) + Y ** sympy.Rational(-1, 3) + sympy.sqrt(X * Y + 2),
    sympy.Max(X, Y, Z) - sympy.Min(X * Y, 1),
    sympy.atan2(Y, X) + sympy.Abs(Z) + sympy.asinh(X) * sympy.tanh(Y),
    (X + Y + Z) ** 3 / (1 + sympy.exp(-Z)),
    sympy.erf(X) * sympy.erfc(Y) + sympy.atan(X / Y),
]


@pytest.mark.parametrize("formula", FORMULAS, ids=str)
def test_formulas_give_sympys_values_and_gradients(formula: Any) -> None:
    point = {X: 0.7, Y: 1.3, Z: -0.4}
    node = from_sympy(formula)
    graph = Graph(node)
    inputs = {leaf: point[sympy.Symbol(leaf.name, real=True)] for leaf in graph.leaves}
    values, grads = mg.value_and_grad(graph, node, inputs)
    assert values[node] == pytest.approx(at(formula, point), rel=1e-13)
    for leaf in graph.leaves:
        symbol = sympy.Symbol(leaf.name, real=True)
        assert grads[leaf] == pytest.approx(at(sympy.diff(formula, symbol), point),
                                            rel=1e-12, abs=1e-14)


def test_a_formula_over_an_array() -> None:
    np = import_peer("numpy")
    node = from_sympy(sympy.sin(X) * X**2)
    (x,) = Graph(node).leaves
    xs = np.linspace(-3, 3, 7)
    values, grads = mg.value_and_grad(Graph(node), node, {x: xs})
    np.testing.assert_allclose(values[node], np.sin(xs) * xs**2, rtol=1e-14)
    np.testing.assert_allclose(grads[x], np.cos(xs) * xs**2 + 2 * xs * np.sin(xs),
                               rtol=1e-13)


@settings(max_examples=40)
@given(program=programs())
def test_round_trips_evaluate_equal(program: Program) -> None:
    leaves = [Scalar(v, name=f"x{i}") for i, v in enumerate(program.inputs)]
    f = program(MINIGRAD_OPS, *leaves)
    back = from_sympy(to_sympy(f), leaves)
    assert evaluate(Graph(back, *leaves))[back] == pytest.approx(
        evaluate(Graph(f))[f], rel=1e-9, abs=1e-12)


def test_given_leaves_are_used_by_name_or_by_symbol() -> None:
    x = Scalar(2.0, name="x")
    node = from_sympy(X * Y, [x])
    assert x in Graph(node)
    z = Scalar(3.0, name="anything")
    node = from_sympy(X * Y, {Y: z})
    assert z in Graph(node) and backward(Graph(node), node)[z] == 0.0  # x is 0.0


@pytest.mark.parametrize(("formula", "name"), [
    (sympy.gamma(X), "gamma"), (sympy.besselj(0, X), "besselj"),
    (sympy.Heaviside(X), "Heaviside"),
])
def test_a_function_without_an_op_is_a_type_error_naming_it(formula: Any, name: str) -> None:
    with pytest.raises(TypeError, match=name):
        from_sympy(formula)


def test_numbers_become_floats() -> None:
    node = from_sympy(sympy.pi * X + sympy.sqrt(2))
    (x,) = Graph(node).leaves
    assert evaluate(Graph(node), {x: 1.0})[node] == pytest.approx(math.pi + math.sqrt(2))
    assert from_sympy(sympy.Integer(3)).value == 3.0  # type: ignore[attr-defined]


# -- LaTeX ---------------------------------------------------------------------------------------


def test_latex_for_small_graphs_only() -> None:
    x = Scalar(1.0, name="x")
    assert x._repr_latex_() == "$x$"
    big: Any = x
    for k in range(LATEX_MAX_NODES):
        big = big + x * float(k)
    assert big._repr_latex_() is None


def test_without_sympy_the_plain_repr_shows_and_import_needs_none() -> None:
    code = (
        "import sys\n"
        "import minigrad\n"
        "assert 'sympy' not in sys.modules\n"
        "sys.modules['sympy'] = None\n"
        "x = minigrad.Scalar(1.0, name='x')\n"
        "assert (x * 2)._repr_latex_() is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_command_line_prints_latex(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["a**3/5 + sin(b)", "a=1.5", "b=2", "--diff", "a", "--latex"]) == 0
    out = capsys.readouterr().out
    assert r"f: \frac{a^{3}}{5} + \sin{\left(b \right)}" in out
    assert "df/da: 0.6 a^{2}" in out


def test_a_formula_too_long_to_read_keeps_the_plain_repr() -> None:
    s: Any = Scalar(1.0, name="s")
    for _ in range(40):  # 120 nodes, but a formula of 2**40 terms
        s = (s + 1) * (s + 2)
    assert s._repr_latex_() is None


def test_what_is_not_a_real_expression_or_has_a_bad_base_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="not a real-valued expression"):
        from_sympy(sympy.true)
    node = from_sympy(sympy.log(X, Y, evaluate=False))
    leaves = {leaf.name: leaf for leaf in Graph(node).leaves}
    assert evaluate(Graph(node), {leaves["x"]: 8.0, leaves["y"]: 2.0})[node] == \
        pytest.approx(3.0)
    with pytest.raises(ValueError, match="base that is not positive"):
        from_sympy(sympy.log(X, -2, evaluate=False))

"""The builder behind simplify and the derivative graphs (rewrite.py): each rewrite."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from test_random_dags import Program, programs

from minigrad import Constant, Graph, Operation, Scalar, describe, evaluate, simplify
from minigrad.rewrite import NodeBuilder, as_node


@pytest.fixture
def x() -> Scalar:
    return Scalar(2.0, name="x")


def test_constants_are_folded_with_the_ops_own_float_rule() -> None:
    builder = NodeBuilder()
    assert builder.apply("mul", (2.0, 3.0)) == 6.0
    assert builder.apply("sin", (1.0,)) == math.sin(1.0)


def test_an_op_that_would_raise_is_kept_as_a_node() -> None:
    kept = NodeBuilder().apply("log", (-1.0,))
    assert isinstance(kept, Operation) and kept.op == "log"


@pytest.mark.parametrize(("op", "args", "expected"), [
    ("add", ("x", 0.0), "x"), ("sub", ("x", 0.0), "x"), ("mul", ("x", 1.0), "x"),
    ("mul", (1.0, "x"), "x"), ("div", ("x", 1.0), "x"), ("pow", ("x", 1.0), "x"),
    ("mul", ("x", 0.0), 0.0), ("pow", ("x", 0.0), 1.0), ("div", (0.0, "x"), 0.0),
])
def test_identities(x: Scalar, op: str, args: tuple[object, ...], expected: object) -> None:
    operands = tuple(x if a == "x" else a for a in args)
    result = NodeBuilder().apply(op, operands)  # type: ignore[arg-type]
    assert (result is x) if expected == "x" else (result == expected)


def test_negations(x: Scalar) -> None:
    builder = NodeBuilder()
    minus_x = builder.apply("neg", (x,))
    assert builder.apply("neg", (minus_x,)) is x  # --x = x
    assert builder.apply("sub", (0.0, x)) is minus_x  # 0 - x = -x, the same node
    assert builder.apply("mul", (x, -1.0)) is minus_x


def test_equal_subexpressions_are_one_node(x: Scalar) -> None:
    builder = NodeBuilder()
    y = Scalar(3.0, name="y")
    assert builder.apply("cos", (x,)) is builder.apply("cos", (x,))
    assert builder.apply("mul", (x, y)) is builder.apply("mul", (y, x))  # * commutes
    assert builder.apply("sub", (x, y)) is not builder.apply("sub", (y, x))


def test_the_node_namespace_builds_through_the_builder(x: Scalar) -> None:
    builder = NodeBuilder()
    assert builder.ops.mul(x, 1.0) is x
    assert builder.ops.step(x) is builder.apply("step", (x,))


def test_simplify(x: Scalar) -> None:
    assert describe(simplify((x * 1 + 0) * (2.0 * 3.0))) == "x*6"
    constant = simplify(Scalar(1.0) * 0.0 + 2.0)
    assert isinstance(constant, Constant) and constant.value == 2.0
    assert as_node(x) is x and as_node(1.5).value == 1.5  # type: ignore[union-attr]


@given(program=programs())
def test_simplify_keeps_every_value(program: Program) -> None:
    leaves = [Scalar(v, name=f"x{i}") for i, v in enumerate(program.inputs)]
    from peers import MINIGRAD_OPS

    y = program(MINIGRAD_OPS, *leaves)
    simpler = simplify(y)
    assert evaluate(Graph(simpler, *leaves))[simpler] == pytest.approx(
        evaluate(Graph(y))[y], rel=1e-12, abs=1e-300)
    assert len(Graph(simpler)) <= len(Graph(y))

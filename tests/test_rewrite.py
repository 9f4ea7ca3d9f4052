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


@pytest.mark.parametrize(("op", "args"), [
    ("add", ("x", -0.0)), ("add", (-0.0, "x")), ("sub", ("x", 0.0)), ("mul", ("x", 1.0)),
    ("mul", (1.0, "x")), ("div", ("x", 1.0)), ("pow", ("x", 1.0)), ("given", ("x", 2.0)),
])
def test_identities(x: Scalar, op: str, args: tuple[object, ...]) -> None:
    operands = tuple(x if a == "x" else a for a in args)
    assert NodeBuilder().apply(op, operands) is x  # type: ignore[arg-type]


@pytest.mark.parametrize(("op", "args", "why"), [
    ("add", ("x", 0.0), "-0.0 + 0.0 is 0.0"), ("add", (0.0, "x"), "0.0 + -0.0 is 0.0"),
    ("sub", ("x", -0.0), "-0.0 - -0.0 is 0.0"), ("sub", (0.0, "x"), "0.0 - 0.0 is not -0.0"),
    ("mul", ("x", 0.0), "-0.0 for x < 0, and x may fail"), ("div", (0.0, "x"), "the same"),
    ("pow", ("x", 0.0), "1.0, but x may fail"),
])
def test_no_identity_that_ieee_arithmetic_disagrees_with(x: Scalar, op: str,
                                                         args: tuple[object, ...],
                                                         why: str) -> None:
    operands = tuple(x if a == "x" else a for a in args)
    kept = NodeBuilder().apply(op, operands)  # type: ignore[arg-type]
    assert isinstance(kept, Operation) and kept.op == op and kept.args == operands, why


def test_negations(x: Scalar) -> None:
    builder = NodeBuilder()
    minus_x = builder.apply("neg", (x,))
    assert builder.apply("neg", (minus_x,)) is x  # --x = x
    assert builder.apply("sub", (-0.0, x)) is minus_x  # -0.0 - x = -x, the same node
    assert builder.apply("mul", (x, -1.0)) is minus_x
    assert builder.apply("div", (x, -1.0)) is minus_x
    assert builder.apply("neg", (builder.apply("mul", (3.0, x)),)) is builder.apply(
        "mul", (-3.0, x))  # -(c*x) = (-c)*x


def test_given_needs_no_condition_that_its_value_needs_already(x: Scalar) -> None:
    builder = NodeBuilder()
    log_x = builder.apply("log", (x,))
    assert builder.apply("given", (log_x, log_x)) is log_x
    reciprocal = builder.apply("div", (1.0, log_x))
    assert builder.apply("given", (reciprocal, log_x)) is reciprocal  # an operand of it
    guarded = builder.apply("given", (builder.apply("div", (1.0, x)), log_x))
    assert isinstance(guarded, Operation) and guarded.op == "given"
    assert builder.apply("given", (guarded, log_x)) is guarded


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
    assert describe(simplify((x * 1 - 0) * (2.0 * 3.0))) == "x*6"
    assert describe(simplify((x * 1 + 0) * (2.0 * 3.0))) == "(x + 0)*6"  # -0.0 + 0 is 0.0
    constant = simplify(Operation("add", (2.0, 3.0)) * 2.0)
    assert isinstance(constant, Constant) and constant.value == 10.0
    assert as_node(x) is x and as_node(1.5).value == 1.5  # type: ignore[union-attr]


@given(program=programs())
def test_simplify_keeps_every_value(program: Program) -> None:
    leaves = [Scalar(v, name=f"x{i}") for i, v in enumerate(program.inputs)]
    from peers import MINIGRAD_OPS

    y = program(MINIGRAD_OPS, *leaves)
    simpler = simplify(y)
    # the same bits (test_domains: also where the program raises)
    assert evaluate(Graph(simpler, *leaves))[simpler].hex() == evaluate(Graph(y))[y].hex()
    assert len(Graph(simpler)) <= len(Graph(y))

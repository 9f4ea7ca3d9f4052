"""Nodes: frozen, identity-hashed, validated at construction, printed without walking."""

from __future__ import annotations

import fractions
import time

import attrs
import pytest

from minigrad import Graph, Operation, Scalar, describe, log, relu


def test_nodes_are_frozen() -> None:
    a = Scalar(1.0, name="a")
    y = a * 2
    for node, field in [(a, "value"), (a, "name"), (y, "op"), (y, "args")]:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(node, field, 3.0)
    with pytest.raises(AttributeError):
        a.grad = 1.0  # type: ignore[attr-defined]  # there is no .grad, and none can be added


def test_identity_equality_and_hashing() -> None:
    a, b = Scalar(1.0), Scalar(1.0)
    assert a == a and a != b  # equal values, different leaves
    assert len({a, b, a}) == 2
    x, y = a * 2, a * 2
    assert x != y


def test_hash_eq_repr_never_walk_the_graph() -> None:
    # attrs' default structural hash takes ~2.3 s at 22 doublings and is exponential.
    y = Scalar(1.0, name="x")
    for _ in range(200):
        y = y + y
    start = time.perf_counter()
    hash(y), y == y, repr(y), describe(y)
    assert time.perf_counter() - start < 0.05


def test_deep_chain_repr_and_hash_do_not_recurse() -> None:
    y = Scalar(1.0, name="x")
    for _ in range(50_000):
        y = log(y)
    assert repr(y).startswith("Operation('log'")
    assert len(repr(y)) < 120
    hash(y)


def test_literals_are_floats_in_args() -> None:
    a = Scalar(2.0, name="a")
    assert (a * 3).args == (a, 3.0)
    assert type((a * 3).args[1]) is float
    assert (2 - a).args == (2.0, a)
    assert (a * fractions.Fraction(1, 2)).args == (a, 0.5)


@pytest.mark.parametrize("bad", ["abc", None, 1j, [1.0], True, {"x": 1}])
def test_non_numbers_are_rejected_with_their_type(bad: object) -> None:
    a = Scalar(1.0)
    type_name = type(bad).__name__
    with pytest.raises(TypeError, match=type_name):
        Scalar(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=type_name):
        a + bad
    with pytest.raises(TypeError, match=type_name):
        bad - a  # type: ignore[operator]
    with pytest.raises(TypeError, match=type_name):
        relu(bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), 10**400])
def test_non_finite_numbers_are_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match=r"finite|too large"):
        Scalar(bad)
    with pytest.raises(ValueError, match=r"finite|too large"):
        Scalar(1.0) * bad


def test_bad_names_and_ops() -> None:
    with pytest.raises(TypeError, match="name"):
        Scalar(1.0, name=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown op 'max'"):
        Operation("max", (Scalar(1.0), 2.0))
    with pytest.raises(ValueError, match="takes 1 operand"):
        Operation("relu", (Scalar(1.0), 2.0))


def test_describe_renders_infix_with_needed_parentheses() -> None:
    a, b = Scalar(1.0, name="a"), Scalar(2.0, name="b")
    assert describe(a - (b - a)) == "a - (b - a)"
    assert describe((a - b) - a) == "a - b - a"
    assert describe(a ** (b**a)) == "a**b**a"
    assert describe((a**b) ** a) == "(a**b)**a"
    assert describe(-(a + b)) == "-(a + b)"
    assert describe(a * -2) == "a*-2"
    assert describe(Scalar(-1.0) ** 0.5) == "(-1)**0.5"
    assert describe(abs(a) / relu(b)) == "abs(a)/relu(b)"
    long = a
    for _ in range(100):
        long = long + b
    assert len(describe(long, max_depth=1000)) <= 80


def test_graph_rejects_non_nodes() -> None:
    with pytest.raises(TypeError, match="output 0 is float"):
        Graph(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one output"):
        Graph()

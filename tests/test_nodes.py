"""Nodes: frozen, identity-hashed, validated at construction, printed without walking."""

from __future__ import annotations

import dataclasses
import fractions
import re
import time

import attrs
import numpy as np
import pytest

from minigrad import Graph, Operation, Scalar, backward, describe, evaluate, log, relu


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
    with pytest.raises(TypeError, match="op must be a str, got bytes"):
        Operation(b"mul", (Scalar(1.0), 2.0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="args must be a tuple of operands, got Scalar"):
        Operation("neg", Scalar(1.0))


class LoudFloat(float):
    """A float whose repr is code: pasted into generated code, it would run every call."""

    def __repr__(self) -> str:
        return "__import__('os').getpid() * 0 + 2.0"


@pytest.mark.parametrize(
    "literal",
    [np.float64(2), np.int64(2), np.float32(2), fractions.Fraction(2), LoudFloat(2.0), 2],
)
def test_operation_stores_literals_as_plain_floats(literal: object) -> None:
    # Operation(...) built directly used to keep the literal as given: numpy's repr
    # (np.float64(2.0)) then failed with NameError 'np' once the code was compiled.
    x = Scalar(3.0, name="x")
    for y in (Operation("mul", (x, literal)), Operation("mul", [x, literal]), x * literal):
        assert y.args == (x, 2.0) and type(y.args[1]) is float
        graph = Graph(y)
        for _ in range(12):  # the 11th call runs compiled code
            assert evaluate(graph)[y] == 6.0
            assert backward(graph, y)[x] == 2.0


def test_args_are_a_tuple_that_cannot_change() -> None:
    x = Scalar(1.0)
    operands: list[object] = [x, 2.0]
    y = Operation("add", operands)  # type: ignore[arg-type]
    operands[1] = "changed later"
    assert type(y.args) is tuple and y.args == (x, 2.0)
    same = (x, 3.0)
    assert Operation("add", same).args is same  # valid tuples are kept, not copied


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (float("nan"), ValueError, "op 'mul': operand 1 must be finite, got nan"),
        (np.float64("inf"), ValueError, "op 'mul': operand 1 must be finite, got inf"),
        ("2", TypeError, "op 'mul': operand 1 must be a real number, got str: '2'"),
        (True, TypeError, "op 'mul': operand 1 must be a real number, got bool"),
        (None, TypeError, "op 'mul': operand 1 must be a real number, got NoneType"),
        (10**400, ValueError, "op 'mul': operand 1 is too large for a float: an int of 401"),
    ],
)
def test_bad_literals_name_the_op_and_operand(bad: object, error: type, message: str) -> None:
    x = Scalar(1.0)
    with pytest.raises(error, match=re.escape(message)):
        Operation("mul", (x, bad))
    with pytest.raises(error, match=re.escape(message)):
        x * bad
    with pytest.raises(error, match=re.escape(message.replace("operand 1", "operand 0"))):
        bad * x  # type: ignore[operator]


@pytest.mark.parametrize("value", [np.float64(1.5), np.float32(1.5), LoudFloat(1.5), 1.5])
def test_scalar_stores_a_plain_float(value: float) -> None:
    leaf = Scalar(value)
    assert type(leaf.value) is float and leaf.value == 1.5


def test_messages_about_bad_values_are_short_and_honest() -> None:
    # It used to cut the digits to 40: "Scalar value 1000000000000000000000000000000000000000
    # is too large", which reads like 1e39.
    with pytest.raises(ValueError, match=r"^Scalar value is too large for a float: an int of 401"):
        Scalar(10**400)
    with pytest.raises(ValueError, match="an int of 5001 digits"):  # more than str() prints
        Scalar(-(10**5000))
    with pytest.raises(TypeError) as info:
        Scalar("x" * 10**6)  # type: ignore[arg-type]
    assert len(str(info.value)) < 120 and "..." in str(info.value)
    with pytest.raises(TypeError) as info:
        Scalar([1.0] * 10**6)  # type: ignore[arg-type]
    assert len(str(info.value)) < 120


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


@attrs.frozen
class FrozenLeaf(Scalar):
    unit: str = "m"


@attrs.define
class MutableLeaf(Scalar):
    unit: str = "m"


class PlainLeaf(Scalar):
    def doubled(self) -> float:
        return 2 * self.value


@dataclasses.dataclass(init=False)
class DataclassLeaf(Scalar):
    pass


class ValueEqualLeaf(Scalar):
    """Written by hand the way a dataclass compares: by value."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scalar) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


@pytest.mark.parametrize("cls", [FrozenLeaf, MutableLeaf, PlainLeaf, DataclassLeaf, ValueEqualLeaf])
def test_subclasses_compare_by_identity(cls: type[Scalar]) -> None:
    # attrs' and dataclasses' eq=True made P(0.0) == P(0.0): one leaf in the graph, the
    # gradients of both summed into it, and inputs={w2: 1} changed w1 as well.
    w1, w2 = cls(0.0), cls(0.0)  # equal fields, two different leaves
    assert w1 != w2 and (w1 == w2) is False and w1 == w1
    assert len({w1, w2}) == 2 and hash(w1) != hash(w2)
    y = w1 * 2 + w2 * 3
    graph = Graph(y)
    assert graph.leaves == (w1, w2)
    grads = backward(graph, y)
    assert (grads[w1], grads[w2]) == (2.0, 3.0)
    values = evaluate(graph, inputs={w2: 1.0})
    assert (values[w1], values[w2], values[y]) == (0.0, 1.0, 3.0)


def test_subclasses_keep_their_additions() -> None:
    leaf = FrozenLeaf(2.0, unit="s")
    assert leaf.unit == "s" and PlainLeaf(2.0).doubled() == 4.0
    assert attrs.evolve(leaf, unit="m") != leaf
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        leaf.value = 3.0  # type: ignore[misc]


def test_graph_rejects_non_nodes() -> None:
    with pytest.raises(TypeError, match="output 0 is float"):
        Graph(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one output"):
        Graph()


def test_describe_refuses_what_is_not_an_expression() -> None:
    with pytest.raises(TypeError, match="describe renders a node or a number, got str"):
        describe("hi")  # type: ignore[arg-type]


def test_micrograd_habits_get_a_hint_to_where_the_numbers_live() -> None:
    x = Scalar(2.0, name="x")
    y = x * x
    with pytest.raises(AttributeError, match=r"no attribute 'grad': .*backward\(Graph"):
        x.grad
    with pytest.raises(AttributeError, match=r"no attribute 'data': .*evaluate\(Graph"):
        y.data
    with pytest.raises(AttributeError, match=r"'Operation' object has no attribute 'value': "):
        y.value  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"has no attribute 'nonsense'$"):
        y.nonsense
    assert x.value == 2.0 and not hasattr(y, "__array__")

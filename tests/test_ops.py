"""Every row of the op table, checked against finite differences, PyTorch and JAX.

Each op is written once as a function of a math namespace (``peers.APPLY``) and run in
each library; a test checks that every op in ``minigrad.OPS`` has a row there and a
domain here, so a new op cannot go untested.
"""

from __future__ import annotations

import itertools
import math

import pytest
from peers import (
    APPLY,
    PEERS,
    assert_matches_peer,
    finite_difference_grad,
    minigrad_value_and_grad,
    torch_value_and_grad,
)

import minigrad
from minigrad import OPS, Operation, Scalar
from minigrad.interpret import interpret_forward
from minigrad.ops import FLOATS, PRIMITIVES, namespace, rule_text
from minigrad.rewrite import NodeBuilder, as_node

BINARY = [-3.0, -1.5, -0.5, 0.25, 1.0, 2.5]
POSITIVE = [0.1, 0.5, 1.0, 2.0, 7.5]
EVERYWHERE = [-4.0, -1.3, -0.2, 0.3, 1.7, 4.0]
UNIT = [-0.9, -0.5, 0.0, 0.3, 0.8]  # inside (-1, 1)
BETWEEN_WHOLE = [-3.7, -1.3, -0.2, 0.3, 1.7, 3.5]  # away from floor's and ceil's steps

# Points inside each op's domain (away from the kinks of relu and abs, where finite
# differences do not apply; the kinks have their own test below).
DOMAINS: dict[str, list[tuple[float, ...]]] = {
    "add": [(a, b) for a in BINARY for b in BINARY],
    "sub": [(a, b) for a in BINARY for b in BINARY],
    "mul": [(a, b) for a in BINARY for b in BINARY],
    "div": [(a, b) for a in BINARY for b in BINARY],
    "pow": [(a, b) for a in POSITIVE for b in BINARY],
    "neg": [(a,) for a in EVERYWHERE],
    "abs": [(a,) for a in EVERYWHERE],
    "relu": [(a,) for a in EVERYWHERE],
    "tanh": [(a,) for a in EVERYWHERE],
    "exp": [(a,) for a in EVERYWHERE],
    "log": [(a,) for a in POSITIVE],
    "sigmoid": [(a,) for a in [*EVERYWHERE, -40.0, 40.0]],
    "sqrt": [(a,) for a in POSITIVE],
    "sin": [(a,) for a in EVERYWHERE],
    "cos": [(a,) for a in EVERYWHERE],
    "step": [(a,) for a in EVERYWHERE],
    "sign": [(a,) for a in EVERYWHERE],
    "tan": [(a,) for a in [-1.2, -0.4, 0.3, 1.1, 2.5, 4.0]],
    "asin": [(a,) for a in UNIT],
    "acos": [(a,) for a in UNIT],
    "atan": [(a,) for a in EVERYWHERE],
    "atan2": [(a, b) for a in BINARY for b in BINARY],
    "sinh": [(a,) for a in EVERYWHERE],
    "cosh": [(a,) for a in EVERYWHERE],
    "asinh": [(a,) for a in EVERYWHERE],
    "acosh": [(a,) for a in [1.1, 1.5, 2.0, 7.5]],
    "atanh": [(a,) for a in UNIT],
    "expm1": [(a,) for a in EVERYWHERE],
    "log1p": [(a,) for a in [-0.9, -0.5, 0.1, 1.0, 7.5]],
    "log2": [(a,) for a in POSITIVE],
    "log10": [(a,) for a in POSITIVE],
    "cbrt": [(a,) for a in EVERYWHERE],
    "hypot": [(a, b) for a in BINARY for b in BINARY],
    "erf": [(a,) for a in EVERYWHERE],
    "erfc": [(a,) for a in EVERYWHERE],
    "floor": [(a,) for a in BETWEEN_WHOLE],
    "ceil": [(a,) for a in BETWEEN_WHOLE],
    "minimum": [(a, b) for a in BINARY for b in BINARY if a != b],
    "maximum": [(a, b) for a in BINARY for b in BINARY if a != b],
    "softplus": [(a,) for a in EVERYWHERE],
    "silu": [(a,) for a in EVERYWHERE],
    "gelu": [(a,) for a in EVERYWHERE],
    "given": [(a, b) for a in BINARY for b in BINARY],
}
CASES = {name: (APPLY[name], points) for name, points in DOMAINS.items()}

POINTS = [(name, point) for name, (_, points) in CASES.items() for point in points]


def test_every_op_has_cases() -> None:
    assert set(DOMAINS) == set(APPLY) == set(OPS)


@pytest.mark.parametrize(("name", "point"), POINTS)
def test_op_matches_finite_differences(name: str, point: tuple[float, ...]) -> None:
    fn = CASES[name][0]
    _, grads = minigrad_value_and_grad(fn, point)
    for ours, numeric in zip(grads, finite_difference_grad(fn, point), strict=True):
        assert math.isclose(ours, numeric, rel_tol=1e-6, abs_tol=1e-7), (name, point)


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize(("name", "point"), POINTS)
def test_op_matches_peers(name: str, point: tuple[float, ...], peer: str) -> None:
    assert_matches_peer(CASES[name][0], point, peer, what=f"{name}{point}")


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_kinks_follow_pytorch(name: str) -> None:
    # relu'(0) = 0 and abs'(0) = 0, as in PyTorch.
    fn = CASES[name][0]
    assert minigrad_value_and_grad(fn, (0.0,))[1] == [0.0]
    assert torch_value_and_grad(fn, (0.0,))[1] == [0.0]


def test_integer_power_of_negative_base() -> None:
    # (-2) ** 3 is defined; with a literal exponent no log(-2) is needed.
    value, grads = minigrad_value_and_grad(lambda o, a: a**3, (-2.0,))
    assert (value, grads) == (-8.0, [12.0])
    assert torch_value_and_grad(lambda o, a: a**3, (-2.0,)) == (value, grads)


def test_power_at_zero_base_is_computed_as_written() -> None:
    # The slopes of a**b are b * a**(b-1) and a**b * log(a), in every interpreter alike
    # (ops.py).  At a = 0 they meet log(0) or 0 * 0**-1 and raise, where PyTorch
    # substitutes 0 by convention; elsewhere at a = 0 they are plain numbers.
    import minigrad

    fn = lambda o, a, b: a**b
    with pytest.raises(minigrad.EvaluationError, match=r"with respect to operand 1.*log"):
        minigrad_value_and_grad(fn, (0.0, 2.0))
    assert torch_value_and_grad(fn, (0.0, 2.0)) == (0.0, [0.0, 0.0])
    assert minigrad_value_and_grad(lambda o, a: a**2.0, (0.0,)) == (0.0, [0.0])
    assert minigrad_value_and_grad(lambda o, a: a**1.0, (0.0,)) == (0.0, [1.0])
    with pytest.raises(minigrad.EvaluationError, match=r"0.0 \*\* 0.0 with respect to operand 0"):
        minigrad_value_and_grad(lambda o, a: a**0.0, (0.0,))


SAMPLE_POINTS = [-2.5, -1.0, -0.25, 0.0, 0.5, 1.0, 3.0]
#: Where a rule's steps could overflow or underflow on the way to a finite slope.
EXTREME_POINTS = [-0.0, 5e-324, -1e-300, 1e-160, 27.3, -40.5, 400.5, 710.5, 1e154, -1e200,
                  1e308, -1.7976931348623157e308]


@pytest.mark.parametrize("name", sorted(OPS))
def test_partial_rules_built_as_nodes_compute_the_float_rules_bit_for_bit(name: str) -> None:
    # Each partial rule runs on floats (the reference interpreter) and on nodes (the
    # node namespace of derivative graphs): evaluated, the nodes give the same floats,
    # and fail where the floats fail -- also at extreme magnitudes, where a step of the
    # rule that overflows on floats (a*a = inf, then 1 / (1 + inf) = 0) would be a node
    # that raises (issue 21, item 2).
    op = OPS[name]
    operands = [Scalar(0.0, name=n) for n in "ab"[: op.arity]]
    node = Operation(name, tuple(operands))
    for point in itertools.product(SAMPLE_POINTS + EXTREME_POINTS, repeat=op.arity):
        try:
            out = op.value(*point)
        except (ArithmeticError, ValueError):
            continue
        if not math.isfinite(out):
            continue  # the value itself fails: no gradient is ever computed there
        inputs = dict(zip(operands, point, strict=False))
        for rule in op.partial_rules:
            if rule is None:
                continue  # a condition (given's second operand): no partial
            try:
                expected: object = rule(FLOATS, *point, out)
            except (ArithmeticError, ValueError) as error:
                expected = ArithmeticError if isinstance(error, ArithmeticError) else ValueError
            built = as_node(rule(NodeBuilder().ops, *operands, node))
            graph = minigrad.Graph(built)
            try:  # the reference interpreter: floats, as the float rule computes them
                got: object = interpret_forward(graph, {
                    graph.index[leaf]: value for leaf, value in inputs.items()
                    if leaf in graph.index})[graph.index[built]]
            except minigrad.EvaluationError:
                got = "error"
            if isinstance(expected, float) and not math.isfinite(expected):
                expected = ArithmeticError  # an infinite slope is an error (interpret.py)
            if isinstance(expected, float) and isinstance(got, float):
                assert expected.hex() == got.hex(), (name, point)
            else:
                assert not isinstance(expected, float) and got == "error", (name, point)


def test_partial_rules_may_only_call_ops() -> None:
    # The node namespace has the table's ops and nothing else (no where, no gt): a
    # partial rule that calls anything else fails to build as nodes.
    builder = NodeBuilder()
    x = Scalar(1.0)
    with pytest.raises(AttributeError):
        (lambda m, a, out: m.where(m.gt(a, 0.0), 1.0, 0.0))(builder.ops, x, x)
    assert sorted(vars(builder.ops)) == sorted(OPS)


def test_a_namespace_must_have_every_primitive() -> None:
    with pytest.raises(TypeError, match=r"lacks the primitives .*erf"):
        namespace({name: abs for name in PRIMITIVES if name != "erf"}, "test")


@pytest.mark.parametrize("name", sorted(OPS))
def test_rules_print_as_text(name: str) -> None:
    op = OPS[name]
    names = ("x", "y")[: op.arity]
    assert rule_text(op.value_rule, *names)
    for rule in op.partial_rules:
        assert rule_text(rule, *names, "out")
    assert rule_text(None) == "none"  # given's condition

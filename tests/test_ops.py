"""Every row of the op table, checked against finite differences, PyTorch and JAX.

Each op is written once as a function of a math namespace (``peers.APPLY``) and run in
each library; a test checks that every op in ``minigrad.OPS`` has a row there and a
domain here, so a new op cannot go untested.
"""

from __future__ import annotations

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

from minigrad import OPS

BINARY = [-3.0, -1.5, -0.5, 0.25, 1.0, 2.5]
POSITIVE = [0.1, 0.5, 1.0, 2.0, 7.5]
EVERYWHERE = [-4.0, -1.3, -0.2, 0.3, 1.7, 4.0]

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


def test_power_at_zero_base_follows_pytorch() -> None:
    # d/db 0**b = 0 for b > 0 (PyTorch's convention), and d/da a**0 = 0 even at a = 0.
    fn = lambda o, a, b: a**b
    assert minigrad_value_and_grad(fn, (0.0, 2.0)) == torch_value_and_grad(fn, (0.0, 2.0))
    zero_exponent = lambda o, a: a**0.0
    assert minigrad_value_and_grad(zero_exponent, (0.0,)) == (1.0, [0.0])

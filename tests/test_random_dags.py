"""Random expression DAGs (hypothesis): MiniGrad's gradients equal PyTorch's and JAX's.

A random *program* is a list of steps ``(op, operands)``, each operand a reference to an
earlier value (an input or a step, so values get shared) or a float literal.  While
drawing it we compute every value in plain floats and only keep ops whose operands are
comfortably inside their domain (log and sqrt of at least 0.05, divisors and bases away
from 0, no result above 1e4, relu, abs, step and sign away from their kinks); elsewhere the step
falls back to tanh, which is defined everywhere.  The same program is then run in
MiniGrad, PyTorch (float64) and JAX (x64).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from peers import (
    APPLY,
    PEERS,
    assert_matches_peer,
    finite_difference_grad,
    minigrad_value_and_grad,
)

from minigrad import OPS


@attrs.frozen
class Ref:
    """An operand that is the value at this position: inputs first, then the steps."""

    position: int


@attrs.frozen
class Program:
    inputs: tuple[float, ...]
    steps: tuple[tuple[str, tuple[Ref | float, ...]], ...]
    #: More input points at which every step is comfortably defined too (for batches).
    more_inputs: tuple[tuple[float, ...], ...] = ()

    def __call__(self, ops: Any, *leaves: Any) -> Any:
        values = list(leaves)
        for op, operands in self.steps:
            args = [values[o.position] if isinstance(o, Ref) else o for o in operands]
            values.append(APPLY[op](ops, *args))
        return values[-1]


def comfortably_defined(op: str, operands: list[float]) -> bool:
    """Is the op far enough inside its domain that all three libraries agree closely?"""
    a = operands[0]
    b = operands[1] if len(operands) > 1 else 0.0
    if op in ("log", "sqrt") and a < 0.05:
        return False
    if op == "div" and abs(b) < 0.05:
        return False
    if op == "pow" and not (0.05 < a < 20 and abs(b) < 4):
        return False
    if op in ("relu", "abs", "step", "sign") and abs(a) < 1e-3:
        return False
    if (op in ("asin", "acos", "atanh") and abs(a) > 0.9) or (op == "acosh" and a < 1.1):
        return False
    if (op == "log1p" and a < -0.9) or (op in ("log2", "log10") and a < 0.05):
        return False
    if (op == "cbrt" and abs(a) < 0.05) or (op == "tan" and abs(math.cos(a)) < 0.2):
        return False
    if op in ("floor", "ceil") and abs(a - round(a)) < 1e-3:
        return False  # next to a step: finite differences jump
    if op in ("minimum", "maximum") and abs(a - b) < 1e-3:
        return False  # next to a tie
    if op in ("atan2", "hypot") and abs(a) + abs(b) < 0.05:
        return False
    try:
        out = OPS[op].value(*operands)
    except (ArithmeticError, ValueError):
        return False
    return abs(out) < 1e4


@st.composite
def programs(draw: st.DrawFn, more_points: int = 0) -> Program:
    """A random program, comfortably defined at its inputs and ``more_points`` more."""
    small = st.floats(-3.0, 3.0, allow_nan=False).map(lambda x: round(x, 3))
    inputs = draw(st.lists(small, min_size=1, max_size=4))
    points = [inputs] + [
        draw(st.lists(small, min_size=len(inputs), max_size=len(inputs)))
        for _ in range(more_points)
    ]
    columns = [list(point) for point in points]  # each point's values, step by step
    steps = []
    for _ in range(draw(st.integers(1, 25))):
        op = draw(st.sampled_from(sorted(OPS)))
        operands: list[Ref | float] = []
        for k in range(OPS[op].arity):
            # One literal at most, and only as a binary op's operand (torch.relu(2.0)
            # is no tensor op); references lean to recent values, so graphs get deep.
            if k == 1 and not any(isinstance(o, float) for o in operands) and draw(
                st.booleans()
            ) and draw(st.booleans()):
                operands.append(draw(small))
            else:
                newest = len(columns[0]) - 1
                operands.append(Ref(draw(st.integers(max(0, newest - 6), newest))))
        numbers = [
            [values[o.position] if isinstance(o, Ref) else o for o in operands]
            for values in columns
        ]
        if not all(comfortably_defined(op, at_point) for at_point in numbers):
            op, operands = "tanh", operands[:1]
            numbers = [at_point[:1] for at_point in numbers]
            if not isinstance(operands[0], Ref):  # pragma: no cover - first operand is a Ref
                continue
        for values, at_point in zip(columns, numbers, strict=True):
            values.append(OPS[op].value(*at_point))
        steps.append((op, tuple(operands)))
    return Program(tuple(inputs), tuple(steps), tuple(map(tuple, points[1:])))


@pytest.mark.parametrize("peer", sorted(PEERS))
@given(program=programs())
def test_random_dags_match_peers(peer: str, program: Program) -> None:
    assert_matches_peer(program, program.inputs, peer)


@given(programs())
def test_random_dags_match_finite_differences(program: Program) -> None:
    _, grads = minigrad_value_and_grad(program, program.inputs)
    numeric = finite_difference_grad(program, program.inputs, step=1e-7)
    scale = max(1.0, *map(abs, grads))
    for ours, theirs in zip(grads, numeric, strict=True):
        assert math.isclose(ours, theirs, rel_tol=1e-4, abs_tol=1e-5 * scale)

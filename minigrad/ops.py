"""Every op MiniGrad knows: its value rule and its derivative rules, side by side.

This table is the whole of the calculus in MiniGrad.  Each row says

* ``value(*operands) -> out``: how to compute the op's output from its operand values;
* ``partials[k](*operands, out) -> d out / d operand_k``: the local derivative with
  respect to operand ``k``, given the operand values and the output (many derivatives
  are cheapest in terms of the output: ``exp' = exp``, ``tanh' = 1 - tanh**2``).

The backward pass (``backward.py``) is the chain rule on top of this table: it multiplies
each partial by the gradient arriving at the node and *adds* the product into the
operand's gradient.  Adding -- never assigning -- is what makes ``x - x`` and ``x / x``
come out right when the same node is used twice.

To add an op, add one row here (and, if you want an operator or method for it, a line in
``nodes.py``); the tests walk this table and check every row against finite differences,
PyTorch and JAX.

Domain errors
-------------
A value rule may raise ``ZeroDivisionError``, ``ValueError`` (``math domain error``) or
``OverflowError``; a derivative rule likewise where the slope is infinite (``sqrt`` at
0).  The interpreters turn these into :class:`~minigrad.errors.EvaluationError` naming
the op, its operands and its node, using the op's ``domain`` text to say what was needed.
At kinks we follow PyTorch: ``relu'(0) = 0`` and ``abs'(0) = 0``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import attrs

__all__ = ["OPS", "Op"]


@attrs.frozen
class Op:
    """One row of the table: an op's name, how it prints, and its rules.

    Attributes
    ----------
    name : the key in :data:`OPS` and the ``op`` of an ``Operation`` node, e.g. ``"mul"``.
    symbol : how the op is written: ``"*"`` for infix ops, ``"relu"`` for functions.
    infix : True for ``a + b``-style ops, False for ``f(a)``-style ones.
    value : ``value(*operands) -> out``.
    partials : one function per operand, ``partial(*operands, out) -> d out/d operand``.
    domain : what the op needs of its operands, quoted in domain-error messages.
    """

    name: str
    symbol: str
    infix: bool
    value: Callable[..., float]
    partials: tuple[Callable[..., float], ...]
    domain: str = "operands whose result is a finite float"

    @property
    def arity(self) -> int:
        """How many operands the op takes (1 or 2)."""
        return len(self.partials)


# ---------------------------------------------------------------------------------------
# Helpers for the rules that need more than one line.  Each is a plain pure function.
# ---------------------------------------------------------------------------------------


def _pow_value(base: float, exponent: float) -> float:
    # math.pow, not the ** operator: (-8.0) ** 0.5 is a *complex* number in Python
    # (the old MiniGrad returned one), while math.pow raises ValueError, which becomes
    # an EvaluationError.  math.pow(0, -1) raises too, instead of returning inf.
    return math.pow(base, exponent)


def _pow_d_base(base: float, exponent: float, out: float) -> float:
    # d/da a**b = b * a**(b-1).  PyTorch takes it as exactly 0 when b == 0 (the function
    # is constant 1), even at a == 0 where a**(b-1) would be 0**-1.
    if exponent == 0.0:
        return 0.0
    return exponent * math.pow(base, exponent - 1.0)


def _pow_d_exponent(base: float, exponent: float, out: float) -> float:
    # d/db a**b = a**b * log(a), defined for a > 0.  At a == 0 PyTorch uses 0 when b >= 0
    # (the one-sided limit for b > 0); a < 0 has no real derivative along b, so log()
    # raises and the backward pass reports it -- where PyTorch and JAX return NaN.
    if base == 0.0 and exponent >= 0.0:
        return 0.0
    return out * math.log(base)


def _sigmoid_value(x: float) -> float:
    # 1 / (1 + e^-x) overflows in exp() for x < -709 although the answer is just ~0,
    # so for negative x use the equal form e^x / (1 + e^x), whose exp() cannot overflow.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x: float) -> float:
    # The derivative of abs: +1 or -1, and 0 at the kink (as PyTorch does).
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


# ---------------------------------------------------------------------------------------
# The table.  Math in the comment, then the row.  a, b are the operands, out the result.
# ---------------------------------------------------------------------------------------

_ROWS = [
    # a + b            d/da = 1              d/db = 1
    Op("add", "+", True, operator.add,
       (lambda a, b, out: 1.0, lambda a, b, out: 1.0)),
    # a - b            d/da = 1              d/db = -1
    Op("sub", "-", True, operator.sub,
       (lambda a, b, out: 1.0, lambda a, b, out: -1.0)),
    # a * b            d/da = b              d/db = a
    Op("mul", "*", True, operator.mul,
       (lambda a, b, out: b, lambda a, b, out: a)),
    # a / b            d/da = 1/b            d/db = -a/b**2 = -out/b
    Op("div", "/", True, operator.truediv,
       (lambda a, b, out: 1.0 / b, lambda a, b, out: -out / b),
       domain="a nonzero divisor"),
    # a ** b           d/da = b * a**(b-1)   d/db = a**b * log(a)
    Op("pow", "**", True, _pow_value, (_pow_d_base, _pow_d_exponent),
       domain="base > 0, or base < 0 with an integer exponent, or base 0 with exponent >= 0"),
    # -a               d/da = -1
    Op("neg", "-", False, operator.neg, (lambda a, out: -1.0,)),
    # |a|              d/da = sign(a), 0 at a = 0
    Op("abs", "abs", False, abs, (lambda a, out: _sign(a),)),
    # max(a, 0)        d/da = 1 if a > 0 else 0   (0 at the kink, as in PyTorch)
    Op("relu", "relu", False, lambda a: a if a > 0.0 else 0.0,
       (lambda a, out: 1.0 if a > 0.0 else 0.0,)),
    # tanh(a)          d/da = 1 - tanh(a)**2
    Op("tanh", "tanh", False, math.tanh, (lambda a, out: 1.0 - out * out,)),
    # e**a             d/da = e**a
    Op("exp", "exp", False, math.exp, (lambda a, out: out,)),
    # log(a)           d/da = 1/a
    Op("log", "log", False, math.log, (lambda a, out: 1.0 / a,), domain="a > 0"),
    # 1 / (1 + e**-a)  d/da = s * (1 - s) where s = sigmoid(a)
    Op("sigmoid", "sigmoid", False, _sigmoid_value,
       (lambda a, out: out * (1.0 - out),)),
    # sqrt(a)          d/da = 1 / (2 sqrt(a))   (infinite at a = 0)
    Op("sqrt", "sqrt", False, math.sqrt, (lambda a, out: 0.5 / out,),
       domain="a >= 0 (and a > 0 for its gradient)"),
    # sin(a)           d/da = cos(a)
    Op("sin", "sin", False, math.sin, (lambda a, out: math.cos(a),)),
    # cos(a)           d/da = -sin(a)
    Op("cos", "cos", False, math.cos, (lambda a, out: -math.sin(a),)),
]

#: Every op by name: ``OPS["mul"].value(2.0, 3.0) == 6.0``.
OPS: dict[str, Op] = {op.name: op for op in _ROWS}

#: The errors a rule may raise for operands outside its domain.
RULE_ERRORS = (ArithmeticError, ValueError)

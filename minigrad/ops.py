"""Every op MiniGrad knows: its value rule and its derivative rules, side by side.

This table is the whole of the calculus in MiniGrad.  Each row gives, as a Python
expression in the operands ``a`` (and ``b``) and the output ``out``,

* the **value rule**: how to compute ``out`` from the operands, e.g. ``a * b``;
* one **derivative rule** per operand: the local derivative d out / d a (d out / d b),
  e.g. ``b`` and ``a`` for ``a * b``.  Many derivatives are cheapest in terms of the
  output: ``exp' = out``, ``sqrt' = 0.5 / out``.

Each rule is written once, as text, and used twice: turned into a plain function here
(``op.value(a, b)``, ``op.partials[k](a, b, out)``), which the reference interpreters in
``interpret.py`` call, and pasted with the operands filled in into the straight-line code
that ``codegen.py`` generates for speed.  One source for both is what lets the tests
demand that the two paths agree to the last bit.

The backward pass (``interpret.py``, and compiled in ``codegen.py``) is the chain rule
on top of this table: it multiplies each partial by the gradient arriving at the node
and *adds* the product into the operand's gradient.  Adding -- never assigning -- is
what makes ``x - x`` and ``x / x`` come out right when the same node is used twice.

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
    value_rule : the value as an expression in ``a`` (and ``b``), e.g. ``"a * b"``.
    partial_rules : per operand, d out / d operand as an expression in ``a``, ``b``, ``out``.
    domain : what the op needs of its operands, quoted in domain-error messages.
    value : ``value(*operands) -> out``, made from ``value_rule``.
    partials : per operand, ``partial(*operands, out)``, made from ``partial_rules``.
    """

    name: str
    symbol: str
    infix: bool
    value_rule: str
    partial_rules: tuple[str, ...]
    domain: str = "operands whose result is a finite float"
    value: Callable[..., float] = attrs.field(init=False, repr=False)
    partials: tuple[Callable[..., float], ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Turn the rule texts into functions (frozen class: set once, via object).
        operands = ", ".join(OPERAND_NAMES[: self.arity])
        object.__setattr__(self, "value", rule_function(operands, self.value_rule))
        partials = tuple(rule_function(f"{operands}, out", rule) for rule in self.partial_rules)
        object.__setattr__(self, "partials", partials)

    @property
    def arity(self) -> int:
        """How many operands the op takes (1 or 2)."""
        return len(self.partial_rules)


#: The names the rules use for the operands, in order.
OPERAND_NAMES = ("a", "b")


# ---------------------------------------------------------------------------------------
# Helpers for the rules that need more than one line.  Each is a plain pure function.
# ---------------------------------------------------------------------------------------


def _pow_d_base(base: float, exponent: float) -> float:
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


def _sigmoid(x: float) -> float:
    # 1 / (1 + e^-x) overflows in exp() for x < -709 although the answer is just ~0,
    # so for negative x use the equal form e^x / (1 + e^x), whose exp() cannot overflow.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _tanh_slope(x: float) -> float:
    # d/dx tanh(x) = 1 - tanh(x)**2.  Computed that way it loses its digits as tanh(x)
    # rounds towards 1: wrong in the 8th digit at x = 10 and exactly 0 from x = 20, where
    # the true slope is 1.7e-17.  The same slope is 1 / cosh(x)**2
    # = 4 e^(-2|x|) / (1 + e^(-2|x|))**2, accurate everywhere, and exp of a number <= 0
    # cannot overflow.
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _sigmoid_slope(x: float) -> float:
    # d/dx sigmoid(x) = s * (1 - s) with s = sigmoid(x) rounds to 0 once s rounds to 1
    # (x >= 37), where the true slope is ~1e-16.  The same slope is
    # e^(-|x|) / (1 + e^(-|x|))**2 (sigmoid' is even), accurate and overflow-free.
    e = math.exp(-abs(x))
    return e / ((1.0 + e) * (1.0 + e))


def _sign(x: float) -> float:
    # The derivative of abs: +1 or -1, and 0 at the kink (as PyTorch does).
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


#: Every name a rule may use besides a, b and out.  Note ``pow`` is math.pow, not the
#: ** operator: (-8.0) ** 0.5 is a *complex* number in Python (the old MiniGrad returned
#: one), while math.pow raises ValueError, which becomes an EvaluationError; and
#: math.pow(0, -1) raises instead of returning inf.
RULE_NAMESPACE: dict[str, object] = {
    "pow": math.pow, "abs": abs, "tanh": math.tanh, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "sigmoid": _sigmoid,
    "tanh_slope": _tanh_slope, "sigmoid_slope": _sigmoid_slope, "sign": _sign,
    "pow_d_base": _pow_d_base, "pow_d_exponent": _pow_d_exponent,
}


def rule_function(parameters: str, rule: str) -> Callable[..., float]:
    """``rule_function("a, b", "a * b")`` is ``lambda a, b: a * b``."""
    function: Callable[..., float] = eval(  # our own table's text, never user input
        f"lambda {parameters}: {rule}", dict(RULE_NAMESPACE)
    )
    return function


# ---------------------------------------------------------------------------------------
# The table.  Math in the comment, then the row: value rule, then d/da (and d/db).
# ---------------------------------------------------------------------------------------

_ROWS = [
    # a + b            d/da = 1              d/db = 1
    Op("add", "+", True, "a + b", ("1.0", "1.0")),
    # a - b            d/da = 1              d/db = -1
    Op("sub", "-", True, "a - b", ("1.0", "-1.0")),
    # a * b            d/da = b              d/db = a
    Op("mul", "*", True, "a * b", ("b", "a")),
    # a / b            d/da = 1/b            d/db = -a/b**2 = -out/b
    Op("div", "/", True, "a / b", ("1.0 / b", "-out / b"), domain="a nonzero divisor"),
    # a ** b           d/da = b * a**(b-1)   d/db = a**b * log(a)
    Op("pow", "**", True, "pow(a, b)", ("pow_d_base(a, b)", "pow_d_exponent(a, b, out)"),
       domain="base > 0, or base < 0 with an integer exponent, or base 0 with exponent >= 0"),
    # -a               d/da = -1
    Op("neg", "-", False, "-a", ("-1.0",)),
    # |a|              d/da = sign(a), 0 at a = 0
    Op("abs", "abs", False, "abs(a)", ("sign(a)",)),
    # max(a, 0)        d/da = 1 if a > 0 else 0   (0 at the kink, as in PyTorch)
    Op("relu", "relu", False, "a if a > 0.0 else 0.0", ("1.0 if a > 0.0 else 0.0",)),
    # tanh(a)          d/da = 1 - tanh(a)**2 = 1 / cosh(a)**2
    Op("tanh", "tanh", False, "tanh(a)", ("tanh_slope(a)",)),
    # e**a             d/da = e**a
    Op("exp", "exp", False, "exp(a)", ("out",)),
    # log(a)           d/da = 1/a
    Op("log", "log", False, "log(a)", ("1.0 / a",), domain="a > 0"),
    # 1 / (1 + e**-a)  d/da = s * (1 - s) where s = sigmoid(a)
    Op("sigmoid", "sigmoid", False, "sigmoid(a)", ("sigmoid_slope(a)",)),
    # sqrt(a)          d/da = 1 / (2 sqrt(a))   (infinite at a = 0)
    Op("sqrt", "sqrt", False, "sqrt(a)", ("0.5 / out",),
       domain="a >= 0 (and a > 0 for its gradient)"),
    # sin(a)           d/da = cos(a)
    Op("sin", "sin", False, "sin(a)", ("cos(a)",)),
    # cos(a)           d/da = -sin(a)
    Op("cos", "cos", False, "cos(a)", ("-sin(a)",)),
]

#: Every op by name: ``OPS["mul"].value(2.0, 3.0) == 6.0``.
OPS: dict[str, Op] = {op.name: op for op in _ROWS}

#: The errors a rule may raise for operands outside its domain.
RULE_ERRORS = (ArithmeticError, ValueError)

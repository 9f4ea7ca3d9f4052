"""Every op MiniGrad knows: its value rule and its derivative rules, side by side.

This table is the whole of the calculus in MiniGrad.  Read it first: ``_ROWS``, right
after the ``Op`` class that names its columns (the few numerically careful helpers that
some rules call come after the table).  Each row is an op's name, the math in a comment
(the textbook form, and why a rule is written otherwise where it is), and two kinds of
rule, written as small functions:

* the **value rule** (``Op.value_rule``), a function ``(m, a, b)``: how to compute the
  op's output from its operands ``a`` (and ``b``), e.g. ``m.mul(a, b)``;
* one **partial rule** per operand (``Op.partial_rules``), each a function ``(m, a, b,
  out)``: the local derivative d out / d a (d out / d b), e.g. ``b`` and ``a`` for
  ``a * b``.  Many are cheapest in terms of the op's own output ``out``, which the
  forward pass has already computed: ``exp' = out`` costs nothing, ``sqrt' = 0.5 /
  out`` one division.

On floats, ``OPS["mul"].value(2.0, 3.0)`` and ``OPS["mul"].partial(0, 2.0, 3.0, 6.0)``
are shortcuts that run those rules with ``m`` = :data:`FLOATS` (the partial rule of
operand 0, given the operands and ``out``).

**Who is ``m``?**  Whoever runs the rule: a *namespace* of operations.  The same rule
runs on floats (:data:`FLOATS`: Python's ``math``, used by the reference interpreter in
``interpret.py``), on numpy arrays (``engine.py``: every node of one op at one depth at
once, for one point or many), on nodes (``derivatives.py``: the derivative of a graph is
a graph) and on text (:func:`rule_text`: ``show_code`` and ``backward_trace`` print a
rule with its operands filled in).  This is how JAX's autodidax writes its rules, and why
a new op is one row here plus its tests -- nothing elsewhere.

What a rule may call:

* a **value rule** may use the primitives every namespace has (:data:`PRIMITIVES`: ``+ -
  * / **``, the functions of Python's ``math``, and ``where(test, x, y)`` with the tests
  ``gt``, ``ge``, ``le``) and earlier rows.  A branch is ``where``, never Python ``if``
  (``if`` asks *one* float a question; ``where`` picks per point), and both of its
  branches are computed, so each must be harmless where it is not taken;
* a **partial rule** may use only the table's own ops (so the node namespace can build
  it as nodes, and derivatives of derivatives come for free) and float literals.

A branch is an op: relu's slope is ``step(a)`` (1 for a > 0, else 0) and abs's is
``sign(a)``; both have slope 0, so ``relu'' = 0``.

A partial rule must not overflow on the way to a finite slope.  On floats ``a * a`` may
be inf inside a rule whose result is still finite (``1 / (1 + inf)`` is 0), but built as
nodes every step is a node, and a node that is inf raises: then a derivative graph would
raise where ``backward()`` gives a number.  So the rules are written in forms whose every
step stays finite (atan's slope with ``hypot``, erf's with its argument capped), and a
test runs every rule at extreme magnitudes both ways.

One op is not arithmetic: ``given(a, b)`` is the value of ``a``, where ``b`` is defined.
Its partial rule for ``b`` is None: ``b`` is evaluated (and raises where it raises) but
never differentiated, like a literal.  Derivative graphs end in it (``derivatives.py``):
the derivative of ``log(x)`` is ``given(1/x, log(x))``, which raises where ``log(x)``
does, as ``backward()`` does.

Domain errors
-------------
On floats a rule raises ``ZeroDivisionError``, ``ValueError`` (``math domain error``) or
``OverflowError`` (:data:`RULE_ERRORS`) outside its op's domain; numpy returns inf or NaN
instead, which the engine checks for.  Either way the error the user sees is an
:class:`~minigrad.errors.EvaluationError` naming the op, its operands and its node, using
the op's ``domain`` text to say what was needed.  At kinks we follow PyTorch: ``relu'(0) =
0`` and ``abs'(0) = 0``.  At a zero base, the slopes of ``a ** b`` are computed as written
-- ``b * a**(b-1)`` and ``a**b * log(a)`` -- so where they meet ``0 ** -1`` or ``log(0)``
they raise; PyTorch substitutes 0 there by convention.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import attrs

__all__ = [
    "FLOATS", "OPS", "PRIMITIVES", "RULE_ERRORS", "Op", "namespace", "rule_text",
    "sympy_namespace",
]

#: What a rule is: a function of the namespace and the operands (and ``out``).
Rule = Callable[..., Any]


@attrs.frozen
class Op:
    """One row of the table: an op's name, how it prints, and its rules.

    Attributes
    ----------
    name : the key in :data:`OPS` and the ``op`` of an ``Operation`` node, e.g. ``"mul"``.
    symbol : how the op is written: ``"*"`` for infix ops, ``"relu"`` for functions.
    infix : True for ``a + b``-style ops, False for ``f(a)``-style ones.
    value_rule : ``value_rule(m, a[, b]) -> out`` over a namespace ``m``.
    partial_rules : per operand, ``partial(m, a[, b], out)``: d out / d operand; None for
        an operand that is a condition, not a value (``given``'s second): no gradient is
        passed to it, as to a literal.
    domain : what the op needs of its operands, quoted in domain-error messages.
    precedence : how strongly an infix or prefix op binds when printed (``+`` 1, ``*`` 2,
        unary ``-`` 3, ``**`` 4); functions are atoms (5) and never need parentheses.
    commutative : False for infix ops whose operand order matters (``-``, ``/``, ``**``):
        drawings label their operands.
    doc : one line on what a function-style op computes, the docstring of
        ``minigrad.NAME`` and of the method ``node.NAME()``.
    total : True if the value is a finite float for *every* finite operand (sin, tanh,
        relu, ...; not exp, which overflows, nor log): an expression of total ops always
        evaluates, so its derivative graphs need no ``given`` (``derivatives.py``).
    """

    name: str
    symbol: str
    infix: bool
    value_rule: Rule
    partial_rules: tuple[Rule | None, ...]
    domain: str = "operands whose result is a finite float"
    precedence: int = 5
    commutative: bool = True
    doc: str = ""
    total: bool = False

    @property
    def arity(self) -> int:
        """How many operands the op takes (1 or 2)."""
        return len(self.partial_rules)

    @property
    def is_function(self) -> bool:
        """Written ``name(a)``: a function of minigrad, a method of nodes, a CLI function."""
        return not self.infix and self.symbol.isidentifier()

    def value(self, *operands: float) -> float:
        """The value rule on floats: ``OPS["mul"].value(2.0, 3.0) == 6.0``."""
        result: float = self.value_rule(FLOATS, *operands)
        return result

    def partial(self, argnum: int, *operands_and_out: float) -> float:
        """Partial rule ``argnum`` on floats: ``OPS["mul"].partial(0, 2.0, 3.0, 6.0) == 3.0``."""
        rule = self.partial_rules[argnum]
        if rule is None:
            raise ValueError(f"{self.name} passes no gradient to its operand {argnum}")
        result: float = rule(FLOATS, *operands_and_out)
        return result


# ---------------------------------------------------------------------------------------
# The table.  Math in the comment, then the row: the value rule, then d/da (and d/db).
# ---------------------------------------------------------------------------------------

_ROWS = [
    # a + b            d/da = 1              d/db = 1
    Op("add", "+", True, lambda m, a, b: m.add(a, b),
       (lambda m, a, b, out: 1.0, lambda m, a, b, out: 1.0), precedence=1),
    # a - b            d/da = 1              d/db = -1
    Op("sub", "-", True, lambda m, a, b: m.sub(a, b),
       (lambda m, a, b, out: 1.0, lambda m, a, b, out: -1.0), precedence=1, commutative=False),
    # a * b            d/da = b              d/db = a
    Op("mul", "*", True, lambda m, a, b: m.mul(a, b),
       (lambda m, a, b, out: b, lambda m, a, b, out: a), precedence=2),
    # a / b            d/da = 1/b            d/db = -a/b**2 = -out/b
    Op("div", "/", True, lambda m, a, b: m.div(a, b),
       (lambda m, a, b, out: m.div(1.0, b), lambda m, a, b, out: m.div(m.neg(out), b)),
       domain="a nonzero divisor", precedence=2, commutative=False),
    # a ** b           d/da = b * a**(b-1)   d/db = a**b * log(a)
    Op("pow", "**", True, lambda m, a, b: m.pow(a, b),
       (lambda m, a, b, out: m.mul(b, m.pow(a, m.sub(b, 1.0))),
        lambda m, a, b, out: m.mul(out, m.log(a))),
       domain="base > 0, or base < 0 with an integer exponent, or base 0 with exponent >= 0"
              "; its gradient also needs log(base) along an exponent that is a node, and"
              " base**(exponent - 1) along the base",
       precedence=4, commutative=False),
    # -a               d/da = -1
    Op("neg", "-", False, lambda m, a: m.neg(a), (lambda m, a, out: -1.0,), precedence=3,
       total=True),
    # |a|              d/da = sign(a), 0 at a = 0
    Op("abs", "abs", False, lambda m, a: m.abs(a), (lambda m, a, out: m.sign(a),),
       doc="The absolute value |x|.", total=True),
    # max(a, 0)        d/da = step(a): 1 if a > 0 else 0   (0 at the kink, as in PyTorch)
    Op("relu", "relu", False, lambda m, a: m.where(m.gt(a, 0.0), a, 0.0),
       (lambda m, a, out: m.step(a),), doc="max(x, 0).", total=True),
    # tanh(a)          d/da = 1 - tanh(a)**2 = sech(a)**2   (see _tanh_slope, below)
    Op("tanh", "tanh", False, lambda m, a: m.tanh(a),
       (lambda m, a, out: _tanh_slope(m, a, out),),
       doc="The hyperbolic tangent.", total=True),
    # e**a             d/da = e**a = out
    Op("exp", "exp", False, lambda m, a: m.exp(a), (lambda m, a, out: out,),
       doc="e to the power x."),
    # log(a)           d/da = 1/a
    Op("log", "log", False, lambda m, a: m.log(a), (lambda m, a, out: m.div(1.0, a),),
       domain="a > 0", doc="The natural logarithm; needs x > 0."),
    # 1 / (1 + e**-a)  d/da = s * (1 - s) = s * sigmoid(-a) where s = sigmoid(a) = out
    #   (1 - s rounds to 0 for a >= 37, where the slope is still ~1e-16; the value without
    #   overflow: see _sigmoid_value, below)
    Op("sigmoid", "sigmoid", False, lambda m, a: _sigmoid_value(m, a),
       (lambda m, a, out: m.mul(out, m.sigmoid(m.neg(a))),),
       doc="The logistic function 1 / (1 + e**-x).", total=True),
    # sqrt(a)          d/da = 1 / (2 sqrt(a)) = 0.5 / out   (infinite at a = 0)
    Op("sqrt", "sqrt", False, lambda m, a: m.sqrt(a), (lambda m, a, out: m.div(0.5, out),),
       domain="a >= 0 (and a > 0 for its gradient)",
       doc="The square root; needs x >= 0 (and x > 0 for its gradient)."),
    # sin(a)           d/da = cos(a)
    Op("sin", "sin", False, lambda m, a: m.sin(a), (lambda m, a, out: m.cos(a),),
       doc="The sine (radians).", total=True),
    # cos(a)           d/da = -sin(a)
    Op("cos", "cos", False, lambda m, a: m.cos(a), (lambda m, a, out: m.neg(m.sin(a)),),
       doc="The cosine (radians).", total=True),
    # step(a)          d/da = 0      (the Heaviside step: 1 if a > 0 else 0; relu's slope)
    Op("step", "step", False, lambda m, a: m.where(m.gt(a, 0.0), 1.0, 0.0),
       (lambda m, a, out: 0.0,),
       doc="The step function: 1 for x > 0, else 0 (relu's slope); its slope is 0.",
       total=True),
    # sign(a)          d/da = 0      (+1, -1, or 0 at 0; abs's slope)
    Op("sign", "sign", False, lambda m, a: m.sign(a), (lambda m, a, out: 0.0,),
       doc="The sign of x: 1, -1, or 0 at 0 (abs's slope); its slope is 0.", total=True),
    # -- the math module's functions (names as in Python's math; numpy's for min/max) --
    # tan(a)           d/da = 1 + tan(a)**2 = 1 + out**2   (|tan| < 1.7e16 in floats)
    Op("tan", "tan", False, lambda m, a: m.tan(a),
       (lambda m, a, out: m.add(1.0, m.mul(out, out)),), doc="The tangent (radians).",
       total=True),
    # asin(a)          d/da = 1 / sqrt(1 - a**2)     (infinite at a = +-1)
    #   ((1 - a)(1 + a) keeps the digits that 1 - a*a loses near +-1)
    Op("asin", "asin", False, lambda m, a: m.asin(a),
       (lambda m, a, out: m.div(1.0, m.sqrt(m.mul(m.sub(1.0, a), m.add(1.0, a)))),),
       domain="-1 <= a <= 1 (and -1 < a < 1 for its gradient)",
       doc="The arc sine; needs -1 <= x <= 1."),
    # acos(a)          d/da = -1 / sqrt(1 - a**2)    (infinite at a = +-1)
    Op("acos", "acos", False, lambda m, a: m.acos(a),
       (lambda m, a, out: m.div(-1.0, m.sqrt(m.mul(m.sub(1.0, a), m.add(1.0, a)))),),
       domain="-1 <= a <= 1 (and -1 < a < 1 for its gradient)",
       doc="The arc cosine; needs -1 <= x <= 1."),
    # atan(a)          d/da = 1 / (1 + a**2)           (see _over_norm_squared, below)
    Op("atan", "atan", False, lambda m, a: m.atan(a),
       (lambda m, a, out: _over_norm_squared(m, 1.0, a, 1.0),),
       doc="The arc tangent.", total=True),
    # atan2(a, b)      the angle of the point (b, a)
    #                  d/da = b / (a**2 + b**2)   d/db = -a / (a**2 + b**2)   (none at 0, 0)
    Op("atan2", "atan2", False, lambda m, a, b: m.atan2(a, b),
       (lambda m, a, b, out: _over_norm_squared(m, b, a, b),
        lambda m, a, b, out: _over_norm_squared(m, m.neg(a), a, b)),
       commutative=False, domain="a point other than (0, 0) for its gradient",
       doc="atan2(y, x): the angle of the point (x, y), in (-pi, pi].", total=True),
    # sinh(a)          d/da = cosh(a)
    Op("sinh", "sinh", False, lambda m, a: m.sinh(a), (lambda m, a, out: m.cosh(a),),
       doc="The hyperbolic sine."),
    # cosh(a)          d/da = sinh(a)
    Op("cosh", "cosh", False, lambda m, a: m.cosh(a), (lambda m, a, out: m.sinh(a),),
       doc="The hyperbolic cosine."),
    # asinh(a)         d/da = 1 / sqrt(a**2 + 1) = 1 / hypot(a, 1)   (a*a would overflow)
    Op("asinh", "asinh", False, lambda m, a: m.asinh(a),
       (lambda m, a, out: m.div(1.0, m.hypot(a, 1.0)),), doc="The inverse hyperbolic sine.",
       total=True),
    # acosh(a)         d/da = 1 / sqrt(a**2 - 1) = 1 / (sqrt(a - 1) sqrt(a + 1))  (inf at 1)
    Op("acosh", "acosh", False, lambda m, a: m.acosh(a),
       (lambda m, a, out: m.div(1.0, m.mul(m.sqrt(m.sub(a, 1.0)), m.sqrt(m.add(a, 1.0)))),),
       domain="a >= 1 (and a > 1 for its gradient)",
       doc="The inverse hyperbolic cosine; needs x >= 1."),
    # atanh(a)         d/da = 1 / (1 - a**2) = 1 / ((1 - a)(1 + a))
    Op("atanh", "atanh", False, lambda m, a: m.atanh(a),
       (lambda m, a, out: m.div(1.0, m.mul(m.sub(1.0, a), m.add(1.0, a))),),
       domain="-1 < a < 1", doc="The inverse hyperbolic tangent; needs -1 < x < 1."),
    # e**a - 1         d/da = e**a   (not out + 1, which loses the digits of e**a << 1)
    Op("expm1", "expm1", False, lambda m, a: m.expm1(a), (lambda m, a, out: m.exp(a),),
       doc="e**x - 1, exact also for tiny x."),
    # log(1 + a)       d/da = 1 / (1 + a)
    Op("log1p", "log1p", False, lambda m, a: m.log1p(a),
       (lambda m, a, out: m.div(1.0, m.add(1.0, a)),), domain="a > -1",
       doc="log(1 + x), exact also for tiny x; needs x > -1."),
    # log2(a)          d/da = 1 / (a ln 2)
    Op("log2", "log2", False, lambda m, a: m.log2(a),
       (lambda m, a, out: m.div(1.4426950408889634, a),), domain="a > 0",
       doc="The base-2 logarithm; needs x > 0."),
    # log10(a)         d/da = 1 / (a ln 10)
    Op("log10", "log10", False, lambda m, a: m.log10(a),
       (lambda m, a, out: m.div(0.4342944819032518, a),), domain="a > 0",
       doc="The base-10 logarithm; needs x > 0."),
    # cbrt(a)          d/da = 1 / (3 cbrt(a)**2) = 1 / (3 out**2)     (infinite at 0)
    Op("cbrt", "cbrt", False, lambda m, a: m.cbrt(a),
       (lambda m, a, out: m.div(1.0, m.mul(m.mul(3.0, out), out)),),
       domain="a != 0 for its gradient", doc="The cube root (of negative x too).",
       total=True),
    # hypot(a, b)      sqrt(a**2 + b**2), without overflow
    #                  d/da = a / out    d/db = b / out     (none at 0, 0)
    Op("hypot", "hypot", False, lambda m, a, b: m.hypot(a, b),
       (lambda m, a, b, out: m.div(a, out), lambda m, a, b, out: m.div(b, out)),
       domain="a point other than (0, 0) for its gradient",
       doc="hypot(x, y): sqrt(x**2 + y**2), without overflow."),
    # erf(a)           d/da = 2/sqrt(pi) e**(-a**2)   (the bell: see _bell, below)
    Op("erf", "erf", False, lambda m, a: m.erf(a),
       (lambda m, a, out: m.mul(1.1283791670955126, _bell(m, a, -1.0)),),
       doc="The error function.", total=True),
    # erfc(a) = 1 - erf(a)   d/da = -2/sqrt(pi) e**(-a**2)   (erfc(10) = 2.1e-45, not 0)
    Op("erfc", "erfc", False, lambda m, a: m.erfc(a),
       (lambda m, a, out: m.mul(-1.1283791670955126, _bell(m, a, -1.0)),),
       doc="The complementary error function 1 - erf(x), exact also far right.",
       total=True),
    # floor(a)         d/da = 0      (steps: slope 0 between them, and 0 at them, as PyTorch)
    Op("floor", "floor", False, lambda m, a: m.floor(a), (lambda m, a, out: 0.0,),
       doc="The largest whole number <= x.", total=True),
    # ceil(a)          d/da = 0
    Op("ceil", "ceil", False, lambda m, a: m.ceil(a), (lambda m, a, out: 0.0,),
       doc="The smallest whole number >= x.", total=True),
    # min(a, b)        d/da = 1 where a < b, 0 where a > b, 1/2 each at a tie (PyTorch, JAX)
    #                  = (1 - sign(a - b)) / 2   (the sign without overflow: _order, below)
    Op("minimum", "minimum", False, lambda m, a, b: m.where(m.le(a, b), a, b),
       (lambda m, a, b, out: m.mul(0.5, m.sub(1.0, _order(m, a, b))),
        lambda m, a, b, out: m.mul(0.5, m.add(1.0, _order(m, a, b)))),
       doc="minimum(x, y): the smaller; at a tie the gradient is split equally.", total=True),
    # max(a, b)        d/da = 1 where a > b, 0 where a < b, 1/2 each at a tie
    Op("maximum", "maximum", False, lambda m, a, b: m.where(m.ge(a, b), a, b),
       (lambda m, a, b, out: m.mul(0.5, m.add(1.0, _order(m, a, b))),
        lambda m, a, b, out: m.mul(0.5, m.sub(1.0, _order(m, a, b)))),
       doc="maximum(x, y): the larger; at a tie the gradient is split equally.", total=True),
    # log(1 + e**a)    d/da = sigmoid(a)     (the value without overflow: _softplus_value)
    Op("softplus", "softplus", False, lambda m, a: _softplus_value(m, a),
       (lambda m, a, out: m.sigmoid(a),),
       doc="log(1 + e**x), without overflow: a smooth relu.", total=True),
    # a sigmoid(a)     d/da = s + a s (1 - s) = s (1 + a sigmoid(-a)) where s = sigmoid(a)
    Op("silu", "silu", False, lambda m, a: m.mul(a, m.sigmoid(a)),
       (lambda m, a, out: m.mul(m.sigmoid(a), m.add(1.0, m.mul(a, m.sigmoid(m.neg(a))))),),
       doc="x * sigmoid(x) (also called swish).", total=True),
    # a Phi(a), Phi(a) = (1 + erf(a/sqrt(2)))/2   d/da = Phi(a) + a e**(-a**2/2)/sqrt(2 pi)
    Op("gelu", "gelu", False,
       lambda m, a: m.mul(m.mul(0.5, a), m.add(1.0, m.erf(m.mul(a, 0.7071067811865476)))),
       (lambda m, a, out: m.add(
           m.mul(0.5, m.add(1.0, m.erf(m.mul(a, 0.7071067811865476)))),
           m.mul(m.mul(a, 0.3989422804014327), _bell(m, a, -0.5))),),
       doc="x times the normal CDF of x (the exact, erf form).", total=True),
    # -- not arithmetic: a value with a condition --
    # given(a, b)      = a, where b is defined   d/da = 1   d/db: none (b is not differentiated)
    Op("given", "given", False, lambda m, a, b: a, (lambda m, a, b, out: 1.0, None),
       commutative=False, total=True,
       domain="its second operand to be defined (the value is the first)",
       doc="given(x, y): the value of x, where y is defined (an error where y is not). "
           "A derivative graph is given(derivative, f): it raises where f does."),
]

#: Every op by name: ``OPS["mul"].value(2.0, 3.0) == 6.0``.
OPS: dict[str, Op] = {op.name: op for op in _ROWS}

#: The errors a rule raises on floats for operands outside its domain.
RULE_ERRORS = (ArithmeticError, ValueError)


# ---------------------------------------------------------------------------------------
# The table's careful helpers: the forms that keep a rule's every step finite and exact.
# The rows above call them by name, so they may come after the table: a rule runs only
# once the whole module is loaded.
# ---------------------------------------------------------------------------------------

# sigmoid(a) = 1 / (1 + e**-a).  e**-a overflows for a < -709 although the answer is just
# ~0, so write it with e = e**-|a|, which cannot overflow: 1/(1 + e) for a >= 0, e/(1 + e)
# for a < 0 (multiply the top and bottom by e**a).
def _sigmoid_value(m: Any, a: Any) -> Any:
    e = m.exp(m.neg(m.abs(a)))
    return m.div(m.where(m.ge(a, 0.0), 1.0, e), m.add(1.0, e))


# softplus(a) = log(1 + e**a).  e**a overflows for a > 709 although the answer is just ~a;
# log1p(e**-|a|) + max(a, 0) is equal, cannot overflow, and log1p keeps the digits of the
# tiny values far left (softplus(-30) = 9.4e-14, not 0 or 1.1e-13).
def _softplus_value(m: Any, a: Any) -> Any:
    return m.add(m.log1p(m.exp(m.neg(m.abs(a)))), m.where(m.gt(a, 0.0), a, 0.0))


# |a|, capped: for slopes that are 0 in floats long before their steps overflow.
# minimum selects, it does not round: below the cap the steps are exactly those of |a|.
def _capped(m: Any, a: Any, cap: float) -> Any:
    return m.minimum(m.abs(a), cap)


# tanh'(a) = 1 - tanh(a)**2 = 4 sigmoid(2a) sigmoid(-2a).  1 - out*out loses every digit
# once tanh(a) rounds to 1 (|a| >= 19, where the slope is still 1e-16); the sigmoids keep
# them (sigmoid(-2a) is computed directly, not as 1 - sigmoid).  2a overflows for
# |a| > 9e307, and sigmoid(-2a) is 0 from |a| = 373 on: so |a|, capped at 400 (the
# product is even in a).
def _tanh_slope(m: Any, a: Any, out: Any) -> Any:
    c = _capped(m, a, 400.0)
    return m.mul(m.mul(4.0, m.sigmoid(m.mul(2.0, c))), m.sigmoid(m.mul(-2.0, c)))


# e**(-a**2), the bell of erf, erfc and gelu: a*a overflows for |a| > 1.3e154 although
# the bell is 0 from |a| = 27.3 on (e**-745 underflows): so |a|, capped at 40.
def _bell(m: Any, a: Any, scale: float) -> Any:
    c = _capped(m, a, 40.0)
    return m.exp(m.mul(m.mul(scale, c), c))


# top / (a**2 + b**2), for the slopes of atan and atan2: a*a + b*b overflows beyond 1e154
# (where the slope is a plain number or 0) and underflows to 0 below 1e-162 (where it is
# large but finite).  hypot does neither -- but for a norm above 1.8e308, so it is taken
# of the halves: with h = hypot(a/2, b/2), a**2 + b**2 = 4h**2, and the slope is
# (top/h) / 4 / h, every step of which is at most 2, or the slope itself.
def _over_norm_squared(m: Any, top: Any, a: Any, b: Any) -> Any:
    h = m.hypot(m.mul(0.5, a), m.mul(0.5, b))
    return m.div(m.mul(m.div(top, h), 0.25), h)


# The sign of a - b, for the slopes of minimum and maximum: a - b overflows (1e308 -
# -1e308) where a/2 - b/2 cannot.  Halving is exact down to 4.5e-308; below, two
# neighbouring subnormals can halve to one number and count as a tie (slope 1/2 each).
def _order(m: Any, a: Any, b: Any) -> Any:
    return m.sign(m.sub(m.mul(0.5, a), m.mul(0.5, b)))


# ---------------------------------------------------------------------------------------
# Namespaces: who runs the rules.
# ---------------------------------------------------------------------------------------

#: The operations every namespace provides; the value rules are written with these.
#: ``pow`` is a real power: ``(-8.0) ** 0.5`` has no real value (Python's ``**`` returns a
#: *complex* number there; ``math.pow`` raises, numpy gives NaN: both become an error).
PRIMITIVES = (
    "add", "sub", "mul", "div", "pow", "neg",
    "where", "gt", "ge", "le",
    "abs", "sign", "floor", "ceil", "exp", "expm1", "log", "log1p", "log2", "log10",
    "sqrt", "cbrt", "hypot", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
)


def namespace(primitives: dict[str, Callable[..., Any]], name: str) -> SimpleNamespace:
    """A namespace of the primitives and of every op of the table.

    An op that is not a primitive (relu, sigmoid, softplus, step, ...) is its own value
    rule run with this namespace, so a partial rule may call any op by name: relu's
    slope calls ``m.step``.  ``name`` says what the namespace computes on, for reprs.
    """
    missing = [p for p in PRIMITIVES if p not in primitives]
    if missing:
        raise TypeError(f"the {name} namespace lacks the primitives {', '.join(missing)}")
    ns = SimpleNamespace(**primitives)
    for op in OPS.values():
        if op.name not in primitives:
            setattr(ns, op.name, _bound_value_rule(op.value_rule, ns))
    ns.__doc__ = f"MiniGrad's ops over {name}"
    return ns


def _bound_value_rule(rule: Rule, ns: SimpleNamespace) -> Callable[..., Any]:
    return lambda *operands: rule(ns, *operands)


def _where(test: bool, then: float, otherwise: float) -> float:
    return then if test else otherwise


def _sign(x: float) -> float:
    # +1 or -1, and 0 at 0: the slope of abs, with abs'(0) = 0 as PyTorch has it.
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


def _floor(x: float) -> float:
    # math.floor returns an int, which has no -0.0: copysign puts the sign back, so
    # floor(-0.0) is -0.0 as in numpy, PyTorch and JAX (a whole number has x's sign).
    return math.copysign(float(math.floor(x)), x)


def _ceil(x: float) -> float:
    return math.copysign(float(math.ceil(x)), x)  # ceil(-0.5) = -0.0


#: The float namespace: Python's own arithmetic and ``math``.  Outside an op's domain
#: these raise (:data:`RULE_ERRORS`): ``math.log(-1.0)`` raises ValueError, ``1.0 / 0.0``
#: ZeroDivisionError, ``math.exp(1000.0)`` OverflowError.  (Plain ``*`` overflows to inf
#: without raising: the interpreters check every value.)
FLOATS = namespace({
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "div": operator.truediv, "pow": math.pow, "neg": operator.neg,
    "where": _where, "gt": operator.gt, "ge": operator.ge, "le": operator.le,
    "abs": abs, "sign": _sign, "floor": _floor, "ceil": _ceil, "exp": math.exp,
    "expm1": math.expm1, "log": math.log, "log1p": math.log1p, "log2": math.log2,
    "log10": math.log10, "sqrt": math.sqrt, "cbrt": math.cbrt, "hypot": math.hypot,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh,
    "cosh": math.cosh, "tanh": math.tanh, "asinh": math.asinh, "acosh": math.acosh,
    "atanh": math.atanh, "erf": math.erf, "erfc": math.erfc,
}, "floats")


# -- SymPy: a rule as a formula ------------------------------------------------------------


_SYMPY: list[SimpleNamespace] = []  # made on first use: sympy is an optional extra


def sympy_namespace() -> SimpleNamespace:
    """The SymPy namespace: each op as a SymPy expression (``pip install sympy``).

    Primitives are SymPy's own functions; a branch ``where(t, x, y)`` is a
    ``Piecewise``.  Ops whose value rule is written for numerical care get the plain
    textbook formula instead, the form a person writes and SymPy simplifies (they are
    equal as real functions): relu is ``Max(0, a)``, step ``Heaviside(a, 0)``, sigmoid
    ``1/(1 + exp(-a))``, softplus ``log(1 + exp(a))``, minimum and maximum ``Min`` and
    ``Max``; every other op comes from its value rule, so a new row needs nothing here.
    """
    if not _SYMPY:
        import sympy

        def where(test: Any, then: Any, otherwise: Any) -> Any:
            return sympy.Piecewise((then, test), (otherwise, True))

        _SYMPY.append(namespace({
            "add": operator.add, "sub": operator.sub, "mul": operator.mul,
            "div": operator.truediv, "pow": sympy.Pow, "neg": operator.neg,
            "where": where, "gt": sympy.Gt, "ge": sympy.Ge, "le": sympy.Le,
            "abs": sympy.Abs, "sign": sympy.sign, "floor": sympy.floor,
            "ceil": sympy.ceiling, "exp": sympy.exp, "expm1": lambda a: sympy.exp(a) - 1,
            "log": sympy.log, "log1p": lambda a: sympy.log(1 + a),
            "log2": lambda a: sympy.log(a, 2), "log10": lambda a: sympy.log(a, 10),
            "sqrt": sympy.sqrt,
            "cbrt": lambda a: sympy.sign(a) * sympy.Abs(a) ** sympy.Rational(1, 3),
            "hypot": lambda a, b: sympy.sqrt(a**2 + b**2), "sin": sympy.sin,
            "cos": sympy.cos, "tan": sympy.tan, "asin": sympy.asin, "acos": sympy.acos,
            "atan": sympy.atan, "atan2": sympy.atan2, "sinh": sympy.sinh,
            "cosh": sympy.cosh, "tanh": sympy.tanh, "asinh": sympy.asinh,
            "acosh": sympy.acosh, "atanh": sympy.atanh, "erf": sympy.erf,
            "erfc": sympy.erfc,
            # the textbook forms of ops whose value rule is written for floats' sake
            "relu": lambda a: sympy.Max(0, a), "step": lambda a: sympy.Heaviside(a, 0),
            "sigmoid": lambda a: 1 / (1 + sympy.exp(-a)),
            "softplus": lambda a: sympy.log(1 + sympy.exp(a)),
            "minimum": sympy.Min, "maximum": sympy.Max,
        }, "SymPy expressions"))
    return _SYMPY[0]


# -- text: a rule printed, not run -------------------------------------------------------


@attrs.frozen
class _Text:
    """A piece of a rule's text and how strongly its outermost op binds."""

    text: str
    precedence: int = 5  # an atom: a name, a number, a call


def _as_text(x: object) -> _Text:
    if isinstance(x, _Text):
        return x
    text = repr(x)
    return _Text(text, 3 if text.startswith("-") else 5)  # -1.0 binds like unary minus


def _infix(symbol: str, precedence: int) -> Callable[[object, object], _Text]:
    def write(a: object, b: object) -> _Text:
        left, right = _as_text(a), _as_text(b)
        # The left operand may share our precedence ((a - b) - c is a - b - c), the right
        # may not (a - (b - c)); for ** the other way round.
        left_needs, right_needs = (
            (precedence + 1, precedence) if symbol == "**" else (precedence, precedence + 1)
        )
        lhs = f"({left.text})" if left.precedence < left_needs else left.text
        rhs = f"({right.text})" if right.precedence < right_needs else right.text
        return _Text(f"{lhs} {symbol} {rhs}", precedence)

    return write


def _call(name: str) -> Callable[..., _Text]:
    return lambda *args: _Text(f"{name}({', '.join(_as_text(a).text for a in args)})")


def _negate(a: object) -> _Text:
    inner = _as_text(a)
    return _Text("-" + (inner.text if inner.precedence > 3 else f"({inner.text})"), 3)


_TEXT_OPS: dict[str, Callable[..., Any]] = {name: _call(name) for name in (*PRIMITIVES, *OPS)}
_TEXT_OPS.update({
    "add": _infix("+", 1), "sub": _infix("-", 1), "mul": _infix("*", 2),
    "div": _infix("/", 2), "pow": _infix("**", 4), "neg": _negate,
    "gt": _infix(">", 0), "ge": _infix(">=", 0), "le": _infix("<=", 0),
})
#: The text namespace: each op writes itself, so a rule run on names prints itself.
#: Every op is given (not derived from its value rule), so ``step(a)`` prints as a call.
TEXT = namespace(_TEXT_OPS, "text")


def rule_text(rule: Rule | None, *names: str) -> str:
    """A rule as text, with its operands (and ``out``) called ``names``; ``"none"`` for
    the missing partial rule of a condition (``given``'s second operand).

    >>> rule_text(OPS["pow"].partial_rules[0], "x", "3.0", "out")
    '3.0 * x ** (3.0 - 1.0)'
    >>> rule_text(OPS["relu"].value_rule, "x")
    'where(x > 0.0, x, 0.0)'
    """
    if rule is None:
        return "none"
    return _as_text(rule(TEXT, *(_Text(name) for name in names))).text

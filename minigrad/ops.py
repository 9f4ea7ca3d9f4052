"""Every op MiniGrad knows: its value rule and its derivative rules, side by side.

This table is the whole of the calculus in MiniGrad.  Each row gives, as a Python
expression in the operands ``a`` (and ``b``) and the output ``out``,

* the **value rule**: how to compute ``out`` from the operands, e.g. ``a * b``;
* one **derivative rule** per operand: the local derivative d out / d a (d out / d b),
  e.g. ``b`` and ``a`` for ``a * b``.  Many derivatives are cheapest in terms of the
  output: ``exp' = out``, ``sqrt' = 0.5 / out``.

**One rule, several interpreters.**  A derivative rule is written in the language of
the table itself: operands, float literals, ``+ - * /``, unary ``-`` and calls of the
table's ops (``cos(a)``, ``pow(a, b - 1.0)``, ``step(a)``), never Python ``if``.  So
each rule means the same thing to every interpreter that runs it:

* the float interpreters (``interpret.py``) call it as a plain function of floats
  (``op.partials[k](a, b, out)``), with each op name bound to that op's float value;
* the code generator (``codegen.py``) pastes its text, operands filled in, into
  straight-line code that runs with the same names -- so both paths do the same float
  operations in the same order and agree to the last bit;
* the transformations that build derivatives as graphs (``derivatives.py``) run it as
  a small program of ops (``op.partial_programs[k]``, parsed from the same text), which
  builds new nodes: the derivative of a graph is a graph.

A branch is an op: relu's slope is ``step(a)`` (1 for a > 0, else 0) and abs's is
``sign(a)``; both have slope 0, so ``relu'' = 0``.  To add an op, add one row here with
its rules in that language; the tests walk this table and check every row against finite
differences, PyTorch and JAX, and check that the float functions and the programs agree.

Domain errors
-------------
A value rule may raise ``ZeroDivisionError``, ``ValueError`` (``math domain error``) or
``OverflowError``; a derivative rule likewise where the slope is infinite (``sqrt`` at
0).  The interpreters turn these into :class:`~minigrad.errors.EvaluationError` naming
the op, its operands and its node, using the op's ``domain`` text to say what was needed.
At kinks we follow PyTorch: ``relu'(0) = 0`` and ``abs'(0) = 0``.  At a zero base, the
slopes of ``a ** b`` are computed as written -- ``b * a**(b-1)`` and ``a**b * log(a)`` --
so where they meet ``0 ** -1`` or ``log(0)`` they raise; PyTorch substitutes 0 there by
convention (for ``x ** 0`` at 0, and along the exponent of ``0 ** b``).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

import attrs

__all__ = ["OPS", "Op", "RuleProgram"]

#: The names the rules use for the operands, in order.
OPERAND_NAMES = ("a", "b")

#: A reference inside a rule program: an operand or ``out`` by name, the result of an
#: earlier equation by its index, or a float literal.
Ref = str | int | float


@attrs.frozen
class RuleProgram:
    """A derivative rule as a list of equations, each an op applied to earlier results.

    ``b * pow(a, b - 1.0)`` becomes::

        0: sub(b, 1.0)
        1: pow(a, #0)
        2: mul(b, #1)        result: #2

    The shape of JAX's jaxprs, tiny.  :meth:`run` runs it with any way of applying an op:
    on floats, or building nodes.
    """

    equations: tuple[tuple[str, tuple[Ref, ...]], ...]
    result: Ref

    def run(self, apply: Callable[[str, tuple[object, ...]], object],
            variables: dict[str, object]) -> object:
        """The rule's result: ``apply(op, args)`` for each equation in turn."""
        if not self.equations:  # "b", "out", "1.0": the commonest rules, read directly
            return variables[self.result] if isinstance(self.result, str) else self.result
        results: list[object] = []

        def read(ref: Ref) -> object:
            if isinstance(ref, str):
                return variables[ref]
            if isinstance(ref, int):
                return results[ref]
            return ref  # a float literal

        for op, refs in self.equations:
            results.append(apply(op, tuple(read(ref) for ref in refs)))
        return read(self.result)


#: The Python syntax a derivative rule may use, and the op each piece means.
_BINARY_OPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}


def parse_rule(rule: str, known_ops: set[str]) -> RuleProgram:
    """Parse a derivative rule's text into a :class:`RuleProgram`, or raise ValueError.

    Only operands (a, b, out), float literals, ``+ - * / **``, unary minus and calls of
    ops in ``known_ops`` are allowed: so every interpreter can run every rule.

    >>> parse_rule("b * pow(a, b - 1.0)", {"pow"})
    RuleProgram(equations=(('sub', ('b', 1.0)), ('pow', ('a', 0)), ('mul', ('b', 1))), result=2)
    """
    equations: list[tuple[str, tuple[Ref, ...]]] = []
    # Post-order without recursion: (node, children done?) on a stack.
    results: dict[int, Ref] = {}
    root = ast.parse(rule, mode="eval").body
    stack: list[tuple[ast.expr, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = _rule_children(node, rule, known_ops)
        if not done and children:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        results[id(node)] = _rule_ref(node, children, results, equations)
    return RuleProgram(tuple(equations), results[id(root)])


def _rule_children(node: ast.expr, rule: str, known_ops: set[str]) -> list[ast.expr]:
    """The sub-expressions of one piece of a rule; ValueError for anything not allowed."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return [node.operand]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id not in known_ops:
            raise ValueError(f"rule {rule!r} calls {node.func.id!r}, which is not an op")
        return list(node.args)
    if isinstance(node, ast.Name) and node.id in (*OPERAND_NAMES, "out"):
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        return []
    raise ValueError(f"rule {rule!r}: {ast.unparse(node)!r} is not allowed in a rule")


def _rule_ref(node: ast.expr, children: list[ast.expr], results: dict[int, Ref],
              equations: list[tuple[str, tuple[Ref, ...]]]) -> Ref:
    """The reference for one piece of a rule, adding an equation if it is an op."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, float)  # _rule_children let only floats through
        return node.value
    args = tuple(results[id(child)] for child in children)
    if isinstance(node, ast.UnaryOp):
        if isinstance(args[0], float):  # -1.0 is a literal, as Python itself folds it
            return -args[0]
        op = "neg"
    elif isinstance(node, ast.BinOp):
        op = _BINARY_OPS[type(node.op)]
    else:
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        op = node.func.id
    equations.append((op, args))
    return len(equations) - 1


@attrs.frozen
class Op:
    """One row of the table: an op's name, how it prints, and its rules.

    Attributes
    ----------
    name : the key in :data:`OPS` and the ``op`` of an ``Operation`` node, e.g. ``"mul"``.
    symbol : how the op is written: ``"*"`` for infix ops, ``"relu"`` for functions.
    infix : True for ``a + b``-style ops, False for ``f(a)``-style ones.
    value_rule : the value as an expression in ``a`` (and ``b``), e.g. ``"a * b"``.
    partial_rules : per operand, d out / d operand as an expression in ``a``, ``b``,
        ``out`` in the rule language (see the module docstring).
    domain : what the op needs of its operands, quoted in domain-error messages.
    precedence : how strongly an infix or prefix op binds when printed (``+`` 1, ``*`` 2,
        unary ``-`` 3, ``**`` 4); functions are atoms (5) and never need parentheses.
    commutative : False for infix ops whose operand order matters (``-``, ``/``, ``**``):
        drawings label their operands.
    doc : one line on what a function-style op computes, the docstring of
        ``minigrad.NAME`` and of the method ``node.NAME()``.
    value : ``value(*operands) -> out``, made from ``value_rule``.
    partials : per operand, ``partial(*operands, out)``, made from ``partial_rules``.
    partial_programs : per operand, the same rule as a :class:`RuleProgram`.
    """

    name: str
    symbol: str
    infix: bool
    value_rule: str
    partial_rules: tuple[str, ...]
    domain: str = "operands whose result is a finite float"
    precedence: int = 5
    commutative: bool = True
    doc: str = ""
    value: Callable[..., float] = attrs.field(init=False, repr=False)
    partials: tuple[Callable[..., float], ...] = attrs.field(init=False, repr=False)
    partial_programs: tuple[RuleProgram, ...] = attrs.field(init=False, repr=False)

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

    @property
    def is_function(self) -> bool:
        """Written ``name(a)``: a function of minigrad, a method of nodes, a CLI function."""
        return not self.infix and self.symbol.isidentifier()


# ---------------------------------------------------------------------------------------
# The float primitives the value rules call.  Each is a plain pure function.
# ---------------------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    # 1 / (1 + e^-x) overflows in exp() for x < -709 although the answer is just ~0,
    # so for negative x use the equal form e^x / (1 + e^x), whose exp() cannot overflow.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x: float) -> float:
    # +1 or -1, and 0 at 0: the slope of abs, with abs'(0) = 0 as PyTorch has it.
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


def _softplus(x: float) -> float:
    # log(1 + e^x) overflows in exp() for x > 709 although the answer is just ~x; the
    # equal form log1p(e^-|x|) + max(x, 0) cannot overflow, and log1p keeps the digits
    # of the tiny values far left (softplus(-30) = 9.4e-14, not 0 or 1.1e-13).
    return math.log1p(math.exp(-abs(x))) + (x if x > 0.0 else 0.0)


def _floor(x: float) -> float:
    return float(math.floor(x))  # math.floor returns an int; values are floats


def _ceil(x: float) -> float:
    return float(math.ceil(x))


#: The float functions the rules are built on.  Note ``pow`` is math.pow, not the **
#: operator: (-8.0) ** 0.5 is a *complex* number in Python (the old MiniGrad returned
#: one), while math.pow raises ValueError, which becomes an EvaluationError; and
#: math.pow(0, -1) raises instead of returning inf.  (``batch.py`` has a numpy twin of
#: each, by the same name.)
FLOAT_PRIMITIVES: dict[str, Callable[..., float]] = {
    "pow": math.pow, "abs": abs, "tanh": math.tanh, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "sigmoid": _sigmoid,
    "sign": _sign, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh, "cosh": math.cosh,
    "asinh": math.asinh, "acosh": math.acosh, "atanh": math.atanh, "expm1": math.expm1,
    "log1p": math.log1p, "log2": math.log2, "log10": math.log10, "cbrt": math.cbrt,
    "hypot": math.hypot, "erf": math.erf, "erfc": math.erfc, "floor": _floor,
    "ceil": _ceil, "softplus": _softplus,
}

#: The names the rules call, bound to float functions: the primitives, and -- added
#: below, from their own value rule -- the ops whose value rule is not a call of one
#: (relu, step).
RULE_NAMESPACE: dict[str, object] = dict(FLOAT_PRIMITIVES)


def rule_function(
    parameters: str, rule: str, namespace: dict[str, object] = RULE_NAMESPACE
) -> Callable[..., float]:
    """``rule_function("a, b", "a * b")`` is ``lambda a, b: a * b``, calling the ops by
    their names in ``namespace`` (float functions here; numpy's in ``batch.py``)."""
    function: Callable[..., float] = eval(  # our own table's text, never user input
        f"lambda {parameters}: {rule}", namespace
    )
    return function


# ---------------------------------------------------------------------------------------
# The table.  Math in the comment, then the row: value rule, then d/da (and d/db).
# ---------------------------------------------------------------------------------------

_ROWS = [
    # a + b            d/da = 1              d/db = 1
    Op("add", "+", True, "a + b", ("1.0", "1.0"), precedence=1),
    # a - b            d/da = 1              d/db = -1
    Op("sub", "-", True, "a - b", ("1.0", "-1.0"), precedence=1, commutative=False),
    # a * b            d/da = b              d/db = a
    Op("mul", "*", True, "a * b", ("b", "a"), precedence=2),
    # a / b            d/da = 1/b            d/db = -a/b**2 = -out/b
    Op("div", "/", True, "a / b", ("1.0 / b", "-out / b"), domain="a nonzero divisor",
       precedence=2, commutative=False),
    # a ** b           d/da = b * a**(b-1)   d/db = a**b * log(a)
    Op("pow", "**", True, "pow(a, b)", ("b * pow(a, b - 1.0)", "out * log(a)"),
       domain="base > 0, or base < 0 with an integer exponent, or base 0 with exponent >= 0"
              "; its gradient also needs log(base) along an exponent that is a node, and"
              " base**(exponent - 1) along the base",
       precedence=4, commutative=False),
    # -a               d/da = -1
    Op("neg", "-", False, "-a", ("-1.0",), precedence=3),
    # |a|              d/da = sign(a), 0 at a = 0
    Op("abs", "abs", False, "abs(a)", ("sign(a)",), doc="The absolute value |x|."),
    # max(a, 0)        d/da = step(a): 1 if a > 0 else 0   (0 at the kink, as in PyTorch)
    Op("relu", "relu", False, "a if a > 0.0 else 0.0", ("step(a)",), doc="max(x, 0)."),
    # tanh(a)          d/da = 1 - tanh(a)**2 = 4 sigmoid(2a) sigmoid(-2a)
    #   (1 - out*out loses every digit once tanh(a) rounds to 1, from |a| ~ 19 on; the
    #   sigmoid form keeps them: sigmoid(-2a) is computed directly, not as 1 - sigmoid.)
    Op("tanh", "tanh", False, "tanh(a)", ("4.0 * sigmoid(2.0 * a) * sigmoid(-2.0 * a)",),
       doc="The hyperbolic tangent."),
    # e**a             d/da = e**a
    Op("exp", "exp", False, "exp(a)", ("out",), doc="e to the power x."),
    # log(a)           d/da = 1/a
    Op("log", "log", False, "log(a)", ("1.0 / a",), domain="a > 0",
       doc="The natural logarithm; needs x > 0."),
    # 1 / (1 + e**-a)  d/da = s * (1 - s) = s * sigmoid(-a) where s = sigmoid(a)
    #   (1 - s rounds to 0 for a >= 37, where the slope is still ~1e-16)
    Op("sigmoid", "sigmoid", False, "sigmoid(a)", ("out * sigmoid(-a)",),
       doc="The logistic function 1 / (1 + e**-x)."),
    # sqrt(a)          d/da = 1 / (2 sqrt(a))   (infinite at a = 0)
    Op("sqrt", "sqrt", False, "sqrt(a)", ("0.5 / out",),
       domain="a >= 0 (and a > 0 for its gradient)",
       doc="The square root; needs x >= 0 (and x > 0 for its gradient)."),
    # sin(a)           d/da = cos(a)
    Op("sin", "sin", False, "sin(a)", ("cos(a)",), doc="The sine (radians)."),
    # cos(a)           d/da = -sin(a)
    Op("cos", "cos", False, "cos(a)", ("-sin(a)",), doc="The cosine (radians)."),
    # step(a)          d/da = 0      (the Heaviside step: 1 if a > 0 else 0; relu's slope)
    Op("step", "step", False, "1.0 if a > 0.0 else 0.0", ("0.0",),
       doc="The step function: 1 for x > 0, else 0 (relu's slope); its slope is 0."),
    # sign(a)          d/da = 0      (+1, -1, or 0 at 0; abs's slope)
    Op("sign", "sign", False, "sign(a)", ("0.0",),
       doc="The sign of x: 1, -1, or 0 at 0 (abs's slope); its slope is 0."),
    # -- the math module's functions (names as in Python's math; numpy's for min/max) --
    # tan(a)           d/da = 1 + tan(a)**2
    Op("tan", "tan", False, "tan(a)", ("1.0 + out * out",), doc="The tangent (radians)."),
    # asin(a)          d/da = 1 / sqrt(1 - a**2)     (infinite at a = +-1)
    #   ((1 - a)(1 + a) keeps the digits that 1 - a*a loses near +-1)
    Op("asin", "asin", False, "asin(a)", ("1.0 / sqrt((1.0 - a) * (1.0 + a))",),
       domain="-1 <= a <= 1 (and -1 < a < 1 for its gradient)",
       doc="The arc sine; needs -1 <= x <= 1."),
    # acos(a)          d/da = -1 / sqrt(1 - a**2)    (infinite at a = +-1)
    Op("acos", "acos", False, "acos(a)", ("-1.0 / sqrt((1.0 - a) * (1.0 + a))",),
       domain="-1 <= a <= 1 (and -1 < a < 1 for its gradient)",
       doc="The arc cosine; needs -1 <= x <= 1."),
    # atan(a)          d/da = 1 / (1 + a**2)
    Op("atan", "atan", False, "atan(a)", ("1.0 / (1.0 + a * a)",), doc="The arc tangent."),
    # atan2(a, b)      the angle of the point (b, a)
    #                  d/da = b / (a**2 + b**2)   d/db = -a / (a**2 + b**2)   (none at 0, 0)
    Op("atan2", "atan2", False, "atan2(a, b)",
       ("b / (a * a + b * b)", "-a / (a * a + b * b)"), commutative=False,
       domain="a point other than (0, 0) for its gradient",
       doc="atan2(y, x): the angle of the point (x, y), in (-pi, pi]."),
    # sinh(a)          d/da = cosh(a)
    Op("sinh", "sinh", False, "sinh(a)", ("cosh(a)",), doc="The hyperbolic sine."),
    # cosh(a)          d/da = sinh(a)
    Op("cosh", "cosh", False, "cosh(a)", ("sinh(a)",), doc="The hyperbolic cosine."),
    # asinh(a)         d/da = 1 / sqrt(a**2 + 1) = 1 / hypot(a, 1)   (a*a would overflow)
    Op("asinh", "asinh", False, "asinh(a)", ("1.0 / hypot(a, 1.0)",),
       doc="The inverse hyperbolic sine."),
    # acosh(a)         d/da = 1 / sqrt(a**2 - 1) = 1 / (sqrt(a - 1) sqrt(a + 1))  (inf at 1)
    Op("acosh", "acosh", False, "acosh(a)", ("1.0 / (sqrt(a - 1.0) * sqrt(a + 1.0))",),
       domain="a >= 1 (and a > 1 for its gradient)",
       doc="The inverse hyperbolic cosine; needs x >= 1."),
    # atanh(a)         d/da = 1 / (1 - a**2) = 1 / ((1 - a)(1 + a))
    Op("atanh", "atanh", False, "atanh(a)", ("1.0 / ((1.0 - a) * (1.0 + a))",),
       domain="-1 < a < 1", doc="The inverse hyperbolic tangent; needs -1 < x < 1."),
    # e**a - 1         d/da = e**a   (not out + 1, which loses the digits of e**a << 1)
    Op("expm1", "expm1", False, "expm1(a)", ("exp(a)",),
       doc="e**x - 1, exact also for tiny x."),
    # log(1 + a)       d/da = 1 / (1 + a)
    Op("log1p", "log1p", False, "log1p(a)", ("1.0 / (1.0 + a)",), domain="a > -1",
       doc="log(1 + x), exact also for tiny x; needs x > -1."),
    # log2(a)          d/da = 1 / (a ln 2)
    Op("log2", "log2", False, "log2(a)", ("1.4426950408889634 / a",), domain="a > 0",
       doc="The base-2 logarithm; needs x > 0."),
    # log10(a)         d/da = 1 / (a ln 10)
    Op("log10", "log10", False, "log10(a)", ("0.4342944819032518 / a",), domain="a > 0",
       doc="The base-10 logarithm; needs x > 0."),
    # cbrt(a)          d/da = 1 / (3 cbrt(a)**2)     (infinite at 0)
    Op("cbrt", "cbrt", False, "cbrt(a)", ("1.0 / (3.0 * out * out)",),
       domain="a != 0 for its gradient", doc="The cube root (of negative x too)."),
    # hypot(a, b)      sqrt(a**2 + b**2), without overflow
    #                  d/da = a / out    d/db = b / out     (none at 0, 0)
    Op("hypot", "hypot", False, "hypot(a, b)", ("a / out", "b / out"),
       domain="a point other than (0, 0) for its gradient",
       doc="hypot(x, y): sqrt(x**2 + y**2), without overflow."),
    # erf(a)           d/da = 2/sqrt(pi) e**(-a**2)
    Op("erf", "erf", False, "erf(a)", ("1.1283791670955126 * exp(-(a * a))",),
       doc="The error function."),
    # erfc(a) = 1 - erf(a)   d/da = -2/sqrt(pi) e**(-a**2)   (erfc(10) = 2.1e-45, not 0)
    Op("erfc", "erfc", False, "erfc(a)", ("-1.1283791670955126 * exp(-(a * a))",),
       doc="The complementary error function 1 - erf(x), exact also far right."),
    # floor(a)         d/da = 0      (steps: slope 0 between them, and 0 at them, as PyTorch)
    Op("floor", "floor", False, "floor(a)", ("0.0",), doc="The largest whole number <= x."),
    # ceil(a)          d/da = 0
    Op("ceil", "ceil", False, "ceil(a)", ("0.0",), doc="The smallest whole number >= x."),
    # min(a, b)        d/da = 1 where a < b, 0 where a > b, 1/2 each at a tie (PyTorch, JAX)
    Op("minimum", "minimum", False, "a if a <= b else b",
       ("0.5 * (1.0 - sign(a - b))", "0.5 * (1.0 + sign(a - b))"),
       doc="minimum(x, y): the smaller; at a tie the gradient is split equally."),
    # max(a, b)        d/da = 1 where a > b, 0 where a < b, 1/2 each at a tie
    Op("maximum", "maximum", False, "a if a >= b else b",
       ("0.5 * (1.0 + sign(a - b))", "0.5 * (1.0 - sign(a - b))"),
       doc="maximum(x, y): the larger; at a tie the gradient is split equally."),
    # log(1 + e**a)    d/da = sigmoid(a)
    Op("softplus", "softplus", False, "softplus(a)", ("sigmoid(a)",),
       doc="log(1 + e**x), without overflow: a smooth relu."),
    # a sigmoid(a)     d/da = s + a s (1 - s) = s (1 + a sigmoid(-a)) where s = sigmoid(a)
    Op("silu", "silu", False, "a * sigmoid(a)", ("sigmoid(a) * (1.0 + a * sigmoid(-a))",),
       doc="x * sigmoid(x) (also called swish)."),
    # a Phi(a), Phi(a) = (1 + erf(a/sqrt(2)))/2   d/da = Phi(a) + a e**(-a**2/2)/sqrt(2 pi)
    Op("gelu", "gelu", False, "0.5 * a * (1.0 + erf(a * 0.7071067811865476))",
       ("0.5 * (1.0 + erf(a * 0.7071067811865476))"
        " + a * 0.3989422804014327 * exp(-0.5 * a * a)",),
       doc="x times the normal CDF of x (the exact, erf form)."),
]

#: Every op by name: ``OPS["mul"].value(2.0, 3.0) == 6.0``.
OPS: dict[str, Op] = {op.name: op for op in _ROWS}

# The ops whose value rule is not a call of a primitive become callable by name too, so
# that a derivative rule may call any op (relu's slope calls step).
for _op in _ROWS:
    RULE_NAMESPACE.setdefault(_op.name, _op.value)
for _op in _ROWS:
    object.__setattr__(
        _op, "partial_programs",
        tuple(parse_rule(rule, set(OPS)) for rule in _op.partial_rules),
    )

#: The errors a rule may raise for operands outside its domain.
RULE_ERRORS = (ArithmeticError, ValueError)

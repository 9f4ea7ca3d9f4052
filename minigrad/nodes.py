"""The nodes of an expression: frozen attrs objects that only *describe* a computation.

Grammar of an expression (a DAG, since a node may be used many times)::

    Node      ::= Scalar(value, name)        a leaf: an input you can differentiate by
                | Operation(op, args)        an op from ops.OPS applied to its operands
    operand   ::= Node | float               plain numbers are literals, not nodes

Writing ``a * 2 + b`` builds ``Operation("add", (Operation("mul", (a, 2.0)), b))``.
Nothing is computed when you build: values come from :func:`minigrad.evaluate`, gradients
from :func:`minigrad.backward`, both working on a :class:`minigrad.Graph`.

Three design points, each the fix of a bug seen in a peer:

* **Frozen.**  A node never changes after construction and holds no gradient, so a
  graph can be evaluated and differentiated any number of times with no state to reset
  (the old MiniGrad and micrograd accumulate ``.grad`` on a second ``backward()``).
* **Identity equality and hashing** (``eq=False``).  attrs' default ``__eq__`` and
  ``__hash__`` compare fields, which for a DAG means walking it: exponential with
  shared subtrees, RecursionError on deep chains.  Two nodes are the same node only if
  they are the same object, and ``==`` never builds anything.
* **Literals are not nodes.**  In ``x ** 2`` the 2 is a plain float inside ``args``, like
  a Python number in PyTorch: it has no gradient, so ``d(x**2)/d2 = x**2 * log(x)`` is
  never computed (it would be undefined for x < 0).  Wrap a number in ``Scalar`` to
  differentiate with respect to it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from minigrad.ops import OPS

if TYPE_CHECKING:
    from minigrad.evaluate import NodeValues

__all__ = [
    "Node",
    "Operation",
    "Scalar",
    "as_finite_float",
    "cos",
    "describe",
    "exp",
    "log",
    "relu",
    "sigmoid",
    "sin",
    "sqrt",
    "tanh",
]


def as_finite_float(x: object, what: str = "value") -> float:
    """Return ``x`` as a finite float, or raise a TypeError/ValueError naming it.

    Accepts ints, floats and other real numbers (``numpy.float64``, ``Fraction``).
    Rejects ``bool`` (``x * True`` is almost always a bug), strings, ``None``, complex
    numbers and containers with a ``TypeError``; NaN, infinities and ints too large
    for a float with a ``ValueError``.

    Examples
    --------
    >>> as_finite_float(3)
    3.0
    >>> as_finite_float("3")
    Traceback (most recent call last):
    TypeError: value must be a real number, got str: '3'
    """
    if type(x) is float:  # the common case first: no conversion needed
        result = x
    elif isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            result = float(x)
        except OverflowError:
            raise ValueError(f"{what} {x!r:.40} is too large for a float") from None
    else:
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {x!r:.40}")
    if not math.isfinite(result):
        raise ValueError(f"{what} must be finite, got {result!r}")
    return result


def as_operand(x: object) -> Node | float:
    """A node stays a node; anything else must be a real number and becomes a literal."""
    if isinstance(x, Node):
        return x
    return as_finite_float(x, what="operand")


@attrs.frozen(eq=False, repr=False)
class Node:
    """Base of :class:`Scalar` and :class:`Operation`: the operators live here.

    Every operator returns a new :class:`Operation` and computes nothing.  Numbers mix
    in on either side: ``2 - x``, ``x / 3``, ``2 ** x``.
    """

    #: The operands; a leaf has none.  (Operation overrides this with a field.)
    args: ClassVar[tuple[Node | float, ...]] = ()

    # -- infix operators: self OP other, and the reflected other OP self --------------
    def __add__(self, other: object) -> Operation:
        return Operation("add", (self, as_operand(other)))

    def __radd__(self, other: object) -> Operation:
        return Operation("add", (as_operand(other), self))

    def __sub__(self, other: object) -> Operation:
        return Operation("sub", (self, as_operand(other)))

    def __rsub__(self, other: object) -> Operation:
        return Operation("sub", (as_operand(other), self))

    def __mul__(self, other: object) -> Operation:
        return Operation("mul", (self, as_operand(other)))

    def __rmul__(self, other: object) -> Operation:
        return Operation("mul", (as_operand(other), self))

    def __truediv__(self, other: object) -> Operation:
        return Operation("div", (self, as_operand(other)))

    def __rtruediv__(self, other: object) -> Operation:
        return Operation("div", (as_operand(other), self))

    def __pow__(self, other: object) -> Operation:
        return Operation("pow", (self, as_operand(other)))

    def __rpow__(self, other: object) -> Operation:
        return Operation("pow", (as_operand(other), self))

    def __neg__(self) -> Operation:
        return Operation("neg", (self,))

    def __pos__(self) -> Node:
        return self

    def __abs__(self) -> Operation:
        return Operation("abs", (self,))

    # -- functions as methods: x.relu() is relu(x) -------------------------------------
    def relu(self) -> Operation:
        return Operation("relu", (self,))

    def tanh(self) -> Operation:
        return Operation("tanh", (self,))

    def exp(self) -> Operation:
        return Operation("exp", (self,))

    def log(self) -> Operation:
        return Operation("log", (self,))

    def sigmoid(self) -> Operation:
        return Operation("sigmoid", (self,))

    def sqrt(self) -> Operation:
        return Operation("sqrt", (self,))

    def sin(self) -> Operation:
        return Operation("sin", (self,))

    def cos(self) -> Operation:
        return Operation("cos", (self,))

    # -- convenience --------------------------------------------------------------------
    def backward(self, inputs: Mapping[Any, object] | None = None) -> NodeValues:
        """Gradients of this node: ``backward(Graph(self), self, inputs)``.

        Builds a new Graph on every call; to differentiate the same expression many
        times, build the ``Graph`` once and call :func:`minigrad.backward` on it.

        Examples
        --------
        >>> a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")
        >>> d = a**3 / 5 + (b**2).relu()
        >>> grads = d.backward()
        >>> round(grads[a], 12), grads[b]
        (1.35, -8.0)
        """
        from minigrad.backward import backward
        from minigrad.graph import Graph

        return backward(Graph(self), self, inputs)


def _check_name(instance: Node, attribute: attrs.Attribute[str | None], name: str | None) -> None:
    if name is not None and not isinstance(name, str):
        raise TypeError(f"Scalar name must be a str or None, got {type(name).__name__}")


def _scalar_value(value: object) -> float:
    return as_finite_float(value, "Scalar value")


@attrs.frozen(eq=False, repr=False)
class Scalar(Node):
    """A leaf: a number you can change through ``inputs=`` and differentiate by.

    Examples
    --------
    >>> Scalar(1.5, name="a")
    Scalar(1.5, name='a')
    >>> Scalar("1.5")
    Traceback (most recent call last):
    TypeError: Scalar value must be a real number, got str: '1.5'
    """

    value: float = attrs.field(converter=_scalar_value)
    name: str | None = attrs.field(default=None, validator=_check_name)

    def __repr__(self) -> str:
        if self.name is None:
            return f"Scalar({self.value!r})"
        return f"Scalar({self.value!r}, name={self.name!r})"


def _check_operation(instance: Operation, attribute: object, op: str) -> None:
    # Operators always build valid operations; this guards direct construction.
    rule = OPS.get(op)
    if rule is None:
        raise ValueError(f"unknown op {op!r}; known ops: {', '.join(OPS)}")
    if len(instance.args) != rule.arity:
        raise ValueError(f"op {op!r} takes {rule.arity} operand(s), got {len(instance.args)}")


@attrs.frozen(eq=False, repr=False)
class Operation(Node):
    """An op from :data:`minigrad.ops.OPS` applied to operands (nodes or float literals).

    Examples
    --------
    >>> a = Scalar(2.0, name="a")
    >>> a * 3
    Operation('mul', expr='a*3')
    >>> (a * 3).args
    (Scalar(2.0, name='a'), 3.0)
    """

    op: str = attrs.field(validator=_check_operation)
    args: tuple[Node | float, ...] = attrs.field()  # type: ignore[misc]

    def __repr__(self) -> str:
        # Bounded: describe() renders a few levels, never the whole graph.
        return f"Operation({self.op!r}, expr={describe(self, max_depth=3)!r})"


# -- module-level functions of the same names as the methods ---------------------------
def relu(x: object) -> Operation:
    """max(x, 0)."""
    return Operation("relu", (as_operand(x),))


def tanh(x: object) -> Operation:
    """Hyperbolic tangent."""
    return Operation("tanh", (as_operand(x),))


def exp(x: object) -> Operation:
    """e to the power x."""
    return Operation("exp", (as_operand(x),))


def log(x: object) -> Operation:
    """Natural logarithm; needs x > 0."""
    return Operation("log", (as_operand(x),))


def sigmoid(x: object) -> Operation:
    """1 / (1 + e**-x)."""
    return Operation("sigmoid", (as_operand(x),))


def sqrt(x: object) -> Operation:
    """Square root; needs x >= 0 (and x > 0 for its gradient)."""
    return Operation("sqrt", (as_operand(x),))


def sin(x: object) -> Operation:
    """Sine (radians)."""
    return Operation("sin", (as_operand(x),))


def cos(x: object) -> Operation:
    """Cosine (radians)."""
    return Operation("cos", (as_operand(x),))


# -- a short, bounded rendering of an expression, for messages and reprs ---------------

# Binding strength: a child binding more weakly than its context needs parentheses.
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_ATOM = 5  # leaves, literals and function calls never need parentheses...
_NEGATIVE_LITERAL = 3  # ...except negative numbers, which bind like unary minus


def format_number(x: float) -> str:
    """A number as people write it: ``3`` not ``3.0``, at most 6 significant digits."""
    return format(x, ".6g")


def _precedence(thing: Node | float) -> int:
    if isinstance(thing, Operation):
        return _PRECEDENCE.get(thing.op, _ATOM)
    value = thing.value if isinstance(thing, Scalar) and thing.name is None else thing
    if isinstance(value, float) and value < 0:
        return _NEGATIVE_LITERAL
    return _ATOM


def describe(node: Node | float, max_depth: int = 4, max_chars: int = 80) -> str:
    """Render an expression in infix, a few levels deep, for error messages and reprs.

    Leaves show their name (or value if unnamed).  Below ``max_depth`` levels a subtree
    is shown as ``…``, so the cost is bounded however large the graph; the result is cut
    to ``max_chars``.  Uses an explicit stack: no recursion.

    Examples
    --------
    >>> a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")
    >>> describe(a**3 / 5 + relu(b**2))
    'a**3/5 + relu(b**2)'
    >>> describe((a - b) - (a - b))
    'a - b - (a - b)'
    >>> describe(log(log(log(log(a)))), max_depth=2)
    'log(log(log(…)))'
    """
    pieces: list[str] = []
    # Each item is a finished string, or (operand, depth, the precedence its place needs).
    stack: list[str | tuple[Node | float, int, int]] = [(node, 0, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            pieces.append(item)
            continue
        thing, depth, needed = item
        if depth > max_depth:
            pieces.append("…")
            continue
        if not isinstance(thing, Operation):
            text = _leaf_text(thing)
            pieces.append(f"({text})" if _precedence(thing) < needed else text)
            continue
        # Build the parts left to right, then push them reversed (the stack is LIFO).
        parts: list[str | tuple[Node | float, int, int]]
        rule = OPS[thing.op]
        precedence = _precedence(thing)
        if thing.op == "neg":
            parts = ["-", (thing.args[0], depth + 1, _PRECEDENCE["pow"])]
        elif rule.infix:
            a, b = thing.args
            spaced = precedence == 1  # a + b, a - b; but a*b, a/b, a**b
            symbol = f" {rule.symbol} " if spaced else rule.symbol
            # Left operand may share our precedence ((a-b)-c is a-b-c), the right may
            # not (a-(b-c)); ** associates the other way round: (a**b)**c vs a**b**c.
            left_needs, right_needs = (
                (precedence + 1, precedence) if thing.op == "pow" else (precedence, precedence + 1)
            )
            parts = [(a, depth + 1, left_needs), symbol, (b, depth + 1, right_needs)]
        else:
            parts = [f"{rule.symbol}(", (thing.args[0], depth + 1, 0), ")"]
        if precedence < needed:
            parts = ["(", *parts, ")"]
        stack.extend(reversed(parts))
        if len(pieces) > max_chars:  # each piece is at least a character: stop early
            break
    text = "".join(pieces)
    return text if len(text) <= max_chars and not stack else text[: max_chars - 1] + "…"


def _leaf_text(thing: Node | float) -> str:
    if isinstance(thing, Scalar):
        return thing.name if thing.name is not None else format_number(thing.value)
    assert isinstance(thing, float)
    return format_number(thing)

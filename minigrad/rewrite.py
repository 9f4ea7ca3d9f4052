"""Smaller graphs with the same values: :func:`simplify`, and the builder behind it.

Every transformation that *makes* nodes -- :func:`simplify` here, and the derivatives
in ``derivatives.py`` -- makes them through one :class:`NodeBuilder`, which applies
three rewrites as each node is built (the "smart constructor" of term rewriting):

* **Constant folding.**  An op whose operands are all numbers is computed now, with the
  op's own float rule, so the result is the float the reference interpreter gives:
  ``2.0 * 3.0`` becomes ``6.0``.  An op that would raise (``log(-1.0)``) is kept as a
  node, so the error is still raised, naming it, when the graph is evaluated.
* **Identities** that are exact in floating point -- the same bits, the sign of zero
  included, wherever ``x`` has a value -- and that drop no operand which could fail:
  ``x - 0``, ``x + (-0.0)``, ``x * 1``, ``x / 1`` and ``x ** 1`` are ``x``; ``-0.0 - x``,
  ``x * -1`` and ``x / -1`` are ``-x``; ``--x`` is ``x``; ``-(c * x)`` is ``(-c) * x``;
  ``given(x, c)`` is ``x`` for a number ``c``, and so is ``given(x, y)`` when ``y`` is
  ``x`` or an operand of it (``x`` needs ``y`` already).  Not rewritten, because IEEE
  arithmetic disagrees: ``x + 0`` (-0.0 + 0 is 0.0), ``0 - x`` (0 - 0 is 0.0, -0 is
  -0.0), ``x * 0`` and ``0 / x`` (-0.0 for negative x; and they would drop ``x``, which
  may fail: ``log(-1) * 0``), ``x ** 0`` (1, but it drops ``x`` too).  A sign of zero
  shows: ``atan2(-0.0, -1)`` is -pi, ``atan2(0.0, -1)`` pi.  No rewrite reorders
  arithmetic (``(x * 2) * 3`` stays: ``x * 6`` can differ in the last bit).
* **Merging equal subexpressions** (hash-consing): building ``cos(x)`` twice gives the
  same node, and so does ``x * y`` after ``y * x``.  Two nodes are equal when they apply
  the same op to the same operand *objects* and the same numbers (in either order for
  ``+`` and ``*``), so the check is one dictionary look-up per node and never walks the
  graph (structural hashing of a whole DAG with shared parts would be exponential).

Derivatives are where this matters: the derivative of a derivative, built naively, is
thousands of nodes of ``1.0 * ...`` and ``... + 0.0`` and repeated ``cos(x)``; built
through the builder, it stays within a small factor of SymPy's ``diff`` plus ``cse``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from types import SimpleNamespace

from minigrad.graph import Graph, garbage_collector_paused
from minigrad.interpret import forward_pass
from minigrad.nodes import Constant, Node, Operation
from minigrad.ops import OPS, RULE_ERRORS

__all__ = ["NodeBuilder", "as_node", "simplify"]

#: An operand while building: a node, or a number not (yet) put into a node.
Term = Node | float


def as_node(term: Term) -> Node:
    """A number becomes a :class:`Constant` node; a node stays itself."""
    return term if isinstance(term, Node) else Constant(term)


#: Ops whose operands may be swapped without changing a single bit: IEEE ``a + b`` and
#: ``a * b`` are exactly ``b + a`` and ``b * a``.  (Never regrouped: ``(a + b) + c`` can
#: differ from ``a + (b + c)``.)
_COMMUTATIVE = frozenset(name for name, op in OPS.items() if op.infix and op.commutative)


def _key(op: str, args: tuple[Term, ...]) -> tuple[object, ...]:
    """What makes two operations the same: the op, operands by identity (``id``),
    numbers by their exact bits (``float.hex`` tells -0.0 from 0.0); for + and * in
    either order (the smaller id first, a number before a node)."""
    if len(args) == 1:
        (a,) = args
        return (op, id(a) if isinstance(a, Node) else a.hex())
    a, b = args
    first: int | str = id(a) if isinstance(a, Node) else a.hex()
    second: int | str = id(b) if isinstance(b, Node) else b.hex()
    if op in _COMMUTATIVE and (
        (type(first) is type(second) and first > second)  # type: ignore[operator]
        or (isinstance(second, str) and isinstance(first, int))
    ):
        first, second = second, first
    return (op, first, second)


class NodeBuilder:
    """Builds operations with constant folding, exact identities and merging.

    ``builder.apply("mul", (x, 1.0))`` is ``x``; ``builder.apply("cos", (x,))`` twice
    is one node.  :meth:`register` makes existing nodes known, so that new ones reuse
    them.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> x = Scalar(2.0, name="x")
    >>> builder = NodeBuilder()
    >>> builder.apply("mul", (x, 1.0)) is x
    True
    >>> builder.apply("add", (2.0, 3.0))
    5.0
    >>> builder.apply("cos", (x,)) is builder.apply("cos", (x,))
    True
    """

    def __init__(self) -> None:
        self._known: dict[tuple[object, ...], Operation] = {}
        #: The node namespace: every op of the table, building through this builder.
        #: A partial rule run with it builds the partial as nodes (``derivatives.py``).
        self.ops = SimpleNamespace(**{name: self._builds(name) for name in OPS})

    def _builds(self, op: str) -> Callable[..., Term]:
        return lambda *args: self.apply(op, args)

    def register(self, nodes: Iterable[Node]) -> None:
        """Make existing operations known: building an equal one returns them."""
        for node in nodes:
            if isinstance(node, Operation):
                self._known.setdefault(_key(node.op, node.args), node)

    def apply(self, op: str, args: tuple[Term, ...]) -> Term:
        """The op applied to the operands: a number, an existing node, or a new node."""
        # Two nodes under + - * / **: no rewrite applies (the commonest case: skip them).
        if op == "given" or not (
                len(args) == 2 and isinstance(args[0], Node) and isinstance(args[1], Node)):
            rewritten = _rewrite(self, op, args)
            if rewritten is not None:
                return rewritten
        key = _key(op, args)
        node = self._known.get(key)
        if node is None:
            node = self._known[key] = Operation.checked_already(op, args)
        return node


def _rewrite(builder: NodeBuilder, op: str, args: tuple[Term, ...]) -> Term | None:
    """The folded or simplified result, or None if the op must be built as it is."""
    if not any(isinstance(a, Node) for a in args):
        try:
            value = OPS[op].value(*args)  # type: ignore[arg-type]  # all numbers here
        except RULE_ERRORS:
            return None  # keep the node: evaluating it raises the error that names it
        return value if math.isfinite(value) else None
    if op == "neg":
        (a,) = args
        if isinstance(a, Operation) and a.op == "neg":
            return a.args[0]  # --x = x
        if isinstance(a, Operation) and a.op == "mul" and not isinstance(a.args[0], Node):
            return builder.apply("mul", (-a.args[0], a.args[1]))  # -(c*x) = (-c)*x
        return None
    if len(args) == 1:
        return None  # no identities for the other functions
    a, b = args
    if op == "add":  # -0.0 is the additive identity: -0.0 + x is x, even for x = 0.0
        return a if _is(b, -0.0) else b if _is(a, -0.0) else None
    if op == "sub":  # x - 0.0 is x, even for x = -0.0; -0.0 - x is -x, even for x = 0.0
        if _is(b, 0.0):
            return a
        return builder.apply("neg", (b,)) if _is(a, -0.0) else None
    if op == "mul":
        for number, other in ((a, b), (b, a)):
            if isinstance(number, float) and number == 1.0:
                return other
            if isinstance(number, float) and number == -1.0:
                return builder.apply("neg", (other,))
        return None
    if op == "div":
        if b == 1.0:
            return a
        return builder.apply("neg", (a,)) if b == -1.0 else None
    if op == "pow":
        return a if b == 1.0 else None
    if op == "given" and (  # given(a, b) is a where b is always defined, or a needs b
            not isinstance(b, Node) or b is a
            or (isinstance(a, Operation) and any(operand is b for operand in a.args))):
        return a
    return None


def _is(term: Term, number: float) -> bool:
    """Is ``term`` this number, bit for bit (-0.0 is not 0.0)?"""
    return isinstance(term, float) and term.hex() == number.hex()


def simplify(output: Node) -> Node:
    """The same expression, smaller: constants folded, identities applied, equal
    subexpressions merged (see the module docstring for each rewrite).

    Wherever ``output`` evaluates, the result evaluates to the same value, bit for bit
    (the sign of zero included: ``atan2(x*0, -1)`` stays -pi at x = -1); and wherever
    ``output`` raises, the result raises too: no rewrite drops an operand that could fail
    (``log(-1) * 0`` stays).  Leaves stay the same objects; a constant result is a
    :class:`Constant` node.

    Examples
    --------
    >>> from minigrad import Scalar, describe
    >>> x = Scalar(2.0, name="x")
    >>> describe(simplify((x * 1 - 0) * (2.0 * 3.0) + x.cos() * x.cos()))
    'x*6 + cos(x)*cos(x)'
    """
    if not isinstance(output, Node):
        raise TypeError(f"simplify needs a node, got {type(output).__name__}")
    builder = NodeBuilder()
    with garbage_collector_paused():
        graph = Graph(output)
        # The reference interpreter's forward loop with the node namespace: each node
        # rebuilt from its rebuilt operands, through the builder.
        rebuilt = forward_pass(graph, builder.ops, list(graph.order))
    return as_node(rebuilt[-1])

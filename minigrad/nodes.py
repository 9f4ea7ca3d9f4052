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
  (micrograd accumulates ``.grad``: a second ``backward()`` doubles it).
* **Identity equality and hashing** (``eq=False``).  attrs' default ``__eq__`` and
  ``__hash__`` compare fields, which for a DAG means walking it: exponential with
  shared subtrees, RecursionError on deep chains.  Two nodes are the same node only if
  they are the same object, and ``==`` never builds anything.
* **Literals are not nodes.**  In ``x ** 2`` the 2 is a plain float inside ``args``, like
  a Python number in PyTorch: it has no gradient, so ``d(x**2)/d2 = x**2 * log(x)`` is
  never computed (it would be undefined for x < 0).  Wrap a number in ``Scalar`` to
  differentiate with respect to it.

Two more follow from identity:

* **Subclasses compare by identity too.**  ``@attrs.frozen``, ``@attrs.define`` and
  ``@dataclass`` give a class value equality unless told ``eq=False``; for a node that
  would merge ``P(0.0)`` and ``P(0.0)`` into one leaf.  So :class:`Node` puts identity
  back (see :func:`_compare_by_identity`): subclass freely to add methods or metadata.
* **Copying returns the node itself**, as for other immutable objects: a copied leaf
  would be a *different* leaf, which ``inputs={leaf: ...}`` keyed by the original
  could not reach.  **Pickling** keeps identity within one pickle and never recurses
  down a deep graph (see :func:`_reduce_node`).
"""

from __future__ import annotations

import math
import numbers
import reprlib
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Set
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs

from minigrad.ops import OPS

__all__ = [  # and the function-style ops of the table: relu, tanh, ... (see the end)
    "FUNCTION_OPS",
    "Constant",
    "Node",
    "Operation",
    "Scalar",
    "as_finite_float",
    "brief_repr",
    "describe",
    "kind_of",
    "topological_order",
]


def as_finite_float(x: object, what: str = "value") -> float:
    """Return ``x`` as a finite float of type exactly ``float``, or raise naming it.

    Accepts ints, floats and other real numbers (``numpy.float64``, ``Fraction``, float
    subclasses), and returns a plain ``float``: a subclass's own ``__repr__`` or
    methods never travel further.  Rejects ``bool`` (``x * True`` is almost always a
    bug), strings, ``None``, complex numbers and containers with a ``TypeError``; NaN,
    infinities and numbers too large for a float with a ``ValueError``.

    Examples
    --------
    >>> as_finite_float(3)
    3.0
    >>> as_finite_float("3")
    Traceback (most recent call last):
    TypeError: value must be a real number, got str: '3'
    >>> as_finite_float(10**400)
    Traceback (most recent call last):
    ValueError: value is too large for a float: an int of 401 digits
    """
    if type(x) is float:  # the common case first: no conversion needed
        result = x
    elif isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            result = float(x)  # float() always returns exactly a float
        except OverflowError:
            raise ValueError(f"{what} is too large for a float: {brief_repr(x)}") from None
    else:
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {brief_repr(x)}")
    if not math.isfinite(result):
        raise ValueError(f"{what} must be finite, got {result!r}")
    return result


_BRIEF = reprlib.Repr()
_BRIEF.maxstring = _BRIEF.maxother = 40


def brief_repr(x: object) -> str:
    """``repr(x)`` kept short for a message, with any cut shown (``...``), never hidden.

    A huge int is described by its number of digits: cutting its digits would make
    ``10**400`` read like a 40-digit number (and Python refuses to print more than
    4300 digits anyway).

    Examples
    --------
    >>> brief_repr("x" * 100)
    "'xxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxx'"
    >>> brief_repr(-(10**400))
    'an int of 401 digits'
    """
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 128:
        return f"an int of {_decimal_digits(abs(x))} digits"
    try:
        return _BRIEF.repr(x)
    except Exception:  # a broken __repr__ must not hide the error being reported
        return f"<{type(x).__name__} object>"


def _decimal_digits(n: int) -> int:
    """How many decimal digits the positive int ``n`` has (without printing it)."""
    digits = int(n.bit_length() * math.log10(2)) + 1  # right or one too many
    return digits - 1 if n < 10 ** (digits - 1) else digits


_N = TypeVar("_N", bound="Node")


@attrs.frozen(eq=False, repr=False)
class Node:
    """Base of :class:`Scalar` and :class:`Operation`: the operators live here.

    Every operator returns a new :class:`Operation` and computes nothing.  Numbers mix
    in on either side: ``2 - x``, ``x / 3``, ``2 ** x``.
    """

    #: The operands; a leaf has none.  (Operation overrides this with a field.)
    args: ClassVar[tuple[Node | float, ...]] = ()

    def __new__(cls: type[_N], *args: object, **kwargs: object) -> _N:
        # Every way of making a node passes here -- the constructor, attrs.evolve,
        # unpickling -- after all of its class's decorators have run.
        if cls not in _IDENTITY_CHECKED:
            _compare_by_identity(cls)
        return super().__new__(cls)

    # -- copying and pickling (see the section at the end of this module) -------------
    def __copy__(self) -> Node:
        return self  # immutable and compared by identity: a copy would be another node

    def __deepcopy__(self, memo: dict[int, object]) -> Node:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return _reduce_node(self)

    # -- infix operators: self OP other, and the reflected other OP self --------------
    # Operands are checked (and numbers made floats) by Operation's converter.
    def __add__(self, other: object) -> Operation:
        return Operation("add", (self, other))

    def __radd__(self, other: object) -> Operation:
        return Operation("add", (other, self))

    def __sub__(self, other: object) -> Operation:
        return Operation("sub", (self, other))

    def __rsub__(self, other: object) -> Operation:
        return Operation("sub", (other, self))

    def __mul__(self, other: object) -> Operation:
        return Operation("mul", (self, other))

    def __rmul__(self, other: object) -> Operation:
        return Operation("mul", (other, self))

    def __truediv__(self, other: object) -> Operation:
        return Operation("div", (self, other))

    def __rtruediv__(self, other: object) -> Operation:
        return Operation("div", (other, self))

    def __pow__(self, other: object) -> Operation:
        return Operation("pow", (self, other))

    def __rpow__(self, other: object) -> Operation:
        return Operation("pow", (other, self))

    def __neg__(self) -> Operation:
        return Operation("neg", (self,))

    def __pos__(self) -> Node:
        return self

    def __abs__(self) -> Operation:
        return Operation("abs", (self,))

    # -- functions as methods: x.relu() is relu(x) -------------------------------------
    # Made from the op table at the end of this module, one per function-style op.
    if TYPE_CHECKING:  # what type checkers see of them

        def __getattr__(self, name: str) -> Callable[[], Operation]: ...

    else:

        def __getattr__(self, name: str) -> object:
            # Only for names a node does not have: micrograd's habits get a pointer to
            # where the number lives, since a node stores none (see the module docstring).
            hint = _WHERE_NUMBERS_LIVE.get(name)
            if name == "value" and isinstance(self, Operation):
                hint = _WHERE_NUMBERS_LIVE["data"]
            message = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(message if hint is None else f"{message}: {hint}")

    def __str__(self) -> str:
        """The whole expression in infix, e.g. ``3*x**2 + cos(x)*exp(y)`` (cut at 2,000
        characters: a graph with shared parts printed as a tree can be huge)."""
        return describe(self, max_depth=2_000, max_chars=2_000)

    # -- display ----------------------------------------------------------------------------
    def _repr_latex_(self) -> str | None:
        """The formula as LaTeX, for Jupyter (None -- the plain repr -- without SymPy, or
        for a graph too large to read as a formula).  Made by ``symbolic.latex``, which
        sets :data:`LATEX` when it is imported."""
        return None if LATEX is None else LATEX(self)

    # -- convenience --------------------------------------------------------------------
    def backward(self, inputs: Mapping[Any, object] | None = None) -> Mapping[Node, float]:
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
        # The one import upward in the package (tests/test_layers.py allows it): the
        # entry points sit layers above the nodes, and this is a convenience.
        from minigrad.api import backward
        from minigrad.graph import Graph

        return backward(Graph(self), self, inputs)


#: How a node is shown as LaTeX: set by ``minigrad.symbolic`` (which needs SymPy, a layer
#: above this one), None until then.
LATEX: Callable[[Node], str | None] | None = None


#: What micrograd users reach for, and where MiniGrad keeps it instead.
_WHERE_NUMBERS_LIVE = {
    "grad": "nodes store no gradient; gradients come from backward(graph, output): "
            "grads = backward(Graph(loss), loss); grads[node] (or loss.backward()[node])",
    "data": "nodes store no value; values come from evaluate(graph): "
            "evaluate(Graph(node))[node]; a leaf's own input is its .value",
}


#: Node classes known to compare by identity.
_IDENTITY_CHECKED: set[type] = set()
_IDENTITY_METHODS = ("__eq__", "__ne__", "__hash__")


def _compare_by_identity(cls: type) -> None:
    """Give a node class identity ``==`` and ``hash`` back if it has others.

    A subclass made with ``@attrs.frozen``, ``@attrs.define`` or ``@dataclass`` gets
    value equality by default (``eq=True``): ``P(0.0) == P(0.0)`` would make two leaves
    one key of ``Graph.index`` and of ``inputs=``, and ``@attrs.define`` makes nodes
    unhashable.  The decorators add these methods after the class statement has run
    (attrs' slotted classes are even new class objects), so ``__init_subclass__`` is
    too early; the first instance is made after every decorator has run, so
    ``Node.__new__`` calls this then, once per class.  Nodes *always* compare by
    identity: an ``__eq__``, ``__ne__`` or ``__hash__`` a subclass has -- generated or
    written by hand -- is replaced by ``object``'s.

    Examples
    --------
    >>> @attrs.frozen
    ... class Measured(Scalar):
    ...     unit: str = "m"
    >>> Measured(0.0) == Measured(0.0)
    False
    """
    for name in _IDENTITY_METHODS:
        if getattr(cls, name) is not getattr(object, name):
            setattr(cls, name, getattr(object, name))
    _IDENTITY_CHECKED.add(cls)


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


def _known_op(op: object) -> str:
    """The ``op`` field: the name of a row of ``OPS`` -- the table's own string."""
    if not isinstance(op, str):
        raise TypeError(f"Operation op must be a str, got {type(op).__name__}: {brief_repr(op)}")
    rule = OPS.get(op)
    if rule is None:
        raise ValueError(f"unknown op {brief_repr(op)}; known ops: {', '.join(OPS)}")
    return rule.name


def _operands(args: object, operation: Any) -> tuple[Node | float, ...]:
    """The ``args`` field: a tuple of nodes and finite plain floats, as many as the op takes.

    This is the one gate for literals, whichever way an Operation is made: the
    operators, the functions below, or ``Operation(op, args)`` directly.  What passes
    it is a plain finite float every interpreter can take (and ``repr`` round-trips): a float
    subclass or ``numpy.float64`` is made a ``float``, and NaN and inf are refused.
    """
    op = operation.op  # attrs converts and sets the fields in order: op is already known
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"op {op!r}: args must be a tuple of operands, got {type(args).__name__}")
    arity = OPS[op].arity
    if len(args) != arity:
        raise ValueError(f"op {op!r} takes {arity} operand(s), got {len(args)}")
    for operand in args:
        if isinstance(operand, Constant) or not (
            isinstance(operand, Node) or (type(operand) is float and math.isfinite(operand))
        ):
            break
    else:  # all fine already, the common case: a tuple is kept as it is, not copied
        return tuple(args)
    checked: list[Node | float] = []
    for position, operand in enumerate(args):
        if isinstance(operand, Constant):
            checked.append(operand.value)  # a constant is a literal inside an expression
        elif isinstance(operand, Node):
            checked.append(operand)
        else:  # a number: made a plain float, or refused with the op and position named
            checked.append(as_finite_float(operand, f"op {op!r}: operand {position}"))
    return tuple(checked)


@attrs.frozen(eq=False, repr=False)
class Operation(Node):
    """An op from :data:`minigrad.ops.OPS` applied to operands (nodes or float literals).

    ``args`` may be given as any tuple or list of nodes and real numbers; it is stored
    as a tuple of nodes and plain finite floats.

    Examples
    --------
    >>> a = Scalar(2.0, name="a")
    >>> a * 3
    Operation('mul', expr='a*3')
    >>> (a * 3).args
    (Scalar(2.0, name='a'), 3.0)
    >>> Operation("mul", [a, float("nan")])
    Traceback (most recent call last):
    ValueError: op 'mul': operand 1 must be finite, got nan
    """

    op: str = attrs.field(converter=_known_op)
    # (mypy's attrs plugin does not know attrs.Converter yet, hence the ignore.)
    args: tuple[Node | float, ...] = attrs.field(  # type: ignore[misc]
        converter=attrs.Converter(_operands, takes_self=True)  # type: ignore[misc]
    )

    @classmethod
    def checked_already(cls, op: str, args: tuple[Node | float, ...]) -> Operation:
        """An Operation made without its checks, for operands known to pass them.

        The transformations that build many nodes (``rewrite.py``) make their
        operands from nodes and floats that were checked once already; skipping the
        converters makes building a derivative a third faster.
        """
        node = object.__new__(cls)
        object.__setattr__(node, "op", op)
        object.__setattr__(node, "args", args)
        return node

    def __repr__(self) -> str:
        # Bounded: describe() renders a few levels, never the whole graph.
        return f"Operation({self.op!r}, expr={describe(self, max_depth=3)!r})"


def _constant_value(value: object) -> float:
    return as_finite_float(value, "Constant value")


@attrs.frozen(eq=False, repr=False)
class Constant(Node):
    """A number as a node: what a derivative is when it depends on no leaf.

    ``diff(x * 2, x)`` is ``Constant(2.0)``: an ordinary node you can evaluate, draw and
    differentiate (to ``Constant(0.0)``), but not an input -- ``inputs=`` cannot change
    it and it is not among a graph's leaves.  Used as an operand it becomes a plain
    literal: ``Constant(2.0) * x`` is ``Operation("mul", (2.0, x))``.

    Examples
    --------
    >>> Constant(2)
    Constant(2.0)
    """

    value: float = attrs.field(converter=_constant_value)

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"


def kind_of(node: Node) -> str:
    """What a node is, in one word: its op's name, ``"scalar"`` or ``"constant"``.

    The ``op`` attribute of the networkx view and of exports.
    """
    if isinstance(node, Operation):
        return node.op
    return "constant" if isinstance(node, Constant) else "scalar"


# -- module-level functions of the same names as the methods ---------------------------
# For every op of the table written f(a) or f(a, b) -- relu, tanh, ..., atan2, hypot -- a
# function ``minigrad.relu(x)`` (and for f(a) a method ``x.relu()``), made from its row:
# adding an op to ops.py is all it takes.  abs is left to Python's own abs(x), which
# calls Node.__abs__.


def _op_function(op: str) -> Callable[..., Operation]:
    def function(*operands: object) -> Operation:  # f(x), or f(x, y) for atan2, hypot, ...
        return Operation(op, operands)

    function.__name__ = function.__qualname__ = op
    function.__doc__ = OPS[op].doc
    return function


def _op_method(op: str) -> Callable[[Node], Operation]:
    def method(self: Node) -> Operation:
        return Operation(op, (self,))

    method.__name__, method.__qualname__ = op, f"Node.{op}"
    method.__doc__ = f"{OPS[op].doc}  Also ``minigrad.{op}(x)``."
    return method


#: The function-style ops: each (but abs) a function here, and those of one operand a
#: method of every node (``x.tan()``; ``atan2(y, x)`` is a function only).
FUNCTION_OPS = tuple(name for name, rule in OPS.items() if rule.is_function)
for _name in FUNCTION_OPS:
    if OPS[_name].arity == 1:
        setattr(Node, _name, _op_method(_name))
    if _name != "abs":
        globals()[_name] = _op_function(_name)
        __all__.append(_name)

if TYPE_CHECKING:  # the functions made above, as type checkers see them

    def __getattr__(name: str) -> Callable[..., Operation]: ...


# -- a short, bounded rendering of an expression, for messages and reprs ---------------

# Binding strength (each op's ``precedence`` in the table): a child binding more weakly
# than its context needs parentheses.
_ATOM = 5  # leaves, literals and function calls never need parentheses...
_NEGATIVE_LITERAL = 3  # ...except negative numbers, which bind like unary minus


def format_number(x: float, like_python: bool = False) -> str:
    """A number kept short, at most 6 significant digits: as people write it (``3``, not
    ``3.0``), or ``like_python``, as Python writes a float (``3.0``; ``5.64``, not
    linspace's ``5.639999999999999``), for a table of floats.

    >>> format_number(3.0), format_number(1 / 3), format_number(3.0, like_python=True)
    ('3', '0.333333', '3.0')
    >>> format_number(5.639999999999999, like_python=True), format_number(float("nan"))
    ('5.64', 'nan')
    """
    text = format(x, ".6g")
    return repr(float(text)) if like_python else text


def _precedence(thing: Node | float) -> int:
    if isinstance(thing, Operation):
        return OPS[thing.op].precedence
    unnamed = isinstance(thing, Constant) or (isinstance(thing, Scalar) and thing.name is None)
    value = thing.value if unnamed else thing  # type: ignore[union-attr]
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
    if not isinstance(node, Node | float | int) or isinstance(node, bool):
        raise TypeError(f"describe renders a node or a number, got {type(node).__name__}: "
                        f"{brief_repr(node)}")
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
            parts = ["-", (thing.args[0], depth + 1, OPS["pow"].precedence)]
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
        else:  # f(a) or f(a, b)
            parts = [f"{rule.symbol}("]
            for k, operand in enumerate(thing.args):
                parts += [", "] if k else []
                parts.append((operand, depth + 1, 0))
            parts.append(")")
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
    if isinstance(thing, Constant):
        return format_number(thing.value)
    assert isinstance(thing, float)
    return format_number(thing)


# -- pickling: any depth, without recursion, keeping identity -------------------------
#
# Pickle saves an object by first saving what it refers to, recursively (in C): saving
# a node saves its operands, which save theirs, ... and a chain of a few hundred ops
# exhausts the recursion limit.  The way out: hand pickle the nodes as the items of a
# list, in topological order.  Pickle saves list items one after another, not nested,
# and when it reaches a node, that node's operands are already in its memo (it saved
# them a moment ago), so they are written as short back-references.
#
# Each node therefore decides how it is saved (_reduce_node):
#
# * "plainly" -- class and fields -- when that is shallow: its operands are already
#   saved in this pickle, or it is an item of such a list;
# * otherwise as "the last item of the list of its subgraph (less what this pickle
#   has saved), in topological order".  While pickle saves that list, the node itself
#   comes up as its last item and is saved plainly; back in the node's own save,
#   pickle finds it in the memo and writes a reference (its save_reduce does this for
#   any object that its own arguments have saved), so identity holds.
#
# That needs to know what *this* pickle has saved: a _PickleStream, one per pickler.
# Every plainly saved node refers to it, so the pickler saves it once and then keeps
# it in its memo; a weak reference per thread finds it again, and it dies with the
# pickler (also one that failed half-way).  Loading needs none of this: each node is
# rebuilt from its class and fields.
#
# Why not simply "save plainly while a list is being saved"?  Pickle *fetches* list
# items before it saves them (the C pickler one ahead, the pure-Python one a batch of
# 1000 ahead), so the list's iterator may be finished while its last items are still
# to be saved.  And a walk that ignored what the pickle already holds would make a
# list of the 10,000 nodes of a chain cost 10,000 walks of up to 10,000 nodes each.


class _PickleStream:
    """What one pickle being written has saved of the nodes, and what it will save."""

    __slots__ = ("__weakref__", "pending", "saved", "times_saved")

    def __init__(self) -> None:
        #: Nodes saved in this pickle, hence in its memo.
        self.saved: set[Node] = set()
        #: Items of a list being saved in topological order, not reached yet.
        self.pending: set[Node] = set()
        #: How many picklers have saved this object: one is its own, two means another
        #: pickler (the first one still alive) has found it, and must not use it.
        self.times_saved = 0

    def __reduce__(self) -> tuple[Any, ...]:
        self.times_saved += 1
        return (_nothing, ())  # the bookkeeping is for writing; it loads as None


_this_thread = threading.local()  # .stream: a weak reference to the current stream


def _current_stream(node: Node | None = None) -> _PickleStream:
    """The stream of the pickle this thread is writing: a new one if there is none,
    or if the one found is not this pickler's -- pickle never saves an object twice
    in one stream, so being asked to save ``node`` again shows that."""
    reference = getattr(_this_thread, "stream", None)
    stream = reference() if reference is not None else None
    if stream is None or stream.times_saved > 1 or node in stream.saved:
        stream = _PickleStream()
        _this_thread.stream = weakref.ref(stream)
    return stream


class _InOrder:
    """Nodes that pickle as a plain list, saved one after another in topological order.

    The nodes become pending in ``stream``: each will find its operands saved before it.
    """

    __slots__ = ("order", "stream")

    def __init__(self, stream: _PickleStream, order: list[Node] | tuple[Node, ...]) -> None:
        self.stream, self.order = stream, order  # holding the stream keeps it alive
        stream.pending.update(order)

    def __reduce__(self) -> tuple[Any, ...]:
        # (callable, args, state, list items): pickle makes an empty list, then saves
        # the items one by one, appending each.  No nesting, however many there are.
        return (list, (), None, iter(self.order))


def picklable_order(order: tuple[Node, ...]) -> object:
    """``order`` (operands before their results) as an object that pickles as a list,
    without recursion: for :class:`~minigrad.graph.Graph`'s pickling."""
    return _InOrder(_current_stream(), order)


def _reduce_node(node: Node) -> tuple[Any, ...]:
    """How pickle saves ``node``: plainly if that is shallow, else as the last item of
    its subgraph in topological order (see the comment above)."""
    stream = _current_stream(node)
    if node in stream.pending or all(  # (all() of nothing is True: leaves are plain)
        operand in stream.saved for operand in node.args if isinstance(operand, Node)
    ):
        stream.pending.discard(node)
        stream.saved.add(node)
        # The stream first: were it another pickler's, saving it shows that before any
        # operand is saved.
        return (_node_from_state, (stream, type(node), node.__getstate__()))
    subgraph = topological_order((node,), done=stream.saved)
    return (_last_node, (_InOrder(stream, subgraph),))


def _nothing() -> None:
    """What a _PickleStream loads as: nothing (its job was done when writing)."""
    return None


def _node_from_state(stream: None, cls: type[Node], state: object) -> Node:
    """Unpickling: a node of ``cls`` with the fields in ``state`` (as attrs saved them)."""
    node = cls.__new__(cls)
    node.__setstate__(state)  # type: ignore[call-arg]  # attrs' slotted classes have it
    return node


def _last_node(nodes: list[Node]) -> Node:
    """Unpickling a node saved with its subgraph: the node is the list's last item."""
    return nodes[-1]


def topological_order(outputs: tuple[Node, ...], done: Set[Node] = frozenset()) -> list[Node]:
    """Every node the outputs depend on, operands first, each once.

    A depth-first post-order: a node is appended after all of its operands.  Nodes in
    ``done`` count as ordered already: they are neither listed nor looked into (pickling
    uses this to list only what it has not saved yet).

    Examples
    --------
    >>> a = Scalar(2.0, name="a")
    >>> b = a * a
    >>> [type(n).__name__ for n in topological_order((b + a,))]
    ['Scalar', 'Operation', 'Operation']
    """
    order: list[Node] = []
    seen: set[Node] = set()
    for output in outputs:
        if output in seen or output in done:
            continue
        seen.add(output)
        # Each stack entry: a node and an iterator over the operands still to visit.
        stack: list[tuple[Node, Iterator[Node | float]]] = [(output, iter(output.args))]
        while stack:
            node, operands = stack[-1]
            # The iterator resumes where it stopped: coming back to this entry after an
            # operand's visit, the loop continues with the operand after it.  Python's
            # for ... else: the else runs when the loop ends without a break, i.e. when
            # no operand was left to visit.  (The recursive version in
            # notebooks/how_it_works.ipynb, section 1, is the same visit.)
            for operand in operands:
                if isinstance(operand, Node) and operand not in seen and operand not in done:
                    seen.add(operand)
                    stack.append((operand, iter(operand.args)))
                    break  # visit this operand's operands first
            else:  # all operands done: the node itself can follow them
                stack.pop()
                order.append(node)
    return order

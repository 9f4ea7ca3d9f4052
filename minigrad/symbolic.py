"""SymPy in and out: :func:`to_sympy`, :func:`from_sympy`, and formulas shown as LaTeX.

**Out.**  A node becomes a SymPy expression by the reference interpreter's forward loop
(``interpret.forward_pass``) run with the SymPy namespace of ``ops.py``: each op of the
graph applied to SymPy expressions instead of floats.  Shared subexpressions stay
shared (SymPy's expressions are a DAG too).  The expression is built as the graph is
written, unevaluated (``sin(x)*y**2``, ``0.2*(3*x**2)``): SymPy's automatic evaluation
looks through the whole of each new expression's operands, which on a deep graph is
quadratic and recursive; ``.doit()`` or ``sympy.simplify`` give SymPy's own form.
Named leaves become real symbols of their names; an unnamed leaf becomes ``leaf0``,
``leaf1``, ... by its place among the graph's leaves; literals become exact numbers (an
integer-valued float is an ``Integer``, any other a ``Float`` of all 53 bits).

**In.**  A SymPy expression becomes a MiniGrad graph by one walk over it, operands
first: symbols become ``Scalar`` leaves named after them, numbers (``pi``, ``sqrt(2)``,
``1/3``) floats, and each function with an op in the table that op.  Then it evaluates
over arrays, raises named errors instead of NaN, and gives every gradient from one
backward pass -- what ``lambdify`` does not.

SymPy is an optional extra (``pip install sympy``): this module imports it only when
used, so ``import minigrad`` never needs it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from minigrad import nodes
from minigrad.graph import Graph, garbage_collector_paused
from minigrad.interpret import forward_pass
from minigrad.nodes import Constant, Node, Operation, Scalar
from minigrad.ops import OPS, sympy_namespace

__all__ = ["LATEX_MAX_NODES", "from_sympy", "latex", "to_sympy"]


def _sympy() -> Any:
    try:
        import sympy
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "converting to or from SymPy needs sympy: pip install sympy"
        ) from error
    return sympy


def exact(x: float) -> Any:
    """A float as an exact SymPy number: an Integer if it is whole, else a Float."""
    sympy = _sympy()
    if x.is_integer() and abs(x) < 2.0**53:
        return sympy.Integer(int(x))
    return sympy.Float(x)  # 53 bits: the float exactly (printed to 15 digits)


def _symbols(graph: Graph) -> dict[Scalar, Any]:
    """Each leaf's Symbol: its name, or ``leaf<k>`` by its place among the leaves."""
    sympy = _sympy()
    shared = graph.shared_leaf_names()
    if shared:
        raise ValueError(f"to_sympy: several leaves are named {shared[0]!r}, and a SymPy "
                         "symbol is one variable; give them different names")
    names = {leaf: leaf.name if leaf.name is not None else f"leaf{k}"
             for k, leaf in enumerate(graph.leaves)}
    taken = {leaf.name for leaf in graph.leaves if leaf.name is not None}
    for leaf, name in names.items():
        if leaf.name is None and name in taken:
            raise ValueError(f"to_sympy: an unnamed leaf would be called {name!r}, the name "
                             "of another leaf; name the leaves")
    return {leaf: sympy.Symbol(name, real=True) for leaf, name in names.items()}


def to_sympy(node: Node) -> Any:
    """The SymPy expression of ``node``.

    Examples
    --------
    >>> from minigrad import Scalar, diff
    >>> x = Scalar(0.7, name="x"); y = Scalar(-0.4, name="y")
    >>> to_sympy(x.sin() * y**2 + (x * y).erf())
    y**2*sin(x) + erf(x*y)
    >>> to_sympy(diff(x**3 / 5, x))  # the graph as it is; .doit(): SymPy's own form
    0.2*(3*x**2)
    >>> to_sympy(diff(x**3 / 5, x)).doit()
    0.6*x**2
    """
    if not isinstance(node, Node):
        raise TypeError(f"to_sympy converts a node, got {type(node).__name__}")
    with garbage_collector_paused():
        graph = Graph(node)
        symbols = _symbols(graph)
        values: list[Any] = [
            symbols[n] if isinstance(n, Scalar) else exact(n.value)
            if isinstance(n, Constant) else None
            for n in graph.order
        ]
        namespace = _exact_literals(sympy_namespace())
        with _sympy().evaluate(False):  # each op as written: see the module docstring
            return forward_pass(graph, namespace, values)[-1]


class _exact_literals:
    """The SymPy namespace, with every float operand made an exact SymPy number first
    (``x**2``, not ``x**2.0``)."""

    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        function = getattr(self._namespace, name)

        def exactly(*operands: Any) -> Any:
            return function(*(exact(a) if isinstance(a, float) else a for a in operands))

        return exactly


# ---------------------------------------------------------------------------------------
# In: a SymPy expression as a graph.
# ---------------------------------------------------------------------------------------

#: SymPy's functions with an op of the same meaning, by the op's name.
_FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos",
    "atan": "atan", "atan2": "atan2", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "asinh": "asinh", "acosh": "acosh", "atanh": "atanh", "exp": "exp", "log": "log",
    "erf": "erf", "erfc": "erfc", "Abs": "abs", "sign": "sign", "floor": "floor",
    "ceiling": "ceil",
}


def from_sympy(expr: Any, leaves: Iterable[Scalar] | Mapping[Any, Scalar] | None = None
               ) -> Node:
    """A MiniGrad node computing the SymPy expression ``expr``.

    Symbols become :class:`Scalar` leaves named after them, with value 0.0 (give values
    with ``inputs=``), unless ``leaves`` gives them: Scalars, matched by name, or a
    mapping from symbols (or names) to Scalars.  ``Add``, ``Mul``, ``Pow``, ``Max``,
    ``Min``, ``Abs``, ``atan2``, ``Heaviside(x, 0)`` (the step) and every function with an
    op in the table are mapped; anything else raises a ``TypeError`` naming it.

    Examples
    --------
    >>> import sympy
    >>> from minigrad import Graph, backward, evaluate
    >>> X, Y = sympy.symbols("x y", real=True)
    >>> g = from_sympy(sympy.exp(X) * sympy.atan2(Y, X))
    >>> x, y = Graph(g).leaves
    >>> round(evaluate(Graph(g), inputs={x: 1.0, y: 1.0})[g], 12)
    2.134933555668
    """
    sympy = _sympy()
    expr = sympy.sympify(expr)
    if not isinstance(expr, sympy.Expr):
        raise TypeError(f"from_sympy: {expr!r} ({type(expr).__name__}) is not a real-valued "
                        "expression")
    by_name = _leaves_by_name(leaves)
    built: dict[Any, Node | float] = {}
    with garbage_collector_paused():
        stack: list[tuple[Any, bool]] = [(expr, False)]
        while stack:  # operands first, without recursion; shared parts built once
            part, ready = stack.pop()
            if part in built:
                continue
            if not ready and part.args:
                stack.append((part, True))
                stack.extend((arg, False) for arg in reversed(part.args) if arg not in built)
                continue
            built[part] = _from_part(sympy, part, built, by_name)
    result = built[expr]
    return result if isinstance(result, Node) else Constant(result)


def _leaves_by_name(leaves: Iterable[Scalar] | Mapping[Any, Scalar] | None) -> dict[str, Scalar]:
    if leaves is None:
        return {}
    pairs = (leaves.items() if isinstance(leaves, Mapping)
             else ((leaf.name, leaf) for leaf in leaves))
    by_name: dict[str, Scalar] = {}
    for key, leaf in pairs:
        if not isinstance(leaf, Scalar):
            raise TypeError(f"from_sympy: leaves must be Scalar leaves, got "
                            f"{type(leaf).__name__}")
        if key is None:
            raise ValueError("from_sympy: a leaf given without a mapping needs a name")
        by_name[str(key)] = leaf
    return by_name


def _number(part: Any) -> float:
    """A SymPy number as a float (``sqrt(2)`` evaluated to 17 digits, then rounded)."""
    try:
        value = float(part.evalf(17))
    except TypeError:  # a complex number, or a symbol-free expression with no value
        raise ValueError(f"from_sympy: {part} is not a real number") from None
    if not math.isfinite(value):
        raise ValueError(f"from_sympy: {part} is not a finite real number")
    return value


def _from_part(sympy: Any, part: Any, built: dict[Any, Node | float],
               by_name: dict[str, Scalar]) -> Node | float:
    """One piece of the expression, its operands already built."""
    if isinstance(part, sympy.Symbol):
        name = part.name
        if name not in by_name:
            by_name[name] = Scalar(0.0, name=name)
        return by_name[name]
    args = [built[arg] for arg in part.args]
    if (all(isinstance(arg, float) for arg in args) and part.is_Atom) or (
            args and all(isinstance(arg, float) for arg in args)):
        return _number(part)  # a number (pi, 1/3, sqrt(2)): its operands are numbers
    name = type(part).__name__
    if isinstance(part, sympy.Add):
        return _chain("add", args)
    if isinstance(part, sympy.Mul):
        if args[0] == -1.0:  # -x: SymPy's Mul(-1, x)
            return _apply("neg", [_chain("mul", args[1:])])
        return _chain("mul", args)
    if isinstance(part, sympy.Pow):
        base, exponent = args
        if exponent == -1.0:
            return _apply("div", [1.0, base])  # x/y is Mul(x, Pow(y, -1))
        if exponent == 0.5:
            return _apply("sqrt", [base])
        return _apply("pow", [base, exponent])
    if name in ("Max", "Min"):
        return _chain("maximum" if name == "Max" else "minimum", args)
    if name == "log" and len(args) == 2:  # log(x, base), as SymPy keeps it unevaluated
        x, base = args
        if base in (2.0, 10.0):
            return _apply("log2" if base == 2.0 else "log10", [x])
        if isinstance(base, float) and base <= 0.0:
            raise ValueError(f"from_sympy: {part} has a base that is not positive")
        return _apply("div", [_apply("log", [x]), _apply("log", [base])])
    if name == "Heaviside":
        if len(args) == 2 and args[1] == 0.0:
            return _apply("step", args[:1])
        raise TypeError("from_sympy: Heaviside(x) is 1/2 at 0 in SymPy; MiniGrad's step is "
                        "Heaviside(x, 0), 0 at 0: write that")
    op = _FUNCTIONS.get(name)
    if op is None or len(args) != OPS[op].arity:
        raise TypeError(f"from_sympy: SymPy's {name} has no MiniGrad op (in {part})")
    return _apply(op, args)


def _apply(op: str, args: list[Node | float]) -> Node:
    return Operation(op, tuple(args))


def _chain(op: str, args: list[Node | float]) -> Node | float:
    """An n-ary SymPy Add, Mul, Max or Min as a chain of binary ops, left to right."""
    result = args[0]
    for arg in args[1:]:
        result = Operation(op, (result, arg))
    return result


# ---------------------------------------------------------------------------------------
# LaTeX, for Jupyter.
# ---------------------------------------------------------------------------------------

#: Graphs of more nodes than this are not printed as a formula: it would not be read.
LATEX_MAX_NODES = 300


def latex(node: Node) -> str | None:
    """``node`` as LaTeX (``$...$``, for Jupyter's display), or None when SymPy is not
    installed or the graph has more than :data:`LATEX_MAX_NODES` nodes."""
    try:
        _sympy()
    except ModuleNotFoundError:
        return None
    if _more_nodes_than(node, LATEX_MAX_NODES) or _tree_size(node) > LATEX_MAX_TERMS:
        return None
    return f"${latex_text(node)}$"


#: A formula printed as text writes a shared part out at each use: graphs whose formula
#: would have more terms than this (``s = (s+1)*(s+2)`` ten times has 36,000 characters)
#: keep the plain repr.
LATEX_MAX_TERMS = 2_000


def _tree_size(node: Node) -> int:
    """How many terms ``node``'s formula has when every shared part is written out
    (counted on the graph, operands first, so never more work than its size)."""
    graph = Graph(node)
    size: list[int] = []
    for other in graph.order:
        size.append(min(LATEX_MAX_TERMS + 1, 1 + sum(
            size[graph.index[a]] for a in other.args if isinstance(a, Node))))
    return size[-1]


def latex_text(node: Node) -> str:
    """``node`` as LaTeX, in SymPy's own form (``.doit()``: ``0.6 x^{2}``, not the
    graph's ``0.2 \\cdot 3 x^{2}``).  For a formula to be read: a graph of a few
    hundred nodes at most (SymPy's evaluation recurses through it)."""
    return str(_sympy().latex(to_sympy(node).doit()))


nodes.LATEX = latex  # Node._repr_latex_: Jupyter shows a node as its formula


def _more_nodes_than(node: Node, limit: int) -> bool:
    seen: set[Node] = {node}
    stack = [node]
    while stack:
        for operand in stack.pop().args:
            if isinstance(operand, Node) and operand not in seen:
                if len(seen) >= limit:
                    return True
                seen.add(operand)
                stack.append(operand)
    return False

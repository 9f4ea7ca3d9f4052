"""The forward pass: :func:`evaluate` gives the value of every node of a Graph.

The loop that computes the values is in ``interpret.py`` (the reference) and
``codegen.py`` (the same, compiled); this module is the public entry point, the checks
of ``inputs``, and :class:`NodeValues`, the read-only mapping it returns.

Leaf values come from the leaves themselves unless ``inputs`` overrides them; the
overrides are checked here, at the boundary, before any work is done, and they never
change the leaves: a later call without ``inputs`` sees the original values.
"""

from __future__ import annotations

import bisect
import copy
import difflib
import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from minigrad.errors import EvaluationError
from minigrad.fastpath import backward_gradients, forward_values
from minigrad.graph import Graph
from minigrad.nodes import Constant, Node, Operation, Scalar, as_finite_float, brief_repr

__all__ = ["Inputs", "NodeValues", "Undefined", "evaluate", "resolve_inputs"]

#: What ``inputs=`` accepts: leaf nodes or leaf names, mapped to numbers or arrays.
Inputs = Mapping[object, object]
#: What to do where a value or gradient is undefined: raise (the default), or "nan".
Undefined = Literal["raise", "nan"]


class NodeValues(Mapping[Node, float]):
    """A read-only mapping node -> float over the nodes of one graph (for a batch of
    points, node -> array: ``batch.BatchValues``, a subclass).

    Returned by :func:`evaluate` (values) and :func:`~minigrad.backward.backward`
    (gradients).  Each call returns a new one; nothing is shared between calls.

    It pickles with its graph (see :class:`~minigrad.graph.Graph`); ``copy.deepcopy``
    gives one over a copy of the graph whose nodes are the same node objects.

    Examples
    --------
    >>> a = Scalar(2.0, name="a")
    >>> values = evaluate(Graph(a * a))
    >>> values[a], len(values)
    (2.0, 2)
    >>> values.by_name()
    {'a': 2.0}
    """

    __slots__ = ("_graph", "_values")

    def __init__(self, graph: Graph, values: list[float]) -> None:
        self._graph = graph
        self._values = values

    def __getitem__(self, node: Node) -> float:
        try:
            return self._values[self._graph.index[node]]
        except KeyError:
            raise KeyError(f"{node!r} is not a node of this graph") from None

    def __contains__(self, node: object) -> bool:
        return node in self._graph.index

    def __iter__(self) -> Iterator[Node]:
        return iter(self._graph.order)

    def __len__(self) -> int:
        return len(self._values)

    def __reduce__(self) -> tuple[Any, ...]:
        return (NodeValues, (self._graph, self._values))

    def __deepcopy__(self, memo: dict[int, Any]) -> NodeValues:
        # The values are floats, immutable: a new list of the same ones is a deep copy.
        return NodeValues(copy.deepcopy(self._graph, memo), list(self._values))

    def __repr__(self) -> str:
        # The first five entries, found by position: O(1) however large the graph.
        first = zip(self._graph.order[:5], self._values[:5], strict=True)
        shown = ", ".join(f"{node!r}: {value!r}" for node, value in first)
        more = ", ..." if len(self) > 5 else ""
        return f"NodeValues({{{shown}{more}}})"

    def by_name(self) -> dict[str, float]:
        """The entries of the named leaves, keyed by name (in graph order).

        Raises ValueError if two leaves share a name: a dict could keep only one of
        them.  Index by the leaf nodes instead.
        """
        shared = self._graph.shared_leaf_names()
        if shared:
            names = ", ".join(brief_repr(name) for name in shared[:3])
            more = f" (and {len(shared) - 3:,} more names)" if len(shared) > 3 else ""
            raise ValueError(
                f"by_name: several leaves are named {names}{more}, and a dict keeps one "
                "entry per name; index by the leaf nodes instead: values[leaf]"
            )
        return {leaf.name: self[leaf] for leaf in self._graph.leaves if leaf.name is not None}


def resolve_inputs(
    graph: Graph, inputs: Inputs | None, arrays: bool = False
) -> dict[int, float]:
    """Check ``inputs`` and return {position of the leaf in graph.order: new value}.

    Keys may be :class:`Scalar` leaves of the graph or their names.  With
    ``arrays=True`` a value may also be a 1-D array of numbers (a batch, see
    ``batch.py``; a dask array is kept as it is); with the default, numbers only.
    Raises

    * ``KeyError`` for a name no leaf has, or a leaf that is not in the graph;
    * ``ValueError`` for a name two leaves share, a non-leaf node, a non-finite value,
      or one leaf given twice (once as node, once by name);
    * ``TypeError`` for a key that is neither node nor str, or a non-numeric value.

    Examples
    --------
    >>> a = Scalar(2.0, name="a")
    >>> graph = Graph(a * 3)
    >>> resolve_inputs(graph, {"a": 5})
    {0: 5.0}
    >>> resolve_inputs(graph, {"z": 5})
    Traceback (most recent call last):
    KeyError: "inputs: no leaf is named 'z'; the named leaves are: 'a'"
    """
    if not inputs:
        return {}
    if not isinstance(inputs, Mapping):
        raise TypeError(f"inputs must be a mapping of leaf -> value, got {type(inputs).__name__}")
    overrides: dict[int, float] = {}
    for key, value in inputs.items():
        leaf = _leaf_for_key(graph, key)
        position = graph.index[leaf]
        if position in overrides:
            raise ValueError(f"inputs: leaf {leaf!r} is given twice")
        if type(value) is float and math.isfinite(value):
            overrides[position] = value  # the common case: no message text to make
        elif arrays and is_array(value):
            overrides[position] = _as_batch(value, f"inputs[{brief_repr(key)}]")
        else:
            overrides[position] = as_finite_float(value, f"inputs[{brief_repr(key)}]")
    return overrides


def is_array(value: object) -> bool:
    """Is an input a batch of values -- a list, a tuple, a numpy, dask or other array?
    Numbers, numpy's scalars among them, are not.  (Asked without importing numpy.)"""
    if isinstance(value, list | tuple | range):
        return True
    return hasattr(value, "__array__") and not isinstance(value, numbers.Number)


def is_dask(value: object) -> bool:
    """Is an input a dask array (computed lazily, block by block)?"""
    return type(value).__module__.split(".")[0] == "dask"


def _as_batch(value: object, what: str) -> Any:
    if is_dask(value):
        return value  # checked by batch_dask.py, which keeps it lazy
    try:
        from minigrad.batch import as_batch
    except ModuleNotFoundError as error:  # numpy is an optional extra
        raise ModuleNotFoundError(
            f"{what} is an array: evaluating a batch needs numpy; "
            'pip install "minigrad[numpy]"'
        ) from error
    return as_batch(value, what)


def has_arrays(overrides: Mapping[int, object]) -> bool:
    """Does any input hold an array?  (The float path is taken when none does.)"""
    return any(type(value) is not float for value in overrides.values())


def _leaf_for_key(graph: Graph, key: object) -> Scalar:
    if isinstance(key, str):
        leaves = graph.leaves_named(key)
        if not leaves:
            known = _known_names(graph, key)
            raise KeyError(f"inputs: no leaf is named {brief_repr(key)}; {known}")
        if len(leaves) > 1:
            raise ValueError(
                f"inputs: {len(leaves)} leaves are named {brief_repr(key)}; "
                "pass the leaf nodes instead"
            )
        return leaves[0]
    if isinstance(key, Operation):
        raise ValueError(f"inputs: {key!r} is not a leaf; only Scalar leaves take inputs")
    if isinstance(key, Constant):
        raise ValueError(f"inputs: {key!r} is a constant, not an input; only Scalar leaves "
                         "take inputs")
    if isinstance(key, Scalar):
        if key not in graph.index:
            raise KeyError(f"inputs: {key!r} is not a leaf of this graph")
        return key
    raise TypeError(f"inputs keys must be Scalar leaves or their names, got {type(key).__name__}")


#: Up to this many leaf names, a message lists them all; beyond, the closest few.
_LISTED_NAMES = 10


def _known_names(graph: Graph, key: str) -> str:
    """What the graph's leaves are named, for the message about ``key``: bounded in
    length and time however many leaves there are (closest names, then the count)."""
    names = graph.leaf_names  # sorted
    if len(names) <= _LISTED_NAMES:
        return "the named leaves are: " + (", ".join(map(brief_repr, names)) or "(none)")
    # difflib compares `key` with every candidate: seconds for 10**5 names.  So with
    # many names it looks only near where `key`, and `key` less a character or two (a
    # typo at the end), would sort.
    candidates = set(names) if len(names) <= 1000 else set()
    for prefix in {key, key[:-1], key[:-2]} if not candidates else ():
        at = bisect.bisect_left(names, prefix)
        candidates.update(names[max(0, at - 50) : at + 50])
    close = difflib.get_close_matches(key, sorted(candidates), n=3)
    if not close:
        return f"the graph has {len(names):,} named leaves"
    return f"did you mean {' or '.join(map(brief_repr, close))}? ({len(names):,} named leaves)"


def evaluate(
    graph: Graph, inputs: Inputs | None = None, undefined: Undefined = "raise"
) -> NodeValues:
    """The value of every node of ``graph``, as a fresh mapping node -> float.

    Parameters
    ----------
    graph : the Graph to evaluate.
    inputs : optional new values for leaves, keyed by leaf node or leaf name.  The
        leaves themselves do not change.  A value may be a 1-D array (numpy, or
        dask): the graph is then evaluated at every point at once, and every value
        is an array (``batch.py``; needs ``pip install "minigrad[numpy]"``).
    undefined : ``"raise"`` (the default): an undefined or infinite value raises.
        ``"nan"``: it is NaN instead, at the points where it happens -- for plotting
        a function over a range that leaves its domain.

    Raises
    ------
    EvaluationError : a value is undefined or not finite (names the op and node).
    KeyError, ValueError, TypeError : ``inputs`` is wrong (see :func:`resolve_inputs`).

    Examples
    --------
    >>> a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")
    >>> d = a**3 / 5 + (b**2).relu()
    >>> graph = Graph(d)
    >>> evaluate(graph)[d]
    16.675
    >>> evaluate(graph, inputs={"a": 2.0, "b": 3.0})[d]
    10.6
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"evaluate needs a Graph, got {type(graph).__name__}; try Graph(node)")
    return compute(graph, inputs, None, undefined)[0]


def compute(
    graph: Graph, inputs: Inputs | None, output: int | None, undefined: Undefined
) -> tuple[NodeValues, NodeValues | None]:
    """Every node's value and, if ``output`` (a position) is given, d output / d node:
    the one place that chooses the float path, numpy batches (``batch.py``) or dask
    arrays (``batch_dask.py``), after checking the arguments."""
    check_undefined(undefined)
    overrides = resolve_inputs(graph, inputs, arrays=True)
    if not has_arrays(overrides):
        values, grads = float_run(graph, overrides, output, undefined)
        return NodeValues(graph, values), None if grads is None else NodeValues(graph, grads)
    if any(is_dask(value) for value in overrides.values()):
        from minigrad.batch_dask import run_dask

        return run_dask(graph, overrides, output, undefined)
    from minigrad.batch import run

    return run(graph, overrides, output, undefined)


def float_run(
    graph: Graph, overrides: dict[int, float], output: int | None, undefined: Undefined
) -> tuple[list[float], list[float] | None]:
    """The float path: every node's value and, if ``output`` is given, d output / d node.

    With ``undefined="nan"`` a failure makes every value and gradient NaN (a leaf's
    value stays its input): the one point there is, is undefined.
    """
    try:
        values = forward_values(graph, overrides)
        return values, None if output is None else backward_gradients(graph, values, output)
    except EvaluationError:
        if undefined == "raise":
            raise
    values = [
        overrides.get(i, node.value) if isinstance(node, Scalar | Constant) else math.nan
        for i, node in enumerate(graph.order)
    ]
    return values, None if output is None else [math.nan] * len(values)


def check_undefined(undefined: object) -> Undefined:
    """``undefined`` itself, if it is one of the choices; ValueError otherwise."""
    if undefined not in ("raise", "nan"):
        raise ValueError(f"undefined must be 'raise' or 'nan', got {brief_repr(undefined)}")
    return undefined

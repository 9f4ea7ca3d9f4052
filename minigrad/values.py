"""What the engines hand back, and what they are handed: values, gradients, inputs.

:class:`NodeValues` is the read-only mapping node -> float that :func:`~minigrad.evaluate`
and :func:`~minigrad.backward` return; :class:`BatchValues` the same for a batch of
points, node -> array.  :func:`resolve_inputs` checks ``inputs=`` at the boundary,
before any work is done: the engines trust what passes it.

Leaf values come from the leaves themselves unless ``inputs`` overrides them; the
overrides never change the leaves: a later call without ``inputs`` sees the original
values.  numpy is needed only for arrays, and imported only then.
"""

from __future__ import annotations

import bisect
import copy
import difflib
import importlib
import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, Literal

from minigrad.graph import Graph
from minigrad.nodes import Constant, Node, Operation, Scalar, as_finite_float, brief_repr, describe

__all__ = [
    "BatchValues",
    "Inputs",
    "LeafEntries",
    "NodeValues",
    "Undefined",
    "as_batch",
    "batch_size",
    "check_shape_and_dtype",
    "check_undefined",
    "has_arrays",
    "import_numpy",
    "is_array",
    "is_dask",
    "output_position",
    "resolve_inputs",
]

#: What ``inputs=`` accepts: leaf nodes or leaf names, mapped to numbers or arrays.
Inputs = Mapping[object, object]
#: What to do where a value or gradient is undefined: raise (the default), or "nan".
Undefined = Literal["raise", "nan"]


class NodeValues(Mapping[Node, float]):
    """A read-only mapping node -> float over the nodes of one graph (for a batch of
    points, node -> array: :class:`BatchValues`, a subclass).

    Returned by :func:`~minigrad.evaluate` (values) and :func:`~minigrad.backward`
    (gradients).  Each call returns a new one; nothing is shared between calls.

    It pickles with its graph (see :class:`~minigrad.graph.Graph`); ``copy.deepcopy``
    gives one over a copy of the graph whose nodes are the same node objects.

    Examples
    --------
    >>> from minigrad import Scalar, evaluate
    >>> a = Scalar(2.0, name="a")
    >>> values = evaluate(Graph(a * a))
    >>> values[a], len(values)
    (2.0, 2)
    >>> values.by_name()
    {'a': 2.0}
    """

    __slots__ = ("_graph", "_values")

    def __init__(self, graph: Graph, values: Any) -> None:
        self._graph = graph
        self._values = values  # in graph.order: a list of floats, or a 1-D numpy array

    def __getitem__(self, node: Node) -> float:
        try:
            return float(self._values[self._graph.index[node]])
        except (KeyError, TypeError):  # TypeError: an unhashable key, such as a list
            raise not_a_node(self._graph, node) from None

    def __contains__(self, node: object) -> bool:
        return node in self._graph.index

    def __iter__(self) -> Iterator[Node]:
        return iter(self._graph.order)

    def __len__(self) -> int:
        return len(self._values)

    def __reduce__(self) -> tuple[Any, ...]:
        return (NodeValues, (self._graph, self.as_list()))

    def __deepcopy__(self, memo: dict[int, Any]) -> NodeValues:
        # The values are floats, immutable: a new list of the same ones is a deep copy.
        return NodeValues(copy.deepcopy(self._graph, memo), self.as_list())

    def __repr__(self) -> str:
        # The first five entries, found by position: O(1) however large the graph.
        first = zip(self._graph.order[:5], map(float, self._values[:5]), strict=True)
        shown = ", ".join(f"{node!r}: {value!r}" for node, value in first)
        more = ", ..." if len(self) > 5 else ""
        return f"NodeValues({{{shown}{more}}})"

    def as_list(self) -> list[float]:
        """The entries as a list of floats in ``graph.order`` (a copy)."""
        values = self._values
        return values.tolist() if hasattr(values, "tolist") else list(values)

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
        return LeafEntries(
            (leaf.name, self[leaf]) for leaf in self._graph.leaves if leaf.name is not None
        )


class LeafEntries(dict[str, Any]):
    """What ``by_name()`` returns: a plain dict name -> entry of the named leaves, whose
    missing key says what the dict holds (only named leaves) instead of a bare KeyError."""

    def __missing__(self, name: object) -> Any:
        known = ", ".join(brief_repr(known) for known in list(self)[:10]) or "none"
        more = f" (and {len(self) - 10:,} more)" if len(self) > 10 else ""
        raise KeyError(
            f"by_name() holds the named leaves only ({known}{more}), not {brief_repr(name)};"
            " for any other node index the result by the node itself: values[node]"
        )


def not_a_node(graph: Graph, key: object) -> KeyError:
    """The KeyError for ``values[key]`` when key is not a node of the graph, with the
    hint a user needs: results are keyed by node objects, names go through by_name()."""
    if isinstance(key, str):
        if graph.leaves_named(key):
            hint = f"for a leaf's name use values.by_name()[{brief_repr(key)}] (or values[leaf])"
        else:
            hint = f"and no leaf of this graph is named {brief_repr(key)} either"
        return KeyError(f"results are indexed by node, not by name: {hint}")
    if isinstance(key, Node):
        return KeyError(f"{key!r} is not a node of this graph")
    return KeyError(f"results are indexed by node, got {type(key).__name__} {brief_repr(key)}")


def resolve_inputs(
    graph: Graph, inputs: Inputs | None, arrays: bool = False
) -> dict[int, float]:
    """Check ``inputs`` and return {position of the leaf in graph.order: new value}.

    Keys may be :class:`Scalar` leaves of the graph or their names.  With
    ``arrays=True`` a value may also be a 1-D array of numbers (a batch, see
    ``engine.py``; a dask array is kept as it is); with the default, numbers only.
    Raises

    * ``KeyError`` for a name no leaf has, or a leaf that is not in the graph;
    * ``ValueError`` for a name two leaves share, a non-leaf node, a non-finite value,
      or one leaf given twice (once as node, once by name);
    * ``TypeError`` for a key that is neither node nor str, or a non-numeric value.

    Examples
    --------
    >>> from minigrad import Scalar
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




def import_numpy(needed_for: str) -> ModuleType:
    """numpy, or a ModuleNotFoundError that says which extra installs it."""
    try:
        return importlib.import_module("numpy")
    except ModuleNotFoundError as error:  # numpy is an optional extra
        raise ModuleNotFoundError(
            f"{needed_for} needs numpy; pip install numpy (or the project's [numpy] extra)"
        ) from error


def batch_size(graph: Graph, overrides: Mapping[int, Any]) -> int:
    """The common length of the batched inputs; ValueError if they differ."""
    lengths = {position: len(v) for position, v in overrides.items() if type(v) is not float}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(
            f"{describe(graph.order[position])}: {n}" for position, n in lengths.items()
        )
        raise ValueError(f"inputs: the arrays must all have the same length, got {shown}")
    return next(iter(lengths.values()))


def output_position(graph: Graph, output: object, function: str = "backward") -> int:
    """Where ``output`` sits in ``graph.order``; a clear error if it is not there."""
    if not isinstance(graph, Graph):
        raise TypeError(
            f"{function} needs a Graph, got {type(graph).__name__}; try Graph(node)"
        )
    if not isinstance(output, Node):
        raise TypeError(f"the output must be a node, got {type(output).__name__}")
    position = graph.index.get(output)
    if position is None:
        raise ValueError(
            f"{output!r} is not a node of this graph; build the graph from it: Graph(output)"
        )
    return position


def as_batch(x: object, what: str, offset: int = 0) -> Any:
    """An input as a fresh 1-D float64 array (or, if 0-d, a float), or a clear error.

    Raises TypeError for a dtype that is not real numbers (bool, complex, strings,
    objects) and ValueError for 2-D arrays and NaN or infinity at some point (counted
    from ``offset``: a dask block's first point).
    """
    np = import_numpy(what + " is an array: evaluating a batch")
    if isinstance(x, np.ma.MaskedArray):  # numpy would silently compute masked points
        raise TypeError(f"{what} is a masked array; pass x.compressed() or x.filled(...)")
    try:
        array = np.asarray(x)
    except (ValueError, TypeError, RuntimeError) as error:  # ragged lists, torch tensors
        raise ValueError(f"{what} is not a 1-D array of numbers: {error}") from None
    if array.ndim == 0:
        return as_finite_float(array.item(), what)
    if array.dtype.kind == "O" and array.ndim == 1:  # Fractions, huge ints: as one by one
        array = np.array([as_finite_float(v, f"{what}[{i}]") for i, v in
                          enumerate(array.tolist())], dtype=np.float64)
    check_shape_and_dtype(array, what)
    with np.errstate(over="ignore"):  # a longdouble 1e400 becomes inf, refused just below
        array = np.array(array, dtype=np.float64)  # a copy: later changes change nothing
    finite = np.isfinite(array)
    if not finite.all():
        point = int(np.argmin(finite))
        raise ValueError(
            f"{what} must be finite, got {float(array[point])!r} at point {point + offset}"
        )
    return array


def check_shape_and_dtype(array: Any, what: str) -> None:
    """TypeError unless the (numpy or dask) array holds real numbers, ValueError unless
    it is 1-D: one value per point."""
    if array.dtype.kind not in "iuf":
        kind = "bool" if array.dtype.kind == "b" else str(array.dtype)
        raise TypeError(f"{what} must be an array of real numbers, got dtype {kind}")
    if array.ndim != 1:
        raise ValueError(
            f"{what} must be a 1-D array (one value per point), got shape {array.shape}"
        )


def check_undefined(undefined: object) -> Undefined:
    """``undefined`` itself, if it is one of the choices; ValueError otherwise."""
    if undefined not in ("raise", "nan"):
        raise ValueError(f"undefined must be 'raise' or 'nan', got {brief_repr(undefined)}")
    return undefined


class BatchValues(NodeValues):
    """Values or gradients over a batch of n points: node -> float64 array of shape (n,).

    Every array handed out is a read-only view (``.copy()`` one to change it).  Over
    many points the engine runs in pieces and keeps only what is nearly always asked
    for -- the outputs' values, the leaves' gradients -- in ``kept``; any other entry
    is computed, all of them at once by ``complete()``, when first asked for.
    """

    __slots__ = ("_complete", "_kept", "_size")

    def __init__(self, graph: Graph, matrix: Any, size: int,
                 kept: Mapping[int, Any] | None = None,
                 complete: Callable[[], Any] | None = None) -> None:
        super().__init__(graph, None)
        self._size = size
        self._kept = {position: _read_only(row) for position, row in (kept or {}).items()}
        self._complete = complete
        if matrix is not None:
            self._values = _read_only(matrix)  # rows in graph.order

    def __getitem__(self, node: Node) -> Any:
        try:
            position = self._graph.index.get(node)
        except TypeError:  # an unhashable key
            position = None
        if position is None:
            raise not_a_node(self._graph, node)
        if self._values is not None:
            return self._values[position]  # a row of a read-only view: read-only too
        row = self._kept.get(position)
        return row if row is not None else self._matrix()[position]

    def _matrix(self) -> Any:
        if self._values is None:
            assert self._complete is not None
            self._values = _read_only(self._complete())
        return self._values

    def __len__(self) -> int:
        return len(self._graph.order)

    def as_list(self) -> list[Any]:
        """The entries as a list of arrays in ``graph.order``."""
        return [self[node] for node in self._graph.order]

    def __reduce__(self) -> tuple[Any, ...]:
        return (BatchValues, (self._graph, self._matrix(), self._size))

    def __deepcopy__(self, memo: dict[int, Any]) -> BatchValues:
        return BatchValues(copy.deepcopy(self._graph, memo), self._matrix().copy(), self._size)

    def __repr__(self) -> str:
        return f"BatchValues({len(self)} nodes, {self._size} points)"


def _read_only(array: Any) -> Any:
    """A read-only view of ``array``: the mapping's entries cannot be written to, and the
    array itself (the engine's, which it may reuse) stays as it was."""
    view = array.view()
    view.flags.writeable = False
    return view

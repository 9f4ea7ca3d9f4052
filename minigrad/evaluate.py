"""The forward pass: :func:`evaluate` gives the value of every node of a Graph.

The loop that computes the values is in ``interpret.py`` (the reference) and
``codegen.py`` (the same, compiled); this module is the public entry point, the checks
of ``inputs``, and :class:`NodeValues`, the read-only mapping it returns.

Leaf values come from the leaves themselves unless ``inputs`` overrides them; the
overrides are checked here, at the boundary, before any work is done, and they never
change the leaves: a later call without ``inputs`` sees the original values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from minigrad.fastpath import forward_values
from minigrad.graph import Graph
from minigrad.nodes import Node, Operation, Scalar, as_finite_float

__all__ = ["Inputs", "NodeValues", "evaluate", "resolve_inputs"]

#: What ``inputs=`` accepts: leaf nodes or leaf names, mapped to numbers.
Inputs = Mapping[object, object]


class NodeValues(Mapping[Node, float]):
    """A read-only mapping node -> float over the nodes of one graph.

    Returned by :func:`evaluate` (values) and :func:`~minigrad.backward.backward`
    (gradients).  Each call returns a new one; nothing is shared between calls.

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

    def __repr__(self) -> str:
        shown = ", ".join(f"{node!r}: {value!r}" for node, value in list(self.items())[:5])
        more = ", ..." if len(self) > 5 else ""
        return f"NodeValues({{{shown}{more}}})"

    def by_name(self) -> dict[str, float]:
        """The entries of the named leaves, keyed by name (in graph order)."""
        return {
            leaf.name: self._values[self._graph.index[leaf]]
            for leaf in self._graph.leaves
            if leaf.name is not None
        }


def resolve_inputs(graph: Graph, inputs: Inputs | None) -> dict[int, float]:
    """Check ``inputs`` and return {position of the leaf in graph.order: new value}.

    Keys may be :class:`Scalar` leaves of the graph or their names.  Raises

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
    KeyError: "inputs: no leaf is named 'z'; the named leaves are: a"
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
        overrides[position] = as_finite_float(value, f"inputs[{key!r:.40}]")
    return overrides


def _leaf_for_key(graph: Graph, key: object) -> Scalar:
    if isinstance(key, str):
        leaves = graph.leaves_named(key)
        if not leaves:
            known = ", ".join(graph.leaf_names) or "(none)"
            raise KeyError(f"inputs: no leaf is named {key!r}; the named leaves are: {known}")
        if len(leaves) > 1:
            raise ValueError(
                f"inputs: {len(leaves)} leaves are named {key!r}; pass the leaf nodes instead"
            )
        return leaves[0]
    if isinstance(key, Operation):
        raise ValueError(f"inputs: {key!r} is not a leaf; only Scalar leaves take inputs")
    if isinstance(key, Scalar):
        if key not in graph.index:
            raise KeyError(f"inputs: {key!r} is not a leaf of this graph")
        return key
    raise TypeError(f"inputs keys must be Scalar leaves or their names, got {type(key).__name__}")


def evaluate(graph: Graph, inputs: Inputs | None = None) -> NodeValues:
    """The value of every node of ``graph``, as a fresh mapping node -> float.

    Parameters
    ----------
    graph : the Graph to evaluate.
    inputs : optional new values for leaves, keyed by leaf node or leaf name.  The
        leaves themselves do not change.

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
    return NodeValues(graph, forward_values(graph, resolve_inputs(graph, inputs)))

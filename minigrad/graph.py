"""A :class:`Graph`: the nodes that outputs depend on, in an order to compute them.

A Graph is built once from one or more output nodes and then only read: evaluating and
differentiating it never change its nodes or their order (the engine caches its
schedule and scratch arrays in ``kept``; no result depends on them), so the same Graph
serves any number of calls with new leaf values.  It holds

* ``order``: every node the outputs depend on, operands before the results that use
  them (a topological order), each node once however often it is used;
* ``nx``: the same DAG as a :class:`networkx.DiGraph` of the node objects, edges
  operand -> result, for analysis with any networkx algorithm (built on first use);
* ``index``: each node's position in ``order``; the interpreters keep values in lists
  indexed by it.

The order is found by :func:`~minigrad.nodes.topological_order`, an iterative depth-first
search (an explicit stack, no recursion: micrograd's recursive ``build_topo`` hits
RecursionError near depth 1,000).  Visiting
operands left to right makes the order -- and everything numbered by it, like the node
ids in DOT output -- the same every time the same expression is built.

A Graph pickles and copies at any size and depth, at any point of its life.  Pickling
saves the nodes in ``order`` (each after its operands, so pickle never recurses) and
then the outputs; ``index`` and ``leaves`` are rebuilt on loading (``nx`` when first
used), and what the engine keeps (``kept``: its schedule) is left behind, to be made
again when the loaded graph is first run.  Within
one pickle, identity is kept: ``pickle.loads(pickle.dumps((graph, loss, leaf)))`` gives
the graph with its own loss and leaf.  ``copy.copy`` and ``copy.deepcopy`` give a new
Graph over the *same* node objects (nodes are immutable and compared by identity), so
the user's nodes still index the results of the copy.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # networkx is imported when the view is first built (see Graph.nx)
    import networkx as nx

from minigrad.nodes import Node, Scalar, brief_repr, kind_of, picklable_order, topological_order

__all__ = ["Graph", "Kept", "garbage_collector_paused", "topological_order"]


@attrs.define
class Kept:
    """What the engine (``engine.py``) works out once about a graph's structure and
    keeps with it: schedules by kind, per output the steps that reach it, and work
    memory.  It never changes a result; a pickled or copied Graph starts with it empty."""

    schedules: dict[int, object] = attrs.Factory(dict)
    backward: dict[tuple[int, int], object] = attrs.Factory(dict)
    #: Work matrices by shape, reused once nothing refers to them (engine._matrix).
    matrices: dict[tuple[int, int], list[Any]] = attrs.Factory(dict)


class Graph:
    """The DAG of one or more outputs, built once, evaluated and differentiated many times.

    Parameters
    ----------
    *outputs : the nodes you want values or gradients of.

    Attributes
    ----------
    outputs : tuple of the output nodes, as given.
    order : tuple of all nodes, operands before results.
    index : dict node -> position in ``order``.
    leaves : tuple of the :class:`Scalar` leaves, in order.
    nx : networkx.DiGraph of the nodes; edge operand -> result.  Node data ``op``
        (``"scalar"`` for leaves, ``"constant"`` for constants, else the op's name).
        One edge per (operand, result) pair: ``x * x`` has one edge; the operand order
        is ``node.args``.  Built the first time it is used.

    Examples
    --------
    >>> a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")
    >>> d = a**3 / 5 + (b**2).relu()
    >>> graph = Graph(d)
    >>> len(graph.order), graph.nx.number_of_edges()
    (7, 6)
    >>> graph.nx.nodes[d]["op"]
    'add'
    """

    __slots__ = ("_leaves_by_name", "_nx", "index", "kept", "leaves", "order", "outputs")

    def __init__(self, *outputs: Node) -> None:
        if not outputs:
            raise ValueError("Graph needs at least one output node")
        for position, output in enumerate(outputs):
            if not isinstance(output, Node):
                raise TypeError(
                    f"Graph outputs must be nodes (Scalar or Operation); output {position} "
                    f"is {type(output).__name__}: {brief_repr(output)}"
                )
        self.outputs: tuple[Node, ...] = outputs
        with garbage_collector_paused():
            self._build(tuple(topological_order(outputs)))

    def _build(self, order: tuple[Node, ...]) -> None:
        self.order: tuple[Node, ...] = order
        self.index: dict[Node, int] = {node: i for i, node in enumerate(self.order)}
        self.leaves: tuple[Scalar, ...] = tuple(n for n in self.order if isinstance(n, Scalar))
        self._leaves_by_name: dict[str, list[Scalar]] = {}
        for leaf in self.leaves:
            if leaf.name is not None:
                self._leaves_by_name.setdefault(leaf.name, []).append(leaf)
        self._nx: nx.DiGraph | None = None  # built when first asked for
        self.kept = Kept()  # what the engine works out once (engine.py)

    # -- pickling and copying ------------------------------------------------------------
    def __reduce__(self) -> tuple[Any, ...]:
        # The order first: pickle saves its nodes one by one, each after its operands,
        # and the outputs are then references to nodes it has saved.
        return (_graph_from_order, (picklable_order(self.order), self.outputs))

    def __copy__(self) -> Graph:
        return _graph_from_order(self.order, self.outputs)

    def __deepcopy__(self, memo: dict[int, object]) -> Graph:
        return _graph_from_order(self.order, self.outputs)  # nodes are never copied

    def __repr__(self) -> str:
        return f"<Graph of {len(self.outputs)} output(s), {len(self.order)} nodes>"

    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, node: object) -> bool:
        return node in self.index

    @property
    def nx(self) -> nx.DiGraph:
        """The networkx view, built on first use and then kept.

        Most graphs are only evaluated and differentiated; the view costs more time and
        memory than all the rest of a Graph (about 850 bytes a node), so a Graph -- also
        one loaded from a pickle or copied -- builds it only when it is asked for.
        """
        if self._nx is None:
            with garbage_collector_paused():
                self._nx = _to_digraph(self.order)
        return self._nx

    def leaves_named(self, name: str) -> list[Scalar]:
        """The leaves that carry ``name`` (usually one; empty if none)."""
        return list(self._leaves_by_name.get(name, ()))

    @property
    def leaf_names(self) -> list[str]:
        """The distinct names of the named leaves, sorted."""
        return sorted(self._leaves_by_name)

    def shared_leaf_names(self) -> list[str]:
        """The names that more than one leaf carries, in graph order (usually none)."""
        return [name for name, leaves in self._leaves_by_name.items() if len(leaves) > 1]


def _graph_from_order(order: Iterable[Node], outputs: Iterable[Node]) -> Graph:
    """A Graph over nodes already in topological order (unpickling and copying)."""
    graph = Graph.__new__(Graph)
    graph.outputs = tuple(outputs)
    with garbage_collector_paused():
        graph._build(tuple(order))
    return graph


@contextmanager
def garbage_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while big structures are built.

    Building a graph -- or a derivative graph -- allocates millions of small objects.
    Each allocation burst triggers the cyclic collector, which re-scans every live
    object: on a 10**6-node chain that doubles the build time, and it makes building
    the gradient of a 65,000-node graph half again slower.  Nothing we build there is
    garbage, so the collector is paused for the build (as pip and mypy do).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _to_digraph(order: tuple[Node, ...]) -> nx.DiGraph:
    """The networkx view: one node per Node object, one edge per (operand, result) pair.

    A DiGraph keeps one edge per pair, so ``x * x`` has a single edge x -> x*x; the
    operand order and multiplicity live on the node itself, in ``node.args``.

    networkx is imported here, not at the top: it is two thirds of ``import minigrad``'s
    time, and most programs only evaluate and differentiate.
    """
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(
        (node, {"op": kind_of(node)}) for node in order
    )
    graph.add_edges_from(
        (operand, node) for node in order for operand in node.args if isinstance(operand, Node)
    )
    return graph

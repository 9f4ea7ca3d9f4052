"""Export a graph for other tools: :func:`to_networkx`, a plain networkx DiGraph.

``Graph.nx`` is the live view whose nodes are the node objects themselves: the right
thing for analysis in Python.  Files need plain data, so :func:`to_networkx` returns a
copy whose nodes are stable strings (``"n0"``, ``"n1"``, ... in topological order) and
whose attributes are plain numbers and strings -- what ``networkx.write_graphml``,
``networkx.nx_pydot`` and friends can write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minigrad.api import values_and_gradients
from minigrad.graph import Graph
from minigrad.nodes import Node, Operation, Scalar, kind_of
from minigrad.values import Inputs

if TYPE_CHECKING:  # imported when first used, like Graph.nx: `import minigrad` stays quick
    import networkx as nx

__all__ = ["to_networkx"]


def node_id(position: int) -> str:
    """The exported id of the node at this position in ``graph.order``."""
    return f"n{position}"


def to_networkx(
    graph: Graph, output: Node | None = None, inputs: Inputs | None = None
) -> nx.DiGraph:
    """A plain copy of the graph: string ids and attributes that any file format can hold.

    Node attributes: ``op`` (``"scalar"`` for leaves, ``"constant"`` for a constant),
    ``name`` (leaves that have one), ``value``, ``grad`` (d output / d node, only when
    ``output`` is given) and ``args`` (the operands in order, separated by spaces: node
    ids and literal numbers written with ``repr``, exactly, e.g. ``"n0 3.0"``).  Edges
    run operand -> result.

    Examples
    --------
    >>> from minigrad import Scalar, Graph
    >>> x = Scalar(2.0, name="x")
    >>> y = x * 3
    >>> exported = to_networkx(Graph(y), output=y)
    >>> exported.nodes["n1"]
    {'op': 'mul', 'value': 6.0, 'grad': 1.0, 'args': 'n0 3.0'}
    >>> list(exported.edges)
    [('n0', 'n1')]
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"to_networkx needs a Graph, got {type(graph).__name__}")
    values, grads = values_and_gradients(graph, output, inputs)
    import networkx as nx

    exported = nx.DiGraph()
    for i, node in enumerate(graph.order):
        data: dict[str, str | float] = {
            "op": kind_of(node)
        }
        if isinstance(node, Scalar) and node.name is not None:
            data["name"] = node.name
        data["value"] = values[i]
        if grads is not None:
            data["grad"] = grads[i]
        if isinstance(node, Operation):
            data["args"] = " ".join(
                node_id(graph.index[a]) if isinstance(a, Node) else repr(a) for a in node.args
            )
        exported.add_node(node_id(i), **data)
    exported.add_edges_from(
        (node_id(graph.index[operand]), node_id(i))
        for i, node in enumerate(graph.order)
        for operand in node.args
        if isinstance(operand, Node)
    )
    return exported

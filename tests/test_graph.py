"""Graph: the order, the networkx view, sharing, several outputs."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx

from minigrad import Graph, Operation, Scalar, evaluate, relu
from minigrad.graph import topological_order


def seed_graph() -> tuple[Graph, dict[str, object]]:
    a = Scalar(1.5, name="a")
    b = Scalar(-4.0, name="b")
    c = a**3 / 5
    d = c + relu(b**2)
    return Graph(d), {"a": a, "b": b, "c": c, "d": d}


def test_order_is_topological_and_deterministic() -> None:
    graph, n = seed_graph()
    assert graph.order[-1] is n["d"]
    position = graph.index
    for operand, result in graph.nx.edges:
        assert position[operand] < position[result]
    # Built twice, the same shape in the same order.
    again, _ = seed_graph()
    assert [graph.nx.nodes[v]["op"] for v in graph.order] == [
        again.nx.nodes[v]["op"] for v in again.order
    ]
    assert [graph.nx.nodes[v]["op"] for v in graph.order] == [
        "scalar", "pow", "div", "scalar", "pow", "relu", "add"
    ]


def test_nx_view_holds_node_objects_and_ops() -> None:
    graph, n = seed_graph()
    assert isinstance(graph.nx, nx.DiGraph)
    assert set(graph.nx.nodes) == set(graph.order)
    assert graph.nx.nodes[n["a"]]["op"] == "scalar"
    assert graph.nx.nodes[n["d"]]["op"] == "add"
    assert nx.is_directed_acyclic_graph(graph.nx)
    assert set(nx.ancestors(graph.nx, n["c"])) == {n["a"], graph.order[1]}
    assert nx.dag_longest_path_length(graph.nx) == 3


def test_networkx_is_imported_when_the_view_is_first_used() -> None:
    """networkx is most of ``import minigrad``'s time (issue 21), so only ``graph.nx``
    and ``to_networkx`` import it; evaluating and differentiating never do."""
    code = (
        "import sys; from minigrad import *\n"
        "x = Scalar(2.0, name='x'); y = x * x; graph = Graph(y)\n"
        "value_and_grad(graph, y); diff(y, x); print(y); to_dot(graph)\n"
        "assert 'networkx' not in sys.modules, 'networkx imported too early'\n"
        "assert graph.nx.number_of_edges() == 1 and 'networkx' in sys.modules\n"
        "assert to_networkx(graph).number_of_nodes() == 2\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shared_nodes_appear_once() -> None:
    x = Scalar(2.0)
    square = x * x
    y = square + square
    graph = Graph(y)
    assert len(graph) == 3
    assert graph.nx.number_of_edges() == 2  # x -> x*x once; operand order is in args
    assert square.args == (x, x)
    assert evaluate(graph)[y] == 8.0


def test_several_outputs_share_one_graph() -> None:
    x = Scalar(2.0, name="x")
    hidden = x * 3
    graph = Graph(hidden + 1, hidden * hidden, x)
    assert len(graph) == 4
    values = evaluate(graph)
    assert [values[o] for o in graph.outputs] == [7.0, 36.0, 2.0]
    assert graph.leaves == (x,)


def test_leaf_only_graph() -> None:
    x = Scalar(2.0, name="x")
    graph = Graph(x)
    assert evaluate(graph)[x] == 2.0
    assert graph.leaf_names == ["x"]
    assert "x" in repr(graph.leaves)


def test_literal_only_expression() -> None:
    y = relu(3.0)
    assert isinstance(y, Operation)
    assert evaluate(Graph(y))[y] == 3.0


def test_order_can_leave_out_nodes_already_done() -> None:
    # Pickling lists only what it has not saved yet.
    x = Scalar(2.0, name="x")
    hidden = x * 3
    y = hidden + x
    assert topological_order((y,)) == [x, hidden, y]
    assert topological_order((y,), done={hidden}) == [x, y]
    assert topological_order((y,), done={x}) == [hidden, y]
    assert topological_order((y,), done={y}) == []


def test_shared_leaf_names() -> None:
    a1, a2, b = Scalar(1.0, name="a"), Scalar(2.0, name="a"), Scalar(3.0, name="b")
    assert Graph(a1 + b + a2).shared_leaf_names() == ["a"]
    assert Graph(a1 + b).shared_leaf_names() == []

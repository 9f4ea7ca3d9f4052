"""Pickling and copying nodes, graphs and results: any depth, any point of their life.

Pickle recurses through what an object refers to; a node refers to its operands, so the
default pickling of a chain of a few hundred ops raised RecursionError, and a Graph that
had been called often enough to hold compiled code did not pickle at all.
"""

from __future__ import annotations

import copy
import io
import math
import multiprocessing
import pickle
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import attrs
import pytest

import minigrad.graph
from minigrad import (
    Graph,
    Node,
    NodeValues,
    Operation,
    Scalar,
    backward,
    evaluate,
    relu,
    value_and_grad,
)

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)


def chain(length: int, factor: float = 1.0001) -> tuple[Scalar, Node]:
    x = Scalar(1.0, name="x")
    y: Node = x
    for _ in range(length):
        y = y * factor
    return x, y


def walk_down(node: Node) -> Iterator[Node]:
    """The nodes of a chain from its end to its leaf, following first operands."""
    while True:
        yield node
        if not node.args:
            return
        operand = node.args[0]
        assert isinstance(operand, Node)
        node = operand


def assert_same_chain(loaded: Node, original: Node) -> None:
    count = 0
    for new, old in zip(walk_down(loaded), walk_down(original), strict=True):
        assert new is not old and type(new) is type(old)
        if isinstance(old, Operation):
            assert isinstance(new, Operation)
            assert (new.op, new.args[1:]) == (old.op, old.args[1:])
        else:
            assert isinstance(new, Scalar) and isinstance(old, Scalar)
            assert (new.value, new.name) == (old.value, old.name)
        count += 1
    assert count > 0


def warmed_up(graph: Graph, output: Node, calls: int = 12) -> Graph:
    """Call the graph many times: it keeps its schedule (engine.py)."""
    for _ in range(calls):
        evaluate(graph)
        backward(graph, output)
    return graph


def mlp_graph(seed: int = 0) -> tuple[Graph, Node, list[Scalar]]:
    rng = random.Random(seed)
    inputs = [Scalar(rng.uniform(-1, 1), name=f"in{i}") for i in range(3)]
    weights: list[Scalar] = []
    layer: list[Node] = list(inputs)
    for width in (4, 4):
        new = []
        for j in range(width):
            total: Node | float = 0.0
            for k, a in enumerate(layer):
                w = Scalar(rng.uniform(-1, 1), name=f"w{len(weights)}_{j}_{k}")
                weights.append(w)
                total = w * a + total
            assert isinstance(total, Node)
            new.append(relu(total) + 0.1 * total)
        layer = new
    loss = sum((a * a for a in layer), start=Scalar(0.0, name="zero"))
    assert isinstance(loss, Node)
    return Graph(loss), loss, weights


# -- nodes -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_deep_chain_pickles_with_every_protocol(protocol: int) -> None:
    # Default pickling: RecursionError at about 250 ops.
    _, y = chain(10_000)
    loaded = pickle.loads(pickle.dumps(y, protocol=protocol))
    assert_same_chain(loaded, y)


@pytest.mark.parametrize("dumps", [pickle.dumps, pickle._dumps])  # type: ignore[attr-defined]
def test_list_batches_of_any_size(dumps: Callable[[object], bytes]) -> None:
    # Pickle saves list items in batches of 1000, and fetches items before saving them:
    # the C pickler one ahead (the whole batch when one item is left), the pure-Python
    # one a batch ahead.  What a node does must depend only on what has been *saved*.
    for length in (998, 999, 1000, 1001, 2000, 5000):  # lists of length + 1 nodes
        _, y = chain(length)
        assert_same_chain(pickle.loads(dumps(y)), y)


def test_a_loaded_expression_computes_the_same() -> None:
    graph, loss, _ = mlp_graph()
    loaded_loss = pickle.loads(pickle.dumps(loss))
    loaded = Graph(loaded_loss)
    assert len(loaded) == len(graph)
    assert evaluate(loaded)[loaded_loss] == evaluate(graph)[loss]
    assert list(backward(loaded, loaded_loss).values()) == list(backward(graph, loss).values())


def test_shared_nodes_stay_shared() -> None:
    x = Scalar(2.0, name="x")
    square = x * x
    y = square + square
    loaded = pickle.loads(pickle.dumps(y))
    assert loaded.args[0] is loaded.args[1]
    assert loaded.args[0].args[0] is loaded.args[0].args[1]
    assert len(Graph(loaded)) == 3


def test_copies_of_a_node_are_the_node() -> None:
    # Immutable and compared by identity: a copied leaf would be another leaf, which
    # inputs= keyed by the original could not reach.
    x, y = chain(10_000)
    assert copy.copy(y) is y and copy.deepcopy(y) is y
    params = {"x": x, "out": y, "list": [x, y]}
    copied = copy.deepcopy(params)
    assert copied["x"] is x and copied["out"] is y and copied["list"][1] is y
    assert copied["list"] is not params["list"]


@attrs.frozen
class Measured(Scalar):
    """A leaf with metadata (pickle finds classes by name: this one is at module level)."""

    unit: str = "m"


def test_node_subclasses_pickle_with_their_fields() -> None:
    a, b = Measured(1.0, name="a", unit="s"), Measured(1.0, name="b")
    loaded_a, loaded_b, total = pickle.loads(pickle.dumps((a, b, a * b + a)))
    assert (loaded_a.unit, loaded_b.unit) == ("s", "m")
    assert loaded_a != loaded_b  # still compared by identity
    assert total.args[0].args == (loaded_a, loaded_b)


# -- graphs and results ----------------------------------------------------------------


def test_a_graph_pickles_after_it_has_run() -> None:
    # A graph that has run keeps its engine schedule (numpy index arrays): it is not
    # pickled, and the loaded graph makes its own on its first call.
    graph, loss, _ = mlp_graph()
    warmed_up(graph, loss)
    values, grads = value_and_grad(graph, loss)
    for protocol in PROTOCOLS:
        loaded = pickle.loads(pickle.dumps(graph, protocol=protocol))
        assert isinstance(loaded, Graph) and len(loaded) == len(graph)
        assert loaded.kept.schedules == {}  # not saved; the loaded graph makes its own
        assert [type(n) for n in loaded.order] == [type(n) for n in graph.order]
        assert loaded.leaf_names == graph.leaf_names
        assert set(map(type, loaded.nx.nodes)) <= {Scalar, Operation}
        assert loaded.nx.number_of_edges() == graph.nx.number_of_edges()
        (new_loss,) = loaded.outputs
        for _ in range(12):  # interpreted, then compiled again: the same numbers
            new_values, new_grads = value_and_grad(loaded, new_loss)
            assert list(new_values.values()) == list(values.values())
            assert list(new_grads.values()) == list(grads.values())


def test_results_pickle_after_many_calls() -> None:
    graph, loss, _ = mlp_graph()
    warmed_up(graph, loss)
    values, grads = value_and_grad(graph, loss)
    loaded_values, loaded_grads = pickle.loads(pickle.dumps((values, grads)))
    assert isinstance(loaded_values, NodeValues)
    assert list(loaded_values.values()) == list(values.values())
    assert list(loaded_grads.values()) == list(grads.values())
    assert loaded_values.by_name() == values.by_name()
    # One pickle: both mappings are over the same loaded graph.
    assert loaded_values._graph is loaded_grads._graph


@pytest.mark.parametrize("order", ["graph first", "nodes first"])
def test_identity_is_kept_within_one_pickle(order: str) -> None:
    graph, loss, weights = mlp_graph()
    warmed_up(graph, loss)
    leaf = weights[3]
    if order == "graph first":
        new_graph, new_loss, new_leaf = pickle.loads(pickle.dumps((graph, loss, leaf)))
    else:
        new_loss, new_leaf, new_graph = pickle.loads(pickle.dumps((loss, leaf, graph)))
    assert new_graph.outputs == (new_loss,)
    assert new_leaf in new_graph and new_graph.order[graph.index[leaf]] is new_leaf
    inputs_new, inputs_old = {new_leaf: 0.5, "in0": 2.0}, {leaf: 0.5, "in0": 2.0}
    assert (
        backward(new_graph, new_loss, inputs_new)[new_leaf]
        == backward(graph, loss, inputs_old)[leaf]
    )
    assert evaluate(new_graph, inputs_new)[new_loss] == evaluate(graph, inputs_old)[loss]


def test_a_deep_graph_and_its_results_pickle_and_copy() -> None:
    x, y = chain(10_000)
    graph = warmed_up(Graph(y), y)
    values, grads = value_and_grad(graph, y)
    new_graph, new_values, new_grads, new_x = pickle.loads(pickle.dumps((graph, values, grads, x)))
    assert new_values._graph is new_graph and new_graph.order[0] is new_x
    assert new_grads[new_x] == grads[x] == values[y]
    assert new_values[new_graph.outputs[0]] == values[y]

    copied = copy.deepcopy(graph)
    assert copied is not graph and copied.order == graph.order  # the same node objects
    assert all(a is b for a, b in zip(copied.order, graph.order, strict=True))
    assert copied.nx is not graph.nx and copied.kept.schedules == {}
    assert backward(copied, y)[x] == grads[x]

    copied_values = copy.deepcopy(values)
    assert copied_values._graph is not graph and copied_values[y] == values[y]
    both = copy.deepcopy((graph, values))  # one memo: one copy of the graph
    assert both[1]._graph is both[0]
    assert copy.copy(graph).order == graph.order
    assert copy.copy(values)[y] == values[y]


def test_containers_of_nodes_pickle_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # A node pickled on its own saves its subgraph flat, in topological order.  Nodes
    # already saved in the same pickle are left out of that walk, so a list or dict of
    # many nodes (in any order) costs linear work, not one walk of its subgraph per node.
    visited = 0
    topological_order = minigrad.graph.topological_order

    def counting(*args: object, **kwargs: object) -> list[Node]:
        nonlocal visited
        result = topological_order(*args, **kwargs)  # type: ignore[arg-type]
        visited += len(result)
        return result

    monkeypatch.setattr(minigrad.graph, "topological_order", counting)
    _, y = chain(6_000)
    graph = Graph(y)
    values = evaluate(graph)
    shuffled = list(graph.order)
    random.Random(0).shuffle(shuffled)
    for nodes in (dict(values), list(reversed(graph.order)), graph.order[::3], shuffled):
        visited = 0
        loaded = pickle.loads(pickle.dumps(nodes))
        assert len(loaded) == len(nodes)
        assert visited <= 2 * len(graph)


def test_a_failed_pickle_leaves_nothing_behind() -> None:
    @attrs.frozen
    class WithCallback(Scalar):
        callback: object = None

    _, y = chain(3_000)
    bad = y * WithCallback(1.0, callback=lambda: None)  # a lambda does not pickle
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(bad)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle._dumps(bad)  # type: ignore[attr-defined]
    assert_same_chain(pickle.loads(pickle.dumps(y)), y)
    assert_same_chain(pickle.loads(pickle._dumps(y)), y)  # type: ignore[attr-defined]


def test_two_picklers_at_once() -> None:
    # The bookkeeping of a pickler lives as long as the pickler; a second pickler on the
    # same thread must neither use it nor break it.
    x, y = chain(3_000)
    z = y * 2.0
    stream = io.BytesIO()
    first = pickle.Pickler(stream)
    first.dump(y)
    assert_same_chain(pickle.loads(pickle.dumps(y)), y)  # while `first` is alive
    first.dump((z, x))
    stream.seek(0)
    unpickler = pickle.Unpickler(stream)
    loaded_y = unpickler.load()
    loaded_z, loaded_x = unpickler.load()
    assert loaded_z.args[0] is loaded_y  # one memo across the pickler's dumps
    assert list(walk_down(loaded_y))[-1] is loaded_x


def _gradients_in_worker(graph: Graph, output: Node, inputs: dict[Node, float]) -> NodeValues:
    return backward(graph, output, inputs)


def test_a_process_pool_differentiates_a_warm_graph() -> None:
    graph, loss, weights = mlp_graph()
    warmed_up(graph, loss)
    inputs = [{weights[0]: float(k), "in1": -0.5 * k} for k in range(4)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(_gradients_in_worker, [graph] * 4, [loss] * 4, inputs))
    for result, given in zip(results, inputs, strict=True):
        # Each result comes back with its own copy of the graph: compare by position.
        expected = backward(graph, loss, given)
        assert list(result.values()) == list(expected.values())
        assert result.by_name() == expected.by_name()


@pytest.mark.slow
def test_a_million_op_chain_pickles_and_copies() -> None:
    x, y = chain(1_000_000, factor=1.0000001)
    graph = Graph(y)
    values, grads = value_and_grad(graph, y)
    # The node first: it is saved with its subgraph, flat; the graph of the results
    # then refers to nodes already saved.
    data = pickle.dumps((y, values, grads), protocol=pickle.HIGHEST_PROTOCOL)
    new_y, new_values, new_grads = pickle.loads(data)
    assert_same_chain(new_y, y)
    new_graph = new_values._graph
    assert new_graph.outputs == (new_y,) and new_grads._graph is new_graph
    assert new_values[new_y] == values[y] and math.isclose(values[y], 1.0000001**1_000_000)
    assert new_grads[new_graph.order[0]] == grads[x] == values[y]
    copied_graph, copied_values = copy.deepcopy((graph, values))
    assert copied_graph.order[0] is x and copied_values._graph is copied_graph
    assert copied_values[y] == values[y] and copy.deepcopy(y) is y

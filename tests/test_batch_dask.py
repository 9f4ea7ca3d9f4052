"""Batches beyond one machine: dask arrays in, dask arrays out, on a real (local)
``distributed`` cluster of two worker processes that this module starts and stops."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from peers import import_peer

from minigrad import EvaluationError, Graph, Scalar, evaluate, value_and_grad

np = import_peer("numpy")
da = import_peer("dask.array")
distributed = import_peer("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two small worker processes (this machine has two cores), stopped at the end."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def model() -> tuple[Graph, Scalar, Scalar, Any]:
    x = Scalar(0.0, name="x"); w = Scalar(2.0, name="w")  # noqa: E702
    f = x.sin() * x**2 * x.sigmoid() + (x * w).tanh()
    return Graph(f), x, w, f


def test_dask_arrays_in_dask_arrays_out_on_a_cluster(client: Any) -> None:
    graph, x, w, f = model()
    xs = np.linspace(-6, 6, 200_001)
    expected_values, expected_grads = value_and_grad(graph, f, inputs={x: xs})
    values, grads = value_and_grad(graph, f, inputs={x: da.from_array(xs, chunks=50_000)})
    for entry in (values[f], grads[x], grads[w]):
        assert isinstance(entry, da.Array) and entry.shape == (200_001,)
    f_at, dx, dw = client.compute([values[f], grads[x], grads[w]], sync=True)
    np.testing.assert_array_equal(f_at, expected_values[f])
    np.testing.assert_array_equal(dx, expected_grads[x])
    np.testing.assert_array_equal(dw, expected_grads[w])
    # an inner node's entry is a pass of its own, and the input is itself
    inner = f.args[1]
    np.testing.assert_array_equal(values[inner].compute(), expected_values[inner])
    assert values[inner].name == values[inner].name  # asked twice: one computation
    assert values[x].compute().tolist() == xs.tolist()


def test_mixed_numpy_dask_and_float_inputs(client: Any) -> None:
    x, y, z = Scalar(1.0, name="x"), Scalar(1.0, name="y"), Scalar(3.0, name="z")
    f = x * y + z
    xs, ys = np.arange(10.0), np.arange(10.0) + 0.5
    values = evaluate(Graph(f), {x: da.from_array(xs, chunks=3), y: ys, z: 1.0})
    np.testing.assert_array_equal(values[f].compute(), xs * ys + 1.0)


def test_a_graph_too_deep_for_pickles_recursion_runs_on_the_workers(client: Any) -> None:
    x = Scalar(0.5, name="x")
    y = x
    for _ in range(20_000):  # pickle's own recursion would fail at about a thousand
        y = (y * 0.5).sin() + x
    graph = Graph(y)
    xs = np.linspace(0.0, 1.0, 8)
    expected = value_and_grad(graph, y, inputs={x: xs})
    values, grads = value_and_grad(graph, y, inputs={x: da.from_array(xs, chunks=4)})
    f_at, dx = client.compute([values[y], grads[x]], sync=True)
    np.testing.assert_array_equal(f_at, expected[0][y])
    np.testing.assert_array_equal(dx, expected[1][x])


def test_errors_name_the_point_in_the_whole_batch(client: Any) -> None:
    x = Scalar(1.0, name="x")
    y = x.log()
    xs = np.ones(100)
    xs[73] = -2.0
    values = evaluate(Graph(y), {x: da.from_array(xs, chunks=25)})
    with pytest.raises(EvaluationError, match=r"log\(-2.0\) is undefined.* at point 73 ") as e:
        client.compute(values[y], sync=True)
    assert e.value.point == 73 and e.value.op == "log"
    xs[73] = math.nan  # bad numbers in a dask array are found when its block runs
    values = evaluate(Graph(y), {x: da.from_array(xs, chunks=25)})
    with pytest.raises(ValueError, match="must be finite, got nan at point 73"):
        client.compute(values[y], sync=True)


def test_bad_dask_inputs_are_refused_at_once() -> None:
    x, y = Scalar(1.0, name="x"), Scalar(1.0, name="y")
    graph = Graph(x * y)
    with pytest.raises(ValueError, match="1-D"):
        evaluate(graph, {x: da.zeros((4, 4), chunks=2)})
    with pytest.raises(TypeError, match="real numbers"):
        evaluate(graph, {x: da.from_array(np.array(["a", "b"]), chunks=1)})
    with pytest.raises(ValueError, match="same length"):
        evaluate(graph, {x: da.zeros(4, chunks=2), y: np.zeros(3)})

"""backward(): the seed example, micrograd's engine tests, and the peers' known bugs."""

from __future__ import annotations

import math

import pytest
from peers import minigrad_value_and_grad, torch_value_and_grad

from minigrad import Graph, Scalar, backward, evaluate, relu, value_and_grad


def test_seed_readme_example() -> None:
    a = Scalar(1.5, name="a")
    b = Scalar(-4.0, name="b")
    c = a**3 / 5
    d = c + (b**2).relu()
    graph = Graph(d)
    assert evaluate(graph)[d] == 16.675
    grads = backward(graph, d)
    assert grads[a] == 1.35
    assert grads[b] == -8.0
    assert d.backward() == grads  # the convenience method gives the same mapping


def test_micrograd_sanity_check() -> None:
    # micrograd/test/test_engine.py::test_sanity_check, on this API.
    def fn(o, x):
        z = 2 * x + 2 + x
        q = o.relu(z) + z * x
        h = o.relu(z * z)
        return h + q + q * x

    ours = torch_value_and_grad(fn, (-4.0,))
    x = Scalar(-4.0)
    y = fn(type("ops", (), {"relu": staticmethod(relu)}), x)
    values, grads = value_and_grad(Graph(y), y)
    assert values[y] == ours[0]
    assert grads[x] == ours[1][0]


def test_micrograd_more_ops() -> None:
    # micrograd/test/test_engine.py::test_more_ops, on this API (c += ... rebinds c).
    def fn(o, a, b):
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + o.relu(b + a)
        d = d + 3 * d + o.relu(b - a)
        e = c - d
        f = e**2
        g = f / 2.0
        g = g + 10.0 / f
        return g

    value, grads = minigrad_value_and_grad(fn, (-4.0, 2.0))
    torch_value, torch_grads = torch_value_and_grad(fn, (-4.0, 2.0))
    assert abs(value - torch_value) < 1e-6
    for ours, theirs in zip(grads, torch_grads, strict=True):
        assert abs(ours - theirs) < 1e-6


# -- an operand used twice gets one contribution per use (the old MiniGrad overwrote) ----
@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda x: x - x, 0.0),  # old MiniGrad: -2
        (lambda x: x / x, 0.0),  # old MiniGrad: -2/3 at x = 3
        (lambda x: x * x, 6.0),
        (lambda x: x + x, 2.0),
        (lambda x: x**x, 27.0 * (math.log(3.0) + 1.0)),
    ],
)
def test_operand_used_twice(build, expected) -> None:
    x = Scalar(3.0)
    y = build(x)
    assert math.isclose(backward(Graph(y), y)[x], expected, rel_tol=1e-15)


def test_operand_order_is_kept() -> None:
    x, y = Scalar(5.0, name="x"), Scalar(2.0, name="y")
    graph = Graph(x - y, y - x, x / y, x**y, y**x)
    values = evaluate(graph)
    assert [values[out] for out in graph.outputs] == [3.0, -3.0, 2.5, 25.0, 32.0]
    x_minus_y, _, _, x_to_y, y_to_x = graph.outputs
    assert backward(graph, x_to_y)[y] == 25.0 * math.log(5.0)
    assert backward(graph, y_to_x)[x] == 32.0 * math.log(2.0)
    assert (backward(graph, x_minus_y)[x], backward(graph, x_minus_y)[y]) == (1.0, -1.0)


def test_numbers_mix_on_either_side() -> None:
    x = Scalar(2.0)
    for y, value, grad in [
        (2 - x, 0.0, -1.0),
        (3 / x, 1.5, -0.75),
        (2**x, 4.0, 4.0 * math.log(2.0)),
        (x**2, 4.0, 4.0),
        (1 + x, 3.0, 1.0),
        (3 * x, 6.0, 3.0),
    ]:
        values, grads = value_and_grad(Graph(y), y)
        assert (values[y], grads[x]) == (value, grad)


# -- purity: nothing accumulates, nothing is stored ---------------------------------------
def test_backward_twice_gives_equal_separate_mappings() -> None:
    a = Scalar(1.5, name="a")
    d = a**3 / 5
    graph = Graph(d)
    first = backward(graph, d)
    second = backward(graph, d)
    assert first == second
    assert first is not second
    assert d.backward()[a] == d.backward()[a] == first[a]  # micrograd would double


def test_inputs_apply_to_one_call_only() -> None:
    a = Scalar(1.5, name="a")
    b = Scalar(-4.0, name="b")
    d = a**3 / 5 + (b**2).relu()
    graph = Graph(d)
    assert math.isclose(backward(graph, d, inputs={a: 2.0})[a], 3 * 2.0**2 / 5)
    assert evaluate(graph, inputs={"a": 2.0, "b": 3.0})[d] == 2.0**3 / 5 + 9.0
    assert evaluate(graph)[d] == 16.675  # the originals again
    assert a.value == 1.5 and b.value == -4.0


def test_leaves_that_do_not_reach_the_output_get_zero() -> None:
    x, unused = Scalar(2.0), Scalar(7.0)
    y1, y2 = x * 3, unused * x
    graph = Graph(y1, y2)
    grads = backward(graph, y1)
    assert grads[unused] == 0.0
    assert grads[y2] == 0.0
    assert grads[x] == 3.0
    assert backward(graph, y2)[unused] == 2.0


def test_gradient_of_any_node_in_a_multi_output_graph() -> None:
    x = Scalar(3.0)
    hidden = x * x
    graph = Graph(hidden + 1, hidden * 2)
    assert backward(graph, hidden)[x] == 6.0
    assert backward(graph, graph.outputs[1])[x] == 12.0


def test_output_not_in_graph_is_a_clear_error() -> None:
    x = Scalar(1.0)
    graph = Graph(x * 2)
    with pytest.raises(ValueError, match="not a node of this graph"):
        backward(graph, x * 3)
    with pytest.raises(TypeError, match="must be a node"):
        backward(graph, 3.0)  # type: ignore[arg-type]


# -- graph shapes --------------------------------------------------------------------------
def test_shared_tower_is_instant_and_exact() -> None:
    x = Scalar(1.0, name="x")
    y = x
    for _ in range(100):
        y = y + y  # a tree of 2**100 leaves, a DAG of 101 nodes
    graph = Graph(y)
    assert len(graph) == 101
    assert evaluate(graph)[y] == 2.0**100
    assert backward(graph, y)[x] == 2.0**100
    hash(y), repr(y), y == y


@pytest.mark.parametrize("depth", [10_000])
def test_deep_chain_matches_closed_form(depth: int) -> None:
    x = Scalar(1.0, name="x")
    y = x
    for _ in range(depth):
        y = y * 1.0001
    values, grads = value_and_grad(Graph(y), y)
    assert math.isclose(values[y], 1.0001**depth, rel_tol=1e-9)
    assert math.isclose(grads[x], 1.0001**depth, rel_tol=1e-9)


@pytest.mark.slow
def test_million_node_chain() -> None:
    # micrograd: RecursionError at depth ~1,000.  Nothing here may recurse.
    x = Scalar(1.0, name="x")
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    graph = Graph(y)
    values = evaluate(graph)
    grads = backward(graph, y)
    assert math.isclose(values[y], 1.0000001**1_000_000, rel_tol=1e-6)
    # d/dx (x * c * c ... * c) = c**n, multiplied out in the same order as y at x = 1.
    assert grads[x] == values[y]
    assert "mul" in repr(y)


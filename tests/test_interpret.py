"""The reference interpreter (interpret.py): the definition every engine is tested against."""

from __future__ import annotations

import math

import pytest

import minigrad
from minigrad import EvaluationError, Graph, Scalar, sqrt
from minigrad.interpret import Step, interpret_backward, interpret_forward


def run(output: minigrad.Node, *leaves: Scalar) -> tuple[list[float], list[float], Graph]:
    graph = Graph(output, *leaves)
    values = interpret_forward(graph, {})
    return values, interpret_backward(graph, values, graph.index[output]), graph


def test_the_seed_example() -> None:
    a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")  # noqa: E702
    d = a**3 / 5 + (b**2).relu()
    values, grads, graph = run(d)
    assert values[graph.index[d]] == pytest.approx(16.675)
    assert grads[graph.index[a]] == pytest.approx(1.35) and grads[graph.index[b]] == -8.0


@pytest.mark.parametrize(("make", "expected"), [
    (lambda x: x - x, 0.0),  # +1 and -1: one contribution per use
    (lambda x: x / x, 0.0),  # 1/3 - 3/9
    (lambda x: x * x, 6.0),  # x through each use
])
def test_a_node_used_twice_gets_one_share_per_use(make: object, expected: float) -> None:
    x = Scalar(3.0, name="x")
    y = make(x)  # type: ignore[operator]
    _, grads, graph = run(y)
    assert grads[graph.index[x]] == pytest.approx(expected, abs=1e-15)


def test_the_steps_are_recorded_in_the_order_they_are_added() -> None:
    x = Scalar(3.0, name="x")
    y = x * x
    graph = Graph(y)
    steps: list[Step] = []
    values = interpret_forward(graph, {})
    interpret_backward(graph, values, graph.index[y], steps=steps)
    assert [(s.argnum, s.partial, s.total) for s in steps] == [(0, 3.0, 3.0), (1, 3.0, 6.0)]


def test_nodes_that_do_not_reach_the_output_pass_nothing_back() -> None:
    x, z = Scalar(0.0, name="x"), Scalar(1.0, name="z")
    y = z * 2.0
    graph = Graph(sqrt(x), y)  # sqrt'(0) is infinite, but y does not use it
    values = interpret_forward(graph, {})
    grads = interpret_backward(graph, values, graph.index[y])
    assert grads[graph.index[z]] == 2.0 and grads[graph.index[x]] == 0.0


def test_inputs_override_the_leaves_for_one_call() -> None:
    x = Scalar(3.0, name="x")
    y = x * x
    graph = Graph(y)
    assert interpret_forward(graph, {graph.index[x]: 4.0})[graph.index[y]] == 16.0
    assert interpret_forward(graph, {})[graph.index[y]] == 9.0


def test_errors_name_the_op_and_the_node() -> None:
    x = Scalar(-1.0, name="x")
    with pytest.raises(EvaluationError, match=r"log: log\(-1.0\) is undefined.*At node: log\(x\)"):
        run(x.log())
    with pytest.raises(EvaluationError, match=r"the gradient of sqrt\(0.0\)"):
        run(sqrt(Scalar(0.0)))
    with pytest.raises(EvaluationError, match="too large for a float"):
        run(Scalar(1e200) * 1e200)


def test_values_are_floats_and_finite() -> None:
    x = Scalar(0.5, name="x")
    values, grads, _ = run(x.tanh() + x.exp())
    assert all(type(v) is float and math.isfinite(v) for v in values + grads)


def test_an_overflowing_gradient_names_the_op_that_passed_it_back() -> None:
    x = Scalar(1.0, name="x")
    y = (x * 1e300).sin() * 1e300  # the value is fine; d/dx is 1e300 * cos(...) * 1e300
    with pytest.raises(EvaluationError, match=r"overflows a float, passed back by mul") as caught:
        run(y)
    assert caught.value.op == "mul"

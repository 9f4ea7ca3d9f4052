"""backward_trace: the backward pass step by step, recorded by the reference interpreter."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from peers import MINIGRAD_OPS
from test_random_dags import Program, programs

from minigrad import Graph, Scalar, backward, backward_trace, exp


def test_x_minus_x_adds_two_contributions_that_cancel() -> None:
    a = Scalar(3.0, name="a")
    y = a - a
    trace = backward_trace(Graph(y), y)
    assert [(s.argnum, s.rule, s.contribution, s.total) for s in trace] == [
        (0, "1.0", 1.0, 1.0), (1, "-1.0", -1.0, 0.0)
    ]
    assert trace.gradients[a] == 0.0


def test_the_seed_example_step_by_step() -> None:
    a = Scalar(1.5, name="a")
    b = Scalar(-4.0, name="b")
    d = a**3 / 5 + (b**2).relu()
    trace = backward_trace(Graph(d), d)
    # Reverse topological order: each node passes its gradient on only after every
    # node using it has, so the gradients arriving are complete.
    positions = [step.position for step in trace]
    assert positions == sorted(positions, reverse=True)
    last = trace[-1]
    assert (last.operand, last.rule, last.gradient, last.partial) == (
        a, "3 * a ** (3 - 1.0)", 0.2, 6.75)
    assert math.isclose(last.total, 1.35)
    text = str(trace)
    assert "step(#4)" in text and "#0 a -> 1.35" in text and "#3 b -> -8" in text


def test_inputs_and_x_times_x() -> None:
    x = Scalar(2.0, name="x")
    y = x * x
    trace = backward_trace(Graph(y), y, inputs={"x": 5.0})
    assert [s.partial for s in trace] == [5.0, 5.0]
    assert [s.total for s in trace] == [5.0, 10.0]


@given(programs())
def test_the_trace_is_the_backward_pass(program: Program) -> None:
    leaves = [Scalar(v, name=f"x{i}") for i, v in enumerate(program.inputs)]
    y = program(MINIGRAD_OPS, *leaves)
    graph = Graph(y, *leaves)
    trace = backward_trace(graph, y)
    grads = backward(graph, y)
    assert all(trace.gradients[node] == grads[node] for node in graph.order)
    for step in trace:  # each step adds gradient * partial, and the last sum stands
        assert step.contribution == step.gradient * step.partial
    final = {}
    for step in trace:
        final[step.operand] = step.total
    assert all(grads[node] == total for node, total in final.items())
    # After every step, the gradients as the pass holds them are the answer.
    after = trace.gradients_after(len(trace))
    assert all(after[node] == grads[node] for node in graph.order)


def test_gradients_after_each_step() -> None:
    # u = x*x is used twice: its gradient is 1 after w's step to it, 1 + cos(u) after
    # sin's; x's comes last, in two shares of g[u] * x.
    x = Scalar(0.5, name="x")
    u = x * x
    w = u + u.sin()
    trace = backward_trace(Graph(w), w)
    before = trace.gradients_after(0)
    assert [before[n] for n in (x, u, w)] == [0.0, 0.0, 1.0]  # only the output's 1
    sums = [(trace.gradients_after(k)[u], trace.gradients_after(k)[x])
            for k in range(len(trace) + 1)]
    full = 1 + math.cos(0.25)
    assert sums == [(0.0, 0.0), (1.0, 0.0), (1.0, 0.0), (full, 0.0), (full, full * 0.5),
                    (full, full * 0.5 * 2)]
    assert all(trace.gradients_after(k)[w] == 1.0 for k in range(len(trace) + 1))
    with pytest.raises(ValueError, match="has 5 steps, so it can be 0 to 5, not 6"):
        trace.gradients_after(6)
    with pytest.raises(TypeError, match="expected an int, got float"):
        trace.gradients_after(1.0)  # type: ignore[arg-type]


def test_the_table_says_what_a_node_number_in_a_rule_means() -> None:
    s = Scalar(2.0, name="s")
    y = exp(s) / s
    text = str(backward_trace(Graph(y), y))
    assert "#1 = 7.38906" in text  # exp's slope is its own value, node #1
    assert text.endswith("in a rule, #i is the value of node #i (a rule may use its own "
                         "node's value, computed by the forward pass: the slope of exp(a) "
                         "is exp(a) itself)")
    x = Scalar(3.0, name="x")
    difference = x - x
    assert "in a rule" not in str(backward_trace(Graph(difference), difference))  # no #i

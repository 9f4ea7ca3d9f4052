"""The compiled fast path agrees with the reference interpreters to the last bit.

Bit-for-bit means: the same float operations in the same order.  Compared as
``float.hex()``, which also tells 0.0 from -0.0.  Errors must be the same too: same
type, same message (which names the same node).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from peers import APPLY, MINIGRAD_OPS
from test_random_dags import Program, Ref, programs

import minigrad.codegen as codegen
import minigrad.fastpath as fastpath
from minigrad import OPS, EvaluationError, Graph, Scalar, backward, evaluate, log, show_code
from minigrad.interpret import interpret_backward, interpret_forward


def bits(values: list[float]) -> list[str]:
    return [v.hex() for v in values]


def both_paths(program: Program) -> tuple[object, object]:
    """(interpreted, compiled) results: values and gradients as hex, or the error text."""
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(program.inputs)]
    y = program(MINIGRAD_OPS, *leaves)
    graph = Graph(y, *leaves)
    output = graph.index[y]
    interpreted: object
    compiled: object
    try:
        values = interpret_forward(graph, {})
        interpreted = (bits(values), bits(interpret_backward(graph, values, output)))
    except EvaluationError as error:
        interpreted = str(error)
    try:
        values = graph_values_compiled(graph)
        compiled = (bits(values), bits(graph_grads_compiled(graph, values, output)))
    except EvaluationError as error:
        compiled = str(error)
    return interpreted, compiled


def graph_values_compiled(graph: Graph) -> list[float]:
    graph._cache["forward calls"] = fastpath.INTERPRETED_CALLS  # skip the interpreted call
    return fastpath.forward_values(graph, {})


def graph_grads_compiled(graph: Graph, values: list[float], output: int) -> list[float]:
    graph._cache[f"backward calls {output}"] = fastpath.INTERPRETED_CALLS
    return fastpath.backward_gradients(graph, values, output)


@contextlib.contextmanager
def chunks_of(size: int) -> Iterator[None]:
    """Generate code in chunks of `size` nodes: tiny chunks put many gradients across
    chunk boundaries (write-backs, aliases, reloads)."""
    saved, codegen.CHUNK_SIZE = codegen.CHUNK_SIZE, size
    try:
        yield
    finally:
        codegen.CHUNK_SIZE = saved


@pytest.mark.parametrize("chunk_size", [2, 3000])
@given(program=programs())
def test_compiled_equals_interpreted_on_random_dags(chunk_size: int, program: Program) -> None:
    with chunks_of(chunk_size):
        interpreted, compiled = both_paths(program)
    assert compiled == interpreted


@st.composite
def wild_programs(draw: st.DrawFn) -> Program:
    """Any op on any operands: domain errors, overflows, zeros, kinks all welcome."""
    numbers = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-310, 800.0, 1e300])
    inputs = draw(st.lists(numbers, min_size=1, max_size=3))
    steps = []
    for step in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(sorted(OPS)))
        newest = len(inputs) + step - 1
        operands: list[Ref | float] = [Ref(draw(st.integers(0, newest)))]
        if OPS[op].arity == 2:
            operands.append(draw(st.one_of(numbers, st.integers(0, newest).map(Ref))))
        steps.append((op, tuple(operands)))
    return Program(tuple(inputs), tuple(steps))


@pytest.mark.parametrize("chunk_size", [2, 3000])
@given(program=wild_programs())
def test_compiled_equals_interpreted_including_errors(chunk_size: int, program: Program) -> None:
    with chunks_of(chunk_size):
        interpreted, compiled = both_paths(program)
    assert compiled == interpreted


def test_second_call_runs_compiled_code() -> None:
    x = Scalar(2.0, name="x")
    y = x * x + 1
    graph = Graph(y)
    assert "forward" not in graph._cache
    interpreted = [evaluate(graph, inputs={"x": v})[y] for v in range(fastpath.INTERPRETED_CALLS)]
    assert "forward" not in graph._cache  # the first calls are interpreted
    compiled = [evaluate(graph, inputs={"x": v})[y] for v in range(fastpath.INTERPRETED_CALLS)]
    assert "forward" in graph._cache
    assert compiled == interpreted == [v * v + 1.0 for v in range(fastpath.INTERPRETED_CALLS)]
    grads = [backward(graph, y, inputs={"x": v})[x] for v in range(2 * fastpath.INTERPRETED_CALLS)]
    assert grads == [2.0 * v for v in range(2 * fastpath.INTERPRETED_CALLS)]
    assert f"backward {graph.index[y]}" in graph._cache


def test_errors_on_the_fast_path_are_the_interpreters() -> None:
    x = Scalar(2.0, name="x")
    y = log(x - 1) * 3
    graph = Graph(y)
    for _ in range(fastpath.INTERPRETED_CALLS):
        evaluate(graph)
        backward(graph, y)  # compiled from now on
    with pytest.raises(EvaluationError, match=r"log\(-1.0\) is undefined.*At node: log\(x - 1\)"):
        evaluate(graph, inputs={"x": 0.0})
    with pytest.raises(EvaluationError, match=r"log\(0.0\)"):
        backward(graph, y, inputs={"x": 1.0})


def test_small_chunks_split_the_code() -> None:
    program = Program((0.5, -1.5), tuple(
        (op, (Ref(i), Ref(i + 1)) if OPS[op].arity == 2 else (Ref(i + 1),))
        for i, op in enumerate(["mul", "tanh", "add", "sin", "div", "exp", "sub", "abs"])
    ))
    leaves = [Scalar(x) for x in program.inputs]
    y = program(MINIGRAD_OPS, *leaves)
    with chunks_of(3):
        assert show_code(Graph(y), output=y).count("def forward_") == 3
        interpreted, compiled = both_paths(program)
    assert compiled == interpreted


def test_generated_code_contains_no_user_text() -> None:
    sneaky = Scalar(1.0, name="__import__('os').system('echo pwned')")
    y = sneaky * 2 + sneaky
    code = show_code(Graph(y), output=y)
    assert "import" not in code and "pwned" not in code


def test_every_op_has_code_that_compiles() -> None:
    for name, rule in OPS.items():
        x = Scalar(0.7)
        y = APPLY[name](MINIGRAD_OPS, *([x] * rule.arity))
        compile(show_code(Graph(y), output=y), "<test>", "exec")

"""Batches: one graph over many points at once (numpy), against the float path point by
point -- for every op of the table, at kinks and domain edges, on random DAGs -- and
the errors, warnings, inputs and types a user meets."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
import warnings
from collections.abc import Iterator
from fractions import Fraction
from typing import Any
from unittest import mock

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from peers import APPLY, MINIGRAD_OPS, import_peer
from test_ops import DOMAINS
from test_random_dags import Program, programs

from minigrad import (
    OPS,
    EvaluationError,
    Graph,
    Scalar,
    backward,
    evaluate,
    value_and_grad,
)
from minigrad.interpret import interpret_backward, interpret_forward
from minigrad.values import NodeValues

np = import_peer("numpy")
engine = import_peer("minigrad.engine")  # needs numpy

#: Values agree with the float path within this relative error, gradients within the
#: next (numpy's exp, tanh, ... may differ from math's in the last bit).
VALUE_TOLERANCE, GRADIENT_TOLERANCE = 1e-12, 1e-11


@pytest.fixture(autouse=True)
def no_warnings() -> Iterator[None]:
    """numpy's RuntimeWarnings must never reach the user: any warning fails a test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def assert_close(batch: Any, expected: list[float], tolerance: float, scale: float = 0.0) -> None:
    batch = np.asarray(batch)
    assert batch.shape == (len(expected),) and batch.dtype == np.float64
    for ours, theirs in zip(batch.tolist(), expected, strict=True):
        assert math.isclose(ours, theirs, rel_tol=tolerance, abs_tol=tolerance * scale), (
            ours, theirs)


# -- the contract --------------------------------------------------------------


def test_the_contract_example() -> None:
    x = Scalar(0.0, name="x"); w = Scalar(2.0, name="w")  # noqa: E702
    f = x.sin() * x**2 * x.sigmoid() + (x * w).tanh()
    graph = Graph(f)
    xs = np.linspace(-6, 6, 1_000_000)
    values, grads = value_and_grad(graph, f, inputs={x: xs})
    assert isinstance(values[f], np.ndarray)
    assert values[f].shape == (1_000_000,) and values[f].dtype == np.float64
    for point in (0, 1, 123_456, 500_000, 999_999):
        at = value_and_grad(graph, f, inputs={x: float(xs[point])})
        assert math.isclose(values[f][point], at[0][f], rel_tol=VALUE_TOLERANCE)
        for leaf in (x, w):
            assert math.isclose(grads[leaf][point], at[1][leaf], rel_tol=GRADIENT_TOLERANCE,
                                abs_tol=1e-300)
    # by name, and evaluate / backward
    by_name = value_and_grad(graph, f, inputs={"x": xs[:1000]})
    np.testing.assert_array_equal(by_name[0][f], values[f][:1000])
    np.testing.assert_array_equal(evaluate(graph, {"x": xs[:1000]})[f], values[f][:1000])
    np.testing.assert_array_equal(backward(graph, f, {"x": xs[:1000]})[w], grads[w][:1000])


def test_same_at_every_point_comes_back_as_a_read_only_array() -> None:
    x = Scalar(1.0, name="x"); w = Scalar(2.0, name="w")  # noqa: E702
    c = w * 3.0  # depends on no batched leaf
    f = x * c + w
    values, grads = value_and_grad(Graph(f), f, inputs={x: [1.0, 2.0, 3.0]})
    for entry in (values[w], values[c], grads[f]):
        assert entry.shape == (3,) and entry.dtype == np.float64
        assert not entry.flags.writeable
    np.testing.assert_array_equal(values[c], [6.0, 6.0, 6.0])
    np.testing.assert_array_equal(grads[c], [1.0, 2.0, 3.0])  # d f / d c = x
    for entry in (values[x], values[f], grads[x], grads[c]):  # the others: read-only too
        with pytest.raises(ValueError, match="read-only"):
            entry[0] = 5.0
    np.testing.assert_array_equal(grads[w], [4.0, 7.0, 10.0])  # 3x + 1
    np.testing.assert_array_equal(grads[x], [6.0, 6.0, 6.0])
    assert values.by_name()["w"].shape == (3,)


def test_leaves_given_numbers_or_nothing_keep_one_value() -> None:
    x = Scalar(1.0, name="x"); y = Scalar(10.0, name="y"); z = Scalar(5.0, name="z")  # noqa: E702
    f = x * y + z
    values = evaluate(Graph(f), {x: np.array([1.0, 2.0]), z: 0.5})
    np.testing.assert_array_equal(values[f], [10.5, 20.5])


def test_no_arrays_no_change() -> None:
    """Floats in, floats out; importing minigrad imports no numpy (a fresh interpreter):
    the engine (and numpy) are imported by the first call."""
    code = (
        "import sys; from minigrad import *\n"
        "assert 'numpy' not in sys.modules and 'minigrad.engine' not in sys.modules\n"
        "x = Scalar(2.0, name='x'); y = x * x\n"
        "v, g = value_and_grad(Graph(y), y, inputs={'x': 3.0})\n"
        "assert type(v[y]) is float and type(g[x]) is float and g[x] == 6.0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_numpy_floats_run_on_the_reference_and_arrays_say_what_to_install() -> None:
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from minigrad import *\n"
        "x = Scalar(2.0, name='x'); y = x * x\n"
        "assert evaluate(Graph(y))[y] == 4.0 and backward(Graph(y), y)[x] == 4.0\n"
        "import math; z = x.log()\n"  # undefined='nan' on floats needs no numpy
        "v = evaluate(Graph(z), {x: -1.0}, undefined='nan')\n"
        "assert math.isnan(v[z]) and v[x] == -1.0\n"
        "try:\n"
        "    evaluate(Graph(y), {x: [1.0, 2.0]})\n"
        "except ModuleNotFoundError as e:\n"
        "    assert 'needs numpy; pip install numpy' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('no error')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- every op, point by point ------------------------------------------------------------

#: Beyond test_ops' points: kinks, ties, edges and the numerically careful cases.
EXTRA_POINTS: dict[str, list[tuple[float, ...]]] = {
    "relu": [(0.0,), (-0.0,)], "abs": [(0.0,)], "step": [(0.0,)], "sign": [(0.0,)],
    "minimum": [(1.0, 1.0), (-2.0, -2.0)], "maximum": [(1.0, 1.0), (0.0, 0.0)],
    "floor": [(2.0,), (-1.0,)], "ceil": [(2.0,), (-1.0,)],
    "log1p": [(1e-20,)], "expm1": [(1e-20,)], "softplus": [(800.0,), (-800.0,)],
    "erfc": [(10.0,)], "hypot": [(1e200, 1e200)], "atan2": [(0.0, -1.0), (-1e-300, -1.0)],
    "sigmoid": [(-800.0,), (800.0,)], "tanh": [(20.0,), (-400.0,)], "exp": [(-800.0,)],
    "asin": [(0.999999,)], "acosh": [(1.000001,)], "cbrt": [(-8.0,), (1e-300,)],
    "sqrt": [(1e-300,)], "log": [(1e-300,)],
}


def _op_cases() -> Iterator[tuple[str, list[tuple[float, ...]]]]:
    for name in sorted(OPS):
        yield name, DOMAINS[name] + EXTRA_POINTS.get(name, [])


def reference(graph: Graph, output: Any, leaves: list[Scalar],
              point: tuple[float, ...]) -> tuple[Any, Any]:
    """The reference interpreter (interpret.py) at one point: (values, grads) mappings."""
    overrides = {graph.index[leaf]: float(x) for leaf, x in zip(leaves, point, strict=True)}
    values = interpret_forward(graph, overrides)
    grads = interpret_backward(graph, values, graph.index[output])
    return NodeValues(graph, values), NodeValues(graph, grads)


def scalar_answers(graph: Graph, output: Any, leaves: list[Scalar],
                   points: list[tuple[float, ...]]) -> list[tuple[Any, Any]]:
    """The reference interpreter at each point: (values, grads) mappings."""
    return [reference(graph, output, leaves, point) for point in points]


@pytest.mark.parametrize(("name", "points"), list(_op_cases()))
def test_every_op_matches_the_float_path(name: str, points: list[tuple[float, ...]]) -> None:
    leaves = [Scalar(1.0, name=f"x{k}") for k in range(OPS[name].arity)]
    out = APPLY[name](MINIGRAD_OPS, *leaves)
    graph = Graph(out, *leaves)
    expected = scalar_answers(graph, out, leaves, points)
    columns = [np.array([point[k] for point in points]) for k in range(len(leaves))]
    for call in range(2):  # the schedule made, then kept
        values, grads = value_and_grad(graph, out, inputs=dict(zip(leaves, columns,
                                                                    strict=True)))
        assert_close(values[out], [v[out] for v, _ in expected], VALUE_TOLERANCE, 1e-300)
        for leaf in leaves:
            assert_close(grads[leaf], [g[leaf] for _, g in expected], GRADIENT_TOLERANCE,
                         1e-300)
        if call == 0:
            first = (values[out].copy(), [grads[leaf].copy() for leaf in leaves])
    # compiled code gives the interpreter's bits
    np.testing.assert_array_equal(values[out], first[0])
    for leaf, was in zip(leaves, first[1], strict=True):
        np.testing.assert_array_equal(grads[leaf], was)


@pytest.mark.parametrize("name", sorted(n for n in OPS if OPS[n].arity == 2))
def test_binary_ops_with_one_operand_batched(name: str) -> None:
    a, b = Scalar(1.0, name="a"), Scalar(1.0, name="b")
    out = APPLY[name](MINIGRAD_OPS, a, b)
    graph = Graph(out, a, b)
    points = DOMAINS[name]
    for batched, fixed in ((a, b), (b, a)):
        k = 0 if batched is a else 1
        for fixed_value in sorted({point[1 - k] for point in points}):
            at = [p for p in points if p[1 - k] == fixed_value]
            expected = scalar_answers(graph, out, [a, b], at)
            values, grads = value_and_grad(
                graph, out, inputs={batched: [p[k] for p in at], fixed: fixed_value})
            assert_close(values[out], [v[out] for v, _ in expected], VALUE_TOLERANCE, 1e-300)
            for leaf in (a, b):
                assert_close(grads[leaf], [g[leaf] for _, g in expected],
                             GRADIENT_TOLERANCE, 1e-300)


def test_kinks_follow_the_float_path() -> None:
    x, y = Scalar(0.0, name="x"), Scalar(0.0, name="y")
    for make, slopes in [
        (lambda: x.relu(), [0.0, 0.0, 1.0]),  # relu'(0) = 0
        (lambda: abs(x), [-1.0, 0.0, 1.0]),  # abs'(0) = 0
    ]:
        out = make()
        grads = backward(Graph(out), out, inputs={x: [-1.0, 0.0, 1.0]})
        np.testing.assert_array_equal(grads[x], slopes)
    out = MINIGRAD_OPS.maximum(x, y)
    grads = backward(Graph(out), out, inputs={x: [1.0, 2.0, 3.0], y: [2.0, 2.0, 2.0]})
    np.testing.assert_array_equal(grads[x], [0.0, 0.5, 1.0])  # a tie splits the gradient
    np.testing.assert_array_equal(grads[y], [1.0, 0.5, 0.0])


# -- random DAGs ---------------------------------------------------------------------------


def _run_program(program: Program, batched: list[bool]) -> tuple[Any, ...]:
    """The program as a graph, its batch answer, and the float path at every point."""
    points = [program.inputs, *program.more_inputs]
    batched = [True, *batched[1:]] if not any(batched) else batched
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(program.inputs)]
    out = program(MINIGRAD_OPS, *leaves)
    graph = Graph(out, *leaves)
    inputs: dict[Any, Any] = {
        leaf: [point[i] for point in points] if batched[i] else program.inputs[i]
        for i, leaf in enumerate(leaves)
    }
    points = [tuple(p[i] if batched[i] else program.inputs[i] for i in range(len(leaves)))
              for p in points]
    return graph, out, leaves, inputs, points


@given(program=programs(more_points=5), data=st.data())
def test_random_dags_match_the_float_path(program: Program, data: st.DataObject) -> None:
    batched = data.draw(st.lists(st.booleans(), min_size=len(program.inputs),
                                 max_size=len(program.inputs)))
    graph, out, leaves, inputs, points = _run_program(program, batched)
    try:
        expected = scalar_answers(graph, out, leaves, points)
    except EvaluationError:
        # The program is defined at its own points; a leaf left unbatched pairs its one
        # value with the others' points, which may leave the domain (hypot at (0, 0)):
        # test_random_dags_fail_where_the_float_path_fails covers those.
        assume(all(isinstance(value, list) for value in inputs.values()))
        raise  # every leaf batched: each point is one of the program's own
    # in one piece, and run two points at a time (engine.POINTS_PER_PIECE)
    whole = value_and_grad(graph, out, inputs=inputs)
    with mock.patch.object(engine, "POINTS_PER_PIECE", 2):
        pieces = value_and_grad(Graph(out, *leaves), out, inputs=inputs)
    for values, grads in (whole, pieces):
        for node in graph.order:
            at_points = [v[node] for v, _ in expected]
            assert_close(values[node], at_points, VALUE_TOLERANCE,
                         max(1.0, *map(abs, at_points)))
            grads_at = [g[node] for _, g in expected]
            assert_close(grads[node], grads_at, GRADIENT_TOLERANCE,
                         max(1.0, *map(abs, grads_at)))


@given(program=programs(more_points=0),
       points=st.lists(st.lists(st.floats(-3, 3).map(lambda x: round(x, 1)), min_size=4,
                                max_size=4), min_size=1, max_size=6))
def test_random_dags_fail_where_the_float_path_fails(program: Program,
                                                      points: list[list[float]]) -> None:
    """At points outside the comfortable domain: an error at the same node as the float
    path's at the point it names, or no error anywhere; undefined="nan" marks exactly
    the failing points."""
    n_leaves = len(program.inputs)
    points = [tuple(p[:n_leaves]) for p in points]
    leaves = [Scalar(x, name=f"x{i}") for i, x in enumerate(program.inputs)]
    out = program(MINIGRAD_OPS, *leaves)
    graph = Graph(out, *leaves)
    failing = {}
    for k, point in enumerate(points):
        try:
            reference(graph, out, leaves, point)
        except EvaluationError as error:
            failing[k] = error
    inputs = {leaf: [p[i] for p in points] for i, leaf in enumerate(leaves)}
    event("some points fail" if failing else "no point fails")
    if not failing:
        value_and_grad(graph, out, inputs=inputs)
        return
    with pytest.raises(EvaluationError) as caught:
        value_and_grad(graph, out, inputs=inputs)
    assert caught.value.point in failing
    assert caught.value.node is failing[caught.value.point].node
    assert f"at point {caught.value.point}" in str(caught.value)
    values, grads = value_and_grad(graph, out, inputs=inputs, undefined="nan")
    assert np.isnan(values[out][list(failing)]).all() and np.isnan(grads[leaves[0]][
        list(failing)]).all()
    fine = [k for k in range(len(points)) if k not in failing]
    assert np.isfinite(values[out][fine]).all() and np.isfinite(grads[leaves[0]][fine]).all()


# -- errors, never NaN ---------------------------------------------------------------------


def test_a_domain_error_names_op_node_point_and_inputs() -> None:
    x = Scalar(1.0, name="x")
    y = x.log() * 2.0
    xs = np.linspace(1.0, 2.0, 100_000)
    xs[12345] = -0.25
    graph = Graph(y)
    for _ in range(2):  # the first call, and one with the schedule kept
        with pytest.raises(EvaluationError) as caught:
            evaluate(graph, {x: xs})
    message = str(caught.value)
    assert message.startswith("log: log(-0.25) is undefined")
    assert "at point 12345 (x=-0.25)" in message and message.endswith("At node: log(x)")
    assert caught.value.point == 12345 and caught.value.op == "log"
    assert caught.value.node is y.args[0]


@pytest.mark.parametrize(("make", "points", "bad", "text"), [
    (lambda x: x.exp(), [1.0, 1000.0], 1, "exp: exp(1000.0) is too large for a float"),
    (lambda x: 1.0 / x, [1.0, 0.0], 1, "div: 1.0 / 0.0 divides by zero"),
    (lambda x: x.sqrt(), [4.0, 0.0, 1.0], 1, "sqrt: the gradient of sqrt(0.0) with respect"),
    (lambda x: (x * 1e300) * 1e300, [1e-300, 1.0], 1, "mul: 1e+300 * 1e+300 is too large"),
    (lambda x: x.atanh(), [0.5, 1.0], 1, "atanh: atanh(1.0) is undefined"),
    (lambda x: x ** 0.5, [4.0, -1.0], 1, "pow: (-1.0) ** 0.5 is undefined"),
])
def test_errors_at_a_point(make: Any, points: list[float], bad: int, text: str) -> None:
    x = Scalar(1.0, name="x")
    y = make(x)
    graph = Graph(y)
    for _ in range(2):
        with pytest.raises(EvaluationError) as caught:
            value_and_grad(graph, y, inputs={x: points})
        assert str(caught.value).startswith(text) and caught.value.point == bad


def test_an_error_the_same_at_every_point_names_no_point() -> None:
    x, w = Scalar(1.0, name="x"), Scalar(-1.0, name="w")
    y = x * w.log()
    with pytest.raises(EvaluationError, match=r"^log: log\(-1.0\) is undefined") as caught:
        evaluate(Graph(y), {x: [1.0, 2.0]})
    assert caught.value.point is None


def test_undefined_nan_marks_the_points() -> None:
    x = Scalar(1.0, name="x")
    y = x.log() + x
    xs = np.array([-1.0, 1.0, 0.0, 2.0])
    values, grads = value_and_grad(Graph(y), y, inputs={x: xs}, undefined="nan")
    np.testing.assert_array_equal(np.isnan(values[y]), [True, False, True, False])
    np.testing.assert_array_equal(np.isnan(grads[x]), [True, False, True, False])
    assert values[y][3] == math.log(2.0) + 2.0 and grads[x][3] == 1.5
    # floats too: NaN instead of an error
    assert math.isnan(evaluate(Graph(y), {x: -1.0}, undefined="nan")[y])
    with pytest.raises(ValueError, match="undefined must be 'raise' or 'nan'"):
        evaluate(Graph(y), {x: xs}, undefined="ignore")  # type: ignore[arg-type]


# -- bad input, before any work -------------------------------------------------------------


@pytest.mark.parametrize(("value", "error", "text"), [
    (np.zeros((2, 3)), ValueError, r"must be a 1-D array .* shape \(2, 3\)"),
    (np.array(["a", "b"]), TypeError, "must be an array of real numbers, got dtype <U1"),
    (np.array([True, False]), TypeError, "got dtype bool"),
    (np.array([1j, 2j]), TypeError, "got dtype complex128"),
    (np.array([1.0, np.nan]), ValueError, r"must be finite, got nan at point 1"),
    (np.array([1.0, 2.0, -np.inf]), ValueError, "got -inf at point 2"),
    ([[1.0, 2.0], [3.0]], ValueError, "not a 1-D array of numbers"),
    ([1.0, "x"], TypeError, "real numbers"),
])
def test_bad_arrays_are_refused(value: Any, error: type, text: str) -> None:
    x = Scalar(1.0, name="x")
    graph = Graph(x * 2.0)
    with pytest.raises(error, match=text):
        evaluate(graph, {"x": value})
    assert not graph.kept.schedules  # refused before any work


def test_arrays_of_different_lengths_are_refused() -> None:
    x, y = Scalar(1.0, name="x"), Scalar(1.0, name="y")
    with pytest.raises(ValueError, match="same length, got x: 3, y: 2"):
        evaluate(Graph(x * y), {x: [1, 2, 3], y: np.array([1.0, 2.0])})


def test_inputs_are_copied_and_never_written() -> None:
    x = Scalar(1.0, name="x")
    y = x + 0.0
    xs = np.array([1.0, 2.0])
    values = evaluate(Graph(y), {x: xs})
    xs[0] = 99.0
    np.testing.assert_array_equal(values[x], [1.0, 2.0])
    ints = evaluate(Graph(y), {x: np.arange(3)})  # integers become float64
    assert ints[y].dtype == np.float64


def test_batch_results_pickle() -> None:
    x = Scalar(1.0, name="x")
    y = x * x
    values, grads = value_and_grad(Graph(y), y, inputs={x: [1.0, 2.0]})
    graph2, values2, grads2 = pickle.loads(pickle.dumps((values._graph, values, grads)))
    (x2,) = graph2.leaves
    np.testing.assert_array_equal(grads2[x2], [2.0, 4.0])
    np.testing.assert_array_equal(values2[x2], [1.0, 2.0])


def test_drawings_take_one_point() -> None:
    from minigrad import to_dot

    x = Scalar(1.0, name="x")
    with pytest.raises(TypeError, match="must be a real number"):
        to_dot(x * 2.0, inputs={x: [1.0, 2.0]})


def test_show_code_shows_the_batch_schedule() -> None:
    from minigrad import show_code

    xs = [Scalar(3.0, name=f"x{i}") for i in range(3)]
    w = Scalar(2.0, name="w")
    y = sum((x * w).relu() for x in xs)
    code = show_code(Graph(y), y, inputs={xs[0]: np.arange(3.0)})
    assert "relu     x3      out = where(u > 0.0, u, 0.0)" in code  # one call for three
    assert "d/du = step(u)" in code
    assert show_code(Graph(y), y) == show_code(Graph(y), y, inputs={xs[0]: 1.0})


def test_many_pieces_give_the_bits_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over more than POINTS_PER_PIECE points the engine runs piece by piece and keeps
    the outputs' and leaves' entries; any other entry is computed when first asked for.
    Every entry has the bits of one run over the whole batch."""
    import copy

    x, w = Scalar(0.0, name="x"), Scalar(2.0, name="w")
    f = x.sin() * x**2 * x.sigmoid() + (x * w).tanh()
    xs = np.linspace(-6, 6, 4321)
    whole = value_and_grad(Graph(f), f, inputs={x: xs})  # one piece
    monkeypatch.setattr(engine, "POINTS_PER_PIECE", 1000)
    graph = Graph(f)
    values, grads = value_and_grad(graph, f, inputs={x: xs})
    assert values._values is None  # not all kept
    assert values[f].tolist() == whole[0][f].tolist()  # kept
    assert grads[w].tolist() == whole[1][w].tolist()
    assert values._values is None and grads._values is None  # still not computed
    pickled = pickle.loads(pickle.dumps(grads))  # the rest, for pickling
    copied = copy.deepcopy(values)
    for node in graph.order:  # the rest, asked for
        assert values[node].tolist() == whole[0][node].tolist()
        assert grads[node].tolist() == whole[1][node].tolist()
    assert pickled[pickled._graph.order[0]].tolist() == whole[1][x].tolist()
    assert copied[copied._graph.order[-1]].tolist() == whole[0][f].tolist()


@pytest.mark.parametrize(("make", "w"), [
    (lambda x, w: x * w ** 1021.0, 2.0),  # the partial 1021 * w**1020 overflows, as a float
    (lambda x, w: x * w.log(), 1e-310),  # 1 / w overflows
    (lambda x, w: x * (1.0 / w), 1e-160),
])
def test_an_infinite_float_partial_times_an_array_raises_on_every_call(make: Any,
                                                                      w: float) -> None:
    """A float partial that overflows, times an array: found on every call."""
    x, leaf = Scalar(1.0, name="x"), Scalar(w, name="w")
    y = make(x, leaf)
    graph = Graph(y)
    with pytest.raises(EvaluationError):  # the float path
        value_and_grad(graph, y, inputs={x: 1.0})
    for _ in range(3):
        with pytest.raises(EvaluationError):
            value_and_grad(graph, y, inputs={x: np.array([1.0, 2.0])})


def test_a_float_part_failing_everywhere_names_no_point_and_is_nan_everywhere() -> None:
    x, w = Scalar(1.0, name="x"), Scalar(-1.0, name="w")
    y = x + w.log()
    with pytest.raises(EvaluationError, match=r"^log: log\(-1.0\)") as caught:
        evaluate(Graph(y), {x: [1.0, 2.0]})
    assert caught.value.point is None
    values = evaluate(Graph(y), {x: [1.0, 2.0]}, undefined="nan")
    assert np.isnan(values[y]).all()
    np.testing.assert_array_equal(values[x], [1.0, 2.0])  # inputs stay as given
    z = Scalar(0.0, name="z")
    y2 = x * z.sqrt()  # only the gradient fails, and the same at every point
    values, grads = value_and_grad(Graph(y2), y2, {x: [1.0, 2.0]}, undefined="nan")
    assert np.isnan(grads[z]).all() and np.isnan(values[y2]).all()
    x2 = Scalar(1.0, name="x2")
    y3 = (x2 / 1e-310) * x2  # a batched node whose partial fails at every point
    with pytest.raises(EvaluationError, match="gradient of") as caught:
        backward(Graph(y3), y3, {x2: [1e-300, 2e-300]})
    assert caught.value.point == 0  # it depends on the batch: the first point is named


def test_many_outputs_of_one_graph_each_get_their_gradients() -> None:
    leaves = [Scalar(1.0, name=f"x{i}") for i in range(20)]
    y = leaves[0]
    partial_products = []
    for leaf in leaves[1:]:
        y = y * leaf
        partial_products.append(y)
    graph = Graph(*partial_products)
    for k, output in enumerate(partial_products):  # more outputs than the graph keeps
        grads = backward(graph, output, inputs={leaves[0]: [1.0, 2.0]})
        assert grads[leaves[0]].tolist() == [1.0, 1.0]
        assert grads[leaves[k + 1]].tolist() == [1.0, 2.0]
        if k + 2 < len(leaves):
            assert grads[leaves[k + 2]].tolist() == [0.0, 0.0]  # does not reach it


@pytest.mark.parametrize(("value", "expected"), [
    ([Fraction(1, 2), 2**70], [0.5, 2.0**70]),
    (range(3), [0.0, 1.0, 2.0]),
])
def test_arrays_of_real_numbers_of_any_kind(value: Any, expected: list[float]) -> None:
    x = Scalar(1.0, name="x")
    np.testing.assert_array_equal(evaluate(Graph(x * 1.0), {x: value})[x], expected)


def test_masked_arrays_are_refused() -> None:
    x = Scalar(1.0, name="x")
    with pytest.raises(TypeError, match="masked array"):
        evaluate(Graph(x * 1.0), {x: np.ma.masked_array([1.0, 2.0], mask=[0, 1])})


def test_undefined_is_checked_before_any_work() -> None:
    x = Scalar(1.0, name="x")
    for inputs in ({x: 2.0}, {x: [1.0, 2.0]}):  # nothing fails, and still refused
        with pytest.raises(ValueError, match="undefined must be 'raise' or 'nan'"):
            evaluate(Graph(x * 2.0), inputs, undefined="NaN")  # type: ignore[arg-type]


def test_a_namespace_without_a_primitive_is_refused() -> None:
    from minigrad.ops import PRIMITIVES, namespace

    with pytest.raises(TypeError, match="lacks the primitives erf"):
        namespace({name: np.abs for name in PRIMITIVES if name != "erf"}, "numpy")


def test_an_empty_batch_gives_empty_arrays() -> None:
    x, y = Scalar(1.0, name="x"), Scalar(0.0, name="y")
    q = x / y  # its partials fail wherever there is a point: here there is none
    values, grads = value_and_grad(Graph(q), q, inputs={x: np.array([]), y: 0.0})
    assert values[q].shape == (0,) and grads[x].shape == (0,)


def test_a_longdouble_array_too_large_for_a_float_is_refused_without_a_warning() -> None:
    x = Scalar(1.0, name="x")
    with pytest.raises(ValueError, match="must be finite, got inf at point 0"):
        evaluate(Graph(x * 2.0), {x: np.array([np.longdouble("1e400")])})


def test_ceil_and_floor_keep_the_sign_of_zero_on_floats_and_in_batches() -> None:
    from minigrad import atan2, ceil

    x = Scalar(-0.5, name="x")
    y = atan2(ceil(x), -1.0)  # ceil(-0.5) is -0.0: the angle is -pi, on both paths
    assert evaluate(Graph(y))[y] == -math.pi
    assert evaluate(Graph(y), {x: [-0.5, -0.25, 0.5]})[y].tolist() == [
        -math.pi, -math.pi, math.atan2(1.0, -1.0)]
    z = atan2(x.floor() * 0.0, -1.0)  # floor(-0.5) = -1; -1 * 0 = -0.0
    assert evaluate(Graph(z))[z] == -math.pi


def test_a_gradient_failing_at_some_points_names_the_first() -> None:
    w, x = Scalar(1e-320, name="w"), Scalar(1.0, name="x")
    f = (w * x).sqrt()  # d f / d w overflows only where x is huge
    with pytest.raises(EvaluationError, match=r"at point 1 \(x=1e\+300\)") as caught:
        value_and_grad(Graph(f), f, {x: np.array([1.0, 1e300, 2.0])})
    assert caught.value.point == 1


def test_batch_results_as_lists_and_a_sweep_over_sizes_keeps_little(
        monkeypatch: pytest.MonkeyPatch) -> None:
    x = Scalar(1.0, name="x")
    y = x * x
    graph = Graph(y)
    monkeypatch.setattr(engine, "POINTS_PER_PIECE", 2)
    values = evaluate(graph, {x: np.arange(1.0, 6.0)})
    assert [row.tolist() for row in values.as_list()] == [[1.0, 2.0, 3.0, 4.0, 5.0],
                                                          [1.0, 4.0, 9.0, 16.0, 25.0]]
    monkeypatch.undo()
    for n in range(2, 40):
        value_and_grad(graph, y, {x: np.ones(n)})
    assert len(graph.kept.matrices) <= engine.KEPT_SHAPES

"""Batched benchmarks: one graph evaluated over many points at once (``minigrad/engine.py``:
a point is a column of the engine's matrices, so many points cost the numpy calls of one).

* ``curve_*``: ``f = sin(x) * x**2 * sigmoid(x) + tanh(x * w)`` and its derivatives
  df/dx, df/dw at 10^6 points -- MiniGrad's ``value_and_grad(Graph(f), f, inputs={x:
  xs})`` against the same three arrays written by hand in numpy (the ceiling), JAX's
  fused ``jit(vmap(value_and_grad))`` (its first call, which traces and compiles, and
  later calls), MiniGrad's float path point by point (timed on a sample, extrapolated),
  and the peak memory of a call.
* ``moons_batched_*``: micrograd's moons training step with a graph of *one example's*
  loss, its x0, x1, y leaves given the 100 points as arrays; the mean over examples
  and the regularization are added outside the graph, as a user would.  Checked
  against the whole-batch step (one graph of all 100 examples) to 1e-9.  PyTorch and
  JAX run the same expression vectorized over the points, and, for reference, the
  matrix form (``W @ x``) an array library's user would write.

Every call is timed from a graph's first: there is no warm-up, and none is needed (the
engine has no compile step; its first call on a Graph levels it, and the Graph keeps
that).  "First call" and "later calls" (their median) are reported apart.

Every function returns a dict of plain numbers for ``results.json``; arrays stay here.
Needs numpy; the peers are imported only when run.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import workloads
from timing import median_seconds, timed

import minigrad as mg

#: The agreement demanded between two ways of computing the same numbers.
TOLERANCE = 1e-9
#: The step size of the moons training steps (timing only: any small step will do).
LEARNING_RATE = 0.05

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # f, df/dx, df/dw at every point


def largest_difference(ours: Sequence[Any], theirs: Sequence[Any]) -> float:
    """The largest absolute difference between two sequences of arrays (or numbers)."""
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(ours, theirs, strict=True))


def check(what: str, difference: float) -> float:
    """``difference``, after checking it is within :data:`TOLERANCE` (NaN is not)."""
    if not difference <= TOLERANCE:
        raise AssertionError(f"{what}: differs by {difference:.3g} (> {TOLERANCE:g})")
    return difference


# -- f, df/dx and df/dw at 10^6 points ---------------------------------------------------

def curve_graph() -> tuple[mg.Scalar, mg.Scalar, mg.Node, mg.Graph]:
    """x, w, f and Graph(f): ``f = x.sin() * x**2 * x.sigmoid() + (x * w).tanh()``."""
    x, w = mg.Scalar(0.0, name="x"), mg.Scalar(2.0, name="w")
    f = workloads.curve(x, w, mg.sin, mg.sigmoid, mg.tanh)
    return x, w, f, mg.Graph(f)


def curve_by_hand(xs: np.ndarray, repeats: int) -> tuple[dict, Arrays]:
    """The ceiling: the three arrays written directly in numpy."""
    arrays = workloads.curve_by_hand(xs, 2.0)
    return {"call_s": median_seconds(lambda: workloads.curve_by_hand(xs, 2.0), repeats)}, arrays


def curve_minigrad(xs: np.ndarray, repeats: int, by_hand: Arrays) -> tuple[dict, Arrays]:
    """MiniGrad's batched value_and_grad on a fresh Graph: its first call (which levels
    the graph) and the median of the ``repeats`` calls right after it."""
    x, w, f, graph = curve_graph()

    def call() -> Arrays:
        values, grads = mg.value_and_grad(graph, f, inputs={x: xs})
        return values[f], grads[x], grads[w]

    arrays, first_call = timed(call)
    later = median_seconds(call, repeats)
    return {
        "nodes": len(graph), "first_call_s": first_call, "call_s": later,
        "max_abs_difference_vs_by_hand": check(  # the first call's, a later one's
            "MiniGrad's batch vs numpy by hand",
            max(largest_difference(arrays, by_hand), largest_difference(call(), by_hand))),
    }, arrays


def curve_jax(xs: np.ndarray, repeats: int, by_hand: Arrays) -> dict:
    """``jax.jit(jax.vmap(jax.value_and_grad(f, argnums=(0, 1)), in_axes=(0, None)))``:
    f, df/dx and df/dw at every point in one fused call; numpy arrays in, as for the
    others."""
    import jax

    jax.config.update("jax_enable_x64", True)
    function = jax.jit(jax.vmap(
        jax.value_and_grad(
            lambda x, w: workloads.curve(x, w, jax.numpy.sin, jax.nn.sigmoid, jax.numpy.tanh),
            argnums=(0, 1)),
        in_axes=(0, None)))

    def call() -> Any:
        return jax.block_until_ready(function(xs, 2.0))

    (value, (dx, dw)), first_call = timed(call)  # traces and compiles
    return {"first_call_s": first_call, "call_s": median_seconds(call, repeats),
            "max_abs_difference_vs_by_hand": check("JAX vs numpy by hand",
                                                   largest_difference((value, dx, dw),
                                                                      by_hand))}


def curve_scalar_path(xs: np.ndarray, sample_size: int, batch: Arrays) -> dict:
    """MiniGrad's float value_and_grad, one point per call, on ``sample_size`` of the
    points, evenly spaced, every call timed from a fresh Graph's first;
    ``extrapolated_s`` is the time for all the points, extrapolated from them."""
    x, w, f, graph = curve_graph()

    def at(point: float) -> tuple[float, float, float]:
        values, grads = mg.value_and_grad(graph, f, inputs={x: point})
        return values[f], grads[x], grads[w]

    where = np.linspace(0, len(xs) - 1, min(sample_size, len(xs))).astype(int)
    sample = xs[where].tolist()
    start = time.perf_counter()
    found = [at(point) for point in sample]
    seconds = time.perf_counter() - start
    return {"points": len(sample), "seconds": seconds,
            "per_point_s": seconds / len(sample),
            "extrapolated_s": seconds / len(sample) * len(xs),
            "max_abs_difference_vs_batch": check(
                "scalar path vs batch",
                largest_difference(np.array(found).T, [a[where] for a in batch]))}


def peak_bytes(function: Callable[[], object]) -> int:
    """Peak bytes allocated during ``function()`` and not freed before it started, as
    tracemalloc sees them (numpy reports its arrays' memory to tracemalloc)."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def curve_memory(xs: np.ndarray, chunk: int) -> dict:
    """Peak memory of one value_and_grad over all the points (a fresh Graph's first
    call, and the next one), and of the same three arrays computed ``chunk`` points at a
    time into arrays made beforehand (and through dask, if installed): bytes per point,
    and per point and node.  (Beyond ``minigrad.engine.POINTS_PER_PIECE`` points a call
    runs a piece of points at a time and keeps the outputs' and batched leaves' values
    and the leaves' gradients; any other node's arrays are made only if asked for.)"""
    x, w, f, graph = curve_graph()
    n, nodes = len(xs), len(graph)

    def whole() -> Arrays:
        values, grads = mg.value_and_grad(graph, f, inputs={x: xs})
        return values[f], grads[x], grads[w]

    def in_chunks() -> np.ndarray:
        out = np.empty((3, n))
        for start in range(0, n, chunk):
            values, grads = mg.value_and_grad(graph, f, inputs={x: xs[start:start + chunk]})
            out[:, start:start + chunk] = values[f], grads[x], grads[w]
        return out

    first = peak_bytes(whole)
    peaks = {"first_call": first, "later_call": peak_bytes(whole),
             "in_chunks": peak_bytes(in_chunks)}
    result: dict[str, Any] = {"points": n, "nodes": nodes, "chunk": chunk}
    try:
        import dask
        import dask.array

        lazy = dask.array.from_array(xs, chunks=chunk)
        values, grads = mg.value_and_grad(graph, f, inputs={x: lazy})
        computed = dask.compute(values[f], grads[x], grads[w])  # once: warm up
        check("dask vs one batch", largest_difference(computed, whole()))
        peaks["dask"] = peak_bytes(lambda: dask.compute(values[f], grads[x], grads[w]))
    except AssertionError:
        raise
    except Exception as error:  # dask not installed, or it failed: say so
        result["dask_error"] = f"{type(error).__name__}: {error}"[:120]
    for name, peak in peaks.items():
        result[name] = {"peak_bytes_per_point": peak / n,
                        "peak_bytes_per_point_node": peak / n / nodes}
    return result


def curve_points(n: int, repeats: int, sample_size: int, chunk: int,
                 with_jax: bool) -> dict:
    """Everything at ``n`` points, in one run: the rows of the report's table."""
    xs = np.linspace(-6.0, 6.0, n)
    result: dict[str, Any] = {"points": n}
    result["by_hand"], by_hand = curve_by_hand(xs, repeats)
    result["minigrad"], batch = curve_minigrad(xs, repeats, by_hand)
    if with_jax:
        result["jax"] = curve_jax(xs, repeats, by_hand)
    result["scalar_path"] = curve_scalar_path(xs, sample_size, batch)
    result["memory"] = curve_memory(xs, chunk)
    return result


# -- moons: a graph of one example's loss, batched over the points -----------------------

def moons_columns(points: Sequence[Sequence[float]],
                  labels: Sequence[float]) -> Arrays:
    """The x0, x1 and y of every example, as three arrays."""
    return (np.array([p[0] for p in points]), np.array([p[1] for p in points]),
            np.array(labels, dtype=np.float64))


def whole_batch_step(points: Sequence[Sequence[float]], labels: Sequence[float],
                     params: Sequence[float], sizes: Sequence[int]) -> tuple[float, np.ndarray]:
    """The existing step's loss and gradients: one MiniGrad graph of all the examples."""
    leaves = [mg.Scalar(p) for p in params]
    loss = workloads.moons_loss(leaves, points, labels, mg.relu, sizes)
    values, grads = mg.value_and_grad(mg.Graph(loss), loss)
    return values[loss], np.array([grads[p] for p in leaves])


def training_steps(step: Callable[[np.ndarray], tuple[float, np.ndarray]],
                   parameters: np.ndarray, count: int) -> list[float]:
    """Seconds of each of ``count`` steps, each a step plus the update of the parameters
    that the next step starts from."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        _, gradient = step(parameters)
        parameters = parameters - LEARNING_RATE * gradient
        times.append(time.perf_counter() - start)
    return times


def later_steps(step: Callable[[np.ndarray], tuple[float, np.ndarray]],
                parameters: np.ndarray, steps: int, first_step: float) -> dict:
    """The first step's seconds (already timed) and steps 2 .. ``steps`` right after it:
    their median (``step_s``), slowest, and the total of all ``steps`` steps."""
    later = training_steps(step, parameters, steps - 1) or [first_step]
    return {"first_step_s": first_step, "step_s": float(np.median(later)),
            "slowest_later_step_s": max(later), "steps": steps,
            "all_steps_s": first_step + (sum(later) if steps > 1 else 0.0)}


def checked(name: str, loss: float, gradient: np.ndarray,
            reference: tuple[float, np.ndarray]) -> dict:
    """The first step's loss against the whole-batch step's, and all the gradients."""
    return {"loss": float(loss), "grad0": float(gradient[0]),
            "max_abs_difference_vs_whole_batch": check(
                f"{name}'s moons step vs the whole-batch step",
                max(abs(loss - reference[0]),
                    largest_difference([gradient], [reference[1]])))}


def moons_batched_minigrad(points: Sequence[Sequence[float]], labels: Sequence[float],
                           params: Sequence[float], sizes: Sequence[int], steps: int,
                           reference: tuple[float, np.ndarray]) -> dict:
    """One example's loss as a graph, with x0, x1, y and the parameters as leaves; a
    step is value_and_grad over all the examples, the mean (plus regularization) of the
    losses and of each parameter's gradients, and the update of the parameters."""
    def build() -> tuple[list[mg.Scalar], list[mg.Scalar], mg.Node]:
        leaves = [mg.Scalar(p) for p in params]
        x0, x1, y = (mg.Scalar(0.0, name=name) for name in ("x0", "x1", "y"))
        return leaves, [x0, x1, y], workloads.moons_example_loss(leaves, x0, x1, y, mg.relu,
                                                                  sizes)

    (leaves, example, loss), build_seconds = timed(build)
    graph, graph_seconds = timed(lambda: mg.Graph(loss))
    columns = dict(zip(example, moons_columns(points, labels), strict=True))
    regularization = workloads.REGULARIZATION

    def step(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        inputs = dict(zip(leaves, parameters.tolist(), strict=True)) | columns
        values, grads = mg.value_and_grad(graph, loss, inputs=inputs)
        loss_value = float(values[loss].mean()) + regularization * float(parameters @ parameters)
        gradient = (np.mean([grads[p] for p in leaves], axis=1)
                    + 2.0 * regularization * parameters)
        return loss_value, gradient

    start = np.array(params, dtype=np.float64)
    (loss_value, gradient), first_step = timed(lambda: step(start))
    return {
        "nodes": len(graph), "points": len(points), "parameters": len(leaves),
        "build_s": build_seconds, "graph_s": graph_seconds,
        "one_time_s": build_seconds + graph_seconds + first_step,
        **later_steps(step, start, steps, first_step),
        **checked("MiniGrad", loss_value, gradient, reference),
    }


def moons_batched_torch(points: Sequence[Sequence[float]], labels: Sequence[float],
                        params: Sequence[float], sizes: Sequence[int], steps: int,
                        reference: tuple[float, np.ndarray], form: str) -> dict:
    """PyTorch, float64, over all the examples at once: ``form="expression"`` is the same
    expression with each operation on 100-point tensors; ``"matrix"`` is W @ x."""
    import torch

    x0, x1, y = (torch.from_numpy(c) for c in moons_columns(points, labels))
    rows = torch.stack([x0, x1], dim=1)

    def loss_of(p: Any) -> Any:
        if form == "expression":
            score = workloads.mlp_score(list(p.unbind()), [x0, x1], torch.relu, sizes)
        else:
            score = workloads.matrix_score(p, rows, torch.relu, sizes)
        return (torch.relu(1 + -y * score).mean()
                + workloads.REGULARIZATION * (p * p).sum())

    def step(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        p = torch.tensor(parameters, dtype=torch.float64, requires_grad=True)
        loss = loss_of(p)
        loss.backward()
        assert p.grad is not None
        return loss.item(), p.grad.numpy()

    start = np.array(params, dtype=np.float64)
    (loss_value, gradient), first_step = timed(lambda: step(start))
    return {**later_steps(step, start, steps, first_step),
            **checked(f"PyTorch ({form})", loss_value, gradient, reference)}


def moons_batched_jax(points: Sequence[Sequence[float]], labels: Sequence[float],
                      params: Sequence[float], sizes: Sequence[int], steps: int,
                      reference: tuple[float, np.ndarray], form: str) -> dict:
    """``jax.jit(jax.vmap(jax.value_and_grad(example_loss), in_axes=(None, 0, 0, 0)))``:
    each example's loss and gradients, for all of them in one call; the step takes the
    means (plus regularization) and updates, as MiniGrad's does.  ``form`` as for
    PyTorch: ``"expression"`` is the same scalar expression as MiniGrad's graph."""
    import jax

    jax.config.update("jax_enable_x64", True)
    count = len(params)

    def example_loss(p: Any, x0: Any, x1: Any, y: Any) -> Any:
        if form == "expression":
            return workloads.moons_example_loss([p[i] for i in range(count)], x0, x1, y,
                                                jax.nn.relu, sizes)
        score = workloads.matrix_score(p, jax.numpy.stack([x0, x1]), jax.nn.relu, sizes)
        return jax.nn.relu(1 + -y * score)

    function = jax.jit(jax.vmap(jax.value_and_grad(example_loss), in_axes=(None, 0, 0, 0)))
    columns = moons_columns(points, labels)
    regularization = workloads.REGULARIZATION

    def step(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        losses, grads = function(parameters, *columns)
        loss_value = float(np.mean(losses)) + regularization * float(parameters @ parameters)
        return loss_value, np.asarray(grads).mean(axis=0) + 2.0 * regularization * parameters

    start = np.array(params, dtype=np.float64)
    (loss_value, gradient), first_step = timed(lambda: step(start))  # traces, compiles
    steps_row = later_steps(step, start, steps, first_step)
    call = median_seconds(lambda: jax.block_until_ready(function(start, *columns)), steps)
    return {**steps_row, "call_s": call,
            **checked(f"JAX ({form})", loss_value, gradient, reference)}

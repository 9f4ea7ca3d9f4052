"""MiniGrad's benchmarks against micrograd, PyTorch, JAX, CasADi and the pure-Python ceiling.

    python benchmarks/run.py                  # the full run (several minutes)
    python benchmarks/run.py --smoke          # tiny sizes: checks that everything runs
    python benchmarks/run.py --only moons     # one part (moons, batched, scaling, derivatives)
    python benchmarks/run.py --json out.json --plot benchmarks/scaling.png
    python benchmarks/run.py --from-json benchmarks/results.json   # report saved results

Peers that are not installed are skipped with a note (``pip install -e ".[bench]"``
installs most; CasADi is ``pip install casadi``).  Every figure comes from this one run
on this one machine, and the ratios between them are what to read: these machines are
noisy, absolute seconds are not comparable across runs.  Workloads are in
``workloads.py``, the batched rows (one graph over arrays of points) in ``batched.py``;
timings are medians.

MiniGrad has one engine and no compile step, so nothing is warmed up per graph: the
moons rows time each library from the start -- build the expression, then its Graph
(CasADi: its Function; JAX: jit) -- through its first call, 10 calls and 100 calls, and
give the steady call (the median of the calls after the first).  Only what a process
pays once whatever the graph (imports, a library's first operation) is paid before.
``--smoke`` and ``--only`` never write over the saved full-run ``results.json`` and
``scaling.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import workloads  # noqa: E402
from timing import have, median_seconds, timed  # noqa: E402

import minigrad as mg  # noqa: E402

# -- moons: the first call, 10 and 100 calls end to end, the steady call ---------------------

#: The calls counted end to end in the moons rows: the first, 10 and 100.
CALLS = (1, 10, 100)
#: How close CasADi's loss and gradients must be to MiniGrad's (the same expression).
CASADI_TOLERANCE = 1e-12


def warm_up() -> None:
    """What a process pays once, whatever the graph: the imports, a library's first
    operation (PyTorch's costs about a second), MiniGrad's engine module.  Run before the
    moons and batched timings, so that a first call is the graph's, not the process's."""
    x = mg.Scalar(1.0)
    y = x * 2.0 + 1.0
    mg.value_and_grad(mg.Graph(y), y)
    if have("micrograd"):
        from micrograd.engine import Value

        (Value(1.0) * 2.0).relu().backward()
    if have("torch"):
        import torch

        t = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        torch.relu(t * 2.0).backward()
    if have("casadi"):
        import casadi

        s = casadi.SX.sym("s")
        casadi.Function("warm_up", [s], [casadi.gradient(casadi.fmax(s * s, 0), s)])(1.0)
    if have("jax"):
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.block_until_ready(jax.jit(jax.grad(lambda v: v * v))(1.0))


def end_to_end(prepare: Callable[[], Callable[[], Any]], calls: int) -> tuple[Any, dict]:
    """``prepare()`` (build the expression; make the Graph, the Function, the jitted
    function), then ``calls`` calls of the function it returns, all timed from the start:
    the first call's result, and ``{"prepare_s", "ends"}``, ``ends[k]`` the seconds from
    the start to the end of call k + 1.  Nothing is warmed up: call 1 is the first."""
    gc.collect()  # the last run's garbage is not this run's to collect
    start = time.perf_counter()
    call = prepare()
    prepared = time.perf_counter()
    result = call()
    ends = [time.perf_counter() - start]
    for _ in range(calls - 1):
        call()
        ends.append(time.perf_counter() - start)
    return result, {"prepare_s": prepared - start, "ends": ends}


def summarize(runs: list[dict]) -> dict:
    """The moons row of some runs of :func:`end_to_end`: medians over the runs of the
    first call and of 10 and 100 calls end to end, and the steady call, the median of
    every later call (2, 3, ...) of every run.  N calls beyond those measured are
    extrapolated: the measured ones plus the steady call for each further one
    (``measured_calls`` says how many were measured)."""
    later = [b - a for r in runs for a, b in itertools.pairwise(r["ends"])]
    steady = statistics.median(later) if later else statistics.median(
        r["ends"][0] - r["prepare_s"] for r in runs)
    row: dict[str, Any] = {
        "runs": len(runs), "measured_calls": min(len(r["ends"]) for r in runs),
        "prepare_s": statistics.median(r["prepare_s"] for r in runs), "step_s": steady,
    }
    for n in CALLS:
        row[calls_key(n)] = statistics.median(
            r["ends"][n - 1] if n <= len(r["ends"]) else
            r["ends"][-1] + (n - len(r["ends"])) * steady for r in runs)
    return row


def calls_key(n: int) -> str:
    return "first_call_s" if n == 1 else f"calls_{n}_s"


def moons_minigrad(points: list, labels: list, params: list[float], calls: int,
                   runs: int) -> tuple[dict, tuple[float, list[float]]]:
    """MiniGrad's row: ``runs`` times, build the expression and the Graph, then
    ``calls`` calls of value_and_grad with the parameters as inputs (as a training step
    gives them); the first makes the Graph's schedule.  Also the first call's parts,
    apart: build, Graph, the schedule (made on a fresh Graph of the same expression),
    and the first run after it.  Returns the row, and the loss and gradients."""
    parts: list[dict] = []
    last: dict[str, Any] = {}

    def prepare() -> Callable[[], Any]:
        start = time.perf_counter()
        leaves = [mg.Scalar(p) for p in params]
        loss = workloads.moons_loss(leaves, points, labels, mg.relu)
        built = time.perf_counter()
        graph = mg.Graph(loss)
        parts.append({"build_s": built - start, "graph_s": time.perf_counter() - built})
        last.update(leaves=leaves, loss=loss, graph=graph)
        inputs = dict(zip(leaves, params, strict=True))
        return lambda: mg.value_and_grad(graph, loss, inputs=inputs)

    measured = [end_to_end(prepare, calls) for _ in range(runs)]
    values, grads = measured[-1][0]  # the last run's first call: ``last``'s expression
    leaves, loss = last["leaves"], last["loss"]
    gradient = [grads[leaf] for leaf in leaves]
    row = summarize([run for _, run in measured])
    first = {key: statistics.median(p[key] for p in parts) for key in ("build_s", "graph_s")}
    last.clear()
    graph = mg.Graph(loss)  # a fresh Graph: no schedule kept yet
    row.update(nodes=len(graph), loss=values[loss], grad0=gradient[0], first_call_parts=first)
    if have("numpy"):  # else the reference interpreter runs the calls: no schedule
        from minigrad import engine

        inputs = dict(zip(leaves, params, strict=True))
        schedule, first["schedule_s"] = timed(lambda: engine.schedule_of(graph, 1))
        _, first["run_s"] = timed(lambda: mg.value_and_grad(graph, loss, inputs=inputs))
        row.update(schedule_steps=len(schedule.steps), depth=schedule.depth)
    return row, (values[loss], gradient)


def moons_ceiling(points: list, labels: list, params: list[float], calls: int) -> dict:
    """The pure-Python ceiling (``ceiling.py``): build, Graph, generate and compile the
    straight-line function, then ``calls`` calls."""
    from ceiling import compile_ceiling

    parts: dict[str, float] = {}

    def prepare() -> Callable[[], Any]:
        leaves = [mg.Scalar(p) for p in params]
        loss = workloads.moons_loss(leaves, points, labels, mg.relu)
        function, parts["compile_s"] = compile_ceiling(mg.Graph(loss), loss, leaves)
        return lambda: function(params)

    (value, grads), run = end_to_end(prepare, calls)
    return {"loss": value, "grad0": grads[0], "compile_s": parts["compile_s"],
            **summarize([run])}


def moons_casadi(points: list, labels: list, params: list[float], calls: int, runs: int,
                 reference: tuple[float, list[float]]) -> dict:
    """CasADi: the same loss built on ``SX.sym`` parameters (relu is ``fmax(v, 0)``),
    ``Function("f", [p], [loss, gradient(loss, p)])`` made from it, then ``calls`` calls
    ``f(params)``.  The first call is build + Function + one call.  Checked against
    MiniGrad's loss and every gradient to :data:`CASADI_TOLERANCE`."""
    import casadi

    parts: list[dict] = []
    made: list[Any] = []

    def prepare() -> Callable[[], Any]:
        start = time.perf_counter()
        p = casadi.SX.sym("p", len(params))
        loss = workloads.moons_loss([p[i] for i in range(len(params))], points, labels,
                                    lambda v: casadi.fmax(v, 0))
        built = time.perf_counter()
        function = casadi.Function("f", [p], [loss, casadi.gradient(loss, p)])
        parts.append({"build_s": built - start, "function_s": time.perf_counter() - built})
        made[:] = [function]
        arguments = casadi.DM(params)
        return lambda: function(arguments)

    measured = [end_to_end(prepare, calls) for _ in range(runs)]
    loss_dm, gradient_dm = measured[0][0]
    loss, gradient = float(loss_dm), gradient_dm.full().ravel().tolist()
    difference = max(abs(loss - reference[0]),
                     *(abs(a - b) for a, b in zip(gradient, reference[1], strict=True)))
    if not difference <= CASADI_TOLERANCE:
        raise AssertionError(f"CasADi's moons loss or gradients differ from MiniGrad's by "
                             f"{difference:.3g} (> {CASADI_TOLERANCE:g})")
    return {"loss": loss, "grad0": gradient[0], "max_abs_difference_vs_minigrad": difference,
            "instructions": made[0].n_instructions(),
            "first_call_parts": {key: statistics.median(p[key] for p in parts)
                                 for key in ("build_s", "function_s")},
            **summarize([run for _, run in measured])}


def moons_micrograd(points: list, labels: list, params: list[float], calls: int) -> dict:
    """micrograd: every call is a step, rebuild + backward (its graph cannot be rerun)."""
    from micrograd.engine import Value

    def step() -> tuple[float, float]:
        leaves = [Value(p) for p in params]
        loss = workloads.moons_loss(leaves, points, labels, lambda v: v.relu())
        loss.backward()
        return loss.data, leaves[0].grad

    (loss, grad0), run = end_to_end(lambda: step, calls)
    return {"loss": loss, "grad0": grad0, **summarize([run])}


def moons_torch(points: list, labels: list, params: list[float], calls: int) -> dict:
    """PyTorch eager, float64 scalars: every call a step, rebuild + backward."""
    import torch

    def step() -> tuple[float, float]:
        leaves = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
        loss = workloads.moons_loss(leaves, points, labels, torch.relu)
        loss.backward()
        return loss.item(), leaves[0].grad.item()

    (loss, grad0), run = end_to_end(lambda: step, calls)
    return {"loss": loss, "grad0": grad0, **summarize([run])}


def moons_jax(points: list, labels: list, params: list[float], calls: int) -> dict:
    """``jax.jit(jax.value_and_grad(loss))``: the first call traces and compiles."""
    import jax

    jax.config.update("jax_enable_x64", True)

    def loss_of(p: Any) -> Any:
        return workloads.moons_loss([p[i] for i in range(len(params))], points, labels,
                                    jax.nn.relu)

    def prepare() -> Callable[[], Any]:
        function = jax.jit(jax.value_and_grad(loss_of))
        array = jax.numpy.array(params, dtype=jax.numpy.float64)
        return lambda: jax.block_until_ready(function(array))

    (loss, grads), run = end_to_end(prepare, calls)
    return {"points": len(points), "loss": float(loss), "grad0": float(grads[0]),
            **summarize([run])}


# -- derivatives as graphs ------------------------------------------------------------------

def gradient_graph_moons(points: list, labels: list, params: list[float]) -> dict:
    """The cheap gradient principle: the gradient as a graph, against the loss's graph."""
    leaves = [mg.Scalar(p) for p in params]
    loss = workloads.moons_loss(leaves, points, labels, mg.relu)
    loss_graph = mg.Graph(loss)
    grads, gradient_seconds = timed(lambda: mg.gradient(loss, leaves))
    graph, graph_seconds = timed(lambda: mg.Graph(*grads))
    values = mg.evaluate(graph)
    expected = mg.backward(loss_graph, loss)
    worst = max(abs(values[g] - expected[leaf]) for g, leaf in zip(grads, leaves, strict=True))
    return {"loss_nodes": len(loss_graph), "gradient_nodes": len(graph),
            "parameters": len(leaves), "gradient_s": gradient_seconds,
            "graph_s": graph_seconds, "max_abs_difference_vs_backward": worst}


NTH_CASES = {
    "tanh(x)": (lambda x: x.tanh(), lambda s, x: s.tanh(x)),
    "sigmoid(x)": (lambda x: x.sigmoid(), lambda s, x: 1 / (1 + s.exp(-x))),
    "exp(sin(x))*x**2": (lambda x: x.sin().exp() * x**2, lambda s, x: s.exp(s.sin(x)) * x**2),
    "x**3/5 + sin(x)*log(x)": (lambda x: x**3 / 5 + x.sin() * x.log(),
                               lambda s, x: x**3 / 5 + s.sin(x) * s.log(x)),
}


def nth_derivatives(max_n: int) -> dict:
    """Operation counts and times of the n-th derivatives, beside SymPy's diff + cse."""
    results: dict[str, Any] = {}
    for name, (ours_of, sympy_of) in NTH_CASES.items():
        x = mg.Scalar(0.5, name="x")
        f = ours_of(x)
        rows = []
        for n in range(1, max_n + 1):  # diff(f, x, n): each from f, in one call
            ours, seconds = timed(lambda f=f, x=x, n=n: mg.diff(f, x, n))
            count = sum(isinstance(node, mg.Operation) for node in mg.Graph(ours).order)
            rows.append({"n": n, "ops": count, "seconds": seconds})
        results[name] = {"minigrad": rows}
        if have("sympy"):
            import sympy

            symbol = sympy.Symbol("x")
            expression = sympy_of(sympy, symbol)
            sympy_rows = []
            for n in range(1, max_n + 1):
                start = time.perf_counter()
                expression = sympy.diff(expression, symbol)
                replacements, reduced = sympy.cse(expression)
                seconds = time.perf_counter() - start
                count = (sum(sympy.count_ops(e) for _, e in replacements)
                         + sympy.count_ops(reduced[0]))
                sympy_rows.append({"n": n, "ops": int(count), "seconds": seconds})
            results[name]["sympy"] = sympy_rows
    return results


def mlp_loss(params: list[Any], tanh: Callable[[Any], Any]) -> Any:
    """A small MLP 2 -> 3 -> 1 (tanh) on 4 fixed points, squared error: 13 parameters."""
    data = [((0.5, -1.0), 1.0), ((-0.3, 0.8), -1.0), ((1.2, 0.1), 0.5), ((-1.0, -0.6), 0.0)]
    total: Any = 0.0
    for (x0, x1), target in data:
        hidden = [tanh(params[3 * k] * x0 + params[3 * k + 1] * x1 + params[3 * k + 2])
                  for k in range(3)]
        score = sum((params[9 + k] * h for k, h in enumerate(hidden)), params[12])
        total = total + (score - target) * (score - target)
    return total


def hessian_mlp() -> dict:
    """The Hessian of a small MLP's loss: MiniGrad's graph, PyTorch, JAX."""
    params = [0.1 * ((7 * i) % 11 - 5) for i in range(13)]
    leaves = [mg.Scalar(p) for p in params]
    loss = mlp_loss(leaves, mg.tanh)

    def minigrad_hessian() -> list[list[float]]:
        H = mg.hessian(loss, leaves)
        values = mg.evaluate(mg.Graph(*(h for row in H for h in row)))
        return [[values[h] for h in row] for row in H]

    matrix, build_and_evaluate = timed(minigrad_hessian)
    H = mg.hessian(loss, leaves)
    graph = mg.Graph(*(h for row in H for h in row))
    result: dict[str, Any] = {
        "parameters": len(params), "hessian_nodes": len(graph),
        "minigrad_build_and_evaluate_s": build_and_evaluate,
        "minigrad_evaluate_s": median_seconds(lambda: mg.evaluate(graph), 5),
    }
    if have("torch"):
        import torch

        start = torch.tensor(params, dtype=torch.float64)
        torch_matrix, torch_seconds = timed(
            lambda: torch.autograd.functional.hessian(lambda p: mlp_loss(list(p), torch.tanh),
                                                      start))
        result["torch_s"] = torch_seconds
        result["torch_max_abs_difference"] = max(
            abs(matrix[i][j] - float(torch_matrix[i][j])) for i in range(13) for j in range(13))
    if have("jax"):
        import jax

        jax.config.update("jax_enable_x64", True)
        function = jax.jit(jax.hessian(lambda p: mlp_loss([p[i] for i in range(13)],
                                                          jax.numpy.tanh)))
        array = jax.numpy.array(params, dtype=jax.numpy.float64)
        _, compile_seconds = timed(lambda: jax.block_until_ready(function(array)))
        result["jax_compile_s"] = compile_seconds
        result["jax_call_s"] = median_seconds(lambda: jax.block_until_ready(function(array)), 5)
    return result


# -- chain, wide, tower: one fresh process per measurement, for honest peak memory ----------

def one_shot(workload: str, library: str, n: int) -> dict:
    """Build + evaluate + differentiate once, in this process; seconds and peak memory.

    A tiny warm-up run first (PyTorch's first op costs a second of set-up).  Peak memory
    is the peak resident size minus the resident size just before the run.
    """
    with contextlib.suppress(RecursionError):
        _one_shot(workload, library, 10)
    baseline_kb = memory_kb("VmRSS")
    start = time.perf_counter()
    try:
        value, grad = _one_shot(workload, library, n)
    except RecursionError:
        return {"error": "RecursionError"}
    seconds = time.perf_counter() - start
    peak_kb = memory_kb("VmHWM")
    return {"seconds": seconds, "value": value, "grad": grad,
            "peak_bytes_per_op": (peak_kb - baseline_kb) * 1024 / n}


def chain_calls(n: int) -> dict:
    """The chain's calls, in this (fresh) process: build, Graph, the first value_and_grad
    -- which makes the Graph's schedule, and keeps it -- and later calls (median of 3).

    Peak memory is the peak resident size during the first call minus the resident size
    just before it (the peak is reset first where Linux allows).  ``kept`` is what stays
    allocated after a first call, its results dropped -- the schedule the Graph keeps --
    as tracemalloc counts it, on a fresh Graph of the same chain, untimed (the resident
    size would count memory freed to Python's allocator but not to the system).  A tiny
    chain runs first, so that the imports (numpy, the engine) are not counted.
    """
    _one_shot("chain", "minigrad", 10)
    x = mg.Scalar(1.0)
    y, build_seconds = timed(lambda: workloads.chain(x, n))
    graph, graph_seconds = timed(lambda: mg.Graph(y))
    gc.collect()
    reset_peak_memory()
    before_kb = memory_kb("VmRSS")
    result, first = timed(lambda: mg.value_and_grad(graph, y))
    peak_kb = memory_kb("VmHWM")
    value, grad = result[0][y], result[1][x]
    del result
    later = median_seconds(lambda: mg.value_and_grad(graph, y), 3)
    graph = mg.Graph(y)  # a fresh one (the timed Graph and its schedule dropped)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    mg.value_and_grad(graph, y)
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return {"build_s": build_seconds, "graph_s": graph_seconds, "first_call_s": first,
            "call_s": later, "value": value, "grad": grad,
            "peak_bytes_per_op": max(0, peak_kb - before_kb) * 1024 / n,
            "kept_bytes_per_op": kept / n}


def reset_peak_memory() -> None:
    """Reset VmHWM to the resident size now (Linux: write 5 to /proc/self/clear_refs);
    where that is not allowed, the peak stays the process's peak so far."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def memory_kb(field: str) -> int:
    """VmRSS (resident now) or VmHWM (peak resident) of this process, from /proc.

    Not ``resource.getrusage().ru_maxrss``: on Linux a child process inherits its
    parent's maxrss, so it would report the benchmark runner's peak instead of its own.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _one_shot(workload: str, library: str, n: int) -> tuple[float, float]:
    if library == "minigrad":
        x = mg.Scalar(1.0)
        leaves = [x]
        if workload == "wide":
            leaves = [mg.Scalar(1.0) for _ in range(n)]
            y = workloads.wide(leaves, [1.0 + i * 1e-6 for i in range(n)])
        elif workload == "tower":
            y = workloads.tower(x, n)
        else:
            y = workloads.chain(x, n)
        values, grads = mg.value_and_grad(mg.Graph(y), y)
        return values[y], grads[leaves[0]]
    if library == "micrograd":
        from micrograd.engine import Value as Leaf
    else:
        import torch

        def Leaf(v: float) -> Any:
            return torch.tensor(v, dtype=torch.float64, requires_grad=True)
    x = Leaf(1.0)
    leaves = [x]
    if workload == "wide":
        leaves = [Leaf(1.0) for _ in range(n)]
        y = workloads.wide(leaves, [1.0 + i * 1e-6 for i in range(n)])
    elif workload == "tower":
        y = workloads.tower(x, n)
    else:
        y = workloads.chain(x, n)
    y.backward()
    if library == "micrograd":
        return y.data, leaves[0].grad
    return y.item(), leaves[0].grad.item()


def in_subprocess(workload: str, library: str, n: int, timeout: float = 600) -> dict:
    arguments = (["--chain-calls", str(n)] if workload == "chain calls"
                 else ["--one-shot", workload, library, str(n)])
    command = [sys.executable, str(Path(__file__).resolve()), *arguments]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1][:120]}
    measured: dict = json.loads(result.stdout)
    return measured


# -- the report -----------------------------------------------------------------------------

def machine() -> dict:
    return {
        "date": datetime.date.today().isoformat(), "python": platform.python_version(),
        "platform": platform.platform(), "processor": platform.machine(),
        "cpus": os.cpu_count(),
    }


#: The parts of a run, for ``--only``: every one by default.
SECTIONS = ("moons", "batched", "scaling", "derivatives", "fit")


def run(smoke: bool, sections: Sequence[str] = SECTIONS) -> dict:
    results: dict[str, Any] = {"machine": machine(), "smoke": smoke,
                               "sections": list(sections), "notes": []}
    notes = results["notes"]
    n_points = 4 if smoke else 100
    points, labels = workloads.make_moons(n_points)
    params = workloads.initial_parameters()
    if "moons" in sections or "batched" in sections:
        print("warming up the libraries ...", flush=True)
        warm_up()
    if "moons" in sections:
        results["moons"] = run_moons(smoke, points, labels, params, notes)
    if "batched" in sections:
        if have("numpy"):
            results["batched"] = run_batched(smoke, points, labels, params,
                                             results.get("moons", {}))
        else:
            notes.append("numpy is not installed: the batched benchmarks are skipped")

    if "scaling" in sections:
        sizes = [10**3, 10**4] if smoke else [10**4, 10**5, 10**6]
        libraries = ["minigrad"] + [lib for lib in ("micrograd", "torch") if have(lib)]
        for workload, workload_sizes in [("chain", sizes), ("wide", sizes[-2:-1]),
                                         ("tower", [100])]:
            results[workload] = {}
            for library in libraries:
                for n in workload_sizes:
                    print(f"{workload}: {library} n={n:,} ...", flush=True)
                    results[workload][f"{library} {n}"] = in_subprocess(workload, library, n)
        results["chain_calls"] = {}
        for n in sizes:
            print(f"chain: MiniGrad's first and later calls, n={n:,} ...", flush=True)
            results["chain_calls"][str(n)] = in_subprocess("chain calls", "minigrad", n)

    if "derivatives" in sections:
        print("derivatives: gradient graph of moons, n-th derivatives, Hessian ...", flush=True)
        results["derivatives"] = {
            "moons_gradient": gradient_graph_moons(points, labels, params),
            "nth": nth_derivatives(3 if smoke else 8),
            "hessian_mlp": hessian_mlp(),
        }
    if "fit" in sections:
        if have("scipy") and have("numpy"):
            import fitting

            print("fit: a 3-parameter model to many points ...", flush=True)
            results["fit"] = fitting.run_fit(10**3 if smoke else 10**5, 3 if smoke else 15)
        else:
            notes.append("scipy is not installed: the fitting benchmark is skipped")
    return results


def run_moons(smoke: bool, points: list, labels: list, params: list[float],
              notes: list[str]) -> dict:
    """The moons rows: MiniGrad and CasADi (``runs`` times each), the ceiling, micrograd
    and PyTorch (whose every call is a rebuild: 10 calls measured, 100 extrapolated), JAX
    at 2 and 10 points (its trace and compile grow too fast for 100)."""
    runs = 1 if smoke else 3
    calls = CALLS[-1]
    rebuild_calls = 3 if smoke else 10
    moons: dict[str, Any] = {"points": len(points)}
    print(f"moons: {len(points)} points, MiniGrad ...", flush=True)
    moons["minigrad"], reference = moons_minigrad(points, labels, params, calls, runs)
    print("moons: the pure-Python ceiling ...", flush=True)
    moons["ceiling"] = moons_ceiling(points, labels, params, calls)
    if have("casadi"):
        print("moons: casadi ...", flush=True)
        moons["casadi"] = moons_casadi(points, labels, params, calls, runs, reference)
    else:
        notes.append("casadi is not installed: skipped (pip install casadi)")
    peers = [("micrograd", "micrograd", moons_micrograd), ("torch", "torch", moons_torch)]
    for name, module, bench in peers:
        if have(module):
            print(f"moons: {name} ...", flush=True)
            moons[name] = bench(points, labels, params, rebuild_calls)
        else:
            notes.append(f"{name} is not installed: skipped")
    if have("jax"):
        jax_points = [1] if smoke else [2, 10]
        for n in jax_points:
            print(f"moons: jax at {n} points (trace + compile) ...", flush=True)
            small_points, small_labels = workloads.make_moons(n)
            moons[f"jax_{n}_points"] = moons_jax(small_points, small_labels, params, calls)
    else:
        notes.append("jax is not installed: skipped")
    return moons


def run_batched(smoke: bool, points: list, labels: list, params: list[float],
                moons: dict) -> dict:
    """The batched benchmarks (``batched.py``): f and its derivatives at 10^6 points, and
    the moons step with a per-example graph; smoke sizes are 10^4 points and a 2-4-4-1
    MLP (so that JAX compiles in a second)."""
    import batched

    n = 10**4 if smoke else 10**6
    print(f"batched: f, df/dx, df/dw at {n:,} points ...", flush=True)
    curve = batched.curve_points(n, repeats=3 if smoke else 10,
                                 sample_size=200 if smoke else 2000, chunk=n // 10,
                                 with_jax=have("jax"))
    sizes = (2, 4, 4, 1) if smoke else workloads.MOONS_SIZES
    if smoke:
        params = workloads.initial_parameters(sizes=sizes)
    steps = 5 if smoke else 50
    reference = batched.whole_batch_step(points, labels, params, sizes)
    if not smoke:  # the reference is the step measured above: the same numbers
        for peer in ("minigrad", "micrograd"):
            if peer in moons:
                batched.check(f"whole-batch step vs {peer}'s",
                              max(abs(reference[0] - moons[peer]["loss"]),
                                  abs(reference[1][0] - moons[peer]["grad0"])))
    print(f"batched: moons, one example's graph over {len(points)} points ...", flush=True)
    per_example: dict[str, Any] = {"points": len(points), "sizes": list(sizes)}
    per_example["minigrad"] = batched.moons_batched_minigrad(points, labels, params, sizes,
                                                             steps, reference)
    for library, bench in [("torch", batched.moons_batched_torch),
                           ("jax", batched.moons_batched_jax)]:
        if have(library):
            for form in ("expression", "matrix"):
                print(f"batched: moons, {library} ({form}) ...", flush=True)
                per_example[f"{library}_{form}"] = bench(points, labels, params, sizes,
                                                         steps, reference, form)
    return {"curve": curve, "moons": per_example}


def ratio(a: float | None, b: float | None) -> str:
    """``a / b`` as ``12.3x`` (two significant digits below 1: ``0.036x``)."""
    if not a or not b:
        return "-"
    return f"{a / b:,.1f}x" if a / b >= 1 else f"{a / b:.2g}x"


#: The moons rows, in the report's order: key in results["moons"], label.
MOONS_ROWS = [
    ("minigrad", "MiniGrad (value_and_grad)"),
    ("ceiling", "pure-Python ceiling"),
    ("casadi", "CasADi SX Function"),
    ("micrograd", "micrograd (rebuild+backward)"),
    ("torch", "PyTorch eager (rebuild+backward)"),
]


def moons_rows(m: dict) -> list[tuple[str, str, dict]]:
    """(key, label, row) of every library measured on moons, JAX last."""
    rows = [(key, label, m[key]) for key, label in MOONS_ROWS if key in m]
    rows += [(key, f"JAX jit, {m[key]['points']} point{'s' * (m[key]['points'] != 1)} only",
              m[key])
             for key in sorted((k for k in m if k.startswith("jax_")),
                               key=lambda k: m[k]["points"])]
    return rows


def moons_report(m: dict) -> list[str]:
    ours = m["minigrad"]
    lines = [f"moons: {m['points']} points, one graph of {ours['nodes']:,} nodes, loss "
             f"{ours['loss']:.12g}; seconds, each from the start (build the expression, "
             "then Graph / Function / jit, then the calls)",
             f"  {'':<34}{'first call':>11}{'10 calls':>11}{'100 calls':>11}"
             f"{'steady call':>13}  {'steady vs MiniGrad':>18}"]
    extrapolated = False
    for _, label, r in moons_rows(m):
        cells = []
        for n in CALLS:
            mark = "*" if n > r["measured_calls"] else " "
            extrapolated = extrapolated or mark == "*"
            cells.append(f"{r[calls_key(n)]:>10.4f}{mark}")
        lines.append(f"  {label:<34}{''.join(cells)}{r['step_s']:>13.5f}  "
                     f"{ratio(r['step_s'], ours['step_s']):>18}")
    lines.append("  steady call: the median of every call after the first"
                 + (f" (MiniGrad, CasADi: {ours['runs']} runs, medians)" if ours["runs"] > 1
                    else ""))
    if extrapolated:
        lines.append("  * extrapolated: the calls measured, plus the steady call for each "
                     "further one (micrograd and PyTorch rebuild every call)")
    parts = ours["first_call_parts"]
    lines.append("  MiniGrad's first call: build " + " + ".join(
        f"{label} {parts[key]:.3f} s" for key, label in
        [("build_s", "the expression"), ("graph_s", "Graph"), ("schedule_s", "schedule"),
         ("run_s", "the first run")] if key in parts)
                 + (f"  (the schedule: {ours['schedule_steps']:,} steps, depth "
                    f"{ours['depth']:,}; parts timed apart)" if "schedule_steps" in ours
                    else ""))
    if "casadi" in m:
        c = m["casadi"]
        lines.append(f"  CasADi's first call: build the SX expression "
                     f"{c['first_call_parts']['build_s']:.3f} s + Function (with its "
                     f"gradient) {c['first_call_parts']['function_s']:.3f} s + one call; "
                     f"{c['instructions']:,} instructions; largest difference from "
                     f"MiniGrad (loss, every gradient) {c['max_abs_difference_vs_minigrad']:.1e}")
    lines.append(f"  ceiling: generating and compiling its function takes "
                 f"{m['ceiling']['compile_s']:.3f} s of its first call")
    lines.append("  loss | grad0: " + ";  ".join(
        f"{key} {r['loss']:.15g} | {r['grad0']:.15g}" for key, _, r in moons_rows(m)
        if not key.startswith("jax_")))
    lines.append("")
    if "micrograd" in m:
        micro = m["micrograd"]
        lines += [
            f"  micrograd step / MiniGrad steady call:       "
            f"{ratio(micro['step_s'], ours['step_s'])}   (target >= 30x, aim 60x)",
            f"  MiniGrad first call / micrograd step:        "
            f"{ours['first_call_s'] / micro['step_s']:.2f}x   (target <= 3x, aim 1x)",
            f"  micrograd 100 steps / MiniGrad 100 calls:    "
            f"{ratio(micro['calls_100_s'], ours['calls_100_s'])}"
            + ("   (micrograd's extrapolated)" if micro["measured_calls"] < 100 else ""),
        ]
    if "casadi" in m:
        c = m["casadi"]
        lines += [
            f"  MiniGrad steady call / CasADi steady call:   "
            f"{ratio(ours['step_s'], c['step_s'])}",
            f"  MiniGrad 100 calls / CasADi 100 calls:       "
            f"{ratio(ours['calls_100_s'], c['calls_100_s'])}",
        ]
        if "micrograd" in m:
            lines.append(f"  CasADi first call / micrograd step:          "
                         f"{c['first_call_s'] / m['micrograd']['step_s']:.2f}x")
    lines += [f"  MiniGrad steady call / ceiling steady call:  "
              f"{ratio(ours['step_s'], m['ceiling']['step_s'])}   (aim <= 1.5x)", ""]
    return lines


def report(results: dict) -> str:
    machine_ = results["machine"]
    lines = [f"MiniGrad benchmarks  ({machine_['date']}, Python {machine_['python']}, "
             f"{machine_['platform']}, {machine_['cpus']} CPUs"
             f"{', SMOKE sizes' if results['smoke'] else ''}"
             + (f", only {', '.join(results['sections'])}"
                if tuple(results.get("sections", SECTIONS)) != SECTIONS else "") + ")", ""]
    m = results.get("moons", {})
    if m:
        lines += moons_report(m)
    if "batched" in results:
        lines += batched_report(results["batched"], m)
    for workload in ("chain", "wide", "tower"):
        if workload not in results:
            continue
        lines.append(f"{workload}: build + evaluate + differentiate once (fresh process each)")
        for key, r in results[workload].items():
            library, n = key.split()
            if "error" in r:
                lines.append(f"  {library:<10} n={int(n):>9,}  {r['error']}")
                continue
            per_node = r["seconds"] / int(n) * 1e6
            lines.append(f"  {library:<10} n={int(n):>9,}  {r['seconds']:9.3f} s  "
                         f"{per_node:7.2f} us/op  peak {r['peak_bytes_per_op']:8.0f} B/op")
        lines.append("")
    if results.get("chain_calls"):
        lines.append("chain, MiniGrad: build, Graph, the first value_and_grad (which levels "
                     "the graph and keeps its schedule) and later calls (fresh process each)")
    for n, r in results.get("chain_calls", {}).items():
        if "error" in r:
            lines.append(f"  n={int(n):>9,}  {r['error']}")
            continue
        lines.append(
            f"  n={int(n):>9,}  build {r['build_s']:7.3f} s  Graph {r['graph_s']:7.3f} s  "
            f"first call {r['first_call_s']:7.3f} s (= {r['first_call_s'] / r['call_s']:.1f} "
            f"later calls; peak +{r['peak_bytes_per_op']:.0f} B/op, schedule kept "
            f"{r['kept_bytes_per_op']:.0f} B/op)  later call {r['call_s']:7.4f} s")
    if results.get("chain_calls"):
        lines.append("")
    if "derivatives" in results:
        lines += derivatives_report(results["derivatives"], m)
    if "fit" in results:
        import fitting

        lines += [*fitting.report(results["fit"]), ""]
    if "micrograd" in m and not results["smoke"]:
        micro_per_node = m["micrograd"]["step_s"] / m["minigrad"]["nodes"] * 1e6
        lines.append(f"micrograd on moons: {micro_per_node:.2f} us per node "
                     "(chain target: MiniGrad at most this per op, aim a third)")
    lines += [f"note: {note}" for note in results["notes"]]
    return "\n".join(lines)


def same_moons(per_example: dict, moons: dict) -> bool:
    """Is micrograd's whole step (the moons rows) the same step as the per-example one?
    At smoke sizes it is not: the per-example MLP is smaller."""
    return ("micrograd" in moons and per_example["points"] == moons["points"]
            and tuple(per_example["sizes"]) == workloads.MOONS_SIZES)


def batched_report(b: dict, moons: dict) -> list[str]:
    """The batched rows: f at 10^6 points against numpy by hand and JAX; the moons step
    with a per-example graph against micrograd's step, PyTorch and JAX."""
    c, lines = b["curve"], []
    ours, hand = c["minigrad"], c["by_hand"]
    lines += [f"f = sin(x)*x**2*sigmoid(x) + tanh(x*w): f, df/dx, df/dw at {c['points']:,} "
              f"points (value_and_grad of a {ours['nodes']}-node graph, x an array)",
              f"  {'':<46}{'seconds':>12}  vs numpy by hand"]

    def row(label: str, seconds: float, versus: float) -> None:
        lines.append(f"  {label:<46}{seconds:>12.4f}  {ratio(seconds, versus):>10}")

    row("MiniGrad value_and_grad: first call", ours["first_call_s"], hand["call_s"])
    row("MiniGrad value_and_grad: later calls", ours["call_s"], hand["call_s"])
    row("numpy by hand (the ceiling)", hand["call_s"], hand["call_s"])
    if "jax" in c:
        row("JAX jit(vmap(value_and_grad)): first call", c["jax"]["first_call_s"],
            hand["call_s"])
        row("JAX jit(vmap(value_and_grad)): later calls", c["jax"]["call_s"], hand["call_s"])
    s = c["scalar_path"]
    row("MiniGrad float path (extrapolated)", s["extrapolated_s"], hand["call_s"])
    lines += ["",
              f"  MiniGrad / numpy by hand:  {ratio(ours['call_s'], hand['call_s'])} later, "
              f"{ratio(ours['first_call_s'], hand['call_s'])} first call   (target <= 2x)"]
    if "jax" in c:
        lines.append(f"  MiniGrad / JAX call:       {ratio(ours['call_s'], c['jax']['call_s'])}"
                     "   (aim <= 1x); first calls: "
                     f"{ratio(ours['first_call_s'], c['jax']['first_call_s'])}")
    lines.append(f"  float path: value_and_grad point by point, every call from the "
                 f"graph's first, {s['per_point_s'] * 1e6:.1f} us a point, measured on "
                 f"{s['points']:,} points and extrapolated to {c['points']:,}; "
                 f"{s['extrapolated_s'] / ours['call_s']:,.0f}x the batch")
    lines.append("  largest differences: MiniGrad vs by hand "
                 f"{ours['max_abs_difference_vs_by_hand']:.1e}"
                 + (f", JAX vs by hand {c['jax']['max_abs_difference_vs_by_hand']:.1e}"
                    if "jax" in c else "")
                 + f", float path vs batch {s['max_abs_difference_vs_batch']:.1e}")
    mem = c["memory"]
    memory_rows = [("one call, the first", "first_call"), ("one call, the next", "later_call"),
                   (f"chunks of {mem['chunk']:,} points into 3 arrays", "in_chunks"),
                   (f"dask, blocks of {mem['chunk']:,} points", "dask")]
    lines += ["", f"  peak memory (tracemalloc), {mem['points']:,} points x {mem['nodes']} nodes:"]
    for label, key in memory_rows:
        if key in mem:
            lines.append(f"    {label:<44}{mem[key]['peak_bytes_per_point']:>8.0f} B/point"
                         f"  {mem[key]['peak_bytes_per_point_node']:>6.1f} B/(point x node)")
    if "dask_error" in mem:
        lines.append(f"    dask: not measured ({mem['dask_error']})")
    lines += ["    (beyond 2**14 points a call runs 2**14 points at a time, fewer for a big "
              "graph, keeping the outputs' values",
              "     and the leaves' gradients (a batched leaf's values are its input): "
              "here f, df/dx and df/dw, 24 B a point;",
              "     up to 2**14 points it keeps every row's value and gradient, 16 B a point "
              "a row)", ""]

    e = b["moons"]
    ours = e["minigrad"]
    same_step = same_moons(e, moons)
    lines += [f"moons, one example's loss as a graph ({ours['nodes']:,} nodes; x0, x1, y and "
              f"{ours['parameters']} parameters are leaves), batched over {e['points']} points:"
              f" training steps, every one from the first ({ours['steps']} each)",
              f"  {'':<52}{'seconds':>12}  vs MiniGrad later step"]

    def step_row(label: str, seconds: float) -> None:
        lines.append(f"  {label:<52}{seconds:>12.5f}  {ratio(seconds, ours['step_s']):>10}")

    step_row("MiniGrad: build + Graph + first step", ours["one_time_s"])
    step_row("MiniGrad: first step", ours["first_step_s"])
    step_row("MiniGrad: later steps (median of 2..N)", ours["step_s"])
    step_row("MiniGrad: slowest later step", ours["slowest_later_step_s"])
    if same_step:
        step_row("micrograd whole step (from the moons rows)", moons["micrograd"]["step_s"])
    for library, name in [("torch", "PyTorch"), ("jax", "JAX jit(vmap)")]:
        for form, label in [("expression", "same expression"), ("matrix", "W @ x")]:
            if f"{library}_{form}" in e:
                j = e[f"{library}_{form}"]
                first = "first step (trace+compile)" if library == "jax" else "first step"
                step_row(f"{name}, {label}: {first}", j["first_step_s"])
                step_row(f"{name}, {label}: later steps", j["step_s"])
                if "call_s" in j:
                    step_row(f"{name}, {label}: call alone", j["call_s"])
    lines.append("")
    if same_step:
        micro = moons["micrograd"]["step_s"]
        all_ours = ours["build_s"] + ours["graph_s"] + ours["all_steps_s"]
        lines += [f"  micrograd step / MiniGrad later step:        "
                  f"{ratio(micro, ours['step_s'])}   (target >= 400x, aim 1,000x)",
                  f"  micrograd step / MiniGrad first step:        "
                  f"{ratio(micro, ours['first_step_s'])}",
                  f"  MiniGrad build+Graph+first step / micrograd step: "
                  f"{ours['one_time_s'] / micro:.3f}x",
                  f"  micrograd {ours['steps']} steps / MiniGrad's {ours['steps']} "
                  f"(+ build + Graph): {ratio(micro * ours['steps'], all_ours)}"]
    if "jax_expression" in e:
        j = e["jax_expression"]
        lines.append(f"  JAX call / MiniGrad later step:              "
                     f"{ratio(j['call_s'], ours['step_s'])}   (aim > 1x); first steps: JAX "
                     f"{j['first_step_s']:.2f} s, MiniGrad {ours['first_step_s']:.4f} s")
    differences = ", ".join(
        f"{key.replace('_', ' ')} {r['max_abs_difference_vs_whole_batch']:.1e}"
        for key, r in e.items() if isinstance(r, dict) and "loss" in r)
    lines += [f"  largest difference from the whole-batch step (loss, every gradient): "
              f"{differences}", ""]
    return lines


def derivatives_report(d: dict, moons: dict) -> list[str]:
    g = d["moons_gradient"]
    lines = [
        f"gradient as a graph, moons ({g['parameters']} parameters): "
        f"Graph(*gradient(loss, params)) has {g['gradient_nodes']:,} nodes = "
        f"{g['gradient_nodes'] / g['loss_nodes']:.2f}x the loss's {g['loss_nodes']:,} "
        "(target <= 4x, aim 2.5x)",
        f"  gradient() {g['gradient_s']:.2f} s + Graph() {g['graph_s']:.2f} s = "
        f"{g['gradient_s'] + g['graph_s']:.2f} s"
        + (f" = {(g['gradient_s'] + g['graph_s']) / moons['micrograd']['step_s']:.2f} "
           "micrograd steps (target < 1, aim 1/3)" if "micrograd" in moons else "")
        + f"; largest difference from backward(): {g['max_abs_difference_vs_backward']:.1e}",
        "",
        "n-th derivatives: operations (MiniGrad diff(f, x, n) | SymPy diff n times + cse) and "
        "seconds",
    ]
    for name, rows in d["nth"].items():
        ours = rows["minigrad"]
        theirs = rows.get("sympy", [])
        counts = "  ".join(
            f"{r['ops']}" + (f"|{s['ops']}" if s else "")
            for r, s in zip(ours, theirs or [None] * len(ours), strict=True))
        lines.append(f"  {name:<24} n=1..{len(ours)}: {counts}")
        if theirs:
            total_theirs = sum(s["seconds"] for s in theirs)
            lines.append(f"  {'':<24} n={len(ours)}: {ours[-1]['ops'] / theirs[-1]['ops']:.2f}x "
                         f"SymPy's ops (target <= 10x, aim 2x); diff(f, x, {len(ours)}) "
                         f"{ours[-1]['seconds']:.3f} s vs SymPy's {len(theirs)} diffs "
                         f"{total_theirs:.3f} s")
    h = d["hessian_mlp"]
    lines += [
        "",
        f"Hessian of a small MLP ({h['parameters']} parameters, {h['hessian_nodes']:,} nodes):",
        f"  MiniGrad hessian() + Graph + evaluate once: {h['minigrad_build_and_evaluate_s']:.3f} s;"
        f" evaluate again: {h['minigrad_evaluate_s']:.4f} s",
    ]
    if "torch_s" in h:
        lines.append(f"  torch.autograd.functional.hessian: {h['torch_s']:.3f} s "
                     f"(largest difference {h['torch_max_abs_difference']:.1e})")
    if "jax_compile_s" in h:
        lines.append(f"  jax.jit(jax.hessian): compile {h['jax_compile_s']:.3f} s, "
                     f"call {h['jax_call_s']:.5f} s")
    lines.append("")
    return lines


def plot(results: dict, path: Path) -> None:
    """The figure: the moons rows (first call, 100 calls, steady call), the chain's time
    and memory, and the batched rows, as far as the results have them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mosaic = []
    if results.get("moons"):
        mosaic.append(["moons", "moons"])
    if results.get("chain"):
        mosaic.append(["chain_time", "chain_memory"])
    if results.get("batched"):
        mosaic.append(["curve", "per_example"])
    if not mosaic:
        return
    figure, axes = plt.subplot_mosaic(mosaic, figsize=(11, 4 * len(mosaic)))
    moons = results.get("moons", {})
    if "moons" in axes:
        plot_moons(moons, axes["moons"])
    if "chain_time" in axes:
        plot_chain(results["chain"], moons, axes["chain_time"], axes["chain_memory"])
    if "curve" in axes:
        plot_batched(results["batched"], moons, axes["curve"], axes["per_example"])
    figure.suptitle(f"MiniGrad vs peers ({results['machine']['date']}"
                    f"{', SMOKE sizes' if results['smoke'] else ''})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_moons(m: dict, axes: Any) -> None:
    """Grouped bars, seconds on a log scale: each library's first call, 100 calls end to
    end and steady call on the moons graph."""
    rows = moons_rows(m)
    kinds = [("first_call_s", "first call (build + ... + 1 call)"),
             ("calls_100_s", "100 calls end to end"), ("step_s", "steady call")]
    width = 0.8 / len(kinds)
    for k, (key, label) in enumerate(kinds):
        places = [i + (k - (len(kinds) - 1) / 2) * width for i in range(len(rows))]
        seconds = [r[key] for _, _, r in rows]
        axes.bar(places, seconds, width, label=label)
        for place, value, (_, _, r) in zip(places, seconds, rows, strict=True):
            mark = "*" if key == "calls_100_s" and r["measured_calls"] < 100 else ""
            axes.annotate(f"{seconds_text(value)}{mark}", (place, value), ha="center",
                          va="bottom", fontsize=7)
    axes.set_xticks(range(len(rows)), [label.replace(" (", "\n(").replace(", ", "\n")
                                       for _, label, _ in rows], fontsize=8)
    axes.set_yscale("log")
    axes.set(title=f"moons, one graph of {m['minigrad']['nodes']:,} nodes "
                   f"({m['points']} points; JAX on fewer); * extrapolated",
             ylabel="seconds (log scale)")
    axes.grid(True, axis="y", which="both", alpha=0.3)
    axes.legend(fontsize=8)


def plot_chain(chain: dict, moons: dict, left: Any, right: Any) -> None:
    """The chain's one-shot time and peak memory per op against its length."""
    for library, style in [("minigrad", "o-"), ("torch", "s--"), ("micrograd", "x:")]:
        rows = sorted((int(k.split()[1]), r) for k, r in chain.items()
                      if k.split()[0] == library and "error" not in r)
        if not rows:
            continue
        sizes = [n for n, _ in rows]
        left.loglog(sizes, [r["seconds"] for _, r in rows], style, label=library)
        right.semilogx(sizes, [r["peak_bytes_per_op"] for _, r in rows], style, label=library)
    if "micrograd" in moons:  # the chain target: micrograd's time per node on moons
        per_node = moons["micrograd"]["step_s"] / moons["minigrad"]["nodes"]
        sizes = sorted(int(k.split()[1]) for k in chain)
        left.loglog(sizes, [n * per_node for n in sizes], "k:", linewidth=1,
                    label="micrograd's time per node (moons) x ops")
    left.set(title="chain: build + evaluate + backward, once",
             xlabel="ops (micrograd: RecursionError beyond ~1,000)", ylabel="seconds")
    right.set(title="chain: peak memory", xlabel="ops", ylabel="bytes per op")
    right.set_ylim(bottom=0)
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()


def plot_batched(b: dict, moons: dict, curve_axes: Any, moons_axes: Any) -> None:
    """Two bar panels, seconds on a log scale: f at 10^6 points, and a moons step."""
    c, e = b["curve"], b["moons"]
    bars = [("MiniGrad\nfirst call", c["minigrad"]["first_call_s"]),
            ("MiniGrad\nlater call", c["minigrad"]["call_s"]),
            ("numpy\nby hand", c["by_hand"]["call_s"])]
    if "jax" in c:
        bars += [("JAX\nfirst call", c["jax"]["first_call_s"]),
                 ("JAX\nlater call", c["jax"]["call_s"])]
    bars.append(("MiniGrad\nfloat path\n(extrapolated)", c["scalar_path"]["extrapolated_s"]))
    bar_panel(curve_axes, bars, f"f, df/dx, df/dw at {c['points']:,} points: one call")
    bars = [("MiniGrad\nfirst step", e["minigrad"]["first_step_s"]),
            ("MiniGrad\nlater step", e["minigrad"]["step_s"])]
    if same_moons(e, moons):
        bars.append(("micrograd\nwhole step", moons["micrograd"]["step_s"]))
    for key, label in [("torch_expression", "PyTorch"), ("torch_matrix", "PyTorch\nW @ x"),
                       ("jax_expression", "JAX"), ("jax_matrix", "JAX\nW @ x")]:
        if key in e:
            bars.append((f"{label}\nlater step", e[key]["step_s"]))
    if "jax_expression" in e:
        bars.append(("JAX\nfirst step", e["jax_expression"]["first_step_s"]))
    bar_panel(moons_axes, bars, f"moons, per-example graph over {e['points']} points: "
              "one step")


def bar_panel(axes: Any, bars: list[tuple[str, float]], title: str) -> None:
    labels, seconds = zip(*bars, strict=True)
    colors = ["tab:blue" if label.startswith("MiniGrad") else "tab:gray" for label in labels]
    axes.bar(range(len(bars)), seconds, color=colors)
    axes.set_xticks(range(len(bars)), labels, fontsize=8)
    axes.set_yscale("log")
    axes.set(title=title, ylabel="seconds (log scale)")
    axes.grid(True, axis="y", which="both", alpha=0.3)
    for i, value in enumerate(seconds):
        axes.annotate(seconds_text(value), (i, value), ha="center", va="bottom", fontsize=8)


def seconds_text(seconds: float) -> str:
    """A bar's label: two significant digits, without exponents from 10 s on."""
    return f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.2g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                        help=f"run only these parts ({', '.join(SECTIONS)}; default: all)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--plot", metavar="FILE", help="write the scaling plot (PNG)")
    parser.add_argument("--from-json", metavar="FILE",
                        help="report (and plot) saved results instead of running")
    parser.add_argument("--one-shot", nargs=3, metavar=("WORKLOAD", "LIBRARY", "N"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--chain-calls", type=int, metavar="N", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.chain_calls:
        print(json.dumps(chain_calls(arguments.chain_calls)))
        return 0
    if arguments.one_shot:
        workload, library, n = arguments.one_shot
        print(json.dumps(one_shot(workload, library, int(n))))
        return 0
    saved = {HERE / "results.json", HERE / "scaling.png"}  # the figures in the README
    if (arguments.smoke or arguments.only) and any(
            Path(f).resolve() in saved for f in (arguments.json, arguments.plot) if f):
        parser.error("--smoke or --only would overwrite the saved full-run results; "
                     "write elsewhere")
    if arguments.from_json:
        results = json.loads(Path(arguments.from_json).read_text())
        if "compile_call" in results or "interpreted_step_s" in results.get(
                "moons", {}).get("minigrad", {}):
            parser.error(f"{arguments.from_json} was written by the benchmarks of the old "
                         "execution paths (interpreter, generated code); rerun them")
    else:
        results = run(arguments.smoke, tuple(arguments.only or SECTIONS))
    print()
    print(report(results))
    if arguments.json and not arguments.from_json:
        Path(arguments.json).write_text(json.dumps(results, indent=2) + "\n")
    if arguments.plot:
        plot(results, Path(arguments.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())

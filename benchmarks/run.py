"""MiniGrad's benchmarks against micrograd, PyTorch, JAX and the pure-Python ceiling.

    python benchmarks/run.py                  # the full run (several minutes)
    python benchmarks/run.py --smoke          # tiny sizes: checks that everything runs
    python benchmarks/run.py --json out.json --plot benchmarks/scaling.png
    python benchmarks/run.py --from-json benchmarks/results.json   # report saved results

Peers that are not installed are skipped with a note (``pip install -e ".[bench]"``
installs them all).  Every figure comes from this one run on this one machine, and the
ratios between them are what to read: these machines are noisy, absolute seconds are not
comparable across runs.  Workloads are in ``workloads.py``, the batched rows (one graph
over arrays of points) in ``batched.py``; timings are medians.  ``--smoke`` never writes
over the saved full-run ``results.json`` and ``scaling.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import workloads  # noqa: E402
from timing import have, median_seconds, timed  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import fastpath  # noqa: E402

# -- moons -------------------------------------------------------------------------------

def moons_minigrad(points: list, labels: list, params: list[float], steps: int) -> dict:
    leaves, build = timed(lambda: [mg.Scalar(p) for p in params])
    loss, build_loss = timed(lambda: workloads.moons_loss(leaves, points, labels, mg.relu))
    graph, graph_seconds = timed(lambda: mg.Graph(loss))
    inputs = dict(zip(leaves, params, strict=True))
    grads, first_call = timed(lambda: mg.backward(graph, loss, inputs=inputs))
    interpreted = [timed(lambda: mg.backward(graph, loss, inputs=inputs))[1]
                   for _ in range(fastpath.INTERPRETED_CALLS - 1)]
    _, compile_call = timed(lambda: mg.backward(graph, loss, inputs=inputs))  # compiles
    step = median_seconds(lambda: mg.backward(graph, loss, inputs=inputs), steps)
    values = mg.evaluate(graph, inputs=inputs)
    return {
        "nodes": len(graph), "loss": values[loss], "grad0": grads[leaves[0]],
        "build_s": build + build_loss, "graph_s": graph_seconds, "first_call_s": first_call,
        "one_time_s": build + build_loss + graph_seconds + first_call,
        "interpreted_step_s": statistics.median(interpreted) if interpreted else first_call,
        "compile_call_s": compile_call, "step_s": step,
    }


def moons_micrograd(points: list, labels: list, params: list[float], steps: int) -> dict:
    from micrograd.engine import Value

    def step() -> tuple[float, float]:
        leaves = [Value(p) for p in params]
        loss = workloads.moons_loss(leaves, points, labels, lambda v: v.relu())
        loss.backward()
        return loss.data, leaves[0].grad

    (loss, grad0), _ = timed(step)
    return {"loss": loss, "grad0": grad0, "step_s": median_seconds(step, steps)}


def moons_torch(points: list, labels: list, params: list[float], steps: int) -> dict:
    import torch

    def step() -> tuple[float, float]:
        leaves = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
        loss = workloads.moons_loss(leaves, points, labels, torch.relu)
        loss.backward()
        return loss.item(), leaves[0].grad.item()

    (loss, grad0), _ = timed(step)
    return {"loss": loss, "grad0": grad0, "step_s": median_seconds(step, steps)}


def moons_jax(points: list, labels: list, params: list[float], steps: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)

    def loss_of(p: Any) -> Any:
        return workloads.moons_loss([p[i] for i in range(len(params))], points, labels,
                                    jax.nn.relu)

    function = jax.jit(jax.value_and_grad(loss_of))
    array = jax.numpy.array(params, dtype=jax.numpy.float64)
    (loss, grads), compile_seconds = timed(lambda: jax.block_until_ready(function(array)))
    step = median_seconds(lambda: jax.block_until_ready(function(array)), steps)
    return {"points": len(points), "loss": float(loss), "grad0": float(grads[0]),
            "trace_compile_s": compile_seconds, "step_s": step}


def moons_ceiling(points: list, labels: list, params: list[float], steps: int) -> dict:
    from ceiling import compile_ceiling

    leaves = [mg.Scalar(p) for p in params]
    loss = workloads.moons_loss(leaves, points, labels, mg.relu)
    graph = mg.Graph(loss)
    function, compile_seconds = compile_ceiling(graph, loss, leaves)
    (value, grads), _ = timed(lambda: function(params))
    return {"loss": value, "grad0": grads[0], "compile_s": compile_seconds,
            "step_s": median_seconds(lambda: function(params), steps)}


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
        ours = ours_of(x)
        rows = []
        for n in range(1, max_n + 1):
            ours, seconds = timed(lambda ours=ours, x=x: mg.diff(ours, x))
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


def compile_call(n: int) -> dict:
    """The chain's call that compiles (its 11th): seconds and peak memory of that call.

    Run in a fresh process.  Peak memory is the peak resident size during the call minus
    the resident size just before it, so it counts what compiling adds (the code kept,
    plus whatever is made and dropped on the way); ``kept`` is what stays after it.
    """
    x = mg.Scalar(1.0)
    y = workloads.chain(x, n)
    graph = mg.Graph(y)
    interpreted = median_seconds(lambda: mg.value_and_grad(graph, y),
                                 fastpath.INTERPRETED_CALLS)
    before_kb = memory_kb("VmRSS")
    _, seconds = timed(lambda: mg.value_and_grad(graph, y))
    peak_kb, after_kb = memory_kb("VmHWM"), memory_kb("VmRSS")
    compiled = median_seconds(lambda: mg.value_and_grad(graph, y), 3)
    return {"seconds": seconds, "interpreted_call_s": interpreted, "compiled_call_s": compiled,
            "peak_bytes_per_op": max(0, peak_kb - before_kb) * 1024 / n,
            "kept_bytes_per_op": max(0, after_kb - before_kb) * 1024 / n}


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
    arguments = (["--compile-call", str(n)] if workload == "compile call"
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


def run(smoke: bool) -> dict:
    results: dict[str, Any] = {"machine": machine(), "smoke": smoke, "notes": []}
    notes = results["notes"]
    n_points = 4 if smoke else 100
    steps = 3 if smoke else 10
    points, labels = workloads.make_moons(n_points)
    params = workloads.initial_parameters()
    moons: dict[str, Any] = {"points": n_points}
    results["moons"] = moons
    print(f"moons: {n_points} points ...", flush=True)
    moons["minigrad"] = moons_minigrad(points, labels, params, steps)
    moons["ceiling"] = moons_ceiling(points, labels, params, steps)
    peers = [("micrograd", "micrograd", moons_micrograd), ("torch", "torch", moons_torch)]
    for name, module, bench in peers:
        if have(module):
            print(f"moons: {name} ...", flush=True)
            moons[name] = bench(points, labels, params, 3)
        else:
            notes.append(f"{name} is not installed: skipped")
    if have("jax"):
        jax_points = [1] if smoke else [2, 10]
        for n in jax_points:
            print(f"moons: jax at {n} points (trace + compile) ...", flush=True)
            small_points, small_labels = workloads.make_moons(n)
            moons[f"jax_{n}_points"] = moons_jax(small_points, small_labels, params, 5)
    else:
        notes.append("jax is not installed: skipped")
    if have("numpy"):
        results["batched"] = run_batched(smoke, points, labels, params, moons)
    else:
        notes.append("numpy is not installed: the batched benchmarks are skipped")

    sizes = [10**3, 10**4] if smoke else [10**4, 10**5, 10**6]
    libraries = ["minigrad"] + [lib for lib in ("micrograd", "torch") if have(lib)]
    for workload, workload_sizes in [("chain", sizes), ("wide", sizes[-2:-1]), ("tower", [100])]:
        results[workload] = {}
        for library in libraries:
            for n in workload_sizes:
                print(f"{workload}: {library} n={n:,} ...", flush=True)
                results[workload][f"{library} {n}"] = in_subprocess(workload, library, n)
    results["compile_call"] = {}
    for n in sizes:
        print(f"chain: MiniGrad's call that compiles, n={n:,} ...", flush=True)
        results["compile_call"][str(n)] = in_subprocess("compile call", "minigrad", n)

    print("derivatives: gradient graph of moons, n-th derivatives, Hessian ...", flush=True)
    results["derivatives"] = {
        "moons_gradient": gradient_graph_moons(points, labels, params),
        "nth": nth_derivatives(3 if smoke else 8),
        "hessian_mlp": hessian_mlp(),
    }
    return results


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
    return f"{a / b:,.1f}x" if a and b else "-"


def report(results: dict) -> str:
    m = results["moons"]
    ours = m["minigrad"]
    lines = [f"MiniGrad benchmarks  ({results['machine']['date']}, Python "
             f"{results['machine']['python']}, {results['machine']['platform']}, "
             f"{results['machine']['cpus']} CPUs{', SMOKE sizes' if results['smoke'] else ''})",
             "",
             f"moons: {m['points']} points, {ours['nodes']:,} nodes, loss {ours['loss']:.12g}",
             f"  {'':<34}{'seconds':>12}  vs MiniGrad step"]

    def row(label: str, seconds: float | None) -> None:
        if seconds is None:
            return
        lines.append(f"  {label:<34}{seconds:>12.4f}  {ratio(seconds, ours['step_s']):>10}")

    row("MiniGrad step (compiled)", ours["step_s"])
    row("MiniGrad step (interpreted)", ours["interpreted_step_s"])
    row("MiniGrad one-time: build+Graph+1st", ours["one_time_s"])
    row("MiniGrad call that compiles", ours["compile_call_s"])
    row("pure-Python ceiling call", m["ceiling"]["step_s"])
    row("pure-Python ceiling compile", m["ceiling"]["compile_s"])
    if "micrograd" in m:
        row("micrograd step (rebuild+backward)", m["micrograd"]["step_s"])
    if "torch" in m:
        row("PyTorch eager step", m["torch"]["step_s"])
    for key in sorted(k for k in m if k.startswith("jax_")):
        row(f"JAX jit, {m[key]['points']} points: trace+compile", m[key]["trace_compile_s"])
        row(f"JAX jit, {m[key]['points']} points: call", m[key]["step_s"])
    lines.append("")
    if "micrograd" in m:
        micro = m["micrograd"]["step_s"]
        lines.append(f"  micrograd step / MiniGrad step:        {ratio(micro, ours['step_s'])}"
                     "   (target >= 30x, aim 60x)")
        lines.append(f"  MiniGrad one-time / micrograd step:    "
                     f"{ours['one_time_s'] / micro:.2f}x   (target <= 3x, aim 1x)")
        lines.append(f"  ... including the call that compiles:  "
                     f"{(ours['one_time_s'] + ours['compile_call_s']) / micro:.2f}x")
    lines.append(f"  MiniGrad step / ceiling call:          "
                 f"{ratio(ours['step_s'], m['ceiling']['step_s'])}   (aim <= 1.5x)")
    lines.append("")
    if "batched" in results:
        lines += batched_report(results["batched"], m)
    for workload in ("chain", "wide", "tower"):
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
    for n, r in results.get("compile_call", {}).items():
        if "error" in r:
            lines.append(f"chain n={int(n):,}: the call that compiles: {r['error']}")
            continue
        lines.append(
            f"chain n={int(n):>9,}: the call that compiles {r['seconds']:7.2f} s "
            f"(= {r['seconds'] / r['interpreted_call_s']:.0f} interpreted calls), peak "
            f"+{r['peak_bytes_per_op']:.0f} B/op, kept +{r['kept_bytes_per_op']:.0f} B/op; "
            f"calls: interpreted {r['interpreted_call_s']:.4f} s, compiled "
            f"{r['compiled_call_s']:.4f} s")
    if "compile_call" in results:
        lines.append("")
    if "derivatives" in results:
        lines += derivatives_report(results["derivatives"], m)
    if "micrograd" in m and not results["smoke"]:
        micro_per_node = m["micrograd"]["step_s"] / ours["nodes"] * 1e6
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

    first = "compiles" if ours.get("first_call_compiles") else "interpreted"
    row("MiniGrad value_and_grad (compiled)", ours["call_s"], hand["call_s"])
    row(f"MiniGrad first call ({first})", ours["first_call_s"], hand["call_s"])
    row("numpy by hand (the ceiling)", hand["call_s"], hand["call_s"])
    if "jax" in c:
        row("JAX jit(vmap(value_and_grad)): trace+compile", c["jax"]["trace_compile_s"],
            hand["call_s"])
        row("JAX jit(vmap(value_and_grad)): call", c["jax"]["call_s"], hand["call_s"])
    s = c["scalar_path"]
    row("MiniGrad scalar path (extrapolated)", s["extrapolated_s"], hand["call_s"])
    lines += ["",
              f"  MiniGrad / numpy by hand:  {ratio(ours['call_s'], hand['call_s'])}   "
              "(target <= 2x)"]
    if "jax" in c:
        lines.append(f"  MiniGrad / JAX call:       {ratio(ours['call_s'], c['jax']['call_s'])}"
                     "   (aim <= 1x)")
    lines.append(f"  scalar path: float value_and_grad point by point, compiled, "
                 f"{s['per_point_s'] * 1e6:.1f} us a point, measured on "
                 f"{s['points']:,} points and extrapolated to {c['points']:,}; "
                 f"{s['extrapolated_s'] / ours['call_s']:,.0f}x the batch")
    lines.append("  largest differences: MiniGrad vs by hand "
                 f"{ours['max_abs_difference_vs_by_hand']:.1e}"
                 + (f", JAX vs by hand {c['jax']['max_abs_difference_vs_by_hand']:.1e}"
                    if "jax" in c else "")
                 + f", scalar path vs batch {s['max_abs_difference_vs_batch']:.1e}")
    mem = c["memory"]
    memory_rows = [(f"one call, the first ({first})", "first_call"),
                   ("one call, compiled", "compiled_call"),
                   (f"chunks of {mem['chunk']:,} points into 3 arrays", "in_chunks"),
                   (f"dask, blocks of {mem['chunk']:,} points", "dask")]
    lines += ["", f"  peak memory (tracemalloc), {mem['points']:,} points x {mem['nodes']} nodes:"]
    for label, key in memory_rows:
        if key in mem:
            lines.append(f"    {label:<44}{mem[key]['peak_bytes_per_point']:>8.0f} B/point"
                         f"  {mem[key]['peak_bytes_per_point_node']:>6.1f} B/(point x node)")
    if "dask_error" in mem:
        lines.append(f"    dask: not measured ({mem['dask_error']})")
    lines += ["    (beyond 2**14 points a call compiles at once and runs 2**14 points at a "
              "time, keeping the outputs' and leaves' entries:",
              "     here f, df/dx, df/dw and the copy of x, 32 B a point; up to 2**14 "
              "points, or interpreted, it keeps every node's",
              "     value and gradient, 16 B a point for each node that depends on x)", ""]

    e = b["moons"]
    ours = e["minigrad"]
    same_step = same_moons(e, moons)
    lines += [f"moons, one example's loss as a graph ({ours['nodes']:,} nodes; x0, x1, y and "
              f"{ours['parameters']} parameters are leaves), batched over {e['points']} points:"
              " one training step",
              f"  {'':<46}{'seconds':>12}  vs MiniGrad batched step"]

    def step_row(label: str, seconds: float) -> None:
        lines.append(f"  {label:<46}{seconds:>12.5f}  {ratio(seconds, ours['step_s']):>10}")

    step_row("MiniGrad batched step (compiled)", ours["step_s"])
    step_row("MiniGrad batched step (interpreted)", ours["interpreted_step_s"])
    step_row("MiniGrad one-time: build+Graph+1st step", ours["one_time_s"])
    step_row("MiniGrad step that compiles (the 11th)", ours["compile_call_s"])
    if same_step:
        step_row("micrograd whole step (from the moons rows)", moons["micrograd"]["step_s"])
    for form, label in [("expression", "same expression"), ("matrix", "matrix form W @ x")]:
        if f"torch_{form}" in e:
            step_row(f"PyTorch, {label}: step", e[f"torch_{form}"]["step_s"])
    for form, label in [("expression", "same expression"), ("matrix", "matrix form W @ x")]:
        if f"jax_{form}" in e:
            j = e[f"jax_{form}"]
            step_row(f"JAX jit(vmap), {label}: trace+compile", j["trace_compile_s"])
            step_row(f"JAX jit(vmap), {label}: call", j["call_s"])
            step_row(f"JAX jit(vmap), {label}: step", j["step_s"])
    lines.append("")
    if same_step:
        lines.append(f"  micrograd step / MiniGrad batched step:  "
                     f"{ratio(moons['micrograd']['step_s'], ours['step_s'])}"
                     "   (target >= 400x, aim 1,000x)")
    if "jax_expression" in e:
        j = e["jax_expression"]
        lines.append(f"  JAX call / MiniGrad batched step:        "
                     f"{ratio(j['call_s'], ours['step_s'])}   (aim > 1x); JAX compiles "
                     f"{j['trace_compile_s']:.2f} s, MiniGrad's step that compiles takes "
                     f"{ours['compile_call_s']:.3f} s")
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
        "n-th derivatives: operations (MiniGrad diff n times | SymPy diff + cse) and seconds",
    ]
    for name, rows in d["nth"].items():
        ours = rows["minigrad"]
        theirs = rows.get("sympy", [])
        counts = "  ".join(
            f"{r['ops']}" + (f"|{s['ops']}" if s else "")
            for r, s in zip(ours, theirs or [None] * len(ours), strict=True))
        lines.append(f"  {name:<24} n=1..{len(ours)}: {counts}")
        total_ours = sum(r["seconds"] for r in ours)
        if theirs:
            total_theirs = sum(s["seconds"] for s in theirs)
            lines.append(f"  {'':<24} n={len(ours)}: {ours[-1]['ops'] / theirs[-1]['ops']:.2f}x "
                         f"SymPy's ops (target <= 10x, aim 2x); all n: {total_ours:.3f} s vs "
                         f"SymPy {total_theirs:.3f} s")
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batched = results.get("batched")
    if batched:
        figure, ((left, right), (curve_axes, moons_axes)) = plt.subplots(2, 2, figsize=(11, 8))
        plot_batched(batched, results["moons"], curve_axes, moons_axes)
    else:
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for library, style in [("minigrad", "o-"), ("torch", "s--"), ("micrograd", "x:")]:
        rows = sorted((int(k.split()[1]), r) for k, r in results["chain"].items()
                      if k.split()[0] == library and "error" not in r)
        if not rows:
            continue
        sizes = [n for n, _ in rows]
        left.loglog(sizes, [r["seconds"] for _, r in rows], style, label=library)
        right.semilogx(sizes, [r["peak_bytes_per_op"] for _, r in rows], style, label=library)
    moons = results["moons"]
    if "micrograd" in moons:  # the chain target: micrograd's time per node on moons
        per_node = moons["micrograd"]["step_s"] / moons["minigrad"]["nodes"]
        sizes = sorted(int(k.split()[1]) for k in results["chain"])
        left.loglog(sizes, [n * per_node for n in sizes], "k:", linewidth=1,
                    label="micrograd's time per node (moons) x ops")
    left.set(title="chain: build + evaluate + backward", xlabel="ops", ylabel="seconds")
    right.set(title="chain: peak memory", xlabel="ops", ylabel="bytes per op")
    right.set_ylim(bottom=0)
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.suptitle(f"MiniGrad vs peers ({results['machine']['date']}); micrograd fails "
                    "with RecursionError beyond ~1,000 ops")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_batched(b: dict, moons: dict, curve_axes: Any, moons_axes: Any) -> None:
    """Two bar panels, seconds on a log scale: f at 10^6 points, and a moons step."""
    c, e = b["curve"], b["moons"]
    bars = [("MiniGrad\nbatched", c["minigrad"]["call_s"]),
            ("numpy\nby hand", c["by_hand"]["call_s"])]
    if "jax" in c:
        bars += [("JAX call", c["jax"]["call_s"]), ("JAX\ncompile", c["jax"]["trace_compile_s"])]
    bars.append(("MiniGrad\nscalar path\n(extrapolated)", c["scalar_path"]["extrapolated_s"]))
    bar_panel(curve_axes, bars, f"f, df/dx, df/dw at {c['points']:,} points: one call")
    bars = [("MiniGrad\nbatched", e["minigrad"]["step_s"])]
    if same_moons(e, moons):
        bars.append(("micrograd\nwhole step", moons["micrograd"]["step_s"]))
    for key, label in [("torch_expression", "PyTorch"), ("torch_matrix", "PyTorch\nW @ x"),
                       ("jax_expression", "JAX call"), ("jax_matrix", "JAX call\nW @ x")]:
        if key in e:
            bars.append((label, e[key]["call_s" if key.startswith("jax") else "step_s"]))
    if "jax_expression" in e:
        bars.append(("JAX\ncompile", e["jax_expression"]["trace_compile_s"]))
    bar_panel(moons_axes, bars, f"moons, per-example graph over {e['points']} points: "
              "one step")


def bar_panel(axes: Any, bars: list[tuple[str, float]], title: str) -> None:
    labels, seconds = zip(*bars, strict=True)
    colors = ["tab:blue" if label.startswith("MiniGrad\nbatched") else "tab:gray"
              for label in labels]
    axes.bar(range(len(bars)), seconds, color=colors)
    axes.set_xticks(range(len(bars)), labels, fontsize=8)
    axes.set_yscale("log")
    axes.set(title=title, ylabel="seconds (log scale)")
    axes.grid(True, axis="y", which="both", alpha=0.3)
    for i, value in enumerate(seconds):
        axes.annotate(f"{value:.2g}", (i, value), ha="center", va="bottom", fontsize=8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--plot", metavar="FILE", help="write the scaling plot (PNG)")
    parser.add_argument("--from-json", metavar="FILE",
                        help="report (and plot) saved results instead of running")
    parser.add_argument("--one-shot", nargs=3, metavar=("WORKLOAD", "LIBRARY", "N"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--compile-call", type=int, metavar="N", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.compile_call:
        print(json.dumps(compile_call(arguments.compile_call)))
        return 0
    if arguments.one_shot:
        workload, library, n = arguments.one_shot
        print(json.dumps(one_shot(workload, library, int(n))))
        return 0
    saved = {HERE / "results.json", HERE / "scaling.png"}  # the figures in the README
    if arguments.smoke and any(Path(f).resolve() in saved
                               for f in (arguments.json, arguments.plot) if f):
        parser.error("--smoke would overwrite the saved full-run results; write elsewhere")
    if arguments.from_json:
        results = json.loads(Path(arguments.from_json).read_text())
    else:
        results = run(arguments.smoke)
    print()
    print(report(results))
    if arguments.json and not arguments.from_json:
        Path(arguments.json).write_text(json.dumps(results, indent=2) + "\n")
    if arguments.plot:
        plot(results, Path(arguments.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The fitting benchmark: a 3-parameter model fitted to 10^5 points (``minigrad.optimize``).

``y = a exp(-b x) + c`` with noise, from the start (1, 1, 0).  Three ways to the same
fit, each ``scipy.optimize.least_squares`` with method "trf":

* MiniGrad: ``least_squares(residual, [a, b, c], data=...)`` -- one point's residual as a
  graph, every residual and every row of the exact Jacobian from one batched call;
* SciPy with the residuals and the Jacobian written by hand in numpy (the ceiling);
* SciPy with the residuals by hand and finite differences for the Jacobian ("2-point").

Times are medians of a few fits, the three ways taking turns; every fit must reach the
same parameters.

BLAS runs on one thread (``threadpoolctl``, for all three ways alike).  SciPy's
trust-region step takes an SVD of the 10^5 x 3 Jacobian, which two threads do not
speed up; on this project's 2-vCPU machines they make every way 2-3x slower and the
ratios jump from run to run (MiniGrad / by hand measured 1.0x to 2.7x within minutes).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from minigrad.optimize import least_squares

TRUE = (2.0, 0.5, 0.3)
START = (1.0, 1.0, 0.0)


def data(points: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(17)
    xs = np.linspace(0.0, 10.0, points)
    a, b, c = TRUE
    return xs, a * np.exp(-b * xs) + c + rng.normal(0.0, 0.05, points)


def timed_fits(ways: dict[str, Callable[[], Any]], repeats: int
               ) -> dict[str, tuple[Any, float]]:
    """Each way's last result and median time, the ways taking turns: whatever the
    machine (or the memory allocator) is doing at a moment, every way shares it."""
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, fit in ways.items():
            start = time.perf_counter()
            results[name] = fit()
            seconds[name].append(time.perf_counter() - start)
    return {name: (results[name], statistics.median(seconds[name])) for name in ways}


def run_fit(points: int, repeats: int) -> dict:
    """The three fits, BLAS on one thread if threadpoolctl is installed (the bench extra
    installs it)."""
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        return _run_fit(points, repeats, blas_threads=None)
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_fit(points, repeats, blas_threads=1)


def _run_fit(points: int, repeats: int, blas_threads: int | None) -> dict:
    xs, ys = data(points)

    def minigrad_fit() -> Any:
        a, b, c = (mg.Scalar(v, name=n) for v, n in zip(START, "abc", strict=True))
        x, y = mg.Scalar(0.0, name="x"), mg.Scalar(0.0, name="y")
        return least_squares(y - (a * mg.exp(-b * x) + c), [a, b, c], data={x: xs, y: ys})

    def residuals(p: np.ndarray) -> np.ndarray:
        return ys - (p[0] * np.exp(-p[1] * xs) + p[2])

    def jacobian(p: np.ndarray) -> np.ndarray:
        e = np.exp(-p[1] * xs)
        return np.column_stack([-e, p[0] * xs * e, -np.ones_like(xs)])

    import scipy.optimize

    rows: dict[str, Any] = {"points": points, "blas_threads": blas_threads}
    ways = {
        "minigrad": minigrad_fit,
        "by_hand": lambda: scipy.optimize.least_squares(residuals, START, jac=jacobian),
        "finite_differences": lambda: scipy.optimize.least_squares(residuals, START),
    }
    reference = None
    for name, (result, seconds) in timed_fits(ways, repeats).items():
        if reference is None:
            reference = np.array(result.x)
        rows[name] = {"seconds": seconds, "nfev": int(result.nfev),
                      "njev": int(result.njev or 0), "cost": float(result.cost),
                      "x": [float(v) for v in result.x],
                      "max_abs_difference_vs_minigrad": float(np.max(np.abs(result.x -
                                                                            reference)))}
    return rows


def report(fit: dict) -> list[str]:
    threads = {1: "BLAS on one thread", None: "BLAS threads as installed"}[
        fit.get("blas_threads")]
    lines = [f"fit: y = a exp(-b x) + c to {fit['points']:,} points, scipy.optimize."
             f"least_squares (trf) from (1, 1, 0); seconds, median of a few fits; {threads}",
             "                                           seconds  residual calls  Jacobians"
             "  vs by hand"]
    hand = fit["by_hand"]["seconds"]
    labels = {"minigrad": "MiniGrad (exact Jacobian from the graph)",
              "by_hand": "SciPy, Jacobian written in numpy",
              "finite_differences": "SciPy, finite differences (2-point)"}
    for key, label in labels.items():
        row = fit[key]
        lines.append(f"  {label:<40} {row['seconds']:8.4f}  {row['nfev']:14d}  "
                     f"{row['njev']:9d}  {row['seconds'] / hand:9.1f}x")
    lines.append(f"  MiniGrad / by hand: {fit['minigrad']['seconds'] / hand:.1f}x (target <= 2x); "
                 f"finite differences / MiniGrad: "
                 f"{fit['finite_differences']['seconds'] / fit['minigrad']['seconds']:.1f}x; "
                 "largest difference in the parameters: "
                 f"{max(fit[k]['max_abs_difference_vs_minigrad'] for k in labels):.1e}")
    return lines

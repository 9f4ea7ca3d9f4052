"""The spread of the headline ratios over several runs of ``benchmarks/run.py``.

One run's ratios are what the README and docs/speed.md quote; this says how much they
move from run to run on the same machine (a machine under other load moves them a
lot: a micrograd step took 0.83 s in one run and 1.29 s in another).  Each ratio is
measured side by side inside one run, so the spread is of ratios, not of seconds::

    python benchmarks/run.py --only moons batched fit --json run2.json
    python benchmarks/run.py --only moons batched fit --json run3.json
    python benchmarks/spread.py benchmarks/results.json run2.json run3.json

A run that lacks a section (``--only``) simply does not count for its ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Each headline ratio: its label and how to compute it from one run's results (a
#: KeyError means the run lacks that section).
RATIOS: dict[str, Callable[[dict[str, Any]], float]] = {
    "moons, steady call: micrograd step / MiniGrad call":
        lambda r: r["moons"]["micrograd"]["step_s"] / r["moons"]["minigrad"]["step_s"],
    "moons, 100 calls end to end: micrograd / MiniGrad":
        lambda r: r["moons"]["micrograd"]["calls_100_s"] / r["moons"]["minigrad"]["calls_100_s"],
    "moons, first call in micrograd steps":
        lambda r: r["moons"]["minigrad"]["first_call_s"] / r["moons"]["micrograd"]["step_s"],
    "moons, steady call: MiniGrad / CasADi":
        lambda r: r["moons"]["minigrad"]["step_s"] / r["moons"]["casadi"]["step_s"],
    "moons, steady call: PyTorch eager step / MiniGrad call":
        lambda r: r["moons"]["torch"]["step_s"] / r["moons"]["minigrad"]["step_s"],
    "batched moons step: micrograd step / MiniGrad step":
        lambda r: r["moons"]["micrograd"]["step_s"] / r["batched"]["moons"]["minigrad"]["step_s"],
    "10^6 points: MiniGrad / numpy by hand":
        lambda r: (r["batched"]["curve"]["minigrad"]["call_s"]
                   / r["batched"]["curve"]["by_hand"]["call_s"]),
    "fit, 10^5 points: MiniGrad / hand-written Jacobian":
        lambda r: r["fit"]["minigrad"]["seconds"] / r["fit"]["by_hand"]["seconds"],
    "fit, 10^5 points: finite differences / MiniGrad":
        lambda r: r["fit"]["finite_differences"]["seconds"] / r["fit"]["minigrad"]["seconds"],
}


def spread(runs: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Each ratio's values, one per run that has its sections."""
    found: dict[str, list[float]] = {}
    for label, compute in RATIOS.items():
        values = []
        for run in runs:
            try:
                values.append(compute(run))
            except KeyError:
                continue
        if values:
            found[label] = values
    return found


def report(found: dict[str, list[float]]) -> str:
    width = max(map(len, found), default=0)
    lines = [f"{'ratio':<{width}}  runs   median   lowest  highest"]
    for label, values in found.items():
        lines.append(f"{label:<{width}}  {len(values):4d}  {statistics.median(values):7.3g}  "
                     f"{min(values):7.3g}  {max(values):7.3g}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="results JSON files of run.py")
    arguments = parser.parse_args()
    runs = [json.loads(path.read_text()) for path in arguments.results]
    print(report(spread(runs)))


if __name__ == "__main__":
    main()

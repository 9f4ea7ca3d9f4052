"""How the benchmarks time things and check for peers: shared by run.py and batched.py."""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Callable
from typing import Any


def have(module: str) -> bool:
    """Is ``module`` installed?  Peers that are not are skipped with a note."""
    return importlib.util.find_spec(module) is not None


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``function()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """``function()``'s result and the seconds it took, once."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start

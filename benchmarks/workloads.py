"""The benchmark workloads, each a plain function anyone can rerun.

* moons: micrograd's demo loss -- an MLP 2 -> 16 -> 16 -> 1 on two-moons points,
  SVM loss ``mean(relu(1 - y * score)) + 1e-4 * sum(p * p)`` -- written once, generic over
  the library (``relu`` and the parameter objects are passed in), so every peer computes
  exactly the same expression.
* chain: ``y = y * 1.0000001`` repeated n times.
* wide: a sum of n products.  tower: ``x = x + x`` repeated n times.

Data and initial parameters come from ``random.Random(seed)``: reproducible, no numpy.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

MOONS_SIZES = (2, 16, 16, 1)
SEED = 1337


def make_moons(
    n_points: int, noise: float = 0.1, seed: int = SEED
) -> tuple[list[list[float]], list[float]]:
    """Two interleaved half circles, labels -1 and +1 (scikit-learn's make_moons)."""
    rng = random.Random(seed)
    n_outer = n_points // 2
    n_inner = n_points - n_outer
    points, labels = [], []
    for i in range(n_outer):
        t = math.pi * i / max(1, n_outer - 1)
        points.append([math.cos(t), math.sin(t)])
        labels.append(-1.0)
    for i in range(n_inner):
        t = math.pi * i / max(1, n_inner - 1)
        points.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        labels.append(1.0)
    for point in points:
        point[0] += rng.gauss(0.0, noise)
        point[1] += rng.gauss(0.0, noise)
    return points, labels


def initial_parameters(seed: int = SEED, sizes: Sequence[int] = MOONS_SIZES) -> list[float]:
    """Weights uniform in [-1, 1] and biases 0, in micrograd's parameter order."""
    rng = random.Random(seed + 1)
    values = []
    for n_in, n_out in itertools.pairwise(sizes):
        for _ in range(n_out):
            values += [rng.uniform(-1.0, 1.0) for _ in range(n_in)] + [0.0]
    return values


def mlp_score(params: Sequence[Any], x: Sequence[Any], relu: Callable[[Any], Any],
              sizes: Sequence[int] = MOONS_SIZES) -> Any:
    """micrograd's MLP: each neuron ``sum(w_i * x_i) + b``, relu on hidden layers."""
    it: Iterator[Any] = iter(params)
    activations = list(x)
    for layer, n_out in enumerate(sizes[1:]):
        hidden = layer < len(sizes) - 2
        outputs = []
        for _ in range(n_out):
            weights = [next(it) for _ in activations]
            bias = next(it)
            act = sum((w * a for w, a in zip(weights, activations, strict=True)), bias)
            outputs.append(relu(act) if hidden else act)
        activations = outputs
    return activations[0]


def moons_loss(params: Sequence[Any], points: Sequence[Sequence[float]],
               labels: Sequence[float], relu: Callable[[Any], Any]) -> Any:
    """micrograd's demo loss: mean hinge loss plus 1e-4 times the sum of squares."""
    scores = [mlp_score(params, x, relu) for x in points]
    losses = [relu(1 + -y * score) for y, score in zip(labels, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    return data_loss + reg_loss


def chain(x: Any, n: int) -> Any:
    """``y = y * 1.0000001``, n times."""
    y = x
    for _ in range(n):
        y = y * 1.0000001
    return y


def wide(xs: Sequence[Any], weights: Sequence[float]) -> Any:
    """A sum of products ``sum(w_i * x_i)``."""
    return sum(w * x for w, x in zip(weights, xs, strict=True))


def tower(x: Any, n: int) -> Any:
    """``x = x + x``, n times: 2**n paths, n + 1 nodes."""
    for _ in range(n):
        x = x + x
    return x

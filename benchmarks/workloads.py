"""The benchmark workloads, each a plain function anyone can rerun.

* moons: micrograd's demo loss -- an MLP 2 -> 16 -> 16 -> 1 on two-moons points,
  SVM loss ``mean(relu(1 - y * score)) + 1e-4 * sum(p * p)`` -- written once, generic over
  the library (``relu`` and the parameter objects are passed in), so every peer computes
  exactly the same expression.  ``moons_example_loss`` is one example's part of it, with
  the example's x0, x1, y as arguments: the graph that is batched over the points.
* curve: ``sin(x) * x**2 * sigmoid(x) + tanh(x * w)``, evaluated with its derivatives at
  10^6 points; ``curve_by_hand`` is the same three arrays written directly in numpy.
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
#: The moons loss's L2 regularization: ``REGULARIZATION * sum(p * p)``.
REGULARIZATION = 1e-4


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


def matrix_score(params: Any, x: Any, relu: Callable[[Any], Any],
                 sizes: Sequence[int] = MOONS_SIZES) -> Any:
    """:func:`mlp_score` written with matrices, for array libraries (torch, jax.numpy):
    ``params`` is one 1-D array in micrograd's order, ``x`` is (..., 2), one row a point.
    Each layer's block of the parameters is (n_out, n_in + 1): weights, then the bias."""
    start, activations = 0, x
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        block = params[start:start + n_out * (n_in + 1)].reshape(n_out, n_in + 1)
        start += n_out * (n_in + 1)
        activations = activations @ block[:, :n_in].T + block[:, n_in]
        if layer < len(sizes) - 2:
            activations = relu(activations)
    return activations[..., 0]


def moons_example_loss(params: Sequence[Any], x0: Any, x1: Any, y: Any,
                       relu: Callable[[Any], Any],
                       sizes: Sequence[int] = MOONS_SIZES) -> Any:
    """One example's hinge loss ``relu(1 + -y * score)``: the per-point part of the loss."""
    return relu(1 + -y * mlp_score(params, [x0, x1], relu, sizes))


def moons_loss(params: Sequence[Any], points: Sequence[Sequence[float]],
               labels: Sequence[float], relu: Callable[[Any], Any],
               sizes: Sequence[int] = MOONS_SIZES) -> Any:
    """micrograd's demo loss: mean hinge loss plus 1e-4 times the sum of squares."""
    losses = [moons_example_loss(params, x0, x1, y, relu, sizes)
              for (x0, x1), y in zip(points, labels, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = REGULARIZATION * sum(p * p for p in params)
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


def curve(x: Any, w: Any, sin: Callable[[Any], Any], sigmoid: Callable[[Any], Any],
          tanh: Callable[[Any], Any]) -> Any:
    """``sin(x) * x**2 * sigmoid(x) + tanh(x * w)``, generic over the library."""
    return sin(x) * x**2 * sigmoid(x) + tanh(x * w)


def curve_by_hand(x: Any, w: float) -> tuple[Any, Any, Any]:
    """f, df/dx and df/dw of :func:`curve` at every point of the numpy array ``x``,
    written directly in numpy: the ceiling a batched evaluator is measured against.

    With s = sigmoid(x) (never overflowing: e = exp(-|x|), s = 1/(1+e) or e/(1+e)),
    t = tanh(w x) and p = sin(x) x**2:  f = p s + t,
    df/dx = (cos(x) x**2 + 2 x sin(x)) s + p s (1 - s) + w (1 - t**2),
    df/dw = x (1 - t**2).
    """
    import numpy as np

    e = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + e)
    s = np.where(x >= 0.0, r, e * r)
    sin_x = np.sin(x)
    x2 = x * x
    t = np.tanh(w * x)
    dt = 1.0 - t * t
    ps = sin_x * x2 * s
    return ps + t, (np.cos(x) * x2 + 2.0 * x * sin_x) * s + ps * (1.0 - s) + w * dt, x * dt

"""Run the same scalar function in MiniGrad, PyTorch (float64) and JAX (x64).

A test function is written once against a small namespace of math functions, ``ops``,
and called with each library's namespace: ``fn(ops, *xs)``.  Each ``*_value_and_grad``
returns ``(value, [d value / d x_i for each x_i])`` as plain floats.

PyTorch and JAX are optional for a developer (their tests skip without them) but
required in CI: with ``MINIGRAD_REQUIRE_PEERS=1`` (set by ``.ci/run``) a missing peer is
an import error that fails the run instead of a skip.
"""

from __future__ import annotations

import importlib
import operator
import os
import shutil
import types
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import minigrad

REQUIRE_PEERS = os.environ.get("MINIGRAD_REQUIRE_PEERS") == "1"


def import_peer(name: str) -> Any:
    """Import a peer library; skip the calling test module if it is missing (not in CI)."""
    if REQUIRE_PEERS:
        return importlib.import_module(name)
    return pytest.importorskip(name)


#: How each function-style op of the table is called in MiniGrad: ``o.relu(x)``...
#: (abs is Python's own, which calls Node.__abs__).
MINIGRAD_OPS = types.SimpleNamespace(
    **{name: getattr(minigrad, name) for name in minigrad.nodes.FUNCTION_OPS if name != "abs"},
    abs=abs,
)

Fn = Callable[..., Any]

_INFIX = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "**": operator.pow}


def _apply(name: str) -> Fn:
    """The op ``name`` as a function of an ops namespace: the same code runs in every
    library (operators for infix ops, ``o.name(a)`` for functions), from the table."""
    rule = minigrad.OPS[name]
    if rule.infix:
        infix = _INFIX[rule.symbol]
        return lambda o, a, b: infix(a, b)
    if name == "neg":
        return lambda o, a: -a
    if rule.arity == 2:
        return lambda o, a, b: getattr(o, name)(a, b)
    return lambda o, a: getattr(o, name)(a)


#: Each op of minigrad.OPS as a function of an ops namespace.
APPLY: dict[str, Fn] = {name: _apply(name) for name in minigrad.OPS}


def minigrad_value_and_grad(fn: Fn, xs: Sequence[float]) -> tuple[float, list[float]]:
    leaves = [minigrad.Scalar(x, name=f"x{i}") for i, x in enumerate(xs)]
    y = fn(MINIGRAD_OPS, *leaves)
    # The leaves are outputs too, so those that do not reach y are in the graph (grad 0).
    values, grads = minigrad.value_and_grad(minigrad.Graph(y, *leaves), y)
    return values[y], [grads[leaf] for leaf in leaves]


def _peer_ops(find: Callable[[str], Any], special: dict[str, Any]) -> types.SimpleNamespace:
    """A peer's function for each function-style op: by the same name, unless special.
    given(a, b) is a, in every peer (they have no domain to keep)."""
    names = minigrad.nodes.FUNCTION_OPS
    special = {"given": lambda a, b: a, **special}
    return types.SimpleNamespace(**{name: special.get(name) or find(name) for name in names})


def torch_ops(torch: Any) -> types.SimpleNamespace:
    functional = torch.nn.functional

    def two_tensors(name: str) -> Any:
        # torch.atan2(x, 2.0) wants tensors on both sides: a literal is made one.
        function = getattr(torch, name)
        return lambda a, b: function(torch.as_tensor(a, dtype=torch.float64),
                                     torch.as_tensor(b, dtype=torch.float64))

    return _peer_ops(lambda name: getattr(torch, name, None) or getattr(functional, name), {
        # step(a) = 1 if a > 0 else 0 with slope 0, like sign: PyTorch has no step.
        "step": lambda a: torch.sign(torch.relu(a)),
        # PyTorch has no cbrt; the real cube root, for negative a too.
        "cbrt": lambda a: torch.sign(a) * torch.abs(a) ** (1.0 / 3.0),
        **{name: two_tensors(name) for name in ("atan2", "hypot", "minimum", "maximum")},
    })


def torch_value_and_grad(fn: Fn, xs: Sequence[float]) -> tuple[float, list[float]]:
    torch = import_peer("torch")
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    y = fn(torch_ops(torch), *leaves)
    y.backward()
    return y.item(), [0.0 if t.grad is None else t.grad.item() for t in leaves]


def jax_ops(jax: Any) -> types.SimpleNamespace:
    import jax.scipy.special

    jnp = jax.numpy
    return _peer_ops(lambda name: getattr(jnp, name, None) or getattr(jax.nn, name), {
        "step": lambda a: jnp.sign(jax.nn.relu(a)), "relu": jax.nn.relu,
        "sigmoid": jax.nn.sigmoid, "erf": jax.scipy.special.erf,
        "erfc": jax.scipy.special.erfc,
        "gelu": lambda a: jax.nn.gelu(a, approximate=False),
    })


def jax_value_and_grad(fn: Fn, xs: Sequence[float]) -> tuple[float, list[float]]:
    jax = import_peer("jax")
    jax.config.update("jax_enable_x64", True)  # float64, to compare to the last digits
    ops = jax_ops(jax)
    argnums = tuple(range(len(xs)))
    value, grads = jax.value_and_grad(lambda *a: fn(ops, *a), argnums=argnums)(
        *(jax.numpy.float64(x) for x in xs)
    )
    return float(value), [float(g) for g in grads]


def finite_difference_grad(fn: Fn, xs: Sequence[float], step: float = 1e-6) -> list[float]:
    """Central differences (f(x+h) - f(x-h)) / 2h on MiniGrad's own values."""
    def value_at(point: Sequence[float]) -> float:
        return minigrad_value_and_grad(fn, point)[0]

    grads = []
    for i, x in enumerate(xs):
        h = step * max(1.0, abs(x))
        up = [*xs[:i], x + h, *xs[i + 1:]]
        down = [*xs[:i], x - h, *xs[i + 1:]]
        grads.append((value_at(up) - value_at(down)) / (2 * h))
    return grads


#: The references, by name: each returns (value, gradients) like minigrad_value_and_grad.
PEERS: dict[str, Callable[[Fn, Sequence[float]], tuple[float, list[float]]]] = {
    "pytorch": torch_value_and_grad,
    "jax": jax_value_and_grad,
}


def assert_matches_peer(fn: Fn, xs: Sequence[float], peer: str, what: str = "") -> None:
    """MiniGrad's value and gradients equal the peer's within 1e-9 (see assert_close)."""
    value, grads = minigrad_value_and_grad(fn, xs)
    peer_value, peer_grads = PEERS[peer](fn, xs)
    assert_close(value, peer_value, what=f"{what} value vs {peer}")
    for i, (ours, theirs) in enumerate(zip(grads, peer_grads, strict=True)):
        assert_close(ours, theirs, what=f"{what} d/dx{i} vs {peer}")


def assert_close(ours: float, theirs: float, rel: float = 1e-9, what: str = "") -> None:
    """|ours - theirs| <= rel * max(1, |theirs|): relative, with a floor at magnitude 1."""
    assert abs(ours - theirs) <= rel * max(1.0, abs(theirs)), f"{what}: {ours!r} vs {theirs!r}"


def needs_dot() -> None:
    """Skip without graphviz's dot program -- except in CI, where it is installed."""
    if shutil.which("dot") is None and not REQUIRE_PEERS:
        pytest.skip("graphviz's dot program is not installed")

"""A real formula: the Black-Scholes price of a European call and its Greeks, from one
Graph -- delta, vega, rho and theta from backward(), gamma from diff() -- against the
closed forms and the textbook case S = 42, K = 40, r = 10%, sigma = 20%, T = 0.5 (Hull:
call 4.76, put 0.81).  And a grid of 101 strikes in one batched call (numpy arrays in,
arrays out), against the float path strike by strike and the closed forms."""

from __future__ import annotations

import math

import pytest
from peers import import_peer

from minigrad import Graph, Scalar, backward, diff, erf, evaluate, exp, log, sqrt, value_and_grad


def normal_cdf(x: object) -> object:
    return 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))  # type: ignore[operator]


def black_scholes(S: Scalar, K: Scalar, r: Scalar, sigma: Scalar, T: Scalar) -> tuple:
    d1 = (log(S / K) + (r + sigma**2 / 2) * T) / (sigma * sqrt(T))
    d2 = d1 - sigma * sqrt(T)
    call = S * normal_cdf(d1) - K * exp(-r * T) * normal_cdf(d2)
    put = K * exp(-r * T) * normal_cdf(-d2) - S * normal_cdf(-d1)
    return call, put


def closed_forms(S: float, K: float, r: float, sigma: float, T: float) -> dict[str, float]:
    N = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    d1 = (math.log(S / K) + (r + sigma**2 / 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    return {
        "call": S * N(d1) - K * math.exp(-r * T) * N(d2),
        "delta": N(d1),
        "gamma": phi(d1) / (S * sigma * math.sqrt(T)),
        "vega": S * phi(d1) * math.sqrt(T),
        "rho": K * T * math.exp(-r * T) * N(d2),
        # dC/dT: how the price grows with the time left (theta is its negative)
        "dC_dT": S * phi(d1) * sigma / (2 * math.sqrt(T)) + r * K * math.exp(-r * T) * N(d2),
    }


def test_the_textbook_call_and_put_and_parity() -> None:
    S, K, r, sigma, T = (Scalar(v, name=n) for v, n in
                         [(42.0, "S"), (40.0, "K"), (0.1, "r"), (0.2, "sigma"), (0.5, "T")])
    call, put = black_scholes(S, K, r, sigma, T)
    values = evaluate(Graph(call, put))
    assert round(values[call], 2) == 4.76
    assert round(values[put], 2) == 0.81
    parity = 42.0 - 40.0 * math.exp(-0.1 * 0.5)
    assert values[call] - values[put] == pytest.approx(parity, rel=1e-14)


@pytest.mark.parametrize("point", [
    (42.0, 40.0, 0.1, 0.2, 0.5), (100.0, 120.0, 0.03, 0.35, 2.0), (10.0, 9.0, 0.0, 0.5, 0.1),
])
def test_the_greeks_from_one_graph(point: tuple[float, ...]) -> None:
    S, K, r, sigma, T = (Scalar(v, name=n) for v, n in zip(point, ["S", "K", "r", "sigma", "T"],
                                                           strict=True))
    call, _ = black_scholes(S, K, r, sigma, T)
    graph = Graph(call)
    grads = backward(graph, call)
    gamma = diff(call, S, 2)
    expected = closed_forms(*point)
    assert evaluate(graph)[call] == pytest.approx(expected["call"], rel=1e-12)
    assert grads[S] == pytest.approx(expected["delta"], rel=1e-12)
    assert grads[sigma] == pytest.approx(expected["vega"], rel=1e-12)
    assert grads[r] == pytest.approx(expected["rho"], rel=1e-12)
    assert grads[T] == pytest.approx(expected["dC_dT"], rel=1e-12)
    assert evaluate(Graph(gamma))[gamma] == pytest.approx(expected["gamma"], rel=1e-10)


def test_a_grid_of_strikes_in_one_batched_call() -> None:
    # numpy is optional for the library, required by the test suite: a missing numpy is
    # a skip for a developer, a failure in CI (see peers.import_peer).
    np = import_peer("numpy")
    S, K, r, sigma, T = (Scalar(v, name=n) for v, n in
                         [(42.0, "S"), (40.0, "K"), (0.1, "r"), (0.2, "sigma"), (0.5, "T")])
    call, put = black_scholes(S, K, r, sigma, T)
    graph = Graph(call, put)
    strikes = np.linspace(20.0, 70.0, 101)
    values, grads = value_and_grad(graph, call, inputs={K: strikes})  # one call, 101 strikes

    leaves = (S, K, r, sigma, T)
    assert all(grads[leaf].shape == (101,) for leaf in leaves)
    greeks = {"delta": S, "vega": sigma, "rho": r, "dC_dT": T}
    for i, strike in enumerate(strikes.tolist()):
        # The float path at this one strike: the same numbers.
        one_values, one_grads = value_and_grad(graph, call, inputs={K: strike})
        for output in (call, put):
            assert values[output][i] == pytest.approx(one_values[output], rel=1e-12)
        for leaf in leaves:
            assert grads[leaf][i] == pytest.approx(one_grads[leaf], rel=1e-11), leaf.name
        # And the textbook formulas.
        expected = closed_forms(42.0, strike, 0.1, 0.2, 0.5)
        assert values[call][i] == pytest.approx(expected["call"], rel=1e-12)
        for greek, leaf in greeks.items():
            assert grads[leaf][i] == pytest.approx(expected[greek], rel=1e-12), greek

    # Put-call parity at every strike: C - P = S - K e^(-rT).  Absolute: it crosses 0.
    parity = 42.0 - strikes * math.exp(-0.1 * 0.5)
    np.testing.assert_allclose(values[call] - values[put], parity, rtol=0, atol=1e-12)

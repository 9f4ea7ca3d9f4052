"""Fitting and optimizing with SciPy (optimize.py): certified results, SciPy's own with
hand-written derivatives, closed forms, trial steps outside the domain, bad calls."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from peers import import_peer

from minigrad import EvaluationError, Scalar, exp, log
from minigrad.optimize import least_squares, minimize

np = import_peer("numpy")
scipy_optimize = import_peer("scipy.optimize")


@pytest.fixture(autouse=True)
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# NIST StRD nonlinear regression, Misra1a (lower difficulty): y = b1 * (1 - exp(-b2 x)).
MISRA1A_X = np.array([77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3,
                      536.8, 593.1, 689.1, 760.0])
MISRA1A_Y = np.array([10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05,
                      61.01, 66.40, 75.47, 81.78])
MISRA1A_CERTIFIED = {"b1": (2.3894212918e02, 2.7070075241e00),
                     "b2": (5.5015643181e-04, 7.2668688436e-06)}
MISRA1A_RSS = 1.2455138894e-01


def misra1a() -> tuple[Scalar, Scalar, Scalar, Scalar, Any]:
    b1, b2 = Scalar(500.0, name="b1"), Scalar(1e-4, name="b2")
    x, y = Scalar(0.0, name="x"), Scalar(0.0, name="y")
    return b1, b2, x, y, y - b1 * (1 - exp(-b2 * x))


@pytest.mark.parametrize("method", ["trf", "dogbox", "lm"])
def test_the_contract_reproduces_nists_certified_values(method: str) -> None:
    b1, b2, x, y, r = misra1a()
    tight = {"xtol": 1e-15, "ftol": 1e-15, "gtol": 1e-15}
    fit = least_squares(r, [b1, b2], data={x: MISRA1A_X, y: MISRA1A_Y}, method=method, **tight)
    assert fit.success
    for leaf in (b1, b2):
        value, error = MISRA1A_CERTIFIED[leaf.name]  # type: ignore[index]
        assert fit.params[leaf] == pytest.approx(value, rel=1e-8)
        assert fit.stderr[leaf] == pytest.approx(error, rel=1e-6)
    assert 2 * fit.cost == pytest.approx(MISRA1A_RSS, rel=1e-9)
    assert list(fit.x) == [fit.params[b1], fit.params[b2]]
    assert fit.fun.shape == (14,) and fit.jac.shape == (14, 2) and fit.nfev > 0
    assert (b1.value, b2.value) == (500.0, 1e-4)  # nothing changed on a node


def test_the_same_fit_as_scipy_with_a_hand_written_jacobian_in_no_more_evaluations() -> None:
    b1, b2, x, y, r = misra1a()
    ours = least_squares(r, [b1, b2], data={x: MISRA1A_X, y: MISRA1A_Y})

    def residuals(b: Any) -> Any:
        return MISRA1A_Y - b[0] * (1 - np.exp(-b[1] * MISRA1A_X))

    def jacobian(b: Any) -> Any:
        e = np.exp(-b[1] * MISRA1A_X)
        return np.column_stack([-(1 - e), -b[0] * MISRA1A_X * e])

    theirs = scipy_optimize.least_squares(residuals, [500.0, 1e-4], jac=jacobian)
    np.testing.assert_allclose(ours.x, theirs.x, rtol=1e-10)
    assert ours.nfev <= theirs.nfev and ours.njev <= theirs.njev


def test_a_linear_model_gives_lstsq_and_the_textbook_standard_errors() -> None:
    rng = np.random.default_rng(7)
    xs = np.linspace(0.0, 10.0, 50)
    ys = 3.0 * xs - 2.0 + rng.normal(0.0, 0.5, xs.size)
    a, b = Scalar(0.0, name="a"), Scalar(0.0, name="b")
    x, y = Scalar(0.0, name="x"), Scalar(0.0, name="y")
    fit = least_squares(y - (a * x + b), [a, b], data={x: xs, y: ys})
    design = np.column_stack([xs, np.ones_like(xs)])
    (slope, intercept), rss, _, _ = np.linalg.lstsq(design, ys, rcond=None)
    assert fit.params[a] == pytest.approx(slope, rel=1e-10)
    assert fit.params[b] == pytest.approx(intercept, rel=1e-9)
    covariance = np.linalg.inv(design.T @ design) * rss[0] / (xs.size - 2)
    assert [fit.stderr[a], fit.stderr[b]] == pytest.approx(np.sqrt(np.diag(covariance)),
                                                          rel=1e-8)


def test_data_may_fix_a_leaf_with_a_number_and_name_leaves() -> None:
    a, c = Scalar(1.0, name="a"), Scalar(0.0, name="c")
    x, y = Scalar(0.0, name="x"), Scalar(0.0, name="y")
    xs = np.linspace(0.0, 1.0, 9)
    fit = least_squares(y - (a * x + c), [a], data={"x": xs, "y": 2.0 * xs + 5.0, c: 5.0})
    assert fit.params[a] == pytest.approx(2.0)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_trial_steps_outside_the_domain_are_stepped_back_from(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # y = a sqrt(b - x) from b = 30: the first steps overshoot below max(x) = 9, where the
    # model is undefined; SciPy must see a non-finite cost (no warning, no error) there.
    import minigrad.optimize as optimize

    undefined = []
    original = optimize.run

    def spy(graph: Any, overrides: Any, output: int, undefined_: Any, **options: Any) -> Any:
        values, grads = original(graph, overrides, output, undefined_, **options)
        undefined.append(bool(np.isnan(values[graph.order[output]]).any()))
        return values, grads

    monkeypatch.setattr(optimize, "run", spy)
    from minigrad import sqrt

    xs = np.linspace(0.0, 9.0, 10)
    a, b = Scalar(1.0, name="a"), Scalar(30.0, name="b")
    x, y = Scalar(0.0, name="x"), Scalar(0.0, name="y")
    fit = least_squares(y - a * sqrt(b - x), [a, b], data={x: xs, y: 2.0 * np.sqrt(12.0 - xs)},
                        method=method)
    assert any(undefined), "no trial step left the domain: the test tests nothing"
    assert fit.success and list(fit.x) == pytest.approx([2.0, 12.0])


def test_an_undefined_start_is_an_evaluation_error_naming_the_node() -> None:
    b, x, y = Scalar(-1.0, name="b"), Scalar(0.0, name="x"), Scalar(0.0, name="y")
    with pytest.raises(EvaluationError, match=r"log.*at point 0"):
        least_squares(y - log(b * x), [b], data={x: np.array([1.0, 2.0]), y: np.zeros(2)})


def test_bad_calls_are_clear_errors_before_any_work() -> None:
    b1, b2, x, y, r = misra1a()
    data = {x: MISRA1A_X, y: MISRA1A_Y}
    other = Scalar(1.0, name="other")
    cases: list[tuple[Any, Any, type[Exception], str]] = [
        ([b1, "b2"], data, TypeError, "must be a Scalar leaf"),
        ([b1, other], data, ValueError, "not a leaf of the graph"),
        ([b1, b1], data, ValueError, "listed twice"),
        (b1, data, TypeError, "needs a list of the parameters"),
        ([b1, b2], {**data, b2: 1.0}, ValueError, "is a parameter and in data"),
        ([b1, b2], {x: MISRA1A_X, y: MISRA1A_Y[:-1]}, ValueError, "same length"),
        ([b1, b2], {x: MISRA1A_X}, ValueError, "no data for the leaf Scalar(0.0, name='y')"),
        ([b1, b2], {x: 1.0, y: 2.0}, ValueError, "at least one array"),
        ([b1, b2], {other: MISRA1A_X, y: MISRA1A_Y}, KeyError, "not a leaf of this graph"),
    ]
    for params, given, error, text in cases:
        with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
            least_squares(r, params, data=given)


def test_without_scipy_the_message_names_what_to_install() -> None:
    code = ("import sys; sys.modules['scipy'] = None\n"
            "import numpy as np\n"
            "from minigrad import Scalar\n"
            "from minigrad.optimize import least_squares\n"
            "a, x = Scalar(1.0, name='a'), Scalar(0.0, name='x')\n"
            "try:\n"
            "    least_squares(a * x, [a], data={x: np.ones(3)})\n"
            "except ModuleNotFoundError as e:\n"
            "    assert 'pip install scipy' in str(e), e\n"
            "else:\n"
            "    raise AssertionError('no error')\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- minimize ------------------------------------------------------------------------------------


def rosenbrock() -> tuple[Scalar, Scalar, Any]:
    p, q = Scalar(-1.2, name="p"), Scalar(1.0, name="q")
    return p, q, (1 - p) ** 2 + 100 * (q - p**2) ** 2


@pytest.mark.parametrize("method", ["trust-exact", "Newton-CG", "trust-ncg", "trust-krylov",
                                    "dogleg", "BFGS", "L-BFGS-B", "CG"])
def test_rosenbrock_from_the_classic_start(method: str) -> None:
    p, q, f = rosenbrock()
    result = minimize(f, [p, q], method=method, options={"maxiter": 10_000})
    assert result.success
    assert [result.params[p], result.params[q]] == pytest.approx([1.0, 1.0], abs=1e-3)
    theirs = scipy_optimize.minimize(
        scipy_optimize.rosen, [-1.2, 1.0], method=method, jac=scipy_optimize.rosen_der,
        hess=scipy_optimize.rosen_hess if method.lower() in (
            "trust-exact", "newton-cg", "trust-ncg", "trust-krylov", "dogleg") else None,
        options={"maxiter": 10_000})
    np.testing.assert_allclose(result.x, theirs.x, rtol=1e-6, atol=1e-8)
    assert result.nfev <= theirs.nfev + 1
    if method == "trust-exact":
        assert result.nhev > 0 and result.nhev == theirs.nhev


def test_minimize_leaves_other_leaves_as_they_are() -> None:
    p, c = Scalar(0.0, name="p"), Scalar(3.0, name="c")
    result = minimize((p - c) ** 2, [p], method="BFGS")
    assert result.params[p] == pytest.approx(3.0) and p.value == 0.0


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell", "COBYLA"])
def test_derivative_free_methods_get_no_gradient_and_no_warning(method: str) -> None:
    p, c = Scalar(0.0, name="p"), Scalar(3.0, name="c")
    result = minimize((p - c) ** 2, [p], method=method)
    assert result.params[p] == pytest.approx(3.0, abs=1e-3)


def test_a_callers_own_jac_or_method_is_passed_through() -> None:
    p, c = Scalar(0.0, name="p"), Scalar(3.0, name="c")
    result = minimize((p - c) ** 2, [p], method="BFGS", jac="2-point")
    assert result.params[p] == pytest.approx(3.0, abs=1e-5)

    def steepest(fun: Any, x0: Any, jac: Any = None, **options: Any) -> Any:
        x = np.array(x0, dtype=float)
        for _ in range(200):
            x = x - 0.25 * jac(x)
        return scipy_optimize.OptimizeResult(x=x, fun=fun(x), success=True, nit=200)

    result = minimize((p - c) ** 2, [p], method=steepest)
    assert result.params[p] == pytest.approx(3.0)


def test_empty_data_is_an_error() -> None:
    a, x, y = Scalar(1.0, name="a"), Scalar(0.0, name="x"), Scalar(0.0, name="y")
    with pytest.raises(ValueError, match="data arrays are empty"):
        least_squares(y - a * x, [a], data={x: np.array([]), y: np.array([])})

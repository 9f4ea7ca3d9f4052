"""Fit and optimize with SciPy: exact gradients, Jacobians and Hessians from one graph.

:func:`least_squares` fits parameters to data: the graph is ONE data point's residual,
its data leaves given arrays, so one batched call of the engine gives every residual
and -- the gradients of each point's residual -- every row of the Jacobian.  SciPy's
``least_squares`` then does the search, with the exact Jacobian instead of finite
differences; the result also has each parameter's standard error, as lmfit and NIST
report it.  :func:`minimize` passes a scalar function's exact gradient to any
``scipy.optimize.minimize`` method, and its exact Hessian -- ``hessian()``'s graphs,
built once per call -- to the methods that take one.

Parameters are ``Scalar`` leaves; their starting values are their ``value``\\ s, and
nothing is ever changed on a node.  While searching, a trial point where the model
leaves its domain or overflows reaches SciPy as a non-finite cost (SciPy's trust-region
methods then take a shorter step), with no numpy warning; if the final point is
undefined, :class:`~minigrad.errors.EvaluationError` says where.

scipy is an optional extra (``pip install scipy``), imported only here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from minigrad.api import evaluate, run, value_and_grad
from minigrad.derivatives import hessian
from minigrad.graph import Graph
from minigrad.nodes import Node, Scalar, brief_repr
from minigrad.values import batch_size, has_arrays, import_numpy, resolve_inputs

__all__ = ["HESSIAN_METHODS", "least_squares", "minimize"]

#: The ``scipy.optimize.minimize`` methods that use a Hessian: they are given the exact one.
HESSIAN_METHODS = frozenset({"newton-cg", "dogleg", "trust-ncg", "trust-krylov", "trust-exact"})
#: The methods that use no derivative at all: they are given none (SciPy would warn).
DERIVATIVE_FREE = frozenset({"nelder-mead", "powell", "cobyla", "cobyqa"})


def _scipy_optimize() -> Any:
    try:
        import scipy.optimize
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "fitting and optimizing need scipy: pip install scipy (from a checkout of "
            'MiniGrad: pip install ".[scipy]")'
        ) from error
    return scipy.optimize


def _check_parameters(graph: Graph, params: object, function: str) -> tuple[Scalar, ...]:
    """``params`` as a tuple of distinct Scalar leaves of the graph, or a clear error."""
    if isinstance(params, Node | str) or not isinstance(params, Sequence) or not params:
        raise TypeError(f"{function} needs a list of the parameters (Scalar leaves), e.g. "
                        f"[a, b]; got {brief_repr(params)}")
    seen: set[Scalar] = set()
    for param in params:
        if not isinstance(param, Scalar):
            raise TypeError(f"{function}: a parameter must be a Scalar leaf, got "
                            f"{brief_repr(param)}")
        if param not in graph.index:
            raise ValueError(f"{function}: {param!r} is not a leaf of the graph")
        if param in seen:
            raise ValueError(f"{function}: {param!r} is listed twice among the parameters")
        seen.add(param)
    return tuple(params)


def _params(parameters: tuple[Scalar, ...], x: Any) -> dict[Any, Any]:
    return {param: float(value) for param, value in zip(parameters, x, strict=True)}


# ---------------------------------------------------------------------------------------
# Least squares.
# ---------------------------------------------------------------------------------------


def least_squares(residual: Node, params: Sequence[Scalar], data: Mapping[Any, Any],
                  **kwargs: Any) -> Any:
    """Fit ``params`` so that the sum of squares of ``residual`` over the data is least.

    ``residual`` is ONE data point's residual (``y - model(x)``), its data leaves given
    1-D arrays in ``data`` (all of one length n; a number there fixes that leaf).  Every
    leaf of it is a parameter or in ``data``.  Keyword arguments go to
    ``scipy.optimize.least_squares`` (``method="trf" | "dogbox" | "lm"``, ``bounds``,
    ``ftol``, ``max_nfev``, ...); it is given the exact Jacobian.

    Returns SciPy's ``OptimizeResult`` (``x``, ``fun``, ``jac``, ``cost``, ``nfev``,
    ``success``, ``message``, ...) with two more fields, by leaf: ``params``, the best-fit
    values, and ``stderr``, each one's standard error ``sqrt(diag((J^T J)^-1) * RSS / (n -
    p))`` (NaN where it is undefined: no more points than parameters, or J^T J singular).

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Scalar
    >>> a, b = Scalar(1.0, name="a"), Scalar(0.0, name="b")
    >>> x, y = Scalar(0.0, name="x"), Scalar(0.0, name="y")
    >>> xs = np.array([0.0, 1.0, 2.0, 3.0]); ys = 2.0 * xs + 1.0
    >>> fit = least_squares(y - (a * x + b), [a, b], data={x: xs, y: ys})
    >>> round(fit.params[a], 9), round(fit.params[b], 9)
    (2.0, 1.0)
    """
    optimize = _scipy_optimize()
    np = import_numpy("least_squares")
    if not isinstance(residual, Node):
        raise TypeError(f"least_squares: the residual must be a node, got "
                        f"{type(residual).__name__}")
    graph = Graph(residual)
    parameters = _check_parameters(graph, params, "least_squares")
    overrides = _data(graph, parameters, data)  # checked once, not at every step
    size = next(len(v) for v in overrides.values() if type(v) is not float)
    places = [graph.index[param] for param in parameters]
    output = graph.index[residual]
    cache: dict[bytes, tuple[Any, Any]] = {}

    def residuals_and_jacobian(x: Any) -> tuple[Any, Any]:
        """One batched call: every point's residual, and its gradient by each parameter
        (a row of the Jacobian).  NaN where the model is undefined at a trial point."""
        key = np.asarray(x, dtype=float).tobytes()
        if key not in cache:
            cache.clear()  # SciPy asks for the Jacobian at the point it just evaluated
            if not np.isfinite(x).all():  # a step computed from an overflow: no cost here
                nan = np.full(size, math.nan)
                cache[key] = (nan, np.full((size, len(parameters)), math.nan))
                return cache[key]
            at_x = dict(overrides)
            at_x.update(zip(places, map(float, x), strict=True))  # finite: checked above
            values, grads = run(graph, at_x, output, "nan", wrt=places)
            assert grads is not None
            jacobian = np.column_stack([grads[param] for param in parameters])
            cache[key] = (np.array(values[residual]), jacobian)
        return cache[key]

    start = np.array([param.value for param in parameters], dtype=float)
    if not np.isfinite(residuals_and_jacobian(start)[0]).all():  # SciPy would only say so
        _raise_where_undefined(graph, residual, _by_leaf(graph, overrides, parameters, start))
    kwargs.setdefault("jac", lambda x: residuals_and_jacobian(x)[1])
    with np.errstate(all="ignore"):  # SciPy's own arithmetic on a non-finite trial cost
        result = optimize.least_squares(lambda x: residuals_and_jacobian(x)[0], start,
                                        **kwargs)
    if not (np.isfinite(result.fun).all() and np.isfinite(result.jac).all()):
        _raise_where_undefined(graph, residual, _by_leaf(graph, overrides, parameters,
                                                         result.x))
    result.params = _params(parameters, result.x)
    result.stderr = dict(zip(parameters, _standard_errors(np, result.jac, result.fun, size),
                             strict=True))
    return result


def _data(graph: Graph, parameters: tuple[Scalar, ...],
          data: Mapping[Any, Any]) -> dict[int, Any]:
    """The data, checked before any work, by the leaf's place in ``graph.order``: leaves
    of the graph (or their names) that are not parameters, arrays of numbers of one
    length, and every other leaf among them."""
    if not isinstance(data, Mapping):
        raise TypeError(f"least_squares: data must be a mapping leaf -> array, got "
                        f"{type(data).__name__}")
    overrides = resolve_inputs(graph, data, arrays=True)  # the checks evaluate() makes
    if not has_arrays(overrides):
        raise ValueError("least_squares: data needs at least one array (one value per point)")
    if batch_size(graph, overrides) == 0:  # arrays of one length, or the error saying so
        raise ValueError("least_squares: the data arrays are empty: there is nothing to fit")
    for leaf in (graph.order[position] for position in overrides):
        if leaf in parameters:
            raise ValueError(f"least_squares: {leaf!r} is a parameter and in data; it is one "
                             "or the other")
    given = {graph.order[position] for position in overrides}
    missing = [leaf for leaf in graph.leaves if leaf not in parameters and leaf not in given]
    if missing:
        raise ValueError(f"least_squares: no data for the leaf {missing[0]!r} (every leaf is a "
                         "parameter or in data; a number in data fixes a leaf)")
    return overrides


def _standard_errors(np: Any, jacobian: Any, residuals: Any, size: int) -> list[float]:
    """sqrt(diag((J^T J)^-1) * RSS / (n - p)), NaN where undefined."""
    parameters = jacobian.shape[1]
    if size <= parameters:
        return [math.nan] * parameters
    with np.errstate(all="ignore"):  # a fit that failed far out: NaN, not a warning
        try:
            covariance = np.linalg.inv(jacobian.T @ jacobian)
        except np.linalg.LinAlgError:
            return [math.nan] * parameters
        variance = float(residuals @ residuals) / (size - parameters)
        return [float(v) for v in np.sqrt(np.diag(covariance) * variance)]


def _by_leaf(graph: Graph, overrides: Mapping[int, Any], parameters: tuple[Scalar, ...],
             x: Any) -> dict[Any, Any]:
    """The data and the parameters at ``x`` as ``inputs=`` (keyed by leaf)."""
    return {**{graph.order[p]: v for p, v in overrides.items()}, **_params(parameters, x)}


def _raise_where_undefined(graph: Graph, output: Node, inputs: Mapping[Any, Any]) -> None:
    """At a start or final point that is undefined: raise the error that names where."""
    value_and_grad(graph, output, dict(inputs))


# ---------------------------------------------------------------------------------------
# Minimize.
# ---------------------------------------------------------------------------------------


def minimize(f: Node, params: Sequence[Scalar], method: Any = None,
             **kwargs: Any) -> Any:
    """Minimize the scalar ``f`` over ``params`` with ``scipy.optimize.minimize``.

    It is given ``f``'s exact gradient, and, for the methods that use one
    (:data:`HESSIAN_METHODS`), its exact Hessian: ``hessian(f, params)``'s graphs, built
    once per call.  Other leaves keep their values.  Keyword arguments go to SciPy
    (``bounds``, ``tol``, ``options``, ...).  Returns SciPy's ``OptimizeResult``
    (``x``, ``fun``, ``nit``, ``nfev``, ``njev``, ``nhev``, ``success``, ...) and
    ``params``, the best values by leaf.

    Examples
    --------
    >>> from minigrad import Scalar
    >>> p, q = Scalar(-1.2, name="p"), Scalar(1.0, name="q")
    >>> rosenbrock = (1 - p) ** 2 + 100 * (q - p**2) ** 2
    >>> result = minimize(rosenbrock, [p, q], method="trust-exact")
    >>> round(result.params[p], 6), round(result.params[q], 6), result.success
    (1.0, 1.0, True)
    """
    optimize = _scipy_optimize()
    np = import_numpy("minimize")
    if not isinstance(f, Node):
        raise TypeError(f"minimize: f must be a node, got {type(f).__name__}")
    graph = Graph(f)
    parameters = _check_parameters(graph, params, "minimize")

    def value_and_gradient(x: Any) -> tuple[float, Any]:
        if not np.isfinite(x).all():  # a step computed from an overflow: no value here
            return math.nan, np.full(len(parameters), math.nan)
        values, grads = value_and_grad(graph, f, _params(parameters, x), undefined="nan")
        return float(values[f]), np.array([grads[param] for param in parameters])

    name = method.lower() if isinstance(method, str) else None  # or a callable of SciPy's
    if name in HESSIAN_METHODS and "hess" not in kwargs and "hessp" not in kwargs:
        rows = hessian(f, list(parameters))
        entries = [entry for row in rows for entry in row]
        hessian_graph = Graph(*entries, *parameters)

        def exact_hessian(x: Any) -> Any:
            values = evaluate(hessian_graph, _params(parameters, x), undefined="nan")
            return np.array([values[entry] for entry in entries]).reshape(len(rows), -1)

        kwargs["hess"] = exact_hessian
    # The exact gradient, unless the method uses none or the caller gives their own.
    exact_gradient = name not in DERIVATIVE_FREE and "jac" not in kwargs
    start = np.array([param.value for param in parameters], dtype=float)
    if not math.isfinite(value_and_gradient(start)[0]):
        _raise_where_undefined(graph, f, _params(parameters, start))
    with np.errstate(all="ignore"):
        if exact_gradient:
            result = optimize.minimize(value_and_gradient, start, method=method, jac=True,
                                       **kwargs)
        else:
            result = optimize.minimize(lambda x: value_and_gradient(x)[0], start,
                                       method=method, **kwargs)
    if not math.isfinite(result.fun):
        _raise_where_undefined(graph, f, _params(parameters, result.x))
    result.params = _params(parameters, result.x)
    return result

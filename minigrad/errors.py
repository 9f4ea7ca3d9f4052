"""The one error MiniGrad raises while computing: :class:`EvaluationError`.

MiniGrad promises that every value and every gradient it hands back is a finite float.
When that cannot be true -- ``log(-1)``, ``1/0``, ``exp(1000)``, the infinite slope of
``sqrt`` at 0 -- it stops and raises ``EvaluationError`` instead of returning NaN or
infinity.  JAX, autograd and PyTensor return NaN for ``log(-1)`` and leave you to find
out where it came from; this error says which op failed, on which operand values, and
where the node sits in your expression.

Bad *input* (a string where a number belongs, an unknown leaf name) is not an
``EvaluationError``: it raises the ordinary ``TypeError``, ``ValueError`` or
``KeyError`` at the boundary, before any work is done.
"""

from __future__ import annotations

from typing import Any

from minigrad.nodes import describe

__all__ = ["EvaluationError", "at_point", "gradient_error", "value_error"]


class EvaluationError(ArithmeticError):
    """A value or a gradient is undefined or not a finite float.

    Subclasses :class:`ArithmeticError`, so ``except ArithmeticError`` (which also
    catches ``ZeroDivisionError`` and ``OverflowError``) catches it too.

    Attributes
    ----------
    node : the node whose value or gradient failed (an ``Operation``), or None.
    op : the op's name, e.g. ``"log"``.
    operands : the operand values the op was applied to.
    point : for a batch of inputs (numpy arrays), the index of the first point where
        it failed; None otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        node: Any = None,
        op: str | None = None,
        operands: tuple[float, ...] = (),
        point: int | None = None,
    ) -> None:
        super().__init__(message)
        self.node = node
        self.op = op
        self.operands = operands
        self.point = point


# -- messages ---------------------------------------------------------------------------
# The interpreters call these only on the error path, so they may take their time.

def _problem(op: Any, cause: BaseException | None) -> str:
    # What went wrong, and -- for a domain error -- what the op needed instead.
    if isinstance(cause, OverflowError) or cause is None:
        return "is too large for a float (it overflows to inf)"
    what = "divides by zero" if isinstance(cause, ZeroDivisionError) else f"is undefined ({cause})"
    return f"{what}; {op.name} needs {op.domain}"


def _call_text(op: Any, operands: tuple[float, ...]) -> str:
    # log(-1.0) or 1.0 / 0.0: the failing computation, with the actual numbers.
    if op.infix:
        a, b = (f"({x!r})" if x < 0 else repr(x) for x in operands)
        return f"{a} {op.symbol} {b}"
    return f"{op.symbol}({', '.join(map(repr, operands))})"


def _where(point: int | None, inputs: str) -> str:
    # For a batch: which point failed, and the inputs there ("at point 12 (x=-0.25)").
    return "" if point is None else f", at point {point}" + (f" ({inputs})" if inputs else "")


def value_error(
    node: Any, op: Any, operands: tuple[float, ...], cause: BaseException | None,
    point: int | None = None, inputs: str = "",
) -> EvaluationError:
    """The error for an op whose value cannot be computed (or is inf/NaN); for a batch,
    ``point`` is the failing point's index and ``inputs`` the batched inputs there."""
    problem = _problem(op, cause) + _where(point, inputs)
    message = f"{op.name}: {_call_text(op, operands)} {problem}. At node: {describe(node)}"
    return EvaluationError(message, node=node, op=op.name, operands=operands, point=point)


def gradient_error(
    node: Any, op: Any, operands: tuple[float, ...], argnum: int, cause: BaseException | None,
    point: int | None = None, inputs: str = "",
) -> EvaluationError:
    """The error for a derivative that is infinite or undefined (``sqrt`` at 0)."""
    message = (
        f"{op.name}: the gradient of {_call_text(op, operands)} with respect to operand "
        f"{argnum} {_problem(op, cause)}{_where(point, inputs)}. At node: {describe(node)}"
    )
    return EvaluationError(message, node=node, op=op.name, operands=operands, point=point)


def at_point(error: EvaluationError, point: int, inputs: str) -> EvaluationError:
    """The same error for a batch: which point failed, and the batched inputs there.

    The engine finds a failing point and asks the reference interpreter, which knows
    nothing of batches, to run it; this adds the point to what the interpreter said.
    """
    message = str(error)
    where = _where(point, inputs)
    head, sep, tail = message.rpartition(". At node: ")
    message = f"{head}{where}{sep}{tail}" if sep else f"{message}{where}"
    return EvaluationError(message, node=error.node, op=error.op, operands=error.operands,
                           point=point)

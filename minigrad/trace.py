"""The backward pass, step by step: :func:`backward_trace`, for learning how it works.

Each step of the backward pass takes one node ``n`` (in reverse topological order,
starting from the output with gradient 1) and one of its operands ``a``, and does::

    g[a] += g[n] * d n / d a

The trace lists those steps with the numbers in them: the node and its gradient, the
operand, the partial d n / d a with the rule it comes from (``ops.py``), the
contribution ``g[n] * partial`` and the operand's gradient after adding it.  It is
recorded by the reference interpreter itself (``interpret_backward`` in
``interpret.py``) while it runs; :func:`~minigrad.backward` runs the same rules
through the engine, which may add a node's shares in another order, and is tested to
agree with it.

Nodes are numbered by their place in ``graph.order``, the same numbers as the
``#3`` labels of ``draw_graph(..., numbers=True)`` and of :func:`~minigrad.show_code`
(the engine's steps).  In a rule, ``#3`` stands for node 3's value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import attrs

from minigrad.graph import Graph
from minigrad.interpret import Step, interpret_backward, interpret_forward
from minigrad.nodes import Node, Operation, Scalar, describe, format_number
from minigrad.ops import OPS, rule_text
from minigrad.values import Inputs, NodeValues, output_position, resolve_inputs

__all__ = ["BackwardTrace", "TraceStep", "backward_trace"]


@attrs.frozen
class TraceStep:
    """One step of the backward pass: ``g[operand] += gradient * partial``.

    Attributes
    ----------
    node, position : the node passing its gradient back, and its number.
    operand, operand_position : the operand receiving a share, and its number.
    argnum : which operand (0 for the first, 1 for the second).
    rule : the partial's rule from ``ops.py`` with this node's operands filled in:
        ``"3 * x ** (3 - 1.0)"`` for ``x**3`` (the table's rule is
        ``"b * a ** (b - 1.0)"``).  Operands show as their name, their number or their
        value; ``out`` as the node's number.
    gradient : the node's gradient d output / d node (complete when its step comes).
    partial : d node / d operand, the rule's value here.
    contribution : ``gradient * partial``, what this step adds.
    total : the operand's gradient after the addition.
    """

    node: Operation
    position: int
    operand: Node
    operand_position: int
    argnum: int
    rule: str
    gradient: float
    partial: float
    contribution: float
    total: float


class BackwardTrace(Sequence[TraceStep]):
    """The steps of one backward pass, with the values and gradients it produced.

    A sequence of :class:`TraceStep`; ``print(trace)`` shows it as a table.
    """

    def __init__(self, graph: Graph, output: Node, values: NodeValues,
                 gradients: NodeValues, steps: tuple[TraceStep, ...]) -> None:
        self.graph, self.output = graph, output
        self.values, self.gradients = values, gradients
        self.steps = steps

    @overload
    def __getitem__(self, index: int) -> TraceStep: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[TraceStep]: ...

    def __getitem__(self, index: int | slice) -> TraceStep | Sequence[TraceStep]:
        return self.steps[index]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[TraceStep]:
        return iter(self.steps)

    def __repr__(self) -> str:
        return f"<BackwardTrace of {describe(self.output, max_chars=40)}: {len(self)} steps>"

    def __str__(self) -> str:
        return self.table()

    def gradients_after(self, count: int) -> NodeValues:
        """The gradients as the backward pass holds them after its first ``count`` steps.

        Before any step (``count=0``) only the output has one: 1.  Each step then sets
        its operand's gradient to the step's ``total``, the sum so far; nodes no step
        has reached yet still hold 0.  After every step (``count=len(trace)``) they are
        :attr:`gradients`, the answer.  ``draw_graph(..., step=count)`` draws them.

        Examples
        --------
        >>> from minigrad import Scalar, Graph, backward_trace
        >>> x = Scalar(3.0, name="x")
        >>> y = x * x
        >>> trace = backward_trace(Graph(y), y)
        >>> [trace.gradients_after(k)[x] for k in range(len(trace) + 1)]  # 0, 3, 3 + 3
        [0.0, 3.0, 6.0]
        """
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"count: expected an int, got {type(count).__name__}")
        if not 0 <= count <= len(self.steps):
            raise ValueError(f"count: this backward pass has {len(self.steps)} steps, so "
                             f"it can be 0 to {len(self.steps)}, not {count}")
        # The backward loop's own start (interpret.backward_pass): zeros, and 1 for the
        # output; then each step's sum, as the loop writes it.
        grads = [0.0] * len(self.graph)
        grads[self.graph.index[self.output]] = 1.0
        for step in self.steps[:count]:
            grads[step.operand_position] = step.total
        return NodeValues(self.graph, grads)

    def label(self, position: int) -> str:
        """A node as the table names it: its number and a short rendering."""
        return f"#{position} {describe(self.graph.order[position], max_depth=3, max_chars=24)}"

    def table(self) -> str:
        """The steps as a table, one line per contribution, in the order they happen."""
        start = self.graph.index[self.output]
        header = ("step", "node", "its gradient", "operand", "partial: rule = value",
                  "contribution", "operand's gradient")
        rows = [header]
        for number, step in enumerate(self.steps, start=1):
            rows.append((
                str(number), self.label(step.position), format_number(step.gradient),
                self.label(step.operand_position),
                f"{step.rule} = {format_number(step.partial)}",
                format_number(step.contribution), format_number(step.total),
            ))
        widths = [max(len(row[k]) for row in rows) for k in range(len(header))]
        lines = [
            f"backward pass of {describe(self.output)}: g[node] = d output / d node, "
            f"starting from g[{self.label(start)}] = 1",
        ]
        for row in rows:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                            strict=True)))
        lines.append("gradients of the leaves: " + ", ".join(
            f"{self.label(self.graph.index[leaf])} -> {format_number(self.gradients[leaf])}"
            for leaf in self.graph.leaves) if self.graph.leaves else "no leaves")
        if any("#" in step.rule for step in self.steps):
            note = "in a rule, #i is the value of node #i"
            if any(f"#{step.position}" in step.rule for step in self.steps):
                note += (" (a rule may use its own node's value, computed by the forward "
                         "pass: the slope of exp(a) is exp(a) itself)")
            lines.append(note)
        return "\n".join(line.rstrip() for line in lines)


def _filled_in(graph: Graph, node: Operation, argnum: int) -> str:
    """The rule of ``node``'s partial by operand ``argnum``, with its operands in it."""

    def short(operand: Node | float) -> str:
        if isinstance(operand, Scalar) and operand.name is not None:
            return operand.name
        return f"#{graph.index[operand]}" if isinstance(operand, Node) else format_number(operand)

    names = [short(operand) for operand in node.args]
    return rule_text(OPS[node.op].partial_rules[argnum], *names, f"#{graph.index[node]}")


def backward_trace(graph: Graph, output: Node, inputs: Inputs | None = None) -> BackwardTrace:
    """The backward pass of ``output``, step by step, as the reference interpreter runs it.

    Returns a :class:`BackwardTrace`: a sequence of steps, each one contribution
    ``g[operand] += g[node] * partial``, in the order they are added; ``print`` it for a
    table.  Its ``gradients`` are the reference interpreter's; :func:`~minigrad.backward`
    runs the engine, tested to agree with them (to the last bit or so: the engine may
    add a node's shares in another order).

    Examples
    --------
    >>> from minigrad import Scalar, Graph
    >>> a = Scalar(3.0, name="a")
    >>> y = a - a
    >>> trace = backward_trace(Graph(y), y)
    >>> [(step.partial, step.total) for step in trace]
    [(1.0, 1.0), (-1.0, 0.0)]
    >>> print(trace)
    backward pass of a - a: g[node] = d output / d node, starting from g[#1 a - a] = 1
    step  node      its gradient  operand  partial: rule = value  contribution  operand's gradient
    1     #1 a - a  1             #0 a     1.0 = 1                1             1
    2     #1 a - a  1             #0 a     -1.0 = -1              -1            0
    gradients of the leaves: #0 a -> 0
    """
    position = output_position(graph, output)
    values = interpret_forward(graph, resolve_inputs(graph, inputs))
    recorded: list[Step] = []
    grads = interpret_backward(graph, values, position, steps=recorded)
    steps = []
    for step in recorded:
        node = graph.order[step.position]
        assert isinstance(node, Operation)
        steps.append(TraceStep(
            node=node, position=step.position, operand=graph.order[step.operand],
            operand_position=step.operand, argnum=step.argnum,
            rule=_filled_in(graph, node, step.argnum), gradient=step.gradient,
            partial=step.partial, contribution=step.gradient * step.partial,
            total=step.total,
        ))
    return BackwardTrace(graph, output, NodeValues(graph, values), NodeValues(graph, grads),
                         tuple(steps))

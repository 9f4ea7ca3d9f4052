"""``minigrad EXPR NAME=VALUE ...``: evaluate and differentiate an expression, and draw it.

    $ minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4
    a**3/5 + relu(b**2) = 16.675

    variable  value  gradient
    a           1.5      1.35
    b            -4        -8

Options: ``--json`` prints ``{"value": ..., "gradients": {...}}``; ``--dot FILE``
writes the graph as DOT; ``--render FILE.svg`` (or .png, .pdf) draws it -- with
graphviz's ``dot`` when it is installed, and for .svg with MiniGrad's own simple layout
when it is not, so a picture needs nothing beyond MiniGrad itself.

Every problem -- a syntax error, a forbidden construct, a missing or non-numeric
variable, a domain error such as ``log(-1)`` -- ends the program with a one-line message
(plus a caret line for positions) and a non-zero exit status, never a traceback:
2 for bad input, 1 for an expression that cannot be evaluated.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import graphviz

from minigrad.backward import values_and_gradients
from minigrad.errors import EvaluationError
from minigrad.graph import Graph
from minigrad.nodes import Node, Scalar, describe
from minigrad.parse import ParseError, parse_expression
from minigrad.svg import to_svg
from minigrad.visualize import DotNotFoundError, Drawing, dot_source

__all__ = ["main"]

BAD_INPUT, CANNOT_EVALUATE = 2, 1
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
RENDER_FORMATS = ("svg", "png", "pdf")


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def parse_assignments(assignments: Sequence[str]) -> dict[str, float]:
    """``["a=1.5", "b=-4"]`` -> ``{"a": 1.5, "b": -4.0}``, rejecting anything else."""
    values: dict[str, float] = {}
    for assignment in assignments:
        match = ASSIGNMENT.match(assignment)
        if match is None:
            raise UsageError(f"expected NAME=VALUE, got {assignment!r}")
        name, text = match.groups()
        if name in values:
            raise UsageError(f"{name} is given twice")
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{name}={text!r:.40}: the value is not a number") from None
        if not math.isfinite(value):
            raise UsageError(f"{name}={text}: the value must be a finite number")
        values[name] = value
    return values


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minigrad",
        description="Evaluate an expression, differentiate it with respect to every "
        "variable, and optionally draw its graph.",
        epilog='example: minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4 --render graph.svg',
    )
    parser.add_argument("expression", help="e.g. 'a**3/5 + relu(b**2)'; functions: "
                        "relu tanh exp log sigmoid sqrt sin cos abs")
    parser.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                        help="a value for each variable")
    parser.add_argument("--json", action="store_true",
                        help='print {"value": ..., "gradients": {...}} instead of a table')
    parser.add_argument("--dot", metavar="FILE", help="write the graph as DOT text")
    parser.add_argument("--render", metavar="FILE",
                        help="draw the graph to FILE.svg, FILE.png or FILE.pdf")
    return parser


def format_table(expression_text: str, value: float, gradients: dict[str, float],
                 leaves: dict[str, Scalar]) -> str:
    """The human-readable result: the value, then one row per variable."""
    lines = [f"{expression_text} = {value!r}"]
    if gradients:
        rows = [("variable", "value", "gradient")] + [
            (name, repr(leaves[name].value), repr(grad)) for name, grad in gradients.items()
        ]
        widths = [max(len(row[k]) for row in rows) for k in range(3)]
        lines.append("")
        for name, leaf_value, grad in rows:
            lines.append(f"{name:<{widths[0]}}  {leaf_value:>{widths[1]}}  {grad:>{widths[2]}}")
    return "\n".join(lines)


def render(path: Path, graph: Graph, values: list[float], grads: list[float] | None) -> str:
    """Draw to ``path``; returns a note on how it was drawn."""
    file_format = path.suffix.lstrip(".").lower()
    if file_format not in RENDER_FORMATS:
        raise UsageError(f"--render {path}: the file must end in .svg, .png or .pdf")
    if shutil.which("dot") is not None:
        path.write_bytes(Drawing(dot_source(graph, values, grads)).pipe(format=file_format))
        return f"drew the graph to {path} (graphviz)"
    if file_format == "svg":
        path.write_text(to_svg(graph, values, grads), encoding="utf-8")
        return (f"drew the graph to {path} (MiniGrad's simple layout; install graphviz "
                "for a better one)")
    raise DotNotFoundError(["dot"])


def run(arguments: argparse.Namespace) -> int:
    values_by_name = parse_assignments(arguments.assignments)
    expression, leaves = parse_expression(arguments.expression, values_by_name)
    unused = sorted(set(values_by_name) - set(leaves))
    if unused:
        raise UsageError(f"{', '.join(unused)} given but not used in the expression")
    if not isinstance(expression, Node):  # just a number: nothing to differentiate
        expression = Scalar(expression)
    graph = Graph(expression)
    values, grads = values_and_gradients(graph, expression)
    assert grads is not None
    value = values[graph.index[expression]]
    gradients = {name: grads[graph.index[leaf]] for name, leaf in leaves.items()}

    notes = []
    if arguments.dot:
        Path(arguments.dot).write_text(dot_source(graph, values, grads), encoding="utf-8")
        notes.append(f"wrote the DOT text to {arguments.dot}")
    if arguments.render:
        notes.append(render(Path(arguments.render), graph, values, grads))

    if arguments.json:
        print(json.dumps({"value": value, "gradients": gradients}))
    else:
        print(format_table(describe(expression, max_depth=50, max_chars=200), value,
                           gradients, leaves))
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns the exit status."""
    arguments = argument_parser().parse_args(argv)
    try:
        return run(arguments)
    except (UsageError, ParseError) as error:
        print(f"minigrad: error: {error}", file=sys.stderr)
        return BAD_INPUT
    except EvaluationError as error:
        print(f"minigrad: cannot evaluate: {error}", file=sys.stderr)
        return CANNOT_EVALUATE
    except (DotNotFoundError, graphviz.CalledProcessError) as error:
        print(f"minigrad: cannot draw: {error}", file=sys.stderr)
        return CANNOT_EVALUATE
    except OSError as error:  # an output file that cannot be written
        print(f"minigrad: error: {error}", file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

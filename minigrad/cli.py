"""``minigrad EXPR NAME=VALUE ...``: evaluate and differentiate an expression, and draw it.

    $ minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4
    a**3/5 + relu(b**2) = 16.675

    variable  value  gradient
    a           1.5      1.35
    b            -4        -8

Derivatives, after the table: ``--diff x`` prints the derivative as an expression
and its value, ``df/dx = 3*x**2 = 12.0`` (from :func:`minigrad.diff`; give it once
per variable); ``--hessian`` the matrix of second derivatives, a row and a column per
variable (:func:`minigrad.hessian`); ``--trace`` the backward pass step by step
(:func:`minigrad.backward_trace`).  ``--json`` prints all of it as one object:
``{"value": ..., "gradients": {...}}``, plus ``"derivatives"``, ``"hessian"`` and
``"trace"`` when asked for.

Pictures: ``--dot FILE`` writes the graph as DOT (``--dot -``: to standard output,
instead of the report, which then goes to standard error); ``--render FILE.svg`` (or
.png, .pdf) draws it -- with graphviz's ``dot`` when it is installed, and for .svg
with MiniGrad's own simple layout when it is not, so a picture needs nothing beyond
MiniGrad itself.  With ``--partials`` each edge into an op shows its partial and what
the backward pass sends back along it; ``--numbers`` shows the node numbers ``#i``
that ``--trace`` uses.

An expression may start with ``-`` (``minigrad "-a*b" a=1 b=2``): an argument that
starts with ``-`` but is not one of the options is the expression.  Variable names are
Python identifiers, ``é`` included.

Every problem -- a syntax error, a forbidden construct, a missing or non-numeric
variable, a domain error such as ``log(-1)``, a graph too big to draw -- ends the
program with a one-line message (plus a caret line for positions) and a non-zero exit
status, never a traceback: 2 for bad input, 1 for an expression that cannot be
evaluated or drawn.  Output the terminal cannot encode is written as ``\\xe9``-style
escapes, and a reader that goes away (``minigrad ... | head -1``) ends the program
quietly, as it does other Unix tools.
"""

from __future__ import annotations

import argparse
import json
import keyword
import math
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import attrs
import graphviz

from minigrad.backward import values_and_gradients
from minigrad.derivatives import diff, hessian
from minigrad.errors import EvaluationError
from minigrad.evaluate import evaluate
from minigrad.graph import Graph
from minigrad.nodes import Node, Scalar, describe
from minigrad.parse import FUNCTIONS, ParseError, parse_expression
from minigrad.svg import to_svg
from minigrad.trace import BackwardTrace, TraceStep, backward_trace
from minigrad.visualize import (
    DotNotFoundError,
    DotTimeoutError,
    Drawing,
    GraphTooLargeError,
    check_size,
    dot_source,
)

__all__ = ["main"]

BAD_INPUT, CANNOT_EVALUATE = 2, 1
#: Exit status when the reader of standard output has gone away (Python's own choice).
BROKEN_PIPE = 1
RENDER_FORMATS = ("svg", "png", "pdf")
#: An unknown argument of this shape is a mistyped option; any other is an expression.
LONG_OPTION = re.compile(r"--[A-Za-z]")
DOT_TEXT_INSTEAD = "write the DOT text with --dot FILE (or --dot - for standard output)"
#: --hessian prints a row and a column per variable; beyond this many, refused.
MAX_HESSIAN_VARIABLES = 100


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class CannotDraw(Exception):
    """A drawing that cannot be made: printed as one line, exit status 1."""


def variable_name(text: str) -> str | None:
    """``text`` as the parser names a variable, or None if it is not a variable name.

    Python's parser normalizes identifiers (NFKC: ``ﬁ`` is ``fi``), so we do too.
    """
    name = unicodedata.normalize("NFKC", text)
    return name if name.isidentifier() and not keyword.iskeyword(name) else None


def parse_assignments(assignments: Sequence[str]) -> dict[str, float]:
    """``["a=1.5", "b=-4"]`` -> ``{"a": 1.5, "b": -4.0}``, rejecting anything else."""
    values: dict[str, float] = {}
    for assignment in assignments:
        before, equals, text = assignment.partition("=")
        name = variable_name(before)
        if not equals or name is None:
            raise UsageError(f"expected NAME=VALUE with a variable name, got {assignment!r}")
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
        usage="minigrad [-h] [--json] [--diff NAME] [--hessian] [--trace] [--dot FILE] "
        "[--render FILE] [--partials] [--numbers] EXPR [NAME=VALUE ...]",
        description="Evaluate an expression, differentiate it with respect to every "
        "variable, and optionally draw its graph.",
        epilog='example: minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4 --render graph.svg',
    )
    # One list for the expression and the assignments: see parse_arguments.
    parser.add_argument("words", nargs="*", metavar="EXPR NAME=VALUE",
                        help="an expression, e.g. 'a**3/5 + relu(b**2)' or '-a*b' "
                        f"(functions: {' '.join(FUNCTIONS)}), then a value for each "
                        "variable")
    parser.add_argument("--json", action="store_true",
                        help='print {"value": ..., "gradients": {...}} instead of a table')
    parser.add_argument("--diff", metavar="NAME", action="append", default=[],
                        help="print the derivative by NAME as an expression, and its "
                        "value (may be given for several variables)")
    parser.add_argument("--hessian", action="store_true",
                        help="print the second derivatives, a row and a column per variable")
    parser.add_argument("--trace", action="store_true",
                        help="print the backward pass step by step")
    parser.add_argument("--dot", metavar="FILE",
                        help="write the graph as DOT text (-: to standard output)")
    parser.add_argument("--render", metavar="FILE",
                        help="draw the graph to FILE.svg, FILE.png or FILE.pdf")
    parser.add_argument("--partials", action="store_true",
                        help="in the drawing, write on each edge into an op its partial "
                        "and what the backward pass sends back along it")
    parser.add_argument("--numbers", action="store_true",
                        help="in the drawing, number the nodes as --trace does")
    return parser


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, with ``expression`` and ``assignments``.

    argparse takes every argument that starts with ``-`` for an option, so on its own it
    rejects ``minigrad "-a*b" a=1 b=2`` unless a ``--`` comes first.  We let argparse set
    such arguments aside (``parse_known_args``) and put them back among the positional
    ones, where they were: a NAME=VALUE never starts with ``-``, so one that is not an
    option is the expression.  ``--jsn`` and the like stay errors.
    """
    parser = argument_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments, unknown = parser.parse_known_args(argv)
    mistyped = [argument for argument in unknown if LONG_OPTION.match(argument)]
    if mistyped:
        parser.error(f"unrecognized arguments: {' '.join(mistyped)}")
    first_position: dict[str, int] = {}
    for position, argument in enumerate(argv):
        first_position.setdefault(argument, position)
    words = sorted([*arguments.words, *unknown], key=first_position.__getitem__)
    if not words:
        parser.error("the following arguments are required: EXPR")
    arguments.expression, *arguments.assignments = words
    return arguments


# -- what is computed ------------------------------------------------------------------------

def values_at(nodes: list[Node], leaves: dict[str, Scalar]) -> list[float]:
    """The values of nodes built over the leaves (derivatives), at the leaves' values.

    One Graph of them all, with the leaves as outputs too: a derivative that came out
    constant (a :class:`~minigrad.Constant`) has no leaves of its own, and its Graph
    must still accept the point as inputs.
    """
    if not nodes:
        return []
    point: dict[object, object] = {leaf: leaf.value for leaf in leaves.values()}
    values = evaluate(Graph(*nodes, *leaves.values()), inputs=point)
    return [values[node] for node in nodes]


def derivatives(expression: Node, names: list[str], leaves: dict[str, Scalar]
                ) -> dict[str, tuple[Node, float]]:
    """d expression / d leaf for each name: the derivative as an expression, and its value."""
    nodes = [diff(expression, leaves[name]) for name in names]
    return dict(zip(names, zip(nodes, values_at(nodes, leaves), strict=True), strict=True))


def hessian_values(expression: Node, leaves: dict[str, Scalar]) -> dict[str, dict[str, float]]:
    """The second derivatives by each pair of variables, as ``H[row][column]``."""
    rows = hessian(expression, list(leaves.values()))
    values = iter(values_at([entry for row in rows for entry in row], leaves))
    return {row: {column: next(values) for column in leaves} for row in leaves}


# -- how it is shown ----------------------------------------------------------------------------

def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as lines: the first column left-aligned, the numbers right-aligned."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = []
    for name, *numbers in rows:
        cells = [cell.rjust(width) for cell, width in zip(numbers, widths[1:], strict=True)]
        lines.append("  ".join([name.ljust(widths[0]), *cells]))
    return lines


def format_table(expression_text: str, value: float, gradients: dict[str, float],
                 leaves: dict[str, Scalar]) -> str:
    """The human-readable result: the value, then one row per variable."""
    lines = [f"{expression_text} = {value!r}"]
    if gradients:
        rows = [("variable", "value", "gradient")] + [
            (name, repr(leaves[name].value), repr(grad)) for name, grad in gradients.items()
        ]
        lines += ["", *aligned(rows)]
    return "\n".join(lines)


def format_derivatives(found: dict[str, tuple[Node, float]]) -> str:
    """``df/dx = 3*x**2 = 12.0``: each derivative as an expression, and its value."""
    return "\n".join(f"df/d{name} = {node} = {value!r}" for name, (node, value) in found.items())


def format_hessian(matrix: dict[str, dict[str, float]]) -> str:
    """The Hessian as a table, rows and columns named by variable."""
    if not matrix:
        return "hessian: the expression has no variables"
    names = list(matrix)
    rows = [("hessian", *names)] + [(row, *(repr(matrix[row][column]) for column in names))
                                    for row in names]
    return "\n".join(aligned(rows))


def trace_json(trace: BackwardTrace) -> list[dict[str, object]]:
    """The steps of the backward pass as JSON objects, nodes named as in its table."""

    def step_json(step: TraceStep) -> dict[str, object]:
        return {"node": trace.label(step.position), "operand": trace.label(step.operand_position),
                "gradient": step.gradient, "partial": step.partial, "rule": step.rule,
                "contribution": step.contribution, "total": step.total}

    return [step_json(step) for step in trace]


# -- pictures -----------------------------------------------------------------------------------

@attrs.frozen
class Picture:
    """The numbers of a run, per node, and how they are drawn: values and gradients,
    and for ``--partials`` the steps of the backward pass (else None)."""

    graph: Graph
    values: list[float]
    grads: list[float]
    steps: tuple[TraceStep, ...] | None
    numbers: bool

    def dot(self) -> str:
        return dot_source(self.graph, self.values, self.grads, steps=self.steps,
                          numbers=self.numbers)

    def svg(self) -> str:
        return to_svg(self.graph, self.values, self.grads, steps=self.steps,
                      numbers=self.numbers)


def render(path: Path, picture: Picture) -> str:
    """Draw to ``path``; returns a note on how it was drawn."""
    file_format = path.suffix.lstrip(".").lower()
    if file_format not in RENDER_FORMATS:
        raise UsageError(f"--render {path}: the file must end in .svg, .png or .pdf")
    if shutil.which("dot") is not None:
        try:
            check_size(picture.graph, partials=picture.steps is not None)  # at once,
            data = Drawing(picture.dot()).pipe(file_format)  # not minutes inside dot
        except GraphTooLargeError as error:
            raise CannotDraw(f"{error.reason}.  Instead, {DOT_TEXT_INSTEAD}") from None
        except DotTimeoutError as error:
            raise CannotDraw(f"graphviz's dot was stopped after {error.timeout:g} seconds "
                             f"without finishing the drawing.  Instead, {DOT_TEXT_INSTEAD}"
                             ) from None
        path.write_bytes(data)
        return f"drew the graph to {path} (graphviz)"
    if file_format == "svg":
        try:
            svg = picture.svg()
        except GraphTooLargeError as error:
            raise CannotDraw(f"{error.reason}.  Install graphviz (e.g. apt-get install "
                             f"graphviz) to draw it, or {DOT_TEXT_INSTEAD}") from None
        path.write_text(svg, encoding="utf-8")
        return (f"drew the graph to {path} (MiniGrad's simple layout; install graphviz "
                "for a better one)")
    raise DotNotFoundError(["dot"])


# -- the command --------------------------------------------------------------------------------

def check_options(arguments: argparse.Namespace, leaves: dict[str, Scalar]) -> None:
    """Refuse options that do not fit together or with the expression, before any work."""
    if arguments.dot == "-" and arguments.json:
        raise UsageError("--dot - and --json both write to standard output; choose one")
    drawing_options = [option for option in ("partials", "numbers") if getattr(arguments, option)]
    if drawing_options and not (arguments.dot or arguments.render):
        raise UsageError(f"--{drawing_options[0]} is an option of the drawing: use it with "
                         "--dot FILE or --render FILE")
    if arguments.hessian and len(leaves) > MAX_HESSIAN_VARIABLES:
        raise UsageError(f"--hessian: the expression has {len(leaves):,} variables; a Hessian "
                         f"(a row and a column per variable) is printed for at most "
                         f"{MAX_HESSIAN_VARIABLES}")
    check_diff(arguments.diff, leaves)


def check_diff(texts: list[str], leaves: dict[str, Scalar]) -> list[str]:
    """The variables of ``--diff``, as the expression names them, each once; or a
    UsageError for one the expression does not have."""
    names: list[str] = []
    for text in texts:
        name = variable_name(text)
        if name is None or name not in leaves:
            known = ", ".join(leaves) if leaves else "none"
            raise UsageError(f"--diff {text}: not a variable of the expression "
                             f"(its variables: {known})")
        if name not in names:
            names.append(name)
    return names


def report(arguments: argparse.Namespace, expression: Node, leaves: dict[str, Scalar],
           picture: Picture, trace: BackwardTrace | None
           ) -> tuple[list[str], dict[str, object]]:
    """What the command prints: sections of text, and the same as one JSON object."""
    graph, values, grads = picture.graph, picture.values, picture.grads
    value = values[graph.index[expression]]
    gradients = {name: grads[graph.index[leaf]] for name, leaf in leaves.items()}
    sections = [format_table(describe(expression, max_depth=50, max_chars=200), value,
                             gradients, leaves)]
    as_json: dict[str, object] = {"value": value, "gradients": gradients}
    diff_names = check_diff(arguments.diff, leaves)
    if diff_names:
        found = derivatives(expression, diff_names, leaves)
        sections.append(format_derivatives(found))
        as_json["derivatives"] = {name: {"expression": str(node), "value": node_value}
                                  for name, (node, node_value) in found.items()}
    if arguments.hessian:
        as_json["hessian"] = matrix = hessian_values(expression, leaves)
        sections.append(format_hessian(matrix))
    if arguments.trace:
        assert trace is not None
        sections.append(str(trace))
        as_json["trace"] = trace_json(trace)
    return sections, as_json


def run(arguments: argparse.Namespace) -> int:
    values_by_name = parse_assignments(arguments.assignments)
    expression, leaves = parse_expression(arguments.expression, values_by_name)
    unused = sorted(set(values_by_name) - set(leaves))
    if unused:
        raise UsageError(f"{', '.join(unused)} given but not used in the expression")
    check_options(arguments, leaves)
    if not isinstance(expression, Node):  # just a number: nothing to differentiate
        expression = Scalar(expression)
    graph = Graph(expression)
    # One recorded backward pass serves --trace and --partials; its numbers are then the
    # ones shown everywhere (they are backward()'s, to the last bit).
    trace = backward_trace(graph, expression) if arguments.trace or arguments.partials else None
    if trace is not None:
        picture = Picture(graph, list(trace.values.values()), list(trace.gradients.values()),
                          trace.steps if arguments.partials else None, arguments.numbers)
    else:
        values, grads = values_and_gradients(graph, expression)
        assert grads is not None
        picture = Picture(graph, values, grads, None, arguments.numbers)
    sections, as_json = report(arguments, expression, leaves, picture, trace)

    notes = []
    if arguments.dot and arguments.dot != "-":
        Path(arguments.dot).write_text(picture.dot(), encoding="utf-8")
        notes.append(f"wrote the DOT text to {arguments.dot}")
    if arguments.render:
        notes.append(render(Path(arguments.render), picture))

    text = "\n\n".join(sections)
    if arguments.dot == "-":  # standard output is the DOT text alone; the report aside
        print(picture.dot(), end="")
        print(text, file=sys.stderr)
    elif arguments.json:
        print(json.dumps(as_json))
    else:
        print(text)
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def forgiving_output() -> None:
    """Write what the terminal's encoding lacks (``é`` under ``PYTHONIOENCODING=ascii``, the
    ``…`` of a shortened expression) as ``\\xe9``-style escapes, instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns the exit status."""
    forgiving_output()
    arguments = parse_arguments(argv)
    try:
        status = run(arguments)
        if sys.stdout is not None:
            sys.stdout.flush()  # so that a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        # The reader of our output has gone away (`minigrad ... | head -c0`): stop
        # quietly.  Python's recipe: point stdout at devnull, so that the flush at exit
        # does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
    except (UsageError, ParseError) as error:
        print(f"minigrad: error: {error}", file=sys.stderr)
        return BAD_INPUT
    except EvaluationError as error:
        print(f"minigrad: cannot evaluate: {error}", file=sys.stderr)
        return CANNOT_EVALUATE
    except (CannotDraw, DotNotFoundError, graphviz.CalledProcessError) as error:
        print(f"minigrad: cannot draw: {error}", file=sys.stderr)
        return CANNOT_EVALUATE
    except OSError as error:  # an output file that cannot be written
        print(f"minigrad: error: {error}", file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``minigrad EXPR NAME=VALUE ...``: evaluate and differentiate an expression, and draw it.

    $ minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4
    a**3/5 + relu(b**2) = 16.675

    variable  value  gradient
    a           1.5      1.35
    b            -4        -8

Options: ``--json`` prints ``{"value": ..., "gradients": {...}}``; ``--dot FILE``
writes the graph as DOT (``--dot -``: to standard output, instead of the table, which
then goes to standard error); ``--render FILE.svg`` (or .png, .pdf) draws it -- with
graphviz's ``dot`` when it is installed, and for .svg with MiniGrad's own simple layout
when it is not, so a picture needs nothing beyond MiniGrad itself.

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

import graphviz

from minigrad.backward import values_and_gradients
from minigrad.errors import EvaluationError
from minigrad.graph import Graph
from minigrad.nodes import Node, Scalar, describe
from minigrad.parse import ParseError, parse_expression
from minigrad.svg import to_svg
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
        usage="minigrad [-h] [--json] [--dot FILE] [--render FILE] EXPR [NAME=VALUE ...]",
        description="Evaluate an expression, differentiate it with respect to every "
        "variable, and optionally draw its graph.",
        epilog='example: minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4 --render graph.svg',
    )
    # One list for the expression and the assignments: see parse_arguments.
    parser.add_argument("words", nargs="*", metavar="EXPR NAME=VALUE",
                        help="an expression, e.g. 'a**3/5 + relu(b**2)' or '-a*b' "
                        "(functions: relu tanh exp log sigmoid sqrt sin cos abs), then a "
                        "value for each variable")
    parser.add_argument("--json", action="store_true",
                        help='print {"value": ..., "gradients": {...}} instead of a table')
    parser.add_argument("--dot", metavar="FILE",
                        help="write the graph as DOT text (-: to standard output)")
    parser.add_argument("--render", metavar="FILE",
                        help="draw the graph to FILE.svg, FILE.png or FILE.pdf")
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
        try:
            check_size(graph)  # at once, rather than minutes inside dot
            data = Drawing(dot_source(graph, values, grads)).pipe(file_format)
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
            svg = to_svg(graph, values, grads)
        except GraphTooLargeError as error:
            raise CannotDraw(f"{error.reason}.  Install graphviz (e.g. apt-get install "
                             f"graphviz) to draw it, or {DOT_TEXT_INSTEAD}") from None
        path.write_text(svg, encoding="utf-8")
        return (f"drew the graph to {path} (MiniGrad's simple layout; install graphviz "
                "for a better one)")
    raise DotNotFoundError(["dot"])


def run(arguments: argparse.Namespace) -> int:
    values_by_name = parse_assignments(arguments.assignments)
    expression, leaves = parse_expression(arguments.expression, values_by_name)
    unused = sorted(set(values_by_name) - set(leaves))
    if unused:
        raise UsageError(f"{', '.join(unused)} given but not used in the expression")
    dot_to_stdout = arguments.dot == "-"
    if dot_to_stdout and arguments.json:
        raise UsageError("--dot - and --json both write to standard output; choose one")
    if not isinstance(expression, Node):  # just a number: nothing to differentiate
        expression = Scalar(expression)
    graph = Graph(expression)
    values, grads = values_and_gradients(graph, expression)
    assert grads is not None
    value = values[graph.index[expression]]
    gradients = {name: grads[graph.index[leaf]] for name, leaf in leaves.items()}

    notes = []
    if arguments.dot and not dot_to_stdout:
        Path(arguments.dot).write_text(dot_source(graph, values, grads), encoding="utf-8")
        notes.append(f"wrote the DOT text to {arguments.dot}")
    if arguments.render:
        notes.append(render(Path(arguments.render), graph, values, grads))

    table = format_table(describe(expression, max_depth=50, max_chars=200), value,
                         gradients, leaves)
    if dot_to_stdout:  # standard output is the DOT text alone; the table goes aside
        print(dot_source(graph, values, grads), end="")
        print(table, file=sys.stderr)
    elif arguments.json:
        print(json.dumps({"value": value, "gradients": gradients}))
    else:
        print(table)
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

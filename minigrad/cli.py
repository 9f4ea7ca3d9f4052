"""``minigrad EXPR NAME=VALUE ...``: evaluate and differentiate an expression, and draw it.

    $ minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4
    a**3/5 + relu(b**2) = 16.675

    variable  value  gradient
    a           1.5      1.35
    b          -4.0      -8.0

Derivatives, after the table: ``--diff x`` prints the derivative as an expression
and its value, ``df/dx = 3*x**2 = 12.0`` (from :func:`minigrad.diff`; give it once
per variable; the table cuts a text longer than 2,000 characters, and says so;
``--json`` gives it whole); ``--hessian`` the matrix of second derivatives, a row and
a column per variable (:func:`minigrad.hessian`); ``--trace`` the backward pass step
by step (:func:`minigrad.backward_trace`).  ``--json`` prints all of it as one object:
``{"value": ..., "gradients": {...}}``, plus ``"derivatives"``, ``"hessian"`` and
``"trace"`` when asked for.

Pictures: ``--dot FILE`` writes the graph as DOT (``--dot -``: to standard output,
instead of the report, which then goes to standard error); ``--render FILE.svg`` (or
.png, .pdf) draws it -- with graphviz's ``dot`` when it is installed, and for .svg
with MiniGrad's own simple layout when it is not, so a picture needs nothing beyond
MiniGrad itself.  With ``--partials`` each edge into an op shows its partial and what
the backward pass sends back along it; ``--numbers`` shows the node numbers ``#i``
that ``--trace`` uses.

Many points: a range ``NAME=START:STOP:N`` gives a variable N evenly spaced values
from START to STOP, both included, as ``numpy.linspace`` does::

    $ minigrad "sin(x)*x**2" x=-6:6:101
    sin(x)*x**2 at 101 points: x from -6.0 to 6.0

    point      x     value     d/dx
    0       -6.0    10.059  31.2131
    1      -5.88   13.5653   27.188
    ...

one row per point -- the first and last five when there are more than 20 -- with six
significant digits, all computed in one pass over arrays (``engine.py``).  ``--json``
prints lists instead, every digit: ``{"value": [...], "gradients": {"x": [...]},
"points": {"x": [...]}}``.  Several ranges of the same N are paired point by point, as
``zip`` pairs them; the other variables keep their one value.  ``--plot FILE.png`` (or
.svg, .pdf) draws f and its gradients over the range.  A point outside f's domain
(``log(x)`` over ``x=-1:1:101``) is an error, as for one point, naming the point --
except with ``--plot``: the plot shows a gap there (the table ``nan``, the JSON
``null``), and a note says at how many points and why.  ``--diff`` prints the
derivative's expression (its values are the gradients); ``--hessian``, ``--trace``,
``--dot`` and ``--render`` are about one point and refuse a range.  Ranges need numpy
(``pip install numpy``), plots matplotlib (``pip install matplotlib``); each is
imported only when used.

An expression may start with ``-`` (``minigrad "-a*b" a=1 b=2``): an argument that
starts with ``-`` but is not one of the options is the expression.  Variable names are
Python identifiers, ``é`` included.  The expression ``-`` is read from standard input,
and ``--file FILE`` reads it from a file (UTF-8; the words on the command line are then
all NAME=VALUE): one shell argument holds at most 128 KiB on Linux, the parser takes a
million characters.  ``--version`` prints MiniGrad's version.

Every problem -- a syntax error, a forbidden construct, missing or non-numeric
variables, a domain error such as ``log(-1)``, a graph too big to draw -- ends the
program with a one-line message (plus a caret line for positions) and a non-zero exit
status, never a traceback.  Every variable without a value and every value without a
variable are named at once; long user text is shown abbreviated (``parse.shown``).  The
exit status is 2 when the command cannot run as given -- a bad argument, expression
text or file, or an optional dependency (numpy, matplotlib, sympy, graphviz's dot) not
installed -- and 1 when the expression cannot be evaluated or its graph cannot be drawn;
the numbers already computed are printed first.  Output the terminal cannot encode
is written as ``\\xe9``-style escapes, and a reader that goes away
(``minigrad ... | head -1``) ends the program quietly, as it does other Unix tools.
"""

from __future__ import annotations

import argparse
import importlib
import json
import keyword
import math
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import graphviz

from minigrad import __version__
from minigrad.api import evaluate, value_and_grad, values_and_gradients
from minigrad.derivatives import diff, hessian
from minigrad.errors import EvaluationError
from minigrad.graph import Graph
from minigrad.nodes import Node, Scalar, describe, format_number
from minigrad.parse import (
    FUNCTIONS,
    MAX_EXPRESSION_LENGTH,
    MissingValues,
    ParseError,
    parse_expression,
    shown,
    shown_list,
)
from minigrad.svg import to_svg
from minigrad.trace import BackwardTrace, TraceStep, backward_trace
from minigrad.values import Undefined
from minigrad.visualize import (
    DotNotFoundError,
    DotTimeoutError,
    Drawing,
    GraphTooLargeError,
    check_size,
    dot_source,
)

if TYPE_CHECKING:  # numpy is an optional extra: imported only for a range
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = ["main"]

#: Exit statuses.  2: the command cannot run as given -- an argument, the expression's text,
#: a file that cannot be read or written, or the installation (an optional dependency such
#: as numpy, matplotlib or graphviz's dot that is missing) must change; argparse's own
#: errors exit 2 as well.  1: the command is right, but this expression's numbers are not:
#: it cannot be evaluated (log(-1)) or its graph cannot be drawn (too big, dot failed).
CANNOT_RUN, CANNOT_EVALUATE = 2, 1
#: Exit status when the reader of standard output has gone away (Python's own choice).
BROKEN_PIPE = 1
RENDER_FORMATS = ("svg", "png", "pdf")
#: An unknown argument of this shape is a mistyped option; any other is an expression.
LONG_OPTION = re.compile(r"--[A-Za-z]")
DOT_TEXT_INSTEAD = "write the DOT text with --dot FILE (or --dot - for standard output)"
#: The expression ``-`` (or ``--file -``) is read from standard input.
STANDARD_INPUT = "-"
#: The table shows a derivative's text up to this many characters (and says so).
TABLE_TEXT = 2_000
#: --json gives a derivative's text whole up to this many characters: about 10 MB, three
#: seconds to write.  A derivative's text can grow as the square of the expression's (a
#: nested function's derivative repeats its operand's text), so some bound is needed;
#: beyond it, "expression" is null and a note says why -- never a text cut short.
MAX_DERIVATIVE_TEXT = 10_000_000
#: --hessian prints a row and a column per variable; beyond this many, refused.
MAX_HESSIAN_VARIABLES = 100
#: A range has at most this many points: --json and the plot hold them all, and where f
#: leaves its domain the checking interpreter keeps every node's values and gradients
#: (16 MB a node at 10**6 points).
MAX_POINTS = 10**6
#: A range's table shows every point up to this many; beyond, the first and last few.
MAX_TABLE_ROWS = 20
ROWS_AT_EACH_END = 5
PLOT_FORMATS = ("png", "svg", "pdf")
#: --plot draws a line per gradient; beyond this many variables, only the ranged ones'.
MAX_PLOTTED_GRADIENTS = 10
#: The plot's legend, below it, has at most this many entries side by side.
LEGEND_COLUMNS = 3


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class CannotDraw(Exception):
    """A drawing that cannot be made: printed as one line, exit status 1."""


class MissingExtra(Exception):
    """An optional dependency (numpy, matplotlib, sympy, graphviz's dot) that is not
    installed: printed as one line saying how to install it, exit status 2 -- the
    installation, like the command line, must change before the command can run."""


def variable_name(text: str) -> str | None:
    """``text`` as the parser names a variable, or None if it is not a variable name.

    Python's parser normalizes identifiers (NFKC: ``ﬁ`` is ``fi``), so we do too.
    """
    name = unicodedata.normalize("NFKC", text)
    return name if name.isidentifier() and not keyword.iskeyword(name) else None


@attrs.frozen
class Range:
    """``NAME=START:STOP:N`` on the command line: N evenly spaced points from START to
    STOP, both included -- ``numpy.linspace(START, STOP, N)``."""

    start: float
    stop: float
    count: int


def parse_assignments(assignments: Sequence[str]) -> dict[str, float | Range]:
    """``["a=1.5", "b=-4"]`` -> ``{"a": 1.5, "b": -4.0}``, rejecting anything else.

    A value with a colon is a range: ``"x=-6:6:101"`` -> ``{"x": Range(-6.0, 6.0, 101)}``.
    """
    values: dict[str, float | Range] = {}
    for assignment in assignments:
        before, equals, text = assignment.partition("=")
        name = variable_name(before)
        if not equals or name is None:
            raise UsageError("expected NAME=VALUE with a variable name, got "
                             f"{shown(assignment, quoted=True)}")
        if name in values:
            raise UsageError(f"{shown(name)} is given twice")
        if ":" in text:
            values[name] = parse_range(name, text)
            continue
        values[name] = finite_number(name, text, "the value", text)
    return values


def parse_range(name: str, text: str) -> Range:
    """``START:STOP:N`` as a :class:`Range`, or a UsageError that says what is wrong.

    >>> parse_range("x", "-6:-1:6")
    Range(start=-6.0, stop=-1.0, count=6)
    >>> parse_range("x", "a:2:3")
    Traceback (most recent call last):
    minigrad.cli.UsageError: x=a:2:3: START 'a' is not a number
    """
    parts = text.split(":")
    if len(parts) != 3:
        raise UsageError(f"{shown(f'{name}={text}')}: a range is START:STOP:N, N points from "
                         "START to STOP, both included (e.g. x=-6:6:101)")
    start_text, stop_text, count_text = parts
    start = finite_number(name, text, "START", start_text)
    stop = finite_number(name, text, "STOP", stop_text)
    if not math.isfinite(stop - start):  # numpy.linspace would step by inf
        raise UsageError(f"{shown(f'{name}={text}')}: the range is too wide for floats "
                         "(STOP - START overflows)")
    return Range(start, stop, range_count(name, text, count_text))


def finite_number(name: str, text: str, what: str, number: str) -> float:
    """``number``, the value or a range's START or STOP in ``name=text``, as a finite
    float; or a UsageError saying which part is wrong."""
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"{shown(f'{name}={text}')}: {what} {shown(number, quoted=True)} "
                         "is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{shown(f'{name}={text}')}: {what} must be a finite number")
    return value


def range_count(name: str, text: str, count_text: str) -> int:
    """N of the range ``name=text``: a whole number of points, 1 to MAX_POINTS."""
    digits = count_text.lstrip("0")
    if re.fullmatch("[0-9]+", count_text) is None or not digits:
        raise UsageError(f"{shown(f'{name}={text}')}: N, the number of points, must be a whole "
                         f"number of at least 1, got {shown(count_text, quoted=True)}")
    # Compared as text first: int() of thousands of digits is slow, and refused.
    if len(digits) > len(str(MAX_POINTS)) or int(digits) > MAX_POINTS:
        raise UsageError(f"{shown(f'{name}={text}')}: too many points; a range has at most "
                         f"{MAX_POINTS:,} (each is computed and kept in memory)")
    return int(digits)


def check_ranges(ranges: dict[str, Range]) -> None:
    """Ranges are paired point by point, as ``zip`` pairs them: they need one N."""
    if len({bounds.count for bounds in ranges.values()}) > 1:
        counts = shown_list([f"{name} has {bounds.count:,}" for name, bounds in ranges.items()])
        raise UsageError("ranges are paired point by point, so they must have the same "
                         f"number of points N; {counts}")


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minigrad",
        usage="minigrad [-h] [--version] [--json] [--diff NAME] [--hessian] [--latex] [--trace] "
        "[--dot FILE] [--render FILE] [--partials] [--numbers] [--plot FILE] "
        "{EXPR | - | --file FILE} [NAME=VALUE | NAME=START:STOP:N ...]",
        # Raw: the examples keep their lines, so the description is wrapped by hand.
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Evaluate an expression, differentiate it with respect to every "
        "variable,\nand optionally draw its graph; or do so at many points, and plot it.",
        epilog="examples:\n"
        '  minigrad "a**3/5 + relu(b**2)" a=1.5 b=-4 --render graph.svg\n'
        '  minigrad "sin(x)*x**2" x=-6:6:101               '
        "a table: 101 points from -6 to 6\n"
        '  minigrad "sin(x)*x**2" x=-6:6:101 --plot f.png  '
        "f and df/dx, drawn (needs matplotlib)\n"
        "  minigrad --file f.txt x=1 y=2                   "
        "the expression read from a file\n"
        '  echo "x*y + 1" | minigrad - x=1 y=2             '
        "... or from standard input\n"
        "\n"
        "exit status:\n"
        "  0  done\n"
        "  1  the expression cannot be evaluated (log(-1)) or its graph cannot be\n"
        "     drawn (too big, dot failed); the table is printed first\n"
        "  2  the command cannot run as given: a bad argument, expression text or\n"
        "     file, or a missing optional dependency (numpy, matplotlib, sympy,\n"
        "     graphviz's dot for --render .png or .pdf)",
    )
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    # One list for the expression and the assignments: see parse_arguments.
    parser.add_argument("words", nargs="*", metavar="EXPR NAME=VALUE",
                        help="an expression, e.g. 'a**3/5 + relu(b**2)' or '-a*b' "
                        f"(functions: {' '.join(FUNCTIONS)}), or - to read it from "
                        "standard input; then a value for each variable, or a range "
                        "START:STOP:N: N points from START to STOP, both included "
                        "(needs numpy)")
    parser.add_argument("--file", metavar="FILE",
                        help="read the expression from FILE (UTF-8 text; - for standard "
                        "input), for one longer than a shell argument may be (128 KiB on "
                        "Linux); every word on the command line is then a NAME=VALUE")
    parser.add_argument("--json", action="store_true",
                        help='print {"value": ..., "gradients": {...}} instead of a table '
                        "(for a range: lists, one number per point)")
    parser.add_argument("--diff", metavar="NAME", action="append", default=[],
                        help="print the derivative by NAME as an expression, and its "
                        "value (may be given for several variables)")
    parser.add_argument("--hessian", action="store_true",
                        help="print the second derivatives, a row and a column per variable")
    parser.add_argument("--latex", action="store_true",
                        help="print the expression (and, with --diff, its derivatives) as "
                        "LaTeX (needs sympy)")
    parser.add_argument("--trace", action="store_true",
                        help="print the backward pass step by step (text has no "
                             "variables, so a repeated subexpression such as x*y is a "
                             "node per occurrence)")
    parser.add_argument("--dot", metavar="FILE",
                        help="write the graph as DOT text (-: to standard output)")
    parser.add_argument("--render", metavar="FILE",
                        help="draw the graph to FILE.svg, FILE.png or FILE.pdf")
    parser.add_argument("--partials", action="store_true",
                        help="in the drawing, write on each edge into an op its partial "
                        "and what the backward pass sends back along it")
    parser.add_argument("--numbers", action="store_true",
                        help="in the drawing, number the nodes as --trace does")
    parser.add_argument("--plot", metavar="FILE",
                        help="with a range: plot the expression and its gradients over it "
                        "to FILE.png, FILE.svg or FILE.pdf (needs matplotlib)")
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
        parser.error(f"unrecognized arguments: {shown_list(mistyped)}")
    first_position: dict[str, int] = {}
    for position, argument in enumerate(argv):
        first_position.setdefault(argument, position)
    words = sorted([*arguments.words, *unknown], key=first_position.__getitem__)
    if arguments.file is not None:  # the expression is in the file; the words assign
        arguments.expression, arguments.assignments = None, words
    elif not words:
        parser.error("the following arguments are required: EXPR (or --file FILE)")
    else:
        arguments.expression, *arguments.assignments = words
    return arguments


def read_expression(arguments: argparse.Namespace) -> str:
    """The expression's text: the first word, or what ``-`` (standard input) or
    ``--file FILE`` holds -- UTF-8 text -- without the spaces and line break around it.

    One shell argument is at most 128 KiB on Linux, too little for the 100,000-term sums
    the parser takes; a file or a pipe has no such limit.  At most four bytes a character
    are read beyond the longest expression accepted, so that a huge file is refused
    without being read whole.
    """
    source = arguments.file if arguments.file is not None else arguments.expression
    if arguments.file is None and source != STANDARD_INPUT:
        return str(source)
    where = "standard input" if source == STANDARD_INPUT else f"--file {shown(source)}"
    most = 4 * MAX_EXPRESSION_LENGTH  # bytes: UTF-8 takes at most four a character
    try:
        if source == STANDARD_INPUT:
            if sys.stdin is None:
                raise UsageError("there is no standard input to read the expression from")
            data = sys.stdin.buffer.read(most + 1)
        else:
            with open(source, "rb") as file:
                data = file.read(most + 1)
    except OSError as error:
        raise UsageError(f"{where}: cannot read it: {error.strerror or error}") from None
    too_long = UsageError(f"{where}: the expression is longer than "
                          f"{MAX_EXPRESSION_LENGTH:,} characters, the most that is accepted")
    if len(data) > most:
        raise too_long
    try:
        # utf-8-sig: without the byte-order mark some Windows editors write first
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{where}: not UTF-8 text ({error.reason} at byte "
                         f"{error.start:,})") from None
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise too_long
    return text.strip()


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


def format_derivatives(found: Mapping[str, tuple[Node, float | None]]) -> str:
    """``df/dx = 3*x**2 = 12.0``: each derivative as an expression, and its value (None:
    over a range, where its values are the gradients).  A text longer than TABLE_TEXT
    characters is cut, and a last line says so."""
    lines, cut = [], []
    for name, (node, value) in found.items():
        text = describe(node, max_depth=TABLE_TEXT, max_chars=TABLE_TEXT)
        if text.endswith("…"):  # describe's mark of a cut; no whole text ends so
            cut.append(f"df/d{name}")
        lines.append(f"df/d{name} = {text}" + ("" if value is None else f" = {value!r}"))
    if cut:
        lines.append(f"({', '.join(cut)}: the text is cut at {TABLE_TEXT:,} characters; "
                     "--json prints it whole)")
    return "\n".join(lines)


def derivatives_json(found: Mapping[str, tuple[Node, float | None]]
                     ) -> tuple[dict[str, dict[str, object]], list[str]]:
    """``{"x": {"expression": "3*x**2", "value": 12.0}}`` (no value over a range), with
    each text whole; and notes for any too long to print (``"expression": null``)."""
    as_json: dict[str, dict[str, object]] = {}
    notes = []
    for name, (node, value) in found.items():
        text = describe(node, max_depth=MAX_DERIVATIVE_TEXT, max_chars=MAX_DERIVATIVE_TEXT)
        whole = not text.endswith("…")
        if not whole:
            notes.append(f"note: df/d{name} is longer than {MAX_DERIVATIVE_TEXT:,} characters "
                         'as text; --json gives its "expression" as null')
        entry: dict[str, object] = {"expression": text if whole else None}
        if value is not None:
            entry["value"] = value
        as_json[name] = entry
    return as_json, notes


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


def check_render(path: Path) -> None:
    """Refuse, before any work, a file format we cannot draw, or one that needs
    graphviz's dot (.png, .pdf) when dot is not installed."""
    file_format = path.suffix.lstrip(".").lower()
    if file_format not in RENDER_FORMATS:
        raise UsageError(f"--render {shown(str(path))}: the file must end in .svg, .png or .pdf")
    if file_format != "svg" and shutil.which("dot") is None:
        raise MissingExtra(f"--render {shown(str(path))}: a .{file_format} needs graphviz's dot "
                           "program, which is not installed (Debian/Ubuntu: apt-get install "
                           "graphviz; macOS: brew install graphviz; conda: conda install "
                           f"graphviz); without it, --render draws .svg, or {DOT_TEXT_INSTEAD}")


def render(path: Path, picture: Picture) -> str:
    """Draw to ``path`` (checked by :func:`check_render`); returns a note on how it was
    drawn."""
    file_format = path.suffix.lstrip(".").lower()
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
    raise DotNotFoundError(["dot"])  # dot was there a moment ago, in check_render


# -- many points: a range ------------------------------------------------------------------------

def require(module: str, why: str, extra: str) -> None:
    """Import an optional dependency now, or raise a one-line :class:`MissingExtra`
    naming the pip command that brings it -- before any work, never a traceback later.
    (From a checkout, the extra: ``pip install ".[numpy]"``.  Not ``minigrad[numpy]``:
    on the package index ``minigrad`` is another project.)"""
    try:
        importlib.import_module(module)
    except ImportError as error:
        missing = "is not installed" if error.name == module else f"cannot be imported ({error})"
        raise MissingExtra(f"{why} needs {module}, which {missing}: pip install {module} "
                           f'(from a checkout of MiniGrad: pip install ".[{extra}]")') from None


@attrs.frozen
class Sweep:
    """f and its gradients over a range: one float64 array each, a number per point."""

    points: dict[str, FloatArray]  # the ranged variables' values, by name
    value: FloatArray  # f at each point
    gradients: dict[str, FloatArray]  # df/d variable at each point, for every variable

    @property
    def size(self) -> int:
        return len(self.value)


def sweep(graph: Graph, expression: Node, leaves: dict[str, Scalar],
          ranges: dict[str, Range], undefined: Undefined) -> Sweep:
    """f and its gradients at every point of the ranges, in one pass over arrays (not a
    Python loop over the points): ``engine.py`` does it, a depth at a time."""
    import numpy as np

    points = {name: np.linspace(bounds.start, bounds.stop, bounds.count)
              for name, bounds in ranges.items()}
    values, grads = value_and_grad(graph, expression, undefined=undefined,
                                   inputs={leaves[name]: xs for name, xs in points.items()})
    return Sweep(points, np.asarray(values[expression], dtype=np.float64),
                 {name: np.asarray(grads[leaf], dtype=np.float64)
                  for name, leaf in leaves.items()})


def point_text(points: dict[str, FloatArray], index: int) -> str:
    """``point 3 (x=-1.5, y=0.25)``: which point, and the ranged variables there."""
    at = ", ".join(f"{name}={float(xs[index])!r}" for name, xs in points.items())
    return f"point {index} ({at})"


def undefined_note(graph: Graph, expression: Node, leaves: dict[str, Scalar],
                   result: Sweep, expression_text: str) -> str | None:
    """For a plot run with ``undefined="nan"``: at how many points f (or a gradient) is
    undefined, and why at the first of them -- the message the table would have given,
    found by evaluating that one point again with plain floats."""
    import numpy as np

    missing = np.isnan(result.value)  # the engine marks a failing point NaN everywhere
    if not missing.any():
        return None
    first = int(np.argmax(missing))
    at_first: dict[object, object] = {leaves[name]: float(xs[first])
                                      for name, xs in result.points.items()}
    try:
        values_and_gradients(graph, expression, inputs=at_first)
        why = "a value or gradient is not a finite number there"
    except EvaluationError as error:
        why = str(error)
    return (f"note: {expression_text} or a gradient is undefined at {int(missing.sum()):,} "
            f"of {result.size:,} points, gaps in the plot (nan in the table, null in --json); "
            f"the first is {point_text(result.points, first)}: {why}")


def format_sweep(expression_text: str, result: Sweep, fixed: dict[str, float]) -> str:
    """A range's table: a row per point (the first and last few, if there are many), with
    the ranged variables, the value, and the gradient by every variable."""
    ranges = "; ".join(f"{name} from {float(xs[0])!r} to {float(xs[-1])!r}" if len(xs) > 1
                       else f"{name} = {float(xs[0])!r}" for name, xs in result.points.items())
    others = "".join(f"; {name} = {value!r}" for name, value in fixed.items())
    n = result.size
    lines = [f"{expression_text} at {n:,} point{'s' if n != 1 else ''}: {ranges}{others}", ""]
    columns = [*result.points.values(), result.value, *result.gradients.values()]
    header = ("point", *result.points, "value", *(f"d/d{name}" for name in result.gradients))
    rows = [header]
    for index in shown_rows(n):
        rows.append(("...",) * len(header) if index is None else
                    (str(index), *(format_number(float(column[index]), like_python=True)
                                   for column in columns)))
    lines += aligned(rows)
    if n > MAX_TABLE_ROWS:
        lines += ["", f"{n:,} points: the first {ROWS_AT_EACH_END} and the last "
                  f"{ROWS_AT_EACH_END} are shown (--json prints them all)"]
    return "\n".join(lines)


def shown_rows(n: int) -> list[int | None]:
    """Which of n rows a table shows: all, or the first and last few around a None (...).

    >>> shown_rows(3)
    [0, 1, 2]
    >>> shown_rows(101)
    [0, 1, 2, 3, 4, None, 96, 97, 98, 99, 100]
    """
    if n <= MAX_TABLE_ROWS:
        return list(range(n))
    return [*range(ROWS_AT_EACH_END), None, *range(n - ROWS_AT_EACH_END, n)]


def json_list(array: FloatArray) -> list[float | None]:
    """An array as a JSON list: plain floats, and null where undefined (NaN: only in a
    run with --plot).  JSON has no NaN, and a reader should not have to guess."""
    return [x if math.isfinite(x) else None for x in array.tolist()]


def sweep_json(result: Sweep) -> dict[str, object]:
    """``{"value": [...], "gradients": {"x": [...]}, "points": {"x": [...]}}``."""
    return {"value": json_list(result.value),
            "gradients": {name: json_list(g) for name, g in result.gradients.items()},
            "points": {name: json_list(xs) for name, xs in result.points.items()}}


def plot(path: Path, expression_text: str, result: Sweep) -> str:
    """Draw f and its gradients against the first ranged variable to ``path`` (.png, .svg
    or .pdf); returns a note on what was drawn.  NaN points are gaps in the lines.

    A bare :class:`~matplotlib.figure.Figure`, not pyplot: no window, no global state;
    saving picks matplotlib's non-interactive backend for the format (Agg for .png).
    """
    import numpy as np
    from matplotlib.figure import Figure

    (name, xs), *others = result.points.items()
    gradients = result.gradients
    if len(gradients) > MAX_PLOTTED_GRADIENTS:  # a legend of thousands helps no one
        gradients = {leaf: g for leaf, g in gradients.items() if leaf in result.points}
    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.axhline(0.0, color="0.8", linewidth=0.8)
    axes.plot(xs, result.value, linewidth=2, label=f"f = {expression_text}")
    for leaf, gradient in gradients.items():
        axes.plot(xs, gradient, linestyle="--", label=f"df/d{leaf}")
    missing = np.isnan(result.value)
    if missing.any():  # where f is undefined: ticks on the zero line, under the gaps
        axes.plot(xs[missing], np.zeros(int(missing.sum())), linestyle="none", marker="|",
                  color="tab:red", clip_on=False, label="undefined")
    if xs[0] != xs[-1]:  # the whole range, even where f is undefined at its ends
        axes.set_xlim(min(xs[0], xs[-1]), max(xs[0], xs[-1]))
    paired = "".join(f"; {other} from {float(ys[0])!r} to {float(ys[-1])!r} alongside"
                     for other, ys in others)
    axes.set_xlabel(name + paired)
    axes.set_ylabel("value")
    axes.set_title(f"f = {expression_text}, and its gradients")
    axes.grid(alpha=0.3)
    # The legend goes below the axes, where it hides no line.  Left to choose its place
    # (loc="best", the default), matplotlib tries nine places against every point of
    # every line: over 10**6 points that takes seconds, and it says so with a warning.
    entries = len(axes.get_legend_handles_labels()[0])
    figure.legend(loc="outside lower center", ncols=min(entries, LEGEND_COLUMNS))
    figure.savefig(path)
    left_out = len(result.gradients) - len(gradients)
    but = f" (by the ranged variables only; {left_out:,} others left out)" if left_out else ""
    return f"plotted f and its gradients{but} over {name} to {path}"


def over_ranges(arguments: argparse.Namespace, expression: Node, leaves: dict[str, Scalar],
                ranges: dict[str, Range]) -> None:
    """The command for a range of points: the table (or JSON), then the plot.

    A table or JSON raises at a point outside f's domain, as for one point; a plot
    marks such points NaN instead (gaps in the lines) and says so in a note.
    """
    plotting = arguments.plot is not None
    graph = Graph(expression)
    text = describe(expression, max_depth=50, max_chars=200)
    result = sweep(graph, expression, leaves, ranges, "nan" if plotting else "raise")
    fixed = {name: leaf.value for name, leaf in leaves.items() if name not in ranges}
    sections = [format_sweep(text, result, fixed)]
    as_json = sweep_json(result)
    notes: list[str] = []
    diff_names = check_diff(arguments.diff, leaves)
    if diff_names:  # the expressions; their values over the range are the gradients
        found = {name: (diff(expression, leaves[name]), None) for name in diff_names}
        sections.append(format_derivatives(found))
        if arguments.json:
            as_json["derivatives"], notes = derivatives_json(found)
    emit(arguments, sections, as_json, notes)
    if plotting:  # after the numbers: a plot that cannot be written loses none of them
        print(plot(Path(arguments.plot), describe(expression, max_chars=60), result),
              file=sys.stderr)
        note = undefined_note(graph, expression, leaves, result, text)
        if note is not None:
            print(note, file=sys.stderr)


# -- the command --------------------------------------------------------------------------------

def parse_with_values(text: str, values: dict[str, float]
                      ) -> tuple[Node | float, dict[str, Scalar]]:
    """The expression and its leaves by name -- or one message naming every variable
    without a value and every value without a variable, all at once."""
    try:
        expression, leaves = parse_expression(text, values)
    except MissingValues as error:
        used = set(error.used)
        unused = [name for name in values if name not in used]
        if unused:
            raise ParseError(f"{error.reason}; {not_used(unused)}", text, error.offset) from None
        raise
    unused = [name for name in values if name not in leaves]
    if unused:
        raise UsageError(not_used(unused))
    return expression, leaves


def not_used(names: list[str]) -> str:
    return f"{shown_list(names)} given but not used in the expression"


def check_options(arguments: argparse.Namespace, leaves: dict[str, Scalar],
                  ranges: dict[str, Range]) -> None:
    """Refuse options that do not fit together or with the expression, and those whose
    optional dependency is not installed: before any work."""
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
    if arguments.latex:
        if ranges:
            raise UsageError("--latex prints the formula: give every variable a single value")
        require("sympy", "--latex", "sympy")
    check_range_options(arguments, ranges)
    if arguments.render:
        check_render(Path(arguments.render))


def check_range_options(arguments: argparse.Namespace, ranges: dict[str, Range]) -> None:
    """--plot needs a range; the options about one point refuse one."""
    if arguments.plot is not None:
        file_format = Path(arguments.plot).suffix.lstrip(".").lower()
        if file_format not in PLOT_FORMATS:
            raise UsageError(f"--plot {shown(arguments.plot)}: the file must end in .png, .svg "
                             "or .pdf")
        if not ranges:
            raise UsageError("--plot draws the expression over a range of points: give a "
                             "variable a range, NAME=START:STOP:N (e.g. x=-6:6:101)")
    if not ranges:
        return
    check_ranges(ranges)
    one_point = [option for option in ("hessian", "trace", "dot", "render")
                 if getattr(arguments, option)]
    if one_point:
        drawing = one_point[0] in ("dot", "render")
        raise UsageError(f"--{one_point[0]} is about one point, and {shown(next(iter(ranges)))} "
                         "is given a range: give every variable a single value"
                         + ("; to draw f over the range, use --plot FILE.png" if drawing
                            else ""))
    plotting = arguments.plot is not None
    require("numpy", "a range (NAME=START:STOP:N)", "plot" if plotting else "numpy")
    if plotting:
        require("matplotlib", "--plot", "plot")


def check_diff(texts: list[str], leaves: dict[str, Scalar]) -> list[str]:
    """The variables of ``--diff``, as the expression names them, each once; or a
    UsageError for one the expression does not have."""
    names: list[str] = []
    for text in texts:
        name = variable_name(text)
        if name is None or name not in leaves:
            known = shown_list(list(leaves)) if leaves else "none"
            raise UsageError(f"--diff {shown(text)}: not a variable of the expression "
                             f"(its variables: {known})")
        if name not in names:
            names.append(name)
    return names


def report(arguments: argparse.Namespace, expression: Node, leaves: dict[str, Scalar],
           picture: Picture, trace: BackwardTrace | None
           ) -> tuple[list[str], dict[str, object], list[str]]:
    """What the command prints: sections of text, the same as one JSON object (with
    derivatives only for --json: their whole text may be long to write), and notes."""
    graph, values, grads = picture.graph, picture.values, picture.grads
    value = values[graph.index[expression]]
    gradients = {name: grads[graph.index[leaf]] for name, leaf in leaves.items()}
    sections = [format_table(describe(expression, max_depth=50, max_chars=200), value,
                             gradients, leaves)]
    as_json: dict[str, object] = {"value": value, "gradients": gradients}
    diff_names = check_diff(arguments.diff, leaves)
    found = derivatives(expression, diff_names, leaves) if diff_names else {}
    notes: list[str] = []
    if found:
        sections.append(format_derivatives(found))
        if arguments.json:
            as_json["derivatives"], notes = derivatives_json(found)
    if arguments.latex:
        formulas = latex_formulas(expression, {name: node for name, (node, _) in found.items()})
        sections.append("\n".join(f"{label}: {text}" for label, text in formulas.items()))
        as_json["latex"] = formulas
    if arguments.hessian:
        as_json["hessian"] = matrix = hessian_values(expression, leaves)
        sections.append(format_hessian(matrix))
    if arguments.trace:
        assert trace is not None
        sections.append(str(trace))
        as_json["trace"] = trace_json(trace)
    return sections, as_json, notes


def latex_formulas(expression: Node, found: dict[str, Node]) -> dict[str, str]:
    """The expression and the derivatives found, as LaTeX (SymPy's printer)."""
    from minigrad.symbolic import latex_text

    formulas = {"f": latex_text(expression)}
    formulas.update((f"df/d{name}", latex_text(node)) for name, node in found.items())
    return formulas


def run(arguments: argparse.Namespace) -> int:
    given = parse_assignments(arguments.assignments)
    ranges = {name: value for name, value in given.items() if isinstance(value, Range)}
    # A ranged variable is built with its first point; the batch then gives it them all.
    values_by_name = {name: value.start if isinstance(value, Range) else value
                      for name, value in given.items()}
    expression, leaves = parse_with_values(read_expression(arguments), values_by_name)
    check_options(arguments, leaves, ranges)
    if not isinstance(expression, Node):  # just a number: nothing to differentiate
        expression = Scalar(expression)
    if ranges:
        over_ranges(arguments, expression, leaves, ranges)
    else:
        at_one_point(arguments, expression, leaves)
    return 0


def at_one_point(arguments: argparse.Namespace, expression: Node,
                 leaves: dict[str, Scalar]) -> None:
    """The command for one point: the table (or JSON, or DOT text), then the files."""
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
    sections, as_json, notes = report(arguments, expression, leaves, picture, trace)
    if arguments.dot == "-":  # standard output is the DOT text alone; the report aside
        print(picture.dot(), end="")
        print("\n\n".join(sections), file=sys.stderr)
        sys.stdout.flush()
    else:
        emit(arguments, sections, as_json, notes)
    # The files last: a drawing that fails (too big for dot, dot failed) or a file that
    # cannot be written is reported after the numbers, which are not lost.
    if arguments.dot and arguments.dot != "-":
        Path(arguments.dot).write_text(picture.dot(), encoding="utf-8")
        print(f"wrote the DOT text to {arguments.dot}", file=sys.stderr)
    if arguments.render:
        print(render(Path(arguments.render), picture), file=sys.stderr)


def emit(arguments: argparse.Namespace, sections: list[str], as_json: dict[str, object],
         notes: list[str]) -> None:
    """Print the report -- its text, or with --json the JSON -- and the notes (on standard
    error); flushed, so that it all comes before any error that follows."""
    print(json.dumps(as_json) if arguments.json else "\n\n".join(sections))
    for note in notes:
        print(note, file=sys.stderr)
    sys.stdout.flush()


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
    except (UsageError, ParseError, MissingExtra) as error:
        print(f"minigrad: error: {error}", file=sys.stderr)
        return CANNOT_RUN
    except EvaluationError as error:
        print(f"minigrad: cannot evaluate: {error}", file=sys.stderr)
        return CANNOT_EVALUATE
    except DotNotFoundError as error:  # a missing dependency, as in check_render
        print(f"minigrad: cannot draw: {error}", file=sys.stderr)
        return CANNOT_RUN
    except (CannotDraw, graphviz.CalledProcessError) as error:
        print(f"minigrad: cannot draw: {error}", file=sys.stderr)
        return CANNOT_EVALUATE
    except OSError as error:  # an output file that cannot be written
        text = (f"{error.strerror}: {shown(str(error.filename))}"
                if error.strerror and error.filename is not None else str(error))
        print(f"minigrad: error: {text}", file=sys.stderr)
        return CANNOT_RUN


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

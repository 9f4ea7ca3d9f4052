"""The command line's expression language, parsed safely into MiniGrad nodes.

The language: numbers, variables, ``+ - * / **``, unary minus, parentheses, and the
functions: every op of the table in ``ops.py`` written ``name(x)`` (``relu``, ``exp``,
``sin``, ..., ``step``, ``sign``: :data:`FUNCTIONS`, read off the table, so a new row
is a new function here too).  For example ``a**3/5 + relu(b**2)``.  Variables are
Python identifiers, so ``é`` or ``x_1`` work.

User text is never given to ``eval`` or ``exec``.  Python's own parser
(``ast.parse``) turns it into a syntax tree, and we accept only the few tree shapes the
language has -- a whitelist -- and build nodes from those.  Anything else (attribute
access, calls of other names, lambdas, subscripts, comparisons, strings, huge or complex
numbers) is a :class:`ParseError` that points at where it is, with a caret.

Long sums and products.  Python's parser recurses, and it reads ``a + a + a + ...`` as
``((a + a) + a) + ...``: about 3,000 terms nest too deeply for it.  But sums and
products are flat, so we first split the text at its top-level ``+ -`` (into terms) and
each term at its top-level ``* /`` (into factors), using Python's own ``tokenize``
module -- so ``1e-5``, strings and parentheses are read exactly as Python reads them --
then parse each factor by itself and combine them left to right.  That builds the same
nodes that parsing the whole text would, with no depth limit on flat sums and products.
Only real nesting (``a**a**a...``, ``-(-(-...))``, parentheses) is still limited.

Each factor's tree is walked with an explicit stack, so nothing here recurses.

Messages show user text through one helper, :func:`shown` (and :func:`shown_list` for
many names): a 130,000-character variable name costs a message one short line, not
two copies of itself.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
from collections.abc import Iterator, Mapping

from minigrad.nodes import FUNCTION_OPS, Node, Operation, Scalar, as_finite_float
from minigrad.ops import OPS

__all__ = [
    "FUNCTIONS",
    "MAX_EXPRESSION_LENGTH",
    "MissingValues",
    "ParseError",
    "parse_expression",
    "shown",
    "shown_list",
]

#: The functions of the language: the function-style ops of the table, in its order.
#: Each takes as many arguments as its op has operands.
FUNCTIONS: tuple[str, ...] = FUNCTION_OPS
_COUNTS = {1: "one", 2: "two"}
#: The infix ops of the table by their symbol: {"+": "add", ..., "**": "pow"}.
INFIX_OPS = {op.symbol: name for name, op in OPS.items() if op.infix}
#: Python's syntax for each infix op.
BINARY_OPS: dict[type[ast.operator], str] = {
    syntax: INFIX_OPS[symbol] for syntax, symbol in (
        (ast.Add, "+"), (ast.Sub, "-"), (ast.Mult, "*"), (ast.Div, "/"), (ast.Pow, "**"))
}
#: The operators a text is split at, before parsing: sums, then products.
SUM_OPS = {symbol: INFIX_OPS[symbol] for symbol in "+-"}
PRODUCT_OPS = {symbol: INFIX_OPS[symbol] for symbol in "*/"}
SPLIT_AT = {*SUM_OPS, *PRODUCT_OPS}
#: Enough for a sum of 100,000 terms; a bound, so that a huge text is refused at once.
MAX_EXPRESSION_LENGTH = 1_000_000

#: User text up to this long is shown whole in a message (an expression, with a caret
#: under the place); longer, its two ends.
SHOWN_WHOLE = 200
SHOWN_AT_EACH_END = 30
#: A message lists at most this many names, then says how many more there are.
NAMES_SHOWN = 10

#: Spaces and line continuations (a backslash ending a line) before or after a piece.
_LAYOUT_AT_START = re.compile(r"(?:\s|\\\r?\n)*")
_LAYOUT_AT_END = re.compile(r"(?:\s|\\\r?\n)*\Z")

Operand = Node | float
#: A factor of a term: the operator before it ("" for the first) and its character span.
Factor = tuple[str, int, int]
#: A term of the sum: the operator before it ("" for the first) and its factors.
SumTerm = tuple[str, list[Factor]]


class ParseError(ValueError):
    """The expression is not in the language; ``str()`` shows where, with a caret.

    Attributes: ``reason`` (one line), ``text`` (the expression), ``offset`` (0-based
    character position, or None when the problem has no single place).
    """

    def __init__(self, reason: str, text: str, offset: int | None) -> None:
        super().__init__(reason)
        self.reason, self.text, self.offset = reason, text, offset

    def __str__(self) -> str:
        if self.offset is None or "\n" in self.text or len(self.text) > SHOWN_WHOLE:
            return self.reason
        return f"{self.reason}\n  {self.text}\n  {' ' * self.offset}^"


# -- user text in messages ---------------------------------------------------------------------

def shown(text: str, quoted: bool = False) -> str:
    r"""User text as a message shows it: whole when short, else its two ends around an
    ellipsis and its length; ``quoted`` as Python quotes a string.  What cannot be
    printed (a line break) is escaped, so a message stays one line.

    Examples
    --------
    >>> shown("x_1"), shown("x_1", quoted=True), shown("1\n2")
    ('x_1', "'x_1'", '1\\n2')
    >>> shown("b" * 130_000)
    'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb…bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb (130,000 characters)'
    """
    long = len(text) > SHOWN_WHOLE
    piece = f"{text[:SHOWN_AT_EACH_END]}…{text[-SHOWN_AT_EACH_END:]}" if long else text
    if quoted:
        piece = repr(piece)
    elif not piece.isprintable():
        piece = repr(piece)[1:-1]
    return f"{piece} ({len(text):,} characters)" if long else piece


def shown_list(names: list[str]) -> str:
    """Names for a message, each :func:`shown`: the first few, then how many more.

    >>> shown_list(["a", "b"])
    'a, b'
    >>> shown_list([f"x{i}" for i in range(100_000)])
    'x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 and 99,990 more'
    """
    text = ", ".join(shown(name) for name in names[:NAMES_SHOWN])
    return text + (f" and {len(names) - NAMES_SHOWN:,} more" if len(names) > NAMES_SHOWN
                   else "")


class MissingValues(ParseError):
    """Variables of the expression that have no value: ``names``, every one of them, in
    order of first use (``used``: every variable of the expression, in the same order).
    ``offset`` points at the first use when only one name is missing."""

    def __init__(self, names: list[str], used: list[str], text: str,
                 offset: int | None) -> None:
        if len(names) == 1:  # a long name is shown once, abbreviated
            (name,) = names
            example = f"{name}=NUMBER" if len(name) <= SHOWN_WHOLE else "it as NAME=NUMBER"
            reason = f"variable {shown(name, quoted=True)} has no value; pass {example}"
        else:
            reason = (f"{len(names):,} variables have no value: {shown_list(names)}; pass "
                      "each as NAME=NUMBER")
        super().__init__(reason, text, offset if len(names) == 1 else None)
        self.names, self.used = names, used


# -- splitting a text into terms and factors ------------------------------------------------

def _ends_operand(token: tokenize.TokenInfo) -> bool:
    """Can a binary operator follow this token?  After ``x``, ``2`` or ``)`` a ``-`` is
    binary (``x - 1``); after ``(``, ``*`` or a keyword it is unary (``(-1``, ``x*-1``)."""
    if token.type == tokenize.NAME:
        return not keyword.iskeyword(token.string) or token.string in ("True", "False", "None")
    return token.type in (tokenize.NUMBER, tokenize.STRING) or token.string in (")", "]", "}")


def _top_level_operators(source: str) -> Iterator[tuple[int, str]]:
    """Character offset and text of each binary ``+ - * /`` outside any brackets.

    Raises ValueError for texts that are not one line of Python tokens (an unclosed
    bracket, a second logical line): those are parsed whole, so that Python's parser
    reports the syntax error where it is.
    """
    line_starts = [0] + [i + 1 for i, char in enumerate(source) if char == "\n"]
    depth, previous, ended = 0, None, False
    layout = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
              tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in layout:
                ended = ended or token.type == tokenize.NEWLINE
                continue
            if ended:
                raise ValueError("more than one line")
            if token.string in ("(", "[", "{"):
                depth += 1
            elif token.string in (")", "]", "}"):
                depth -= 1
            elif (depth == 0 and token.type == tokenize.OP and previous is not None
                  and token.string in SPLIT_AT and _ends_operand(previous)):
                row, column = token.start
                yield line_starts[row - 1] + column, token.string
            previous = token
    except (tokenize.TokenError, SyntaxError) as error:  # IndentationError is a SyntaxError
        raise ValueError(str(error)) from None


def _flat_terms(source: str) -> list[SumTerm]:
    """``source`` split into terms of factors: ``a*b - c`` is ``[("", [a, *b]), ("-", [c])]``
    (as character spans).  A text that cannot be split is one term of one factor."""
    try:
        operators = list(_top_level_operators(source))
    except ValueError:
        operators = []
    terms: list[SumTerm] = [("", [])]
    start, before = 0, ""
    for offset, operator in [*operators, (len(source), "")]:
        terms[-1][1].append((before, start, offset))
        if operator in SUM_OPS:
            terms.append((operator, []))
            before = ""
        else:
            before = operator
        start = offset + len(operator)
    return terms


# -- parsing one factor ------------------------------------------------------------------------

def _char_offset(text: str, line: int, byte_offset: int) -> int:
    """ast's (1-based line, UTF-8 byte column) as a character offset into ``text``."""
    lines = text.split("\n")
    before = sum(len(previous) + 1 for previous in lines[: max(line, 1) - 1])
    line_text = lines[max(line, 1) - 1] if line <= len(lines) else ""
    return before + len(line_text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _syntax_tree(text: str, start: int, end: int) -> tuple[ast.expr, int]:
    """The syntax tree of ``text[start:end]`` and where its stripped source begins."""
    piece = text[start:end]
    # Without the spaces and line continuations around it ("a +\\" newline " b"), which
    # Python's parser would read as indentation or a stray backslash in a piece alone.
    layout_before, layout_after = _LAYOUT_AT_START.match(piece), _LAYOUT_AT_END.search(piece)
    assert layout_before and layout_after  # both patterns match the empty string
    code_start = layout_before.end()
    code_end = max(code_start, layout_after.start())
    source, shift = piece[code_start:code_end], start + code_start
    if not source:  # "a +": nothing after the last operator
        raise ParseError("syntax error: invalid syntax", text, end)
    try:
        return ast.parse(source, mode="eval").body, shift
    except SyntaxError as error:
        # SyntaxError.offset counts characters from 1 within line `lineno`.
        lines = source.split("\n")
        line = min(max(error.lineno or 1, 1), len(lines))
        column = min(max((error.offset or 1) - 1, 0), len(lines[line - 1]))
        offset = shift + sum(len(previous) + 1 for previous in lines[: line - 1]) + column
        raise ParseError(f"syntax error: {error.msg}", text, offset) from None
    except (RecursionError, MemoryError):  # Python's parser recurses; it has limits
        raise ParseError(
            "the expression is nested too deeply for Python's parser (long sums and "
            "products are fine; deep nesting such as a**a**a**... or -(-(-...)) is not)",
            text, None) from None
    except ValueError as error:  # e.g. an integer literal of more than 4,300 digits
        raise ParseError(f"cannot parse the expression: {error}", text, None) from None


def _describe_forbidden(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access", ast.Subscript: "indexing",
        ast.Lambda: "a lambda", ast.Compare: "a comparison", ast.BoolOp: "and/or",
        ast.IfExp: "an if-expression", ast.NamedExpr: "an assignment",
        ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
        ast.JoinedStr: "an f-string", ast.Starred: "a starred expression",
    }
    for kind, words in kinds.items():
        if isinstance(node, kind):
            return f"{words} is not allowed"
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__} is not allowed (only + - * / **)"
    if isinstance(node, ast.UnaryOp):
        return f"the unary operator {type(node.op).__name__} is not allowed (only -)"
    return f"{type(node).__name__} is not allowed in an expression"


def _build(
    tree: ast.expr, text: str, shift: int, values: Mapping[str, float],
    leaves: dict[str, Scalar], missing: dict[str, int],
) -> Operand:
    """Nodes from one factor's syntax tree (whose source starts at ``text[shift]``);
    new variables are added to ``leaves``.  A variable without a value is added too,
    as a stand-in, and to ``missing`` with where it is first used: the caller reports
    every missing name at once, after the whole expression is read."""

    def offset_of(node: ast.AST) -> int:
        return shift + _char_offset(text[shift:], getattr(node, "lineno", 1),
                                    getattr(node, "col_offset", 0))

    def fail(reason: str, node: ast.AST) -> ParseError:
        return ParseError(reason, text, offset_of(node))

    # Post-order walk with an explicit stack: a node is built after its children,
    # whose results wait on `results`.
    results: list[Operand] = []
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise fail(f"{shown(repr(node.value))} is not a real number", node)
            try:
                results.append(as_finite_float(node.value, "number"))
            except ValueError:  # 1e999 parses as inf; a 400-digit int overflows float()
                raise fail("the number is too large for a float", node) from None
        elif isinstance(node, ast.Name):
            # ast has already NFKC-normalized the name, as Python does for identifiers.
            if node.id not in leaves:
                if node.id not in values:
                    missing[node.id] = offset_of(node)
                leaves[node.id] = Scalar(values.get(node.id, 0.0), name=node.id)
            results.append(leaves[node.id])
        elif isinstance(node, ast.BinOp) and type(node.op) in BINARY_OPS:
            if not children_done:
                stack += [(node, True), (node.right, False), (node.left, False)]
                continue
            right, left = results.pop(), results.pop()
            results.append(Operation(BINARY_OPS[type(node.op)], (left, right)))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            if not children_done:
                stack += [(node, True), (node.operand, False)]
                continue
            operand = results.pop()
            if isinstance(node.op, ast.UAdd):
                results.append(operand)
            else:  # -3 stays a number; -x is neg(x)
                results.append(-operand if isinstance(operand, float) else
                               Operation("neg", (operand,)))
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in FUNCTIONS:
                called = shown(name, quoted=True) if name else "this"
                raise fail(f"cannot call {called}: the functions are {', '.join(FUNCTIONS)}",
                           node.func)
            arity = OPS[name].arity
            if node.keywords or len(node.args) != arity:
                raise fail(f"{name} takes exactly {_COUNTS.get(arity, arity)} argument"
                           f"{'s' if arity > 1 else ''}", node)
            if not children_done:
                stack += [(node, True), *((arg, False) for arg in reversed(node.args))]
                continue
            arguments = tuple(results[-arity:])
            del results[-arity:]
            results.append(Operation(name, arguments))
        else:
            raise fail(_describe_forbidden(node), node)
    (result,) = results
    return result


# -- the whole expression -------------------------------------------------------------------

def parse_expression(
    text: str, values: Mapping[str, float]
) -> tuple[Operand, dict[str, Scalar]]:
    """Parse ``text`` into an expression whose variables are leaves with ``values``.

    Returns the expression (a node, or a float if the text is just a number) and the
    leaves by name, in order of first use.  Raises :class:`ParseError` for anything
    outside the language, and its :class:`MissingValues` naming every variable without
    a value.  Sums and products may have
    any number of terms (``x0 + x1 + ... + x99999``).

    Examples
    --------
    >>> expression, leaves = parse_expression("a**3/5 + relu(b**2)", {"a": 1.5, "b": -4})
    >>> expression
    Operation('add', expr='a**3/5 + relu(b**2)')
    >>> leaves
    {'a': Scalar(1.5, name='a'), 'b': Scalar(-4.0, name='b')}
    >>> parse_expression("x.__class__", {"x": 1.0})
    Traceback (most recent call last):
    minigrad.parse.ParseError: attribute access is not allowed
      x.__class__
      ^
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ParseError(
            f"the expression is {len(text):,} characters long; at most "
            f"{MAX_EXPRESSION_LENGTH:,} are accepted", text, None)
    if not text.strip():
        raise ParseError("the expression is empty", text, None)
    terms = _flat_terms(text)
    # Parse every factor before building any node, so that a syntax error anywhere is
    # reported first, as parsing the whole text at once would.
    trees = [[_syntax_tree(text, start, end) for _, start, end in factors]
             for _, factors in terms]
    leaves: dict[str, Scalar] = {}
    missing: dict[str, int] = {}  # name -> where it is first used
    expression: Operand | None = None
    for (sum_operator, factors), factor_trees in zip(terms, trees, strict=True):
        term: Operand | None = None
        for (product_operator, _, _), (tree, shift) in zip(factors, factor_trees, strict=True):
            factor = _build(tree, text, shift, values, leaves, missing)
            term = factor if term is None else Operation(PRODUCT_OPS[product_operator],
                                                         (term, factor))
        assert term is not None  # every term has a factor
        expression = term if expression is None else Operation(SUM_OPS[sum_operator],
                                                               (expression, term))
    assert expression is not None  # there is a term
    if missing:
        raise MissingValues(list(missing), list(leaves), text, next(iter(missing.values())))
    return expression, leaves

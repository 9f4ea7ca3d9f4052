"""The command line's expression language, parsed safely into MiniGrad nodes.

The language: numbers, variables, ``+ - * / **``, unary minus, parentheses, and the
functions ``relu tanh exp log sigmoid sqrt sin cos abs``.  For example
``a**3/5 + relu(b**2)``.

User text is never given to ``eval`` or ``exec``.  Python's own parser
(``ast.parse``) turns it into a syntax tree, and we accept only the few tree shapes the
language has -- a whitelist -- and build nodes from those.  Anything else (attribute
access, calls of other names, lambdas, subscripts, comparisons, strings, huge or complex
numbers) is a :class:`ParseError` that points at where it is, with a caret.

The tree is walked with an explicit stack, so a long expression cannot hit Python's
recursion limit here.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from minigrad.nodes import Node, Operation, Scalar, as_finite_float

__all__ = ["FUNCTIONS", "MAX_EXPRESSION_LENGTH", "ParseError", "parse_expression"]

FUNCTIONS = ("relu", "tanh", "exp", "log", "sigmoid", "sqrt", "sin", "cos", "abs")
BINARY_OPS: dict[type[ast.operator], str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
}
MAX_EXPRESSION_LENGTH = 10_000

Operand = Node | float


class ParseError(ValueError):
    """The expression is not in the language; ``str()`` shows where, with a caret.

    Attributes: ``reason`` (one line), ``text`` (the expression), ``offset`` (0-based
    character position, or None when the problem has no single place).
    """

    def __init__(self, reason: str, text: str, offset: int | None) -> None:
        super().__init__(reason)
        self.reason, self.text, self.offset = reason, text, offset

    def __str__(self) -> str:
        if self.offset is None or "\n" in self.text or len(self.text) > 200:
            return self.reason
        return f"{self.reason}\n  {self.text}\n  {' ' * self.offset}^"


def _char_offset(text: str, node: ast.AST) -> int:
    # ast gives UTF-8 *byte* offsets; the caret needs a character position.
    byte_offset = getattr(node, "col_offset", 0)
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


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


def _syntax_tree(text: str) -> ast.expr:
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ParseError(
            f"the expression is {len(text):,} characters long; at most "
            f"{MAX_EXPRESSION_LENGTH:,} are accepted", text, None)
    if not text.strip():
        raise ParseError("the expression is empty", text, None)
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        offset = (error.offset or 1) - 1 + (len(text) - len(text.lstrip()))
        raise ParseError(f"syntax error: {error.msg}", text, offset) from None
    except (RecursionError, MemoryError):  # Python's parser recurses; it has limits
        raise ParseError(
            "the expression is nested too deeply for Python's parser (try a shorter one)",
            text, None) from None
    except ValueError as error:  # e.g. an integer literal of more than 4,300 digits
        raise ParseError(f"cannot parse the expression: {error}", text, None) from None


def parse_expression(
    text: str, values: Mapping[str, float]
) -> tuple[Operand, dict[str, Scalar]]:
    """Parse ``text`` into an expression whose variables are leaves with ``values``.

    Returns the expression (a node, or a float if the text is just a number) and the
    leaves by name, in order of first use.  Raises :class:`ParseError` for anything
    outside the language and for variables without a value.

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
    source = text.strip()
    shift = len(text) - len(text.lstrip())
    leaves: dict[str, Scalar] = {}

    def fail(reason: str, node: ast.AST) -> ParseError:
        return ParseError(reason, text, shift + _char_offset(source, node))

    # Post-order walk with an explicit stack: a node is built after its children,
    # whose results wait on `results`.
    results: list[Operand] = []
    stack: list[tuple[ast.AST, bool]] = [(_syntax_tree(text), False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise fail(f"{node.value!r:.20} is not a real number", node)
            try:
                results.append(as_finite_float(node.value, "number"))
            except ValueError:  # 1e999 parses as inf; a 400-digit int overflows float()
                raise fail("the number is too large for a float", node) from None
        elif isinstance(node, ast.Name):
            if node.id not in leaves:
                if node.id not in values:
                    raise fail(f"variable {node.id!r} has no value; pass {node.id}=NUMBER", node)
                leaves[node.id] = Scalar(values[node.id], name=node.id)
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
                shown = f"{name!r}" if name else "this"
                raise fail(f"cannot call {shown}: the functions are {', '.join(FUNCTIONS)}",
                           node.func)
            if node.keywords or len(node.args) != 1:
                raise fail(f"{name} takes exactly one argument", node)
            if not children_done:
                stack += [(node, True), (node.args[0], False)]
                continue
            results.append(Operation(name, (results.pop(),)))
        else:
            raise fail(_describe_forbidden(node), node)
    (expression,) = results
    return expression, leaves

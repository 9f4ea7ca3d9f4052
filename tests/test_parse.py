"""The expression parser: long flat sums and products, the same trees as Python's own
parse, carets in the right place, and still nothing but the whitelist.

Issue 8 item 12: a flat sum of 3,000 terms was refused as "nested too deeply", because
Python's parser reads ``a + a + ...`` as a left-nested chain.  The parser now splits the
text at its top-level ``+ -`` and ``* /`` first.
"""

from __future__ import annotations

import ast
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import OPS, Graph, Node, Operation, Scalar, evaluate
from minigrad.nodes import FUNCTION_OPS
from minigrad.parse import FUNCTIONS, MAX_EXPRESSION_LENGTH, ParseError, _build, parse_expression

VALUES = {"a": 1.5, "b": -4.0, "c": 0.5, "é": 2.0}


def shape(expression: Node | float) -> object:
    """A nested tuple that two expressions share exactly when they are the same tree."""
    shapes: dict[int, object] = {}
    stack: list[tuple[Node | float, bool]] = [(expression, False)]
    while stack:  # post-order, no recursion: the trees here can be 100,000 deep
        thing, children_done = stack.pop()
        if not isinstance(thing, Operation):
            shapes[id(thing)] = thing.name if isinstance(thing, Scalar) else thing
        elif not children_done:
            stack += [(thing, True), *((arg, False) for arg in thing.args)]
        else:
            shapes[id(thing)] = (thing.op, *(shapes[id(arg)] for arg in thing.args))
    return shapes[id(expression)]


def parse_whole(text: str) -> Node | float:
    """What the parser built before: Python's parse of the whole text, then the whitelist."""
    return _build(ast.parse(text.strip(), mode="eval").body, text, 0, VALUES, {}, {})


# -- long flat sums and products ------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("+".join(["a"] * 3000), 4500.0),
        ("+".join(f"x{i}" for i in range(3000)), 3000.0),
        ("*".join(["c"] * 3000), 0.0),  # 0.5 ** 3000 underflows
        ("-".join(["a"] * 3000), 1.5 - 2999 * 1.5),
        ("/".join(["a"] * 2000), 1.5 ** -1998),
        (" + ".join(["a*b/c - 2*a"] * 1000), 1000 * (1.5 * -4.0 / 0.5 - 3.0)),
    ],
)
def test_long_flat_sums_and_products_parse(text: str, value: float) -> None:
    values = {**VALUES, **{f"x{i}": 1.0 for i in range(3000)}}
    expression, _ = parse_expression(text, values)
    assert isinstance(expression, Node)
    assert evaluate(Graph(expression))[expression] == pytest.approx(value)


def test_a_sum_of_100000_terms_parses_in_seconds() -> None:
    names = [f"x{i}" for i in range(100_000)]
    start = time.perf_counter()
    expression, leaves = parse_expression(" + ".join(names), dict.fromkeys(names, 1.0))
    assert time.perf_counter() - start < 20  # about 2 s on this project's machine
    assert len(leaves) == 100_000 and list(leaves)[:2] == ["x0", "x1"]
    expression, _ = parse_expression("*".join(["a"] * 100_000), VALUES)
    assert isinstance(expression, Operation) and expression.op == "mul"


def test_deep_nesting_is_still_a_clean_error() -> None:
    for text in ["**".join(["a"] * 3000), "-" * 9000 + "a", "relu(" * 3000 + "a" + ")" * 3000]:
        with pytest.raises(ParseError, match=r"nested too deeply|too many nested"):
            parse_expression(text, VALUES)


def test_the_length_limit() -> None:
    with pytest.raises(ParseError, match=f"at most {MAX_EXPRESSION_LENGTH:,}"):
        parse_expression("a" * (MAX_EXPRESSION_LENGTH + 1), VALUES)


# -- the same trees as parsing the whole text ---------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "a - b - c", "a - (b - c)", "a / b / c * a", "a*b - c/a + b", "-a*b", "-a - -b",
        "a - -1", "2**-a*3", "a ** -b + c", "-a**2", "+a", "a*-b", "a - +b",
        "1e-5*a - 2E+3", "1.e3 - a", "0x1f*a", "1_000 - a", "relu(a - b) - sqrt(c*c)",
        "log(a + b*b) / (c - a)", "  a  +  b  ", "a + b # comment - c", "(a\n+ b) - c",
        "a +\\\n b", "a \\\n- b", "é*a - é", "2 * 3 - 1", "-3", "4", "((a))",
    ],
)
def test_same_tree_as_parsing_the_whole_text(text: str) -> None:
    expression, _ = parse_expression(text, VALUES)
    assert shape(expression) == shape(parse_whole(text))


def expressions() -> st.SearchStrategy[str]:
    """Small random expressions in the language, with random spaces."""
    space = st.sampled_from(["", " ", "  "])
    atoms = st.sampled_from(["a", "b", "c", "é", "2", "0.5", "1e-3", "3"])

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, space, st.sampled_from(["+", "-", "*", "/", "**"]), space,
                           inner).map("".join)
        return st.one_of(
            binary,
            inner.map(lambda text: f"-{text}"),
            inner.map(lambda text: f"({text})"),
            st.tuples(st.sampled_from(["relu", "exp", "abs"]), inner).map(
                lambda pair: f"{pair[0]}({pair[1]})"),
        )

    return st.recursive(atoms, extend, max_leaves=12)


@given(expressions())
def test_same_tree_as_parsing_the_whole_text_for_random_expressions(text: str) -> None:
    expression, _ = parse_expression(text, VALUES)
    assert shape(expression) == shape(parse_whole(text))


# -- errors point at the place, in any term -------------------------------------------------

@pytest.mark.parametrize(
    ("text", "reason", "offset"),
    [
        ("a + * b", "syntax error", 4),
        ("a + b + c.d", "attribute access is not allowed", 8),
        ("é + a + b.x", "attribute access is not allowed", 8),  # characters, not bytes
        ("a + b + 1 2", "syntax error", 10),
        ("a*b + c/(a", "syntax error", 8),
        ("a + b +", "syntax error", 7),
        ("a * b * zz", "variable 'zz' has no value", 8),
        ("a - b - c(1)", "cannot call 'c'", 8),
        ("a + b[0]", "indexing is not allowed", 4),
    ],
)
def test_errors_point_at_the_place(text: str, reason: str, offset: int) -> None:
    with pytest.raises(ParseError, match=reason) as info:
        parse_expression(text, VALUES)
    assert info.value.offset == offset
    caret_line = str(info.value).splitlines()[-1]
    assert caret_line.index("^") == 2 + offset


def test_a_syntax_error_is_reported_before_a_missing_variable() -> None:
    # as parsing the whole text at once did: the text is not an expression at all
    with pytest.raises(ParseError, match="syntax error"):
        parse_expression("zz + (1 2)", VALUES)


@pytest.mark.parametrize(
    "text",
    [
        "a + __import__('os').system('echo hacked')", "a - (lambda: 1)()", "a * b.__class__",
        "not -a", "a if b else -c", "lambda: -a", "a, -b", "a + b @ c", "a % b - c",
        "[a] + b", "x := a + b", "a + 'text'", "a and -b", "a + f'{b}'", "a\n+ b",
        "a +\n+ b", "a + (b", "a + b)", "a $ b",
    ],
)
def test_everything_outside_the_language_is_still_refused(text: str) -> None:
    with pytest.raises(ParseError):
        parse_expression(text, VALUES)


def test_unicode_variables_are_normalized_as_python_does() -> None:
    # "e" + combining acute and the ligature "ﬁ" are the names "é" and "fi" to Python.
    expression, leaves = parse_expression("e\u0301 + \ufb01", {"é": 2.0, "fi": 3.0})
    assert list(leaves) == ["é", "fi"]
    assert evaluate(Graph(expression))[expression] == 5.0


# -- the functions are the table's ----------------------------------------------------------

def test_the_functions_are_the_function_ops_of_the_table() -> None:
    # Before, a list of its own: step and sign, new rows of ops.py, were refused.
    assert FUNCTIONS == FUNCTION_OPS == tuple(name for name, op in OPS.items() if op.is_function)
    assert {"step", "sign", "relu", "abs"} <= set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTION_OPS)
def test_every_function_op_parses_and_evaluates(name: str) -> None:
    arity = OPS[name].arity  # f(x) or f(x, y)
    operands = ", ".join(["x", "y"][:arity])
    x = 1.5 if name == "acosh" else 0.5  # inside every op's domain
    expression, leaves = parse_expression(f"{name}({operands}) * x", {"x": x, "y": 0.25})
    assert isinstance(expression, Operation)
    call = expression.args[0]
    expected = tuple(leaves[name] for name in ("x", "y")[:arity])
    assert isinstance(call, Operation) and call.op == name and call.args == expected
    value = OPS[name].value(*(x, 0.25)[:arity]) * x
    assert evaluate(Graph(expression))[expression] == value


def test_a_call_error_lists_the_tables_functions() -> None:
    with pytest.raises(ParseError, match=r"the functions are abs, relu, .*, step, sign"):
        parse_expression("foo(a)", VALUES)
    with pytest.raises(ParseError, match="step takes exactly one argument"):
        parse_expression("step(a, b)", VALUES)

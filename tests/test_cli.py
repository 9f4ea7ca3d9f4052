"""The minigrad command: the README's main job, its outputs, and every way it refuses."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_visualize import needs_dot

from minigrad.cli import main
from minigrad.nodes import FUNCTION_OPS
from minigrad.parse import ParseError, parse_expression

SEED = ["a**3/5 + relu(b**2)", "a=1.5", "b=-4"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_seed_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *SEED)
    assert status == 0, err
    assert out.splitlines() == [
        "a**3/5 + relu(b**2) = 16.675",
        "",
        "variable  value  gradient",
        "a           1.5      1.35",
        "b          -4.0      -8.0",
    ]


def test_seed_json_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, *SEED, "--json")
    assert status == 0
    assert json.loads(out) == {"value": 16.675, "gradients": {"a": 1.35, "b": -8.0}}


def test_dot_file_and_fallback_svg(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: the built-in SVG layout draws
    dot_file, svg_file = tmp_path / "g.dot", tmp_path / "g.svg"
    status, _, err = run(capsys, *SEED, "--dot", str(dot_file), "--render", str(svg_file))
    assert status == 0, err
    assert dot_file.read_text() == (Path(__file__).parent / "golden" / "seed.dot").read_text()
    svg = svg_file.read_text()
    assert svg.startswith("<svg") and "grad 1.35" in svg and "simple layout" in err
    # A .png needs dot: a missing dependency, refused before any work (status 2).
    status, out, err = run(capsys, *SEED, "--render", str(tmp_path / "g.png"))
    assert (status, out) == (2, "") and "apt-get install graphviz" in err
    assert err.startswith("minigrad: error: --render ") and err.count("\n") == 1


def test_render_png_with_graphviz(capsys, tmp_path) -> None:
    needs_dot()
    status, _, err = run(capsys, *SEED, "--render", str(tmp_path / "g.png"))
    assert status == 0, err
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["a.__class__", "a=1"], 2, "attribute access is not allowed"),
        (["__import__('os')"], 2, "cannot call '__import__'"),
        (["(lambda: 1)()"], 2, "cannot call this"),
        (["a[0]", "a=1"], 2, "indexing is not allowed"),
        (["a < 1", "a=1"], 2, "a comparison is not allowed"),
        (["'abc'"], 2, "'abc' is not a real number"),
        (["1j * a", "a=1"], 2, "1j is not a real number"),
        (["1e999 * a", "a=1"], 2, "too large for a float"),
        (["9" * 400 + " * a", "a=1"], 2, "too large for a float"),
        (["a + (b", "a=1", "b=2"], 2, "syntax error"),
        (["a + b", "a=1"], 2, "variable 'b' has no value"),
        (["a", "a=x"], 2, "not a number"),
        (["a", "a=nan"], 2, "finite"),
        (["a", "a"], 2, "expected NAME=VALUE"),
        (["a", "a=1", "a=2"], 2, "given twice"),
        (["a", "a=1", "c=2"], 2, "c given but not used"),
        (["relu(a, a)", "a=1"], 2, "relu takes exactly one argument"),
        (["a" * 1_000_001], 2, "at most 1,000,000"),
        (["a", "1a=2"], 2, "expected NAME=VALUE"),
        (["a", "if=2"], 2, "expected NAME=VALUE"),
        (["log(a)", "a=-1"], 1, "log(-1.0) is undefined"),
        (["sqrt(a)", "a=0"], 1, "gradient of sqrt(0.0)"),
        (["2**10000"], 1, "too large for a float"),
    ],
)
def test_refusals_are_one_clear_message(capsys, argv, status, message) -> None:
    got, out, err = run(capsys, *argv)
    assert got == status
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert err.startswith("minigrad: ")


def test_syntax_error_caret_points_at_the_place(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(capsys, "a + * b", "a=1", "b=2")
    lines = err.splitlines()
    assert lines[1] == "  a + * b"
    assert lines[2].index("^") == 2 + 4


def test_deep_or_long_expressions_do_not_crash(capsys: pytest.CaptureFixture[str]) -> None:
    # Flat sums and products of any length (issue 8 item 12: 3,000 terms were refused).
    for text, value in [("+".join(["a"] * 5000), "5000.0"), ("*".join(["a"] * 5000), "1.0")]:
        status, out, err = run(capsys, text, "a=1")
        assert status == 0, err
        assert f"= {value}" in out
    names = [f"x{i}" for i in range(3000)]
    status, out, err = run(capsys, "+".join(names), *(f"{name}=1" for name in names), "--json")
    assert status == 0, err
    assert json.loads(out)["value"] == 3000.0
    # Python's own parser gives up on deep nesting; that is a clean error, not a crash.
    for text in ["**".join(["a"] * 3000), "-" * 9000 + "a"]:
        status, _, err = run(capsys, "--", text, "a=1")
        assert status == 2 and "too deeply" in err and "Traceback" not in err
    status, _, err = run(capsys, "(" * 500 + "a" + ")" * 500, "a=1")
    assert status == 2 and "Traceback" not in err


def test_a_plain_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "2 * 3 - 1") == (0, "2*3 - 1 = 5.0\n", "")


def test_parser_never_evaluates_user_text() -> None:
    with pytest.raises(ParseError):
        parse_expression("__import__('os').system('echo hacked')", {})
    expression, leaves = parse_expression("-x**2", {"x": 3})
    assert list(leaves) == ["x"]
    assert expression.op == "neg"  # type: ignore[union-attr]  # -(x**2), as in Python


def test_python_dash_m_and_console_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "minigrad", *SEED, "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradients"] == {"a": 1.35, "b": -8.0}


# -- issue 8 item 11 -----------------------------------------------------------------------
def test_without_dot_a_big_render_is_one_clear_message(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: the built-in SVG layout, <= 300 nodes
    names = [f"x{i}" for i in range(200)]  # 399 nodes
    status, out, err = run(capsys, "+".join(names), *(f"{n}=1" for n in names),
                           "--render", str(tmp_path / "big.svg"))
    assert status == 1 and " = 200.0\n" in out  # the numbers first (issue 21)
    assert out.splitlines()[-1].split() == ["x199", "1.0", "1.0"]
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("minigrad: cannot draw: the graph has 399 nodes")
    assert "Install graphviz" in err and "--dot FILE" in err
    assert not (tmp_path / "big.svg").exists()


def test_with_dot_the_issues_slow_render_is_refused_at_once(capsys, tmp_path) -> None:
    needs_dot()
    # Issue 8 item 9: dot ran for minutes on this 100-term sum.
    start = time.perf_counter()
    status, _, err = run(capsys, "+".join(["a*b"] * 100), "a=1", "b=2",
                         "--render", str(tmp_path / "x.svg"))
    assert time.perf_counter() - start < 5
    assert status == 1 and "too big to draw quickly" in err and "--dot FILE" in err
    assert "max_nodes" not in err  # that advice is for Python, not the command line


def test_dot_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *SEED, "--dot", "-")
    assert status == 0, err
    assert out == (Path(__file__).parent / "golden" / "seed.dot").read_text()
    assert "a**3/5 + relu(b**2) = 16.675" in err  # the table, out of the DOT's way
    assert not Path("-").exists()
    status, out, err = run(capsys, *SEED, "--dot", "-", "--json")
    assert status == 2 and out == "" and "choose one" in err


@pytest.mark.parametrize(
    ("argv", "first_line"),
    [
        (["-a*b", "a=1", "b=2"], "-a*b = -2.0"),
        (["-2*a", "a=1"], "-2*a = -2.0"),
        (["-(a)", "--json", "a=1"], None),
        (["--", "-a*b", "a=1", "b=2"], "-a*b = -2.0"),  # the old spelling still works
        (["-a**2", "a=3", "--dot", "-"], None),
    ],
)
def test_an_expression_may_start_with_a_minus(capsys, argv, first_line) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    if first_line is not None:
        assert out.splitlines()[0] == first_line


def test_a_mistyped_option_is_still_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["a", "a=1", "--jsn"])
    assert info.value.code == 2
    assert "unrecognized arguments: --jsn" in capsys.readouterr().err


def test_unicode_variables_are_accepted_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "a + é", "a=1", "é=2")
    assert status == 0, err
    assert out.splitlines()[0] == "a + é = 3.0"
    assert out.splitlines()[-1].split() == ["é", "2.0", "1.0"]
    status, _, err = run(capsys, "a + é", "a=1")
    assert status == 2 and "pass é=NUMBER" in err
    # Python reads the ligature "ﬁ" as "fi", in the expression and so in assignments
    status, out, err = run(capsys, "\ufb01 * 2", "\ufb01=3", "--json")
    assert status == 0, err
    assert json.loads(out) == {"value": 6.0, "gradients": {"fi": 2.0}}


def command(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    options: dict[str, object] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    return subprocess.run([sys.executable, "-m", "minigrad", *argv], text=True,
                          **{**options, **kwargs})  # type: ignore[call-overload]


def test_an_ascii_terminal_gets_escapes_not_a_traceback() -> None:
    result = command("a + é", "a=1", "é=2", env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "a + \\xe9 = 3.0"
    long = command("+".join(["é"] * 300), "é=1", env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert long.returncode == 0 and "Traceback" not in long.stderr
    result = command("a + é", "a=1", env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 2 and "\\xe9=NUMBER" in result.stderr


def test_a_closed_pipe_ends_the_program_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone, as with `minigrad ... | head -c0`
    try:
        result = command(*SEED, stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == ""



# -- every function of the table -----------------------------------------------------------
def test_step_and_sign_work_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "step(x)*x", "x=2")
    assert status == 0, err
    assert out.splitlines()[0] == "step(x)*x = 2.0"
    assert out.splitlines()[-1].split() == ["x", "2.0", "1.0"]
    status, out, err = run(capsys, "sign(x)*x", "x=-3", "--json")
    assert status == 0, err
    assert json.loads(out) == {"value": 3.0, "gradients": {"x": -1.0}}


def test_the_help_lists_every_function_of_the_table(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert f"(functions: {' '.join(FUNCTION_OPS)})" in help_text
    for option in ["--diff NAME", "--hessian", "--trace", "--partials", "--numbers"]:
        assert option in help_text


# -- derivatives on the command line -------------------------------------------------------
F = ["sin(x)*y**2", "x=0.7", "y=1.5"]


def test_hessian_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *F, "--hessian")
    assert status == 0, err
    x, y = 0.7, 1.5
    assert out.splitlines() == [
        f"sin(x)*y**2 = {math.sin(x) * y**2!r}",
        "",
        "variable  value           gradient",
        "x           0.7  1.720894921390099",
        "y           1.5  1.932653061713073",
        "",
        "hessian                    x                   y",
        "x        -1.4494897962848048  2.2945265618534654",
        "y         2.2945265618534654   1.288435374475382",
    ]
    printed = [-1.4494897962848048, 2.2945265618534654, 1.288435374475382]  # xx, xy, yy
    assert printed == pytest.approx([-math.sin(x) * y**2, 2 * y * math.cos(x), 2 * math.sin(x)])


def test_hessian_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, *F, "--hessian", "--json")
    assert status == 0
    report = json.loads(out)
    assert list(report) == ["value", "gradients", "hessian"]
    hessian = report["hessian"]
    assert list(hessian) == ["x", "y"] and list(hessian["x"]) == ["x", "y"]
    assert hessian["x"]["y"] == hessian["y"]["x"] == pytest.approx(3 * math.cos(0.7))
    assert hessian["y"]["y"] == pytest.approx(2 * math.sin(0.7))


def test_hessian_of_a_linear_or_constant_expression(capsys) -> None:
    status, out, err = run(capsys, "2*x + y", "x=1", "y=2", "--hessian", "--json")
    assert status == 0, err  # every entry a Constant(0.0): evaluated all the same
    assert json.loads(out)["hessian"] == {"x": {"x": 0.0, "y": 0.0}, "y": {"x": 0.0, "y": 0.0}}
    status, out, _ = run(capsys, "2*3", "--hessian")
    assert status == 0 and out.splitlines()[-1] == "hessian: the expression has no variables"


def test_a_huge_hessian_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"x{i}" for i in range(101)]
    status, out, err = run(capsys, "+".join(names), *(f"{n}=1" for n in names), "--hessian")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "101 variables" in err and "at most 100" in err


def test_diff_prints_the_derivative_and_its_value(capsys) -> None:
    status, out, err = run(capsys, *F, "--diff", "x")
    assert status == 0, err
    # A derivative is defined where the expression is: given(derivative, expression).
    assert out.splitlines()[-2:] == [
        "", "df/dx = given(y**2*cos(x), sin(x)*y**2) = 1.720894921390099"]
    status, out, err = run(capsys, *F, "--diff", "y", "--diff", "x", "--diff", "y")
    assert status == 0, err
    assert out.splitlines()[-2:] == [
        "df/dy = given(sin(x)*(2*y), sin(x)*y**2) = 1.932653061713073",
        "df/dx = given(y**2*cos(x), sin(x)*y**2) = 1.720894921390099",
    ]


def test_diff_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, *F, "--diff", "x", "--diff", "y", "--json")
    assert status == 0
    report = json.loads(out)
    assert report["derivatives"] == {
        "x": {"expression": "given(y**2*cos(x), sin(x)*y**2)",
              "value": report["gradients"]["x"]},
        "y": {"expression": "given(sin(x)*(2*y), sin(x)*y**2)",
              "value": report["gradients"]["y"]},
    }


def test_a_constant_derivative(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "2*x + y", "x=3", "y=1", "--diff", "x")
    assert status == 0, err
    assert out.splitlines()[-1] == "df/dx = given(2, 2*x + y) = 2.0"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*F, "--diff", "z"], "--diff z: not a variable of the expression (its variables: x, y)"),
        ([*F, "--diff", "1x"], "--diff 1x: not a variable"),
        (["2*3", "--diff", "x"], "(its variables: none)"),
    ],
)
def test_diff_of_an_unknown_variable(capsys, argv, message) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err == f"minigrad: error: {err.removeprefix('minigrad: error: ')}"
    assert message in err and err.count("\n") == 1


def test_diff_by_a_normalized_name(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "\ufb01 * 3", "\ufb01=2", "--diff", "\ufb01")
    assert status == 0, err
    assert out.splitlines()[-1] == "df/dfi = given(3, fi*3) = 3.0"


def test_a_derivative_that_cannot_be_evaluated(capsys: pytest.CaptureFixture[str]) -> None:
    # x**1.5 and its slope 1.5*x**0.5 are 0 at 0, but the second derivative
    # 0.75*x**-0.5 is not defined there: one line, status 1, as for any evaluation.
    status, out, err = run(capsys, "x**1.5", "x=0", "--diff", "x", "--json")
    assert status == 0, err
    assert json.loads(out)["derivatives"] == {
        "x": {"expression": "given(1.5*x**0.5, x**1.5)", "value": 0.0}}
    status, out, err = run(capsys, "x**1.5", "x=0", "--hessian")
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("minigrad: cannot evaluate: pow: 0.0 ** (-0.5) is undefined")


# -- the backward pass on the command line --------------------------------------------------
def test_trace(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "a - a", "a=3", "--trace")
    assert status == 0, err
    assert out.splitlines() == [
        "a - a = 0.0",
        "",
        "variable  value  gradient",
        "a           3.0       0.0",
        "",
        "backward pass of a - a: g[node] = d output / d node, starting from g[#1 a - a] = 1",
        "step  node      its gradient  operand  partial: rule = value  contribution  "
        "operand's gradient",
        "1     #1 a - a  1             #0 a     1.0 = 1                1             1",
        "2     #1 a - a  1             #0 a     -1.0 = -1              -1            0",
        "gradients of the leaves: #0 a -> 0",
    ]


def test_trace_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "a - a", "a=3", "--trace", "--json")
    assert status == 0
    assert json.loads(out) == {
        "value": 0.0,
        "gradients": {"a": 0.0},
        "trace": [
            {"node": "#1 a - a", "operand": "#0 a", "gradient": 1.0, "partial": 1.0,
             "rule": "1.0", "contribution": 1.0, "total": 1.0},
            {"node": "#1 a - a", "operand": "#0 a", "gradient": 1.0, "partial": -1.0,
             "rule": "-1.0", "contribution": -1.0, "total": 0.0},
        ],
    }
    status, out, _ = run(capsys, *SEED, "--trace", "--json")
    steps = json.loads(out)["trace"]
    assert steps[-1] == {"node": "#1 a**3", "operand": "#0 a", "gradient": 0.2,
                         "partial": 6.75, "rule": "3 * a ** (3 - 1.0)",
                         "contribution": 1.35, "total": 1.35}


def test_everything_at_once_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *F, "--trace", "--hessian", "--diff", "y")
    assert status == 0, err
    starts = [out.index(text) for text in ["sin(x)*y**2 =", "variable", "df/dy =", "hessian ",
                                           "backward pass of"]]
    assert starts == sorted(starts)


# -- pictures of partials --------------------------------------------------------------------
GOLDEN = Path(__file__).parent / "golden"


def test_dot_with_partials_and_numbers(capsys, tmp_path) -> None:
    dot_file = tmp_path / "g.dot"
    status, _, err = run(capsys, *SEED, "--dot", str(dot_file), "--partials", "--numbers")
    assert status == 0, err
    assert dot_file.read_text() == (GOLDEN / "seed_partials_numbers.dot").read_text()
    status, out, err = run(capsys, *SEED, "--dot", "-", "--partials", "--numbers", "--trace")
    assert status == 0
    assert out == (GOLDEN / "seed_partials_numbers.dot").read_text()
    assert "backward pass of" in err  # the report, out of the DOT's way


def test_fallback_svg_with_partials(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: the built-in SVG layout draws
    svg_file = tmp_path / "g.svg"
    status, _, err = run(capsys, "x - x", "x=3", "--render", str(svg_file), "--partials",
                         "--numbers")
    assert status == 0, err
    svg = svg_file.read_text()
    for text in [">1st<", ">2nd<", ">∂ 1<", ">← 1<", ">∂ -1<", ">← -1<", ">#0  x<"]:
        assert text in svg


def test_render_png_with_partials(capsys, tmp_path) -> None:
    needs_dot()
    status, _, err = run(capsys, *SEED, "--render", str(tmp_path / "g.png"), "--partials",
                         "--numbers")
    assert status == 0, err
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    status, _, err = run(capsys, "+".join(["a*b"] * 60), "a=1", "b=2", "--partials",
                         "--render", str(tmp_path / "x.svg"))
    assert status == 1 and "238 edge labels" in err and "--dot FILE" in err


@pytest.mark.parametrize("option", ["--partials", "--numbers"])
def test_drawing_options_need_a_drawing(capsys, option: str) -> None:
    status, out, err = run(capsys, *SEED, option)
    assert status == 2 and out == ""
    assert f"{option} is an option of the drawing: use it with --dot FILE or --render FILE" in err

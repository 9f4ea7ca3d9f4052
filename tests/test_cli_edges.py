"""The minigrad command at the edges (issue 21): whole derivatives in --json, long user
text in messages, the plot's legend, the expression from a file or standard input, exit
statuses, every missing and unused variable at once, --version, and the numbers kept
when a drawing fails."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from test_visualize import needs_dot

import minigrad
import minigrad.cli
from minigrad.cli import main
from minigrad.derivatives import diff
from minigrad.nodes import describe
from minigrad.parse import MAX_EXPRESSION_LENGTH, parse_expression

SEED = ["a**3/5 + relu(b**2)", "a=1.5", "b=-4"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def command(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """``python -m minigrad ...`` in a process of its own."""
    options: dict[str, object] = {"capture_output": True, "text": True}
    return subprocess.run([sys.executable, "-m", "minigrad", *argv],  # type: ignore[call-overload]
                          **{**options, **kwargs})


# -- 1. --json carries a derivative's whole text -------------------------------------------
NAMES = [f"x{i}" for i in range(600)]
PRODUCT = ["*".join(NAMES), *(f"{name}=1" for name in NAMES)]


def test_json_gives_a_long_derivative_whole(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *PRODUCT, "--diff", "x0", "--json")
    assert status == 0, err
    text = json.loads(out)["derivatives"]["x0"]["expression"]
    assert len(text) > 2_000 and "…" not in text  # it was cut at 2,000, with a …
    # The text is the derivative's, whole.
    expression, leaves = parse_expression(PRODUCT[0], dict.fromkeys(NAMES, 1.0))
    derivative = diff(expression, leaves["x0"])
    assert text == describe(derivative, max_depth=10**6, max_chars=10**6)


def test_the_table_cuts_a_long_derivative_and_says_so(capsys) -> None:
    status, out, err = run(capsys, *PRODUCT, "--diff", "x0")
    assert status == 0, err
    derivative_line, note = out.splitlines()[-2:]
    assert derivative_line.startswith("df/dx0 = ") and derivative_line.endswith("… = 1.0")
    assert note == "(df/dx0: the text is cut at 2,000 characters; --json prints it whole)"


def test_over_a_range_json_gives_the_derivative_whole(capsys) -> None:
    names = NAMES[:599]
    status, out, err = run(capsys, "*".join(["x", *names]), "x=0:1:3",
                           *(f"{name}=1" for name in names), "--diff", "x", "--json")
    assert status == 0, err
    text = json.loads(out)["derivatives"]["x"]["expression"]
    assert len(text) > 2_000 and "…" not in text
    status, out, err = run(capsys, "*".join(["x", *names]), "x=0:1:3",
                           *(f"{name}=1" for name in names), "--diff", "x")
    assert out.splitlines()[-1].startswith("(df/dx: the text is cut at 2,000 characters")


def test_a_derivative_too_long_for_json_is_null_with_a_note(capsys, monkeypatch) -> None:
    monkeypatch.setattr(minigrad.cli, "MAX_DERIVATIVE_TEXT", 100)
    status, out, err = run(capsys, *PRODUCT, "--diff", "x0", "--diff", "x1", "--json")
    assert status == 0, err
    report = json.loads(out)["derivatives"]
    assert report["x0"] == {"expression": None, "value": 1.0}  # never a text cut short
    assert err.splitlines() == [
        f'note: df/d{name} is longer than 100 characters as text; --json gives its '
        '"expression" as null' for name in ["x0", "x1"]]


# -- 2. long user text is shown once, abbreviated ------------------------------------------
LONG = "b" * 130_000
B30 = "b" * 30
ABBREVIATED = f"{B30}…{B30} (130,000 characters)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([f"a + {LONG}", "a=1"],
         f"variable '{B30}…{B30}' (130,000 characters) has no value; pass it as "
         "NAME=NUMBER"),
        (["a", "a=1", f"{LONG}=1"], f"{ABBREVIATED} given but not used in the expression"),
        (["a", "a=1", "--diff", LONG],
         f"--diff {ABBREVIATED}: not a variable of the expression (its variables: a)"),
        (["a", f"a={LONG}"], f"a={'b' * 28}…{B30} (130,002 characters): the value "
                             f"'{B30}…{B30}' (130,000 characters) is not a number"),
        (["a", f"{LONG}=1", f"{LONG}=2"], f"{ABBREVIATED} is given twice"),
        (["a", f"a=0:1:{LONG}"], "N, the number of points, must be a whole number"),
        (["a", f"{LONG}"], "expected NAME=VALUE with a variable name, got "
                           f"'{B30}…{B30}' (130,000 characters)"),
        ([f"{LONG}(a)", "a=1"], f"cannot call '{B30}…{B30}' (130,000 characters)"),
        ([f"a + '{LONG}'", "a=1"], "' (130,002 characters) is not a real number"),
        (["a", "a=1", "--plot", f"{LONG}.gif"], f"--plot {B30}…"),
    ],
)
def test_long_user_text_is_shown_once_abbreviated(capsys, argv, message) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert message in err
    assert err.count("…") <= 2 and len(err) < 400  # no copy of the 130,000 characters
    assert err.count("\n") == 1


def test_many_names_are_counted_not_listed(capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"x{i}" for i in range(1000)]
    status, _, err = run(capsys, "a", "a=1", *(f"{name}=1" for name in names))
    assert status == 2
    assert err == ("minigrad: error: x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 and 990 more "
                   "given but not used in the expression\n")


def test_a_line_break_in_user_text_stays_on_the_message_line(capsys) -> None:
    status, _, err = run(capsys, "a", "a=1\n2")
    assert status == 2 and err.count("\n") == 1 and "1\\n2" in err


# -- 3. a plot of 10**6 points leaks no warning ---------------------------------------------
class SlowClock:
    """Stands in for matplotlib.legend's ``time``: each reading is two seconds later, as
    when placing a legend "best" over 10**6 points takes seconds (and matplotlib warns)."""

    now = 0.0

    @classmethod
    def perf_counter(cls) -> float:
        cls.now += 2.0
        return cls.now


def test_the_plots_legend_is_placed_without_a_search(capsys, monkeypatch, tmp_path) -> None:
    import matplotlib.legend

    monkeypatch.setattr(matplotlib.legend, "time", SlowClock)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, _, err = run(capsys, "sin(x)*x**2", "x=-6:6:101", "--plot",
                             str(tmp_path / "f.png"))
    assert status == 0, err


@pytest.mark.slow
def test_a_million_point_plot_with_warnings_as_errors(tmp_path: Path) -> None:
    # The case: a curve that fills the axes, so no legend place is free of it.
    path = tmp_path / "f.png"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "minigrad", "sin(1000*x)*y",
         "x=-10:10:1000000", "y=-1:1:1000000", "--plot", str(path)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert path.read_bytes().startswith(b"\x89PNG")


# -- 4. the expression from standard input or a file ----------------------------------------
SUM = "+".join(["a*b"] * 40_000)  # 160,000 characters: more than one argument may hold


def test_a_sum_longer_than_an_argument_from_standard_input_or_a_file(tmp_path) -> None:
    assert len(SUM.encode()) > 128 * 1024
    expected = {"value": 80_000.0, "gradients": {"a": 80_000.0, "b": 40_000.0}}
    result = command("-", "a=1", "b=2", "--json", input=SUM + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    path = tmp_path / "sum.txt"
    path.write_text(SUM + "\n", encoding="utf-8")
    result = command("--file", str(path), "a=1", "b=2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    result = command("--file", "-", "a=1", "b=2", "--json", input=SUM)
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize(
    ("data", "first_line"),
    [
        (b"a*b + 1\n", "a*b + 1 = 3.0"),
        (b"\xef\xbb\xbfa*b\r\n", "a*b = 2.0"),  # a byte-order mark and a Windows line end
        (b"(a +\n b)\n", "a + b = 3.0"),  # lines, as Python joins them
        ("é*b".encode(), "é*b = 4.0"),
    ],
)
def test_a_file_as_the_expression(capsys, tmp_path, data: bytes, first_line: str) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    values = ["é=2", "b=2"] if "é" in first_line else ["a=1", "b=2"]
    status, out, err = run(capsys, "--file", str(path), *values)
    assert status == 0, err
    assert out.splitlines()[0] == first_line


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "--file {path}: cannot read it: No such file or directory"),
        (b"a*\xff", "--file {path}: not UTF-8 text (invalid start byte at byte 2)"),
        (b"a" * (MAX_EXPRESSION_LENGTH + 1), "--file {path}: the expression is longer than "
                                             "1,000,000 characters, the most that is accepted"),
        (b" \n", "the expression is empty"),
    ],
)
def test_a_file_that_cannot_be_read(capsys, tmp_path, data: bytes | None, message) -> None:
    path = tmp_path / "f.txt"
    if data is not None:
        path.write_bytes(data)
    status, out, err = run(capsys, "--file", str(path), "a=1")
    assert (status, out) == (2, "")
    assert err == f"minigrad: error: {message.format(path=path)}\n"


def test_standard_input_that_is_not_utf8() -> None:
    result = command("-", "a=1", input=b"a*\xff", text=False)
    assert result.returncode == 2
    assert result.stderr == (b"minigrad: error: standard input: not UTF-8 text (invalid start "
                             b"byte at byte 2)\n")


def test_with_a_file_every_word_is_an_assignment(capsys, tmp_path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("a*b")
    status, _, err = run(capsys, "--file", str(path), "a*b", "a=1", "b=2")
    assert status == 2 and "expected NAME=VALUE with a variable name, got 'a*b'" in err
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "required: EXPR (or --file FILE)" in capsys.readouterr().err


def test_the_help_shows_standard_input_a_file_and_the_exit_statuses(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert "{EXPR | - | --file FILE}" in help_text and "--file FILE" in help_text
    assert 'echo "x*y + 1" | minigrad - x=1 y=2' in help_text
    assert "exit status:" in help_text and "missing optional dependency" in help_text


# -- 5. one exit status for a missing optional dependency: 2, as for bad input -------------
def test_without_sympy_latex_is_status_2_naming_the_pip_command(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sympy", None)  # as if it were not installed
    status, out, err = run(capsys, *SEED, "--latex")
    assert (status, out) == (2, "")
    assert err == ('minigrad: error: --latex needs sympy, which is not installed: pip install '
                   'sympy (from a checkout of MiniGrad: pip install ".[sympy]")\n')


def test_without_numpy_status_2_and_never_the_other_projects_name(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    status, _, err = run(capsys, "x", "x=0:1:3")
    assert status == 2 and 'pip install ".[numpy]"' in err
    assert "minigrad[" not in err  # on the package index, minigrad is another project


def test_without_dot_a_png_is_status_2_before_any_work(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    status, out, err = run(capsys, *SEED, "--render", str(tmp_path / "g.png"))
    assert (status, out) == (2, "")
    assert "a .png needs graphviz's dot program, which is not installed" in err
    assert "--render draws .svg" in err and "--dot FILE" in err


# -- 6. every missing and every unused variable at once ----------------------------------------
def test_every_missing_and_every_unused_variable_at_once(capsys) -> None:
    status, out, err = run(capsys, "a + b*c - d", "a=1", "e=2", "f=3")
    assert (status, out) == (2, "")
    assert err == ("minigrad: error: 3 variables have no value: b, c, d; pass each as "
                   "NAME=NUMBER; e, f given but not used in the expression\n")
    status, _, err = run(capsys, "a + b", "a=1", "c=2")  # one of each: the caret stays
    assert err.splitlines() == [
        "minigrad: error: variable 'b' has no value; pass b=NUMBER; c given but not used in "
        "the expression", "  a + b", "      ^"]
    status, _, err = run(capsys, "a*b + c*a", "a=1")  # each missing name once
    assert err == ("minigrad: error: 2 variables have no value: b, c; pass each as "
                   "NAME=NUMBER\n")


# -- 7. --version ------------------------------------------------------------------------------
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"minigrad {minigrad.__version__}\n"
    # the version the package was installed with (from this checkout)
    assert minigrad.__version__ == importlib.metadata.version("minigrad")
    result = command("--version")
    assert (result.returncode, result.stdout) == (0, f"minigrad {minigrad.__version__}\n")


# -- 8. a drawing that fails keeps the numbers ----------------------------------------------
def failing_dot(directory: Path) -> None:
    """A ``dot`` on PATH that fails, as graphviz's does on a broken install."""
    dot = directory / "dot"
    dot.write_text("#!/bin/sh\necho 'dot: a broken install' >&2\nexit 3\n")
    dot.chmod(0o755)


@pytest.mark.parametrize("extra", [[], ["--json"], ["--dot", "-"]])
def test_when_dot_fails_the_numbers_come_first(capsys, monkeypatch, tmp_path, extra) -> None:
    failing_dot(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    status, out, err = run(capsys, *SEED, "--render", str(tmp_path / "g.png"), *extra)
    assert status == 1
    if extra == ["--json"]:
        assert json.loads(out) == {"value": 16.675, "gradients": {"a": 1.35, "b": -8.0}}
    elif extra == ["--dot", "-"]:
        assert out.startswith("digraph") and err.startswith("a**3/5 + relu(b**2) = 16.675")
    else:
        assert out.splitlines()[0] == "a**3/5 + relu(b**2) = 16.675"
    assert err.endswith("\n") and "minigrad: cannot draw: " in err.splitlines()[-1]
    assert "returned non-zero exit status 3" in err
    assert not (tmp_path / "g.png").exists()


def test_a_graph_too_big_for_dot_keeps_the_numbers(capsys, tmp_path) -> None:
    needs_dot()
    status, out, err = run(capsys, "+".join(["a*b"] * 100), "a=1", "b=2",
                           "--render", str(tmp_path / "x.svg"))
    assert status == 1 and "too big to draw quickly" in err
    assert [line.split() for line in out.splitlines()[-2:]] == [["a", "1.0", "200.0"],
                                                               ["b", "2.0", "100.0"]]


def test_the_table_reaches_a_pipe_before_the_error(tmp_path: Path) -> None:
    # Standard output is a pipe (block-buffered): it is flushed before the error.
    failing_dot(tmp_path)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    result = command(*SEED, "--render", str(tmp_path / "g.png"), env=env,
                     stderr=subprocess.STDOUT, capture_output=False, stdout=subprocess.PIPE)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "a**3/5 + relu(b**2) = 16.675"
    assert lines[-1].startswith("minigrad: cannot draw: ")


def test_a_plot_that_cannot_be_written_keeps_the_numbers(capsys, tmp_path) -> None:
    status, out, err = run(capsys, "x*2", "x=0:1:3", "--plot", str(tmp_path / "no" / "f.png"))
    assert status == 2
    assert out.startswith("x*2 at 3 points")
    assert err.startswith("minigrad: error: No such file or directory: ")

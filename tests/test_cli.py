"""The minigrad command: the README's main job, its outputs, and every way it refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_visualize import needs_dot

from minigrad.cli import main
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
    status, _, err = run(capsys, *SEED, "--render", str(tmp_path / "g.png"))
    assert status == 1 and "apt-get install graphviz" in err


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
        (["a" * 10_001], 2, "at most 10,000"),
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
    status, out, _ = run(capsys, "+".join(["a"] * 2000), "a=1")
    assert status == 0 and "2000.0" in out
    # Python's own parser gives up on deeper nesting; that is a clean error, not a crash.
    for text in ["+".join(["a"] * 5000), "**".join(["a"] * 3000), "-" * 9000 + "a"]:
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

"""The minigrad command over many points: ``x=START:STOP:N`` ranges, their table, JSON
and plot, and every way they are refused."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad.cli
from minigrad.cli import main

ISSUE = ["sin(x)*x**2", "x=-6:6:101"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def f(x: float) -> float:
    return math.sin(x) * x**2


def df(x: float) -> float:  # the derivative, by hand: the product rule
    return 2 * x * math.sin(x) + x**2 * math.cos(x)


def six_digits(x: float) -> str:
    return repr(float(f"{x:.6g}"))


# -- the issue's commands -------------------------------------------------------------------
def test_the_issues_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *ISSUE)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "sin(x)*x**2 at 101 points: x from -6.0 to 6.0"
    assert lines[2].split() == ["point", "x", "value", "d/dx"]
    rows = [line.split() for line in lines[3:14]]
    assert [row[0] for row in rows] == ["0", "1", "2", "3", "4", "...", "96", "97", "98",
                                        "99", "100"]
    assert rows[5] == ["..."] * 4
    for row in rows[:5] + rows[6:]:
        x = -6 + 0.12 * int(row[0])
        assert row[1:] == [six_digits(x), six_digits(f(x)), six_digits(df(x))]
    assert lines[14:] == [
        "", "101 points: the first 5 and the last 5 are shown (--json prints them all)"]


def test_the_issues_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *ISSUE, "--json")
    assert status == 0, err
    report = json.loads(out)
    assert list(report) == ["value", "gradients", "points"]
    xs, values, grads = report["points"]["x"], report["value"], report["gradients"]["x"]
    assert len(xs) == len(values) == len(grads) == 101
    assert list(report["gradients"]) == ["x"]
    assert xs == np.linspace(-6, 6, 101).tolist()  # numpy.linspace's points, exactly
    assert (xs[0], xs[50], xs[-1]) == (-6.0, 0.0, 6.0)
    for i in [0, 1, 17, 50, 73, 100]:
        assert values[i] == pytest.approx(f(xs[i]), rel=1e-14, abs=1e-300)
        assert grads[i] == pytest.approx(df(xs[i]), rel=1e-13, abs=1e-300)
    assert all(type(v) is float for v in values + grads)


def test_one_batched_call_not_a_loop_over_the_points(capsys, monkeypatch) -> None:
    calls = []
    real = minigrad.cli.value_and_grad

    def counted(graph, output, inputs=None, undefined="raise"):
        calls.append({name.name: len(xs) for name, xs in inputs.items()})
        return real(graph, output, inputs, undefined)

    monkeypatch.setattr(minigrad.cli, "value_and_grad", counted)
    status, _, err = run(capsys, *ISSUE)
    assert status == 0, err
    assert calls == [{"x": 101}]


@pytest.mark.parametrize(("n", "rows"), [(1, 1), (5, 5), (20, 20), (21, 11)])
def test_short_tables_show_every_point(capsys, n: int, rows: int) -> None:
    status, out, err = run(capsys, "x*2", f"x=3:7:{n}")
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 + rows + (2 if n > 20 else 0)
    assert ("..." in out) == (n > 20)
    assert lines[3].split() == ["0", "3.0", "6.0", "2.0"]  # N=1 gives START, as linspace
    if n == 1:
        assert lines[0] == "x*2 at 1 point: x = 3.0"


def test_a_negative_or_descending_range(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "x*2", "x=-6:-1:6", "--json")
    assert status == 0, err
    assert json.loads(out)["points"]["x"] == [-6.0, -5.0, -4.0, -3.0, -2.0, -1.0]
    status, out, err = run(capsys, "-x", "x=6:-6:3", "--json")
    assert status == 0, err
    assert json.loads(out)["value"] == [-6.0, 0.0, 6.0]


def test_several_ranges_are_paired_and_the_others_keep_their_value(capsys) -> None:
    argv = ["x*y + z", "x=0:1:3", "y=10:20:3", "z=2"]
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    assert json.loads(out) == {
        "value": [2.0, 9.5, 22.0],
        "gradients": {"x": [10.0, 15.0, 20.0], "y": [0.0, 0.5, 1.0], "z": [1.0, 1.0, 1.0]},
        "points": {"x": [0.0, 0.5, 1.0], "y": [10.0, 15.0, 20.0]},
    }
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert out.splitlines()[0] == ("x*y + z at 3 points: x from 0.0 to 1.0; "
                                   "y from 10.0 to 20.0; z = 2.0")
    assert [line.split() for line in out.splitlines()[2:]] == [
        ["point", "x", "y", "value", "d/dx", "d/dy", "d/dz"],
        ["0", "0.0", "10.0", "2.0", "10.0", "0.0", "1.0"],
        ["1", "0.5", "15.0", "9.5", "15.0", "0.5", "1.0"],
        ["2", "1.0", "20.0", "22.0", "20.0", "1.0", "1.0"],
    ]


# -- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x", "x=1:2"], "x=1:2: a range is START:STOP:N"),
        (["x", "x=1:2:3:4"], "a range is START:STOP:N"),
        (["x", "x=1:2:0"], "x=1:2:0: N, the number of points, must be a whole number of at "
                           "least 1, got '0'"),
        (["x", "x=1:2:2.5"], "must be a whole number of at least 1, got '2.5'"),
        (["x", "x=1:2:-3"], "must be a whole number of at least 1, got '-3'"),
        (["x", "x=1:2:"], "must be a whole number of at least 1, got ''"),
        (["x", "x=1:2:1e3"], "must be a whole number of at least 1, got '1e3'"),
        (["x", "x=a:2:3"], "x=a:2:3: START 'a' is not a number"),
        (["x", "x=1:b:3"], "STOP 'b' is not a number"),
        (["x", "x=inf:1:3"], "START must be a finite number"),
        (["x", "x=1:nan:3"], "STOP must be a finite number"),
        (["x*2", "x=-1e308:1e308:3"], "too wide for floats"),
        (["x", "x=0:1:1000001"], "too many points; a range has at most 1,000,000"),
        (["x", "x=0:1:" + "9" * 5000], "too many points"),
        (["x*y", "x=0:1:3", "y=0:1:4"], "must have the same number of points N; x has 3, "
                                        "y has 4"),
        (["x", "x=0:1:3", "y=0:1:3"], "y given but not used"),
        (["x", "x=0:1:3", "--plot", "f.gif"], "--plot f.gif: the file must end in .png, .svg"),
        (["x", "x=1", "--plot", "f.png"], "--plot draws the expression over a range"),
        (["x", "x=0:1:3", "--hessian"], "--hessian is about one point, and x is given a range"),
        (["x", "x=0:1:3", "--trace"], "--trace is about one point"),
        (["x", "x=0:1:3", "--dot", "-"], "--dot is about one point"),
        (["x", "x=0:1:3", "--render", "g.svg", "--partials"],
         "--render is about one point, and x is given a range: give every variable a single "
         "value; to draw f over the range, use --plot FILE.png"),
    ],
)
def test_refusals_are_one_clear_message(capsys, argv, message) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.startswith("minigrad: error: ") and err.count("\n") == 1
    assert message in err


def test_options_about_one_point_write_no_file(capsys, tmp_path) -> None:
    for option, name in [("--dot", "g.dot"), ("--render", "g.svg")]:
        status, _, _ = run(capsys, "x", "x=0:1:3", option, str(tmp_path / name))
        assert status == 2
    assert list(tmp_path.iterdir()) == []


def test_outside_the_domain_is_an_error_naming_the_point(capsys) -> None:
    for extra in [[], ["--json"]]:
        status, out, err = run(capsys, "log(x)", "x=1:-1:5", *extra)
        assert (status, out) == (1, "")
        assert err.count("\n") == 1
        assert err.startswith("minigrad: cannot evaluate: log: log(0.0) is undefined")
        assert "at point 2 (x=0.0)" in err  # 1.0, 0.5, 0.0: the first point that fails


def test_diff_with_a_range_prints_the_derivative(capsys) -> None:
    status, out, err = run(capsys, "sin(x)*y**2", "x=0:1:3", "y=2", "--diff", "x")
    assert status == 0, err
    assert out.splitlines()[-2:] == ["", "df/dx = given(y**2*cos(x), sin(x)*y**2)"]
    status, out, err = run(capsys, "sin(x)*y**2", "x=0:1:3", "y=2", "--diff", "x", "--json")
    assert json.loads(out)["derivatives"] == {
        "x": {"expression": "given(y**2*cos(x), sin(x)*y**2)"}}


# -- the plot ---------------------------------------------------------------------------------
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "svg": b"<?xml"}


@pytest.mark.parametrize("file_format", ["png", "svg", "pdf"])
def test_plot_writes_the_picture(capsys, tmp_path, file_format: str) -> None:
    path = tmp_path / f"f.{file_format}"
    status, out, err = run(capsys, *ISSUE, "--plot", str(path))
    assert status == 0, err
    data = path.read_bytes()
    assert data.startswith(SIGNATURES[file_format]) and len(data) > 1000
    assert out.startswith("sin(x)*x**2 at 101 points")  # the table, as without --plot
    assert err == f"plotted f and its gradients over x to {path}\n"  # nothing undefined


def test_plot_over_a_range_that_leaves_the_domain(capsys, tmp_path) -> None:
    path = tmp_path / "log.png"
    status, out, err = run(capsys, "log(x)", "x=-1:1:101", "--plot", str(path), "--json")
    assert status == 0, err
    assert path.read_bytes().startswith(SIGNATURES["png"])
    plotted, note = err.splitlines()
    assert plotted == f"plotted f and its gradients over x to {path}"
    assert note.startswith("note: log(x) or a gradient is undefined at 51 of 101 points, "
                           "gaps in the plot")
    assert "the first is point 0 (x=-1.0): log: log(-1.0) is undefined" in note
    report = json.loads(out)  # strict JSON: null, never NaN, where undefined
    assert report["value"][:51] == [None] * 51 and report["gradients"]["x"][:51] == [None] * 51
    assert report["value"][100] == 0.0 and report["gradients"]["x"][100] == 1.0
    assert report["value"][75] == pytest.approx(math.log(0.5))
    status, out, _ = run(capsys, "log(x)", "x=-1:1:101", "--plot", str(path))
    assert out.splitlines()[3].split() == ["0", "-1.0", "nan", "nan"]


def test_plot_of_many_variables_draws_the_ranged_ones_gradients(capsys, tmp_path) -> None:
    names = [f"a{i}" for i in range(11)]
    status, _, err = run(capsys, f"x*({'+'.join(names)})", "x=0:1:5",
                         *(f"{n}=1" for n in names), "--plot", str(tmp_path / "f.png"))
    assert status == 0, err
    assert "(by the ranged variables only; 11 others left out)" in err


# -- numpy and matplotlib are optional --------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], 'minigrad: error: a range (NAME=START:STOP:N) needs numpy, which is not '
             'installed: pip install numpy (from a checkout of MiniGrad: '
             'pip install ".[numpy]")\n'),
        (["--plot", "f.png"], 'minigrad: error: a range (NAME=START:STOP:N) needs numpy, which '
                              'is not installed: pip install numpy (from a checkout of '
                              'MiniGrad: pip install ".[plot]")\n'),
    ],
)
def test_without_numpy_a_range_is_one_clear_message(capsys, monkeypatch, extra, message) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # as if it were not installed
    status, out, err = run(capsys, *ISSUE, *extra)
    assert (status, out, err) == (2, "", message)  # setup, like bad input: 2 (issue 21)
    status, out, err = run(capsys, "sin(x)*x**2", "x=1.5")  # one point needs no numpy
    assert status == 0, err


def test_without_matplotlib_a_plot_is_one_clear_message(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "f.png"
    status, out, err = run(capsys, *ISSUE, "--plot", str(path))
    assert (status, out) == (2, "")
    assert err == ('minigrad: error: --plot needs matplotlib, which is not installed: '
                   'pip install matplotlib (from a checkout of MiniGrad: '
                   'pip install ".[plot]")\n')
    assert not path.exists()
    status, _, err = run(capsys, *ISSUE)  # the table needs no matplotlib
    assert status == 0, err


def test_numpy_and_matplotlib_are_imported_only_when_used(tmp_path: Path) -> None:
    # numpy runs the engine, from the first evaluation; matplotlib only for a plot.
    script = f"""
import sys
from minigrad.cli import main
assert "numpy" not in sys.modules and "matplotlib" not in sys.modules, "the import"
assert main(["a*b", "a=1", "b=2"]) == 0
assert "matplotlib" not in sys.modules, "one point"
assert main(["x*2", "x=0:1:3"]) == 0
assert "numpy" in sys.modules and "matplotlib" not in sys.modules, "a range"
assert main(["x*2", "x=0:1:3", "--plot", {str(tmp_path / "f.png")!r}]) == 0
assert "matplotlib" in sys.modules, "a plot"
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_help_shows_a_range_and_a_plot(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert "NAME=START:STOP:N" in help_text and "--plot FILE" in help_text
    assert 'minigrad "sin(x)*x**2" x=-6:6:101 --plot f.png' in help_text

"""Every file the user names on the command line is written through one helper: one clean line on failure."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rehearse.cli import app
from tests.conftest import ROOT

runner = CliRunner()
NOTES = sorted((ROOT / "tests" / "data" / "seeds").glob("*"))[0]


@pytest.fixture()
def one_attempt():
    r = runner.invoke(app, ["score", "-q", "moco", "--text", "MoCo 用队列存负样本"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("args", [
    ["import", str(NOTES), "--out", "/dev/null/x.yaml"],
    ["export", "--out", "/dev/null/x.csv"],
    ["progress", "--plot", "/dev/null/x.png"],
    ["progress", "--html", "/dev/null/x.html"],
])
def test_an_unwritable_output_path_is_one_line_and_exit_2(one_attempt, args):
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert r.stderr.strip().splitlines() == [
        f"Error: cannot write {args[-1]}: a part of the folder path is a file, not a folder."]


def test_an_output_path_that_is_a_folder_is_refused(one_attempt, tmp_path):
    r = runner.invoke(app, ["export", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "is a directory" in r.stderr

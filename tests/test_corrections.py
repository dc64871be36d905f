"""Corrections through the CLI: the human verdict beside the machine's, and wordings the rubric learns."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from rehearse.cli import app
from rehearse.learned import learned_path
from rehearse.store import Store

runner = CliRunner()
# An answer to 3d-ssgan that says the lifting in words no rubric phrase or concept knows ("搬进三维的空间").
ANSWER = "我们先随机采样一组潜在向量，每个部件一个生成器，出特征图和深度图，然后把二维的东西搬进三维的空间，再体渲染出图和掩码。"


def run(*args: str):
    return runner.invoke(app, list(args))


def score_json(text: str, *extra: str) -> dict:
    r = run("score", "-q", "3d-ssgan", "--text", text, "--json", *extra)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def lifting(data: dict) -> dict:
    return next(p for p in data["points"] if p["id"] == "lifting")


def corrections_rows(home: Path) -> list[tuple]:
    with sqlite3.connect(home / "history.db") as c:
        return c.execute("SELECT attempt_id, point_id, verdict, span FROM corrections ORDER BY id").fetchall()


def test_a_said_correction_makes_the_same_words_count_next_time(_isolated_home: Path):
    first = score_json(ANSWER)
    assert not lifting(first)["covered"]
    r = run("correct", "1", "lifting", "--said", "--span", "搬进三维的空间")
    assert r.exit_code == 0, r.output
    assert "you said it (the scorer said missed)" in r.stdout and "learned “搬进三维的空间”" in r.stdout
    # the next attempt worded the same way is matched, and says how
    again = score_json("然后把特征图搬进三维的空间里。")
    p = lifting(again)
    assert p["covered"] and p["by"] == "learned" and p["evidence"]["text"] == "搬进三维的空间"
    # both verdicts are kept: the machine's result is unchanged, the human one is stored beside it
    with Store.open() as s:
        rec = s.attempt(1)
        pt = next(p for p in rec.result.points if p.id == "lifting")
        assert pt.credit == 0.0 and pt.human == "said" and pt.covered
        assert rec.result.machine_coverage < rec.coverage
    assert corrections_rows(_isolated_home) == [(1, "lifting", "said", "搬进三维的空间")]
    # questions show lists what was learned; learned list / remove manage it
    assert "learned from you: 搬进三维的空间" in run("questions", "show", "3d-ssgan").stdout.replace("\n", "")
    assert "3d-ssgan  lifting  搬进三维的空间" in run("learned", "list").stdout
    assert run("learned", "remove", "3d-ssgan", "lifting", "搬进三维的空间").exit_code == 0
    assert not lifting(score_json("然后把特征图搬进三维的空间里。", "--no-save"))["covered"]


def test_a_not_said_correction_counts_in_history_and_progress():
    data = score_json("我负责 lifting 模块，把二维特征提升到三维空间。")
    assert lifting(data)["covered"]
    assert run("correct", "1", "lifting", "--not-said").exit_code == 0
    hist = json.loads(run("history", "--json").stdout)
    assert hist[0]["coverage"] < data["coverage"]
    assert "lifting" in " ".join(hist[0]["missed"])
    with Store.open() as s:
        pt = next(p for p in s.attempt(1).result.points if p.id == "lifting")
        assert pt.machine_covered and not pt.covered


def test_bad_corrections_are_one_line_and_change_nothing(_isolated_home: Path):
    score_json(ANSWER)
    cases = [
        (("correct", "9", "lifting", "--said"), "no attempt #9"),
        (("correct", "1", "liftin", "--said"), "has no point 'liftin'. Did you mean: lifting"),
        (("correct", "1", "lifting", "--said", "--span", "从来没说过的话"), "is not in attempt #1's transcript"),
        (("correct", "1", "lifting", "--not-said", "--span", "搬进"), "--span goes with --said"),
        (("correct", "1", "lifting"), "say which: --said"),
    ]
    for args, message in cases:
        r = run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.stderr and "Traceback" not in r.output
        assert len(r.stderr.strip().splitlines()) == 1
    assert corrections_rows(_isolated_home) == []
    assert not learned_path().exists()


def test_an_overlay_broken_by_hand_is_a_warning_for_scoring_and_an_error_for_learning(_isolated_home: Path):
    score_json(ANSWER)
    learned_path().write_text("learned: [oops\n  - :", encoding="utf-8")
    r = run("score", "-q", "3d-ssgan", "--text", ANSWER, "--no-save")
    assert r.exit_code == 0 and "not valid YAML" in r.stderr and "Learned wordings are ignored" in r.stderr
    r = run("correct", "1", "lifting", "--said", "--span", "搬进三维的空间")
    assert r.exit_code == 2 and "fix or delete the file" in r.stderr
    assert corrections_rows(_isolated_home) == []  # nothing stored half-way
    assert learned_path().read_text(encoding="utf-8") == "learned: [oops\n  - :"  # and the file is never rewritten
    r = run("learned", "list")
    assert r.exit_code == 2 and "not valid YAML" in r.stderr

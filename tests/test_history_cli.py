"""history / progress / rescore / export / --home / score saving, through typer's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rehearse.assess import assess_text
from rehearse.cli import app
from rehearse.rubric import load_bank
from rehearse.store import Store

runner = CliRunner()
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)

BANK_V1 = """\
title: test bank
language: zh
questions:
  - id: moco
    question: MoCo 的核心思路是什么？
    tags: [ssl]
    points:
      - id: queue
        label: 队列存负样本
        any: ["队列", "queue"]
      - id: momentum
        label: 动量编码器
        any: ["动量"]
  - id: vae
    question: VAE 是什么？
    tags: [basics]
    points:
      - id: elbo
        label: 最大化 ELBO
        any: ["ELBO", "证据下界"]
      - id: reparam
        label: 重参数化
        any: ["重参数化"]
"""


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def bank(tmp_path) -> Path:
    p = tmp_path / "bank.yaml"
    p.write_text(BANK_V1, encoding="utf-8")
    return p


@pytest.fixture
def seeded(bank):
    """Four typed answers at fixed times: moco 50% → 100% → 50%, vae 0%."""
    qs = {q.id: q for q in load_bank(bank).questions}
    with Store.open() as s:
        for i, (qid, text) in enumerate([("moco", "我们用队列"), ("moco", "队列和动量编码器"),
                                         ("vae", "我不知道"), ("moco", "动量更新")]):
            s.save_attempt(assess_text(qs[qid], text), question=qs[qid], at=T0 + timedelta(days=i))
    return bank


def test_score_saves_every_attempt_unless_no_save(bank):
    r = run("score", "-q", "moco", "--text", "我们用队列", "--bank", str(bank), "--no-shipped")
    assert r.exit_code == 0, r.output
    assert "saved as attempt #1 ('rehearse history', 'rehearse progress')" in r.output
    r = run("score", "-q", "moco", "--text", "队列和动量", "--bank", str(bank), "--no-shipped", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["coverage"] == 1.0  # JSON output unchanged
    r = run("score", "-q", "moco", "--text", "队列", "--bank", str(bank), "--no-shipped", "--no-save")
    assert r.exit_code == 0 and "saved as" not in r.output
    r = run("history", "--json")
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert [(d["id"], d["question"], d["coverage"], d["status"]) for d in data] == [
        (1, "moco", 0.5, "scored"), (2, "moco", 1.0, "scored")]
    assert data[0]["missed"] == ["momentum"] and data[0]["transcript"] == "我们用队列"
    assert set(data[0]) >= {"question", "time", "coverage", "fluency"}


def test_history_table_exact(seeded):
    r = run("history")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "#  time              question  status  coverage  rate  fillers/min  missed      ",
        "1  2025-03-01 09:00  moco      scored       50%                     momentum    ",
        "2  2025-03-02 09:00  moco      scored      100%                                 ",
        "3  2025-03-03 09:00  vae       scored        0%                     elbo,       ",
        "                                                                    reparam     ",
        "4  2025-03-04 09:00  moco      scored       50%                     queue       ",
        "4 attempts",
    ]


def test_history_filters(seeded):
    r = run("history", "--question", "moco", "--since", "2025-03-02", "--json")
    assert [d["id"] for d in json.loads(r.output)] == [2, 4]
    r = run("history", "--tag", "basics", "--json")
    assert [d["question"] for d in json.loads(r.output)] == ["vae"]
    r = run("history", "--since", "2d", "--json")  # relative to now: nothing from March 2025
    assert json.loads(r.output) == []
    r = run("history", "--question", "mocoo")
    assert r.exit_code == 0 and r.output.strip() == "No answers to 'mocoo' stored yet. Did you mean: moco?"
    r = run("history", "--question", "moco", "--since", "2030-01-01")
    assert r.output.strip() == "No attempts match these filters."


def test_history_empty():
    r = run("history")
    assert r.exit_code == 0
    assert r.output.strip() == "No attempts stored yet: 'rehearse score' and 'rehearse practice' record them."


@pytest.mark.parametrize(("args", "message"), [
    (("history", "--since", "last tuesday"),
     "Error: --since 'last tuesday': give a date (2025-03-01), a date and time (2025-03-01T09:00) "
     "or an age (7d, 2w, 12h)."),
    (("progress", "--question", "moco", "--tag", "ssl"), "Error: give --question or --tag, not both."),
    (("rescore",), "Error: give --question ID or --all."),
    (("rescore", "--all", "--question", "moco"), "Error: give --question ID or --all."),
    (("export", "--format", "xml"), "Error: --format must be csv or json, not 'xml'."),
])
def test_bad_options_are_one_line(args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert r.output.strip() == message


def test_progress_terminal(seeded):
    r = run("progress")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "question  answers  coverage  first  last  best  trend ",
        "moco            3  ▅█▅         50%   50%  100%  steady",
        "vae             1  ▁            0%    0%    0%  new   ",
        "most missed",  # most misses first, then the highest miss rate
        "  你在 vae 的 1 次回答里 1 次漏掉了『最大化 ELBO』",
        "  你在 vae 的 1 次回答里 1 次漏掉了『重参数化』",
        "  你在 moco 的 3 次回答里 1 次漏掉了『动量编码器』",
        "  你在 moco 的 3 次回答里 1 次漏掉了『队列存负样本』",
    ]
    r = run("progress", "--tag", "basics")
    assert r.exit_code == 0 and "vae" in r.output and "moco" not in r.output


def test_progress_plot_and_html(seeded, tmp_path):
    from PIL import Image

    png, html = tmp_path / "charts" / "progress.png", tmp_path / "report.html"
    r = run("progress", "--plot", str(png), "--html", str(html))
    assert r.exit_code == 0, r.output
    assert f"wrote {png}" in r.output and f"wrote {html}" in r.output
    with Image.open(png) as im:
        assert im.size == (1000, 700)
    text = html.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 2  # overview + moco's own chart (vae has one answer)
    assert "动量更新" in text and "我不知道" in text  # latest transcripts


def test_progress_plot_to_a_directory_is_one_line(seeded, tmp_path):
    r = run("progress", "--plot", str(tmp_path))
    assert r.exit_code == 2
    assert r.output.strip().splitlines()[-1] == f"Error: cannot write {tmp_path}: is a directory."


def test_rescore_after_rubric_edit_keeps_old_results(seeded, tmp_path):
    v2 = tmp_path / "bank_v2.yaml"
    v2.write_text(BANK_V1.replace('any: ["动量"]', 'any: ["动量", "我们"]'), encoding="utf-8")
    r = run("rescore", "--all", "--bank", str(v2), "--no-shipped")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["rescored 3 attempts; 1 already up to date"]
    r = run("rescore", "--question", "moco", "--bank", str(v2), "--no-shipped")
    assert r.output.splitlines() == ["rescored 0 attempts; 3 already up to date"]
    r = run("history", "--question", "moco", "--json")
    assert [d["coverage"] for d in json.loads(r.output)] == [1.0, 1.0, 0.5]  # "我们用队列" now covers momentum
    with Store.open() as s:
        first = s.attempt(1)
    assert [res.coverage for res in first.results] == [0.5, 1.0] and first.results[1].current
    r = run("rescore", "--question", "nope", "--bank", str(v2), "--no-shipped")
    assert r.exit_code == 2 and r.output.startswith("Error: Unknown question id 'nope'.")
    r = run("rescore", "--all", "--bank", str(tmp_path / "bank.yaml"), "--no-shipped", "--force")
    assert r.output.splitlines() == ["rescored 4 attempts; 0 already up to date"]


def test_rescore_reports_questions_missing_from_the_banks(seeded, tmp_path):
    only_vae = tmp_path / "vae.yaml"
    only_vae.write_text(BANK_V1.split("  - id: vae")[0].replace("moco", "other"), encoding="utf-8")
    r = run("rescore", "--all", "--bank", str(only_vae), "--no-shipped")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "rescored 0 attempts; 0 already up to date",
        "skipped 3 attempts of 'moco': not in the loaded banks (use --bank)",
        "skipped 1 attempt of 'vae': not in the loaded banks (use --bank)",
    ]


def test_export_csv_and_json(seeded, tmp_path):
    r = run("export", "--format", "csv")
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert [(row["id"], row["question"], row["coverage"], row["missed"]) for row in rows] == [
        ("1", "moco", "0.5", "momentum"), ("2", "moco", "1.0", ""), ("3", "vae", "0.0", "elbo;reparam"),
        ("4", "moco", "0.5", "queue")]
    out = tmp_path / "all.json"
    r = run("export", "--format", "json", "--out", str(out))
    assert r.exit_code == 0 and r.output.strip() == f"wrote 4 attempts to {out}"
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data) == 4 and data[1]["results"][0]["points"][1]["evidence"]["phrase"] == "动量"


def test_home_option_sets_the_data_directory(bank, tmp_path):
    home = tmp_path / "elsewhere"
    r = run("--home", str(home), "score", "-q", "vae", "--text", "ELBO", "--bank", str(bank), "--no-shipped")
    assert r.exit_code == 0, r.output
    assert (home / "history.db").is_file()
    r = run("--home", str(home), "history", "--json")
    assert [d["question"] for d in json.loads(r.output)] == ["vae"]


def test_corrupt_history_is_one_line_and_score_can_skip_it(bank, _isolated_home):
    db = _isolated_home / "history.db"
    db.write_bytes(b"garbage, not sqlite " * 100)
    r = run("history")
    assert r.exit_code == 4
    assert len(r.output.strip().splitlines()) == 1
    assert r.output.startswith(f"Error: {db} is not a readable history database")
    r = run("score", "-q", "moco", "--text", "队列", "--bank", str(bank), "--no-shipped")
    assert r.exit_code == 4 and "move it aside" in r.output
    r = run("score", "-q", "moco", "--text", "队列", "--bank", str(bank), "--no-shipped", "--no-save")
    assert r.exit_code == 0
    assert db.read_bytes() == b"garbage, not sqlite " * 100

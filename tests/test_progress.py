"""Progress statistics, spaced-repetition order, charts, HTML report and export on a seeded history."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rehearse.assess import assess_text, assess_transcript
from rehearse.history import export_csv, export_json, rescore
from rehearse.progress import (
    fluency_baseline,
    fluency_trends,
    most_missed,
    question_progress,
    sparkline,
    trend_word,
)
from rehearse.rubric import Bank, Library, Point, Question
from rehearse.store import Store
from rehearse.transcript import Segment, Transcript, Word

SSGAN = Question(
    id="3d-ssgan", question="介绍一下你的工作 3D-SSGAN。", language="zh", bank="papers", tags=("papers",),
    target_seconds=60,
    points=(
        Point("lifting", "2D-to-3D lifting", (("提升到三维", "lifting"),)),
        Point("rendering", "体渲染出图像", (("体渲染",),)),
        Point("role", "你的角色", (("我负责",),)),
    ),
)
MOCO = Question(
    id="moco", question="MoCo 的核心思路是什么？", language="zh", bank="basics", tags=("ssl",),
    points=(Point("queue", "队列存负样本", (("队列",),)), Point("momentum", "动量编码器", (("动量",),))),
)
VAE = Question(id="vae", question="VAE 是什么？", language="zh", bank="basics", tags=("basics",),
               points=(Point("elbo", "ELBO", (("ELBO",),)),))
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)

SSGAN_ANSWERS = [  # coverage 0, 1/3, 2/3, 2/3, 3/3; 你的角色 missed 4 times out of 5
    "我们做了一个三维生成的工作",
    "我们把特征提升到三维",
    "我们把特征提升到三维，再用体渲染出图",
    "嗯，提升到三维以后体渲染",
    "我负责把特征提升到三维，再体渲染",
]


def spoken(question: Question, text: str, *, seconds: float, fillers: int = 0, pause: float = 0.0):
    """A timed answer: ``text`` spread evenly over ``seconds``, with one pause in the middle."""
    body = "嗯，" * fillers + text
    half = seconds / 2
    words = (Word(0.5, half, body[: len(body) // 2]), Word(half + pause, seconds + pause, body[len(body) // 2:]))
    t = Transcript(text=body, segments=(Segment(0.5, seconds + pause, body, words=words),), language="zh",
                   duration=seconds + pause + 1, engine="faster-whisper", model="base")
    if pause:
        regions = ((0.45, half + 0.05), (half + pause - 0.05, seconds + pause + 0.05))
    else:
        regions = ((0.45, seconds + 0.05),)
    return assess_transcript(question, t, regions, audio_path=Path(f"/tmp/{question.id}.wav"))


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "history.db") as s:
        for i, text in enumerate(SSGAN_ANSWERS):
            a = spoken(SSGAN, text, seconds=10 + i, fillers=3 - min(i, 3), pause=1.2 if i < 2 else 0.0)
            s.save_attempt(a, question=SSGAN, at=T0 + timedelta(days=i))
        s.save_attempt(assess_text(MOCO, "用队列存负样本，编码器用动量更新"), question=MOCO,
                       at=T0 + timedelta(days=1, hours=2))
        s.save_attempt(assess_text(MOCO, "用队列存负样本"), question=MOCO, at=T0 + timedelta(days=5))
        empty = Transcript(text="", segments=(), language="zh", duration=3, engine="faster-whisper", model="base")
        s.save_attempt(assess_transcript(MOCO, empty, None, audio_path=Path("/tmp/silence.wav")), question=MOCO,
                       at=T0 + timedelta(days=6))  # no speech: history, not progress
        yield s


def test_sparkline():
    assert sparkline([0, 0.5, 1], 0, 1) == "▁▅█"
    assert sparkline([2, 2, 2]) == "▅▅▅"
    assert sparkline([None, 1.0], 0, 1) == " █"
    assert sparkline([]) == ""


def test_trend_words():
    assert trend_word([0.5]) == "new"
    assert trend_word([0.2, 0.4, 0.6]) == "improving"
    assert trend_word([0.8, 0.8, 0.79]) == "steady"
    assert trend_word([0.9, 0.6, 0.3]) == "slipping"
    # only the last five answers count
    assert trend_word([0.0, 1, 1, 1, 1, 1]) == "steady"


def test_coverage_trend_and_misses_on_seeded_history(store):
    progress = question_progress(store.attempts())
    assert [p.question_id for p in progress] == ["moco", "3d-ssgan"]  # most recently practised first
    ssgan = progress[1]
    assert [round(c, 2) for c in ssgan.coverages] == [0.0, 0.33, 0.67, 0.67, 1.0]
    assert ssgan.first == 0 and ssgan.last == 1.0 and ssgan.best == 1.0
    assert ssgan.trend == "improving"
    assert ssgan.sparkline == "▁▃▆▆█"
    top = ssgan.misses[0]
    assert (top.point_id, top.missed, top.answers) == ("role", 4, 5)
    assert top.sentence() == "你在 3d-ssgan 的 5 次回答里 4 次漏掉了『你的角色』"
    assert [(m.point_id, m.missed) for m in ssgan.misses] == [("role", 4), ("rendering", 2), ("lifting", 1)]
    moco = progress[0]
    assert len(moco.attempts) == 2  # the no-speech attempt is not progress
    assert moco.trend == "slipping" and moco.coverages == [1.0, 0.5]
    assert [m.sentence() for m in most_missed(progress, limit=2)] == [
        "你在 3d-ssgan 的 5 次回答里 4 次漏掉了『你的角色』", "你在 3d-ssgan 的 5 次回答里 2 次漏掉了『体渲染出图像』"]


def test_fluency_trends_and_baseline(store):
    atts = store.attempts()
    trends = fluency_trends(atts)
    assert trends["fillers_per_min"][0] > trends["fillers_per_min"][-1] == 0  # fillers 3,2,1,0,0
    assert trends["pauses"] == [1, 1, 0, 0, 0]
    assert trends["longest_pause_s"][:2] == [pytest.approx(1.2), pytest.approx(1.2)]
    base = fluency_baseline(atts)
    assert base["pauses"] == 0 and base["time_to_first_word_s"] == pytest.approx(0.5)
    assert base["speech_rate"] == pytest.approx(sorted(trends["speech_rate"])[2])  # median of five


def test_rescore_changes_progress_but_keeps_old_results(store):
    edited = replace(SSGAN, points=SSGAN.points[:2] + (Point("role", "你的角色", (("我负责", "我们"),)),))
    lib = Library((Bank("papers", "t", "zh", Path("x.yaml"), (edited,)),
                   Bank("basics", "t", "zh", Path("y.yaml"), (MOCO,))))
    summary = rescore(store, lib)
    assert len(summary.rescored) == 5 and summary.unchanged == 3 and summary.missing_question == {}
    ssgan = [p for p in question_progress(store.attempts()) if p.question_id == "3d-ssgan"][0]
    # now only the 4th answer (neither 我们 nor 我负责) misses the role
    assert [m.missed for m in ssgan.misses if m.point_id == "role"] == [1]
    assert all(len(a.results) == 2 for a in store.attempts(question="3d-ssgan"))
    again = rescore(store, lib)
    assert again.rescored == [] and again.unchanged == 8
    forced = rescore(store, lib, question="moco", force=True)
    assert len(forced.rescored) == 3
    gone = rescore(store, Library(()))
    assert gone.missing_question == {"3d-ssgan": 5, "moco": 3}


def test_progress_png_opens_with_the_right_size(store, tmp_path):
    from PIL import Image

    from rehearse.files import write_bytes
    from rehearse.plots import progress_png

    atts = store.attempts()
    path = write_bytes(tmp_path / "out" / "progress.png", progress_png(question_progress(atts), atts))
    assert path.stat().st_size > 10_000
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (1000, 700)
        colours = im.convert("RGB").getcolors(maxcolors=1_000_000)
        assert len(colours) > 50  # lines, text and fills were drawn, not a blank canvas


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.external: list[str] = []
        self.stack: list[str] = []
        self.quotes: list[str] = []
        self.items: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append(tag)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith(("data:", "#")):
                self.external.append(a[key])
        if tag == "blockquote":
            self.quotes.append("")
        if tag == "li":
            self.items.append("")

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if "blockquote" in self.stack:
            self.quotes[-1] += data
        if "li" in self.stack:
            self.items[-1] += data


def test_html_report_is_self_contained_with_charts_and_transcripts(store):
    from rehearse.html_report import render_html
    from rehearse.plots import coverage_png, progress_png

    atts = store.attempts()
    progress = question_progress(atts)
    charts = [("coverage and fluency", progress_png(progress, atts)), ("3d-ssgan", coverage_png(progress[1]))]
    html = render_html(progress, atts, charts=charts)
    parser = _Collect()
    parser.feed(html)
    assert parser.external == [] and parser.scripts == 0
    assert len(parser.imgs) == 2
    for src in parser.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # the latest transcript of each question
    assert parser.quotes == ["用队列存负样本", "我负责把特征提升到三维，再体渲染"]
    assert "你在 3d-ssgan 的 5 次回答里 4 次漏掉了『你的角色』" in parser.items
    assert "动量编码器" in parser.items  # missed in moco's latest answer


def test_export_csv_and_json(store):
    atts = store.attempts()
    rows = list(csv.DictReader(io.StringIO(export_csv(atts))))
    assert len(rows) == 8
    assert rows[0]["question"] == "3d-ssgan" and rows[0]["coverage"] == "0.0"
    assert rows[0]["missed"] == "lifting;rendering;role" and rows[0]["pauses"] == "1"
    assert rows[-1]["status"] == "no_speech"
    data = json.loads(json.dumps(export_json(atts), ensure_ascii=False))
    assert [d["question"] for d in data] == ["3d-ssgan", "3d-ssgan", "moco", "3d-ssgan", "3d-ssgan", "3d-ssgan",
                                             "moco", "moco"]
    best = data[5]
    assert best["transcript"] == SSGAN_ANSWERS[4] and best["coverage"] == 1.0
    assert best["results"][0]["points"][2]["evidence"]["phrase"] == "我负责"
    assert best["segments"][0]["text"] == SSGAN_ANSWERS[4] and best["fluency"]["timed"] is True


def test_answers_within_a_day_are_charted_over_that_day_not_years():
    """matplotlib spans ±2 years around a single date; the chart of a first answer showed 2025–2029."""
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from matplotlib.dates import num2date

    from rehearse.plots import _figure, _pad_dates

    at = datetime(2026, 12, 1, 20, 0, tzinfo=timezone.utc)
    ax = _figure(1).subplots()
    ax.plot([at], [50])
    _pad_dates(ax, [SimpleNamespace(created_at=at)])  # type: ignore[list-item]
    lo, hi = (num2date(x) for x in ax.get_xlim())
    assert hi - lo == timedelta(days=1) and lo < at < hi

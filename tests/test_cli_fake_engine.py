"""The CLI's audio commands with a registered fake engine: seconds, not minutes, and no model.

The real audio is still loaded, checked and cut by voice activity detection;
only the decoding is the fake's (tests/conftest.py FakeEngine). The real base
model keeps its own tests (test_pipeline.py, test_practice.py).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rehearse import engines
from rehearse.cli import app
from rehearse.rubric import load_library
from rehearse.store import Store
from tests.conftest import FakeEngine, shared_clip

runner = CliRunner()
MOCO = "MoCo 用一个队列维护负样本，key 编码器用动量更新，是 query 编码器参数的滑动平均。"


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setitem(engines._REGISTRY, "fake", lambda model: engine)
    return engine


def clip():
    return str(shared_clip("real", "aishell1_BAC009S0764W0121.flac"))


def test_the_fake_engine_is_a_choice_by_registration(fake: FakeEngine):
    assert "fake" in engines.engine_names() and engines.engine_names()[0] == "faster-whisper"
    r = runner.invoke(app, ["score", clip(), "-q", "moco", "--engine", "nope"])
    assert r.exit_code == 2 and "Choose one of: faster-whisper, fake, openai-whisper." in r.stderr


def test_score_audio_reports_and_saves(fake: FakeEngine):
    fake.enqueue(MOCO)
    r = runner.invoke(app, ["score", clip(), "-q", "moco", "--engine", "fake", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["engine"] == "fake" and data["transcript"] == MOCO
    covered = {p["id"] for p in data["points"] if p["covered"]}
    assert {"queue", "momentum-encoder"} <= covered
    assert fake.calls[0].language == "zh"  # the question's language is forced
    with Store.open() as s:
        (a,) = s.attempts()
        assert a.status == "scored" and a.engine == "fake"


def test_score_attempt_finishes_a_not_scored_attempt(fake: FakeEngine):
    q = load_library().get("moco")
    with Store.open() as s:
        aid = s.save_attempt(None, question=q, audio_path=clip(), status="not_scored")
    fake.enqueue(MOCO)
    r = runner.invoke(app, ["score", "--attempt", str(aid), "--engine", "fake"])
    assert r.exit_code == 0, r.output
    assert f"attempt #{aid} scored" in r.stdout
    with Store.open() as s:
        a = s.attempt(aid)
        assert a.status == "scored" and a.text == MOCO and a.coverage == 0.5  # queue + momentum encoder of 4


def test_rescore_transcribes_attempts_saved_without_a_result(fake: FakeEngine):
    q = load_library().get("moco")
    with Store.open() as s:
        s.save_attempt(None, question=q, audio_path=clip(), status="not_scored")
    fake.enqueue(MOCO)
    r = runner.invoke(app, ["rescore", "--all", "--engine", "fake"])
    assert r.exit_code == 0, r.output
    assert "transcribed and scored 1 attempts saved without a result" in r.stdout
    with Store.open() as s:
        assert s.attempts()[0].status == "scored"


def test_demo_runs_the_shipped_example(fake: FakeEngine):
    fake.enqueue("我负责 2D-to-3D lifting 模块，用体渲染渲染出图像和语义掩码，判别器做对抗训练。")
    r = runner.invoke(app, ["demo", "--engine", "fake"])
    assert r.exit_code == 0, r.output
    assert "Scoring the example answer" in r.stdout and "coverage" in r.stdout
    assert len(fake.calls) == 1


def test_a_history_locked_during_transcription_still_shows_the_result(fake: FakeEngine, _isolated_home):
    """The lock arrives while Whisper works (another rehearse saving): the result is printed, then the error."""
    import sqlite3

    locks: list[sqlite3.Connection] = []
    transcribe = fake.transcribe

    def transcribe_then_lock(audio, options):  # type: ignore[no-untyped-def]
        conn = sqlite3.connect(_isolated_home / "history.db", isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locks.append(conn)
        return transcribe(audio, options)

    fake.transcribe = transcribe_then_lock  # type: ignore[method-assign]
    fake.enqueue(MOCO)
    r = runner.invoke(app, ["score", clip(), "-q", "moco", "--engine", "fake", "--json"])
    locks[0].close()
    assert r.exit_code == 4, r.output
    assert json.loads(r.stdout)["transcript"] == MOCO  # the result was not thrown away
    assert "the result above was not saved" in r.stderr and f"rehearse score {clip()} -q moco" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_decoding_is_biased_toward_the_questions_terms_unless_told_not_to(fake: FakeEngine):
    fake.enqueue(MOCO, MOCO)
    assert runner.invoke(app, ["score", clip(), "-q", "moco", "--engine", "fake", "--no-save"]).exit_code == 0
    assert runner.invoke(app, ["score", clip(), "-q", "moco", "--engine", "fake", "--no-save",
                               "--no-hotwords"]).exit_code == 0
    biased, plain = fake.calls
    assert biased.hotwords and "MoCo" in biased.hotwords and "momentum encoder" in biased.hotwords
    assert plain.hotwords is None

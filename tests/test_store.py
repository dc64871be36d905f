"""The history store: migrations, round-trips, rescoring, corrupt and locked databases."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from rehearse.assess import assess_text, assess_transcript
from rehearse.errors import StoreError
from rehearse.rubric import Point, Question
from rehearse.store import (
    MIGRATIONS,
    Store,
    UnknownAttemptError,
    default_db_path,
    home_dir,
)
from rehearse.transcript import Segment, Transcript, Word

Q = Question(
    id="moco", question="MoCo 的核心思路是什么？", language="zh", bank="test", tags=("papers", "ssl"),
    target_seconds=60,
    points=(
        Point(id="queue", label="队列存负样本", groups=(("队列", "queue"),)),
        Point(id="momentum", label="动量编码器", groups=(("动量",),), weight=2),
        Point(id="role", label="你的角色", groups=(("我负责",),)),
    ),
)
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def timed_assessment():
    words = (Word(0.5, 1.0, "我们"), Word(1.0, 1.6, "用"), Word(1.6, 2.2, "队列"), Word(4.0, 4.6, "存"),
             Word(4.6, 5.4, "负样本"))
    t = Transcript(text="我们用队列存负样本", segments=(Segment(0.5, 5.4, "我们用队列存负样本", words=words),),
                   language="zh", duration=6.0, engine="faster-whisper", model="base")
    return assess_transcript(Q, t, ((0.5, 2.2), (4.0, 5.4)), audio_path=Path("/tmp/answer.wav"),
                             timings={"transcribe_s": 1.25})


def test_home_dir_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("REHEARSE_HOME", str(tmp_path / "h"))
    assert home_dir() == tmp_path / "h"
    assert default_db_path() == tmp_path / "h" / "history.db"


def test_migrations_on_empty_db_and_wal(tmp_path):
    path = tmp_path / "sub" / "history.db"
    with Store.open(path) as s:
        assert s.schema == [name for name, _ in MIGRATIONS]
        assert s.schema[0] == "m001_initial"
        mode = s._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    with Store.open(path) as s:  # reopening applies nothing twice
        assert s.schema == [name for name, _ in MIGRATIONS]
        rows = s._conn.execute("SELECT count(*) FROM migrations").fetchone()[0]
        assert rows == len(MIGRATIONS)


def test_default_path_is_under_rehearse_home(_isolated_home):
    with Store.open() as s:
        assert s.path == _isolated_home / "history.db"
    assert (_isolated_home / "history.db").is_file()


# The m001 schema exactly as shipped, frozen here so the upgrade path stays tested
# even when the store's own migrations grow.
M001_SQL = """
CREATE TABLE migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT);
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY, session_id INTEGER REFERENCES sessions(id), created_at TEXT NOT NULL,
    question_id TEXT NOT NULL, bank TEXT NOT NULL DEFAULT '', question_text TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]', target_seconds REAL,
    status TEXT NOT NULL CHECK (status IN ('scored', 'no_speech', 'not_scored')), audio_path TEXT,
    transcript TEXT, speech TEXT NOT NULL DEFAULT '[]', engine TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '', timings TEXT NOT NULL DEFAULT '{}');
CREATE INDEX attempts_by_question ON attempts(question_id, created_at);
CREATE INDEX attempts_by_time ON attempts(created_at);
CREATE TABLE results (
    id INTEGER PRIMARY KEY, attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL, rubric_hash TEXT NOT NULL, coverage REAL NOT NULL,
    is_current INTEGER NOT NULL DEFAULT 1, fluency TEXT NOT NULL DEFAULT '{}', assessment TEXT NOT NULL);
CREATE INDEX results_by_attempt ON results(attempt_id);
INSERT INTO migrations (name, applied_at) VALUES ('m001_initial', '2025-01-01T00:00:00.000000+00:00');
"""


def m001_database(path: Path, a) -> Path:  # type: ignore[no-untyped-def]
    """A history file of the first schema holding one scored attempt (id 1) of assessment ``a``."""
    data = a.to_json()
    old = sqlite3.connect(path)
    old.executescript(M001_SQL)
    old.execute("INSERT INTO attempts (id, created_at, question_id, bank, language, tags, status, transcript) "
                "VALUES (1, '2025-01-02T10:00:00.000000+00:00', 'moco', 'test', 'zh', '[\"papers\"]', 'scored', ?)",
                (json.dumps(a.transcript.to_dict(), ensure_ascii=False),))
    old.execute("INSERT INTO results (attempt_id, created_at, rubric_hash, coverage, fluency, assessment) "
                "VALUES (1, '2025-01-02T10:00:00.000000+00:00', ?, ?, ?, ?)",
                (Q.rubric_hash, data["coverage"], json.dumps(data["fluency"]), json.dumps(data, ensure_ascii=False)))
    old.commit()
    old.close()
    return path


def test_database_of_previous_schema_migrates_on_open(tmp_path):
    a = assess_text(Q, "MoCo 用一个队列存负样本，key 编码器用动量更新。")
    path = m001_database(tmp_path / "history.db", a)

    with Store.open(path) as s:
        assert s.schema == ["m001_initial", "m002_point_results", "m003_corrections", "m004_filled_pauses",
                            "m005_attempt_note", "m006_point_unsure"]
        rec = s.attempt(1)
    assert rec.question_id == "moco" and rec.tags == ("papers",)
    assert rec.transcript is not None and rec.transcript.text == a.transcript.text
    assert rec.coverage == pytest.approx(a.score.coverage)
    # the per-point rows were backfilled from the stored assessment JSON, in order
    assert [(p.id, p.status) for p in rec.result.points] == [(p.id, p.status) for p in a.score.points]
    queue = rec.result.points[0]
    assert queue.covered and queue.evidence is not None and queue.evidence["phrase"] == "队列"
    assert [p.id for p in rec.result.missed] == ["role"]


def test_why_a_point_is_unsure_is_stored_and_backfilled_for_older_results(tmp_path):
    """An answer about other models (BYOL, SwAV) keeps its one claim only as "unsure — check"; the reason is
    stored beside the point, and m006 fills it in for results stored before it from their assessment JSON."""
    a = assess_text(Q, "我更熟 BYOL 和 SwAV。BYOL 里也有一个动量编码器，不需要负样本。")
    momentum = next(p for p in a.score.points if p.id == "momentum")
    assert momentum.status == "unsure" and momentum.unsure is not None and momentum.unsure.by == "off-topic"
    with Store.open(tmp_path / "new.db") as s:
        rec = s.attempt(s.save_attempt(a, question=Q))
    stored = next(p for p in rec.result.points if p.id == "momentum")
    assert stored.status == "unsure" and not stored.covered
    assert stored.unsure_reason == "the answer is mostly about BYOL, SwAV, which this question's rubric never mentions"

    with Store.open(m001_database(tmp_path / "old.db", a)) as s:
        points = {p.id: p for p in s.attempt(1).result.points}
    assert points["momentum"].unsure_reason == stored.unsure_reason
    assert points["queue"].unsure is None and points["queue"].unsure_reason is None


def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "history.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO migrations (name, applied_at) VALUES ('m999_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"history\.db was written by a newer"):
        Store.open(path)


def test_attempt_round_trip(tmp_path):
    a = timed_assessment()
    with Store.open(tmp_path / "h.db") as s:
        sid = s.start_session("practice", at=T0)
        aid = s.save_attempt(a, question=Q, session_id=sid, at=T0 + timedelta(minutes=1))
        s.end_session(sid, at=T0 + timedelta(minutes=5))
        rec = s.attempt(aid)
        sessions = s.sessions()
    assert sessions[0].kind == "practice" and sessions[0].ended_at == T0 + timedelta(minutes=5)
    assert rec.session_id == sid and rec.created_at == T0 + timedelta(minutes=1)
    assert rec.status == "scored" and rec.question_id == "moco" and rec.bank == "test"
    assert rec.question_text == Q.question and rec.tags == ("papers", "ssl") and rec.target_seconds == 60
    assert rec.audio_path == Path("/tmp/answer.wav")
    assert rec.transcript == a.transcript  # segments and word timestamps survive
    assert rec.speech == ((0.5, 2.2), (4.0, 5.4))
    assert rec.engine == "faster-whisper" and rec.model == "base"
    assert rec.timings["transcribe_s"] == 1.25
    r = rec.result
    assert r.rubric_hash == Q.rubric_hash and r.current
    assert r.coverage == pytest.approx(a.score.coverage) == pytest.approx(0.25)
    assert r.fluency == a.fluency.to_dict()
    assert r.data == json.loads(json.dumps(a.to_json()))  # the whole JSON contract
    assert [p.id for p in r.points] == ["queue", "momentum", "role"]
    assert r.points[0].evidence["start"] == pytest.approx(1.6)


def test_no_speech_and_not_scored_attempts(tmp_path):
    empty = Transcript(text="", segments=(), language="zh", duration=3.0, engine="faster-whisper", model="base")
    silent = assess_transcript(Q, empty, None, audio_path=tmp_path / "silence.wav")
    with Store.open(tmp_path / "h.db") as s:
        a1 = s.save_attempt(silent, question=Q)
        a2 = s.save_attempt(None, question=Q, audio_path=tmp_path / "later.wav", status="not_scored")
        assert s.attempt(a1).status == "no_speech" and s.attempt(a1).coverage == 0
        pending = s.attempt(a2)
        assert pending.status == "not_scored" and pending.result is None and pending.transcript is None
        assert pending.audio_path == (tmp_path / "later.wav").resolve()
        # finishing it later
        s.add_result(a2, timed_assessment())
        done = s.attempt(a2)
        assert done.status == "scored" and done.transcript is not None and done.speech
        with pytest.raises(ValueError):
            s.save_attempt(None, question=Q)  # scored needs an assessment
        with pytest.raises(ValueError):
            s.save_attempt(None, question=Q, status="not_scored")  # needs the recording
        with pytest.raises(UnknownAttemptError):
            s.attempt(999)


def test_rescore_keeps_old_results(tmp_path):
    a = timed_assessment()
    edited = replace(Q, points=Q.points[:2] + (Point(id="role", label="你的角色", groups=(("我负责", "存负样本"),)),))
    assert edited.rubric_hash != Q.rubric_hash
    with Store.open(tmp_path / "h.db") as s:
        aid = s.save_attempt(a, question=Q, at=T0)
        rec = s.attempt(aid)
        again = assess_transcript(edited, rec.transcript, rec.speech, audio_path=rec.audio_path)
        s.add_result(aid, again, at=T0 + timedelta(days=1))
        rec = s.attempt(aid)
    assert len(rec.results) == 2
    old, new = rec.results
    assert not old.current and new.current and rec.result is new
    assert old.rubric_hash == Q.rubric_hash and new.rubric_hash == edited.rubric_hash
    assert old.coverage == pytest.approx(0.25) and new.coverage == pytest.approx(0.5)
    assert [p.status for p in old.points] == ["covered", "missed", "missed"]
    assert [p.status for p in new.points] == ["covered", "missed", "covered"]


def test_attempt_filters(tmp_path):
    other = replace(Q, id="vae", tags=("basics",))
    with Store.open(tmp_path / "h.db") as s:
        s.save_attempt(assess_text(Q, "队列"), question=Q, at=T0)
        s.save_attempt(assess_text(other, "队列"), question=other, at=T0 + timedelta(days=2))
        s.save_attempt(assess_text(Q, "动量"), question=Q, at=T0 + timedelta(days=3))
        assert [a.question_id for a in s.attempts()] == ["moco", "vae", "moco"]
        assert len(s.attempts(question="moco")) == 2
        assert [a.question_id for a in s.attempts(since=T0 + timedelta(days=1))] == ["vae", "moco"]
        assert [a.question_id for a in s.attempts(since=date(2025, 3, 4))] == ["moco"]
        assert [a.question_id for a in s.attempts(tag="basics")] == ["vae"]
        assert s.attempts(tag="nope") == []
        assert s.question_ids() == ["moco", "vae"]


def test_each_attempt_is_one_transaction(tmp_path, monkeypatch):
    s = Store.open(tmp_path / "h.db")
    a = timed_assessment()
    broken = replace(a, score=replace(a.score, points=a.score.points + (a.score.points[0],)))  # duplicate point id
    with pytest.raises(StoreError):
        s.save_attempt(broken, question=Q)
    assert s.attempts() == []  # neither the attempt nor its result was half-written
    s.close()


def test_corrupt_file_gives_a_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / "history.db"
    garbage = b"this is not sqlite at all " * 200
    path.write_bytes(garbage)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    msg = str(info.value)
    assert str(path) in msg and "not a readable history database" in msg and "move it aside" in msg
    assert "\n" not in msg
    assert path.read_bytes() == garbage  # never overwritten or deleted


def test_locked_database_gives_a_clear_error_and_keeps_the_recording(tmp_path):
    path = tmp_path / "history.db"
    recording = tmp_path / "answer.wav"
    recording.write_bytes(b"RIFF....WAVE")
    s = Store.open(path, timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        with pytest.raises(StoreError) as info:
            s.save_attempt(timed_assessment(), question=Q, audio_path=recording)
        msg = str(info.value)
        assert str(path) in msg and "locked by another rehearse process" in msg
        assert f"kept at {recording.resolve()}" in msg
        with pytest.raises(StoreError, match="locked"):
            Store.open(path, timeout=0.2)
        assert s.attempts() == []  # readers are not blocked in WAL mode
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert recording.read_bytes() == b"RIFF....WAVE"
    assert s.save_attempt(timed_assessment(), question=Q, audio_path=recording) == 1
    s.close()


def test_a_dropped_migrations_table_is_explained(tmp_path):
    import sqlite3

    from rehearse.errors import StoreError

    db = tmp_path / "history.db"
    Store.open(db).close()
    with sqlite3.connect(db) as c:
        c.execute("DROP TABLE migrations")
    with pytest.raises(StoreError, match="'migrations' table is gone"):
        Store.open(db)


def test_a_read_only_history_is_one_line_and_leaves_no_stale_files(tmp_path):
    """As a user who may not write it (root may write anything, so the check runs as 'nobody')."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    if os.geteuid() != 0:
        pytest.skip("needs root to run the client as another user")
    home = tmp_path / "home"
    home.mkdir()
    Store.open(home / "history.db").close()
    for f in home.iterdir():
        if f.name != "history.db":
            f.unlink()
    os.chmod(home / "history.db", 0o444)
    os.chmod(home, 0o777)
    os.chmod(tmp_path, 0o755)
    user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    r = subprocess.run([*user, sys.executable, "-m", "rehearse.cli", "history"], cwd=ROOT, capture_output=True,
                       text=True, env={**os.environ, "REHEARSE_HOME": str(home), "HOME": str(tmp_path)})
    assert r.returncode == 4, r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "is read-only" in r.stderr
    assert sorted(f.name for f in home.iterdir()) == ["history.db"]  # no read-only -shm / -wal left behind

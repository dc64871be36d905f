"""Practice reads each question aloud from audio made ahead of time, and shows it even with no voice.

A real Session with a recording replayed as the microphone (FileSource), the fake transcription engine,
and fake text-to-speech engines in the real registry order."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from rich.console import Console

from rehearse import practice, tts
from rehearse.practice import PracticeOptions, Session, early_speaker
from rehearse.recorder import FileSource
from rehearse.rubric import load_library
from rehearse.schedule import Selection
from rehearse.store import Store
from rehearse.tts import Speaker
from tests.conftest import FakeEngine, shared_clip
from tests.test_tts import FakeEngine as FakeVoice
from tests.test_tts import fake_player


@pytest.fixture()
def session_parts(tmp_path, monkeypatch):
    played: list = []
    monkeypatch.setattr(tts, "play_stream", fake_player(played))
    monkeypatch.setattr(practice, "beep", lambda: None)
    monkeypatch.setattr(tts, "_REGISTRY", {})
    qs = [q for q in load_library().questions if q.language == "zh"][:2]
    engine = FakeEngine().enqueue("我们用对比学习", "我们用扩散模型")
    opts = PracticeOptions(speak=True, max_seconds=1.5, recordings=tmp_path / "rec")
    return played, qs, engine, opts, tmp_path


def run(parts, console_out: io.StringIO, picked: Selection | None = None):
    played, qs, engine, opts, tmp_path = parts
    with Store.open(tmp_path / "h.db") as store:
        session = Session(engine, store, opts, Console(file=console_out, width=160),
                          source_factory=lambda: FileSource(shared_clip("real", "ljspeech_LJ001-0002.flac")))
        session.ask_next = lambda has_next: "n" if has_next else "q"  # type: ignore[method-assign]
        return session.run(picked.session(store.attempts()) if picked else qs, next_session=picked)


def test_each_question_is_spoken_from_audio_made_in_the_background(session_parts):
    voice = FakeVoice("kokoro", ("zh", "en"))
    tts.register_tts_engine("kokoro", lambda: voice)
    out = io.StringIO()
    summary = run(session_parts, out)
    played, qs = session_parts[0], session_parts[1]
    assert len(summary.outcomes) == 2 and len(played) == 2
    assert [c[0] for c in voice.calls] == [q.question for q in qs]  # each made once
    assert all(c[3].startswith("rehearse-tts") for c in voice.calls)  # both ahead of time, on the worker thread


def test_with_no_mandarin_voice_the_questions_are_shown_and_it_is_said_once(session_parts):
    tts.register_tts_engine("espeak-ng", lambda: FakeVoice("espeak-ng", ("en",)))
    out = io.StringIO()
    summary = run(session_parts, out)
    text = out.getvalue()
    qs = session_parts[1]
    assert len(summary.outcomes) == 2 and session_parts[0] == []
    assert text.count("No Mandarin voice here") == 1
    assert all(q.question[:6] in text for q in qs)


def test_the_next_sessions_first_questions_are_cached_when_a_session_ends(session_parts):
    voice = FakeVoice("kokoro", ("zh", "en"))
    tts.register_tts_engine("kokoro", lambda: voice)
    played, _, engine, opts, tmp_path = session_parts
    zh = tuple(q for q in load_library().questions if q.language == "zh")[:5]
    picked = Selection(zh, count=2)  # 'practice --count 2' over five questions never answered
    engine.queue[:] = ["我们用对比学习", "我们用扩散模型"]
    summary = run(session_parts, io.StringIO(), picked)
    assert [o.question.id for o in summary.outcomes] == [q.id for q in zh[:2]]
    with Store.open(tmp_path / "h.db") as store:  # what the next session, tomorrow, asks first
        later = datetime.now(timezone.utc) + timedelta(days=1)
        upcoming = picked.session(store.attempts(), later)
    assert [q.id for q in upcoming] == [q.id for q in zh[2:4]]
    speaker = Speaker()  # a new session: the same engine and voice, the same cache on disk
    assert all(speaker.cached(q.question, q.language) is not None for q in upcoming)
    assert speaker.cached(zh[4].question, zh[4].language) is None  # two made ahead, not the whole bank
    assert [c[0] for c in voice.calls] == [q.question for q in zh[:4]]  # each made once, all on the worker
    assert all(c[3].startswith("rehearse-tts") for c in voice.calls) and len(played) == 2


def test_with_questions_given_nothing_more_is_made_by_the_voice_warmed_up_early(session_parts):
    voice = FakeVoice("kokoro", ("zh", "en"))
    tts.register_tts_engine("kokoro", lambda: voice)
    played, qs, engine, opts, tmp_path = session_parts
    assert early_speaker(PracticeOptions(speak=False)) is None
    speaker = early_speaker(opts)  # as 'practice' starts it, before the banks load
    assert speaker is not None
    with Store.open(tmp_path / "h.db") as store:
        session = Session(engine, store, opts, Console(file=io.StringIO(), width=160), speaker=speaker,
                          source_factory=lambda: FileSource(shared_clip("real", "ljspeech_LJ001-0002.flac")))
        session.ask_next = lambda has_next: "n" if has_next else "q"  # type: ignore[method-assign]
        session.run(qs, next_session=Selection(tuple(qs), scheduled=False))  # 'practice -q A -q B'
    assert session.speaker is speaker and len(played) == 2  # the early voice read them …
    assert speaker._worker is None  # … and the session closed it
    assert [c[0] for c in voice.calls] == [q.question for q in qs]  # the next session's first one is cached already

"""Practice reads each question aloud from audio made ahead of time, and shows it even with no voice.

A real Session with a recording replayed as the microphone (FileSource), the fake transcription engine,
and fake text-to-speech engines in the real registry order."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rehearse import practice, tts
from rehearse.practice import PracticeOptions, Session
from rehearse.recorder import FileSource
from rehearse.rubric import load_library
from rehearse.store import Store
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


def run(parts, console_out: io.StringIO):
    played, qs, engine, opts, tmp_path = parts
    with Store.open(tmp_path / "h.db") as store:
        session = Session(engine, store, opts, Console(file=console_out, width=160),
                          source_factory=lambda: FileSource(shared_clip("real", "ljspeech_LJ001-0002.flac")))
        session.ask_next = lambda has_next: "n" if has_next else "q"  # type: ignore[method-assign]
        return session.run(qs)


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

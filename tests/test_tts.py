"""Offline text-to-speech: the automatically chosen engine makes real audio of plausible length."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from rehearse.audio import load_audio, rms_dbfs
from rehearse.rubric import load_library
from rehearse.tts import (
    Speaker,
    TTSError,
    available_engines,
    choose_engine,
    synthesize_to_file,
)


@pytest.fixture(scope="module")
def engine():
    e = choose_engine()
    if e is None:
        pytest.skip("no text-to-speech engine installed (scripts/sysdeps.sh installs espeak-ng)")
    return e


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_question_is_synthesised_to_real_audio(engine, tmp_path, lang):
    question = (next(q.question for q in load_library().questions if q.language == "zh") if lang == "zh"
                else "What is contrastive learning, and which loss functions are commonly used?")
    path = synthesize_to_file(question, lang, tmp_path / "q.wav")
    info = sf.info(str(path))
    # Mandarin is read at roughly 2-8 characters a second; English at 1.2-5 words a second
    units = len(question) if lang == "zh" else len(question.split())
    lo, hi = (units / 8, units / 2) if lang == "zh" else (units / 5, units / 1.2)
    assert lo <= info.duration <= hi + 1.0, (question, info.duration)
    audio = load_audio(path)
    assert rms_dbfs(audio) > -35  # sound, not silence
    frames = audio[: len(audio) // 800 * 800].reshape(-1, 800)
    voiced = np.mean(np.sqrt((frames ** 2).mean(axis=1)) > 0.01)
    assert voiced > 0.4  # speech fills most of it


def test_zh_uses_a_mandarin_voice(engine, tmp_path):
    if engine.name != "espeak-ng":
        pytest.skip(f"voice check is for espeak-ng, not {engine.name}")
    auto = synthesize_to_file("对比学习", "zh", tmp_path / "zh.wav").read_bytes()
    assert auto == Speaker(voice="cmn").synthesize_to_file("对比学习", "zh", tmp_path / "cmn.wav").read_bytes()
    assert auto != Speaker(voice="en-us").synthesize_to_file("对比学习", "zh", tmp_path / "en.wav").read_bytes()


def test_unknown_voice_is_an_error(engine, tmp_path):
    with pytest.raises(TTSError):
        Speaker(voice="no-such-voice-xyz").synthesize_to_file("hello", "en", tmp_path / "x.wav")


def test_no_engine_means_one_notice_and_show_only(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng / say / powershell on PATH
    monkeypatch.setitem(__import__("sys").modules, "pyttsx3", None)
    assert available_engines() == []
    s = Speaker()
    assert not s.available and s.notice and "\n" not in s.notice
    assert s.speak("你好", "zh") is False
    with pytest.raises(TTSError):
        s.synthesize_to_file("你好", "zh", tmp_path / "q.wav")
    with pytest.raises(TTSError, match="not available"):
        choose_engine("espeak-ng")

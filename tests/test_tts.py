"""Reading questions aloud: the engine order (fakes for missing engines), the cache and the background
prefetch, bad input as one line, and espeak-ng as a real English engine that never reads Mandarin."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from rehearse import tts
from rehearse.audio import load_audio, rms_dbfs
from rehearse.tts import Speaker, TTSError, available_engines, choose_engine, no_voice_notice
from rehearse.voices.stream import Playback
from rehearse.voices.system import EspeakNG


class FakeEngine:
    """A synthesiser that writes a short tone and records what it was asked (and on which thread)."""

    def __init__(self, name: str, langs: tuple[str, ...], fail: str | None = None) -> None:
        self.name, self.langs, self.fail = name, langs, fail
        self.calls: list[tuple[str, str, str | None, str]] = []

    def supports(self, lang: str) -> bool:
        return lang in self.langs

    def voices(self) -> list[str]:
        return [f"{self.name}-voice"]

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        self.calls.append((text, lang, voice, threading.current_thread().name))
        if self.fail:
            raise TTSError(self.fail)
        t = np.arange(8000) / 16000
        sf.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
        return path


def fake_player(played: list):  # type: ignore[no-untyped-def]
    """A stand-in for the output device: takes every piece of the stream and keeps the whole clip."""

    def play(stream, stop=None, playback=None, rate=None, line=None):  # type: ignore[no-untyped-def]
        pb = playback or Playback()
        pb.played.extend(stream.read(stop))
        played.append(pb.audio())
        return pb

    return play


@pytest.fixture()
def registry(monkeypatch):
    """Replace the registry by fakes: ``install(name=engine or None, ...)`` in the real order."""

    def install(**engines: FakeEngine | None) -> None:
        monkeypatch.setattr(tts, "_REGISTRY", {})
        for name in ("say", "sapi", "pyttsx3", "kokoro", "espeak-ng"):
            tts.register_tts_engine(name, lambda e=engines.get(name.replace("-", "_")): e)

    return install


def test_engine_order_system_mandarin_voice_then_kokoro_then_nothing(registry):
    say_zh, kokoro, espeak = FakeEngine("say", ("zh", "en")), FakeEngine("kokoro", ("zh", "en")), \
        FakeEngine("espeak-ng", ("en",))
    registry(say=say_zh, kokoro=kokoro, espeak_ng=espeak)
    assert choose_engine(lang="zh") is say_zh and choose_engine(lang="en") is say_zh
    registry(say=FakeEngine("say", ("en",)), kokoro=kokoro, espeak_ng=espeak)  # macOS without a zh voice
    assert choose_engine(lang="zh") is kokoro and choose_engine(lang="en").name == "say"
    registry(kokoro=kokoro, espeak_ng=espeak)  # Linux
    assert choose_engine(lang="zh") is kokoro and choose_engine(lang="en") is kokoro
    registry(espeak_ng=espeak)  # Linux without Kokoro: English only
    assert choose_engine(lang="zh") is None and choose_engine(lang="en") is espeak
    assert [e.name for e in available_engines()] == ["espeak-ng"]


def test_a_registered_engine_goes_where_it_is_put(registry):
    registry(kokoro=FakeEngine("kokoro", ("zh",)))
    mine = FakeEngine("mine", ("zh",))
    tts.register_tts_engine("mine", lambda: mine, before="kokoro")
    assert tts.registered_engines()[:4] == ["say", "sapi", "pyttsx3", "mine"]
    assert choose_engine(lang="zh") is mine


def test_one_engine_reads_both_languages_so_kokoro_loads_once(monkeypatch, tmp_path):
    """The registry makes a new engine at each call; a session of Mandarin and English questions still has
    one Kokoro (whose model takes seconds and ~300 MB to load), while different engines stay apart."""
    made: list[FakeEngine] = []

    def kokoro() -> FakeEngine:
        made.append(FakeEngine("kokoro", ("zh", "en")))
        return made[-1]

    monkeypatch.setattr(tts, "_REGISTRY", {})
    tts.register_tts_engine("kokoro", kokoro)
    s = Speaker(cache_dir=tmp_path)
    assert s.engine_for("zh") is s.engine_for("en") is made[0] and len(made) >= 2
    espeak = FakeEngine("espeak-ng", ("en",))
    monkeypatch.setattr(tts, "_REGISTRY", {})
    tts.register_tts_engine("kokoro", lambda: FakeEngine("kokoro", ("zh",)))
    tts.register_tts_engine("espeak-ng", lambda: espeak)
    s = Speaker(cache_dir=tmp_path)
    assert s.engine_for("zh").name == "kokoro" and s.engine_for("en") is espeak


def test_no_mandarin_voice_is_said_once_and_english_still_speaks(registry, tmp_path, monkeypatch):
    espeak = FakeEngine("espeak-ng", ("en",))
    registry(espeak_ng=espeak)
    played: list[np.ndarray] = []
    monkeypatch.setattr(tts, "play_stream", fake_player(played))
    s = Speaker(cache_dir=tmp_path)
    assert s.speak("介绍一下 ControlNet。", "zh") is False
    notice = s.take_notice()
    assert notice == no_voice_notice("zh") and "\n" not in notice and "Mandarin" in notice
    assert s.speak("介绍一下 DreamBooth。", "zh") is False and s.take_notice() is None  # once only
    assert s.speak("What is CLIP?", "en") is True and len(played) == 1
    assert espeak.calls and all(lang == "en" for _, lang, _, _ in espeak.calls)  # never asked for Mandarin


def test_audio_is_cached_by_text_and_voice_and_made_ahead_in_the_background(registry, tmp_path, monkeypatch):
    kokoro = FakeEngine("kokoro", ("zh", "en"))
    registry(kokoro=kokoro)
    monkeypatch.setattr(tts, "play_stream", fake_player([]))
    s = Speaker(cache_dir=tmp_path)
    s.prefetch("介绍一下 ControlNet。", "zh")
    assert s.speak("介绍一下 ControlNet。", "zh")
    assert len(kokoro.calls) == 1 and kokoro.calls[0][3].startswith("rehearse-tts")  # made on the worker thread
    assert s.speak("介绍一下 ControlNet。", "zh") and len(kokoro.calls) == 1  # cached
    s.close()
    again = Speaker(cache_dir=tmp_path)  # a new session finds it on disk
    assert again.audio_for("介绍一下 ControlNet。", "zh").is_file() and len(kokoro.calls) == 1
    other = Speaker(voice="jf_alpha", cache_dir=tmp_path)  # another voice is another file
    assert other.audio_for("介绍一下 ControlNet。", "zh") != again.audio_for("介绍一下 ControlNet。", "zh")
    assert len(kokoro.calls) == 2 and kokoro.calls[1][2] == "jf_alpha"
    assert not list(tmp_path.glob(".tmp-*"))  # no half-written files


def test_bad_input_is_one_line_and_the_question_is_still_shown(registry, tmp_path, monkeypatch):
    broken = FakeEngine("kokoro", ("zh",), fail="Kokoro cannot turn this text into sounds (ValueError: x).")
    registry(kokoro=broken)
    monkeypatch.setattr(tts, "play_stream", fake_player([]))
    s = Speaker(cache_dir=tmp_path)
    for text in ("", "   ", "介绍一下 ControlNet。"):
        assert s.speak(text, "zh") is False
        notice = s.take_notice()
        assert notice and "\n" not in notice and "shown only" in notice
    s.prefetch("介绍一下 DreamBooth。", "zh")  # a background failure surfaces when the question is spoken
    assert s.speak("介绍一下 DreamBooth。", "zh") is False and "cannot turn" in (s.take_notice() or "")
    assert not list(tmp_path.glob("*.wav"))


def test_a_failing_output_device_stops_reading_aloud_after_one_line(registry, tmp_path, monkeypatch):
    registry(kokoro=FakeEngine("kokoro", ("zh", "en")))

    def no_device(stream, stop=None, playback=None, rate=None, line=None):  # type: ignore[no-untyped-def]
        raise TTSError("no audio output (PortAudio: no default output device)")

    monkeypatch.setattr(tts, "play_stream", no_device)
    s = Speaker(cache_dir=tmp_path)
    assert s.speak("介绍一下 ControlNet。", "zh") is False and "no audio output" in (s.take_notice() or "")
    assert s.speak("What is CLIP?", "en") is False and s.take_notice() is None


def test_unknown_engines_are_one_line(registry):
    registry(espeak_ng=FakeEngine("espeak-ng", ("en",)))
    with pytest.raises(TTSError, match="Unknown text-to-speech engine"):
        choose_engine("festival")
    with pytest.raises(TTSError, match="not available here"):
        choose_engine("say")
    with pytest.raises(TTSError, match="cannot read Mandarin"):
        choose_engine("espeak-ng", "zh")


# --------------------------------------------------------------------------- espeak-ng, for real


@pytest.fixture(scope="module")
def espeak() -> EspeakNG:
    e = choose_engine("espeak-ng")
    assert isinstance(e, EspeakNG)
    return e


def test_espeak_reads_english_to_real_audio_and_never_mandarin(espeak, tmp_path):
    question = "What is contrastive learning, and which loss functions are commonly used?"
    path = Speaker(engine="espeak-ng", cache_dir=tmp_path).synthesize_to_file(question, "en", tmp_path / "q.wav")
    info = sf.info(str(path))
    words = len(question.split())
    assert words / 5 <= info.duration <= words / 1.2 + 1.0
    audio = load_audio(path)
    assert rms_dbfs(audio) > -35
    frames = audio[: len(audio) // 800 * 800].reshape(-1, 800)
    assert np.mean(np.sqrt((frames ** 2).mean(axis=1)) > 0.01) > 0.4  # speech fills most of it
    assert not espeak.supports("zh")
    with pytest.raises(TTSError, match="Mandarin"):
        Speaker(engine="espeak-ng", cache_dir=tmp_path).audio_for("对比学习", "zh")


def test_unknown_espeak_voice_is_an_error(espeak, tmp_path):
    with pytest.raises(TTSError, match="no voice"):
        Speaker(voice="no-such-voice-xyz", engine="espeak-ng", cache_dir=tmp_path).audio_for("hello", "en")


def test_no_engine_at_all_means_one_notice_and_show_only(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng / say / powershell on PATH
    monkeypatch.setenv("REHEARSE_MODELS", str(tmp_path / "models"))  # no Kokoro either
    monkeypatch.setitem(__import__("sys").modules, "pyttsx3", None)
    assert available_engines() == []
    s = Speaker(cache_dir=tmp_path)
    assert not s.available
    assert s.speak("你好", "zh") is False and s.take_notice() == no_voice_notice("zh")
    with pytest.raises(TTSError):
        s.synthesize_to_file("你好", "zh", tmp_path / "q.wav")


def test_a_speaker_dropped_without_close_leaves_no_thread_behind(registry, tmp_path):
    """The web page makes a Speaker per request and never closes it: its worker must end with it."""
    import gc
    import time

    registry(kokoro=FakeEngine("kokoro", ("zh", "en")))

    before = set(threading.enumerate())  # an earlier test's worker may still be ending: only ours are judged

    def ours() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "rehearse-tts" and t not in before and t.is_alive()]

    started: set[threading.Thread] = set()
    for text in ("介绍一下 ControlNet。", "介绍一下 DreamBooth。"):
        speaker = Speaker(cache_dir=tmp_path)
        assert speaker.synthesize_to_file(text, "zh", tmp_path / "q.wav").is_file()
        started |= set(ours())
        del speaker
    assert len(started) == 2  # each speaker had its worker
    gc.collect()
    deadline = time.monotonic() + 5
    while ours() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ours() == []


def test_say_plays_as_the_question_is_made_and_says_when_it_started(registry, tmp_path, monkeypatch):
    """`rehearse say TEXT` (no --out) plays through the same streaming path as practice; a failure is one line."""
    from typer.testing import CliRunner

    from rehearse.cli import app

    monkeypatch.setenv("REHEARSE_HOME", str(tmp_path))
    played: list[np.ndarray] = []

    def play(stream, stop=None, playback=None, rate=None, line=None):  # type: ignore[no-untyped-def]
        pb = fake_player(played)(stream, stop, playback, rate, line)
        pb.first_sound_s = 0.3
        return pb

    monkeypatch.setattr(tts, "play_stream", play)
    kokoro = FakeEngine("kokoro", ("zh", "en"))
    registry(kokoro=kokoro)
    r = CliRunner().invoke(app, ["say", "我们用 InfoNCE loss 做对比学习"])
    assert r.exit_code == 0, r.output
    assert "kokoro: first sound after 0.3 s" in r.output
    assert len(played) == 1 and len(played[0]) == 8000 and kokoro.calls[0][:2] == ("我们用 InfoNCE loss 做对比学习", "zh")
    registry(kokoro=FakeEngine("kokoro", ("zh", "en"), fail="Kokoro cannot turn this text into sounds."))
    r = CliRunner().invoke(app, ["say", "另一句话"])
    assert r.exit_code != 0 and "Traceback" not in r.output and "cannot turn this text into sounds" in r.output

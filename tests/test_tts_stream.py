"""Streaming speech: the first clause plays while the rest is made, through a real PulseAudio null sink.

A fake streaming engine in the real registry makes pieces only when the test lets it, so the order is
checked, not timed: the first piece is heard while the engine is still blocked on the second. What was
played equals the cached clip sample for sample; Enter (stop) and Ctrl-C stop the sound; an error half
way is one line; closing the speaker drops what is half made."""

from __future__ import annotations

import signal
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from rehearse import tts
from rehearse.errors import TTSError
from rehearse.tts import Speaker
from rehearse.voices.stream import ClipStream, OutputLine, Playback, play_stream
from tests.audio_stack import _hush_after_each_test, pulse  # noqa: F401 - the fixtures

RATE = 24000


def tone(seconds: float, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


class GatedEngine:
    """Streams three pieces; each after the first waits until the test opens its gate."""

    name = "kokoro"
    sample_rate = RATE

    def __init__(self, fail_at: int | None = None) -> None:
        self.gates = [threading.Event() for _ in range(3)]
        self.gates[0].set()
        self.made: list[int] = []
        self.fail_at = fail_at
        self.loaded = threading.Event()

    def supports(self, lang: str) -> bool:
        return lang in ("zh", "en")

    def voices(self) -> list[str]:
        return ["jm_kumo"]

    def load(self) -> None:
        self.loaded.set()

    def synthesize(self, text, lang, path, voice=None):  # type: ignore[no-untyped-def] - never used: it streams
        raise AssertionError("a streaming engine is never asked for a whole file")

    def stream(self, text, lang, voice=None):  # type: ignore[no-untyped-def]
        for i, freq in enumerate((330.0, 440.0, 550.0)):
            assert self.gates[i].wait(20), "the test never let the engine go on"
            if i == self.fail_at:
                raise TTSError("Kokoro cannot turn this text into sounds (ValueError: x).")
            self.made.append(i)
            yield RATE, tone(0.3, freq)


@pytest.fixture()
def gated(monkeypatch):
    monkeypatch.setattr(tts, "_REGISTRY", {})

    def install(**kw) -> GatedEngine:  # type: ignore[no-untyped-def]
        engine = GatedEngine(**kw)
        tts.register_tts_engine("kokoro", lambda: engine)
        return engine

    return install


def release_after_first_sound(speaker: Speaker, engine: GatedEngine, later: list[int]) -> threading.Thread:
    """Open the gates of pieces ``later`` once the first samples reached the device."""

    def run() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if speaker.last is not None and speaker.last.played:  # handed to the output
                break
            time.sleep(0.01)
        for i in later:
            engine.gates[i].set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_first_piece_plays_while_the_rest_is_made_and_what_played_is_cached(pulse, gated, tmp_path):
    engine = gated()
    s = Speaker(cache_dir=tmp_path)
    s.warm_up("zh")
    release_after_first_sound(s, engine, [1, 2])
    assert s.speak("介绍一下 ControlNet，它怎么工作？", "zh"), s.take_notice()
    assert engine.loaded.is_set() and engine.made == [0, 1, 2]
    played = s.last.audio()
    assert s.last.rate == RATE and not s.last.stopped
    assert s.last.first_sound_s is not None  # the device took the first piece (before piece 2 existed: see above)
    cached = s.audio_for("介绍一下 ControlNet，它怎么工作？", "zh")
    data, rate = sf.read(str(cached), dtype="int16")
    assert rate == RATE and np.array_equal(data, played)  # what was played is what is cached
    assert len(played) == 3 * int(0.3 * RATE)
    again = Speaker(cache_dir=tmp_path)  # a cache hit plays the same samples
    assert again.speak("介绍一下 ControlNet，它怎么工作？", "zh") and np.array_equal(again.last.audio(), played)
    s.close()
    again.close()


def test_the_sound_really_reaches_the_output(pulse, tmp_path):
    import sounddevice as sd

    heard: list[np.ndarray] = []
    stream = ClipStream()
    stream.put(RATE, (tone(0.6, 440.0) * 32767).astype(np.int16))
    stream.finish(tmp_path / "x.wav")
    with sd.InputStream(device="pulse", samplerate=16000, channels=1, dtype="float32",
                        callback=lambda block, *_: heard.append(block[:, 0].copy())):
        time.sleep(0.2)
        pb = play_stream(stream, rate=16000)  # a wrong rate hint: reopened at the stream's own rate
        time.sleep(0.3)
    got = np.concatenate(heard)
    loud = np.abs(got) > 0.1
    assert pb.audio().size == int(0.6 * RATE) and pb.rate == RATE
    assert 0.4 < loud.sum() / 16000 < 0.8  # about 0.6 s of tone came back through the sink's monitor
    heard.clear()
    line = OutputLine(RATE)  # the same through the line a session keeps open
    try:
        with sd.InputStream(device="pulse", samplerate=16000, channels=1, dtype="float32",
                            callback=lambda block, *_: heard.append(block[:, 0].copy())):
            time.sleep(0.2)
            pb = play_stream(stream, line=line)
            time.sleep(0.3)
    finally:
        line.close()
    loud = np.abs(np.concatenate(heard)) > 0.1
    assert pb.audio().size == int(0.6 * RATE) and 0.4 < loud.sum() / 16000 < 0.8


@pytest.mark.parametrize("line", [False, True], ids=["own-stream", "session-line"])
def test_enter_skips_the_rest_and_the_whole_clip_is_still_cached(pulse, gated, tmp_path, line):
    engine = gated()
    s = Speaker(cache_dir=tmp_path)
    if line:
        s.warm_up("zh")  # the output kept open for the session
        assert s._line is not None
    skip = threading.Event()

    def stop() -> bool:
        if s.last is not None and s.last.played:
            skip.set()
        return skip.is_set()

    assert s.speak("介绍一下 ControlNet，它怎么工作？", "zh", stop=stop)
    assert s.last.stopped and engine.made == [0]  # stopped after the first block, before piece 1 existed
    assert 0 < len(s.last.audio()) < int(0.3 * RATE)
    engine.gates[1].set()
    engine.gates[2].set()
    path = s.audio_for("介绍一下 ControlNet，它怎么工作？", "zh")  # the synthesis went on: a retry is a cache hit
    assert sf.info(str(path)).frames == 3 * int(0.3 * RATE)
    s.close()


def test_an_error_half_way_is_one_line_and_nothing_is_cached(pulse, gated, tmp_path):
    engine = gated(fail_at=1)
    s = Speaker(cache_dir=tmp_path)
    release_after_first_sound(s, engine, [1, 2])
    assert s.speak("介绍一下 ControlNet，它怎么工作？", "zh") is False
    notice = s.take_notice()
    assert notice and "\n" not in notice and "cannot turn" in notice and "shown only" in notice
    assert len(s.last.audio()) == int(0.3 * RATE)  # the first piece was heard
    assert not list(tmp_path.glob("*.wav"))
    s.close()


@pytest.mark.parametrize("line", [False, True], ids=["own-stream", "session-line"])
def test_ctrl_c_stops_the_sound_and_close_drops_the_half_made_clip(pulse, gated, tmp_path, line):
    engine = gated()
    s = Speaker(cache_dir=tmp_path)
    if line:
        s.warm_up("zh")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background shell may ignore SIGINT

    def interrupt() -> None:
        deadline = time.monotonic() + 20
        while (s.last is None or not s.last.played) and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.raise_signal(signal.SIGINT)  # raise_signal runs the handler in the main thread

    try:
        threading.Thread(target=interrupt, daemon=True).start()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            s.speak("介绍一下 ControlNet，它怎么工作？", "zh")
        assert time.monotonic() - t0 < 10
    finally:
        signal.signal(signal.SIGINT, previous)
    s.close()  # the session ends: the clip being made is dropped
    engine.gates[1].set()
    engine.gates[2].set()
    time.sleep(0.3)
    assert engine.made in ([0], [0, 1])  # it stops after the piece being made
    assert not list(tmp_path.glob("*.wav"))
    pb = play_stream(ClipStream.from_file(_a_wav(tmp_path)), playback=Playback())  # the device is free again
    assert pb.audio().size == int(0.1 * RATE)


def _a_wav(folder):  # type: ignore[no-untyped-def]
    path = folder / "short.tmp"
    sf.write(str(path), (tone(0.1, 440.0) * 32767).astype(np.int16), RATE, subtype="PCM_16", format="WAV")
    return path


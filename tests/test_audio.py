"""Tests for rehearse.audio, on real files built in tmp_path with numpy, soundfile and PyAV."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from rehearse.audio import (
    SAMPLE_RATE,
    AudioInfo,
    audio_info,
    is_silent,
    load_audio,
    rms_dbfs,
    write_wav,
)
from rehearse.errors import AudioError


def tone(
    seconds: float, rate: int, freq: float = 440.0, amp: float = 0.5, channels: int = 1
) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return x if channels == 1 else np.repeat(x[:, None], channels, axis=1)


def assert_tone(audio: np.ndarray, seconds: float, amp: float = 0.5, tol: float = 0.03) -> None:
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - seconds * SAMPLE_RATE) <= 2
    # Skip the resampler's edge ramps when checking the level.
    middle = audio[len(audio) // 10 : -len(audio) // 10]
    assert abs(float(np.max(np.abs(middle))) - amp) < tol


@pytest.mark.parametrize(
    ("name", "rate", "channels", "fmt", "subtype", "tol"),
    [
        ("u8_stereo.wav", 44_100, 2, "WAV", "PCM_U8", 0.03),
        ("s16_mono.wav", 16_000, 1, "WAV", "PCM_16", 0.01),
        ("s24_8k.wav", 8_000, 1, "WAV", "PCM_24", 0.01),
        ("s24_48k_stereo.flac", 48_000, 2, "FLAC", "PCM_24", 0.01),
        ("float_48k.wav", 48_000, 2, "WAV", "FLOAT", 0.01),
        ("vorbis.ogg", 44_100, 2, "OGG", "VORBIS", 0.05),
    ],
)
def test_loads_formats_to_16k_mono(
    tmp_path: Path, name: str, rate: int, channels: int, fmt: str, subtype: str, tol: float
) -> None:
    path = tmp_path / name
    sf.write(path, tone(1.0, rate, channels=channels), rate, format=fmt, subtype=subtype)
    assert_tone(load_audio(path), 1.0, tol=tol)
    info = audio_info(str(path))
    assert info == AudioInfo(path, pytest.approx(1.0, abs=0.01), rate, channels, fmt.lower())


def test_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    left, right = tone(1.0, 44_100, amp=0.8), np.zeros(44_100, np.float32)
    path = tmp_path / "left_only.wav"
    sf.write(path, np.stack([left, right], axis=1), 44_100)
    assert_tone(load_audio(path), 1.0, amp=0.4, tol=0.01)


def _encode_with_av(path: Path, codec: str, layout: str = "mono", rate: int = 44_100) -> None:
    av = pytest.importorskip("av")
    try:
        container = av.open(str(path), "w")
        stream = container.add_stream(codec, rate=rate)
    except (av.FFmpegError, ValueError) as exc:
        pytest.skip(f"{codec} encoder not available: {exc}")
    stream.layout = layout
    n_ch = 2 if layout == "stereo" else 1
    samples = tone(1.0, rate)
    with container:
        for start in range(0, len(samples), 1024):
            chunk = np.tile(samples[start : start + 1024], (n_ch, 1))
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_mp3_loads(tmp_path: Path) -> None:
    path = tmp_path / "answer.mp3"
    _encode_with_av(path, "mp3")
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - SAMPLE_RATE) < 0.1 * SAMPLE_RATE  # encoder padding
    assert abs(float(np.max(np.abs(audio[4000:12000]))) - 0.5) < 0.05
    assert audio_info(path).format == "mp3"


def test_mp3_decoder_chatter_stays_off_the_terminal(tmp_path: Path) -> None:
    """libmpg123 writes errors to fd 2 even for MP3s libsndfile wrote itself, and more for damaged frames."""
    import subprocess

    speech = load_audio(Path(__file__).parent / "data" / "speech" / "real" / "jfk.flac")
    good = tmp_path / "good.mp3"
    sf.write(str(good), speech, SAMPLE_RATE, format="MP3")
    data = bytearray(good.read_bytes())
    data[5000:5400] = bytes(400)  # a run of damaged frames
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(bytes(data))
    code = ("import sys; from rehearse.audio import load_audio; "
            "print(len(load_audio(sys.argv[1])))")
    for path in (good, bad):
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
        assert out.stderr == "", out.stderr
        assert abs(int(out.stdout) - len(speech)) < 0.05 * len(speech)


def test_m4a_loads_through_pyav(tmp_path: Path) -> None:
    path = tmp_path / "answer.m4a"
    _encode_with_av(path, "aac", layout="stereo")
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - SAMPLE_RATE) < 0.1 * SAMPLE_RATE
    assert abs(float(np.max(np.abs(audio[4000:12000]))) - 0.5) < 0.05
    info = audio_info(path)
    assert (info.format, info.channels, info.samplerate) == ("m4a", 2, 44_100)
    assert info.duration == pytest.approx(1.0, abs=0.1)


def test_without_pyav_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "answer.m4a"
    _encode_with_av(path, "aac")
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now fails as if not installed
    for func in (load_audio, audio_info):
        with pytest.raises(AudioError, match="pip install av") as err:
            func(path)
        assert str(path) in str(err.value)


def test_long_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    rate, minutes = 44_100, 10
    path = tmp_path / "long.wav"
    second = tone(1.0, rate, freq=441.0, amp=0.3, channels=2)  # 441 whole cycles: seamless repeats
    with sf.SoundFile(path, "w", rate, 2, subtype="PCM_16") as out:
        for _ in range(minutes * 60):
            out.write(second)
    whole_at_native_rate = minutes * 60 * rate * 2 * 4  # float32 stereo bytes (~212 MB)
    output_bytes = minutes * 60 * SAMPLE_RATE * 4  # ~38 MB

    tracemalloc.start()
    try:
        audio = load_audio(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert abs(len(audio) - minutes * 60 * SAMPLE_RATE) <= 2
    assert abs(float(np.max(np.abs(audio[SAMPLE_RATE:-SAMPLE_RATE]))) - 0.3) < 0.01
    assert peak < whole_at_native_rate / 4
    assert peak < output_bytes + 16 * 2**20  # output plus a few blocks, never a second copy


def _assert_error(path: Path, *fragments: str) -> None:
    for func in (load_audio, audio_info):
        with pytest.raises(AudioError) as err:
            func(path)
        message = str(err.value)
        assert str(path) in message and "\n" not in message
        for fragment in fragments:
            assert fragment in message


def test_missing_file(tmp_path: Path) -> None:
    _assert_error(tmp_path / "nope.wav", "No such file")


def test_directory(tmp_path: Path) -> None:
    _assert_error(tmp_path, "is a directory")


def test_text_file_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("These are my interview notes, not a recording.\n" * 20)
    _assert_error(path, "not a readable audio file")


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    _assert_error(path, "contains no audio")


def test_zero_frames_wav(tmp_path: Path) -> None:
    path = tmp_path / "zero_frames.wav"
    sf.write(path, np.zeros(0, np.float32), 16_000)
    with pytest.raises(AudioError, match="contains no audio") as err:
        load_audio(path)
    assert str(path) in str(err.value)
    assert audio_info(path).duration == 0.0


@pytest.mark.parametrize(("suffix", "keep"), [(".wav", 30), (".flac", 20)])
def test_corrupt_header(tmp_path: Path, suffix: str, keep: int) -> None:
    good = tmp_path / f"good{suffix}"
    sf.write(good, tone(0.5, 16_000), 16_000)
    path = tmp_path / f"truncated{suffix}"
    path.write_bytes(good.read_bytes()[:keep])
    _assert_error(path, "corrupt")


def test_rms_dbfs() -> None:
    assert rms_dbfs(np.zeros(16_000, np.float32)) == -120.0
    assert rms_dbfs(np.zeros(0, np.float32)) == -120.0
    assert rms_dbfs(np.ones(100, np.float32)) == pytest.approx(0.0)
    assert rms_dbfs(tone(1.0, 16_000, amp=1.0)) == pytest.approx(-3.01, abs=0.02)


def test_silence_detection() -> None:
    rng = np.random.default_rng(0)
    faint = (rng.standard_normal(5 * SAMPLE_RATE) * 10 ** (-70 / 20)).astype(np.float32)
    assert rms_dbfs(faint) == pytest.approx(-70, abs=0.5)
    assert is_silent(np.zeros(5 * SAMPLE_RATE, np.float32))
    assert is_silent(faint)
    assert is_silent(np.zeros(0, np.float32))
    assert not is_silent(tone(1.0, SAMPLE_RATE, amp=0.1))
    clicks = np.concatenate([faint, faint])
    clicks[SAMPLE_RATE] = 1.0  # one click in ten seconds of hiss is still silence
    assert is_silent(clicks)
    speech_then_pause = np.concatenate([tone(1.0, SAMPLE_RATE, amp=0.1), faint])
    assert not is_silent(speech_then_pause)


def test_write_wav_roundtrip_atomic(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "take.wav"
    audio = tone(0.5, SAMPLE_RATE)
    audio[:10] = 1.7  # out of range: must clip, not wrap around
    assert write_wav(path, audio) == path
    data, rate = sf.read(path, dtype="float32")
    assert rate == SAMPLE_RATE and sf.info(path).subtype == "PCM_16"
    assert np.all(data[:10] > 0.99)
    np.testing.assert_allclose(data[10:], audio[10:], atol=1e-4)
    write_wav(path, np.zeros(100, np.float32), samplerate=8_000)  # overwrite in place
    assert sf.info(path).frames == 100 and sf.info(path).samplerate == 8_000
    assert sorted(p.name for p in path.parent.iterdir()) == ["take.wav"]  # no temp files left
    assert_tone(load_audio(write_wav(tmp_path / "t.wav", tone(1.0, 22_050), 22_050)), 1.0)


def test_write_wav_failure_is_audio_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AudioError, match="Could not write") as err:
        write_wav(blocker / "take.wav", np.zeros(10, np.float32))
    assert "take.wav" in str(err.value)

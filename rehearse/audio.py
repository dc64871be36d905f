"""Read recordings into 16 kHz mono float32, measure loudness, write WAV files.

WAV, FLAC, OGG (and MP3, with libsndfile >= 1.1) are read with soundfile in
blocks and resampled with a streaming soxr resampler, so only the 16 kHz
output is ever held whole in memory. Anything soundfile cannot open (m4a,
aac, webm, opus, ...) is decoded with PyAV when it is installed. Every
user-facing failure is an :class:`~rehearse.errors.AudioError`.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from rehearse.errors import AudioError

#: every engine, the VAD and the recorder work at 16 kHz mono
SAMPLE_RATE = 16_000

BLOCK_SECONDS = 2.0
SILENCE_FLOOR_DBFS = -120.0
_FRAME_SECONDS = 0.05  # window for is_silent's frame levels
_SNIFF = {b"RIFF": "WAV", b"RIFX": "WAV", b"RF64": "WAV", b"BW64": "WAV", b"FORM": "AIFF",
          b"fLaC": "FLAC", b"OggS": "Ogg", b"caff": "CAF", b"ID3": "MP3", b"\x1aE\xdf\xa3": "WebM"}
_SOUNDFILE_KINDS = {"WAV", "AIFF", "FLAC", "Ogg", "CAF"}
_NEEDS_FFMPEG = {".mp3", ".m4a", ".mp4", ".aac", ".webm", ".opus", ".wma", ".amr", ".mkv", ".mov"}
_INSTALL_HINT = "run 'pip install av' (it bundles ffmpeg) or convert it: ffmpeg -i <file> out.wav"


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says: length in seconds, native rate, channels, container."""

    path: Path
    duration: float
    samplerate: int
    channels: int
    format: str


def _checked(path: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """Reject a missing, directory, unreadable or empty path; return it and its sniffed kind."""
    p = Path(path)
    try:
        st = p.stat()
    except PermissionError:
        raise AudioError(f"Cannot read {p}: permission denied on its folder; check the permissions.") from None
    except OSError as exc:
        loop = isinstance(exc, OSError) and exc.errno == 40  # ELOOP
        raise AudioError(f"{p}: a symlink loop; point it at the recording." if loop else
                         f"No such file: {p}; check the path and try again.") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioError(f"{p} is a directory, not an audio file; pass the path of a recording.")
    try:
        with p.open("rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        reason = exc.strerror or exc
        raise AudioError(f"Cannot read {p} ({reason}); check its permissions.") from exc
    if not head:
        raise AudioError(f"{p} is empty (0 bytes) and contains no audio; record the answer again.")
    kind = next((k for magic, k in _SNIFF.items() if head.startswith(magic)), None)
    if kind is None and head[4:8] == b"ftyp":
        kind = "MP4/M4A"
    return p, kind


def _open_failure(p: Path, kind: str | None, av_missing: bool) -> AudioError:
    """Pick the most helpful error after neither soundfile nor PyAV could open ``p``."""
    if av_missing and kind not in _SOUNDFILE_KINDS and (kind or p.suffix.lower() in _NEEDS_FFMPEG):
        return AudioError(f"{p} is not a format soundfile can read (WAV, FLAC, OGG, MP3); "
                          f"to decode it, {_INSTALL_HINT}.")
    if kind is not None:
        return AudioError(f"{p} looks like {kind} audio but its header is corrupt or truncated; "
                          "re-export it or record it again.")
    return AudioError(f"{p} is not a readable audio file (format not recognised); "
                      "pass a WAV, FLAC, OGG, MP3 or M4A recording.")


def _damaged(p: Path, exc: Exception) -> AudioError:
    return AudioError(f"{p} could not be decoded ({exc}); the file is damaged, record it again.")


def _open_with_av(p: Path, kind: str | None) -> tuple[ModuleType, Any]:
    """Open ``p`` with PyAV (if installed); the container is known to have an audio stream."""
    try:
        import av
    except ImportError:
        raise _open_failure(p, kind, av_missing=True) from None
    try:
        container = av.open(str(p))
    except (av.FFmpegError, OSError) as exc:
        raise _open_failure(p, kind, av_missing=False) from exc
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{p} is not a readable audio file (it has no audio track); "
                         "pass a WAV, FLAC, OGG, MP3 or M4A recording.")
    return av, container


class _Output:
    """Growable float32 buffer, preallocated from the expected output length."""

    def __init__(self, capacity: int) -> None:
        self._buf = np.empty(max(capacity, 0), dtype=np.float32)
        self._n = 0

    def append(self, chunk: np.ndarray) -> None:
        k = len(chunk)
        if self._n + k > len(self._buf):
            grown = np.empty(max(self._n + k, len(self._buf) * 3 // 2 + SAMPLE_RATE), np.float32)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : self._n + k] = chunk
        self._n += k

    def result(self) -> np.ndarray:
        out = self._buf[: self._n]
        return out.copy() if len(self._buf) - self._n > SAMPLE_RATE else out


def audio_info(path: str | os.PathLike[str]) -> AudioInfo:
    """Describe an audio file from its header (PyAV may scan a file whose header has no length).

    A valid file with zero frames gives ``duration == 0.0``; :func:`load_audio` rejects it.
    """
    p, kind = _checked(path)
    try:
        info = sf.info(str(p))
    except sf.SoundFileError:
        pass
    else:
        duration = info.frames / info.samplerate if info.samplerate else 0.0
        fmt = {"wavex": "wav", "rf64": "wav"}.get(info.format.lower(), info.format.lower())
        return AudioInfo(p, duration, int(info.samplerate), int(info.channels), fmt)
    av, container = _open_with_av(p, kind)
    with container:
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        if container.duration is not None:
            duration = container.duration / av.time_base
        else:  # e.g. browser-recorded WebM has no length in its header: count the samples
            try:
                duration = sum(f.samples for f in container.decode(stream)) / rate if rate else 0.0
            except av.FFmpegError as exc:
                raise _damaged(p, exc) from exc
        names = container.format.name.split(",")  # e.g. "mov,mp4,m4a,3gp,3g2,mj2"
        suffix = p.suffix.lower().lstrip(".")
        fmt = suffix if suffix in names else names[0]
        return AudioInfo(p, float(duration), rate, int(stream.codec_context.channels), fmt)


def load_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """Load ``path`` as a 1-D float32 array of mono samples at 16 kHz.

    Channels are averaged. Raises :class:`AudioError` if the file is missing, a
    directory, empty, not audio, corrupt, or needs PyAV that is not installed.
    """
    p, kind = _checked(path)
    try:
        with _decoder_chatter_silenced():
            snd = sf.SoundFile(str(p))
    except sf.SoundFileError:
        audio = _load_with_av(p, kind)
    else:
        with snd, _decoder_chatter_silenced():
            audio = _load_with_soundfile(snd, p)
    if audio.size == 0:
        raise AudioError(f"{p} contains no audio (zero samples); record the answer again.")
    return _finite(audio)


@contextlib.contextmanager
def _decoder_chatter_silenced() -> Iterator[None]:
    """Keep C decoders quiet while they read: libmpg123 inside libsndfile writes
    "part2_3_length too large" and "Trying to resync" straight to file
    descriptor 2, even for MP3 files libsndfile wrote itself. What it could not
    decode is simply missing from the audio, as with any damaged recording."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (captured, embedded)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _load_with_soundfile(snd: sf.SoundFile, p: Path) -> np.ndarray:
    rate, channels, frames = int(snd.samplerate), int(snd.channels), int(snd.frames)
    resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(
        rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    out = _Output(math.ceil(frames * SAMPLE_RATE / rate) + 2)
    block = np.empty((max(1, int(rate * BLOCK_SECONDS)), channels), dtype=np.float32)
    try:
        while True:
            got = snd.read(len(block), dtype="float32", out=block)
            if len(got) == 0:
                break
            mono = np.ascontiguousarray(got[:, 0]) if channels == 1 else got.mean(axis=1)
            _finite(mono)
            out.append(mono if resampler is None else resampler.resample_chunk(mono))
    except sf.SoundFileError as exc:
        raise _damaged(p, exc) from exc
    if resampler is not None:
        out.append(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    return out.result()


def _finite(samples: np.ndarray) -> np.ndarray:
    """NaN and ±inf samples (a broken float WAV) become silence and full scale, in place, before they can
    spread through resampling and voice detection; a no-op pass over clean audio."""
    if not np.isfinite(samples).all():
        np.nan_to_num(samples, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    return samples


def _load_with_av(p: Path, kind: str | None) -> np.ndarray:
    av, container = _open_with_av(p, kind)
    with container:
        stream = container.streams.audio[0]
        seconds = container.duration / av.time_base if container.duration else 30.0
        out = _Output(int(seconds * SAMPLE_RATE) + SAMPLE_RATE)
        # Keep the channels and average them here: ffmpeg's own stereo-to-mono
        # downmix is L*0.707 + R*0.707, 3 dB louder than the soundfile path.
        resampler = av.AudioResampler(format="fltp", layout=None, rate=SAMPLE_RATE)
        try:
            for frame in itertools.chain(container.decode(stream), [None]):  # None flushes
                for res in resampler.resample(frame):
                    planes = res.to_ndarray()  # (channels, samples), float32
                    out.append(planes[0] if len(planes) == 1 else planes.mean(axis=0))
        except av.FFmpegError as exc:
            raise _damaged(p, exc) from exc
    return out.result()


def rms_dbfs(audio: np.ndarray) -> float:
    """Root-mean-square level in dBFS (full scale = 1.0); -120.0 for silence or empty input."""
    flat = np.asarray(audio).reshape(-1)
    if flat.size == 0:
        return SILENCE_FLOOR_DBFS
    # float64 accumulation; einsum casts in small buffers, never copying the whole array.
    total = float(np.einsum("i,i->", flat, flat, dtype=np.float64))
    rms = math.sqrt(total / flat.size)
    return max(20.0 * math.log10(rms), SILENCE_FLOOR_DBFS) if rms > 0.0 else SILENCE_FLOOR_DBFS


def is_silent(
    audio: np.ndarray, threshold_dbfs: float = -50.0, samplerate: int = SAMPLE_RATE,
    min_loud_seconds: float = 0.25,
) -> bool:
    """True when less than ``min_loud_seconds`` of ``audio`` reaches ``threshold_dbfs``.

    Levels are measured over 50 ms frames, so digital silence, hiss and a few
    clicks are silent, while a few seconds of speech in a 30-minute recording
    are not.
    """
    flat = np.asarray(audio, dtype=np.float32).reshape(-1)
    size = max(1, int(samplerate * _FRAME_SECONDS))
    if flat.size <= size:
        return rms_dbfs(flat) < threshold_dbfs
    frames = flat[: flat.size - flat.size % size].reshape(-1, size)
    power = np.einsum("ij,ij->i", frames, frames).astype(np.float64) / size
    loud = int(np.count_nonzero(power >= 10.0 ** (threshold_dbfs / 10.0)))
    needed = max(1, math.ceil(min(min_loud_seconds, flat.size / samplerate / 2) / _FRAME_SECONDS))
    return loud < needed


def write_wav(
    path: str | os.PathLike[str], audio: np.ndarray, samplerate: int = SAMPLE_RATE
) -> Path:
    """Write ``audio`` (floats in [-1, 1], clipped; or int16) as 16-bit PCM WAV, atomically.

    Parent directories are created. The data goes to a temporary file in the
    same directory, is fsynced, then renamed over ``path``. Returns ``path``.
    """
    p = Path(path)
    data = np.asarray(audio)
    if data.dtype != np.int16:
        data = np.clip(np.nan_to_num(data.astype(np.float32, copy=False)), -1.0, 1.0)
    tmp: str | None = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a recording should be readable like any file
        with os.fdopen(fd, "wb") as fh:
            sf.write(fh, data, int(samplerate), subtype="PCM_16", format="WAV")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
        tmp = None
    except (OSError, sf.SoundFileError) as exc:
        raise AudioError(f"Could not write {p} ({exc}); check its folder is writable.") from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return p

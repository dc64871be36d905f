"""The WAV file an answer is streamed into: its path, a writer that keeps it valid, and repair.

libsndfile rewrites the header on every ``flush()``, so the file on disk is a
valid WAV holding everything written up to the last flush. After a crash,
:func:`repair_wav` makes the header match the frames that reached the disk.
A full disk cuts the file back to its last whole frame (or removes it when
nothing could be kept): never a corrupt file.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from rehearse.audio import SAMPLE_RATE
from rehearse.errors import DiskFullError, RecordingError

FLUSH_EVERY_S = 0.5  # header rewrite + fsync interval: at most this much is lost on power cut


def recording_path(root: Path, bank: str, question: str, when: datetime | None = None) -> Path:
    """``root/<bank>/<question>/<YYYYmmdd-HHMMSS>.wav`` (with -2, -3 … if taken)."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = root / (bank or "questions") / question
    p = folder / f"{stamp}.wav"
    n = 2
    while p.exists():
        p = folder / f"{stamp}-{n}.wav"
        n += 1
    return p


def _chunks(fh: Any, size: int) -> list[tuple[bytes, int, int]]:
    """(id, offset of the chunk's size field, size) for the RIFF chunks of a WAV file."""
    out, pos = [], 12
    while pos + 8 <= size:
        fh.seek(pos)
        cid, n = struct.unpack("<4sI", fh.read(8))
        out.append((cid, pos + 4, n))
        if cid == b"data":
            break
        pos += 8 + n + (n & 1)
    return out


def repair_wav(path: Path) -> float:
    """Make ``path`` a valid WAV holding every whole frame written; return its seconds.

    The data chunk is cut back to whole frames and the RIFF and data sizes
    are rewritten in place (no new disk space is needed). A file without a
    usable header, or without a single frame, is removed and 0.0 returned.
    """
    try:
        size = path.stat().st_size
        with path.open("r+b") as fh:
            riff, _size, wave = struct.unpack("<4sI4s", fh.read(12))
            if riff != b"RIFF" or wave != b"WAVE":
                raise ValueError("not a RIFF/WAVE header")
            chunks = {cid: (at, n) for cid, at, n in _chunks(fh, size)}
            if b"fmt " not in chunks or b"data" not in chunks:
                raise ValueError("no fmt or data chunk")
            fh.seek(chunks[b"fmt "][0] + 4)
            _fmt, channels, rate, _bps, align = struct.unpack("<HHIIH", fh.read(14))
            data_at = chunks[b"data"][0] + 4
            frames = max(0, size - data_at) // max(align, 1)
            fh.truncate(data_at + frames * align)
            fh.seek(chunks[b"data"][0])
            fh.write(struct.pack("<I", frames * align))
            fh.seek(4)
            fh.write(struct.pack("<I", data_at + frames * align - 8))
            fh.flush()
            os.fsync(fh.fileno())
        if frames == 0:
            raise ValueError("no audio")
        return frames / rate
    except (OSError, ValueError, struct.error):
        path.unlink(missing_ok=True)
        return 0.0


def _is_disk_full(exc: BaseException, path: Path) -> bool:
    """Did a write fail because the disk (or the file size limit) is full?

    libsndfile reports only "System error", so look at the disk and the limit too.
    """
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return True
    text = str(exc).lower()
    if "no space" in text or "too large" in text or "quota" in text:
        return True
    try:
        if shutil.disk_usage(path.parent).free < 256 * 1024:
            return True
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        return limit != resource.RLIM_INFINITY and path.exists() and path.stat().st_size >= limit - 64 * 1024
    except (OSError, ImportError, ValueError):
        return False


class WavStream:
    """A 16-bit WAV file written block by block and kept valid on disk (see module docstring)."""

    def __init__(self, path: Path, samplerate: int = SAMPLE_RATE) -> None:
        self.path = path
        self.samplerate = samplerate
        self.frames = 0
        self._last_flush = time.monotonic()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._sf: sf.SoundFile | None = sf.SoundFile(str(path), "w", samplerate=samplerate, channels=1,
                                                         format="WAV", subtype="PCM_16")
        except (OSError, sf.SoundFileError) as exc:
            path.unlink(missing_ok=True)
            raise self._error(exc, opening=True) from None

    def _error(self, exc: BaseException, opening: bool = False) -> RecordingError:
        if _is_disk_full(exc, self.path):
            return DiskFullError(f"The disk is full: cannot write the recording {self.path}; free some space and "
                                 "try again.")
        doing = "create" if opening else "write"
        return RecordingError(f"Cannot {doing} the recording {self.path} ({exc}); check that its folder is "
                              "writable.")

    def write(self, block: np.ndarray) -> None:
        """Append float samples in [-1, 1]; flush when :data:`FLUSH_EVERY_S` has passed."""
        assert self._sf is not None
        try:
            self._sf.write(np.clip(block, -1.0, 1.0))
            self.frames += len(block)
            if time.monotonic() - self._last_flush >= FLUSH_EVERY_S:
                self.flush()
        except (OSError, sf.SoundFileError, AssertionError) as exc:
            raise self._error(exc) from None

    def flush(self) -> None:
        """Rewrite the header with the current length and fsync (libsndfile's sf_write_sync)."""
        if self._sf is not None:
            self._sf.flush()
            self._last_flush = time.monotonic()

    def close(self) -> float:
        """Finalise the file; return its length in seconds (0.0 and no file if nothing was recorded)."""
        if self._sf is not None:
            try:
                self._sf.close()
            except (OSError, sf.SoundFileError):
                pass
            self._sf = None
        return repair_wav(self.path)

"""Record an answer from the microphone, streamed to a WAV file as it is captured.

A sounddevice ``InputStream`` (PortAudio) captures 16 kHz mono. Its callback
only copies each block into a queue; a writer thread writes the blocks to a
16-bit WAV file with soundfile and calls ``flush()`` every
``FLUSH_EVERY_S`` (:mod:`rehearse.wavfile`; libsndfile then rewrites the header with the current
length and fsyncs). So at any moment the file on disk is a valid WAV holding
everything captured up to the last flush: a crash, a Ctrl-C or a power cut
keeps what was said.

The writer thread also keeps the level meter (dBFS of the last block), the
elapsed time, notices when speech starts and how long the silence after it
has lasted, and warns when the input has been silent from the start (muted
microphone). It stops the recording by itself after ``max_seconds`` or after
``silence_stop`` seconds of silence once speech has started. Each block is
also handed to ``on_block`` (the live transcriber).

Disk full: the error is reported, the file is cut back to the last whole
frame with a correct header (or removed if nothing could be kept), so no
corrupt file is left behind.

Device problems (no input device, unknown device, busy, permission denied)
raise :class:`DeviceError`, naming the device and ``rehearse devices``.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile as sf

from rehearse.audio import SAMPLE_RATE, rms_dbfs
from rehearse.devices import InputDevice, open_error, sounddevice
from rehearse.errors import RecordingError
from rehearse.wavfile import WavStream

BLOCK_S = 0.1            # one PortAudio callback block
SPEECH_DBFS = -42.0      # a block louder than this is voice (for silence-stop)
SILENT_DBFS = -60.0      # nothing louder than this in the first seconds: input is silent (muted?)
SILENT_WARN_AFTER_S = 2.5
SPEECH_START_S = 0.3     # this much voice before silence-stop is armed


# --------------------------------------------------------------------------- sources


class Source(Protocol):
    """Where blocks come from: the microphone (PortAudio) or a file replayed in real time."""

    name: str

    def start(self, callback: Callable[[np.ndarray], None]) -> None: ...

    def stop(self) -> None: ...


class MicSource:
    """A sounddevice ``InputStream`` at 16 kHz mono float32 on one device."""

    def __init__(self, device: InputDevice, samplerate: int = SAMPLE_RATE) -> None:
        self.device = device
        self.name = device.name
        self.samplerate = samplerate
        self.overflows = 0
        self._stream: Any = None

    def start(self, callback: Callable[[np.ndarray], None]) -> None:
        sd = sounddevice()

        def on_audio(indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
            if status and status.input_overflow:
                self.overflows += 1
            callback(indata[:, 0].copy())

        try:
            self._stream = sd.InputStream(samplerate=self.samplerate, channels=1, dtype="float32",
                                          device=self.device.index, blocksize=int(self.samplerate * BLOCK_S),
                                          callback=on_audio)
            self._stream.start()
        except sd.PortAudioError as exc:
            self._stream = None
            raise open_error(exc, self.device) from None

    def stop(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001 - a dying device must not lose the file
                pass
            self._stream = None


class FileSource:
    """Replays a recording as if it were spoken now (benchmarks, demos): same blocks, same pace.

    ``speed`` > 1 feeds faster than real time; ``tail_s`` of silence follows the file.
    """

    def __init__(self, path: str | os.PathLike[str], *, speed: float = 1.0, tail_s: float = 0.0) -> None:
        from rehearse.audio import load_audio

        self.name = f"file:{path}"
        audio = load_audio(path)
        self.audio = np.concatenate([audio, np.zeros(int(tail_s * SAMPLE_RATE), np.float32)])
        self.speed = speed
        self.fed_until: float | None = None  # monotonic time the last block was handed over
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, callback: Callable[[np.ndarray], None]) -> None:
        block = int(SAMPLE_RATE * BLOCK_S)

        def run() -> None:
            t0 = time.monotonic()
            for i, at in enumerate(range(0, len(self.audio), block)):
                if self._stop.is_set():
                    return
                due = t0 + (i + 1) * BLOCK_S / self.speed  # a block exists once it has been "spoken"
                time.sleep(max(0.0, due - time.monotonic()))
                callback(self.audio[at:at + block])
            self.fed_until = time.monotonic()

        self._thread = threading.Thread(target=run, name="file-source", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# --------------------------------------------------------------------------- the recorder


@dataclass(frozen=True)
class Recording:
    """A finished recording."""

    path: Path | None       # None when nothing could be kept
    seconds: float
    stopped_by: str         # enter | max | silence | interrupt | error | end
    heard_voice: bool       # some block was louder than SPEECH_DBFS
    silent: bool            # nothing louder than SILENT_DBFS at all
    peak_dbfs: float


@dataclass(frozen=True)
class Meter:
    """What the screen shows while recording."""

    elapsed: float
    level_dbfs: float
    peak_dbfs: float
    speech_started: bool
    silence_s: float
    silent_warning: bool
    stopped_by: str | None


class Recorder:
    """Records from ``source`` to ``path`` (see module docstring). Use ``start()``, then ``stop()``."""

    def __init__(self, path: Path, source: Source, *, max_seconds: float | None = None,
                 silence_stop: float | None = None,
                 on_block: Callable[[np.ndarray], None] | None = None) -> None:
        self.path = path
        self.source = source
        self.max_seconds = max_seconds
        self.silence_stop = silence_stop
        self.on_block = on_block
        self._q: queue.SimpleQueue[np.ndarray | None] = queue.SimpleQueue()
        self._wav: WavStream | None = None
        self._writer: threading.Thread | None = None
        self._done = threading.Event()      # the writer stopped taking blocks (auto-stop or error)
        self._lock = threading.Lock()
        self._stopped: Recording | None = None
        self.error: RecordingError | None = None
        self.block_error: BaseException | None = None
        self._frames = 0
        self._level = self._peak = -120.0
        self._voice_s = 0.0
        self._silence_s = 0.0
        self._reason: str | None = None

    # ---- life cycle

    def start(self) -> None:
        """Create the file, open the device and start capturing (raises DeviceError / RecordingError)."""
        self._wav = WavStream(self.path)
        self._writer = threading.Thread(target=self._write_loop, name="recorder-writer", daemon=True)
        self._writer.start()
        try:
            self.source.start(self._q.put)
        except BaseException:
            self._q.put(None)
            self._writer.join()
            self._wav.close()
            self.path.unlink(missing_ok=True)
            raise

    @property
    def finished(self) -> bool:
        """True once the recorder stopped by itself (max seconds, silence, disk error, end of file)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the recorder stops by itself; True if it did."""
        return self._done.wait(timeout)

    def stop(self, reason: str = "enter") -> Recording:
        """Stop capturing, finalise the file and return it; idempotent.

        Raises :class:`RecordingError` (after finalising what was kept) if the
        file could not be written.
        """
        with self._lock:
            if self._stopped is None:
                self.source.stop()
                self._q.put(None)
                if self._writer is not None:
                    self._writer.join()
                seconds = self._wav.close() if self._wav is not None else 0.0
                kept = self.path if seconds > 0 else None
                self._stopped = Recording(kept, seconds, self._reason or reason, self._voice_s > 0,
                                          self._peak < SILENT_DBFS, self._peak)
                if self.error is not None:
                    note = (f" Kept the first {seconds:.1f} s in {self.path} (a valid WAV)." if kept
                            else " Nothing could be kept; no partial file was left behind.")
                    self.error = type(self.error)(str(self.error) + note)
        if self.error is not None:
            raise self.error
        return self._stopped

    def __enter__(self) -> "Recorder":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stopped is None:
            self.stop("interrupt")

    # ---- state

    @property
    def meter(self) -> Meter:
        """A consistent snapshot for the level meter."""
        elapsed = self._frames / SAMPLE_RATE
        return Meter(elapsed, self._level, self._peak, self._voice_s >= SPEECH_START_S, self._silence_s,
                     elapsed >= SILENT_WARN_AFTER_S and self._peak < SILENT_DBFS, self._reason)

    # ---- the writer thread

    def _auto_stop(self, reason: str) -> None:
        if self._reason is None:
            self._reason = reason
        self._done.set()

    def _write_loop(self) -> None:
        assert self._wav is not None
        while True:
            block = self._q.get()
            if block is None:
                break
            if self._done.is_set():
                continue  # stopped by itself: drop what the device still delivers
            if self.max_seconds is not None:
                room = int(self.max_seconds * SAMPLE_RATE) - self._frames
                block = block[:max(room, 0)]
            if len(block):
                try:
                    self._wav.write(block)
                except RecordingError as exc:
                    self.error = exc
                    self._auto_stop("error")
                    continue
                self._frames += len(block)
                self._measure(block)
                if self.on_block is not None:
                    try:
                        self.on_block(block)
                    except Exception as exc:  # noqa: BLE001 - transcription trouble never stops the recording
                        self.block_error = exc
                        self.on_block = None
            if self.max_seconds is not None and self._frames >= int(self.max_seconds * SAMPLE_RATE):
                self._auto_stop("max")
            elif (self.silence_stop is not None and self._voice_s >= SPEECH_START_S
                  and self._silence_s >= self.silence_stop):
                self._auto_stop("silence")
        if self._wav is not None and self.error is None:
            try:
                self._wav.flush()
            except (OSError, sf.SoundFileError) as exc:
                self.error = self._wav._error(exc)

    def _measure(self, block: np.ndarray) -> None:
        level = rms_dbfs(block)
        self._level = level
        self._peak = max(self._peak, level)
        secs = len(block) / SAMPLE_RATE
        if level >= SPEECH_DBFS:
            self._voice_s += secs
            self._silence_s = 0.0
        else:
            self._silence_s += secs

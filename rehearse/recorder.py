"""Record an answer from the microphone, streamed to a WAV file as it is captured.

A sounddevice ``InputStream`` (PortAudio) captures 16 kHz mono. Its callback
only copies each block into a queue; a writer thread writes the blocks to a
16-bit WAV file with soundfile and calls ``flush()`` every
:data:`FLUSH_EVERY_S` (libsndfile then rewrites the header with the current
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

import errno
import os
import queue
import shutil
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile as sf

from rehearse.audio import rms_dbfs
from rehearse.errors import DeviceError, DiskFullError, RecordingError
from rehearse.transcript import SAMPLE_RATE

BLOCK_S = 0.1            # one PortAudio callback block
FLUSH_EVERY_S = 0.5      # header rewrite + fsync interval: at most this much is lost on power cut
SPEECH_DBFS = -42.0      # a block louder than this is voice (for silence-stop)
SILENT_DBFS = -60.0      # nothing louder than this in the first seconds: input is silent (muted?)
SILENT_WARN_AFTER_S = 2.5
SPEECH_START_S = 0.3     # this much voice before silence-stop is armed
DEVICES_HINT = "run 'rehearse devices' to list input devices and pick one with --device"


# --------------------------------------------------------------------------- devices


@dataclass(frozen=True)
class InputDevice:
    """One PortAudio device that can record."""

    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float
    is_default: bool = False


def _sd() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library itself is missing
        raise DeviceError(f"PortAudio is not installed ({exc}); install it (Debian/Ubuntu: "
                          "apt-get install libportaudio2; macOS: brew install portaudio).") from None
    return sounddevice


def input_devices() -> list[InputDevice]:
    """Every device with at least one input channel, as PortAudio sees it now."""
    sd = _sd()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except sd.PortAudioError as exc:
        raise DeviceError(f"Cannot list audio devices: {exc}.") from None
    out = []
    for i, d in enumerate(devices):
        if d["max_input_channels"] > 0:
            out.append(InputDevice(i, d["name"], apis[d["hostapi"]]["name"], int(d["max_input_channels"]),
                                   float(d["default_samplerate"]), i == default_in))
    return out


def _no_device_hint() -> str:
    """Why there may be no input device on this machine (permissions first, they are fixable)."""
    reasons = []
    server = os.environ.get("PULSE_SERVER", "")
    sock = server[len("unix:"):] if server.startswith("unix:") else ""
    if not sock and os.environ.get("XDG_RUNTIME_DIR"):
        sock = os.path.join(os.environ["XDG_RUNTIME_DIR"], "pulse", "native")
    if sock:
        try:
            os.stat(sock)
            denied = not os.access(sock, os.R_OK | os.W_OK)
        except PermissionError:
            denied = True
        except OSError:
            denied = False
        if denied:
            reasons.append(f"permission denied on the sound server socket {sock}")
    if os.path.isdir("/dev/snd") and not os.access("/dev/snd", os.R_OK | os.X_OK):
        reasons.append("permission denied on /dev/snd (add yourself to the 'audio' group)")
    return "; ".join(reasons)


def resolve_device(spec: str | int | None = None) -> InputDevice:
    """The input device for ``spec``: None = the default, an index, or (part of) a name."""
    devices = input_devices()
    if not devices:
        why = _no_device_hint()
        if why:
            raise DeviceError(f"Cannot use the default input device: {why}; fix the permission, or "
                              f"{DEVICES_HINT}.")
        raise DeviceError("No input device found (is a microphone connected and the sound server running?); "
                          f"{DEVICES_HINT}.")
    if spec is None or spec == "":
        default = [d for d in devices if d.is_default]
        return default[0] if default else devices[0]
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        for d in devices:
            if d.index == int(text):
                return d
        raise DeviceError(f"Input device {text} does not exist or cannot record; {DEVICES_HINT}.")
    exact = [d for d in devices if d.name.lower() == text.lower()]
    found = exact or [d for d in devices if text.lower() in d.name.lower()]
    if len(found) == 1:
        return found[0]
    names = ", ".join(f"{d.index}: {d.name}" for d in devices)
    if not found:
        raise DeviceError(f"No input device matches '{text}' (available: {names}); {DEVICES_HINT}.")
    raise DeviceError(f"'{text}' matches several input devices ({', '.join(d.name for d in found)}); "
                      f"give its number instead; {DEVICES_HINT}.")


def open_error(exc: Exception, device: InputDevice | str) -> DeviceError:
    """Turn a PortAudio error on opening ``device`` into a clear :class:`DeviceError`."""
    name = device.name if isinstance(device, InputDevice) else str(device)
    args = getattr(exc, "args", ())
    code = args[1] if len(args) > 1 and isinstance(args[1], int) else 0
    host = args[2] if len(args) > 2 and isinstance(args[2], tuple) and len(args[2]) == 3 else (None, 0, "")
    text = f"{exc} {host[2]}".lower()
    host_code = abs(int(host[1] or 0))
    if code == -9985 or host_code == errno.EBUSY or "unavailable" in text or "busy" in text:
        return DeviceError(f"Input device '{name}' is busy (another program is using it): close that program, "
                           f"or {DEVICES_HINT}.")
    if host_code in (errno.EACCES, errno.EPERM) or "permission" in text or "access denied" in text \
            or "not permitted" in text:
        return DeviceError(f"Permission denied opening input device '{name}': allow this terminal to use the "
                           f"microphone (macOS: System Settings > Privacy & Security > Microphone; Linux: the "
                           f"'audio' group), or {DEVICES_HINT}.")
    if code in (-9996, -9998, -9997) or "invalid device" in text or "invalid number of channels" in text \
            or "sample rate" in text:
        return DeviceError(f"Input device '{name}' cannot record 16 kHz mono ({exc}); {DEVICES_HINT}.")
    return DeviceError(f"Could not open input device '{name}' ({exc}); {DEVICES_HINT}.")


# --------------------------------------------------------------------------- the WAV file


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
        sd = _sd()

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


def record_seconds_from(source: Source, path: Path, seconds: float) -> Recording:
    """Record ``seconds`` from ``source`` into ``path`` (a helper for scripts and tests)."""
    rec = Recorder(path, source, max_seconds=seconds)
    rec.start()
    rec.wait(seconds + 10)
    return rec.stop("max")

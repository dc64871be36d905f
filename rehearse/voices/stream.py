"""Speech played while it is still being made: the first clause is heard while the rest is synthesised.

:class:`ClipStream` is the audio of one text as it grows: a worker thread appends 16-bit pieces
(:func:`fill`, clause by clause when the engine has a ``stream`` method, else the whole file at once) and,
when the text is complete, writes the whole clip to the cache; the player reads the pieces as they come.
:func:`play_stream` writes them to a sounddevice output stream in short blocks — or queues them on an
:class:`OutputLine` kept open for the session — so Enter (``stop``) or Ctrl-C stops the sound within a
few blocks, and an error half way through ends the reading with that error.
What is played is exactly what is cached: the same 16-bit samples.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rehearse.errors import RehearseError, TTSError
from rehearse.voices.cache import AudioCache

AUDIBLE = 328  # 1 % of full scale: a block with a louder sample is "sound" (silence before it is not)
LINE_LATENCY_S = 0.3  # the output buffer of a session's OutputLine
BLOCK_S = 0.05  # the player writes this much at a time: Enter or Ctrl-C stop the sound within a block


def to_int16(audio: np.ndarray) -> np.ndarray:
    """float samples in [-1, 1] -> 16-bit samples (what the cache file holds)."""
    return np.clip(np.round(np.asarray(audio, np.float64) * 32767), -32768, 32767).astype(np.int16)


class ClipStream:
    """The audio of one text while it is made: pieces appended by one thread and read by another."""

    def __init__(self) -> None:
        self.rate = 0
        self.pieces: list[np.ndarray] = []
        self.path: Path | None = None  # the cached file, once the whole clip is made
        self.finished_at: float | None = None  # time.monotonic() when it was
        self.error: TTSError | None = None
        self.cancelled = threading.Event()
        self._cond = threading.Condition()

    @classmethod
    def from_file(cls, path: Path) -> "ClipStream":
        """A finished stream holding a cached file."""
        import soundfile as sf

        try:
            data, rate = sf.read(str(path), dtype="int16", always_2d=True)
        except (OSError, RuntimeError) as exc:
            raise TTSError(f"cannot read the cached speech {path} ({exc})") from None
        s = cls()
        s.put(int(rate), data[:, 0].copy())
        s.finish(path)
        return s

    @property
    def done(self) -> bool:
        """True once the whole clip is made, failed or was cancelled."""
        return self.path is not None or self.error is not None or self.cancelled.is_set()

    def put(self, rate: int, piece: np.ndarray) -> None:
        """Append 16-bit samples at ``rate`` Hz (every piece of one stream has the same rate)."""
        with self._cond:
            if self.rate and rate != self.rate:
                raise TTSError(f"the engine changed its sample rate mid-text ({self.rate} -> {rate} Hz)")
            self.rate = rate
            self.pieces.append(piece)
            self._cond.notify_all()

    def finish(self, path: Path) -> None:
        """The whole clip is made and cached at ``path``."""
        with self._cond:
            self.path, self.finished_at = path, time.monotonic()
            self._cond.notify_all()

    def fail(self, error: TTSError) -> None:
        """Synthesis stopped with ``error``: readers get it after the pieces already made."""
        with self._cond:
            self.error = error
            self._cond.notify_all()

    def cancel(self) -> None:
        """Stop making the clip (after the piece being made); nothing is cached."""
        with self._cond:
            self.cancelled.set()
            self._cond.notify_all()

    def read(self, stop: Callable[[], bool] | None = None, poll: float = 0.05) -> Iterator[np.ndarray]:
        """The pieces in order, waiting for each; raises the synthesis error once the pieces before it
        are read. Ends early when ``stop()`` is true (checked every ``poll`` seconds while waiting)."""
        i = 0
        while True:
            with self._cond:
                while i >= len(self.pieces) and not self.done:
                    if stop is not None and stop():
                        return
                    self._cond.wait(poll)
                if i < len(self.pieces):
                    piece = self.pieces[i]
                elif self.error is not None:
                    raise self.error
                else:
                    return
            i += 1
            yield piece

    def wait(self, timeout: float | None = None) -> Path:
        """The cached file once the whole clip is made; raises the synthesis error."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self.done:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    raise TTSError("the speech was not ready in time")
                self._cond.wait(0.1 if left is None else min(left, 0.1))
        if self.error is not None:
            raise self.error
        if self.path is None:
            raise TTSError("the speech was cancelled")
        return self.path

    def audio(self) -> np.ndarray:
        """Every piece made so far, as one array."""
        with self._cond:
            return np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.int16)


def engine_pieces(engine: Any, text: str, lang: str, voice: str | None,
                  scratch: Path) -> Iterator[tuple[int, np.ndarray]]:
    """(rate, 16-bit samples) pieces of ``text`` from ``engine``: clause by clause when it has a
    ``stream(text, lang, voice)`` method yielding (rate, float samples), else its whole file at once."""
    streaming = getattr(engine, "stream", None)
    if callable(streaming):
        for rate, piece in streaming(text, lang, voice):
            yield int(rate), to_int16(piece)
        return
    import soundfile as sf

    engine.synthesize(text, lang, scratch, voice)
    try:
        data, rate = sf.read(str(scratch), dtype="int16", always_2d=True)
    except (OSError, RuntimeError) as exc:
        raise TTSError(f"{engine.name} wrote no readable audio ({exc})") from None
    finally:
        scratch.unlink(missing_ok=True)
    yield int(rate), data[:, 0].copy()


def fill(stream: ClipStream, engine: Any, text: str, lang: str, voice: str | None, cache: AudioCache,
         key: str) -> None:
    """Make ``text`` into ``stream`` piece by piece, then cache the whole clip (run on a worker thread).
    Every failure ends up in the stream as one :class:`TTSError`; a cancelled stream caches nothing."""
    import soundfile as sf

    if stream.cancelled.is_set():  # dropped before its turn came
        return
    scratch = cache.folder / f".tmp-{key}-whole.wav"
    try:
        cache.folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        import tempfile

        scratch = Path(tempfile.gettempdir()) / f"rehearse-tts-{key}.wav"
    try:
        for rate, piece in engine_pieces(engine, text, lang, voice, scratch):
            if stream.cancelled.is_set():
                return
            stream.put(rate, piece)
        if stream.cancelled.is_set():
            return
        whole = stream.audio()
        if not len(whole):
            raise TTSError(f"{engine.name} made no sound from this text")

        def write(tmp: Path) -> Path:
            sf.write(str(tmp), whole, stream.rate, subtype="PCM_16")
            return tmp

        stream.finish(cache.make(key, write))
    except TTSError as exc:
        stream.fail(exc)
    except RehearseError as exc:
        stream.fail(TTSError(str(exc)))
    except Exception as exc:  # noqa: BLE001 - a bug in an engine: one line, the question is still shown
        stream.fail(TTSError(f"the synthesis failed ({type(exc).__name__}: {exc})"))


@dataclass
class Playback:
    """What one :func:`play_stream` call did: the samples handed to the output (the device, or the queue of
    an :class:`OutputLine`), when the first audible one reached the device, how it ended."""

    rate: int = 0
    played: list[np.ndarray] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    first_sound_s: float | None = None  # seconds from the call to the first audible block handed to the device
    stopped: bool = False  # stopped by ``stop()`` before the end

    def audio(self) -> np.ndarray:
        """Every sample handed to the output device, in order."""
        return np.concatenate(self.played) if self.played else np.zeros(0, np.int16)


class OutputLine:
    """An output stream kept open for a session, playing silence while idle, so a question starts at once.

    Starting an output stream takes up to 2 s (measured through PortAudio → ALSA → PulseAudio), and so
    does restarting one that ran dry; a line that is always fed (silence when nothing is queued) has
    neither. :meth:`play_stream` queues blocks on it and waits while they play."""

    def __init__(self, rate: int) -> None:
        import sounddevice as sd

        self.rate = rate
        self._queue: deque[np.ndarray] = deque()
        self._pending = 0  # frames queued and not yet handed to the device
        self._queued = self._fed = 0  # frames ever queued, ever handed to the device
        self._mark: int | None = None  # note when the device has been handed this frame …
        self.mark_reached: float | None = None  # … (time.monotonic())
        self._lock = threading.Lock()
        # 0.3 s of buffer: with less (PortAudio's "low" is 8 ms here; 0.1 s too), a machine busy with
        # synthesis missed callbacks, and each recovery from the underrun held the sound back by ~2 s
        self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="int16", latency=LINE_LATENCY_S,
                                       callback=self._feed)
        self._stream.start()

    def _feed(self, out: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                head = self._queue[0]
                take = min(frames - filled, len(head))
                out[filled:filled + take, 0] = head[:take]
                filled += take
                self._pending -= take
                self._fed += take
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
        out[filled:] = 0
        if self._mark is not None and self.mark_reached is None and self._fed > self._mark:
            self.mark_reached = time.monotonic()

    @property
    def pending_s(self) -> float:
        """Seconds of audio queued and not yet played."""
        return self._pending / self.rate

    def put(self, samples: np.ndarray) -> None:
        """Queue 16-bit samples to play after those already queued."""
        with self._lock:
            self._queue.append(samples)
            self._pending += len(samples)
            self._queued += len(samples)

    def watch(self, offset: int) -> None:
        """Note (in :attr:`mark_reached`) when sample ``offset`` of the samples queued next reaches the device."""
        with self._lock:
            self._mark, self.mark_reached = self._queued + offset, None

    def clear(self) -> None:
        """Drop whatever is queued: silence within a device block."""
        with self._lock:
            self._queue.clear()
            self._pending = 0

    @property
    def alive(self) -> bool:
        """True while the device keeps asking for audio."""
        return bool(self._stream.active)

    def close(self) -> None:
        """Stop and release the device."""
        try:
            self._stream.abort()
            self._stream.close()
        except Exception:  # noqa: BLE001 - closing a device that already failed
            pass


def _play_on_line(stream: ClipStream, line: OutputLine, stop: Callable[[], bool] | None, pb: Playback) -> Playback:
    pb.rate = line.rate
    block = max(1, int(BLOCK_S * line.rate))
    watching = False

    def halted() -> bool:
        if stop is not None and stop():
            line.clear()  # silence within a device block
            pb.stopped = True
        return pb.stopped

    try:
        for piece in stream.read(stop):
            for at in range(0, len(piece), block):
                if halted():  # checked every block, as on a device of its own
                    return pb
                while line.pending_s > 4 * BLOCK_S:  # a few blocks ahead, no more: Enter stops them at once
                    if halted():
                        return pb
                    if not line.alive:
                        raise TTSError("the audio output stopped")
                    time.sleep(BLOCK_S / 2)
                part = piece[at:at + block]
                loud = np.flatnonzero(np.abs(part) > AUDIBLE)
                if not watching and len(loud):
                    line.watch(int(loud[0]))  # first sound: when the device takes this sample
                    watching = True
                line.put(part)
                pb.played.append(part)
        if not stream.done or stream.cancelled.is_set():  # read() returned early: stop() or cancel
            line.clear()
            pb.stopped = True
        while line.pending_s > 0 and not halted():  # the end plays out
            time.sleep(BLOCK_S / 2)
    except BaseException:  # an error half way, or Ctrl-C: silence now
        line.clear()
        raise
    finally:
        if line.mark_reached is not None:
            pb.first_sound_s = line.mark_reached - pb.started
    return pb


def play_stream(stream: ClipStream, stop: Callable[[], bool] | None = None,
                playback: Playback | None = None, rate: int | None = None,
                line: OutputLine | None = None) -> Playback:
    """Play ``stream`` on the default output device while it is being made, and wait until it ends.

    With ``rate`` (the engine's sample rate, when known) the device is opened before the first piece
    exists: an output stream takes up to 2 s to start (measured through PortAudio → ALSA → PulseAudio),
    and that now overlaps the synthesis of the first clause. ``stop()`` (checked every block) ends it
    early; Ctrl-C stops the sound at once and propagates; a synthesis error half way raises
    :class:`TTSError` after stopping the sound; no output device is a :class:`TTSError` too. With an open
    ``line`` at the stream's rate the blocks are queued on it instead (no device start at all)."""
    pb = playback or Playback()
    if line is not None and line.alive and line.rate == (stream.rate or rate):
        return _play_on_line(stream, line, stop, pb)
    try:
        import sounddevice as sd
    except OSError as exc:
        raise TTSError(f"PortAudio is not installed ({exc})") from None
    out: Any = None

    def open_at(hz: int) -> Any:
        o = sd.OutputStream(samplerate=hz, channels=1, dtype="int16", latency="low")
        o.start()
        pb.rate = hz
        return o

    try:
        if rate:
            out = open_at(rate)
        for piece in stream.read(stop):
            if out is not None and stream.rate != pb.rate:  # the hint was wrong: reopen at the real rate
                out.close()
                out = None
            if out is None:
                out = open_at(stream.rate)
            block = max(1, int(BLOCK_S * stream.rate))
            for at in range(0, len(piece), block):
                if stop is not None and stop():
                    pb.stopped = True
                    return pb
                part = piece[at:at + block]
                out.write(part.reshape(-1, 1))
                if pb.first_sound_s is None and np.any(np.abs(part) > AUDIBLE):
                    pb.first_sound_s = time.monotonic() - pb.started
                pb.played.append(part)
        pb.stopped = not stream.done or stream.cancelled.is_set()  # read() returned early: stop() or cancel
        if pb.played and not pb.stopped:
            out.stop()  # lets the last blocks play out
    except sd.PortAudioError as exc:
        raise TTSError(f"no audio output ({exc})") from None
    finally:
        if out is not None:
            try:
                if out.active:
                    out.abort()  # stopped early, an error or Ctrl-C: silence now, not after the buffer
                out.close()
            except sd.PortAudioError:
                pass
    return pb

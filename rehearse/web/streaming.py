"""An answer streamed from the browser: PCM chunks in, the same recorder and live transcription as the terminal.

The page captures the microphone with an AudioWorklet and posts 16-bit mono
PCM at the browser's own sample rate, a chunk every ~250 ms, each numbered.
Here each chunk is resampled to 16 kHz (soxr, streaming) and pushed into a
:class:`rehearse.recorder.Recorder` through :class:`PushSource`, so it is
written to ``recordings/<bank>/<question>/<time>.wav`` by the crash-safe
:class:`~rehearse.wavfile.WavStream` and fed to the same
:class:`~rehearse.live.LiveTranscriber` the terminal uses. When the user
stops, only the last stretch is left to decode: the report follows in about
the terminal's time.

One answer records at a time (a second tab gets :class:`Busy`). A stream that
goes quiet for ``idle_s`` (tab closed, network gone) is closed by a watchdog:
the WAV is kept and the attempt stored as ``not_scored`` (score it later from
the page or with ``rehearse score --attempt ID``). ``max_seconds`` bounds a
stream; past it the recorder stops by itself and further chunks are refused.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rehearse.assess import assess_audio, assess_transcript, options_for
from rehearse.audio import SAMPLE_RATE
from rehearse.errors import RecordingError, RehearseError
from rehearse.judges import Judge
from rehearse.live import LiveTranscriber
from rehearse.recorder import Recorder
from rehearse.rubric import Question
from rehearse.store import Store
from rehearse.transcript import Engine
from rehearse.wavfile import recording_path

MIN_RATE, MAX_RATE = 8000, 192000
CHUNK_MAX_BYTES = 512 * 1024          # one chunk: ~2.7 s of 16-bit audio at 96 kHz
DEFAULT_MAX_SECONDS = 15 * 60.0
DEFAULT_IDLE_S = 20.0


class StreamError(RehearseError):
    """A chunk or a stream the server cannot take; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Busy(StreamError):
    """Another answer is being recorded (a second tab)."""

    def __init__(self) -> None:
        super().__init__("Another tab (or window) is recording an answer right now: stop it there first.", 409)


class PushSource:
    """A recorder source fed from outside: each :meth:`push` is one captured block."""

    name = "browser"

    def __init__(self) -> None:
        self._callback: Callable[[np.ndarray], None] | None = None

    def start(self, callback: Callable[[np.ndarray], None]) -> None:
        self._callback = callback

    def push(self, block: np.ndarray) -> None:
        if self._callback is not None and len(block):
            self._callback(block)

    def stop(self) -> None:
        self._callback = None


@dataclass(frozen=True)
class Finished:
    """What became of a stream: the stored attempt, its status and how long the scoring took."""

    attempt_id: int
    status: str        # scored | no_speech | not_scored
    seconds: float
    latency_s: float   # from the stop to the attempt stored
    note: str = ""


class WebRecording:
    """One answer being streamed (see module docstring)."""

    def __init__(self, question: Question, path: Path, rate: int, engine: Engine, *, max_seconds: float,
                 hotwords: bool = True) -> None:
        import soxr

        self.id = uuid.uuid4().hex
        self.question = question
        self.path = path
        self.rate = rate
        self.max_seconds = max_seconds
        self.next_seq = 0
        self.pushed = 0  # samples at 16 kHz handed to the recorder
        self.last_seen = time.monotonic()
        self.lock = threading.Lock()
        self.closed = False
        self._resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
        self._source = PushSource()
        self.live = LiveTranscriber(engine, options_for(question, hotwords=hotwords)).start()
        self.recorder = Recorder(path, self._source, max_seconds=max_seconds, on_block=self.live.feed)
        try:
            self.recorder.start()
        except BaseException:
            self.live.close()
            raise

    @property
    def seconds(self) -> float:
        return self.recorder.meter.elapsed

    def _resample(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        if self._resampler is None:
            return x
        return np.asarray(self._resampler.resample_chunk(x, last=last), dtype=np.float32)

    def feed(self, seq: int, data: bytes) -> dict[str, object]:
        """Take chunk ``seq`` (16-bit little-endian PCM); a repeated chunk is acknowledged and ignored."""
        with self.lock:
            if self.closed:
                raise StreamError("This recording is already finished.", 409)
            # judged by what was sent, not by how far the recorder's thread has got (which depends on the load)
            if self.recorder.finished or self._full():  # not a sign of life: left to the watchdog
                limit = (f"{self.max_seconds / 60:g} minutes" if self.max_seconds >= 60 else
                         f"{self.max_seconds:g} second" + ("s" if self.max_seconds != 1 else ""))
                raise StreamError(f"The recording reached its limit of {limit} and stopped; what came before is "
                                  "kept. Press stop to score it.", 413)
            self.last_seen = time.monotonic()
            if seq < self.next_seq:
                return {"seq": seq, "seconds": round(self.seconds, 2), "duplicate": True}
            if seq > self.next_seq:
                raise StreamError(f"chunk {seq} arrived before chunk {self.next_seq}: send them in order.", 409)
            if len(data) % 2:
                raise StreamError("a chunk must be 16-bit PCM (an even number of bytes).", 400)
            block = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
            block = self._resample(block)
            self._source.push(block)
            self.pushed += len(block)
            self.next_seq += 1
            return {"seq": seq, "seconds": round(self.seconds, 2), "stopped": self.recorder.finished or self._full()}

    def _full(self) -> bool:
        """True once the audio sent reaches ``max_seconds`` (the recorder keeps exactly that much)."""
        return self.pushed >= self.max_seconds * SAMPLE_RATE

    def close(self) -> tuple[Path | None, float, str | None]:
        """Stop capturing and finalise the WAV; (path kept or None, seconds, error message or None)."""
        with self.lock:
            self.closed = True
            if self._resampler is not None:
                self._source.push(self._resample(np.zeros(0, np.float32), last=True))
            try:
                rec = self.recorder.stop("stop")
            except RecordingError as exc:
                kept = self.path if self.path.exists() else None
                return kept, self.seconds, str(exc)
            return rec.path, rec.seconds, None


class Studio:
    """The server's recording desk: at most one stream at a time, a watchdog, scoring and storing."""

    def __init__(self, engine: Engine, recordings: Path, *, judge: Judge | None = None,
                 max_seconds: float = DEFAULT_MAX_SECONDS, idle_s: float = DEFAULT_IDLE_S,
                 hotwords: bool = True) -> None:
        self.engine = engine
        self.recordings = recordings
        self.judge = judge
        self.max_seconds = max_seconds
        self.idle_s = idle_s
        self.hotwords = hotwords
        self.session_id: int | None = None
        self.active: WebRecording | None = None
        self.orphans: list[Finished] = []  # streams closed by the watchdog
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="web-watchdog", daemon=True)
        self._watchdog.start()
        self._loader: threading.Thread | None = None
        self.load_error: BaseException | None = None

    # ---- life cycle

    def preload(self) -> None:
        """Load the model in the background, so the first answer does not wait for it."""
        self._loader = threading.Thread(target=self._load, name="model-load", daemon=True)
        self._loader.start()

    def _load(self) -> None:
        try:
            self.engine.load()
        except Exception as exc:  # noqa: BLE001 - reported when a recording starts
            self.load_error = exc

    def ready(self) -> None:
        """Wait for the model; a model that cannot load is refused before anything is recorded (as in the terminal)."""
        if self._loader is None:
            self.preload()
        assert self._loader is not None
        self._loader.join()
        if self.load_error is not None:
            raise StreamError(f"The transcription model cannot be loaded, so nothing was recorded: "
                              f"{self.load_error}", 503)

    def shutdown(self) -> None:
        """Close any open stream (kept, not scored) and end the session.

        Waits for a model load still in progress: a process that exits while
        native code runs in another thread aborts.
        """
        self._stop.set()
        if self._loader is not None:
            self._loader.join(120)
        with self._lock:
            rec, self.active = self.active, None
        if rec is not None:
            self._keep_unscored(rec, "the server stopped while recording")
        if self.session_id is not None:
            with Store.open() as store:
                store.end_session(self.session_id)

    def _session(self, store: Store) -> int:
        if self.session_id is None:
            self.session_id = store.start_session("web")
        return self.session_id

    # ---- streams

    def start(self, question: Question, rate: int) -> WebRecording:
        """Open a stream for ``question`` at the browser's sample ``rate``; :class:`Busy` if one is open."""
        if not MIN_RATE <= rate <= MAX_RATE:
            raise StreamError(f"sample rate {rate} Hz is not supported ({MIN_RATE}–{MAX_RATE} Hz).", 400)
        self.ready()
        with self._lock:
            if self.active is not None:
                raise Busy()
            path = recording_path(self.recordings, question.bank, question.id)
            self.active = WebRecording(question, path, rate, self.engine, max_seconds=self.max_seconds,
                                       hotwords=self.hotwords)
            return self.active

    def get(self, rid: str) -> WebRecording:
        rec = self.active
        if rec is None or rec.id != rid:
            raise StreamError("No such recording in progress (it was stopped, or the server restarted).", 404)
        return rec

    def _release(self, rid: str) -> WebRecording:
        with self._lock:
            rec = self.get(rid)
            self.active = None
            return rec

    def stop(self, rid: str) -> Finished:
        """Finish a stream: finalise the WAV, finish the live transcript, score, store; the attempt."""
        rec = self._release(rid)
        t0 = time.monotonic()
        try:
            path, seconds, error = rec.close()
            if path is None:
                raise StreamError("Nothing was recorded: no audio reached the server." +
                                  (f" ({error})" if error else ""), 422)
            if error:
                return self._store_unscored(rec.question, path, seconds, t0, error)
            try:
                result = rec.live.finish(timeout=600)
            except Exception as exc:  # noqa: BLE001 - the recording is kept whatever went wrong
                return self._store_unscored(rec.question, path, seconds, t0, f"transcription failed: {exc}")
            a = assess_transcript(rec.question, result.transcript, result.speech or None, audio_path=path,
                                  timings={"final_wait_s": result.final_wait_s, "behind_s": result.behind_s, "transcribe_s": result.compute_s,
                                           "load_s": result.load_s}, judge=self.judge,
                                  filled_pauses=result.filled_pauses)
            with Store.open() as store:
                aid = store.save_attempt(a, question=rec.question, session_id=self._session(store), audio_path=path)
            return Finished(aid, "no_speech" if a.no_speech else "scored", seconds, time.monotonic() - t0)
        finally:
            rec.live.close()

    def abandon(self, rid: str, why: str = "the page stopped the recording") -> Finished | None:
        """Close a stream without scoring it: the WAV is kept and the attempt stored as not scored."""
        return self._keep_unscored(self._release(rid), why)

    def _keep_unscored(self, rec: WebRecording, why: str) -> Finished | None:
        t0 = time.monotonic()
        try:
            path, seconds, error = rec.close()
        finally:
            rec.live.close()
        if path is None:
            return None
        return self._store_unscored(rec.question, path, seconds, t0, why + (f" ({error})" if error else ""))

    def _store_unscored(self, q: Question, path: Path, seconds: float, t0: float, why: str) -> Finished:
        with Store.open() as store:
            aid = store.save_attempt(None, question=q, session_id=self._session(store), audio_path=path,
                                     status="not_scored", note=why)
        return Finished(aid, "not_scored", seconds, time.monotonic() - t0, why)

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            rec = self.active
            if rec is not None and time.monotonic() - rec.last_seen > self.idle_s:
                try:
                    done = self.abandon(rec.id, f"no audio for {self.idle_s:.0f} s (tab closed or connection lost)")
                except StreamError:
                    continue
                except Exception:  # noqa: BLE001 - the watchdog must keep watching
                    continue
                if done is not None:
                    self.orphans.append(done)

    # ---- scoring later

    def score_later(self, attempt_id: int, question: Question, path: Path) -> float:
        """Transcribe and score a kept recording (a not-scored attempt); its coverage."""
        a = assess_audio(question, path, self.engine, judge=self.judge, hotwords=self.hotwords)
        with Store.open() as store:
            store.add_result(attempt_id, a)
        return a.score.coverage

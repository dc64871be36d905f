"""Streaming transcription: transcribe an answer while it is being spoken.

Blocks of 16 kHz audio arrive (from the recorder's writer thread) through
:meth:`LiveTranscriber.feed`. They collect into the *open chunk*. Every
:data:`CHECK_EVERY_S` of new audio, if the worker is idle and the open chunk
holds at least ``min_chunk_s`` (12 s), Silero VAD looks at it and it is closed
in the middle of its latest pause of at least ``pause_s`` and queued. While
the worker is busy the open chunk keeps growing and is closed as soon as the
worker is free again (so a slow machine decodes fewer, longer chunks, and the
fixed cost of each decode, an encoder pass over a 30 s window, is paid less
often), or at ``max_chunk_s`` (~25 s, under Whisper's 30 s window), at the
widest gap in its second half.

Each closed chunk is transcribed once, in a background worker thread, with
the same pipeline as a whole file (:func:`rehearse.transcribe.recognise`:
silence and VAD guards, language forced, :func:`~rehearse.transcribe.clean`
against hallucinations). Its segments and speech regions are shifted onto the
recording's timeline. At the end (:meth:`LiveTranscriber.finish`) only the
last chunk is left to transcribe, and the chunks are merged into one
:class:`Transcript`.

Two choices keep the streamed transcript as good as the whole file's:

* Only the first chunk with speech is decoded with the prompt (the
  Simplified-Chinese style hint), as in a whole-file decode: faster-whisper
  prompts only its first 30 s window when ``condition_on_previous_text`` is
  off. Prompting every short chunk made Whisper base loop the prompt instead
  of transcribing ("Stable the fusion 英文术语保留英文术语保留…" for "Stable
  Diffusion 本质上是一个 latent diffusion model").
* Chunks of at least 12 s give each decode context. On the three ~2-minute
  answers of ``benchmarks/live_latency.py`` (streamed as by a worker that
  keeps up, CER against the reference): 12 s chunks with speculations of at
  least 4 s kept as chunks 0.086 / 0.110 / 0.088; 8 s chunks 0.153 / 0.153 /
  0.121. Where a chunk is cut moves CER by ±0.03 on one answer.

People stop talking a moment before they press stop. So while the worker is
idle, a pause of at least ``tail_pause_s`` after the latest speech (checked
on the last few seconds only, once a second of new audio has arrived since
the latest speculation) starts a *speculation*: a decode of the open chunk up
to that pause. If the speaker goes on, the speculation is not thrown away:
if it covers at least :data:`ADOPT_MIN_S` it becomes a chunk (closed at the
speculation's pause), else the next one covers it again. At the end it is kept and only the
audio after it is decoded: by the time stop is pressed the last words are
being decoded or are done, and what is left after them is silence, which VAD
skips.

Chunks are decoded without word-level alignment (``word_timestamps=False``):
with it, faster-whisper re-decodes the fraction of a second after the last
aligned word as a new 30 s window, and on short chunks that remainder
hallucinates loops ("我认认认…论论论", up to 224 tokens, then dropped by
``clean()``) that cost seconds per chunk. Evidence times are placed within
the (short) segments by the scorer.

The worker loads the model first thing (:meth:`start`), so the model loads
while the question is being read aloud.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from rehearse.audio import SAMPLE_RATE
from rehearse.hesitation import AcousticTracker, FilledPause
from rehearse.transcribe import Recognition, merge_recognitions, recognise, shift_segment
from rehearse.transcript import (
    Engine,
    TranscribeOptions,
    Transcript,
)
from rehearse.vad import speech_regions

CHECK_EVERY_S = 0.5
MIN_CHUNK_S = 12.0
MAX_CHUNK_S = 25.0
PAUSE_S = 0.3
ADOPT_MIN_S = 4.0   # a speculation this long becomes a chunk (a shorter one is decoded again, with more context)
TAIL_PAUSE_S = 0.5  # a pause this long after the latest speech: the speaker may be done, speculate up to it
TAIL_NEW_S = 1.0    # ... when at least this much audio arrived since the latest speculation
TAIL_LOOK_S = 3.0   # how much of the end of the open chunk is examined for that pause
#: chunks are decoded with this repetition penalty: a short chunk sometimes loops ("3D-to-3D-to-…") to the
#: token limit and again at every fallback temperature (one 11 s chunk took 39 s of worker time, so the report
#: after stop could wait that long). Over nine ~2-min answers, 1.1 bounded the slowest chunk at 5.6 s (39.2 s
#: without) at a mean CER of 0.119 (0.122 without); not tuned further
REPETITION_PENALTY = 1.1
#: temperatures a chunk may be decoded at: one fallback instead of Whisper's five. A decode that fails at 0.0
#: (a loop, a low log-probability) used to be retried at 0.2, 0.4 … 1.0, each up to the token limit, while the
#: user waited for the report. Over the nine ~2-min answers above the transcripts were the same with the full
#: ladder, with (0.0, 0.4) and with 0.0 alone (mean CER 0.119 each); a whole-file decode keeps the full ladder
TEMPERATURES = (0.0, 0.4)


@dataclass(frozen=True)
class ChunkResult:
    """One transcribed chunk, already on the recording's timeline."""

    index: int
    start: float
    end: float
    recognition: Recognition
    compute_s: float


@dataclass(frozen=True)
class LiveResult:
    """The merged transcript and how the streaming went."""

    transcript: Transcript
    speech: tuple[tuple[float, float], ...]
    chunks: tuple[ChunkResult, ...]
    final_wait_s: float      # from finish() until the transcript was ready
    load_s: float
    compute_s: float         # all decoding, speculations thrown away included
    speculations: int = 0    # speculative decodes run (see the module docstring)
    speculation_used: bool = False  # whether the last chunk was finished from a speculation
    adopted: int = 0         # speculations that became a chunk when the speaker went on
    behind_s: float = 0.0    # audio not yet decoded when finish() was called (queued chunks, the one being
                             # decoded, the last): what the final wait is spent on
    #: the acoustic filled pauses of the audio fed (:class:`rehearse.hesitation.AcousticTracker`, analysed
    #: while the answer went on): what :func:`rehearse.hesitation.detect` finds in the recording
    filled_pauses: tuple[FilledPause, ...] | None = None

    @property
    def rtf(self) -> float:
        """Transcription compute time per second of audio."""
        return self.compute_s / self.transcript.duration if self.transcript.duration else 0.0


def find_cut(audio: np.ndarray, *, pause_s: float = PAUSE_S, min_cut_s: float = 2.0,
             force: bool = False) -> int | None:
    """Sample index at which to close a chunk, or None to keep collecting.

    The latest pause of at least ``pause_s`` (between speech regions, or
    after the last one) that leaves at least ``min_cut_s`` before it; cut in
    its middle. Audio without speech is cut near its end. With ``force``
    (the chunk is at its maximum length) the widest gap in the second half is
    taken, else the whole chunk.
    """
    n = len(audio)
    regions = speech_regions(audio, min_silence_s=min(0.3, pause_s))
    if not regions:
        return max(n - int(0.3 * SAMPLE_RATE), 1)
    total = n / SAMPLE_RATE
    gaps = [(a[1], b[0]) for a, b in zip(regions, regions[1:])] + [(regions[-1][1], total)]
    for start, end in reversed(gaps):
        mid = (start + end) / 2
        if end - start >= pause_s and mid >= min_cut_s:
            return int(mid * SAMPLE_RATE)
    if force:
        late = [(e - s, (s + e) / 2) for s, e in gaps[:-1] if (s + e) / 2 >= total / 2]
        return int(max(late)[1] * SAMPLE_RATE) if late else n
    return None


def _ends_in_pause(tail: np.ndarray, pause_s: float = TAIL_PAUSE_S) -> bool:
    """Whether this end of the open chunk has speech followed by at least ``pause_s`` without."""
    regions = speech_regions(tail, min_silence_s=min(0.3, pause_s))
    return bool(regions) and len(tail) / SAMPLE_RATE - regions[-1][1] >= pause_s


@dataclass(frozen=True)
class _Job:
    kind: str            # "chunk" (a closed chunk), "spec" (a prefix of the open one) or "last"
    index: int
    start: int           # sample index on the recording's timeline
    audio: np.ndarray


class LiveTranscriber:
    """Chunks fed audio at pauses and transcribes each chunk in a worker thread."""

    def __init__(self, engine: Engine, options: TranscribeOptions, *, min_chunk_s: float = MIN_CHUNK_S,
                 max_chunk_s: float = MAX_CHUNK_S, pause_s: float = PAUSE_S,
                 tail_pause_s: float | None = TAIL_PAUSE_S, word_timestamps: bool = False,
                 repetition_penalty: float = REPETITION_PENALTY,
                 temperatures: tuple[float, ...] = TEMPERATURES) -> None:
        """``tail_pause_s=None`` turns speculation off (the open chunk is then decoded whole at the end)."""
        self.engine = engine
        self.options = replace(options, word_timestamps=word_timestamps, repetition_penalty=repetition_penalty,
                               temperature=temperatures)
        self._unprompted = replace(self.options, initial_prompt="")
        self._prompt_index: int | None = None  # the chunk decoded with the prompt (the first with speech)
        self.min_chunk = int(min_chunk_s * SAMPLE_RATE)
        self.max_chunk = int(max_chunk_s * SAMPLE_RATE)
        self.pause_s = pause_s
        self.tail_pause_s = tail_pause_s
        self._buf: list[np.ndarray] = []
        self._buf_len = 0
        self._since_check = 0
        self._chunk_start = 0        # sample index of the open chunk on the recording's timeline
        self._total = 0
        self._index = 0              # index of the open chunk
        self._spec_len = 0           # samples of the open chunk covered by the latest speculation queued
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._busy = False
        self._running: _Job | None = None
        self._results: list[ChunkResult] = []
        # the latest speculation decoded: a prefix of the open chunk, and its length in samples
        self._spec: tuple[ChunkResult, int] | None = None
        self._spec_count = 0
        self._spec_used = False
        self._adopted = 0
        self._compute_s = 0.0
        self._worker: threading.Thread | None = None
        self._loaded = threading.Event()
        # set when the worker has returned. Waiting on this, not on Thread.join(): a join cut
        # short by Ctrl-C (Python < 3.13) can leave is_alive() False while the thread still
        # decodes, and a process that exits during a native decode crashes.
        self._done = threading.Event()
        self.error: BaseException | None = None
        self.load_s = 0.0
        self._finished = False
        self._acoustic = AcousticTracker()
        self._filled_pauses: tuple[FilledPause, ...] | None = None

    # ---- life cycle

    def start(self) -> "LiveTranscriber":
        """Start the worker; it loads the model at once (call this before reading the question aloud)."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="live-transcriber", daemon=True)
            self._worker.start()
        return self

    def wait_loaded(self, timeout: float | None = None) -> None:
        """Block until the model is loaded; re-raise a load error (e.g. a missing model) here."""
        self.start()
        self._loaded.wait(timeout)
        if self.error is not None:
            raise self.error

    @property
    def pending(self) -> int:
        """Jobs (closed chunks, speculations) not yet taken by the worker."""
        return self._jobs.qsize()

    @property
    def idle(self) -> bool:
        """No job queued or being decoded."""
        return not self._busy and self._jobs.empty()

    @property
    def chunks_done(self) -> int:
        return len(self._results)

    def feed(self, block: np.ndarray) -> None:
        """Add captured samples; closes a chunk at a pause or at the maximum length."""
        if self._finished:
            return
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self._acoustic.feed(block)
        self._buf.append(block)
        self._buf_len += len(block)
        self._total += len(block)
        self._since_check += len(block)
        if self._since_check < int(CHECK_EVERY_S * SAMPLE_RATE):
            return
        idle = self.idle
        spec = self._open_spec()
        if idle and spec is not None and spec[1] >= ADOPT_MIN_S * SAMPLE_RATE:
            self._since_check = 0
            self._adopt(np.concatenate(self._buf), spec)
            return
        closing = self._buf_len >= (self.min_chunk if idle else self.max_chunk)
        tail = (not closing and idle and self.tail_pause_s is not None
                and self._buf_len - self._spec_len >= TAIL_NEW_S * SAMPLE_RATE)
        if not (closing or tail):
            return
        self._since_check = 0
        audio = np.concatenate(self._buf)
        self._buf = [audio]
        if closing:
            cut = find_cut(audio, pause_s=self.pause_s, min_cut_s=self.min_chunk / SAMPLE_RATE / 2,
                           force=self._buf_len >= self.max_chunk)
            if cut is not None:
                self._close(audio, min(cut, self.max_chunk))
            return
        if not _ends_in_pause(audio[-int(TAIL_LOOK_S * SAMPLE_RATE):], self.tail_pause_s or TAIL_PAUSE_S):
            return
        cut = find_cut(audio, pause_s=self.pause_s, min_cut_s=1.0)
        if cut is not None and cut > self._spec_len:
            self._spec_len = cut
            self._jobs.put(_Job("spec", self._index, self._chunk_start, audio[:cut].copy()))

    def _open_spec(self) -> tuple[ChunkResult, int] | None:
        """The latest speculation decoded, if it is of the open chunk (with the samples it covers)."""
        spec = self._spec
        return spec if spec is not None and spec[0].index == self._index else None

    def _adopt(self, audio: np.ndarray, spec: tuple[ChunkResult, int]) -> None:
        """Close the open chunk at the end of its latest speculation, which becomes its decode."""
        result, covered = spec
        self._results.append(result)
        self._adopted += 1
        self._advance(audio, covered)

    def _close(self, audio: np.ndarray, cut: int, kind: str = "chunk") -> None:
        self._jobs.put(_Job(kind, self._index, self._chunk_start, audio[:cut].copy()))
        self._advance(audio, cut)

    def _advance(self, audio: np.ndarray, cut: int) -> None:
        """A new open chunk starts at ``cut`` of this one."""
        self._index += 1
        self._chunk_start += cut
        self._spec_len = 0
        rest = audio[cut:]
        self._buf = [rest] if len(rest) else []
        self._buf_len = len(rest)

    def finish(self, timeout: float | None = None) -> LiveResult:
        """Close the last chunk, wait for every chunk and return the merged transcript.

        KeyboardInterrupt while waiting propagates (the worker thread is a
        daemon and is abandoned).
        """
        t0 = time.perf_counter()
        self.start()
        behind = 0
        if not self._finished:
            self._finished = True
            spec = self._open_spec()
            behind = self._buf_len - (spec[1] if spec is not None else 0)
            behind += sum(len(j.audio) for j in [self._running, *list(self._jobs.queue)]
                          if j is not None and j.kind == "chunk")
            if self._buf_len:
                self._close(np.concatenate(self._buf), self._buf_len, kind="last")
            self._jobs.put(None)
            self._filled_pauses = tuple(self._acoustic.finish())  # the last block, while the last chunk decodes
        deadline = None if timeout is None else t0 + timeout
        while not self._done.wait(0.05):  # short waits so Ctrl-C reaches the main thread
            if deadline is not None and time.perf_counter() > deadline:
                raise TimeoutError("live transcription did not finish in time")
        if self.error is not None:
            raise self.error
        results = sorted(self._results, key=lambda r: r.index)
        duration = self._total / SAMPLE_RATE
        merged = merge_recognitions([(0.0, r.recognition) for r in results], self.options, duration, self.engine)
        return LiveResult(merged.transcript, merged.speech, tuple(results),
                          time.perf_counter() - t0, self.load_s, self._compute_s, self._spec_count,
                          self._spec_used, self._adopted, behind / SAMPLE_RATE, self._filled_pauses)

    def close(self, timeout: float | None = None) -> None:
        """Stop the worker: queued jobs are dropped, and a decode in progress is waited for.

        A native decode cannot be interrupted, and a process that exits during
        one crashes. So after Ctrl-C, or when a recording is not scored, call
        this before going on. By default it waits as long as that decode takes
        (bounded, but on an overloaded machine a 10 s clip was seen to take 71
        s, and a 60 s limit let the process exit mid-decode and crash).
        """
        self._finished = True
        self._acoustic.close()
        try:
            while True:
                self._jobs.get_nowait()
        except queue.Empty:
            pass
        self._jobs.put(None)
        deadline = None if timeout is None else time.perf_counter() + timeout
        while self._worker is not None and not self._done.wait(0.05):
            if deadline is not None and time.perf_counter() > deadline:
                return

    # ---- the worker thread

    def _decode(self, index: int, start: int, audio: np.ndarray) -> ChunkResult:
        """Transcribe one stretch of audio and shift it onto the recording's timeline."""
        t1 = time.perf_counter()
        prompted = self._prompt_index in (None, index)
        rec = recognise(audio, self.engine, self.options if prompted else self._unprompted)
        if rec.speech and self._prompt_index is None:
            self._prompt_index = index
        dt = start / SAMPLE_RATE
        t = rec.transcript
        shifted = replace(t, segments=tuple(shift_segment(s, dt) for s in t.segments),
                          dropped=tuple(shift_segment(s, dt) for s in t.dropped))
        compute = time.perf_counter() - t1
        self._compute_s += compute
        return ChunkResult(index, dt, dt + len(audio) / SAMPLE_RATE,
                           Recognition(shifted, tuple((a + dt, b + dt) for a, b in rec.speech)), compute)

    def _run(self, job: _Job) -> None:
        if job.kind == "spec":
            # stale (the chunk closed since) or no longer worth it (more work is waiting)
            if job.index != self._index or not self._jobs.empty():
                return
            self._spec = (self._decode(job.index, job.start, job.audio), len(job.audio))
            self._spec_count += 1
            return
        if job.kind == "last" and self._spec is not None and self._spec[0].index == job.index:
            # finish from the speculation: only the audio after it is left
            spec, covered = self._spec
            self._spec_used = True
            self._results.append(spec)
            if covered < len(job.audio):
                self._results.append(self._decode(job.index + 1, job.start + covered, job.audio[covered:]))
            return
        self._results.append(self._decode(job.index, job.start, job.audio))

    def _work(self) -> None:
        try:
            self._serve()
        finally:
            self._done.set()

    def _serve(self) -> None:
        t0 = time.perf_counter()
        try:
            self.engine.load()
        except BaseException as exc:  # noqa: BLE001 - reported by wait_loaded()/finish()
            self.error = exc
            self._loaded.set()
            return
        self.load_s = time.perf_counter() - t0
        self._loaded.set()
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._busy = True
            self._running = job
            try:
                self._run(job)
            except BaseException as exc:  # noqa: BLE001
                self.error = exc
                return
            finally:
                self._busy = False
                self._running = None

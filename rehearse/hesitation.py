"""Filled pauses (嗯, 呃, um, uh, a lengthened 那——) measured from the sound, not only from the transcript.

Whisper drops most fillers (the project measured 4 of 20 kept, none of 嗯 and 呃), so a count from the
transcript is a lower bound. The acoustic signature of a filled pause is old and robust (Goto, Itou &
Hayamizu, "A real-time filled pause detection system for spontaneous speech recognition", Eurospeech
1999): a **voiced** stretch whose **pitch barely moves** and whose **spectral envelope barely changes**,
held for a while. Here:

* frames of 40 ms every 10 ms; a frame is *voiced* when its normalised autocorrelation peak (70–400 Hz)
  is ≥ :data:`VOICING` and its level is within 35 dB of the loudest frame;
* a window of :data:`MIN_S` (200 ms) is *held* when it is voiced throughout, its pitch stays within a
  range of :data:`PITCH_ST` semitones and its log band spectrum (24 bands, 100 Hz–4 kHz, floored 30 dB
  under the strongest band) stays within :data:`SPREAD_DB` dB of the window's mean — Goto's "small F0
  transition, small spectral envelope deformation";
* a window of :data:`LONG_S` (300 ms) that is voiced throughout is held too when its pitch stays within
  :data:`LONG_PITCH_ST` and its spectrum within :data:`LONG_SPREAD_DB` — a held vowel whose pitch or
  formants drift a little, as a lengthened syllable's (那——) does: the 200 ms test alone missed four in
  ten of them, mostly for a spectral spread of 2–3 dB (the vowel of a real syllable keeps moving a little
  and fades as it is held), some for a pitch drift over 1.5 semitones in 200 ms;
* overlapping held windows merge into one filled pause (so each is ≥ 200 ms).

The thresholds were chosen on the development half of the evaluation set (tests/hesitation_set.py) and
are reported on the other half (benchmarks/hesitation_eval.py).

Goto et al. required ≥ 250 ms and used no transcript. Here the transcript adds what sound alone cannot
tell (:func:`combine`): a filler word Whisper did write (嗯, um …) counts even when short or not flat, and
an acoustic event is labelled by what covers it — a filler word, no word at all (speech Whisper left
out: the strongest sign), or an ordinary word (a lengthened syllable).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from rehearse.audio import SAMPLE_RATE
from rehearse.transcript import Transcript

HOP_S, WIN_S = 0.010, 0.040
F0_MIN, F0_MAX = 70.0, 400.0
VOICING = 0.55  # normalised autocorrelation at the pitch period
PITCH_ST = 1.5  # semitones: the widest pitch range a held window may have
SPREAD_DB = 2.0  # dB: mean absolute deviation of the log band spectrum from the window's mean
MIN_S = 0.20
# A second, longer window may vary a little more: held for LONG_S, a vowel whose formants or pitch drift
# slightly as it is held — most lengthened syllables (那——, so——) and some filled pauses — still counts.
# Fluent speech is rarely that steady for that long: on the development half, no fluent 300 ms window that
# passed the pitch test stayed within 3.4 dB. Chosen on the development half (benchmarks/hesitation_eval.py).
LONG_S = 0.30
LONG_PITCH_ST = 2.0
LONG_SPREAD_DB = 3.0
FILLER_WORDS = frozenset({"嗯", "呃", "额", "啊", "唔", "um", "uh", "er", "erm", "hmm", "mm", "uhm", "ah"})


@dataclass(frozen=True)
class FilledPause:
    """One filled pause: when, how it was found (acoustic | transcript) and what the transcript has there
    (filler | none | word)."""

    start: float
    end: float
    source: str
    covered_by: str = "none"

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Frames:
    """Per-frame pitch (Hz, 0 when unvoiced), voicing strength, level (dB) and log band spectrum."""

    f0: np.ndarray
    voicing: np.ndarray
    level_db: np.ndarray
    bands: np.ndarray


def analyse(audio: np.ndarray, sr: int = SAMPLE_RATE) -> Frames:
    """Frame-level pitch, voicing, level and spectral envelope of 16 kHz mono audio (vectorised)."""
    win, hop = int(WIN_S * sr), int(HOP_S * sr)
    x = np.asarray(audio, np.float32)
    if len(x) < win:
        empty = np.zeros(0, np.float32)
        return Frames(empty, empty, empty, np.zeros((0, 24), np.float32))
    n = 1 + (len(x) - win) // hop
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop][:n] * np.hanning(win).astype(np.float32)
    frames = frames - frames.mean(axis=1, keepdims=True)
    lo, hi = int(sr / F0_MAX), int(sr / F0_MIN)
    nfft = 1 << int(np.ceil(np.log2(win + hi)))  # no circular wrap up to the longest lag; a power of two is fast
    spec = np.fft.rfft(frames, nfft, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    acf = np.fft.irfft(power, nfft, axis=1)[:, :hi]
    # normalise by the overlap so long lags are not penalised (unbiased), then by lag 0
    acf = acf / np.maximum(acf[:, :1], 1e-12) * (win / (win - np.arange(hi)))[None, :]
    seg = acf[:, lo:hi]
    lag = np.argmax(seg, axis=1)
    peak = seg[np.arange(n), lag]
    f0 = sr / (lag + lo).astype(np.float32)
    level = 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-12))
    freqs = np.fft.rfftfreq(nfft, 1 / sr)
    band_idx = np.searchsorted(np.geomspace(100, 4000, 25), freqs) - 1
    average = np.zeros((len(freqs), 24), np.float32)  # power → mean power per band, as one product
    for b in range(24):
        cols = band_idx == b
        average[cols, b] = 1.0 / max(int(cols.sum()), 1)
    bands = 10 * np.log10(np.maximum(power @ average, 1e-12))
    bands = np.maximum(bands, bands.max(axis=1, keepdims=True) - 30)  # the envelope, not the noise floor
    voiced = (peak >= VOICING) & (level >= level.max() - 35) & (level > -55)
    return Frames(np.where(voiced, f0, 0.0).astype(np.float32), peak.astype(np.float32), level.astype(np.float32),
                  bands)


#: audio is analysed in blocks of this many seconds (overlapping by :data:`BLOCK_OVERLAP_S`): the frame
#: matrices take about 100 MB per minute of audio, so a 60-minute recording in one piece needed gigabytes
BLOCK_S = 60.0
BLOCK_OVERLAP_S = 2.0


def detect(audio: np.ndarray, sr: int = SAMPLE_RATE, *, min_s: float = MIN_S, pitch_st: float = PITCH_ST,
           spread_db: float = SPREAD_DB, long: tuple[float, float, float] | None = (LONG_S, LONG_PITCH_ST, LONG_SPREAD_DB),
           ) -> list[FilledPause]:
    """Acoustic filled pauses: voiced stretches ≥ ``min_s`` with nearly flat pitch and a stable spectrum.

    Every window of ``min_s`` that is voiced throughout, whose pitch stays within a range of ``pitch_st``
    semitones and whose log band spectrum stays within ``spread_db`` (mean absolute deviation from the
    window's mean spectrum) is held, and so is every window of the longer ``long`` = (seconds, semitones,
    dB) that passes its looser limits (None: the short windows only, the detector before lengthened
    syllables were measured); overlapping held windows merge into one filled pause. Long audio is
    analysed in overlapping blocks of :data:`BLOCK_S` (:func:`block_starts`); events found twice in an
    overlap merge."""
    found: list[FilledPause] = []
    size = _block_size(sr)[0]
    for start in block_starts(len(audio), sr):
        _merge(found, _detect(audio[start:start + size], sr, min_s, pitch_st, spread_db, long), start / sr)
    return found


def _block_size(sr: int) -> tuple[int, int]:
    """(samples per block, samples from one block's start to the next)."""
    return int(BLOCK_S * sr), int((BLOCK_S - BLOCK_OVERLAP_S) * sr)


def block_starts(n: int, sr: int = SAMPLE_RATE) -> range:
    """Where the blocks :func:`detect` analyses start, for ``n`` samples: one block when it fits in
    :data:`BLOCK_S`, else every ``BLOCK_S - BLOCK_OVERLAP_S``."""
    block, step = _block_size(sr)
    return range(0, 1) if n <= block else range(0, n - int(BLOCK_OVERLAP_S * sr), step)


def _merge(found: list[FilledPause], events: Sequence[FilledPause], t0: float) -> None:
    """Append one block's events (block times + ``t0``), merging one that overlaps the last found."""
    for ev in events:
        ev = FilledPause(round(ev.start + t0, 2), round(ev.end + t0, 2), ev.source)
        if found and ev.start <= found[-1].end:
            found[-1] = FilledPause(found[-1].start, max(found[-1].end, ev.end), ev.source)
        else:
            found.append(ev)


class AcousticTracker:
    """:func:`detect` while the audio arrives: each block is analysed, on a thread of its own, as soon as
    it is complete, so when the answer ends only the last one is left (0.3–0.6 s saved at stop for a
    2-minute answer). :meth:`finish` gives what :func:`detect` gives for all the audio fed."""

    def __init__(self, sr: int = SAMPLE_RATE) -> None:
        self.sr = sr
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rehearse-hesitation")
        self._buf: list[np.ndarray] = []
        self._buf_start = 0  # sample index of the first sample kept (the next block's start)
        self._total = 0
        self._blocks: list[tuple[int, Future[list[FilledPause]]]] = []  # (start, its analysis), in order

    def feed(self, block: np.ndarray) -> None:
        """Add samples; starts the analysis of each block that is now complete."""
        self._buf.append(np.asarray(block, np.float32).reshape(-1))
        self._total += len(self._buf[-1])
        size, step = _block_size(self.sr)
        if self._total - self._buf_start <= size:  # a block is run early only when more audio follows it
            return
        audio = np.concatenate(self._buf)
        while len(audio) > size:
            self._submit(self._buf_start, audio[:size])
            audio, self._buf_start = audio[step:], self._buf_start + step
        self._buf = [audio]

    def _submit(self, start: int, audio: np.ndarray) -> None:
        # one block (it fits in BLOCK_S), with detect()'s own settings
        self._blocks.append((start, self._pool.submit(detect, audio, self.sr)))

    def finish(self) -> list[FilledPause]:
        """The filled pauses of all the audio fed (the blocks still open are analysed now)."""
        rest = np.concatenate(self._buf) if self._buf else np.zeros(0, np.float32)
        size = _block_size(self.sr)[0]
        for s in block_starts(self._total, self.sr):
            if s >= self._buf_start:
                self._submit(s, rest[s - self._buf_start:s - self._buf_start + size])
        self._buf = []
        found: list[FilledPause] = []
        for start, future in self._blocks:
            _merge(found, future.result(), start / self.sr)
        self._pool.shutdown(wait=False)
        return found

    def close(self) -> None:
        """Drop what is not analysed yet (the answer is not scored from this)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _detect(audio: np.ndarray, sr: int, min_s: float, pitch_st: float, spread_db: float,
            long: tuple[float, float, float] | None) -> list[FilledPause]:
    fr = analyse(audio, sr)
    held = held_frames(fr, min_s, pitch_st, spread_db)
    if long is not None:
        held |= held_frames(fr, *long)
    out: list[FilledPause] = []
    edges = np.flatnonzero(np.diff(np.r_[0, held.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        start = float(a) * HOP_S + WIN_S / 2 - HOP_S / 2
        out.append(FilledPause(round(start, 2), round(start + float(b - a) * HOP_S, 2), "acoustic"))
    return out


def held_frames(fr: Frames, min_s: float, pitch_st: float, spread_db: float) -> np.ndarray:
    """Frames inside a window of ``min_s`` that is voiced throughout, spans at most ``pitch_st`` semitones
    and whose log band spectrum stays within ``spread_db`` of its mean (mean absolute deviation)."""
    n, w = len(fr.f0), int(round(min_s / HOP_S))
    held = np.zeros(n, bool)
    if n < w or w < 1:
        return held
    semis = 12 * np.log2(np.maximum(fr.f0, 1.0) / 100.0)
    voiced = fr.f0 > 0
    run = np.convolve(voiced.astype(np.int32), np.ones(w, np.int32), mode="valid")  # voiced frames per window
    for i in np.flatnonzero(run == w):
        b = fr.bands[i:i + w]
        if np.ptp(semis[i:i + w]) <= pitch_st and float(np.abs(b - b.mean(axis=0)).mean()) <= spread_db:
            held[i:i + w] = True
    return held


def _is_filler(text: str) -> bool:
    t = text.strip(" ，,。.！!？?、…-—").lower()
    return bool(t) and (t in FILLER_WORDS or all(c in "嗯呃额" for c in t))


def combine(acoustic: Sequence[FilledPause], transcript: Transcript | None) -> list[FilledPause]:
    """Label each acoustic event by the transcript, and add the filler words the sound did not find."""
    words = [w for s in (transcript.segments if transcript else ()) for w in s.words]
    out: list[FilledPause] = []
    matched: set[int] = set()
    for ev in acoustic:
        over = [(k, w) for k, w in enumerate(words) if min(ev.end, w.end) - max(ev.start, w.start) > 0.05]
        fillers = [k for k, w in over if _is_filler(w.text)]
        matched.update(fillers)
        covered = "filler" if fillers else "word" if over else "none"
        out.append(FilledPause(ev.start, ev.end, ev.source, covered))
    for k, w in enumerate(words):
        if k not in matched and _is_filler(w.text):
            out.append(FilledPause(round(w.start, 2), round(w.end, 2), "transcript", "filler"))
    return sorted(out, key=lambda e: e.start)


@dataclass(frozen=True)
class Hesitation:
    """The filled pauses of one answer, per minute of answer time, beside the transcript's own count."""

    count: int
    per_min: float
    acoustic: int
    transcript_fillers: int
    events: tuple[FilledPause, ...]

    def to_dict(self) -> dict:
        """JSON-ready (events as [start, end, source, covered_by])."""
        d = asdict(self)
        d["events"] = [[e.start, e.end, e.source, e.covered_by] for e in self.events]
        return d


def measure_hesitation(audio: np.ndarray | None, transcript: Transcript | None, answer_s: float,
                       sr: int = SAMPLE_RATE, acoustic: Sequence[FilledPause] | None = None) -> Hesitation:
    """Acoustic filled pauses combined with the transcript; ``answer_s`` is the answer time the rate is per.
    ``acoustic``: the acoustic events already found (an :class:`AcousticTracker`'s), else ``audio`` is analysed."""
    if acoustic is None:
        if audio is None:
            raise ValueError("measure_hesitation needs the audio or its acoustic events")
        acoustic = detect(audio, sr)
    events = combine(acoustic, transcript)
    n_tr = sum(1 for e in events if e.covered_by == "filler")
    per_min = round(len(events) * 60.0 / answer_s, 2) if answer_s > 0 else 0.0
    return Hesitation(len(events), per_min, sum(1 for e in events if e.source == "acoustic"), n_tr, tuple(events))

"""Fluency figures for one answer: length, speech rate, fillers, pauses, repetitions.

Definitions (also in the README, section "History and progress"):

* **answer time** — from the first word to the last (leading and trailing
  silence of the recording excluded); **speaking time** — answer time minus
  the pauses in it;
* **speech rate** (``speech_rate``, ``units/min``) — Han characters + English
  words per minute of answer time (pauses included: the *speaking rate*);
  ``han_per_min`` and ``en_per_min`` split it by script; **articulation
  rate** — the same units per minute of speaking time (pauses excluded);
* **fillers** — zh: 嗯 呃 额 啊 when they stand alone (not inside a word or as a
  sentence-final particle); the discourse markers 那个 这个 就是 然后 only
  where used as fillers: followed by a pause mark (，、…), followed by a
  measured pause (≥ 0.25 s), or repeated (然后然后); en: um, uh, er, erm,
  hmm, "you know", and "like," set off by a comma. ``fillers_per_min`` is
  per minute of answer time;
* **pauses** — silences of at least 0.25 s between speech regions found by
  voice activity detection (Silero VAD pads each region by 50 ms, which is
  added back), else gaps between word timestamps; **long pauses** ≥ 1 s;
  leading and trailing silence are not pauses; **time to first word** is the
  leading silence;
* **repetitions** — 1–3 English words or a 2–6 character Han run said twice
  in a row, directly or across a pause mark (restarts such as "我们，我们用");
  single Han characters are not counted (reduplication like 看看 is normal
  Mandarin) and neither are the fillers above;
* **length vs target** — answer time / the question's ``target_seconds``;
* **filled pauses** (``filled_pauses_per_min``) — measured from the sound by :mod:`rehearse.hesitation`
  (held voiced stretches ≥ 0.2 s with flat pitch and a stable spectrum) together with the filler words
  the transcript has, per minute of answer time, with timestamps; set by :func:`rehearse.assess.assess_transcript`
  when the recording is at hand.

Reference bands (:data:`BANDS`) are shown next to the figures.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rehearse.normalize import han_count, is_han, latin_words
from rehearse.transcript import Transcript

PAUSE_S = 0.25
LONG_PAUSE_S = 1.0
VAD_PAD_S = 0.05  # rehearse.vad.speech_regions pads every region by this much on each side

_PUNCT = r"[，,。.！!？?、；;：:…\s—\-]"
_STANDALONE_ZH = re.compile(rf"(?:(?<=^)|(?<={_PUNCT}))(嗯+|呃+|额+|啊+)(?={_PUNCT}|$)")
_LEADING_ZH = re.compile(rf"(?:(?<=^)|(?<={_PUNCT}))(嗯+|呃+)")
MARKERS_ZH = ("那个", "这个", "就是", "然后")
_EN_FILLERS = re.compile(r"\b(um+|uh+|erm+|er|hmm+|you know)\b", re.IGNORECASE)
_EN_LIKE = re.compile(r"\blike\s*,", re.IGNORECASE)
_FILLER_UNITS = {"嗯", "呃", "额", "啊", "um", "uh", "er", "erm", "hmm", *MARKERS_ZH}


# --------------------------------------------------------------------------- reference bands


@dataclass(frozen=True)
class Band:
    """A reference range for one figure; ``None`` means open-ended."""

    low: float | None
    high: float | None
    unit: str
    source: str

    def verdict(self, value: float) -> str:
        """"low", "ok" or "high"."""
        if self.low is not None and value < self.low:
            return "low"
        if self.high is not None and value > self.high:
            return "high"
        return "ok"

    def text(self) -> str:
        """The band as shown to the user, e.g. "180–260" or "≤ 5"."""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}–{self.high:g}"
        return f"≤ {self.high:g}" if self.high is not None else f"≥ {self.low:g}"


BANDS: dict[str, Band] = {
    "rate_zh": Band(180, 260, "字/min", "typical Mandarin spontaneous answers (speaking rate)"),
    "rate_en": Band(120, 160, "wpm", "typical English conversational/presentation speech"),
    "fillers_per_min": Band(None, 5, "/min", "a common coaching target"),
    "length_ratio": Band(0.75, 1.25, "× target", "rehearse's rule of thumb around target_seconds"),
    "time_to_first_word_s": Band(None, 3, "s", "rehearse's rule of thumb: start within 3 s"),
}


# --------------------------------------------------------------------------- fillers


def count_fillers(text: str, pause_after: frozenset[int] | set[int] = frozenset()) -> Counter[str]:
    """Count filler words in a transcript (see the module docstring for the rules).

    ``pause_after`` holds character offsets of ``text`` after which a pause
    was measured: a discourse marker ending there counts as a filler.
    """
    t, pause_after = _nfkc_with_offsets(text, pause_after)
    counts: Counter[str] = Counter()
    seen_spans: set[tuple[int, int]] = set()
    for rx in (_STANDALONE_ZH, _LEADING_ZH):
        for m in rx.finditer(t):
            if m.span(1) in seen_spans:
                continue
            seen_spans.add(m.span(1))
            counts[m.group(1)[0]] += 1
    for marker in MARKERS_ZH:
        # repeated: 然后然后 counts one filler per extra repetition
        for m in re.finditer(f"(?:{marker}){{2,}}", t):
            counts[marker] += len(m.group(0)) // len(marker) - 1
        # followed by a pause mark or a measured pause
        for m in re.finditer(marker, t):
            if re.match(r"[，,、…]|\.\.\.", t[m.end():m.end() + 3]) or (m.end() - 1) in pause_after:
                counts[marker] += 1
    for m in _EN_FILLERS.finditer(t):
        counts[m.group(1).lower()] += 1
    for _ in _EN_LIKE.finditer(t):
        counts["like"] += 1
    return counts


def _nfkc_with_offsets(text: str, positions: frozenset[int] | set[int]) -> tuple[str, set[int]]:
    """NFKC-normalise ``text`` character by character, mapping ``positions`` to the new offsets."""
    out: list[str] = []
    mapped: set[int] = set()
    n = 0
    for i, ch in enumerate(text):
        norm = unicodedata.normalize("NFKC", ch)
        out.append(norm)
        n += len(norm)
        if i in positions:
            mapped.add(n - 1)
    return "".join(out), mapped


# --------------------------------------------------------------------------- repetitions

_MAX_HAN_UNIT, _MAX_WORD_UNIT = 6, 3
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+(?:['’][A-Za-z]+)?")


def count_repetitions(text: str) -> Counter[str]:
    """Immediate repeats and restarts: "we we", "我们我们", "我们，我们用" (see module docstring)."""
    toks = [(m.group(0).lower(), is_han(m.group(0))) for m in _TOKEN.finditer(unicodedata.normalize("NFKC", text))]
    counts: Counter[str] = Counter()
    i = 0
    while i < len(toks):
        step = 1
        for n in range(_MAX_HAN_UNIT, 0, -1):
            unit = toks[i:i + n]
            if len(unit) < n or toks[i + n:i + 2 * n] != unit:
                continue
            han = all(h for _, h in unit)
            if (han and n < 2) or (not han and (n > _MAX_WORD_UNIT or any(h for _, h in unit))):
                continue  # single Han characters (reduplication) and mixed units are not counted
            word = ("" if han else " ").join(w for w, _ in unit)
            if word in _FILLER_UNITS:
                continue
            counts[word] += 1
            step = n
            break
        i += step
    return counts


# --------------------------------------------------------------------------- timing


def pauses_between(regions: Sequence[tuple[float, float]]) -> list[float]:
    """Silences between consecutive (start, end) speech regions, in seconds."""
    ordered = sorted(regions)
    gaps = []
    for (_, end), (start, _) in zip(ordered, ordered[1:]):
        if start > end:
            gaps.append(start - end)
    return gaps


@dataclass(frozen=True)
class Timing:
    """Answer span and pauses (start, end) in seconds of the recording."""

    start: float
    end: float
    pauses: tuple[tuple[float, float], ...]


def timing_of(transcript: Transcript, speech_regions: Sequence[tuple[float, float]] | None,
              pad_s: float = VAD_PAD_S) -> Timing | None:
    """Where the answer starts and ends and where it pauses; None for typed text or no timing."""
    if speech_regions:
        regions = sorted(speech_regions)
        start = regions[0][0] + pad_s if regions[0][0] > 0 else 0.0
        end = regions[-1][1]
        if transcript.duration and end < transcript.duration - 1e-3:
            end -= pad_s
        # each region was widened by pad_s into the silence on both sides: undo it
        pauses = tuple((end - pad_s, nxt + pad_s) for (_, end), (nxt, _) in zip(regions, regions[1:])
                       if (nxt - end) + 2 * pad_s >= PAUSE_S - 0.01)
        return Timing(start, max(end, start), pauses)
    if transcript.engine == "text":
        return None
    spans = sorted((w.start, w.end) for w in transcript.words) or \
        sorted((s.start, s.end) for s in transcript.segments)
    spans = [s for s in spans if s[1] > s[0]]
    if not spans:
        return None
    silences: list[tuple[float, float]] = []
    reach = spans[0][1]
    for a, b in spans[1:]:
        if a - reach >= PAUSE_S - 0.01:
            silences.append((reach, a))
        reach = max(reach, b)
    return Timing(spans[0][0], reach, tuple(silences))


def _pause_positions(transcript: Transcript, pauses: Sequence[tuple[float, float]]) -> set[int]:
    """Offsets of the last character spoken before each pause (by word/segment timestamps)."""
    if not pauses:
        return set()
    from rehearse.transcript import char_times

    times = char_times(transcript)
    text = transcript.text
    content = [i for i, ch in enumerate(text) if ch.isalnum()]
    out = set()
    for a, b in pauses:
        mid = (a + b) / 2
        before = [i for i in content if times[i][1] > 0 and times[i][0] < mid]
        if before:
            out.add(before[-1])
    return out


# --------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Fluency:
    """Per-answer fluency figures (the JSON contract's ``fluency`` object; see module docstring)."""

    duration_s: float
    speech_rate: float
    rate_unit: str
    han_chars: int
    en_words: int
    filler_count: int
    fillers: dict[str, int] = field(default_factory=dict)
    fillers_per_min: float = 0.0
    long_pauses: int = 0
    longest_pause_s: float = 0.0
    target_seconds: float | None = None
    timed: bool = False
    answer_s: float = 0.0
    speaking_s: float = 0.0
    articulation_rate: float = 0.0
    han_per_min: float = 0.0
    en_per_min: float = 0.0
    pauses: int = 0
    pause_time_s: float = 0.0
    time_to_first_word_s: float | None = None
    repetitions: int = 0
    repeated: dict[str, int] = field(default_factory=dict)
    length_ratio: float | None = None
    #: filled pauses measured from the audio and the transcript (rehearse.hesitation); None when not measured
    #: (typed answers, attempts stored before rehearse measured them)
    filled_pauses: int | None = None
    filled_pauses_per_min: float | None = None
    #: [start s, end s, source (acoustic | transcript), covered_by (filler | none | word)] for each
    filled_pause_times: list[list[Any]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain dict of every figure (JSON-ready)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Fluency":
        """Rebuild from :meth:`to_dict` output, ignoring unknown keys (older or newer versions)."""
        names = {f.name for f in fields(cls)}
        base = {"duration_s": 0.0, "speech_rate": 0.0, "rate_unit": "units/min", "han_chars": 0, "en_words": 0,
                "filler_count": 0}
        return cls(**{**base, **{k: v for k, v in data.items() if k in names}})

    def checks(self, language: str) -> list[tuple[str, float, Band, str]]:
        """(figure name, value, band, verdict) for each figure that has a reference band."""
        out = []
        if self.timed and self.answer_s > 0:
            key = "rate_zh" if language == "zh" else "rate_en"
            rate = self.speech_rate if language == "zh" else self.en_per_min
            out.append((key, rate, BANDS[key], BANDS[key].verdict(rate)))
            out.append(("fillers_per_min", self.fillers_per_min, BANDS["fillers_per_min"],
                        BANDS["fillers_per_min"].verdict(self.fillers_per_min)))
        if self.time_to_first_word_s is not None:
            b = BANDS["time_to_first_word_s"]
            out.append(("time_to_first_word_s", self.time_to_first_word_s, b, b.verdict(self.time_to_first_word_s)))
        if self.length_ratio is not None:
            b = BANDS["length_ratio"]
            out.append(("length_ratio", self.length_ratio, b, b.verdict(self.length_ratio)))
        return out


def _per_min(n: float, seconds: float) -> float:
    return round(n * 60.0 / seconds, 1) if seconds > 0 else 0.0


def measure(transcript: Transcript, speech_regions: Sequence[tuple[float, float]] | None = None,
            *, target_seconds: float | None = None, vad_pad_s: float = VAD_PAD_S) -> Fluency:
    """Compute fluency figures for a transcript (and VAD speech regions, if known).

    ``vad_pad_s`` is the padding the VAD added to each side of a region
    (undone when measuring pauses). For typed text (no audio) the times and
    rates are 0 and ``timed`` is False.
    """
    text = transcript.text
    han = han_count(text)
    words = len(latin_words(text))
    timing = timing_of(transcript, speech_regions, vad_pad_s) if transcript.has_speech else None
    gaps = [b - a for a, b in timing.pauses] if timing else []
    answer = (timing.end - timing.start) if timing else 0.0
    speaking = max(answer - sum(gaps), 0.0)
    fillers = count_fillers(text, _pause_positions(transcript, timing.pauses) if timing else set())
    n_fillers = sum(fillers.values())
    reps = count_repetitions(text)
    return Fluency(
        duration_s=round(float(transcript.duration), 2),
        speech_rate=_per_min(han + words, answer),
        rate_unit="units/min",
        han_chars=han,
        en_words=words,
        filler_count=n_fillers,
        fillers=dict(fillers.most_common()),
        fillers_per_min=round(n_fillers * 60.0 / answer, 2) if answer > 0 else 0.0,
        long_pauses=sum(1 for g in gaps if g >= LONG_PAUSE_S),
        longest_pause_s=round(max(gaps), 2) if gaps else 0.0,
        target_seconds=target_seconds,
        timed=timing is not None,
        answer_s=round(answer, 2),
        speaking_s=round(speaking, 2),
        articulation_rate=_per_min(han + words, speaking),
        han_per_min=_per_min(han, answer),
        en_per_min=_per_min(words, answer),
        pauses=len(gaps),
        pause_time_s=round(sum(gaps), 2),
        time_to_first_word_s=round(timing.start, 2) if timing else None,
        repetitions=sum(reps.values()),
        repeated=dict(reps.most_common()),
        length_ratio=round(answer / target_seconds, 2) if timing and target_seconds else None,
    )

"""Fluency figures for one answer: length, speech rate, fillers, pauses.

Definitions (also in the README):

* **speech rate** — (Han characters + English words) per minute of the whole
  recording, reported in ``units/min``; Han characters and English words are
  also reported separately;
* **fillers** — zh: 嗯 呃 额 啊 when they stand alone (not inside a word or as a
  sentence-final particle), and the discourse markers 那个 这个 就是 然后 only
  where used as fillers: followed by a pause mark (，、… or a gap) or repeated
  (然后然后); en: um, uh, er, erm, hmm, "you know", and "like," set off by a
  comma;
* **pauses** — silences between speech regions found by voice activity
  detection when available, else gaps between word timestamps; a long pause
  is ≥ 1 s; leading and trailing silence are not pauses.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from rehearse.normalize import han_count, latin_words
from rehearse.transcript import Transcript

LONG_PAUSE_S = 1.0

_PUNCT = r"[，,。.！!？?、；;：:…\s—\-]"
_STANDALONE_ZH = re.compile(rf"(?:(?<=^)|(?<={_PUNCT}))(嗯+|呃+|额+|啊+)(?={_PUNCT}|$)")
_LEADING_ZH = re.compile(rf"(?:(?<=^)|(?<={_PUNCT}))(嗯+|呃+)")
_MARKERS_ZH = ("那个", "这个", "就是", "然后")
_EN_FILLERS = re.compile(r"\b(um+|uh+|erm+|er|hmm+|you know)\b", re.IGNORECASE)
_EN_LIKE = re.compile(r"\blike\s*,", re.IGNORECASE)


def count_fillers(text: str) -> Counter[str]:
    """Count filler words in a transcript (see module docstring for the rules)."""
    t = unicodedata.normalize("NFKC", text)
    counts: Counter[str] = Counter()
    seen_spans: set[tuple[int, int]] = set()
    for rx in (_STANDALONE_ZH, _LEADING_ZH):
        for m in rx.finditer(t):
            if m.span(1) in seen_spans:
                continue
            seen_spans.add(m.span(1))
            counts[m.group(1)[0]] += 1
    for marker in _MARKERS_ZH:
        # repeated: 然后然后 counts one filler per extra repetition
        for m in re.finditer(f"(?:{marker}){{2,}}", t):
            counts[marker] += len(m.group(0)) // len(marker) - 1
        # followed by a pause mark
        for m in re.finditer(f"{marker}(?=[，,、…]|\\.\\.\\.)", t):
            counts[marker] += 1
    for m in _EN_FILLERS.finditer(t):
        counts[m.group(1).lower()] += 1
    for _ in _EN_LIKE.finditer(t):
        counts["like"] += 1
    return counts


def pauses_between(regions: Sequence[tuple[float, float]]) -> list[float]:
    """Silences between consecutive (start, end) speech regions, in seconds."""
    ordered = sorted(regions)
    gaps = []
    for (_, end), (start, _) in zip(ordered, ordered[1:]):
        if start > end:
            gaps.append(start - end)
    return gaps


@dataclass(frozen=True)
class Fluency:
    """Per-answer fluency figures (the JSON contract's ``fluency`` object)."""

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

    def to_dict(self) -> dict:
        return asdict(self)


def measure(transcript: Transcript, speech_regions: Sequence[tuple[float, float]] | None = None,
            *, target_seconds: float | None = None) -> Fluency:
    """Compute fluency figures for a transcript (and VAD speech regions, if known).

    For typed text (no audio) the duration is 0 and rates are 0.
    """
    text = transcript.text
    han = han_count(text)
    words = len(latin_words(text))
    duration = float(transcript.duration)
    minutes = duration / 60.0
    fillers = count_fillers(text)
    n_fillers = sum(fillers.values())
    if speech_regions is not None:
        gaps = pauses_between(speech_regions)
    else:
        spans = [(w.start, w.end) for w in transcript.words] or [(s.start, s.end) for s in transcript.segments]
        gaps = pauses_between(spans) if transcript.engine != "text" else []
    long_gaps = [g for g in gaps if g >= LONG_PAUSE_S]
    return Fluency(
        duration_s=round(duration, 2),
        speech_rate=round((han + words) / minutes, 1) if minutes > 0 else 0.0,
        rate_unit="units/min",
        han_chars=han,
        en_words=words,
        filler_count=n_fillers,
        fillers=dict(fillers.most_common()),
        fillers_per_min=round(n_fillers / minutes, 2) if minutes > 0 else 0.0,
        long_pauses=len(long_gaps),
        longest_pause_s=round(max(gaps), 2) if gaps else 0.0,
        target_seconds=target_seconds,
    )

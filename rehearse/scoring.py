"""Coverage scoring: which key points of a rubric an answer covered, with evidence.

Coverage = Σ weight·credit / Σ weight, where credit is 1 or 0 for an ``any``
point and the fraction of groups said for an ``all`` point. A point counts as
covered when its credit is at least 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

from rehearse.matching import Match, Matcher
from rehearse.rubric import Point, Question
from rehearse.transcript import Transcript

COVERED_AT = 0.5


@dataclass(frozen=True)
class Evidence:
    """Where in the transcript a point (or one group of it) was heard."""

    text: str
    phrase: str
    similarity: float
    start: float | None
    end: float | None
    char_start: int
    char_end: int
    by: str = "chars"

    def to_dict(self) -> dict:
        return {"text": self.text, "phrase": self.phrase, "similarity": self.similarity,
                "start": self.start, "end": self.end, "by": self.by}


@dataclass(frozen=True)
class PointResult:
    """The verdict on one key point."""

    id: str
    label: str
    weight: float
    credit: float
    evidence: Evidence | None
    groups: tuple[Evidence | None, ...] = ()
    missing: tuple[str, ...] = ()  # for `all` points: the first phrase of each group not said

    @property
    def covered(self) -> bool:
        return self.credit >= COVERED_AT

    @property
    def status(self) -> str:
        if self.credit >= 1.0:
            return "covered"
        return "partial" if self.credit > 0 else "missed"


@dataclass(frozen=True)
class Score:
    """Coverage of one answer against one question's rubric."""

    question: Question
    coverage: float
    points: tuple[PointResult, ...]

    @property
    def covered(self) -> tuple[PointResult, ...]:
        return tuple(p for p in self.points if p.covered)

    @property
    def missed(self) -> tuple[PointResult, ...]:
        return tuple(p for p in self.points if not p.covered)


def char_times(transcript: Transcript) -> list[tuple[float, float]]:
    """For each character of ``transcript.text``: the (start, end) time it was spoken.

    Uses word timestamps where the engine gave them, else spreads each
    segment's time evenly over its characters.
    """
    text = transcript.text
    times: list[tuple[float, float]] = [(0.0, 0.0)] * len(text)
    cursor = 0
    for seg in transcript.segments:
        st = seg.text.strip()
        if not st:
            continue
        pos = text.find(st, cursor)
        if pos < 0:
            continue
        span = max(len(st), 1)
        for i in range(len(st)):
            t0 = seg.start + (seg.end - seg.start) * i / span
            t1 = seg.start + (seg.end - seg.start) * (i + 1) / span
            times[pos + i] = (t0, t1)
        wc = pos
        for w in seg.words:
            wt = w.text.strip()
            if not wt:
                continue
            wpos = text.find(wt, wc, pos + len(st))
            if wpos < 0:
                continue
            for i in range(wpos, wpos + len(wt)):
                times[i] = (w.start, w.end)
            wc = wpos + len(wt)
        cursor = pos + len(st)
    return times


def _evidence(match: Match, times: list[tuple[float, float]] | None) -> Evidence:
    start = end = None
    if times and match.end > match.start:
        start = round(times[match.start][0], 2)
        end = round(times[match.end - 1][1], 2)
    return Evidence(text=match.text, phrase=match.phrase, similarity=match.similarity,
                    start=start, end=end, char_start=match.start, char_end=match.end, by=match.by)


def score_point(point: Point, matcher: Matcher, times: list[tuple[float, float]] | None) -> PointResult:
    """Score one point against a prepared matcher."""
    found = [matcher.find_any(group) for group in point.groups]
    evidence = tuple(_evidence(m, times) if m else None for m in found)
    said = [e for e in evidence if e is not None]
    if point.mode == "any":
        credit = 1.0 if said else 0.0
    else:
        credit = len(said) / len(point.groups) if point.groups else 0.0
    best = max(said, key=lambda e: e.similarity) if said else None
    if point.mode == "all" and said:
        best = min(said, key=lambda e: e.char_start)
    missing = tuple(g[0] for g, e in zip(point.groups, evidence) if e is None) if point.mode == "all" else ()
    return PointResult(id=point.id, label=point.label, weight=point.weight, credit=round(credit, 4),
                       evidence=best, groups=evidence if point.mode == "all" else (), missing=missing)


def score(question: Question, transcript: Transcript) -> Score:
    """Score a transcript against a question's rubric."""
    matcher = Matcher(transcript.text)
    timed = any(s.end > 0 for s in transcript.segments) and transcript.engine != "text"
    times = char_times(transcript) if timed else None
    results = tuple(score_point(p, matcher, times) for p in question.points)
    total = sum(r.weight for r in results)
    coverage = sum(r.weight * r.credit for r in results) / total if total else 0.0
    return Score(question=question, coverage=round(coverage, 4), points=results)

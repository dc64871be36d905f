"""Coverage scoring: which key points of a rubric an answer covered, with evidence.

Coverage = Σ weight·credit / Σ weight, where credit is 1 or 0 for an ``any``
point and the fraction of groups said for an ``all`` point. A point counts as
covered when its credit is at least 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rehearse.matching import Match, Matcher
from rehearse.rubric import Point, Question
from rehearse.transcript import Transcript, char_times

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
        """The evidence as JSON (``by``: chars, sound, meaning, learned or llm)."""
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
    #: which pass decided it was covered: "phrase", "meaning", "learned", "llm"; "" when it was not
    by: str = ""
    #: words that contradict the point, said near its evidence: the point is shown "unsure — check", not counted
    unsure: Evidence | None = None

    @property
    def covered(self) -> bool:
        return self.credit >= COVERED_AT

    @property
    def status(self) -> str:
        """covered, partial, missed, or unsure (the evidence is contradicted: check it yourself)."""
        if self.unsure is not None:
            return "unsure"
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



def evidence_from(match: Match, times: list[tuple[float, float]] | None) -> Evidence:
    """Evidence for a match, timed from ``times`` (per character) when there are any."""
    start = end = None
    if times and match.end > match.start:
        start = round(times[match.start][0], 2)
        end = round(times[match.end - 1][1], 2)
    return Evidence(text=match.text, phrase=match.phrase, similarity=match.similarity,
                    start=start, end=end, char_start=match.start, char_end=match.end, by=match.by)


def fill_groups(point: Point, matcher: Matcher, alternatives: Sequence[Sequence[str]],
                found: Sequence[tuple[int, int] | None], strict: bool = False) -> list[Match | None]:
    """Matches for the groups of ``point`` not yet ``found`` (the text spans of those already said).

    A plain group takes its best match anywhere; a ``near`` group (a word that
    only means the point in company, like 编码器 for a momentum encoder) only a
    match within :data:`~rehearse.matching.NEAR_WINDOW` words of any place where
    another group was said. ``strict``: English words must match exactly (the
    meaning pass's rewordings).
    """
    new: list[Match | None] = [None] * len(alternatives)
    anchors: list[tuple[int, int]] = []
    for i, alts in enumerate(alternatives):
        if i in point.near:
            continue
        if found[i] is None and alts:
            new[i] = matcher.find_any(alts, strict)
        if found[i] is not None or new[i] is not None:  # every place this group was said can anchor a near group
            phrases = tuple(point.groups[i]) + tuple(alts)
            anchors += [(m.start, m.end) for ph in phrases for m in matcher.find_all(ph, strict)]
            if (span := found[i]) is not None:
                anchors.append(span)
    for i in sorted(point.near):
        if found[i] is None and anchors and alternatives[i]:
            new[i] = matcher.find_near(alternatives[i], anchors, strict=strict)
    return new


def point_result(point: Point, evidence: Sequence[Evidence | None], by: str) -> PointResult:
    """The verdict from the evidence of each group (``by``: the pass that found what was not found before)."""
    said = [e for e in evidence if e is not None]
    if point.mode == "any":
        credit = 1.0 if said else 0.0
        best = max(said, key=lambda e: e.similarity) if said else None
    else:
        credit = len(said) / len(point.groups) if point.groups else 0.0
        best = min(said, key=lambda e: e.char_start) if said else None
    missing = tuple(g[0] for g, e in zip(point.groups, evidence) if e is None) if point.mode == "all" else ()
    return PointResult(id=point.id, label=point.label, weight=point.weight, credit=round(credit, 4),
                       evidence=best, groups=tuple(evidence) if point.mode == "all" else (), missing=missing,
                       by=by if credit >= COVERED_AT else "")


def score_point(point: Point, matcher: Matcher, times: list[tuple[float, float]] | None) -> PointResult:
    """Score one point by its literal phrases against a prepared matcher."""
    found = fill_groups(point, matcher, point.groups, [None] * len(point.groups))
    return point_result(point, [evidence_from(m, times) if m else None for m in found], "phrase")


def coverage_of(results: tuple[PointResult, ...]) -> float:
    """Σ weight·credit / Σ weight, rounded to 4 places (0 with no points)."""
    total = sum(r.weight for r in results)
    return round(sum(r.weight * r.credit for r in results) / total, 4) if total else 0.0


def timing(transcript: Transcript) -> list[tuple[float, float]] | None:
    """Per-character times of a transcript, or None for typed text (no timing)."""
    timed = any(s.end > 0 for s in transcript.segments) and transcript.engine != "text"
    return char_times(transcript) if timed else None


def score(question: Question, transcript: Transcript, matcher: Matcher | None = None) -> Score:
    """Score a transcript against a question's rubric: the phrase pass."""
    matcher = matcher or Matcher(transcript.text)
    times = timing(transcript)
    results = tuple(score_point(p, matcher, times) for p in question.points)
    return Score(question=question, coverage=coverage_of(results), points=results)

"""Progress across sessions: coverage trends, most-missed key points, fluency trends,
sparklines (when questions are due again: :mod:`rehearse.schedule`).

Everything here reads :class:`~rehearse.store.AttemptRecord` lists, so it is
pure and testable on a seeded history. Only scored attempts count (a
recording with no speech, or one not scored yet, is history but not progress);
each attempt counts with its *current* result (after a rescore, the new one).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rehearse.store import AttemptRecord

TREND_WINDOW = 5          # attempts the trend is fitted over
TREND_STEP = 0.03         # coverage change per attempt that counts as a trend
FLUENCY_METRICS = ("speech_rate", "en_per_min", "fillers_per_min", "longest_pause_s", "pauses",
                   "time_to_first_word_s", "repetitions", "filled_pauses_per_min")
_SPARKS = "▁▂▃▄▅▆▇█"


def scored(attempts: Iterable[AttemptRecord]) -> list[AttemptRecord]:
    """The attempts that count for progress: status scored, with a current result, oldest first."""
    return sorted((a for a in attempts if a.status == "scored" and a.result is not None),
                  key=lambda a: (a.created_at, a.id))


def sparkline(values: Sequence[float | None], lo: float | None = None, hi: float | None = None) -> str:
    """A one-line chart of ``values`` ("▁▃▅█"); ``None`` is shown as a space.

    ``lo``/``hi`` fix the scale (e.g. 0 and 1 for coverage); by default the
    values' own range is used.
    """
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    lo = min(known) if lo is None else lo
    hi = max(known) if hi is None else hi
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append(" ")
            continue
        frac = 0.5 if span <= 0 else min(max((v - lo) / span, 0.0), 1.0)
        out.append(_SPARKS[round(frac * (len(_SPARKS) - 1))])
    return "".join(out)


def slope(values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` against their index (change per attempt)."""
    n = len(values)
    if n < 2:
        return 0.0
    mx = (n - 1) / 2
    my = sum(values) / n
    den = sum((i - mx) ** 2 for i in range(n))
    return sum((i - mx) * (v - my) for i, v in enumerate(values)) / den


def trend_word(values: Sequence[float], step: float = TREND_STEP) -> str:
    """"improving", "slipping" or "steady" over the last :data:`TREND_WINDOW` values ("new" if < 2)."""
    if len(values) < 2:
        return "new"
    s = slope(values[-TREND_WINDOW:])
    return "improving" if s >= step else "slipping" if s <= -step else "steady"


@dataclass(frozen=True)
class PointMiss:
    """How often one key point of a question was missed."""

    question_id: str
    point_id: str
    label: str
    missed: int
    answers: int

    @property
    def rate(self) -> float:
        return self.missed / self.answers if self.answers else 0.0

    def sentence(self) -> str:
        """The user-facing line, e.g. "你在 3d-ssgan 的 5 次回答里 4 次漏掉了『你的角色』"."""
        return f"你在 {self.question_id} 的 {self.answers} 次回答里 {self.missed} 次漏掉了『{self.label}』"


@dataclass(frozen=True)
class QuestionProgress:
    """One question's record over its scored attempts."""

    question_id: str
    bank: str
    tags: tuple[str, ...]
    attempts: tuple[AttemptRecord, ...]
    misses: tuple[PointMiss, ...]

    @property
    def coverages(self) -> list[float]:
        return [a.coverage or 0.0 for a in self.attempts]

    @property
    def last(self) -> float:
        return self.coverages[-1]

    @property
    def best(self) -> float:
        return max(self.coverages)

    @property
    def first(self) -> float:
        return self.coverages[0]

    @property
    def last_at(self) -> datetime:
        return self.attempts[-1].created_at

    @property
    def trend(self) -> str:
        return trend_word(self.coverages)

    @property
    def sparkline(self) -> str:
        return sparkline(self.coverages, 0.0, 1.0)


def point_misses(question_id: str, attempts: Sequence[AttemptRecord]) -> list[PointMiss]:
    """Per key point: in how many of the answers it was judged (current result) it was not covered.

    Points are matched by id across rubric edits; the label shown is the latest.
    Sorted most missed first (then by rate, then id).
    """
    counts: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for a in attempts:
        for p in a.result.points if a.result else ():
            c = counts.setdefault(p.id, [0, 0])
            c[1] += 1
            c[0] += 0 if p.covered else 1
            labels[p.id] = p.label
    out = [PointMiss(question_id, pid, labels[pid], m, n) for pid, (m, n) in counts.items()]
    return sorted(out, key=lambda pm: (-pm.missed, -pm.rate, pm.point_id))


def question_progress(attempts: Iterable[AttemptRecord]) -> list[QuestionProgress]:
    """Progress per question over the scored attempts given, most recently practised first."""
    by_q: dict[str, list[AttemptRecord]] = {}
    for a in scored(attempts):
        by_q.setdefault(a.question_id, []).append(a)
    out = [QuestionProgress(question_id=qid, bank=atts[-1].bank, tags=atts[-1].tags, attempts=tuple(atts),
                            misses=tuple(point_misses(qid, atts)))
           for qid, atts in by_q.items()]
    return sorted(out, key=lambda p: (p.last_at, p.question_id), reverse=True)


def most_missed(progress: Iterable[QuestionProgress], limit: int = 5, min_answers: int = 2) -> list[PointMiss]:
    """The key points missed most often across questions (in at least ``min_answers`` answers)."""
    misses = [m for p in progress for m in p.misses if m.answers >= min_answers and m.missed > 0]
    return sorted(misses, key=lambda m: (-m.missed, -m.rate, m.question_id, m.point_id))[:limit]


def fluency_series(attempts: Iterable[AttemptRecord], metric: str) -> list[tuple[datetime, float]]:
    """(time, value) of one fluency figure over timed scored attempts (typed answers have no fluency)."""
    out = []
    for a in scored(attempts):
        f = a.fluency
        if f.get("timed") and f.get(metric) is not None:
            out.append((a.created_at, float(f[metric])))
    return out


def fluency_trends(attempts: Sequence[AttemptRecord]) -> dict[str, list[float]]:
    """Values of each fluency figure in :data:`FLUENCY_METRICS` over the timed attempts, oldest first."""
    return {m: [v for _, v in fluency_series(attempts, m)] for m in FLUENCY_METRICS}


def fluency_baseline(attempts: Iterable[AttemptRecord], *, language: str | None = None,
                     last: int = 10) -> dict[str, float]:
    """The user's usual fluency: the median of each figure over their last ``last`` timed answers."""
    timed = [a for a in scored(attempts) if a.fluency.get("timed") and (language is None or a.language == language)]
    timed = timed[-last:]
    out: dict[str, float] = {}
    for m in FLUENCY_METRICS:
        vals = [float(a.fluency[m]) for a in timed if a.fluency.get(m) is not None]
        if vals:
            out[m] = statistics.median(vals)
    return out

"""Corrections: the user's own verdict on a key point, beside the machine's.

"I said that" (``said``) or "that doesn't count" (``not_said``) is stored with the
attempt; the machine's verdict is kept. A "said" correction with the span of the
transcript that expressed the point also teaches the rubric that wording
(:mod:`rehearse.learned`), so the next answer worded the same way counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process

from rehearse import learned
from rehearse.errors import UsageError
from rehearse.matching import Matcher
from rehearse.store import Store


@dataclass(frozen=True)
class CorrectionResult:
    """What a correction changed."""

    attempt_id: int
    question_id: str
    point_id: str
    label: str
    verdict: str  # said | not_said
    machine_status: str  # what the scorer had said: covered | partial | missed | unsure
    coverage_before: float | None
    coverage_after: float | None
    span: str | None = None  # the transcript's words, as found
    learned: bool = False  # the span became a new learned wording


def correct(store: Store, attempt_id: int, point_id: str, *, said: bool, span: str | None = None) -> CorrectionResult:
    """Record the user's verdict on one point of a stored attempt (and learn the span when ``said``).

    Everything is checked before anything is written: the attempt must exist
    and be scored, the point must be one of its question's, and the span must
    be found in its transcript (by the same sound-tolerant matcher).
    """
    attempt = store.attempt(attempt_id)  # UnknownAttemptError, one line
    result = attempt.result
    if result is None:
        raise UsageError(f"attempt #{attempt_id} has no result yet: score it first with "
                         f"'rehearse score --attempt {attempt_id}'.")
    points = {p.id: p for p in result.points}
    point = points.get(point_id)
    if point is None:
        close = [m[0] for m in process.extract(point_id, list(points), limit=3, score_cutoff=50)]
        hint = f" Did you mean: {', '.join(close)}?" if close else f" Its points: {', '.join(points)}."
        raise UsageError(f"attempt #{attempt_id} ({attempt.question_id}) has no point '{point_id}'.{hint}")
    found: str | None = None
    if span is not None:
        if not said:
            raise UsageError("--span goes with --said: it is the words that expressed the point.")
        if not span.strip():
            raise UsageError("--span is empty: give the words from the transcript that expressed the point.")
        m = Matcher(attempt.text).find(span.strip())
        if m is None:
            raise UsageError(f"--span {span.strip()!r} is not in attempt #{attempt_id}'s transcript; "
                             "copy the words as they appear in the report.")
        found = m.text
    before = attempt.coverage
    if found:
        learned.load()  # an overlay broken by hand fails here, before anything is stored
    store.add_correction(attempt_id, point_id, "said" if said else "not_said", found)
    learned_new = learned.add(attempt.question_id, point_id, found) if found else False
    after = store.attempt(attempt_id).coverage
    return CorrectionResult(attempt_id, attempt.question_id, point_id, point.label, "said" if said else "not_said",
                            point.status, before, after, found, learned_new)

"""What the history holds, as typed records: attempts, their results, per-point verdicts.

A point may carry the user's own verdict (``human``: "said" or "not_said", from
``rehearse correct``) beside the machine's; everything that reads the history
(progress, most-missed, the practice order) goes by the human one where present.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rehearse.transcript import Transcript

COVERED_AT = 0.5  # same threshold as rehearse.scoring.COVERED_AT


def unsure_reason(text: str, by: str) -> str:
    """Why a point is "unsure — check", in words, from the evidence that made it so (its text and ``by``)."""
    if by == "off-topic":
        return f"the answer is mostly about {text}, which this question's rubric never mentions"
    return f"you also said “{text}”"


@dataclass(frozen=True)
class PointRecord:
    """The stored verdict on one key point."""

    id: str
    label: str
    weight: float
    credit: float
    status: str  # covered | partial | missed | unsure
    evidence: dict[str, Any] | None
    missing: tuple[str, ...] = ()
    #: the user's verdict from ``rehearse correct``: "said", "not_said", or None (none given)
    human: str | None = None
    #: for an "unsure — check" point: what made it unsure (the evidence JSON, ``by`` "off-topic" for an
    #: answer about other models)
    unsure: dict[str, Any] | None = None

    @property
    def doubted(self) -> bool:
        """The scorer marked it "unsure — check" and the user has not given their own verdict."""
        return self.unsure is not None and self.human is None

    @property
    def unsure_reason(self) -> str | None:
        """Why the scorer marked the point "unsure — check", in words; None when it did not."""
        if not self.unsure:
            return None
        return unsure_reason(str(self.unsure.get("text", "")), str(self.unsure.get("by", "")))

    @property
    def machine_covered(self) -> bool:
        """What the scorer decided."""
        return self.credit >= COVERED_AT

    @property
    def covered(self) -> bool:
        """The verdict that counts: the user's where given, else the scorer's."""
        if self.human is not None:
            return self.human == "said"
        return self.machine_covered

    @property
    def effective_credit(self) -> float:
        """Credit with the user's verdict applied (1 said, 0 not said)."""
        if self.human is not None:
            return 1.0 if self.human == "said" else 0.0
        return self.credit


@dataclass(frozen=True)
class ResultRecord:
    """One stored scoring of an attempt (an attempt may have several after rescoring)."""

    id: int
    attempt_id: int
    created_at: datetime
    rubric_hash: str
    coverage: float
    current: bool
    points: tuple[PointRecord, ...]
    fluency: dict[str, Any]
    data: dict[str, Any]  # the complete Assessment.to_json() at the time
    #: the coverage the scorer computed; ``coverage`` applies the user's corrections to it
    machine_coverage: float | None = None

    @property
    def missed(self) -> tuple[PointRecord, ...]:
        return tuple(p for p in self.points if not p.covered)


@dataclass(frozen=True)
class AttemptRecord:
    """One stored answer, with all its results (oldest first)."""

    id: int
    created_at: datetime
    question_id: str
    bank: str
    question_text: str
    language: str
    tags: tuple[str, ...]
    status: str
    session_id: int | None
    audio_path: Path | None
    transcript: Transcript | None
    speech: tuple[tuple[float, float], ...]
    engine: str
    model: str
    timings: dict[str, float]
    target_seconds: float | None
    results: tuple[ResultRecord, ...] = ()
    note: str = ""      # why it was kept without a score (not_scored attempts)

    @property
    def result(self) -> ResultRecord | None:
        """The current result (the newest scoring), or None if never scored."""
        current = [r for r in self.results if r.current]
        return current[-1] if current else (self.results[-1] if self.results else None)

    @property
    def coverage(self) -> float | None:
        return self.result.coverage if self.result else None

    @property
    def rubric_hash(self) -> str | None:
        return self.result.rubric_hash if self.result else None

    @property
    def fluency(self) -> dict[str, Any]:
        return self.result.fluency if self.result else {}

    @property
    def text(self) -> str:
        return self.transcript.text if self.transcript else ""


@dataclass(frozen=True)
class SessionRecord:
    """A practice session."""

    id: int
    kind: str
    started_at: datetime
    ended_at: datetime | None

"""The rubric's data types: a bank, its questions and their key points (loaded by :mod:`rehearse.rubric`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PointMeaning:
    """What the meaning pass may accept for a point besides its literal phrases.

    ``groups``: per phrase group, the rewordings the concept lexicon gives
    (the group's own phrases excluded); ``descriptions``: ways of saying the
    point without naming it, each a tuple of parts (each part a tuple of
    alternatives) that must all be said close together; ``learned``: the
    user's own wordings, from "I said that" corrections, each worth the whole
    point.
    """

    groups: tuple[tuple[str, ...], ...] = ()
    descriptions: tuple[tuple[tuple[str, ...], ...], ...] = ()
    learned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Point:
    """One key point of a rubric.

    ``groups`` is a tuple of phrase groups: for an ``any`` point a single
    group (covered if any phrase is said); for an ``all`` point one group per
    required element (partial credit per group said). ``meaning`` holds what
    the second, meaning pass may also accept (:mod:`rehearse.meaning`).
    """

    id: str
    label: str
    groups: tuple[tuple[str, ...], ...]
    mode: str = "any"  # "any" | "all"
    weight: float = 1.0
    meaning: PointMeaning = PointMeaning()
    #: indexes of ``all`` groups written ``{near: [...]}``: they count only when said near another group
    near: frozenset[int] = frozenset()
    #: common wrong versions of the point: said near its evidence, the point is "unsure — check", not covered
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """One interview question with its rubric."""

    id: str
    question: str
    language: str
    points: tuple[Point, ...]
    bank: str = ""
    source: str = ""
    line: int = 0
    tags: tuple[str, ...] = ()
    target_seconds: float | None = None
    reference: str = ""
    draft: bool = False

    @property
    def rubric_hash(self) -> str:
        """A short hash of what scoring depends on (points, phrases, weights, language)."""
        payload = {
            "language": self.language,
            "points": [[p.id, p.mode, p.weight, [list(g) for g in p.groups], sorted(p.near), list(p.unless),
                        [list(g) for g in p.meaning.groups], [[list(a) for a in d] for d in p.meaning.descriptions],
                        list(p.meaning.learned)] for p in self.points],
        }
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Bank:
    """A loaded question bank (one YAML file)."""

    id: str
    title: str
    language: str
    path: Path
    questions: tuple[Question, ...] = field(default_factory=tuple)

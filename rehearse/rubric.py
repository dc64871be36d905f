"""Question banks: the YAML format users write, loaded and validated.

A bank is one YAML file::

    title: 多模态 / 生成模型 实习面试
    language: zh                  # default answer language: zh | en
    tags: [papers]                # optional, added to every question
    questions:
      - id: 3d-ssgan              # unique, [a-z0-9-]+
        question: 介绍一下你的工作 3D-SSGAN。
        language: zh              # optional override
        tags: [paper, 3d]         # optional
        target_seconds: 120       # optional ideal answer length
        draft: false              # optional: rubric still to be written
        points:
          - id: lifting
            label: 2D-to-3D lifting
            weight: 2             # optional, default 1
            any: ["2D-to-3D lifting", "提升到三维"]
          - id: rendering
            label: 体渲染出图像和语义掩码
            all:
              - ["体渲染", "volume rendering"]
              - ["掩码", "mask"]
        reference: |
          ...

Loading reports **every** problem at once, each as
``file:line: question 'id': field: message``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process

from rehearse.errors import RubricError, UnknownQuestionError
from rehearse.paths import shipped_bank_dir
from rehearse.rubric_parse import LANGUAGES, parse_bank
from rehearse.rubric_types import Bank, Point, PointMeaning, Question

__all__ = ["LANGUAGES", "Bank", "Library", "Point", "PointMeaning", "Question", "load_bank", "load_library",
           "parse_bank", "shipped_bank_paths"]


def load_bank(path: str | os.PathLike[str]) -> Bank:
    """Load and validate one bank file; raise :class:`RubricError` listing every problem."""
    p = Path(path)
    if not p.is_file():
        raise RubricError([f"{p}: no such question bank file"])
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RubricError([f"{p}:1: not UTF-8 text"]) from None
    bank, problems = parse_bank(text, p)
    if bank is None:
        raise RubricError(problems)
    return bank




def shipped_bank_paths() -> list[Path]:
    """Every shipped bank file, sorted."""
    d = shipped_bank_dir()
    return sorted(list(d.glob("*.yaml")) + list(d.glob("*.yml"))) if d.is_dir() else []


@dataclass(frozen=True)
class Library:
    """All loaded banks, indexed by question id."""

    banks: tuple[Bank, ...]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for b in self.banks for q in b.questions)

    def get(self, question_id: str) -> Question:
        """The question with this id; :class:`UnknownQuestionError` with suggestions if none."""
        for q in self.questions:
            if q.id == question_id:
                return q
        ids = [q.id for q in self.questions]
        close = [m[0] for m in process.extract(question_id, ids, limit=3, score_cutoff=60)]
        raise UnknownQuestionError(question_id, close)

    def filter(self, tags: Sequence[str] = ()) -> tuple[Question, ...]:
        """Questions carrying any of ``tags`` (all questions when no tag is given)."""
        if not tags:
            return self.questions
        want = set(tags)
        return tuple(q for q in self.questions if want & set(q.tags))


def load_library(extra: Iterable[str | os.PathLike[str]] = (), *, shipped: bool = True) -> Library:
    """Load the shipped banks (unless ``shipped=False``) and the user's ``extra`` banks.

    Every bank is validated and all problems are reported together. A user
    bank may redefine a shipped question id (the user's version wins); two
    user banks, or two shipped banks, defining the same id is an error.
    """
    problems: list[str] = []
    loaded: list[tuple[Bank, bool]] = []
    paths = [(p, True) for p in (shipped_bank_paths() if shipped else [])]
    paths += [(Path(p), False) for p in extra]
    for path, is_shipped in paths:
        try:
            loaded.append((load_bank(path), is_shipped))
        except RubricError as exc:
            problems.extend(exc.problems)
    owner: dict[str, tuple[Bank, bool]] = {}
    overridden: set[str] = set()
    for bank, is_shipped in loaded:
        for q in bank.questions:
            prev = owner.get(q.id)
            if prev is not None and prev[1] == is_shipped:
                problems.append(f"{bank.path}:{q.line}: question '{q.id}': id: also defined in {prev[0].path}")
            elif prev is not None:
                overridden.add(q.id)
            if prev is None or not is_shipped:
                owner[q.id] = (bank, is_shipped)
    if problems:
        raise RubricError(problems)
    banks = []
    for bank, is_shipped in loaded:
        if is_shipped and overridden:
            kept = tuple(q for q in bank.questions if q.id not in overridden)
            bank = Bank(bank.id, bank.title, bank.language, bank.path, kept)
        banks.append(bank)
    return Library(tuple(banks))

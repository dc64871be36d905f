"""Parsing and validation of a question bank's YAML (the format is described in :mod:`rehearse.rubric`).

Every problem is collected, each as ``file:line: question 'id': field: message``,
so a bank with several mistakes is reported in one go.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from rehearse.lexicon import Lexicon, parse_concepts, shipped_lexicon
from rehearse.normalize import has_content, printable, split_gap
from rehearse.rubric_types import Bank, Point, PointMeaning, Question
from rehearse.yaml_lines import LineList, line_of
from rehearse.yaml_lines import load as load_yaml

LANGUAGES = ("zh", "en")
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BANK_KEYS = {"title", "language", "tags", "questions", "description", "concepts"}
_QUESTION_KEYS = {"id", "question", "language", "tags", "target_seconds", "points",
                  "reference", "draft", "notes"}
_POINT_KEYS = {"id", "label", "weight", "any", "all", "note", "describe", "unless"}


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, line: int, where: str, msg: str) -> None:
        self.items.append(f"{self.path}:{line}: {where}{msg}")


def _phrases(value: Any, probs: _Problems, line: int, where: str, lex: Lexicon) -> tuple[str, ...] | None:
    """A non-empty list of phrases; ``@concept`` references become the concept's wordings."""
    if not isinstance(value, list) or not value:
        probs.add(line, where, "must be a non-empty list of phrases")
        return None
    out: list[str] = []
    for i, ph in enumerate(value):
        ln = value.item_lines[i] if isinstance(value, LineList) else line
        if isinstance(ph, (int, float)) and not isinstance(ph, bool):
            ph = str(ph)
        if not isinstance(ph, str) or not ph.strip():
            probs.add(ln, where, f"phrase {i + 1} must be non-empty text")
            continue
        if lex.unknown_refs([ph]):
            probs.add(ln, where, f"{ph.strip()!r} names no concept (see rehearse/data/concepts.yaml, "
                                 "or add it under the bank's concepts:)")
            continue
        if not all(has_content(part) for part in split_gap(ph)) or not split_gap(ph):
            probs.add(ln, where, f"phrase {ph!r} has a part with no letters, digits or Chinese characters")
            continue
        out.extend(lex.resolve(printable(ph.strip())))
    return tuple(dict.fromkeys(out)) if out else None


def _describe(value: Any, probs: _Problems, line: int, where: str,
              lex: Lexicon) -> tuple[tuple[tuple[str, ...], ...], ...] | None:
    """``describe:``: a list of descriptions, each a list of parts (a phrase, or a list of alternatives)."""
    if not isinstance(value, list) or not value:
        probs.add(line, where, "must be a non-empty list of descriptions, each a list of parts")
        return None
    out = []
    for i, desc in enumerate(value):
        ln = value.item_lines[i] if isinstance(value, LineList) else line
        if not isinstance(desc, list) or not desc:
            probs.add(ln, where, f"description {i + 1} must be a non-empty list of parts")
            return None
        parts = []
        for j, part in enumerate(desc):
            pln = desc.item_lines[j] if isinstance(desc, LineList) else ln
            alts = _phrases(part if isinstance(part, list) else [part], probs, pln,
                            where + f"description {i + 1} part {j + 1}: ", lex)
            if alts is None:
                return None
            parts.append(alts)
        out.append(tuple(parts))
    return tuple(out)


def _point_meaning(groups: tuple[tuple[str, ...], ...], describe: tuple[tuple[tuple[str, ...], ...], ...],
                   lex: Lexicon) -> PointMeaning:
    """The rewordings the lexicon gives each group, and the descriptions with their parts reworded."""

    def reword(phrases: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for ph in phrases for w in lex.expand(ph)))

    return PointMeaning(
        groups=tuple(tuple(w for w in reword(g) if w not in g) for g in groups),
        descriptions=tuple(tuple(reword(part) for part in d) for d in describe))


def _unknown_keys(raw: dict, allowed: set[str], where: str, probs: _Problems) -> bool:
    """Report keys outside ``allowed``; True if there were none."""
    ok = True
    for key in raw:
        if key not in allowed:
            probs.add(line_of(raw, key), where, f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")
            ok = False
    return ok


def _known_keys_and_id(raw: dict, allowed: set[str], where: str, probs: _Problems) -> bool:
    """Check a question's or point's keys and its id; True if both are fine."""
    ok = _unknown_keys(raw, allowed, where, probs)
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        probs.add(line_of(raw, "id"), where, "id: required, lower-case letters, digits and hyphens ([a-z0-9-]+)")
        ok = False
    return ok


def _required_text(raw: dict[str, Any], key: str, where: str, probs: _Problems) -> bool:
    """Whether ``raw[key]`` is non-blank text; if not, the problem is recorded at its line."""
    value = raw.get(key)
    if isinstance(value, str) and value.strip():
        return True
    probs.add(line_of(raw, key), where, f"{key}: required text")
    return False


def _parse_point(raw: Any, line: int, qwhere: str, probs: _Problems, lex: Lexicon) -> Point | None:
    if not isinstance(raw, dict):
        probs.add(line, qwhere, "points: each point must be a mapping with id, label and any/all")
        return None
    pid = raw.get("id")
    pwhere = f"{qwhere}point '{pid}': " if pid is not None else f"{qwhere}point at line {line}: "
    ok = _known_keys_and_id(raw, _POINT_KEYS, pwhere, probs)
    label = raw.get("label")
    if not _required_text(raw, "label", pwhere, probs):
        ok = False
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight < float("inf"):
        probs.add(line_of(raw, "weight"), pwhere, "weight: must be a positive number")  # NaN fails 0 < NaN
        ok = False
    has_any, has_all = "any" in raw, "all" in raw
    groups: tuple[tuple[str, ...], ...] = ()
    mode = "any"
    near: set[int] = set()
    if has_any == has_all:
        probs.add(line_of(raw), pwhere, "needs exactly one of 'any' or 'all'" +
                  (" (it has both)" if has_any else " (it has neither)"))
        ok = False
    elif has_any:
        g = _phrases(raw["any"], probs, line_of(raw, "any"), pwhere + "any: ", lex)
        ok = ok and g is not None
        groups = (g,) if g else ()
    else:
        mode = "all"
        value = raw["all"]
        if not isinstance(value, list) or not value:
            probs.add(line_of(raw, "all"), pwhere, "all: must be a non-empty list of phrase lists")
            ok = False
        else:
            gs = []
            for i, grp in enumerate(value):
                ln = value.item_lines[i] if isinstance(value, LineList) else line_of(raw, "all")
                if isinstance(grp, dict):  # {near: [...]}: counts only said near another group
                    if set(grp) != {"near"}:
                        probs.add(ln, pwhere, f"all[{i + 1}]: a group is a list of phrases or {{near: [phrases]}}")
                        ok = False
                        continue
                    near.add(i)
                    grp = grp["near"]
                g = _phrases(grp, probs, ln, pwhere + f"all[{i + 1}]: ", lex)
                ok = ok and g is not None
                if g:
                    gs.append(g)
            groups = tuple(gs)
            if near and len(near) == len(value):
                probs.add(line_of(raw, "all"), pwhere, "all: at least one group must not be 'near' (near what?)")
                ok = False
    describe: tuple[tuple[tuple[str, ...], ...], ...] = ()
    if "describe" in raw:
        d = _describe(raw["describe"], probs, line_of(raw, "describe"), pwhere + "describe: ", lex)
        ok = ok and d is not None
        describe = d or ()
    unless: tuple[str, ...] = ()
    if "unless" in raw:
        u = _phrases(raw["unless"], probs, line_of(raw, "unless"), pwhere + "unless: ", lex)
        ok = ok and u is not None
        unless = u or ()
    if not ok or not isinstance(pid, str) or not isinstance(label, str):
        return None
    return Point(id=pid, label=printable(label.strip()), groups=groups, mode=mode, weight=float(weight),
                 meaning=_point_meaning(groups, describe, lex), near=frozenset(near), unless=unless)


def _str_list(value: Any, probs: _Problems, line: int, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        probs.add(line, where, "must be a list of words")
        return ()
    return tuple(t.strip() for t in value)


def _parse_question(raw: Any, line: int, bank_lang: str, bank_tags: tuple[str, ...],
                    bank_id: str, probs: _Problems, lex: Lexicon) -> Question | None:
    if not isinstance(raw, dict):
        probs.add(line, "", "questions: each question must be a mapping")
        return None
    qid = raw.get("id")
    where = f"question '{qid}': " if qid is not None else f"question at line {line_of(raw)}: "
    ok = _known_keys_and_id(raw, _QUESTION_KEYS, where, probs)
    text = raw.get("question")
    if not _required_text(raw, "question", where, probs):
        ok = False
    lang = raw.get("language", bank_lang)
    if lang not in LANGUAGES:
        probs.add(line_of(raw, "language"), where, f"language: must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        ok = False
    draft = raw.get("draft", False)
    if not isinstance(draft, bool):
        probs.add(line_of(raw, "draft"), where, "draft: must be true or false")
        ok = False
    target = raw.get("target_seconds")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float)) or target <= 0):
        probs.add(line_of(raw, "target_seconds"), where, "target_seconds: must be a positive number")
        ok = False
    reference = raw.get("reference", "")
    if not isinstance(reference, str):
        probs.add(line_of(raw, "reference"), where, "reference: must be text")
        ok = False
    tags = _str_list(raw.get("tags"), probs, line_of(raw, "tags"), where + "tags: ")
    raw_points = raw.get("points", [] if draft is True else None)
    points: list[Point] = []
    if not isinstance(raw_points, list) or (not raw_points and draft is not True):
        probs.add(line_of(raw, "points"), where, "points: required, a non-empty list (or mark the question draft: true)")
        ok = False
    else:
        seen: set[str] = set()
        for i, rp in enumerate(raw_points):
            ln = raw_points.item_lines[i] if isinstance(raw_points, LineList) else line_of(raw)
            pt = _parse_point(rp, ln, where, probs, lex)
            if pt is None:
                ok = False
                continue
            if pt.id in seen:
                probs.add(ln, where, f"points: duplicate point id '{pt.id}'")
                ok = False
            seen.add(pt.id)
            points.append(pt)
    if not ok or not isinstance(qid, str) or not isinstance(text, str):
        return None
    return Question(id=qid, question=printable(text.strip()), language=lang, points=tuple(points), bank=bank_id,
                    source=str(probs.path), line=line_of(raw), tags=tuple(dict.fromkeys(bank_tags + tags)),
                    target_seconds=float(target) if target is not None else None,
                    reference=printable(reference.strip()), draft=draft)


def parse_bank(text: str, path: Path) -> tuple[Bank | None, list[str]]:
    """Parse and validate bank text. Returns the bank (None if invalid) and every problem."""
    probs = _Problems(path)
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        probs.add(line, "", f"malformed YAML: {problem}")
        return None, probs.items
    if not isinstance(data, dict):
        probs.add(1, "", "a bank must be a mapping with 'title' and 'questions'")
        return None, probs.items
    _unknown_keys(data, _BANK_KEYS, "", probs)
    title = data.get("title")
    _required_text(data, "title", "", probs)
    lang = data.get("language", "zh")
    if lang not in LANGUAGES:
        probs.add(line_of(data, "language"), "", f"language: must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        lang = "zh"
    bank_tags = _str_list(data.get("tags"), probs, line_of(data, "tags"), "tags: ")
    lex = shipped_lexicon()
    if "concepts" in data:
        own, problems = parse_concepts(data["concepts"], str(path), line_of)
        probs.items.extend(problems)
        lex = lex.merged(own)
    raw_qs = data.get("questions")
    questions: list[Question] = []
    bank_id = path.stem
    if not isinstance(raw_qs, list) or not raw_qs:
        probs.add(line_of(data, "questions"), "", "questions: required, a non-empty list")
    else:
        seen: dict[str, int] = {}
        for i, rq in enumerate(raw_qs):
            ln = raw_qs.item_lines[i] if isinstance(raw_qs, LineList) else 1
            q = _parse_question(rq, ln, lang, bank_tags, bank_id, probs, lex)
            qid = rq.get("id") if isinstance(rq, dict) else None
            if isinstance(qid, str) and qid in seen:  # reported even when the question has problems of its own
                probs.add(ln, f"question '{qid}': ", f"id: duplicate (first at line {seen[qid]})")
                continue
            if isinstance(qid, str):
                seen[qid] = ln
            if q is not None:
                questions.append(q)
    if probs.items or not isinstance(title, str):
        return None, probs.items
    return Bank(id=bank_id, title=printable(title.strip()), language=lang, path=path, questions=tuple(questions)), []

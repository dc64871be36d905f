"""Wordings learned from the user's corrections: the rubric learns how *you* say a point.

``rehearse correct ATTEMPT POINT --said --span "…"`` stores the human verdict
and adds the span — the user's own words, with Whisper's habitual homophones
for them — as a *learned wording* of that point. It lives in an overlay under
the user's data directory, never in the shipped banks::

    # ~/.local/share/rehearse/learned.yaml
    learned:
      3d-ssgan:             # question id
        lifting:            # point id
          - 放到三维空间里

The meaning pass (:mod:`rehearse.meaning`) counts a learned wording as the whole
point (reported ``by: learned``). A file edited by hand into something invalid
is reported in one line and ignored for scoring; it is never overwritten.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from rehearse.errors import LearnedError, OutputError
from rehearse.files import write_text
from rehearse.normalize import has_content, normalize
from rehearse.rubric import Library

FILE_NAME = "learned.yaml"
_HEADER = ("# Wordings rehearse learned from your \"I said that\" corrections (rehearse correct ... --said --span ...).\n"
           "# Each counts as the whole key point when you say it again. Edit freely, or use 'rehearse learned remove'.\n")

Learned = dict[str, dict[str, list[str]]]  # question id -> point id -> wordings


def learned_path() -> Path:
    """Where learned wordings live: ``learned.yaml`` in rehearse's data directory."""
    from rehearse.paths import home_dir

    return home_dir() / FILE_NAME


def load(path: Path | None = None) -> Learned:
    """The learned wordings ({} when there is no file); :class:`LearnedError` if the file is invalid."""
    path = path or learned_path()
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LearnedError(f"{path}: cannot read the learned wordings ({exc}).") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise LearnedError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', None) or 'parse error'}); "
                           "fix or delete the file.") from None
    if data is None:
        return {}
    table = data.get("learned") if isinstance(data, dict) else None
    if table is None and isinstance(data, dict) and not data:
        return {}
    ok = isinstance(table, dict) and all(
        isinstance(q, str) and isinstance(pts, dict) and all(
            isinstance(p, str) and isinstance(ws, list) and all(isinstance(w, str) and has_content(w) for w in ws)
            for p, ws in pts.items())
        for q, pts in table.items())
    if not ok:
        raise LearnedError(f"{path}: expected 'learned: {{question: {{point: [wordings]}}}}'; fix or delete the file.")
    assert isinstance(table, dict)  # checked just above
    return {q: {p: list(ws) for p, ws in pts.items()} for q, pts in table.items()}


def save(learned: Learned, path: Path | None = None) -> Path:
    """Write the learned wordings atomically (a temp file renamed over the old one)."""
    path = path or learned_path()
    body = {q: {p: ws for p, ws in sorted(pts.items()) if ws} for q, pts in sorted(learned.items())}
    body = {q: pts for q, pts in body.items() if pts}
    text = _HEADER + yaml.safe_dump({"learned": body}, allow_unicode=True, sort_keys=False)
    try:
        write_text(path, text)
    except OutputError as exc:
        raise LearnedError(f"{exc} The learned wordings were not changed.") from None
    return path


def add(question_id: str, point_id: str, wording: str, path: Path | None = None) -> bool:
    """Learn ``wording`` for a point; False when it (or the same after normalisation) is already known."""
    learned = load(path)
    words = learned.setdefault(question_id, {}).setdefault(point_id, [])
    if any(normalize(w) == normalize(wording) for w in words):
        return False
    words.append(wording.strip())
    save(learned, path)
    return True


def remove(question_id: str, point_id: str, wording: str | None = None, path: Path | None = None) -> list[str]:
    """Forget one wording of a point (or all of them with ``wording=None``); returns what was removed."""
    learned = load(path)
    words = learned.get(question_id, {}).get(point_id, [])
    gone = [w for w in words if wording is None or normalize(w) == normalize(wording)]
    if gone:
        learned[question_id][point_id] = [w for w in words if w not in gone]
        save(learned, path)
    return gone


def apply(library: Library, learned: Learned) -> Library:
    """The library with each point's learned wordings attached (unknown questions or points are ignored)."""
    if not learned:
        return library
    banks = []
    for bank in library.banks:
        questions = []
        for q in bank.questions:
            mine = learned.get(q.id, {})
            points = tuple(replace(p, meaning=replace(p.meaning, learned=tuple(mine[p.id])))
                           if mine.get(p.id) else p for p in q.points)
            questions.append(replace(q, points=points) if mine else q)
        banks.append(replace(bank, questions=tuple(questions)))
    return Library(tuple(banks))

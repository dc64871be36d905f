"""Working with stored attempts: rescoring after a rubric edit, JSON/CSV export.

Rescoring reads the stored transcript (and VAD regions) of each attempt and
scores it again against the question's *current* rubric, adding a new result
(the old ones are kept). Recordings are only read, never moved or changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rehearse.errors import UnknownQuestionError
from rehearse.store import AttemptRecord, Store

if TYPE_CHECKING:
    from rehearse.rubric import Library
    from rehearse.transcript import Engine

CSV_FIELDS = (
    "id", "time", "question", "bank", "tags", "status", "session", "coverage", "rubric_hash", "results",
    "covered", "missed", "duration_s", "answer_s", "speech_rate", "articulation_rate", "han_per_min", "en_per_min",
    "fillers_per_min", "filler_count", "pauses", "long_pauses", "longest_pause_s", "time_to_first_word_s",
    "repetitions", "length_ratio", "engine", "model", "audio", "transcript",
)


def attempt_to_dict(a: AttemptRecord, *, full: bool = False) -> dict[str, Any]:
    """One attempt as JSON-ready data: question, time, status, coverage, fluency, missed points.

    ``full`` adds every result (with its points and evidence), the transcript
    segments and the VAD regions.
    """
    r = a.result
    data: dict[str, Any] = {
        "id": a.id,
        "question": a.question_id,
        "bank": a.bank,
        "tags": list(a.tags),
        "time": a.created_at.isoformat(),
        "status": a.status,
        "note": a.note,
        "session": a.session_id,
        "coverage": r.coverage if r else None,
        "rubric_hash": r.rubric_hash if r else None,
        "covered": [p.id for p in r.points if p.covered] if r else [],
        "missed": [p.id for p in r.missed] if r else [],
        "fluency": r.fluency if r else {},
        "engine": a.engine,
        "model": a.model,
        "audio": str(a.audio_path) if a.audio_path else None,
        "transcript": a.text,
    }
    if full:
        data["question_text"] = a.question_text
        data["language"] = a.language
        data["timings"] = a.timings
        data["speech_regions"] = [list(s) for s in a.speech]
        data["segments"] = ([{"start": s.start, "end": s.end, "text": s.text} for s in a.transcript.segments]
                            if a.transcript else [])
        data["results"] = [
            {"id": res.id, "time": res.created_at.isoformat(), "current": res.current,
             "rubric_hash": res.rubric_hash, "coverage": res.coverage, "fluency": res.fluency,
             "points": [{"id": p.id, "label": p.label, "weight": p.weight, "credit": p.credit,
                         "status": p.status, "evidence": p.evidence, "missing": list(p.missing)}
                        for p in res.points]}
            for res in a.results
        ]
    return data


def export_json(attempts: Iterable[AttemptRecord]) -> list[dict[str, Any]]:
    """Every attempt with everything stored about it (for ``rehearse export --format json``)."""
    return [attempt_to_dict(a, full=True) for a in attempts]


def export_csv(attempts: Iterable[AttemptRecord]) -> str:
    """One CSV row per attempt, current result only (columns: :data:`CSV_FIELDS`)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for a in attempts:
        d = attempt_to_dict(a)
        f = d.pop("fluency")
        row = {k: v for k, v in d.items() if k in CSV_FIELDS}
        row.update({k: f.get(k) for k in CSV_FIELDS if k in f})
        row["tags"] = ";".join(a.tags)
        row["covered"] = ";".join(d["covered"])
        row["missed"] = ";".join(d["missed"])
        row["results"] = len(a.results)
        w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_FIELDS})
    return buf.getvalue()


@dataclass
class RescoreSummary:
    """What :func:`rescore` did."""

    rescored: list[int] = field(default_factory=list)        # attempt ids given a new result
    unchanged: int = 0                                        # already scored against the current rubric
    transcribed: list[int] = field(default_factory=list)     # not_scored attempts finished from their audio
    missing_question: dict[str, int] = field(default_factory=dict)  # question id -> attempts skipped
    missing_audio: list[int] = field(default_factory=list)   # not_scored attempts whose recording is gone
    pending: list[int] = field(default_factory=list)         # not_scored attempts left (no engine given)


def rescore(store: Store, library: Library, *, question: str | None = None, force: bool = False,
            engine: Engine | None = None, beam_size: int = 5) -> RescoreSummary:
    """Score stored attempts again against the current rubrics; old results are kept.

    Only attempts whose current result was scored against a different rubric
    (hash) are rescored, unless ``force``. ``question`` limits it to one
    question id (which must exist in ``library``). Attempts still
    ``not_scored`` are transcribed from their recording when an ``engine`` is
    given, else left pending.
    """
    from rehearse.assess import assess_audio, assess_transcript

    if question is not None:
        library.get(question)  # unknown id -> UnknownQuestionError with suggestions
    summary = RescoreSummary()
    for a in store.attempts(question=question):
        try:
            q = library.get(a.question_id)
        except UnknownQuestionError:
            summary.missing_question[a.question_id] = summary.missing_question.get(a.question_id, 0) + 1
            continue
        if a.status == "not_scored" or a.transcript is None:
            if a.audio_path is None or not a.audio_path.is_file():
                summary.missing_audio.append(a.id)
            elif engine is None:
                summary.pending.append(a.id)
            else:
                store.add_result(a.id, assess_audio(q, a.audio_path, engine, beam_size=beam_size))
                summary.transcribed.append(a.id)
            continue
        if not force and a.rubric_hash == q.rubric_hash:
            summary.unchanged += 1
            continue
        new = assess_transcript(q, a.transcript, a.speech or None, audio_path=a.audio_path)
        store.add_result(a.id, new)
        summary.rescored.append(a.id)
    return summary


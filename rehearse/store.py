"""The history store: every session, attempt and result, in one SQLite file.

The file is ``history.db`` under :func:`home_dir` (``$REHEARSE_HOME``, else the
per-user data directory from platformdirs). It is opened in WAL mode with a
busy timeout, so a reader (``rehearse progress``) never blocks a writer
(``rehearse practice``), and its schema is built by numbered migrations
(``m001_initial``, ``m002_…``) that are applied in order on open and recorded
in the ``migrations`` table. A shipped migration is never edited; a change to
the schema is a new migration at the end of :data:`MIGRATIONS`.

What is stored:

* **sessions** — a practice run (``kind``: practice, score, …) with start/end;
* **attempts** — one answer to one question: question id, bank, text, tags and
  language at the time, when, status (``scored`` | ``no_speech`` |
  ``not_scored``), the audio path (recordings themselves stay where they are
  and are never touched), the transcript with segments and words, the voice
  activity regions, engine, model and timings;
* **results** — a verdict on an attempt: coverage, fluency, the complete
  ``Assessment.to_json()`` and the **rubric hash** it was scored against.
  Rescoring adds a new result and marks it current; old results are kept;
* **point_results** — one row per key point of a result (credit, status,
  evidence), for "most missed" statistics.

Each attempt (with its result and points) is written in ONE transaction. A
corrupt, locked or too-new database raises :class:`~rehearse.errors.StoreError`
naming the file and what to do.

A :class:`Store` wraps one ``sqlite3`` connection: use one per thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rehearse.errors import StoreError, UnknownAttemptError
from rehearse.migrations import MIGRATIONS, applied_migrations, migrate  # noqa: F401 - re-exported
from rehearse.paths import home_dir
from rehearse.records import AttemptRecord, PointRecord, ResultRecord, SessionRecord  # noqa: F401 - re-exported
from rehearse.transcript import Transcript

if TYPE_CHECKING:
    from rehearse.assess import Assessment
    from rehearse.rubric import Question

DB_NAME = "history.db"
STATUSES = ("scored", "no_speech", "not_scored")
DEFAULT_TIMEOUT_S = 5.0




def default_db_path() -> Path:
    """Where the history database lives: ``home_dir() / "history.db"``."""
    return home_dir() / DB_NAME


# --------------------------------------------------------------------------- records


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.astimezone()  # naive = local time
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _since(value: datetime | date) -> str:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    return _iso(value)


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# --------------------------------------------------------------------------- the store


class Store:
    """The history database. Open with :meth:`Store.open`, use as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    # ---- opening

    @classmethod
    def open(cls, path: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT_S) -> "Store":
        """Open (creating if needed) and migrate the database at ``path`` (default: :func:`default_db_path`).

        ``timeout`` is how long to wait for another process holding the write
        lock before giving up with a :class:`StoreError`.
        """
        path = Path(path) if path is not None else default_db_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the history directory {path.parent}: {exc.strerror}; "
                             "set REHEARSE_HOME or --home to a writable directory.") from None
        for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if f.exists() and not os.access(f, os.W_OK):  # SQLite would leave read-only -shm/-wal files behind
                raise StoreError(f"{f} is read-only: make it writable (chmod u+w '{f}') or use another --home; "
                                 "nothing was changed.")
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise _store_error(exc, path) from None
        store = cls(conn, path)
        try:
            with store._guard():
                conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"{path}: could not switch the history database to WAL mode "
                                     f"(it is in {mode} mode); is it on a network drive?")
                conn.execute("PRAGMA synchronous = NORMAL")
                migrate(conn, path)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema(self) -> list[str]:
        """Names of the applied migrations."""
        with self._guard():
            return applied_migrations(self._conn)

    @contextmanager
    def _guard(self, doing: str = "") -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, doing) from None

    @contextmanager
    def _tx(self, doing: str = "") -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all or nothing."""
        with self._guard(doing):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ---- sessions

    def start_session(self, kind: str, *, at: datetime | None = None) -> int:
        """Record the start of a session of ``kind`` (e.g. "practice"); return its id."""
        with self._tx("starting a session") as c:
            return _rowid(c.execute("INSERT INTO sessions (kind, started_at) VALUES (?, ?)",
                                 (kind, _iso(at or _now()))))

    def end_session(self, session_id: int, *, at: datetime | None = None) -> None:
        """Record the end of a session."""
        with self._tx("ending a session") as c:
            c.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (_iso(at or _now()), session_id))

    def sessions(self) -> list[SessionRecord]:
        """Every session, oldest first."""
        with self._guard():
            rows = self._conn.execute("SELECT id, kind, started_at, ended_at FROM sessions ORDER BY id").fetchall()
        return [SessionRecord(r[0], r[1], _dt(r[2]), _dt(r[3])) for r in rows]  # type: ignore[arg-type]

    # ---- writing attempts

    def save_attempt(self, assessment: Assessment | None, *, question: Question, session_id: int | None = None,
                     audio_path: Path | None = None, status: str = "scored", transcript: Transcript | None = None,
                     speech: Sequence[tuple[float, float]] | None = None, at: datetime | None = None,
                     note: str = "") -> int:
        """Store one attempt (and its result, if scored) in one transaction; return the attempt id.

        ``status``: "scored" (``assessment`` required; stored as "no_speech"
        when the assessment found no speech), "no_speech", or "not_scored"
        (an audio path and no result yet: finish it later with
        :meth:`add_result`). ``audio_path``, ``transcript`` and ``speech``
        default to the assessment's. ``at`` overrides the time (default now).
        ``note``: why a not_scored attempt was not scored, for its report.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        if assessment is not None and assessment.question.id != question.id:
            raise ValueError(f"assessment is for {assessment.question.id!r}, not {question.id!r}")
        if status == "scored" and assessment is None:
            raise ValueError("a scored attempt needs its assessment")
        if status == "not_scored":
            if assessment is not None:
                raise ValueError("a not_scored attempt has no assessment yet")
            if audio_path is None:
                raise ValueError("a not_scored attempt needs the audio path of its recording")
        if assessment is not None and assessment.no_speech:
            status = "no_speech"
        if assessment is not None:
            transcript = transcript or assessment.transcript
            audio_path = audio_path or assessment.audio_path
            speech = speech if speech is not None else assessment.speech
        audio = str(Path(audio_path).resolve()) if audio_path is not None else None
        with self._tx(_saving(audio)) as c:
            attempt_id = _rowid(c.execute(
                """INSERT INTO attempts (session_id, created_at, question_id, bank, question_text, language, tags,
                   target_seconds, status, audio_path, transcript, speech, engine, model, timings, note)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (session_id, _iso(at or _now()), question.id, question.bank, question.question, question.language,
                 _dumps(list(question.tags)), question.target_seconds, status, audio,
                 _dumps(transcript.to_dict()) if transcript is not None else None,
                 _dumps([[round(a, 3), round(b, 3)] for a, b in (speech or ())]),
                 transcript.engine if transcript else "", transcript.model if transcript else "",
                 _dumps(assessment.timings if assessment else {}), note)))
            if assessment is not None:
                self._insert_result(c, attempt_id, assessment, at)
        return attempt_id

    def add_result(self, attempt_id: int, assessment: Assessment, *, at: datetime | None = None) -> int:
        """Add a new result to an attempt (rescoring, or finishing a not_scored one); return the result id.

        The new result becomes current; earlier results are kept. A
        not_scored attempt takes the assessment's transcript, speech regions,
        engine and model, and its status becomes scored (or no_speech).
        """
        with self._tx("adding a result") as c:
            row = c.execute("SELECT question_id, status FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
            if row is None:
                raise UnknownAttemptError(f"no attempt #{attempt_id} in {self.path}.")
            if row[0] != assessment.question.id:
                raise ValueError(f"attempt #{attempt_id} answers {row[0]!r}, not {assessment.question.id!r}")
            if row[1] == "not_scored":
                t = assessment.transcript
                c.execute("""UPDATE attempts SET status = ?, transcript = ?, speech = ?, engine = ?, model = ?,
                             timings = ? WHERE id = ?""",
                          ("no_speech" if assessment.no_speech else "scored", _dumps(t.to_dict()),
                           _dumps([[round(a, 3), round(b, 3)] for a, b in assessment.speech]),
                           t.engine, t.model, _dumps(assessment.timings), attempt_id))
            c.execute("UPDATE results SET is_current = 0 WHERE attempt_id = ?", (attempt_id,))
            return self._insert_result(c, attempt_id, assessment, at)

    def add_correction(self, attempt_id: int, point_id: str, verdict: str, span: str | None = None, *,
                       at: datetime | None = None) -> int:
        """Store the user's verdict on one point of an attempt ("said" / "not_said"); the machine's stays.

        The latest correction of a point is the one that counts.
        """
        if verdict not in ("said", "not_said"):
            raise ValueError(f"verdict must be 'said' or 'not_said', not {verdict!r}")
        with self._tx("storing the correction") as c:
            if c.execute("SELECT 1 FROM attempts WHERE id = ?", (attempt_id,)).fetchone() is None:
                raise UnknownAttemptError(f"no attempt #{attempt_id} in {self.path}.")
            return _rowid(c.execute(
                "INSERT INTO corrections (attempt_id, point_id, verdict, span, created_at) VALUES (?, ?, ?, ?, ?)",
                (attempt_id, point_id, verdict, span, _iso(at or _now()))))

    @staticmethod
    def _insert_result(c: sqlite3.Connection, attempt_id: int, a: Assessment, at: datetime | None) -> int:
        data = a.to_json()
        result_id = _rowid(c.execute(
            """INSERT INTO results (attempt_id, created_at, rubric_hash, coverage, is_current, fluency, assessment)
               VALUES (?, ?, ?, ?, 1, ?, ?)""",
            (attempt_id, _iso(at or _now()), a.question.rubric_hash, a.score.coverage,
             _dumps(data["fluency"]), _dumps(data))))
        c.executemany(
            """INSERT INTO point_results (result_id, position, point_id, label, weight, credit, status, evidence,
               missing, unsure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(result_id, i, p.id, p.label, p.weight, p.credit, p.status,
              _dumps(p.evidence.to_dict()) if p.evidence else None, _dumps(list(p.missing)),
              _dumps(p.unsure.to_dict()) if p.unsure else None)
             for i, p in enumerate(a.score.points)])
        c.executemany("INSERT INTO filled_pauses (result_id, start_s, end_s, source, covered_by) VALUES (?, ?, ?, ?, ?)",
                      [(result_id, *e) for e in a.fluency.filled_pause_times])
        return result_id

    # ---- reading

    def attempt(self, attempt_id: int) -> AttemptRecord:
        """One attempt with all its results; :class:`UnknownAttemptError` if there is none."""
        found = self._select("WHERE a.id = ?", [attempt_id])
        if not found:
            raise UnknownAttemptError(f"no attempt #{attempt_id} in {self.path}.")
        return found[0]

    def attempts(self, question: str | None = None, since: datetime | date | None = None,
                 tag: str | None = None, *, status: str | Sequence[str] | None = None,
                 session_id: int | None = None) -> list[AttemptRecord]:
        """Stored attempts, oldest first, filtered by question id, time, tag, status or session.

        ``since`` is inclusive; a naive datetime or a date is local time.
        ``tag`` matches the question's tags as they were when answered.
        """
        where: list[str] = []
        args: list[Any] = []
        if question is not None:
            where.append("a.question_id = ?")
            args.append(question)
        if since is not None:
            where.append("a.created_at >= ?")
            args.append(_since(since))
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(a.tags) t WHERE t.value = ?)")
            args.append(tag)
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            where.append(f"a.status IN ({','.join('?' * len(wanted))})")
            args.extend(wanted)
        if session_id is not None:
            where.append("a.session_id = ?")
            args.append(session_id)
        return self._select(("WHERE " + " AND ".join(where)) if where else "", args)

    def question_ids(self) -> list[str]:
        """Every question id with at least one attempt, sorted."""
        with self._guard():
            return [r[0] for r in self._conn.execute("SELECT DISTINCT question_id FROM attempts ORDER BY 1")]

    def _select(self, where: str, args: Sequence[Any]) -> list[AttemptRecord]:
        with self._guard("reading the history"):
            rows = self._conn.execute(
                f"""SELECT a.id, a.created_at, a.question_id, a.bank, a.question_text, a.language, a.tags, a.status,
                    a.session_id, a.audio_path, a.transcript, a.speech, a.engine, a.model, a.timings, a.target_seconds,
                    a.note FROM attempts a {where} ORDER BY a.created_at, a.id""", list(args)).fetchall()
            ids = [r[0] for r in rows]
            results: dict[int, list[ResultRecord]] = {i: [] for i in ids}
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                res_rows = self._conn.execute(
                    f"""SELECT id, attempt_id, created_at, rubric_hash, coverage, is_current, fluency, assessment
                        FROM results WHERE attempt_id IN ({marks}) ORDER BY created_at, id""", chunk).fetchall()
                points: dict[int, list[PointRecord]] = {r[0]: [] for r in res_rows}
                rids = list(points)
                for rchunk in _chunks(rids, 500):
                    pm = ",".join("?" * len(rchunk))
                    for p in self._conn.execute(
                            f"""SELECT result_id, point_id, label, weight, credit, status, evidence, missing, unsure
                                FROM point_results WHERE result_id IN ({pm}) ORDER BY result_id, position""", rchunk):
                        points[p[0]].append(PointRecord(
                            id=p[1], label=p[2], weight=p[3], credit=p[4], status=p[5],
                            evidence=json.loads(p[6]) if p[6] else None, missing=tuple(json.loads(p[7] or "[]")),
                            unsure=json.loads(p[8]) if p[8] else None))
                human: dict[tuple[int, str], str] = {}  # the latest correction per (attempt, point)
                for c in self._conn.execute(
                        f"""SELECT attempt_id, point_id, verdict FROM corrections WHERE attempt_id IN ({marks})
                            ORDER BY id""", chunk):
                    human[(c[0], c[1])] = c[2]
                for r in res_rows:
                    pts = tuple(replace(pt, human=human.get((r[1], pt.id))) for pt in points[r[0]])
                    results[r[1]].append(ResultRecord(
                        id=r[0], attempt_id=r[1], created_at=_dt(r[2]), rubric_hash=r[3],  # type: ignore[arg-type]
                        coverage=_corrected_coverage(pts, r[4]), current=bool(r[5]), points=pts,
                        fluency=json.loads(r[6] or "{}"), data=json.loads(r[7]), machine_coverage=r[4]))
        out = []
        for r in rows:
            out.append(AttemptRecord(
                id=r[0], created_at=_dt(r[1]), question_id=r[2], bank=r[3], question_text=r[4],  # type: ignore[arg-type]
                language=r[5], tags=tuple(json.loads(r[6] or "[]")), status=r[7], session_id=r[8],
                audio_path=Path(r[9]) if r[9] else None,
                transcript=Transcript.from_dict(json.loads(r[10])) if r[10] else None,
                speech=tuple((float(a), float(b)) for a, b in json.loads(r[11] or "[]")),
                engine=r[12], model=r[13], timings=json.loads(r[14] or "{}"), target_seconds=r[15],
                results=tuple(results[r[0]]), note=r[16]))
        return out


# --------------------------------------------------------------------------- helpers


def _corrected_coverage(points: Sequence[PointRecord], stored: float) -> float:
    """The stored coverage, or, when the user corrected a point, Σ weight·credit recomputed with their verdicts."""
    if not any(p.human for p in points):
        return stored
    total = sum(p.weight for p in points)
    return round(sum(p.weight * p.effective_credit for p in points) / total, 4) if total else stored


def _rowid(cursor: sqlite3.Cursor) -> int:
    rowid = cursor.lastrowid
    assert rowid is not None  # always set after an INSERT
    return rowid


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _chunks(items: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _saving(audio: str | None) -> str:
    if audio:
        return (f"saving the attempt (the recording itself is kept at {audio}; "
                f"score it again later with 'rehearse score {audio} -q ID')")
    return "saving the attempt"


def _store_error(exc: sqlite3.Error, path: Path, doing: str = "") -> StoreError:
    msg = str(exc)
    low = msg.lower()
    what = f" while {doing}" if doing else ""
    if "locked" in low or "busy" in low:
        return StoreError(f"{path} is locked by another rehearse process{what}: close the other rehearse "
                          "(e.g. a running practice session) and try again. Nothing was deleted.")
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in low or "malformed" in low
                                                   or "corrupt" in low):
        return StoreError(f"{path} is not a readable history database ({msg}){what}: move it aside (e.g. "
                          f"rename it to {path.name}.broken) and rehearse will start a new history; your "
                          "recordings are not affected.")
    if "unable to open" in low or "readonly" in low or "read-only" in low or "disk i/o" in low:
        return StoreError(f"cannot write the history database {path} ({msg}){what}: check that its directory "
                          "is writable, or point REHEARSE_HOME / --home elsewhere.")
    return StoreError(f"history database {path}: {msg}{what}.")

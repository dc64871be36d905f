"""The history database's schema, built by numbered migrations.

Never edit a shipped migration: add a new one at the end. Each runs in its own
IMMEDIATE transaction together with its row in ``migrations``, so a crash
leaves the database at a clean version; a database recorded by a newer or
different rehearse is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from rehearse.errors import StoreError

_M001 = (
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT
    )""",
    """CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        session_id INTEGER REFERENCES sessions(id),
        created_at TEXT NOT NULL,
        question_id TEXT NOT NULL,
        bank TEXT NOT NULL DEFAULT '',
        question_text TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        target_seconds REAL,
        status TEXT NOT NULL CHECK (status IN ('scored', 'no_speech', 'not_scored')),
        audio_path TEXT,
        transcript TEXT,
        speech TEXT NOT NULL DEFAULT '[]',
        engine TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        timings TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX attempts_by_question ON attempts(question_id, created_at)",
    "CREATE INDEX attempts_by_time ON attempts(created_at)",
    """CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        rubric_hash TEXT NOT NULL,
        coverage REAL NOT NULL,
        is_current INTEGER NOT NULL DEFAULT 1,
        fluency TEXT NOT NULL DEFAULT '{}',
        assessment TEXT NOT NULL
    )""",
    "CREATE INDEX results_by_attempt ON results(attempt_id)",
)

_M002 = (
    """CREATE TABLE point_results (
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        point_id TEXT NOT NULL,
        label TEXT NOT NULL,
        weight REAL NOT NULL,
        credit REAL NOT NULL,
        status TEXT NOT NULL,
        evidence TEXT,
        missing TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (result_id, point_id)
    )""",
    "CREATE INDEX point_results_by_point ON point_results(point_id, status)",
    # backfill from the full assessment JSON every m001 result already holds
    """INSERT INTO point_results (result_id, position, point_id, label, weight, credit, status, evidence, missing)
       SELECT r.id, p.key, json_extract(p.value, '$.id'), json_extract(p.value, '$.label'),
              coalesce(json_extract(p.value, '$.weight'), 1.0), json_extract(p.value, '$.credit'),
              coalesce(json_extract(p.value, '$.status'),
                       CASE WHEN json_extract(p.value, '$.credit') >= 1.0 THEN 'covered'
                            WHEN json_extract(p.value, '$.credit') > 0 THEN 'partial' ELSE 'missed' END),
              json(json_extract(p.value, '$.evidence')),
              coalesce(json(json_extract(p.value, '$.missing')), '[]')
       FROM results r, json_each(r.assessment, '$.points') p""",
)


def _sql(statements: Sequence[str]) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        for stmt in statements:
            conn.execute(stmt)
    return run


_M003 = (
    # the user's own verdicts on key points ("I said that" / "that doesn't count"), beside the machine's
    """CREATE TABLE corrections (
        id INTEGER PRIMARY KEY,
        attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
        point_id TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('said', 'not_said')),
        span TEXT,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX corrections_by_attempt ON corrections(attempt_id, point_id)",
)

_M004 = (
    # filled pauses measured from the audio (rehearse.hesitation), one row each, beside the result they belong to;
    # the per-minute figure is in results.fluency (filled_pauses_per_min)
    """CREATE TABLE filled_pauses (
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('acoustic', 'transcript')),
        covered_by TEXT NOT NULL CHECK (covered_by IN ('filler', 'none', 'word'))
    )""",
    "CREATE INDEX filled_pauses_by_result ON filled_pauses(result_id)",
)

_M005 = (
    # why an attempt was kept without a score ("transcription failed: …", "the page stopped the recording"), for
    # its report; '' for the others
    "ALTER TABLE attempts ADD COLUMN note TEXT NOT NULL DEFAULT ''",
)

_M006 = (
    # why a point is "unsure — check" (the evidence that contradicted it, or the names an off-topic answer is
    # about), for the page's report; backfilled from the assessment JSON every result holds
    "ALTER TABLE point_results ADD COLUMN unsure TEXT",
    """UPDATE point_results SET unsure = (
           SELECT json(json_extract(p.value, '$.unsure')) FROM results r, json_each(r.assessment, '$.points') p
           WHERE r.id = point_results.result_id AND json_extract(p.value, '$.id') = point_results.point_id)
       WHERE status = 'unsure'""",
)

#: (name, function) in the order they are applied.
MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("m001_initial", _sql(_M001)),
    ("m002_point_results", _sql(_M002)),
    ("m003_corrections", _sql(_M003)),
    ("m004_filled_pauses", _sql(_M004)),
    ("m005_attempt_note", _sql(_M005)),
    ("m006_point_unsure", _sql(_M006)),
)


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations recorded in a database, in the order applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                 "applied_at TEXT NOT NULL)")
    return [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY id")]


def migrate(conn: sqlite3.Connection, path: Path, *, upto: int | None = None) -> list[str]:
    """Apply every pending migration (or the first ``upto``) in order; return the names applied.

    Each migration runs in its own IMMEDIATE transaction together with its
    row in ``migrations``, so a crash leaves the database at a clean version.
    """
    known = [name for name, _ in MIGRATIONS]
    wanted = MIGRATIONS[:upto] if upto is not None else MIGRATIONS
    done: list[str] = []
    for name, fn in wanted:
        conn.execute("BEGIN IMMEDIATE")
        try:
            applied = applied_migrations(conn)
            unknown = [n for n in applied if n not in known]
            if unknown or applied != known[:len(applied)]:
                raise StoreError(
                    f"{path} was written by a newer or different version of rehearse (schema "
                    f"{', '.join(unknown or applied)}); upgrade rehearse, or use another --home.")
            if not applied and conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attempts'").fetchone():
                raise StoreError(f"{path} holds rehearse's tables but no record of which migrations made them (its "
                                 "'migrations' table is gone): restore the file from a backup, or move it aside to "
                                 "start a new history.")
            if name not in applied:
                fn(conn)
                conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                             (name, datetime.now(timezone.utc).isoformat(timespec="microseconds")))
                done.append(name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return done

"""The HTML pages: choose, practise, the report, progress; and recordings served by attempt id."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from rehearse.records import AttemptRecord
from rehearse.rubric import Question
from rehearse.store import Store
from rehearse.web.app import Context, error_response
from rehearse.web.views import attempt_summary, fluency_rows, marked_transcript, pct, png_data_uri

MAX_QUERY = 200


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


class Selection:
    """What the user chose to practise, from the query string: due today, a tag, a bank or one question;
    where in it the user is (``i``) and when this round through it began (``s``, epoch milliseconds).

    The order is the practice order as it stood when the round began (the answers given since are left
    out of it), so answering a question does not re-sort the list under the user: Retry opens the same
    question and Next the one after it, as in the terminal's session."""

    def __init__(self, request: Request) -> None:
        q = request.query_params
        self.due = q.get("due") == "1"
        self.tag = (q.get("tag") or "")[:MAX_QUERY]
        self.bank = (q.get("bank") or "")[:MAX_QUERY]
        self.question = (q.get("q") or "")[:MAX_QUERY]
        self.index = _int(q.get("i"), 0)
        started = _int(q.get("s"), 0)
        now = datetime.now(timezone.utc)
        self.started = min(datetime.fromtimestamp(started / 1000, timezone.utc), now) if started else None
        self.carried = self.started is not None  # the round began on an earlier page

    def begin(self) -> None:
        """Start a round through the selection now, unless the query string carried one."""
        if self.started is None:
            now = datetime.now(timezone.utc)
            self.started = now.replace(microsecond=now.microsecond // 1000 * 1000)

    def query(self, index: int | None = None) -> str:
        """The same selection as a query string (only these known keys: never an open redirect)."""
        params: dict[str, str] = {}
        if self.due:
            params["due"] = "1"
        for key, value in (("tag", self.tag), ("bank", self.bank), ("q", self.question)):
            if value:
                params[key] = value
        params["i"] = str(self.index if index is None else index)
        if self.started is not None:
            params["s"] = str(round(self.started.timestamp() * 1000))
        return urlencode(params)

    def describe(self) -> str:
        if self.question:
            return f"question {self.question}"
        if self.tag:
            return f"tag {self.tag}"
        if self.bank:
            return f"bank {self.bank}"
        return "due today" if self.due else "all questions"

    def empty_reason(self, ctx: Context) -> str:
        """Why the selection has no question, in one line."""
        lib = ctx.library
        if self.bank and not any(b.id == self.bank for b in lib.banks):
            return f"There is no bank '{self.bank}' (banks: {', '.join(b.id for b in lib.banks)})."
        if self.tag and not list(lib.filter([self.tag])):
            return f"No question has the tag '{self.tag}'."
        if self.due:
            return "Nothing is due today: every question was answered recently enough. Pick a tag, a bank or a question."
        return f"Nothing to practise for {self.describe()}: it has no questions."

    def questions(self, ctx: Context, history: list[AttemptRecord], now: datetime | None = None) -> list[Question]:
        """The selection's questions in practice order at ``now`` (default: when the round began, from the
        answers given before it; else now)."""
        from rehearse.schedule import as_utc, due_today, order_questions

        if now is None and self.carried and self.started is not None:
            now = self.started
            history = [a for a in history if as_utc(a.created_at) < self.started]
        lib = ctx.library
        if self.question:
            return [lib.get(self.question)]
        if self.tag:
            qs = list(lib.filter([self.tag]))
        elif self.bank:
            qs = [q for b in lib.banks if b.id == self.bank for q in b.questions]
        else:
            qs = list(lib.questions)
        qs = order_questions(qs, history, now)
        return due_today(qs, history, now) if self.due else qs


def _int(value: str | None, default: int) -> int:
    try:
        return max(0, min(int(value or default), 2**53))
    except ValueError:
        return default


def served_audio(a: AttemptRecord, root: Path) -> Path | None:
    """The attempt's recording if it lies inside the recordings folder (nothing else is ever served)."""
    if a.audio_path is None:
        return None
    try:
        path = a.audio_path.resolve(strict=True)
        path.relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return path if path.is_file() else None


def _history() -> list[AttemptRecord]:
    with Store.open() as store:
        return store.attempts()


async def home(request: Request) -> Response:
    """Choose what to practise."""
    from rehearse.schedule import describe_due, due_today, order_questions, replay

    ctx = _ctx(request)
    history = await run_in_threadpool(_history)
    lib = ctx.library
    ordered = order_questions(list(lib.questions), history)
    due = due_today(ordered, history)
    dues = replay(history)
    tags: dict[str, int] = {}
    for q in lib.questions:
        for t in q.tags:
            tags[t] = tags.get(t, 0) + 1
    questions = [{"id": q.id, "text": q.question, "bank": q.bank, "tags": q.tags, "due": describe_due(dues.get(q.id)),
                  "last": pct(dues[q.id].last_coverage) if q.id in dues else "—"} for q in ordered]
    return ctx.render(request, "home.html", due=[q.id for q in due], tags=sorted(tags.items()),
                      banks=[(b.id, b.title, len(b.questions)) for b in lib.banks if b.questions], questions=questions)


def _read_ahead(ctx: Context, sel: Selection, history: list[AttemptRecord], qs: list[Question], i: int) -> None:
    """Have the next question of the selection made; on the last one, the next session's first questions
    (the same selection's order a day later, as the terminal does; the question on screen left out)."""
    from rehearse.schedule import NEXT_SESSION, NEXT_SESSION_CLIPS

    if i + 1 < len(qs):
        ahead = [qs[i + 1]]
    else:
        later = sel.questions(ctx, history, datetime.now(timezone.utc) + NEXT_SESSION)
        ahead = [q for q in later if q.id != qs[i].id][:NEXT_SESSION_CLIPS]
    for q in ahead:
        ctx.speaker.prefetch(q.question, q.language)


async def practice(request: Request) -> Response:
    """The question card with the record button."""
    ctx = _ctx(request)
    sel = Selection(request)
    sel.begin()
    history = await run_in_threadpool(_history)
    qs = sel.questions(ctx, history)
    if not qs:
        return error_response(request, 404, sel.empty_reason(ctx))
    i = min(sel.index, len(qs) - 1)
    q = qs[i]
    if ctx.speaks:  # this browser listens to rehearse's voice: make what comes next while this is answered
        await run_in_threadpool(_read_ahead, ctx, sel, history, qs, i)
    previous = [a for a in history if a.question_id == q.id and a.coverage is not None]
    return ctx.render(request, "practice.html", q=q, index=i, total=len(qs), selection=sel.describe(),
                      next_url=f"/practice?{sel.query(i + 1)}" if i + 1 < len(qs) else "",
                      here=sel.query(i), last=pct(previous[-1].coverage) if previous else "")


def _report(ctx: Context, attempt_id: int) -> dict[str, Any]:
    from rehearse.progress import fluency_baseline

    with Store.open() as store:
        a = store.attempt(attempt_id)
        history = store.attempts()
    try:
        q: Question | None = ctx.library.get(a.question_id)
    except Exception:  # noqa: BLE001 - the bank may have gone; the stored attempt is still shown
        q = None
    result = a.result
    points = result.points if result else ()
    baseline = fluency_baseline([h for h in history if h.id != a.id], language=a.language)
    earlier = [h for h in history if h.question_id == a.question_id and h.id != a.id and h.coverage is not None]
    return {"a": a, "q": q, "result": result, "coverage": pct(a.coverage), "points": points,
            "runs": marked_transcript(a.transcript, points),
            "fluency": fluency_rows(result.fluency, a.language, baseline) if result else [],
            "missed": [p for p in points if not p.covered and not p.doubted],
            "unsure": [p for p in points if p.doubted],
            "has_audio": served_audio(a, ctx.config.recordings) is not None,
            "earlier": [attempt_summary(h) for h in earlier[-5:]],
            "machine": pct(result.machine_coverage) if result and result.machine_coverage is not None else "",
            "history": history}


async def report(request: Request) -> Response:
    """One attempt's report."""
    ctx = _ctx(request)
    sel = Selection(request)
    data = await run_in_threadpool(_report, ctx, request.path_params["attempt_id"])
    retry, after = await run_in_threadpool(_retry_next, ctx, sel, data["a"], data.pop("history"))
    return ctx.render(request, "report.html", retry_url=retry, next_url=after, **data)


def _retry_next(ctx: Context, sel: Selection, a: AttemptRecord, history: list[AttemptRecord]) -> tuple[str, str]:
    """Retry: this attempt's question again, in its place in the selection the report was reached from (else
    alone). Next: the question after it in that selection, if there is one."""
    alone = f"/practice?{urlencode({'q': a.question_id})}"
    if sel.question or sel.started is None:
        return alone, ""
    try:
        qs = sel.questions(ctx, history)
    except Exception:  # noqa: BLE001 - a bank or tag gone since: the attempt's own question still works
        return alone, ""
    if not (sel.index < len(qs) and qs[sel.index].id == a.question_id):
        return alone, ""
    return f"/practice?{sel.query()}", f"/practice?{sel.query(sel.index + 1)}" if sel.index + 1 < len(qs) else ""


async def audio(request: Request) -> Response:
    """The recording of an attempt, by id only (Range requests supported, so the player can seek)."""
    ctx = _ctx(request)
    with Store.open() as store:
        a = store.attempt(request.path_params["attempt_id"])
    path = served_audio(a, ctx.config.recordings)
    if path is None:
        return error_response(request, 404, f"attempt #{a.id} has no recording in the recordings folder.")
    return FileResponse(path, media_type="audio/wav")


async def compare(request: Request) -> Response:
    """Two attempts side by side (``?a=ID&b=ID``)."""
    ctx = _ctx(request)
    try:
        left, right = (int(request.query_params.get(k, "")) for k in ("a", "b"))
    except ValueError:
        return error_response(request, 400, "compare two attempts: /compare?a=ID&b=ID with numeric ids.")
    data = [await run_in_threadpool(_report, ctx, i) for i in (left, right)]
    return ctx.render(request, "compare.html", left=data[0], right=data[1])


def _progress(ctx: Context, tag: str, question: str) -> dict[str, Any]:
    from rehearse.plots import progress_png
    from rehearse.progress import most_missed, question_progress
    from rehearse.schedule import due_today

    history = _history()
    shown = [a for a in history if (not tag or tag in a.tags) and (not question or a.question_id == question)]
    progress = question_progress(shown)
    language = shown[-1].language if shown else "zh"
    tags = sorted({t for a in history for t in a.tags})
    return {"chart": png_data_uri(progress_png(progress, shown, language=language)) if shown else "",
            "progress": [{"id": p.question_id, "n": len(p.attempts), "first": pct(p.first), "last": pct(p.last),
                          "best": pct(p.best), "trend": p.trend} for p in progress],
            "missed": [m.sentence() for m in most_missed(progress)],
            "attempts": [attempt_summary(a) for a in reversed(shown)],
            "due": len(due_today(list(ctx.library.questions), history)), "tags": tags, "tag": tag,
            "question": question, "questions": sorted({a.question_id for a in history})}


async def progress(request: Request) -> Response:
    """Coverage and fluency over time, most missed points, every past attempt."""
    ctx = _ctx(request)
    tag = (request.query_params.get("tag") or "")[:MAX_QUERY]
    question = (request.query_params.get("question") or "")[:MAX_QUERY]
    data = await run_in_threadpool(_progress, ctx, tag, question)
    return ctx.render(request, "progress.html", **data)


def _speech(ctx: Context, question_id: str) -> bytes:
    q = ctx.library.get(question_id)  # an id from the library, never a path
    ctx.speaks = True
    return ctx.speaker.audio_for(q.question, q.language).read_bytes()


async def speech(request: Request) -> Response:
    """The question read aloud by rehearse's own TTS, for browsers without a voice for its language."""
    ctx = _ctx(request)
    qid = request.path_params["question_id"]
    key = f"speech:{qid}"
    if key not in ctx.config.extra:
        ctx.config.extra[key] = await run_in_threadpool(_speech, ctx, qid)
    return Response(ctx.config.extra[key], media_type="audio/wav")


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/practice", practice, methods=["GET"]),
        Route("/attempts/{attempt_id:int}", report, methods=["GET"]),
        Route("/attempts/{attempt_id:int}/audio", audio, methods=["GET"]),
        Route("/progress", progress, methods=["GET"]),
        Route("/compare", compare, methods=["GET"]),
        Route("/questions/{question_id}/speech.wav", speech, methods=["GET"]),
    ]

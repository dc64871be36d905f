"""The JSON API the pages call: stream an answer, correct a verdict, score a kept recording.

Every POST needs the session token (checked by the guard before a handler
runs). Bodies are parsed strictly: JSON only with ``Content-Type:
application/json``, an object with the expected fields and types, else 4xx
and nothing is written. Ids are typed in the routes (``{attempt_id:int}``),
so ``../`` never reaches a handler, and no id is ever joined to a path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from rehearse.errors import UsageError
from rehearse.store import Store
from rehearse.web.app import Context
from rehearse.web.streaming import StreamError

RID = re.compile(r"^[0-9a-f]{32}$")
MAX_SPAN = 500


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object (415 for another content type, 400 for bad JSON or a non-object)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise StreamError(f"send JSON (Content-Type: application/json), not {kind or 'nothing'}.", 415)
    body = await request.body()
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StreamError(f"bad JSON: {exc}", 400) from None
    if not isinstance(data, dict):
        raise StreamError("the JSON body must be an object.", 400)
    return data


def field(data: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    """One typed field of a JSON object (bool is not taken for int)."""
    if name not in data or data[name] is None:
        if required:
            raise StreamError(f"missing field {name!r}.", 400)
        return None
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StreamError(f"field {name!r} must be {kind.__name__}.", 400)
    return value


def _rid(request: Request) -> str:
    rid = request.path_params["rid"]
    if not RID.match(rid):
        raise StreamError("bad recording id.", 400)
    return str(rid)


async def start_recording(request: Request) -> JSONResponse:
    """Open a stream for one question: ``{"question_id": ..., "sample_rate": 48000}``."""
    ctx = _ctx(request)
    data = await read_json(request)
    question = ctx.library.get(field(data, "question_id", str))
    rate = field(data, "sample_rate", int)
    rec = await run_in_threadpool(ctx.studio.start, question, rate)
    return JSONResponse({"id": rec.id, "max_seconds": rec.max_seconds, "idle_s": ctx.studio.idle_s}, status_code=201)


async def chunk(request: Request) -> JSONResponse:
    """One numbered chunk of 16-bit PCM (``application/octet-stream``)."""
    ctx = _ctx(request)
    rec = ctx.studio.get(_rid(request))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/octet-stream":
        raise StreamError("send audio chunks as application/octet-stream (16-bit PCM).", 415)
    body = await request.body()
    # in a worker thread: a chunk arriving while the stream is being closed waits there, not in the event loop
    return JSONResponse(await run_in_threadpool(rec.feed, request.path_params["seq"], body))


async def stop_recording(request: Request) -> JSONResponse:
    """Stop, score and store; the report's address."""
    ctx = _ctx(request)
    done = await run_in_threadpool(ctx.studio.stop, _rid(request))
    return JSONResponse({"attempt_id": done.attempt_id, "status": done.status, "seconds": round(done.seconds, 2),
                         "latency_s": round(done.latency_s, 3), "note": done.note,
                         "report": f"/attempts/{done.attempt_id}"})


async def abandon_recording(request: Request) -> JSONResponse:
    """Stop without scoring: the WAV is kept, the attempt stored as not scored."""
    ctx = _ctx(request)
    done = await run_in_threadpool(ctx.studio.abandon, _rid(request))
    if done is None:
        return JSONResponse({"attempt_id": None, "status": "nothing recorded"})
    return JSONResponse({"attempt_id": done.attempt_id, "status": done.status, "report": f"/attempts/{done.attempt_id}"})


async def status(request: Request) -> JSONResponse:
    """Whether a recording is in progress, and streams the watchdog closed."""
    studio = _ctx(request).studio
    return JSONResponse({"recording": studio.active is not None,
                         "kept": [{"attempt_id": f.attempt_id, "note": f.note} for f in studio.orphans]})


def _correct(ctx: Context, attempt_id: int, point_id: str, said: bool, span: str | None) -> dict[str, Any]:
    from rehearse.corrections import correct
    from rehearse.report import correction_line

    with Store.open() as store:
        r = correct(store, attempt_id, point_id, said=said, span=span)
    if r.learned:
        ctx.forget_library()
    return {"line": correction_line(r), "coverage": r.coverage_after, "verdict": r.verdict, "learned": r.learned}


async def correction(request: Request) -> JSONResponse:
    """"I said that" / "doesn't count": ``{"point_id": ..., "said": true, "span": "optional words"}``."""
    ctx = _ctx(request)
    data = await read_json(request)
    point_id = field(data, "point_id", str)
    said = field(data, "said", bool)
    span = field(data, "span", str, required=False)
    if span is not None and (len(span) > MAX_SPAN or not span.strip()):
        raise UsageError(f"span: give the words from the transcript (1 to {MAX_SPAN} characters).")
    result = await run_in_threadpool(_correct, ctx, request.path_params["attempt_id"], point_id, said, span)
    return JSONResponse(result)


def _score_later(ctx: Context, attempt_id: int) -> float:
    with Store.open() as store:
        a = store.attempt(attempt_id)
    if a.status != "not_scored" or a.audio_path is None:
        raise StreamError(f"attempt #{attempt_id} is already scored.", 409)
    from rehearse.web.pages import served_audio

    path = served_audio(a, ctx.config.recordings)
    if path is None:
        raise StreamError(f"the recording of attempt #{attempt_id} is not in the recordings folder.", 404)
    return ctx.studio.score_later(attempt_id, ctx.library.get(a.question_id), path)


async def score(request: Request) -> JSONResponse:
    """Transcribe and score a kept, not-yet-scored recording."""
    ctx = _ctx(request)
    coverage = await run_in_threadpool(_score_later, ctx, request.path_params["attempt_id"])
    return JSONResponse({"coverage": coverage, "report": f"/attempts/{request.path_params['attempt_id']}"})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/status", status, methods=["GET"]),
        Route("/api/recordings", start_recording, methods=["POST"]),
        Route("/api/recordings/{rid}/chunks/{seq:int}", chunk, methods=["POST"]),
        Route("/api/recordings/{rid}/stop", stop_recording, methods=["POST"]),
        Route("/api/recordings/{rid}/abandon", abandon_recording, methods=["POST"]),
        Route("/api/attempts/{attempt_id:int}/corrections", correction, methods=["POST"]),
        Route("/api/attempts/{attempt_id:int}/score", score, methods=["POST"]),
    ]

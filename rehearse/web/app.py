"""The web app: configuration, the Starlette application, error pages and security headers.

``create_app(WebConfig(...))`` builds the app; ``rehearse serve`` runs it with
uvicorn. Pages are in :mod:`rehearse.web.pages`, the JSON API in
:mod:`rehearse.web.api`; both only parse, call the library and render.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rehearse.errors import RehearseError, StoreError, TTSError, UnknownAttemptError, UnknownQuestionError
from rehearse.judges import Judge
from rehearse.rubric import Library
from rehearse.transcript import Engine
from rehearse.web.security import Guard, GuardMiddleware
from rehearse.web.streaming import CHUNK_MAX_BYTES, DEFAULT_IDLE_S, DEFAULT_MAX_SECONDS, StreamError, Studio

if TYPE_CHECKING:
    from rehearse.tts import Speaker

STATIC = Path(__file__).resolve().parent / "static"

#: the page may load only what this server serves: no CDN, no font, no telemetry can be reached
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; style-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


@dataclass
class WebConfig:
    """What ``rehearse serve`` was asked for."""

    engine: Engine
    recordings: Path
    port: int = 8765
    host: str = "127.0.0.1"
    banks: tuple[Path, ...] = ()
    shipped: bool = True
    judge: Judge | None = None
    hotwords: bool = True
    max_seconds: float = DEFAULT_MAX_SECONDS
    idle_s: float = DEFAULT_IDLE_S
    token: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Context:
    """Everything the handlers share: the config, the guard, the studio, the templates, the library."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        limits = (("/api/recordings/", CHUNK_MAX_BYTES),)
        self.guard = (Guard(config.port, config.host, config.token, limits) if config.token
                      else Guard(config.port, config.host, limits=limits))
        self.studio = Studio(config.engine, config.recordings, judge=config.judge, max_seconds=config.max_seconds,
                             idle_s=config.idle_s, hotwords=config.hotwords)
        self.templates = Environment(loader=PackageLoader("rehearse.web", "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True))
        self._library: Library | None = None
        self._speaker: Speaker | None = None
        #: set once the page has asked for rehearse's own reading of a question (this browser has no voice for
        #: it): from then on the practice page has the next question made ahead, while this one is answered
        self.speaks = False

    @property
    def speaker(self) -> Speaker:
        """rehearse's own text-to-speech, one for the server (Kokoro loads once), with its disk cache."""
        if self._speaker is None:
            from rehearse.tts import Speaker

            self._speaker = Speaker()
        return self._speaker

    def close(self) -> None:
        """Stop background speech synthesis (nothing half made is cached)."""
        if self._speaker is not None:
            self._speaker.close()

    @property
    def library(self) -> Library:
        """The banks with the wordings learned from corrections (reloaded after each correction)."""
        if self._library is None:
            self._library = load_library(self.config.banks, self.config.shipped)
        return self._library

    def forget_library(self) -> None:
        self._library = None

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.templates.get_template(name).render(token=self.guard.token, path=request.url.path, **values)
        return HTMLResponse(html, status_code=status)


def load_library(banks: tuple[Path, ...], shipped: bool) -> Library:
    """The question banks plus learned wordings (a broken learned file is ignored, as in the CLI)."""
    from rehearse import learned
    from rehearse.rubric import load_library as load

    lib = load(banks, shipped=shipped)
    try:
        return learned.apply(lib, learned.load())
    except learned.LearnedError:
        return lib


class SecurityHeaders:
    """CSP and friends on every response (the CSP is also what keeps the page from reaching out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # the packaged CSS and scripts may be cached for a while (one round trip less per page); pages never
        static = scope.get("path", "").startswith("/static/")
        cache = b"max-age=600" if static else b"no-store"

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                            (b"cross-origin-resource-policy", b"same-origin"),
                            (b"cache-control", cache)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    """JSON for the API, a small page for a browser."""
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    ctx: Context = request.app.state.ctx
    return ctx.render(request, "error.html", status=status, status_code=status, message=message)


async def _rehearse_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, StreamError):
        return error_response(request, exc.status, str(exc))
    if isinstance(exc, (UnknownQuestionError, UnknownAttemptError)):
        return error_response(request, 404, str(exc))
    if isinstance(exc, (StoreError, TTSError)):
        return error_response(request, 503, str(exc))
    return error_response(request, 400, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "error"
    return error_response(request, status, "not found" if status == 404 else str(detail))


def create_app(config: WebConfig) -> Starlette:
    """The ASGI app (wrapped in the guard: Host/Origin checks, token, body limits)."""
    from starlette.exceptions import HTTPException

    from rehearse.web import api, pages

    ctx = Context(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx.studio.preload()
        yield
        ctx.studio.shutdown()
        ctx.close()

    routes = [*pages.routes(), *api.routes(), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={RehearseError: _rehearse_error, HTTPException: _http_error})
    app.state.ctx = ctx
    app.add_middleware(SecurityHeaders)
    app.add_middleware(GuardMiddleware, guard=ctx.guard)
    return app

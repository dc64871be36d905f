"""What keeps the local server a local server: Host and Origin checks, a per-session token, bounded bodies.

* **Host**: a request whose ``Host`` header is not one of the server's own
  names (``127.0.0.1:PORT``, ``localhost:PORT``, the address it was bound to)
  is refused with 421. That defeats DNS rebinding: a page on ``evil.example``
  whose name later resolves to 127.0.0.1 still sends ``Host: evil.example``.
  Bound to all interfaces (``--host 0.0.0.0``), any IP literal is accepted as
  well (a rebinding attack needs a domain name), plus the machine's host name.
* **Origin**: a request carrying an ``Origin`` that is not the server's own,
  or marked ``Sec-Fetch-Site: cross-site``/``same-site`` (except a plain link
  followed to a page), is refused with 403: other pages the user has open
  cannot post to it, read it, or embed a recording (responses also carry
  ``Cross-Origin-Resource-Policy: same-origin``, see :mod:`rehearse.web.app`).
* **Token**: every state-changing request (anything but GET/HEAD) must carry
  the per-session token in the ``X-Rehearse-Token`` header. The token is
  random per server run and is only written into the server's own pages.
* **Size**: a body larger than the route's limit is refused with 413 from
  ``Content-Length`` before it is read, and counted while it streams in when
  there is no length (chunked transfer), so nothing large is held in memory.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN_HEADER = "x-rehearse-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def new_token() -> str:
    """A fresh random token for one server run."""
    return secrets.token_urlsafe(24)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Guard:
    """Who the server is (host names, port), its token and its body limits."""

    port: int
    bind: str = "127.0.0.1"
    token: str = field(default_factory=new_token)
    #: bytes allowed per path prefix (longest prefix wins); others get ``default_limit``
    limits: tuple[tuple[str, int], ...] = ()
    default_limit: int = 64 * 1024

    @property
    def all_interfaces(self) -> bool:
        return self.bind in ("0.0.0.0", "::", "")

    def host_names(self) -> set[str]:
        """The bare names this server answers to."""
        names = {"127.0.0.1", "localhost", "[::1]", self.bind}
        if self.all_interfaces:
            names.add(socket.gethostname().lower())
        return {n.lower() for n in names if n}

    def host_ok(self, host: str) -> bool:
        """Whether a ``Host`` header value names this server."""
        host = host.strip().lower()
        if not host:
            return False
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name:  # no port given: only valid for port 80
            name, port = host, "80"
        if port != str(self.port):
            return False
        return name in self.host_names() or (self.all_interfaces and _is_ip(name))

    def origin_ok(self, origin: str, host: str) -> bool:
        """An ``Origin`` is acceptable only when it is this very server as the browser addressed it."""
        return hmac.compare_digest(origin.strip().lower(), f"http://{host.strip().lower()}")

    def token_ok(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(value.encode(), self.token.encode())  # type: ignore[union-attr]

    def limit_for(self, path: str) -> int:
        best, limit = -1, self.default_limit
        for prefix, n in self.limits:
            if path.startswith(prefix) and len(prefix) > best:
                best, limit = len(prefix), n
        return limit


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised inside the app when a streamed body passes its limit."""


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


class GuardMiddleware:
    """ASGI middleware applying :class:`Guard` to every HTTP request (see module docstring)."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # the server speaks no WebSocket: refuse the handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        h = _headers(scope)
        host = h.get("host", "")
        if not self.guard.host_ok(host):
            await _refuse(send, 421, f"this server does not answer to the host name {host!r}; "
                                     f"open http://127.0.0.1:{self.guard.port}/")
            return
        method = scope.get("method", "GET").upper()
        origin = h.get("origin")
        if origin is not None and not self.guard.origin_ok(origin, host):
            await _refuse(send, 403, "cross-origin request refused: only this server's own pages may call it")
            return
        site = h.get("sec-fetch-site", "same-origin")
        if site not in ("same-origin", "none") and (method not in SAFE_METHODS or h.get("sec-fetch-mode") != "navigate"):
            # another site may link to the page (a navigation), never load from it: an <audio> on a foreign
            # page sends no Origin, but would play a recording and learn its length
            await _refuse(send, 403, "cross-site request refused")
            return
        if method not in SAFE_METHODS:
            if not self.guard.token_ok(h.get(TOKEN_HEADER)):
                await _refuse(send, 403, "missing or wrong session token: reload the page "
                                         "(the server was restarted, or this is not its page)")
                return
        limit = self.guard.limit_for(scope.get("path", ""))
        length = h.get("content-length")
        if length is not None:
            if not length.isdigit():
                await _refuse(send, 400, "bad Content-Length")
                return
            if int(length) > limit:
                await _refuse(send, 413, f"request body of {_mb(int(length))} refused: the limit here is "
                                         f"{_mb(limit)}")
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(f"request body passed the limit of {_mb(limit)}: refused")
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as exc:
            if not started:
                await _refuse(send, 413, str(exc))


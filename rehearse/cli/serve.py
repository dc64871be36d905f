"""The ``serve`` command: the practice page in the browser (see :mod:`rehearse.web`)."""

from __future__ import annotations

from typing import Annotated

import typer

from rehearse.cli import (
    BankOpt,
    EngineOpt,
    HotwordsOpt,
    JudgeOpt,
    ModelOpt,
    NoShippedOpt,
    RecordingsOpt,
    _judge,
    app,
    cli_errors,
)
from rehearse.errors import UsageError


def _free(host: str, port: int) -> None:
    """Fail with one line when the port is taken (before uvicorn prints its own traceback-ish log)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}): is another 'rehearse serve' "
                             "running? Pick another --port.") from None


def _open_when_listening(url: str, port: int, timeout_s: float = 30.0) -> None:
    """Open ``url`` in the user's browser as soon as the server accepts connections on ``port``."""
    import socket
    import time
    import webbrowser
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or "127.0.0.1"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        return
    webbrowser.open(url)


@app.command(rich_help_panel="Practise")
@cli_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 127.0.0.1 (this computer only) "
                                                     "unless you really mean otherwise.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the page in a browser.")] = False,
    recordings: RecordingsOpt = None,
    max_seconds: Annotated[float, typer.Option("--max-seconds", min=10, max=3 * 3600,
                                               help="The longest answer taken, in seconds.")] = 15 * 60,
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
    judge: JudgeOpt = "offline",
    hotwords: HotwordsOpt = True,
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
) -> None:
    """Practise in the browser: a local page with a record button, the report with your recording, progress.

    Everything stays on this computer: the page loads nothing from the internet,
    answers are recorded to the recordings folder as you speak, and attempts go
    to the same history as 'rehearse practice'. Ctrl-C stops the server.
    """
    import threading

    import uvicorn

    from rehearse.engines import get_engine
    from rehearse.paths import recordings_dir
    from rehearse.web.app import WebConfig, create_app, load_library

    load_library(tuple(bank or ()), not no_shipped)  # a broken bank is one line now, not a 500 later
    if host in ("0.0.0.0", "::", ""):
        typer.echo("warning: listening on all interfaces: anyone on your network can reach this page. Browsers "
                   "allow the microphone only on localhost or HTTPS, so record from this computer.", err=True)
    _free(host, port)
    config = WebConfig(engine=get_engine(engine, model), recordings=(recordings or recordings_dir()).resolve(),
                       port=port, host=host, banks=tuple(bank or ()), shipped=not no_shipped, judge=_judge(judge),
                       hotwords=hotwords, max_seconds=max_seconds)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/"
    typer.echo(f"rehearse is at {url}  (Ctrl-C stops it; recordings go to {config.recordings})")
    if not no_browser:  # once the server answers: a browser opened before it listens shows "connection refused"
        threading.Thread(target=_open_when_listening, args=(url, port), name="rehearse-browser", daemon=True).start()
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)

"""Spoken questions cached on disk, and made in the background before they are needed.

A question's audio is keyed by (text, language, engine, voice): the same question read twice is
synthesised once, and a file appears in the cache only whole (written beside it, then renamed).
:class:`Prefetcher` synthesises into the cache on one worker thread, so the next question is ready
by the time the user has answered the current one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from rehearse.errors import RehearseError, TTSError

KEY_VERSION = "2"  # bump when the same key would now sound different (a new G2P, speed …)


def cache_key(text: str, lang: str, engine: str, voice: str | None) -> str:
    """A file-name-safe key for one spoken text."""
    raw = "\x1f".join((KEY_VERSION, engine, voice or "", lang, text))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def spoken_voice(engine: object, lang: str, voice: str | None) -> str | None:
    """The voice that will read ``lang``: ``voice``, else the engine's own default when it names one (Kokoro's
    changes once its Mandarin styles are installed, and the cache must not serve the old voice)."""
    default = getattr(engine, "default_voice", None)
    if voice or not callable(default):
        return voice
    try:
        return str(default(lang))
    except RehearseError:  # damaged voice files: the synthesis itself will say so
        return None


class AudioCache:
    """WAV files under ``folder``, one per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """Where the audio for ``key`` lives (whether or not it exists yet)."""
        return self.folder / f"{key}.wav"

    def get(self, key: str) -> Path | None:
        """The cached file for ``key``, or None."""
        p = self.path(key)
        return p if p.is_file() and p.stat().st_size > 44 else None

    def make(self, key: str, synth: Callable[[Path], Path]) -> Path:
        """The cached file for ``key``, calling ``synth(tmp_path)`` to make it when missing.

        The file appears whole or not at all. A cache folder that cannot be written (read-only, full)
        still gives audio: it is then made in a temporary folder and not kept."""
        hit = self.get(key)
        if hit is not None:
            return hit
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=self.folder)
            os.close(fd)
        except OSError:
            fd, tmp = tempfile.mkstemp(prefix="rehearse-tts-", suffix=".wav")
            os.close(fd)
            return synth(Path(tmp))
        try:
            synth(Path(tmp))
            os.replace(tmp, self.path(key))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.path(key)


class Prefetcher:
    """Runs syntheses on one background thread; the caller waits only for what it needs now."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[Path]] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, job: Callable[[], Path]) -> None:
        """Start ``job`` in the background unless one for ``key`` is already running."""
        with self._lock:
            if key in self._pending:
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rehearse-tts")
            self._pending[key] = self._pool.submit(job)

    def result(self, key: str, timeout: float | None = None) -> Path | None:
        """The file made for ``key`` in the background (waiting for it), or None if none was started.
        A failed background job raises its error here, once."""
        with self._lock:
            fut = self._pending.pop(key, None)
        if fut is None:
            return None
        try:
            return fut.result(timeout)
        except TTSError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in an engine: one line, the question is still shown
            raise TTSError(f"the background synthesis failed ({type(exc).__name__}: {exc})") from None

    def close(self) -> None:
        """Stop taking work; a running job is left to finish on its own thread."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._pending.clear()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

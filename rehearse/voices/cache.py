"""Spoken questions cached on disk, and made in the background before they are needed.

A question's audio is keyed by (text, language, engine, voice): the same question read twice is
synthesised once, and a file appears in the cache only whole (written beside it, then renamed).
Questions are made into it ahead of time and streamed while they are made by :mod:`rehearse.voices.stream`.
A miss is first looked up in the clips shipped in the package (:mod:`rehearse.voices.shipped`: every shipped
question, read by the default voice), under the same key.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rehearse.errors import RehearseError

KEY_VERSION = "2"  # bump when the same key would now sound different (a new G2P, speed …)
SHIPPED = Path(__file__).resolve().parent.parent / "data" / "spoken"  # the shipped questions, spoken


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
    """WAV files under ``folder``, one per key; a miss is filled from the clips in ``shipped`` when one has that
    key (None: none are consulted)."""

    shipped: Path | None = SHIPPED

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """Where the audio for ``key`` lives (whether or not it exists yet)."""
        return self.folder / f"{key}.wav"

    def _file(self, key: str) -> Path | None:
        p = self.path(key)
        return p if p.is_file() and p.stat().st_size > 44 else None

    def get(self, key: str) -> Path | None:
        """The cached file for ``key``, or None. On a miss, a shipped clip with that key is decoded into the
        cache (whole, like :meth:`make`) and that file returned; a damaged one is a miss."""
        hit = self._file(key)
        if hit is not None or self.shipped is None:
            return hit
        from rehearse.voices.shipped import unpack

        clip = unpack(key, self.shipped)
        if clip is None:
            return None
        import soundfile as sf

        def write(tmp: Path) -> Path:
            sf.write(str(tmp), clip[0], clip[1], subtype="PCM_16")
            return tmp

        try:
            return self.make(key, write)
        except (OSError, RuntimeError):  # a full disk: a miss, made as if nothing were shipped
            return None

    def make(self, key: str, synth: Callable[[Path], Path]) -> Path:
        """The cached file for ``key``, calling ``synth(tmp_path)`` to make it when missing.

        The file appears whole or not at all. A cache folder that cannot be written (read-only, full)
        still gives audio: it is then made in a temporary folder and not kept."""
        hit = self._file(key)
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

    def sweep(self, older_than_s: float = 3600.0) -> int:
        """Delete the scratch files (``.tmp-*``) of syntheses that never finished (a process killed half way;
        a normal end, Ctrl-C included, leaves none); how many were deleted. Recent ones may be in use."""
        gone = 0
        try:
            for p in self.folder.glob(".tmp-*"):
                if time.time() - p.stat().st_mtime > older_than_s:
                    p.unlink(missing_ok=True)
                    gone += 1
        except OSError:
            pass
        return gone

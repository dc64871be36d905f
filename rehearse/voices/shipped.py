"""The shipped questions, already spoken: a brand-new user's first session starts speaking at once.

Every question of the shipped banks, read by the default offline voice (Kokoro with
:data:`~rehearse.voices.kokoro.MANDARIN_VOICE` for Mandarin, ``jm_kumo`` for English, the default on Linux),
ships as an Ogg Opus clip in
``rehearse/data/spoken/<cache key>.opus``, listed in ``manifest.tsv`` with its SHA-256, the question id, the
voice, the speed and what the G2P made of the text (so a G2P change that is not re-rendered is caught by the
tests). :meth:`rehearse.voices.cache.AudioCache.get` consults them when the user's cache misses, keyed by
exactly the same :func:`~rehearse.voices.cache.cache_key`: the clip is checked against its SHA-256, decoded
and written into the user's cache as WAV (whole, by a rename), so every reader keeps reading WAV. Another
text, voice, engine or ``KEY_VERSION`` is another key and simply misses; a damaged or missing clip is a miss
too, and the question is synthesised as before. ``make spoken-questions``
(``scripts/make_spoken_questions.py``) renders them again.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rehearse.voices.cache import SHIPPED, cache_key

MANIFEST = "manifest.tsv"
SUFFIX = ".opus"
ENGINE = "kokoro"  # the default engine for both languages on Linux (nothing comes before it there)
REMAKE = "make spoken-questions"  # the command that renders them again
COLUMNS = ("key", "sha256", "id", "voice", "speed", "phonemes")


@dataclass(frozen=True)
class Clip:
    """One shipped clip: a row of the manifest."""

    key: str
    sha256: str
    id: str  # the question's id
    voice: str
    speed: float
    phonemes: str  # what the G2P made of the text (:func:`phonemes`)


def default_key(text: str, lang: str) -> str:
    """The cache key of ``text`` read by Kokoro's default voice for ``lang``."""
    from rehearse.voices.kokoro import KokoroEngine

    return cache_key(text, lang, ENGINE, KokoroEngine.default_voice(lang))


def phonemes(g2p: Any, text: str, lang: str) -> str:
    """What a :class:`~rehearse.voices.g2p.Phonemizer` makes of ``text``: its chunks and the pauses after them."""
    return " | ".join(f"{c.phonemes} ({c.pause_s:g} s)" for c in g2p.chunks(text, lang))


def read_manifest(folder: Path = SHIPPED) -> dict[str, Clip]:
    """key -> clip, from ``folder``'s manifest; empty when there is none (or it cannot be read)."""
    try:
        lines = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    clips = {}
    for line in lines:
        cells = line.split("\t")
        if line.startswith("#") or len(cells) != len(COLUMNS):
            continue
        try:
            clip = Clip(cells[0], cells[1], cells[2], cells[3], float(cells[4]), cells[5])
        except ValueError:
            continue
        clips[clip.key] = clip
    return clips


def write_manifest(folder: Path, clips: list[Clip]) -> None:
    """Write ``folder``'s manifest (whole, by a rename)."""
    rows = ["# " + "\t".join(COLUMNS)]
    rows += ["\t".join((c.key, c.sha256, c.id, c.voice, f"{c.speed:g}", c.phonemes)) for c in clips]
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)


def unpack(key: str, folder: Path = SHIPPED) -> tuple[np.ndarray, int] | None:
    """The shipped clip for ``key`` as (16-bit samples, sample rate), or None when there is none, or it is
    damaged (its SHA-256 differs from the manifest's, or it does not decode)."""
    clip = read_manifest(folder).get(key)
    if clip is None:
        return None
    import soundfile as sf

    try:
        data = (folder / f"{key}{SUFFIX}").read_bytes()
        if hashlib.sha256(data).hexdigest() != clip.sha256:
            return None
        audio, rate = sf.read(io.BytesIO(data), dtype="int16")
    except (OSError, RuntimeError, ValueError, TypeError):  # soundfile's LibsndfileError is a RuntimeError
        return None
    return (audio, int(rate)) if audio.ndim == 1 and len(audio) else None

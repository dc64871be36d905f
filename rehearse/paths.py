"""Where rehearse keeps things. Four environment variables override the defaults:

| variable | what | default |
| --- | --- | --- |
| ``REHEARSE_HOME`` | the history (history.db), learned wordings, llm.toml | the per-user data dir (``~/.local/share/rehearse``) |
| ``REHEARSE_MODELS`` | rehearse's own Whisper model copies | the per-user cache dir + ``/models`` |
| ``REHEARSE_RECORDINGS`` | where practice records answers | ``./recordings`` if it exists, else ``$REHEARSE_HOME/recordings`` |
| ``REHEARSE_PROMPTS`` | the shipped question banks | the checkout's ``prompts/``, else the installed package's |
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def home_dir() -> Path:
    """rehearse's per-user data directory: ``$REHEARSE_HOME``, else platformdirs' user data dir."""
    env = os.environ.get("REHEARSE_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("rehearse", appauthor=False))


def model_dir() -> Path:
    """Directory holding rehearse's own model copies: ``$REHEARSE_MODELS``, else the user cache dir."""
    env = os.environ.get("REHEARSE_MODELS")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rehearse")) / "models"


def recordings_dir(cwd: Path | None = None) -> Path:
    """Where answers are recorded when ``--recordings`` is not given.

    ``$REHEARSE_RECORDINGS`` if set; else ``./recordings`` if the current
    directory has one (as the project checkout does); else
    ``<rehearse home>/recordings``, beside the history database.
    """
    env = os.environ.get("REHEARSE_RECORDINGS")
    if env:
        return Path(env).expanduser()
    local = (cwd or Path.cwd()) / "recordings"
    return local.resolve() if local.is_dir() else home_dir() / "recordings"


def shipped_bank_dir() -> Path:
    """Where the shipped banks live: ``$REHEARSE_PROMPTS``, the checkout's prompts/, or the installed package's."""
    env = os.environ.get("REHEARSE_PROMPTS")
    if env:
        return Path(env).expanduser()
    for candidate in (_PACKAGE.parent / "prompts", _PACKAGE / "prompts"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE.parent / "prompts"


def speech_cache_dir() -> Path:
    """Where questions read aloud are cached: ``$REHEARSE_HOME/cache/speech`` when REHEARSE_HOME is set (so a
    test or a second profile keeps its own), else the per-user cache dir + ``/speech``."""
    if os.environ.get("REHEARSE_HOME"):
        return home_dir() / "cache" / "speech"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rehearse")) / "speech"

"""Transcription engines behind one small interface (:class:`rehearse.transcript.Engine`), in a registry.

* ``faster-whisper`` (default): CTranslate2, int8 on CPU; 2.4–4.9× faster than
  openai-whisper on the same model here.
* ``openai-whisper``: the reference implementation (PyTorch, fp32 on CPU).

Like llm's model plugins, an engine is registered by name with
:func:`register_engine`; the CLI's ``--engine`` accepts every registered name,
so a test's fake engine reaches the real commands.
"""

from __future__ import annotations

from collections.abc import Callable

from rehearse.errors import EngineError
from rehearse.transcript import Engine

DEFAULT_ENGINE = "faster-whisper"
DEFAULT_MODEL = "base"


def _faster(model: str) -> Engine:
    from rehearse.engines.faster import FasterWhisperEngine

    return FasterWhisperEngine(model)


def _openai(model: str) -> Engine:
    try:
        from rehearse.engines.openai_whisper import OpenAIWhisperEngine
    except ImportError as exc:
        raise EngineError(
            "The openai-whisper engine is not installed: pip install 'rehearse[openai]' "
            f"(it needs PyTorch; {exc})."
        ) from None
    return OpenAIWhisperEngine(model)


_REGISTRY: dict[str, Callable[[str], Engine]] = {"faster-whisper": _faster, "openai-whisper": _openai}


def register_engine(name: str, factory: Callable[[str], Engine]) -> None:
    """Make an engine available by name; ``factory(model)`` builds it (models load lazily)."""
    _REGISTRY[name] = factory


def engine_names() -> list[str]:
    """The registered engines, the default first."""
    return sorted(_REGISTRY, key=lambda n: (n != DEFAULT_ENGINE, n))


def get_engine(name: str = DEFAULT_ENGINE, model: str = DEFAULT_MODEL) -> Engine:
    """Create an engine by name. Models load lazily, on first use or ``load()``."""
    factory = _REGISTRY.get(name)
    if factory is None:
        raise EngineError(f"Unknown engine '{name}'. Choose one of: {', '.join(engine_names())}.")
    return factory(model)

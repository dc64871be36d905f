"""Transcription engines behind one small interface (:class:`rehearse.transcript.Engine`).

* ``faster-whisper`` (default): CTranslate2, int8 on CPU; 2.4–4.9× faster than
  openai-whisper on the same model here.
* ``openai-whisper``: the reference implementation (PyTorch, fp32 on CPU).
"""

from __future__ import annotations

from rehearse.errors import EngineError
from rehearse.transcript import Engine

ENGINES = ("faster-whisper", "openai-whisper")
DEFAULT_ENGINE = "faster-whisper"
DEFAULT_MODEL = "base"


def get_engine(name: str = DEFAULT_ENGINE, model: str = DEFAULT_MODEL) -> Engine:
    """Create an engine by name. Models load lazily, on first use or ``load()``."""
    if name == "faster-whisper":
        from rehearse.engines.faster import FasterWhisperEngine

        return FasterWhisperEngine(model)
    if name == "openai-whisper":
        try:
            from rehearse.engines.openai_whisper import OpenAIWhisperEngine
        except ImportError as exc:
            raise EngineError(
                "The openai-whisper engine is not installed: pip install 'rehearse[openai]' "
                f"(it needs PyTorch; {exc})."
            ) from None
        return OpenAIWhisperEngine(model)
    raise EngineError(f"Unknown engine '{name}'. Choose one of: {', '.join(ENGINES)}.")

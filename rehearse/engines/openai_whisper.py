"""openai-whisper engine: the reference PyTorch implementation, fp32 on CPU.

Models are an official name (``whisper.available_models()``: ``tiny``, ``base``,
``small``, ``large-v3``, ``turbo``, ...) or a path to a ``.pt`` checkpoint. A named
model already in the cache directory loads without touching the network; otherwise
``whisper.load_model`` downloads it once (users with internet), and a failed
download becomes a :class:`ModelNotFoundError` that says how to get the model.
"""

from __future__ import annotations

import os
import urllib.error
from pathlib import Path
from typing import Any

import numpy as np
import whisper

from rehearse.audio import SAMPLE_RATE
from rehearse.errors import EngineError, ModelNotFoundError
from rehearse.transcript import (
    Segment,
    TranscribeOptions,
    Transcript,
    Word,
    join_texts,
)

# torch.load's weights-only unpickler can raise almost anything (IndexError, KeyError,
# UnpicklingError, RuntimeError, ...) on bytes that are not a checkpoint, so reading a
# checkpoint turns any Exception into a clear EngineError.
_BAD_CHECKPOINT = (Exception,)
# What a failed download raises (URLError and socket timeouts are OSErrors;
# a checksum mismatch is a RuntimeError).
_DOWNLOAD_FAILED = (urllib.error.URLError, OSError, RuntimeError)

_HOW_TO_GET = ("connect to the internet once and rerun, pass --model /path/to/model.pt, "
               "or use the default faster-whisper engine, whose base model `make setup` installs")


def default_download_root() -> str:
    """Whisper's own cache directory: ``$XDG_CACHE_HOME/whisper`` or ``~/.cache/whisper``."""
    default = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.getenv("XDG_CACHE_HOME", default), "whisper")


def cached_checkpoint(name: str, download_root: str) -> Path:
    """Where whisper stores the checkpoint of the official model ``name`` in ``download_root``."""
    url: str = whisper._MODELS[name]  # noqa: SLF001 - the only place the file name is defined
    return Path(download_root) / os.path.basename(url)


def _looks_like_path(model: str) -> bool:
    return model.endswith(".pt") or os.sep in model or "/" in model or model.startswith("~")


class OpenAIWhisperEngine:
    """Transcribes with openai-whisper (``whisper.transcribe``), fp32, no ffmpeg."""

    name = "openai-whisper"

    def __init__(self, model: str, *, download_root: str | None = None, device: str = "cpu") -> None:
        self.model = model
        self.download_root = download_root
        self.device = device
        self.model_name = Path(model).stem if _looks_like_path(model) else model
        self._model: whisper.Whisper | None = None

    # -- loading --------------------------------------------------------------------------

    def load(self) -> whisper.Whisper:
        """Load the model now (it is otherwise loaded on first use) and cache it."""
        if self._model is None:
            if self.model in whisper.available_models():
                self._model = self._load_named(self.model)
            else:
                self._model = self._load_path(self.model)
        return self._model

    def _load_path(self, model: str) -> whisper.Whisper:
        """Load a ``.pt`` checkpoint file; unknown names and bad files raise clear errors."""
        path = Path(model).expanduser()
        if not path.exists():
            if _looks_like_path(model):
                raise ModelNotFoundError(f"No Whisper model file at {path}.")
            raise ModelNotFoundError(
                f"Unknown openai-whisper model '{model}'. Choose one of: "
                f"{', '.join(whisper.available_models())}, or pass a path to a .pt checkpoint.")
        if not path.is_file():
            raise EngineError(f"{path} is a directory, not an openai-whisper .pt checkpoint "
                              "(a CTranslate2 model folder needs the faster-whisper engine).")
        self.model_name = path.stem
        return self._read_checkpoint(path)

    def _read_checkpoint(self, path: Path) -> whisper.Whisper:
        try:
            return whisper.load_model(str(path), device=self.device)
        except _BAD_CHECKPOINT as exc:
            raise EngineError(f"{path} is not a valid openai-whisper checkpoint "
                              f"({type(exc).__name__}: {exc}).") from None

    def _load_named(self, name: str) -> whisper.Whisper:
        """Load an official model: from the cache without network, else download it."""
        root = self.download_root or default_download_root()
        cached = cached_checkpoint(name, root)
        if cached.is_file():
            try:
                model = whisper.load_model(str(cached), device=self.device)
            except _BAD_CHECKPOINT as exc:
                raise ModelNotFoundError(
                    f"The cached openai-whisper model '{name}' at {cached} is incomplete or corrupt "
                    f"({type(exc).__name__}); delete it and rerun with internet once.") from None
            try:
                model.set_alignment_heads(whisper._ALIGNMENT_HEADS[name])  # noqa: SLF001
            except (KeyError, RuntimeError, ValueError):
                pass  # not the official layout: keep the default heads (last half of layers)
            return model

        existed = cached.exists()
        try:
            return whisper.load_model(name, device=self.device, download_root=root)
        except _DOWNLOAD_FAILED as exc:
            if not existed and cached.is_file():
                cached.unlink(missing_ok=True)  # drop a partial download
            raise ModelNotFoundError(
                f"The openai-whisper model '{name}' is not in {root} and could not be downloaded "
                f"({type(exc).__name__}: {getattr(exc, 'reason', exc)}); to get it, {_HOW_TO_GET}."
            ) from None

    # -- transcription ----------------------------------------------------------------------

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> Transcript:
        """Transcribe 16 kHz mono float32 samples. Returns raw (unfiltered) segments."""
        model = self.load()
        samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        beam = options.beam_size if options.beam_size > 1 else None
        result: dict[str, Any] = model.transcribe(
            samples,  # an array, so no ffmpeg
            verbose=None,
            language=options.language,
            task="transcribe",
            beam_size=beam,
            best_of=beam,  # candidates when falling back to sampling (t > 0)
            temperature=tuple(options.temperature),
            # openai-whisper has no hotwords: they join the prompt (first window only)
            initial_prompt=" ".join(p for p in (options.prompt, options.hotwords) if p) or None,
            word_timestamps=options.word_timestamps,
            condition_on_previous_text=False,
            fp16=False,
        )
        language = result.get("language") or options.language
        segs = tuple(_segment(s) for s in result.get("segments", ()))
        return Transcript(text=join_texts([s.text for s in segs], language), segments=segs,
                          language=language, duration=len(samples) / SAMPLE_RATE,
                          engine=self.name, model=self.model_name)


def _segment(s: dict[str, Any]) -> Segment:
    """One whisper result segment (a dict) as a typed :class:`Segment`."""
    words = tuple(
        Word(start=float(w["start"]), end=float(w["end"]), text=str(w["word"]).strip(),
             probability=float(w.get("probability", 1.0)))
        for w in s.get("words") or ()
    )
    return Segment(
        start=float(s["start"]), end=float(s["end"]), text=str(s["text"]).strip(), words=words,
        avg_logprob=float(s.get("avg_logprob", 0.0)), no_speech_prob=float(s.get("no_speech_prob", 0.0)),
        compression_ratio=float(s.get("compression_ratio", 1.0)),
    )

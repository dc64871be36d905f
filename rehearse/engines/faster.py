"""faster-whisper engine: CTranslate2 Whisper, int8 on CPU."""

from __future__ import annotations

import os

import numpy as np

from rehearse.audio import SAMPLE_RATE
from rehearse.errors import EngineError
from rehearse.models import resolve_ct2
from rehearse.transcript import (
    Segment,
    TranscribeOptions,
    Transcript,
    Word,
    join_texts,
)


class FasterWhisperEngine:
    """Transcribes with faster-whisper (``WhisperModel``)."""

    name = "faster-whisper"

    def __init__(self, model: str = "base", *, compute_type: str = "int8", cpu_threads: int | None = None) -> None:
        self.model_name = model
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or os.cpu_count() or 1
        self._model = None

    def load(self) -> None:
        """Resolve and load the model now (it is otherwise loaded on first use)."""
        if self._model is not None:
            return
        path = resolve_ct2(self.model_name)
        from faster_whisper import WhisperModel

        try:
            self._model = WhisperModel(path, device="cpu", compute_type=self.compute_type,
                                       cpu_threads=self.cpu_threads)
        except (RuntimeError, ValueError, OSError) as exc:
            repair = ("repair it with 'rehearse models install base'" if self.model_name == "base"
                      else "delete it and install it again")
            raise EngineError(f"Could not load the faster-whisper model at {path}; it looks damaged ({exc}): "
                              f"{repair}.") from None

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> Transcript:
        """Transcribe 16 kHz mono float32 samples (raw segments, unfiltered)."""
        self.load()
        assert self._model is not None
        segments, info = self._model.transcribe(
            audio.astype(np.float32, copy=False),
            language=options.language,
            task="transcribe",
            beam_size=options.beam_size,
            temperature=list(options.temperature),
            repetition_penalty=options.repetition_penalty,
            initial_prompt=options.prompt or None,
            hotwords=options.hotwords or None,
            word_timestamps=options.word_timestamps,
            condition_on_previous_text=False,
            vad_filter=options.vad_filter,
        )
        segs = tuple(
            Segment(
                start=float(s.start), end=float(s.end), text=s.text.strip(),
                words=tuple(Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                            for w in (s.words or ())),
                avg_logprob=float(s.avg_logprob), no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
            )
            for s in segments
        )
        return Transcript(text=join_texts([s.text for s in segs], options.language), segments=segs,
                          language=info.language or options.language,
                          duration=len(audio) / SAMPLE_RATE, engine=self.name, model=self.model_name)

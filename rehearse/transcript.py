"""Typed transcription results and the small interface every engine implements.

Engines (``rehearse.engines.*``) take a 16 kHz mono float32 array and a
:class:`TranscribeOptions`, and return a :class:`Transcript`. Everything
downstream (scoring, fluency, reports) reads only these types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

# Whisper prompt that nudges decoding toward Simplified Chinese with
# punctuation, and keeps English technical terms in Latin letters.
ZH_PROMPT = "以下是普通话的面试回答，使用简体中文和标点符号，英文术语保留英文，比如 InfoNCE loss、DDPM。"
EN_PROMPT = "The following is an interview answer, with punctuation."


def join_texts(texts: "list[str] | tuple[str, ...]", language: str) -> str:
    """Join segment texts: no space between Chinese segments, one space where
    Latin letters or digits would otherwise run together (``loss`` + ``DDIM``)."""
    out = ""
    for t in (t.strip() for t in texts):
        if not t:
            continue
        if out and (language not in ("zh", "ja") or (out[-1].isascii() and out[-1].isalnum()
                                                      and t[0].isascii() and t[0].isalnum())):
            out += " "
        out += t
    return out


@dataclass(frozen=True)
class Word:
    """One recognised word (for Mandarin often one or two characters)."""

    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """One decoded segment with Whisper's confidence figures."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0


@dataclass(frozen=True)
class Transcript:
    """A whole transcription: the text the scorer reads, and where it came from.

    ``dropped`` holds segments removed as non-speech or known hallucinations;
    they are kept for diagnosis but never reach the scorer.
    """

    text: str
    segments: tuple[Segment, ...]
    language: str
    duration: float
    engine: str = ""
    model: str = ""
    dropped: tuple[Segment, ...] = ()

    @property
    def has_speech(self) -> bool:
        return bool(self.text.strip())

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_text(cls, text: str, language: str, duration: float = 0.0) -> "Transcript":
        """A transcript for typed text: one segment, no timing."""
        seg = Segment(start=0.0, end=duration, text=text)
        return cls(text=text, segments=(seg,) if text else (), language=language,
                   duration=duration, engine="text", model="")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcript":
        segs = tuple(
            Segment(**{**s, "words": tuple(Word(**w) for w in s.get("words", ()))})
            for s in data.get("segments", ())
        )
        dropped = tuple(
            Segment(**{**s, "words": tuple(Word(**w) for w in s.get("words", ()))})
            for s in data.get("dropped", ())
        )
        return cls(text=data["text"], segments=segs, language=data["language"],
                   duration=data.get("duration", 0.0), engine=data.get("engine", ""),
                   model=data.get("model", ""), dropped=dropped)


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding options shared by all engines (instead of 40 keywords)."""

    language: str = "zh"
    beam_size: int = 5
    word_timestamps: bool = True
    initial_prompt: str | None = None
    #: terms to bias every window of decoding toward (faster-whisper ``hotwords``), e.g. the question's vocabulary
    hotwords: str | None = None
    vad_filter: bool = True
    temperature: tuple[float, ...] = field(default=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0))
    #: > 1 discourages tokens already written (faster-whisper only; openai-whisper has no such option): the
    #: live transcriber's short chunks sometimes loop ("3D-to-3D-to-…") until the token limit, then again at
    #: every fallback temperature — one 11 s chunk took 39 s (see :data:`rehearse.live.REPETITION_PENALTY`)
    repetition_penalty: float = 1.0

    @property
    def prompt(self) -> str:
        """The prompt actually sent: the explicit one, or the language default."""
        if self.initial_prompt is not None:
            return self.initial_prompt
        return ZH_PROMPT if self.language == "zh" else EN_PROMPT


class Engine(Protocol):
    """What every transcription engine provides."""

    name: str
    model_name: str

    def load(self) -> None:
        """Resolve and load the model now (raises ModelNotFoundError / EngineError)."""
        ...

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> Transcript:
        """Transcribe 16 kHz mono float32 samples. Returns raw (unfiltered) segments."""
        ...


def char_times(transcript: Transcript) -> list[tuple[float, float]]:
    """For each character of ``transcript.text``: the (start, end) time it was spoken.

    Uses word timestamps where the engine gave them, else spreads each
    segment's time evenly over its characters.
    """
    text = transcript.text
    times: list[tuple[float, float]] = [(0.0, 0.0)] * len(text)
    cursor = 0
    for seg in transcript.segments:
        st = seg.text.strip()
        if not st:
            continue
        pos = text.find(st, cursor)
        if pos < 0:
            continue
        span = max(len(st), 1)
        for i in range(len(st)):
            t0 = seg.start + (seg.end - seg.start) * i / span
            t1 = seg.start + (seg.end - seg.start) * (i + 1) / span
            times[pos + i] = (t0, t1)
        wc = pos
        for w in seg.words:
            wt = w.text.strip()
            if not wt:
                continue
            wpos = text.find(wt, wc, pos + len(st))
            if wpos < 0:
                continue
            for i in range(wpos, wpos + len(wt)):
                times[i] = (w.start, w.end)
            wc = wpos + len(wt)
        cursor = pos + len(st)
    return times

"""The transcription pipeline: audio → engine → guards → a clean :class:`Transcript`.

Guards against Whisper's known failure on silence and noise:

* digital silence / very quiet input and audio in which voice activity
  detection finds no speech never reach the engine;
* segments Whisper itself marks as non-speech (no-speech probability > 0.6
  with average log-probability < −1, or, for segments under 1 s, > 0.4 with
  < −0.7: the "Thank you." Whisper appends after a clip's last word), repetition loops (compression ratio
  > 2.4), echoes of the decoding prompt (whole segments, or the tail of a
  segment where Whisper starts looping the prompt) and known hallucinated strings
  ("字幕由Amara.org社区提供", "请不吝点赞 订阅 转发 …") are dropped and kept
  aside in ``Transcript.dropped``;
* Mandarin output is converted to Simplified characters (OpenCC).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz

from rehearse.audio import SAMPLE_RATE, is_silent
from rehearse.normalize import atomize, is_han, normalize, to_simplified
from rehearse.transcript import (
    Engine,
    Segment,
    TranscribeOptions,
    Transcript,
    join_texts,
)
from rehearse.vad import speech_regions

# Strings Whisper produces from silence, music or noise (normalised form: see
# rehearse.normalize.normalize). A segment containing one is never speech.
HALLUCINATIONS = tuple(normalize(s) for s in (
    "字幕由Amara.org社区提供", "Amara.org", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    "请不吝点赞订阅转发", "点赞订阅转发", "订阅我的频道", "字幕志愿者", "中文字幕提供",
    "优优独播剧场", "YoYo Television Series Exclusive", "Subtitles by the Amara.org community",
    "Thank you for watching", "Thanks for watching", "感谢观看", "谢谢观看", "明镜与点点",
))
NO_SPEECH_PROB = 0.6
LOGPROB_FLOOR = -1.0
MAX_COMPRESSION = 2.4
SHORT_SEGMENT_S = 1.0


def is_hallucination(segment: Segment, prompt: str = "", hotwords: str | None = None) -> bool:
    """True for a segment that is not speech (see module docstring).

    With ``hotwords`` (the comma-separated terms decoding was biased toward), a
    segment holding three of them in a row is Whisper reading its hint back.
    """
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOGPROB_FLOOR:
        return True
    # short, unsure tail segments ("Thank you." after the last word of a clip)
    if (segment.end - segment.start < SHORT_SEGMENT_S and segment.no_speech_prob > 0.4
            and segment.avg_logprob < -0.7):
        return True
    if segment.compression_ratio > MAX_COMPRESSION:
        return True
    norm = normalize(segment.text)
    if not norm:
        return True
    if any(h and h in norm for h in HALLUCINATIONS):
        return True
    if hotwords:
        terms = [normalize(t) for t in hotwords.split(",") if normalize(t)]
        if any(normalize("".join(terms[i:i + 3])) in norm for i in range(len(terms) - 2)):
            return True
    return bool(prompt) and len(norm) >= 6 and fuzz.partial_ratio(norm, normalize(prompt)) >= 90


ECHO_RUN = 6  # normalised characters of the prompt that, found in a segment, mark an echo


def cut_prompt_echo(segment: Segment, prompt: str) -> Segment:
    """Cut a segment where Whisper starts repeating its decoding prompt.

    Whisper sometimes continues a real segment with a loop of the prompt
    ("……英文术语保留英文术语保留"); the text (and words) from the first run of
    ``ECHO_RUN`` prompt characters on are removed.
    """
    key = normalize(prompt)
    # Han-only runs: the prompt's English examples (InfoNCE loss, DDPM) are also
    # things a speaker really says.
    grams = {g for g in (key[i:i + ECHO_RUN] for i in range(len(key) - ECHO_RUN + 1))
             if all(is_han(c) for c in g)}
    atoms = atomize(segment.text)
    chars = "".join(a.char for a in atoms)
    for i in range(len(chars) - ECHO_RUN + 1):
        if chars[i:i + ECHO_RUN] in grams:
            cut = atoms[i].start
            text = segment.text[:cut].rstrip(" ，,、")
            kept_words, pos = [], 0
            for w in segment.words:
                found = segment.text.find(w.text, pos)
                pos = found + len(w.text) if found >= 0 else pos + len(w.text)
                if pos > cut:
                    break
                kept_words.append(w)
            end = kept_words[-1].end if kept_words else segment.start
            return replace(segment, text=text, words=tuple(kept_words), end=max(end, segment.start))
    return segment


def clean(raw: Transcript, options: TranscribeOptions) -> Transcript:
    """Drop non-speech segments, cut prompt echoes, convert Mandarin to Simplified characters."""
    kept: list[Segment] = []
    dropped: list[Segment] = list(raw.dropped)
    for seg in raw.segments:
        if is_hallucination(seg, options.prompt, options.hotwords):
            dropped.append(seg)
            continue
        cut = cut_prompt_echo(seg, options.prompt)
        if cut is not seg:
            dropped.append(replace(seg, text=seg.text[len(cut.text):].strip(" ，,、"), start=cut.end, words=()))
            if not normalize(cut.text):
                continue
        kept.append(cut)
    if options.language == "zh":
        kept = [replace(s, text=to_simplified(s.text),
                        words=tuple(replace(w, text=to_simplified(w.text)) for w in s.words)) for s in kept]
    return replace(raw, text=join_texts([s.text for s in kept], options.language),
                   segments=tuple(kept), dropped=tuple(dropped))


@dataclass(frozen=True)
class Recognition:
    """A transcript with the voice-activity regions it was cut from."""

    transcript: Transcript
    speech: tuple[tuple[float, float], ...]

    @property
    def has_speech(self) -> bool:
        return self.transcript.has_speech


def recognise(audio: np.ndarray, engine: Engine, options: TranscribeOptions) -> Recognition:
    """Transcribe 16 kHz mono audio with all the guards applied."""
    duration = len(audio) / SAMPLE_RATE
    empty = Transcript(text="", segments=(), language=options.language, duration=duration,
                       engine=engine.name, model=engine.model_name)
    if audio.size == 0 or is_silent(audio):
        return Recognition(empty, ())
    regions = tuple(speech_regions(audio))
    if not regions:
        return Recognition(empty, ())
    raw = engine.transcribe(audio, options)
    return Recognition(clean(raw, options), regions)

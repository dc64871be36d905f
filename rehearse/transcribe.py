"""The transcription pipeline: audio → engine → guards → a clean :class:`Transcript`.

Guards against Whisper's known failure on silence and noise:

* digital silence / very quiet input and audio in which voice activity
  detection finds no speech never reach the engine;
* segments Whisper itself marks as non-speech (no-speech probability > 0.6
  with average log-probability < −1, or, for segments under 1 s, > 0.4 with
  < −0.7: the "Thank you." Whisper appends after a clip's last word), repetition loops (compression ratio
  > 2.4; shorter loops are cut after their first unit), echoes of the decoding prompt (whole segments, or the tail of a
  segment where Whisper starts looping the prompt) and known hallucinated strings
  ("字幕由Amara.org社区提供", "请不吝点赞 订阅 转发 …") are dropped and kept
  aside in ``Transcript.dropped``;
* Mandarin output is converted to Simplified characters (OpenCC);
* speech the recogniser skipped is decoded again (:func:`refill_skipped`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz

from rehearse.audio import SAMPLE_RATE, is_silent
from rehearse.normalize import atomize, is_han, normalize, stray_digits_to_commas, to_simplified
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
    segment holding three of them in a row, or nothing but hotwords said more than
    once ("text prompt, text prompt, text prompt,"), is Whisper reading its hint back.
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
        if only_hotwords(norm, terms) >= 2:
            return True
    return bool(prompt) and len(norm) >= 6 and fuzz.partial_ratio(norm, normalize(prompt)) >= 90


def only_hotwords(norm: str, terms: list[str]) -> int:
    """How many hotwords ``norm`` (normalised text) is made of, when it is nothing but hotwords; else 0."""
    count = 0
    for term in sorted(set(terms), key=len, reverse=True):
        count += norm.count(term)
        norm = norm.replace(term, "")
    return 0 if norm else count


ECHO_RUN = 6  # normalised characters of the prompt that, found in a segment, mark an echo


def cut_segment(segment: Segment, cut: int) -> Segment:
    """``segment`` with its text (and the words in it) from character ``cut`` on removed."""
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
            return cut_segment(segment, atoms[i].start)
    return segment


#: A unit of 2–12 normalised characters (at least two different ones) said this many times in a row is a
#: decoding loop ("调整器, 调整器, 调整器, 调整器, …"), too short for the compression-ratio guard to see.
LOOP_REPEATS = 4
_LOOP = re.compile(r"(.{2,12}?)\1{%d,}" % (LOOP_REPEATS - 1))


def cut_repetition_loop(segment: Segment) -> Segment:
    """Cut a segment after the first time of a unit Whisper then repeats :data:`LOOP_REPEATS` times or more.

    A segment that is nothing but the loop ("寂寞,寂寞,寂寞,寂寞,寂寞", heard in the noise after an answer)
    is cut whole. Real stammers ("对对对", "然后然后") repeat one character or say a unit twice or three
    times; they stay.
    """
    atoms = atomize(segment.text)
    chars = "".join(a.char for a in atoms)
    for m in _LOOP.finditer(chars):
        unit = m.group(1)
        if len(set(unit)) >= 2:
            if m.start() == 0 and m.end() == len(chars):
                return cut_segment(segment, 0)
            end = m.start() + len(unit)
            return cut_segment(segment, atoms[end].start) if end < len(atoms) else segment
    return segment


def clean(raw: Transcript, options: TranscribeOptions) -> Transcript:
    """Drop non-speech segments, cut prompt echoes, convert Mandarin to Simplified characters."""
    kept: list[Segment] = []
    dropped: list[Segment] = list(raw.dropped)
    for seg in raw.segments:
        if is_hallucination(seg, options.prompt, options.hotwords):
            dropped.append(seg)
            continue
        cut = cut_repetition_loop(cut_prompt_echo(seg, options.prompt))
        if cut is not seg:
            dropped.append(replace(seg, text=seg.text[len(cut.text):].strip(" ，,、"), start=cut.end, words=()))
            if not normalize(cut.text):
                continue
        kept.append(cut)
    if options.language == "zh":
        kept = [tidy_mandarin(replace(s, text=to_simplified(s.text),
                                      words=tuple(replace(w, text=to_simplified(w.text)) for w in s.words)))
                for s in kept]
    return replace(raw, text=join_texts([s.text for s in kept], options.language),
                   segments=tuple(kept), dropped=tuple(dropped))


def tidy_mandarin(segment: Segment) -> Segment:
    """The segment with the lone full-width digits Whisper writes for clause breaks made commas
    (:func:`rehearse.normalize.stray_digits_to_commas`), in its text and in its words (a word is judged with
    the words around it)."""
    text = stray_digits_to_commas(segment.text)
    if text == segment.text:
        return segment
    words = list(segment.words)
    for i, w in enumerate(words):
        digit = w.text.strip()
        if not i or len(digit) != 1 or not "\uff10" <= digit <= "\uff19":
            continue
        here = words[i - 1].text.strip()[-1:] + digit + (words[i + 1].text.strip() if i + 1 < len(words) else "")
        if stray_digits_to_commas(here) != here:
            words[i] = replace(w, text=w.text.replace(digit, "，"))
    return replace(segment, text=text, words=tuple(words))


def tidy(transcript: Transcript) -> Transcript:
    """:func:`tidy_mandarin` on every segment of a Mandarin transcript (for transcripts kept from before it
    existed); anything else is returned as it is."""
    if transcript.language != "zh":
        return transcript
    segs = tuple(tidy_mandarin(s) for s in transcript.segments)
    if segs == transcript.segments:
        return transcript
    return replace(transcript, segments=segs, text=join_texts([s.text for s in segs], "zh"))


@dataclass(frozen=True)
class Recognition:
    """A transcript with the voice-activity regions it was cut from."""

    transcript: Transcript
    speech: tuple[tuple[float, float], ...]

    @property
    def has_speech(self) -> bool:
        return self.transcript.has_speech


#: Recordings longer than ``PIECE_S * 1.2`` are transcribed in pieces of about
#: ``PIECE_S``, cut in the middle of a pause: faster-whisper computes the
#: features of its whole input at once (about 55 MB per minute of audio), so a
#: 60-minute file in one call peaked near 4 GB. In pieces the peak stays flat
#: (``benchmarks/long_audio_memory.py``). As in a whole-file decode, only the
#: first piece with speech is prompted.
PIECE_S = 120.0


def shift_segment(seg: Segment, dt: float) -> Segment:
    """``seg`` (and its words) moved ``dt`` seconds later on the timeline."""
    return replace(seg, start=seg.start + dt, end=seg.end + dt,
                   words=tuple(replace(w, start=w.start + dt, end=w.end + dt) for w in seg.words))


def merge_recognitions(parts: list[tuple[float, Recognition]], options: TranscribeOptions, duration: float,
                       engine: Engine) -> Recognition:
    """Join recognitions of consecutive stretches (each with its start time) into one on the whole timeline."""
    segs = tuple(shift_segment(s, dt) for dt, r in parts for s in r.transcript.segments)
    dropped = tuple(shift_segment(s, dt) for dt, r in parts for s in r.transcript.dropped)
    speech = tuple((a + dt, b + dt) for dt, r in parts for a, b in r.speech)
    t = Transcript(text=join_texts([s.text for s in segs], options.language), segments=segs,
                   language=options.language, duration=duration, engine=engine.name,
                   model=engine.model_name, dropped=dropped)
    return Recognition(t, speech)


def piece_bounds(regions: list[tuple[float, float]], duration: float, piece_s: float | None = None
                 ) -> list[tuple[float, float]]:
    """Cut ``duration`` seconds into stretches of at most about ``piece_s``, each cut in the middle of a pause.

    The latest pause that ends a piece of at least half ``piece_s`` wins; with
    none (a long stretch of unbroken speech), the piece is cut at ``piece_s``.
    """
    piece_s = piece_s or PIECE_S
    gaps = [(a[1] + b[0]) / 2 for a, b in zip(regions, regions[1:])]
    bounds, start = [], 0.0
    while duration - start > piece_s * 1.2:
        inside = [g for g in gaps if start + piece_s / 2 <= g <= start + piece_s]
        cut = inside[-1] if inside else start + piece_s
        bounds.append((start, cut))
        start = cut
    bounds.append((start, duration))
    return bounds


#: A kept segment is taken to cover speech up to this far outside its own start and end (segment times
#: without word timestamps are coarse).
COVER_PAD_S = 0.5
#: Speech no kept segment covers, at least this long in one stretch, is decoded again.
MIN_SKIPPED_S = 1.0
#: Audio kept on either side of a skipped stretch when it is decoded again.
REFILL_MARGIN_S = 0.2
#: A re-decoded segment at least this long (normalised characters) that is already in the transcript is a
#: duplicate (the first pass had it, at misplaced times), not skipped speech.
DUPLICATE_MIN_CHARS = 6
#: Rounds of re-decoding at most (each only of stretches not tried before).
REFILL_ROUNDS = 2


def skipped_stretches(transcript: Transcript, regions: "list[tuple[float, float]] | tuple[tuple[float, float], ...]"
                      ) -> list[tuple[float, float]]:
    """Stretches of voice activity no kept segment covers, each with at least :data:`MIN_SKIPPED_S` of speech.

    Whisper sometimes skips a sentence inside its 30 s window (the next segment's times jump over it), or
    loops its prompt over 20 s of speech, which :func:`clean` drops. Consecutive uncovered regions with no
    kept segment between them are one stretch. Nothing is returned when nothing was kept at all (the
    recogniser heard no speech there: noise, music).
    """
    spans = [(s.start - COVER_PAD_S, s.end + COVER_PAD_S) for s in transcript.segments]
    if not spans:
        return []
    uncovered = [(a, b) for a, b in regions if not any(x < b and a < y for x, y in spans)]
    stretches: list[list[float]] = []  # start, end, seconds of speech
    for a, b in uncovered:
        if stretches and not any(stretches[-1][1] <= x < a or stretches[-1][1] < y <= a for x, y in spans):
            stretches[-1][1], stretches[-1][2] = b, stretches[-1][2] + b - a
        else:
            stretches.append([a, b, b - a])
    return [(a, b) for a, b, speech in stretches if speech >= MIN_SKIPPED_S]


def refill_skipped(audio: np.ndarray, recognition: Recognition, engine: Engine,
                   options: TranscribeOptions) -> Recognition:
    """Decode once more, without the prompt, each stretch of speech the first pass skipped
    (:func:`skipped_stretches`), and put what is heard there in its place on the timeline; up to
    :data:`REFILL_ROUNDS` times, since a re-decoded stretch can skip a sentence of its own.

    A re-decoded segment already in the transcript (the first pass had it, at misplaced times) is kept aside
    in ``dropped``, not added twice. Measured on the live transcriber's test answer: a 24 s chunk that
    skipped a 4 s sentence, and a whole-file decode that looped its prompt over 21 s of speech
    (CER 0.68 → 0.08).
    """
    t = recognition.transcript
    opts = replace(options, initial_prompt="")
    duration = len(audio) / SAMPLE_RATE
    tried: set[tuple[float, float]] = set()
    for _ in range(REFILL_ROUNDS):
        stretches = [s for s in skipped_stretches(t, recognition.speech) if s not in tried]
        if not stretches:
            break
        tried.update(stretches)
        added: list[Segment] = []
        dropped = list(t.dropped)
        known = normalize(t.text)
        for a, b in stretches:
            start, end = max(0.0, a - REFILL_MARGIN_S), min(duration, b + REFILL_MARGIN_S)
            again = clean(engine.transcribe(audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)], opts), opts)
            dropped += [shift_segment(s, start) for s in again.dropped]
            for seg in (shift_segment(s, start) for s in again.segments):
                norm = normalize(seg.text)
                duplicate = len(norm) >= DUPLICATE_MIN_CHARS and fuzz.partial_ratio(norm, known) >= 90
                (dropped if duplicate else added).append(seg)
        segs = tuple(sorted(t.segments + tuple(added), key=lambda s: s.start))
        t = replace(t, segments=segs, text=join_texts([s.text for s in segs], options.language),
                    dropped=tuple(dropped))
        if not added:
            break
    return recognition if t is recognition.transcript else Recognition(t, recognition.speech)


def recognise(audio: np.ndarray, engine: Engine, options: TranscribeOptions) -> Recognition:
    """Transcribe 16 kHz mono audio with all the guards applied (long audio in pieces, see :data:`PIECE_S`)."""
    duration = len(audio) / SAMPLE_RATE
    empty = Transcript(text="", segments=(), language=options.language, duration=duration,
                       engine=engine.name, model=engine.model_name)
    if audio.size == 0 or is_silent(audio):
        return Recognition(empty, ())
    regions = speech_regions(audio)
    if not regions:
        return Recognition(empty, ())
    bounds = piece_bounds(regions, duration)
    if len(bounds) == 1:
        whole = Recognition(clean(engine.transcribe(audio, options), options), tuple(regions))
        return refill_skipped(audio, whole, engine, options)
    parts: list[tuple[float, Recognition]] = []
    prompted = False
    for a, b in bounds:
        inside = tuple((max(s, a) - a, min(e, b) - a) for s, e in regions if e > a and s < b)
        if not inside:
            continue
        opts = replace(options, initial_prompt="") if prompted else options
        prompted = True
        piece = audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]
        first = Recognition(clean(engine.transcribe(piece, opts), opts), inside)
        parts.append((a, refill_skipped(piece, first, engine, opts)))
    return merge_recognitions(parts, options, duration, engine)

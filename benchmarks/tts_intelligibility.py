"""Can Whisper base understand the questions rehearse reads aloud? CER and synthesis speed per engine.

    python benchmarks/tts_intelligibility.py                 # every shipped question + the English set
    python benchmarks/tts_intelligibility.py --limit 5 -v    # a quick look, one line per question
    python benchmarks/tts_intelligibility.py --engine espeak-ng --set English
    python benchmarks/tts_intelligibility.py --from-log run.txt   # summarise the lines of a -v run
    python benchmarks/tts_intelligibility.py --set Mandarin --engine kokoro --half tune --speed 0.95 -v

Questions are split once by a fixed rule (sorted by id, alternating: ``--half tune`` the even positions,
``--half report`` the odd ones): voice, speed and G2P choices are tuned on the tune half only, and the
report half is the figure that was never looked at while tuning.

Every shipped question (prompts/*.yaml, all Mandarin, many with English terms) is synthesised by Kokoro
(the engine practice uses here) and, to show why it is never used for Mandarin, by espeak-ng's ``cmn``
voice; a small set of English interview questions is synthesised by Kokoro and espeak-ng ``en-us``.
Each clip is transcribed by Whisper base (beam 5, the language forced, no word timestamps, **no** hotwords and a prompt
that names no term (``--prompt question``; ``--prompt answer`` is rehearse's answer prompt, the figures before
2026-12-03): the recogniser gets no hint of the expected words) and scored by CER against the question text (punctuation, case,
spacing and script ignored), and by syllable error rate on toneless pinyin (SER: the same without the
homophones Whisper's language model picks, 模态 heard as 摩太). Speed is the real-time factor: synthesis seconds / audio seconds (lower is
faster), over the clips synthesised in that run: clips and transcripts are cached in .cache/tts-bench
(keyed by engine, voice, speed and phonemes; --no-cache for a cold run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.audio import load_audio  # noqa: E402
from rehearse.engines.faster import FasterWhisperEngine  # noqa: E402
from rehearse.metrics import cer  # noqa: E402
from rehearse.normalize import stray_digits_to_commas  # noqa: E402
from rehearse.rubric import load_library  # noqa: E402
from rehearse.transcribe import recognise  # noqa: E402
from rehearse.transcript import TranscribeOptions  # noqa: E402
from rehearse.tts import TTSEngine, choose_engine  # noqa: E402
from rehearse.voices.cache import spoken_voice  # noqa: E402
from rehearse.voices.kokoro import SAMPLE_RATE as KOKORO_RATE  # noqa: E402
from rehearse.voices.kokoro import KokoroEngine  # noqa: E402

ENGLISH = [
    "What is contrastive learning, and which loss functions are commonly used?",
    "Explain how a diffusion model generates an image from noise.",
    "What problem does classifier-free guidance solve?",
    "How does ControlNet add spatial conditions to a text-to-image model?",
    "Compare DDPM and DDIM sampling.",
    "What does the Q-Former in BLIP-2 do?",
    "Why does CLIP use a symmetric InfoNCE loss?",
    "Describe a project you are proud of and the hardest problem in it.",
]


# No word timestamps: the text is the same, and on these short clips they cost 10-30x the decoding time
# (Whisper base decodes a long hallucinated second segment, which recognise() then drops).
OPTIONS = {lang: TranscribeOptions(language=lang, beam_size=5, word_timestamps=False) for lang in ("zh", "en")}
# What the recogniser is told before it hears a question. "question" (the default since 2026-12-03): the
# language, the script (English terms in Latin letters) and that a question follows -- what any listener
# knows, and no expected word. "answer": rehearse's prompt for
# *answers*, which names InfoNCE loss and DDPM (expected words of four shipped questions) and which Whisper
# base read back as a hallucinated "英文术语" tail on the DDIM/DDPM questions; every figure before 2026-12-03.
PROMPTS = {"question": {"zh": "以下是一个普通话的问题，使用简体中文和标点符号，英文术语保留英文。", "en": "The following is a question."},
           "answer": {"zh": None, "en": None}}


def syllables(text: str) -> list[str]:
    """Toneless pinyin for each Han character, lower-case letters and digits for the rest (normalised text)."""
    from pypinyin import lazy_pinyin

    from rehearse.normalize import normalize, to_simplified

    out: list[str] = []
    for run in re.findall(r"[\u3400-\u9fff]+|[a-z0-9]", to_simplified(normalize(text))):
        out += lazy_pinyin(run) if "\u3400" <= run[0] <= "\u9fff" else [run]
    return out


def ser(reference: str, heard: str) -> float:
    """Syllable error rate on toneless pinyin: CER without the homophones Whisper's language model picks
    (模态 heard as 摩太, 哪些 as 那些), so it measures what the voice said rather than what the recogniser
    guessed it meant."""
    from rapidfuzz.distance import Levenshtein

    ref, hyp = syllables(reference), syllables(heard)
    return min(1.0, Levenshtein.distance(ref, hyp) / max(len(ref), 1))


def from_log(path: Path) -> None:
    """Summarise the per-question lines of an earlier ``-v`` run (engine, CER, text -> heard)."""
    rows: dict[str, list[tuple[float, float, bool]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s+(kokoro|espeak-ng)\s+([0-9.]+)\s+(.*?)\s+->\s+(.*)$", line)
        if not m:
            continue
        engine, text, heard = m.group(1), m.group(3), m.group(4)
        zh = bool(re.search(r"[\u3400-\u9fff]", text))
        rows.setdefault(f"{'Mandarin' if zh else 'English'} {engine}", []).append(
            (min(1.0, cer(text, heard)), ser(text, heard), bool(re.search(r"[A-Za-z]", text)) and zh))
    for key, vals in rows.items():
        cers = [c for c, _, _ in vals]
        sers = [s for _, s, _ in vals]
        mixed = [c for c, _, m in vals if m]
        plain = [c for c, _, m in vals if not m]
        print(f"{key:20} n={len(vals):2}  mean CER {statistics.mean(cers):.3f}  median {statistics.median(cers):.3f}  "
              f"toneless-pinyin SER {statistics.mean(sers):.3f}" +
              (f"  plain {statistics.mean(plain):.3f} (n={len(plain)}) with English terms "
               f"{statistics.mean(mixed):.3f} (n={len(mixed)})" if key.startswith("Mandarin") and mixed and plain
               else ""))


def split_half(items: list[tuple[str, str, str]], half: str) -> list[tuple[str, str, str]]:
    """The fixed split: items sorted by id, alternating; tune = positions 0, 2, 4 …, report = 1, 3, 5 …
    Tuning (voice, speed, G2P) looks only at the tune half; the report half is the held-out figure."""
    ordered = sorted(items)
    if half == "all":
        return ordered
    return ordered[0 if half == "tune" else 1::2]


class ClipCache:
    """Synthesised clips and their transcripts kept across runs (``.cache/tts-bench`` by default), keyed by
    what decides the sound: engine, the voice that speaks (the engine's default when none is named), speed and the exact phonemes (Kokoro) or text (others), so a G2P
    change makes new clips and an unchanged question is not synthesised again."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.index: dict[str, str] = {}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            f = folder / "heard.json"
            self.index = json.loads(f.read_text(encoding="utf-8")) if f.is_file() else {}

    def wav(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{key}.wav"

    @staticmethod
    def _id(wav: Path, prompt: str) -> str:
        return hashlib.sha256(wav.read_bytes()).hexdigest() + " base beam5 no-word-timestamps" + \
            ("" if prompt == "answer" else f" prompt={prompt}")

    def heard(self, wav: Path, prompt: str) -> str | None:
        return self.index.get(self._id(wav, prompt))

    def keep(self, wav: Path, heard: str, prompt: str) -> None:
        if self.folder is not None:
            self.index[self._id(wav, prompt)] = heard
            (self.folder / "heard.json").write_text(json.dumps(self.index, ensure_ascii=False, indent=0),
                                                     encoding="utf-8")


def synthesise(engine: TTSEngine, text: str, lang: str, voice: str | None, speed: float | None,
               path: Path) -> None:
    """One clip; Kokoro at ``speed`` when given (its render), any engine through its synthesize."""
    if speed is not None and isinstance(engine, KokoroEngine):
        import soundfile as sf

        sf.write(str(path), engine.render(text, lang, voice, speed), KOKORO_RATE, subtype="PCM_16")
    else:
        engine.synthesize(text, lang, path, voice)


def clip_key(engine: TTSEngine, text: str, lang: str, voice: str | None, speed: float | None) -> str:
    what = text
    if isinstance(engine, KokoroEngine):
        what = repr([(c.phonemes, c.pause_s) for c in engine.g2p.chunks(text, lang)])
    raw = "\x1f".join((engine.name, spoken_voice(engine, lang, voice) or "", str(speed), lang, what))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def measure(engine_name: str, voice: str | None, items: list[tuple[str, str, str]], whisper: FasterWhisperEngine,
            verbose: bool, cache: ClipCache, speed: float | None = None,
            prompt: str = "question") -> tuple[list[float], list[float], float, float]:
    """CER and toneless-pinyin SER per item (id, text, lang); synthesis seconds and audio seconds of the clips
    made in this run (cached clips are not timed)."""
    engine = choose_engine(engine_name)
    assert engine is not None
    cers: list[float] = []
    sers: list[float] = []
    synth_s, audio_s = 0.0, 0.0
    with tempfile.TemporaryDirectory() as d:
        for n, (qid, text, lang) in enumerate(items):
            key = clip_key(engine, text, lang, voice, speed)
            path = cache.wav(key) or Path(d) / f"{n}.wav"
            fresh = not path.is_file()
            if fresh:
                t0 = time.perf_counter()
                synthesise(engine, text, lang, voice, speed, path)
                took = time.perf_counter() - t0
            audio = load_audio(path)
            if fresh:
                synth_s += took
                audio_s += len(audio) / 16000
            heard = cache.heard(path, prompt)
            if heard is not None and lang == "zh":  # kept by an earlier version: today's tidying (idempotent)
                heard = stray_digits_to_commas(heard)
            if heard is None:
                options = replace(OPTIONS[lang], initial_prompt=PROMPTS[prompt][lang])
                heard = recognise(audio, whisper, options).transcript.text
                cache.keep(path, heard, prompt)
            cers.append(min(1.0, cer(text, heard)))
            sers.append(ser(text, heard))
            if verbose:
                print(f"  {engine_name:9} {cers[-1]:.2f}  {text}  ->  {heard}", flush=True)
    return cers, sers, synth_s, audio_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--half", choices=("tune", "report", "all"), default="all",
                    help="tune: the questions at even positions by sorted id (the only ones to tune on); "
                         "report: the odd positions (held out); all (default)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions of each set")
    ap.add_argument("--voice", default=None, help="Kokoro voice (default: the engine's own choice)")
    ap.add_argument("--speed", type=float, default=None, help="Kokoro speaking speed (default: the engine's)")
    ap.add_argument("--engine", action="append", choices=("kokoro", "espeak-ng"),
                    help="only this engine (repeatable; default both)")
    ap.add_argument("--set", action="append", choices=("Mandarin", "English"), dest="sets",
                    help="only this set (repeatable; default both)")
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "tts-bench",
                    help="keep clips and transcripts here between runs (default .cache/tts-bench)")
    ap.add_argument("--no-cache", action="store_true", help="synthesise and transcribe everything afresh")
    ap.add_argument("--prompt", choices=tuple(PROMPTS), default="question",
                    help="what Whisper is told first: 'question' (default: language and script only) or 'answer' "
                         "(rehearse's prompt for answers, which names InfoNCE and DDPM: the figures before 2026-12-03)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--from-log", type=Path, help="only summarise the lines of an earlier -v run")
    args = ap.parse_args()
    if args.from_log:
        from_log(args.from_log)
        return
    zh = split_half([(q.id, q.question, q.language) for q in load_library().questions if q.language == "zh"],
                    args.half)
    en = split_half([(f"en-{i}", t, "en") for i, t in enumerate(ENGLISH)], args.half)
    if args.limit:
        zh, en = zh[:args.limit], en[:args.limit]
    mixed = [bool(re.search(r"[A-Za-z]", t)) for _, t, _ in zh]
    cache = ClipCache(None if args.no_cache else args.cache)
    whisper = FasterWhisperEngine("base", cpu_threads=2)
    whisper.load()
    rows = []
    for label, engine, voice, items in (("Mandarin", "kokoro", args.voice, zh), ("Mandarin", "espeak-ng", "cmn", zh),
                                        ("English", "kokoro", args.voice, en), ("English", "espeak-ng", None, en)):
        if (args.engine and engine not in args.engine) or (args.sets and label not in args.sets):
            continue
        speed = args.speed if engine == "kokoro" else None
        cers, sers, synth_s, audio_s = measure(engine, voice, items, whisper, args.verbose, cache, speed,
                                                   args.prompt)
        extra = ""
        if label == "Mandarin":
            with_en = [c for c, m in zip(cers, mixed) if m]
            plain = [c for c, m in zip(cers, mixed) if not m]
            extra = (f"  plain {statistics.mean(plain):.3f} (n={len(plain)})" if plain else "") + \
                    (f"  with English terms {statistics.mean(with_en):.3f} (n={len(with_en)})" if with_en else "")
        rtf = f"RTF {synth_s / audio_s:.2f}" if audio_s else "RTF - (all cached)"
        name = engine + (" " + voice if voice else "") + (f" x{speed}" if speed else "")
        rows.append(f"{label:9} {name:14} {args.half:6} n={len(items):2}  mean CER {statistics.mean(cers):.3f}  "
                    f"median {statistics.median(cers):.3f}  SER {statistics.mean(sers):.3f}  {rtf}{extra}")
        print(rows[-1], flush=True)
    print(f"\nsummary (Whisper base, beam 5, no hotwords, {args.prompt} prompt; RTF = synthesis s / audio s, 2 threads; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}):")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

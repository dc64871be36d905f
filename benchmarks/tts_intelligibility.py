"""Can Whisper base understand the questions rehearse reads aloud? CER and synthesis speed per engine.

    python benchmarks/tts_intelligibility.py                 # every shipped question + the English set
    python benchmarks/tts_intelligibility.py --limit 5 -v    # a quick look, one line per question
    python benchmarks/tts_intelligibility.py --engine espeak-ng --set English
    python benchmarks/tts_intelligibility.py --from-log run.txt   # summarise the lines of a -v run

Every shipped question (prompts/*.yaml, all Mandarin, many with English terms) is synthesised by Kokoro
(the engine practice uses here) and, to show why it is never used for Mandarin, by espeak-ng's ``cmn``
voice; a small set of English interview questions is synthesised by Kokoro and espeak-ng ``en-us``.
Each clip is transcribed by Whisper base (beam 5, the language forced, **no** hotwords: the recogniser
gets no hint of the expected words) and scored by CER against the question text (punctuation, case,
spacing and script ignored), and by syllable error rate on toneless pinyin (SER: the same without the
homophones Whisper's language model picks, 模态 heard as 摩太). Speed is the real-time factor: synthesis seconds / audio seconds (lower is
faster). Synthesis is timed cold: no cache.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.audio import load_audio  # noqa: E402
from rehearse.engines.faster import FasterWhisperEngine  # noqa: E402
from rehearse.metrics import cer  # noqa: E402
from rehearse.rubric import load_library  # noqa: E402
from rehearse.transcribe import recognise  # noqa: E402
from rehearse.transcript import TranscribeOptions  # noqa: E402
from rehearse.tts import choose_engine  # noqa: E402

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


def measure(engine_name: str, voice: str | None, items: list[tuple[str, str]], whisper: FasterWhisperEngine,
            verbose: bool) -> tuple[list[float], list[float], float, float]:
    """CER and toneless-pinyin SER per item, total synthesis seconds, total audio seconds."""
    engine = choose_engine(engine_name)
    assert engine is not None
    cers: list[float] = []
    sers: list[float] = []
    synth_s, audio_s = 0.0, 0.0
    with tempfile.TemporaryDirectory() as d:
        for n, (text, lang) in enumerate(items):
            path = Path(d) / f"{n}.wav"
            t0 = time.perf_counter()
            engine.synthesize(text, lang, path, voice)
            synth_s += time.perf_counter() - t0
            audio = load_audio(path)
            audio_s += len(audio) / 16000
            heard = recognise(audio, whisper, TranscribeOptions(language=lang, beam_size=5)).transcript.text
            cers.append(min(1.0, cer(text, heard)))
            sers.append(ser(text, heard))
            if verbose:
                print(f"  {engine_name:9} {cers[-1]:.2f}  {text}  ->  {heard}", flush=True)
    return cers, sers, synth_s, audio_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions of each set")
    ap.add_argument("--voice", default=None, help="Kokoro voice (default jm_kumo)")
    ap.add_argument("--engine", action="append", choices=("kokoro", "espeak-ng"),
                    help="only this engine (repeatable; default both)")
    ap.add_argument("--set", action="append", choices=("Mandarin", "English"), dest="sets",
                    help="only this set (repeatable; default both)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--from-log", type=Path, help="only summarise the lines of an earlier -v run")
    args = ap.parse_args()
    if args.from_log:
        from_log(args.from_log)
        return
    zh = [(q.question, q.language) for q in load_library().questions if q.language == "zh"]
    en = [(t, "en") for t in ENGLISH]
    if args.limit:
        zh, en = zh[:args.limit], en[:args.limit]
    mixed = [bool(re.search(r"[A-Za-z]", t)) for t, _ in zh]
    whisper = FasterWhisperEngine("base", cpu_threads=2)
    whisper.load()
    rows = []
    for label, engine, voice, items in (("Mandarin", "kokoro", args.voice, zh), ("Mandarin", "espeak-ng", "cmn", zh),
                                        ("English", "kokoro", args.voice, en), ("English", "espeak-ng", None, en)):
        if (args.engine and engine not in args.engine) or (args.sets and label not in args.sets):
            continue
        cers, sers, synth_s, audio_s = measure(engine, voice, items, whisper, args.verbose)
        extra = ""
        if label == "Mandarin":
            with_en = [c for c, m in zip(cers, mixed) if m]
            plain = [c for c, m in zip(cers, mixed) if not m]
            extra = (f"  plain {statistics.mean(plain):.3f} (n={len(plain)})" if plain else "") + \
                    (f"  with English terms {statistics.mean(with_en):.3f} (n={len(with_en)})" if with_en else "")
        rows.append(f"{label:9} {engine + (' ' + voice if voice else ''):14} n={len(items):2}  mean CER "
                    f"{statistics.mean(cers):.3f}  median {statistics.median(cers):.3f}  SER {statistics.mean(sers):.3f}  "
                    f"RTF {synth_s / max(audio_s, 1e-9):.2f}{extra}")
        print(rows[-1], flush=True)
    print("\nsummary (Whisper base, beam 5, no hotwords; RTF = synthesis s / audio s, 2 threads):")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

"""Can Whisper base understand the questions rehearse reads aloud? CER and synthesis speed per engine.

    python benchmarks/tts_intelligibility.py                 # every shipped question + the English set
    python benchmarks/tts_intelligibility.py --limit 5 -v    # a quick look, one line per question
    python benchmarks/tts_intelligibility.py --engine espeak-ng --set English

Every shipped question (prompts/*.yaml, all Mandarin, many with English terms) is synthesised by Kokoro
(the engine practice uses here) and, to show why it is never used for Mandarin, by espeak-ng's ``cmn``
voice; a small set of English interview questions is synthesised by Kokoro and espeak-ng ``en-us``.
Each clip is transcribed by Whisper base (beam 5, the language forced, **no** hotwords: the recogniser
gets no hint of the expected words) and scored by CER against the question text (punctuation, case,
spacing and script ignored). Speed is the real-time factor: synthesis seconds / audio seconds (lower is
faster). Synthesis is timed cold: no cache.
"""

from __future__ import annotations

import argparse
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


def measure(engine_name: str, voice: str | None, items: list[tuple[str, str]], whisper: FasterWhisperEngine,
            verbose: bool) -> tuple[list[float], float, float]:
    """CER per item, total synthesis seconds, total audio seconds."""
    engine = choose_engine(engine_name)
    assert engine is not None
    cers, synth_s, audio_s = [], 0.0, 0.0
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
            if verbose:
                print(f"  {engine_name:9} {cers[-1]:.2f}  {text}  ->  {heard}", flush=True)
    return cers, synth_s, audio_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions of each set")
    ap.add_argument("--voice", default=None, help="Kokoro voice (default jm_kumo)")
    ap.add_argument("--engine", action="append", choices=("kokoro", "espeak-ng"),
                    help="only this engine (repeatable; default both)")
    ap.add_argument("--set", action="append", choices=("Mandarin", "English"), dest="sets",
                    help="only this set (repeatable; default both)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    zh = [(q.question, q.language) for q in load_library().questions if q.language == "zh"]
    en = [(t, "en") for t in ENGLISH]
    if args.limit:
        zh, en = zh[:args.limit], en[:args.limit]
    mixed = [bool(__import__("re").search(r"[A-Za-z]", t)) for t, _ in zh]
    whisper = FasterWhisperEngine("base", cpu_threads=2)
    whisper.load()
    rows = []
    for label, engine, voice, items in (("Mandarin", "kokoro", args.voice, zh), ("Mandarin", "espeak-ng", "cmn", zh),
                                        ("English", "kokoro", args.voice, en), ("English", "espeak-ng", None, en)):
        if (args.engine and engine not in args.engine) or (args.sets and label not in args.sets):
            continue
        cers, synth_s, audio_s = measure(engine, voice, items, whisper, args.verbose)
        extra = ""
        if label == "Mandarin":
            with_en = [c for c, m in zip(cers, mixed) if m]
            plain = [c for c, m in zip(cers, mixed) if not m]
            extra = (f"  plain {statistics.mean(plain):.3f} (n={len(plain)})" if plain else "") + \
                    (f"  with English terms {statistics.mean(with_en):.3f} (n={len(with_en)})" if with_en else "")
        rows.append(f"{label:9} {engine + (' ' + voice if voice else ''):14} n={len(items):2}  mean CER "
                    f"{statistics.mean(cers):.3f}  median {statistics.median(cers):.3f}  "
                    f"RTF {synth_s / max(audio_s, 1e-9):.2f}{extra}")
        print(rows[-1], flush=True)
    print("\nsummary (Whisper base, beam 5, no hotwords; RTF = synthesis s / audio s, 2 threads):")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

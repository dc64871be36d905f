"""Transcription speed and accuracy of the engines on the shared test clips, in one run.

    python benchmarks/engine_speed.py                       # faster-whisper base, greedy vs beam 5
    python benchmarks/engine_speed.py --openai-model base   # also openai-whisper (needs its weights)

Prints the real-time factor (compute seconds / audio seconds; lower is faster)
and mean CER per configuration, so ratios come from the same machine and run.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.audio import load_audio  # noqa: E402
from rehearse.engines import get_engine  # noqa: E402
from rehearse.errors import RehearseError  # noqa: E402
from rehearse.metrics import cer  # noqa: E402
from rehearse.transcribe import recognise  # noqa: E402
from rehearse.transcript import TranscribeOptions  # noqa: E402

SHARED = ROOT / "tests" / "data" / "speech"


def clips() -> list[tuple[Path, str, str]]:
    out = []
    for folder, key in (("real", "file"), ("synthetic/kokoro_jm_kumo_lex", "id")):
        with open(SHARED / folder / "transcripts.tsv", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                name = row[key] if row[key].endswith(".flac") else row[key] + ".flac"
                out.append((SHARED / folder / name, row["lang"], row["text"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="base")
    ap.add_argument("--openai-model", default=None, help="also run openai-whisper with this model")
    ap.add_argument("--lang", choices=["zh", "en", "all"], default="all")
    args = ap.parse_args(argv)
    data = [(p, lang, ref, load_audio(p)) for p, lang, ref in clips() if args.lang in ("all", lang)]
    audio_s = sum(len(a) for *_, a in data) / 16000
    configs = [("faster-whisper", args.model, 1), ("faster-whisper", args.model, 5)]
    if args.openai_model:
        configs += [("openai-whisper", args.openai_model, 1), ("openai-whisper", args.openai_model, 5)]
    print(f"{len(data)} clips, {audio_s:.1f} s of audio")
    results = {}
    for name, model, beam in configs:
        try:
            engine = get_engine(name, model)
            engine.load()
        except RehearseError as exc:
            print(f"{name} {model}: skipped ({exc})")
            continue
        t0 = time.perf_counter()
        errs = {"zh": [], "en": []}
        for _, lang, ref, audio in data:
            rec = recognise(audio, engine, TranscribeOptions(language=lang, beam_size=beam))
            errs[lang].append(cer(ref, rec.transcript.text))
        rtf = (time.perf_counter() - t0) / audio_s
        results[(name, beam)] = rtf
        cers = "  ".join(f"CER {k} {sum(v) / len(v):.3f}" for k, v in errs.items() if v)
        print(f"{name:<15} {model:<6} beam {beam}: real-time factor {rtf:.3f}   {cers}")
    base = results.get(("faster-whisper", 1))
    for (name, beam), rtf in results.items():
        if base and (name, beam) != ("faster-whisper", 1):
            print(f"{name} beam {beam} is {rtf / base:.2f}x the time of faster-whisper greedy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

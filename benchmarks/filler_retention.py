"""Does Whisper keep filler words? Filler retention and CER per decoding prompt.

    /work/ttsvenv/bin/python scripts/synth_speech.py benchmarks/fillers/answers.tsv /tmp/fillers_audio
    python benchmarks/filler_retention.py /tmp/fillers_audio [--prompt NAME ...]

For every clip and prompt: the fillers counted (rehearse.fluency rules, with
measured pauses) in the transcript versus in the reference text; retention =
Σ min(heard, said) / Σ said over filler types; spurious = fillers heard that
were not said; CER against the reference; prompt echoes (segments that
repeat a piece of the prompt). The clips are synthetic (Kokoro TTS), so
fillers are read, not hesitated: real fillers are softer and likelier to drop.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.audio import load_audio  # noqa: E402
from rehearse.engines import get_engine  # noqa: E402
from rehearse.fluency import count_fillers, measure  # noqa: E402
from rehearse.metrics import cer  # noqa: E402
from rehearse.transcribe import recognise  # noqa: E402
from rehearse.transcript import ZH_PROMPT, TranscribeOptions  # noqa: E402

FILLERS_ZH = "嗯，那个，呃，就是说，然后，"
PROMPTS = {
    "current": ZH_PROMPT,
    "none": "",
    "current+fillers": ZH_PROMPT + FILLERS_ZH,
    "spoken": "嗯，那个，我们的工作是这样的：呃，就是说，我们用了 InfoNCE loss，然后，嗯，DDPM 也试过。",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="synthesised clips with manifest.tsv (id, lang, seconds, sha256, text)")
    ap.add_argument("--prompt", action="append", choices=sorted(PROMPTS), help="prompts to compare (default: all)")
    ap.add_argument("--model", default="base")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every transcript")
    args = ap.parse_args(argv)
    with open(args.folder / "manifest.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    clips = [(r["id"], r["text"], load_audio(args.folder / f"{r['id']}.flac")) for r in rows]
    engine = get_engine("faster-whisper", args.model)
    engine.load()
    print(f"{len(clips)} clips; fillers said: {sum(sum(count_fillers(t).values()) for _, t, _ in clips)}")
    for name in args.prompt or list(PROMPTS):
        said_total: Counter[str] = Counter()
        kept: Counter[str] = Counter()
        spurious = echoes = 0
        cers = []
        for cid, ref, audio in clips:
            rec = recognise(audio, engine, TranscribeOptions(language="zh", initial_prompt=PROMPTS[name]))
            said = count_fillers(ref)
            heard = Counter(measure(rec.transcript, rec.speech).fillers)
            said_total += said
            for k, n in said.items():
                kept[k] += min(n, heard.get(k, 0))
            spurious += sum(max(0, n - said.get(k, 0)) for k, n in heard.items())
            echoes += sum(1 for s in rec.transcript.segments
                          if PROMPTS[name] and _echoes(s.text, PROMPTS[name]))
            cers.append(cer(ref, rec.transcript.text))
            if args.verbose:
                print(f"  {cid} {rec.transcript.text}  heard={dict(heard)} said={dict(said)}")
        total = sum(said_total.values())
        per = "  ".join(f"{k} {kept[k]}/{n}" for k, n in said_total.most_common())
        print(f"{name:<16} retention {sum(kept.values())}/{total} = {sum(kept.values()) / total:.2f}  "
              f"spurious {spurious}  CER {sum(cers) / len(cers):.3f}  prompt echoes {echoes}   [{per}]")
    return 0


def _echoes(text: str, prompt: str, n: int = 4) -> bool:
    """True when a segment repeats a run of ≥ n characters of the prompt (that was not said)."""
    grams = {prompt[i:i + n] for i in range(len(prompt) - n + 1)} - {"" }
    return any(text.count(g) >= 2 for g in grams if g.strip() and not set(g) & set("，。、 "))


if __name__ == "__main__":
    raise SystemExit(main())

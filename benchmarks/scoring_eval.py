"""Precision / recall / F1 of coverage scoring on the labelled evaluation set.

    python benchmarks/scoring_eval.py                 # typed text only (fast)
    python benchmarks/scoring_eval.py --audio         # also synthesised audio through Whisper base
    python benchmarks/scoring_eval.py --audio --engine openai-whisper --model base
    python benchmarks/scoring_eval.py --verbose       # list every false positive / negative

A point is "truly covered" when the labelled elements said are at least half of
its elements (the same ≥ 0.5 credit rule the scorer uses); it is "predicted
covered" when the scorer's credit is ≥ 0.5. The baseline is plain substring
matching of the rubric phrases (case-insensitive), for comparison.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.assess import assess_audio, assess_text  # noqa: E402
from rehearse.metrics import cer, precision_recall_f1  # noqa: E402
from rehearse.rubric import Question, load_library  # noqa: E402
from rehearse.scoring import COVERED_AT  # noqa: E402

EVAL = ROOT / "eval"


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, truth: bool, pred: bool, what: str) -> None:
        if truth and pred:
            self.tp += 1
        elif pred:
            self.fp += 1
            self.errors.append("FP " + what)
        elif truth:
            self.fn += 1
            self.errors.append("FN " + what)
        else:
            self.tn += 1

    def line(self, name: str) -> str:
        p, r, f = precision_recall_f1(self.tp, self.fp, self.fn)
        return (f"{name:<28} precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}   "
                f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})")


def element_counts() -> dict[tuple[str, str], int]:
    """Elements per (question, point) as the labeller saw them (eval/POINTS.md, frozen)."""
    counts: dict[tuple[str, str], int] = {}
    qid = ""
    for line in (EVAL / "POINTS.md").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"## ([a-z0-9-]+):", line):
            qid = m.group(1)
        elif m := re.match(r"\s+- ([a-z0-9-]+) \((any|all, (\d+) elements)\)", line):
            counts[(qid, m.group(1))] = int(m.group(3) or 1)
    return counts


def truth_covered(question: Question, said: dict[str, list[int]], counts: dict[tuple[str, str], int]) -> dict[str, bool]:
    """Truly covered points: at least half the labelled elements said."""
    return {p.id: len(said.get(p.id, [])) / counts[(question.id, p.id)] >= COVERED_AT for p in question.points}


def baseline_covered(question: Question, text: str) -> dict[str, bool]:
    low = text.lower()
    out = {}
    for p in question.points:
        hits = sum(any(ph.lower() in low for ph in g) for g in p.groups)
        out[p.id] = hits / len(p.groups) >= COVERED_AT
    return out


def load_answers() -> list[dict]:
    return yaml.safe_load((EVAL / "answers.yaml").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", action="store_true", help="also score synthesised audio in eval/audio/")
    ap.add_argument("--engine", default="faster-whisper")
    ap.add_argument("--model", default="base")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--lang", choices=["zh", "en", "all"], default="all")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    lib = load_library()
    answers = [a for a in load_answers() if args.lang == "all" or a["lang"] == args.lang]
    tallies: dict[str, Tally] = {}
    counts = element_counts()

    def tally(name: str) -> Tally:
        return tallies.setdefault(name, Tally())

    engine = None
    if args.audio:
        from rehearse.engines import get_engine

        engine = get_engine(args.engine, args.model)
        engine.load()  # type: ignore[attr-defined]
    cers: list[float] = []
    audio_seconds = compute_seconds = 0.0
    for a in answers:
        q = lib.get(a["question"])
        truth = truth_covered(q, a["said"], counts)
        text_pred = {p.id: p.covered for p in assess_text(q, a["text"]).score.points}
        base_pred = baseline_covered(q, a["text"])
        for pid, t in truth.items():
            what = f"{a['id']}:{pid}"
            tally(f"text/{a['lang']}").add(t, text_pred[pid], what)
            tally(f"text-baseline/{a['lang']}").add(t, base_pred[pid], what)
        if engine is not None:
            wav = EVAL / "audio" / f"{a['id']}.flac"
            if not wav.is_file():
                print(f"missing audio {wav}: run scripts/synth_speech.py (see eval/README.md)", file=sys.stderr)
                return 2
            t0 = time.perf_counter()
            qa = q if q.language == a["lang"] else Question(**{**q.__dict__, "language": a["lang"]})
            result = assess_audio(qa, wav, engine, beam_size=args.beam_size)
            compute_seconds += time.perf_counter() - t0
            audio_seconds += result.transcript.duration
            cers.append(cer(a["text"], result.transcript.text))
            audio_pred = {p.id: p.covered for p in result.score.points}
            audio_base = baseline_covered(q, result.transcript.text)
            for pid, t in truth.items():
                what = f"{a['id']}:{pid}  «{result.transcript.text[:60]}…»"
                tally(f"audio/{a['lang']}").add(t, audio_pred[pid], what)
                tally(f"audio-baseline/{a['lang']}").add(t, audio_base[pid], f"{a['id']}:{pid}")

    print(f"evaluation set: {len(answers)} answers, "
          f"{sum(len(lib.get(a['question']).points) for a in answers)} labelled points")
    for name in sorted(tallies):
        print(tallies[name].line(name))
    for mode in ("text", "text-baseline", "audio", "audio-baseline"):
        merged = Tally()
        for name, t in tallies.items():
            if name.startswith(mode + "/"):
                merged.tp += t.tp
                merged.fp += t.fp
                merged.fn += t.fn
                merged.tn += t.tn
        if merged.tp + merged.fp + merged.fn:
            print(merged.line(f"{mode}/all"))
    if cers:
        print(f"Whisper {args.engine} {args.model}: mean CER {sum(cers) / len(cers):.3f} on {len(cers)} answers, "
              f"real-time factor {compute_seconds / audio_seconds:.3f} (incl. VAD and scoring)")
    if args.verbose:
        for name in sorted(tallies):
            if "baseline" in name:
                continue
            for e in tallies[name].errors:
                print(f"  {name}: {e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

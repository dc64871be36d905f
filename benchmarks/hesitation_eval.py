"""Filled-pause detection from the audio: precision, recall and per-minute tracking on real speech with
filled pauses (嗯, uh) inserted, and syllables lengthened (那——, so——), at known times
(tests/hesitation_set.py says how they are made and what the set can and cannot show).

    python benchmarks/hesitation_eval.py            # the test half (thresholds were tuned on dev)
    python benchmarks/hesitation_eval.py --half dev -v

A detection is right when it overlaps a true event by at least half of the shorter of the two. Each kind
is scored on its own clips plus the fluent clips (the real recordings untouched), whose detections are all
false alarms. Per-minute tracking: for each clip, detected events per minute against the true number per
minute (mean absolute error, and the correlation over clips). Every figure is printed for the detector
with its long-window test (now) and without it (before: the 200 ms windows only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.hesitation import LONG_PITCH_ST, LONG_S, LONG_SPREAD_DB, MIN_S, PITCH_ST, SPREAD_DB, detect  # noqa: E402
from tests.hesitation_set import Clip, evaluation_set, lengthened_set, match  # noqa: E402


def score(clips: list[Clip], found: dict[str, list[tuple[float, float]]]) -> dict[str, float]:
    """Precision, recall, fluent false alarms and per-minute tracking of ``found`` on ``clips``."""
    tp = fp = fn = 0
    fluent_fp, fluent_s = 0, 0.0
    true_rate, found_rate = [], []
    for c in clips:
        a, b, m = match(c.truth, found[c.name])
        tp, fp, fn = tp + a, fp + b, fn + m
        if not c.truth:
            fluent_fp, fluent_s = fluent_fp + b, fluent_s + c.seconds
        true_rate.append(len(c.truth) * 60 / c.seconds)
        found_rate.append(len(found[c.name]) * 60 / c.seconds)
    tr, fr = np.array(true_rate), np.array(found_rate)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1),
            "fluent_fp": fluent_fp, "fluent_min": fluent_s / 60, "mae": float(np.mean(np.abs(fr - tr))),
            "r": float(np.corrcoef(tr, fr)[0, 1]), "true_mean": float(tr.mean()), "found_mean": float(fr.mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--half", choices=("dev", "test"), default="test")
    ap.add_argument("--variants", type=int, default=2, help="versions of each clip with inserted events")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    base = evaluation_set(args.half, args.variants)
    sets = {"filled pauses": base, "lengthened syllables": [c for c in base if not c.truth] +
            lengthened_set(args.half, args.variants)}
    clips = {c.name: c for cs in sets.values() for c in cs}
    found: dict[str, dict[str, list[tuple[float, float]]]] = {"now": {}, "before": {}}
    compute_s = 0.0
    for c in clips.values():
        t0 = time.perf_counter()
        now = detect(c.audio)
        compute_s += time.perf_counter() - t0
        found["now"][c.name] = [(e.start, e.end) for e in now]
        found["before"][c.name] = [(e.start, e.end) for e in detect(c.audio, long=None)]
        if args.verbose:
            a, b, m = match(c.truth, found["now"][c.name])
            print(f"  {c.name:36} {c.seconds:5.1f} s  true {len(c.truth)}  found {len(now)}  tp {a} fp {b} fn {m}")
    total_s = sum(c.seconds for c in clips.values())
    print(f"set: {args.half} half; detector: windows of {MIN_S * 1000:.0f} ms (pitch range <= {PITCH_ST} st, "
          f"spectral spread <= {SPREAD_DB} dB) or of {LONG_S * 1000:.0f} ms (<= {LONG_PITCH_ST} st, "
          f"<= {LONG_SPREAD_DB} dB); before: the {MIN_S * 1000:.0f} ms windows only")
    for kind, cs in sets.items():
        n_fluent = sum(1 for c in cs if not c.truth)
        print(f"{kind}: {len(cs)} clips ({n_fluent} fluent), {sum(c.seconds for c in cs) / 60:.1f} min, "
              f"{sum(len(c.truth) for c in cs)} inserted")
        for when in ("before", "now"):
            r = score(cs, found[when])
            print(f"  {when:6} precision {r['precision']:.2f}  recall {r['recall']:.2f}  (tp {r['tp']}, fp {r['fp']}, "
                  f"missed {r['fn']})  false alarms on fluent clips {r['fluent_fp']} in {r['fluent_min']:.1f} min = "
                  f"{r['fluent_fp'] / max(r['fluent_min'], 1e-9):.1f}/min  per-minute |found - true| {r['mae']:.1f}/min "
                  f"(true {r['true_mean']:.1f}, found {r['found_mean']:.1f}), r = {r['r']:.2f}")
    print(f"speed: {compute_s / total_s * 1000:.1f} ms of compute per second of audio")


if __name__ == "__main__":
    main()

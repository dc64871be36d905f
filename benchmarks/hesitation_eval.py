"""Filled-pause detection from the audio: precision, recall and per-minute tracking on real speech with
filled pauses inserted at known times (tests/hesitation_set.py says how they are made and what the set
can and cannot show).

    python benchmarks/hesitation_eval.py            # the test half (thresholds were tuned on dev)
    python benchmarks/hesitation_eval.py --half dev -v

A detection is right when it overlaps a true filled pause by at least half of the shorter of the two.
Per-minute tracking: for each clip, detected filled pauses per minute against the true number per minute
(mean absolute error, and the correlation over clips). The fluent clips (the real recordings untouched)
give the false alarms per minute of fluent read speech.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.hesitation import MIN_S, PITCH_ST, SPREAD_DB, detect  # noqa: E402
from tests.hesitation_set import evaluation_set, match  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--half", choices=("dev", "test"), default="test")
    ap.add_argument("--variants", type=int, default=2, help="versions of each clip with inserted pauses")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    clips = evaluation_set(args.half, args.variants)
    tp = fp = fn = 0
    fluent_fp, fluent_s, compute_s = 0, 0.0, 0.0
    true_rate, found_rate = [], []
    for c in clips:
        t0 = time.perf_counter()
        found = [(e.start, e.end) for e in detect(c.audio)]
        compute_s += time.perf_counter() - t0
        a, b, m = match(c.truth, found)
        tp, fp, fn = tp + a, fp + b, fn + m
        if not c.truth:
            fluent_fp, fluent_s = fluent_fp + b, fluent_s + c.seconds
        true_rate.append(len(c.truth) * 60 / c.seconds)
        found_rate.append(len(found) * 60 / c.seconds)
        if args.verbose:
            print(f"  {c.name:36} {c.seconds:5.1f} s  true {len(c.truth)}  found {len(found)}  tp {a} fp {b} fn {m}")
    total_s = sum(c.seconds for c in clips)
    tr, fr = np.array(true_rate), np.array(found_rate)
    n_true = sum(len(c.truth) for c in clips)
    print(f"set: {args.half} half, {len(clips)} clips ({sum(1 for c in clips if not c.truth)} fluent), "
          f"{total_s / 60:.1f} min, {n_true} inserted filled pauses")
    print(f"detector: windows of {MIN_S * 1000:.0f} ms, pitch range <= {PITCH_ST} st, spectral spread <= {SPREAD_DB} dB")
    print(f"precision {tp / max(tp + fp, 1):.2f}  recall {tp / max(tp + fn, 1):.2f}  (tp {tp}, fp {fp}, missed {fn})")
    print(f"false alarms on fluent clips: {fluent_fp} in {fluent_s / 60:.1f} min = {fluent_fp * 60 / max(fluent_s, 1e-9):.1f}/min")
    print(f"per-minute tracking over clips: mean |found - true| {np.mean(np.abs(fr - tr)):.1f}/min "
          f"(true mean {tr.mean():.1f}/min, found mean {fr.mean():.1f}/min), correlation "
          f"{np.corrcoef(tr, fr)[0, 1]:.2f}")
    print(f"speed: {compute_s / total_s * 1000:.1f} ms of compute per second of audio")


if __name__ == "__main__":
    main()

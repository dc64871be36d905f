"""What the meaning pass adds to the report's wait, for 2-minute answers.

    python benchmarks/meaning_speed.py [--repeat 5]

For each of the 24 shipped (non-draft) questions, a ~2-minute answer is built
from the natural evaluation set's answers to it (repeated to at least 500
characters, about 2 minutes of Mandarin speech), then judged by the phrases
judge and by the offline judge (phrases + meaning). Printed: the median and
worst time of each, and of the difference — the time the meaning pass adds —
for later scorings (warm: rubric phrases prepared), and the whole wait of the
first offline scoring of each question in the process (cold), all in one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rehearse.judges import get_judge  # noqa: E402
from rehearse.rubric import load_library  # noqa: E402
from rehearse.transcript import Transcript  # noqa: E402

TWO_MINUTES_OF_CHARS = 500  # ~250 Han characters a minute


def answers_by_question() -> dict[str, str]:
    texts: dict[str, list[str]] = {}
    for name in ("answers-a.yaml", "answers-b.yaml"):
        for a in yaml.safe_load((ROOT / "eval" / "natural" / name).read_text(encoding="utf-8")):
            if a["lang"] == "zh":
                texts.setdefault(a["question"], []).append(a["text"])
    out = {}
    for qid, ts in texts.items():
        text = "".join(ts)
        while len(text) < TWO_MINUTES_OF_CHARS:
            text += "".join(ts)
        out[qid] = text
    return out


def timed(judge, q, t) -> float:
    t0 = time.perf_counter()
    judge.judge(q, t)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="warm repetitions per question")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    lib = load_library()
    load_s = time.perf_counter() - t0
    phrases, offline = get_judge("phrases"), get_judge("offline")
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    chars = []
    for qid, text in answers_by_question().items():
        q, t = lib.get(qid), Transcript.from_text(text, "zh")
        chars.append(len(text))
        first = timed(offline, q, t)  # everything cold: the wait of the first report in a fresh process
        cold.append((timed(phrases, q, t), first))
        for _ in range(args.repeat):
            warm.append((timed(phrases, q, t), timed(offline, q, t)))

    def show(name: str, rows: list[tuple[float, float]]) -> None:
        p = [r[0] for r in rows]
        o = [r[1] for r in rows]
        d = [r[1] - r[0] for r in rows]
        print(f"{name:<5} phrases median {statistics.median(p) * 1000:6.1f} ms (max {max(p) * 1000:6.1f})   "
              f"offline median {statistics.median(o) * 1000:6.1f} ms (max {max(o) * 1000:6.1f})   "
              f"added by the meaning pass: median {statistics.median(d) * 1000:6.1f} ms (max {max(d) * 1000:6.1f})")

    print(f"{len(chars)} questions, answers of {min(chars)}–{max(chars)} characters (median "
          f"{statistics.median(chars):.0f}); load_library {load_s:.2f} s")
    first = [r[1] for r in cold]
    print(f"cold  first offline judgment of each question: median {statistics.median(first) * 1000:.1f} ms, "
          f"max {max(first) * 1000:.1f} ms")
    show("warm", warm)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

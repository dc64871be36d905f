"""How often is a session's first question already in the speech cache? Simulated practice over weeks.

    python benchmarks/next_session_hits.py            # 200 simulated users, 20 sessions each

Practice reads a question into the cache when it is asked (it is spoken), the next question while the
current one is answered, and — since the next-session prefetch — the next session's first questions while
the last one is answered (:meth:`rehearse.schedule.Selection.next_first`, as :class:`rehearse.practice.Session`
calls it: 2 guesses with the question being answered left out, then a re-guess once it is scored, at most
3 clips). This replays that with the real FSRS schedule and practice order over the 30 shipped questions,
with simulated answers (coverage 0.3, 0.65 or 0.9 with probability 0.3 / 0.3 / 0.4: Again, Hard, Good)
and three minutes per question, and counts a session whose first question was already cached:
"before" is what was cached by being spoken only, "now" adds the clips made for the next session.
The guess is made for a day later and from the session's own selection: a user who picks another
selection next time (by turns, below) gets a guess for the wrong one.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rehearse.practice import NEXT_SESSION_CLIPS, NEXT_SESSION_MAX  # noqa: E402
from rehearse.rubric import load_library  # noqa: E402
from rehearse.schedule import Selection  # noqa: E402


@dataclass(frozen=True)
class Answer:
    """What :func:`rehearse.schedule.replay` reads of a stored attempt."""

    id: int
    question_id: str
    created_at: datetime
    coverage: float
    status: str = "scored"
    result: object = True


def simulate(selections: list[Selection], gap: tuple[float, float], sessions: int,
             rng: random.Random) -> tuple[int, int, int]:
    """(sessions after the first, first question cached before, first question cached now). Session n picks from
    ``selections[n % len(selections)]``; the guess for the next session is from the session's own selection."""
    history: list[Answer] = []
    spoken: set[str] = set()
    ahead: set[str] = set()
    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    before = after = 0
    for n in range(sessions):
        picked = selections[n % len(selections)]
        qs = picked.session(history, now)
        if n:
            before += qs[0].id in spoken
            after += qs[0].id in spoken | ahead
        for i, q in enumerate(qs):
            spoken.add(q.id)
            if i + 1 < len(qs):
                spoken.add(qs[i + 1].id)  # made while this one is answered
            made: list[str] = []
            if i == len(qs) - 1:
                made = [x.id for x in picked.next_first(history, NEXT_SESSION_CLIPS, now, answering=q.id)]
            now += timedelta(minutes=3)
            coverage = rng.choices((0.3, 0.65, 0.9), (0.3, 0.3, 0.4))[0]
            history.append(Answer(len(history) + 1, q.id, now, coverage))
            if i == len(qs) - 1:
                for x in picked.next_first(history, NEXT_SESSION_CLIPS, now):
                    if x.id not in made and len(made) < NEXT_SESSION_MAX:
                        made.append(x.id)
                ahead |= set(made)
        now += timedelta(hours=rng.uniform(*gap))
    return sessions - 1, before, after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=20)
    args = ap.parse_args()
    lib = load_library()
    rng = random.Random(13)
    print(f"{args.users} simulated users × {args.sessions} sessions; share of sessions (after each user's first) "
          "whose first question was already cached:")
    print(f"  {'selection':38} {'gap between sessions':22} {'before':>7} {'now':>7}")
    diffusion, multimodal = lib.filter(["diffusion"]), lib.filter(["multimodal"])
    for label, picked in (("all 30 questions, --count 3", [Selection(lib.questions, count=3)]),
                          ("all 30 questions, --count 8", [Selection(lib.questions, count=8)]),
                          (f"--tag diffusion ({len(diffusion)}), --count 2", [Selection(diffusion, count=2)]),
                          ("--tag diffusion / multimodal by turns", [Selection(diffusion, count=2),
                                                                     Selection(multimodal, count=2)])):
        for gap_label, gap in (("a day (20–28 h)", (20.0, 28.0)), ("a few hours (2–6 h)", (2.0, 6.0))):
            total = before = after = 0
            for _ in range(args.users):
                t, b, a = simulate(picked, gap, args.sessions, rng)
                total, before, after = total + t, before + b, after + a
            print(f"  {label:38} {gap_label:22} {before / total:7.0%} {after / total:7.0%}")


if __name__ == "__main__":
    main()

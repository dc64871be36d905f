"""Spaced repetition: when each question is due again, from FSRS (py-fsrs), not a hand-written rule.

One FSRS card per question. Every scored answer is a review, rated from its
coverage (the user's corrections included):

| coverage of the answer | rating | why |
| --- | --- | --- |
| below 0.5 | Again | most key points missed: not recalled; back in the same sitting (10 minutes) |
| 0.5 to 0.8 | Hard | half or more recalled: FSRS counts Hard as a pass, and that is deliberate: you knew the core of it, so the interval still grows, only more slowly than for a good answer |
| 0.8 and above | Good | recalled |

Default FSRS parameters (no optimiser: a few dozen reviews are far too few to
fit 21 parameters), desired retention 0.9, no fuzzing (so the order is
reproducible), UTC datetimes. The cards are not stored: they are rebuilt by
replaying each question's scored answers in order, so a history from before
this scheduler, a rescoring or a correction is taken into account at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fsrs import Card, Rating, Scheduler

from rehearse.records import AttemptRecord
from rehearse.rubric import Question

AGAIN_BELOW, GOOD_FROM = 0.5, 0.8
#: a failed question comes back in the same sitting
LEARNING_STEP = timedelta(minutes=10)

_SCHEDULER = Scheduler(learning_steps=(LEARNING_STEP,), relearning_steps=(LEARNING_STEP,), enable_fuzzing=False)


def rating_for(coverage: float) -> Rating:
    """The FSRS rating of an answer with this coverage (see the module docstring)."""
    if coverage < AGAIN_BELOW:
        return Rating.Again
    return Rating.Hard if coverage < GOOD_FROM else Rating.Good


@dataclass(frozen=True)
class Due:
    """When a question is due, and what it is based on."""

    question_id: str
    due: datetime | None  # None: never answered (due now)
    last_coverage: float | None = None
    last_at: datetime | None = None
    reviews: int = 0

    def is_due(self, now: datetime) -> bool:
        """True when the question should be practised at ``now``."""
        return self.due is None or self.due <= now


def as_utc(dt: datetime) -> datetime:
    """``dt`` in UTC (a naive time is taken as local)."""
    return (dt if dt.tzinfo else dt.astimezone()).astimezone(timezone.utc)


def replay(attempts: Iterable[AttemptRecord]) -> dict[str, Due]:
    """Each question's due time, from its scored answers replayed in order through FSRS."""
    by_question: dict[str, list[AttemptRecord]] = {}
    for a in attempts:
        if a.status == "scored" and a.result is not None:
            by_question.setdefault(a.question_id, []).append(a)
    out: dict[str, Due] = {}
    for qid, atts in by_question.items():
        atts.sort(key=lambda a: (a.created_at, a.id))
        card = Card(card_id=1)
        for a in atts:
            card, _ = _SCHEDULER.review_card(card, rating_for(a.coverage or 0.0), review_datetime=as_utc(a.created_at))
        out[qid] = Due(qid, card.due, atts[-1].coverage or 0.0, as_utc(atts[-1].created_at), len(atts))
    return out


def order_questions(questions: Sequence[Question], attempts: Iterable[AttemptRecord],
                    now: datetime | None = None) -> list[Question]:
    """The order in which to practise ``questions``.

    1. Those that are due: never answered first, then the weakest last answer
       (lowest coverage), then the least recently practised.
    2. Then those not yet due, soonest due first.
    """
    now = as_utc(now or datetime.now(timezone.utc))
    dues = replay(attempts)
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    due, later = [], []
    for index, q in enumerate(questions):
        d = dues.get(q.id)
        if d is None:
            due.append(((0, 0.0, epoch, index), q))
        elif d.is_due(now):
            due.append(((1, d.last_coverage or 0.0, d.last_at or epoch, index), q))
        else:
            later.append(((d.due, index), q))
    return [q for _, q in sorted(due, key=lambda t: t[0])] + [q for _, q in sorted(later, key=lambda t: t[0])]


def due_today(questions: Sequence[Question], attempts: Iterable[AttemptRecord],
              now: datetime | None = None) -> list[Question]:
    """The questions due before the end of today (local time), never-answered ones included."""
    now = (now or datetime.now(timezone.utc)).astimezone()
    end = now.replace(hour=23, minute=59, second=59, microsecond=0)
    dues = replay(attempts)
    return [q for q in questions if q.id not in dues or dues[q.id].is_due(as_utc(end))]


#: when "the next session" is: the order is computed as of this long after now
NEXT_SESSION = timedelta(days=1)
#: the next session's first questions are read aloud ahead (practice, the page): this many
NEXT_SESSION_CLIPS = 2


@dataclass(frozen=True)
class Selection:
    """The questions a practice session picks from, and how it orders them (the command's --tag, --bank,
    --question and --count): from it, what this session asks and what the next one will ask first."""

    questions: tuple[Question, ...]
    scheduled: bool = True  # in schedule order (:func:`order_questions`); False: in the order given (--question)
    count: int | None = None  # at most this many

    def session(self, attempts: Iterable[AttemptRecord], now: datetime | None = None) -> list[Question]:
        """The questions a session started at ``now`` asks, in order."""
        qs = order_questions(self.questions, attempts, now) if self.scheduled else list(self.questions)
        return qs[:self.count] if self.count else qs

    def next_first(self, attempts: Iterable[AttemptRecord], n: int, now: datetime | None = None,
                   answering: str | None = None) -> list[Question]:
        """The first ``n`` questions of the next session, started a day after ``now`` (:data:`NEXT_SESSION`)
        with the history ``attempts``. ``answering``: the id of a question being answered now, not scored
        yet; it is left out of a scheduled order, as a question just answered usually is not due first
        the next day (a good answer is due in days; a weak one competes with every other due question,
        and never-answered ones come first). A re-guess once it is scored puts it where it belongs."""
        when = (now or datetime.now(timezone.utc)) + NEXT_SESSION
        if not self.scheduled:
            return self.session(attempts, when)[:n]
        qs = [q for q in order_questions(self.questions, attempts, when) if q.id != answering]
        return qs[:min(n, self.count or n)]


def describe_due(d: Due | None, now: datetime | None = None) -> str:
    """'due now', 'due in 10 minutes', 'due tomorrow', 'due in 4 days (Dec 5)'."""
    if d is None or d.due is None:
        return "due now (never answered)"
    now = as_utc(now or datetime.now(timezone.utc))
    left = d.due - now
    if left <= timedelta(0):
        return "due now"
    if left < timedelta(hours=1):
        return f"due in {max(1, round(left.total_seconds() / 60))} minutes"
    local = d.due.astimezone()
    days = (local.date() - now.astimezone().date()).days
    if days == 0:
        return f"due today at {local:%H:%M}"
    if days == 1:
        return "due tomorrow"
    return f"due in {days} days ({local:%b %-d})"

"""Spaced repetition with FSRS: ratings from coverage, cards replayed from the history, the practice order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Rating

from rehearse.assess import assess_text
from rehearse.rubric import load_library
from rehearse.schedule import (
    Selection,
    describe_due,
    due_today,
    order_questions,
    rating_for,
    replay,
)
from rehearse.store import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LIB = load_library()
MOCO, CFG, DDIM = LIB.get("moco"), LIB.get("classifier-free-guidance"), LIB.get("ddim-vs-ddpm")
GOOD = "MoCo 用一个队列维护负样本，像动态字典；key 编码器用动量更新，是 query 编码器参数的滑动平均，key 保持一致；负样本数量和 batch size 解耦。"
HALF = "MoCo 用一个队列维护负样本，像动态字典；key 编码器用动量更新。"
BAD = "MoCo 是何恺明做的。"


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "h.db") as s:
        yield s


def answer(store: Store, text: str, at: datetime, q=MOCO) -> float:
    a = assess_text(q, text)
    store.save_attempt(a, question=q, at=at)
    return a.score.coverage


def test_ratings_from_coverage():
    assert rating_for(0.0) is Rating.Again and rating_for(0.49) is Rating.Again
    assert rating_for(0.5) is Rating.Hard and rating_for(0.79) is Rating.Hard
    assert rating_for(0.8) is Rating.Good and rating_for(1.0) is Rating.Good


def test_the_answers_used_here_have_the_coverage_they_claim(store):
    assert answer(store, GOOD, T0) >= 0.8
    assert 0.5 <= answer(store, HALF, T0) < 0.8
    assert answer(store, BAD, T0) < 0.5


def test_a_failed_question_comes_back_in_the_same_sitting(store):
    answer(store, BAD, T0)
    d = replay(store.attempts())["moco"]
    assert d.due - T0 == timedelta(minutes=10)
    assert not d.is_due(T0 + timedelta(minutes=5)) and d.is_due(T0 + timedelta(minutes=11))


def test_good_answers_push_the_question_further_out_each_time(store):
    gaps = []
    at = T0
    for _ in range(4):
        answer(store, GOOD, at)
        d = replay(store.attempts())["moco"]
        gaps.append(d.due - at)
        at = d.due  # answered again when due
    assert gaps[1] > timedelta(days=1)
    assert all(b > a for a, b in zip(gaps[1:], gaps[2:])), gaps


def test_a_half_covered_answer_passes_but_comes_back_sooner_than_a_good_one(tmp_path):
    due = {}
    for name, text in (("half", HALF), ("good", GOOD)):
        with Store.open(tmp_path / f"{name}.db") as s:
            answer(s, GOOD, T0)
            d = replay(s.attempts())["moco"]
            answer(s, text, d.due)
            due[name] = replay(s.attempts())["moco"].due - d.due
    assert timedelta(days=1) <= due["half"] < due["good"]


def test_a_correction_changes_the_schedule(store):
    answer(store, GOOD, T0)
    before = replay(store.attempts())["moco"].due
    for p in ("queue", "momentum-encoder", "consistency"):
        store.add_correction(1, p, "not_said")
    after = replay(store.attempts())["moco"].due
    assert after - T0 == timedelta(minutes=10) and after < before


def test_order_due_first_never_answered_then_weakest_then_not_yet_due(store):
    answer(store, GOOD, T0, MOCO)          # due in days
    answer(store, HALF, T0, MOCO)          # replayed: a second review the same minute
    answer(store, "classifier-free guidance 不需要分类器。", T0, CFG)  # weak: due in 10 minutes
    later = T0 + timedelta(hours=1)
    order = [q.id for q in order_questions([MOCO, CFG, DDIM], store.attempts(), later)]
    assert order == ["ddim-vs-ddpm", "classifier-free-guidance", "moco"]
    assert [q.id for q in due_today([MOCO, CFG, DDIM], store.attempts(), later)] == \
        ["classifier-free-guidance", "ddim-vs-ddpm"]


def test_the_next_session_is_the_practice_order_a_day_later(store):
    answer(store, GOOD, T0, MOCO)  # due in days
    answer(store, "classifier-free guidance 不需要分类器。", T0, CFG)  # weak: due again in 10 minutes
    picked = Selection((MOCO, CFG, DDIM))
    assert [q.id for q in Selection((MOCO, CFG, DDIM), count=2).session(store.attempts(), T0)] == \
        ["ddim-vs-ddpm", "classifier-free-guidance"]  # not due yet: the soonest due first
    tomorrow = [q.id for q in picked.session(store.attempts(), T0 + timedelta(days=1))]
    assert tomorrow == ["ddim-vs-ddpm", "classifier-free-guidance", "moco"]
    assert [q.id for q in picked.next_first(store.attempts(), 2, T0)] == tomorrow[:2]
    # the question being answered now is left out until it is scored
    assert [q.id for q in picked.next_first(store.attempts(), 2, T0, answering="ddim-vs-ddpm")] == \
        ["classifier-free-guidance", "moco"]
    assert [q.id for q in Selection((MOCO, CFG, DDIM), count=1).next_first(store.attempts(), 2, T0)] == \
        ["ddim-vs-ddpm"]
    given = Selection((MOCO, CFG, DDIM), scheduled=False)  # --question: the order given, every time
    assert [q.id for q in given.next_first(store.attempts(), 2, T0, answering="moco")] == ["moco", "classifier-free-guidance"]


def test_due_is_described_for_people():
    from rehearse.schedule import Due

    now = T0
    assert describe_due(None) == "due now (never answered)"
    assert describe_due(Due("q", now - timedelta(minutes=1)), now) == "due now"
    assert describe_due(Due("q", now + timedelta(minutes=10)), now) == "due in 10 minutes"
    assert describe_due(Due("q", now + timedelta(days=1)), now) == "due tomorrow"
    assert describe_due(Due("q", now + timedelta(days=4)), now).startswith("due in 4 days (")

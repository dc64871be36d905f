import pytest

from rehearse.rubric import Point, Question
from rehearse.scoring import score
from rehearse.transcript import Segment, Transcript, Word, char_times


def question(*points: Point) -> Question:
    return Question(id="q", question="?", language="zh", points=points)


ANY = Point(id="lifting", label="lifting", groups=(("提升到三维", "lifting module"),), mode="any", weight=2)
ALL = Point(id="render", label="render", groups=(("体渲染",), ("掩码", "mask")), mode="all")
ALL3 = Point(id="sample", label="sample", groups=(("潜在向量",), ("生成器",), ("深度图",)), mode="all")


def test_coverage_is_weighted_credit():
    s = score(question(ANY, ALL), Transcript.from_text("我们把特征提升到三维，然后体渲染。", "zh"))
    by = {p.id: p for p in s.points}
    assert by["lifting"].credit == 1.0 and by["lifting"].covered
    assert by["render"].credit == 0.5 and by["render"].covered and by["render"].status == "partial"
    assert by["render"].missing == ("掩码",)
    assert s.coverage == pytest.approx((2 * 1 + 1 * 0.5) / 3, abs=1e-4)


def test_partial_credit_below_half_is_not_covered():
    s = score(question(ALL3), Transcript.from_text("我们采样潜在向量。", "zh"))
    p = s.points[0]
    assert p.credit == pytest.approx(1 / 3, abs=1e-3) and not p.covered and p.status == "partial"


def test_nothing_said_scores_zero_with_null_evidence():
    s = score(question(ANY, ALL), Transcript.from_text("今天天气很好。", "zh"))
    assert s.coverage == 0.0
    assert all(p.evidence is None and not p.covered and p.status == "missed" for p in s.points)


def test_empty_transcript():
    s = score(question(ANY), Transcript(text="", segments=(), language="zh", duration=3.0))
    assert s.coverage == 0.0


def test_evidence_carries_span_phrase_similarity_and_time():
    seg = Segment(start=10.0, end=14.0, text="然后用体宣染出图像",
                  words=(Word(10.0, 10.5, "然后"), Word(10.5, 11.0, "用"), Word(11.2, 12.4, "体宣染"),
                         Word(12.4, 13.0, "出"), Word(13.0, 14.0, "图像")))
    t = Transcript(text=seg.text, segments=(seg,), language="zh", duration=15.0, engine="faster-whisper")
    s = score(question(ALL), t)
    ev = s.points[0].evidence
    assert ev is not None
    assert ev.text == "体宣染" and ev.phrase == "体渲染" and ev.by == "sound"
    assert 0.8 <= ev.similarity < 1.0
    assert (ev.start, ev.end) == (11.2, 12.4)


def test_char_times_without_words_interpolates_segments():
    t = Transcript(text="一二三四", segments=(Segment(0.0, 4.0, "一二三四"),), language="zh", duration=4.0)
    times = char_times(t)
    assert times[0] == (0.0, 1.0) and times[3] == (3.0, 4.0)


def test_multi_segment_times():
    segs = (Segment(0.0, 2.0, "我们用"), Segment(5.0, 7.0, "掩码"))
    t = Transcript(text="我们用掩码", segments=segs, language="zh", duration=8.0, engine="x")
    s = score(question(ALL), t)
    ev = s.points[0].groups[1]
    assert ev is not None and ev.start == 5.0 and ev.end == 7.0

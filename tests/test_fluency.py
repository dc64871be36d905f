import pytest

from rehearse.fluency import count_fillers, measure, pauses_between
from rehearse.transcript import Segment, Transcript, Word


@pytest.mark.parametrize(("text", "expected"), [
    ("嗯，我们用对比学习。", {"嗯": 1}),
    ("呃，那个，就是说我们", {"呃": 1, "那个": 1}),
    ("然后然后我们做了实验", {"然后": 1}),
    ("然后我们做了实验，然后写论文", {}),          # discourse marker used as a word: not a filler
    ("这个模型很好", {}),
    ("金额很大，额，我们", {"额": 1}),              # 额 inside a word is not a filler
    ("是啊，很好啊。", {}),                          # sentence-final particle
    ("啊，这个，我想想", {"啊": 1, "这个": 1}),
    ("Um, so we use, like, a queue, you know.", {"um": 1, "like": 1, "you know": 1}),
    ("I like this model", {}),
])
def test_fillers(text, expected):
    assert dict(count_fillers(text)) == expected


def test_pauses_between_regions():
    assert pauses_between([(0.0, 1.0), (2.5, 3.0), (3.2, 4.0)]) == pytest.approx([1.5, 0.2])
    assert pauses_between([]) == []


def test_measure_rates_and_pauses_from_words():
    words = (Word(0.0, 0.5, "我们"), Word(0.5, 1.0, "用"), Word(2.5, 3.0, "InfoNCE"), Word(3.0, 3.5, "loss"))
    t = Transcript(text="嗯，我们用InfoNCE loss", segments=(Segment(0.0, 3.5, "嗯，我们用InfoNCE loss", words=words),),
                   language="zh", duration=6.0, engine="faster-whisper")
    f = measure(t, target_seconds=60)
    assert f.han_chars == 4 and f.en_words == 2
    assert f.speech_rate == pytest.approx(6 / 0.1)
    assert f.filler_count == 1 and f.fillers == {"嗯": 1}
    assert f.fillers_per_min == pytest.approx(10.0)
    assert f.long_pauses == 1 and f.longest_pause_s == 1.5
    assert f.target_seconds == 60 and f.rate_unit == "units/min"


def test_measure_prefers_vad_regions():
    t = Transcript(text="我们", segments=(Segment(0.0, 1.0, "我们"),), language="zh", duration=10.0, engine="x")
    f = measure(t, [(0.5, 2.0), (3.2, 5.0), (5.3, 9.0)])
    assert f.long_pauses == 1 and f.longest_pause_s == pytest.approx(1.2)


def test_typed_text_has_no_rates():
    f = measure(Transcript.from_text("我们用对比学习", "zh"))
    assert f.duration_s == 0 and f.speech_rate == 0 and f.long_pauses == 0

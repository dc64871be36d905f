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
    assert f.timed and f.answer_s == 3.5 and f.speaking_s == 2.0  # first word to last; minus the 1.5 s pause
    assert f.speech_rate == pytest.approx(6 / 3.5 * 60, abs=0.1)  # speaking rate: pauses included
    assert f.articulation_rate == pytest.approx(6 / 2.0 * 60)     # pauses excluded
    assert f.han_per_min == pytest.approx(4 / 3.5 * 60, abs=0.1)
    assert f.en_per_min == pytest.approx(2 / 3.5 * 60, abs=0.1)
    assert f.filler_count == 1 and f.fillers == {"嗯": 1}
    assert f.fillers_per_min == pytest.approx(60 / 3.5, abs=0.01)
    assert f.pauses == 1 and f.long_pauses == 1 and f.longest_pause_s == 1.5
    assert f.time_to_first_word_s == 0.0 and f.length_ratio == pytest.approx(3.5 / 60, abs=0.01)
    assert f.target_seconds == 60 and f.rate_unit == "units/min"


def test_measure_prefers_vad_regions():
    t = Transcript(text="我们", segments=(Segment(0.0, 1.0, "我们"),), language="zh", duration=10.0, engine="x")
    f = measure(t, [(0.5, 2.0), (3.2, 5.0), (5.3, 9.0)], vad_pad_s=0.0)
    assert f.long_pauses == 1 and f.longest_pause_s == pytest.approx(1.2)
    assert f.pauses == 2 and f.pause_time_s == pytest.approx(1.5)
    assert f.time_to_first_word_s == 0.5 and f.answer_s == 8.5 and f.speaking_s == 7.0


def test_vad_padding_is_added_back_to_pauses():
    # Silero regions are widened by 50 ms each side, so a 0.15 s gap is a 0.25 s silence
    t = Transcript(text="我们", segments=(Segment(0.0, 1.0, "我们"),), language="zh", duration=10.0, engine="x")
    f = measure(t, [(0.45, 2.05), (3.15, 5.05), (5.2, 9.05)])
    assert f.pauses == 2 and f.longest_pause_s == pytest.approx(1.2)
    assert f.time_to_first_word_s == pytest.approx(0.5) and f.answer_s == pytest.approx(8.5)


def test_typed_text_has_no_rates():
    f = measure(Transcript.from_text("我们用对比学习", "zh"), target_seconds=60)
    assert f.duration_s == 0 and f.speech_rate == 0 and f.long_pauses == 0
    assert not f.timed and f.time_to_first_word_s is None and f.length_ratio is None
    assert [c[0] for c in f.checks("zh")] == []  # no bands without timing


def test_marker_followed_by_a_measured_pause_is_a_filler():
    # "然后" then a 0.8 s silence: a filler, although no comma was written
    words = (Word(0.0, 0.4, "我们"), Word(0.4, 0.9, "然后"), Word(1.7, 2.2, "用"), Word(2.2, 2.8, "队列"),
             Word(2.8, 3.2, "然后"), Word(3.2, 3.6, "存"))
    text = "我们然后用队列然后存"
    t = Transcript(text=text, segments=(Segment(0.0, 3.6, text, words=words),), language="zh", duration=4.0, engine="x")
    f = measure(t)
    assert f.fillers == {"然后": 1}  # the second 然后 runs straight on: a real word
    assert f.pauses == 1


def test_filler_offsets_survive_nfkc_changes():
    # "…" becomes "..." under NFKC; the pause position after 那个 must still line up
    from rehearse.fluency import count_fillers as cf

    text = "我…那个我们"
    assert dict(cf(text, {3})) == {"那个": 1}
    assert dict(cf(text)) == {}


@pytest.mark.parametrize(("text", "expected"), [
    ("我们我们用对比学习", {"我们": 1}),
    ("我们，我们用对比学习", {"我们": 1}),                 # a restart across a pause mark
    ("我们用了动量编码器动量编码器", {"动量编码器": 1}),    # the longest repeated unit is reported
    ("看看这个模型", {}),                                # single-character reduplication is normal Mandarin
    ("然后然后我们", {}),                                # counted as a filler, not a repetition
    ("we we use the the queue", {"we": 1, "the": 1}),
    ("we use a queue", {}),
])
def test_repetitions(text, expected):
    from rehearse.fluency import count_repetitions

    assert dict(count_repetitions(text)) == expected


def test_bands_and_checks():
    from rehearse.fluency import BANDS, Fluency

    f = Fluency(duration_s=60, speech_rate=150, rate_unit="units/min", han_chars=150, en_words=0, filler_count=7,
                fillers_per_min=7.0, timed=True, answer_s=60, en_per_min=0, time_to_first_word_s=1.0,
                length_ratio=0.5, target_seconds=120)
    checks = {name: (value, verdict) for name, value, _, verdict in f.checks("zh")}
    assert checks == {"rate_zh": (150, "low"), "fillers_per_min": (7.0, "high"),
                      "time_to_first_word_s": (1.0, "ok"), "length_ratio": (0.5, "low")}
    assert BANDS["rate_zh"].text() == "180–260" and BANDS["fillers_per_min"].text() == "≤ 5"
    assert "rate_en" in {c[0] for c in f.checks("en")}


def test_fluency_from_dict_tolerates_old_and_new_keys():
    from rehearse.fluency import Fluency

    old = {"duration_s": 5.0, "speech_rate": 200.0, "rate_unit": "units/min", "han_chars": 10, "en_words": 1,
           "filler_count": 0, "fillers": {}, "long_pauses": 0, "longest_pause_s": 0.0, "from_the_future": 1}
    f = Fluency.from_dict(old)
    assert f.speech_rate == 200.0 and f.pauses == 0 and f.time_to_first_word_s is None
    assert Fluency.from_dict(f.to_dict()) == f


def test_render_fluency_shows_bands_and_baseline():
    from rich.console import Console

    from rehearse.fluency import Fluency
    from rehearse.report import render_fluency

    f = Fluency(duration_s=62, speech_rate=231, rate_unit="units/min", han_chars=200, en_words=8, filler_count=3,
                fillers={"嗯": 2, "然后": 1}, fillers_per_min=3.0, long_pauses=1, longest_pause_s=1.6,
                target_seconds=90, timed=True, answer_s=60, speaking_s=50, articulation_rate=277.2,
                han_per_min=222, en_per_min=8, pauses=7, pause_time_s=10, time_to_first_word_s=0.8,
                repetitions=1, repeated={"我们": 1}, length_ratio=0.67)
    con = Console(record=True, width=200, color_system=None)
    render_fluency(f, con, language="zh", baseline={"speech_rate": 210, "fillers_per_min": 4.5})
    assert con.export_text().splitlines() == [
        "fluency  60.0 s answer (target 90 s, 0.67×)   band 0.75–1.25 ↓ · first word after 0.8 s",
        "  rate     231 units/min (222 字/min + 8 English words/min) · articulation 277   band 180–260 ✔"
        "   you usually 210",
        "  fillers  3 (嗯×2, 然后×1) = 3.0/min   band ≤ 5 ✔   you usually 4.5",
        "  pauses   7 ≥ 0.25 s · 1 long ≥ 1 s · longest 1.6 s",
        "  repeats  1 (我们×1)",
    ]

"""Speech Whisper skipped is decoded again (rehearse.transcribe.refill_skipped), without a model."""

from __future__ import annotations

import numpy as np

from rehearse.audio import SAMPLE_RATE
from rehearse.transcribe import Recognition, refill_skipped, skipped_stretches
from rehearse.transcript import Segment, TranscribeOptions, Transcript

OPTS = TranscribeOptions(language="zh", hotwords="InfoNCE")


def _transcript(*segs: tuple[float, float, str], duration: float = 30.0) -> Transcript:
    s = tuple(Segment(a, b, text, avg_logprob=-0.2, no_speech_prob=0.05) for a, b, text in segs)
    return Transcript(text="".join(x.text for x in s), segments=s, language="zh", duration=duration)


class ScriptedEngine:
    """Answers each call with the next scripted list of (start, end, text) segments, times relative to the
    audio it is given; records the options and the length of each call."""

    name = "scripted"
    model_name = "scripted"

    def __init__(self, *answers: list[tuple[float, float, str]]) -> None:
        self.answers = list(answers)
        self.calls: list[TranscribeOptions] = []
        self.seconds: list[float] = []

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> Transcript:
        self.calls.append(options)
        self.seconds.append(len(audio) / SAMPLE_RATE)
        return _transcript(*(self.answers.pop(0) if self.answers else []), duration=len(audio) / SAMPLE_RATE)


def test_uncovered_speech_of_a_second_or_more_is_a_stretch_to_decode_again():
    t = _transcript((0.0, 5.0, "大家好，今天介绍我们的工作。"), (12.0, 15.0, "我们用 InfoNCE loss。"))
    regions = [(1.0, 4.0), (6.0, 7.5), (8.0, 11.0), (13.0, 14.0), (20.0, 20.6), (25.0, 27.0)]
    # regions with no kept segment between them are one stretch (6-11 s; 20-27 s, 2.6 s of speech)
    assert skipped_stretches(t, regions) == [(6.0, 11.0), (20.0, 27.0)]
    assert skipped_stretches(t, [(20.0, 20.6), (22.0, 22.3)]) == []  # under a second of speech: left alone
    # a segment within half a second covers the speech (segment times are coarse)
    assert skipped_stretches(t, [(5.4, 6.2), (11.6, 12.3)]) == []
    # nothing kept at all (noise, music): nothing to refill
    assert skipped_stretches(_transcript(), regions) == []


def test_a_skipped_sentence_is_decoded_again_and_put_in_its_place():
    audio = np.zeros(30 * SAMPLE_RATE, np.float32)
    first = Recognition(_transcript((0.7, 6.7, "大家好，今天我要介绍我们最新的研究工作。"),
                                    (12.7, 18.7, "我们用 InfoNCE loss 做对比学习。")),
                        ((1.1, 6.2), (8.1, 11.4), (12.9, 18.1)))
    engine = ScriptedEngine([(0.1, 3.5, "甚至出现交易几乎停滞的情况。")])
    r = refill_skipped(audio, first, engine, OPTS)
    assert [s.text for s in r.transcript.segments] == [
        "大家好，今天我要介绍我们最新的研究工作。", "甚至出现交易几乎停滞的情况。", "我们用 InfoNCE loss 做对比学习。"]
    added = r.transcript.segments[1]
    assert (round(added.start, 2), round(added.end, 2)) == (8.0, 11.4)  # on the answer's timeline (from 7.9 s)
    assert "交易几乎停滞" in r.transcript.text and r.speech == first.speech
    assert len(engine.calls) == 1 and round(engine.seconds[0], 2) == 3.7  # 8.1-11.4 s with 0.2 s each side
    assert engine.calls[0].initial_prompt == "" and engine.calls[0].hotwords == "InfoNCE"  # no prompt to loop


def test_nothing_skipped_means_no_second_decode():
    first = Recognition(_transcript((0.5, 6.0, "介绍一下对比学习。")), ((0.6, 5.8),))
    engine = ScriptedEngine()
    assert refill_skipped(np.zeros(10 * SAMPLE_RATE, np.float32), first, engine, OPTS) is first
    assert engine.calls == []


def test_what_the_first_pass_already_had_is_not_added_twice_and_hallucinations_stay_out():
    audio = np.zeros(30 * SAMPLE_RATE, np.float32)
    # the first pass wrote the sentence at misplaced times (0-5 s) although it was said at 8-11 s
    first = Recognition(_transcript((0.0, 5.0, "我们用对比学习把正样本拉近。")), ((1.0, 4.5), (8.0, 11.0)))
    engine = ScriptedEngine([(0.2, 3.0, "我们用对比学习把正样本拉近。"), (3.0, 3.3, "谢谢观看")])
    r = refill_skipped(audio, first, engine, OPTS)
    assert r.transcript.text == "我们用对比学习把正样本拉近。"
    assert len(r.transcript.segments) == 1 and len(r.transcript.dropped) == 2


def test_a_stretch_the_second_decode_skipped_too_gets_one_more_round():
    audio = np.zeros(40 * SAMPLE_RATE, np.float32)
    first = Recognition(_transcript((0.5, 5.0, "第一句。"), (30.0, 35.0, "最后一句。")),
                        ((0.6, 4.8), (6.7, 11.9), (13.7, 17.0), (18.5, 23.7), (30.2, 34.8)))
    engine = ScriptedEngine([(0.0, 5.2, "第二句话在这里。"), (12.0, 17.2, "第四句话在这里。")],  # stretch 6.7-23.7
                            [(0.1, 3.4, "第三句话在这里。")])                               # then 13.7-17.0
    r = refill_skipped(audio, first, engine, OPTS)
    assert [s.text for s in r.transcript.segments] == ["第一句。", "第二句话在这里。", "第三句话在这里。",
                                                        "第四句话在这里。", "最后一句。"]
    assert len(engine.calls) == 2

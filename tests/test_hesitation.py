"""Filled pauses from the audio: found where they were inserted into real speech, rare in fluent speech,
combined with what the transcript says."""

from __future__ import annotations

import numpy as np
import pytest

from rehearse.hesitation import FilledPause, combine, detect, measure_hesitation
from rehearse.transcript import Segment, Transcript, Word
from tests.hesitation_set import evaluation_set, match, real_clips, with_filled_pauses


@pytest.fixture(scope="module")
def clips():
    return evaluation_set("test", variants=1)


def test_inserted_filled_pauses_are_found_and_fluent_speech_raises_few_alarms(clips):
    tp = fp = fn = 0
    fluent_fp, fluent_s = 0, 0.0
    for c in clips:
        a, b, m = match(c.truth, [(e.start, e.end) for e in detect(c.audio)])
        tp, fp, fn = tp + a, fp + b, fn + m
        if not c.truth:
            fluent_fp, fluent_s = fluent_fp + b, fluent_s + c.seconds
    assert tp + fn >= 25 and fluent_s > 60  # the set is not empty
    # measured on the whole test half (benchmarks/hesitation_eval.py): precision 0.77, recall 0.60, 2.0 false
    # alarms per minute of fluent speech
    assert tp / (tp + fp) >= 0.7 and tp / (tp + fn) >= 0.5
    assert fluent_fp * 60 / fluent_s <= 3.0


def test_a_long_held_vowel_is_found_at_its_time():
    name, lang, audio = next(c for c in real_clips() if c[0].startswith("aishell"))
    clip = with_filled_pauses(name, lang, audio, seed=7, count=1)
    (ts, te), = clip.truth
    found = detect(clip.audio)
    assert any(min(e.end, te) - max(e.start, ts) >= 0.15 for e in found), (clip.truth, found)
    assert all(e.seconds >= 0.2 for e in found)


def test_silence_noise_and_a_gliding_tone_are_not_filled_pauses():
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 2) / 16000
    f = 100 * 3.5 ** (t / 2)  # 100 -> 350 Hz: about 2 semitones every 200 ms, like intonation in speech
    sweep = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / 16000)
    for audio in (np.zeros(32000, np.float32), (0.05 * rng.standard_normal(32000)).astype(np.float32),
                  sweep.astype(np.float32), np.zeros(100, np.float32)):
        assert detect(audio) == []


def test_the_transcript_labels_each_event_and_adds_fillers_the_sound_missed():
    words = (Word(0.0, 0.5, "我们"), Word(0.6, 0.9, "嗯"), Word(1.0, 1.5, "用"), Word(3.0, 3.2, "um"))
    tr = Transcript(text="我们嗯用um", segments=(Segment(0.0, 3.2, "我们嗯用um", words=words),), language="zh",
                    duration=4.0, engine="t", model="t")
    acoustic = [FilledPause(0.55, 0.95, "acoustic"), FilledPause(1.9, 2.4, "acoustic"),
                FilledPause(1.1, 1.6, "acoustic")]
    events = combine(acoustic, tr)
    assert [(e.start, e.source, e.covered_by) for e in events] == [
        (0.55, "acoustic", "filler"), (1.1, "acoustic", "word"), (1.9, "acoustic", "none"),
        (3.0, "transcript", "filler")]
    h = measure_hesitation(np.zeros(16000 * 4, np.float32), tr, answer_s=60.0)
    assert h.count == 2 and h.acoustic == 0 and h.transcript_fillers == 2 and h.per_min == 2.0
    assert h.to_dict()["events"][0] == [0.6, 0.9, "transcript", "filler"]

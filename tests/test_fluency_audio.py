"""Fluency pause figures on real speech with inserted silences of known length.

The fixture is built here: three real Mandarin clips, each cut to its speech
(VAD without padding), joined with digital silence of known length:

    0.8 s silence · clip A · 1.5 s silence · clip B · 0.5 s silence · clip C · 0.6 s silence

Measured on 84 such joins (silences 0.3–3 s): the VAD pause figures come out
between 0.03 s short and 0.30 s long (Silero is sometimes late to detect the
onset after a long silence); time to first word within 0.08 s.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from rehearse.audio import SAMPLE_RATE, load_audio
from rehearse.fluency import measure
from rehearse.transcript import Transcript
from rehearse.vad import speech_regions

from .conftest import shared_clip

CLIPS = ("aishell1_BAC009S0764W0121.flac", "aishell1_BAC009S0764W0122.flac", "funasr_asr_example.flac")
LEAD, LONG, SHORT, TAIL = 0.8, 1.5, 0.5, 0.6


def _speech_only(name: str) -> np.ndarray:
    audio = load_audio(shared_clip("real", name))
    regions = speech_regions(audio, pad_s=0.0)
    return audio[int(regions[0][0] * SAMPLE_RATE):int(regions[-1][1] * SAMPLE_RATE)]


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), dtype=np.float32)


@pytest.fixture(scope="module")
def joined() -> tuple[np.ndarray, float]:
    a, b, c = (_speech_only(n) for n in CLIPS)
    audio = np.concatenate([_silence(LEAD), a, _silence(LONG), b, _silence(SHORT), c, _silence(TAIL)])
    answer_s = (len(a) + len(b) + len(c)) / SAMPLE_RATE + LONG + SHORT
    return audio, answer_s


def test_vad_pauses_match_the_inserted_silences(joined):
    audio, answer_s = joined
    regions = speech_regions(audio)
    t = Transcript(text="甚至出现交易几乎停滞的情况", segments=(), language="zh",
                   duration=len(audio) / SAMPLE_RATE, engine="faster-whisper")
    f = measure(t, regions, target_seconds=10)
    assert f.pauses == 2
    assert f.long_pauses == 1
    assert LONG - 0.05 <= f.longest_pause_s <= LONG + 0.35
    short = f.pause_time_s - f.longest_pause_s
    assert SHORT - 0.05 <= short <= SHORT + 0.35
    assert f.time_to_first_word_s == pytest.approx(LEAD, abs=0.1)
    assert f.answer_s == pytest.approx(answer_s, abs=0.4)
    assert f.speaking_s == pytest.approx(answer_s - LONG - SHORT, abs=0.4)
    assert f.length_ratio == pytest.approx(answer_s / 10, abs=0.05)


@pytest.fixture(scope="module")
def piped(joined, base_engine, tmp_path_factory):
    from rehearse.assess import assess_audio
    from rehearse.rubric import Point, Question

    audio, _ = joined
    path = tmp_path_factory.mktemp("joined") / "joined.wav"
    sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    q = Question(id="x", question="?", language="zh", points=(Point("p", "交易", (("交易",),)),))
    return assess_audio(q, path, base_engine)


@pytest.mark.model
def test_whole_pipeline_reports_the_pauses(piped):
    f = piped.fluency
    assert piped.speech and f.timed
    assert f.pauses == 2 and f.long_pauses == 1
    assert LONG - 0.05 <= f.longest_pause_s <= LONG + 0.35
    assert f.time_to_first_word_s == pytest.approx(LEAD, abs=0.1)
    assert f.articulation_rate > f.speech_rate > 0


@pytest.mark.model
def test_whole_pipeline_counts_only_what_was_said(piped):
    f = piped.fluency
    # 13 + 12 + 18 = 43 Han characters were said; Whisper base may miss or add a few
    assert 36 <= f.han_chars <= 48
    assert f.repetitions == 0

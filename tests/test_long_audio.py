"""Long recordings are examined and transcribed in pieces, so memory stays flat (issue 11).

The peak itself is measured by ``benchmarks/long_audio_memory.py``; these tests
check that the pieces join into one correct timeline.
"""

from __future__ import annotations

import numpy as np
import pytest

from rehearse import transcribe, vad
from rehearse.audio import SAMPLE_RATE, load_audio
from rehearse.transcribe import piece_bounds, recognise
from rehearse.transcript import TranscribeOptions

from .conftest import SHARED, FakeEngine


def _speech_with_pauses(n: int, seed: int = 0) -> np.ndarray:
    clips = [load_audio(p) for p in sorted((SHARED / "real").glob("*.flac"))]
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n):
        parts.append(clips[i % len(clips)])
        parts.append(np.zeros(int(rng.uniform(0.6, 1.5) * SAMPLE_RATE), dtype=np.float32))
    return np.concatenate(parts)


def test_piece_bounds_cut_in_pauses_and_cover_everything():
    regions = [(float(s), s + 8.0) for s in range(0, 1000, 10)]  # 8 s of speech, 2 s pauses
    bounds = piece_bounds(regions, 1000.0, piece_s=100.0)
    assert bounds[0][0] == 0.0 and bounds[-1][1] == 1000.0
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    for a, b in bounds[:-1]:
        assert 50.0 <= b - a <= 100.0
        assert round(b) % 10 == 9, b  # the middle of a pause (8..10 → 9)
    assert piece_bounds(regions, 110.0, piece_s=100.0) == [(0.0, 110.0)]  # under 1.2 × piece_s: one piece


def test_piece_bounds_without_pauses_cut_at_the_limit():
    assert piece_bounds([(0.0, 500.0)], 500.0, piece_s=100.0)[:2] == [(0.0, 100.0), (100.0, 200.0)]


def test_blocked_vad_finds_the_same_speech(monkeypatch: pytest.MonkeyPatch):
    audio = _speech_with_pauses(40)
    whole = vad.speech_regions(audio)
    monkeypatch.setattr(vad, "BLOCK_S", 40.0)
    blocked = vad.speech_regions(audio)
    assert len(audio) / SAMPLE_RATE > 200
    # the same amount of speech, and the same pauses but for a few near block boundaries
    total = sum(b - a for a, b in whole)
    assert abs(sum(b - a for a, b in blocked) - total) < 0.02 * total
    assert abs(len(blocked) - len(whole)) <= 0.1 * len(whole)
    assert all(b[0] > a[1] for a, b in zip(blocked, blocked[1:]))  # ordered, no overlaps


def test_long_audio_is_transcribed_in_pieces_on_one_timeline(monkeypatch: pytest.MonkeyPatch):
    audio = _speech_with_pauses(40)
    monkeypatch.setattr(transcribe, "PIECE_S", 60.0)
    engine = FakeEngine().enqueue(*[f"第{i}段" for i in range(20)])
    rec = recognise(audio, engine, TranscribeOptions(language="zh"))
    duration = len(audio) / SAMPLE_RATE
    n = len(engine.calls)
    assert n >= 3 and all(s <= 72.0 for s in engine.seconds)
    assert sum(engine.seconds) == pytest.approx(duration, abs=0.01)
    # only the first piece is prompted, as in a whole-file decode
    assert engine.calls[0].prompt and all(o.prompt == "" for o in engine.calls[1:])
    segs = rec.transcript.segments
    assert [s.text for s in segs] == [f"第{i}段" for i in range(n)]
    assert segs[0].start == 0.0 and segs[-1].end == pytest.approx(duration, abs=0.01)
    assert all(a.end == pytest.approx(b.start, abs=0.01) for a, b in zip(segs, segs[1:]))
    assert rec.transcript.duration == pytest.approx(duration)
    # the speech regions, clipped to their pieces, still cover the same speech
    total = sum(b - a for a, b in vad.speech_regions(audio))
    assert sum(b - a for a, b in rec.speech) == pytest.approx(total, abs=0.01)
    assert all(b[0] >= a[1] for a, b in zip(rec.speech, rec.speech[1:]))


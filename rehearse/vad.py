"""Voice activity detection (Silero VAD, the ONNX model that ships inside faster-whisper)."""

from __future__ import annotations

import numpy as np

from rehearse.audio import SAMPLE_RATE

#: Audio is examined in blocks of this many seconds: Silero's batching copies
#: its whole input twice, about 120 MB per 10 minutes, so one call on a
#: 60-minute file alone peaked above 700 MB.
BLOCK_S = 120.0


def _regions(audio: np.ndarray, min_silence_s: float, threshold: float, pad_s: float) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(threshold=threshold, min_silence_duration_ms=int(min_silence_s * 1000),
                      speech_pad_ms=int(pad_s * 1000), min_speech_duration_ms=100)
    stamps = get_speech_timestamps(audio.astype(np.float32, copy=False), opts, sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def speech_regions(audio: np.ndarray, *, min_silence_s: float = 0.25, threshold: float = 0.5,
                   pad_s: float = 0.05) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in 16 kHz mono audio.

    ``min_silence_s`` is the shortest silence that splits two regions, so the
    gaps between regions are exactly the pauses at least that long. Long audio
    is examined in blocks of :data:`BLOCK_S`; a region cut by a block boundary
    is joined again.
    """
    if audio.size == 0:
        return []
    block = int(BLOCK_S * SAMPLE_RATE)
    if len(audio) <= block * 1.5:
        return _regions(audio, min_silence_s, threshold, pad_s)
    out: list[tuple[float, float]] = []
    for start in range(0, len(audio), block):
        t0 = start / SAMPLE_RATE
        found = [(a + t0, b + t0) for a, b in _regions(audio[start:start + block], min_silence_s, threshold, pad_s)]
        near = min_silence_s + 2 * pad_s
        if out and found and out[-1][1] > t0 - near and found[0][0] < t0 + near:
            out[-1] = (out[-1][0], found.pop(0)[1])
        out.extend(found)
    return out

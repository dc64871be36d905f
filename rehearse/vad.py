"""Voice activity detection (Silero VAD, the ONNX model that ships inside faster-whisper)."""

from __future__ import annotations

import numpy as np

from rehearse.audio import SAMPLE_RATE


def speech_regions(audio: np.ndarray, *, min_silence_s: float = 0.25, threshold: float = 0.5,
                   pad_s: float = 0.05) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in 16 kHz mono audio.

    ``min_silence_s`` is the shortest silence that splits two regions, so the
    gaps between regions are exactly the pauses at least that long.
    """
    if audio.size == 0:
        return []
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(threshold=threshold, min_silence_duration_ms=int(min_silence_s * 1000),
                      speech_pad_ms=int(pad_s * 1000), min_speech_duration_ms=100)
    stamps = get_speech_timestamps(audio.astype(np.float32, copy=False), opts, sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]

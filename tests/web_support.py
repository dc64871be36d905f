"""Helpers for the web tests: an app over the fake engine, PCM chunks of real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rehearse.audio import SAMPLE_RATE, load_audio
from rehearse.web.app import WebConfig, create_app

BASE = "http://127.0.0.1:8765"
MOCO = "MoCo 用一个队列维护负样本，key 编码器用动量更新，是 query 编码器参数的滑动平均。"


def make_app(engine, recordings: Path, **kw):  # type: ignore[no-untyped-def]
    """The real app over ``engine``, answering to 127.0.0.1:8765."""
    return create_app(WebConfig(engine=engine, recordings=recordings, port=8765, **kw))


def pcm_chunks(path: Path, rate: int = SAMPLE_RATE, chunk_s: float = 0.25) -> list[bytes]:
    """A recording as the page sends it: 16-bit little-endian PCM at ``rate``, in ``chunk_s`` chunks."""
    audio = load_audio(path)
    if rate != SAMPLE_RATE:
        import soxr

        audio = soxr.resample(audio, SAMPLE_RATE, rate)
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    n = int(rate * chunk_s)
    return [pcm[i:i + n].tobytes() for i in range(0, len(pcm), n)]

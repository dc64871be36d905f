"""The openai-whisper engine, offline, with tiny randomly-initialised checkpoints.

Real weights cannot be downloaded here, so each checkpoint is built in the test
with ``whisper.model.Whisper`` and saved the way OpenAI ships them. Random
weights decode garbage, so the text is only checked for its type; everything
else (loading, decoding options, conversion to typed results, errors) is real.
Only ``whisper._download`` (the network step) is replaced, to fail on purpose.
"""

from __future__ import annotations

import urllib.error
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
whisper = pytest.importorskip("whisper")
from whisper.model import ModelDimensions, Whisper  # noqa: E402

from rehearse.audio import SAMPLE_RATE  # noqa: E402
from rehearse.engines.openai_whisper import OpenAIWhisperEngine, cached_checkpoint  # noqa: E402
from rehearse.errors import EngineError, ModelNotFoundError  # noqa: E402
from rehearse.transcript import (  # noqa: E402
    Segment,
    TranscribeOptions,
    Transcript,
    Word,
)

# Multilingual vocabulary (51865) so the tokenizer is multilingual and "zh" can be forced.
# n_text_ctx is 64 rather than 448: the decoder then samples at most 32 tokens per
# window instead of 224, which keeps the file fast on a 2-core CPU.
TINY_RANDOM = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2,
                              n_audio_layer=1, n_vocab=51865, n_text_ctx=64, n_text_state=64,
                              n_text_head=2, n_text_layer=1)
# Same decoder layout as the official "tiny" (4 layers x 6 heads), so its alignment heads fit.
TINY_LAYOUT = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=48, n_audio_head=2,
                              n_audio_layer=1, n_vocab=51865, n_text_ctx=64, n_text_state=48,
                              n_text_head=6, n_text_layer=4)


def save_checkpoint(path: Path, dims: ModelDimensions) -> Path:
    """Save a randomly-initialised Whisper in OpenAI's checkpoint format."""
    torch.manual_seed(0)
    model = Whisper(dims)
    # Whisper allocates the decoder's positional embedding with torch.empty (it is always
    # overwritten by a real checkpoint): give it seeded values so decoding is deterministic.
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def tiny_random(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny-random.pt", TINY_RANDOM)


@pytest.fixture(scope="module")
def engine(tiny_random: Path) -> OpenAIWhisperEngine:
    return OpenAIWhisperEngine(str(tiny_random))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make whisper's download step fail like a machine without internet; record the URLs."""
    calls: list[str] = []

    def _download(url: str, root: str, in_memory: bool) -> str:
        calls.append(url)
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(whisper, "_download", _download)
    return calls


def two_seconds() -> np.ndarray:
    """1 s of silence, then 1 s of a 440 Hz tone, 16 kHz float32."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.concatenate([np.zeros(SAMPLE_RATE), tone]).astype(np.float32)


def check_transcript(result: Transcript, *, words: bool) -> None:
    assert isinstance(result, Transcript)
    assert result.engine == "openai-whisper"
    assert result.model == "tiny-random"
    assert result.language == "zh"
    assert result.duration == pytest.approx(2.0)
    assert isinstance(result.text, str)
    assert result.dropped == ()
    assert result.segments, "the random model decodes at least one segment here"
    for seg in result.segments:
        assert isinstance(seg, Segment)
        assert 0.0 <= seg.start <= seg.end <= result.duration + 1.0
        assert isinstance(seg.text, str) and seg.text == seg.text.strip()
        for value in (seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio):
            assert isinstance(value, float)
        assert all(isinstance(w, Word) for w in seg.words)
        if not words:
            assert seg.words == ()
    if words:
        assert result.words, "word_timestamps=True gives typed words"
        for w in result.words:
            assert isinstance(w.text, str) and w.text == w.text.strip()
            assert 0.0 <= w.start <= w.end <= result.duration + 1.0
            assert 0.0 <= w.probability <= 1.0


def test_transcribe_with_word_timestamps(engine: OpenAIWhisperEngine) -> None:
    options = TranscribeOptions(language="zh", beam_size=1, temperature=(0.0,), word_timestamps=True)
    check_transcript(engine.transcribe(two_seconds(), options), words=True)


def test_transcribe_without_word_timestamps(engine: OpenAIWhisperEngine) -> None:
    options = TranscribeOptions(language="zh", beam_size=1, temperature=(0.0,), word_timestamps=False)
    result = engine.transcribe(two_seconds().astype(np.float64), options)  # any float dtype works
    check_transcript(result, words=False)


def test_model_loads_once_and_names_the_file(engine: OpenAIWhisperEngine) -> None:
    assert engine.name == "openai-whisper"
    assert engine.model_name == "tiny-random"
    assert engine.load() is engine.load()


def test_unknown_name_lists_the_available_models() -> None:
    with pytest.raises(ModelNotFoundError) as info:
        OpenAIWhisperEngine("tinyy").load()
    message = str(info.value)
    assert "tinyy" in message
    for name in ("tiny", "base", "small", "large-v3", "turbo"):
        assert name in message


def test_missing_model_offline_says_how_to_get_it(tmp_path: Path, offline: list[str]) -> None:
    engine = OpenAIWhisperEngine("tiny", download_root=str(tmp_path))
    with pytest.raises(ModelNotFoundError) as info:
        engine.load()
    message = str(info.value)
    assert offline and offline[0].endswith("/tiny.pt")  # it did try to download
    assert "'tiny'" in message and str(tmp_path) in message
    assert "could not be downloaded" in message
    assert "internet" in message and "--model /path/to/model.pt" in message
    assert "faster-whisper" in message and "make setup" in message
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_cached_model_loads_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            offline: list[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # default root: $XDG_CACHE_HOME/whisper
    cache = tmp_path / "whisper"
    cache.mkdir()
    path = save_checkpoint(cache / "tiny.pt", TINY_LAYOUT)
    assert cached_checkpoint("tiny", str(cache)) == path

    engine = OpenAIWhisperEngine("tiny")
    model = engine.load()
    assert offline == []  # no download attempted
    assert engine.model_name == "tiny"
    assert model.dims.n_text_layer == 4
    official = Whisper(TINY_LAYOUT)
    official.set_alignment_heads(whisper._ALIGNMENT_HEADS["tiny"])
    assert torch.equal(model.alignment_heads.to_dense(), official.alignment_heads.to_dense())


def test_corrupt_cached_model_is_reported(tmp_path: Path, offline: list[str]) -> None:
    (tmp_path / "tiny.pt").write_bytes(b"PK\x03\x04 truncated download")
    with pytest.raises(ModelNotFoundError, match="incomplete or corrupt"):
        OpenAIWhisperEngine("tiny", download_root=str(tmp_path)).load()


def test_missing_checkpoint_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "model.pt"
    engine = OpenAIWhisperEngine(str(missing))
    assert engine.model_name == "model"
    with pytest.raises(ModelNotFoundError, match="No Whisper model file at"):
        engine.load()


def test_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pt"
    bogus.write_text("this is not a model\n")
    with pytest.raises(EngineError, match="not a valid openai-whisper checkpoint"):
        OpenAIWhisperEngine(str(bogus)).load()


def test_checkpoint_without_dims(tmp_path: Path) -> None:
    partial = tmp_path / "weights-only.pt"
    torch.save({"model_state_dict": {}}, partial)
    with pytest.raises(EngineError, match="not a valid openai-whisper checkpoint"):
        OpenAIWhisperEngine(str(partial)).load()


def test_directory_is_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="directory"):
        OpenAIWhisperEngine(str(tmp_path)).load()

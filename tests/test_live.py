"""Streaming transcription: chunks closed at pauses, transcribed once each, merged on the recording's timeline."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from rehearse.audio import SAMPLE_RATE, load_audio
from rehearse.errors import RehearseError
from rehearse.live import REPETITION_PENALTY, TEMPERATURES, LiveTranscriber, find_cut
from rehearse.metrics import cer
from rehearse.transcribe import recognise
from rehearse.transcript import ZH_PROMPT, TranscribeOptions
from tests.conftest import ROOT, FakeEngine, shared_clip


def _reference() -> str:
    import csv

    refs = {}
    for folder, key in (("real", "file"), ("synthetic/kokoro_jm_kumo_lex", "id")):
        with open(shared_clip(*folder.split("/"), "transcripts.tsv"), encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                refs[row[key].removesuffix(".flac")] = row["text"]
    return "".join(refs[c[-1].removesuffix(".flac")] for c in CLIPS)


CLIPS = [("real", "funasr_asr_example.flac"), ("synthetic", "kokoro_jm_kumo_lex", "zh_pure_01.flac"),
         ("real", "aishell1_BAC009S0764W0121.flac"), ("synthetic", "kokoro_jm_kumo_lex", "zh_mix_01.flac"),
         ("synthetic", "kokoro_jm_kumo_lex", "zh_pure_02.flac"), ("real", "funasr_llamacpp_sample.flac")]


def _answer(gap_s: float = 0.8) -> tuple[np.ndarray, list[float]]:
    """The clips joined with pauses; and where each clip starts."""
    parts, starts, at = [], [], 0
    for c in CLIPS:
        a = load_audio(shared_clip(*c))
        starts.append(at / SAMPLE_RATE)
        parts += [a, np.zeros(int(gap_s * SAMPLE_RATE), np.float32)]
        at += len(a) + int(gap_s * SAMPLE_RATE)
    return np.concatenate(parts), starts


def test_find_cut_closes_in_the_middle_of_the_latest_pause():
    a = load_audio(shared_clip("real", "aishell1_BAC009S0764W0121.flac"))
    gap = np.zeros(int(0.8 * SAMPLE_RATE), np.float32)
    audio = np.concatenate([a, gap, a[: 2 * SAMPLE_RATE]])
    cut = find_cut(audio, pause_s=0.3, min_cut_s=2.0)
    assert cut is not None
    assert len(a) < cut < len(a) + len(gap)  # inside the pause, not inside a word
    # no pause late enough yet: keep collecting
    assert find_cut(audio, pause_s=0.3, min_cut_s=len(audio) / SAMPLE_RATE) is None
    silence = np.zeros(5 * SAMPLE_RATE, np.float32)
    assert find_cut(silence) is not None  # no speech at all: closed, so it costs nothing later


def test_only_the_first_chunk_with_speech_is_decoded_with_the_prompt():
    """Like a whole-file decode (faster-whisper prompts only its first window): prompting
    every short chunk made Whisper loop the prompt instead of transcribing."""
    audio, _ = _answer()
    engine = FakeEngine().enqueue(*"一二三四五六七八九十")
    live = LiveTranscriber(engine, TranscribeOptions(language="zh"), min_chunk_s=6.0, tail_pause_s=None).start()
    block = SAMPLE_RATE // 10
    silence = np.zeros(7 * SAMPLE_RATE, np.float32)  # closed as a chunk of its own, which never reaches the engine
    for a in (silence, audio):
        for i in range(0, len(a), block):
            live.feed(a[i:i + block])
            while not live.idle:  # the worker keeps up, as it does in real time
                time.sleep(0.001)
    result = live.finish()
    n = len(engine.calls)
    assert len(result.chunks) == n + 1 and n >= 3
    assert [o.prompt for o in engine.calls] == [ZH_PROMPT] + [""] * (n - 1)
    assert {o.language for o in engine.calls} == {"zh"}
    # every chunk is decoded with the repetition penalty that keeps a looping chunk from costing ~40 s
    assert {o.repetition_penalty for o in engine.calls} == {REPETITION_PENALTY} and REPETITION_PENALTY > 1
    # and at most one fallback temperature, so a chunk that fails costs two decodes, not six
    assert {o.temperature for o in engine.calls} == {TEMPERATURES} and len(TEMPERATURES) < len(TranscribeOptions().temperature)
    assert result.transcript.text == "一二三四五六七八九十"[:n]
    assert result.chunks[0].recognition.speech == ()  # the silent chunk cost no decode
    # the filled pauses were found while the audio arrived, exactly as in the whole recording
    from rehearse.hesitation import detect

    assert result.filled_pauses == tuple(detect(np.concatenate([silence, audio])))


def test_chunks_close_early_while_the_worker_keeps_up_and_grow_while_it_is_busy():
    """An idle worker gets a chunk as soon as 8 s have a pause; a busy one lets the open chunk grow
    (fewer, longer decodes on a slow machine), up to the maximum."""
    audio, _ = _answer()
    block = SAMPLE_RATE // 10

    def run(wait_for_worker: bool) -> list[float]:
        engine = FakeEngine().enqueue(*(f"<{i}>" for i in range(100)))
        live = LiveTranscriber(engine, TranscribeOptions(language="zh"), tail_pause_s=None).start()
        live.wait_loaded()
        gate = threading.Event()
        if not wait_for_worker:  # the first decode blocks until the whole answer has been fed
            transcribe = engine.transcribe
            engine.transcribe = lambda a, o: (gate.wait(), transcribe(a, o))[1]  # type: ignore[method-assign]
        for i in range(0, len(audio), block):
            live.feed(audio[i:i + block])
            while wait_for_worker and not live.idle:
                time.sleep(0.001)
        gate.set()
        return [c.end - c.start for c in live.finish().chunks]

    kept_up = run(True)
    assert len(kept_up) >= 4 and all(4.0 <= s < 12.0 for s in kept_up[:-1]), kept_up
    busy = run(False)
    assert len(busy) < len(kept_up) and max(busy) > 20.0, busy  # the chunks queued behind the blocked decode
    assert all(s <= 25.0 for s in busy)
    assert abs(sum(busy) - len(audio) / SAMPLE_RATE) < 1e-6 and abs(sum(kept_up) - sum(busy)) < 1e-6


def test_a_speculation_becomes_the_chunk_when_the_speaker_goes_on():
    """The decode started at a pause after the latest speech is kept as the chunk's decode when more
    speech follows: only speculations too short to keep are decoded again."""
    audio, _ = _answer()
    audio = audio[: -int(0.8 * SAMPLE_RATE)]  # Enter pressed at the last word
    engine = FakeEngine().enqueue(*(f"<{i}>" for i in range(100)))
    live = LiveTranscriber(engine, TranscribeOptions(language="zh")).start()
    calls_before = _stream_then_stop(live, audio)
    result = live.finish()
    assert result.speculations >= 2 and result.adopted >= 1
    assert len(engine.calls) - calls_before <= 2  # at most the rest after the latest speculation
    assert len(audio) / SAMPLE_RATE <= sum(engine.seconds) < 1.2 * len(audio) / SAMPLE_RATE  # little decoded twice
    segs = result.transcript.segments
    assert segs[0].start == 0.0 and abs(segs[-1].end - len(audio) / SAMPLE_RATE) < 1e-6
    assert all(abs(a.end - b.start) < 1e-6 for a, b in zip(segs, segs[1:]))  # the pieces tile the recording
    assert [c.index for c in result.chunks] == list(range(len(result.chunks)))
    assert result.compute_s >= sum(c.compute_s for c in result.chunks)


def _stream_then_stop(live: LiveTranscriber, audio: np.ndarray) -> int:
    """Feed like a worker that keeps up in real time; the number of decodes before finish()."""
    block = SAMPLE_RATE // 10
    for i in range(0, len(audio), block):
        live.feed(audio[i:i + block])
        while not live.idle:
            time.sleep(0.001)
    return len(live.engine.calls)  # type: ignore[attr-defined]


@pytest.mark.parametrize("tail", [True, False])
def test_a_pause_after_the_last_words_is_used_to_decode_them_before_stop(tail):
    """The speaker stops talking, then presses stop a second later: the pause after the latest speech
    starts a decode of everything up to it, so nothing with speech is left to decode after stop."""
    audio, _ = _answer()
    audio = np.concatenate([audio, np.zeros(int(0.4 * SAMPLE_RATE), np.float32)])  # 1.2 s after the last word
    engine = FakeEngine().enqueue(*(f"<{i}>" for i in range(100)))
    live = LiveTranscriber(engine, TranscribeOptions(language="zh"), min_chunk_s=14.0,
                           tail_pause_s=0.5 if tail else None).start()
    before = _stream_then_stop(live, audio)
    result = live.finish()
    after = len(engine.calls) - before
    segs = result.transcript.segments
    assert segs and abs(segs[-1].end - len(audio) / SAMPLE_RATE) < 1.3  # the last words are in the transcript
    if tail:
        assert result.speculations >= 1 and (result.speculation_used or result.adopted)
        assert after == 0, engine.seconds  # only silence was left: VAD, no decode
        assert result.behind_s < 1.2  # part of the pause
    else:
        assert after == 1 and engine.seconds[-1] > 2.0  # the open chunk, words and all, is decoded after stop
        assert result.behind_s == pytest.approx(engine.seconds[-1], abs=0.01)


def test_streamed_transcript_matches_the_whole_file_on_the_recording_timeline(base_engine):
    audio, starts = _answer()
    opts = TranscribeOptions(language="zh")
    live = LiveTranscriber(base_engine, opts, min_chunk_s=6.0, tail_pause_s=None).start()
    live.wait_loaded()
    block = SAMPLE_RATE // 10
    for i in range(0, len(audio), block):
        live.feed(audio[i:i + block])
    while live.pending or live.chunks_done < live._index:  # let the worker catch up, as it does while one speaks
        time.sleep(0.05)
    before = live.chunks_done
    result = live.finish()
    assert before >= 2
    assert len(result.chunks) == before + 1  # at the end only the last chunk was left to transcribe
    t = result.transcript
    assert abs(t.duration - len(audio) / SAMPLE_RATE) < 1e-6
    assert [c.index for c in result.chunks] == list(range(len(result.chunks)))
    for a, b in zip(result.chunks, result.chunks[1:]):
        assert abs(a.end - b.start) < 1e-6  # chunks tile the recording
    seg_starts = [s.start for s in t.segments]
    assert seg_starts == sorted(seg_starts) and t.segments[-1].end <= t.duration + 0.5
    # the last clip's words are placed where it was said, not at 0 s of its chunk
    assert t.segments[-1].start >= starts[-1] - 1.0
    assert all(a < b for a, b in result.speech) and result.speech[-1][1] <= t.duration + 0.1
    ref = _reference()
    whole = recognise(audio, base_engine, opts).transcript.text
    assert cer(ref, t.text) < 0.2, t.text
    # where a chunk is cut moves one answer's CER by about ±0.03 (rehearse.live); here 0.109 against 0.082
    assert cer(ref, t.text) <= cer(ref, whole) + 0.04, (whole, t.text)
    assert "交易几乎停" in t.text and "交易几乎停" in whole  # a sentence Whisper skipped in a 24 s chunk, and
    # under a looped prompt in the whole file (CER 0.68 there), decoded again (rehearse.transcribe.refill_skipped)
    assert t.engine == base_engine.name and t.language == "zh"


@pytest.mark.model
def test_silence_streams_to_no_speech(base_engine):
    live = LiveTranscriber(base_engine, TranscribeOptions(language="zh")).start()
    for _ in range(120):
        live.feed(np.zeros(SAMPLE_RATE // 10, np.float32))
    r = live.finish()
    assert not r.transcript.has_speech and r.speech == () and r.transcript.duration == 12.0


def test_a_missing_model_fails_before_recording():
    from rehearse.engines.faster import FasterWhisperEngine

    live = LiveTranscriber(FasterWhisperEngine("/nonexistent/model"), TranscribeOptions()).start()
    with pytest.raises(RehearseError):
        live.wait_loaded(30)


@pytest.mark.model
def test_ctrl_c_during_the_last_decode_then_exit_does_not_crash():
    """Ctrl-C cut Thread.join() short, is_alive() then said False while the worker still decoded,
    and the process crashed on exit (segmentation fault, or "terminate called without an active
    exception"). Now finish() and close() wait on the worker's own event."""
    script = textwrap.dedent(f"""
        import os, signal, threading
        from rehearse.audio import load_audio
        from rehearse.engines.faster import FasterWhisperEngine
        from rehearse.live import LiveTranscriber
        from rehearse.transcript import TranscribeOptions

        class Interrupting(FasterWhisperEngine):
            armed = False
            def transcribe(self, audio, options):
                if self.armed:  # the last decode has begun: Ctrl-C now, while it runs
                    self.armed = False
                    os.kill(os.getpid(), signal.SIGINT)
                return super().transcribe(audio, options)

        # a suite started in the background by a shell without job control inherits SIGINT ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
        engine = Interrupting("base")
        # no speculation: the whole (only) chunk is decoded after finish(), however fast the machine
        live = LiveTranscriber(engine, TranscribeOptions(language="zh"), tail_pause_s=None).start()
        live.wait_loaded()
        audio = load_audio({str(shared_clip("real", "ljspeech_LJ001-0003.flac"))!r})
        for i in range(0, len(audio), 1600):
            live.feed(audio[i:i + 1600])
        engine.armed = True
        try:
            live.finish()
        except KeyboardInterrupt:
            print("interrupted")
        live.close()
        print("closed")
    """)
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["interrupted", "closed"]

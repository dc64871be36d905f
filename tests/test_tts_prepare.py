"""Questions made ahead: 'rehearse voices --prepare' makes exactly the uncached ones and says so, bad input is
one line, and Ctrl-C (or closing the speaker) stops at once with no half-made file in the cache.

Fake engines go through the real registry; Kokoro's own interruption is tested for real in test_tts_kokoro.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from rehearse import tts
from rehearse.cli import app
from rehearse.errors import TTSError
from rehearse.paths import speech_cache_dir
from rehearse.rubric import load_library
from rehearse.tts import Speaker
from rehearse.voices.prepare import prepare
from tests.conftest import ROOT
from tests.test_tts import FakeEngine

runner = CliRunner()
VIDEO = [q for q in load_library().questions if "video" in q.tags]  # two Mandarin questions


class Interruptible:
    """Streams one piece per text, then blocks in "the model" until :meth:`interrupt` (as Kokoro's terminate
    flag does) or the test's ``release``: a clip caught half made."""

    name = "kokoro"
    sample_rate = 24000

    def __init__(self, block_on: str) -> None:
        self.block_on, self.inside, self.release = block_on, threading.Event(), threading.Event()
        self.interrupted = threading.Event()
        self.made: list[str] = []

    def supports(self, lang: str) -> bool:
        return lang in ("zh", "en")

    def voices(self) -> list[str]:
        return ["jm_kumo"]

    def interrupt(self) -> None:
        self.interrupted.set()

    def synthesize(self, text, lang, path, voice=None):  # type: ignore[no-untyped-def]
        raise AssertionError("a streaming engine is never asked for a whole file")

    def stream(self, text, lang, voice=None):  # type: ignore[no-untyped-def]
        yield 24000, np.full(2400, 0.3, np.float32)
        if text == self.block_on:
            self.inside.set()
            while not (self.interrupted.is_set() or self.release.is_set()):
                time.sleep(0.01)
            if self.interrupted.is_set():
                raise TTSError("the speech was interrupted")
        self.made.append(text)
        yield 24000, np.full(2400, 0.2, np.float32)


@pytest.fixture()
def voice(monkeypatch):
    """Install ``engine`` as the only Mandarin-and-English voice (the real registry, emptied)."""
    monkeypatch.setattr(tts, "_REGISTRY", {})

    def install(engine):  # type: ignore[no-untyped-def]
        tts.register_tts_engine(engine.name, lambda: engine)
        return engine

    return install


def cache_files() -> list[str]:
    folder = speech_cache_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_prepare_makes_exactly_the_uncached_questions_and_says_so(voice):
    engine = voice(FakeEngine("kokoro", ("zh", "en")))
    first, second = VIDEO
    s = Speaker()
    s.audio_for(first.question, first.language)  # spoken before: already cached
    s.close()
    engine.calls.clear()
    r = runner.invoke(app, ["voices", "--prepare", "--tag", "video"])
    assert r.exit_code == 0, r.output
    assert [c[0] for c in engine.calls] == [second.question]  # only the one not cached
    assert f"{first.id}" in r.stdout and "already cached" in r.stdout and "made in" in r.stdout
    assert "made 1, already cached 1 (2 questions)" in r.stdout
    assert len([n for n in cache_files() if n.endswith(".wav") and not n.startswith(".")]) == 2
    assert not [n for n in cache_files() if n.startswith(".tmp")]
    again = runner.invoke(app, ["voices", "--prepare", "--tag", "video"])
    assert again.exit_code == 0 and "made 0, already cached 2" in again.stdout and len(engine.calls) == 1
    s = Speaker()
    assert all(s.cached(q.question, q.language) for q in VIDEO)  # what practice will find
    other = runner.invoke(app, ["voices", "--prepare", "-q", first.id, "--voice", "jf_alpha"])
    assert "made 1, already cached 0" in other.stdout and engine.calls[-1][2] == "jf_alpha"  # per voice


def test_prepare_bad_input_is_one_line(voice):
    def one_line(args: list[str], *expect: str) -> None:
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, r.output
        assert all(e in r.stderr for e in expect), r.stderr

    voice(FakeEngine("espeak-ng", ("en",)))  # English only: no Mandarin voice here
    one_line(["voices", "--prepare", "--tag", "video"], "No Mandarin voice here")
    one_line(["voices", "--prepare", "--tag", "nope"], "no question has the tag(s) nope")
    one_line(["voices", "--prepare", "-q", "mocoo"], "Unknown question id 'mocoo'", "moco")
    one_line(["voices", "--prepare", "--bank", "missing.yaml"], "missing.yaml")
    one_line(["voices", "--tag", "video"], "--tag: only with --prepare")
    one_line(["voices", "--prepare", "--engine", "nope"], "Unknown text-to-speech engine 'nope'")
    assert cache_files() == []


def test_a_question_the_engine_cannot_read_fails_alone(voice):
    engine = voice(FakeEngine("kokoro", ("zh", "en"), fail="Kokoro cannot turn this text into sounds (x)."))
    r = runner.invoke(app, ["voices", "--prepare", "--tag", "video"])
    assert r.exit_code == 2 and len(engine.calls) == 2  # each tried
    assert r.stdout.count("failed: Kokoro cannot turn this text into sounds") == 2
    assert "made 0, already cached 0, failed 2" in r.stdout
    assert not [n for n in cache_files() if n.endswith(".wav")]


def test_import_reads_the_new_banks_questions_aloud_so_a_first_session_speaks_at_once(voice, tmp_path, monkeypatch):
    """A bank made from notes has never been spoken: import reads it into the cache (--no-speech skips it), and
    with no Mandarin voice the bank is still written, with one warning line."""
    monkeypatch.setenv("REHEARSE_PROMPTS", str(tmp_path / "no-shipped"))
    notes = tmp_path / "notes.md"
    notes.write_text("## 介绍一下 MoCo\n\n- MoCo 用队列维护负样本，key 编码器用动量更新\n\n"
                     "## 什么是 InfoNCE loss？\n\n- 一个正样本和很多负样本的交叉熵\n", encoding="utf-8")
    engine = voice(FakeEngine("kokoro", ("zh", "en")))
    r = runner.invoke(app, ["import", str(notes), "--out", str(tmp_path / "mine.yaml")])
    assert r.exit_code == 0, r.output
    assert sorted(c[0] for c in engine.calls) == ["什么是 InfoNCE loss？", "介绍一下 MoCo"]
    assert "made 2, already cached 0 (2 questions)" in r.stdout
    s = Speaker()
    assert s.cached("介绍一下 MoCo", "zh") is not None  # what the first session finds
    s.close()
    skipped = runner.invoke(app, ["import", str(notes), "--out", str(tmp_path / "two.yaml"), "--no-speech"])
    assert skipped.exit_code == 0 and len(engine.calls) == 2 and "voices --prepare --bank" in skipped.stdout
    monkeypatch.setattr(tts, "_REGISTRY", {"espeak-ng": lambda: FakeEngine("espeak-ng", ("en",))})  # English only
    mute = runner.invoke(app, ["import", str(notes), "--out", str(tmp_path / "three.yaml")])
    assert mute.exit_code == 0 and (tmp_path / "three.yaml").is_file()
    assert mute.stderr.count("\n") == 1 and "No Mandarin voice here" in mute.stderr and "not read aloud" in mute.stderr


def test_questions_check_says_when_your_banks_questions_were_never_read_aloud(voice, tmp_path):
    """A bank written by hand has never been spoken: check says how many and the command that reads them."""
    bank = tmp_path / "mine.yaml"
    bank.write_text("title: mine\nlanguage: zh\nquestions:\n"
                    "  - {id: a, question: 介绍一下 MoCo。, points: [{id: p, label: l, any: [队列]}]}\n"
                    "  - {id: b, question: 什么是 InfoNCE？, points: [{id: p, label: l, any: [交叉熵]}]}\n",
                    encoding="utf-8")
    engine = voice(FakeEngine("kokoro", ("zh", "en")))
    r = runner.invoke(app, ["questions", "check", str(bank)])
    assert r.exit_code == 0 and engine.calls == []  # checking reads nothing aloud itself
    line = " ".join(r.stdout.split())
    assert "2 of 2 questions not read aloud yet" in line and f"voices --prepare --bank {bank} --no-shipped" in line
    s = Speaker()
    s.audio_for("介绍一下 MoCo。", "zh")
    s.close()
    assert "1 of 2 questions not read aloud yet" in runner.invoke(app, ["questions", "check", str(bank)]).stdout
    s = Speaker()
    s.audio_for("什么是 InfoNCE？", "zh")
    s.close()
    assert "not read aloud" not in runner.invoke(app, ["questions", "check", str(bank)]).stdout


def test_ctrl_c_stops_at_once_and_leaves_no_half_made_file(voice):
    first, second = VIDEO
    engine = voice(Interruptible(block_on=second.question))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background shell may ignore SIGINT

    def ctrl_c() -> None:
        assert engine.inside.wait(20)  # the second question is half made
        signal.raise_signal(signal.SIGINT)

    s = Speaker()
    try:
        threading.Thread(target=ctrl_c, daemon=True).start()
        t0 = time.monotonic()
        done = prepare(s, VIDEO)
        took = time.monotonic() - t0
    finally:
        signal.signal(signal.SIGINT, previous)
    assert done.interrupted and done.made == [first.id] and took < 10
    assert engine.interrupted.wait(5)  # the clip being made was cut short, not left to finish
    time.sleep(0.2)
    assert engine.made == [first.question]
    names = cache_files()
    assert len(names) == 1 and not names[0].startswith(".")  # the finished one, whole; nothing half made
    assert Speaker().cached(first.question, first.language) is not None
    assert Speaker().cached(second.question, second.language) is None


# A real process: the CLI with a fake voice that would block for a minute unless interrupted.
_CHILD = """
import sys, threading, time
import numpy as np
from rehearse import tts
from rehearse.errors import TTSError

class Slow:
    name, sample_rate = "kokoro", 24000
    stop = threading.Event()
    def supports(self, lang): return True
    def voices(self): return ["jm_kumo"]
    def interrupt(self): self.stop.set()
    def stream(self, text, lang, voice=None):
        print("synthesising", flush=True)
        if self.stop.wait(60):
            raise TTSError("the speech was interrupted")
        yield 24000, np.ones(2400, np.float32)

tts._REGISTRY.clear()
tts.register_tts_engine("kokoro", Slow)
from rehearse.cli import main
sys.argv = ["rehearse", "voices", "--prepare", "--tag", "video"]
main()
"""


def test_ctrl_c_in_a_real_process_exits_at_once_with_nothing_half_made(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REHEARSE_HOME": str(tmp_path / "home")}
    p = subprocess.Popen([sys.executable, "-c", _CHILD], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "synthesising"
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, errs = p.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        p.kill()
    assert p.returncode == 130, errs
    assert took < 5  # not the minute the clip would have taken
    assert "Interrupted: made 0, already cached 0, 2 not made; nothing half made was kept." in out
    assert "Traceback" not in errs
    folder = tmp_path / "home" / "cache" / "speech"
    assert not (list(folder.iterdir()) if folder.is_dir() else [])


def test_a_stale_scratch_file_is_swept_and_a_fresh_one_kept(voice):
    voice(FakeEngine("kokoro", ("zh", "en")))
    folder = speech_cache_dir()
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tmp-killed.wav", folder / ".tmp-in-use.wav"
    for p in (stale, fresh):
        p.write_bytes(b"RIFF")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    prepare(Speaker(), VIDEO[:1])
    assert not stale.exists() and fresh.exists()


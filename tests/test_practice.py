"""'rehearse practice' end to end on a real audio stack, driven in tmux as a user would, and its faults.

The answer is played into the private PulseAudio server's virtual microphone
(tests/audio_stack.py) while rehearse records it through PortAudio.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rich.console import Console
from typer.testing import CliRunner

from rehearse.audio import load_audio
from rehearse.cli import app
from rehearse.examples import example_answer
from rehearse.live import LiveTranscriber
from rehearse.practice import PracticeOptions, Session
from rehearse.rubric import load_library
from rehearse.store import Store
from tests.audio_stack import _hush_after_each_test, pulse  # noqa: F401 - the fixtures
from tests.conftest import ROOT, shared_clip

pytestmark = pytest.mark.model


class Tmux:
    """One tmux session running a command; read its screen, type into it."""

    def __init__(self, name: str, command: str, env: dict[str, str], cwd: Path = ROOT) -> None:
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed (scripts/sysdeps.sh installs it)")
        # a private tmux server per test process: never touches the user's tmux or a parallel run
        self.tmux = ["tmux", "-L", f"rehearse-test-{os.getpid()}"]
        self.name = name
        self.env = env
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()
                           if k in ("PULSE_SERVER", "REHEARSE_HOME", "HF_HUB_OFFLINE", "REHEARSE_MODELS"))
        subprocess.run([*self.tmux, "kill-session", "-t", name], capture_output=True)
        subprocess.run([*self.tmux, "new-session", "-d", "-s", name, "-x", "160", "-y", "60",
                        f"cd {shlex.quote(str(cwd))} && env COLUMNS=150 {exports} {command}; echo EXIT=$?; sleep 600"],
                       check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-J", "-S", "-300", "-t", self.name],
                              capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.screen()
            if text in s:
                return s
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-session", "-t", self.name], capture_output=True)


def _rehearse(args: str) -> str:
    return f"{shlex.quote(sys.executable)} -m rehearse.cli {args}"


def test_practice_in_a_terminal_end_to_end(pulse, tmp_path):
    """Question shown, the answer spoken into the microphone, Enter, report, file on disk, attempt stored."""
    answer, qid = example_answer()
    home = tmp_path / "home"
    env = {**pulse.env, "REHEARSE_HOME": str(home)}
    # run from a folder without recordings/, so the answer goes to <home>/recordings
    t = Tmux("rehearse-e2e", _rehearse(f"practice --question {qid} --no-speak --device pulse"), env, cwd=tmp_path)
    try:
        screen = t.wait_for("speak now", 90)
        q = load_library().get(qid)
        assert f"question 1/1 · {qid}" in screen and q.question in screen
        assert "target" in screen and q.tags[0] in screen
        player = pulse.play(answer)
        t.wait_for("● REC 0:05", 30)
        assert player.wait(120) == 0
        time.sleep(0.5)
        t.keys("Enter")
        screen = t.wait_for("attempt #1 saved", 60)
        assert "coverage" in screen and "key points" in screen and "transcript" in screen
        assert "First scored attempt at this question." in screen
        latency = float(screen.split("report ")[1].split(" s after you stopped")[0])
        print(f"tmux e2e: report {latency:.1f} s after Enter")
        # "that doesn't count" on the last point, from the prompt after the report
        t.keys("c", "Enter")
        t.wait_for("point number", 10)
        t.keys("6", "Enter")
        t.wait_for("doesn't count:", 10)
        t.keys("n", "Enter")
        screen = t.wait_for("it does not count (the scorer said", 10)
        t.keys("q", "Enter")
        screen = t.wait_for("EXIT=", 30)
        assert "EXIT=0" in screen and "session summary" in screen and "mean coverage" in screen
    finally:
        t.close()
    files = list((home / "recordings").rglob("*.wav"))
    assert len(files) == 1 and files[0].parent == home / "recordings" / q.bank / qid
    with Store.open(home / "history.db") as store:
        (a,) = store.attempts(question=qid)
        assert a.status == "scored" and a.audio_path == files[0].resolve()
        assert a.coverage and a.coverage >= 0.5 and a.session_id is not None
        last = a.result.points[-1]
        assert last.id == q.points[-1].id and last.human == "not_said" and not last.covered
    import soundfile as sf

    assert sf.info(str(files[0])).duration > 50  # the whole answer was recorded
    assert latency < 10  # the report follows Enter within seconds (the benchmark measures it properly)


def test_ctrl_c_while_recording_asks_then_score_attempt_finishes_it(pulse, tmp_path):
    """Ctrl-C while recording: the file is finalised and the user asked; 'no' keeps it for later."""
    home = tmp_path / "home"
    env = {**pulse.env, "REHEARSE_HOME": str(home)}
    t = Tmux("rehearse-ctrlc", _rehearse("practice -q moco --no-speak --device pulse"), env, cwd=tmp_path)
    try:
        t.wait_for("speak now", 90)
        pulse.play(shared_clip("real", "funasr_asr_example.flac"))  # 欢迎大家来体验达摩院推出的语音识别模型
        t.wait_for("● REC 0:04", 30)
        t.keys("C-c")
        screen = t.wait_for("Score it?", 30)
        assert "stopped by interrupt" in screen
        t.keys("n", "Enter")
        screen = t.wait_for("[q]uit", 30)
        assert "stored as not scored" in screen and "rehearse score --attempt 1" in screen
        t.keys("q", "Enter")
        screen = t.wait_for("EXIT=", 30)
        assert "EXIT=0" in screen and "not_scored" in screen
    finally:
        t.close()
    (wav,) = (home / "recordings").rglob("*.wav")
    import soundfile as sf

    assert sf.info(str(wav)).duration > 3
    with Store.open(home / "history.db") as store:
        assert store.attempt(1).status == "not_scored"
    r = subprocess.run([sys.executable, "-m", "rehearse.cli", "score", "--attempt", "1"], env=env,
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "attempt #1 scored" in r.stdout
    with Store.open(home / "history.db") as store:
        a = store.attempt(1)
        assert a.status == "scored" and a.result is not None and "欢迎大家" in a.text


def test_recordings_folder_default(tmp_path, monkeypatch):
    """$REHEARSE_RECORDINGS, else ./recordings when it exists (the project checkout), else <home>/recordings."""
    from rehearse.paths import home_dir, recordings_dir

    monkeypatch.delenv("REHEARSE_RECORDINGS", raising=False)
    assert recordings_dir(tmp_path) == home_dir() / "recordings"
    (tmp_path / "recordings").mkdir()
    assert recordings_dir(tmp_path) == (tmp_path / "recordings").resolve()
    monkeypatch.setenv("REHEARSE_RECORDINGS", str(tmp_path / "elsewhere"))
    assert recordings_dir(tmp_path) == tmp_path / "elsewhere"


class _InterruptingEngine:
    """The real engine; once armed (the user has stopped and the last chunk is being
    transcribed), its next call gets a real SIGINT, as if the user pressed Ctrl-C then.
    Calls before (chunks and speculations decoded while the user speaks) run normally."""

    def __init__(self, engine) -> None:
        self._e = engine
        self.name, self.model_name = engine.name, engine.model_name
        self.armed = False
        self.interrupted = False

    def load(self) -> None:
        self._e.load()

    def transcribe(self, audio, options):
        if self.armed and not self.interrupted:
            self.interrupted = True
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1.0)
        return self._e.transcribe(audio, options)


@pytest.fixture
def default_sigint():
    """Ctrl-C raises KeyboardInterrupt even when the suite was started in the background by a shell
    without job control (SIGINT is then ignored from the start, and os.kill(SIGINT) does nothing)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_transcribing_keeps_the_attempt_as_not_scored(pulse, tmp_path, base_engine, monkeypatch,
                                                                   default_sigint):
    home = tmp_path
    out = io.StringIO()
    engine = _InterruptingEngine(base_engine)
    finish = LiveTranscriber.finish

    def armed_finish(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        engine.armed = True
        return finish(self, *args, **kwargs)

    monkeypatch.setattr(LiveTranscriber, "finish", armed_finish)
    opts = PracticeOptions(speak=False, device="pulse", max_seconds=4, recordings=home / "rec")
    q = load_library().get("moco")
    with Store.open(home / "h.db") as store:
        # unbroken speech (9.7 s, three times over, so it is playing whenever recording starts), cut by
        # --max-seconds 4: the last chunk has speech to decode
        clip = load_audio(shared_clip("real", "ljspeech_LJ001-0003.flac"))
        speech = home / "speech.wav"
        sf.write(str(speech), np.concatenate([clip, clip, clip]), 16000)
        pulse.play(speech)
        summary = Session(engine, store, opts, Console(file=out, width=120)).run([q])
        (a,) = store.attempts()
    assert engine.interrupted  # the SIGINT came while the last chunk was being transcribed
    assert summary.interrupted and summary.outcomes[0].status == "not_scored"
    assert a.status == "not_scored" and a.audio_path is not None and a.audio_path.is_file()
    assert a.note == "transcription interrupted"  # why, for its report and `history --json`
    assert f"rehearse score --attempt {a.id}" in out.getvalue()
    r = CliRunner().invoke(app, ["score", "--attempt", "999"], env={"REHEARSE_HOME": str(home)})
    assert r.exit_code == 2 and "no attempt #999" in r.output


def test_silent_input_is_warned_and_stored_as_no_speech(pulse, tmp_path, base_engine):
    out = io.StringIO()
    opts = PracticeOptions(speak=False, device="pulse", max_seconds=3.5, recordings=tmp_path / "rec")
    q = load_library().get("moco")
    with Store.open(tmp_path / "h.db") as store:
        session = Session(base_engine, store, opts, Console(file=out, width=120))
        session.ask_next = lambda has_next: "q"  # type: ignore[method-assign]
        summary = session.run([q])
        (a,) = store.attempts()
    text = out.getvalue()
    assert "silent the whole time" in text and "No speech detected" in text
    assert summary.outcomes[0].status == "no_speech"
    assert a.status == "no_speech" and a.audio_path is not None and a.audio_path.is_file()


def test_comparison_with_earlier_attempts_names_the_points_that_changed(tmp_path):
    """The report after a retry: coverage vs the last attempt, and which key points came or went."""
    from rehearse.assess import assess_text
    from rehearse.report import comparison

    q = load_library().get("3d-ssgan")
    first = "我们用 2D-to-3D lifting 模块根据深度把特征提升到三维，最后做体渲染得到图像和语义掩码。"
    second = "研究动机是 3D-aware 方法做不到部件级解耦。我们用 2D-to-3D lifting 模块把特征提升到三维。"
    with Store.open(tmp_path / "h.db") as store:
        store.save_attempt(assess_text(q, first), question=q)
        previous = store.attempts(question=q.id)
    now = assess_text(q, second)
    out = io.StringIO()
    Console(file=out, width=200).print(comparison(previous, now))
    text = out.getvalue()
    label = {p.id: p.label for p in q.points}
    assert "compared with your earlier attempts" in text
    assert "-7% vs last attempt, best so far 43%" in text
    assert "now covered: " + label["motivation"] in text
    assert "dropped since last time: " + label["rendering"] in text
    assert "missed again: " + "；".join(label[i] for i in ("sampling", "adversarial", "role")) in text

"""Shared fixtures: an isolated user home, the real base model, test audio."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Real and synthetic speech clips, copied from the project's shared test data
# (licences in tests/data/speech/README.md and real/transcripts.tsv).
SHARED = ROOT / "tests" / "data" / "speech"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point rehearse's user data at a temp dir; never download models in tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("REHEARSE_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def shared_clip(*parts: str) -> Path:
    """A clip from tests/data/speech (committed, so a missing one is a failure, not a skip)."""
    p = SHARED.joinpath(*parts)
    assert p.is_file(), f"test speech clip missing: {p}"
    return p


@pytest.fixture(scope="session")
def base_engine():
    """The real faster-whisper engine with the multilingual base model (installed by make setup)."""
    from rehearse.engines.faster import FasterWhisperEngine
    from rehearse.errors import ModelNotFoundError

    engine = FasterWhisperEngine("base", cpu_threads=os.cpu_count() or 2)
    try:
        engine.load()
    except ModelNotFoundError as exc:  # pragma: no cover - only without `make setup`
        pytest.fail(f"base model not installed; run `make setup` (or `rehearse models install base`): {exc}")
    return engine


class FakeEngine:
    """A stand-in engine for unit tests: answers each call with the next enqueued text
    (one segment over the whole audio) and records the options it was called with."""

    name = "fake"
    model_name = "fake"

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.calls: list = []               # the options of each call
        self.seconds: list[float] = []      # the length of the audio of each call

    def enqueue(self, *texts: str) -> "FakeEngine":
        self.queue.extend(texts)
        return self

    def load(self) -> None:
        pass

    def transcribe(self, audio, options):  # type: ignore[no-untyped-def]
        from rehearse.audio import SAMPLE_RATE
        from rehearse.transcript import Segment, Transcript

        self.calls.append(options)
        self.seconds.append(len(audio) / SAMPLE_RATE)
        text = self.queue.pop(0) if self.queue else ""
        duration = len(audio) / SAMPLE_RATE
        segs = (Segment(0.0, duration, text, avg_logprob=-0.2, no_speech_prob=0.05),) if text else ()
        return Transcript(text=text, segments=segs, language=options.language, duration=duration,
                          engine=self.name, model=self.model_name)


@pytest.fixture()
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models folder (REHEARSE_MODELS) for install and repair tests."""
    d = tmp_path / "models"
    monkeypatch.setenv("REHEARSE_MODELS", str(d))
    return d


def flip_a_byte(path: Path, offset: int) -> None:
    """Damage a file in place without changing its size (only a checksum can see it)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


# --------------------------------------------------------------------------- no silent skips in CI
# A test skips when a system piece is missing (tmux, PulseAudio, root for a
# tmpfs). On a developer's machine that is a convenience; in CI it would hide
# a broken set-up, so .ci/run sets REHEARSE_NO_SKIPS=1 and any skip fails the run.

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("REHEARSE_NO_SKIPS") == "1" and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus: int) -> None:  # type: ignore[no-untyped-def]
    if os.environ.get("REHEARSE_NO_SKIPS") == "1" and _skipped:
        terminalreporter.write_line(f"REHEARSE_NO_SKIPS=1: {len(_skipped)} skipped test(s) fail this run:", red=True)
        for line in _skipped:
            terminalreporter.write_line(f"  {line}", red=True)

"""Shared fixtures: an isolated user home, the real base model, test audio."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "testdata"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point rehearse's user data at a temp dir; never download models in tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("REHEARSE_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def shared_clip(*parts: str) -> Path:
    """A clip from ../shared/testdata, or skip if the shared folder is absent."""
    p = SHARED.joinpath(*parts)
    if not p.is_file():
        pytest.skip(f"shared test data not found: {p}")
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
        pytest.skip(f"base model not installed: {exc}")
    return engine

"""The offline base model: verified on install, checked cheaply on every load, repaired by 'models install base'."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rehearse.cli import app
from tests.conftest import flip_a_byte, shared_clip

pytestmark = [pytest.mark.model, pytest.mark.slow]
runner = CliRunner()


def test_a_damaged_model_is_detected_and_repaired(models: Path):
    assert runner.invoke(app, ["models", "install", "base"]).exit_code == 0
    model_bin = models / "faster-whisper-base" / "model.bin"
    assert runner.invoke(app, ["models", "check"]).exit_code == 0
    flip_a_byte(model_bin, model_bin.stat().st_size // 2)
    r = runner.invoke(app, ["models", "check"])
    assert r.exit_code == 2 and "is damaged" in r.stderr and "rehearse models install base" in r.stderr
    r = runner.invoke(app, ["transcribe", str(shared_clip("real", "jfk.flac")), "-l", "en"])
    assert r.exit_code == 2 and "is damaged" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert runner.invoke(app, ["models", "install", "base"]).exit_code == 0  # repairs
    assert runner.invoke(app, ["models", "check"]).exit_code == 0


def test_concurrent_installs_wait_for_each_other(models: Path):
    env = {**os.environ, "REHEARSE_MODELS": str(models)}
    procs = [subprocess.Popen([sys.executable, "-m", "rehearse.cli", "models", "install", "base"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(300), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert runner.invoke(app, ["models", "check"]).exit_code == 0
    assert not list(models.glob(".base-*"))  # no half-made copies left

"""Every file the user names on the command line is written through one helper: one clean line on failure."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rehearse.cli import app
from tests.conftest import ROOT

runner = CliRunner()
NOTES = sorted((ROOT / "tests" / "data" / "seeds").glob("*"))[0]


@pytest.fixture()
def one_attempt():
    r = runner.invoke(app, ["score", "-q", "moco", "--text", "MoCo 用队列存负样本"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("args", [
    ["import", str(NOTES), "--out", "/dev/null/x.yaml"],
    ["export", "--out", "/dev/null/x.csv"],
    ["progress", "--plot", "/dev/null/x.png"],
    ["progress", "--html", "/dev/null/x.html"],
])
def test_an_unwritable_output_path_is_one_line_and_exit_2(one_attempt, args):
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert r.stderr.strip().splitlines() == [
        f"Error: cannot write {args[-1]}: a part of the folder path is a file, not a folder."]


def test_an_output_path_that_is_a_folder_is_refused(one_attempt, tmp_path):
    r = runner.invoke(app, ["export", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "is a directory" in r.stderr


def test_a_device_or_fifo_at_the_path_is_refused_not_replaced(one_attempt, tmp_path):
    import os
    import stat

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = runner.invoke(app, ["export", "--out", str(fifo)])
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO
    r = runner.invoke(app, ["export", "--out", "/dev/null"])
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_is_followed_and_stays_a_link(one_attempt, tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real.name)
    r = runner.invoke(app, ["export", "--out", str(link)])
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("id,")
    assert not list(tmp_path.glob(".*.tmp"))


def test_sigterm_while_writing_leaves_no_temp_file(tmp_path):
    import subprocess
    import sys
    import time

    out = tmp_path / "big.bin"
    code = ("import os, signal, threading\n"
            "from rehearse.files import write_bytes\n"
            "data = b'x' * (1 << 30)\n"
            "threading.Timer(0.02, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()\n"
            f"write_bytes(__import__('pathlib').Path({str(out)!r}), data)\n")
    p = subprocess.Popen([sys.executable, "-c", code])
    assert p.wait(60) == 128 + 15
    time.sleep(0.1)
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


def test_history_since_a_huge_age_is_everything_not_a_traceback(one_attempt):
    r = runner.invoke(app, ["history", "--since", "1000000d", "--json"])
    assert r.exit_code == 0 and len(__import__("json").loads(r.stdout)) == 1


@pytest.mark.parametrize("weight", [".nan", ".inf", "-.inf"])
def test_a_weight_that_is_not_a_number_fails_the_check(tmp_path, weight):
    bank = tmp_path / "b.yaml"
    bank.write_text(f"title: t\nquestions:\n  - id: q\n    question: 讲讲\n    points:\n"
                    f"      - id: p\n        label: l\n        weight: {weight}\n        any: [a1]\n", encoding="utf-8")
    r = runner.invoke(app, ["questions", "check", str(bank)])
    assert r.exit_code == 2 and "weight: must be a positive number" in r.stderr


def test_nan_and_inf_samples_are_cleaned_at_load(tmp_path):
    import time

    import numpy as np
    import soundfile as sf

    from rehearse.audio import load_audio

    x = np.zeros(16000 * 60, dtype=np.float32)
    x[::997] = np.nan
    x[5::1999] = np.inf
    for rate in (16000, 44100):
        p = tmp_path / f"nan-{rate}.wav"
        sf.write(p, x, rate, subtype="FLOAT")
        t0 = time.perf_counter()
        audio = load_audio(p)
        assert np.isfinite(audio).all()
        assert time.perf_counter() - t0 < 5  # a minute of audio; well under a second on a quiet machine


def test_text_from_stdin_or_a_file_and_a_size_limit(tmp_path):
    import json

    r = runner.invoke(app, ["score", "-q", "moco", "--text", "-", "--json", "--no-save"], input="MoCo 用队列存负样本\n")
    assert r.exit_code == 0 and json.loads(r.stdout)["transcript"] == "MoCo 用队列存负样本"
    f = tmp_path / "a.txt"
    f.write_text("MoCo 用队列存负样本", encoding="utf-8")
    r = runner.invoke(app, ["score", "-q", "moco", "--text", f"@{f}", "--json", "--no-save"])
    assert r.exit_code == 0 and json.loads(r.stdout)["points"][0]["covered"]
    f.write_text("很" * 100_001, encoding="utf-8")
    r = runner.invoke(app, ["score", "-q", "moco", "--text", f"@{f}", "--no-save"])
    assert r.exit_code == 2 and "longer than 100,000 characters" in r.stderr
    r = runner.invoke(app, ["score", "-q", "moco", "--text", f"@{tmp_path / 'none.txt'}", "--no-save"])
    assert r.exit_code == 2 and "No such file" in r.stderr


def test_scoring_a_long_text_is_linear_not_quadratic():
    """130 KB of answer text took 47 s with the old matcher; now a few seconds (the bound is loose: a shared CPU)."""
    import time

    from rehearse.assess import assess_text
    from rehearse.rubric import load_library

    q = load_library().get("3d-ssgan")
    text = ("我们先随机采样一组潜在向量，每个部件一个生成器，出特征图和深度图，然后提升到三维空间，体渲染出图像和语义掩码。" * 800)[:43_000]
    t0 = time.perf_counter()
    assess_text(q, text)
    assert time.perf_counter() - t0 < 20


def test_escape_sequences_from_a_bank_or_a_typed_answer_never_reach_the_terminal(tmp_path):
    bank = tmp_path / "esc.yaml"
    bank.write_text('title: t\nquestions:\n  - id: q\n    question: "讲讲\\e[2J\\e]0;x\\a"\n    points:\n'
                    '      - id: p\n        label: "l\\e[31m"\n        any: [a1]\n', encoding="utf-8")
    for args in (["questions", "list", "--bank", str(bank), "--no-shipped"],
                 ["questions", "show", "q", "--bank", str(bank), "--no-shipped"],
                 ["score", "-q", "q", "--bank", str(bank), "--no-shipped", "--no-save", "--text", "a1 \x1b[2J\x07"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        assert "\x1b" not in r.output and "\x07" not in r.output


def test_json_to_a_full_stdout_and_deep_notes_and_unreadable_audio_are_one_line(one_attempt, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ}
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "rehearse.cli", "history", "--json"], stdout=full,
                           stderr=subprocess.PIPE, text=True, env=env)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "Error: cannot write to standard output: No space left on device."]
    notes = tmp_path / "deep.md"
    notes.write_text("## 介绍一下 MoCo？\n" + "".join("  " * i + f"- 层级{i}\n" for i in range(480)), encoding="utf-8")
    r = runner.invoke(app, ["import", str(notes), "--out", str(tmp_path / "deep.yaml"), "--no-speech"])
    assert r.exit_code == 0, r.output
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    r = runner.invoke(app, ["transcribe", str(loop)])
    assert r.exit_code == 2 and "symlink loop" in r.stderr

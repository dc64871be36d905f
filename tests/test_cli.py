"""The real CLI, driven through typer's CliRunner."""

from __future__ import annotations

import json

import click
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from rehearse.cli import app

runner = CliRunner()

ANSWER = "MoCo 用一个队列存负样本，key 编码器用动量更新。"


def run(*args: str):
    return runner.invoke(app, list(args))


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))


def test_every_command_has_help():
    import typer.main

    root = typer.main.get_command(app)
    for path, cmd in all_commands(root):
        assert cmd.help and cmd.help.strip(), path
        r = run(*path, "--help")
        assert r.exit_code == 0, (path, r.output)
        assert "Usage:" in r.output


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and r.output.startswith("rehearse ")


def test_score_text_report():
    r = run("score", "--question", "moco", "--text", ANSWER)
    assert r.exit_code == 0, r.output
    assert "moco · MoCo 的核心思路是什么？" in r.output
    assert "50%   2/4 key points" in r.output
    assert "“队列”" in r.output
    assert "missed: " in r.output
    assert "reference answer" in r.output


def test_score_text_json_contract():
    r = run("score", "-q", "moco", "--text", ANSWER, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["question"] == "moco" and data["transcript"] == ANSWER
    assert data["coverage"] == 0.5 and data["engine"] == "text" and data["language"] == "zh"
    assert [p["id"] for p in data["points"]] == ["queue", "momentum-encoder", "consistency", "decouple-batch"]
    queue = data["points"][0]
    assert queue["covered"] is True and queue["credit"] == 1.0
    assert queue["evidence"] == {"text": "队列", "phrase": "队列", "similarity": 1.0, "start": None, "end": None,
                                 "by": "chars"}
    assert data["points"][2]["evidence"] is None and data["points"][2]["covered"] is False
    assert set(data["fluency"]) >= {"duration_s", "speech_rate", "rate_unit", "filler_count", "fillers",
                                    "long_pauses", "longest_pause_s"}


@pytest.mark.parametrize(("args", "message"), [
    (("score", "--text", "x"), "--question"),
    (("score", "-q", "moco"), "either an AUDIO file or --text"),
    (("score", "-q", "moco", "--text", "  "), "empty"),
])
def test_score_usage_errors(args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert message in r.output


def test_unknown_question_suggests(tmp_path):
    r = run("score", "-q", "3d-sgan", "--text", "x")
    assert r.exit_code == 2
    assert r.output.strip() == "Error: Unknown question id '3d-sgan'. Did you mean: 3d-ssgan?"


def test_missing_audio_file(tmp_path):
    r = run("score", str(tmp_path / "nope.wav"), "-q", "moco")
    assert r.exit_code == 2
    assert r.output.startswith("Error: No such file: ")


@pytest.mark.parametrize("content", [b"", b"this is not audio at all, just text" * 20])
def test_not_audio_and_empty(tmp_path, content):
    p = tmp_path / "answer.wav"
    p.write_bytes(content)
    r = run("score", str(p), "-q", "moco")
    assert r.exit_code == 2
    assert r.output.startswith("Error: ") and str(p) in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_zero_length_audio(tmp_path):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0, dtype=np.float32), 16000)
    r = run("score", str(p), "-q", "moco")
    assert r.exit_code == 2 and "contains no audio" in r.output


def test_unknown_engine(tmp_path):
    p = tmp_path / "a.wav"
    sf.write(p, np.zeros(16000, dtype=np.float32) + 0.1 * np.sin(np.arange(16000)), 16000)
    r = run("score", str(p), "-q", "moco", "--engine", "vosk")
    assert r.exit_code == 2
    assert r.output.strip() == "Error: Unknown engine 'vosk'. Choose one of: faster-whisper, openai-whisper."  # none registered by tests here


def test_model_missing_offline_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("REHEARSE_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    rng = np.random.default_rng(0)
    p = tmp_path / "a.wav"
    sf.write(p, (0.3 * np.sin(np.arange(48000) * 0.06) * rng.random(48000)).astype(np.float32), 16000)
    r = run("transcribe", str(p), "--model", "small")
    assert r.exit_code == 2
    assert "Model 'small' is not installed and could not be downloaded" in r.output
    assert "--model /path/to/" in r.output


def test_unknown_model_name(monkeypatch, tmp_path):
    monkeypatch.setenv("REHEARSE_MODELS", str(tmp_path / "models"))
    p = tmp_path / "a.wav"
    sf.write(p, (0.3 * np.sin(np.arange(48000) * 0.06)).astype(np.float32), 16000)
    r = run("transcribe", str(p), "--model", "gigantic")
    assert r.exit_code == 2 and "Unknown model 'gigantic'" in r.output


def test_malformed_bank_reports_line(tmp_path):
    bank = tmp_path / "mine.yaml"
    bank.write_text("title: x\nquestions:\n  - id: a\n   question: [\n", encoding="utf-8")
    r = run("score", "-q", "a", "--text", "x", "--bank", str(bank))
    assert r.exit_code == 2
    assert r.output.startswith(f"Error: {bank}:4: malformed YAML")


def test_invalid_bank_lists_every_problem(tmp_path):
    bank = tmp_path / "mine.yaml"
    bank.write_text(
        "title: x\nlanguage: fr\nquestions:\n  - id: a\n    question: q\n    points:\n"
        "      - id: p\n        label: l\n        any: []\n", encoding="utf-8")
    r = run("questions", "check", str(bank))
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert lines == [
        f"Error: {bank}:2: language: must be one of zh, en, not 'fr'",
        f"Error: {bank}:9: question 'a': point 'p': any: must be a non-empty list of phrases",
    ]


def test_questions_check_shipped():
    r = run("questions", "check")
    assert r.exit_code == 0 and r.output.startswith("OK: ")


def test_questions_list_and_tag():
    r = run("questions", "list", "--tag", "papers")
    assert r.exit_code == 0
    assert "3d-ssgan" in r.output and "moco" not in r.output


def test_questions_show():
    r = run("questions", "show", "3d-ssgan")
    assert r.exit_code == 0
    assert "介绍一下你的工作 3D-SSGAN。" in r.output and "lifting" in r.output and "reference" in r.output


def test_user_bank_with_draft_question(tmp_path):
    bank = tmp_path / "mine.yaml"
    bank.write_text("title: mine\nquestions:\n  - id: baidu\n    question: 在百度做了什么？\n    draft: true\n",
                    encoding="utf-8")
    r = run("questions", "show", "baidu", "--bank", str(bank))
    assert r.exit_code == 0 and "DRAFT" in r.output
    r = run("score", "-q", "baidu", "--text", "我在百度做推荐", "--bank", str(bank), "--json")
    assert r.exit_code == 0 and json.loads(r.output)["draft"] is True


@pytest.mark.model
def test_silence_exits_3_with_zero_coverage(tmp_path):
    p = tmp_path / "silence.wav"
    sf.write(p, np.zeros(16000 * 3, dtype=np.float32), 16000)
    r = runner.invoke(app, ["score", str(p), "-q", "moco", "--json"])
    assert r.exit_code == 3, r.output
    data = json.loads(r.stdout)
    assert data["no_speech"] is True and data["coverage"] == 0.0 and data["transcript"] == ""
    assert all(pt["evidence"] is None for pt in data["points"])
    r = runner.invoke(app, ["score", str(p), "-q", "moco"])
    assert r.exit_code == 3 and "No speech detected" in r.output

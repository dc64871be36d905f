"""Importing markdown prep notes into question banks: the two seed notes, merging, --force, the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rehearse.assess import assess_text
from rehearse.cli import app
from rehearse.errors import NotesError
from rehearse.importer import (
    extract_phrases,
    import_notes,
    is_question,
    parse_notes,
    slug,
)
from rehearse.rubric import load_bank, parse_bank

SEEDS = Path(__file__).resolve().parent / "data" / "seeds"
runner = CliRunner()

# Every question of the internship prep note, in order (a checked list).
SEED1_QUESTIONS = [
    "介绍对比学习的基本原理",
    "MoCo的核心思路？",
    "Diffusion的基本原理",
    "DDIM和DDPM的区别",
    "Classifier-free guidance的原理解释",
    "Classifier guidance的原理解释",
    "什么是”全面的，深入的跨模态表征学习“？",
    "图像生成的经典工作",
    "图像编辑的经典工作",
    "视频生成领域你的了解是什么？",
    "介绍你的第一篇工作？",
    "介绍MXM-CLR",
    "介绍3D-SSGAN",
    "3D-SSGAN：Lifting提现在什么地方",
    "介绍P2M2-Net",
    "在百度主要做的是什么工作？",
    "在京东主要做的是什么工作？",
    "介绍一下你参加过的竞赛？",
    "介绍一下PaperABC的工作内容",
    "创办的初衷是什么？",
]
SEED1_DRAFTS = {
    "MoCo的核心思路？", "DDIM和DDPM的区别", "Classifier-free guidance的原理解释", "Classifier guidance的原理解释",
    "什么是”全面的，深入的跨模态表征学习“？", "介绍你的第一篇工作？", "3D-SSGAN：Lifting提现在什么地方",
    "在百度主要做的是什么工作？", "在京东主要做的是什么工作？", "介绍一下你参加过的竞赛？",
    "介绍一下PaperABC的工作内容", "创办的初衷是什么？",
}
# The common-questions page: its table of contents and sections give five questions, the page debris none.
SEED2_QUESTIONS = [
    "最近关注的论文,多模态视觉大模型(CLIP,DALLE)?",
    "blip2的架构,优势和之前多模态模型的区别?",
    "多模态融合后,怎样知道最终结果受哪种模态影响更大?",
    "多模态中常见的SOTA模型有哪些?",
    "介绍一下stable diffusion的原理?",
]


def seed(name: str) -> Path:
    path = SEEDS / name
    assert path.is_file(), f"seed notes missing: {path}"
    return path


@pytest.fixture(autouse=True)
def _no_shipped_banks(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about drafting and merging: no shipped bank reserves an id (see the collision test)."""
    monkeypatch.setenv("REHEARSE_PROMPTS", str(tmp_path_factory.mktemp("no-shipped-banks")))


def test_an_id_a_shipped_bank_uses_is_renamed_not_a_collision(tmp_path, monkeypatch):
    from tests.conftest import ROOT

    monkeypatch.setenv("REHEARSE_PROMPTS", str(ROOT / "prompts"))
    notes = tmp_path / "n.md"
    notes.write_text("## 介绍一下 MoCo\n\n- MoCo 用队列维护负样本，key 编码器用动量更新\n", encoding="utf-8")
    r = runner.invoke(app, ["import", str(notes), "--out", str(tmp_path / "mine.yaml"), "--no-speech"])
    assert r.exit_code == 0, r.output
    assert "renamed 'moco' to 'moco-2': another bank already has a question 'moco'" in r.stdout
    assert [q.id for q in load_bank(tmp_path / "mine.yaml").questions] == ["moco-2"]
    r = runner.invoke(app, ["questions", "list", "--bank", str(tmp_path / "mine.yaml")])
    assert r.exit_code == 0 and "moco-2" in r.stdout


@pytest.fixture
def seed1(tmp_path: Path) -> Path:
    return Path(shutil.copy(seed("000_4abdd999396f4a18.txt"), tmp_path / "kunlun.md"))


@pytest.fixture
def seed2(tmp_path: Path) -> Path:
    return Path(shutil.copy(seed("004_f13d3118ae2ecfe0.txt"), tmp_path / "common.md"))


def test_seed1_questions_found(seed1):
    doc = parse_notes(seed1.read_text(encoding="utf-8"))
    assert doc.title == "昆仑万维实习面试"  # from the front matter
    assert [q.text for q in doc.questions] == SEED1_QUESTIONS
    assert {q.text for q in doc.questions if not q.material} == SEED1_DRAFTS
    topics = {q.text: q.topic for q in doc.questions}
    assert topics["MoCo的核心思路？"] == "科研方向 › 对比学习"
    assert topics["介绍一下PaperABC的工作内容"] == "科研方向 › 关于PaperABC"


def test_seed1_drafted_rubrics(seed1, tmp_path):
    result = import_notes(seed1, tmp_path / "kunlun.yaml")
    assert result.action == "written" and result.drafts == len(SEED1_DRAFTS)
    bank = load_bank(result.path)  # validates
    by_text = {q.question: q for q in bank.questions}
    assert list(by_text) == SEED1_QUESTIONS
    for q in bank.questions:
        assert q.draft == (q.question in SEED1_DRAFTS), q.question
        if q.draft:
            assert q.points == ()
        else:  # the user's own answer scores full coverage against the drafted rubric
            assert assess_text(q, q.reference).score.coverage == 1.0, q.id
    ssgan = by_text["介绍3D-SSGAN"]
    assert ssgan.id == "3d-ssgan"
    assert [p.label for p in ssgan.points] == ["研究动机", "采样和生成特征", "2D到3D的转换", "体渲染和Mask生成", "训练和优化"]
    phrases = {ph for p in ssgan.points for g in p.groups for ph in g}
    assert {"2D-to-3D lifting module", "对抗训练", "判别器", "3D一致性", "体渲染"} <= phrases
    assert not any("3D-SSGAN" in ph for ph in phrases)  # never the question's own words
    p2m2 = by_text["介绍P2M2-Net"]
    assert [p.label for p in p2m2.points][-1] == "对齐的思路是我先提出来的"
    classics = by_text["图像生成的经典工作"]
    assert [p.groups[0] for p in classics.points] == [("Stable Diffusion",), ("ControlNet",), ("Dreambooth",)]
    video = by_text["视频生成领域你的了解是什么？"]
    assert "知乎" not in video.reference  # notes-to-self are not answer material
    assert by_text["DDIM和DDPM的区别"].tags == ("diffusion",)


def test_seed2_questions_found_and_debris_ignored(seed2, tmp_path):
    doc = parse_notes(seed2.read_text(encoding="utf-8"))
    assert doc.title == "多模态常见面试题"
    assert [q.text for q in doc.questions] == SEED2_QUESTIONS
    assert all(q.material for q in doc.questions)
    result = import_notes(seed2, tmp_path / "common.yaml")
    text = result.path.read_text(encoding="utf-8")
    for debris in ("利物浦提前四轮英超夺冠", "Spring Boot", "大漠孤烟", "当前位置", "相关文章", "HTML倒数"):
        assert debris not in text
    bank = load_bank(result.path)
    assert result.drafts == 0 and len(bank.questions) == 5
    sota = next(q for q in bank.questions if "SOTA" in q.question)
    assert [p.groups[0][0] for p in sota.points] == ["Vision Transformer", "CLIP", "UNITER", "LXMERT", "CoCa"]
    for q in bank.questions:
        assert assess_text(q, q.reference).score.coverage == 1.0, q.id


def test_debris_is_not_a_question_even_without_a_marker():
    assert not is_question("利物浦提前四轮英超夺冠，顶级联赛冠军数追平曼联")
    assert not is_question("研究动机：传统的点云补全工作，缺乏可控的能力。")
    assert is_question("介绍MXM-CLR") and is_question("DDIM和DDPM的区别") and is_question("创办的初衷是什么？")
    notes = "# 面经\n\n* 介绍一下 LoRA\n  * 低秩分解，只训练两个小矩阵\n\n相关推荐\n\n* 为什么选择 Spring Boot?\n"
    assert [q.text for q in parse_notes(notes).questions] == ["介绍一下 LoRA"]


def test_phrases_and_ids():
    phrases = extract_phrases("对比学习是自监督学习中的一种范式，常用 InfoNCE loss。", exclude="介绍对比学习")
    assert "InfoNCE loss" in phrases and "自监督学习" in phrases and "对比学习" not in phrases
    assert slug("介绍一下P2M2-Net") == "p2m2-net"
    assert slug("在百度主要做的是什么工作？") == "bai-du-zuo-gong-zuo"


NOTES = """---
title: 我的面经
---

## 生成模型

* 介绍一下 DreamBooth
  * 用几张图片微调，绑定到稀有标识符
  * 类别先验保留损失，防止语言漂移
* 什么是 LoRA？
"""


def test_never_overwrites_without_force_and_merges_keeping_edits(tmp_path):
    notes = tmp_path / "mine.md"
    notes.write_text(NOTES, encoding="utf-8")
    first = import_notes(notes, tags=["mine"])
    assert first.path == tmp_path / "mine.yaml" and first.action == "written"
    assert first.question_ids == ("dreambooth", "lora") and first.drafts == 1
    assert load_bank(first.path).questions[0].tags == ("mine", "生成模型")

    # The user edits the bank: a comment, a rewritten rubric for the draft.
    edited = first.path.read_text(encoding="utf-8").replace("title: 我的面经", "# my notes\ntitle: 我的面经")
    data = yaml.safe_load(edited)
    assert data["questions"][1]["draft"] is True
    edited = edited.replace("draft: true\n    points: []", "points:\n      - {id: low-rank, label: 低秩, any: [低秩分解]}")
    first.path.write_text(edited, encoding="utf-8")
    assert not load_bank(first.path).questions[1].draft

    again = import_notes(notes)
    assert again.action == "unchanged" and again.added == () and again.kept == 2
    assert first.path.read_text(encoding="utf-8") == edited

    notes.write_text(NOTES + "* DDIM 和 DDPM 的区别\n  * DDIM 可以跳步，采样是确定性的\n", encoding="utf-8")
    merged = import_notes(notes)
    assert merged.action == "merged" and merged.added == ("ddim-ddpm-qu-bie",) and merged.kept == 2
    text = merged.path.read_text(encoding="utf-8")
    assert text.startswith(edited.rstrip("\n"))  # everything the user wrote, comments included, is kept
    assert [q.id for q in load_bank(merged.path).questions] == ["dreambooth", "lora", "ddim-ddpm-qu-bie"]

    forced = import_notes(notes, force=True)
    assert forced.action == "overwritten"
    assert "# my notes" not in forced.path.read_text(encoding="utf-8")
    assert load_bank(forced.path).questions[1].draft


def test_merge_into_a_bank_whose_questions_are_not_last(tmp_path):
    notes = tmp_path / "n.md"
    notes.write_text(NOTES, encoding="utf-8")
    bank = tmp_path / "b.yaml"
    bank.write_text("questions:\n- id: lora\n  question: LoRA 是什么？\n  draft: true\ntitle: 已有\n", encoding="utf-8")
    result = import_notes(notes, bank)
    assert result.action == "merged" and result.added == ("dreambooth",)
    loaded = load_bank(bank)
    assert loaded.title == "已有" and [q.id for q in loaded.questions] == ["lora", "dreambooth"]


def test_import_errors(tmp_path):
    with pytest.raises(NotesError, match="no such notes file"):
        import_notes(tmp_path / "missing.md")
    empty = tmp_path / "empty.md"
    empty.write_text("# 标题\n\n只有一段话。\n", encoding="utf-8")
    with pytest.raises(NotesError, match="no questions found"):
        import_notes(empty)
    notes = tmp_path / "n.md"
    notes.write_text(NOTES, encoding="utf-8")
    (tmp_path / "n.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(NotesError, match="not a question bank"):
        import_notes(notes)
    with pytest.raises(NotesError, match="overwrite the notes"):
        import_notes(notes, notes)


def test_cli_import(seed1, tmp_path):
    out = tmp_path / "banks" / "kunlun.yaml"
    r = runner.invoke(app, ["import", str(seed1), "--out", str(out), "--tag", "kunlun", "--tag", "intern",
                              "--no-speech"])
    assert r.exit_code == 0, r.output
    assert "20 questions found" in r.output and "12 drafts" in r.output and "written" in r.output
    assert "voices --prepare --bank" in " ".join(r.output.split())  # how to have them read later
    bank, problems = parse_bank(out.read_text(encoding="utf-8"), out)
    assert not problems and all({"kunlun", "intern"} <= set(q.tags) for q in bank.questions)
    r = runner.invoke(app, ["import", str(seed1), "--out", str(out), "--no-speech"])
    assert r.exit_code == 0 and "nothing written" in r.output
    r = runner.invoke(app, ["import", str(seed1), "--out", str(out), "--force", "--no-speech"])
    assert r.exit_code == 0 and "overwritten" in r.output
    r = runner.invoke(app, ["questions", "show", "moco-he-xin-si-lu", "--bank", str(out), "--no-shipped"])
    assert r.exit_code == 0 and "DRAFT" in r.output
    r = runner.invoke(app, ["import", str(tmp_path / "nope.md")])
    assert r.exit_code == 2 and r.output.count("Error:") == 1

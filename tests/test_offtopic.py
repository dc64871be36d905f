"""The off-topic check: an answer about another model keeps its few claims only as "unsure — check"."""

from __future__ import annotations

import io

from rich.console import Console

from rehearse.assess import assess_text
from rehearse.offtopic import foreign_names
from rehearse.report import render_assessment
from rehearse.rubric import load_library

LIB = load_library()
SSGAN = LIB.get("3d-ssgan")

# About NeRF and EG3D, not 3D-SSGAN; "体渲染" alone would claim the rendering point.
ABOUT_NERF = ("我先讲讲 NeRF 吧，它用一个网络表示整个场景，输入坐标和视角，输出颜色和密度，沿着光线采样很多点，"
              "然后体渲染把颜色积分出来。后来 EG3D 用 tri-plane 把这个做得更快了。")


def test_an_answer_about_other_models_keeps_its_claims_only_as_unsure() -> None:
    a = assess_text(SSGAN, ABOUT_NERF)
    rendering = next(p for p in a.score.points if p.id == "rendering")
    assert not rendering.covered
    assert rendering.status == "unsure"
    assert rendering.unsure is not None and rendering.unsure.by == "off-topic"
    assert "NeRF" in rendering.unsure.text and "EG3D" in rendering.unsure.text
    assert a.score.coverage == 0.0
    assert a.to_json()["points"][3]["unsure"]["by"] == "off-topic"


def test_the_report_says_why() -> None:
    out = io.StringIO()
    render_assessment(assess_text(SSGAN, ABOUT_NERF), Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "the answer is mostly about NeRF, EG3D" in text
    assert "unsure — check (not counted)" in text


def test_a_full_answer_may_name_other_models() -> None:
    full = ("3D-SSGAN 的动机是 3D-aware 的方法有三维一致性但做不到部件级解耦，比 EG3D 和 NeRF 那一类多了部件控制。"
            "我们先采样潜在向量，每个部件一个 2D 生成器，生成特征图、深度图和密度图，再用 lifting 模块提升到三维空间，"
            "融合以后体渲染出图像，同时渲染语义掩码，最后用判别器做对抗训练。")
    a = assess_text(SSGAN, full)
    assert len(a.score.covered) >= 4
    assert all(p.unsure is None for p in a.score.points)


def test_one_foreign_name_is_not_enough() -> None:
    a = assess_text(SSGAN, "我先讲讲 NeRF 吧，沿着光线采样很多点，然后体渲染把颜色积分出来，同时渲染语义掩码。")
    assert next(p for p in a.score.points if p.id == "rendering").covered


def test_what_is_not_a_foreign_name() -> None:
    text = ("用 ResNet-50 在 ImageNet 上预训练，加一个 MLP 和 InfoNCE；R16 和 3D 都不是模型名；"
            "SSGAN 和 3d-ssgan 是这道题自己的词，SSGAM 是它听错的拼写；Then 只是句首的词。")
    assert foreign_names(SSGAN, text) == []
    assert [m.group(0) for m in foreign_names(SSGAN, "像 Sora 和 LLaVA，还有 EG3D 跟 EG3D")] == ["Sora", "LLaVA", "EG3D"]

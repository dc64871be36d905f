"""The banks shipped in prompts/: valid, distinct, and each reference answer covers its own rubric."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rehearse.assess import assess_text
from rehearse.matching import Matcher
from rehearse.normalize import normalize
from rehearse.rubric import Question, load_bank, load_library, shipped_bank_paths

ROOT = Path(__file__).resolve().parent.parent
PERSONAL = {"first-paper", "baidu-internship", "jd-internship", "competitions", "paperabc", "paperabc-motivation"}
# Every interview question of the two seed notes, by the id it is shipped under.
SEED_QUESTIONS = {
    "contrastive-learning", "moco", "diffusion-basics", "ddim-vs-ddpm", "classifier-free-guidance",
    "classifier-guidance", "cross-modal-representation", "image-generation-classics", "controlnet", "dreambooth",
    "image-editing-classics", "prompt-to-prompt", "masactrl", "video-generation", "dit", "mxm-clr", "3d-ssgan",
    "2d-to-3d-lifting", "p2m2-net", "multimodal-recent-papers", "blip2", "modality-attribution", "multimodal-sota",
    "stable-diffusion", *PERSONAL,
}


@pytest.fixture(scope="module")
def questions() -> tuple[Question, ...]:
    return load_library().questions


@pytest.fixture(scope="module")
def answered(questions) -> list[Question]:
    return [q for q in questions if not q.draft]


def test_every_shipped_bank_validates_and_ids_are_unique_across_banks():
    paths = shipped_bank_paths()
    assert {p.name for p in paths} >= {"papers.yaml", "generative.yaml", "multimodal.yaml", "generation.yaml",
                                      "personal.yaml"}
    seen: dict[str, str] = {}
    for p in paths:
        for q in load_bank(p).questions:
            assert q.id not in seen, f"{q.id} in both {seen[q.id]} and {p.name}"
            seen[q.id] = p.name
    assert set(seen) == SEED_QUESTIONS


def test_rubric_sizes_and_references(answered):
    for q in answered:
        assert 3 <= len(q.points) <= 7, q.id
        assert q.reference, q.id
        assert q.tags, q.id


def test_personal_questions_are_drafts_for_the_user_to_fill_in(questions):
    personal = {q.id for q in questions if "personal" in q.tags}
    assert personal == PERSONAL
    drafts = {q.id for q in questions if q.draft}
    assert drafts == PERSONAL
    for q in questions:
        if q.draft:
            assert all(p.label.startswith("（待补充）") for p in q.points), q.id
            assert q.reference.startswith("（草稿，请补充）"), q.id


def test_each_reference_covers_its_own_rubric(answered):
    for q in answered:
        result = assess_text(q, q.reference)
        missed = [p.id for p in result.score.points if p.credit < 1]
        assert result.score.coverage == 1.0, (q.id, missed)


def test_an_unrelated_reference_scores_low(answered):
    """Every pair of questions that share no tag: one's reference covers little of the other's rubric."""
    high = []
    for q in answered:
        for other in answered:
            if other is q or set(q.tags) & set(other.tags):
                continue
            coverage = assess_text(q, other.reference).score.coverage
            if coverage >= 0.3:
                high.append((q.id, other.id, coverage))
    assert not high


def test_phrases_do_not_repeat_the_question(questions):
    for q in questions:
        said = normalize(q.question)
        for p in q.points:
            for phrase in (ph for g in p.groups for ph in g):
                assert normalize(phrase) not in said, (q.id, p.id, phrase)


def test_tags_let_a_user_practise_a_topic():
    lib = load_library()
    by_tag = {t: {q.id for q in lib.filter([t])} for t in
              ("papers", "contrastive", "diffusion", "multimodal", "generation", "editing", "video", "personal")}
    assert by_tag["papers"] == {"3d-ssgan", "p2m2-net", "mxm-clr", "2d-to-3d-lifting", "first-paper"}
    assert {"contrastive-learning", "moco", "mxm-clr"} <= by_tag["contrastive"]
    assert {"diffusion-basics", "ddim-vs-ddpm", "classifier-free-guidance", "classifier-guidance",
            "stable-diffusion"} <= by_tag["diffusion"]
    assert {"blip2", "stable-diffusion", "cross-modal-representation", "multimodal-sota"} <= by_tag["multimodal"]
    assert by_tag["editing"] == {"image-editing-classics", "prompt-to-prompt", "masactrl"}
    assert by_tag["video"] == {"video-generation", "dit"}
    assert len(by_tag["generation"]) == 8


def test_stable_diffusion_is_latent_diffusion_not_langevin(questions):
    text = " ".join(q.reference + " ".join(p.label + " ".join(g for grp in p.groups for g in grp)
                                           for p in q.points) for q in questions)
    assert "langevin" not in text.lower()
    sd = next(q for q in questions if q.id == "stable-diffusion")
    assert {p.id for p in sd.points} >= {"latent-space", "unet", "text-condition", "cfg"}


def test_evaluated_questions_keep_their_point_structure(questions):
    """eval/ labels answers by point id and element: those rubrics must keep their shape."""
    points_md = (ROOT / "eval" / "POINTS.md").read_text(encoding="utf-8")
    expected: dict[str, list[tuple[str, str, int]]] = {}
    qid = ""
    for line in points_md.splitlines():
        if m := re.match(r"^## ([a-z0-9-]+):", line):
            qid = m.group(1)
            expected[qid] = []
        elif m := re.match(r"^  - ([a-z0-9-]+) \((any|all)(?:, (\d+) elements)?\)", line):
            expected[qid].append((m.group(1), m.group(2), int(m.group(3) or 1)))
    assert len(expected) == 9
    by_id = {q.id: q for q in questions}
    for qid, points in expected.items():
        assert [(p.id, p.mode, len(p.groups)) for p in by_id[qid].points] == points, qid


def test_no_wrong_version_is_heard_inside_a_right_one(questions):
    """An `unless` phrase found (by sound or characters) inside one of its point's own phrases would make the
    point unsure whenever it is said right: 插值 is heard in 差值, 零点九 in 零点九九九."""
    clashes = [(q.id, p.id, u, ph) for q in questions for p in q.points for u in p.unless
               for g in p.groups for ph in g if u != ph and Matcher(ph).find(u, strict=True)]
    assert sum(len(p.unless) for q in questions for p in q.points) > 100  # the check has something to check
    assert clashes == []

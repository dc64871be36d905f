from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehearse.errors import RubricError, UnknownQuestionError
from rehearse.rubric import load_bank, load_library, parse_bank, shipped_bank_paths

GOOD = """\
title: test bank
language: zh
questions:
  - id: q-one
    question: 介绍一下 3D-SSGAN。
    tags: [paper]
    target_seconds: 60
    points:
      - id: lifting
        label: lifting
        weight: 2
        any: ["2D-to-3D lifting", "提升到三维"]
      - id: rendering
        label: rendering
        all:
          - ["体渲染", "volume rendering"]
          - ["掩码", "mask"]
    reference: 参考答案。
  - id: q-two
    question: What is MoCo?
    language: en
    draft: true
"""


def write(tmp_path: Path, text: str, name: str = "bank.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_loads_a_valid_bank(tmp_path):
    bank = load_bank(write(tmp_path, GOOD))
    assert bank.title == "test bank" and bank.id == "bank"
    q1, q2 = bank.questions
    assert q1.id == "q-one" and q1.language == "zh" and q1.tags == ("paper",) and q1.target_seconds == 60
    assert [p.id for p in q1.points] == ["lifting", "rendering"]
    assert q1.points[0].weight == 2 and q1.points[0].mode == "any"
    assert q1.points[1].mode == "all" and q1.points[1].groups == (("体渲染", "volume rendering"), ("掩码", "mask"))
    assert q2.language == "en" and q2.draft and q2.points == ()
    assert q1.line == 4


def test_rubric_hash_changes_with_phrases(tmp_path):
    h1 = load_bank(write(tmp_path, GOOD)).questions[0].rubric_hash
    h2 = load_bank(write(tmp_path, GOOD.replace("提升到三维", "提升到3D"), "b2.yaml")).questions[0].rubric_hash
    assert h1 != h2 and len(h1) == 16


@pytest.mark.parametrize(("mutation", "expected"), [
    (("    tags: [paper]", "    tagz: [paper]"), "bank.yaml:6: question 'q-one': unknown key 'tagz'"),
    (("  - id: q-two", "  - id: q-one"), "bank.yaml:19: question 'q-one': id: duplicate (first at line 4)"),
    (('any: ["2D-to-3D lifting", "提升到三维"]', "any: []"), "bank.yaml:12: question 'q-one': point 'lifting': any: must be a non-empty list"),
    (('        any: ["2D-to-3D lifting", "提升到三维"]\n', ""), "question 'q-one': point 'lifting': needs exactly one of 'any' or 'all' (it has neither)"),
    (("        weight: 2\n", '        weight: 2\n        all: [["x"]]\n'), "(it has both)"),
    (("    language: en", "    language: fr"), "question 'q-two': language: must be one of zh, en, not 'fr'"),
    (("  - id: q-one", "  - id: Q_One"), "id: required, lower-case letters"),
    (("      - id: rendering", "      - id: lifting"), "points: duplicate point id 'lifting'"),
    (('["掩码", "mask"]', '["掩码", "  "]'), "all[2]: phrase 2 must be non-empty text"),
    (("    draft: true\n", ""), "question 'q-two': points: required"),
    (("    target_seconds: 60", "    target_seconds: -5"), "target_seconds: must be a positive number"),
])
def test_validation_errors_name_file_line_question_and_field(tmp_path, mutation, expected):
    old, new = mutation
    assert old in GOOD
    with pytest.raises(RubricError) as exc:
        load_bank(write(tmp_path, GOOD.replace(old, new)))
    assert any(expected in p for p in exc.value.problems), exc.value.problems


def test_all_problems_reported_at_once(tmp_path):
    bad = GOOD.replace("    tags: [paper]", "    tagz: [paper]").replace("    language: en", "    language: fr")
    with pytest.raises(RubricError) as exc:
        load_bank(write(tmp_path, bad))
    assert len(exc.value.problems) == 2
    assert "and 1 more problem" in str(exc.value)


def test_malformed_yaml_reports_line(tmp_path):
    with pytest.raises(RubricError) as exc:
        load_bank(write(tmp_path, "title: x\nquestions:\n  - id: a\n   question: [unclosed\n"))
    assert exc.value.problems[0].startswith(f"{tmp_path / 'bank.yaml'}:4: malformed YAML")


def test_missing_bank_file(tmp_path):
    with pytest.raises(RubricError, match="no such question bank file"):
        load_bank(tmp_path / "nope.yaml")


def test_unknown_question_suggests_close_ids():
    lib = load_library()
    with pytest.raises(UnknownQuestionError) as exc:
        lib.get("3d-sgan")
    assert "3d-ssgan" in exc.value.suggestions
    assert "Did you mean: 3d-ssgan" in str(exc.value)


def test_user_bank_beside_shipped_and_overriding(tmp_path):
    user = write(tmp_path, GOOD.replace("id: q-one", "id: 3d-ssgan"), "mine.yaml")
    lib = load_library([user])
    q = lib.get("3d-ssgan")
    assert q.bank == "mine" and q.source.endswith("mine.yaml")
    assert lib.get("moco").bank == "generative"
    only = load_library([user], shipped=False)
    assert {q.id for q in only.questions} == {"3d-ssgan", "q-two"}


def test_two_user_banks_with_same_id_is_an_error(tmp_path):
    a = write(tmp_path, GOOD, "a.yaml")
    b = write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RubricError, match="also defined in"):
        load_library([a, b], shipped=False)


def test_filter_by_tag():
    lib = load_library()
    assert {q.id for q in lib.filter(["papers"])} >= {"3d-ssgan", "p2m2-net", "mxm-clr"}
    assert all("diffusion" in q.tags for q in lib.filter(["diffusion"]))


def test_shipped_banks_validate():
    paths = shipped_bank_paths()
    assert paths
    for p in paths:
        bank = load_bank(p)
        for q in bank.questions:
            assert len(q.points) >= 3 or q.draft, q.id


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_loader_never_crashes_on_any_text(text):
    bank, problems = parse_bank(text, Path("fuzz.yaml"))
    assert (bank is None) == bool(problems)
    assert all(p.startswith("fuzz.yaml:") for p in problems)


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
yaml_values = st.recursive(yaml_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(
    st.sampled_from(["id", "label", "any", "all", "question", "points", "weight", "x", "language"]), c, max_size=5),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["title", "language", "questions", "tags", "zzz"]), yaml_values, max_size=5))
def test_loader_never_crashes_on_any_structure(data):
    import yaml

    text = yaml.safe_dump(data, allow_unicode=True)
    bank, problems = parse_bank(text, Path("fuzz.yaml"))
    assert (bank is None) == bool(problems)


def test_gap_phrase_parts_must_have_text(tmp_path):
    bad = GOOD.replace('"提升到三维"]', '"提升到…，"]')
    with pytest.raises(RubricError, match="has a part with no letters"):
        load_bank(write(tmp_path, bad))

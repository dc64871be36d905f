"""The meaning pass: concept rewordings, descriptions, near groups, split gap phrases, contradictions."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehearse.assess import assess_text
from rehearse.errors import RubricError
from rehearse.judges import get_judge, judge_names, register_judge
from rehearse.lexicon import Lexicon, parse_concepts, shipped_lexicon
from rehearse.rubric import load_bank, load_library, parse_bank

BANK = """
title: t
language: zh
concepts:
  - id: rocket
    say: [火箭, rocket, 运载火箭]
  - id: thing
    say: [东西, 玩意儿]
    alone: false
questions:
  - id: q
    question: 讲讲
    points:
      - id: frozen
        label: 冻结图像编码器
        all:
          - [冻结, frozen]
          - near: [图像编码器, image encoder]
      - id: launch
        label: 发射火箭
        any: [发射火箭]
      - id: momentum
        label: key 编码器慢慢跟着 query 编码器
        any: [动量编码器]
        describe:
          - [[key], [query], [慢慢, 缓慢, slowly]]
        unless: [SGD]
      - id: noise
        label: 预测噪声
        any: ["预测…噪声"]
"""


@pytest.fixture()
def q(tmp_path: Path):
    p = tmp_path / "t.yaml"
    p.write_text(BANK, encoding="utf-8")
    return load_bank(p).questions[0]


def point(result, pid):
    return next(p for p in result.score.points if p.id == pid)


def test_a_concept_rewording_counts_by_meaning_with_its_span(q):
    r = assess_text(q, "我们发射运载火箭。")
    p = point(r, "launch")
    assert p.covered and p.by == "meaning"
    assert p.evidence.text == "发射运载火箭" and p.evidence.by == "meaning"
    assert r.to_json()["points"][1]["by"] == "meaning"
    # the phrases-only judge does not see it
    assert not point(assess_text(q, "我们发射运载火箭。", judge=get_judge("phrases")), "launch").covered


def test_the_shipped_lexicon_rewords_everyday_synonyms():
    lex = shipped_lexicon()
    assert "冻住" in lex.expand("冻结")
    assert "参数不更新的图像编码器" in lex.expand("冻结的图像编码器")
    assert "推开" in lex.expand("推远")


def test_a_general_concept_does_not_stand_alone(q):
    lex = Lexicon({"thing": ("东西", "玩意儿")}, frozenset({"thing"}))
    assert lex.expand("东西") == ("东西",)
    assert "这个玩意儿" in lex.expand("这个东西")


def test_a_near_group_counts_only_near_another_group(q):
    far = "冻结了参数。" + "然后我们讨论了很多别的事情比如数据集怎么清洗还有训练多少轮学习率怎么设，" * 2 + "图像编码器是ViT。"
    p = point(assess_text(q, far), "frozen")
    assert p.credit == 0.5 and p.missing == ("图像编码器",)
    assert point(assess_text(q, "图像编码器是 ViT，很常见。"), "frozen").credit == 0.0  # alone it is nothing
    assert point(assess_text(q, "把图像编码器冻结住。"), "frozen").credit == 1.0


def test_a_description_covers_the_point_in_other_words(q):
    r = assess_text(q, "key 那边的编码器不直接训练，而是慢慢跟着 query 编码器走。")
    p = point(r, "momentum")
    assert p.covered and p.by == "meaning" and "key" in p.evidence.text and "慢慢" in p.evidence.text


def test_description_parts_far_apart_do_not_count(q):
    text = "key 是字典里的。" + "中间我们说了很多别的内容，比如数据增强和温度系数怎么调整，还有学习率，" * 2 + "query 慢慢变。"
    assert not point(assess_text(q, text), "momentum").covered


def test_a_contradiction_near_the_evidence_makes_the_point_unsure(q):
    r = assess_text(q, "动量编码器嘛，就是 SGD 里面的那个动量。")
    p = point(r, "momentum")
    assert not p.covered and p.status == "unsure" and p.unsure.text == "SGD"
    assert r.to_json()["points"][2]["unsure"]["text"] == "SGD"
    assert r.score.coverage == 0.0


def test_split_gap_phrase_parts_said_apart_in_either_order(q):
    assert point(assess_text(q, "预测每一步加进去的那个噪声"), "noise").by == "phrase"  # within the gap
    r = assess_text(q, "噪声是网络要学的目标，网络负责预测它。")
    assert point(r, "noise").covered and point(r, "noise").by == "meaning"


def test_negation_glued_to_the_phrase_does_not_count():
    lib = load_library()
    ddim = lib.get("ddim-vs-ddpm")
    assert not point(assess_text(ddim, "DDIM 的采样是不确定的。"), "deterministic").covered
    assert point(assess_text(ddim, "DDIM 的采样是确定的。"), "deterministic").covered


def test_an_english_negative_phrase_needs_its_negation_said():
    cfg = load_library().get("classifier-free-guidance")
    r = assess_text(cfg, "So classifier-free guidance uses a CLIP model as the classifier.")
    assert not point(r, "no-classifier").covered


def test_the_guidance_scale_trade_off_said_backwards_is_unsure_and_said_right_counts():
    """"Larger scale, more diverse" is the common inversion of the trade-off: the term is there, the claim is wrong."""
    cfg = load_library().get("classifier-free-guidance")
    wrong = point(assess_text(cfg, "guidance scale 调得越大，生成的图多样性越高。"), "guidance-scale")
    assert not wrong.covered and wrong.status == "unsure" and wrong.unsure is not None
    assert point(assess_text(cfg, "With the guidance scale, larger scale, more diverse images."),
                 "guidance-scale").status == "unsure"
    right = point(assess_text(cfg, "guidance scale 越大越贴合文本，越小多样性越高。"), "guidance-scale")
    assert right.covered  # 越小 … 多样性越高 is right: the other 越 starts another comparison
    assert point(assess_text(cfg, "guidance scale 越大保真度越高，越小多样性越高。"), "guidance-scale").covered


def test_a_misconception_said_of_earlier_methods_is_a_contrast_not_a_claim():
    q = load_library().get("masactrl")
    said = point(assess_text(q, "以前那些编辑方法改颜色、换个物体还行，但 MasaCtrl 能改动作，人还是那个人。"), "non-rigid")
    assert said.covered and said.unsure is None
    own = point(assess_text(q, "MasaCtrl 主要是改颜色，也能改动作。"), "non-rigid")
    assert not own.covered and own.status == "unsure"
    english = point(assess_text(q, "Previous methods do style transfer well. MasaCtrl can change the pose."), "non-rigid")
    assert english.covered


def test_a_misconception_said_of_a_named_method_or_as_the_cost_avoided_is_not_a_claim():
    q = load_library().get("masactrl")
    named = point(assess_text(q, "像 Prompt-to-Prompt 那种方法，改颜色、换物体可以，但是让狗坐下来就不行。"
                                 "MasaCtrl 解决的是非刚性的编辑。"), "non-rigid")
    assert named.covered and named.unsure is None
    own = point(assess_text(q, "MasaCtrl 解决的是非刚性的编辑，就是改颜色。"), "non-rigid")
    assert own.status == "unsure"
    sd = load_library().get("stable-diffusion")
    cost = point(assess_text(sd, "它的出发点是像素空间上做扩散太贵了，所以先用 VAE 把图压到 latent 里，在潜空间里做扩散。"),
                 "latent-space")
    assert cost.covered and cost.unsure is None
    wrong = point(assess_text(sd, "它是直接在像素空间上做扩散的，VAE 只是把图压到 latent 里存一下。"), "latent-space")
    assert wrong.status == "unsure"


def test_same_class_positives_are_the_supervised_misconception():
    cl = load_library().get("contrastive-learning")
    wrong = point(assess_text(cl, "对比学习要靠标签，同一个类别的两张图就组成一对正样本。"), "positive-pairs")
    assert not wrong.covered and wrong.status == "unsure"
    right = point(assess_text(cl, "不是同一个类别就算，而是同一张图做两次数据增强，得到的两个版本是一对正样本。"),
                  "positive-pairs")
    assert right.covered


def test_moco_with_its_encoders_swapped_is_unsure():
    moco = load_library().get("moco")
    swapped = point(assess_text(moco, "query 编码器用 key 编码器参数的滑动平均来更新，key 编码器正常反向传播。"),
                    "momentum-encoder")
    assert not swapped.covered and swapped.status == "unsure"
    right = point(assess_text(moco, "key 编码器用 query 编码器参数的滑动平均来更新，不做反向传播。"), "momentum-encoder")
    assert right.covered


def test_rewordings_match_english_exactly():
    """A one-letter edit that a mangled term may need is not allowed for a rewording (alone ≠ clone)."""
    lib = load_library()
    r = assess_text(lib.get("image-generation-classics"), "Stable Diffusion works alone in latent space.")
    assert not point(r, "controlnet-how").covered


@pytest.mark.parametrize("bad, message", [
    ("describe: [[]]", "description 1 must be a non-empty list of parts"),
    ("describe: [[\"@nope\"]]", "'@nope' names no concept"),
    ("unless: []", "unless: must be a non-empty list of phrases"),
])
def test_bad_meaning_keys_are_reported_with_their_line(tmp_path: Path, bad: str, message: str):
    text = f"""title: t
questions:
  - id: q
    question: 讲讲
    points:
      - id: p
        label: l
        any: [a1]
        {bad}
"""
    bank, problems = parse_bank(text, tmp_path / "b.yaml")
    assert bank is None
    assert any(message in p and ":9:" in p for p in problems), problems


def test_bad_concepts_and_near_groups_are_reported(tmp_path: Path):
    text = """title: t
concepts:
  - id: a
    say: [only-one]
  - id: b
    say: [x1, y1]
    alone: maybe
questions:
  - id: q
    question: 讲讲
    points:
      - id: p
        label: l
        all:
          - near: [a1]
"""
    bank, problems = parse_bank(text, tmp_path / "b.yaml")
    assert bank is None
    joined = "\n".join(problems)
    assert "needs at least two wordings" in joined
    assert "alone must be true or false" in joined
    assert "at least one group must not be 'near'" in joined


def test_a_wording_in_two_concepts_is_refused():
    lex, problems = parse_concepts([{"id": "a", "say": ["x1", "y1"]}, {"id": "b", "say": ["X1", "z1"]}], "f")
    assert any("already a wording of 'a'" in p for p in problems)


def test_the_shipped_lexicon_is_valid_and_has_no_single_han_wording():
    lex = shipped_lexicon()
    assert len(lex.concepts) > 100
    for cid, words in lex.concepts.items():
        assert len(words) >= 2, cid
        for w in words:
            assert not (len(w) == 1 and "\u4e00" <= w <= "\u9fff"), (cid, w)


def test_judges_are_a_registry_that_reaches_by_name():
    assert judge_names()[0] == "offline"
    assert {"offline", "phrases", "llm"} <= set(judge_names())

    class Everything:
        name = "everything"

        def judge(self, question, transcript):
            from dataclasses import replace

            base = get_judge("phrases").judge(question, transcript)
            pts = tuple(replace(p, credit=1.0, by="test") for p in base.points)
            return replace(base, points=pts, coverage=1.0)

    register_judge("everything", Everything)
    q = load_library().get("moco")
    assert assess_text(q, "随便说点", judge=get_judge("everything")).score.coverage == 1.0


def test_an_unknown_judge_is_one_clear_error():
    from rehearse.errors import UsageError

    with pytest.raises(UsageError, match="Unknown judge 'nope'. Choose one of: offline"):
        get_judge("nope")


def test_meaning_keys_change_the_rubric_hash(tmp_path: Path):
    p = tmp_path / "t.yaml"
    p.write_text(BANK, encoding="utf-8")
    h1 = load_bank(p).questions[0].rubric_hash
    p.write_text(BANK.replace("unless: [SGD]", "unless: [SGD, optimizer]"), encoding="utf-8")
    assert load_bank(p).questions[0].rubric_hash != h1


def test_rubric_errors_in_meaning_keys_raise_on_load(tmp_path: Path):
    p = tmp_path / "t.yaml"
    p.write_text(BANK.replace("unless: [SGD]", "unless: SGD"), encoding="utf-8")
    with pytest.raises(RubricError, match="unless: must be a non-empty list of phrases"):
        load_bank(p)


SAMENESS = """
title: t
language: zh
questions:
  - id: ddim
    question: 区别？
    points:
      - id: markov
        label: DDPM 是马尔可夫链，采样慢
        all:
          - [马尔可夫]
          - [一千步, 采样慢]
        unless: [都要一千步, 也要一千步]
      - id: fast
        label: DDIM 步数少
        any: [更少的步数, 一千步]
        unless: [也要一千步]
"""


LAYOUT = """
title: t
language: zh
questions:
  - id: p2p
    question: 介绍一下 Prompt-to-Prompt。
    points:
      - id: attention-layout
        label: 交叉注意力图决定布局
        all:
          - [cross-attention, 注意力图]
          - near: [哪个区域, 布局]
        unless: [只跟颜色有关]
"""


def test_a_near_group_left_alone_by_a_contradiction_goes_too(tmp_path: Path):
    """The contradiction takes back the cross-attention half; 哪个区域 only ever counted beside it."""
    p = tmp_path / "l.yaml"
    p.write_text(LAYOUT, encoding="utf-8")
    q = load_bank(p).questions[0]
    r = assess_text(q, "它需要用户先画一个 mask，告诉模型要改哪个区域，然后在 mask 里面按新的 prompt 重新生成。"
                       "它主要改的是 self-attention，cross-attention 的注意力图我记得只跟颜色有关。")
    got = point(r, "attention-layout")
    assert not got.covered and got.status == "unsure" and got.unsure.text == "只跟颜色有关"
    fine = point(assess_text(q, "cross-attention 的注意力图决定了每个词在哪个区域。"), "attention-layout")
    assert fine.covered and fine.credit == 1.0


@pytest.fixture()
def ddim(tmp_path: Path):
    p = tmp_path / "d.yaml"
    p.write_text(SAMENESS, encoding="utf-8")
    return load_bank(p).questions[0]


def test_a_contradiction_takes_back_only_the_groups_of_an_all_point_it_is_near(ddim):
    filler = "中间说了很多别的内容比如网络结构和训练数据的细节还有损失函数怎么设计，" * 2
    r = assess_text(ddim, "DDPM 的反向过程是马尔可夫链。" + filler + "DDIM 其实也要一千步。")
    p = point(r, "markov")
    assert p.covered and p.credit == 0.5 and p.missing == ("一千步",) and p.unsure is None  # 马尔可夫 stands
    assert point(r, "fast").status == "unsure"                                            # an any point: all of it
    alone = point(assess_text(ddim, "两者其实差不多，都要一千步左右。"), "markov")
    assert not alone.covered and alone.status == "unsure" and alone.unsure.text == "都要一千步"
    assert point(assess_text(ddim, "DDPM 是马尔可夫链，要一千步，采样慢。"), "markov").credit == 1.0


def test_description_and_split_gap_parts_must_be_said_in_one_sentence(q):
    assert point(assess_text(q, "key 那边的编码器慢慢跟着 query 编码器。"), "momentum").covered
    assert not point(assess_text(q, "这是 key. 然后 query 慢慢变。"), "momentum").covered
    assert not point(assess_text(q, "噪声是学习的目标。网络负责预测别的。"), "noise").covered


def test_a_denied_or_unknown_term_and_a_double_negation_do_not_count():
    lib = load_library()
    moco = lib.get("moco")
    r = assess_text(moco, "动量的作用主要是加快收敛，跟字典的一致性没什么关系。")
    assert not point(r, "consistency").covered
    cfg = lib.get("classifier-free-guidance")
    assert not point(assess_text(cfg, "guidance scale 我不太清楚是干嘛的。"), "guidance-scale").covered
    mxm = lib.get("mxm-clr")
    said = point(assess_text(mxm, "某个视角和某条描述可能不匹配，一对一地学就有问题。"), "imperfect-match")
    assert said.covered
    assert not point(assess_text(mxm, "数据都配对好了，不存在不匹配的问题，一对一地学就行。"), "imperfect-match").covered

import pytest

from rehearse.matching import Matcher, allowed_edits

# Homophones Whisper base actually produced on Mandarin answers.
ASR_HOMOPHONES = [
    ("负样本", "我们从复样本里采样"),
    ("部件级", "做不到不见及的解耦"),
    ("生成器", "多个声成气"),
    ("体渲染", "最后用体宣染得到图像"),
    ("掩码", "还有言马"),
]


@pytest.mark.parametrize(("phrase", "transcript"), ASR_HOMOPHONES)
def test_homophones_match_by_sound(phrase, transcript):
    m = Matcher(transcript).find(phrase)
    assert m is not None
    assert m.by == "sound"
    assert 0.8 <= m.similarity < 1.0


def test_exact_match_reports_span_and_similarity_one():
    text = "然后用 2D-to-3D lifting 模块"
    m = Matcher(text).find("2D to 3D lifting")
    assert m is not None and m.similarity == 1.0 and m.by == "chars"
    assert text[m.start:m.end] == m.text == "2D-to-3D lifting"


@pytest.mark.parametrize(("phrase", "transcript"), [
    ("InfoNCE loss", "我们用 Info MCLoss 做对比学习"),
    ("Q-Former", "中间是一个 Q former"),
    ("QFormer", "中间是一个 Q-Former"),
    ("InfoNCE", "用 info NCE 做损失"),
    ("提升到三维", "把特征提升到3D空间"),
])
def test_latin_spelling_and_spacing_variants(phrase, transcript):
    assert Matcher(transcript).find(phrase) is not None


@pytest.mark.parametrize(("phrase", "transcript"), [
    ("VAE", "we train several VAEs"),       # not inside a longer word
    ("CLIP", "gradient clipping helps"),
    ("GAN", "the organ is"),
    ("MoCo", "MoCov2 is"),
    ("正样本", "我们只用了负样本"),           # one Han character differs: no match
    ("负样本", "我们用正样本"),
    ("对比学习", "对偶学习"),
    ("DDIM", "DDPM 的采样"),
    ("掩码", "我们没提到"),
])
def test_short_phrases_do_not_match_by_accident(phrase, transcript):
    assert Matcher(transcript).find(phrase) is None


def test_allowed_edits_scale_with_length():
    assert allowed_edits(2, 0) == 0
    assert allowed_edits(4, 0) == 0
    assert allowed_edits(6, 0) == 0
    assert allowed_edits(8, 0) == 1
    assert allowed_edits(0, 4) == 0
    assert allowed_edits(0, 7) == 1
    assert allowed_edits(0, 11) == 2


def test_find_any_prefers_the_closest_phrase():
    m = Matcher("我们用体渲染和 volume rendering").find_any(["volume rendering", "体渲染"])
    assert m is not None and m.similarity == 1.0


def test_empty_inputs():
    assert Matcher("").find("体渲染") is None
    assert Matcher("体渲染").find("，。") is None


def test_gap_phrases_match_parts_in_order_within_the_gap():
    m = Matcher("每一步预测加进去的遭生，然后去掉").find("预测…噪声")
    assert m is not None and m.text == "预测加进去的遭生" and m.by == "sound"
    assert Matcher("噪声很大，我们再预测").find("预测…噪声") is None          # wrong order
    assert Matcher("预测一下明天的天气会不会有很多的噪声").find("预测…噪声") is None  # gap too long
    assert Matcher("其实不是对抗训练").find("对抗…训练") is None              # negated


def test_number_form_homophones():
    assert Matcher("把特征提升到三位空间里").find("提升到三维") is not None
    assert Matcher("3D依致性很好").find("3D一致性") is not None

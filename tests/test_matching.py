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


@pytest.mark.parametrize(("phrase", "transcript"), [
    ("LLaVA", "开源里 LLaMA 2 和 Mistral 比较强"),   # one edit away, but another model
    ("GPT-4V", "GPT-4 的推理能力"),
    ("BLIP-2", "BLIP 用的是 captioner"),
])
def test_an_edit_never_turns_another_models_name_into_the_phrase(phrase, transcript):
    assert Matcher(transcript).find(phrase) is None


def test_a_models_name_inside_a_longer_phrase_is_never_edited():
    assert Matcher("DDIM 的采样是确定性的").find("DDPM的采样是确定性") is None
    assert Matcher("DDPM 的采样是确定性的").find("DDPM的采样是确定性") is not None


def test_a_misspelt_name_that_is_no_other_model_still_matches():
    assert Matcher("我们用 LLaVa-1.5 做的").find("LLaVA") is not None
    assert Matcher("我们用 Llava 做的").find("LLaVA") is not None
    assert Matcher("还有 Flamengo 这种").find("Flamingo") is not None


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


def test_an_english_gap_is_counted_in_words():
    m = Matcher("you want guidance without training a separate classifier on noisy images").find("without…classifier")
    assert m is not None and m.text == "without training a separate classifier"
    assert Matcher("without any of the extra training data that a classifier needs").find("without…classifier") is None


def test_number_form_homophones():
    assert Matcher("把特征提升到三位空间里").find("提升到三维") is not None
    assert Matcher("3D依致性很好").find("3D一致性") is not None


# ---------------------------------------------------------------- a term inside a claim that takes it back


def test_a_fuzzy_match_may_not_swallow_a_negation():
    assert Matcher("两者都是随机采样，每次出来的图都不一样").find("出来的图都一样") is None
    assert Matcher("每次出来的图都一样").find("出来的图都一样") is not None
    assert Matcher("they only attend to each other; there's no cross-attention in it").find("cross-attention") is None
    assert Matcher("queries use cross attention on the image").find("cross-attention") is not None


def test_a_negation_between_the_parts_of_a_gap_phrase():
    assert Matcher("它预测的不是噪声，而是原图").find("预测…噪声") is None
    assert Matcher("the network predicts the image instead of the noise").find("predict…noise") is None
    assert Matcher("网络预测不同时间步的噪声").find("预测…噪声") is not None   # 不同 negates nothing
    assert Matcher("负样本的个数跟 batch size 就没关系了").find("batch…没关系") is not None  # the phrase's own


@pytest.mark.parametrize("text, phrase", [
    ("不过动量的作用主要是加快收敛，跟字典的一致性没什么关系。", "字典的一致性"),   # 跟 X 没关系
    ("它还加了一个 loss，跟防止过拟合关系不大", "过拟合"),
    ("这个 memory bank 其实用不到。", "memory bank"),
    ("InfoNCE 那个是 NLP 里用的，跟视觉的对比学习关系不大。", "InfoNCE"),         # said what it is, then disowned
    ("然后它其实不太需要负样本，拉近就行。", "负样本"),                               # 不太需要 X: not claimed
    ("注意力权重也说明不了什么问题。", "注意力权重"),
    ("SHAP 在神经网络里用不了。", "SHAP"),
    ("对比学习最后没用上。", "对比学习"),
    ("Negatives are not really needed here.", "negatives"),
    ("guidance scale 我不太清楚是干嘛的。", "guidance scale"),                      # "I don't know" about it
    ("guidance scale，我不太清楚是干嘛的", "guidance scale"),      # the term as a topic, the comment after a comma
    ("至于 guidance scale，我不知道是干嘛的", "guidance scale"),
    ("具体的公式推导，什么变分下界那些，我记得不是特别清楚了。", "变分下界"),
    ("InfoNCE那个是NLP里用的。跟视觉的对比学习关系不大", "InfoNCE"),   # Whisper's full stop between the two
    ("跟防止过拟合没什么关系 生成的时候可以放到新场景里", "过拟合"),   # Whisper's space for the clause break
    ("这个 memory bank 其实用不到 然后我们用的是队列", "memory bank"),
    ("InfoNCE 那个我记得是 GAN 里面用来估计互信息的，跟对比学习关系不大。", "InfoNCE"),
    ("I'm not sure how it behaves with small datasets.", "small datasets"),
    ("I don't know much about how it relates to Sora.", "Sora"),
])
def test_a_term_taken_back_by_what_follows_or_an_i_dont_know_does_not_count(text, phrase):
    assert Matcher(text).find(phrase) is None


@pytest.mark.parametrize("text, phrase", [
    ("负样本和 batch size 没关系，可以有好几万个", "负样本"),        # not 跟/和 X: the relation, not X
    ("ControlNet 不需要很多数据，数据少也能训", "ControlNet"),       # X 不需要 (something): X is the subject
    ("注意力权重说明不了什么问题的时候，就看梯度", "梯度"),            # the denial is about another term
    ("我不太确定，好像是用一个队列", "队列"),                          # the hedge is another clause
    ("队列是先进先出的，跟 batch size 没关系", "队列"),   # says what the queue does, not where it belongs
    ("用的是 InfoNCE，跟交叉熵很像，跟 batch 大小没关系", "InfoNCE"),  # not the clause right after 是 …
    ("我不知道为什么它要用队列", "队列"),                              # "I don't know why X" claims X
    ("guidance scale，就是控制条件的强度，具体取多少我不太清楚", "guidance scale"),  # the comment claims it
    ("用变分下界那些，推出来的 loss 很简单", "变分下界"),
    ("我们训练的时候用的 guidance scale，我不太清楚别人怎么设", "guidance scale"),   # not a topic: said in a clause
    ("I'm not sure, but I think it keeps a queue of keys", "queue"),
    ("然后两次都用同样的随机种子具体有哪几种编辑方式我记不太清楚了", "随机种子"),  # unpunctuated: too far away
    ("负样本和 batch size 没关系 可以有好几万个", "负样本"),        # a space ends the clause, 跟/和 still needed
])
def test_what_still_counts_near_a_denial_or_a_hedge(text, phrase):
    assert Matcher(text).find(phrase) is not None


def test_a_comparison_gap_phrase_does_not_reach_into_the_next_comparison():
    assert Matcher("guidance scale 调得越大，生成的图多样性越高").find("越大…多样性越高") is not None
    assert Matcher("越大保真度越高，越小多样性越高").find("越大…多样性越高") is None
    assert Matcher("预测每一步的噪声，越来越准").find("预测…噪声") is not None  # only phrases with 越 are concerned


def test_a_negative_phrase_negated_in_turn_does_not_count():
    assert Matcher("数据都配对好了，不存在不匹配的问题").find("不匹配") is None
    assert Matcher("有时候某个视角和描述不匹配").find("不匹配") is not None
    assert Matcher("这一步不像数据增强，只是裁剪").find("数据增强") is None   # a contrast, not a claim

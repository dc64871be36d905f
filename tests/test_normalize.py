from hypothesis import given, settings
from hypothesis import strategies as st

from rehearse.normalize import (
    atomize,
    fold_syllable,
    han_count,
    latin_words,
    normalize,
    to_simplified,
)


def test_traditional_to_simplified():
    assert to_simplified("體渲染與語義掩碼") == "体渲染与语义掩码"


def test_full_width_case_and_separators():
    assert normalize("ＩｎｆｏＮＣＥ　Loss") == "infonceloss"
    assert normalize("Q-Former") == normalize("Q former") == normalize("QFormer") == "qformer"


def test_han_latin_spacing_is_irrelevant():
    assert normalize("我们用InfoNCE loss做") == normalize("我们用 InfoNCE loss 做")


def test_number_forms():
    assert normalize("二维") == normalize("2D") == normalize("2维") == "2d"
    assert normalize("提升到三维") == "提升到3d"


def test_atoms_keep_offsets_into_original_text():
    text = "嗯，復樣本 Info-NCE！"
    atoms = atomize(text)
    assert [a.char for a in atoms] == list("嗯复样本infonce")
    for a in atoms:
        assert a.end > a.start
    # 復 (traditional) is atom 1, at offset 2 of the original
    assert text[atoms[1].start:atoms[1].end] == "復"


def test_tokens_separate_words():
    atoms = atomize("VAE vaes")
    assert len({a.token for a in atoms[:3]}) == 1
    assert atoms[3].token != atoms[2].token


def test_sound_folding():
    assert fold_syllable("sheng") == "sen"
    assert fold_syllable("zhi") == "zi"
    assert fold_syllable("xing") == "xin"
    assert atomize("负")[0].sound == atomize("复")[0].sound == "fu"


def test_counts():
    assert han_count("我们用 InfoNCE loss") == 3
    assert latin_words("我们用 InfoNCE loss 和 self-attention") == ["InfoNCE", "loss", "self-attention"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normaliser_never_crashes_and_offsets_are_valid(text):
    atoms = atomize(text)
    for a in atoms:
        assert 0 <= a.start < a.end <= len(text)
        assert a.char and a.sound
    assert normalize(text) == "".join(a.char for a in atoms)

"""Kokoro's G2P says names the way people do (no model needed: misaki and espeak-ng only)."""

from __future__ import annotations

from rehearse.voices.g2p import Phonemizer


def test_names_are_said_the_way_people_say_them():
    """G2P rules (no model needed): a GAN in a name is a word, digits inside a name are English, others Mandarin."""
    p = Phonemizer()
    assert p.pieces("SSGAN") == [("spell", "SS"), ("word", "gan")]
    assert p.pieces("StyleGAN") == [("word", "Style"), ("word", "gan")]
    assert p.pieces("DDIM") == [("spell", "DDIM")]
    net = p("介绍一下 P2M2-Net。", "zh")
    assert net.count("tʰˈu") == 2 and "ɚ" not in net  # P two M two (aspirated t), not P 二 M 二
    assert "sa→n" in p("3D-SSGAN 里的 lifting", "zh") and "ɡˈæn" in p("3D-SSGAN 里的 lifting", "zh")  # 三D, gan

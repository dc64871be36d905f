"""Text normalisation shared by transcripts and rubric phrases.

Both sides of every comparison go through :func:`atomize`, which turns text
into a sequence of :class:`Atom` — one per Han character (carrying its toneless
pinyin) and one per Latin letter or digit (carrying the token it belongs to) —
each pointing back at its span in the original text so that evidence can quote
the transcript exactly.

Normalisation steps, in order:

* Traditional → Simplified Chinese (OpenCC ``t2s``);
* Unicode NFKC, which folds full-width letters, digits and punctuation to
  half-width (``ＡＢＣ`` → ``ABC``);
* lower case;
* punctuation, spaces, hyphens and other separators dropped, so ``Q-Former``,
  ``Q former`` and ``QFormer`` all become the atoms ``q f o r m e r`` (token
  boundaries are kept separately, so short terms cannot match inside longer
  words);
* number forms: ``二维`` / ``2维`` / ``2D`` all become ``2d`` (likewise 一/三/四维),
  and so do the homophones Whisper writes for 维 (``三位``, ``三围``, ``三唯``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pypinyin import Style, lazy_pinyin

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4"}
_WEI = "维位围唯为"  # 维 and the homophones Whisper writes for it after a digit (三为一致性)

# Initials and finals that Whisper (and speakers) most often confuse; folding
# them makes 生成器/声成气 or 负样本/复样本 compare equal by sound.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FUZZY_FINALS = (("eng", "en"), ("ing", "in"))


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


# Whisper base sometimes writes a lone full-width digit where a Mandarin clause ends ("本身４就是", "提出来的０做法是",
# 38 of 382 decoded answers): a digit after a Han character that neither another digit nor a measure word follows.
_STRAY_DIGIT = re.compile(r"(?<=[\u3400-\u9fff])[\uff10-\uff19](?![\uff10-\uff190-9.．%％个張张步层層年月日天次倍种種维維分秒点點十百千万萬亿億号號位条條块塊对對组組类類遍轮輪名岁歲度章节節])")


def stray_digits_to_commas(text: str) -> str:
    """A lone full-width digit the recogniser wrote for a pause inside Mandarin ("学习本身４就是") becomes "，";
    a number ("５个", "２０２４年") is left alone."""
    return _STRAY_DIGIT.sub("，", text)


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (OpenCC ``t2s``)."""
    if not text:
        return text
    return _t2s().convert(text)


def is_han(char: str) -> bool:
    """True for a CJK ideograph."""
    return bool(_HAN_RE.match(char))


def fold_syllable(syllable: str) -> str:
    """Fold a toneless pinyin syllable so near-homophones compare equal."""
    for src, dst in _FUZZY_INITIALS:
        if syllable.startswith(src):
            syllable = dst + syllable[len(src):]
            break
    for src, dst in _FUZZY_FINALS:
        if syllable.endswith(src):
            syllable = syllable[: -len(src)] + dst
            break
    return syllable


@dataclass(frozen=True)
class Atom:
    """The smallest comparable unit of normalised text.

    ``char`` is the normalised character (a Han character, or a lower-case
    Latin letter/digit); ``sound`` is the folded pinyin for Han and the char
    itself otherwise; ``token`` numbers the word the atom belongs to (every
    Han character is its own token); ``start``/``end`` index the original text.
    """

    char: str
    sound: str
    token: int
    start: int
    end: int
    han: bool = False


def _normalise_chars(text: str) -> list[tuple[str, int]]:
    """Per original character: its normalised form and original index.

    OpenCC can in principle change length; when it does we fall back to
    converting character by character so offsets stay exact.
    """
    simp = to_simplified(text)
    if len(simp) != len(text):
        simp = "".join(to_simplified(c) if len(to_simplified(c)) == 1 else c for c in text)
    out: list[tuple[str, int]] = []
    for i, ch in enumerate(simp):
        folded = unicodedata.normalize("NFKC", ch).lower()
        for f in folded:
            out.append((f, i))
    return out


def atomize(text: str) -> list[Atom]:
    """Split text into normalised atoms (see module docstring)."""
    chars = _normalise_chars(text)
    atoms: list[Atom] = []
    token = -1
    in_latin = False
    han_buf: list[tuple[str, int]] = []

    def flush_han() -> None:
        nonlocal token
        if not han_buf:
            return
        run = "".join(c for c, _ in han_buf)
        keep: Any = lambda s: list(s)  # noqa: E731 - characters pypinyin cannot read stay as they are
        sounds = lazy_pinyin(run, style=Style.NORMAL, errors=keep)
        if len(sounds) != len(run):  # defensive: never misalign offsets
            sounds = [lazy_pinyin(c, style=Style.NORMAL, errors=keep)[0] for c in run]
        for (c, idx), snd in zip(han_buf, sounds):
            token += 1
            atoms.append(Atom(c, fold_syllable(snd), token, idx, idx + 1, han=True))
        han_buf.clear()

    i = 0
    n = len(chars)
    while i < n:
        c, idx = chars[i]
        # number forms: 二维 / 2维 → "2d"
        if (c in _HAN_DIGITS or c in "1234") and i + 1 < n and chars[i + 1][0] in _WEI:
            flush_han()
            token += 1
            digit = _HAN_DIGITS.get(c, c)
            end = chars[i + 1][1] + 1
            atoms.append(Atom(digit, digit, token, idx, end))
            atoms.append(Atom("d", "d", token, idx, end))
            in_latin = False
            i += 2
            continue
        if is_han(c):
            in_latin = False
            han_buf.append((c, idx))
        elif c.isascii() and c.isalnum():
            flush_han()
            if not in_latin:
                token += 1
                in_latin = True
            atoms.append(Atom(c, c, token, idx, idx + 1))
        else:
            flush_han()
            in_latin = False
        i += 1
    flush_han()
    return atoms


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without control characters (keeps newlines and tabs): no escape sequence from a bank file or
    a typed answer reaches the terminal."""
    return _CONTROL_RE.sub("", text)


def has_content(text: str) -> bool:
    """True when ``text`` has something :func:`atomize` keeps (a letter, digit or Han character); cheap."""
    return bool(_CONTENT_RE.search(unicodedata.normalize("NFKC", text)))


_CONTENT_RE = re.compile(r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def normalize(text: str) -> str:
    """Compact normalised form: what :func:`atomize` keeps, joined."""
    return "".join(a.char for a in atomize(text))


def han_count(text: str) -> int:
    """Number of Han characters in text."""
    return len(_HAN_RE.findall(text))


def latin_words(text: str) -> list[str]:
    """English words (Latin-letter runs, with inner apostrophes/hyphens) in text."""
    return re.findall(r"[A-Za-z]+(?:['’-][A-Za-z]+)*", unicodedata.normalize("NFKC", text))


_GAP = re.compile(r"…+|\.{3,}")

def split_gap(phrase: str) -> list[str]:
    """The parts of a phrase with gaps (``A…B``), stripped; one part if it has none."""
    return [p.strip() for p in _GAP.split(phrase) if p.strip()] or [phrase]

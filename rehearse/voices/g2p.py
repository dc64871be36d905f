"""Text to Kokoro phonemes: Mandarin through misaki's zh front end, English words through espeak-ng IPA.

* Han runs -> ``misaki.zh.ZHG2P`` (the pinyin-IPA form Kokoro v1.0 was trained on); digits become Chinese
  numbers first (cn2an: "256" -> 二百五十六, "3D" -> 三D), except inside a name (P2M2-Net: P two M two net).
* Latin runs -> espeak-ng IPA (en-us) through phonemizer, mapped to Kokoro's symbols. Acronyms are spelt
  letter by letter (DDIM -> D D I M), mixed-case names split at case changes (InfoNCE -> Info N C E), a GAN
  said as a word in any name (SSGAN -> S S gan, StyleGAN -> style gan), and
  :data:`RESPELL` says how people say the names that are neither (GAN, CLIP, BLIP-2, DiT, DALL-E …).
* Text is cut into clauses at punctuation; :func:`chunks` re-joins the clauses of a sentence while the
  phoneme string stays short, and gives the pause to leave after each chunk.

The reference text is never changed: the respelling is for the synthesiser only.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rehearse.errors import TTSError

CHUNK_PHONEMES = 250  # a longer sentence is cut after a comma
PAUSE_COMMA, PAUSE_STOP = 0.25, 0.45  # seconds of silence after , and after .
STOP_MARKS = "。.！!？?"
HAN = r"\u3400-\u4dbf\u4e00-\u9fff"

#: How names are said, matched case-sensitively on whole Latin tokens before any other rule. A value is
#: read as English words; single capitals in it are spelt. Everything else all-caps is spelt.
RESPELL: dict[str, str] = {
    "GAN": "gan", "GANs": "gans", "CLIP": "clip", "BLIP": "blip", "BLIP-2": "blip two", "DiT": "D I T",
    "DALL-E": "dolly", "DALL·E": "dolly", "Q-Former": "Q former", "InfoNCE": "info N C E", "SOTA": "sota",
    "MoCo": "moco", "MasaCtrl": "masa control", "SimCLR": "sim C L R", "ViT": "V I T", "LLaMA": "llama",
    "NeRF": "nerf", "BERT": "bert", "LoRA": "lora", "PyTorch": "pie torch", "NumPy": "num pie",
    "ReLU": "ray lu", "YOLO": "yolo", "GitHub": "git hub", "OpenAI": "open A I", "ChatGPT": "chat G P T",
    "U-Net": "U net", "UNet": "U net", "ResNet": "res net", "ImageNet": "image net", "DINO": "dino",
    "Sora": "sora", "PaperABC": "paper A B C", "ControlNet": "control net", "DreamBooth": "dream booth",
}
# espeak-ng IPA -> Kokoro symbols (after misaki.espeak.EspeakFallback, American English).
_E2M = sorted({"ʔˌn\u0329": "ʔn", "ʔn\u0329": "ʔn", "a^ɪ": "I", "a^ʊ": "W", "d^ʒ": "ʤ", "e^ɪ": "A", "e": "A",
               "t^ʃ": "ʧ", "ɔ^ɪ": "Y", "ə^l": "ᵊl", "ʲo": "jo", "ʲə": "jə", "ʲ": "", "ɚ": "əɹ", "r": "ɹ",
               "x": "k", "ç": "k", "ɐ": "ə", "ɬ": "l", "\u0303": ""}.items(), key=lambda kv: -len(kv[0]))
_RESPELL_RE = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(k) for k in sorted(RESPELL, key=len, reverse=True))
                         + r")(?![A-Za-z0-9])")


@dataclass(frozen=True)
class Chunk:
    """One piece the model reads in one go, and the silence after it."""

    phonemes: str
    pause_s: float


def respell(text: str) -> str:
    """Replace the names in :data:`RESPELL` by how they are said."""
    return _RESPELL_RE.sub(lambda m: " " + RESPELL[m.group(1)] + " ", text)


def split_clauses(text: str) -> list[tuple[str, float]]:
    """Cut ``text`` after punctuation -> (clause, pause after it)."""
    text = re.sub(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]", lambda m: unicodedata.normalize("NFKC", m.group()),
                  text)
    parts = re.split(rf"(?<=[，、；：。！？])|(?<=[,;:!?])(?!\d)|(?<=\.)(?=\s|$|[{HAN}])", text)
    out: list[tuple[str, float]] = []
    for p in (p.strip() for p in parts if p and p.strip()):
        if not re.search(rf"[A-Za-z0-9{HAN}]", p):  # lone punctuation: it only lengthens the pause before
            if out and p[-1] in STOP_MARKS:
                out[-1] = (out[-1][0], PAUSE_STOP)
            continue
        out.append((p, PAUSE_STOP if p[-1] in STOP_MARKS else PAUSE_COMMA))
    return out


class Phonemizer:
    """Text -> Kokoro phoneme string, for a zh or en text. Loads misaki and espeak-ng on first use.

    Mandarin keeps each word's dictionary tones, as misaki's v1.0 front end gives them (the form Kokoro v1.0
    was trained on): applying tone sandhi across words (你好 ni2 hao3, 一下 yi2 xia4, misaki's ToneSandhi)
    was measured and did not help (tune half: CER 0.225 with it, 0.202 without, jm_kumo+jf_gongitsune)."""

    @cached_property
    def _zh(self) -> Any:
        try:
            import jieba
            from misaki.zh import ZHG2P

            jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict …" on every first question
        except ImportError as exc:
            raise TTSError(f"the Mandarin front end is not installed ({exc.name}): pip install 'rehearse[voice]'") \
                from None
        return ZHG2P()  # version=None: the pinyin->IPA form Kokoro v1.0 was trained on

    @cached_property
    def _en(self) -> Any:
        try:
            from phonemizer.backend import EspeakBackend

            return EspeakBackend("en-us", preserve_punctuation=True, with_stress=True, tie="^")
        except ImportError as exc:
            raise TTSError(f"phonemizer is not installed ({exc.name}): pip install 'rehearse[voice]'") from None
        except RuntimeError as exc:  # no libespeak-ng
            raise TTSError(f"espeak-ng is missing, needed for English words ({exc}): apt-get install espeak-ng") \
                from None

    @cached_property
    def _letters(self) -> dict[str, str]:
        return {c: self._espeak([c]) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}

    def _espeak(self, words: list[str]) -> str:
        ps = str(self._en.phonemize([" ".join(words)], strip=True)[0]).strip()
        for old, new in _E2M:
            ps = ps.replace(old, new)
        ps = re.sub(r"(\S)\u0329", r"ᵊ\1", ps).replace("\u0329", "")
        ps = ps.replace("o^ʊ", "O").replace("ɜːɹ", "ɜɹ").replace("ɜː", "ɜɹ").replace("ɪə", "iə")
        ps = ps.replace("ː", "").replace("o", "ɔ").replace("ɾ", "T").replace("ʔ", "t")
        return ps.replace("^", "").replace("ɹɹ", "ɹ")

    @staticmethod
    def pieces(token: str) -> list[tuple[str, str]]:
        """One Latin token -> ("word", text) / ("spell", LETTERS) pieces."""
        if re.fullmatch(r"[A-Z]?[a-z']+|[AI]|[0-9.]+", token):  # an ordinary word, "A", "I", a number
            return [("word", token)]
        m = re.fullmatch(r"([A-Za-z]+?)(GANs?)", token)  # a GAN's name: StyleGAN, DCGAN -> style gan, D C gan
        if m:
            return [*Phonemizer.pieces(m.group(1)), ("word", m.group(2).lower())]
        m = re.fullmatch(r"([A-Z]{2,})s", token)  # plural acronym: GPUs -> G P U's
        if m:
            return [("spell", m.group(1)[:-1]), ("word", m.group(1)[-1] + "'s")]
        return [("spell" if part.isupper() else "word", part)
                for part in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|'[a-z]+", token)]

    def latin(self, text: str) -> str:
        """Latin text (words, digits, punctuation) -> phonemes."""
        text = text.replace("%", " percent ").replace("&", " and ").replace("+", " plus ")
        pieces: list[tuple[str, str]] = []
        for tok in re.findall(r"[0-9]+\.[0-9]+|[A-Za-z0-9']+|[,.!?;:]", re.sub(r"[-‐–_/]", " ", text)):
            pieces += [("word", tok)] if tok in ",.!?;:" else self.pieces(tok)
        out: list[str] = []
        run: list[str] = []
        for kind, s in [*pieces, ("end", "")]:
            if kind != "word" and run:
                out.append(self._espeak(run))
                run = []
            if kind == "word":
                run.append(s)
            elif kind == "spell":
                out.append(" ".join(self._letters[c] for c in s))
        return re.sub(r"\s+([,.!?;:])", r"\1", " ".join(out))

    def mandarin(self, text: str) -> str:
        """Mandarin text, English words and all -> phonemes."""
        import cn2an

        text = re.sub(r"(?<=[A-Za-z0-9])[-‐–](?=[A-Za-z0-9])", " ", text)
        # digits after a letter belong to a name and are read in English (P2M2-Net, Llama2, V100); others in
        # Mandarin (3D -> 三D, 256 -> 二百五十六)
        parts = re.split(r"([A-Za-z][A-Za-z0-9']*)", text)
        for i in range(0, len(parts), 2):
            try:
                parts[i] = cn2an.transform(parts[i], "an2cn")
            except Exception:  # noqa: BLE001 - cn2an rejects a few odd strings; digits then go to espeak
                pass
        text = "".join(parts)
        out: list[str] = []
        for latin, other in re.findall(r"([A-Za-z0-9][A-Za-z0-9' ]*)|([^A-Za-z0-9]+)", text):
            if latin.strip():
                # Mandarin p/t/k are unaspirated; aspirate English stressed onsets so DDPM is not heard as DDBM
                out.append(re.sub(r"(?<!s)([ptk])(?=[ˈˌ])", r"\1ʰ", self.latin(latin)))
            elif re.sub(r"\s", "", other):
                out.append(str(self._zh(re.sub(r"\s+", "", other))[0]))
        return re.sub(r"\s+([,.!?;:])", r"\1", " ".join(p.strip() for p in out if p.strip()))

    def __call__(self, text: str, lang: str) -> str:
        """``text`` in ``lang`` (zh | en) -> one phoneme string."""
        return self.mandarin(text) if lang == "zh" else self.latin(text)

    def chunks(self, text: str, lang: str, first_alone: bool = False) -> list[Chunk]:
        """Phonemise clause by clause; the clauses of one sentence share a chunk while it stays short
        (``first_alone``: the first clause is a chunk of its own, to be heard soonest)."""
        out: list[Chunk] = []
        for clause, pause in split_clauses(respell(text)):
            ps = self(clause, lang)
            if not ps.strip():
                continue
            if len(out) > int(first_alone) and out[-1].pause_s == PAUSE_COMMA \
                    and len(out[-1].phonemes) + 1 + len(ps) <= CHUNK_PHONEMES:
                out[-1] = Chunk(out[-1].phonemes + " " + ps, pause)
            else:
                out.append(Chunk(ps, pause))
        return out

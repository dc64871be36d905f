"""Find rubric phrases in a transcript, by characters and by sound.

Whisper writes homophones (复样本 for 负样本, 声成气 for 生成器) and splits or
misspells English terms (``Info NCE``, ``Q former``). A phrase therefore
matches a span of the transcript when, after :mod:`rehearse.normalize`, the
span is within a small edit distance of the phrase either

* character by character (Han characters, Latin letters and digits), or
* sound by sound (each Han character replaced by its folded toneless pinyin).

Precision matters more than recall, so:

* spans start and end on token boundaries — a Latin term never matches inside
  a longer word (``VAE`` is not found in ``VAEs``, ``CLIP`` not in ``clipping``);
* the allowed edit distance grows with the phrase: none for Han phrases of up
  to six characters (homophones are already equal by sound) or Latin terms of
  up to four letters, then one edit per few characters (see
  :func:`allowed_edits`); in a mixed phrase the edits the Latin part allows
  never buy a different Han character;
* a phrase the speaker negates ("不是靠判别器", "we did not use a queue") does
  not count, and a negative phrase ("不需要分类器") needs its negation said;
* every match reports its similarity (1 − edits / length).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from rehearse.normalize import Atom, atomize, split_gap
from rehearse.normalize import is_han as _is_han_char

_SOUND_SYMBOLS: dict[str, str] = {}

_NEGATION_CHARS = "不没无非未"
# Negation cues that, just before a phrase in the same clause, mean it was not claimed.
_ZH_NEGATION = re.compile(r"(不是|不用|不靠|不需要|不需|不太需要|不怎么需要|用不着|不必|没有|没用|没|并非|而非|并不|无需|不会|不做|不加|不经过|不通过|不在|不再|不涉及|"
                          r"不包括|不带|从来不|从不|不存在|谈不上|算不上|不像|不同于|never|unlike)[^，。,.；;！？!?]{0,6}$")
# A negative phrase (不匹配, 不需要分类器) negated in turn: "不存在不匹配的问题", "并没有不需要…".
_ZH_DOUBLE_NEGATION = re.compile(r"(不存在|没有|并没有|不会有|并不是)[^，。,.；;！？!?]{0,2}$")
# A negation inside a match that its phrase does not have: a fuzzy span that swallowed "不" ("都不一样" for
# "都一样") or "no" ("no cross-attention"), or a gap phrase with a negation between its parts ("预测的不是噪声").
# Words that hold a negating character without negating anything are left out first.
_NOT_NEGATING = re.compile(r"不同|不断|不过|不少|不仅|不止|不管|不错|不久|不论|无论|无条件|非常|未来|并非")
# The end of a clause: a punctuation mark, the end of the text, or, in a transcript, the space Whisper writes
# for a pause between Mandarin clauses ("跟防止过拟合没什么关系 生成的时候…").
_CLAUSE_END = r"(?:\s*[，。,.；;！？!?]|\s*$|\s+(?=[\u3400-\u9fff]))"
# What a speaker says after a term to deny it: "跟 X 没什么关系", "X 用不到", "X is not needed". Only at the end
# of the clause, close after the term (so "X 不需要很多数据" still says X, and "A 和 B 没关系" needs 跟/和 before B).
_ZH_DENIED_AFTER = re.compile(r"^[^，。,.；;！？!?]{0,8}?(用不到|用不上|用不了|没用上|没有用上|没必要|不重要|是不需要的|其实不需要|是错的|说明不了什么问题|说明不了问题|说明不了什么)"
                              r"[了的啊吧呢]*" + _CLAUSE_END)
_ZH_UNRELATED_AFTER = re.compile(r"^[^，。,.；;！？!?]{0,8}?(没什么关系|没有什么关系|没有关系|没关系|无关|关系不大|不相关)"
                                 r"[了的啊吧呢]*" + _CLAUSE_END)
_ZH_WITH_BEFORE = re.compile(r"[跟和与同][^，。,.；;！？!?]{0,3}$")
# The term placed elsewhere, then disowned in the next clause: "InfoNCE 那个是 NLP 里用的，跟对比学习关系不大"
# (not "队列是先进先出的，跟 batch size 没关系": that clause says what the queue does).
_ZH_DISOWNED_AFTER = re.compile(r"^[^，。,.；;！？!?]{0,10}?(?:是|用在|用于)[^，。,.；;！？!?]{0,14}(?:用的|里的|中的|上的|用来[^，。,.；;！？!?]{0,8}的)"
                                r"\s*[，,。.]\s*(?:它|这个|那个)?\s*"
                                r"[跟和与][^，。,.；;！？!?]{0,14}?(?:关系不大|没什么关系|没有什么关系|没有关系|没关系|无关|不相关)")
_EN_DENIED_AFTER = re.compile(r"^[\w\s'-]{0,12}?\b(?:(?:is|are|was|were)\s+not|isn't|aren't|wasn't|weren't)\s+(?:really\s+)?"
                              r"(?:needed|necessary|required|used|important|involved)\b|^\s*(?:has|have|had)\s+nothing\s+to\s+do",
                              re.IGNORECASE)
# A clause in which the speaker says they do not know (the term is named, not explained): "guidance scale
# 我不太清楚是干嘛的", "I don't know much about how it relates to Sora". "why" clauses still claim what follows.
_UNKNOWN = re.compile(r"不太清楚|不清楚|不是特别清楚|不是很清楚|没那么清楚|不知道|不太了解|不了解|不记得|不太记得|记不清|记不太清|没印象|不太懂|"
                      r"\b(?:don't|do not|didn't) (?:really )?(?:know|remember|recall)\b|\bcan't remember\b|\bno idea\b|"
                      r"\bnot (?:really )?(?:sure|familiar)\b", re.IGNORECASE)
_UNKNOWN_EXCEPT = re.compile(r"为什么|\bwhy\b", re.IGNORECASE)
_SENTENCE_PART = re.compile(r"[，。,.；;！？!?：:]|\bbut\b|但是|不过", re.IGNORECASE)
_EN_NEGATION_WORD = re.compile(r"\b(not|no|non|without|never|instead|rather|don't|doesn't|didn't|isn't|aren't|wasn't|weren't|cannot|can't)\b",
                               re.IGNORECASE)
GAP_MAX = 10  # characters allowed between the parts of a gap phrase...
GAP_MAX_WORDS = 4  # ...or, where the gap is English, words (at most GAP_MAX_LATIN characters)
GAP_MAX_LATIN = 32
_CLAUSE_BREAK = re.compile(r"[，。,.；;！？!?：:]")

#: how close (in words: one per Han character or Latin word) things must be said to count as said
#: together: the parts of a description or of a split gap phrase (about a clause)...
WINDOW = 24
#: ...and a ``near`` group and its point's other groups (about a sentence)
NEAR_WINDOW = 40

# Names of other models and methods, as the matcher spells them (letters and digits, lower case): an edit never
# turns one into the phrase. "LLaMA" is another model, not a misheard "LLaVA"; "GPT-4" is not "GPT-4V".
OTHER_NAMES = frozenset({
    "llama", "llava", "gpt3", "gpt4", "gpt4v", "gpt4o", "clip", "blip", "blip2", "bert", "beit", "beit3", "albef",
    "ddpm", "ddim", "moco", "mocov2", "mocov3", "simclr", "byol", "simsiam", "dino", "dinov2", "sdxl", "imagen",
    "dalle", "dalle2", "dalle3", "sora", "vqvae", "vqgan", "stylegan", "stylegan2", "nerf", "pixelnerf", "mistral",
    "gemini", "flamingo", "siglip", "qwenvl", "cogvlm", "internvl", "minigpt4", "kosmos", "pali", "palm",
})

_LATIN_WORD = re.compile(r"[a-z0-9]+")


def _gap_ok(gap: str) -> bool:
    """Whether the text between two parts of a gap phrase is short enough: :data:`GAP_MAX` characters, or
    :data:`GAP_MAX_WORDS` English words ("without training a separate classifier")."""
    if len(gap) <= GAP_MAX:
        return True
    return (len(gap) <= GAP_MAX_LATIN and re.fullmatch(r"[A-Za-z0-9'\- ]*", gap) is not None
            and len(gap.split()) <= GAP_MAX_WORDS)

# A match found only by sound reports a slightly lower similarity than the
# same match by characters, so reports show it was a homophone.
SOUND_DISCOUNT = 0.9


def _sound_symbol(atom: Atom) -> str:
    """One character per sound: Han syllables map into the private-use area."""
    if not atom.han:
        return atom.sound
    sym = _SOUND_SYMBOLS.get(atom.sound)
    if sym is None:
        sym = chr(0xE000 + len(_SOUND_SYMBOLS))
        _SOUND_SYMBOLS[atom.sound] = sym
    return sym


def _han_sounds(sounds: str) -> str:
    return "".join(ch for ch in sounds if "\ue000" <= ch <= "\uf8ff")


def allowed_edits(han: int, latin: int) -> int:
    """Edits a phrase of ``han`` Han characters and ``latin`` letters/digits tolerates."""
    if han <= 6:
        h = 0
    elif han <= 10:
        h = 1
    else:
        h = 2
    if latin <= 4:
        lat = 0
    elif latin <= 8:
        lat = 1
    elif latin <= 14:
        lat = 2
    else:
        lat = 3
    return h + lat


@dataclass(frozen=True)
class Match:
    """A phrase found in a text: the span (offsets into the original text)."""

    phrase: str
    text: str
    start: int
    end: int
    similarity: float
    edits: int
    by: str = "chars"  # "chars" or "sound"


class _Atoms:
    """Atoms of a text as two comparable strings (characters and sounds)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.atoms = atomize(text)
        self.chars = "".join(a.char for a in self.atoms)
        self.sounds = "".join(_sound_symbol(a) for a in self.atoms)
        self.han = sum(1 for a in self.atoms if a.han)
        self.latin = len(self.atoms) - self.han


class Matcher:
    """Searches one transcript for many phrases."""

    def __init__(self, text: str) -> None:
        self._t = _Atoms(text)
        atoms = self._t.atoms
        n = len(atoms)
        self._starts = [i for i in range(n) if i == 0 or atoms[i].token != atoms[i - 1].token]
        self._start_set = set(self._starts)
        self._is_end = [False] * (n + 1)
        for i in range(1, n + 1):
            self._is_end[i] = i == n or atoms[i].token != atoms[i - 1].token
        # the word (token) each character of the text belongs to, or the last one before it
        self._word_at = [0] * (len(text) + 1)
        k, last = 0, 0
        for pos in range(len(text) + 1):
            while k < n and atoms[k].start <= pos:
                last = atoms[k].token
                k += 1
            self._word_at[pos] = last
        self._found: dict[tuple[str, bool], list[Match]] = {}

    @property
    def text(self) -> str:
        """The text being searched, as given."""
        return self._t.text

    def words_between(self, start: int, end: int) -> int:
        """How many words (one per Han character or Latin word) ``text[start:end]`` spans."""
        if end <= start:
            return 0
        return self._word_at[end - 1] - self._word_at[start] + 1

    def find_all(self, phrase: str, strict: bool = False) -> list[Match]:
        """Every non-overlapping match of ``phrase``, best first.

        A phrase with a gap, ``预测…噪声`` (or ``预测...噪声``), matches its
        parts in order with at most :data:`GAP_MAX` characters between them
        ("预测每一步加入的噪声"); its similarity is the lowest of its parts'. In a phrase with 越 (越大…
        多样性越高) no other 越 may come between the parts: that is another comparison.
        """
        cached = self._found.get((phrase, strict))
        if cached is None:
            cached = self._found[(phrase, strict)] = self._find_all_uncached(phrase, strict)
        return cached

    def _find_all_uncached(self, phrase: str, strict: bool) -> list[Match]:
        parts = split_gap(phrase)
        if len(parts) == 1:
            return self._find_all(phrase, strict=strict)
        found: list[Match] = []
        firsts = self._find_all(parts[0], strict=strict, deny=not _is_negative(phrase))
        later = [sorted(self._find_all(part, negation=False, strict=strict), key=lambda m: m.start)
                 for part in parts[1:]]  # each part searched once, not once per first part
        later_starts = [[m.start for m in ms] for ms in later]
        # 越大…多样性越高: another 越 in the gap starts another comparison ("越大越贴合，越小多样性越高")
        correlative = "越" in phrase
        for first in sorted(firsts, key=lambda m: m.start):
            chain = [first]
            for ms, starts in zip(later, later_starts):
                i = bisect.bisect_left(starts, chain[-1].end)  # the first match at or after the last part
                if i == len(ms) or not _gap_ok(self.text[chain[-1].end:ms[i].start]) or \
                        (correlative and "越" in self.text[chain[-1].end:ms[i].start]):
                    break
                chain.append(ms[i])
            else:
                start, end = chain[0].start, chain[-1].end
                if negation_count(self.text[start:end]) > negation_count(phrase):
                    continue  # "预测的不是噪声" is not 预测…噪声
                if not _is_negative(phrase) and is_denied(self.text, start, end):
                    continue
                by = "sound" if any(m.by == "sound" for m in chain) else "chars"
                found.append(Match(phrase=phrase, text=self.text[start:end], start=start, end=end,
                                   similarity=min(m.similarity for m in chain),
                                   edits=sum(m.edits for m in chain), by=by))
        return sorted(found, key=lambda m: (-m.similarity, m.start))

    def _find_all(self, phrase: str, negation: bool = True, strict: bool = False, deny: bool = True) -> list[Match]:
        """Every non-overlapping match of a phrase without gaps, best first.

        A match is dropped when the phrase has a negation (不, 没, 无, 非, 未)
        the span lacks, or when the span is negated by the words just before
        it ("不是靠判别器", "we did not use a queue"), unless the phrase itself
        is the negative ("不需要分类器").
        """
        p = _phrase_atoms(phrase)
        n = len(p.atoms)
        t = self._t
        if n == 0 or not t.atoms:
            return []
        k = allowed_edits(p.han, 0 if strict else p.latin)  # strict: English exactly, Han by sound
        total = len(t.atoms)
        # Where a match can start. Within k edits by characters means within k by sounds (same character,
        # same sound), and a window within k edits of the phrase contains one of k + 1 pieces of it exactly
        # (pigeonhole): so only the starts near an exact occurrence of a piece are tried. Linear in the text.
        starts: list[int] = sorted(self._start_set.intersection(_seeded_starts(t.sounds, p.sounds, k)))
        neg_in_phrase = sum(p.chars.count(c) for c in _NEGATION_CHARS)
        # Edits a short Han part cannot absorb: its sounds must all be there.
        han_exact = _han_sounds(p.sounds) if allowed_edits(p.han, 0) == 0 else None
        en_negative = bool(_EN_NEGATION_WORD.search(phrase))
        neg_words = negation_count(phrase)
        phrase_negative = bool(neg_in_phrase) or en_negative
        # in a longer phrase a model's name is the part an edit may not touch: "DDPM的采样是确定性" is not "DDIM的采样是确定性"
        names = [w for w in _LATIN_WORD.findall(p.chars) if w in OTHER_NAMES and w != p.chars]
        candidates: list[tuple[int, int, int, str]] = []  # (edits, start, end, by)
        for s in starts:
            best_here: tuple[int, int, int, str] | None = None
            for length in range(max(1, n - k), n + k + 1):
                e = s + length
                if e > total:
                    break
                if not self._is_end[e]:
                    continue
                limit = k if best_here is None else best_here[0] - 1
                if limit < 0:
                    break
                by = "chars"
                d = Levenshtein.distance(p.chars, t.chars[s:e], score_cutoff=limit)
                if d > limit:
                    by = "sound"
                    d = Levenshtein.distance(p.sounds, t.sounds[s:e], score_cutoff=limit)
                if d <= limit:
                    window = t.chars[s:e]
                    if sum(window.count(c) for c in _NEGATION_CHARS) < neg_in_phrase:
                        continue
                    if d and negation_count(t.text[t.atoms[s].start:t.atoms[e - 1].end]) > neg_words:
                        continue  # an edit let in a negation (不见及 is 部件级 by sound, with no edit)
                    if han_exact is not None and _han_sounds(t.sounds[s:e]) != han_exact:
                        continue
                    if d and (t.chars[s:e] in OTHER_NAMES or any(nm not in t.chars[s:e] for nm in names)):
                        continue  # another model's name, said as such; a name in the phrase is never edited
                    best_here = (d, s, e, by)
            if best_here is not None:
                candidates.append(best_here)
        matches: list[Match] = []
        taken = bytearray(total)  # atoms already inside a match (best matches first, none overlapping)
        for d, s, e, by in sorted(candidates, key=lambda c: (c[0], c[3] == "sound", c[1])):
            if taken.find(1, s, e) != -1:
                continue
            start, end = t.atoms[s].start, t.atoms[e - 1].end
            if negation and not phrase_negative and (is_negated(t.text, start) or deny and is_denied(t.text, start, end)):
                continue
            if negation and neg_in_phrase and _ZH_DOUBLE_NEGATION.search(_CLAUSE_BREAK.split(t.text[max(0, start - 12):start])[-1]):
                continue
            if en_negative and not _EN_NEGATION_WORD.search(t.text[start:end]):
                continue  # "no classifier" is not "So classifier": a negative phrase needs its negation said
            taken[s:e] = b"\x01" * (e - s)
            similarity = 1.0 - d / max(n, e - s)
            if by == "sound":  # same sounds, other characters: say so in the figure
                similarity *= SOUND_DISCOUNT
            matches.append(Match(phrase=phrase, text=t.text[start:end], start=start, end=end,
                                 similarity=round(similarity, 3), edits=d, by=by))
        return matches

    def find(self, phrase: str, strict: bool = False) -> Match | None:
        """The best match of ``phrase`` in the text (earliest among equals), or None."""
        found = self.find_all(phrase, strict)
        return found[0] if found else None

    def find_near(self, phrases: Sequence[str], anchors: Sequence[tuple[int, int]],
                  window: int = NEAR_WINDOW, strict: bool = False,
                  keep: Callable[[Match], bool] | None = None) -> Match | None:
        """The best match of any phrase within ``window`` words of one of the ``anchors`` (text spans)
        (and, with ``keep``, one it accepts)."""
        best: Match | None = None
        spans = sorted(set(anchors))
        starts = [a for a, _ in spans]
        for ph in phrases:
            for m in self.find_all(ph, strict):
                if not self._near_any(m, spans, starts, window) or (keep is not None and not keep(m)):
                    continue
                if best is None or (m.similarity, -m.start) > (best.similarity, -best.start):
                    best = m
        return best

    def _near_any(self, m: Match, spans: list[tuple[int, int]], starts: list[int], window: int) -> bool:
        """True when one of the sorted ``spans`` lies within ``window`` words of ``m`` (looking outward from it)."""
        i = bisect.bisect_left(starts, m.start)
        for k in range(i, len(spans)):  # anchors starting at or after the match
            a, b = spans[k]
            if self.words_between(m.start, max(m.end, b)) <= window:
                return True
            if self.words_between(m.start, a) > window:
                break
        for k in range(i - 1, -1, -1):  # anchors starting before it
            a, b = spans[k]
            if self.words_between(a, max(m.end, b)) <= window:
                return True
            if self.words_between(a, m.start) > window:  # and every earlier one is further still
                break
        return False

    def find_any(self, phrases: Sequence[str], strict: bool = False) -> Match | None:
        """The best match among several alternative phrases (highest similarity, then earliest)."""
        best: Match | None = None
        for ph in phrases:
            m = self.find(ph, strict)
            if m is None:
                continue
            if best is None or (m.similarity, -m.start) > (best.similarity, -best.start):
                best = m
        return best


@functools.lru_cache(maxsize=50_000)
def _phrase_atoms(phrase: str) -> _Atoms:
    """Rubric phrases recur across answers (and the lexicon multiplies them): atomize each once."""
    return _Atoms(phrase)


def _seeded_starts(text: str, phrase: str, k: int) -> set[int]:
    """Start positions in ``text`` where a window within ``k`` edits of ``phrase`` may begin."""
    if k == 0:
        return set(_occurrences(text, phrase))
    n = len(phrase)
    if n <= k:
        return set(range(len(text)))
    out: set[int] = set()
    size = n // (k + 1)
    for i in range(k + 1):
        lo = i * size
        piece = phrase[lo: n if i == k else lo + size]
        for pos in _occurrences(text, piece):
            out.update(range(max(0, pos - lo - k), pos - lo + k + 1))
    return out


def _occurrences(text: str, sub: str) -> list[int]:
    """Every start index of ``sub`` in ``text`` (overlapping)."""
    out, i = [], text.find(sub)
    while i >= 0:
        out.append(i)
        i = text.find(sub, i + 1)
    return out



def negation_count(text: str) -> int:
    """How many negations ``text`` holds: negating characters (不, 没, 无, 非, 未) outside words like 不同
    or 无论 that only contain one, and English negation words."""
    rest = _NOT_NEGATING.sub("", text)
    return sum(rest.count(c) for c in _NEGATION_CHARS) + len(_EN_NEGATION_WORD.findall(text))


def _is_negative(phrase: str) -> bool:
    return any(c in phrase for c in _NEGATION_CHARS) or bool(_EN_NEGATION_WORD.search(phrase))


def clause_head(text: str, at: int, reach: int = 60) -> str:
    """What ``text`` says before ``at`` in the same clause (at most ``reach`` characters back)."""
    return _SENTENCE_PART.split(text[max(0, at - reach):at])[-1]


def is_denied(text: str, start: int, end: int) -> bool:
    """True when what is said around ``text[start:end]`` takes it back rather than claims it.

    * a denial right after it, ending its clause: "跟字典的一致性没什么关系" (with 跟/和/与 before
      the term), "X 其实用不到", "negatives aren't really necessary", "has nothing to do with";
    * the term said to be something, then unrelated in the next clause: "InfoNCE 那个是 NLP 里用的，跟对比学习
      关系不大";
    * a clause that says the speaker does not know: "guidance scale 我不太清楚是干嘛的",
      "I'm not sure how it behaves with small datasets" (but not "我不知道为什么…", which claims what
      follows, nor a hedge in another clause: "不太确定，好像是用队列").
    """
    after = text[end:end + 40]
    before = text[max(0, start - 40):start]
    if _ZH_DENIED_AFTER.match(after) or _EN_DENIED_AFTER.match(after):
        return True
    if _ZH_UNRELATED_AFTER.match(after) and _ZH_WITH_BEFORE.search(before):
        return True
    if _ZH_DISOWNED_AFTER.match(text[end:end + 60]):
        return True
    head = clause_head(text, start)
    tail = _SENTENCE_PART.split(text[end:end + 60])[0]
    topic = _TOPIC_BREAK.match(text, end + len(tail)) \
        if _TOPIC_TAIL.match(tail) and len(_WORD.findall(head)) <= _TOPIC_HEAD else None
    head = head[_word_offset(head, -_UNKNOWN_BEFORE):]  # a transcript may have no punctuation: stay close
    tail = tail[:_word_offset(tail, _UNKNOWN_AFTER)]
    if topic is not None:  # the term said as a topic, its comment in the next clause: "guidance scale，我不太清楚是干嘛的"
        comment = _SENTENCE_PART.split(text[topic.end():topic.end() + 60])[0]
        tail = comment[:_word_offset(comment, _UNKNOWN_AFTER + 4)]
    clause = head + text[start:end] + tail
    return bool(_UNKNOWN.search(clause)) and not _UNKNOWN_EXCEPT.search(clause)


#: words before / after a term in which "I don't know" takes it back
_UNKNOWN_BEFORE, _UNKNOWN_AFTER = 8, 6
#: a term alone before a comma, with at most this many words before it in its clause, is a topic ("至于 X，…")
_TOPIC_HEAD = 3
_TOPIC_BREAK = re.compile(r"\s*[，,]\s*")
_TOPIC_TAIL = re.compile(r"^\s*(?:那些|这些|之类的?|什么的|啥的|等等)?\s*$")  # "什么变分下界那些，我不是特别清楚"
_WORD = re.compile(r"[\u3400-\u9fff]|[A-Za-z0-9']+")


def _word_offset(text: str, n: int) -> int:
    """Where the first ``n`` words of ``text`` end (``n`` > 0), or the last ``-n`` begin (``n`` < 0)."""
    words = list(_WORD.finditer(text))
    if n > 0:
        return words[n - 1].end() if len(words) >= n else len(text)
    return words[n].start() if len(words) >= -n else 0


def is_negated(text: str, start: int) -> bool:
    """True when the words just before ``text[start:]`` negate it, within the same clause.

    Also when a negating character is glued to it: 不确定 is not 确定, 非马尔可夫 not 马尔可夫.
    """
    before = text[max(0, start - 40):start]
    if before[-1:] in _NEGATION_CHARS and before[-1:] and start < len(text) and _is_han_char(text[start]):
        return True
    clause = _CLAUSE_BREAK.split(before)[-1]
    if _ZH_NEGATION.search(clause[-9:]):
        return True
    words = re.findall(r"[a-z']+", clause.lower())[-4:]
    return any(_EN_NEGATION_WORD.fullmatch(w) for w in words)

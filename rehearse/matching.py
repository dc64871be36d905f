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
  to four characters or Latin terms of up to four letters, then one edit per
  few characters (see :func:`allowed_edits`);
* every match reports its similarity (1 − edits / length).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from rehearse.normalize import Atom, atomize

_SOUND_SYMBOLS: dict[str, str] = {}

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


def allowed_edits(han: int, latin: int) -> int:
    """Edits a phrase of ``han`` Han characters and ``latin`` letters/digits tolerates."""
    if han <= 4:
        h = 0
    elif han <= 8:
        h = 1
    elif han <= 12:
        h = 2
    else:
        h = 3
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
        self._is_end = [False] * (n + 1)
        for i in range(1, n + 1):
            self._is_end[i] = i == n or atoms[i].token != atoms[i - 1].token

    @property
    def text(self) -> str:
        return self._t.text

    def find(self, phrase: str) -> Match | None:
        """The best match of ``phrase`` in the text, or None."""
        p = _Atoms(phrase)
        n = len(p.atoms)
        if n == 0 or not self._t.atoms:
            return None
        k = allowed_edits(p.han, p.latin)
        t = self._t
        total = len(t.atoms)
        best: tuple[int, int, int, str] | None = None  # (edits, start, end, by)
        for s in self._starts:
            for length in range(max(1, n - k), n + k + 1):
                e = s + length
                if e > total:
                    break
                if not self._is_end[e]:
                    continue
                limit = k if best is None else min(k, best[0] - 1)
                if limit < 0:
                    break
                by = "chars"
                d = Levenshtein.distance(p.chars, t.chars[s:e], score_cutoff=limit)
                if d > limit:
                    by = "sound"
                    d = Levenshtein.distance(p.sounds, t.sounds[s:e], score_cutoff=limit)
                if d <= limit:
                    best = (d, s, e, by)
            if best is not None and best[0] == 0:
                break
        if best is None:
            return None
        d, s, e, by = best
        start, end = t.atoms[s].start, t.atoms[e - 1].end
        similarity = 1.0 - d / max(n, e - s)
        if by == "sound":  # same sounds, other characters: say so in the figure
            similarity *= SOUND_DISCOUNT
        return Match(phrase=phrase, text=t.text[start:end], start=start, end=end,
                     similarity=round(similarity, 3), edits=d, by=by)

    def find_any(self, phrases: list[str] | tuple[str, ...]) -> Match | None:
        """The best match among several alternative phrases (highest similarity, then earliest)."""
        best: Match | None = None
        for ph in phrases:
            m = self.find(ph)
            if m is None:
                continue
            if best is None or (m.similarity, -m.start) > (best.similarity, -best.start):
                best = m
        return best

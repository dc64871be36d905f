"""Concepts: wordings that mean the same thing, shared by every question bank.

People rarely use the rubric's own term. They say 冻住 or 参数不更新 for 冻结,
推开 for 推远, "放到三维空间里" for 提升到三维. A *concept* lists those wordings
once, and the meaning pass (:mod:`rehearse.meaning`) tries every rubric phrase
again with each wording of each concept it contains.

The shipped lexicon is ``rehearse/data/concepts.yaml``; a bank may add its own
under a top-level ``concepts:`` key, in the same format::

    concepts:
      - id: freeze                       # [a-z0-9-]+
        say: [冻结, 冻住, 参数不更新, freeze, frozen]
      - id: drop
        say: [丢弃, 丢掉, 去掉, drop]
        alone: false                     # too general to stand alone: reworded only inside longer phrases

A concept with the id of a shipped one adds wordings to it. In rubric phrases
and descriptions, ``@freeze`` stands for every wording of the concept.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rehearse.errors import RubricError
from rehearse.normalize import has_content

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REF_RE = re.compile(r"^@([a-z0-9]+(?:-[a-z0-9]+)*)$")
MAX_VARIANTS = 200  # per phrase: a phrase with several concepts expands to at most this many wordings


def shipped_lexicon_path() -> Path:
    """The lexicon that ships with rehearse."""
    return Path(__file__).resolve().parent / "data" / "concepts.yaml"


@dataclass(frozen=True)
class Lexicon:
    """Concepts by id, each a tuple of equivalent wordings (first = the canonical one).

    ``partial``: the ids of concepts too general to stand alone (``alone: false``):
    a phrase that *is* one of their wordings is not reworded, only longer phrases
    containing one are (丢弃条件 → 去掉条件, but 丢弃 never becomes a bare "drop").
    """

    concepts: Mapping[str, tuple[str, ...]]
    partial: frozenset[str] = frozenset()

    def __post_init__(self) -> None:  # concepts is a dict: hash what it holds, once (lru caches hash it often)
        object.__setattr__(self, "_hash", hash((tuple(sorted(self.concepts.items())), self.partial)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Lexicon) and dict(self.concepts) == dict(other.concepts)
                and self.partial == other.partial)

    def merged(self, extra: "Lexicon") -> "Lexicon":
        """This lexicon with ``extra``'s concepts added (wordings of a shared id are joined)."""
        out = {k: tuple(v) for k, v in self.concepts.items()}
        for cid, words in extra.concepts.items():
            out[cid] = tuple(dict.fromkeys(out.get(cid, ()) + tuple(words)))
        return Lexicon(out, self.partial | extra.partial)

    def resolve(self, phrase: str) -> tuple[str, ...]:
        """``@id`` → every wording of that concept; any other phrase → itself."""
        m = _REF_RE.match(phrase.strip())
        if m is None:
            return (phrase,)
        return self.concepts.get(m.group(1), ())

    def unknown_refs(self, phrases: Iterable[str]) -> list[str]:
        """The ``@id`` references among ``phrases`` that name no concept."""
        return [p for p in phrases if (m := _REF_RE.match(p.strip())) and m.group(1) not in self.concepts]

    def expand(self, phrase: str) -> tuple[str, ...]:
        """Every rewording of ``phrase``: each concept wording it contains replaced by the others.

        The phrase itself comes first. Only whole wordings are replaced (a Latin
        wording never inside a longer word), case-insensitively; a phrase with
        several concepts gives their combinations, at most :data:`MAX_VARIANTS`.
        """
        return _expand(self, phrase)


@functools.lru_cache(maxsize=20000)
def _expand(lex: Lexicon, phrase: str) -> tuple[str, ...]:
    resolved = lex.resolve(phrase)
    if resolved != (phrase,):
        return resolved
    owner = _owner_of(lex, phrase.strip().lower())
    if owner is not None and owner in lex.partial:
        return (phrase,)
    slots = [(m.start(), m.end(), lex.concepts[_owner_of(lex, m.group(0).lower()) or ""])
             for m in _wordings_pattern(lex).finditer(phrase)]
    if not slots:
        return (phrase,)
    out: list[str] = []
    for combo in itertools.product(*(alts for _, _, alts in slots)):
        pieces, cursor = [], 0
        for (s, e, _), word in zip(slots, combo):
            pieces.append(phrase[cursor:s])
            pieces.append(word)
            cursor = e
        pieces.append(phrase[cursor:])
        out.append("".join(pieces).strip())
        if len(out) >= MAX_VARIANTS:
            break
    return tuple(dict.fromkeys([phrase] + out))


@functools.lru_cache(maxsize=64)
def _wordings_pattern(lex: Lexicon) -> re.Pattern[str]:
    """One pattern for every wording, longest first (参数不更新 before 更新); Latin ones whole words only."""
    words = sorted({w for ws in lex.concepts.values() for w in ws}, key=lambda w: (-len(w), w))
    alts = []
    for w in words:
        left = r"(?<![A-Za-z0-9])" if w[:1].isascii() and w[:1].isalnum() else ""
        right = r"(?![A-Za-z0-9])" if w[-1:].isascii() and w[-1:].isalnum() else ""
        alts.append(left + re.escape(w) + right)
    return re.compile("|".join(alts), re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def _owners(lex: Lexicon) -> dict[str, str]:
    """Each wording (lower case) → its concept id."""
    return {w.lower(): cid for cid, words in lex.concepts.items() for w in words}


def _owner_of(lex: Lexicon, word: str) -> str | None:
    return _owners(lex).get(word)


def parse_concepts(raw: Any, where: str, line_of: Any = None) -> tuple[Lexicon, list[str]]:
    """Validate a ``concepts:`` list. Returns the concepts and every problem (``where`` prefixes each)."""
    problems: list[str] = []
    out: dict[str, tuple[str, ...]] = {}
    partial: set[str] = set()

    def line(obj: Any) -> int:
        return line_of(obj) if line_of else 0

    if not isinstance(raw, list):
        return Lexicon({}), [f"{where}:{line(raw)}: concepts: must be a list of {{id, say}} entries"]
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"id", "say", "alone", "note"}:
            problems.append(f"{where}:{line(item)}: concepts: each entry has id and say "
                            "(and optionally alone: false, note)")
            continue
        if not isinstance(item.get("alone", True), bool):
            problems.append(f"{where}:{line(item)}: concepts: alone must be true or false")
            continue
        cid, say = item.get("id"), item.get("say")
        if not isinstance(cid, str) or not _ID_RE.match(cid):
            problems.append(f"{where}:{line(item)}: concepts: id must be lower-case letters, digits and hyphens")
            continue
        if not isinstance(say, list) or len(say) < 2:
            problems.append(f"{where}:{line(item)}: concept '{cid}': say: needs at least two wordings")
            continue
        words: list[str] = [str(w).strip() for w in say if isinstance(w, (str, int, float)) and str(w).strip()]
        bad = [w for w in words if not has_content(w)]
        if len(words) != len(say) or bad:
            problems.append(f"{where}:{line(item)}: concept '{cid}': say: every wording must be non-empty "
                            "text with letters, digits or Chinese characters")
            continue
        if cid in out:
            problems.append(f"{where}:{line(item)}: concept '{cid}': duplicate id")
            continue
        out[cid] = tuple(dict.fromkeys(words))
        if item.get("alone", True) is False:
            partial.add(cid)
    seen: dict[str, str] = {}
    for cid, wordings in out.items():
        for w in wordings:
            other = seen.setdefault(w.lower(), cid)
            if other != cid:
                problems.append(f"{where}: concept '{cid}': say: {w!r} is already a wording of '{other}'")
    return Lexicon(out, frozenset(partial)), problems


@functools.lru_cache(maxsize=1)
def shipped_lexicon() -> Lexicon:
    """The lexicon in ``rehearse/data/concepts.yaml`` (raises :class:`RubricError` if it is broken)."""
    path = shipped_lexicon_path()
    if not path.is_file():
        return Lexicon({})
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lexicon, problems = parse_concepts(data.get("concepts", []), str(path))
    if problems:
        raise RubricError(problems)
    return lexicon

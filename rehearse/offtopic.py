"""An answer about something else: the offline judge's last, answer-level check.

Fresh answers showed where false claims come from: none from full answers, most
from confused ones, and a sixth from answers about another model altogether — a
NeRF explanation given to a 3D-SSGAN question claims "volume rendering", a
Segment Anything answer to a CLIP question claims "zero-shot". Such an answer
says little of the rubric and names models the rubric has never heard of. When
an answer claims at most :data:`MAX_CLAIMS` points and names at least
:data:`MIN_FOREIGN` such models, its claims are shown "unsure — check" (not
counted), with the names as the reason.

A name is a Latin word written like a model's name (a capital or a digit after
its first letter — NeRF, EG3D, T5-XXL, ResNet — or one of
:data:`~rehearse.matching.OTHER_NAMES`); it is foreign when neither it nor a
close spelling of it (Whisper writes CIP for CLIP) appears anywhere in the
question, its reference answer or its rubric.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from rehearse.matching import OTHER_NAMES, Matcher
from rehearse.rubric import Question
from rehearse.scoring import Evidence, Score, coverage_of

MAX_CLAIMS = 2
MIN_FOREIGN = 2
#: a name within this normalised edit similarity of a rubric word is that word misheard, not another model
KNOWN_AT = 0.75

_NAME = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z][A-Za-z0-9\-]*[A-Z0-9][A-Za-z0-9\-]*|[A-Z][a-z]+)(?![A-Za-z0-9])")
#: the field's common stock, named in answers on any topic: backbones and building blocks, datasets, losses,
#: optimisers, hardware and tools. Naming them does not make an answer about another model.
COMMON = re.compile(r"mlps?|cnns?|rnns?|lstms?|gru|resnet\d*|resnext\d*|vits?|vit[bhls]\d*|transformers?|unet|vaes?|"
                    r"gans?|imagenet\d*[k]?|coco|mscoco|laion\d*[bm]?|cifar\d*|mnist|infonce|adamw?|sgd|"
                    r"gpus?|tpus?|cuda|pytorch|tensorflow|numpy|fp16|bf16|int8|relu|softmax|batchnorm|layernorm")
_SHORT = re.compile(r"[0-9A-Z]{1,2}(?:-[0-9A-Z]{1,2})?")  # "3D", "L2", "AI": too short to name a model


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


@lru_cache(maxsize=256)
def _vocabulary(question: Question) -> tuple[str, frozenset[str]]:
    """The words of a right answer: the question, its reference answer and its rubric's phrases (not the
    ``unless`` ones, which name wrong versions and other models), in one normalised string, and the Latin
    words among them."""
    texts = [question.question, question.reference]
    for p in question.points:
        texts += [p.label, *(ph for g in p.groups for ph in g),
                  *(ph for g in p.meaning.groups for ph in g), *p.meaning.learned,
                  *(alt for d in p.meaning.descriptions for part in d for alt in part)]
    blob = " ".join(texts)
    tokens = re.findall(r"[A-Za-z0-9][A-Za-z0-9\-]*", blob)
    words = frozenset(k for t in tokens for k in {_key(t), *map(_key, t.split("-"))} if len(k) >= 3)
    return _key(blob), words


def foreign_names(question: Question, text: str) -> list[re.Match[str]]:
    """The model names in ``text`` that ``question``'s rubric never mentions, first place of each."""
    blob, words = _vocabulary(question)
    seen: set[str] = set()
    out: list[re.Match[str]] = []
    for m in _NAME.finditer(text):
        name, key = m.group(0), _key(m.group(0))
        if (key in seen or _SHORT.fullmatch(name) or len(key) < 3 or COMMON.fullmatch(key)
                or len(re.findall(r"[a-z]", key)) < 2):  # "R16": a number misheard more often than a model
            continue
        if name[0].isupper() and name[1:].islower() and key not in OTHER_NAMES:
            continue  # a capitalised ordinary word ("Then", "Stable")
        seen.add(key)
        if key in blob or any(Levenshtein.normalized_similarity(key, w) >= KNOWN_AT for w in words):
            continue
        out.append(m)
    return out


def off_topic(question: Question, score: Score, matcher: Matcher,
              times: list[tuple[float, float]] | None) -> Score:
    """``score`` with its claims (and any partial credit) made "unsure — check" when the answer is about
    something else."""
    claims = [p for p in score.points if p.covered]
    if not claims or len(claims) > MAX_CLAIMS:
        return score
    names = foreign_names(question, matcher.text)
    if len(names) < MIN_FOREIGN:
        return score
    first = names[0]
    start = end = None
    if times and first.end() <= len(times):
        start, end = round(times[first.start()][0], 2), round(times[first.end() - 1][1], 2)
    why = Evidence(text=", ".join(m.group(0) for m in names[:4]), phrase="", similarity=1.0, start=start, end=end,
                   char_start=first.start(), char_end=first.end(), by="off-topic")
    points = tuple(replace(p, credit=0.0, by="", unsure=why) if p.credit > 0 else p for p in score.points)
    return replace(score, points=points, coverage=coverage_of(points))

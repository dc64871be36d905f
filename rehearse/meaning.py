"""The meaning pass: key points said in other words.

The phrase pass (:mod:`rehearse.scoring`) finds the rubric's own phrases. This
second pass looks again, for every point not yet fully covered, at what the
rubric knows beyond its literal phrases (:class:`rehearse.rubric.PointMeaning`):

* **rewordings** from the concept lexicon (:mod:`rehearse.lexicon`): 冻住 or
  参数不更新 where the rubric says 冻结;
* **halves said apart**: the parts of a gap phrase (``预测…噪声``) said in either
  order anywhere within :data:`WINDOW` words of each other, not only 10
  characters apart;
* **descriptions**: the parts of a ``describe:`` entry all said within
  :data:`WINDOW` words ("key 编码器 … 慢慢地跟着 query 编码器" for a momentum encoder);
* **learned wordings**: the user's own words, from "I said that" corrections.

Last, a covered point whose evidence sits near one of the point's ``unless``
phrases (a common wrong version: "SGD 的 momentum" for a momentum encoder,
"两个模型一起微调" for frozen encoders) is shown as "unsure — check" and not
counted.

Every part is found by the same matcher as the phrases, so it is sound-tolerant
and a negated part ("不是冻结的") does not count. A point covered here reports
``by = "meaning"`` (or ``"learned"``) with the span of the transcript that
expressed it and its time.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import replace

from rehearse.matching import WINDOW, Match, Matcher, clause_head
from rehearse.normalize import split_gap
from rehearse.rubric import Point, Question
from rehearse.scoring import (
    Evidence,
    PointResult,
    Score,
    coverage_of,
    evidence_from,
    fill_groups,
    point_result,
)


def _near(matcher: Matcher, parts: Sequence[Sequence[str]], window: int = WINDOW,
          one_sentence: bool = False) -> Match | None:
    """The tightest span holding a match of every part (any order) within ``window`` words
    (and, with ``one_sentence``, with no sentence end between them).

    Each match in turn is tried as the span's leftmost one, with the nearest
    non-overlapping match of every other part to its right: linear in the
    number of matches, however long the answer.
    """
    found: list[list[Match]] = []
    for alts in parts:
        ms = sorted((m for ph in alts for m in matcher.find_all(ph, strict=True)), key=lambda m: m.start)
        if not ms:
            return None
        found.append(ms)
    starts = [[m.start for m in ms] for ms in found]
    best: tuple[int, Match] | None = None
    for i, ms in enumerate(found):
        for first in ms:
            combo = [first]
            for j, others in enumerate(found):
                if j == i:
                    continue
                pick = None
                at = bisect.bisect_left(starts[j], first.start)
                for cand in others[at: at + _NEAREST]:
                    if matcher.words_between(first.start, cand.end) > window:
                        break
                    if all(cand.end <= m.start or m.end <= cand.start for m in combo):
                        pick = cand
                        break
                if pick is None:
                    break
                combo.append(pick)
            if len(combo) < len(found):
                continue
            start, end = first.start, max(m.end for m in combo)
            width = matcher.words_between(start, end)
            if width > window or (best is not None and width >= best[0]):
                continue
            if one_sentence and _SENTENCE_END.search(matcher.text, start, end):
                continue
            phrase = " + ".join(m.phrase for m in sorted(combo, key=lambda m: m.start))
            best = (width, Match(phrase=phrase, text=matcher.text[start:end], start=start, end=end,
                                 similarity=min(m.similarity for m in combo), edits=sum(m.edits for m in combo),
                                 by="meaning"))
    return best[1] if best else None


#: matches of a part looked at to the right of a span's first word (the nearest ones)
_NEAREST = 8
#: where a sentence ends: a description's parts are said in one sentence ("…into 3D. Each part…" is two)
_SENTENCE_END = re.compile(r"[。！？!?]|\.(?=\s|$)")


def _split_gaps(matcher: Matcher, phrases: Sequence[str]) -> Match | None:
    """A gap phrase (``预测…噪声``) whose parts were said apart, in either order."""
    for ph in phrases:
        parts = split_gap(ph)
        if len(parts) > 1:
            m = _near(matcher, [[p] for p in parts], one_sentence=True)
            if m is not None:
                return m
    return None


def _whole(point: Point, matcher: Matcher) -> Match | None:
    """A learned wording or a description, either of which is worth the whole point."""
    for ph in point.meaning.learned:
        m = matcher.find(ph)
        if m is not None:
            return replace(m, by="learned")
    for desc in point.meaning.descriptions:
        m = _near(matcher, desc, one_sentence=True)
        if m is not None:
            return m
    return None


def review_point(point: Point, result: PointResult, matcher: Matcher,
                 times: list[tuple[float, float]] | None) -> PointResult:
    """The verdict on one point after the meaning pass (unchanged when it finds nothing new)."""
    if result.credit >= 1.0:
        return result
    whole = _whole(point, matcher)
    if whole is not None:
        ev = evidence_from(whole, times)
        return point_result(point, [ev] * len(point.groups), whole.by)
    old = list(result.groups) if point.mode == "all" else [result.evidence]
    spans = [(e.char_start, e.char_end) if e is not None else None for e in old]
    reworded = [(point.groups[i] if i in point.near else ()) + (point.meaning.groups[i] if point.meaning.groups else ())
                for i in range(len(point.groups))]
    found = fill_groups(point, matcher, reworded, spans, strict=True)
    for i, m in enumerate(found):
        if m is None and spans[i] is None and i not in point.near:
            found[i] = _split_gaps(matcher, tuple(point.groups[i]) + tuple(reworded[i]))
    if all(m is None for m in found):
        return result
    evidence = [e if e is not None else (evidence_from(replace(m, by="meaning"), times) if m else None)
                for e, m in zip(old, found)]
    new = point_result(point, evidence, "meaning")
    return replace(new, by=result.by) if result.covered else new


# A misconception said of other or earlier methods is a contrast, not the speaker's claim: "以前那些编辑方法改颜色、
# 换个物体还行，但是……" (the clause before the phrase names the others).
_OTHERS = re.compile(r"(以前|之前|传统|其他|其它|别的|已有|现有|原来|过去|一般)的?[^，。,.；;！？!?]{0,4}(方法|工作|模型|做法|编辑方法)|"
                     r"\b(previous|earlier|older|other|traditional|existing)\s+(methods?|approach(es)?|work|models?)\b",
                     re.IGNORECASE)


# ...or a named one: "像 Prompt-to-Prompt 那种方法，改颜色、换物体可以，但是……"
_LIKE_OTHERS = re.compile(r"像[^，。,.；;！？!?]{1,24}?(那种|这种|那样的|这样的|那类|这类|之类的)的?(方法|工作|模型|做法)?\s*[，,]?\s*$")
# A wrong version named as the problem the method solves: "它的出发点是像素空间上做扩散太贵了".
_TOO_COSTLY = re.compile(r"^[^，。,.；;！？!?]{0,8}?(太贵|太慢|太耗|代价太|成本太|开销太|计算量太|算不起|\s*(?:is|are|was|were)?\s*too\s+(?:expensive|slow|costly))",
                         re.IGNORECASE)


def claimed(matcher: Matcher, m: Match) -> bool:
    """False when the clause holding ``m`` attributes it to other or earlier methods (named in it, or in the
    clause just before when it opens this one), or names it as a cost the method avoids."""
    text = matcher.text
    before = text[max(0, m.start - 40):m.start]
    head = clause_head(text, m.start, reach=40)
    if _OTHERS.search(head) or _LIKE_OTHERS.search(before) or _TOO_COSTLY.match(text[m.end:m.end + 30]):
        return False
    if not head.strip():  # the clause opens with it: the one before may name whose it is
        before = before.rstrip(" ，,")
        return not _OTHERS.search(clause_head(before, len(before)))
    return True


def contradicted(point: Point, result: PointResult, matcher: Matcher,
                 times: list[tuple[float, float]] | None) -> PointResult:
    """A covered point whose evidence sits near one of its ``unless`` phrases (a common wrong
    version of it, not negated, and not said of other or earlier methods) becomes "unsure — check":
    shown with both spans, not counted.

    For an ``all`` point the contradiction takes back only the groups whose evidence it sits near
    ("DDPM 是马尔可夫链 … DDIM 也要走完一千步" keeps 马尔可夫 and loses the slow-sampling half):
    the point is unsure only when what is left is no longer enough to cover it. A ``near`` group
    left alone goes too: it only ever counted beside another group.
    """
    if not point.unless or not result.covered:
        return result
    if point.mode == "all" and result.groups:
        kept: list[Evidence | None] = []
        hit: Match | None = None
        for e in result.groups:
            m = matcher.find_near(point.unless, [(e.char_start, e.char_end)], strict=True,
                                  keep=lambda u: claimed(matcher, u)) if e is not None else None
            hit = hit or m
            kept.append(None if m is not None else e)
        if hit is None:
            return result
        if all(i in point.near for i, e in enumerate(kept) if e is not None):
            kept = [None] * len(kept)  # a near group counts only beside another group, and none is left
        left = point_result(point, kept, result.by)
        if left.covered:
            return left
        return replace(result, credit=0.0, by="", unsure=evidence_from(hit, times))
    spans = [(e.char_start, e.char_end) for e in (result.groups or (result.evidence,)) if e is not None]
    m = matcher.find_near(point.unless, spans, strict=True, keep=lambda u: claimed(matcher, u))
    if m is None:
        return result
    return replace(result, credit=0.0, by="", unsure=evidence_from(m, times))


def review(question: Question, score: Score, matcher: Matcher,
           times: list[tuple[float, float]] | None) -> Score:
    """``score`` with every point re-examined by meaning, then checked for contradictions; coverage recomputed."""
    points = tuple(contradicted(p, review_point(p, r, matcher, times), matcher, times)
                   for p, r in zip(question.points, score.points))
    return replace(score, points=points, coverage=coverage_of(points))


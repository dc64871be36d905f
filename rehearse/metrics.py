"""Accuracy measures used by tests and benchmarks."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from rehearse.normalize import normalize


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after normalisation (punctuation, case, spacing, script ignored).

    English words count one character per letter, so CER is comparable across
    zh and en.
    """
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)


def precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (1.0 where a ratio has nothing to count)."""
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f

"""Judges: who decides which key points an answer covered, behind one small interface.

A judge takes a question and a transcript and returns a :class:`~rehearse.scoring.Score`.
Judges live in a registry, as llm's models do, so a new one (or a test's fake)
reaches the CLI's ``--judge`` choices with one call to :func:`register_judge`.

Shipped judges:

* ``offline`` (default): the phrase pass, then the meaning pass
  (:mod:`rehearse.meaning`). Runs anywhere, nothing downloaded.
* ``phrases``: the phrase pass only (the rubric's literal phrases), for comparison.
* ``llm``: ``offline``, then a chat model the user already runs behind an
  OpenAI-compatible endpoint (:mod:`rehearse.judges.llm`); a point it claims
  counts only when its quote is found in the transcript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rehearse.errors import UsageError
from rehearse.matching import Matcher
from rehearse.rubric import Question
from rehearse.scoring import Score, score, timing
from rehearse.transcript import Transcript

DEFAULT_JUDGE = "offline"


class Judge(Protocol):
    """Decides which key points of ``question`` a transcript covered."""

    name: str

    def judge(self, question: Question, transcript: Transcript) -> Score:
        """The score of ``transcript`` against ``question``'s rubric."""
        ...


class PhraseJudge:
    """The rubric's literal phrases only (sound-tolerant, negation-aware)."""

    name = "phrases"

    def judge(self, question: Question, transcript: Transcript) -> Score:
        """Score by phrases."""
        return score(question, transcript)


class OfflineJudge:
    """Phrases first, then the meaning pass for the points still missing, then the off-topic check
    (:mod:`rehearse.offtopic`)."""

    name = "offline"

    def judge(self, question: Question, transcript: Transcript) -> Score:
        """Score by phrases, then by meaning."""
        from rehearse.meaning import review
        from rehearse.offtopic import off_topic

        matcher = Matcher(transcript.text)
        times = timing(transcript)
        return off_topic(question, review(question, score(question, transcript, matcher), matcher, times), matcher, times)


def _llm() -> Judge:
    from rehearse.judges.llm import LLMJudge

    return LLMJudge.from_env()


_REGISTRY: dict[str, Callable[[], Judge]] = {"offline": OfflineJudge, "phrases": PhraseJudge, "llm": _llm}


def register_judge(name: str, factory: Callable[[], Judge]) -> None:
    """Make a judge available by name (``--judge NAME``); a later registration replaces an earlier one."""
    _REGISTRY[name] = factory


def judge_names() -> list[str]:
    """The registered judges, default first."""
    return sorted(_REGISTRY, key=lambda n: (n != DEFAULT_JUDGE, n))


def get_judge(name: str = DEFAULT_JUDGE) -> Judge:
    """A judge by name; one clear error for an unknown name."""
    factory = _REGISTRY.get(name)
    if factory is None:
        raise UsageError(f"Unknown judge '{name}'. Choose one of: {', '.join(judge_names())}.")
    return factory()

"""Questions read into the speech cache before a session: ``rehearse voices --prepare``.

A question that was spoken before (or made ahead) is a cache hit and starts playing at once (0.14 s in
the README's measurement); one never spoken waits for Kokoro to make its first clause, and most
questions are one clause (12 s median on a loaded 2-core machine). Practice makes each next question
while the current one is answered, and the next session's first ones while the last is answered
(:meth:`rehearse.practice.Session.run`); :func:`prepare` makes a whole selection ahead, so even a first
session, or one picked differently, starts speaking at once.

Each question is made on the speaker's worker and cached only once whole (written beside the cache,
then renamed); Ctrl-C stops at once: the clip being made is dropped (Kokoro's run is interrupted) and
what was finished stays cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rehearse.errors import RehearseError, TTSError
from rehearse.rubric import Question
from rehearse.tts import Speaker, no_voice_notice


@dataclass
class Prepared:
    """What :func:`prepare` did, question ids in the order it went through them."""

    made: list[str] = field(default_factory=list)  # synthesised now
    cached: list[str] = field(default_factory=list)  # already in the cache
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id, one-line reason)
    no_voice: dict[str, list[str]] = field(default_factory=dict)  # notice -> ids in a language with no voice here
    interrupted: bool = False  # Ctrl-C: the rest was not made


#: ``progress(done, total, question, what, seconds)``: what is "made", "cached" or the failure's one line
Progress = Callable[[int, int, Question, str, float], None]


def unspoken(speaker: Speaker, questions: Sequence[Question]) -> dict[str, str]:
    """The languages of ``questions`` nothing here reads aloud, each with its one-line notice; a
    :class:`TTSError` (that line) when it is all of them."""
    langs = sorted({q.language for q in questions})
    silent = {lang: no_voice_notice(lang) for lang in langs if speaker.engine_for(lang) is None}
    if langs and len(silent) == len(langs):
        raise TTSError(silent[langs[0]])
    return silent


def prepare(speaker: Speaker, questions: Sequence[Question], progress: Progress | None = None) -> Prepared:
    """Read every question of ``questions`` not yet cached into ``speaker``'s cache, in order.

    A language nothing here reads is skipped (its notice in :attr:`Prepared.no_voice`); if that is every
    question, it is one :class:`TTSError`. A text the engine cannot read is a failure of that question
    only. Ctrl-C ends it (``interrupted``), with the speaker closed and nothing half made cached."""
    silent = unspoken(speaker, questions)
    speaker.cache.sweep()  # scratch files of a process killed half way, long ago
    result = Prepared()
    try:
        for n, q in enumerate(questions, 1):
            if q.language in silent:
                result.no_voice.setdefault(silent[q.language], []).append(q.id)
                continue
            t0 = time.monotonic()
            try:
                if speaker.cached(q.question, q.language) is not None:
                    result.cached.append(q.id)
                    what = "cached"
                else:
                    speaker.audio_for(q.question, q.language)
                    result.made.append(q.id)
                    what = "made"
            except RehearseError as exc:
                result.failed.append((q.id, str(exc)))
                what = str(exc)
            if progress is not None:
                progress(n, len(questions), q, what, time.monotonic() - t0)
    except KeyboardInterrupt:
        speaker.close()  # the clip being made is dropped, now
        result.interrupted = True
    return result


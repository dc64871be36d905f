"""What the pages show, computed from the library and the history: plain data for the templates.

No HTML here: the templates render these dicts and lists (autoescaped), so
nothing a user said or typed reaches the page unescaped.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rehearse.fluency import Fluency
from rehearse.normalize import is_han
from rehearse.records import AttemptRecord, PointRecord
from rehearse.transcript import Transcript, char_times

BY_WORDS = {"chars": "by characters", "sound": "by sound", "meaning": "by meaning",
            "learned": "by a wording you taught it", "llm": "by the language model"}


@dataclass
class Run:
    """A stretch of the transcript: plain, or the evidence of one or more points."""

    tokens: list[tuple[str, float | None]] = field(default_factory=list)  # (text, start time)
    points: list[dict[str, Any]] = field(default_factory=list)            # the points it is evidence for

    @property
    def title(self) -> str:
        return "; ".join(f"{p['label']} — matched {p['how']}" for p in self.points)

    @property
    def kind(self) -> str:
        """The CSS classes of the highlight: how the first point matched, and whether it was only partly said."""
        if not self.points:
            return ""
        return f"by-{self.points[0]['by']}" + (" partly" if all(p["partly"] for p in self.points) else "")


def _tokens(text: str) -> list[tuple[int, int]]:
    """Character spans of the clickable words: a Han character each, a Latin word, a digit run, a mark."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isascii() and (c.isalnum() or c in "'-_"):
            j = i + 1
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] in "'-_."):
                j += 1
            out.append((i, j))
            i = j
        else:
            out.append((i, i + 1))
            i += 1
    return out


def locate(text: str, ev: dict[str, Any], times: list[tuple[float, float]] | None) -> tuple[int, int] | None:
    """Where a point's evidence sits in the transcript: the occurrence nearest its time."""
    needle = str(ev.get("text") or "")
    if not needle:
        return None
    spots, at = [], text.find(needle)
    while at >= 0:
        spots.append(at)
        at = text.find(needle, at + 1)
    if not spots:
        return None
    start = ev.get("start")
    if times and isinstance(start, (int, float)):
        best = min(spots, key=lambda s: abs(times[s][0] - start))
    else:
        best = spots[0]
    return best, best + len(needle)


def marked_transcript(transcript: Transcript | None, points: Sequence[PointRecord]) -> list[Run]:
    """The transcript as runs of words, the evidence of each covered point marked in place."""
    if transcript is None or not transcript.text:
        return []
    text = transcript.text
    timed = transcript.engine != "text" and any(s.end > 0 for s in transcript.segments)
    times = char_times(transcript) if timed else None
    owner: list[list[dict[str, Any]]] = [[] for _ in text]
    for p in points:
        partly = not p.covered and p.human is None and p.credit > 0  # some groups of an `all` point were said
        if p.evidence is None or not (p.covered or partly):
            continue
        span = locate(text, p.evidence, times)
        if span is None:
            continue
        by = str(p.evidence.get("by") or "chars")
        info = {"id": p.id, "label": p.label, "by": by, "partly": partly,
                "how": ("partly said, " if partly else "") + BY_WORDS.get(by, by)
                + (f" ({float(p.evidence.get('similarity') or 0):.0%})" if by in ("chars", "sound") else "")}
        for i in range(*span):
            owner[i].append(info)
    runs: list[Run] = []
    for a, b in _tokens(text):
        who = owner[a]
        if not runs or [p["id"] for p in runs[-1].points] != [p["id"] for p in who]:
            runs.append(Run(points=list(who)))
        runs[-1].tokens.append((text[a:b], round(times[a][0], 2) if times and not text[a].isspace() else None))
    return runs


def fluency_rows(data: dict[str, Any], language: str, baseline: dict[str, float]) -> list[dict[str, str]]:
    """The fluency figures of one answer, each with its band, verdict and the user's usual value."""
    f = Fluency.from_dict(data)
    if not f.timed:
        return []
    checks = {key: (band, verdict) for key, _v, band, verdict in f.checks(language)}

    def row(name: str, value: str, key: str = "", base: str = "", fmt: str = "{:.0f}") -> dict[str, str]:
        band, verdict = checks.get(key, (None, ""))
        usual = baseline.get(base) if base else None
        text = band.text() + (" × target" if key == "length_ratio" else "") if band else ""
        return {"name": name, "value": value, "band": text, "verdict": verdict,
                "usual": fmt.format(usual) if usual is not None else ""}

    rows = [row("answer length", f"{f.answer_s:.0f} s" + (f" of {f.target_seconds:.0f} s target"
                                                           if f.target_seconds else ""), "length_ratio")]
    if language == "zh":
        rows.append(row("speech rate", f"{f.speech_rate:.0f} {f.rate_unit}", "rate_zh", "speech_rate"))
    else:
        rows.append(row("speech rate", f"{f.en_per_min:.0f} wpm", "rate_en", "en_per_min"))
    fillers = ", ".join(f"{k}×{v}" for k, v in f.fillers.items()) or "none"
    rows.append(row("fillers", f"{f.fillers_per_min:.1f}/min ({fillers})", "fillers_per_min", "fillers_per_min",
                    "{:.1f}"))
    rows.append(row("pauses", f"{f.pauses} · {f.long_pauses} long · longest {f.longest_pause_s:.1f} s", "",
                    "longest_pause_s", "{:.1f}"))
    if f.time_to_first_word_s is not None:
        rows.append(row("first word after", f"{f.time_to_first_word_s:.1f} s", "time_to_first_word_s"))
    return rows


def png_data_uri(png: bytes) -> str:
    """A PNG inline (no separate request, nothing external)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def attempt_summary(a: AttemptRecord) -> dict[str, Any]:
    """One line of the past-attempts list."""
    return {"id": a.id, "when": a.created_at.astimezone().strftime("%Y-%m-%d %H:%M"), "question": a.question_id,
            "status": a.status, "coverage": pct(a.coverage), "has_audio": a.audio_path is not None,
            "text": a.text[:80] + ("…" if len(a.text) > 80 else "")}


def is_cjk(text: str) -> bool:
    return any(is_han(c) for c in text)

"""Human-readable reports (rich) for assessments, transcripts and questions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rehearse.assess import Assessment
from rehearse.fluency import Fluency
from rehearse.records import unsure_reason
from rehearse.rubric import Question
from rehearse.transcript import Transcript

if TYPE_CHECKING:
    from rehearse.corrections import CorrectionResult
    from rehearse.practice import Summary
    from rehearse.progress import QuestionProgress
    from rehearse.store import AttemptRecord

_STATUS = {"covered": ("✔", "green"), "partial": ("◐", "yellow"), "missed": ("✘", "red"), "unsure": ("?", "yellow")}
#: how a point was found, as the report says it (phrases by characters say nothing)
_BY = {"sound": "by sound", "meaning": "by meaning", "learned": "your wording", "llm": "LLM, quote checked"}


def _fmt_time(t: float | None) -> str:
    if t is None:
        return ""
    m, s = divmod(t, 60)
    return f"{int(m)}:{s:04.1f}"


def coverage_bar(coverage: float, width: int = 24) -> Text:
    """A coloured bar with the percentage."""
    filled = round(coverage * width)
    colour = "green" if coverage >= 0.8 else "yellow" if coverage >= 0.5 else "red"
    bar = Text("█" * filled, style=colour)
    bar.append("░" * (width - filled), style="dim")
    bar.append(f" {coverage * 100:.0f}%", style=f"bold {colour}")
    return bar


def render_assessment(a: Assessment, console: Console, *, show_reference: bool = True,
                      baseline: dict[str, float] | None = None) -> None:
    """Print the full report of one answer (``baseline``: the user's usual fluency figures)."""
    q = a.question
    console.print(Text(f"{q.id} · {q.question}", style="bold"))
    if q.draft:
        console.print(Text("This question's rubric is a draft: fill in its key points in "
                           f"{q.source} before trusting the score.", style="yellow"))
    if a.no_speech:
        console.print(Text("No speech detected in the recording: coverage 0.", style="bold red"))
    elif a.transcript.text:
        console.print(Panel(a.transcript.text, title="transcript", title_align="left", border_style="dim"))
    line = Text("coverage ")
    line.append_text(coverage_bar(a.score.coverage))
    line.append(f"   {len(a.score.covered)}/{len(a.score.points)} key points")
    console.print(line)

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("", width=2)
    table.add_column("key point", overflow="fold")
    table.add_column("heard", overflow="fold")
    table.add_column("at", justify="right")
    for p in a.score.points:
        mark, colour = _STATUS[p.status]
        heard = Text()
        at = ""
        for ev in (e for e in (p.groups or (p.evidence,)) if e is not None):
            if heard:
                heard.append(" · ")
            heard.append(f"“{ev.text}”", style=colour)
            if ev.phrase.lower() != ev.text.lower():
                heard.append(f" ≈ {ev.phrase}", style="dim")
            if ev.by in _BY:
                heard.append(f" ({_BY[ev.by]})", style="dim")
        if p.evidence is not None:
            at = _fmt_time(p.evidence.start)
        if p.missing:
            heard.append(("  missing: " if p.evidence else "missing: ") + ", ".join(p.missing), style="dim")
        if p.unsure is not None:
            heard.append(f"  unsure — check: {unsure_reason(p.unsure.text, p.unsure.by)}", style="yellow")
        weight = f" ×{p.weight:g}" if p.weight != 1 else ""
        table.add_row(Text(mark, style=colour), Text(p.label + weight), heard, at)
    console.print(table)

    if a.audio_path is not None and not a.no_speech:
        render_fluency(a.fluency, console, language=q.language, baseline=baseline)
    missed = [p for p in a.score.missed if p.unsure is None]
    unsure = [p for p in a.score.points if p.unsure is not None]
    if missed:
        console.print(Text("missed: " + "; ".join(p.label for p in missed), style="red"))
    if unsure:
        console.print(Text("unsure — check (not counted): " + "; ".join(p.label for p in unsure), style="yellow"))
    if show_reference and q.reference and missed:
        console.print(Panel(q.reference, title="reference answer", title_align="left", border_style="blue"))


def render_transcript(t: Transcript, console: Console) -> None:
    """Print a transcript with segment times."""
    if not t.has_speech:
        console.print(Text("No speech detected.", style="bold red"))
        return
    for s in t.segments:
        console.print(Text(f"[{_fmt_time(s.start)} → {_fmt_time(s.end)}] ", style="dim") + Text(s.text))


def render_question(q: Question, console: Console) -> None:
    """Print a question with its rubric and reference."""
    head = Text(f"{q.id}", style="bold")
    head.append(f"  ({q.bank}, {q.language}" + (f", tags: {', '.join(q.tags)}" if q.tags else "") +
                (f", target {q.target_seconds:.0f} s" if q.target_seconds else "") + ")", style="dim")
    body: list = [Text(q.question, style="bold")]
    if q.draft:
        body.append(Text(f"DRAFT: this rubric is a skeleton for you to fill in ({q.source}).", style="yellow"))
    for p in q.points:
        weight = f" ×{p.weight:g}" if p.weight != 1 else ""
        body.append(Text(f"• {p.id}: {p.label}{weight}"))
        if p.mode == "any":
            body.append(Text("    any of: " + " | ".join(p.groups[0]), style="dim"))
        else:
            for i, g in enumerate(p.groups, 1):
                near = " (near the others)" if i - 1 in p.near else ""
                body.append(Text(f"    all {i}/{len(p.groups)}{near}: " + " | ".join(g), style="dim"))
        for d in p.meaning.descriptions:
            body.append(Text("    described as: " + " + ".join("/".join(part[:3]) for part in d), style="dim"))
        if p.unless:
            body.append(Text("    unsure if also said: " + " | ".join(p.unless), style="dim"))
        if p.meaning.learned:
            body.append(Text("    learned from you: " + " | ".join(p.meaning.learned), style="cyan"))
    if q.reference:
        body.append(Panel(q.reference, title="reference", title_align="left", border_style="blue"))
    console.print(Panel(Group(*body), title=head, title_align="left"))


_VERDICT = {"ok": ("✔", "green"), "low": ("↓", "yellow"), "high": ("↑", "yellow")}


def _band_note(f: Fluency, language: str, name: str, baseline: dict[str, float] | None,
               base_key: str, fmt: str = "{:.0f}") -> Text:
    """" · band 180–260 ✔ · you usually 225" for one figure."""
    note = Text()
    for key, _value, band, verdict in f.checks(language):
        if key == name:
            mark, colour = _VERDICT[verdict]
            note.append(f"   band {band.text()} ", style="dim")
            note.append(mark, style=colour)
    if baseline and baseline.get(base_key) is not None:
        note.append(f"   you usually {fmt.format(baseline[base_key])}", style="dim")
    return note


def render_fluency(f: Fluency, console: Console, *, language: str = "zh",
                   baseline: dict[str, float] | None = None) -> None:
    """Print the fluency figures of one answer with reference bands and the user's baseline.

    ``baseline`` maps figure names (``speech_rate``, ``en_per_min``,
    ``fillers_per_min``, ``longest_pause_s``) to the user's usual values.
    """
    if not f.timed:
        return
    head = Text(f"fluency  {f.answer_s:.1f} s answer")
    if f.target_seconds:
        head.append(f" (target {f.target_seconds:.0f} s, {f.length_ratio or 0:.2f}×)")
        head.append_text(_band_note(f, language, "length_ratio", None, "", "{:.2f}"))
    if f.time_to_first_word_s is not None:
        head.append(f" · first word after {f.time_to_first_word_s:.1f} s")
    console.print(head)
    if language == "zh":
        rate = Text(f"  rate     {f.speech_rate:.0f} {f.rate_unit} ({f.han_per_min:.0f} 字/min + "
                    f"{f.en_per_min:.0f} English words/min) · articulation {f.articulation_rate:.0f}")
        rate.append_text(_band_note(f, language, "rate_zh", baseline, "speech_rate"))
    else:
        rate = Text(f"  rate     {f.en_per_min:.0f} wpm · articulation {f.articulation_rate:.0f} {f.rate_unit}")
        rate.append_text(_band_note(f, language, "rate_en", baseline, "en_per_min"))
    console.print(rate)
    fillers = ", ".join(f"{k}×{v}" for k, v in f.fillers.items()) or "none"
    line = Text(f"  fillers  {f.filler_count} ({fillers}) = {f.fillers_per_min:.1f}/min")
    line.append_text(_band_note(f, language, "fillers_per_min", baseline, "fillers_per_min", "{:.1f}"))
    console.print(line)
    if f.filled_pauses is not None:
        console.print(filled_pause_line(f))
    console.print(f"  pauses   {f.pauses} ≥ 0.25 s · {f.long_pauses} long ≥ 1 s · longest {f.longest_pause_s:.1f} s")
    if f.repetitions:
        reps = ", ".join(f"{k}×{v}" for k, v in f.repeated.items())
        console.print(f"  repeats  {f.repetitions} ({reps})")


def filled_pause_line(f: Fluency, limit: int = 8) -> Text:
    """Filled pauses heard in the audio (beside the transcript's filler count), with their times."""
    times = f.filled_pause_times or []
    untranscribed = sum(1 for e in times if e[3] == "none")
    when = ", ".join(f"{int(e[0]) // 60}:{e[0] % 60:04.1f}" for e in times[:limit]) + (" …" if len(times) > limit else "")
    line = Text(f"  filled pauses (from the audio) {f.filled_pauses} = {f.filled_pauses_per_min or 0:.1f}/min")
    if times:
        line.append(f" at {when}", style="dim")
    if untranscribed:
        line.append(f" · {untranscribed} not in the transcript", style="dim")
    return line


# --------------------------------------------------------------------------- history and progress


def _local(dt: datetime) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M")


def render_history(attempts: Sequence[AttemptRecord], console: Console) -> None:
    """Print a table of stored attempts (``rehearse history``), oldest first."""
    if not attempts:
        console.print("No attempts stored yet: 'rehearse score' and 'rehearse practice' record them.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    right = {"#", "coverage", "rate", "fillers/min"}
    for col in ("#", "time", "question", "status", "coverage", "rate", "fillers/min", "missed"):
        table.add_column(col, justify="right" if col in right else "left", overflow="fold", no_wrap=col != "missed")
    for a in attempts:
        f = a.fluency
        timed = bool(f.get("timed"))
        rate = f.get("speech_rate" if a.language == "zh" else "en_per_min") if timed else None
        missed = ", ".join(p.id for p in a.result.missed) if a.result else ""
        table.add_row(str(a.id), _local(a.created_at), a.question_id, a.status,
                      "" if a.coverage is None else f"{a.coverage * 100:.0f}%",
                      "" if rate is None else f"{rate:.0f}",
                      f"{f.get('fillers_per_min', 0):.1f}" if timed else "", missed)
    console.print(table)
    console.print(f"{len(attempts)} attempt{'s' if len(attempts) != 1 else ''}")


def render_progress(progress: Sequence[QuestionProgress], attempts: Sequence[AttemptRecord], console: Console, *,
                    language: str = "zh", misses: int = 5) -> None:
    """Print per-question coverage trends with sparklines, the most-missed points and fluency trends."""
    from rehearse.fluency import BANDS
    from rehearse.progress import fluency_trends, most_missed, sparkline

    if not progress:
        console.print("No scored answers yet: answer a question with 'rehearse score' or 'rehearse practice'.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("question", "answers", "coverage", "first", "last", "best", "trend"):
        table.add_column(col, justify="right" if col in ("answers", "first", "last", "best") else "left")
    colours = {"improving": "green", "slipping": "yellow"}
    for p in progress:
        table.add_row(p.question_id, str(len(p.attempts)), p.sparkline, f"{p.first * 100:.0f}%",
                      f"{p.last * 100:.0f}%", f"{p.best * 100:.0f}%",
                      Text(p.trend, style=colours.get(p.trend, "")))
    console.print(table)
    top = most_missed(progress, limit=misses, min_answers=1)
    if top:
        console.print(Text("most missed", style="bold"))
        for m in top:
            console.print(f"  {m.sentence()}")
    trends = fluency_trends(attempts)
    rate_key, band = ("speech_rate", BANDS["rate_zh"]) if language == "zh" else ("en_per_min", BANDS["rate_en"])
    rates, fillers = trends[rate_key][-20:], trends["fillers_per_min"][-20:]
    if rates:
        console.print(Text("fluency", style="bold") + Text(f" (last {len(rates)} spoken answers)", style="dim"))
        unit = "units/min" if language == "zh" else "wpm"
        console.print(f"  rate     {sparkline(rates)}  {rates[-1]:.0f} {unit}   band {band.text()}")
        console.print(f"  fillers  {sparkline(fillers, 0)}  {fillers[-1]:.1f}/min   band "
                      f"{BANDS['fillers_per_min'].text()}")
        filled = trends["filled_pauses_per_min"][-20:]
        if filled:
            console.print(f"  filled pauses (audio)  {sparkline(filled, 0)}  {filled[-1]:.1f}/min")
        pauses = trends["longest_pause_s"][-20:]
        console.print(f"  longest pause  {sparkline(pauses, 0)}  {pauses[-1]:.1f} s")


def correction_line(r: "CorrectionResult") -> str:
    """One line saying what a correction stored and changed."""
    verdict = "you said it" if r.verdict == "said" else "it does not count"
    line = f"attempt #{r.attempt_id}, '{r.point_id}': {verdict} (the scorer said {r.machine_status})"
    if r.coverage_before is not None and r.coverage_after is not None and r.coverage_after != r.coverage_before:
        line += f"; coverage {r.coverage_before:.0%} → {r.coverage_after:.0%}"
    if r.learned:
        line += f"; learned “{r.span}” for this point"
    elif r.span:
        line += f"; “{r.span}” was already a learned wording"
    return line


# --------------------------------------------------------------------------- the practice screen

METER_WIDTH = 30


def question_panel(q: Question, index: int, total: int) -> Panel:
    """The question, its tags and target time."""
    body = Text(q.question, style="bold")
    meta = [f"{q.bank}" if q.bank else "", f"tags: {', '.join(q.tags)}" if q.tags else "",
            f"target {q.target_seconds:.0f} s" if q.target_seconds else "", q.language]
    return Panel(Group(body, Text(" · ".join(m for m in meta if m), style="dim")),
                 title=f"question {index}/{total} · {q.id}", title_align="left", border_style="cyan")


def meter_line(elapsed: float, level_dbfs: float, target: float | None, max_seconds: float | None,
               warning: str | None) -> Text:
    """One line: ● REC 0:12 / 2:00  ██████░░░░  -23 dBFS   Enter = stop."""
    fill = max(0, min(METER_WIDTH, round((level_dbfs + 60) / 60 * METER_WIDTH)))
    colour = "green" if level_dbfs > -30 else "yellow" if level_dbfs > -45 else "dim"
    t = Text("● REC ", style="bold red")
    limit = target or max_seconds
    t.append(f"{int(elapsed // 60)}:{int(elapsed % 60):02d}")
    if limit:
        t.append(f" / {int(limit // 60)}:{int(limit % 60):02d}", style="dim")
    t.append("  ")
    t.append("█" * fill, style=colour)
    t.append("░" * (METER_WIDTH - fill), style="dim")
    t.append(f" {level_dbfs:5.0f} dBFS   Enter = stop, Ctrl-C = interrupt", style="dim")
    if warning:
        t.append(f"\n{warning}", style="bold yellow")
    return t


def comparison(previous: Sequence[AttemptRecord], a: Assessment) -> Group | Text:
    """This attempt against the earlier scored attempts at the same question."""
    scored = [p for p in previous if p.status == "scored" and p.coverage is not None]
    if not scored:
        return Text("First scored attempt at this question.", style="dim")
    table = Table(title="compared with your earlier attempts", title_justify="left", box=None,
                  header_style="bold")
    for col in ("when", "coverage", "duration", "rate", "fillers"):
        table.add_column(col, justify="right" if col != "when" else "left")
    for p in scored[-5:]:
        f = p.fluency
        table.add_row(p.created_at.astimezone().strftime("%Y-%m-%d %H:%M"), f"{p.coverage:.0%}",
                      f"{f.get('duration_s', 0):.0f} s", f"{f.get('speech_rate', 0):.0f}",
                      str(f.get("filler_count", "")))
    now = a.fluency
    table.add_row(Text("now", style="bold"), Text(f"{a.score.coverage:.0%}", style="bold"),
                  f"{now.duration_s:.0f} s", f"{now.speech_rate:.0f}", str(now.filler_count))
    last, best = scored[-1].coverage or 0.0, max(p.coverage or 0.0 for p in scored)
    delta = a.score.coverage - last
    trend = Text(f"{delta:+.0%} vs last attempt, best so far {max(best, a.score.coverage):.0%}",
                 style="green" if delta > 0 else "red" if delta < 0 else "dim")
    return Group(table, trend, *point_changes(scored[-1], a))


def point_changes(last: AttemptRecord, a: Assessment) -> list[Text]:
    """Key points covered now but missed last time, dropped since, and missed both times."""
    before = {p.id: p.covered for p in (last.result.points if last.result else ())}
    lines = []
    for title, style, now, then in (("now covered", "green", True, False), ("dropped since last time", "red", False, True),
                                    ("missed again", "yellow", False, False)):
        labels = [p.label for p in a.score.points if p.covered is now and before.get(p.id) is then]
        if labels:
            lines.append(Text(f"{title}: " + "；".join(labels), style=style))
    return lines


def summary_table(s: "Summary") -> Table:
    """The session summary."""
    table = Table(title="session summary", title_justify="left", header_style="bold", box=None)
    for col in ("#", "question", "status", "coverage", "duration", "attempt"):
        table.add_column(col)
    for i, o in enumerate(s.outcomes, 1):
        cov = coverage_bar(o.assessment.score.coverage, width=12) if o.assessment and o.status == "scored" \
            else Text("—", style="dim")
        dur = f"{o.assessment.transcript.duration:.0f} s" if o.assessment else ""
        table.add_row(str(i), o.question.id, o.status, cov, dur, f"#{o.attempt_id}" if o.attempt_id else "")
    return table

"""Commands over the history: history, progress, rescore, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from rehearse.cli import (
    BankOpt,
    BeamOpt,
    EngineOpt,
    ModelOpt,
    NoShippedOpt,
    _library,
    _print_json,
    app,
    cli_errors,
    out,
    write_stdout,
)

SinceOpt = Annotated[Optional[str], typer.Option(
    "--since", help="Only attempts from this time on: a date (2025-03-01), a date and time, or an age (7d, 2w, 12h).")]
QuestionFilterOpt = Annotated[Optional[str], typer.Option("--question", "-q", help="Only this question id.")]
TagFilterOpt = Annotated[Optional[str], typer.Option("--tag", help="Only questions with this tag (as answered).")]


def _parse_since(value: Optional[str]):
    """A --since value as a datetime (aware) or date; UsageError if it is neither."""
    import re
    from datetime import date, datetime, timedelta

    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        try:
            delta = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
            return datetime.now().astimezone() - delta
        except OverflowError:
            return date(1970, 1, 1)  # older than any answer: everything
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(value.strip())
        except ValueError:
            continue
    from rehearse.errors import UsageError

    raise UsageError(f"--since {value!r}: give a date (2025-03-01), a date and time (2025-03-01T09:00) "
                     "or an age (7d, 2w, 12h).")


def _no_attempts_note(store, question: Optional[str], filtered: bool) -> str:
    """Why nothing was found, with stored question ids close to a mistyped --question."""
    from rapidfuzz import process

    ids = store.question_ids()
    if question and question not in ids:
        close = [m[0] for m in process.extract(question, ids, limit=3, score_cutoff=60)]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        return f"No answers to '{question}' stored yet.{hint}"
    if filtered and ids:
        return "No attempts match these filters."
    return "No attempts stored yet: 'rehearse score' and 'rehearse practice' record them."


def _main_language(attempts) -> str:
    from collections import Counter

    langs = Counter(a.language for a in attempts)
    return langs.most_common(1)[0][0] if langs else "zh"


@app.command(rich_help_panel="History and progress")
@cli_errors
def history(
    question: QuestionFilterOpt = None,
    since: SinceOpt = None,
    tag: TagFilterOpt = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print a JSON list of attempts (question, time, coverage, fluency), not a table.")] = False,
) -> None:
    """Show stored attempts: when, which question, coverage, speech rate, fillers and missed points."""
    from rehearse.history import attempt_to_dict
    from rehearse.report import render_history
    from rehearse.store import Store

    start = _parse_since(since)
    with Store.open() as store:
        attempts = store.attempts(question=question, since=start, tag=tag)
        if not attempts and not as_json:
            out.print(_no_attempts_note(store, question, bool(question or since or tag)))
            return
    if as_json:
        _print_json([attempt_to_dict(a) for a in attempts])
    else:
        render_history(attempts, out)


@app.command(rich_help_panel="History and progress")
@cli_errors
def progress(
    question: QuestionFilterOpt = None,
    tag: TagFilterOpt = None,
    since: SinceOpt = None,
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", help="Also write a PNG chart of coverage and fluency over time to this file.")] = None,
    html: Annotated[Optional[Path], typer.Option(
        "--html", help="Also write a self-contained HTML report (charts and latest transcripts) to this file.")] = None,
) -> None:
    """Show progress: coverage per question over attempts, and its trend.

    Also lists the key points you miss most and fluency trends (terminal
    sparklines); optionally writes a PNG chart and an HTML report.
    """
    from rehearse.errors import UsageError
    from rehearse.files import write_text
    from rehearse.progress import question_progress
    from rehearse.report import render_progress
    from rehearse.store import Store

    if question and tag:
        raise UsageError("give --question or --tag, not both.")
    start = _parse_since(since)
    with Store.open() as store:
        attempts = store.attempts(question=question, since=start, tag=tag)
        if not attempts:
            out.print(_no_attempts_note(store, question, bool(question or since or tag)))
            return
    prog = question_progress(attempts)
    language = _main_language(attempts)
    render_progress(prog, attempts, out, language=language)
    if plot is not None or html is not None:
        from rehearse.files import write_bytes
        from rehearse.plots import coverage_png, progress_png

        overview = progress_png(prog, attempts, language=language)
        if plot is not None:
            typer.echo(f"wrote {write_bytes(plot, overview)}")
        if html is not None:
            from rehearse.html_report import render_html

            charts = [("coverage and fluency over time", overview)]
            charts += [(f"{p.question_id}: coverage per answer", coverage_png(p))
                       for p in prog[:10] if len(p.attempts) > 1]
            typer.echo(f"wrote {write_text(html, render_html(prog, attempts, charts=charts, language=language))}")


@app.command(rich_help_panel="History and progress")
@cli_errors
def rescore(
    question: QuestionFilterOpt = None,
    all_questions: Annotated[bool, typer.Option("--all", help="Rescore the attempts of every question.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Rescore even attempts already scored against the current rubric.")] = False,
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
    beam_size: BeamOpt = 5,
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
) -> None:
    """Score stored transcripts again after a rubric edit, keeping the old results.

    Only attempts scored against an older version of the rubric are rescored
    (unless --force). Attempts saved without a result are transcribed from
    their recording first.
    """
    from rehearse.errors import UsageError
    from rehearse.history import rescore as rescore_attempts
    from rehearse.store import Store

    if bool(question) == all_questions:
        raise UsageError("give --question ID or --all.")
    lib = _library(bank, no_shipped)
    with Store.open() as store:
        eng = None
        if store.attempts(question=question, status="not_scored"):
            from rehearse.engines import get_engine

            eng = get_engine(engine, model)
            eng.load()
        s = rescore_attempts(store, lib, question=question, force=force, engine=eng, beam_size=beam_size)
    out.print(f"rescored {len(s.rescored)} attempt{'s' if len(s.rescored) != 1 else ''}; "
              f"{s.unchanged} already up to date")
    if s.transcribed:
        out.print(f"transcribed and scored {len(s.transcribed)} attempts saved without a result")
    for qid, n in sorted(s.missing_question.items()):
        out.print(f"skipped {n} attempt{'s' if n != 1 else ''} of '{qid}': not in the loaded banks (use --bank)")
    if s.missing_audio:
        out.print(f"skipped {len(s.missing_audio)} unscored attempts whose recording is missing: "
                  + ", ".join(f"#{i}" for i in s.missing_audio))


@app.command(rich_help_panel="History and progress")
@cli_errors
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv (one row per attempt) or json (everything).")] = "csv",
    out_path: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export every stored attempt (CSV: current result per row; JSON: all results, points and segments)."""
    from rehearse.errors import UsageError
    from rehearse.files import write_text
    from rehearse.history import export_csv, export_json
    from rehearse.store import Store

    if fmt not in ("csv", "json"):
        raise UsageError(f"--format must be csv or json, not {fmt!r}.")
    with Store.open() as store:
        attempts = store.attempts()
    text = (export_csv(attempts) if fmt == "csv"
            else json.dumps(export_json(attempts), ensure_ascii=False, indent=2) + "\n")
    if out_path is None:
        write_stdout(text)
    else:
        write_text(out_path, text)
        typer.echo(f"wrote {len(attempts)} attempts to {out_path}")


@app.command(rich_help_panel="History and progress")
@cli_errors
def correct(
    attempt: Annotated[int, typer.Argument(metavar="ATTEMPT", help="Attempt number (see 'rehearse history').",
                                           show_default=False)],
    point: Annotated[str, typer.Argument(metavar="POINT", help="Key point id (see the report or "
                                                                 "'rehearse questions show').", show_default=False)],
    said: Annotated[Optional[bool], typer.Option(
        "--said/--not-said", help="--said: you did say it. --not-said: it does not count.", show_default=False)] = None,
    span: Annotated[Optional[str], typer.Option(
        "--span", help="With --said: the words of the transcript that said it; rehearse learns them for this point.",
        show_default=False)] = None,
) -> None:
    """Correct a verdict: "I did say that" (--said) or "that doesn't count" (--not-said).

    Your verdict is stored beside the scorer's (both are kept); history,
    progress, most-missed points and the practice order go by yours. With
    --span, the words become a learned wording of the point, so the next
    answer that says it the same way counts ('rehearse learned list').
    """
    from rehearse.corrections import correct as store_correction
    from rehearse.errors import UsageError
    from rehearse.report import correction_line
    from rehearse.store import Store

    if said is None:
        raise UsageError("say which: --said (you did say it) or --not-said (it does not count).")
    with Store.open() as store:
        result = store_correction(store, attempt, point, said=said, span=span)
    out.print(correction_line(result))

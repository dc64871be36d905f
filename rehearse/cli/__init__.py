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
models_app = typer.Typer(help="List, install and check the offline models (Whisper; the Kokoro voice).", no_args_is_help=True)
app.add_typer(questions_app, name="questions", rich_help_panel="Question banks")
app.add_typer(models_app, name="models", rich_help_panel="Set-up")

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

BankOpt = Annotated[Optional[list[Path]], typer.Option(
    "--bank", help="A question bank YAML file to load beside the shipped ones (repeatable).")]
NoShippedOpt = Annotated[bool, typer.Option(
    "--no-shipped", help="Load only the --bank files, not the banks shipped in prompts/.")]
EngineOpt = Annotated[str, typer.Option(
    "--engine", "-e", help="Transcription engine: faster-whisper (default, fast), openai-whisper, or any "
                           "engine registered with rehearse.engines.register_engine.")]
ModelOpt = Annotated[str, typer.Option(
    "--model", "-m", help="Whisper model name (base, small, medium, large-v3, turbo) or a path to a model.")]
BeamOpt = Annotated[int, typer.Option(
    "--beam-size", min=1, max=10, help="Beam size for decoding; 1 is greedy and fastest.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a report.")]
HotwordsOpt = Annotated[bool, typer.Option(
    "--hotwords/--no-hotwords", help="Bias Whisper toward the question's English terms (InfoNCE, Q-Former…): "
                                     "far more of them come out right; --no-hotwords decodes without the hint.")]
RecordingsOpt = Annotated[Optional[Path], typer.Option(
    "--recordings", file_okay=False,
    help="Folder for the WAV files (default: $REHEARSE_RECORDINGS, else ./recordings if it exists, "
         "else recordings/ in rehearse's data directory).")]
JudgeOpt = Annotated[str, typer.Option(
    "--judge", help="Who decides which key points were covered: offline (phrases, then meaning; default), "
                    "phrases (the rubric's literal phrases only), or llm (offline, then a chat model you run "
                    "behind an OpenAI-compatible endpoint: set REHEARSE_LLM_BASE_URL and REHEARSE_LLM_MODEL).")]


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
    """The shipped and --bank question banks, with the wordings learned from your corrections."""
    from rehearse import learned
    from rehearse.rubric import load_library

    lib = load_library(banks or (), shipped=not no_shipped)
    try:
        return learned.apply(lib, learned.load())
    except learned.LearnedError as exc:
        typer.echo(f"warning: {exc} Learned wordings are ignored.", err=True)
        return lib


def _judge(name: str):
    """A judge by name (one clear line for an unknown or unconfigured one)."""
    from rehearse.judges import get_judge

    return get_judge(name)


def _judge_warnings(judge: Any) -> None:
    """Print what went wrong inside a judge (e.g. an unreachable LLM endpoint), one line each, then forget it."""
    for line in getattr(judge, "warnings", []) or []:
        typer.echo(f"warning: {line}", err=True)
    if getattr(judge, "warnings", None):
        judge.warnings.clear()


def _print_json(data: Any) -> None:
    """Write JSON to stdout (strict: no NaN); a full or closed stdout is one clean error."""
    write_stdout(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout; a full or closed stdout (> /dev/full, a closed pipe) is one clean error."""
    import os

    from rehearse.errors import OutputError

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        sys.stdout = open(os.devnull, "w")  # nothing left to flush at exit  # noqa: SIM115
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}.") from None


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


def main() -> None:
    """Console-script entry point: a bug is one line (REHEARSE_DEBUG=1 shows the traceback), exit 1."""
    import os

    try:
        app()
    except Exception as exc:  # noqa: BLE001 - domain errors never get here: cli_errors turns them into lines
        if os.environ.get("REHEARSE_DEBUG"):
            raise
        typer.echo(f"Error: unexpected {type(exc).__name__}: {exc} (a bug in rehearse; run again with "
                   "REHEARSE_DEBUG=1 for the details and please report it).", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()


# The commands register themselves on `app` when their modules are imported.
from rehearse.cli import answers, questions, records, serve, voice  # noqa: E402,F401

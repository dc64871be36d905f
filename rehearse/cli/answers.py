"""Commands that practise and score answers: practice, devices, score, transcribe, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rehearse.cli import (
    NO_SPEECH_EXIT,
    BankOpt,
    BeamOpt,
    EngineOpt,
    HotwordsOpt,
    JsonOpt,
    JudgeOpt,
    ModelOpt,
    NoShippedOpt,
    RecordingsOpt,
    _judge,
    _judge_warnings,
    _library,
    _print_json,
    app,
    cli_errors,
    err,
    out,
)
from rehearse.errors import UsageError


@app.command(rich_help_panel="Practise")
@cli_errors
def practice(
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Only questions with this tag (repeatable).")] = None,
    count: Annotated[Optional[int], typer.Option("--count", "-n", min=1, help="Ask at most this many questions.")] = None,
    question: Annotated[Optional[list[str]], typer.Option(
        "--question", "-q", help="Practise this question id (repeatable); default: weakest first.")] = None,
    no_speak: Annotated[bool, typer.Option("--no-speak", help="Only show the question; do not read it aloud.")] = False,
    voice: Annotated[Optional[str], typer.Option("--voice", help="Text-to-speech voice (e.g. jm_kumo, jm_kumo@zm_yunjian: one voice with another's tones; Tingting on macOS): see 'rehearse voices'.")] = None,
    device: Annotated[Optional[str], typer.Option(
        "--device", "-d", help="Input device number or name (see 'rehearse devices').")] = None,
    max_seconds: Annotated[Optional[float], typer.Option(
        "--max-seconds", min=1, help="Stop recording after this many seconds.")] = None,
    silence_stop: Annotated[Optional[float], typer.Option(
        "--silence-stop", min=0.5, help="Stop after this many seconds of silence once you have started.")] = None,
    recordings: RecordingsOpt = None,
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
    judge: JudgeOpt = "offline",
    hotwords: HotwordsOpt = True,
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
) -> None:
    """Run a mock interview: each question shown and read aloud, your answer recorded and scored.

    The answer is transcribed while you speak, so the report appears within
    seconds of pressing Enter. Every answer is written to disk as it is spoken
    (recordings/<bank>/<question>/<time>.wav) and every attempt is saved in
    the history. Ctrl-C while recording asks whether to score; Ctrl-C while
    transcribing keeps the attempt for 'rehearse score --attempt ID'. After each
    report, 'c' corrects a verdict ("I said that" / "that doesn't count").
    While you answer the last question, the next session's first questions are
    read into the speech cache, so that session starts speaking at once.
    """
    from rehearse.engines import get_engine
    from rehearse.practice import PracticeOptions, Session, early_speaker
    from rehearse.schedule import Selection, due_today
    from rehearse.store import Store

    opts = PracticeOptions(speak=not no_speak, voice=voice, device=device, max_seconds=max_seconds,
                           silence_stop=silence_stop, recordings=recordings, judge=_judge(judge),
                           hotwords=hotwords)
    speaker = early_speaker(opts)  # the audio output runs before the banks load: the first question starts at once
    try:
        lib = _library(bank, no_shipped)
        qs = [lib.get(qid) for qid in question] if question else list(lib.filter(tag or ()))
        if not qs:
            raise UsageError(f"--tag: no question has the tag(s) {', '.join(tag or ())}; "
                             "see 'rehearse questions list'.")
        eng = get_engine(engine, model)
        with Store.open() as store:
            history = store.attempts()
            n_due = len(due_today(qs, history))
            out.print(f"{n_due} of {len(qs)} question{'s' if len(qs) != 1 else ''} due today", style="dim")
            # due first: never answered, weakest, least recently practised (--question: in the order given)
            picked = Selection(tuple(qs), scheduled=not question, count=count)
            summary = Session(eng, store, opts, out, speaker=speaker).run(picked.session(history),
                                                                           next_session=picked)
    finally:
        if speaker is not None:
            speaker.close()  # run() has; not if something failed before it
    if summary.interrupted:
        raise typer.Exit(130)


@app.command(rich_help_panel="Practise")
@cli_errors
def devices() -> None:
    """List the input devices (microphones) that rehearse can record from, for --device."""
    from rehearse.devices import input_devices

    found = input_devices()
    if not found:
        from rehearse.devices import resolve_device

        resolve_device(None)  # raises the explanation (no device / permission)
    table = Table(box=None, header_style="bold")
    for col in ("", "#", "name", "host API", "channels", "rate"):
        table.add_column(col)
    for d in found:
        table.add_row("*" if d.is_default else "", str(d.index), d.name, d.hostapi, str(d.channels),
                      f"{d.default_samplerate:.0f}")
    out.print(table)
    out.print("* = default; record from another with 'rehearse practice --device NUMBER|NAME'")


#: the longest typed answer scored: about six hours of speech; scoring stays linear, this keeps it seconds
MAX_TEXT_CHARS = 100_000


def _typed_answer(value: str) -> str:
    """The --text value: itself, stdin for '-', a file's text for '@FILE'; empty or too long is a usage error."""
    import sys

    if value == "-":
        value = sys.stdin.read(MAX_TEXT_CHARS + 1)
    elif value.startswith("@") and len(value) > 1:
        path = Path(value[1:]).expanduser()
        try:
            with path.open(encoding="utf-8") as fh:
                value = fh.read(MAX_TEXT_CHARS + 1)
        except (OSError, UnicodeDecodeError) as exc:
            why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
            raise UsageError(f"--text {value}: cannot read {path}: {why}.") from None
    if not value.strip():
        raise UsageError("--text: the answer is empty.")
    if len(value) > MAX_TEXT_CHARS:
        raise UsageError(f"--text: the answer is longer than {MAX_TEXT_CHARS:,} characters (about six hours of "
                         "speech); score it in parts.")
    return value


@app.command(rich_help_panel="Score an answer")
@cli_errors
def score(
    audio: Annotated[Optional[Path], typer.Argument(help="Recorded answer (WAV/FLAC/OGG; mp3/m4a via PyAV).",
                                                    show_default=False)] = None,
    question: Annotated[str, typer.Option("--question", "-q", help="Question id (see 'rehearse questions list').")] = "",
    text: Annotated[Optional[str], typer.Option(
        "--text", "-t", help="Score this typed answer instead of audio; '-' reads it from stdin, '@FILE' from a "
                             f"file (at most {MAX_TEXT_CHARS:,} characters).")] = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "faster-whisper",
    model: ModelOpt = "base",
    beam_size: BeamOpt = 5,
    judge: JudgeOpt = "offline",
    hotwords: HotwordsOpt = True,
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
    (unless --no-save). Exits 3 when the recording has no speech. A verdict you
    disagree with: 'rehearse correct ATTEMPT POINT --said/--not-said'.
    """
    from rehearse.assess import assess_audio, assess_text
    from rehearse.audio import audio_info
    from rehearse.engines import get_engine
    from rehearse.report import render_assessment

    if attempt is not None:
        if audio is not None or text is not None or question:
            raise UsageError("--attempt takes the recording and question from the history; "
                             "give no AUDIO, --text or --question with it.")
        return _score_attempt(attempt, as_json=as_json, engine=engine, model=model, beam_size=beam_size,
                              judge=judge, hotwords=hotwords, bank=bank, no_shipped=no_shipped)
    if not question:
        raise UsageError("--question: give the question id with --question ID (see 'rehearse questions list').")
    if (audio is None) == (text is None):
        raise UsageError("give either an AUDIO file or --text, not both or neither.")
    q = _library(bank, no_shipped).get(question)
    jdg = _judge(judge)
    if not no_save:
        from rehearse.store import Store

        Store.open().close()  # a corrupt or locked history fails before any transcription
    if text is not None:
        text = _typed_answer(text)
        result = assess_text(q, text, judge=jdg)
    else:
        assert audio is not None  # one of the two, checked above
        audio_info(audio)  # a missing or broken file fails fast
        eng = get_engine(engine, model)
        eng.load()  # and so does a bad --model, before any audio work
        result = assess_audio(q, audio, eng, beam_size=beam_size, judge=jdg, hotwords=hotwords)
    _judge_warnings(jdg)
    baseline, attempt_id, not_saved = None, None, None
    if not no_save:
        from rehearse.errors import StoreError
        from rehearse.progress import fluency_baseline

        try:  # the result is shown whatever happens to the history
            with Store.open() as store:
                baseline = fluency_baseline(store.attempts(), language=q.language)
                attempt_id = store.save_attempt(result, question=q)
        except StoreError as exc:
            not_saved = exc
    if as_json:
        _print_json(result.to_json())
    else:
        render_assessment(result, out, baseline=baseline)
        if attempt_id is not None:
            out.print(f"saved as attempt #{attempt_id} ('rehearse history', 'rehearse progress'); a wrong verdict? "
                      f"'rehearse correct {attempt_id} POINT --said --span WORDS' or '--not-said'", style="dim")
    if not_saved is not None:
        again = f"rehearse score {audio} -q {q.id}" if audio is not None else "the same 'rehearse score --text'"
        typer.echo(f"Error: the result above was not saved: {not_saved} Save it later with {again}.", err=True)
        raise typer.Exit(not_saved.exit_code)
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
        raise UsageError(f"--language must be zh or en, not {language!r}.")
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
    judge: JudgeOpt = "offline",
) -> None:
    """Score the shipped example answer (offline): a recorded answer to '3d-ssgan'."""
    from rehearse.assess import assess_audio
    from rehearse.engines import get_engine
    from rehearse.examples import example_answer
    from rehearse.report import render_assessment
    from rehearse.rubric import load_library

    path, question_id = example_answer()
    out.print(f"Scoring the example answer {path.name} to question '{question_id}' …\n")
    jdg = _judge(judge)
    result = assess_audio(load_library().get(question_id), path, get_engine(engine, model), judge=jdg)
    _judge_warnings(jdg)
    render_assessment(result, out)


def _score_attempt(attempt_id: int, *, as_json: bool, engine: str, model: str, beam_size: int, judge: str,
                   hotwords: bool, bank: Optional[list[Path]], no_shipped: bool) -> None:
    """Transcribe and score a stored attempt's recording; the result is added to that attempt."""
    from rehearse.assess import assess_audio
    from rehearse.audio import audio_info
    from rehearse.engines import get_engine
    from rehearse.report import render_assessment
    from rehearse.store import Store

    with Store.open() as store:
        rec = store.attempt(attempt_id)
        if rec.audio_path is None:
            raise UsageError(f"--attempt: attempt #{attempt_id} has no recording to score.")
        audio_info(rec.audio_path)  # a recording that was moved or deleted fails with its path
        q = _library(bank, no_shipped).get(rec.question_id)
        eng = get_engine(engine, model)
        eng.load()
        jdg = _judge(judge)
        result = assess_audio(q, rec.audio_path, eng, beam_size=beam_size, judge=jdg, hotwords=hotwords)
        _judge_warnings(jdg)
        store.add_result(attempt_id, result)
    if as_json:
        _print_json(result.to_json())
    else:
        render_assessment(result, out)
        out.print(f"attempt #{attempt_id} scored ('rehearse history')", style="dim")
    if result.no_speech:
        raise typer.Exit(NO_SPEECH_EXIT)

"""Commands that read text aloud: say, voices (and voices --prepare)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from rehearse.cli import BankOpt, NoShippedOpt, _library, app, cli_errors, err, out
from rehearse.errors import UsageError

if TYPE_CHECKING:
    from rehearse.rubric import Question
    from rehearse.voices.prepare import Prepared

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def guess_language(text: str) -> str:
    """zh when the text has any Chinese character, else en."""
    return "zh" if HAN.search(text) else "en"


@app.command(rich_help_panel="Set-up")
@cli_errors
def say(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to read aloud (Mandarin, English, or both).")],
    voice: Annotated[Optional[str], typer.Option(
        "--voice", help="A voice from 'rehearse voices' (e.g. jm_kumo, jm_kumo@zm_yunjian: one voice with another's tones; Tingting on macOS).")] = None,
    out_path: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Write a WAV file instead of playing it.", show_default=False)] = None,
    lang: Annotated[Optional[str], typer.Option(
        "--lang", "-l", help="zh or en (default: zh when TEXT has Chinese characters).")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="auto (the order 'rehearse voices' shows), kokoro, say, sapi, pyttsx3 or espeak-ng.")] = "auto",
) -> None:
    """Read TEXT aloud with the voice practice would use, or write it to a WAV file (to try voices)."""
    from rehearse.errors import TTSError
    from rehearse.tts import Speaker

    language = lang or guess_language(text)
    if language not in ("zh", "en"):
        raise UsageError(f"--lang must be zh or en, not '{language}'.")
    if not text.strip():
        raise TTSError("There is no text to read aloud.")
    speaker = Speaker(voice, engine)
    try:
        chosen = speaker.engine_for(language)
        name = f"{chosen.name if chosen else '?'}{', ' + voice if voice else ''}"
        t0 = time.monotonic()
        if out_path:
            path = speaker.synthesize_to_file(text, language, out_path)
            out.print(f"wrote {path} ({name}; {time.monotonic() - t0:.1f} s)")
        else:  # heard from the first clause on, while the rest is made
            played = speaker.play(text, language)
            first = f"first sound after {played.first_sound_s:.1f} s" if played.first_sound_s is not None else "silent"
            err.print(f"{name}: {first}", style="dim")
    finally:
        speaker.close()


VoiceOpt = Annotated[Optional[str], typer.Option(
    "--voice", help="A voice from 'rehearse voices' (e.g. jm_kumo, jm_kumo@zm_yunjian: one voice with another's tones; Tingting on macOS).")]
TTSEngineOpt = Annotated[str, typer.Option(
    "--engine", help="auto (the order 'rehearse voices' shows), kokoro, say, sapi, pyttsx3 or espeak-ng.")]


@app.command(rich_help_panel="Set-up")
@cli_errors
def voices(
    prepare: Annotated[bool, typer.Option(
        "--prepare", help="Read the questions into the speech cache now (all, or --tag / --question / --due), "
                          "so that a session's first question is heard at once.")] = False,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="--prepare: only questions with this tag "
                                                                   "(repeatable).")] = None,
    question: Annotated[Optional[list[str]], typer.Option(
        "--question", "-q", help="--prepare: this question id (repeatable).")] = None,
    due: Annotated[bool, typer.Option("--due", help="--prepare: only the questions due today.")] = False,
    bank: BankOpt = None,
    no_shipped: NoShippedOpt = False,
    voice: VoiceOpt = None,
    engine: TTSEngineOpt = "auto",
) -> None:
    """List the text-to-speech engines and voices here, in the order practice tries them, per language.

    With --prepare, read questions aloud ahead of time into the speech
    cache, so that the first question of a session starts speaking at once:
    a question never spoken before waits for its synthesis (Kokoro: seconds,
    over ten on a busy machine), a cached one starts in a fraction of a
    second. Practice already makes each next question while you answer the
    current one, and the next session's first ones while you answer the
    last; --prepare covers the rest (a new bank, a new voice, a first
    session). Only questions not yet cached are made, in the order practice
    would ask them; Ctrl-C stops at once and keeps what was finished. Use
    the --voice and --engine you practise with (audio is cached per voice).
    Your own bank: --bank mine.yaml (with --no-shipped, it alone).
    """
    if prepare:
        return _prepare(tag, question, due, bank, no_shipped, voice, engine)
    given = [name for name, value in (("--tag", tag), ("--question", question), ("--due", due), ("--bank", bank),
                                      ("--no-shipped", no_shipped), ("--voice", voice),
                                      ("--engine", engine != "auto")) if value]
    if given:
        raise UsageError(f"{', '.join(given)}: only with --prepare (e.g. 'rehearse voices --prepare --tag papers').")
    from rehearse.errors import RehearseError
    from rehearse.tts import LANGUAGES, available_engines, registered_engines

    engines = available_engines()
    out.print(f"engines tried in this order: {', '.join(registered_engines())}")
    for lang, label in LANGUAGES.items():
        usable = [e for e in engines if e.supports(lang)]
        if usable:
            out.print(f"{label} ({lang}): {usable[0].name}" + (f" (then {', '.join(e.name for e in usable[1:])})"
                                                               if usable[1:] else ""))
        else:
            out.print(f"{label} ({lang}): none — questions in {label} are shown, not read aloud")
    for e in engines:
        try:
            names = e.voices()
        except RehearseError as exc:
            out.print(f"  {e.name}: {exc}")
            continue
        langs = "/".join(lang for lang in LANGUAGES if e.supports(lang))
        out.print(f"  {e.name} ({langs}): {', '.join(names) or '(default voice)'}")
    if not any(e.name == "kokoro" for e in engines):
        out.print("Kokoro (offline neural voice for Mandarin) is not installed: run 'rehearse models install kokoro'.")
    else:
        from rehearse.voices.kokoro import MANDARIN_VOICE
        from rehearse.voices.zh_styles import STYLES, zh_dir

        timbre, _, prosody = MANDARIN_VOICE.partition("@")
        out.print(f"Kokoro reads Mandarin as {MANDARIN_VOICE} ({timbre}'s voice with {prosody}'s tones); "
                  "--voice A@B mixes any two, A+B blends them.")
        if not (zh_dir() / STYLES).is_file():
            out.print("Kokoro's other Mandarin voices (zf_*, zm_*): 'rehearse models install kokoro-zh' installs "
                      "them (from the npm package kokoro-js, 27 MB, once).")


def _prepare(tag: Optional[list[str]], question: Optional[list[str]], due: bool, bank: Optional[list[Path]],
             no_shipped: bool, voice: Optional[str], engine: str) -> None:
    """voices --prepare: pick the questions as practice does, make the uncached ones, say what was done."""
    from rehearse.schedule import Selection, due_today
    from rehearse.store import Store

    lib = _library(bank, no_shipped)
    qs = [lib.get(qid) for qid in question] if question else list(lib.filter(tag or ()))
    if not qs:
        raise UsageError(f"--tag: no question has the tag(s) {', '.join(tag or ())}; see 'rehearse questions list'.")
    with Store.open() as store:
        history = store.attempts()
    if due:
        qs = due_today(qs, history)
        if not qs:
            out.print("No question is due today: nothing to prepare.")
            return
    qs = Selection(tuple(qs), scheduled=not question).session(history)  # the order practice asks them in
    done = read_aloud(qs, voice, engine)
    if done.interrupted:
        raise typer.Exit(130)
    if done.failed:
        raise typer.Exit(2)


def read_aloud(qs: Sequence[Question], voice: Optional[str] = None, engine: str = "auto") -> Prepared:
    """Make the uncached questions of ``qs`` into the speech cache, one progress line each, and say what
    was done (``voices --prepare``, ``import``). No voice for any of them is a :class:`TTSError`."""
    from rehearse.paths import speech_cache_dir
    from rehearse.tts import Speaker
    from rehearse.voices.cache import spoken_voice
    from rehearse.voices.prepare import prepare, unspoken

    speaker = Speaker(voice, engine)
    try:
        unspoken(speaker, qs)  # nothing here reads any of them: one line
        langs = sorted({q.language for q in qs})
        used = [f"{e.name}{', ' + v if (v := spoken_voice(e, lang, voice)) else ''}" for lang in langs
                if (e := speaker.engine_for(lang)) is not None]
        err.print(f"reading {len(qs)} question{'s' if len(qs) != 1 else ''} into {speech_cache_dir()} with "
                  f"{' / '.join(dict.fromkeys(used))} (Ctrl-C stops; finished ones are kept)", style="dim",
                  soft_wrap=True)

        def progress(n: int, total: int, q: Question, what: str, took: float) -> None:
            note = {"made": f"made in {took:.1f} s", "cached": "already cached"}.get(what, f"failed: {what}")
            out.print(f"[{n:>{len(str(total))}}/{total}] {q.id:28} {note}", soft_wrap=True)

        done = prepare(speaker, qs, progress)
    finally:
        speaker.close()
    for notice, ids in done.no_voice.items():
        err.print(f"{notice} ({len(ids)} question{'s' if len(ids) != 1 else ''} not prepared)", soft_wrap=True)
    left = len(qs) - len(done.made) - len(done.cached) - len(done.failed) - sum(map(len, done.no_voice.values()))
    line = f"made {len(done.made)}, already cached {len(done.cached)}"
    line += f", failed {len(done.failed)}" if done.failed else ""
    if done.interrupted:
        out.print(f"Interrupted: {line}, {left} not made; nothing half made was kept.", soft_wrap=True)
    else:
        out.print(f"{line} ({len(qs)} question{'s' if len(qs) != 1 else ''}): "
                  + ("a session's first question is now heard at once." if not done.failed
                     else "the failed ones are shown, not read aloud."), soft_wrap=True)
    return done

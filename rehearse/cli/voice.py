"""Commands that read text aloud: say, voices."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from rehearse.cli import app, cli_errors, err, out
from rehearse.errors import UsageError

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def guess_language(text: str) -> str:
    """zh when the text has any Chinese character, else en."""
    return "zh" if HAN.search(text) else "en"


@app.command(rich_help_panel="Set-up")
@cli_errors
def say(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to read aloud (Mandarin, English, or both).")],
    voice: Annotated[Optional[str], typer.Option(
        "--voice", help="A voice from 'rehearse voices' (e.g. jm_kumo, jf_alpha; Tingting on macOS).")] = None,
    out_path: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Write a WAV file instead of playing it.", show_default=False)] = None,
    lang: Annotated[Optional[str], typer.Option(
        "--lang", "-l", help="zh or en (default: zh when TEXT has Chinese characters).")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="auto (the order 'rehearse voices' shows), kokoro, say, sapi, pyttsx3 or espeak-ng.")] = "auto",
) -> None:
    """Read TEXT aloud with the voice practice would use, or write it to a WAV file (to try voices)."""
    from rehearse.errors import TTSError
    from rehearse.tts import Speaker, play_file

    language = lang or guess_language(text)
    if language not in ("zh", "en"):
        raise UsageError(f"--lang must be zh or en, not '{language}'.")
    if not text.strip():
        raise TTSError("There is no text to read aloud.")
    speaker = Speaker(voice, engine)
    try:
        chosen = speaker.engine_for(language)
        t0 = time.monotonic()
        path = speaker.synthesize_to_file(text, language, out_path) if out_path else speaker.audio_for(text, language)
        took = time.monotonic() - t0
        name = chosen.name if chosen else "?"
        if out_path:
            out.print(f"wrote {path} ({name}{', ' + voice if voice else ''}; {took:.1f} s)")
        else:
            err.print(f"{name}{', ' + voice if voice else ''}: ready in {took:.1f} s", style="dim")
            play_file(path)
    finally:
        speaker.close()


@app.command(rich_help_panel="Set-up")
@cli_errors
def voices() -> None:
    """List the text-to-speech engines and voices here, in the order practice tries them, per language."""
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
        from rehearse.voices.zh_styles import STYLES, zh_dir

        if not (zh_dir() / STYLES).is_file():
            out.print("Kokoro's own Mandarin voices (zf_*, zm_*): 'rehearse models install kokoro-zh' downloads "
                      "them once (28 MB); Mandarin is then read with zf_xiaobei.")

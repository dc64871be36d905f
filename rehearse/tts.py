"""Offline text-to-speech: read a question aloud in its language.

Engines, chosen automatically in this order (the first one available wins):

* ``pyttsx3`` when it is importable (it drives SAPI5, NSSpeechSynthesizer or eSpeak);
* ``say`` on macOS;
* SAPI on Windows (System.Speech through PowerShell);
* ``espeak-ng`` on Linux (``-v cmn`` for Mandarin, ``-v en-us`` for English).

``voice`` overrides the engine's voice for every language. When no engine is
available, :class:`Speaker` reports it once in one line and the question is
only shown.

All engines first synthesise to a WAV file; :meth:`Speaker.speak` then plays
it with sounddevice, so reading aloud goes to the same audio device as
everything else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Protocol

from rehearse.errors import TTSError

TIMEOUT_S = 120


class TTSEngine(Protocol):
    """One offline speech synthesiser."""

    name: str

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        """Write ``text`` spoken in ``lang`` (zh | en) to the WAV/AIFF file ``path``."""
        ...


def _run(cmd: list[str], *, stdin: str | None = None) -> None:
    try:
        res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TTSError(f"{cmd[0]} failed: {exc}") from None
    if res.returncode != 0:
        msg = (res.stderr or res.stdout).strip().splitlines()
        raise TTSError(f"{cmd[0]} failed (exit {res.returncode}): {msg[-1] if msg else 'no output'}")


def _check_output(path: Path, engine: str) -> Path:
    if not path.is_file() or path.stat().st_size <= 44:
        raise TTSError(f"{engine} produced no audio in {path}")
    return path


class EspeakNG:
    """espeak-ng (Linux, also on macOS/Windows when installed)."""

    name = "espeak-ng"
    VOICES = {"zh": "cmn", "en": "en-us"}

    def __init__(self, exe: str) -> None:
        self.exe = exe

    def voices(self) -> set[str]:
        """Every name espeak-ng accepts for -v: languages, voice names and files."""
        res = subprocess.run([self.exe, "--voices"], capture_output=True, text=True, timeout=30, check=False)
        names: set[str] = set()
        for line in res.stdout.splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 5:
                names.update({cols[1], cols[3], cols[4], cols[4].split("/")[-1]})
        return {n.lower() for n in names}

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        v = voice or self.VOICES.get(lang, lang)
        if voice and voice.split("+")[0].lower() not in self.voices():  # espeak-ng silently falls back
            raise TTSError(f"espeak-ng has no voice '{voice}' (see 'espeak-ng --voices').")
        _run([self.exe, "-v", v, "-s", "165", "-w", str(path), "--stdin"], stdin=text)
        return _check_output(path, self.name)


class MacSay:
    """macOS ``say``."""

    name = "say"
    VOICES = {"zh": "Tingting", "en": "Samantha"}

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        v = voice or self.VOICES.get(lang)
        cmd = ["say", "-o", str(path), "--file-format=WAVE", "--data-format=LEI16@22050"]
        if v:
            cmd += ["-v", v]
        _run(cmd + ["-f", "-"], stdin=text)
        return _check_output(path, self.name)


class WindowsSapi:
    """Windows SAPI through PowerShell's System.Speech."""

    name = "sapi"
    CULTURES = {"zh": "zh-CN", "en": "en-US"}

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        pick = (f"$s.SelectVoice('{voice}')" if voice else
                f"try {{ $s.SelectVoiceByHints('NotSet', 'NotSet', 0, "
                f"[Globalization.CultureInfo]'{self.CULTURES.get(lang, 'en-US')}') }} catch {{}}")
        script = ("Add-Type -AssemblyName System.Speech; $s = New-Object System.Speech.Synthesis.SpeechSynthesizer; "
                  f"{pick}; $s.SetOutputToWaveFile('{path}'); $s.Speak([Console]::In.ReadToEnd()); $s.Dispose()")
        _run(["powershell", "-NoProfile", "-Command", script], stdin=text)
        return _check_output(path, self.name)


class Pyttsx3Engine:
    """pyttsx3 (wraps the platform engine); the voice is matched by language."""

    name = "pyttsx3"

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        import pyttsx3

        try:
            eng = pyttsx3.init()
            chosen = voice or self._voice_for(eng, lang)
            if chosen:
                eng.setProperty("voice", chosen)
            eng.save_to_file(text, str(path))
            eng.runAndWait()
        except Exception as exc:  # noqa: BLE001 - pyttsx3 drivers raise anything
            raise TTSError(f"pyttsx3 failed: {exc}") from None
        return _check_output(path, self.name)

    @staticmethod
    def _voice_for(eng: object, lang: str) -> str | None:
        keys = ("zh", "cmn", "chinese", "mandarin") if lang == "zh" else ("en", "english")
        for v in eng.getProperty("voices") or ():  # type: ignore[attr-defined]
            langs = " ".join(str(x) for x in (getattr(v, "languages", None) or ()))
            hay = f"{v.id} {v.name} {langs}".lower()
            if any(k in hay for k in keys):
                return str(v.id)
        return None


def available_engines() -> list[TTSEngine]:
    """Every usable engine here, in order of preference."""
    found: list[TTSEngine] = []
    try:
        import pyttsx3  # noqa: F401
    except Exception:  # noqa: BLE001 - missing, or broken driver libraries
        pass
    else:
        found.append(Pyttsx3Engine())
    if sys.platform == "darwin" and shutil.which("say"):
        found.append(MacSay())
    if sys.platform == "win32" and shutil.which("powershell"):
        found.append(WindowsSapi())
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe:
        found.append(EspeakNG(exe))
    return found


def choose_engine(name: str | None = None) -> TTSEngine | None:
    """The engine named ``name`` (pyttsx3 | say | sapi | espeak-ng), else the first available one."""
    engines = available_engines()
    if name:
        for e in engines:
            if e.name == name:
                return e
        raise TTSError(f"Text-to-speech engine '{name}' is not available here "
                       f"(available: {', '.join(e.name for e in engines) or 'none'}).")
    return engines[0] if engines else None


class Speaker:
    """Reads questions aloud; degrades to show-only with one notice when it cannot."""

    def __init__(self, voice: str | None = None, engine: TTSEngine | None | str = "auto") -> None:
        self.voice = voice
        self.engine = choose_engine() if engine == "auto" else choose_engine(engine) if isinstance(engine, str) \
            else engine
        self.notice: str | None = None
        if self.engine is None:
            self.notice = ("No text-to-speech engine found (install espeak-ng, or pip install pyttsx3): "
                           "questions are shown only.")

    @property
    def available(self) -> bool:
        return self.engine is not None

    def synthesize_to_file(self, text: str, lang: str, path: str | os.PathLike[str]) -> Path:
        """Write the spoken ``text`` to ``path``; raises :class:`TTSError` when there is no engine."""
        if self.engine is None:
            raise TTSError(self.notice or "no text-to-speech engine")
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        return self.engine.synthesize(text, lang, p, self.voice)

    def speak(self, text: str, lang: str) -> bool:
        """Say ``text`` aloud and wait until done; False (with ``notice`` set) if it could not."""
        if self.engine is None:
            return False
        with tempfile.TemporaryDirectory(prefix="rehearse-tts-") as d:
            try:
                path = self.synthesize_to_file(text, lang, Path(d) / "q.wav")
                play_file(path)
            except (TTSError, OSError) as exc:
                self.notice = f"Could not read the question aloud ({exc}); showing it only."
                return False
        return True


def play_file(path: Path) -> None:
    """Play an audio file on the default output device and wait until it ends."""
    import soundfile as sf

    try:
        import sounddevice as sd
    except OSError as exc:
        raise TTSError(f"PortAudio is not installed ({exc})") from None
    data, rate = sf.read(str(path), dtype="float32")
    try:
        sd.play(data, rate)
        sd.wait()
    except sd.PortAudioError as exc:
        raise TTSError(f"no audio output ({exc})") from None


def synthesize_to_file(text: str, lang: str, path: str | os.PathLike[str], *, voice: str | None = None) -> Path:
    """Synthesise ``text`` in ``lang`` to ``path`` with the automatically chosen engine."""
    return Speaker(voice).synthesize_to_file(text, lang, path)


def beep(seconds: float = 0.15, freq: float = 880.0) -> None:
    """The "start speaking" cue: a short tone, or the terminal bell if there is no output device."""
    import numpy as np

    try:
        import sounddevice as sd

        t = np.arange(int(22050 * seconds)) / 22050
        tone = (0.3 * np.sin(2 * np.pi * freq * t) * np.hanning(len(t))).astype(np.float32)
        sd.play(tone, 22050)
        sd.wait()
    except Exception:  # noqa: BLE001 - no output device: fall back to the bell
        sys.stdout.write("\a")
        sys.stdout.flush()

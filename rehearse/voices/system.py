"""The operating system's own voices: macOS ``say``, Windows SAPI, pyttsx3, and espeak-ng for English.

Each engine says which languages it can read intelligibly here (:meth:`supports`): a system voice reads
Mandarin only when a Chinese voice is installed, and espeak-ng never reads Mandarin (its ``cmn`` voice
speaks the tone numbers: Whisper base heard "2-5-5-1-3-1-2-3" for a shipped question).
"""

from __future__ import annotations

import subprocess
import sys
from functools import cached_property
from pathlib import Path

from rehearse.errors import TTSError

TIMEOUT_S = 120


def run(cmd: list[str], *, stdin: str | None = None, timeout: float = TIMEOUT_S) -> str:
    """Run an engine's command; its failure is one :class:`TTSError` line. Returns stdout."""
    try:
        res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TTSError(f"{cmd[0]} failed: {exc}") from None
    if res.returncode != 0:
        msg = (res.stderr or res.stdout).strip().splitlines()
        raise TTSError(f"{cmd[0]} failed (exit {res.returncode}): {msg[-1] if msg else 'no output'}")
    return res.stdout


def check_output(path: Path, engine: str) -> Path:
    """``path`` if the engine wrote audio there, else one clear error."""
    if not path.is_file() or path.stat().st_size <= 44:
        raise TTSError(f"{engine} produced no audio in {path}")
    return path


class EspeakNG:
    """espeak-ng: English only (its Mandarin is unintelligible)."""

    name = "espeak-ng"
    VOICES = {"en": "en-us", "cmn": "cmn"}

    def __init__(self, exe: str) -> None:
        self.exe = exe

    def supports(self, lang: str) -> bool:
        """English only: espeak-ng's Mandarin reads tone numbers, so it is never offered for zh."""
        return lang == "en"

    @cached_property
    def _voice_names(self) -> set[str]:
        res = subprocess.run([self.exe, "--voices"], capture_output=True, text=True, timeout=30, check=False)
        names: set[str] = set()
        for line in res.stdout.splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 5:
                names.update({cols[1], cols[3], cols[4], cols[4].split("/")[-1]})
        return {n.lower() for n in names}

    def voices(self) -> list[str]:
        """The voice that rehearse uses (any name 'espeak-ng --voices' lists also works with --voice)."""
        return ["en-us"]

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        """Write ``text`` to the WAV file ``path`` (``lang`` is en; ``voice`` an espeak-ng voice name)."""
        v = voice or self.VOICES.get(lang, lang)
        if voice and voice.split("+")[0].lower() not in self._voice_names:  # espeak-ng silently falls back
            raise TTSError(f"espeak-ng has no voice '{voice}' (see 'espeak-ng --voices').")
        run([self.exe, "-v", v, "-s", "165", "-w", str(path), "--stdin"], stdin=text)
        return check_output(path, self.name)


class MacSay:
    """macOS ``say``; Mandarin with a Chinese system voice only."""

    name = "say"
    VOICES = {"zh": "Tingting", "en": "Samantha"}

    @cached_property
    def _by_lang(self) -> dict[str, list[str]]:
        """Installed voices by language, from ``say -v '?'`` ("Tingting  zh_CN  # 你好…")."""
        out: dict[str, list[str]] = {"zh": [], "en": []}
        try:
            listing = run(["say", "-v", "?"], timeout=30)
        except TTSError:
            return out
        for line in listing.splitlines():
            head = line.split("#")[0].split()
            if len(head) >= 2:
                locale = head[-1].lower()
                for lang in out:
                    if locale.startswith(lang + "_"):
                        out[lang].append(" ".join(head[:-1]))
        return out

    def supports(self, lang: str) -> bool:
        """English always; Mandarin when a zh_* voice is installed."""
        return lang == "en" or bool(self._by_lang.get(lang))

    def voices(self) -> list[str]:
        """The installed zh and en voices."""
        return self._by_lang["zh"] + self._by_lang["en"]

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        """Write ``text`` to ``path`` (16-bit WAV at 22.05 kHz)."""
        zh = self._by_lang.get("zh") or []
        v = voice or (self.VOICES["zh"] if self.VOICES["zh"] in zh else zh[0] if zh and lang == "zh"
                      else self.VOICES.get(lang))
        cmd = ["say", "-o", str(path), "--file-format=WAVE", "--data-format=LEI16@22050"]
        if v:
            cmd += ["-v", v]
        run(cmd + ["-f", "-"], stdin=text)
        return check_output(path, self.name)


class WindowsSapi:
    """Windows SAPI through PowerShell's System.Speech; Mandarin with a zh voice only."""

    name = "sapi"
    CULTURES = {"zh": "zh-", "en": "en-"}
    _LIST = ("Add-Type -AssemblyName System.Speech; $s = New-Object System.Speech.Synthesis.SpeechSynthesizer; "
             "$s.GetInstalledVoices() | ForEach-Object { $_.VoiceInfo.Culture.Name + '|' + $_.VoiceInfo.Name }")

    @cached_property
    def _voices(self) -> list[tuple[str, str]]:
        try:
            listing = run(["powershell", "-NoProfile", "-Command", self._LIST], timeout=60)
        except TTSError:
            return []
        return [tuple(line.strip().split("|", 1)) for line in listing.splitlines()  # type: ignore[misc]
                if "|" in line]

    def supports(self, lang: str) -> bool:
        """A voice whose culture is zh-* (or en-*) is installed."""
        return any(c.lower().startswith(self.CULTURES.get(lang, "?")) for c, _ in self._voices)

    def voices(self) -> list[str]:
        """Installed SAPI voice names."""
        return [name for _, name in self._voices]

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        """Write ``text`` to the WAV file ``path`` with ``voice`` or the first voice of the language."""
        chosen = voice or next((n for c, n in self._voices if c.lower().startswith(self.CULTURES[lang])), None)
        pick = f"$s.SelectVoice('{chosen.replace(chr(39), '')}')" if chosen else ""
        script = ("Add-Type -AssemblyName System.Speech; $s = New-Object System.Speech.Synthesis.SpeechSynthesizer; "
                  f"{pick}; $s.SetOutputToWaveFile('{path}'); $s.Speak([Console]::In.ReadToEnd()); $s.Dispose()")
        run(["powershell", "-NoProfile", "-Command", script], stdin=text)
        return check_output(path, self.name)


class Pyttsx3Engine:
    """pyttsx3 off Linux (on Linux it drives espeak, whose Mandarin is unusable); voices matched by language."""

    name = "pyttsx3"
    KEYS = {"zh": ("zh", "chinese", "mandarin", "tingting", "huihui"), "en": ("en", "english")}

    def supports(self, lang: str) -> bool:
        """Not on Linux; elsewhere when a voice of the language is installed."""
        return sys.platform != "linux" and self._voice_for(lang) is not None

    def voices(self) -> list[str]:
        """Installed voice ids."""
        try:
            import pyttsx3

            return [str(v.id) for v in pyttsx3.init().getProperty("voices") or ()]
        except Exception:  # noqa: BLE001 - pyttsx3 drivers raise anything
            return []

    def _voice_for(self, lang: str) -> str | None:
        try:
            import pyttsx3

            voices = pyttsx3.init().getProperty("voices") or ()
        except Exception:  # noqa: BLE001 - pyttsx3 drivers raise anything
            return None
        for v in voices:
            langs = " ".join(str(x) for x in (getattr(v, "languages", None) or ()))
            hay = f"{v.id} {v.name} {langs}".lower()
            if "espeak" not in hay and any(k in hay for k in self.KEYS.get(lang, ())):
                return str(v.id)
        return None

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        """Write ``text`` to ``path`` with ``voice`` or the first voice of the language."""
        import pyttsx3

        try:
            eng = pyttsx3.init()
            chosen = voice or self._voice_for(lang)
            if chosen:
                eng.setProperty("voice", chosen)
            eng.save_to_file(text, str(path))
            eng.runAndWait()
        except Exception as exc:  # noqa: BLE001 - pyttsx3 drivers raise anything
            raise TTSError(f"pyttsx3 failed: {exc}") from None
        return check_output(path, self.name)

"""Offline text-to-speech: read a question aloud in its language, with a voice its speaker can follow.

Engines sit in a registry (:func:`register_tts_engine`) and are tried in this order for each language;
the first one usable here wins:

* ``say`` on macOS, for Mandarin only when a Chinese system voice is installed (Tingting, Meijia …);
* SAPI on Windows (System.Speech through PowerShell), for Mandarin only with a zh-CN/zh-TW voice;
* ``pyttsx3`` off Linux when it is importable (on Linux it drives the same espeak as below);
* ``kokoro``: Kokoro-82M, a neural voice run offline with onnxruntime (:mod:`rehearse.voices`);
* ``espeak-ng`` for **English only**: its Mandarin voice speaks the tone numbers ("2-5-5-1 …"), so it is
  never used for Mandarin.

With no usable voice for a language, :class:`Speaker` says so once (``notice``) and the question is only
shown. Audio is cached by (text, language, engine, voice) under :func:`rehearse.paths.speech_cache_dir`,
and :meth:`Speaker.prefetch` synthesises the next question in the background while the user answers. A
question that is not ready yet is streamed (:mod:`rehearse.voices.stream`): its first clause plays while
the rest is made, so speaking starts after one clause, not the whole text. Playback is through
sounddevice, like everything else.
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from rehearse.errors import RehearseError, TTSError
from rehearse.voices.cache import AudioCache, cache_key, spoken_voice
from rehearse.voices.stream import ClipStream, OutputLine, Playback, fill, play_stream

LANGUAGES = {"zh": "Mandarin", "en": "English"}


class TTSEngine(Protocol):
    """One offline speech synthesiser."""

    name: str

    def supports(self, lang: str) -> bool:
        """True when this engine reads ``lang`` (zh | en) intelligibly here."""
        ...

    def voices(self) -> list[str]:
        """Voice names ``--voice`` accepts for this engine."""
        ...

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        """Write ``text`` spoken in ``lang`` (zh | en) to the WAV/AIFF file ``path``."""
        ...


# --------------------------------------------------------------------------- the registry

EngineFactory = Callable[[], "TTSEngine | None"]  # the engine if it can run here at all, else None
_REGISTRY: dict[str, EngineFactory] = {}


def register_tts_engine(name: str, factory: EngineFactory, *, before: str | None = None) -> None:
    """Add (or replace) an engine; it is tried in registration order, or just before ``before``."""
    _REGISTRY.pop(name, None)
    items = list(_REGISTRY.items())
    at = next((i for i, (n, _) in enumerate(items) if n == before), len(items))
    items.insert(at, (name, factory))
    _REGISTRY.clear()
    _REGISTRY.update(items)


def _say() -> TTSEngine | None:
    from rehearse.voices.system import MacSay

    return MacSay() if sys.platform == "darwin" and shutil.which("say") else None


def _sapi() -> TTSEngine | None:
    from rehearse.voices.system import WindowsSapi

    return WindowsSapi() if sys.platform == "win32" and shutil.which("powershell") else None


def _pyttsx3() -> TTSEngine | None:
    if sys.platform == "linux":
        return None
    try:
        import pyttsx3  # noqa: F401
    except Exception:  # noqa: BLE001 - missing, or broken driver libraries
        return None
    from rehearse.voices.system import Pyttsx3Engine

    return Pyttsx3Engine()


def _kokoro() -> TTSEngine | None:
    from rehearse.voices.kokoro import KokoroEngine

    return KokoroEngine() if KokoroEngine.installed() else None


def _espeak() -> TTSEngine | None:
    from rehearse.voices.system import EspeakNG

    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    return EspeakNG(exe) if exe else None


for _name, _factory in (("say", _say), ("sapi", _sapi), ("pyttsx3", _pyttsx3), ("kokoro", _kokoro),
                        ("espeak-ng", _espeak)):
    register_tts_engine(_name, _factory)


def registered_engines() -> list[str]:
    """Every registered engine name, in the order they are tried."""
    return list(_REGISTRY)


def available_engines(lang: str | None = None) -> list[TTSEngine]:
    """Every engine usable here (for ``lang`` when given), in order of preference."""
    found: list[TTSEngine] = []
    for factory in _REGISTRY.values():
        engine = factory()
        if engine is not None and (lang is None or engine.supports(lang)):
            found.append(engine)
    return found


def choose_engine(name: str | None = None, lang: str | None = None) -> TTSEngine | None:
    """The engine named ``name``, else the first available one (for ``lang``); None when there is none.
    A named engine that is unknown, not usable here, or (espeak-ng) asked for Mandarin is one error."""
    if name:
        if name not in _REGISTRY:
            raise TTSError(f"Unknown text-to-speech engine '{name}' (known: {', '.join(_REGISTRY)}).")
        engine = _REGISTRY[name]()
        if engine is None and name == "kokoro":
            from rehearse.voices.weights import missing_error

            raise missing_error()  # not installed, or damaged: says which, and how to repair it
        if engine is None:
            usable = ", ".join(e.name for e in available_engines()) or "none"
            raise TTSError(f"Text-to-speech engine '{name}' is not available here (available: {usable}).")
        if lang and not engine.supports(lang):
            raise TTSError(f"{name} cannot read {LANGUAGES.get(lang, lang)} intelligibly here.")
        return engine
    engines = available_engines(lang)
    return engines[0] if engines else None


def no_voice_notice(lang: str) -> str:
    """The one line shown when nothing here reads ``lang`` aloud."""
    if lang == "zh":
        from rehearse.voices.weights import STAMP, kokoro_dir, kokoro_is_intact

        if kokoro_is_intact():
            return ("No Mandarin voice here: the Kokoro voice is installed but onnxruntime does not import "
                    "(pip install onnxruntime); Mandarin questions are shown, not read aloud.")
        if (kokoro_dir() / STAMP).is_file():
            return (f"No Mandarin voice here: the Kokoro voice in {kokoro_dir()} is damaged (repair it with "
                    "'rehearse models install kokoro'); Mandarin questions are shown, not read aloud.")
        return ("No Mandarin voice here (install Kokoro with 'make setup' or 'rehearse models install kokoro'; "
                "espeak-ng's Mandarin is unintelligible): Mandarin questions are shown, not read aloud.")
    return ("No text-to-speech engine for English here (install espeak-ng, or 'rehearse models install kokoro'): "
            "English questions are shown, not read aloud.")


# --------------------------------------------------------------------------- the speaker


class _Worker:
    """One daemon thread running jobs in order. A session's end never waits for a clip being made: :meth:`stop`
    drops the jobs not started and cuts the one running short (``interrupt``: Kokoro stops within
    milliseconds; a clip is cached only once whole, by a rename, so nothing half made is kept). At exit
    every worker is stopped and waited for (:func:`_stop_workers`), since onnxruntime still running in a
    thread while the interpreter finalises aborts the process."""

    def __init__(self, interrupt: Callable[[], None]) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._stopped = threading.Event()
        # weak, like everything the thread keeps of its speaker: a speaker dropped without close() is collected,
        # and then its worker stops (Speaker._submit), as a thread pool's would
        self._interrupt = weakref.WeakMethod(interrupt)
        self._thread = threading.Thread(target=self._run, name="rehearse-tts", daemon=True)
        self._thread.start()
        _WORKERS.add(self)

    def submit(self, job: Callable[[], object]) -> None:
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None and not self._stopped.is_set():
            try:
                job()
            except Exception:  # noqa: BLE001, S110 - a job reports its own errors (fill, in its stream; a failed
                pass  # load shows again, as one line, when a question is spoken)
            del job  # not kept while waiting for the next: it holds the speaker

    def stop(self) -> None:
        """Drop what is queued and cut short what is being made; returns at once."""
        self._stopped.set()
        self._jobs.put(None)
        interrupt = self._interrupt()
        try:
            if interrupt is not None:
                interrupt()
        except Exception:  # noqa: BLE001, S110 - an engine that cannot be interrupted just finishes its piece
            pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


_WORKERS: weakref.WeakSet[_Worker] = weakref.WeakSet()


@atexit.register
def _stop_workers() -> None:
    """At exit: stop every worker and wait for it (a model still loading takes its seconds; a clip being
    made is interrupted, or at worst finishes its clause)."""
    workers = list(_WORKERS)
    for w in workers:
        w.stop()
    for w in workers:
        w.join(60)


class Speaker:
    """Reads questions aloud with the best engine for each language, cached, made ahead and streamed.

    A question's audio is made on one worker thread (:meth:`prefetch` starts it ahead of time) into a
    :class:`~rehearse.voices.stream.ClipStream`; :meth:`speak` plays it while it is still being made, so
    the first clause is heard as soon as it exists, and the whole clip is cached once complete.
    Anything that goes wrong (no voice for the language, a damaged voice file, text the G2P cannot
    read, no output device) sets :attr:`notice` to one line and returns False: the question is still
    shown. A language with no voice is explained once, then silently shown only.
    """

    def __init__(self, voice: str | None = None, engine: TTSEngine | None | str = "auto",
                 cache_dir: Path | None = None) -> None:
        from rehearse.paths import speech_cache_dir

        self.voice = voice
        self._choice = engine
        self._engines: dict[str, TTSEngine | None] = {}
        self._muted: set[str] = set()  # languages already explained as unspeakable
        self.cache = AudioCache(cache_dir or speech_cache_dir())
        self._streams: dict[str, ClipStream] = {}  # being made, or made and not yet spoken
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._line: OutputLine | None = None  # the output kept open for the session, once warmed up
        self.notice: str | None = None
        self.last: Playback | None = None  # what the last :meth:`speak` played (for tests and benchmarks)
        if isinstance(engine, str) and engine != "auto":
            choose_engine(engine)  # an unknown or missing engine fails here, once

    def engine_for(self, lang: str) -> TTSEngine | None:
        """The engine that reads ``lang`` (zh | en); None when nothing here can."""
        if lang not in self._engines:
            if self._choice is None or (not isinstance(self._choice, str)):
                chosen = self._choice if self._choice is None or self._choice.supports(lang) else None
            elif self._choice == "auto":
                chosen = self._engine_for_voice(lang) if self.voice else choose_engine(lang=lang)
            else:
                chosen = choose_engine(self._choice, lang)
            # one engine of a kind for every language: a session of Mandarin and English questions loads
            # Kokoro (~2.5 s, ~300 MB) once, not once per language
            same = [e for e in self._engines.values() if e is not None and chosen is not None
                    and type(e) is type(chosen) and e.name == chosen.name]
            self._engines[lang] = same[0] if same else chosen
        return self._engines[lang]

    def _engine_for_voice(self, lang: str) -> TTSEngine | None:
        """With --voice: the first engine for ``lang`` that has that voice, else the first engine."""
        engines = available_engines(lang)
        for e in engines:
            try:
                if self.voice in e.voices():
                    return e
            except RehearseError:
                continue
        return engines[0] if engines else None

    @property
    def available(self) -> bool:
        """True when some language can be read aloud here."""
        return any(self.engine_for(lang) is not None for lang in LANGUAGES)

    def _key(self, text: str, lang: str) -> tuple[str, TTSEngine]:
        if not text.strip():
            raise TTSError("There is no text to read aloud (the question is empty).")
        engine = self.engine_for(lang)
        if engine is None:
            raise TTSError(no_voice_notice(lang))
        return cache_key(text, lang, engine.name, spoken_voice(engine, lang, self.voice)), engine

    def _submit(self, job: Callable[[], object]) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = _Worker(self._interrupt)
                weakref.finalize(self, self._worker.stop)  # dropped without close(): the thread ends too
            self._worker.submit(job)

    def _interrupt(self) -> None:
        """Cut short what the engines are making now (those that can: Kokoro)."""
        for engine in list(self._engines.values()):
            interrupt = getattr(engine, "interrupt", None)
            if callable(interrupt):
                interrupt()

    def stream(self, text: str, lang: str) -> ClipStream:
        """The audio of ``text``: from the cache, already being made (by :meth:`prefetch`), or started now."""
        key, engine = self._key(text, lang)
        with self._lock:
            for k in [k for k, s in self._streams.items() if s.path is not None and k != key]:
                del self._streams[k]  # whole and cached (a question skipped while it was being made)
            made = self._streams.get(key)
            if made is not None and made.error is None and not made.cancelled.is_set():
                return made
            hit = self.cache.get(key)
            if hit is not None:
                return ClipStream.from_file(hit)
            made = self._streams[key] = ClipStream()
        self._submit(lambda: fill(made, engine, text, lang, self.voice, self.cache, key))
        return made

    def _done_with(self, stream: ClipStream) -> None:
        """Forget ``stream`` once it is whole (its file is in the cache) or failed (made again next time)."""
        with self._lock:
            for key, s in list(self._streams.items()):
                if s is stream and s.done:
                    del self._streams[key]

    def audio_for(self, text: str, lang: str) -> Path:
        """The spoken ``text`` as a cached WAV file (waiting until the whole of it is made)."""
        stream = self.stream(text, lang)
        try:
            return stream.wait()
        finally:
            self._done_with(stream)

    def warm_up(self, lang: str) -> None:
        """Load the engine for ``lang`` on the worker thread (Kokoro's model takes seconds to load) and
        open the output device for the session (:class:`~rehearse.voices.stream.OutputLine`)."""
        try:
            engine = self.engine_for(lang)
        except RehearseError:
            return  # said when the question is spoken
        load = getattr(engine, "load", None)
        if callable(load):
            self._submit(load)  # an error here shows again, as one line, when a question is spoken
        rate = getattr(engine, "sample_rate", None)
        if rate and self._line is None and "*" not in self._muted:
            try:  # the output device starts now, not when the question is read (it takes up to 2 s)
                self._line = OutputLine(int(rate))
            except Exception:  # noqa: BLE001 - no device, or PortAudio missing: said when a question is spoken
                self._line = None

    def cached(self, text: str, lang: str) -> Path | None:
        """The cached audio of ``text`` read by this speaker's engine and voice, or None (raises
        :class:`TTSError` when it cannot be read aloud here at all)."""
        key, _ = self._key(text, lang)
        return self.cache.get(key)

    def prefetch(self, text: str, lang: str) -> None:
        """Start making the audio for ``text`` in the background (errors show when it is spoken)."""
        try:
            if self.cached(text, lang) is None:
                self.stream(text, lang)
        except TTSError:
            return

    def synthesize_to_file(self, text: str, lang: str, path: str | os.PathLike[str]) -> Path:
        """Write the spoken ``text`` to ``path`` (WAV); raises :class:`TTSError` when it cannot."""
        src = self.audio_for(text, lang)
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, p)
        except OSError as exc:
            raise TTSError(f"cannot write {p}: {exc.strerror or exc}") from None
        return p

    def speak(self, text: str, lang: str, stop: Callable[[], bool] | None = None) -> bool:
        """Say ``text`` aloud, starting as soon as its first clause is made, and wait until it ends or
        ``stop()`` is true; False (with ``notice`` set) if it could not. Ctrl-C stops the sound at once.

        A language with no voice is explained once and then skipped quietly; so is everything once the
        audio output has failed. A problem with one text (empty, unreadable) is reported for that text;
        one that shows half way through ends the reading with one line."""
        if lang in self._muted or "*" in self._muted:
            return False
        self.last = Playback()
        try:
            stream = self.stream(text, lang)
        except RehearseError as exc:
            if self.engine_for(lang) is None:
                self._muted.add(lang)
                self.notice = str(exc)
            else:
                self.notice = f"Could not read the question aloud: {exc} The question is shown only."
            return False
        try:
            self._play(stream, lang, stop, self.last)
        except TTSError as exc:
            if stream.error is exc:
                self.notice = f"Could not read the question aloud: {exc} The question is shown only."
            else:
                self._muted.add("*")
                self.notice = f"Could not play the question ({exc}); questions are shown only."
            return False
        return True

    def play(self, text: str, lang: str) -> Playback:
        """Say ``text`` aloud as it is made (from its first clause on) and wait until it ends; unlike
        :meth:`speak`, any problem is raised as one :class:`TTSError` (``rehearse say``)."""
        return self._play(self.stream(text, lang), lang, None, Playback())

    def _play(self, stream: ClipStream, lang: str, stop: Callable[[], bool] | None, playback: Playback) -> Playback:
        """Play ``stream`` on the session's line (or a device of its own) at the engine's rate, then let it go."""
        try:
            return play_stream(stream, stop, playback, getattr(self.engine_for(lang), "sample_rate", None),
                               self._line)
        finally:
            self._done_with(stream)

    def take_notice(self) -> str | None:
        """The pending notice, once."""
        notice, self.notice = self.notice, None
        return notice

    def close(self) -> None:
        """Stop background synthesis: clips being made are dropped (nothing half made is cached)."""
        with self._lock:
            worker, self._worker = self._worker, None
            for s in self._streams.values():
                s.cancel()
            self._streams.clear()
        if worker is not None:
            worker.stop()
        if self._line is not None:
            self._line.close()
            self._line = None


def synthesize_to_file(text: str, lang: str, path: str | os.PathLike[str], *, voice: str | None = None) -> Path:
    """Synthesise ``text`` in ``lang`` to ``path`` with the automatically chosen engine."""
    speaker = Speaker(voice)
    try:
        return speaker.synthesize_to_file(text, lang, path)
    finally:
        speaker.close()


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

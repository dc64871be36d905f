"""The practice session: a mock interview at the keyboard and microphone.

For each question: show it (question, tags, target time) and read it aloud
while the Whisper model loads; a cue; record with a live level meter and
elapsed/target time (stop on Enter, ``max_seconds`` or ``silence_stop``),
transcribing while the user speaks (:mod:`rehearse.live`); score the
streamed transcript with :func:`rehearse.assess.assess_transcript`; show the
report and how this attempt compares with earlier attempts at the same
question; save the attempt in the history store; then retry / next / quit.
A summary closes the session. Each question is read aloud from audio made
while the previous one was answered, and while the last one is answered the
next session's first questions are made (:meth:`Session.run`), so a session
starts speaking at once.

Interruptions:

* Ctrl-C while recording: the file is finalised and the user is asked
  whether to score it (if not, it is stored as "not_scored").
* Ctrl-C while transcribing: the recording is kept, the attempt is stored as
  "not_scored" (finish it with ``rehearse score --attempt ID``), and the
  session ends.
* Silent input: warned while recording; the attempt is kept and stored as
  "no_speech".
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.prompt import Confirm, Prompt
from rich.text import Text

from rehearse.assess import Assessment, assess_transcript, options_for
from rehearse.devices import InputDevice, resolve_device
from rehearse.judges import Judge
from rehearse.live import LiveTranscriber
from rehearse.paths import recordings_dir
from rehearse.recorder import MicSource, Recorder, Recording, Source
from rehearse.report import (
    comparison,
    correction_line,
    meter_line,
    question_panel,
    render_assessment,
    summary_table,
)
from rehearse.rubric import Question
from rehearse.schedule import NEXT_SESSION_CLIPS, Selection, describe_due, replay
from rehearse.store import Store
from rehearse.transcript import Engine, Transcript
from rehearse.tts import Speaker, beep
from rehearse.wavfile import recording_path

#: the next session's first questions (:data:`~rehearse.schedule.NEXT_SESSION_CLIPS` of them) are made ahead
#: while the last question is answered, at most this many in all (the guess is made again once the last answer is scored)
NEXT_SESSION_MAX = 3


@dataclass(frozen=True)
class PracticeOptions:
    """How a session runs (the CLI's options)."""

    speak: bool = True
    voice: str | None = None
    device: str | None = None
    max_seconds: float | None = None
    silence_stop: float | None = None
    recordings: Path | None = None
    judge: Judge | None = None  # default: the offline judge
    hotwords: bool = True  # bias decoding toward the question's English terms


@dataclass
class Outcome:
    """One attempt of the session."""

    question: Question
    status: str                 # scored | no_speech | not_scored
    attempt_id: int | None
    audio: Path | None
    assessment: Assessment | None = None
    latency_s: float | None = None


@dataclass
class Summary:
    """The whole session."""

    session_id: int | None
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False


# --------------------------------------------------------------------------- screen pieces


# --------------------------------------------------------------------------- input


class KeyReader:
    """Non-blocking "was Enter pressed?" on the terminal, without echo while recording.

    On a POSIX terminal stdin is put in cbreak mode (no echo, no line
    buffering; Ctrl-C still interrupts) and restored afterwards. Elsewhere
    (a pipe, Windows) it falls back to lines / msvcrt.
    """

    def __init__(self) -> None:
        self._saved: Any = None
        self._fd: int | None = None

    def __enter__(self) -> "KeyReader":
        if os.name != "nt" and sys.stdin.isatty():
            import termios
            import tty

            self._fd = sys.stdin.fileno()
            self._saved = termios.tcgetattr(self._fd)
            tty.setcbreak(self._fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None and self._fd is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def enter_pressed(self, timeout: float) -> bool:
        """True if Enter was pressed within ``timeout`` seconds; never blocks longer."""
        if os.name == "nt":  # pragma: no cover - Windows console
            import msvcrt

            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if msvcrt.kbhit() and msvcrt.getwch() in "\r\n":  # type: ignore[attr-defined]
                    return True
                time.sleep(0.02)
            return False
        try:
            ready, _, _ = select.select([sys.stdin], [], [], timeout)
        except (ValueError, OSError):  # stdin closed or not selectable
            time.sleep(timeout)
            return False
        if not ready:
            return False
        if self._fd is not None:
            return any(c in b"\r\n" for c in os.read(self._fd, 64))
        if sys.stdin.readline() == "":  # end of input: only max-seconds / silence-stop / Ctrl-C stop now
            time.sleep(timeout)
            return False
        return True


# --------------------------------------------------------------------------- the session


def early_speaker(options: PracticeOptions, lang: str = "zh") -> Speaker | None:
    """The session's voice, warmed up (:meth:`Speaker.warm_up`) before the banks and history are even loaded:
    an output stream that has just started holds its first sound back (measured: 0.9 s through PortAudio →
    ALSA → PulseAudio, 0.13 s once it had run for 2 s), so a first question made ahead is heard at once
    only if the output started a moment before it is shown. None when questions are not read aloud; pass it
    to :class:`Session`, which closes it."""
    if not options.speak:
        return None
    speaker = Speaker(options.voice)
    speaker.warm_up(lang)
    return speaker


class Session:
    """Runs questions one by one (see module docstring)."""

    def __init__(self, engine: Engine, store: Store, options: PracticeOptions, console: Console,
                 source_factory: Callable[[], Source] | None = None, speaker: Speaker | None = None) -> None:
        self.engine = engine
        self.store = store
        self.options = options
        self.console = console
        self.speaker = speaker or (Speaker(options.voice) if options.speak else None)  # run() closes it
        self.source_factory = source_factory or self._mic
        self.summary = Summary(None)
        self._device: InputDevice | None = None
        self._questions: list[Question] = []
        self._selection: Selection | None = None
        self._ahead: list[str] = []  # ids of the next session's questions made ahead

    def _mic(self) -> Source:
        if self._device is None:
            self._device = resolve_device(self.options.device)
        return MicSource(self._device)

    def run(self, questions: Sequence[Question], next_session: Selection | None = None) -> Summary:
        """Practise ``questions`` in order until they run out or the user quits. With ``next_session`` (what the
        questions were picked from), the first questions of the next session are read into the speech cache
        while the last one is answered, so that session's first question is heard at once."""
        if not questions:
            self.console.print("No questions to practise.")
            return self.summary
        self.source_factory()  # a missing or busy device fails before anything else
        self._questions = list(questions)
        self._selection = next_session
        if self.speaker is not None:  # the voice model loads, and the first question is made, while the session starts
            self.speaker.warm_up(questions[0].language)
        self._prefetch(0)
        self.summary.session_id = self.store.start_session("practice")
        try:
            i = 0
            while i < len(questions):
                outcome = self.attempt(questions[i], i + 1, len(questions))
                self.summary.outcomes.append(outcome)
                if self.summary.interrupted:
                    break
                choice = self.ask_next(i + 1 < len(questions))
                while choice == "c":
                    self.ask_correction(outcome)
                    choice = self.ask_next(i + 1 < len(questions))
                if choice == "q":
                    break
                if choice == "n":
                    i += 1
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            self.store.end_session(self.summary.session_id)
            if self.speaker is not None:
                self.speaker.close()
        self.console.print()
        self.console.print(summary_table(self.summary))
        scored = [o.assessment.score.coverage for o in self.summary.outcomes if o.assessment and o.status == "scored"]
        if scored:
            self.console.print(f"mean coverage {sum(scored) / len(scored):.0%} over {len(scored)} scored "
                               f"attempt{'s' if len(scored) != 1 else ''}")
        return self.summary

    def _prefetch(self, i: int) -> None:
        """Start reading question ``i`` (0-based) into the speech cache in the background."""
        if self.speaker is not None and 0 <= i < len(self._questions):
            self.speaker.prefetch(self._questions[i].question, self._questions[i].language)

    def _prefetch_next_session(self, answering: Question | None = None) -> None:
        """Read the next session's first questions (:meth:`Selection.next_first`, a day from now) into the
        speech cache, with this session's engine and voice, on the worker that is idle once the next question
        is made: :data:`NEXT_SESSION_CLIPS` of them, at most :data:`NEXT_SESSION_MAX` in all. They are made
        after whatever is queued; the session's end drops what is half made (nothing half made is cached)."""
        if self.speaker is None or self._selection is None or len(self._ahead) >= NEXT_SESSION_MAX:
            return
        from rehearse.errors import RehearseError

        try:
            first = self._selection.next_first(self.store.attempts(), NEXT_SESSION_CLIPS,
                                               answering=answering.id if answering else None)
        except RehearseError:  # a history locked by another process just now: only a head start is lost
            return
        for q in first:
            if q.id not in self._ahead and len(self._ahead) < NEXT_SESSION_MAX:
                self._ahead.append(q.id)
                self.speaker.prefetch(q.question, q.language)

    def ask_next(self, has_next: bool) -> str:
        """retry / next / quit, or correct a verdict."""
        choices = ["r", "n", "q", "c"] if has_next else ["r", "q", "c"]
        label = ("\\[r]etry, \\[n]ext, \\[q]uit or \\[c]orrect a verdict" if has_next
                 else "\\[r]etry, \\[q]uit or \\[c]orrect a verdict")
        return Prompt.ask(label, choices=choices, default="n" if has_next else "q", console=self.console,
                          show_choices=False)

    def ask_correction(self, outcome: Outcome) -> None:
        """"I said that" / "that doesn't count" on one point of the attempt just scored."""
        from rehearse.corrections import correct
        from rehearse.errors import RehearseError

        if outcome.attempt_id is None or outcome.assessment is None:
            self.console.print(Text("Nothing scored to correct.", style="yellow"))
            return
        points = outcome.assessment.score.points
        for n, p in enumerate(points, 1):
            self.console.print(Text(f"  {n}. [{p.status}] {p.label}"))
        pick = Prompt.ask("point number", choices=[str(n) for n in range(1, len(points) + 1)],
                          console=self.console, show_choices=False)
        point = points[int(pick) - 1]
        said = Prompt.ask("\\[s]aid it, or \\[n]ot said / doesn't count", choices=["s", "n"],
                          console=self.console, show_choices=False) == "s"
        span = Prompt.ask("the words from the transcript that said it (Enter to skip)", default="",
                          console=self.console, show_default=False).strip() if said else ""
        try:
            r = correct(self.store, outcome.attempt_id, point.id, said=said, span=span or None)
        except RehearseError as exc:
            self.console.print(Text(f"Not stored: {exc}", style="red"))
            return
        self.console.print(Text(correction_line(r), style="green"))

    # ---- one question

    def attempt(self, q: Question, index: int, total: int) -> Outcome:
        """Ask one question, record, transcribe, score, show and store the answer."""
        live = LiveTranscriber(self.engine, options_for(q, hotwords=self.options.hotwords)).start()  # the model loads while the question is read
        try:
            outcome = self._attempt(q, index, total, live)
        finally:
            live.close()  # whatever happened, no decode is left running when the process exits
        if index == total and outcome.status == "scored":
            self._prefetch_next_session()  # the guess again, with this answer in the history
        return outcome

    def _attempt(self, q: Question, index: int, total: int, live: LiveTranscriber) -> Outcome:
        self.console.print(question_panel(q, index, total))
        if self.speaker is not None:
            self._read_aloud(q)
            notice = self.speaker.take_notice()  # a language with no voice: said once, then shown only
            if notice:
                self.console.print(Text(notice, style="dim"))
        self._prefetch(index)  # the next question is synthesised while this one is answered
        if index == total:
            self._prefetch_next_session(answering=q)  # then the next session's first ones
        live.wait_loaded()
        path = recording_path(self.options.recordings or recordings_dir(), q.bank, q.id)
        recorder = Recorder(path, self.source_factory(), max_seconds=self.options.max_seconds,
                            silence_stop=self.options.silence_stop, on_block=live.feed)
        beep()
        self.console.print(Text("开始 — speak now; press Enter when you are done.", style="bold green"))
        recording, interrupted = self._record(recorder, q)
        if recording.path is None:
            self.console.print(Text("Nothing was recorded.", style="red"))
            return Outcome(q, "not_scored", None, None)
        self.console.print(Text(f"saved {recording.path} ({recording.seconds:.1f} s, stopped by "
                                f"{recording.stopped_by})", style="dim"))
        if recording.silent:
            self.console.print(Text("The input was silent the whole time (muted microphone?): kept, stored as "
                                    "no speech.", style="bold yellow"))
        if interrupted and not Confirm.ask("Recording interrupted. Score it?", default=True, console=self.console):
            return self._not_scored(q, recording.path, "kept unscored")
        return self._score(q, live, recording)

    def _read_aloud(self, q: Question) -> None:
        """Read the question aloud (it starts after its first clause is made); Enter at a terminal skips
        the rest, Ctrl-C stops the sound and ends the session."""
        assert self.speaker is not None
        if not sys.stdin.isatty():  # piped input holds the answers to the prompts: do not read it here
            self.speaker.speak(q.question, q.language)
            return
        with KeyReader() as keys:
            self.speaker.speak(q.question, q.language, stop=lambda: keys.enter_pressed(0))

    def _record(self, recorder: Recorder, q: Question) -> tuple[Recording, bool]:
        """Record with the live meter until Enter / auto-stop / Ctrl-C; the file is always finalised."""
        interrupted = False
        recorder.start()
        try:
            with KeyReader() as keys, Live(console=self.console, refresh_per_second=10, transient=True) as screen:
                while not recorder.finished:
                    m = recorder.meter
                    warning = ("No sound from the microphone: is it muted? (Enter stops; the attempt is kept)"
                               if m.silent_warning else None)
                    screen.update(meter_line(m.elapsed, m.level_dbfs, q.target_seconds, self.options.max_seconds,
                                             warning))
                    if keys.enter_pressed(0.1):
                        break
        except KeyboardInterrupt:
            interrupted = True
        rec = recorder.stop("interrupt" if interrupted else "enter")
        return rec, interrupted

    def _score(self, q: Question, live: LiveTranscriber, recording: Recording) -> Outcome:
        t0 = time.monotonic()
        assert recording.path is not None
        try:
            with self.console.status("transcribing the last part …"):
                result = live.finish()
        except KeyboardInterrupt:
            self.summary.interrupted = True
            return self._not_scored(q, recording.path, "transcription interrupted")
        transcript: Transcript = result.transcript
        a = assess_transcript(q, transcript, result.speech or None, audio_path=recording.path,
                              timings={"final_wait_s": result.final_wait_s, "transcribe_s": result.compute_s,
                                       "load_s": result.load_s}, judge=self.options.judge,
                              filled_pauses=result.filled_pauses)
        warnings = getattr(self.options.judge, "warnings", None) or []
        for line in warnings:
            self.console.print(Text(f"warning: {line}", style="yellow"))
        warnings.clear()
        previous = self.store.attempts(question=q.id)
        render_assessment(a, self.console)
        self.console.print(comparison(previous, a))
        latency = time.monotonic() - t0
        attempt_id = self.store.save_attempt(a, question=q, session_id=self.summary.session_id,
                                             audio_path=recording.path)
        status = "no_speech" if a.no_speech else "scored"
        due = replay(self.store.attempts(question=q.id)).get(q.id)
        self.console.print(Text(f"report {latency:.1f} s after you stopped · attempt #{attempt_id} saved · "
                                f"this question is {describe_due(due)}", style="dim"))
        return Outcome(q, status, attempt_id, recording.path, a, latency)

    def _not_scored(self, q: Question, path: Path, why: str) -> Outcome:
        attempt_id = self.store.save_attempt(None, question=q, session_id=self.summary.session_id,
                                             audio_path=path, status="not_scored", note=why)
        self.console.print(Text(f"{why}: recording kept at {path}; attempt #{attempt_id} stored as not scored. "
                                f"Finish it later with: rehearse score --attempt {attempt_id}", style="yellow"))
        return Outcome(q, "not_scored", attempt_id, path)

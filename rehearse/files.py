"""Writing files the user chose (--out, --plot, --html, the learned wordings): atomically, one clean error."""

from __future__ import annotations

from pathlib import Path

from rehearse.errors import OutputError


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (a temp file renamed into place); return the path.

    Every OSError (a missing or read-only folder, a path through a file such as
    /dev/null/x, a full disk) becomes one :class:`OutputError` line, and no
    temp file is left behind.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        why = exc.strerror or str(exc)
        if isinstance(exc, (FileExistsError, NotADirectoryError)) and not path.is_dir():
            why = "a part of the folder path is a file, not a folder"
        raise OutputError(f"cannot write {path}: {why}.") from None
    return path


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; return the path."""
    return write_bytes(path, text.encode("utf-8"))

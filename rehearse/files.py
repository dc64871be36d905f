"""Writing files the user chose (--out, --plot, --html, the learned wordings): atomically, one clean error.

Only regular files are written. A symlink is followed deliberately (the file it
points to is replaced, the link stays); a device, a FIFO or a folder at the
path is refused, never replaced. The data goes to a temp file beside the target
that is renamed into place, and removed on any failure, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from rehearse.errors import OutputError


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit (so ``finally`` runs) instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _why(exc: OSError) -> str:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return "a part of the folder path is a file, not a folder"
    return exc.strerror or str(exc)


def _target(path: Path) -> Path:
    """The file to replace: the path itself, or what a symlink at it points to; refuses non-regular files."""
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_why(exc)}.") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {path}: is a directory.")
    if not stat.S_ISREG(mode):
        raise OutputError(f"cannot write {path}: it is not a regular file (a device or a pipe); "
                          "give the path of a file.")
    return target


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (a temp file renamed into place); return the path.

    Every OSError (a missing or read-only folder, a path through a file such as
    /dev/null/x, a full disk) becomes one :class:`OutputError` line, and no
    temp file is left behind.
    """
    path = Path(path)
    target = _target(path)
    tmp = target.with_name(f".{target.name}.tmp")
    done = False
    try:
        with _sigterm_raises():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            tmp.replace(target)
            done = True
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_why(exc)}.") from None
    finally:
        if not done:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    return path


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; return the path."""
    return write_bytes(path, text.encode("utf-8"))

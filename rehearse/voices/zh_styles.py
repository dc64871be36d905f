"""Kokoro's own Mandarin voice styles (zf_* / zm_*), fetched by one command for users with internet.

The set-up never needs them: the packaged Japanese styles read Mandarin intelligibly offline. With
``rehearse models install kokoro-zh``, :func:`install_zh_styles` downloads ``voices-v1.0.bin`` from
kokoro-onnx's ``model-files-v1.0`` release (the 54 Kokoro-82M v1.0 styles as one npz, name ->
(510, 1, 256) float32, 28,214,398 bytes; the same release's int8 model is the one installed from PyPI,
SHA-256 ``6e742170…``), checks its SHA-256, keeps only the Mandarin styles and stamps them in
:func:`zh_dir`, beside the model's own folder (repairing the model never drops them). The URL can point
at a mirror (``--url`` or ``$REHEARSE_KOKORO_ZH_URL``); the file must still have the published SHA-256
(``$REHEARSE_KOKORO_ZH_SHA256`` overrides it, for a file you trust).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from rehearse.errors import ModelNotFoundError
from rehearse.models import _install_lock, _sha256, staged_dir
from rehearse.paths import model_dir

ZH_URL = "https://github.com/thewh1teagle/kokoro-onnx/releases/download/model-files-v1.0/voices-v1.0.bin"
ZH_SHA256 = "bca610b8308e8d99f32e6fe4197e7ec01679264efed0cac9140fe9c29f1fbf7d"
URL_ENV, SHA_ENV = "REHEARSE_KOKORO_ZH_URL", "REHEARSE_KOKORO_ZH_SHA256"
STYLES, STAMP = "voices.npz", ".sha256"
PREFERRED = ("zf_xiaobei", "zf_xiaoxiao", "zm_yunxi")  # the Mandarin default, first one installed
TIMEOUT_S = 30.0
KEEP = "the Japanese voices keep working"


def zh_dir() -> Path:
    """Where the Mandarin styles live (``$REHEARSE_MODELS/kokoro-voices-zh``)."""
    return model_dir() / "kokoro-voices-zh"


def is_zh_style(name: str) -> bool:
    """True for Kokoro's Mandarin style names (zf_xiaobei, zm_yunxi …)."""
    return name.startswith(("zf_", "zm_"))


def zh_styles_intact(folder: Path | None = None) -> bool:
    """True when the Mandarin styles are installed and unchanged since (their SHA-256 matches the stamp)."""
    folder = folder or zh_dir()
    try:
        return (folder / STAMP).read_text().split()[:1] == [_sha256(folder / STYLES)]
    except OSError:
        return False


def load_zh_styles(folder: Path | None = None) -> dict[str, np.ndarray]:
    """The installed Mandarin styles (name -> (510, 256) float32); empty when none are installed.
    A damaged copy is one error saying how to repair it."""
    folder = folder or zh_dir()
    if not (folder / STAMP).is_file():
        return {}
    if not zh_styles_intact(folder):
        raise ModelNotFoundError(f"The Kokoro Mandarin voices in {folder} are damaged (a file changed since they "
                                 "were installed); repair them with 'rehearse models install kokoro-zh'.")
    with np.load(folder / STYLES) as npz:
        return {k: np.asarray(npz[k], np.float32).reshape(-1, 256) for k in npz.files}


def _download(url: str, dest: Path, timeout: float) -> str:
    """Stream ``url`` into ``dest``; its SHA-256. Network trouble is one line."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:  # noqa: S310
            while chunk := resp.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise ModelNotFoundError(f"cannot download {url} (HTTP {exc.code} {exc.reason}); {KEEP}.") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ModelNotFoundError(f"cannot reach {url} ({reason}); {KEEP}.") from None
    return digest.hexdigest()


def _mandarin_styles(path: Path, url: str) -> dict[str, np.ndarray]:
    """The zf_*/zm_* arrays of a downloaded styles file, checked for Kokoro's (510, 1, 256) shape."""
    try:
        with np.load(path) as npz:
            styles = {k: np.asarray(npz[k], np.float32) for k in npz.files if is_zh_style(k)}
    except (OSError, ValueError, zipfile.BadZipFile, AttributeError) as exc:
        raise ModelNotFoundError(f"the file from {url} is not a Kokoro voices file ({exc}); {KEEP}.") from None
    if not styles:
        raise ModelNotFoundError(f"the file from {url} has no Mandarin voice styles (zf_*, zm_*); {KEEP}.")
    bad = sorted(k for k, v in styles.items() if v.size != 510 * 256)
    if bad:
        raise ModelNotFoundError(f"the file from {url} has styles of the wrong shape ({', '.join(bad)}); {KEEP}.")
    return {k: v.reshape(510, 1, 256) for k, v in styles.items()}


def install_zh_styles(url: str | None = None, sha256: str | None = None, target: Path | None = None,
                      timeout: float = TIMEOUT_S) -> list[str]:
    """Download the Kokoro styles file, check its SHA-256, install its Mandarin styles; their names.

    ``url`` and ``sha256`` default to ``$REHEARSE_KOKORO_ZH_URL`` / ``$REHEARSE_KOKORO_ZH_SHA256`` and then to
    the published release. Nothing is installed unless the whole file arrived with the right SHA-256; an
    earlier install is replaced only by a good one. Every failure is one :class:`ModelNotFoundError` line."""
    url = url or os.environ.get(URL_ENV) or ZH_URL
    expected = (sha256 or os.environ.get(SHA_ENV) or ZH_SHA256).lower()
    target = target or zh_dir()
    with _install_lock(target.parent):
        fd, tmp_name = tempfile.mkstemp(prefix=".kokoro-zh-", suffix=".download", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            digest = _download(url, tmp, timeout)
            if digest != expected:
                raise ModelNotFoundError(f"the file from {url} has SHA-256 {digest}, expected {expected}; "
                                         f"nothing was installed ({KEEP}).")
            styles = _mandarin_styles(tmp, url)
            with staged_dir(target, ".kokoro-zh-") as stage:
                np.savez(stage / STYLES, **styles)  # type: ignore[arg-type]
                (stage / STAMP).write_text(f"{_sha256(stage / STYLES)} {url}\n")
        finally:
            tmp.unlink(missing_ok=True)
    return sorted(styles)


def preferred_zh(names: list[str]) -> str | None:
    """The Mandarin style to read Mandarin with by default, among the installed ``names``; None if none."""
    zh = sorted(n for n in names if is_zh_style(n))
    return next((n for n in PREFERRED if n in zh), zh[0] if zh else None)

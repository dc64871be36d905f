"""Kokoro's own Mandarin voice styles (zf_* / zm_*), installed by one command.

``rehearse models install kokoro-zh`` (:func:`install_zh_styles`) takes them from one of two sources:

* the npm package ``kokoro-js@1.2.1`` (Apache-2.0), fetched with ``npm pack`` from the npm registry, which
  ships every Kokoro-82M v1.0 style as a raw (510, 1, 256) float32 file (``voices/zf_xiaobei.bin`` …; its
  jm_kumo is byte for byte the packaged one). Each Mandarin style is checked against its SHA-256 in
  :data:`NPM_SHA256`. This is the default when ``npm`` is on the PATH; ``$REHEARSE_KOKORO_ZH_NPM`` names
  another spec (a local ``kokoro-js-1.2.1.tgz`` made by ``npm pack`` on another machine, say);
* ``voices-v1.0.bin`` from kokoro-onnx's ``model-files-v1.0`` release (the 54 styles as one npz, 28,214,398
  bytes; the same release's int8 model is the one installed from PyPI, SHA-256 ``6e742170…``), checked
  against its SHA-256; used with ``--url`` / ``$REHEARSE_KOKORO_ZH_URL`` (a mirror), or when npm is
  missing or fails. ``$REHEARSE_KOKORO_ZH_SHA256`` overrides the expected hash, for a file you trust.

Only the Mandarin styles are kept, stamped in :func:`zh_dir` beside the model's own folder (repairing the
model never drops them).

One of them ships in the package (:func:`packaged_zh_styles`, ``rehearse/data/voices/``): rehearse reads
Mandarin with its prosody half by default (see :data:`rehearse.voices.kokoro.MANDARIN_VOICE`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
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
URL_ENV, SHA_ENV, NPM_ENV = "REHEARSE_KOKORO_ZH_URL", "REHEARSE_KOKORO_ZH_SHA256", "REHEARSE_KOKORO_ZH_NPM"
NPM_SPEC = "kokoro-js@1.2.1"
#: SHA-256 of each Mandarin style file in kokoro-js 1.2.1 (``package/voices/<name>.bin``).
NPM_SHA256 = {
    "zf_xiaobei": "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
    "zf_xiaoni": "08892b62a39af0a615cd0581238db7e19e44c578e8fa0bfd0e586e93327d9cba",
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zf_xiaoyi": "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    "zm_yunjian": "de48a00bdbf3649f07162269a2b6e0513604389bfac8a2e6c75cb34b323ad6fa",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "zm_yunxia": "6b2b8fc15b3df19a368daebe5c581c7fabf433ee5b8a17ffd6b3d723cff8936d",
    "zm_yunyang": "261e2c89470534dbbcb8fd98b8fdc495ec94063d9bb6c8277f7be43cccba3f42",
}
NPM_TIMEOUT_S = 300.0
STYLES, STAMP = "voices.npz", ".sha256"
PACKAGED = ("zm_yunjian",)  # shipped in rehearse/data/voices/ (raw float32, as in kokoro-js)
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


def _npm_styles(spec: str, workdir: Path, timeout: float) -> dict[str, np.ndarray]:
    """The Mandarin styles of the npm package ``spec`` (fetched with ``npm pack``), each SHA-256-checked."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelNotFoundError("npm is not installed")
    try:
        done = subprocess.run([npm, "pack", spec, "--pack-destination", str(workdir), "--silent"],  # noqa: S603
                              capture_output=True, text=True, timeout=timeout, cwd=workdir)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelNotFoundError(f"npm pack {spec} failed ({type(exc).__name__})") from None
    if done.returncode:
        why = next((ln.strip() for ln in reversed(done.stderr.splitlines()) if ln.strip()), f"exit {done.returncode}")
        raise ModelNotFoundError(f"npm pack {spec} failed ({why})")
    tgz = next(iter(sorted(workdir.glob("*.tgz"))), None)
    if tgz is None:
        raise ModelNotFoundError(f"npm pack {spec} made no package file")
    styles: dict[str, np.ndarray] = {}
    try:
        with tarfile.open(tgz) as tar:
            for member in tar.getmembers():
                m = re.fullmatch(r"package/voices/(z[fm]_\w+)\.bin", member.name)
                f = tar.extractfile(member) if m and member.isfile() else None
                if m is None or f is None or m.group(1) not in NPM_SHA256:
                    continue
                data = f.read()
                if hashlib.sha256(data).hexdigest() != NPM_SHA256[m.group(1)]:
                    raise ModelNotFoundError(f"{m.group(1)} in {spec} has another SHA-256 than kokoro-js 1.2.1's; "
                                             "nothing was installed")
                styles[m.group(1)] = np.frombuffer(data, np.float32).reshape(510, 1, 256)
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise ModelNotFoundError(f"the package from npm pack {spec} cannot be read ({exc})") from None
    if not styles:
        raise ModelNotFoundError(f"{spec} has none of Kokoro's Mandarin voice styles")
    return styles


def _url_styles(url: str, expected: str, workdir: Path, timeout: float) -> dict[str, np.ndarray]:
    """The Mandarin styles of the voices file at ``url``, whose SHA-256 must be ``expected``."""
    tmp = workdir / "voices.bin"
    digest = _download(url, tmp, timeout)
    if digest != expected:
        raise ModelNotFoundError(f"the file from {url} has SHA-256 {digest}, expected {expected}; "
                                 f"nothing was installed ({KEEP}).")
    return _mandarin_styles(tmp, url)


def install_zh_styles(url: str | None = None, sha256: str | None = None, target: Path | None = None,
                      timeout: float = TIMEOUT_S) -> list[str]:
    """Install Kokoro's Mandarin styles from npm (``kokoro-js``) or a voices file; their names.

    With ``url`` (or ``$REHEARSE_KOKORO_ZH_URL``) the voices file there, whose SHA-256 must be ``sha256``
    (default ``$REHEARSE_KOKORO_ZH_SHA256``, then the published one). Without, ``npm pack`` of
    ``$REHEARSE_KOKORO_ZH_NPM`` (default :data:`NPM_SPEC`) when npm is on the PATH, else (or when that fails)
    the published voices file. Nothing is installed unless every style kept has the right SHA-256; an earlier
    install is replaced only by a good one. Every failure is one :class:`ModelNotFoundError` line."""
    url = url or os.environ.get(URL_ENV)
    expected = (sha256 or os.environ.get(SHA_ENV) or ZH_SHA256).lower()
    target = target or zh_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _install_lock(target.parent), tempfile.TemporaryDirectory(prefix=".kokoro-zh-", dir=target.parent) as d:
        work = Path(d)
        if url:
            styles, source = _url_styles(url, expected, work, timeout), url
        else:
            spec = os.environ.get(NPM_ENV) or NPM_SPEC
            try:
                styles, source = _npm_styles(spec, work, max(timeout, NPM_TIMEOUT_S)), f"npm:{spec}"
            except ModelNotFoundError as npm_failed:
                try:
                    styles, source = _url_styles(ZH_URL, expected, work, timeout), ZH_URL
                except ModelNotFoundError as exc:
                    raise ModelNotFoundError(f"{npm_failed}; and {exc}") from None
        with staged_dir(target, ".kokoro-zh-") as stage:
            np.savez(stage / STYLES, **styles)  # type: ignore[arg-type]
            (stage / STAMP).write_text(f"{_sha256(stage / STYLES)} {source}\n")
    return sorted(styles)


def packaged_zh_styles() -> dict[str, np.ndarray]:
    """The Mandarin styles shipped in the package (name -> (510, 256) float32), each checked against its
    SHA-256; a damaged one is one error saying to reinstall rehearse."""
    from importlib.resources import files

    out: dict[str, np.ndarray] = {}
    for name in PACKAGED:
        try:
            data = files("rehearse.data.voices").joinpath(f"{name}.bin").read_bytes()
        except (OSError, ModuleNotFoundError) as exc:
            raise ModelNotFoundError(f"rehearse's packaged voice style {name} is missing ({exc}); "
                                     "reinstall rehearse.") from None
        if hashlib.sha256(data).hexdigest() != NPM_SHA256[name]:
            raise ModelNotFoundError(f"rehearse's packaged voice style {name} is damaged (SHA-256 differs); "
                                     "reinstall rehearse.")
        out[name] = np.frombuffer(data, np.float32).reshape(510, 256).copy()
    return out

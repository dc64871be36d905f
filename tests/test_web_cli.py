"""`rehearse serve` as a command: a real server process, the port and host faults, the packaged assets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from rehearse.cli import app
from tests.conftest import ROOT
from tests.web_support import free_port

runner = CliRunner()


def test_serve_is_documented_in_its_help():
    r = runner.invoke(app, ["serve", "--help"])
    assert r.exit_code == 0
    assert "Practise in the browser" in r.stdout and "--no-browser" in r.stdout and "--host" in r.stdout


def test_a_taken_port_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(app, ["serve", "--no-browser", "--port", str(port), "--recordings", str(tmp_path)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (f"Error: cannot listen on 127.0.0.1:{port} (Address already in use): is another "
                                "'rehearse serve' running? Pick another --port.")


def test_all_interfaces_warns(tmp_path):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(app, ["serve", "--no-browser", "--host", "0.0.0.0", "--port", str(port),
                                "--recordings", str(tmp_path)])
    assert r.exit_code == 2
    assert "anyone on your network can reach this page" in r.stderr
    assert "microphone only on localhost or HTTPS" in r.stderr


def test_the_server_process_serves_guards_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "rehearse", "serve", "--no-browser", "--port", str(port),
                             "--recordings", str(tmp_path / "rec")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"rehearse is at http://127.0.0.1:{port}/"), line
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert r.status_code == 200 and 'name="rehearse-token"' in r.text
        js = httpx.get(f"http://127.0.0.1:{port}/static/record.js", timeout=5)
        assert js.status_code == 200 and "getUserMedia" in js.text
        rebound = httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": f"attacker.example:{port}"}, timeout=5)
        assert rebound.status_code == 421
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_every_web_asset_is_in_the_package_data():
    """The wheel ships what the pages load: every template and static file matches a package-data glob."""
    from setuptools.config.pyprojecttoml import read_configuration  # tomllib is 3.11+, setuptools vendors a parser

    data = read_configuration(ROOT / "pyproject.toml")["tool"]["setuptools"]
    web = ROOT / "rehearse" / "web"
    files = []
    for d in ("templates", "static"):
        package = f"rehearse.web.{d}"
        assert package in data["packages"]
        globs = data["package-data"][package]
        for f in (web / d).iterdir():
            files.append(f.name)
            assert any(Path(f.name).match(g) for g in globs), f"{d}/{f.name} would not ship in the wheel"
    assert len(files) >= 10


def test_the_browser_is_opened_on_the_page_once_the_server_answers(tmp_path):
    """Without --no-browser the user's browser ($BROWSER, as the webbrowser module reads it) is opened on the
    page's address, and only when the server is listening: the "browser" here fetches the page at once."""
    port = free_port()
    fake_browser = tmp_path / "browser.py"
    seen = tmp_path / "seen.txt"
    fake_browser.write_text("import sys, httpx\n"
                            "r = httpx.get(sys.argv[1], timeout=10)\n"
                            f"open({str(seen)!r}, 'w').write(sys.argv[1] + ' ' + str(r.status_code))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BROWSER": f"{sys.executable} {fake_browser} %s"}
    proc = subprocess.Popen([sys.executable, "-m", "rehearse", "serve", "--port", str(port),
                             "--recordings", str(tmp_path / "rec")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not seen.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert seen.exists(), "no browser was opened"
        time.sleep(0.1)
        assert seen.read_text() == f"http://127.0.0.1:{port}/ 200"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

"""A real audio stack for tests: a private PulseAudio server with a virtual microphone.

The server runs with its own socket, home and runtime directory (so it never
touches a user's sound server) and one null sink, ``feed``. Its monitor,
``feed.monitor``, is the default source: whatever is played into ``feed``
(``paplay``, at the real pace of the audio) is what a program recording from
the default input hears. sounddevice reaches it through PortAudio → ALSA →
the PulseAudio ALSA plugin (``pulse`` / ``default`` devices), exactly as on a
desktop.

Needs the Debian packages pulseaudio, pulseaudio-utils and libasound2-plugins
(scripts/sysdeps.sh installs them); :func:`start` returns None with the reason
when they are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PA_SCRIPT = """\
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
load-module module-null-sink sink_name=feed rate=16000 channels=1 format=s16le
set-default-sink feed
set-default-source feed.monitor
"""


@dataclass
class PulseServer:
    """A running private PulseAudio server."""

    root: Path
    proc: subprocess.Popen
    socket: Path
    players: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client process: only the server address changes."""
        return {**os.environ, "PULSE_SERVER": f"unix:{self.socket}"}

    def play(self, path: str | os.PathLike[str]) -> subprocess.Popen:
        """Start playing an audio file into the virtual microphone (returns at once)."""
        p = subprocess.Popen(["paplay", "--device=feed", str(path)], env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.players.append(p)
        return p

    def hush(self) -> None:
        """Stop whatever is still playing into the microphone (a test that ended before its clip did)."""
        for p in self.players:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.players.clear()

    def stop(self) -> None:
        self.hush()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(root: Path) -> PulseServer | str:
    """Start a private server under ``root``; a reason string if that is impossible here."""
    for tool in ("pulseaudio", "paplay", "pactl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/sysdeps.sh installs pulseaudio and pulseaudio-utils)"
    if not Path("/usr/lib/x86_64-linux-gnu/alsa-lib/libasound_module_pcm_pulse.so").exists() and \
            not list(Path("/usr/lib").glob("**/libasound_module_pcm_pulse.so")):
        return "the PulseAudio ALSA plugin is not installed (libasound2-plugins)"
    root.mkdir(parents=True, exist_ok=True)
    for d in ("home", "run"):
        (root / d).mkdir(exist_ok=True)
        os.chmod(root / d, 0o700)
    sock = root / "native"
    script = root / "default.pa"
    script.write_text(PA_SCRIPT.format(socket=sock))
    env = {**os.environ, "HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(root / "run"),
           "XDG_CONFIG_HOME": str(root / "home" / ".config")}
    env.pop("PULSE_SERVER", None)
    log = open(root / "pulse.log", "wb")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(["pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1",
                             "--use-pid-file=no", "--log-target=stderr"],
                            env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    server = PulseServer(root, proc, sock)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"pulseaudio exited at start: {(root / 'pulse.log').read_text(errors='replace')[-300:]}"
        if sock.exists() and subprocess.run(["pactl", "info"], env=server.env, capture_output=True).returncode == 0:
            return server
        time.sleep(0.1)
    server.stop()
    return "pulseaudio did not come up within 15 s"


@pytest.fixture(autouse=True)
def _hush_after_each_test(request: pytest.FixtureRequest):
    """The server lives for a module: a clip a test left playing must not reach the next test's microphone
    (a silent-input test heard the end of the previous test's answer)."""
    yield
    if "pulse" in request.fixturenames:
        request.getfixturevalue("pulse").hush()


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory):
    """A private PulseAudio server; sounddevice re-initialised to see it."""
    server = start(tmp_path_factory.mktemp("pulse"))
    if isinstance(server, str):
        pytest.skip(f"no real audio stack here: {server}")
    old = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = f"unix:{server.socket}"
    import sounddevice as sd

    sd._terminate()  # PortAudio enumerates devices once: rescan with the server running
    sd._initialize()
    yield server
    server.stop()
    if old is None:
        os.environ.pop("PULSE_SERVER", None)
    else:
        os.environ["PULSE_SERVER"] = old
    sd._terminate()
    sd._initialize()

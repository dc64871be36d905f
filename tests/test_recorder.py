"""Recording through a real audio stack: PortAudio → ALSA → a private PulseAudio server.

The tests play audio into a virtual microphone (see tests/audio_stack.py) and
record it with sounddevice, exactly as a user's microphone would be.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf

from rehearse.audio import load_audio, rms_dbfs
from rehearse.devices import input_devices, open_error, resolve_device
from rehearse.errors import DeviceError, DiskFullError
from rehearse.recorder import MicSource, Recorder
from rehearse.wavfile import WavStream, recording_path, repair_wav
from tests.audio_stack import _hush_after_each_test, pulse  # noqa: F401 - the fixtures
from tests.conftest import ROOT, shared_clip

JFK = ("real", "jfk.flac")


def test_devices_are_listed(pulse):
    names = [d.name for d in input_devices()]
    assert "pulse" in names and "default" in names
    assert resolve_device(None).is_default
    assert resolve_device("pulse").name == "pulse"
    r = subprocess.run([sys.executable, "-m", "rehearse.cli", "devices"], env=pulse.env, capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "pulse" in r.stdout and "* = default" in r.stdout


def test_records_the_real_samples_played_into_the_microphone(pulse, tmp_path):
    clip = shared_clip(*JFK)
    blocks: list[np.ndarray] = []
    rec = Recorder(tmp_path / "a.wav", MicSource(resolve_device("pulse")), max_seconds=6, on_block=blocks.append)
    rec.start()
    pulse.play(clip)
    assert rec.wait(20), "max-seconds never stopped the recording"
    r = rec.stop()
    assert r.stopped_by == "max" and r.path == tmp_path / "a.wav"
    info = sf.info(str(r.path))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.frames == 6 * 16000
    got = load_audio(r.path)
    assert r.heard_voice and not r.silent and rms_dbfs(got) > -35
    assert np.allclose(np.concatenate(blocks), got, atol=1 / 32768 * 1.01)  # on disk = what was captured
    # it is JFK: the loudness envelope follows the source's (correlation at the best lag)
    src = load_audio(clip)[: 8 * 16000]

    def env(x):
        return np.sqrt(np.convolve(x ** 2, np.ones(800) / 800, mode="valid")[::160])

    e_src, e_got = env(src), env(got)
    best = max(np.corrcoef(e_got[: len(e_got) - lag], e_src[lag: lag + len(e_got) - lag])[0, 1]
               if lag >= 0 else np.corrcoef(e_got[-lag:], e_src[: len(e_got) + lag])[0, 1]
               for lag in range(-150, 150, 2))
    assert best > 0.8


def test_silence_stop_after_speech(pulse, tmp_path):
    clip = shared_clip("real", "ljspeech_LJ001-0002.flac")  # 1.9 s of speech, then the line is silent
    rec = Recorder(tmp_path / "s.wav", MicSource(resolve_device("pulse")), max_seconds=30, silence_stop=1.0)
    rec.start()
    time.sleep(0.3)
    pulse.play(clip)
    assert rec.wait(15)
    r = rec.stop()
    assert r.stopped_by == "silence"
    assert 2.0 < r.seconds < 6.0


def test_silent_input_is_warned_and_kept(pulse, tmp_path):
    rec = Recorder(tmp_path / "quiet.wav", MicSource(resolve_device("pulse")), max_seconds=3.2)
    rec.start()
    time.sleep(1.0)
    assert not rec.meter.silent_warning  # not before SILENT_WARN_AFTER_S
    assert rec.wait(15)
    assert rec.meter.silent_warning
    r = rec.stop()
    assert r.silent and not r.heard_voice and r.path is not None
    assert abs(sf.info(str(r.path)).duration - 3.2) < 0.01


def test_file_is_valid_while_recording_and_after_the_process_is_killed(pulse, tmp_path):
    out = tmp_path / "crash.wav"
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from rehearse.devices import resolve_device
        from rehearse.recorder import MicSource, Recorder
        rec = Recorder(Path({str(out)!r}), MicSource(resolve_device("pulse")), max_seconds=60)
        rec.start()
        print("recording", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=pulse.env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "recording"
        pulse.play(shared_clip(*JFK))
        time.sleep(2.5)
        first = sf.info(str(out)).frames
        time.sleep(1.5)
        second = sf.info(str(out)).frames  # readable while being written, and growing
        data, rate = sf.read(str(out))
        assert rate == 16000 and len(data) == second
        assert first > 8000 and second - first > 16000
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    after = sf.info(str(out))
    data, _ = sf.read(str(out))
    assert len(data) == after.frames >= second
    assert rms_dbfs(data) > -40  # the speech is there


def test_disk_full_leaves_a_valid_file_or_none(pulse, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and mount to make a tiny filesystem (see the RLIMIT_FSIZE test)")
    try:
        rec = Recorder(mnt / "full.wav", MicSource(resolve_device("pulse")), max_seconds=30)
        rec.start()
        pulse.play(shared_clip(*JFK))
        assert rec.wait(20), "the full disk never stopped the recording"
        with pytest.raises(DiskFullError) as exc:
            rec.stop()
        assert "disk is full" in str(exc.value) and "valid WAV" in str(exc.value)
        info = sf.info(str(mnt / "full.wav"))  # what fit is a valid file
        assert 1.0 < info.duration < 3.5
        assert len(sf.read(str(mnt / "full.wav"))[0]) == info.frames
        assert [p.name for p in mnt.iterdir()] == ["full.wav"]
        # the disk is now full: a new recording fails at once and leaves nothing behind
        with pytest.raises(DiskFullError):
            Recorder(mnt / "next.wav", MicSource(resolve_device("pulse"))).start()
        assert not (mnt / "next.wav").exists()
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_file_size_limit_is_a_disk_full_error_without_corrupt_file(tmp_path):
    """Without root: RLIMIT_FSIZE makes writes fail with EFBIG, like a full disk."""
    out = tmp_path / "limited.wav"
    script = textwrap.dedent(f"""
        import resource, numpy as np
        from pathlib import Path
        from rehearse.errors import DiskFullError
        from rehearse.wavfile import WavStream
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
        w = WavStream(Path({str(out)!r}))
        try:
            for _ in range(100):
                w.write(np.full(1600, 0.1, np.float32))
        except DiskFullError as e:
            print("error:", e)
        print("kept", w.close())
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert "error: The disk is full" in r.stdout, r.stdout + r.stderr
    kept = float(r.stdout.strip().splitlines()[-1].split()[-1])
    info = sf.info(str(out))
    assert abs(info.duration - kept) < 1e-6 and 1.0 < kept < 1.3
    assert out.stat().st_size == 44 + info.frames * 2


def test_repair_removes_a_file_without_audio(tmp_path):
    p = tmp_path / "broken.wav"
    p.write_bytes(b"RIFF\x00\x00")
    assert repair_wav(p) == 0.0 and not p.exists()
    w = WavStream(tmp_path / "empty.wav")
    assert w.close() == 0.0 and not (tmp_path / "empty.wav").exists()


def test_recording_path_layout(tmp_path):
    p = recording_path(tmp_path, "papers", "3d-ssgan")
    assert p.parent == tmp_path / "papers" / "3d-ssgan" and p.suffix == ".wav"
    p.parent.mkdir(parents=True)
    p.touch()
    assert recording_path(tmp_path, "papers", "3d-ssgan", None) != p


def test_unknown_device_names_it_and_rehearse_devices(pulse):
    with pytest.raises(DeviceError) as exc:
        resolve_device("usb-headset")
    msg = str(exc.value)
    assert "'usb-headset'" in msg and "rehearse devices" in msg and "pulse" in msg
    with pytest.raises(DeviceError, match="Input device 99 does not exist"):
        resolve_device("99")


def test_busy_device_error_names_the_device():
    import sounddevice as sd

    # the exact error sounddevice raises when PortAudio returns paDeviceUnavailable (ALSA: EBUSY)
    exc = sd.PortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]", -9985)
    err = open_error(exc, "USB Mic")
    assert "'USB Mic' is busy" in str(err) and "rehearse devices" in str(err) and err.exit_code == 2
    host = sd.PortAudioError("Error opening InputStream: Unanticipated host error [PaErrorCode -9999]: "
                             "'Permission denied' [ALSA error -13]", -9999, (0, -13, "Permission denied"))
    assert "Permission denied opening input device 'USB Mic'" in str(open_error(host, "USB Mic"))


def _cli(*args: str, env: dict[str, str], user: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*(user or []), sys.executable, "-m", "rehearse.cli", *args], env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_no_input_device_is_one_clear_line(tmp_path):
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path}/no-such-server", "REHEARSE_HOME": str(tmp_path)}
    for args in (("devices",), ("practice", "-q", "moco", "--no-speak")):
        r = _cli(*args, env=env)
        assert r.returncode == 2, r.stdout + r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: No input device found")
        assert "rehearse devices" in lines[0] and "--device" in lines[0]


def test_permission_denied_on_the_sound_server(pulse, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to run the client as another user")
    # 'nobody', allowed to read and traverse every folder (the checkout may sit in a 0700 temp dir), but
    # without CAP_DAC_OVERRIDE: connecting to a socket needs write permission, which it lacks.
    user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    if subprocess.run([*user, sys.executable, "-c", "import rehearse.recorder"], cwd=ROOT,
                      capture_output=True).returncode != 0:
        pytest.skip("the 'nobody' user cannot run this Python")
    before = pulse.socket.stat().st_mode
    os.chmod(pulse.socket, 0o600)  # only the server's user may connect now
    try:
        r = _cli("devices", env={**pulse.env, "HOME": str(tmp_path)}, user=user)
    finally:
        os.chmod(pulse.socket, before)
    assert r.returncode == 2, r.stdout + r.stderr
    line = r.stderr.strip().splitlines()
    assert len(line) == 1 and "permission denied on the sound server socket" in line[0]
    assert str(pulse.socket) in line[0] and "rehearse devices" in line[0]

"""Helpers for the web tests: an app over the fake engine, PCM chunks of real speech."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from rehearse.audio import SAMPLE_RATE, load_audio
from rehearse.examples import example_answer
from rehearse.web.app import WebConfig, create_app

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")

BASE = "http://127.0.0.1:8765"
MOCO = "MoCo 用一个队列维护负样本，key 编码器用动量更新，是 query 编码器参数的滑动平均。"


def make_app(engine, recordings: Path, **kw):  # type: ignore[no-untyped-def]
    """The real app over ``engine``, answering to 127.0.0.1:8765."""
    return create_app(WebConfig(engine=engine, recordings=recordings, port=8765, **kw))


def pcm_chunks(path: Path, rate: int = SAMPLE_RATE, chunk_s: float = 0.25) -> list[bytes]:
    """A recording as the page sends it: 16-bit little-endian PCM at ``rate``, in ``chunk_s`` chunks."""
    audio = load_audio(path)
    if rate != SAMPLE_RATE:
        import soxr

        audio = soxr.resample(audio, SAMPLE_RATE, rate)
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    n = int(rate * chunk_s)
    return [pcm[i:i + n].tobytes() for i in range(0, len(pcm), n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``rehearse serve``'s app under a real uvicorn, in a thread."""

    def __init__(self, engine, recordings: Path) -> None:  # type: ignore[no-untyped-def]
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(WebConfig(engine=engine, recordings=recordings, port=self.port))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def answer_wav(tmp_path: Path, seconds: float) -> Path:
    """The microphone's input: the example answer cut to ``seconds``, then silence (Chromium loops the file).
    Longer than the example (54.5 s), the answer is spoken again after a 0.8 s pause, as often as needed."""
    path, _ = example_answer()
    one = load_audio(path)
    pieces = [one]
    while sum(len(p) for p in pieces) < seconds * SAMPLE_RATE:
        pieces += [np.zeros(int(0.8 * SAMPLE_RATE), np.float32), one]
    audio = np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)]
    audio = np.concatenate([audio, np.zeros(30 * SAMPLE_RATE, np.float32)])
    out = tmp_path / "answer.wav"
    sf.write(str(out), audio, SAMPLE_RATE, subtype="PCM_16")
    return out


def browser(mic: Path | None, *, allow_mic: bool = True):  # type: ignore[no-untyped-def]
    """Headless Debian Chromium; its fake microphone plays ``mic`` (None: a beep); ``allow_mic=False`` denies it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    mic_args = ["--use-fake-device-for-media-stream"]
    if mic is not None:
        mic_args.append(f"--use-file-for-fake-audio-capture={mic}")
    mic_args.append("--use-fake-ui-for-media-stream" if allow_mic else "--deny-permission-prompts")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *mic_args,
                "--autoplay-policy=no-user-gesture-required", "--window-size=1280,1800", "--lang=zh-CN", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def requested_urls(driver) -> list[str]:  # type: ignore[no-untyped-def]
    """Every URL the page asked the network for (Chrome DevTools' Network.requestWillBeSent)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def wait_for(driver, script: str, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")

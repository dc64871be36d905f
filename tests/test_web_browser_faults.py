"""Bad input on the page, in headless Chromium (fake engine, no model): each a clear message, nothing lost."""

from __future__ import annotations

import time

import pytest
import soundfile as sf
from selenium.webdriver.common.by import By

from rehearse.store import Store
from tests.conftest import FakeEngine
from tests.web_support import CHROMIUM, DRIVER, Server, browser, wait_for

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromium-driver "
                                                                   "(scripts/sysdeps.sh installs them)")]


def message(driver) -> str:  # type: ignore[no-untyped-def]
    return str(driver.find_element(By.ID, "message").text)


def recording_a_second(driver, server):  # type: ignore[no-untyped-def]
    """Start recording moco's answer on the page; return the server's studio once it holds ≥ 1 s of it."""
    driver.get(f"{server.url}/practice?q=moco")
    wait_for(driver, "return window.rehearseReady === true", 10, "the page")
    driver.find_element(By.ID, "record").click()
    wait_for(driver, "return document.getElementById('record').textContent.includes('Stop')", 10, "recording")
    studio = server.server.config.app.state.ctx.studio
    deadline = time.monotonic() + 20
    while (studio.active is None or studio.active.seconds < 1.0) and time.monotonic() < deadline:
        time.sleep(0.05)
    return studio


def test_microphone_permission_denied_is_said_and_nothing_is_started(tmp_path):
    with Server(FakeEngine(), tmp_path / "rec") as server:
        driver = browser(None, allow_mic=False)
        try:
            driver.get(f"{server.url}/practice?q=moco")
            wait_for(driver, "return window.rehearseReady === true", 10, "the page")
            driver.find_element(By.ID, "record").click()
            wait_for(driver, "return document.getElementById('message').className.includes('error')", 10,
                     "the error")
            assert message(driver).startswith("Microphone permission denied: allow the microphone")
            assert driver.find_element(By.ID, "record").is_enabled()  # try again after allowing it
        finally:
            driver.quit()
    assert not (tmp_path / "rec").exists() or list((tmp_path / "rec").rglob("*.wav")) == []


def test_the_server_stopped_mid_answer_keeps_both_halves(tmp_path):
    """What reached the server is a valid WAV and a not-scored attempt; the page offers the whole answer."""
    server = Server(FakeEngine(), tmp_path / "rec").__enter__()
    driver = browser(None)
    try:
        recording_a_second(driver, server)
        server.__exit__()  # Ctrl-C on 'rehearse serve' while the user speaks
        time.sleep(1.5)  # the user goes on talking to a server that is gone
        driver.find_element(By.ID, "record").click()
        link = wait_for(driver, "return document.querySelector('#download a')", 25, "the download link")
        assert link.get_attribute("download") == "moco-answer.wav"
        assert "the whole answer is kept in this page" in message(driver)
        size = int(link.get_attribute("data-bytes"))
        rate = driver.execute_script("return new AudioContext().sampleRate")
    finally:
        driver.quit()
    (wav,) = (tmp_path / "rec").rglob("*.wav")
    on_server = sf.info(str(wav)).duration
    assert on_server >= 1.0
    assert (size - 44) / 2 / rate >= on_server + 1.0  # the page kept it all, the part after the server went too
    with Store.open() as s:
        (a,) = s.attempts()
    assert a.status == "not_scored" and a.audio_path == wav.resolve()


def _offline(driver, offline: bool) -> None:  # type: ignore[no-untyped-def]
    """Chromium's own network emulation: every request fails (the server keeps running), or works again."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def test_a_dropped_connection_is_resent_when_it_is_back_and_nothing_is_missing(tmp_path):
    """The page keeps every chunk the server has not confirmed; when the connection is back it sends
    them in order, so the recording on the server has no hole where the connection was down."""
    with Server(FakeEngine().enqueue("MoCo 用 动量 编码器"), tmp_path / "rec") as server:
        driver = browser(None)
        try:
            driver.get(f"{server.url}/practice?q=moco")
            wait_for(driver, "return window.rehearseReady === true", 10, "the page")
            driver.find_element(By.ID, "record").click()
            started = time.monotonic()
            wait_for(driver, "return document.getElementById('record').textContent.includes('Stop')", 10, "recording")
            studio = server.server.config.app.state.ctx.studio
            deadline = time.monotonic() + 20
            while (studio.active is None or studio.active.seconds < 1.0) and time.monotonic() < deadline:
                time.sleep(0.05)
            _offline(driver, True)
            wait_for(driver, "return document.getElementById('message').textContent.includes('cannot be reached')",
                     15, "the connection-lost message")
            assert "your answer is kept in this page" in message(driver)
            during = studio.active.seconds
            time.sleep(2.0)  # the user keeps talking while nothing reaches the server
            assert studio.active.seconds - during < 0.5
            _offline(driver, False)
            wait_for(driver, "return document.getElementById('message').textContent.includes('Connected again')",
                     15, "the reconnection")
            time.sleep(0.5)
            driver.find_element(By.ID, "record").click()  # stop
            stopped = time.monotonic()
            wait_for(driver, "return location.pathname.startsWith('/attempts/')", 30, "the report page")
        finally:
            driver.quit()
    (wav,) = (tmp_path / "rec").rglob("*.wav")
    on_server = sf.info(str(wav)).duration
    # everything between the page's start and the stop click, the 2+ s offline included (less the start-up)
    assert on_server >= (stopped - started) - 1.5, (on_server, stopped - started)
    with Store.open() as s:
        (a,) = s.attempts()
    assert a.status in ("scored", "no_speech") and a.audio_path == wav.resolve()


def test_a_second_tab_is_told_another_is_recording(tmp_path):
    with Server(FakeEngine(), tmp_path / "rec") as server:
        driver = browser(None)
        try:
            driver.get(f"{server.url}/practice?q=moco")
            wait_for(driver, "return window.rehearseReady === true", 10, "the page")
            driver.find_element(By.ID, "record").click()
            wait_for(driver, "return document.getElementById('record').textContent.includes('Stop')", 10, "recording")
            first = driver.current_window_handle
            driver.switch_to.new_window("tab")
            driver.get(f"{server.url}/practice?q=ddim-vs-ddpm")
            wait_for(driver, "return window.rehearseReady === true", 10, "the second page")
            driver.find_element(By.ID, "record").click()
            wait_for(driver, "return document.getElementById('message').className.includes('error')", 10, "the error")
            assert message(driver) == "Another tab (or window) is recording an answer right now: stop it there first."
            assert "Record" in driver.find_element(By.ID, "record").text
            driver.switch_to.window(first)
            assert "Recording" in message(driver)  # the first tab goes on
        finally:
            driver.quit()


@pytest.mark.parametrize("breakage, expected", [
    ("navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('none', 'NotFoundError'));",
     "No microphone found: plug one in"),
    ("navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('busy', 'NotReadableError'));",
     "The microphone is in use by another program"),
    ("delete window.AudioWorkletNode;", "This browser cannot hand raw audio to the page (no AudioWorklet)"),
])
def test_no_microphone_a_busy_one_or_a_browser_without_raw_audio_is_said(tmp_path, breakage, expected):
    """What Chromium reports in those cases, put in place by script (this machine has a fake microphone)."""
    with Server(FakeEngine(), tmp_path / "rec") as server:
        driver = browser(None)
        try:
            driver.get(f"{server.url}/practice?q=moco")
            wait_for(driver, "return window.rehearseReady === true", 10, "the page")
            driver.execute_script(breakage)
            driver.find_element(By.ID, "record").click()
            wait_for(driver, "return document.getElementById('message').className.includes('error')", 10, "the error")
            assert message(driver).startswith(expected)
        finally:
            driver.quit()
    assert not (tmp_path / "rec").exists() or list((tmp_path / "rec").rglob("*.wav")) == []


def test_a_tab_closed_while_recording_keeps_the_answer_and_frees_the_microphone_at_once(tmp_path):
    """The page tells the server when it goes away mid-answer: the audio that reached it is kept as an answer to
    score later, and another tab may record straight away (not after the 20 s watchdog)."""
    with Server(FakeEngine(), tmp_path / "rec") as server:
        driver = browser(None)
        try:
            studio = recording_a_second(driver, server)
            assert studio.active is not None and studio.idle_s >= 10
            first = driver.current_window_handle
            driver.switch_to.new_window("tab")
            second = driver.current_window_handle
            driver.switch_to.window(first)
            closed_at = time.monotonic()
            driver.close()
            driver.switch_to.window(second)
            while studio.active is not None and time.monotonic() - closed_at < 8:
                time.sleep(0.05)
            assert studio.active is None, "the server still holds the closed tab's recording"
            assert time.monotonic() - closed_at < studio.idle_s / 2  # told by the page, not found by the watchdog
            driver.get(f"{server.url}/practice?q=ddim-vs-ddpm")
            wait_for(driver, "return window.rehearseReady === true", 10, "the second page")
            driver.find_element(By.ID, "record").click()
            wait_for(driver, "return document.getElementById('record').textContent.includes('Stop')", 10,
                     "the second tab recording")
        finally:
            driver.quit()
    with Store.open() as s:
        kept = [a for a in s.attempts() if a.question_id == "moco"]
    assert len(kept) == 1 and kept[0].status == "not_scored" and kept[0].audio_path is not None
    info = sf.info(str(kept[0].audio_path))
    assert info.frames / info.samplerate >= 1.0


def test_read_aloud_picks_a_mainland_mandarin_voice_over_a_cantonese_one(tmp_path):
    """The browser's own voices (as macOS lists them: Cantonese first) — the Mandarin question is spoken by the
    zh-CN voice; a page with only a Cantonese voice falls back to rehearse's own speech."""
    voices = ("[{name: 'Sinji', lang: 'zh-HK'}, {name: 'Meijia', lang: 'zh-TW'}, {name: 'Tingting', lang: 'zh-CN'},"
              " {name: 'Samantha', lang: 'en-US'}]")
    spy = ("window.spoken = []; speechSynthesis.getVoices = () => VOICES;"
           "window.SpeechSynthesisUtterance = function (text) { this.text = text; };"
           "speechSynthesis.speak = (u) => window.spoken.push([u.voice.name, u.lang, u.text]);")
    with Server(FakeEngine(), tmp_path / "rec") as server:
        driver = browser(None)
        try:
            driver.get(f"{server.url}/practice?q=moco")
            wait_for(driver, "return window.rehearseReady === true", 10, "the page")
            driver.execute_script(spy.replace("VOICES", voices))
            driver.find_element(By.ID, "speak").click()
            spoken = wait_for(driver, "return window.spoken.length && window.spoken", 10, "the question spoken")
            assert spoken[0][:2] == ["Tingting", "zh-CN"] and "MoCo" in spoken[0][2]
            driver.get(f"{server.url}/practice?q=moco")
            wait_for(driver, "return window.rehearseReady === true", 10, "the page")
            driver.execute_script(spy.replace("VOICES", "[{name: 'Sinji', lang: 'zh-HK'}]") +
                                  "window.played = []; HTMLMediaElement.prototype.play = function () {"
                                  " window.played.push(this.src); return Promise.resolve(); };")
            driver.find_element(By.ID, "speak").click()
            played = wait_for(driver, "return window.played.length && window.played", 10, "rehearse's speech")
            assert played[0].endswith("/questions/moco/speech.wav")
            assert driver.execute_script("return window.spoken") == []
        finally:
            driver.quit()

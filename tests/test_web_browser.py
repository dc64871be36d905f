"""The practice page in a real browser: headless Chromium (Debian) plays a spoken answer into the page's microphone.

A real uvicorn server on a free port, the real base model, the real history and
recordings folder. The test records through the page, stops, checks the report
in the DOM and on disk, clicks a word and checks where the audio element is,
corrects a verdict, and opens the progress page. Screenshots are kept under
tests/artifacts/ (git-ignored): look at them.
"""

from __future__ import annotations

import time

import pytest
import soundfile as sf

from rehearse.store import Store
from tests.conftest import ROOT
from tests.web_support import CHROMIUM, DRIVER, Server, answer_wav, browser, requested_urls, wait_for

ARTIFACTS = ROOT / "tests" / "artifacts"
ANSWER_S = 24.0  # the first 24 s of the shipped example answer (motivation and method)

pytestmark = [pytest.mark.model, pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromium-driver "
                                                                   "(scripts/sysdeps.sh installs them)")]


def test_record_in_the_browser_then_report_seek_correct_and_progress(tmp_path, base_engine):
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    recordings = tmp_path / "recordings"
    with Server(base_engine, recordings) as server:
        driver = browser(answer_wav(tmp_path, ANSWER_S))
        try:
            driver.get(server.url + "/")
            assert driver.find_element(By.ID, "due-today").text.startswith("Due today (")
            driver.save_screenshot(str(ARTIFACTS / "web-home.png"))
            driver.find_element(By.CSS_SELECTOR, 'a[data-question="3d-ssgan"]').click()
            wait_for(driver, "return window.rehearseReady === true", 10, "the page's script")
            assert "3D-SSGAN" in driver.find_element(By.ID, "question-text").text
            started = time.monotonic()
            driver.find_element(By.ID, "record").click()
            wait_for(driver, "return document.getElementById('record').textContent.includes('Stop')", 10,
                     "recording to start")
            time.sleep(ANSWER_S / 2)
            driver.save_screenshot(str(ARTIFACTS / "web-recording.png"))
            time.sleep(ANSWER_S / 2 + 1.0)
            assert "Recording" in driver.find_element(By.ID, "message").text
            shown, target = driver.find_element(By.ID, "timer").text.split(" / ")
            minutes, seconds = shown.split(":")
            assert ANSWER_S <= int(minutes) * 60 + int(seconds) <= time.monotonic() - started + 1
            assert target == "2:00"  # 3d-ssgan's target_seconds
            driver.find_element(By.TAG_NAME, "body").send_keys(" ")  # the space bar stops
            t0 = time.monotonic()
            spoken = t0 - started  # an upper bound of what the page captured
            wait_for(driver, "return document.getElementById('coverage') !== null", 180, "the report")
            latency = time.monotonic() - t0
            print(f"browser: report {latency:.2f} s after stop")

            driver.save_screenshot(str(ARTIFACTS / "web-report.png"))
            # the report in the DOM: these 24 s say the motivation (the whole-file decode of the same
            # audio covers that point only, 19%); its evidence is marked in place, with how it matched
            coverage = driver.find_element(By.ID, "coverage").text
            assert coverage.endswith("%") and int(coverage[:-1]) > 0, coverage
            assert driver.find_elements(By.CSS_SELECTOR, '#points tr[data-point="motivation"].covered')
            marks = driver.find_elements(By.CSS_SELECTOR, "#transcript mark.ev")
            assert marks and all(" — matched " in m.get_attribute("title") for m in marks)
            assert any("motivation" in m.get_attribute("data-points") for m in marks)
            assert "3D" in driver.find_element(By.ID, "transcript").text
            aid = int(driver.find_element(By.ID, "report").get_attribute("data-attempt"))
            with Store.open() as s:
                a = s.attempt(aid)
            assert a.status == "scored" and a.question_id == "3d-ssgan" and a.coverage is not None
            (wav,) = recordings.rglob("*.wav")
            assert a.audio_path == wav.resolve()
            assert ANSWER_S < sf.info(str(wav)).duration <= spoken  # everything said is on disk

            # click a word: the audio goes there
            wait_for(driver, "return document.getElementById('audio').readyState >= 1", 10, "the audio")
            words = driver.find_elements(By.CSS_SELECTOR, "#transcript .w")
            word = next(w for w in words if float(w.get_attribute("data-t")) > 8.0)
            t = float(word.get_attribute("data-t"))
            driver.execute_script("const a = document.getElementById('audio');"
                                  "a.addEventListener('seeked', () => { window.seekedTo = a.currentTime; },"
                                  " { once: true });")
            word.click()
            at = wait_for(driver, "return window.seekedTo", 10, "the seek")
            assert at == pytest.approx(t, abs=0.05), (t, at)  # where the word was said
            wait_for(driver, "return !document.getElementById('audio').paused", 5, "playback from there")

            # a tap on highlighted words says which point they are evidence for and how they matched (no hover on
            # a touch screen)
            marked = next(m for m in marks if m.find_elements(By.CSS_SELECTOR, ".w"))
            marked.find_element(By.CSS_SELECTOR, ".w").click()
            note = wait_for(driver, "return document.getElementById('mark-note').textContent", 5, "the tap's note")
            assert note == marked.get_attribute("title") and " — matched " in note

            # "I said that" on a missed point
            missed = driver.find_elements(By.CSS_SELECTOR, "#points tr.missed button.said")
            assert missed, "every point covered: nothing to correct"
            point = missed[0].get_attribute("data-point")
            missed[0].click()
            wait_for(driver, f"return document.querySelector('#points tr[data-point=\"{point}\"].covered') !== null",
                     10, "the corrected report")
            with Store.open() as s:
                human = {p.id: p.human for p in s.attempt(aid).result.points}
            assert human[point] == "said"

            # progress
            driver.get(f"{server.url}/progress")
            wait_for(driver, "return document.getElementById('chart') !== null", 20, "the progress chart")
            rows = driver.find_elements(By.CSS_SELECTOR, "#attempts tbody tr, #attempts tr")
            assert any(f"#{aid}" in r.text for r in rows)
            assert "due today" in driver.find_element(By.ID, "due").text
            driver.save_screenshot(str(ARTIFACTS / "web-progress.png"))

            external = [u for u in requested_urls(driver) if not u.startswith((server.url, "data:", "blob:"))]
            assert external == [], f"the page reached outside the server: {external}"
        finally:
            driver.quit()

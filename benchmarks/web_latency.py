"""Browser practice latency: from the stop click to the report in the page's DOM.

    python benchmarks/web_latency.py                 # 3 runs, 30 s of the shipped example answer, base model
    python benchmarks/web_latency.py --runs 5 --seconds 54.5

A real ``rehearse serve`` app under uvicorn on a free port, headless Chromium
(Debian's, driven by Selenium) whose fake microphone plays the shipped
example answer (rehearse/data/examples/3d-ssgan.flac) into the page. The page
streams it to the server while it "speaks" (the same recorder and live
transcription as ``rehearse practice``); one second after the last word the
stop button is pressed. Printed per run and as medians:

* stop → report: the stop click until ``#coverage`` is in the DOM, as WebDriver
  sees it (which includes the time its click command takes to reach the page,
  printed per run: 0.6–2.6 s with the DevTools performance log the browser
  test keeps, 0.07–0.09 s without it), and as the page itself
  times it (from the click event's own timestamp, so a busy page's input delay
  counts, to the report's DOM ready; no WebDriver round trips) (the page
  sends the last chunks, the server finishes the live transcript, scores,
  stores, and the browser loads the report page), and its parts as the page
  timed them: sending the last chunks, the stop request (and the server's
  share of it); the rest is loading the report page;
* server: from the stop request to the attempt stored (``latency_s``), and the
  live transcriber's final wait (``final_wait_s``, stored in the attempt's timings);
* coverage of the streamed answer;
* the same audio through the terminal's pipeline in the same process, right
  after (FileSource → Recorder → LiveTranscriber, stopped 1 s after the last
  word, then scored): the terminal's stop → scored time under the same load.
  The machine's load average is printed too: on 2 shared cores it moves
  these figures more than anything the server does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def terminal_run(engine, mic: Path, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """Stop → scored through ``rehearse practice``'s pipeline for the same answer (no screen)."""
    from rehearse.assess import assess_transcript, options_for
    from rehearse.live import LiveTranscriber
    from rehearse.recorder import FileSource, Recorder
    from rehearse.rubric import load_library

    q = load_library().get("3d-ssgan")
    live = LiveTranscriber(engine, options_for(q)).start()
    out = Path(tempfile.mkdtemp()) / "answer.wav"
    rec = Recorder(out, FileSource(mic), on_block=live.feed)
    rec.start()
    time.sleep(seconds + 1.0)
    t0 = time.monotonic()
    rec.stop()
    result = live.finish()
    assess_transcript(q, result.transcript, result.speech or None, audio_path=out)
    live.close()
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=30.0, help="how much of the example answer to speak")
    ap.add_argument("--model", default="base")
    args = ap.parse_args()

    import os

    tmp = Path(tempfile.mkdtemp(prefix="web-latency-"))
    os.environ["REHEARSE_HOME"] = str(tmp / "home")
    os.environ["HF_HUB_OFFLINE"] = "1"

    from selenium.webdriver.common.by import By

    from rehearse.engines.faster import FasterWhisperEngine
    from rehearse.store import Store
    from tests.web_support import Server, answer_wav, browser, wait_for

    engine = FasterWhisperEngine(args.model, cpu_threads=os.cpu_count() or 2)
    engine.load()
    mic = answer_wav(tmp, args.seconds)  # the answer, then silence
    rows: list[tuple[float, float, float, float, float]] = []
    terminal: list[float] = []
    with Server(engine, tmp / "recordings") as server:
        for run in range(1, args.runs + 1):
            driver = browser(mic)  # a fresh browser: its fake microphone starts at the file's beginning
            try:
                driver.get(f"{server.url}/practice?q=3d-ssgan")
                wait_for(driver, "return window.rehearseReady === true", 10, "the page")
                driver.find_element(By.ID, "record").click()
                wait_for(driver, "return document.getElementById('record').textContent.includes('Stop')", 10,
                         "recording")
                time.sleep(args.seconds + 1.0)
                t0, w0 = time.monotonic(), time.time()
                driver.find_element(By.ID, "record").click()
                wait_for(driver, "return document.getElementById('coverage') !== null", 120, "the report")
                latency = time.monotonic() - t0
                aid = int(driver.find_element(By.ID, "report").get_attribute("data-attempt"))
                parts = json.loads(driver.execute_script("return sessionStorage.getItem('rehearse-stop')") or "{}")
                nav = driver.execute_script(
                    "const n = performance.getEntriesByType('navigation')[0];"
                    "return [n.responseStart - n.requestStart, n.domInteractive - n.responseEnd,"
                    " performance.timeOrigin + n.domInteractive];")
                parts["page_server_s"], parts["page_browser_s"] = nav[0] / 1000, nav[1] / 1000
                # the same interval timed inside the browser (no WebDriver round trips): click → report DOM
                in_page = (nav[2] - parts["clicked_at"]) / 1000 if "clicked_at" in parts else float("nan")
                # how long WebDriver's click took to reach the page (not a user's wait: part of "as WebDriver sees it")
                parts["click_s"] = parts["clicked_at"] / 1000 - w0 if "clicked_at" in parts else float("nan")
            finally:
                driver.quit()
            with Store.open() as s:
                a = s.attempt(aid)
            final = a.timings.get("final_wait_s", float("nan"))
            rows.append((latency, final, a.coverage or 0.0, a.result.data["fluency"].get("answer_s", 0.0), in_page))
            term = terminal_run(engine, mic, args.seconds)
            terminal.append(term)
            print(f"run {run}: browser stop → report {latency:.2f} s (WebDriver's click reached the page after {parts['click_s']:.2f} s, "
                  f"its handler ran {parts.get('input_delay_s', float('nan')):.2f} s after the click event; "
                  f"in the page {in_page:.2f} s; last chunks sent {parts.get('drain_s', 0):.2f} s, "
                  f"stop request {parts.get('stop_s', 0):.2f} s of which the server {parts.get('server_s', 0):.2f} s, "
                  f"live final wait {final:.2f} s for {a.timings.get('behind_s', float('nan')):.1f} s of audio not yet decoded at stop; report page: server {parts.get('page_server_s', 0):.2f} s, "
                  f"browser {parts.get('page_browser_s', 0):.2f} s; "
                  f"coverage {a.coverage:.0%}, {rows[-1][3]:.1f} s answered) · terminal stop → scored {term:.2f} s "
                  f"· load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"median of {len(rows)} ({args.seconds:.0f} s answers, {args.model}, {os.cpu_count()} cores): "
          f"browser stop → report {statistics.median(r[0] for r in rows):.2f} s "
          f"(in the page {statistics.median(r[4] for r in rows):.2f} s) · "
          f"live final wait {statistics.median(r[1] for r in rows):.2f} s · "
          f"terminal stop → scored {statistics.median(terminal):.2f} s")


if __name__ == "__main__":
    main()

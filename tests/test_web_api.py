"""The web server through Starlette's TestClient: the real app, a real SQLite history, real WAV files, the fake engine.

An answer is streamed as the page streams it (numbered 16-bit PCM chunks of a
real recording), then stopped: the report, the WAV on disk and the stored
attempt are checked. Hostile and malformed requests get a 4xx and leave the
history and the recordings untouched.
"""

from __future__ import annotations

import time

import pytest
import soundfile as sf
from starlette.testclient import TestClient

from rehearse import engines
from rehearse.rubric import load_library
from rehearse.store import Store
from tests.conftest import FakeEngine, shared_clip
from tests.web_support import BASE, MOCO, make_app, pcm_chunks

CLIP = shared_clip("real", "aishell1_BAC009S0764W0121.flac")  # 4.2 s of Mandarin (the fake decides the words)


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setitem(engines._REGISTRY, "fake", lambda model: engine)
    return engine


@pytest.fixture()
def rec_dir(tmp_path):
    d = tmp_path / "recordings"
    d.mkdir()
    return d


@pytest.fixture()
def client(fake, rec_dir):
    with TestClient(make_app(fake, rec_dir), base_url=BASE) as c:
        yield c


def token(c: TestClient) -> dict[str, str]:
    return {"X-Rehearse-Token": c.app.state.ctx.guard.token}  # type: ignore[attr-defined]


def nothing_stored(rec_dir) -> None:
    assert list(rec_dir.rglob("*")) == [], "a refused request left files behind"
    with Store.open() as s:
        assert s.attempts() == []


def stream(c: TestClient, qid: str, chunks: list[bytes], rate: int = 16000) -> str:
    r = c.post("/api/recordings", json={"question_id": qid, "sample_rate": rate}, headers=token(c))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for i, data in enumerate(chunks):
        r = c.post(f"/api/recordings/{rid}/chunks/{i}", content=data,
                   headers={**token(c), "Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
    return rid


# --------------------------------------------------------------------------- the happy path


@pytest.mark.parametrize("rate", [16000, 48000])
def test_a_streamed_answer_is_recorded_scored_stored_and_reported(client, fake, rec_dir, rate):
    fake.enqueue(MOCO)
    rid = stream(client, "moco", pcm_chunks(CLIP, rate), rate)
    # the WAV is on disk, valid, while the answer is still streaming
    (wav,) = rec_dir.rglob("*.wav")
    assert wav.parent == rec_dir / "generative" / "moco"
    r = client.post(f"/api/recordings/{rid}/stop", headers=token(client))
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "scored" and done["report"] == f"/attempts/{done['attempt_id']}"
    assert sf.info(str(wav)).duration == pytest.approx(4.2, abs=0.1)
    assert fake.calls and fake.calls[0].language == "zh"  # the live transcriber decoded what was streamed
    with Store.open() as s:
        (a,) = s.attempts()
    assert a.id == done["attempt_id"] and a.coverage == 0.5 and a.audio_path == wav.resolve()
    page = client.get(done["report"])
    assert page.status_code == 200
    html = page.text
    assert 'id="coverage">50%<' in html
    assert '<mark class="ev by-chars" title="用队列（queue）维护大量负样本，像一个动态字典 — matched by characters' in html
    assert 'class="w" data-t="' in html and f'src="/attempts/{a.id}/audio"' in html
    assert "负样本数量和 batch size 解耦" in html.split('id="missed"')[1]  # a missed point is listed
    audio = client.get(f"/attempts/{a.id}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == wav.read_bytes()
    part = client.get(f"/attempts/{a.id}/audio", headers={"Range": "bytes=44-99"})
    assert part.status_code == 206 and len(part.content) == 56  # the player can seek


def test_corrections_from_the_report_are_stored_like_rehearse_correct(client, fake):
    fake.enqueue(MOCO)
    rid = stream(client, "moco", pcm_chunks(CLIP))
    aid = client.post(f"/api/recordings/{rid}/stop", headers=token(client)).json()["attempt_id"]
    r = client.post(f"/api/attempts/{aid}/corrections", json={"point_id": "decouple-batch", "said": True},
                    headers=token(client))
    assert r.status_code == 200, r.text
    assert r.json()["coverage"] == 0.75 and r.json()["verdict"] == "said"
    r = client.post(f"/api/attempts/{aid}/corrections", json={"point_id": "queue", "said": False},
                    headers=token(client))
    assert r.json()["coverage"] == 0.5
    with Store.open() as s:
        points = {p.id: p.human for p in s.attempt(aid).result.points}
    assert points["decouple-batch"] == "said" and points["queue"] == "not_said"
    assert "your verdict: doesn&#39;t count" in client.get(f"/attempts/{aid}").text
    bad = client.post(f"/api/attempts/{aid}/corrections", json={"point_id": "nope", "said": True}, headers=token(client))
    assert bad.status_code == 400 and "has no point 'nope'" in bad.json()["error"]
    span = client.post(f"/api/attempts/{aid}/corrections", json={"point_id": "consistency", "said": True,
                                                                "span": "完全没说过的话"}, headers=token(client))
    assert span.status_code == 400 and "is not in attempt" in span.json()["error"]
    # words selected in the transcript: stored with the verdict and learned for the next answer
    taught = client.post(f"/api/attempts/{aid}/corrections", json={"point_id": "consistency", "said": True,
                                                                  "span": "滑动平均"}, headers=token(client))
    assert taught.status_code == 200 and taught.json()["learned"] is True
    from rehearse import learned

    assert "滑动平均" in learned.load().get("moco", {}).get("consistency", [])


def test_pages_render(client, fake):
    home = client.get("/")
    assert home.status_code == 200 and 'href="/practice?due=1"' in home.text and 'data-question="moco"' in home.text
    card = client.get("/practice?q=moco")
    q = load_library().get("moco")
    assert card.status_code == 200 and q.question in card.text and 'data-target="' in card.text
    no_tag = client.get("/practice?tag=no-such-tag")
    assert no_tag.status_code == 404 and "No question has the tag &#39;no-such-tag&#39;." in no_tag.text
    prog = client.get("/progress")
    assert prog.status_code == 200 and "due today" in prog.text and 'id="empty"' in prog.text
    # the pages name nothing outside this server, and the CSP forbids it anyway
    for page in (home, card, prog):
        assert "http://" not in page.text and "https://" not in page.text and "//" not in page.text.replace("://", "")
        assert "default-src 'self'" in page.headers["content-security-policy"]


# --------------------------------------------------------------------------- interrupted streams


def test_a_stream_that_goes_quiet_is_kept_and_can_be_scored_later(fake, rec_dir):
    with TestClient(make_app(fake, rec_dir, idle_s=1.0), base_url=BASE) as c:
        stream(c, "moco", pcm_chunks(CLIP)[:8])  # 2 s, then the tab is closed
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not c.get("/api/status").json()["kept"]:
            time.sleep(0.2)
        (kept,) = c.get("/api/status").json()["kept"]
        assert "no audio for 1 s" in kept["note"]
        (wav,) = rec_dir.rglob("*.wav")
        assert sf.info(str(wav)).duration == pytest.approx(2.0, abs=0.05)
        with Store.open() as s:
            stored = s.attempt(kept["attempt_id"])
            assert stored.status == "not_scored" and "no audio for 1 s" in stored.note
        page = c.get(f"/attempts/{kept['attempt_id']}").text
        assert "Score it now" in page
        assert "not scored yet: " in page and "no audio for 1 s" in page  # the report says why
        fake.enqueue(MOCO)
        r = c.post(f"/api/attempts/{kept['attempt_id']}/score", headers=token(c))
        assert r.status_code == 200, r.text
        assert r.json()["coverage"] == 0.5
        again = c.post(f"/api/attempts/{kept['attempt_id']}/score", headers=token(c))
        assert again.status_code == 409


def test_the_server_stopping_mid_answer_keeps_the_recording(fake, rec_dir):
    with TestClient(make_app(fake, rec_dir), base_url=BASE) as c:
        stream(c, "moco", pcm_chunks(CLIP)[:4])
    (wav,) = rec_dir.rglob("*.wav")
    assert sf.info(str(wav)).duration == pytest.approx(1.0, abs=0.05)
    with Store.open() as s:
        (a,) = s.attempts()
    assert a.status == "not_scored" and a.audio_path == wav.resolve()


def test_a_second_tab_cannot_record_at_the_same_time(client):
    stream(client, "moco", pcm_chunks(CLIP)[:2])
    r = client.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000}, headers=token(client))
    assert r.status_code == 409 and "Another tab" in r.json()["error"]


def test_a_stream_past_its_limit_is_cut_and_kept(fake, rec_dir):
    with TestClient(make_app(fake, rec_dir, max_seconds=1.0), base_url=BASE) as c:
        r = c.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000}, headers=token(c))
        rid = r.json()["id"]
        codes = [c.post(f"/api/recordings/{rid}/chunks/{i}", content=data,
                        headers={**token(c), "Content-Type": "application/octet-stream"}).status_code
                 for i, data in enumerate(pcm_chunks(CLIP)[:10])]
        assert codes[:4] == [200] * 4 and set(codes) <= {200, 413}
        rec, deadline = c.app.state.ctx.studio.active, time.monotonic() + 10  # type: ignore[attr-defined]
        while not rec.recorder.finished and time.monotonic() < deadline:  # the recorder takes the audio in its thread
            time.sleep(0.02)
        refused = c.post(f"/api/recordings/{rid}/chunks/{len(codes)}", content=b"\0\0" * 4000,
                         headers={**token(c), "Content-Type": "application/octet-stream"})
        assert refused.status_code == 413 and refused.json()["error"] == (
            "The recording reached its limit of 1 second and stopped; what came before is kept. "
            "Press stop to score it.")
        fake.enqueue(MOCO)
        assert c.post(f"/api/recordings/{rid}/stop", headers=token(c)).json()["status"] == "scored"
    (wav,) = rec_dir.rglob("*.wav")
    assert sf.info(str(wav)).duration == pytest.approx(1.0, abs=0.01)


def test_chunks_out_of_order_or_odd_are_refused(client):
    r = client.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000}, headers=token(client))
    rid = r.json()["id"]
    h = {**token(client), "Content-Type": "application/octet-stream"}
    assert client.post(f"/api/recordings/{rid}/chunks/1", content=b"\0\0", headers=h).status_code == 409
    assert client.post(f"/api/recordings/{rid}/chunks/0", content=b"\0\0\0", headers=h).status_code == 400
    assert client.post(f"/api/recordings/{rid}/chunks/0", content=b"\0\0", headers=h).status_code == 200
    again = client.post(f"/api/recordings/{rid}/chunks/0", content=b"\0\0", headers=h)
    assert again.status_code == 200 and again.json()["duplicate"]  # a retried chunk is not written twice
    assert client.post(f"/api/recordings/{rid}/chunks/1", content=b"\0\0",
                       headers={**token(client), "Content-Type": "audio/webm"}).status_code == 415


# --------------------------------------------------------------------------- hostile and malformed requests


def test_a_foreign_host_is_refused(client, rec_dir):
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 still sends its own Host."""
    for host in ("evil.example:8765", "127.0.0.1:9999", "localhost.evil.example:8765", ""):
        r = client.get("/", headers={"Host": host})
        assert r.status_code == 421, host
        r = client.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000},
                        headers={**token(client), "Host": host})
        assert r.status_code == 421
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
    nothing_stored(rec_dir)


def test_cross_origin_and_tokenless_requests_are_refused(client, rec_dir):
    body = {"question_id": "moco", "sample_rate": 16000}
    evil = client.post("/api/recordings", json=body, headers={**token(client), "Origin": "http://evil.example"})
    assert evil.status_code == 403 and "cross-origin" in evil.json()["error"]
    assert client.get("/progress", headers={"Origin": "http://evil.example"}).status_code == 403
    site = client.post("/api/recordings", json=body, headers={**token(client), "Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    # another site may link to the page, but not load a recording (or anything) into its own page
    link = client.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert link.status_code == 200 and link.headers["cross-origin-resource-policy"] == "same-origin"
    for dest in ("audio", "image", "script"):
        r = client.get("/attempts/1/audio", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors",
                                                     "Sec-Fetch-Dest": dest})
        assert r.status_code == 403
    assert client.get("/static/style.css", headers={"Sec-Fetch-Site": "same-site",
                                                    "Sec-Fetch-Mode": "no-cors"}).status_code == 403
    none = client.post("/api/recordings", json=body)
    assert none.status_code == 403 and "token" in none.json()["error"]
    wrong = client.post("/api/recordings", json=body, headers={"X-Rehearse-Token": "guess"})
    assert wrong.status_code == 403
    same = client.post("/api/recordings", json=body, headers={**token(client), "Origin": BASE})
    assert same.status_code == 201  # the page's own origin is fine
    client.post(f"/api/recordings/{same.json()['id']}/abandon", headers=token(client))


def test_path_tricks_never_reach_the_filesystem(client, rec_dir, fake):
    for url in ("/attempts/..%2F..%2Fetc%2Fpasswd/audio", "/attempts/../../etc/passwd", "/attempts/-1/audio",
                "/attempts/1/audio", "/static/../app.py", "/static/..%2Fapp.py", "/static/%2e%2e/app.py"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "def create_app" not in r.text
    r = client.post("/api/recordings", json={"question_id": "../../etc/passwd", "sample_rate": 16000},
                    headers=token(client))
    assert r.status_code == 404
    r = client.post("/api/recordings/..%2F..%2Fx/chunks/0", content=b"\0\0",
                    headers={**token(client), "Content-Type": "application/octet-stream"})
    assert r.status_code in (400, 404)
    nothing_stored(rec_dir)
    # a recording outside the recordings folder (scored with 'rehearse score FILE') is not served
    with Store.open() as s:
        aid = s.save_attempt(None, question=load_library().get("moco"), audio_path=CLIP, status="not_scored")
    r = client.get(f"/attempts/{aid}/audio")
    assert r.status_code == 404 and "no recording in the recordings folder" in r.text


def test_oversized_bodies_are_refused_with_a_clear_message(client, rec_dir):
    big = client.post("/api/recordings", content=b"x" * (70 * 1024),
                      headers={**token(client), "Content-Type": "application/json"})
    assert big.status_code == 413 and "limit here is 64 KB" in big.json()["error"]
    huge = client.post("/api/recordings", content=b"{}",
                       headers={**token(client), "Content-Type": "application/json", "Content-Length": str(2**30)})
    assert huge.status_code == 413 and "1024.0 MB refused" in huge.json()["error"]

    def endless():  # no Content-Length: counted as it streams in
        for _ in range(100):
            yield b" " * 8192

    chunked = client.post("/api/recordings", content=endless(),
                          headers={**token(client), "Content-Type": "application/json"})
    assert chunked.status_code == 413 and "passed the limit" in chunked.json()["error"]
    r = client.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000}, headers=token(client))
    rid = r.json()["id"]
    chunk = client.post(f"/api/recordings/{rid}/chunks/0", content=b"\0" * (600 * 1024),
                        headers={**token(client), "Content-Type": "application/octet-stream"})
    assert chunk.status_code == 413 and "512 KB" in chunk.json()["error"]
    client.post(f"/api/recordings/{rid}/abandon", headers=token(client))
    assert list(rec_dir.rglob("*.wav")) == []  # nothing was recorded, so nothing was kept


@pytest.mark.parametrize("body, kind, status", [
    (b"{not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'{"question_id": "moco"}', "application/json", 400),
    (b'{"question_id": "moco", "sample_rate": "48000"}', "application/json", 400),
    (b'{"question_id": "moco", "sample_rate": true}', "application/json", 400),
    (b'{"question_id": "moco", "sample_rate": 1000000}', "application/json", 400),
    (b'{"question_id": 5, "sample_rate": 16000}', "application/json", 400),
    (b'\xff\xfe', "application/json", 400),
    (b'question_id=moco', "application/x-www-form-urlencoded", 415),
    (b'{"question_id": "moco", "sample_rate": 16000}', "text/plain", 415),
])
def test_malformed_requests_get_4xx_and_change_nothing(client, rec_dir, body, kind, status):
    r = client.post("/api/recordings", content=body, headers={**token(client), "Content-Type": kind})
    assert r.status_code == status, r.text
    assert r.json()["error"]
    bad = client.post("/api/attempts/1/corrections", content=body, headers={**token(client), "Content-Type": kind})
    assert 400 <= bad.status_code < 500
    nothing_stored(rec_dir)


def test_two_attempts_side_by_side(client, fake):
    for text in (MOCO, "MoCo 用一个队列维护负样本。"):
        fake.enqueue(text)
        rid = stream(client, "moco", pcm_chunks(CLIP))
        client.post(f"/api/recordings/{rid}/stop", headers=token(client))
    report = client.get("/attempts/2").text
    assert 'href="/compare?a=1&amp;b=2"' in report
    page = client.get("/compare?a=1&b=2")
    assert page.status_code == 200
    sides = page.text.split('class="side"')[1:]
    assert len(sides) == 2 and "50%" in sides[0] and "25%" in sides[1]
    assert client.get("/compare?a=1&b=x").status_code == 400
    assert client.get("/compare?a=1&b=99").status_code == 404


def test_the_question_read_aloud_by_rehearse_when_the_browser_has_no_voice(client):
    r = client.get("/questions/moco/speech.wav")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav" and r.content[:4] == b"RIFF"
    assert len(r.content) > 16000  # a second or more of speech
    assert client.get("/questions/..%2F..%2Fetc%2Fpasswd/speech.wav").status_code == 404


def test_a_model_that_cannot_load_is_said_before_anything_is_recorded(rec_dir):
    from rehearse.errors import ModelNotFoundError

    class Missing(FakeEngine):
        def load(self) -> None:
            raise ModelNotFoundError("Whisper model 'base' is not installed; run 'rehearse models install base'.")

    with TestClient(make_app(Missing(), rec_dir), base_url=BASE) as c:
        r = c.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000}, headers=token(c))
        assert r.status_code == 503
        assert r.json()["error"] == ("The transcription model cannot be loaded, so nothing was recorded: Whisper "
                                     "model 'base' is not installed; run 'rehearse models install base'.")
    nothing_stored(rec_dir)


def test_once_the_page_uses_rehearses_voice_the_next_question_is_made_ahead(client, monkeypatch):
    """A browser without a voice for the question asks the server to read it; from then on each practice page
    has the next question of the selection made while this one is answered (one speaker for the server)."""
    from rehearse import tts
    from tests.test_tts import FakeEngine as FakeVoice

    voice = FakeVoice("fake-voice", ("zh", "en"))
    monkeypatch.setattr(tts, "_REGISTRY", {})
    tts.register_tts_engine("fake-voice", lambda: voice)
    assert client.get("/practice?tag=diffusion&i=0").status_code == 200
    time.sleep(0.3)
    assert voice.calls == []  # the browser has not asked for rehearse's voice: nothing is made
    r = client.get("/questions/moco/speech.wav")
    assert r.status_code == 200 and r.content[:4] == b"RIFF" and [c[0] for c in voice.calls] == ["MoCo 的核心思路是什么？"]
    assert client.get("/practice?tag=diffusion&i=0").status_code == 200
    speaker = client.app.state.ctx.speaker  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while (len(voice.calls) < 2 or speaker.cached(voice.calls[-1][0], "zh") is None) and time.monotonic() < deadline:
        time.sleep(0.05)  # asked of the engine, then written to the cache
    made = voice.calls[-1][0]
    second = client.get("/practice?tag=diffusion&i=1").text
    assert len(voice.calls) >= 2 and made in second  # the question the next page shows was made ahead
    assert speaker.cached(made, "zh") is not None
    # on the selection's last question: the next session's first two (nothing answered, so the same order a
    # day later) with the one on screen left out; of those, the second was made above, so only the first is made
    from rehearse.schedule import order_questions

    order = order_questions(list(load_library().filter(["diffusion"])), [])
    assert len(order) >= 4 and made == order[1].question
    deadline = time.monotonic() + 10
    while speaker.cached(order[2].question, "zh") is None and time.monotonic() < deadline:  # the i=1 page's
        time.sleep(0.05)
    before = len(voice.calls)
    assert client.get(f"/practice?tag=diffusion&i={len(order) - 1}").status_code == 200
    while speaker.cached(order[0].question, "zh") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert [c[0] for c in voice.calls[before:]] == [order[0].question]


# --------------------------------------------------------------------------- a round through a selection


def _card(c: TestClient, url: str) -> tuple[str, str]:
    """(question id, the page's own place in the selection) of a practice page."""
    import html
    import re

    page = c.get(url)
    assert page.status_code == 200, page.text
    qid = re.search(r'data-question="([^"]+)"', page.text)
    here = re.search(r'data-here="([^"]*)"', page.text)
    assert qid and here
    return qid.group(1), html.unescape(here.group(1))


def _links(c: TestClient, url: str) -> dict[str, str]:
    import html
    import re

    page = c.get(url)
    assert page.status_code == 200, page.text
    return {m.group(1): html.unescape(m.group(2))
            for m in re.finditer(r'id="(retry|next)" href="([^"]*)"', page.text)}


def test_retry_and_next_keep_the_rounds_order_after_an_answer(client, fake):
    """Answering re-sorts the practice order (the answered question is no longer due first); the round keeps
    the order it began with, so Retry opens the question just answered and Next the one after it."""
    first, here = _card(client, "/practice?tag=gan")
    assert "s=" in here and "i=0" in here
    fake.enqueue(MOCO)
    rid = stream(client, first, pcm_chunks(CLIP))
    aid = client.post(f"/api/recordings/{rid}/stop", headers=token(client)).json()["attempt_id"]
    # a new round now would start with the other question: the order did change
    fresh, _ = _card(client, "/practice?tag=gan")
    assert fresh != first
    links = _links(client, f"/attempts/{aid}?{here}")
    assert _card(client, links["retry"])[0] == first
    second, there = _card(client, links["next"])
    assert second == fresh and "i=1" in there
    # the last question of the round has no Next; the report of an answer reached without a round has Retry only
    fake.enqueue(MOCO)
    rid = stream(client, second, pcm_chunks(CLIP))
    aid2 = client.post(f"/api/recordings/{rid}/stop", headers=token(client)).json()["attempt_id"]
    last = _links(client, f"/attempts/{aid2}?{there}")
    assert _card(client, last["retry"])[0] == second and "next" not in last
    alone = _links(client, f"/attempts/{aid}")
    assert alone == {"retry": f"/practice?q={first}"}


def test_a_client_sending_on_past_the_limit_does_not_hold_the_recording_slot(fake, rec_dir):
    """Chunks refused after the limit are no sign of life: the watchdog keeps the answer and frees the slot."""
    with TestClient(make_app(fake, rec_dir, max_seconds=1.0, idle_s=1.0), base_url=BASE) as c:
        rid = c.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000}, headers=token(c)).json()["id"]
        studio = c.app.state.ctx.studio  # type: ignore[attr-defined]
        chunks, seq, deadline = pcm_chunks(CLIP), 0, time.monotonic() + 6
        while studio.active is not None and time.monotonic() < deadline:
            c.post(f"/api/recordings/{rid}/chunks/{seq}", content=chunks[seq % len(chunks)],
                   headers={**token(c), "Content-Type": "application/octet-stream"})
            seq += 1
            time.sleep(0.1)
        assert studio.active is None, "a client sending past the limit kept the recording slot"
        assert c.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000},
                      headers=token(c)).status_code == 201
    with Store.open() as s:
        (kept,) = [a for a in s.attempts() if a.status == "not_scored"]
    assert sf.info(str(kept.audio_path)).duration == pytest.approx(1.0, abs=0.01)

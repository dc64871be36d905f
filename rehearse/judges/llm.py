"""The ``llm`` judge: the offline judge, then a chat model the user already runs.

The model, behind an OpenAI-compatible endpoint (Ollama, llama.cpp's server, vLLM...), is asked
in one request per answer about the points the offline judge left uncovered, and must quote the
words that said each point it claims. A claim counts only when its quote is found in the transcript
by the same sound-tolerant matcher as the rubric phrases: a model cannot add a point the speaker
did not say. When the model cannot be reached or answers nonsense, the offline verdicts stand and
one line is added to :attr:`LLMJudge.warnings`. Only the standard library is used.

Configuration (environment first, then ``llm.toml`` in rehearse's home dir,
read with :mod:`tomllib`, so Python 3.11+; on 3.10 only if ``tomli`` is installed):

* ``REHEARSE_LLM_BASE_URL`` / ``base_url``: e.g. ``http://127.0.0.1:11434/v1`` (Ollama)
  or ``http://127.0.0.1:8080/v1`` (llama.cpp's server);
* ``REHEARSE_LLM_MODEL`` / ``model``: the model name the server knows;
* ``REHEARSE_LLM_API_KEY`` / ``api_key``: optional, sent as ``Authorization: Bearer``;
* ``REHEARSE_LLM_TIMEOUT`` / ``timeout``: seconds, default 30.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import urllib.request
from dataclasses import replace
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

from rehearse.errors import UsageError
from rehearse.matching import Match, Matcher
from rehearse.normalize import atomize
from rehearse.rubric import Point, Question
from rehearse.scoring import (
    PointResult,
    Score,
    coverage_of,
    evidence_from,
    point_result,
    timing,
)
from rehearse.transcript import Transcript

CONFIG_FILE = "llm.toml"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_TOKENS = 1024
HINTS = 4  # rubric phrases shown per point
QUOTE_MAX = 300  # characters of a quote the schema allows
_KEYS = ("base_url", "model", "api_key", "timeout")

SYSTEM_PROMPT = (
    "You are a strict interview examiner. Given an interview question, a candidate's spoken answer "
    "(transcribed by speech recognition, so words may be misheard) and some key points, you decide for each "
    "key point whether the answer states it, in any wording or language. A point the candidate negates, gets "
    "wrong or does not mention is not said. For every point you mark as said, copy the words of the answer "
    "that state it, verbatim. Reply with one JSON object and nothing else."
)


def urlopen(request: urllib.request.Request, timeout: float) -> Any:
    """:func:`urllib.request.urlopen`, bypassing proxies for a loopback host (a local server is never behind one)."""
    host = urlparse(request.full_url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=timeout)
    return urllib.request.urlopen(request, timeout=timeout)


def _read_config(path: Path) -> dict[str, Any]:
    """The settings in ``llm.toml`` (empty when there is no such file)."""
    if not path.is_file():
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise UsageError(f"Reading {path} needs Python 3.11+ (or `pip install tomli`); "
                             "set the REHEARSE_LLM_* variables instead.") from None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read as TOML: {exc}") from None
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {', '.join(unknown)}; use {', '.join(_KEYS)}.")
    return data


def find_quote(matcher: Matcher, quote: str) -> Match | None:
    """Where the transcript says ``quote`` (sound-tolerant, negation-aware), or None.

    A quote of fewer than two words is no evidence; a longer one is accepted when
    its best match is within the matcher's usual tolerance for a phrase of its length.
    """
    q = quote.strip().strip("\"'“”‘’「」『』")
    if len({a.token for a in atomize(q)}) < 2:  # words: one per Han character or Latin word
        return None
    m = matcher.find(q)
    return replace(m, by="llm") if m is not None else None


def _hints(point: Point) -> list[str]:
    """A few rubric phrases of ``point``: each group's first, then the others in turn."""
    out: list[str] = []
    for rank in range(max((len(g) for g in point.groups), default=0)):
        out += [g[rank] for g in point.groups if rank < len(g) and g[rank] not in out]
    return out[:HINTS]


def _schema(ids: list[str]) -> dict[str, Any]:
    """The reply's JSON schema: llama.cpp's server (and llama-cpp-python) enforce it, others ignore it."""
    entry = {"type": "object", "required": ["id", "said", "quote"],
             "properties": {"id": {"type": "string", "enum": ids}, "said": {"type": "boolean"},
                            "quote": {"type": "string", "maxLength": QUOTE_MAX}}}
    return {"type": "object", "required": ["points"],
            "properties": {"points": {"type": "array", "items": entry, "maxItems": len(ids)}}}


class LLMJudge:
    """The offline judge, then one chat request about the points it left uncovered (quotes verified)."""

    name = "llm"

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        self.base_url = base_url.strip().rstrip("/").removesuffix("/chat/completions")
        self.model = model
        self.api_key = api_key or None
        self.timeout = float(timeout)
        self.max_tokens = max_tokens
        #: one line per problem per call (unreachable model, unusable reply, unverified claims)
        self.warnings: list[str] = []

    @classmethod
    def from_env(cls) -> LLMJudge:
        """A judge configured by ``REHEARSE_LLM_*`` variables, else ``llm.toml`` in rehearse's home dir."""
        from rehearse.paths import home_dir

        path = home_dir() / CONFIG_FILE
        conf = _read_config(path)
        for name in _KEYS:
            value = os.environ.get(f"REHEARSE_LLM_{name.upper()}", "").strip()
            if value:
                conf[name] = value
        missing = [f"REHEARSE_LLM_{k.upper()}" for k in ("base_url", "model") if not str(conf.get(k, "")).strip()]
        if missing:
            raise UsageError(f"--judge llm needs a chat model behind an OpenAI-compatible endpoint: set "
                             f"{' and '.join(missing)} (e.g. REHEARSE_LLM_BASE_URL=http://127.0.0.1:11434/v1 "
                             f"REHEARSE_LLM_MODEL=qwen2.5:7b-instruct), or base_url and model in {path}.")
        base_url = str(conf["base_url"]).strip()
        if urlparse(base_url).scheme not in ("http", "https") or not urlparse(base_url).netloc:
            raise UsageError(f"The llm judge's base URL must start with http:// or https://, not '{base_url}'.")
        timeout = str(conf.get("timeout", DEFAULT_TIMEOUT)).strip()
        if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", timeout) or not float(timeout) > 0:
            raise UsageError(f"The llm judge's timeout must be a positive number of seconds, not '{conf['timeout']}'.")
        key: Any = conf.get("api_key")
        return cls(base_url, str(conf["model"]).strip(), str(key).strip() if key else None, float(timeout))

    def judge(self, question: Question, transcript: Transcript) -> Score:
        """The offline verdicts, plus the uncovered points the model claims with a quote found in the transcript."""
        from rehearse.judges import OfflineJudge

        base = OfflineJudge().judge(question, transcript)
        # points still missing; one the offline judge found contradicted ("unsure — check") stays for the user
        asked = {p.id: p for p, r in zip(question.points, base.points) if not r.covered and r.unsure is None}
        if not asked or not transcript.text.strip():
            return base
        claims = self._ask(question, transcript.text, list(asked.values()))
        if claims is None:
            return base
        matcher, times = Matcher(transcript.text), timing(transcript)
        before = {r.id: r for r in base.points}
        found: dict[str, PointResult] = {}
        unverified: list[str] = []
        for pid, quote in claims:
            m = None if pid in found else find_quote(matcher, quote)
            if m is None:
                unverified.append(pid)
                continue
            point, old, ev = asked[pid], before[pid], evidence_from(m, times)
            groups = list(old.groups) if point.mode == "all" else [old.evidence]
            found[pid] = point_result(point, [e if e is not None else ev for e in groups], "llm")
        unverified = sorted(set(unverified) - set(found))
        if unverified:
            self.warnings.append(f"LLM judge: {len(unverified)} claimed point(s) not counted, their quotes are not "
                                 f"in the transcript: {', '.join(unverified)}")
        if not found:
            return base
        points = tuple(found.get(r.id, r) for r in base.points)
        return replace(base, points=points, coverage=coverage_of(points))

    # ------------------------------------------------------------------ the request

    def _prompt(self, question: Question, text: str, points: list[Point]) -> str:
        lines = [f"Interview question: {question.question}", "", "The candidate's answer:", '"""', text, '"""', "",
                 "Key points to check:"]
        for p in points:
            lines.append(f"- id: {p.id}; point: {p.label}; typical wording: {' / '.join(_hints(p))}")
        lines += ["", "Reply with JSON only, one entry per key point:",
                  ('{"points": [{"id": "<key point id>", "said": true or false, '
                   '"quote": "<the exact words of the answer that state it; empty when not said>"}]}')]
        return "\n".join(lines)

    def _ask(self, question: Question, text: str, points: list[Point]) -> list[tuple[str, str]] | None:
        """(id, quote) of every point the model says was said; None (and a warning) when it failed."""
        body = {"model": self.model, "temperature": 0, "max_tokens": self.max_tokens, "stream": False,
                "response_format": {"type": "json_object", "schema": _schema([p.id for p in points])},
                "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                             {"role": "user", "content": self._prompt(question, text, points)}]}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = f"{self.base_url}/chat/completions"
        request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                         headers=headers, method="POST")
        try:
            with urlopen(request, timeout=self.timeout) as resp:
                raw = resp.read()
        except HTTPError as exc:
            self._fail(f"HTTP {exc.code} {exc.reason}".strip())
            return None
        except (OSError, HTTPException) as exc:  # URLError is an OSError; socket.timeout is TimeoutError
            reason = exc.reason if isinstance(exc, URLError) else exc
            if isinstance(reason, TimeoutError):
                self._fail(f"timed out after {self.timeout:g} s")
                return None
            if isinstance(reason, ConnectionRefusedError):
                self._fail("connection refused")
                return None
            self._fail(f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__)
            return None
        return self._parse(raw, {p.id for p in points})

    def _fail(self, why: str, reached: bool = False) -> None:
        """Record one warning line; the caller then returns None (the offline verdicts stand)."""
        state = "reply unusable" if reached else "unavailable"
        self.warnings.append(f"LLM judge {state} ({why} at {self.base_url}): offline verdicts used")

    def _parse(self, raw: bytes, ids: set[str]) -> list[tuple[str, str]] | None:
        try:
            content = json.loads(raw.decode("utf-8"))["choices"][0]["message"]["content"]
            text = re.sub(r"^\s*<think>.*?</think>", "", content, flags=re.DOTALL).strip()  # no <think> part
        except (ValueError, KeyError, IndexError, TypeError):
            self._fail("not an OpenAI chat completion", reached=True)
            return None
        text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text).strip()
        try:
            reply = json.loads(text)
        except ValueError:
            snippet = " ".join(text.split())[:60]
            self._fail(f"not JSON: '{snippet}'", reached=True)
            return None
        entries = reply.get("points") if isinstance(reply, dict) else None
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("said"), bool)
                and isinstance(e.get("quote", ""), str) for e in entries):
            self._fail('wrong JSON shape, expected {"points": [{"id", "said", "quote"}]}', reached=True)
            return None
        unknown = sorted({e["id"] for e in entries} - ids)
        if unknown:
            self._fail(f"unknown point id(s): {', '.join(unknown)[:80]}", reached=True)
            return None
        return [(e["id"], e.get("quote") or "") for e in entries if e["said"]]

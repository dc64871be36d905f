"""How long after a question appears is it heard? Time to first audio with streaming, cold cache, and the first
question of a session that was made ahead.

    python benchmarks/tts_first_audio.py              # 6 shipped Mandarin questions spread over the banks
    python benchmarks/tts_first_audio.py --limit 3 -v
    python benchmarks/tts_first_audio.py --shipped --limit 30 -v   # only the clips shipped in the package

Each question is read the way practice reads a question that was never spoken before (nothing cached):
:meth:`rehearse.tts.Speaker.warm_up` at session start (the model starts loading, the output line opens),
then :meth:`~rehearse.tts.Speaker.speak`: Kokoro makes it on its worker thread and the first clause plays
while the rest is made, through a private PulseAudio server with a null sink (the audio stack the tests
use: PortAudio → ALSA → PulseAudio, as on a desktop). Two cases per question, each in a fresh process so
nothing is warm from an earlier question:

* **model not loaded**: the question is spoken with nothing loaded (the model load, the G2P's
  dictionaries and onnxruntime's first run all count) — what happens if the first question appears
  before the load started at session start has finished;
* **model loaded**: the model was loaded first and the session started 2.5 s before the question
  appeared, the question itself still not cached.

Then the same question is spoken again: a question made ahead (every question after the first is made
while the previous one is answered) is a cache hit, and its first audio is the output line's latency.

The first question of a session made ahead, each step in its own process sharing one speech cache:

* **made by the previous session**: a process plays the end of a session (the speaker warms up, then
  makes the question ahead as practice does for the next session's first questions while the last one is
  answered, and closes); a new process then starts a session (warm-up: the model starts loading, the
  output line opens) and speaks the question at once;
* **after voices --prepare**: ``rehearse voices --prepare -q ID`` makes it, then the same new session;
* **made ahead, output opened late**: the first case with the output line opened just before the question is
  shown, as practice did before it warmed up before loading the banks (a just-started output stream holds
  the first sound back).

**A shipped clip** (``--shipped``): a brand-new user's first session (an empty speech cache), started the same way,
speaks a shipped question: its clip ships in the package (:mod:`rehearse.voices.shipped`) and is decoded into the
cache when it is spoken (timed); Kokoro never makes it (the run fails if it is asked to). Every other case turns
the shipped clips off (``AudioCache.shipped = None``), so it measures a question that was never spoken before.

Kokoro streams clause by clause, so a question of one clause ("介绍一下 ControlNet。") is heard only once it is
whole; streaming helps questions of several clauses. Printed per case: the median time from the call to the first audible samples handed to the output device
("first audio"), and the median time until the whole clip was made — which is when speech would have
started before streaming (a clip was played only once whole).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one(text: str, lang: str, loaded: bool) -> dict:
    """Speak ``text`` the way practice does (cold cache) and time it; then once more from the cache."""
    from rehearse.tts import Speaker
    from rehearse.voices.kokoro import KokoroEngine

    engine = KokoroEngine()
    if loaded:
        engine.load()
        list(engine.stream("你好。", "zh"))  # the G2P dictionaries and onnxruntime's first run, as a warm session has
    with tempfile.TemporaryDirectory() as cache:
        speaker = Speaker(engine=engine, cache_dir=Path(cache))
        speaker.warm_up(lang)  # as practice does at session start: the model loads, the output line opens
        if loaded:
            time.sleep(2.5)  # the session had started a moment before the question appeared
        stream = speaker.stream(text, lang)  # what speak() picks up
        assert speaker.speak(text, lang), speaker.take_notice()
        first = speaker.last
        stream.wait()
        assert speaker.speak(text, lang), speaker.take_notice()  # a question made ahead: a cache hit
        cached = speaker.last
        speaker.close()
    assert first is not None and cached is not None and stream.finished_at is not None
    assert first.first_sound_s is not None and cached.first_sound_s is not None
    return {"first_audio_s": first.first_sound_s, "whole_s": stream.finished_at - first.started,
            "audio_s": len(stream.audio()) / stream.rate, "cached_s": cached.first_sound_s}


def made_ahead(text: str, lang: str, cache: Path) -> dict:
    """The end of a session: the question is made ahead into ``cache`` (as practice does for the next session's
    first questions while the last one is answered), then the session ends."""
    from rehearse.tts import Speaker
    from rehearse.voices.kokoro import KokoroEngine

    speaker = Speaker(engine=KokoroEngine(), cache_dir=cache)
    speaker.warm_up(lang)
    t0 = time.monotonic()
    speaker.prefetch(text, lang)
    while speaker.cached(text, lang) is None:
        time.sleep(0.05)
    made = time.monotonic() - t0
    speaker.close()
    return {"made_s": made}


def next_session(text: str, lang: str, cache: Path, early: bool = True, shipped: bool = False) -> dict:
    """A new session whose first question is in ``cache`` (or, ``shipped``, in the package only), started as
    'rehearse practice' starts one: the speaker warms up (the model starts loading, the output line opens)
    before the banks and the history load (``early``; else just before the question, as practice did
    before), then the question is spoken."""
    from rehearse.cli import _library
    from rehearse.schedule import Selection
    from rehearse.store import Store
    from rehearse.tts import Speaker
    from rehearse.voices.kokoro import KokoroEngine

    engine = KokoroEngine()
    if shipped:
        def never(*_args: object, **_kw: object) -> None:
            raise AssertionError("Kokoro was asked to make a shipped question")

        engine.stream = engine.synthesize = never  # type: ignore[method-assign]
    speaker = Speaker(engine=engine, cache_dir=cache)
    if early:
        speaker.warm_up(lang)
    lib = _library(None, False)  # what the practice command does before the session starts
    with Store.open() as store:
        Selection(lib.questions).session(store.attempts())
    if shipped:  # nothing in the cache: the clip is decoded from the package when it is spoken
        assert not cache.is_dir() or not any(cache.iterdir()), "the cache is not empty"
    else:
        assert speaker.cached(text, lang) is not None, "the question was not made ahead"
    speaker.warm_up(lang)  # Session.run: a no-op when warmed up early
    assert speaker.speak(text, lang), speaker.take_notice()
    pb = speaker.last
    speaker.close()
    assert pb is not None and pb.first_sound_s is not None
    return {"first_audio_s": pb.first_sound_s}


def _run(args: list[str], env: dict[str, str], what: str) -> dict:
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{what}: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if args[0] == __file__ else {}


def ahead_cases(q, env: dict[str, str], root: Path) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The two ways a session's first question is made ahead, each then spoken by a new session."""
    cache = root / f"ahead-{q.id}"
    made = _run([__file__, "--one", q.question, "--ahead", str(cache)], env, q.id)
    heard = _run([__file__, "--one", q.question, "--next-session", str(cache)], env, q.id)
    late = _run([__file__, "--one", q.question, "--next-session", str(cache), "--late"], env, q.id)
    home = root / f"prepare-{q.id}"
    t0 = time.monotonic()
    _run(["-c", NO_SHIPPED + "from rehearse.cli import main; main()", "--home", str(home), "voices", "--prepare",
          "-q", q.id], env, f"{q.id}: prepare")
    prepared = {"made_s": time.monotonic() - t0}
    heard2 = _run([__file__, "--one", q.question, "--next-session", str(home / "cache" / "speech")], env, q.id)
    return {"made by the previous session": {**made, **heard}, "after voices --prepare": {**prepared, **heard2},
            "made ahead, output opened late": {**made, **late}}


NO_SHIPPED = "from rehearse.voices.cache import AudioCache; AudioCache.shipped = None; "  # a cold cache is cold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=6, help="how many shipped Mandarin questions")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: one measurement in a fresh process
    ap.add_argument("--loaded", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ahead", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--next-session", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--late", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--shipped", action="store_true",
                    help="only the first question of a new user's first session, from the clips shipped in the package")
    ap.add_argument("--only-ahead", action="store_true",
                    help="only the two made-ahead cases (the cold-cache ones take minutes under load)")
    args = ap.parse_args()
    if args.one is not None:
        if args.shipped:
            print(json.dumps(next_session(args.one, "zh", args.next_session, shipped=True)))
            return
        from rehearse.voices.cache import AudioCache

        AudioCache.shipped = None  # the other cases: never spoken before means not shipped either
        if args.ahead:
            print(json.dumps(made_ahead(args.one, "zh", args.ahead)))
        elif args.next_session:
            print(json.dumps(next_session(args.one, "zh", args.next_session, early=not args.late)))
        else:
            print(json.dumps(one(args.one, "zh", args.loaded)))
        return

    from rehearse.rubric import load_library
    from tests.audio_stack import start

    with tempfile.TemporaryDirectory() as root:
        server = start(Path(root) / "pulse")
        if isinstance(server, str):
            sys.exit(f"no audio stack to play into: {server}")
        env = {**server.env, "PYTHONPATH": str(ROOT), "REHEARSE_HOME": str(Path(root) / "home")}
        if "REHEARSE_MODELS" not in os.environ:  # the installed models, not the empty benchmark home
            from rehearse.paths import model_dir

            env["REHEARSE_MODELS"] = str(model_dir())
        zh = [q for q in load_library().questions if q.language == "zh"]
        questions = zh[::max(1, len(zh) // args.limit)][:args.limit]  # spread over the banks
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
        quick = args.only_ahead or args.shipped
        results: dict[str, list[dict]] = {} if quick else {"model not loaded": [], "model loaded": []}
        ahead: dict[str, list[dict]] = {"made by the previous session": [], "after voices --prepare": [],
                                        "made ahead, output opened late": []}
        if args.shipped:
            ahead = {"shipped clip, empty cache": []}
        try:
            for q in questions:
                if args.shipped:
                    cache = Path(root) / f"shipped-{q.id}"
                    r = _run([__file__, "--one", q.question, "--shipped", "--next-session", str(cache)], env, q.id)
                    ahead["shipped clip, empty cache"].append(r)
                    if args.verbose:
                        print(f"  {q.id:28} shipped clip, a new user's first session: first audio "
                              f"{r['first_audio_s']:.2f} s")
                    continue
                for case, r in ahead_cases(q, env, Path(root)).items():
                    ahead[case].append(r)
                    if args.verbose:
                        print(f"  {q.id:28} {case:30} made in {r['made_s']:5.2f} s, then a new session: first "
                              f"audio {r['first_audio_s']:.2f} s")
                for case, flag in (("model not loaded", []), ("model loaded", ["--loaded"])):
                    if quick:
                        break
                    done = subprocess.run([sys.executable, __file__, "--one", q.question, *flag], env=env,
                                          capture_output=True, text=True, timeout=600)
                    if done.returncode != 0:
                        sys.exit(f"{q.id}: {done.stderr.strip().splitlines()[-1:]}")
                    r = json.loads(done.stdout.strip().splitlines()[-1])
                    results[case].append(r)
                    if args.verbose:
                        print(f"  {q.id:28} {case:17} first audio {r['first_audio_s']:5.2f} s   whole clip "
                              f"{r['whole_s']:5.2f} s   ({r['audio_s']:.1f} s of speech)   from the cache "
                              f"{r['cached_s']:.2f} s")
        finally:
            server.stop()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{len(questions)} shipped Mandarin questions, Kokoro, played through PulseAudio:")
    for case, rs in results.items():
        print(f"  {case:17} first audio median {statistics.median(r['first_audio_s'] for r in rs):5.2f} s "
              f"(range {min(r['first_audio_s'] for r in rs):.2f}–{max(r['first_audio_s'] for r in rs):.2f})   "
              f"whole clip made (= first audio before streaming) median "
              f"{statistics.median(r['whole_s'] for r in rs):5.2f} s   speech median "
              f"{statistics.median(r['audio_s'] for r in rs):.1f} s")
    cached = [r["cached_s"] for rs in results.values() for r in rs]
    if cached:
        print(f"  made ahead (cache hit), output line open: first audio median {statistics.median(cached):.2f} s "
              f"(range {min(cached):.2f}–{max(cached):.2f}, n = {len(cached)})")
    print("the first question of a new session (a fresh process: warm-up, then spoken at once), "
          + ("its clip shipped in the package:" if args.shipped else "made ahead:"))
    for case, rs in ahead.items():
        print(f"  {case:30} first audio median {statistics.median(r['first_audio_s'] for r in rs):.2f} s "
              f"(range {min(r['first_audio_s'] for r in rs):.2f}–{max(r['first_audio_s'] for r in rs):.2f}, "
              f"n = {len(rs)})" + ("" if args.shipped else
                                   f"   made in median {statistics.median(r['made_s'] for r in rs):.1f} s beforehand"))


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    if "--one" not in sys.argv:
        print(f"took {time.monotonic() - t0:.0f} s")

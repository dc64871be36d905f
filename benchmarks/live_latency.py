"""Live practice latency: from the end of speech to the report on screen.

    python benchmarks/live_latency.py                 # three ~2-minute Mandarin answers, base model, real time
    python benchmarks/live_latency.py --tail 0.5      # the speaker presses Enter 0.5 s after the last word
    python benchmarks/live_latency.py --audio answer.wav --reference "…"

A ~2-minute answer is fed through the same pipeline as ``rehearse practice``
(recorder writer thread → WAV on disk → live chunking → background
transcription) in real time: the audio is replayed block by block at the pace
it was spoken (:class:`rehearse.recorder.FileSource`), and the transcription
work is real. At the end of speech the recording is stopped (as if Enter were
pressed), the last chunk is transcribed, the answer is scored with
``assess_transcript`` and the report rendered. Printed:

* latency: end of speech → report rendered (target ≤ 2 s with base on 2 cores);
* real-time factor of the streamed transcription (compute s / audio s);
* peak memory: the process's max RSS (and, with --tracemalloc, the Python heap
  peak; tracemalloc slows Python code, so latency is not measured with it by default);
* CER of the streamed and of the whole-file transcripts against the reference,
  and between the two (target: streamed within 0.02 of whole-file), and the
  rubric coverage each gives.

The default answer is built from ``eval/audio/*.flac`` (Mandarin answers,
synthesised; see eval/README.md) when present, else from the shared test
clips, with short pauses between the pieces.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from rehearse.assess import assess_transcript, options_for  # noqa: E402
from rehearse.audio import load_audio, write_wav  # noqa: E402
from rehearse.engines import get_engine  # noqa: E402
from rehearse.live import LiveTranscriber  # noqa: E402
from rehearse.metrics import cer  # noqa: E402
from rehearse.recorder import FileSource, Recorder  # noqa: E402
from rehearse.report import render_assessment  # noqa: E402
from rehearse.rubric import load_library  # noqa: E402
from rehearse.transcribe import recognise  # noqa: E402

SHARED = ROOT / "tests" / "data" / "speech"
SR = 16_000
DEFAULT_QUESTIONS = ("contrastive-learning", "3d-ssgan", "stable-diffusion")


def _pause(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), np.float32)


def build_answer(target_s: float = 120.0, question: str = "contrastive-learning") -> tuple[np.ndarray, str, str]:
    """(audio, reference text, description) of a Mandarin answer to ``question`` of about ``target_s`` seconds."""
    pieces: list[tuple[np.ndarray, str]] = []
    tsv = ROOT / "eval" / "answers.tsv"
    audio_dir = ROOT / "eval" / "audio"
    if tsv.is_file() and audio_dir.is_dir():
        with tsv.open(encoding="utf-8") as f:
            refs = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
        for p in sorted(audio_dir.glob("*.flac")):
            r = refs.get(p.stem)
            if r and r["lang"] == "zh" and p.stem.startswith(question + "-") and "offtopic" not in p.stem:
                pieces.append((load_audio(p), r["text"]))
        source = "eval/audio"
    if sum(len(a) for a, _ in pieces) < target_s * SR * 0.8:
        pieces = []
        for folder, key in (("real", "file"), ("synthetic/kokoro_jm_kumo_lex", "id")):
            with open(SHARED / folder / "transcripts.tsv", encoding="utf-8") as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    if row["lang"] == "zh":
                        name = row[key] if row[key].endswith(".flac") else row[key] + ".flac"
                        pieces.append((load_audio(SHARED / folder / name), row["text"]))
        source = "tests/data/speech zh clips"
    rng = np.random.default_rng(0)
    audio, text, i = [], [], 0
    while sum(len(a) for a in audio) < target_s * SR:
        a, t = pieces[i % len(pieces)]
        audio += [a, _pause(float(rng.uniform(0.35, 1.0)))]
        text.append(t)
        i += 1
    whole = np.concatenate(audio[:-1])
    return whole, "".join(text), f"{i} pieces from {source}"


def run_one(engine, question, src_path: Path, reference: str, args: argparse.Namespace, tmp: Path) -> dict:
    """Stream one answer through the practice pipeline; return its figures (and print them)."""
    options = options_for(question)
    audio_s = len(load_audio(src_path)) / SR
    if args.tracemalloc:
        tracemalloc.start()
    tuning = {k: v for k, v in (("min_chunk_s", args.min_chunk), ("pause_s", args.pause)) if v is not None}
    if args.no_tail_spec:
        tuning["tail_pause_s"] = None
    live = LiveTranscriber(engine, options, **tuning).start()
    live.wait_loaded()
    source = FileSource(src_path, speed=args.speed, tail_s=args.tail)
    rec = Recorder(tmp / "rec.wav", source, on_block=live.feed)
    rec.start()
    while source.fed_until is None:
        time.sleep(0.01)
    end_of_speech = source.fed_until - args.tail / args.speed
    rec.stop("enter")
    t_stop = time.monotonic()
    result = live.finish()
    assessment = assess_transcript(question, result.transcript, result.speech or None, audio_path=tmp / "rec.wav",
                                   filled_pauses=result.filled_pauses)
    render_assessment(assessment, Console(file=io.StringIO(), width=100))
    t_report = time.monotonic()
    py_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    tracemalloc.stop()

    latency = t_report - end_of_speech
    streamed = result.transcript.text
    chunks = [c.end - c.start for c in result.chunks]
    print(f"chunks: {len(chunks)} ({', '.join(f'{c:.1f}' for c in chunks)} s)")
    print(f"latency end of speech -> report: {latency:.2f} s (stop -> transcript {result.final_wait_s:.2f} s, "
          f"last chunk {chunks[-1] if chunks else 0:.1f} s; {result.behind_s:.1f} s of audio not yet decoded at stop; "
          f"stop itself {t_stop - end_of_speech:.2f} s)")
    print(f"real-time factor (streamed): {result.rtf:.3f} (all decoding, {result.speculations} speculative decodes "
          f"included, {result.adopted} kept as chunks; last chunk "
          f"{'finished from a speculation' if result.speculation_used else 'decoded whole'})")
    if py_peak is not None:
        print(f"Python heap peak while streaming: {py_peak / 2**20:.1f} MB (tracemalloc slows the run)")
    row = {"question": question.id, "audio_s": audio_s, "latency": latency, "rtf": result.rtf}
    if reference:
        row["cer_streamed"] = cer(reference, streamed)
    if not args.skip_whole:
        t0 = time.perf_counter()
        whole = recognise(load_audio(src_path), engine, options).transcript
        whole_s = time.perf_counter() - t0
        print(f"whole file at once, after the answer: {whole_s:.2f} s (real-time factor {whole_s / audio_s:.3f})")
        if reference:
            row["cer_whole"] = cer(reference, whole.text)
            print(f"CER vs reference: streamed {row['cer_streamed']:.3f}, whole file {row['cer_whole']:.3f}; "
                  f"streamed - whole = {row['cer_streamed'] - row['cer_whole']:+.3f}")
        print(f"CER streamed vs whole file: {cer(whole.text, streamed):.3f}")
        row["coverage_whole"] = assess_transcript(question, whole).score.coverage
    elif reference:
        print(f"CER vs reference: streamed {row['cer_streamed']:.3f}")
    row["coverage"] = assessment.score.coverage
    print(f"coverage of '{question.id}': {assessment.score.coverage:.0%} streamed"
          + (f", {row['coverage_whole']:.0%} whole file" if "coverage_whole" in row else ""))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", type=Path, help="a recorded answer (default: built, ~2 minutes)")
    ap.add_argument("--reference", default="", help="its reference text (for CER)")
    ap.add_argument("--question", action="append",
                    help="question id to score against (repeatable: one answer each; default: "
                         + ", ".join(DEFAULT_QUESTIONS) + ")")
    ap.add_argument("--model", default="base")
    ap.add_argument("--engine", default="faster-whisper")
    ap.add_argument("--seconds", type=float, default=120.0, help="length of the built answer")
    ap.add_argument("--tail", type=float, default=0.0, help="silence after the answer before Enter is pressed")
    ap.add_argument("--speed", type=float, default=1.0, help="feed faster than real time (1 = real time)")
    ap.add_argument("--min-chunk", type=float, default=None, help="override the live chunker's minimum chunk")
    ap.add_argument("--pause", type=float, default=None, help="override the live chunker's pause length")
    ap.add_argument("--no-tail-spec", action="store_true",
                    help="no speculation at a pause after the latest speech (the behaviour before it existed)")
    ap.add_argument("--skip-whole", action="store_true", help="do not transcribe the whole file for comparison")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also measure the Python heap peak (slows Python code, so latency reads high)")
    args = ap.parse_args(argv)

    library = load_library()
    question_ids = args.question or ([DEFAULT_QUESTIONS[0]] if args.audio else list(DEFAULT_QUESTIONS))
    engine = get_engine(args.engine, args.model)
    print(f"model {args.model}, {os.cpu_count()} cores; fed at {args.speed:g}x real time, "
          f"Enter {args.tail:g} s after the last word")
    rows = []
    for qid in question_ids:
        with tempfile.TemporaryDirectory(prefix="rehearse-bench-") as tmp:
            if args.audio:
                src_path, reference, what = args.audio, args.reference, str(args.audio)
            else:
                audio, reference, what = build_answer(args.seconds, qid)
                src_path = write_wav(Path(tmp) / "answer.wav", audio)
            print(f"\n== {qid}: {len(load_audio(src_path)) / SR:.1f} s ({what})")
            rows.append(run_one(engine, library.get(qid), src_path, reference, args, Path(tmp)))
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lat = sorted(r["latency"] for r in rows)
    print(f"\nsummary over {len(rows)} answer(s): latency median {lat[len(lat) // 2]:.2f} s, max {lat[-1]:.2f} s; "
          f"real-time factor {min(r['rtf'] for r in rows):.3f}-{max(r['rtf'] for r in rows):.3f}; "
          f"peak memory (max RSS of the process) {maxrss_mb:.0f} MB")
    diffs = [r["cer_streamed"] - r["cer_whole"] for r in rows if "cer_whole" in r]
    if diffs:
        print("CER streamed - whole file: " + ", ".join(f"{d:+.3f}" for d in diffs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

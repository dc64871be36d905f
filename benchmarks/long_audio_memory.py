"""Peak memory and time to score a long recording (a 60-minute mock interview).

    python benchmarks/long_audio_memory.py                 # 10 and 60 minutes
    python benchmarks/long_audio_memory.py --minutes 5 30  # other lengths

Each length is measured in a fresh process (so peaks do not mix): real speech
clips from ``tests/data/speech/real`` are tiled, with pauses between them, into
a 16 kHz WAV of that length, and the process then does what ``rehearse score
FILE.wav`` does: load the audio, transcribe it with Whisper base
(faster-whisper, int8, 2 threads) and score it against a shipped question.
Printed per length: peak resident memory (``ru_maxrss``), the memory before the
audio was loaded (Python, libraries, the model), wall time and real-time factor.
The target (issue 11) is a peak under 1 GB for 60 minutes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT / "tests" / "data" / "speech" / "real"


def make_wav(path: Path, minutes: float) -> None:
    """Tile the real clips (with 0.4–1.5 s pauses) into ``minutes`` of 16 kHz audio, written in blocks."""
    import numpy as np
    import soundfile as sf

    from rehearse.audio import SAMPLE_RATE, load_audio

    clips = [load_audio(p) for p in sorted(CLIPS.glob("*.flac"))]
    rng = np.random.default_rng(0)
    total = int(minutes * 60 * SAMPLE_RATE)
    written = 0
    with sf.SoundFile(str(path), "w", samplerate=SAMPLE_RATE, channels=1, subtype="PCM_16") as f:
        while written < total:
            clip = clips[int(rng.integers(len(clips)))]
            gap = np.zeros(int(rng.uniform(0.4, 1.5) * SAMPLE_RATE), dtype=np.float32)
            block = np.concatenate([clip, gap])[: total - written]
            f.write(block)
            written += len(block)


def child(path: str) -> None:
    """Score one file and print the figures as JSON (runs in its own process)."""
    from rehearse.assess import assess_audio
    from rehearse.engines.faster import FasterWhisperEngine
    from rehearse.rubric import load_library

    engine = FasterWhisperEngine("base", cpu_threads=2)
    engine.load()
    question = load_library().get("3d-ssgan")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    a = assess_audio(question, path, engine)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"duration_s": a.transcript.duration, "before_mb": before, "peak_mb": peak,
                      "wall_s": wall, "chars": len(a.transcript.text),
                      "segments": len(a.transcript.segments)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"{'minutes':>7} {'before MB':>9} {'peak MB':>8} {'wall s':>7} {'RTF':>5} {'chars':>6} {'segments':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            wav = Path(tmp) / f"answer-{minutes:g}min.wav"
            make_wav(wav, minutes)
            out = subprocess.run([sys.executable, __file__, "--child", str(wav)], capture_output=True,
                                 text=True, check=False)
            if out.returncode != 0:
                print(f"{minutes:7g}  failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['duration_s'] / 60:7.1f} {r['before_mb']:9.0f} {r['peak_mb']:8.0f} {r['wall_s']:7.1f} "
                  f"{r['wall_s'] / r['duration_s']:5.2f} {r['chars']:6d} {r['segments']:8d}")
            wav.unlink()


if __name__ == "__main__":
    main()

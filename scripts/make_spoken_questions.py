#!/usr/bin/env python3
"""(Re)make the spoken shipped questions in rehearse/data/spoken/ (``make spoken-questions``).

    .venv/bin/python scripts/make_spoken_questions.py [--missing]

Every question of the shipped banks (prompts/) is read by the default offline voice — Kokoro with
jm_kumo@zm_yunjian for Mandarin and jm_kumo for English, the default on Linux — exactly as practice makes a question (streamed clause by clause on the speaker's worker, the
whole clip as cached), then written as Ogg Opus (libsndfile through soundfile, ~32 kbit/s) under its cache
key, listed in manifest.tsv with its SHA-256 and what the G2P made of the text. Clips no shipped question
uses any more are removed. ``--missing`` renders only the questions whose clip is missing or out of date
(another text, voice, speed or G2P). Needs the Kokoro weights (``make setup``); takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.pop("REHEARSE_PROMPTS", None)  # the checkout's banks, the ones that ship

OPUS_LEVEL = 0.9  # libsndfile's compression level for Opus: 0.9 is ~32 kbit/s for this speech


def encode(audio, rate: int) -> bytes:  # type: ignore[no-untyped-def]
    """16-bit samples -> Ogg Opus bytes."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="OGG", subtype="OPUS", compression_level=OPUS_LEVEL)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--missing", action="store_true", help="only the clips that are missing or out of date")
    args = ap.parse_args()

    import soundfile as sf

    from rehearse.rubric import load_library
    from rehearse.tts import Speaker
    from rehearse.voices.cache import SHIPPED, cache_key, spoken_voice
    from rehearse.voices.kokoro import SPEED, KokoroEngine
    from rehearse.voices.shipped import ENGINE, SUFFIX, Clip, default_key, phonemes, read_manifest, write_manifest

    if "opus" not in {s.lower() for s in sf.available_subtypes("OGG")}:
        sys.exit(f"this libsndfile ({sf.__libsndfile_version__}) cannot write Ogg Opus")
    if not KokoroEngine.installed():
        sys.exit("Kokoro is not installed: run 'make setup' (or 'rehearse models install kokoro')")
    engine = KokoroEngine()
    assert engine.name == ENGINE
    questions = [q for q in load_library().questions if q.language in engine.languages]
    old = read_manifest(SHIPPED)
    SHIPPED.mkdir(parents=True, exist_ok=True)
    clips: list[Clip] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        speaker = Speaker(voice=None, engine=engine, cache_dir=Path(tmp))  # each language's default voice
        speaker.cache.shipped = None  # rendered by the engine, never taken from the clips being remade
        try:
            for n, q in enumerate(questions, 1):
                key = default_key(q.question, q.language)
                voice = engine.default_voice(q.language)
                # the key a default speaker computes
                assert key == cache_key(q.question, q.language, engine.name, spoken_voice(engine, q.language, None))
                said = phonemes(engine.g2p, q.question, q.language)
                path = SHIPPED / f"{key}{SUFFIX}"
                was = old.get(key)
                if args.missing and was is not None and path.is_file() and was.phonemes == said \
                        and was.voice == voice and was.speed == SPEED \
                        and hashlib.sha256(path.read_bytes()).hexdigest() == was.sha256:
                    clips.append(Clip(key, was.sha256, q.id, voice, SPEED, said))
                    print(f"[{n:2}/{len(questions)}] {q.id:28} up to date")
                    continue
                t = time.monotonic()
                audio, rate = sf.read(str(speaker.audio_for(q.question, q.language)), dtype="int16")
                data = encode(audio, int(rate))
                tmp_path = path.with_name(f".{path.name}.tmp")
                tmp_path.write_bytes(data)
                tmp_path.replace(path)
                clips.append(Clip(key, hashlib.sha256(data).hexdigest(), q.id, voice, SPEED, said))
                print(f"[{n:2}/{len(questions)}] {q.id:28} {len(audio) / rate:4.1f} s of speech, "
                      f"{len(data) / 1024:5.1f} KiB, made in {time.monotonic() - t:.1f} s", flush=True)
        finally:
            speaker.close()
    write_manifest(SHIPPED, clips)
    keep = {f"{c.key}{SUFFIX}" for c in clips}
    for p in SHIPPED.glob(f"*{SUFFIX}"):
        if p.name not in keep:
            p.unlink()
            print(f"removed {p.name} (no shipped question reads it any more)")
    total = sum(p.stat().st_size for p in SHIPPED.iterdir() if p.is_file())
    print(f"{len(clips)} clips in {SHIPPED.relative_to(ROOT)}: {total / 1024:.0f} KiB ({total} bytes) "
          f"with the manifest; took {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()

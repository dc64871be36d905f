"""An evaluation set for the filled-pause detector: real speech with filled pauses inserted, and syllables
lengthened, at known times.

Source speech: the real clips of tests/data/speech/real (AISHELL-1 and FunASR Mandarin, JFK and LJ Speech
English). Each filled pause is made from real speech: the steadiest vowel nucleus of a clip (a voiced
stretch with flat pitch) is stretched pitch-synchronously — grains of two pitch periods laid one period
apart, the period wandering by a random walk (jitter, ~1 %), drifting down 0–1.5 semitones, with per-grain
amplitude shimmer — to 0.25–0.9 s, as an open vowel (呃, uh) or low-passed into a nasal murmur (嗯, mm),
at a level 0–12 dB below the clip's speech. They are inserted, with short silences around them, at the
quietest point near a random place. The same clips untouched are the fluent set.

Lengthened syllables (那——, so——; :func:`lengthened_set`) are made in place: a real syllable that ends a
word (its voiced run followed by a dip of ≥ 15 dB) has the steadiest 50 ms of its final vowel held on the
same way — drifting −2…+0.5 semitones, its level falling 0–6 dB — until the vowel lasts 0.3–0.9 s, and
is crossfaded back into the rest of that syllable, so the onset and the coarticulation are the speaker's own.

What it can show: whether the detector finds vowel-like held sounds of varied length, pitch and level
inside real speech, held vowels at the end of real words included, and how many false alarms real fluent
(read) speech raises. What it cannot: how people really hesitate — spontaneous fillers blend into the
words around them, a real lengthened syllable is held with the speaker's own intonation rather than a
repeated 50 ms, and read speech has fewer natural hesitations than an interview answer. The fluent clips
are the same 14 recordings (1.5 min) in both halves, so the false-alarm rate is not a held-out figure.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rehearse.audio import SAMPLE_RATE, load_audio
from rehearse.hesitation import HOP_S, WIN_S, analyse

SPEECH = Path(__file__).resolve().parent / "data" / "speech" / "real"


@dataclass(frozen=True)
class Clip:
    """One evaluation clip: audio, the filled pauses in it (start, end seconds), where it came from."""

    name: str
    audio: np.ndarray
    truth: tuple[tuple[float, float], ...]
    language: str

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def real_clips() -> list[tuple[str, str, np.ndarray]]:
    """(name, language, audio) of every real clip."""
    with open(SPEECH / "transcripts.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [(r["file"].rsplit(".", 1)[0], r["language"] if "language" in r else r.get("lang", ""),
             load_audio(SPEECH / r["file"])) for r in rows]


def nucleus(audio: np.ndarray) -> tuple[np.ndarray, float]:
    """The steadiest voiced stretch (≥ 60 ms) of ``audio`` and its pitch period in samples."""
    fr = analyse(audio)
    semis = 12 * np.log2(np.maximum(fr.f0, 1.0) / 100.0)
    best, best_score = (0, 0), -1.0
    for i in range(len(fr.f0) - 6):
        w = slice(i, i + 6)
        if np.all(fr.f0[w] > 0) and np.ptp(semis[w]) < 0.7:
            score = float(fr.voicing[w].mean() + fr.level_db[w].mean() / 100)
            if score > best_score:
                best, best_score = (i, i + 6), score
    if best_score < 0:
        raise ValueError("no steady voiced stretch in this clip")
    a, b = int(best[0] * HOP_S * SAMPLE_RATE), int((best[1] * HOP_S + WIN_S) * SAMPLE_RATE)
    return audio[a:b].copy(), float(SAMPLE_RATE / np.median(fr.f0[best[0]:best[1]]))


def filled_pause(source: np.ndarray, period: float, seconds: float, rng: np.random.Generator,
                 nasal: bool) -> np.ndarray:
    """A held vowel (or nasal) of ``seconds`` from a real vowel nucleus, with natural jitter and shimmer."""
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n + 4 * int(period) + 2, np.float32)
    grain_len = 2 * int(period)
    window = np.hanning(grain_len).astype(np.float32)
    centres = np.arange(int(period), len(source) - int(period), max(1, int(period)))
    centres = np.r_[centres, centres[-2:0:-1]]  # forth and back through the nucleus: no jump
    drift = rng.uniform(0.0, 1.5)  # semitones, downward over the pause
    jitter, t, k = 0.0, 0.0, 0
    while t < n:
        jitter = 0.7 * jitter + rng.normal(0, 0.008)
        c = int(centres[k % len(centres)])
        k += 1
        grain = source[c - int(period): c - int(period) + grain_len]
        if len(grain) < grain_len:
            break
        amp = 1.0 + rng.normal(0, 0.05)
        out[int(t): int(t) + grain_len] += grain * window * amp
        t += period * 2 ** (drift * (t / n) / 12) * (1 + jitter)
    out = out[:n]
    if nasal:  # a nasal murmur: keep the low harmonics
        spec = np.fft.rfft(out)
        freqs = np.fft.rfftfreq(len(out), 1 / SAMPLE_RATE)
        spec *= 1 / (1 + (freqs / 350.0) ** 4)
        out = np.fft.irfft(spec, len(out)).astype(np.float32)
    ramp = np.ones(n, np.float32)
    a, d = int(0.03 * SAMPLE_RATE), int(0.06 * SAMPLE_RATE)
    ramp[:a] = np.linspace(0, 1, a)
    ramp[-d:] = np.linspace(1, 0, d)
    return out * ramp


def _quiet_point(audio: np.ndarray, near: int, span: int = int(0.3 * SAMPLE_RATE)) -> int:
    lo, hi = max(0, near - span), min(len(audio), near + span)
    hop = int(0.01 * SAMPLE_RATE)
    energies = [float(np.mean(audio[i:i + hop] ** 2)) for i in range(lo, hi - hop, hop)]
    return lo + hop * int(np.argmin(energies)) if energies else near


def with_filled_pauses(name: str, language: str, audio: np.ndarray, seed: int, count: int) -> Clip:
    """``audio`` with ``count`` filled pauses inserted (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    src, period = nucleus(audio)
    speech_rms = float(np.sqrt(np.mean(audio[np.abs(audio) > 0.01] ** 2))) if np.any(np.abs(audio) > 0.01) else 0.1
    points = sorted(_quiet_point(audio, int(p)) for p in rng.uniform(0.15, 0.85, count) * len(audio))
    gap = np.zeros(int(0.08 * SAMPLE_RATE), np.float32)
    pieces, truth, last, offset = [], [], 0, 0
    for p in points:
        fp = filled_pause(src, period, rng.uniform(0.25, 0.9), rng, nasal=bool(rng.random() < 0.5))
        rms = float(np.sqrt(np.mean(fp ** 2))) or 1.0
        fp *= speech_rms * 10 ** (-rng.uniform(0, 12) / 20) / rms
        pieces += [audio[last:p], gap, fp, gap]
        start = (p + offset + len(gap)) / SAMPLE_RATE
        truth.append((round(start, 3), round(start + len(fp) / SAMPLE_RATE, 3)))
        offset += 2 * len(gap) + len(fp)
        last = p
    pieces.append(audio[last:])
    return Clip(f"{name}+{count}fp", np.clip(np.concatenate(pieces), -1, 1).astype(np.float32), tuple(truth),
                language)


def syllable_ends(audio: np.ndarray) -> list[tuple[int, int, float]]:
    """Where a real syllable's vowel ends before a dip (a pause or a word boundary): (start, end) samples
    of the steadiest 50 ms near the end of its voiced run, and its pitch period in samples."""
    fr = analyse(audio)
    semis = 12 * np.log2(np.maximum(fr.f0, 1.0) / 100.0)
    voiced = fr.f0 > 0
    speech_db = float(np.percentile(fr.level_db[voiced], 90)) if voiced.any() else 0.0
    edges = np.flatnonzero(np.diff(np.r_[0, voiced.astype(np.int8), 0]))
    out = []
    for a, b in zip(edges[::2], edges[1::2]):
        after = fr.level_db[b:b + 8]
        if b - a < 8 or len(after) < 8 or np.sum(after < speech_db - 15) < 4:
            continue  # too short, or the speech runs on: not the end of a word
        best, best_i = 9.0, -1
        for i in range(a + (b - a) // 3, b - 5 + 1):
            w = slice(i, i + 5)
            if fr.level_db[w].min() >= fr.level_db[a:b].max() - 8 and np.ptp(semis[w]) < best:
                best, best_i = float(np.ptp(semis[w])), i
        if best_i >= 0 and best <= 1.0:
            period = float(SAMPLE_RATE / np.median(fr.f0[best_i:best_i + 5]))
            s0 = int(best_i * HOP_S * SAMPLE_RATE)
            out.append((s0, s0 + int((5 * HOP_S + WIN_S) * SAMPLE_RATE), period))
    return out


def stretch(stable: np.ndarray, period: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """``seconds`` more of a vowel: its stable part's pitch periods repeated (PSOLA-style grains laid one
    period apart, forth and back through it), the period wandering by ~1 % (jitter) and drifting
    −2…+0.5 semitones, with amplitude shimmer and a slow fall in level."""
    n = int(seconds * SAMPLE_RATE)
    p = int(period)
    grain_len = 2 * p
    window = np.hanning(grain_len).astype(np.float32)
    centres = np.arange(p, len(stable) - p, max(1, p))
    if len(centres) == 0:
        raise ValueError("the stable part is shorter than two pitch periods")
    centres = np.r_[centres, centres[-2:0:-1]] if len(centres) > 2 else centres
    out = np.zeros(n + 2 * grain_len, np.float32)
    drift, fall = rng.uniform(-2.0, 0.5), rng.uniform(0.0, 6.0)  # semitones over the stretch; dB of level
    jitter, t, k = 0.0, 0.0, 0
    while t < n:
        jitter = 0.7 * jitter + rng.normal(0, 0.008)
        c = int(centres[k % len(centres)])
        k += 1
        grain = stable[c - p: c - p + grain_len]
        amp = (1.0 + rng.normal(0, 0.05)) * 10 ** (-fall * (t / n) / 20)
        out[int(t): int(t) + len(grain)] += grain * window[:len(grain)] * amp
        t += period * 2 ** (-drift * (t / n) / 12) * (1 + jitter)
    return out[:n]


def with_lengthened_syllables(name: str, language: str, audio: np.ndarray, seed: int, count: int) -> Clip:
    """``audio`` with ``count`` real syllables lengthened (那——, so——): the vowel of a syllable that ends a
    word is held on (:func:`stretch`) until it lasts 0.3–0.9 s, crossfaded into the rest of that same
    syllable. The truth is the held vowel: its stable part plus the stretch."""
    rng = np.random.default_rng(seed)
    ends = syllable_ends(audio)
    if not ends:
        raise ValueError(f"{name}: no syllable ends before a dip")
    picks: list[tuple[int, int, float]] = []
    for k in rng.permutation(len(ends)):
        if len(picks) < count and all(abs(ends[k][0] - q[0]) > SAMPLE_RATE // 2 for q in picks):
            picks.append(ends[k])
    xf = int(0.01 * SAMPLE_RATE)
    fade = np.linspace(0, 1, xf, dtype=np.float32)
    pieces, truth, last, offset = [], [], 0, 0
    for s0, s1, period in sorted(picks):
        held = rng.uniform(0.3, 0.9)
        ext = stretch(audio[s0:s1], period, held - (s1 - s0) / SAMPLE_RATE + 2 * xf / SAMPLE_RATE, rng)
        before = audio[last:s1].copy()
        before[-xf:] *= fade[::-1]
        ext[:xf] *= fade
        ext[-xf:] *= fade[::-1]
        after_head = audio[s1:s1 + xf] * fade
        joined = np.concatenate([before[:-xf], before[-xf:] + ext[:xf], ext[xf:-xf], ext[-xf:] + after_head])
        pieces.append(joined)
        start = (s0 + offset) / SAMPLE_RATE
        truth.append((round(start, 3), round(start + held, 3)))
        offset += len(ext) - 2 * xf
        last = s1 + xf
    pieces.append(audio[last:])
    return Clip(f"{name}+{len(picks)}ls", np.clip(np.concatenate(pieces), -1, 1).astype(np.float32), tuple(truth),
                language)


def lengthened_set(half: str = "dev", variants: int = 2) -> list[Clip]:
    """Every real clip in ``variants`` versions with 1–3 lengthened syllables (no fluent copies: those
    are in :func:`evaluation_set`). ``half`` as there: other seeds, so other syllables and lengths."""
    offset = 0 if half == "dev" else 500
    return [with_lengthened_syllables(name, lang, audio, seed=7000 + 1000 * n + v + offset,
                                      count=1 + (n + v + offset // 500) % 3)
            for n, (name, lang, audio) in enumerate(real_clips()) for v in range(variants)]


def evaluation_set(half: str = "dev", variants: int = 2) -> list[Clip]:
    """Every real clip untouched (fluent) and in ``variants`` versions with 1–3 inserted filled pauses.

    ``half``: "dev" (the thresholds were tuned on it) or "test" (other random pauses, for reporting)."""
    out = []
    offset = 0 if half == "dev" else 500
    for n, (name, lang, audio) in enumerate(real_clips()):
        out.append(Clip(name, audio, (), lang))
        for v in range(variants):
            out.append(with_filled_pauses(name, lang, audio, seed=1000 * n + v + offset,
                                          count=1 + (n + v + offset // 500) % 3))
    return out


def match(truth: tuple[tuple[float, float], ...], found: list[tuple[float, float]]) -> tuple[int, int, int]:
    """(true positives, false positives, misses): a detection matches a true pause it overlaps by ≥ 50 % of the
    shorter of the two; each true pause matches at most one detection."""
    used: set[int] = set()
    tp = 0
    for s, e in found:
        hit = next((k for k, (ts, te) in enumerate(truth) if k not in used and
                    min(e, te) - max(s, ts) >= 0.5 * min(e - s, te - ts)), None)
        if hit is not None:
            used.add(hit)
            tp += 1
    return tp, len(found) - tp, len(truth) - len(used)

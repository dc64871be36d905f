"""The Kokoro-82M engine: offline neural speech for Mandarin (English words included) and English.

The model runs on onnxruntime (which faster-whisper already installs) from the weights
:mod:`rehearse.voices.weights` installs. The packaged voice styles are Japanese voices (jm_kumo,
jf_alpha, …): they read English words well, and Mandarin with a Japanese accent. Kokoro's own Mandarin
styles (zf_* / zm_*) read Mandarin tones well and English words badly, so Mandarin is read by default with
:data:`MANDARIN_VOICE`: the timbre half of jm_kumo and the prosody half (rhythm and pitch: the tones) of
zm_yunjian, which ships in the package. The other Mandarin styles, once installed with ``rehearse models
install kokoro-zh`` (:mod:`rehearse.voices.zh_styles`), are listed beside them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rehearse.errors import ModelNotFoundError, TTSError
from rehearse.voices.g2p import Phonemizer
from rehearse.voices.weights import MODEL, STYLES, VOCAB, kokoro_dir, kokoro_is_intact, missing_error
from rehearse.voices.zh_styles import PACKAGED, load_zh_styles, packaged_zh_styles, zh_dir

SAMPLE_RATE = 24000
MAX_TOKENS = 510  # the model's context is 512 tokens including the two pad tokens
DEFAULT_VOICE = "jm_kumo"  # English, and the timbre of Mandarin
# "A@B": the voice (timbre: the style's first 128 values, read by the decoder) of A with the prosody (the last
# 128, read by the duration and pitch predictor: rhythm and tones) of B. Whisper base CER on the tune half of
# the shipped questions: jm_kumo 0.195, zm_yunjian 0.222, jm_kumo@zm_yunjian 0.119 (README).
MANDARIN_VOICE = "jm_kumo@zm_yunjian"
# A "+" in a voice name blends styles (their mean): --voice jm_kumo+jf_gongitsune. With the same G2P that blend and
# jm_kumo read the shipped questions alike (Whisper base CER, tune half 0.184 vs 0.195, held-out half 0.161 vs
# 0.163), so jm_kumo stayed the default then; jf_gongitsune 0.285, jf_nezumi 0.297, jf_tebukuro 0.414 and jf_alpha 0.499
# on the tune half against jm_kumo's 0.262 (before the GAN and digit rules of the G2P).
SPEED = 0.9  # a little slower than Kokoro's default: easier to follow in an interview
EDGE_SILENCE_S = 0.15


def _trim(audio: np.ndarray, thresh: float = 0.01, pad: int = int(0.03 * SAMPLE_RATE)) -> np.ndarray:
    idx = np.flatnonzero(np.abs(audio) > thresh)
    return audio[max(0, idx[0] - pad): idx[-1] + pad] if len(idx) else audio[:0]


class KokoroEngine:
    """Kokoro-82M int8 through onnxruntime; loads on first use and is safe to call from two threads."""

    name = "kokoro"
    languages = ("zh", "en")
    sample_rate = SAMPLE_RATE  # known before anything is made: the player opens the device early

    def __init__(self, folder: Path | None = None, threads: int | None = None, zh_folder: Path | None = None) -> None:
        self.folder = folder or kokoro_dir()
        self.zh_folder = zh_folder or zh_dir()
        self.threads = threads or min(2, os.cpu_count() or 1)
        self.g2p = Phonemizer()
        self._session: Any = None
        self._vocab: dict[str, int] = {}
        self._styles: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._run: Any = None  # the onnxruntime RunOptions of the run in progress (see :meth:`interrupt`)
        self._interrupted = False

    @staticmethod
    def installed(folder: Path | None = None) -> bool:
        """True when the weights are installed and intact (cheap check) and onnxruntime imports."""
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return False
        return kokoro_is_intact(folder)

    def supports(self, lang: str) -> bool:
        """Mandarin (English words included) and English."""
        return lang in self.languages

    def voices(self) -> list[str]:
        """The voice styles installed (jm_kumo …, zm_yunjian; zf_xiaobei … once fetched), without loading the
        model."""
        if self._styles:
            return sorted(self._styles)
        try:
            with np.load(self.folder / STYLES) as npz:
                names = list(npz.files)
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"The Kokoro voice styles in {self.folder} cannot be read ({exc}); "
                                     "repair them with 'rehearse models install kokoro'.") from None
        return sorted({*names, *PACKAGED, *load_zh_styles(self.zh_folder)})

    @staticmethod
    def default_voice(lang: str) -> str:
        """The voice used without --voice: :data:`MANDARIN_VOICE` for Mandarin, :data:`DEFAULT_VOICE` else."""
        return MANDARIN_VOICE if lang == "zh" else DEFAULT_VOICE

    def load(self) -> None:
        """Open the ONNX session and read the styles; one clear error when anything is missing or damaged."""
        with self._lock:
            if self._session is not None:
                return
            if not kokoro_is_intact(self.folder):
                raise missing_error(self.folder)
            import onnxruntime as ort

            try:
                with np.load(self.folder / STYLES) as npz:
                    styles = {k: np.asarray(npz[k], np.float32).reshape(-1, 256) for k in npz.files}
                styles.update(packaged_zh_styles())
                styles.update(load_zh_styles(self.zh_folder))
                vocab = json.loads((self.folder / VOCAB).read_text(encoding="utf-8"))["vocab"]
                opts = ort.SessionOptions()
                opts.intra_op_num_threads, opts.inter_op_num_threads = self.threads, 1
                opts.log_severity_level = 3
                # no busy-waiting threads: the CPU is shared with live transcription (and, measured on a
                # loaded 2-core machine, spinning made synthesis slower, not faster)
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(str(self.folder / MODEL), sess_options=opts,
                                               providers=["CPUExecutionProvider"])
            except ModelNotFoundError:
                raise
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                raise ModelNotFoundError(f"The Kokoro voice files in {self.folder} cannot be read ({exc}); "
                                         "repair them with 'rehearse models install kokoro'.") from None
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
                raise ModelNotFoundError(f"The Kokoro model in {self.folder} does not load "
                                         f"({type(exc).__name__}); repair it with 'rehearse models install kokoro'.") \
                    from None
            self._styles, self._vocab, self._session = styles, vocab, session

    def _style(self, voice: str | None, lang: str = "zh") -> np.ndarray:
        """The style of ``voice``: a name, "A+B" (the mean of two), "A@B" (A's timbre, B's prosody)."""
        v = voice or self.default_voice(lang)
        timbre, at, prosody = v.partition("@")
        style = self._blend(timbre, v)
        if at:
            style = np.concatenate([style[:, :128], self._blend(prosody, v)[:, 128:]], axis=1)
        return style

    def _blend(self, name: str, voice: str) -> np.ndarray:
        names = name.split("+")  # a blend: the mean of the styles
        unknown = [n for n in names if n not in self._styles]
        if unknown or not all(names):
            raise TTSError(f"Kokoro has no voice '{voice}' (installed: {', '.join(sorted(self._styles))}; "
                           "A+B blends two, A@B is A's voice with B's tones).")
        if len(names) > 1:
            return np.mean([self._styles[n] for n in names], axis=0).astype(np.float32)
        return self._styles[name]

    def interrupt(self) -> None:
        """Stop the text being made now, within milliseconds (onnxruntime's terminate flag; a clause takes
        seconds): it ends with a :class:`TTSError`. The next text is made normally."""
        self._interrupted = True
        run = self._run
        if run is not None:
            run.terminate = True

    def _infer(self, phonemes: str, style: np.ndarray, speed: float) -> np.ndarray:
        import onnxruntime as ort

        ids = [self._vocab[c] for c in phonemes if c in self._vocab]
        pieces = []
        space = self._vocab.get(" ")
        while ids:  # a chunk over the limit is cut at the last space before it
            cut = len(ids) if len(ids) <= MAX_TOKENS else (
                max([i for i, t in enumerate(ids[:MAX_TOKENS]) if t == space and i] or [MAX_TOKENS]))
            part, ids = ids[:cut], ids[cut:]
            self._run = run = ort.RunOptions()
            try:
                if self._interrupted:
                    raise TTSError("the speech was interrupted")
                audio = self._session.run(None, {
                    "tokens": np.array([[0, *part, 0]], dtype=np.int64),
                    "style": style[min(len(part), len(style)) - 1].reshape(1, 256),
                    "speed": np.array([speed], dtype=np.float32)}, run)[0]
            except Exception:  # noqa: BLE001 - onnxruntime's own exception types
                if self._interrupted or run.terminate:
                    raise TTSError("the speech was interrupted") from None
                raise
            finally:
                self._run = None
            pieces.append(_trim(np.asarray(audio, np.float32).ravel()))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)

    def render(self, text: str, lang: str, voice: str | None = None, speed: float = SPEED) -> np.ndarray:
        """``text`` in ``lang`` -> float32 samples at :data:`SAMPLE_RATE`, with short silence at both ends."""
        if not text.strip():
            raise TTSError("There is no text to read aloud.")
        self._interrupted = False
        self.load()
        style = self._style(voice, lang)
        try:
            chunks = self.g2p.chunks(text, lang)
        except TTSError:
            raise
        except Exception as exc:  # noqa: BLE001 - the G2P libraries raise anything on odd input
            raise TTSError(f"Kokoro cannot turn this text into sounds ({type(exc).__name__}: {exc}).") from None
        edge = np.zeros(int(EDGE_SILENCE_S * SAMPLE_RATE), np.float32)
        parts = [edge]
        for chunk in chunks:
            parts += [self._infer(chunk.phonemes, style, speed), np.zeros(int(chunk.pause_s * SAMPLE_RATE), np.float32)]
        parts[-1] = edge
        audio = np.concatenate(parts)
        if not np.any(np.abs(audio) > 0.01):
            raise TTSError("Kokoro made no sound from this text (nothing in it can be read aloud).")
        return (audio * (0.89 / float(np.max(np.abs(audio))))).astype(np.float32)

    def stream(self, text: str, lang: str, voice: str | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``text`` as (sample rate, float32 samples) pieces, made one after another so playback can start
        after the first: the first clause alone (it is heard soonest), then chunks as :meth:`render` makes
        them, each followed by its pause. One gain for the whole text, set by the first clause (a louder
        later chunk is scaled to fit), since the whole is not known when the first piece is played.

        A clause is the smallest piece: cutting the first clause shorter at a phrase break (介绍一下 |
        ControlNet) made the wait shorter but the short pieces harder to understand (Whisper base CER 0.27,
        against 0.18 for whole clauses and 0.16 for :meth:`render`, on ten shipped questions)."""
        if not text.strip():
            raise TTSError("There is no text to read aloud.")
        self._interrupted = False
        self.load()
        style = self._style(voice, lang)
        try:
            chunks = self.g2p.chunks(text, lang, first_alone=True)
        except TTSError:
            raise
        except Exception as exc:  # noqa: BLE001 - the G2P libraries raise anything on odd input
            raise TTSError(f"Kokoro cannot turn this text into sounds ({type(exc).__name__}: {exc}).") from None
        gain, last = 0.0, len(chunks) - 1
        for i, chunk in enumerate(chunks):
            audio = self._infer(chunk.phonemes, style, speed=SPEED)
            peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
            if peak <= 0.01:
                continue
            lead = np.zeros(0 if gain else int(0.05 * SAMPLE_RATE), np.float32)  # a short lead-in, once
            gain = gain or 0.89 / peak
            scale = min(gain, 0.99 / peak)
            pause = EDGE_SILENCE_S if i == last else chunk.pause_s
            yield SAMPLE_RATE, np.concatenate([lead, audio * scale, np.zeros(int(pause * SAMPLE_RATE), np.float32)])
        if not gain:
            raise TTSError("Kokoro made no sound from this text (nothing in it can be read aloud).")

    def synthesize(self, text: str, lang: str, path: Path, voice: str | None = None) -> Path:
        """Write ``text`` spoken in ``lang`` to the 24 kHz 16-bit WAV file ``path``."""
        import soundfile as sf

        audio = self.render(text, lang, voice)
        try:
            sf.write(str(path), audio, SAMPLE_RATE, subtype="PCM_16")
        except (OSError, RuntimeError) as exc:
            raise TTSError(f"cannot write {path}: {exc}") from None
        return path

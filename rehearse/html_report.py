"""The HTML progress report: one self-contained file (inline CSS, charts as base64 PNG).

Contents: a summary table per question (answers, first/last/best coverage,
trend, sparkline), the key points missed most often, fluency against the
reference bands and the user's baseline, the charts, and the latest answer
to each question with its transcript and missed points. No scripts, no
external resources: it opens offline in any browser and can be mailed as is.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from html import escape

from rehearse.fluency import BANDS
from rehearse.progress import QuestionProgress, fluency_baseline, most_missed
from rehearse.store import AttemptRecord

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em auto;
max-width:60em;color:#222;line-height:1.5}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:left}
th{background:#f6f6f6}.num{text-align:right;font-variant-numeric:tabular-nums}.spark{font-family:monospace}
.ok{color:#18794e}.warn{color:#b35c00}.miss{color:#c62828}.dim{color:#777}
img{max-width:100%;height:auto;border:1px solid #eee}
blockquote{background:#fafafa;border-left:4px solid #ccc;margin:.5em 0;padding:.5em 1em;white-space:pre-wrap}
"""


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


def _when(dt: datetime) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M")


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _summary(progress: Sequence[QuestionProgress]) -> list[str]:
    rows = ['<table class="summary"><tr><th>question</th><th>bank</th><th class="num">answers</th>'
            '<th class="num">first</th><th class="num">last</th><th class="num">best</th><th>trend</th>'
            '<th>coverage over time</th><th>last practised</th></tr>']
    for p in progress:
        cls = "ok" if p.trend == "improving" else "warn" if p.trend == "slipping" else ""
        rows.append(
            f"<tr><td>{escape(p.question_id)}</td><td>{escape(p.bank)}</td><td class=\"num\">{len(p.attempts)}</td>"
            f"<td class=\"num\">{_pct(p.first)}</td><td class=\"num\">{_pct(p.last)}</td>"
            f"<td class=\"num\">{_pct(p.best)}</td><td class=\"{cls}\">{p.trend}</td>"
            f"<td class=\"spark\">{escape(p.sparkline)}</td><td>{_when(p.last_at)}</td></tr>")
    rows.append("</table>")
    return rows


def _fluency(attempts: Sequence[AttemptRecord], language: str) -> list[str]:
    base = fluency_baseline(attempts, language=language)
    if not base:
        return ['<p class="dim">No spoken answers yet: fluency needs a recording.</p>']
    rate_key, band_key, unit = (("speech_rate", "rate_zh", "units/min") if language == "zh"
                                else ("en_per_min", "rate_en", "wpm"))
    lines = ['<table><tr><th>figure</th><th class="num">your usual (median of the last 10)</th>'
             '<th>reference band</th></tr>']
    shown = [(f"speech rate ({unit})", rate_key, BANDS[band_key]),
             ("fillers per minute", "fillers_per_min", BANDS["fillers_per_min"]),
             ("time to first word (s)", "time_to_first_word_s", BANDS["time_to_first_word_s"]),
             ("longest pause (s)", "longest_pause_s", None), ("pauses ≥ 0.25 s", "pauses", None),
             ("repetitions", "repetitions", None)]
    for label, key, band in shown:
        if key not in base:
            continue
        value = base[key]
        verdict = band.verdict(value) if band else ""
        cls = "ok" if verdict == "ok" else "warn" if verdict else ""
        lines.append(f"<tr><td>{escape(label)}</td><td class=\"num {cls}\">{value:.1f}</td>"
                     f"<td>{escape(band.text() + ' ' + band.unit) if band else ''}</td></tr>")
    lines.append("</table>")
    return lines


def _latest(progress: Sequence[QuestionProgress]) -> list[str]:
    out = []
    for p in progress:
        a = p.attempts[-1]
        r = a.result
        out.append(f'<section class="latest" id="q-{escape(p.question_id)}"><h3>{escape(p.question_id)} · '
                   f"{escape(a.question_text)}</h3>")
        out.append(f'<p>{_when(a.created_at)} · coverage <b>{_pct(a.coverage)}</b>'
                   + (f" · {a.fluency.get('answer_s', 0):.0f} s spoken" if a.fluency.get("timed") else " · typed")
                   + "</p>")
        out.append(f'<blockquote class="transcript">{escape(a.text) or "<i>(no transcript)</i>"}</blockquote>')
        if r is not None:
            items = "".join(f'<li class="miss">{escape(pt.label)}</li>' for pt in r.missed)
            out.append(f"<p>missed:</p><ul>{items}</ul>" if items else '<p class="ok">every key point covered</p>')
        out.append("</section>")
    return out


def render_html(progress: Sequence[QuestionProgress], attempts: Sequence[AttemptRecord], *,
                charts: Sequence[tuple[str, bytes]] = (), language: str = "zh",
                title: str = "rehearse progress", generated: datetime | None = None) -> str:
    """The whole report as one HTML string; ``charts`` are (caption, PNG bytes) embedded inline."""
    generated = generated or datetime.now().astimezone()
    n_scored = sum(len(p.attempts) for p in progress)
    parts = ["<!DOCTYPE html>", '<html lang="zh"><head><meta charset="utf-8">',
             f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f'<p class="dim">{n_scored} scored answers to {len(progress)} questions · generated '
             f"{_when(generated)}</p>", "<h2>Questions</h2>"]
    parts += _summary(progress) if progress else ['<p class="dim">No scored answers yet.</p>']
    missed = most_missed(progress, limit=10)
    if missed:
        parts.append("<h2>Key points you miss most</h2><ul class=\"misses\">")
        parts += [f"<li>{escape(m.sentence())}</li>" for m in missed]
        parts.append("</ul>")
    parts.append("<h2>Fluency</h2>")
    parts += _fluency(attempts, language)
    if charts:
        parts.append("<h2>Charts</h2>")
        for caption, png in charts:
            parts.append(f"<figure>{_img(png, caption)}<figcaption>{escape(caption)}</figcaption></figure>")
    if progress:
        parts.append("<h2>Latest answers</h2>")
        parts += _latest(progress)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

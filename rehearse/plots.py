"""Progress charts (matplotlib, Agg backend, PNG): coverage and fluency over time.

Uses matplotlib's object API (``Figure`` + the Agg canvas), never pyplot, so
no GUI backend or global state is involved and it is safe in any thread.
Chart text is kept to ASCII (question ids, units), because the usual CJK fonts
are often not installed and would render as boxes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rehearse.fluency import BANDS
from rehearse.progress import QuestionProgress, fluency_series
from rehearse.store import AttemptRecord

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 7.0, 100  # 1000 x 700 pixels
MAX_LINES = 10  # questions drawn on the coverage chart (most recently practised)


def _figure(rows: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN * rows / 2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _coverage_axes(ax, progress: Sequence[QuestionProgress]) -> None:
    shown = list(progress)[:MAX_LINES]
    for p in shown:
        ax.plot([a.created_at for a in p.attempts], [c * 100 for c in p.coverages], marker="o", label=p.question_id)
    ax.set_ylim(-5, 105)
    ax.set_ylabel("coverage (%)")
    ax.set_title("Coverage per question" + (f" (latest {MAX_LINES} of {len(progress)})"
                                           if len(progress) > MAX_LINES else ""))
    ax.axhline(80, color="green", lw=0.8, ls="--")
    ax.grid(alpha=0.3)
    if shown:
        ax.legend(fontsize="small", loc="lower left", ncols=min(len(shown), 4))
    else:
        ax.text(0.5, 0.5, "no scored answers yet", ha="center", va="center", transform=ax.transAxes)


def _fluency_axes(ax, attempts: Sequence[AttemptRecord], language: str) -> None:
    metric, band_key, unit = (("speech_rate", "rate_zh", "units/min") if language == "zh"
                              else ("en_per_min", "rate_en", "wpm"))
    rate = fluency_series(attempts, metric)
    fillers = fluency_series(attempts, "fillers_per_min")
    band = BANDS[band_key]
    if rate:
        ax.plot([t for t, _ in rate], [v for _, v in rate], marker="o", color="tab:blue", label=f"speech rate ({unit})")
        ax.axhspan(band.low or 0, band.high or 0, color="tab:blue", alpha=0.08, label=f"rate band {band.text()}")
    ax.set_ylabel(f"speech rate ({unit})")
    ax.set_title("Fluency over time")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    if fillers:
        ax2.plot([t for t, _ in fillers], [v for _, v in fillers], marker="s", color="tab:orange",
                 label="fillers per minute")
        ax2.axhline(BANDS["fillers_per_min"].high or 5, color="tab:orange", lw=0.8, ls="--")
    ax2.set_ylabel("fillers / min")
    ax2.set_ylim(bottom=0)
    if rate or fillers:
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(handles=handles, fontsize="small", loc="upper left")
    else:
        ax.text(0.5, 0.5, "no timed (spoken) answers yet", ha="center", va="center", transform=ax.transAxes)


def _pad_dates(ax, attempts: Sequence[AttemptRecord]) -> None:
    """Answers all within a day (e.g. the first one) would span years of axis: show the day around them."""
    from datetime import timedelta

    times = [a.created_at for a in attempts]
    if times and max(times) - min(times) < timedelta(days=1):
        ax.set_xlim(min(times) - timedelta(hours=12), max(times) + timedelta(hours=12))


def progress_png(progress: Sequence[QuestionProgress], attempts: Sequence[AttemptRecord], *,
                 language: str = "zh") -> bytes:
    """PNG bytes (1000×700): coverage per question over time, and fluency (rate, fillers) over time."""
    fig = _figure(2)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    _coverage_axes(ax1, progress)
    _fluency_axes(ax2, attempts, language)
    _pad_dates(ax1, [a for p in progress for a in p.attempts])
    fig.autofmt_xdate()
    return _png(fig)


def coverage_png(p: QuestionProgress) -> bytes:
    """PNG bytes (1000×350): one question's coverage over its attempts."""
    fig = _figure(1)
    ax = fig.subplots()
    _coverage_axes(ax, [p])
    _pad_dates(ax, p.attempts)
    fig.autofmt_xdate()
    return _png(fig)

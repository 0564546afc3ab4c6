"""Scorecard charts as SVG strings (vector), drawn from the report context's plain values.

Each chart shows the 95 % interval as an error bar and marks small samples (lighter,
hatched bar and a † after the label). Output is deterministic: a fixed `svg.hashsalt`
and no date or creator in the metadata, so the same context gives the same bytes.

Text stays text (`svg.fonttype = "none"`): small files, crisp at any zoom, and the
labels are drawn by WeasyPrint with the report's bundled DejaVu Sans (the font
matplotlib measured them with, so layout matches). Mathtext is off: a `$` in a segment
name is printed, never interpreted.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: set before anything draws

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

INK = "#2b2b2b"
MUTED = "#6b7280"
GRID = "#e5e7eb"
BAR = "#4f7cac"
TOTAL = "#1f4e79"
ORAL = "#8a6fb0"
TARGET = "#b8433a"
SMALL_FILL = "#dbe4ee"
SMALL_MARK = "†"
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85}
WIDTH_IN = 6.5  # ~16.5 cm: the text width of the A4 page, drawn at 1:1 so 8 pt stays 8 pt

RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "csat-pipeline",
    "svg.image_inline": True,
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "text.parse_math": False,
    "text.color": INK,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlecolor": INK,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "hatch.color": BAR,
    "hatch.linewidth": 0.6,
    "errorbar.capsize": 2.5,
    "lines.linewidth": 1.2,
}


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches=None)
    return buffer.getvalue()


def _label(text: str, small: bool) -> str:
    return f"{text} {SMALL_MARK}" if small else text


def _err(
    values: Sequence[float | None], lows: Sequence[float | None], highs: Sequence[float | None], scale: float
) -> list[list[float]]:
    """Asymmetric error bar lengths; 0 where the interval is undefined."""
    below, above = [], []
    for v, lo, hi in zip(values, lows, highs, strict=True):
        ok = v is not None and lo is not None and hi is not None
        below.append(max(0.0, (v - lo) * scale) if ok else 0.0)  # type: ignore[operator]
        above.append(max(0.0, (hi - v) * scale) if ok else 0.0)  # type: ignore[operator]
    return [below, above]


def _style(ax: Axes) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def _hbars(ax: Axes, labels: list[str], metrics: list[dict[str, Any]], colours: list[str], scale: float) -> None:
    """Horizontal bars from zero, top to bottom in the given order, value printed past the interval.

    `metrics` are context metric dicts (value, ci_low, ci_high, text, small_sample).
    """
    y = list(range(len(labels)))[::-1]
    values = [m["value"] for m in metrics]
    highs = [m["ci_high"] for m in metrics]
    small = [m["small_sample"] for m in metrics]
    plotted = [0.0 if v is None else v * scale for v in values]
    for yi, value, colour, is_small in zip(y, plotted, colours, small, strict=True):
        ax.barh(
            yi,
            value,
            height=0.62,
            color=SMALL_FILL if is_small else colour,
            edgecolor=colour if is_small else "none",
            hatch="////" if is_small else None,
            linewidth=0.6,
        )
    ax.errorbar(
        plotted,
        y,
        xerr=_err(values, [m["ci_low"] for m in metrics], highs, scale),
        fmt="none",
        ecolor=INK,
        elinewidth=0.9,
    )
    for yi, value, hi, m in zip(y, plotted, highs, metrics, strict=True):
        end = max(value, 0.0 if hi is None else hi * scale)
        ax.text(end + 1.2, yi, m["text"], va="center", ha="left", fontsize=7.5, color=INK, bbox=LABEL_BOX)
    ax.set_yticks(y, [_label(lab, s) for lab, s in zip(labels, small, strict=True)])


def segments_svg(rows: list[dict[str, Any]], target: float, target_text: str) -> str:
    """CSAT top-2-box (with the target line) and NPS by segment side by side (context `segments.rows`).

    Bars start at zero; whiskers are the 95 % intervals (Wilson for CSAT, adjusted Wald for NPS).
    """
    labels = [r["segment"] for r in rows]
    colours = [TOTAL if r["is_total"] else BAR for r in rows]
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 0.4 * len(rows) + 0.8), layout="constrained")
        csat_ax, nps_ax = fig.subplots(1, 2, sharey=True, width_ratios=[1.15, 1])
        _hbars(csat_ax, labels, [r["csat"] for r in rows], colours, 100)
        csat_ax.axvline(100 * target, color=TARGET, linestyle=(0, (4, 2)), linewidth=1)
        csat_ax.text(
            100 * target, len(rows) - 0.45, f"Target {target_text}", color=TARGET, fontsize=7.5, ha="right", va="bottom"
        )
        csat_ax.set_xlim(0, 112)
        csat_ax.set_xticks(range(0, 101, 25), [f"{t} %" for t in range(0, 101, 25)])
        csat_ax.set_title("CSAT top-2-box")
        nps = [r["nps"] for r in rows]
        _hbars(nps_ax, labels, nps, colours, 1)
        _nps_axis(nps_ax, nps)
        nps_ax.set_title("Net Promoter Score")
        nps_ax.tick_params(axis="y", labelleft=False)
        csat_ax.set_ylim(-0.6, len(rows) - 0.1)
        for ax in (csat_ax, nps_ax):
            _style(ax)
        return _svg(fig)


def _nps_axis(ax: Axes, metrics: list[dict[str, Any]]) -> None:
    lows = [m["ci_low"] for m in metrics if m["ci_low"] is not None] + [0.0]
    highs = [m["ci_high"] for m in metrics if m["ci_high"] is not None] + [0.0]
    left = max(-100.0, min(lows) - 5)
    right = min(100.0, max(highs) + 12)
    ax.set_xlim(min(left, -10.0), max(right, 20.0))
    ax.axvline(0, color=MUTED, linewidth=0.8)
    low, high = ax.get_xlim()
    step = 10 if high - low <= 60 else 20 if high - low <= 120 else 50
    ticks = [t for t in range(-100, 101, step) if low <= t <= high]
    ax.set_xticks(ticks, [f"{t:+d}" if t else "0" for t in ticks])


def trend_svg(rows: list[dict[str, Any]], target: float, target_nps: float | None) -> str:
    """CSAT and NPS for every period present (context `trend.rows`), each with its 95 % interval."""
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 2.4), layout="constrained")
        left, right = fig.subplots(1, 2)
        periods = [r["period"] for r in rows]
        x = list(range(len(rows)))
        for ax, key, scale, colour, title in (
            (left, "csat", 100, BAR, "CSAT top-2-box (%)"),
            (right, "nps", 1, TOTAL, "Net Promoter Score"),
        ):
            metrics = [r[key] for r in rows]
            values = [None if m["value"] is None else m["value"] * scale for m in metrics]
            shown = [(xi, v) for xi, v in zip(x, values, strict=True) if v is not None]
            ax.plot([s[0] for s in shown], [s[1] for s in shown], color=colour, linewidth=1.2, zorder=2)
            ax.errorbar(
                x,
                [0.0 if v is None else v for v in values],
                yerr=_err(
                    [m["value"] for m in metrics],
                    [m["ci_low"] for m in metrics],
                    [m["ci_high"] for m in metrics],
                    scale,
                ),
                fmt="none",
                ecolor=INK,
                elinewidth=0.9,
                zorder=3,
            )
            for xi, v, m in zip(x, values, metrics, strict=True):
                if v is None:
                    continue
                ax.scatter(
                    [xi],
                    [v],
                    s=26,
                    zorder=4,
                    color="white" if m["small_sample"] else colour,
                    edgecolors=colour,
                    linewidths=1.2,
                )
                hi = v if m["ci_high"] is None else m["ci_high"] * scale
                ax.annotate(
                    m["text"] + (f" {SMALL_MARK}" if m["small_sample"] else ""),
                    (xi, hi),
                    textcoords="offset points",
                    xytext=(0, 4),
                    ha="center",
                    fontsize=7.5,
                    bbox=LABEL_BOX,
                )
            ax.set_title(title, fontsize=8.5)
            ax.set_xticks(x, periods)
            ax.set_xlim(-0.5, len(rows) - 0.5)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.grid(axis="y", color=GRID, linewidth=0.6)
            ax.set_axisbelow(True)
            ax.tick_params(length=0)
            goal = 100 * target if key == "csat" else target_nps
            if goal is not None:
                ax.axhline(goal, color=TARGET, linestyle=(0, (4, 2)), linewidth=1)
            _pad_y(ax, values, metrics, scale, goal)
        return _svg(fig)


def _pad_y(
    ax: Axes, values: list[float | None], metrics: list[dict[str, Any]], scale: float, goal: float | None
) -> None:
    lows = [m["ci_low"] * scale for m in metrics if m["ci_low"] is not None] + [v for v in values if v is not None]
    highs = [m["ci_high"] * scale for m in metrics if m["ci_high"] is not None] + [v for v in values if v is not None]
    if goal is not None:
        lows.append(goal)
        highs.append(goal)
    if not lows:
        return
    span = max(highs) - min(lows) or 10
    ax.set_ylim(min(lows) - 0.15 * span, max(highs) + 0.25 * span)


def csat_by_mode_svg(rows: list[dict[str, Any]], groups: list[dict[str, Any]]) -> str:
    """CSAT top-2-box by collection mode, then oral vs written (context `modes.rows`, `modes.groups`)."""
    every = rows + groups
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 0.27 * len(every) + 0.55), layout="constrained")
        ax = fig.add_subplot()
        oral = {"phone", "in_person", "oral"}
        _hbars(
            ax,
            [r["label"] for r in every],
            [r["csat"] for r in every],
            [ORAL if r["mode"] in oral else BAR for r in every],
            100,
        )
        if rows and groups:
            ax.axhline(len(groups) - 0.5, color=GRID, linewidth=1)
        ax.set_xlim(0, 108)
        ax.set_ylim(-0.6, len(every) - 0.4)
        ax.set_xticks(range(0, 101, 20), [f"{t} %" for t in range(0, 101, 20)])
        _style(ax)
        return _svg(fig)


def scorecard_charts(context: dict[str, Any]) -> dict[str, str]:
    """Every scorecard chart as an SVG string, keyed by name; charts without data are left out."""
    meta, segments, trend, modes = context["meta"], context["segments"], context["trend"], context["modes"]
    charts: dict[str, str] = {}
    if segments["rows"]:
        charts["segments"] = segments_svg(segments["rows"], meta["target_csat"], meta["target_csat_text"])
    if trend["rows"]:
        charts["trend"] = trend_svg(trend["rows"], meta["target_csat"], meta["target_nps"])
    if modes["rows"]:
        charts["csat_by_mode"] = csat_by_mode_svg(modes["rows"], modes["groups"])
    return charts

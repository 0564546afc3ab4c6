"""Charts of the monthly continuous-improvement report as SVG strings (vector), from plain values.

The style is the scorecard's (flows/charts.py: `RC`, `_svg`, colours, 6.5 in drawn 1:1 so 8 pt
stays 8 pt); the charts compute no statistics, they draw the numbers the report context holds.

Vector and text: `svg.fonttype = "none"` keeps every label a `<text>` element (small, crisp, drawn
by WeasyPrint with the bundled DejaVu Sans), mathtext is off so `$x$` prints as typed, and the SVG
writer escapes `<`, `&`: hostile label text stays literal. Same input, same bytes (fixed hash salt,
no date). Labels longer than 40 characters are cut with "…".

Greyscale: the report is printed on office printers, often in black and white, so no chart relies
on hue alone. Top problems are dark *and* numbered; the cumulative share is a dashed line with
white markers; control limits are dashed, the centre line solid, and a signal is a ringed diamond
*with* its rule number written beside it ("R1", "R2,4"); small samples are hollow markers plus †;
negative gaps are light and hatched, positive ones solid; the 90th percentile is an open triangle
beside the median's filled dot; IPA quadrants have their names written in the corners and each
quadrant its own marker shape.

Empty input (no rows, no points) gives a small SVG that says "No data" (with the chart's title when
it has one) rather than raising, so a report can always embed what it gets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from flows.charts import BAR, GRID, INK, LABEL_BOX, MUTED, RC, SMALL_FILL, SMALL_MARK, TARGET, TOTAL, WIDTH_IN, _svg

MAX_LABEL = 40
MINUS = "\u2212"  # typographic minus, as matplotlib's own tick labels use
LIGHT = "#b7c8db"  # light fill: stays clearly lighter than BAR/TOTAL once printed grey
NEGATIVE_FILL = "#f3dcd9"
PERIOD_LABEL_IN = 0.47  # width of a "2025-03" tick label at 7 pt, with a gap
LIMIT_DASH = (0, (4, 2))
CROSS_DASH = (0, (2, 2))
CUMULATIVE_DASH = (0, (3, 1.5))
LEGEND = {"frameon": False, "fontsize": 7, "handlelength": 2.2, "columnspacing": 1.4}

# IPA quadrant (as transforms/improvement/drivers.py names them) -> marker, face colour, corner
QUADRANTS = {
    "concentrate here": ("D", TARGET, "Concentrate here"),
    "keep up the good work": ("o", TOTAL, "Keep up the good work"),
    "low priority": ("s", MUTED, "Low priority"),
    "possible overkill": ("^", MUTED, "Possible overkill"),
}


def _clip(text: Any, limit: int = MAX_LABEL) -> str:
    """One line of at most `limit` characters: whitespace collapsed (no accidental line breaks), "…" when cut."""
    flat = " ".join(("" if text is None else str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _label(text: Any, small: bool) -> str:
    return f"{_clip(text)} {SMALL_MARK}" if small else _clip(text)


def _num(value: Any) -> float | None:
    """A finite float, or None (None, NaN and non-numbers are 'no value': a chart never raises on them)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pct(value: Any) -> float | None:
    number = _num(value)
    return None if number is None else 100 * number


def _no_data(title: str | None = None) -> str:
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 0.6))
        text = f"{_clip(title)}: no data" if title else "No data"
        fig.text(0.5, 0.5, text, ha="center", va="center", color=MUTED, fontsize=8)
        return _svg(fig)


def _frame(ax: Axes, grid: str) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    ax.grid(axis=grid, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def _legend(fig: Figure, entries: list[tuple[Any, str]], ncols: int) -> None:
    """One legend under the plot; an entry's handle may be a tuple of artists drawn on top of each other."""
    fig.legend(
        [handle for handle, _ in entries],
        [text for _, text in entries],
        loc="outside lower center",
        ncols=ncols,
        handler_map={tuple: HandlerTuple(ndivide=1)},
        **LEGEND,
    )


def _nice_limits(
    values: Sequence[float], floor: float, ceiling: float, room: Sequence[float] = (), min_span: float = 10.0
) -> tuple[float, float, list[float]]:
    """Axis range covering every value (and every `room` position, e.g. where a label goes), and round ticks.

    At least `min_span` wide, so one point or a flat series does not blow 0.5 points up to full height.
    Ticks stay within `floor`..`ceiling` (0 and 100 for percentages) unless a value lies beyond them, so
    the axis never labels an impossible "110 %"; the range itself may run a little past for the room.
    """
    low, high = min(values), max(values)
    span = max(high - low, min_span)
    middle = (low + high) / 2
    want_low = min(low - 0.08 * span, middle - 0.55 * span)
    want_high = max(high + 0.08 * span, middle + 0.55 * span)
    # widening for min_span shifts inside floor..ceiling rather than padding past them
    over = want_high - max(ceiling, high + 0.08 * span)
    if over > 0:
        want_low, want_high = want_low - over, want_high - over
    under = min(floor, low - 0.08 * span) - want_low
    if under > 0:
        want_low, want_high = want_low + under, want_high + under
    want_low, want_high = min([want_low, *room]), max([want_high, *room])
    ticks = [
        float(t)
        for t in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(want_low, want_high)
        if (t >= floor or low < floor) and (t <= ceiling or high > ceiling)
    ]
    bottom, top = min([*ticks, want_low]), max([*ticks, want_high])
    return bottom, top, ticks


# --- 1. Pareto ------------------------------------------------------------------------------


def pareto_svg(problems: list[dict[str, Any]]) -> str:
    """Problems by pooled evidence, rank 1 at the top, with the cumulative share on the top axis.

    `problems` (at most 10 drawn, in the given rank order): label, total (count), cumulative_share
    (0-1), rank, top (one of the top three to fix: dark bar, bold numbered label).
    Horizontal bars because problem labels are long; the cumulative line runs top to bottom.
    """
    rows = list(problems or [])[:10]
    if not rows:
        return _no_data("Problems by evidence")
    n = len(rows)
    y = [n - 1 - i for i in range(n)]
    totals = [_num(r.get("total")) for r in rows]
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 0.3 * n + 1.25), layout="constrained")
        ax = fig.add_subplot()
        top_axis = ax.twiny()
        high = max([t for t in totals if t is not None] + [1.0])
        for yi, total, row in zip(y, totals, rows, strict=True):
            top = bool(row.get("top"))
            ax.barh(yi, total or 0.0, height=0.62, color=TOTAL if top else LIGHT, edgecolor=TOTAL, linewidth=0.6)
            if total is not None:
                ax.text(total + high * 0.015, yi, f"{total:,.0f}", va="center", ha="left", fontsize=7.5, color=INK)
        labels = []
        for position, row in enumerate(rows, start=1):
            text = _clip(row.get("label"))
            labels.append(f"{row.get('rank') or position}. {text}" if row.get("top") else text)
        ax.set_yticks(y, labels)
        for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
            if row.get("top"):
                tick.set_fontweight("bold")
        ax.set_xlim(0, high * 1.12)
        ax.set_ylim(-0.6, n - 0.4)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_xlabel("Evidence (count)")

        cumulative = [(_pct(r.get("cumulative_share")), yi) for r, yi in zip(rows, y, strict=True)]
        shown = [(c, yi) for c, yi in cumulative if c is not None]
        top_axis.plot(
            [c for c, _ in shown],
            [yi for _, yi in shown],
            color=INK,
            linestyle=CUMULATIVE_DASH,
            linewidth=1.0,
            marker="o",
            markersize=4,
            markerfacecolor="white",
            markeredgecolor=INK,
            clip_on=False,  # the 100 % marker sits on the frame
            zorder=4,
        )
        top_axis.set_xlim(0, 100)
        top_axis.set_xticks(range(0, 101, 20), [f"{t} %" for t in range(0, 101, 20)])
        top_axis.set_xlabel("Cumulative share of evidence (%)")
        for axis in (ax, top_axis):
            for side in ("right", "left"):
                axis.spines[side].set_visible(False)
            axis.spines["top"].set_color(GRID)
            axis.tick_params(length=0)
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        _legend(
            fig,
            [
                (Patch(facecolor=TOTAL, edgecolor=TOTAL), "Top three to fix (numbered)"),
                (Patch(facecolor=LIGHT, edgecolor=TOTAL, linewidth=0.6), "Other problems"),
                (
                    Line2D(
                        [], [], color=INK, linestyle=CUMULATIVE_DASH, marker="o", markersize=4, markerfacecolor="white"
                    ),
                    "Cumulative share (top axis)",
                ),
            ],
            ncols=3,
        )
        return _svg(fig)


# --- 2./3. Control charts ------------------------------------------------------------------


def _steps(values: Sequence[float | None]) -> tuple[list[float], list[float]]:
    """A limit that changes with n at every point: a flat step across each point's slot, NaN gaps where undefined."""
    xs: list[float] = []
    ys: list[float] = []
    for i, value in enumerate(values):
        if value is None:
            xs.append(float(i))
            ys.append(math.nan)
            continue
        xs += [i - 0.5, i + 0.5]
        ys += [value, value]
    return xs, ys


def _signal_text(signals: Any) -> str:
    rules = [str(r) for r in (signals or [])]
    return "R" + ",".join(rules) if rules else ""


def _control_panel(ax: Axes, series: dict[str, Any], max_labels: int, title_size: float) -> None:
    points = list(series.get("points") or [])
    title = _clip(series.get("title"))
    ax.set_title(title, fontsize=title_size)
    if not points:
        ax.text(0.5, 0.5, "No data", transform=ax.transAxes, ha="center", va="center", color=MUTED)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        return
    x = list(range(len(points)))
    p = [_pct(pt.get("p")) for pt in points]
    lcl = [_pct(pt.get("lcl")) for pt in points]
    ucl = [_pct(pt.get("ucl")) for pt in points]
    centre = _pct(series.get("centre"))

    for limits in (lcl, ucl):
        ax.plot(*_steps(limits), color=TARGET, linestyle=LIMIT_DASH, linewidth=0.9, zorder=2)
    if centre is not None:
        ax.axhline(centre, color=INK, linewidth=0.8, zorder=2)  # darker than the data line once grey
    ax.plot(x, [math.nan if v is None else v for v in p], color=BAR, linewidth=1.1, zorder=3)
    labelled: list[tuple[float, bool]] = []  # signalled values, and whether the rule number goes below
    for xi, value, pt in zip(x, p, points, strict=True):
        if value is None:
            continue
        small = bool(pt.get("small"))
        face = "white" if small else BAR
        rules = _signal_text(pt.get("signals"))
        if rules:
            # ring + diamond: readable as "different" without colour, in print and in greyscale
            ax.plot(
                [xi],
                [value],
                marker="o",
                markersize=10,
                markerfacecolor="none",
                markeredgecolor=INK,
                markeredgewidth=0.9,
                clip_on=False,
                zorder=5,
            )
            ax.plot(
                [xi],
                [value],
                marker="D",
                markersize=5.5,
                markerfacecolor="white" if small else TARGET,
                markeredgecolor=TARGET,
                markeredgewidth=1.0,
                clip_on=False,
                zorder=6,
            )
            below = centre is not None and value < centre
            labelled.append((value, below))
            ax.annotate(
                rules,
                (xi, value),
                textcoords="offset points",
                xytext=(0, -9 if below else 7),
                ha="center",
                va="top" if below else "bottom",
                fontsize=7,
                fontweight="bold",
                color=INK,
                bbox=LABEL_BOX,
                annotation_clip=False,
                zorder=7,
            )
        else:
            ax.plot(
                [xi],
                [value],
                marker="o",
                markersize=4,
                markerfacecolor=face,
                markeredgecolor=BAR,
                markeredgewidth=1.0,
                clip_on=False,
                zorder=4,
            )

    values = [v for v in [*p, *lcl, *ucl, centre] if v is not None]
    if values:
        # a signal's rule number sits above (or below) its point: leave it room inside the frame
        span = (max(values) - min(values)) or 10.0
        room = [v - 0.25 * span if below else v + 0.25 * span for v, below in labelled]
        bottom, top, ticks = _nice_limits(values, 0.0, 100.0, room)
        ax.set_yticks(ticks)
        ax.set_ylim(bottom, top)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:g} %")
    ax.set_ylabel(_clip(series.get("value_label") or "Value (%)"))
    step = max(1, math.ceil(len(points) / max_labels))
    ax.set_xticks(x[::step], [_clip(pt.get("period"), 12) for pt in points[::step]], fontsize=7)
    ax.set_xlim(-0.6, len(points) - 0.4)
    _frame(ax, "y")


def _control_legend(fig: Figure) -> None:
    ring = Line2D([], [], linestyle="none", marker="o", markersize=10, markerfacecolor="none", markeredgecolor=INK)
    diamond = Line2D(
        [], [], linestyle="none", marker="D", markersize=5.5, markerfacecolor=TARGET, markeredgecolor=TARGET
    )
    _legend(
        fig,
        [
            (Line2D([], [], color=BAR, marker="o", markersize=4, linewidth=1.1), "Value per period"),
            (Line2D([], [], color=INK, linewidth=0.8), "Centre line"),
            (Line2D([], [], color=TARGET, linestyle=LIMIT_DASH, linewidth=0.9), "Control limits (3σ)"),
            ((ring, diamond), "Signal, R = rule no."),
            (
                Line2D([], [], color=BAR, linestyle="none", marker="o", markersize=4, markerfacecolor="white"),
                f"Small sample (hollow, {SMALL_MARK})",
            ),
        ],
        ncols=5,
    )


def control_chart_svg(series: dict[str, Any]) -> str:
    """One p-chart: values in time order, centre line, limits stepping with n, signals ringed and numbered.

    `series`: title, value_label ("Satisfied (%)"), centre (0-1 or None), points: [{period, p (0-1 or None),
    n, lcl, ucl (0-1 or None), small, signals: [Western Electric rule numbers]}].
    """
    series = series or {}
    if not series.get("points"):
        return _no_data(series.get("title") or "Control chart")
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 2.45), layout="constrained")
        _control_panel(fig.add_subplot(), series, max_labels=12, title_size=9)  # 12 months fit at 7 pt
        _control_legend(fig)
        return _svg(fig)


def control_charts_svg(series_list: list[dict[str, Any]], columns: int = 2) -> str:
    """Small multiples of `control_chart_svg` (one panel per series, `columns` across) with one shared legend."""
    series_list = [s or {} for s in (series_list or [])]
    if not series_list:
        return _no_data("Control charts")
    columns = max(1, min(int(columns or 1), len(series_list)))
    rows = math.ceil(len(series_list) / columns)
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 2.0 * rows + 0.3), layout="constrained")
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        # y labels take ~0.75 in per panel; what is left holds this many "2025-03" labels
        max_labels = max(2, int((WIDTH_IN - 0.75 * columns) / columns / PERIOD_LABEL_IN))
        for ax, series in zip(axes, series_list, strict=False):
            _control_panel(ax, series, max_labels=max_labels, title_size=8.5)
        for ax in axes[len(series_list) :]:
            ax.set_visible(False)
        _control_legend(fig)
        return _svg(fig)


# --- 4. Importance-performance -------------------------------------------------------------


def _overlap(a: Any, b: Any) -> float:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width * height if width > 0 and height > 0 else 0.0


# (offset in points, ha, va): right, left, above, below, then the diagonals
_OFFSETS = (
    ((6, 0), "left", "center"),
    ((-6, 0), "right", "center"),
    ((0, 5), "center", "bottom"),
    ((0, -5), "center", "top"),
    ((5, 4), "left", "bottom"),
    ((5, -4), "left", "top"),
    ((-5, 4), "right", "bottom"),
    ((-5, -4), "right", "top"),
)


def _place_labels(fig: Figure, ax: Axes, annotations: list[Any], fixed: list[Any]) -> None:
    """Greedy label placement: each label takes the first offset that overlaps nothing placed so far.

    Deterministic (fixed order and candidates); falls back to the offset with the least overlap.
    """
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()  # runs the constrained layout so pixel positions are final
    frame = ax.get_window_extent(renderer)
    pad = 4 * fig.dpi / 72
    taken = [ax.transData.transform(a.xy) for a in annotations]
    obstacles = [Bbox.from_extents(px - pad, py - pad, px + pad, py + pad) for px, py in taken]
    for artist in fixed:  # corner names, and the crosshair lines (thin: crossing one costs little, but costs)
        box = artist.get_window_extent(renderer)
        obstacles.append(Bbox.from_extents(box.x0 - 1.5, box.y0 - 1.5, box.x1 + 1.5, box.y1 + 1.5))
    for annotation in annotations:
        best: tuple[float, int] | None = None
        for index, (offset, ha, va) in enumerate(_OFFSETS):
            annotation.set_position(offset)
            annotation.set_ha(ha)
            annotation.set_va(va)
            box = annotation.get_window_extent(renderer)
            outside = sum(
                max(0.0, edge) for edge in (frame.x0 - box.x0, box.x1 - frame.x1, frame.y0 - box.y0, box.y1 - frame.y1)
            )
            cost = sum(_overlap(box, other) for other in obstacles) + 1e3 * outside
            if best is None or cost < best[0]:
                best = (cost, index)
            if cost == 0:
                break
        offset, ha, va = _OFFSETS[best[1]]  # type: ignore[index]
        annotation.set_position(offset)
        annotation.set_ha(ha)
        annotation.set_va(va)
        obstacles.append(annotation.get_window_extent(renderer))


def quadrant_svg(
    points: list[dict[str, Any]], crosshair: tuple[float, float], scale: tuple[float, float] = (1, 5)
) -> str:
    """Importance-performance analysis: performance (mean score) across, importance (% of R²) up.

    `points`: label, importance (share of R², 0-1), performance (mean on `scale`), quadrant (as
    drivers.py names it), small. `crosshair` = (performance, importance share) where the quadrants meet.
    The x axis spans the data and crosshair (inside `scale`), not always the whole scale; ticks say where.
    """
    rows = list(points or [])
    plotted = [r for r in rows if _num(r.get("importance")) is not None and _num(r.get("performance")) is not None]
    if not plotted:
        return _no_data("Importance and performance")
    cross_x, cross_y = _num(crosshair[0]) if crosshair else None, _pct(crosshair[1]) if crosshair else None
    low_scale, high_scale = float(scale[0]), float(scale[1])
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 3.2), layout="constrained")
        ax = fig.add_subplot()
        perf = [_num(r["performance"]) for r in plotted]
        imp = [_pct(r["importance"]) for r in plotted]
        xs = [v for v in [*perf, cross_x] if v is not None]
        ys = [v for v in [*imp, cross_y] if v is not None]
        x_span = max(max(xs) - min(xs), 1.0)  # one point or a tight cluster: still a readable scale
        ax.set_xlim(max(low_scale, min(xs) - 0.3 * x_span), min(high_scale, max(xs) + 0.3 * x_span))
        y_top = max(*ys, 1.0)
        # room under zero and above the top point for the corner names; ticks stay >= 0
        ax.set_ylim(-0.16 * y_top, 1.28 * y_top)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= 1.28 * y_top])
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:g} %")
        corners: list[Any] = []  # what labels must avoid besides points and each other
        if cross_x is not None:
            corners.append(ax.axvline(cross_x, color=MUTED, linestyle=CROSS_DASH, linewidth=0.9, zorder=1))
        if cross_y is not None:
            corners.append(ax.axhline(cross_y, color=MUTED, linestyle=CROSS_DASH, linewidth=0.9, zorder=1))
        for (hx, hy, ha, va), key in zip(
            (
                (0.01, 0.985, "left", "top"),
                (0.99, 0.985, "right", "top"),
                (0.01, 0.015, "left", "bottom"),
                (0.99, 0.015, "right", "bottom"),
            ),
            ("concentrate here", "keep up the good work", "low priority", "possible overkill"),
            strict=True,
        ):
            corners.append(
                ax.text(
                    hx,
                    hy,
                    QUADRANTS[key][2],
                    transform=ax.transAxes,
                    ha=ha,
                    va=va,
                    fontsize=7.5,
                    fontweight="bold",
                    color=MUTED,
                )
            )
        annotations = []
        for row, px, py in zip(plotted, perf, imp, strict=True):
            marker, colour, _ = QUADRANTS.get(str(row.get("quadrant") or "").lower(), ("o", BAR, ""))
            small = bool(row.get("small"))
            ax.plot(
                [px],
                [py],
                marker=marker,
                markersize=5.5,
                linestyle="none",
                markeredgewidth=1.0,
                markerfacecolor="white" if small else colour,
                markeredgecolor=colour,
                zorder=4,
            )
            annotations.append(
                ax.annotate(
                    _label(row.get("label"), small),
                    (px, py),
                    textcoords="offset points",
                    xytext=(6, 0),
                    fontsize=7,
                    color=INK,
                    zorder=5,
                    bbox=LABEL_BOX,
                )
            )
        ax.set_xlabel(f"Performance (mean score, {low_scale:g}–{high_scale:g} scale)")
        ax.set_ylabel("Importance (% of explained variance)")
        _frame(ax, "both")
        entries = [
            (Line2D([], [], linestyle="none", marker=m, markersize=5.5, markerfacecolor=c, markeredgecolor=c), name)
            for m, c, name in QUADRANTS.values()
        ]
        entries.append((Line2D([], [], color=MUTED, linestyle=CROSS_DASH, linewidth=0.9), "Crosshair"))
        small_marker = Line2D(
            [], [], linestyle="none", marker="o", markersize=5.5, markerfacecolor="white", markeredgecolor=BAR
        )
        entries.append((small_marker, f"Small sample (hollow, {SMALL_MARK})"))
        _legend(fig, entries, ncols=3)
        missing = [_clip(r.get("label"), 30) for r in rows if not any(r is q for q in plotted)]
        if missing:
            # under the axis title, inside the layout (a figure text would collide with the legend)
            ax.annotate(
                "Not shown (no value): " + ", ".join(missing),
                (0, 0),
                xycoords="axes fraction",
                textcoords="offset points",
                xytext=(0, -30),
                va="top",
                fontsize=7,
                color=MUTED,
            )
        # order: most important first, so they get the best spots
        order = sorted(range(len(annotations)), key=lambda i: (-imp[i], i))  # type: ignore[operator]
        _place_labels(fig, ax, [annotations[i] for i in order], corners)
        for annotation in annotations:
            annotation.set_in_layout(False)  # placed for this layout: keep it from moving the axes at save
        return _svg(fig)


# --- 5. Gaps --------------------------------------------------------------------------------


def _gap_text(value: float) -> str:
    text = f"{value:+.2f}"
    if float(text) == 0:
        return "0.00"
    return text.replace("-", MINUS)


def gaps_svg(rows: list[dict[str, Any]], title: str, x_label: str = "Gap (points on the 1-5 scale)") -> str:
    """Diverging bars from zero (e.g. perception − expectation), 95 % interval whiskers, signed value at the end.

    `rows` (drawn top to bottom in the given order): label, value, ci_low, ci_high (or None), small.
    Negative gaps are light and hatched, positive ones solid, so the sign reads without colour.
    """
    rows = list(rows or [])
    if not rows:
        return _no_data(title or "Gaps")
    n = len(rows)
    y = [n - 1 - i for i in range(n)]
    values = [_num(r.get("value")) for r in rows]
    lows = [_num(r.get("ci_low")) for r in rows]
    highs = [_num(r.get("ci_high")) for r in rows]
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 0.3 * n + 1.15), layout="constrained")
        ax = fig.add_subplot()
        extent = [0.0] + [v for v in [*values, *lows, *highs] if v is not None]
        low, high = min(extent), max(extent)
        if high == low:  # nothing but zeros (or no values): a readable unit range, not ±0.04
            low, high = -0.5, 0.5
        span = high - low
        for yi, value, row in zip(y, values, rows, strict=True):
            if value is None:
                continue
            negative = value < 0
            ax.barh(
                yi,
                value,
                height=0.62,
                color=NEGATIVE_FILL if negative else (SMALL_FILL if row.get("small") else BAR),
                edgecolor=TARGET if negative else BAR,
                hatch="/////" if negative else None,
                linewidth=0.7,
                zorder=2,
            )
        for yi, value, lo, hi in zip(y, values, lows, highs, strict=True):
            if value is not None and lo is not None and hi is not None:
                ax.errorbar(
                    [value],
                    [yi],
                    xerr=[[max(0.0, value - lo)], [max(0.0, hi - value)]],
                    fmt="none",
                    ecolor=INK,
                    elinewidth=0.9,
                    zorder=3,
                )
        for yi, value, lo, hi in zip(y, values, lows, highs, strict=True):
            if value is None:
                ax.text(0.015 * span, yi, "no data", va="center", ha="left", fontsize=7.5, color=MUTED)
                continue
            if value < 0:
                end = min(value, value if lo is None else lo)
                ax.text(end - 0.015 * span, yi, _gap_text(value), va="center", ha="right", fontsize=7.5, zorder=4)
            else:
                end = max(value, value if hi is None else hi)
                ax.text(end + 0.015 * span, yi, _gap_text(value), va="center", ha="left", fontsize=7.5, zorder=4)
        ax.axvline(0, color=INK, linewidth=0.9, zorder=3)
        # room for the printed values on both sides
        ax.set_xlim(low - (0.16 * span if low < 0 else 0.04 * span), high + (0.16 * span if high > 0 else 0.04 * span))
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:+g}".replace("-", MINUS) if v else "0")
        ax.set_yticks(y, [_label(r.get("label"), bool(r.get("small"))) for r in rows])
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlabel(_clip(x_label, 60))
        ax.set_title(_clip(title, 80))
        _frame(ax, "x")
        ax.spines["left"].set_visible(False)
        _legend(
            fig,
            [
                (Patch(facecolor=BAR, edgecolor=BAR), "Positive gap"),
                (Patch(facecolor=NEGATIVE_FILL, edgecolor=TARGET, hatch="/////"), "Negative gap"),
                (Line2D([], [], color=INK, linewidth=0.9, marker="|", markersize=6), "95 % interval"),
                (Patch(facecolor=SMALL_FILL, edgecolor=BAR), f"{SMALL_MARK} small sample"),
            ],
            ncols=4,
        )
        return _svg(fig)


# --- 6. Resolution times --------------------------------------------------------------------


def resolution_svg(rows: list[dict[str, Any]]) -> str:
    """Days to resolution by unit: median (filled dot, with its interval) and 90th percentile (open triangle).

    `rows` (top to bottom in the given order): label, median (days or None), median_low, median_high,
    p90 (days or None: "not reached" while too many cases are open), open_cases, small.
    """
    rows = list(rows or [])
    if not rows:
        return _no_data("Days to resolution")
    n = len(rows)
    y = [n - 1 - i for i in range(n)]
    medians = [_num(r.get("median")) for r in rows]
    lows = [_num(r.get("median_low")) for r in rows]
    highs = [_num(r.get("median_high")) for r in rows]
    p90s = [_num(r.get("p90")) for r in rows]
    with rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 0.3 * n + 1.1), layout="constrained")
        ax = fig.add_subplot()
        right = max([v for v in [*medians, *highs, *p90s] if v is not None] + [1.0])
        for yi, median, lo, hi, p90, row in zip(y, medians, lows, highs, p90s, rows, strict=True):
            small = bool(row.get("small"))
            if median is not None and lo is not None and hi is not None:
                ax.plot([lo, hi], [yi, yi], color=INK, linewidth=1.0, solid_capstyle="butt", zorder=2)
                ax.plot(
                    [lo, lo],
                    [yi - 0.15, yi + 0.15],
                    [hi, hi],
                    [yi - 0.15, yi + 0.15],
                    color=INK,
                    linewidth=1.0,
                    zorder=2,
                )
            if median is not None:
                ax.plot(
                    [median],
                    [yi],
                    marker="o",
                    markersize=5.5,
                    markerfacecolor="white" if small else TOTAL,
                    markeredgecolor=TOTAL,
                    markeredgewidth=1.0,
                    linestyle="none",
                    zorder=4,
                )
            if p90 is not None:
                ax.plot(
                    [p90],
                    [yi],
                    marker="^",
                    markersize=6,
                    markerfacecolor="white",
                    markeredgecolor=INK,
                    markeredgewidth=1.0,
                    linestyle="none",
                    zorder=4,
                )
            ends = [v for v in (median, hi, p90) if v is not None]
            note = []
            if median is None:
                note.append("median not reached")
            if p90 is None:
                note.append("90th pct. not reached")
            if note:
                start = max(ends) if ends else 0.0
                ax.text(
                    start + 0.02 * right,
                    yi,
                    "; ".join(note),
                    va="center",
                    ha="left",
                    fontsize=7,
                    color=MUTED,
                    fontstyle="italic",
                )
        open_cases = [_num(r.get("open_cases")) for r in rows]
        labels = [
            _label(r.get("label"), bool(r.get("small"))) + ("" if oc is None else f" ({oc:.0f} open)")
            for r, oc in zip(rows, open_cases, strict=True)
        ]
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlim(0, right * 1.08 + (0.45 * right if any(v is None for v in [*medians, *p90s]) else 0.0))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))  # whole days read better than 2.5
        ax.set_xlabel("Days to resolution")
        _frame(ax, "x")
        ax.spines["left"].set_visible(False)
        interval = Line2D([], [], color=INK, linewidth=1.0, marker="|", markersize=6)
        dot = Line2D([], [], linestyle="none", marker="o", markersize=5.5, markerfacecolor=TOTAL, markeredgecolor=TOTAL)
        _legend(
            fig,
            [
                ((interval, dot), "Median with 95 % interval"),
                (
                    Line2D(
                        [], [], linestyle="none", marker="^", markersize=6, markerfacecolor="white", markeredgecolor=INK
                    ),
                    "90th percentile",
                ),
                (
                    Line2D(
                        [],
                        [],
                        linestyle="none",
                        marker="o",
                        markersize=5.5,
                        markerfacecolor="white",
                        markeredgecolor=TOTAL,
                    ),
                    f"Small sample (hollow, {SMALL_MARK})",
                ),
            ],
            ncols=3,
        )
        return _svg(fig)


def improvement_charts(context: dict[str, Any]) -> dict[str, str]:
    """Every chart of the improvement report, drawn from its context (transforms/report_context/improvement.py)."""
    drivers, gaps = context["drivers"], context["gaps"]
    return {
        "pareto": pareto_svg(context["fixes"]["pareto"]),
        "quadrant": quadrant_svg(drivers["points"], drivers["crosshair"] or (0.0, 0.0)),
        "gaps": gaps_svg(gaps["chart"], "Perception minus expectation"),
        "control": control_charts_svg(context["control"]["series"]),
        "resolution": resolution_svg(context["complaints"]["chart"]),
    }

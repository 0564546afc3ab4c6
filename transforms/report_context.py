"""The scorecard's report context: the metrics frame turned into plain, display-ready values.

Pure: polars frames and a `ScorecardMeta` in, a dict of str/int/float/bool/list/dict out.
Numbers arrive already formatted for the report's locale (Babel) with the raw values
alongside, so templates hold no logic, charts need no polars, and tests can check every
printed number without a PDF. Customer text (comments) is sanitised here and stays
plain text: the templates escape it, nothing here produces markup.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal

from transforms.data_quality import FILES_COLUMNS
from transforms.scopes import COMPANY

NBSP = "\u00a0"
SMALL_SAMPLE_MARK = "†"
SIGNIFICANCE = 0.05
MODE_ORDER = ("online", "paper", "phone", "in_person")
GROUP_ORDER = ("oral", "written")
MODE_LABELS = {
    "all": "All modes",
    "online": "Online",
    "paper": "Paper",
    "phone": "Phone",
    "in_person": "In person",
    "oral": "Oral (phone, in person)",
    "written": "Written (online, paper)",
}
METRIC_LABELS = {"csat_top2box": "CSAT top-2-box", "nps": "Net Promoter Score", "mean_score": "Mean score"}
METRICS_COLUMNS = (
    "metric",
    "period",
    "segment",
    "mode",
    "item",
    "value",
    "n",
    "ci_low",
    "ci_high",
    "comparator",
    "reference",
    "p_value",
    "target",
    "below_target",
    "small_sample",
)
QUARANTINE_SHOWN = 25
BANNER_LINES = 3  # the cover's room; the data-quality page lists every line in full
BANNER_CHARS = 150

# Control characters (C0 and C1 except the whitespace ones, which become spaces or line
# breaks first) and invisible direction / zero-width marks that can hide or reorder text:
# U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF, plus the word joiner family
# U+2060-U+2064, U+061C (Arabic letter mark) and U+180E.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_LINE_BREAKS = re.compile("\r\n?|[\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newline
_NEWLINES = re.compile(r" ?\n[\s]*")  # a line break and any blank lines after it
_PRECAP_FACTOR = 20  # work on at most this many times the kept length (bounds time on huge input)


@dataclass(frozen=True)
class ScorecardMeta:
    """What the report states besides the metrics: who, which period, targets, questions."""

    organisation: str
    period: str
    previous_period: str | None
    segment: str  # "All" for the company-wide report
    generated_at: str
    data_as_of: str  # the store time the figures come from, e.g. "2026-11-23 00:02:41 UTC"
    locale: str
    min_n: int
    target_csat: float
    target_nps: float | None
    overall_question: str
    nps_question: str | None
    attributes: list[tuple[str, str, str, bool]]  # (question_id, text, dimension, reverse_coded)
    benchmarks: list[tuple[str, str, float, str]]  # (name, metric, value, source)
    comment_max_chars: int
    # Extensions with defaults (the configuration has them; callers may leave them out).
    mode_shift_warning_pts: float = 10.0  # report.mode_shift_warning_pts
    overall_scale: tuple[int, int] | None = None  # (min, max) of the overall question, for the sentence
    banner: tuple[str, ...] = ()  # what is missing from the data (the completeness gate), on the cover
    members: tuple[str, ...] = ()  # a group's report: the units it lists beside its total
    source_titles: tuple[tuple[str, str], ...] = ()  # (source, title) for the data-quality page's groups


# --- text ---------------------------------------------------------------------------


def sanitise_text(text: str | None, max_chars: int) -> tuple[str, bool]:
    """Customer text made safe to print: (clean text, whether it was shortened).

    Drops NUL and other control characters except newline, zero-width and bidi
    override/isolate marks; NFC-normalises; collapses whitespace (keeping single line
    breaks); truncates to `max_chars` including a trailing ellipsis, at a word break when
    one is near. Returns plain text, never markup.
    """
    if not text:
        return "", False
    max_chars = max(2, max_chars)
    precap = max_chars * _PRECAP_FACTOR
    shortened = len(text) > precap
    text = _LINE_BREAKS.sub("\n", text[:precap])
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    text = _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()
    if len(text) <= max_chars and not shortened:
        return text, False
    if len(text) > max_chars - 1:
        cut = text[: max_chars - 1]
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space >= int(0.8 * len(cut)):
            cut = cut[:space]
        text = cut
    return text.rstrip() + "…", True


def _label(text: object, max_chars: int = 120) -> str:
    """A short label from data (segment, file name, reason) cleaned like a comment, on one line."""
    clean, _ = sanitise_text(None if text is None else str(text), max_chars)
    return clean.replace("\n", " ")


# --- number formatting ----------------------------------------------------------------


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


class _Fmt:
    """Babel number formatting in one locale; `None` prints as an en dash."""

    def __init__(self, locale: str) -> None:
        try:
            self.locale = Locale.parse(locale)
        except (ValueError, UnknownLocaleError) as exc:
            raise ValueError(f"unknown report locale {locale!r}") from exc

    def dec(self, value: float | None, pattern: str) -> str:
        return "–" if value is None else format_decimal(value, format=pattern, locale=self.locale)

    def count(self, n: float | None) -> str:
        return self.dec(n, "#,##0")

    def pct(self, fraction: float | None) -> str:
        return "–" if fraction is None else self.dec(100 * fraction, "#,##0.0") + NBSP + "%"

    def pct_whole(self, fraction: float | None) -> str:
        return "–" if fraction is None else self.dec(100 * fraction, "#,##0.#") + NBSP + "%"

    def pts(self, fraction_diff: float | None) -> str:
        """A difference of proportions in percentage points, signed."""
        return "–" if fraction_diff is None else self.dec(100 * fraction_diff, "+#,##0.0;-#,##0.0") + NBSP + "pts"

    def nps(self, points: float | None) -> str:
        return self.dec(points, "+#,##0;-#,##0")

    def nps_pts(self, points: float | None) -> str:
        return "–" if points is None else self.dec(points, "+#,##0.0;-#,##0.0") + NBSP + "pts"

    def mean(self, value: float | None) -> str:
        return self.dec(value, "#,##0.00")

    def mean_diff(self, value: float | None) -> str:
        return self.dec(value, "+#,##0.00;-#,##0.00")

    def p(self, p: float | None) -> str:
        if p is None:
            return "–"
        return (
            "p" + NBSP + "<" + NBSP + self.dec(0.001, "0.000")
            if p < 0.001
            else "p" + NBSP + "=" + NBSP + self.dec(p, "0.000")
        )

    def date(self, value: object) -> str:
        if isinstance(value, datetime | date):
            return format_date(value, format="d MMM yyyy", locale=self.locale)
        return _label(value, 40)


def _range(low: str, high: str, unit: str = "") -> str:
    """'78.1–83.4 %'; with a signed bound 'from -5 to +12' reads better than '-5–+12'."""
    if low == "–" or high == "–":
        return "not defined"
    suffix = NBSP + unit if unit else ""
    if low.startswith(("-", "+", "−")) or high.startswith(("-", "+", "−")):
        return f"{low} to {high}{suffix}"
    return f"{low}–{high}{suffix}"


# --- metric rows --------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    value: float | None
    n: int
    ci_low: float | None
    ci_high: float | None
    comparator: str | None
    reference: float | None
    p_value: float | None
    target: float | None
    below_target: bool | None
    small_sample: bool


class _Metrics:
    """Look-ups into the metrics frame by (metric, period, segment, mode[, item])."""

    def __init__(self, frame: pl.DataFrame, min_n: int) -> None:
        missing = [c for c in METRICS_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"metrics frame lacks column(s) {', '.join(missing)} (see docs/data-contracts.md)")
        self.rows: dict[tuple[str, str, str, str, str | None], list[_Row]] = {}
        for r in frame.select(METRICS_COLUMNS).iter_rows(named=True):
            n = int(r["n"] or 0)
            small = r["small_sample"]
            row = _Row(
                value=_num(r["value"]),
                n=n,
                ci_low=_num(r["ci_low"]),
                ci_high=_num(r["ci_high"]),
                comparator=r["comparator"],
                reference=_num(r["reference"]),
                p_value=_num(r["p_value"]),
                target=_num(r["target"]),
                below_target=r["below_target"],
                small_sample=bool(small) if small is not None else n < min_n,
            )
            key = (r["metric"], str(r["period"]), r["segment"], r["mode"], r["item"])
            self.rows.setdefault(key, []).append(row)

    def get(
        self,
        metric: str,
        period: str,
        segment: str,
        mode: str = "all",
        *,
        item: str | None = None,
        comparator: str | None = None,
    ) -> _Row | None:
        candidates = self.rows.get((metric, period, segment, mode, item))
        if candidates is None and item is None:
            # Whole-survey metrics may carry the question id in `item`; accept any one.
            for (m, p, s, mo, _), rows in self.rows.items():
                if (m, p, s, mo) == (metric, period, segment, mode):
                    candidates = rows
                    break
        if not candidates:
            return None
        if comparator is not None:
            for row in candidates:
                if row.comparator == comparator:
                    return row
        return candidates[0]

    def values(self, metric: str, field: int) -> list[str]:
        """Distinct periods (field 1) or segments (field 2) that have rows of `metric`."""
        return sorted({key[field] for key in self.rows if key[0] == metric and key[field] is not None})


def _metric(row: _Row | None, fmt: _Fmt, kind: str) -> dict[str, Any]:
    """A metric as plain values: raw value/interval/n and their display strings."""
    if row is None:
        return {
            "available": False,
            "value": None,
            "ci_low": None,
            "ci_high": None,
            "n": 0,
            "small_sample": False,
            "text": "–",
            "ci_text": "not available",
            "n_text": "0",
            "mark": "",
        }
    if kind == "pct":
        text, ci = (
            fmt.pct(row.value),
            _range(fmt.dec(_pct(row.ci_low), "#,##0.0"), fmt.dec(_pct(row.ci_high), "#,##0.0"), "%"),
        )
    elif kind == "nps":
        text, ci = fmt.nps(row.value), _range(fmt.nps(row.ci_low), fmt.nps(row.ci_high))
    else:
        text, ci = fmt.mean(row.value), _range(fmt.mean(row.ci_low), fmt.mean(row.ci_high))
    return {
        "available": row.value is not None,
        "value": row.value,
        "ci_low": row.ci_low,
        "ci_high": row.ci_high,
        "n": row.n,
        "small_sample": row.small_sample,
        "text": text,
        "ci_text": ci,
        "n_text": fmt.count(row.n),
        "mark": SMALL_SAMPLE_MARK if row.small_sample else "",
    }


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


def _change(row: _Row | None, fmt: _Fmt, kind: str, previous: str | None) -> dict[str, Any]:
    """A change on the previous period (or a mode gap): value, interval, p and a verdict."""
    if row is None or row.value is None:
        return {
            "available": False,
            "text": "–",
            "ci_text": "not available",
            "p_text": "–",
            "significant": False,
            "value": None,
            "ci_low": None,
            "ci_high": None,
            "p_value": None,
            "direction": "none",
            "reference_text": "–",
            "comparator": previous or "",
        }
    if kind == "pct":
        show, ref = fmt.pts, fmt.pct
    elif kind == "nps":
        show, ref = fmt.nps_pts, fmt.nps
    else:
        show, ref = fmt.mean_diff, fmt.mean
    unit_ci = "pts" if kind in ("pct", "nps") else ""
    low_high = [show(v).removesuffix(NBSP + "pts") if v is not None else "–" for v in (row.ci_low, row.ci_high)]
    significant = row.p_value is not None and row.p_value < SIGNIFICANCE
    return {
        "available": True,
        "value": row.value,
        "ci_low": row.ci_low,
        "ci_high": row.ci_high,
        "p_value": row.p_value,
        "text": show(row.value),
        "ci_text": _range(low_high[0], low_high[1], unit_ci),
        "p_text": fmt.p(row.p_value),
        "significant": significant,
        "direction": "up" if row.value > 0 else "down" if row.value < 0 else "flat",
        "reference_text": ref(row.reference),
        "comparator": row.comparator or previous or "",
    }


def _change_clause(change: dict[str, Any], previous: str | None, unit: str) -> str:
    if not change["available"]:
        return f"no comparable figure for {previous}" if previous else "no previous period to compare with"
    what = change["comparator"]
    if change["significant"]:
        amount = change["text"].lstrip("+-−").replace(NBSP + "pts", "")
        word = "up" if change["direction"] == "up" else "down"
        unit = f" {unit}" if unit else ""
        return f"{word} {amount}{unit} on {what}, a statistically significant change ({change['p_text']})"
    return f"not significantly different from {what} ({change['p_text']})"


def _responses(m: _Metrics, period: str, segment: str, fallback: int | None, mode: str = "all") -> int | None:
    """Answers in a period: the `responses` row's n (or its value), else `fallback`."""
    row = m.get("responses", period, segment, mode)
    if row is None:
        return fallback
    return row.n or int(row.value or 0)


def _sample_clause(metric: dict[str, Any], min_n: int) -> str:
    if metric["small_sample"]:
        return f" Based on only {metric['n_text']} answers (fewer than {min_n}): treat as indicative."
    return ""


# --- sections -----------------------------------------------------------------------


def _headline(m: _Metrics, fmt: _Fmt, meta: ScorecardMeta) -> dict[str, Any]:
    p, seg, prev = meta.period, meta.segment, meta.previous_period
    csat_row = m.get("csat_top2box", p, seg)
    csat = _metric(csat_row, fmt, "pct")
    target = csat_row.target if csat_row is not None and csat_row.target is not None else meta.target_csat
    csat_change = _change(m.get("csat_top2box_change", p, seg, comparator=prev), fmt, "pct", prev)
    below = (
        csat_row.below_target
        if csat_row is not None and csat_row.below_target is not None
        else (csat["value"] is not None and csat["value"] < target)
    )
    csat["target_text"] = fmt.pct_whole(target)
    csat["below_target"] = bool(below)
    csat["vs_target_text"] = fmt.pts(None if csat["value"] is None else csat["value"] - target)
    target_clause = f"below the {csat['target_text']} target" if below else f"meeting the {csat['target_text']} target"
    csat["change"] = csat_change
    csat["sentence"] = (
        f"{csat['text']} of customers were satisfied (top-2-box), {target_clause}; "
        f"{_change_clause(csat_change, prev, 'points')}." + _sample_clause(csat, meta.min_n)
    )

    nps_row = m.get("nps", p, seg)
    nps = _metric(nps_row, fmt, "nps")
    nps_target = nps_row.target if nps_row is not None and nps_row.target is not None else meta.target_nps
    nps_change = _change(m.get("nps_change", p, seg, comparator=prev), fmt, "nps", prev)
    nps["change"] = nps_change
    nps["target_text"] = fmt.nps(nps_target) if nps_target is not None else ""
    nps["below_target"] = bool(nps_target is not None and nps["value"] is not None and nps["value"] < nps_target)
    if nps_row is None:
        nps["sentence"] = "No recommendation question was asked in this period."
    else:
        if nps_target is None:
            nps_target_clause = "no target set"
        elif nps["below_target"]:
            nps_target_clause = f"below the target of {nps['target_text']}"
        else:
            nps_target_clause = f"meeting the target of {nps['target_text']}"
        nps["sentence"] = (
            f"Net Promoter Score {nps['text']}: the share of promoters (9-10) minus the share of detractors "
            f"(0-6), on a scale from -100 to +100; {nps_target_clause}; "
            f"{_change_clause(nps_change, prev, 'points')}." + _sample_clause(nps, meta.min_n)
        )

    mean_row = m.get("mean_score", p, seg)
    mean = _metric(mean_row, fmt, "mean")
    mean_change = _change(m.get("mean_score_change", p, seg, comparator=prev), fmt, "mean", prev)
    mean["change"] = mean_change
    scale = f" on the {meta.overall_scale[0]}-{meta.overall_scale[1]} scale" if meta.overall_scale else ""
    mean["scale_text"] = f"{meta.overall_scale[0]}-{meta.overall_scale[1]}" if meta.overall_scale else ""
    mean["sentence"] = (
        f"The average overall rating was {mean['text']}{scale} (95 % interval {mean['ci_text']}); "
        f"{_change_clause(mean_change, prev, '')}." + _sample_clause(mean, meta.min_n)
    )

    n_now = _responses(m, p, seg, csat["n"])
    n_prev = _responses(m, prev, seg, None) if prev else None
    responses = {
        "n": n_now,
        "text": fmt.count(n_now),
        "previous_n": n_prev,
        "previous_text": fmt.count(n_prev) if n_prev is not None else "",
        "sentence": f"{fmt.count(n_now)} customers answered the survey in {p}"
        + (f", compared with {fmt.count(n_prev)} in {prev}." if n_prev is not None else "."),
    }
    return {"csat": csat, "nps": nps, "mean": mean, "responses": responses}


def _segments(m: _Metrics, fmt: _Fmt, meta: ScorecardMeta) -> dict[str, Any]:
    p, prev = meta.period, meta.previous_period
    present = [s for s in m.values("csat_top2box", 2) if m.get("csat_top2box", p, s) is not None]
    # The company and a group list their units and the total; a unit's report carries that unit only.
    listed = (
        [s for s in present if s != COMPANY] if meta.segment == COMPANY else [s for s in meta.members if s in present]
    )
    names = listed + ([meta.segment] if meta.segment in present else [])
    rows = []
    for seg in names:
        csat_row = m.get("csat_top2box", p, seg)
        csat = _metric(csat_row, fmt, "pct")
        target = csat_row.target if csat_row is not None and csat_row.target is not None else meta.target_csat
        below = (
            csat_row.below_target
            if csat_row is not None and csat_row.below_target is not None
            else csat["value"] is not None and csat["value"] < target
        )
        n = _responses(m, p, seg, csat["n"])
        rows.append(
            {
                "segment": "All segments" if seg == COMPANY else _label(seg, 60),
                "is_total": seg == meta.segment and len(names) > 1,
                "n": n,
                "n_text": fmt.count(n),
                "csat": csat,
                "below_target": bool(below),
                "vs_target_text": fmt.pts(None if csat["value"] is None else csat["value"] - target),
                "change": _change(m.get("csat_top2box_change", p, seg, comparator=prev), fmt, "pct", prev),
                "nps": _metric(m.get("nps", p, seg), fmt, "nps"),
                "nps_change": _change(m.get("nps_change", p, seg, comparator=prev), fmt, "nps", prev),
            }
        )
    return {
        "rows": rows,
        "any_small": any(r["csat"]["small_sample"] or r["nps"]["small_sample"] for r in rows),
        "target_text": fmt.pct_whole(meta.target_csat),
        "target": meta.target_csat,
    }


def _trend(m: _Metrics, fmt: _Fmt, meta: ScorecardMeta) -> dict[str, Any]:
    seg = meta.segment
    periods = [q for q in m.values("csat_top2box", 1) if q <= meta.period and m.get("csat_top2box", q, seg)]
    rows = []
    for q in periods:
        csat = _metric(m.get("csat_top2box", q, seg), fmt, "pct")
        rows.append(
            {
                "period": q,
                "is_current": q == meta.period,
                "n_text": fmt.count(_responses(m, q, seg, csat["n"])),
                "csat": csat,
                "nps": _metric(m.get("nps", q, seg), fmt, "nps"),
                "mean": _metric(m.get("mean_score", q, seg), fmt, "mean"),
            }
        )
    return {"rows": rows, "any_small": any(r["csat"]["small_sample"] or r["nps"]["small_sample"] for r in rows)}


def _benchmarks(headline: dict[str, Any], fmt: _Fmt, meta: ScorecardMeta) -> list[dict[str, Any]]:
    ours = {
        "csat_top2box": ("csat", fmt.pct, fmt.pts),
        "nps": ("nps", fmt.nps, fmt.nps_pts),
        "mean_score": ("mean", fmt.mean, fmt.mean_diff),
    }
    out = []
    for name, metric, value, source in meta.benchmarks:
        if metric not in ours:
            continue
        key, show, show_diff = ours[metric]
        our = headline[key]
        low, high = our["ci_low"], our["ci_high"]
        if our["value"] is None or low is None or high is None:
            position, verdict = "unknown", "cannot be compared: our figure has no interval"
        elif value < low:
            position, verdict = "below", "lies below our 95 % interval: we are ahead of it"
        elif value > high:
            position, verdict = "above", "lies above our 95 % interval: we are behind it"
        else:
            position, verdict = "inside", "lies inside our 95 % interval: no clear difference"
        out.append(
            {
                "name": _label(name, 80),
                "metric": metric,
                "metric_label": METRIC_LABELS[metric],
                "value": value,
                "value_text": show(value),
                "ours_text": our["text"],
                "ours_ci_text": our["ci_text"],
                "ours_value": our["value"],
                "difference_text": show_diff(None if our["value"] is None else our["value"] - value),
                "position": position,
                "inside": position == "inside",
                "verdict": f"{_label(name, 80)} ({show(value)}) {verdict}.",
                "source": _label(source, 200),
            }
        )
    return out


def _modes(m: _Metrics, fmt: _Fmt, meta: ScorecardMeta) -> dict[str, Any]:
    p, seg, prev = meta.period, meta.segment, meta.previous_period
    total = _responses(m, p, seg, None)

    def mode_row(mode: str) -> dict[str, Any] | None:
        csat = _metric(m.get("csat_top2box", p, seg, mode), fmt, "pct")
        n = _responses(m, p, seg, csat["n"], mode) or 0
        if not csat["available"] and not n:
            return None
        share = n / total if total else None
        return {
            "mode": mode,
            "label": MODE_LABELS.get(mode, _label(mode, 40)),
            "is_group": mode in GROUP_ORDER,
            "n": n,
            "n_text": fmt.count(n),
            "share": share,
            "share_text": fmt.pct(share),
            "csat": csat,
            "nps": _metric(m.get("nps", p, seg, mode), fmt, "nps"),
            "mean": _metric(m.get("mean_score", p, seg, mode), fmt, "mean"),
        }

    rows = [r for r in (mode_row(mode) for mode in MODE_ORDER) if r is not None]
    groups = [r for r in (mode_row(mode) for mode in GROUP_ORDER) if r is not None]
    gaps = {
        "csat": _change(m.get("csat_top2box_mode_gap", p, seg, "oral-written"), fmt, "pct", "written"),
        "nps": _change(m.get("nps_mode_gap", p, seg, "oral-written"), fmt, "nps", "written"),
        "mean": _change(m.get("mean_score_mode_gap", p, seg, "oral-written"), fmt, "mean", "written"),
    }
    gap = gaps["csat"]
    if gap["available"]:
        direction = "higher" if gap["direction"] == "up" else "lower" if gap["direction"] == "down" else "the same"
        amount = gap["text"].lstrip("+-−")
        gap["sentence"] = (
            f"Answers given orally (phone, in person) show a CSAT {amount} {direction} than written answers "
            f"(online, paper): 95 % interval {gap['ci_text']}, {gap['p_text']}"
            + (" - a statistically significant gap." if gap["significant"] else " - not statistically significant.")
        )
    else:
        gap["sentence"] = "The oral-versus-written gap cannot be estimated: one of the two groups has no answers."

    shares = ", ".join(f"{r['label'].lower()} {r['share_text']}" for r in rows if r["share"] is not None)
    pooled_note = (
        f"The headline figures pool all collection modes ({shares} of answers). "
        "They are not adjusted for mode: interviewer-administered modes (phone, in person) tend to read higher."
    )

    share_row = m.get("mode_share_oral", p, seg)
    prev_share_row = m.get("mode_share_oral", prev, seg) if prev else None
    now_share = share_row.value if share_row is not None else None
    prev_share = (
        prev_share_row.value if prev_share_row is not None else share_row.reference if share_row is not None else None
    )
    shift_pts = None if now_share is None or prev_share is None else 100 * (now_share - prev_share)
    warning = shift_pts is not None and abs(shift_pts) >= meta.mode_shift_warning_pts
    # Whole points: the shares are shown rounded, a one-decimal difference of them would not add up.
    shift_text = "–" if shift_pts is None else fmt.dec(shift_pts, "+#,##0;-#,##0") + NBSP + "pts"
    shift = {
        "share_oral": now_share,
        "share_oral_text": fmt.pct(now_share),
        "previous_share_oral": prev_share,
        "previous_share_oral_text": fmt.pct(prev_share),
        "shift_pts": shift_pts,
        "shift_text": shift_text,
        "threshold_text": fmt.dec(meta.mode_shift_warning_pts, "#,##0.#") + NBSP + "pts",
        "warning": warning,
        "text": (
            f"The mode mix shifted: {fmt.pct(now_share)} of answers were collected orally in {p}, against "
            f"{fmt.pct(prev_share)} in {prev} ({shift_text}). "
            f"Oral modes read higher, so part of the change on {prev} may come from how customers were asked, "
            "not from the service. Compare like with like in the table by mode; the pooled figures are not adjusted."
            if warning
            else ""
        ),
    }
    return {
        "rows": rows,
        "groups": groups,
        "gap": gap,
        "gaps": gaps,
        "pooled_note": pooled_note,
        "shift": shift,
        "any_small": any(r["csat"]["small_sample"] for r in rows + groups),
    }


def _attributes(m: _Metrics, fmt: _Fmt, meta: ScorecardMeta) -> dict[str, Any]:
    rows = []
    for qid, text, dimension, reverse in meta.attributes:
        metric = _metric(m.get("attribute_top2box", meta.period, meta.segment, item=qid), fmt, "pct")
        rows.append(
            {
                "question_id": qid,
                "text": _label(text, 200),
                "dimension": _label(dimension, 40)[:1].upper() + _label(dimension, 40)[1:],
                "reverse_coded": reverse,
                "metric": metric,
            }
        )
    return {
        "rows": rows,
        "any_reverse": any(r["reverse_coded"] for r in rows),
        "any_small": any(r["metric"]["small_sample"] for r in rows),
    }


def _comments(comments: pl.DataFrame, fmt: _Fmt, meta: ScorecardMeta) -> dict[str, Any]:
    items = []
    for r in comments.iter_rows(named=True):
        text, truncated = sanitise_text(r.get("comment"), meta.comment_max_chars)
        if not text:
            continue
        score = _num(r.get("overall_value"))
        items.append(
            {
                "text": text,
                "truncated": truncated,
                "date_text": fmt.date(r.get("submitted_at")),
                "segment": _label(r.get("segment"), 60),
                "mode": MODE_LABELS.get(str(r.get("mode")), _label(r.get("mode"), 30)),
                "score": score,
                "score_text": fmt.dec(score, "#,##0.#") if score is not None else "",
            }
        )
    return {"items": items, "count": len(items), "max_chars": meta.comment_max_chars}


def _equation(fmt: _Fmt, read: int, loaded: int, quarantined: int) -> str:
    """'820 = 812 + 8' (or '≠' when rows went missing): the per-file invariant, shown."""
    sign = "=" if read == loaded + quarantined else "≠"
    return f"{fmt.count(read)} {sign} {fmt.count(loaded)} + {fmt.count(quarantined)}"


def _data_quality(
    files: pl.DataFrame, quarantine_reasons: pl.DataFrame, fmt: _Fmt, source_titles: dict[str, str] | None = None
) -> dict[str, Any]:
    """The files table, grouped by source (each with its own totals), and the quarantine reasons."""
    missing = [c for c in FILES_COLUMNS if c not in files.columns]
    if missing:
        raise ValueError(f"ingest files frame lacks column(s) {', '.join(missing)}")
    titles = source_titles or {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in files.sort("source", "source_file").iter_rows(named=True):
        read, loaded, quarantined = (int(r[c] or 0) for c in ("rows_read", "rows_loaded", "rows_quarantined"))
        dupes = int(r["duplicates_superseded"] or 0)
        groups.setdefault(str(r["source"]), []).append(
            {
                "file": _label(r["source_file"], 80),
                "status": str(r["status"]),
                "read": read,
                "loaded": loaded,
                "quarantined": quarantined,
                "duplicates": dupes,
                "read_text": fmt.count(read),
                "loaded_text": fmt.count(loaded),
                "quarantined_text": fmt.count(quarantined),
                "duplicates_text": fmt.count(dupes),
                "balanced": read == loaded + quarantined,
                "check_text": _equation(fmt, read, loaded, quarantined),
            }
        )
    rows = [row for group in groups.values() for row in group]
    totals = _file_totals(rows, fmt)
    reasons = []
    if quarantine_reasons.height:
        ordered = quarantine_reasons.sort(["rows", "source_file", "reason"], descending=[True, False, False])
        for r in ordered.head(QUARANTINE_SHOWN).iter_rows(named=True):
            reasons.append(
                {
                    "file": _label(r["source_file"], 80),
                    "reason": _label(r["reason"], 200),
                    "rows": int(r["rows"] or 0),
                    "rows_text": fmt.count(int(r["rows"] or 0)),
                }
            )
    return {
        "sources": [
            {"title": _label(titles.get(name, name), 80), "files": group, "totals": _file_totals(group, fmt)}
            for name, group in groups.items()
        ],
        "files": rows,
        "file_count": len(rows),
        "totals": totals,
        "all_balanced": all(r["balanced"] for r in rows) and totals["balanced"],
        "unbalanced_files": [r["file"] for r in rows if not r["balanced"]],
        "quarantine_reasons": reasons,
        "quarantine_reasons_more": max(0, quarantine_reasons.height - QUARANTINE_SHOWN),
    }


def _file_totals(rows: list[dict[str, Any]], fmt: _Fmt) -> dict[str, Any]:
    totals = {k: sum(r[k] for r in rows) for k in ("read", "loaded", "quarantined", "duplicates")}
    balanced = totals["read"] == totals["loaded"] + totals["quarantined"]
    return {
        **totals,
        **{f"{k}_text": fmt.count(v) for k, v in totals.items()},
        "file_count": len(rows),
        "balanced": balanced,
        "check_text": (
            f"{fmt.count(totals['read'])} {'=' if balanced else '≠'} "
            f"{fmt.count(totals['loaded'])} + {fmt.count(totals['quarantined'])}"
        ),
    }


def build_scorecard_context(
    metrics: pl.DataFrame,
    files: pl.DataFrame,
    quarantine_reasons: pl.DataFrame,
    comments: pl.DataFrame,
    meta: ScorecardMeta,
) -> dict[str, Any]:
    """Everything the scorecard template prints, formatted for `meta.locale`, raw values alongside.

    Raises ValueError when the metrics frame has no CSAT figure for the period and segment:
    an empty scorecard is never produced.
    """
    fmt = _Fmt(meta.locale)
    m = _Metrics(metrics, meta.min_n)
    csat_row = m.get("csat_top2box", meta.period, meta.segment)
    if csat_row is None or csat_row.value is None:
        raise ValueError(
            f"the metrics frame has no csat_top2box figure for period {meta.period!r}, segment {meta.segment!r}: "
            "refusing to produce an empty scorecard"
        )
    headline = _headline(m, fmt, meta)
    segment_label = "All customers" if meta.segment == COMPANY else _label(meta.segment, 60)
    responses = headline["responses"]["n"] or 0
    # A unit with fewer answers than min_n gets a report that says so, not figures that mislead.
    too_small = meta.segment != COMPANY and responses < meta.min_n
    return {
        "meta": {
            "organisation": _label(meta.organisation, 120),
            "title": f"Customer satisfaction scorecard {meta.period}",
            "period": meta.period,
            "previous_period": meta.previous_period or "",
            "segment": meta.segment,
            "segment_label": segment_label,
            "is_company_wide": meta.segment == COMPANY,
            "generated_at": meta.generated_at,
            "data_as_of": meta.data_as_of,
            "locale": meta.locale,
            "min_n": meta.min_n,
            "min_n_text": fmt.count(meta.min_n),
            "small_sample_mark": SMALL_SAMPLE_MARK,
            "target_csat": meta.target_csat,
            "target_csat_text": fmt.pct_whole(meta.target_csat),
            "target_nps": meta.target_nps,
            "target_nps_text": fmt.nps(meta.target_nps) if meta.target_nps is not None else "",
            "overall_question": _label(meta.overall_question, 200),
            "nps_question": _label(meta.nps_question, 200) if meta.nps_question else "",
            "comment_max_chars": meta.comment_max_chars,
            "mode_shift_warning_text": fmt.dec(meta.mode_shift_warning_pts, "#,##0.#") + NBSP + "pts",
            # The cover has room for a few lines; the data-quality page lists them all.
            "banner": [_label(line, BANNER_CHARS) for line in meta.banner[:BANNER_LINES]]
            + (
                [f"… and {len(meta.banner) - BANNER_LINES} more, listed on the data-quality page."]
                if len(meta.banner) > BANNER_LINES
                else []
            ),
            "missing": [_label(line, 400) for line in meta.banner],
            "too_small": too_small,
            "too_small_text": (
                f"{segment_label} had {fmt.count(responses)} answer{'s' if responses != 1 else ''} in {meta.period}, "
                f"fewer than the {fmt.count(meta.min_n)} needed for reliable figures. This report therefore shows "
                "no percentages, scores or comments; these answers count towards the company-wide figures."
                if too_small
                else ""
            ),
        },
        "headline": headline,
        "segments": _segments(m, fmt, meta),
        "trend": _trend(m, fmt, meta),
        "benchmarks": _benchmarks(headline, fmt, meta),
        "modes": _modes(m, fmt, meta),
        "attributes": _attributes(m, fmt, meta),
        "comments": _comments(comments, fmt, meta),
        "data_quality": _data_quality(files, quarantine_reasons, fmt, dict(meta.source_titles)),
    }

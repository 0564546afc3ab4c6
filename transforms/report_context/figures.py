"""One metric or one change as plain values: raw numbers with their display strings, and the clauses about them.

Shared by every report section that prints a level (value, 95 % interval, n, small-sample
mark) or a change (difference, interval, p-value, significance verdict).
"""

from __future__ import annotations

from typing import Any

from transforms.report_context.lookup import MetricRow
from transforms.report_context.numbers import NBSP, Formatter, interval_text, to_percent

SMALL_SAMPLE_MARK = "†"
SIGNIFICANCE = 0.05


def metric_values(row: MetricRow | None, fmt: Formatter, kind: str) -> dict[str, Any]:
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
            interval_text(fmt.dec(to_percent(row.ci_low), "#,##0.0"), fmt.dec(to_percent(row.ci_high), "#,##0.0"), "%"),
        )
    elif kind == "nps":
        text, ci = fmt.nps(row.value), interval_text(fmt.nps(row.ci_low), fmt.nps(row.ci_high))
    else:
        text, ci = fmt.mean(row.value), interval_text(fmt.mean(row.ci_low), fmt.mean(row.ci_high))
    values = {
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
    if row.n_eff is not None:  # a weighted figure: its interval rests on the effective n
        values |= {"n_eff": row.n_eff, "n_eff_text": fmt.count(round(row.n_eff))}
    return values


def change_values(row: MetricRow | None, fmt: Formatter, kind: str, previous: str | None) -> dict[str, Any]:
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
    # With many comparisons (q-values in the frame) the verdict is the FDR-adjusted q; no q: not tested.
    judged = row.q_value if row.adjusted else row.p_value
    significant = judged is not None and judged < SIGNIFICANCE
    adjusted = (
        {
            "q_value": row.q_value,
            "q_text": "q" + fmt.p(row.q_value)[1:] if row.q_value is not None else "",
            "tested": row.q_value is not None,
        }
        if row.adjusted
        else {}
    )
    if row.n_eff is not None:
        adjusted |= {"n_eff": row.n_eff, "n_eff_text": fmt.count(round(row.n_eff))}
    return adjusted | {
        "available": True,
        "value": row.value,
        "ci_low": row.ci_low,
        "ci_high": row.ci_high,
        "p_value": row.p_value,
        "text": show(row.value),
        "ci_text": interval_text(low_high[0], low_high[1], unit_ci),
        "p_text": fmt.p(row.p_value),
        "significant": significant,
        "direction": "up" if row.value > 0 else "down" if row.value < 0 else "flat",
        "reference_text": ref(row.reference),
        "comparator": row.comparator or previous or "",
    }


def change_clause(change: dict[str, Any], previous: str | None, unit: str) -> str:
    """'up 2.1 points on 2024, a statistically significant change (p = 0.012)' or 'not significantly ...'."""
    if not change["available"]:
        return f"no comparable figure for {previous}" if previous else "no previous period to compare with"
    what = change["comparator"]
    tests = change["p_text"] + (f", {change['q_text']}" if change.get("q_text") else "")
    if change.get("tested") is False:
        return f"{change['text']} on {what}, too few answers to test the change"
    if change["significant"]:
        amount = change["text"].lstrip("+-−").replace(NBSP + "pts", "")
        word = "up" if change["direction"] == "up" else "down"
        unit = f" {unit}" if unit else ""
        return f"{word} {amount}{unit} on {what}, a statistically significant change ({tests})"
    return f"not significantly different from {what} ({tests})"


def sample_clause(metric: dict[str, Any], min_n: int) -> str:
    """A sentence warning that the figure rests on fewer than `min_n` answers; empty otherwise."""
    if metric["small_sample"]:
        return f" Based on only {metric['n_text']} answers (fewer than {min_n}): treat as indicative."
    return ""

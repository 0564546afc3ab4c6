"""Look-ups into the metrics frame (docs/data-contracts.md): one figure by metric, period, segment and mode.

The frame's rows become `MetricRow`s with NaN read as missing and `small_sample` filled in
from `min_n` where the producer left it empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms.report_context.numbers import float_or_none

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
# Optional columns (the scorecard's metrics file has them; a frame without them reads as unweighted, unadjusted).
OPTIONAL_COLUMNS = ("n_eff", "q_value", "suppressed")


@dataclass(frozen=True)
class MetricRow:
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
    n_eff: float | None = None  # Kish effective n of a weighted figure
    q_value: float | None = None  # Benjamini-Hochberg adjusted p (null: not tested)
    adjusted: bool = False  # the frame carries q-values: significance is judged on q, not p
    suppressed: str | None = None  # why the figure must not be shown (small group), else None


class Metrics:
    """Look-ups into the metrics frame by (metric, period, segment, mode[, item])."""

    def __init__(self, frame: pl.DataFrame, min_n: int) -> None:
        missing = [c for c in METRICS_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"metrics frame lacks column(s) {', '.join(missing)} (see docs/data-contracts.md)")
        self.rows: dict[tuple[str, str, str, str, str | None], list[MetricRow]] = {}
        optional = [c for c in OPTIONAL_COLUMNS if c in frame.columns]
        adjusted = "q_value" in optional
        for r in frame.select(*METRICS_COLUMNS, *optional).iter_rows(named=True):
            n = int(r["n"] or 0)
            small = r["small_sample"]
            row = MetricRow(
                value=float_or_none(r["value"]),
                n=n,
                ci_low=float_or_none(r["ci_low"]),
                ci_high=float_or_none(r["ci_high"]),
                comparator=r["comparator"],
                reference=float_or_none(r["reference"]),
                p_value=float_or_none(r["p_value"]),
                target=float_or_none(r["target"]),
                below_target=r["below_target"],
                small_sample=bool(small) if small is not None else n < min_n,
                n_eff=float_or_none(r.get("n_eff")),
                q_value=float_or_none(r.get("q_value")),
                adjusted=adjusted,
                suppressed=r.get("suppressed"),
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
    ) -> MetricRow | None:
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


def answer_count(m: Metrics, period: str, segment: str, fallback: int | None, mode: str = "all") -> int | None:
    """Answers in a period: the `responses` row's n (or its value), else `fallback`."""
    row = m.get("responses", period, segment, mode)
    if row is None:
        return fallback
    return row.n or int(row.value or 0)

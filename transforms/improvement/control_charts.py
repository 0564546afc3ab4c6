"""Control charts of the continuous-improvement report (methodology.md, "Statistical process control").

Pure polars: counts or values per series and period in, chart points and metric rows out. A series
is one (segment, item); `period` is a sortable label ("2025-03"), so string order is time order.

- p_chart: a share per period (d of n) against its series' centre p̄ = Σd/Σn, with limits that
  widen where n is small (Shewhart 1931; Montgomery, Introduction to Statistical Quality Control,
  ch. 7: variable sample size).
- western_electric_signals: the four Western Electric zone rules (Western Electric, Statistical
  Quality Control Handbook, 1956), each point judged against its own σ_i.
- xmr_chart: individuals and moving-range chart for a value without a binomial n (Wheeler & Chambers,
  Understanding Statistical Process Control, 1992).
- trend_rows / control_chart_metrics: the metrics file's rows (transforms/improvement/rows.py: metric,
  period, segment, item, value, n, ci_low, ci_high, small_sample, reference; sorted by metric, period,
  segment, item, reference): `trend`, `p_chart` and `spc_signal`. On `p_chart` rows ci_low/ci_high hold
  the control limits (LCL/UCL), not a confidence interval; the reference says so.

Missing periods are not filled: the charts and the Western Electric rules run over the periods present
in each series, in label order, so "consecutive" means consecutive points on the chart. A period with no
row (or n = 0) is a gap the rules step over - a run can continue across it. Callers who want a gap to
break a run must split the series themselves.
"""

from __future__ import annotations

import polars as pl

from transforms.improvement.rows import metric_rows
from transforms.stats import wilson_interval

SERIES = ("segment", "item")

# Individuals chart constants for moving ranges of two points (Montgomery, Appendix VI):
# d2 = 1.128, so 3/d2 = 2.66 (limits of X) and D4 = 3.268 (upper limit of the moving range).
XMR_LIMIT = 2.66
MR_LIMIT = 3.268

RULES = {
    1: "rule 1: beyond 3 sigma",
    2: "rule 2: 2 of 3 beyond 2 sigma",
    3: "rule 3: 4 of 5 beyond 1 sigma",
    4: "rule 4: 8 in a row on one side",
}
# rule -> (beyond k sigma, points needed, window length): "count of the last `window` points beyond k sigma
# on the same side"; rule 1 is 1 of 1 beyond 3, rule 4 is 8 of 8 beyond 0 (the centre line).
_PATTERNS = {1: (3.0, 1, 1), 2: (2.0, 2, 3), 3: (1.0, 4, 5), 4: (0.0, 8, 8)}
_SIDES = {"above": 1.0, "below": -1.0}

P_CHART_REFERENCE = (
    "p-chart: value = centre p̄ = Σd/Σn; ci_low/ci_high = control limits p̄ ± 3·sqrt(p̄(1-p̄)/n) in [0, 1]"
    " (Shewhart 1931), not a confidence interval"
)


def _lazy(frame: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    frame = frame.lazy()
    missing = [key for key in SERIES if key not in frame.collect_schema().names()]
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(key) for key in missing)


def _by_series(expr: pl.Expr) -> pl.Expr:
    return expr.over(SERIES, order_by="period")


def p_chart(counts: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """p-chart points, one row per (segment, item, period), in time order within each series.

    `counts`: segment, item (either may be absent: one series), period, `d` successes (e.g. satisfied
    answers), `n` answers; 0 <= d <= n. Rows of one (series, period) are added up; periods with n = 0
    have no share and are left out.

    p_i = d_i/n_i; centre p̄ = Σd/Σn over the series; σ_i = sqrt(p̄(1-p̄)/n_i), so the limits are wider
    where n_i is small (Montgomery ch. 7). lcl/ucl = p̄ ∓ 3σ_i, lower_2s/upper_2s = p̄ ∓ 2σ_i,
    lower_1s/upper_1s = p̄ ∓ σ_i, each floored at 0 and capped at 1. z = (p_i - p̄)/σ_i is the point's
    distance in its own sigmas (0 where σ = 0: p̄ is 0 or 1, so every point sits on the centre line);
    the Western Electric rules read z, not the clipped bounds.
    """
    points = (
        _lazy(counts)
        .group_by(*SERIES, pl.col("period").cast(pl.String))
        .agg(pl.col("d").sum().cast(pl.Int64), pl.col("n").sum().cast(pl.Int64))
        .filter(pl.col("n") > 0)
        .sort(*SERIES, "period", nulls_last=True)
        .with_columns(
            p=pl.col("d") / pl.col("n"),
            centre=pl.col("d").sum().over(SERIES) / pl.col("n").sum().over(SERIES),
        )
        .with_columns(sigma=(pl.col("centre") * (1 - pl.col("centre")) / pl.col("n")).sqrt())
        .with_columns(
            z=pl.when(pl.col("sigma") > 0).then((pl.col("p") - pl.col("centre")) / pl.col("sigma")).otherwise(0.0)
        )
    )
    bounds = {
        "lcl": -3,
        "lower_2s": -2,
        "lower_1s": -1,
        "upper_1s": 1,
        "upper_2s": 2,
        "ucl": 3,
    }
    return points.with_columns(
        (pl.col("centre") + k * pl.col("sigma")).clip(0.0, 1.0).alias(name) for name, k in bounds.items()
    )


def xmr_chart(values: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Individuals (X) and moving-range (MR) chart points, one row per (segment, item, period).

    `values`: segment, item (either may be absent), period, `value` (one number per period, e.g. a
    mean score). MR_i = |x_i - x_{i-1}| within the series (null for its first point);
    centre X̄ = mean x; MR̄ = mean MR; lcl/ucl = X̄ ∓ 2.66·MR̄ (not floored: a value's own bounds
    are the caller's business); mr_ucl = 3.268·MR̄ and `mr_beyond` marks a jump above it
    (Wheeler & Chambers 1992; 2.66 = 3/d2, 3.268 = D4 for n = 2).
    Oracle (methodology.md): [10, 50, 40, 30] -> X̄ 32.5, limits 85.7 / -20.7, MR̄ 20, MR limit 65.36.
    sigma = 2.66·MR̄/3 (= MR̄/d2 to the rounding of 2.66), so z = (x - X̄)/sigma is 3 exactly at the
    limits and the Western Electric rules apply as on the p-chart.
    """
    return (
        _lazy(values)
        .select(*SERIES, pl.col("period").cast(pl.String), pl.col("value").cast(pl.Float64))
        .sort(*SERIES, "period", nulls_last=True)
        .with_columns(mr=_by_series(pl.col("value").diff().abs()))
        .with_columns(
            centre=pl.col("value").mean().over(SERIES),
            mr_bar=pl.col("mr").mean().over(SERIES),
        )
        .with_columns(
            lcl=pl.col("centre") - XMR_LIMIT * pl.col("mr_bar"),
            ucl=pl.col("centre") + XMR_LIMIT * pl.col("mr_bar"),
            mr_ucl=MR_LIMIT * pl.col("mr_bar"),
            sigma=XMR_LIMIT * pl.col("mr_bar") / 3,
        )
        .with_columns(
            z=pl.when(pl.col("sigma") > 0).then((pl.col("value") - pl.col("centre")) / pl.col("sigma")).otherwise(0.0),
            mr_beyond=(pl.col("mr") > pl.col("mr_ucl")).fill_null(False),
        )
    )


def _rule_fires(rule: int, side: float) -> pl.Expr:
    """True at the point that completes the rule's pattern on one side.

    The point must itself be beyond k sigma on that side, and at least `needed` of the last `window`
    points of its series (itself included) must be too: rolling_sum over the booleans, per series in
    time order. Windows at the start of a series are partial (2 beyond at the first two points already
    are 2 of 3). "Beyond" is strict: a point exactly on a bound, or on the centre for rule 4, does not count.
    """
    k, needed, window = _PATTERNS[rule]
    beyond = pl.col("z") * side > k
    in_window = _by_series(beyond.cast(pl.UInt32).rolling_sum(window, min_samples=1))
    return beyond & (in_window >= needed)


def western_electric_signals(points: pl.LazyFrame | pl.DataFrame, *, value: str = "p", min_n: int = 30) -> pl.DataFrame:
    """Metric rows `spc_signal`: one per point and Western Electric rule (1956) it completes.

    `points`: p_chart (or xmr_chart, with value="value") output: segment, item, period, z, the
    plotted `value` column and n (optional). Rules, per series in time order, against the point's own σ_i:
    1: a point beyond 3σ; 2: 2 of 3 consecutive beyond 2σ on the same side; 3: 4 of 5 consecutive
    beyond 1σ on the same side; 4: 8 in a row on one side of the centre. A continuing pattern signals
    again at each further point that qualifies (the 9th point of a run fires rule 4 too).
    value = the plotted value (p on a p-chart), reference = the rule and the side
    ("rule 1: beyond 3 sigma, below centre"), small_sample = n < min_n (the normal limits of a p-chart are rough there).
    The rules run over the points present: a missing period is not filled, so "consecutive" means
    consecutive points, and a run continues across a gap.
    """
    frame = _lazy(points)
    n = pl.col("n").cast(pl.Int64) if "n" in frame.collect_schema().names() else pl.lit(None, dtype=pl.Int64)
    flags = {
        f"{RULES[rule]}, {side} centre": _rule_fires(rule, sign) for rule in RULES for side, sign in _SIDES.items()
    }
    signals = (
        frame.sort(*SERIES, "period", nulls_last=True)
        .select(*SERIES, "period", pl.col(value).cast(pl.Float64).alias("value"), n.alias("n"), **flags)
        .unpivot(index=[*SERIES, "period", "value", "n"], on=list(flags), variable_name="reference", value_name="fires")
        .filter("fires")
        .select(
            pl.lit("spc_signal").alias("metric"),
            "period",
            *SERIES,
            "value",
            "n",
            (pl.col("n") < min_n).alias("small_sample"),
            "reference",
        )
    )
    return metric_rows([signals.collect()])


def trend_rows(points: pl.LazyFrame | pl.DataFrame, *, min_n: int = 30) -> pl.DataFrame:
    """Metric rows `trend` and `p_chart` from p_chart points, one of each per (segment, item, period).

    trend: value = p = d/n, n, ci_low/ci_high = Wilson 95 % interval (transforms.stats.wilson_interval).
    p_chart: value = the series centre p̄, ci_low/ci_high = the point's LCL/UCL (they vary with n), n;
    these are control limits, not a confidence interval (reference P_CHART_REFERENCE says so).
    small_sample = n < min_n on both.
    """
    frame = points.lazy().collect() if isinstance(points, pl.LazyFrame) else points
    low, high = wilson_interval(frame["d"].to_numpy(), frame["n"].to_numpy())
    small = (pl.col("n") < min_n).alias("small_sample")
    trend = frame.select(
        pl.lit("trend").alias("metric"),
        "period",
        *SERIES,
        pl.col("p").alias("value"),
        "n",
        pl.Series("ci_low", low),
        pl.Series("ci_high", high),
        small,
    )
    chart = frame.select(
        pl.lit("p_chart").alias("metric"),
        "period",
        *SERIES,
        pl.col("centre").alias("value"),
        "n",
        pl.col("lcl").alias("ci_low"),
        pl.col("ucl").alias("ci_high"),
        small,
        pl.lit(P_CHART_REFERENCE).alias("reference"),
    )
    return metric_rows([trend, chart])


def control_chart_metrics(counts: pl.LazyFrame | pl.DataFrame, *, min_n: int = 30) -> pl.DataFrame:
    """All control-chart metric rows of `counts` (see p_chart): trend, p_chart and spc_signal."""
    points = p_chart(counts).collect()
    return metric_rows([trend_rows(points, min_n=min_n), western_electric_signals(points, min_n=min_n)])

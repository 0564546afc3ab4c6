"""Operational metrics of the continuous-improvement report: returns, suppliers, the top quality
problems, goals and management's self-assessment (domain notes, seed 004).

Pure: stored tables (typed by the staging layer) with a `period` label chosen by the caller (a
month, quarter or year) in, metric rows out, in the shared columns of transforms/improvement/rows.py
(metric, period, segment, item, value, n, ci_low, ci_high, small_sample, reference; NaN made null). Shares are
fractions (0-1) with a Wilson interval; a mean of a few ratings has a Student t interval.

- return_rate: returns / orders per period, unit (and "All") - over all products (item null) and per
  product (item = product); return_rate_by_reason: the same per return reason (item = reason).
  n = orders. Returns count items, so they can exceed orders: such a rate has no interval.
- supplier_on_time / supplier_defect_rate: per supplier (item) and period, the unweighted mean of
  the months in the period (a quarterly scorecard row counts as its three months), n = months;
  ..._latest: the latest scorecard in the period. Supplier-reported figures over all their
  deliveries, not a sample: no interval, never "small sample".
- top_problem: every theme of the coding frame, its counts pooled across sources and scored on
  frequency, cost and whether it is actionable; ranked, with the cumulative share for a Pareto chart.
  Evidence without a theme is counted in the reference ("uncategorised, not ranked: ..."), not ranked.
- goal_status: each configured goal against the current value and its interval: met / at risk /
  missed / no data (a goal whose metric has no rows is kept as "no data"; a null/NaN bound is no interval).
- self_assessment: the seven 1-5 statements (total 7-35, null unless all seven are answered)
  averaged over the assessments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from transforms.improvement.rows import metric_rows, with_company
from transforms.scopes import COMPANY
from transforms.staging.management import SELF_ASSESSMENT_AREAS
from transforms.stats import mean_interval, wilson_interval

Frame = pl.DataFrame | pl.LazyFrame


def _collect(frame: Frame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


# --- 1. Return rate ---------------------------------------------------------------------------


def _rate_rows(metric: str, frame: pl.DataFrame, min_n: int) -> pl.DataFrame:
    """`frame`: period, segment, item, returns, orders (either may be null: none recorded)."""
    frame = frame.with_columns(pl.col("returns").fill_null(0), pl.col("orders").fill_null(0))
    x, n = frame["returns"].to_numpy().astype(np.float64), frame["orders"].to_numpy().astype(np.float64)
    valid = (n > 0) & (x <= n)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = wilson_interval(np.where(valid, x, 0), np.where(valid, n, 1))
    return frame.select(
        pl.lit(metric).alias("metric"),
        "period",
        "segment",
        "item",
        pl.when(pl.col("orders") > 0).then(pl.col("returns") / pl.col("orders")).alias("value"),
        pl.col("orders").alias("n"),
        pl.when(pl.Series(valid)).then(pl.Series("ci_low", low)).alias("ci_low"),
        pl.when(pl.Series(valid)).then(pl.Series("ci_high", high)).alias("ci_high"),
        (pl.col("orders") < min_n).alias("small_sample"),
        pl.when(pl.col("orders") == 0)
        .then(pl.lit("no orders recorded"))
        .when(pl.col("returns") > pl.col("orders"))
        .then(pl.lit("returns exceed orders: no interval"))
        .alias("reference"),
    )


def return_rate(orders: Frame, returns: Frame, *, min_n: int = 30) -> pl.DataFrame:
    """Return-rate metric rows: returns / orders with a Wilson interval, n = orders.

    `orders`: period, segment, product, orders. `returns`: period, segment, product, return_reason,
    returns. `period` is the report's label of each row (monthly rows of a quarter share one label and
    are summed). Rows: return_rate per (period, unit and "All") over all products (item null) and per
    product (item = product); return_rate_by_reason per (period, unit and "All") and reason over all
    products (item = reason). Returns without orders give a null rate ("no orders recorded"), so a
    missing orders file shows instead of vanishing.
    """
    o = with_company(orders.lazy().select("period", "segment", "product", pl.col("orders").cast(pl.Int64)))
    r = with_company(
        returns.lazy().select("period", "segment", "product", "return_reason", pl.col("returns").cast(pl.Int64))
    )
    unit, by_product = ["period", "segment"], ["period", "segment", "product"]
    o_all, o_prod, r_all, r_prod, r_reason = pl.collect_all(
        [
            o.group_by(unit).agg(pl.col("orders").sum()),
            o.group_by(by_product).agg(pl.col("orders").sum()),
            r.group_by(unit).agg(pl.col("returns").sum()),
            r.group_by(by_product).agg(pl.col("returns").sum()),
            r.group_by(*unit, "return_reason").agg(pl.col("returns").sum()),
        ]
    )
    overall = o_all.join(r_all, on=unit, how="full", coalesce=True).with_columns(item=pl.lit(None, pl.String))
    product = o_prod.join(r_prod, on=by_product, how="full", coalesce=True).rename({"product": "item"})
    reason = r_reason.join(o_all, on=unit, how="left").rename({"return_reason": "item"})
    return metric_rows(
        [
            _rate_rows("return_rate", pl.concat([overall, product], how="diagonal_relaxed"), min_n),
            _rate_rows("return_rate_by_reason", reason, min_n),
        ]
    )


# --- 2. Suppliers -------------------------------------------------------------------------------

SUPPLIER_MEASURES = {"on_time_pct": "supplier_on_time", "defect_rate_pct": "supplier_defect_rate"}


def supplier_metrics(scorecards: Frame) -> pl.DataFrame:
    """Supplier metric rows per supplier (item) and period, segment "All"; values as fractions (0-1).

    `scorecards`: supplier_id, period (the report's label), period_start (date), period_months,
    on_time_pct, defect_rate_pct (0-100, blank allowed). `supplier_on_time` / `supplier_defect_rate`:
    the unweighted mean of the months in the period - each scorecard row weighted by the months it
    covers, so a quarter's figure counts three times a month's; not by deliveries, which scorecards do
    not give. n = months with a figure. `..._latest`: the latest scorecard with a figure in the period
    by period_start (sorted explicitly: the input order does not matter), n = its months,
    reference = its start date. Blank figures are left out, not read as 0.
    """
    long = (
        scorecards.lazy()
        .unpivot(
            on=list(SUPPLIER_MEASURES),
            index=["supplier_id", "period", "period_start", "period_months"],
            variable_name="measure",
            value_name="pct",
        )
        .filter(pl.col("pct").is_not_null())
        .with_columns(metric=pl.col("measure").replace_strict(SUPPLIER_MEASURES), share=pl.col("pct") / 100)
        .group_by("metric", "period", "supplier_id")
        .agg(
            value=(pl.col("share") * pl.col("period_months")).sum() / pl.col("period_months").sum(),
            n=pl.col("period_months").sum(),
            latest=pl.col("share").sort_by("period_start").last(),
            latest_n=pl.col("period_months").sort_by("period_start").last(),
            latest_start=pl.col("period_start").max(),
        )
        .collect()
    )
    common = [
        pl.lit(COMPANY).alias("segment"),
        pl.col("supplier_id").alias("item"),
        pl.lit(False).alias("small_sample"),
    ]
    return metric_rows(
        [
            long.select(
                "metric",
                "period",
                *common,
                "value",
                "n",
                pl.format("mean of {} month(s), supplier-reported", pl.col("n")).alias("reference"),
            ),
            long.select(
                (pl.col("metric") + "_latest").alias("metric"),
                "period",
                *common,
                pl.col("latest").alias("value"),
                pl.col("latest_n").alias("n"),
                pl.format("as of {}", pl.col("latest_start").cast(pl.String)).alias("reference"),
            ),
        ]
    )


# --- 3. Top quality problems --------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemWeights:
    """Weights of the top-problem score (domain notes: frequent, affecting the bottom line, actionable).

    Defaults: frequency 0.5, cost 0.3, actionable 0.2 - how often customers raise it counts most; a
    non-actionable theme ("I was unhappy") can still top the list only if it is clearly the most frequent
    or costly. Without cost data the cost term is 0 for every theme and does not change the order.
    """

    frequency: float = 0.5
    cost: float = 0.3
    actionable: float = 0.2


# Order of the sources in the evidence text; coded sources (interviews, focus groups) sit between.
_FIRST, _CODED, _SUPPLIERS, _RETURNS = 0, 1, 2, 3

PROBLEM_EXTRA: dict[str, pl.DataType] = {"rank": pl.Int64(), "cumulative_share": pl.Float64()}


def _root_codes(themes: pl.DataFrame) -> pl.DataFrame:
    """code -> its top-level ancestor (parents may nest more than one level)."""
    parents = themes.select("code", pl.col("parent").fill_null(pl.col("code")))
    mapping = parents.rename({"parent": "root"})
    for _ in range(themes.height):  # at most one step per level of the frame
        step = mapping.join(parents, left_on="root", right_on="code", how="left").with_columns(
            pl.col("parent").fill_null(pl.col("root"))
        )
        if step["parent"].equals(step["root"]):
            break
        mapping = step.select("code", pl.col("parent").alias("root"))
    return mapping


def top_problems(
    themes: Frame,
    *,
    period: str,
    segment: str = COMPANY,
    complaints: Frame | None = None,
    coded: Frame | None = None,
    supplier_issues: Frame | None = None,
    returns: Frame | None = None,
    cost: Frame | None = None,
    weights: ProblemWeights = ProblemWeights(),
    roll_up: bool = False,
) -> pl.DataFrame:
    """`top_problem` rows for every theme of the coding frame, ranked (the report shows ranks 1-3).

    Inputs, already limited to the period and scope: `themes` (the coding frame: code, actionable -
    null read as true - and optionally parent); `complaints` (one row per case: category); `coded`
    (source - e.g. "interviews", "focus groups" - theme, count: coded excerpts); `supplier_issues`
    (category, count); `returns` (return_reason, returns); `cost` (theme, cost: the total cost the
    theme caused in the period, e.g. compensation and the cost of returns). Any source may be absent.

    total = the theme's counts summed over the sources (each source's count is kept in `reference`,
    e.g. "complaints 12, interviews 5, returns 30"); score = w_freq·total / max total + w_cost·cost /
    max cost + w_action·actionable (0/1); a theme nobody raised and that cost nothing scores 0.
    Rank: score descending, then total descending, then code - deterministic. cumulative_share: the
    running share of all counted problems in rank order (the Pareto line). `roll_up` counts each theme
    under its top-level parent and ranks those. Extra columns beyond the metrics columns: rank,
    cumulative_share. A theme outside the frame raises ValueError (staging quarantines such rows).
    Evidence without a theme (a complaint with a null category, a blank return reason, ...) belongs
    to no theme, so it is not ranked and not in the totals or cumulative_share, but it is not dropped
    silently either: every row's reference ends "; uncategorised, not ranked: complaints 3, returns 1"
    (the counts per source), so a large uncategorised pile shows beside the ranking.
    """
    frame = _collect(themes)
    frame = frame.with_columns(
        parent=pl.col("parent") if "parent" in frame.columns else pl.lit(None, pl.String),
        actionable=pl.col("actionable").fill_null(True) if "actionable" in frame.columns else pl.lit(True),
    )
    evidence = [pl.DataFrame(schema={"source": pl.String, "order": pl.Int64, "theme": pl.String, "count": pl.Int64})]
    if complaints is not None:
        evidence.append(
            _collect(complaints)
            .group_by(theme="category")
            .agg(count=pl.len())
            .with_columns(source=pl.lit("complaints"), order=pl.lit(_FIRST))
        )
    if coded is not None:
        evidence.append(_collect(coded).select("source", "theme", "count").with_columns(order=pl.lit(_CODED)))
    if supplier_issues is not None:
        evidence.append(
            _collect(supplier_issues)
            .select(pl.col("category").alias("theme"), "count")
            .with_columns(source=pl.lit("suppliers"), order=pl.lit(_SUPPLIERS))
        )
    if returns is not None:
        evidence.append(
            _collect(returns)
            .select(pl.col("return_reason").alias("theme"), pl.col("returns").alias("count"))
            .with_columns(source=pl.lit("returns"), order=pl.lit(_RETURNS))
        )
    long = pl.concat(evidence, how="diagonal_relaxed")
    costs = (
        _collect(cost).select("theme", pl.col("cost").cast(pl.Float64))
        if cost is not None
        else pl.DataFrame(schema={"theme": pl.String, "cost": pl.Float64})
    )
    known = frame["code"].implode()
    unknown = sorted(
        set(long.filter(~pl.col("theme").is_in(known))["theme"])
        | set(costs.filter(~pl.col("theme").is_in(known))["theme"])
    )
    if unknown:
        raise ValueError(f"theme(s) not in the coding frame: {', '.join(unknown)}")
    uncategorised = (
        long.filter(pl.col("theme").is_null())
        .group_by("source", "order")
        .agg(pl.col("count").sum())
        .filter(pl.col("count") > 0)
        .sort("order", "source")
        .select(pl.format("{} {}", "source", "count"))
        .to_series()
        .str.join(", ")
        .item()
    )
    long = long.filter(pl.col("theme").is_not_null())
    if roll_up:
        roots = _root_codes(frame)
        long = long.join(roots, left_on="theme", right_on="code").with_columns(theme=pl.col("root")).drop("root")
        costs = costs.join(roots, left_on="theme", right_on="code").select(pl.col("root").alias("theme"), "cost")
        frame = frame.filter(pl.col("parent").is_null())
    by_source = (
        long.group_by("theme", "source", "order")
        .agg(pl.col("count").sum())
        .filter(pl.col("count") > 0)
        .group_by("theme")
        .agg(
            total=pl.col("count").sum(),
            reference=pl.format("{} {}", "source", "count").sort_by("order", "source").str.join(", "),
        )
    )
    scored = (
        frame.select("code", "actionable")
        .join(by_source, left_on="code", right_on="theme", how="left")
        .join(costs.group_by("theme").agg(pl.col("cost").sum()), left_on="code", right_on="theme", how="left")
        .with_columns(pl.col("total").fill_null(0), pl.col("cost").fill_null(0.0))
        .with_columns(
            freq=pl.when(pl.col("total").max() > 0).then(pl.col("total") / pl.col("total").max()).otherwise(0.0),
            cost_norm=pl.when(pl.col("cost").max() > 0).then(pl.col("cost") / pl.col("cost").max()).otherwise(0.0),
        )
        .with_columns(
            value=pl.when((pl.col("total") > 0) | (pl.col("cost") > 0))
            .then(
                weights.frequency * pl.col("freq")
                + weights.cost * pl.col("cost_norm")
                + weights.actionable * pl.col("actionable").cast(pl.Float64)
            )
            .otherwise(0.0)
        )
        .sort(["value", "total", "code"], descending=[True, True, False])
        .with_columns(
            rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            cumulative_share=pl.when(pl.col("total").sum() > 0).then(pl.col("total").cum_sum() / pl.col("total").sum()),
        )
    )
    rows = scored.select(
        pl.lit("top_problem").alias("metric"),
        pl.lit(period).alias("period"),
        pl.lit(segment).alias("segment"),
        pl.col("code").alias("item"),
        "value",
        pl.col("total").alias("n"),
        pl.lit(False).alias("small_sample"),
        (
            pl.col("reference").fill_null("no evidence")
            + pl.when(pl.col("actionable")).then(pl.lit("")).otherwise(pl.lit("; not actionable"))
            + pl.lit(f"; uncategorised, not ranked: {uncategorised}" if uncategorised else "")
        ).alias("reference"),
        "rank",
        "cumulative_share",
    )
    return metric_rows([rows], PROBLEM_EXTRA).sort("rank")


# --- 4. Goals -------------------------------------------------------------------------------------

GOAL_EXTRA: dict[str, pl.DataType] = {"comparator": pl.String(), "target": pl.Float64()}
GOAL_STATUSES = ("met", "at risk", "missed", "no data")


def goal_status(values: Frame, goals: Frame) -> pl.DataFrame:
    """`goal_status` rows: each goal against every (period, segment) value of its metric.

    `values`: metric rows (metric, period, segment, item, value, n, ci_low, ci_high, small_sample).
    `goals`: metric, comparator (">=": higher is better, "<=": lower is better), target, optionally
    at_risk_margin (null: 0) and item (a goal on one item - a supplier, a product; without the column
    a goal covers every item of its metric).

    The rule (for ">="; "<=" mirrors it):
    - met: the value reaches the target (value >= target). Goals are set on the reported figure;
      demanding the whole interval above the target would fail every small unit for its size.
    - at risk: the value misses the target, but by no more than the margin (value >= target - margin),
      or the interval still reaches the target (ci_high >= target: the shortfall may be sampling noise).
    - missed: the value misses by more than the margin and the interval lies wholly below the target
      (or there is no interval: a null or NaN bound counts as none, never as reaching the target).
    - no data: no value (null or NaN), or no row of the goal's metric (item) at all - the goal is
      joined from the goals table, so it is never silently dropped; such a row has period and
      segment null.
    Row: item = the goal's metric (with "/item" for an item's goal), value / n / interval / small_sample
    of the value, reference = the status; extra columns comparator and target.
    """
    g = _collect(goals)
    if bad := sorted(set(g["comparator"]) - {">=", "<="}):
        raise ValueError(f"goal comparator must be '>=' or '<=', not {', '.join(map(str, bad))}")
    g = g.with_columns(
        margin=pl.col("at_risk_margin").fill_null(0.0) if "at_risk_margin" in g.columns else pl.lit(0.0),
        target=pl.col("target").cast(pl.Float64),
    )
    on = ["metric", "item"] if "item" in g.columns else ["metric"]
    v = _collect(values)
    joined = (
        # From the goals table: a goal whose metric has no rows still gets one ("no data").
        g.select(*on, "comparator", "target", "margin")
        .join(v, on=on, how="left", nulls_equal=True)
        .with_columns(
            # NaN bounds (or a NaN value) are no bounds: polars orders NaN above every number, so a
            # NaN ci_high would "reach" any target.
            pl.col("value", "ci_low", "ci_high").cast(pl.Float64).fill_nan(None),
            sign=pl.when(pl.col("comparator") == ">=").then(1.0).otherwise(-1.0),
        )
        .with_columns(
            best=pl.when(pl.col("comparator") == ">=").then(pl.col("ci_high")).otherwise(pl.col("ci_low")),
        )
        .with_columns(
            lead=pl.col("sign") * (pl.col("value") - pl.col("target")),
            reaches=(pl.col("sign") * (pl.col("best") - pl.col("target")) >= 0).fill_null(False),
        )
    )
    status = (
        pl.when(pl.col("value").is_null())
        .then(pl.lit("no data"))
        .when(pl.col("lead") >= 0)
        .then(pl.lit("met"))
        .when((pl.col("lead") >= -pl.col("margin")) | pl.col("reaches"))
        .then(pl.lit("at risk"))
        .otherwise(pl.lit("missed"))
    )
    rows = joined.select(
        pl.lit("goal_status").alias("metric"),
        "period",
        "segment",
        pl.when(pl.col("item").is_null())
        .then(pl.col("metric"))
        .otherwise(pl.col("metric") + "/" + pl.col("item"))
        .alias("item"),
        "value",
        "n",
        "ci_low",
        "ci_high",
        "small_sample",
        status.alias("reference"),
        "comparator",
        "target",
    )
    return metric_rows([rows], GOAL_EXTRA)


# --- 5. Self-assessment ---------------------------------------------------------------------------


def self_assessment_totals(rows: Frame) -> pl.DataFrame:
    """Each assessment with its total (7-35): the seven 1-5 statements summed; null unless all seven
    are answered (a total over fewer statements is not on the 7-35 scale)."""
    complete = pl.all_horizontal(pl.col(area).is_not_null() for area in SELF_ASSESSMENT_AREAS)
    return _collect(rows).with_columns(
        segment=pl.col("segment").fill_null(COMPANY),
        total=pl.when(complete).then(pl.sum_horizontal(*SELF_ASSESSMENT_AREAS)),
    )


def self_assessment(rows: Frame, *, min_n: int = 5) -> pl.DataFrame:
    """`self_assessment` rows per (period, segment): the mean total (item "total", 7-35) and the mean of
    each of the seven areas (item = area, 1-5), with a Student t interval; n = assessments.

    `rows`: the self_assessments table (assessor_id, assessed_on, segment, the seven areas of
    SELF_ASSESSMENT_AREAS) with the report's `period` label. A blank unit is the company ("All"); a
    unit's assessment is about that unit and is not pooled into the company's. min_n: fewer
    assessments are marked small (a handful of managers is the usual case: 5, not the survey's 30).
    A blank statement leaves that assessment out of the statement's mean and out of the total (whose
    n counts complete assessments only); the total's reference says how many were left out.
    """
    long = (
        self_assessment_totals(rows)
        .unpivot(on=[*SELF_ASSESSMENT_AREAS, "total"], index=["period", "segment"], variable_name="item")
        .group_by("period", "segment", "item")
        .agg(
            value=pl.col("value").cast(pl.Float64).mean(),
            sd=pl.col("value").std(),
            n=pl.col("value").count(),
            blank=pl.col("value").null_count(),
        )
    )
    low, high = mean_interval(long["value"].to_numpy(), long["sd"].to_numpy(), long["n"].to_numpy())
    total_reference = pl.lit("total of 7 statements, 7-35")
    result = long.select(
        pl.lit("self_assessment").alias("metric"),
        "period",
        "segment",
        "item",
        "value",
        "n",
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
        (pl.col("n") < min_n).alias("small_sample"),
        pl.when((pl.col("item") == "total") & (pl.col("blank") > 0))
        .then(pl.format("{}; {} incomplete assessment(s) left out (a statement blank)", total_reference, "blank"))
        .when(pl.col("item") == "total")
        .then(total_reference)
        .otherwise(pl.lit("statement, 1 (never) to 5 (all the time)"))
        .alias("reference"),
    )
    return metric_rows([result])

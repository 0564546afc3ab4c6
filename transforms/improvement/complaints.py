"""Complaint handling metrics of the continuous-improvement report (methodology.md, "Complaints").

Pure: the stored complaints (one row per case, typed by transforms/staging/complaints.py)
with a `period` label chosen by the caller (a month, quarter or year) in, metric rows out -
one per metric, period and scope (each unit and "All"), in the metrics file's columns. No
personal field is read. Every share has its n and a Wilson interval; times to resolution
are Kaplan-Meier quantiles, so open cases count as censored at the report's time instead of
being dropped (dropping them would make resolution look faster than it is).

- complaints: cases received.
- fcr: first-contact resolution = cases resolved with one contact / cases.
- repeat_contact_rate: cases followed by another case of the same customer within the window.
- time_to_resolution_median / _p90 (days): Kaplan-Meier quantiles, open cases censored.
- promise_kept: resolved by the promised time / cases with a promise that is due.
- followup_satisfied: satisfied at the follow-up / cases followed up with an answer.
- compensation_total: compensation given, per currency (item).
- iceberg_silent_estimate: complaints x a configured ratio: a labelled heuristic (TARP 1979/1986),
  not a measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from transforms.improvement.rows import metric_rows, with_company
from transforms.stats import Z95, wilson_interval

DAY_US = 86_400_000_000


@dataclass(frozen=True)
class ComplaintParameters:
    as_of: datetime  # open cases are censored here (UTC)
    repeat_window_days: int = 7
    iceberg_ratio: float = 26.0  # silent dissatisfied customers per complaint (a heuristic, configurable)
    min_n: int = 30  # below this a share is marked small_sample


def _share(metric: str, grouped: pl.DataFrame, min_n: int) -> pl.DataFrame:
    """Rows of a share: `hits` of `n` per (period, segment), with its Wilson interval."""
    low, high = wilson_interval(grouped["hits"].to_numpy(), grouped["n"].to_numpy())
    return grouped.select(
        pl.lit(metric).alias("metric"),
        "period",
        "segment",
        pl.lit(None, dtype=pl.String).alias("item"),
        (pl.col("hits") / pl.col("n")).alias("value"),
        pl.col("n").cast(pl.Int64),
        pl.Series("ci_low", low),
        pl.Series("ci_high", high),
        (pl.col("n") < min_n).alias("small_sample"),
    )


def kaplan_meier_quantiles(durations: pl.LazyFrame, quantiles: dict[str, float], z: float = Z95) -> pl.DataFrame:
    """Kaplan-Meier time-to-event quantiles and their 95 % intervals per (period, segment).

    `durations`: period, segment, `days` (f64) and `event` (bool: resolved; false: censored).
    At each event time t_i with d_i events and n_i cases still at risk (duration >= t_i):
    S(t_i) = prod (1 - d_j / n_j) over t_j <= t_i, Greenwood se = S·sqrt(sum d_j / (n_j (n_j - d_j))).
    The q-quantile is the first event time at which S < 1 - q (SAS's strict rule, as statsmodels);
    its interval (Brookmeyer-Crowley, complementary log-log scale, as SAS and statsmodels) spans the
    event times where |g(S) - g(1 - q)| / (g'(S)·se) <= z, g(x) = log(-log x), up to the next event
    time. A quantile, or an interval end, that S never reaches is null ("not reached").
    For each quantile name the frame has `<name>`, `<name>_low` and `<name>_high`.
    """
    group = ("period", "segment")
    steps = (
        durations.group_by(*group, "days")
        .agg(d=pl.col("event").sum(), c=pl.len())
        .sort(*group, "days")
        .with_columns(at_risk=pl.col("c").cum_sum(reverse=True).over(group))
        .filter(pl.col("d") > 0)
        .with_columns(
            # As statsmodels computes it (a sum of logs), so a quantile on an exact 0.5 agrees with it.
            survival=(1 - pl.col("d") / pl.col("at_risk")).log().cum_sum().exp().over(group),
            greenwood=pl.when(pl.col("at_risk") > pl.col("d"))
            .then(pl.col("d") / (pl.col("at_risk") * (pl.col("at_risk") - pl.col("d"))))
            .otherwise(float("nan"))
            .cum_sum()
            .over(group),
            next_days=pl.col("days").shift(-1).over(group),
        )
        .with_columns(se=pl.col("survival") * pl.col("greenwood").sqrt())
    )
    cloglog = pl.col("survival").log().neg().log()
    slope = -1 / (pl.col("survival") * pl.col("survival").log())
    aggregations = []
    for name, q in quantiles.items():
        target = math.log(-math.log(1 - q))
        inside = ((cloglog - target) / (slope * pl.col("se"))).abs() <= z
        aggregations += [
            pl.col("days").filter(pl.col("survival") < 1 - q).min().alias(name),
            pl.col("days").filter(inside).first().alias(f"{name}_low"),
            pl.col("next_days").filter(inside).last().alias(f"{name}_high"),
        ]
    return steps.group_by(group).agg(aggregations).collect()


def complaint_metrics(complaints: pl.LazyFrame, params: ComplaintParameters) -> pl.DataFrame:
    """Metric rows (transforms/improvement/rows.py columns) for every period and scope.

    `complaints`: complaint_id, customer_id, received_at, resolved_at, promised_at, follow_up_at,
    satisfied_at_follow_up, contacts, compensation_amount, compensation_currency, segment, and the
    report's `period` label of each case.
    """
    as_of = pl.lit(params.as_of).dt.convert_time_zone("UTC")
    cases = complaints.filter(pl.col("received_at") <= as_of)
    # A repeat: the same customer's next case within the window (cases without a customer id cannot repeat).
    following = pl.col("received_at").shift(-1).over("customer_id", order_by="received_at")
    window = pl.duration(days=params.repeat_window_days)
    cases = cases.with_columns(
        repeated=pl.col("customer_id").is_not_null() & ((following - pl.col("received_at")) <= window).fill_null(False),
        # A case whose window has not closed yet cannot be told "no repeat": it is left out of the rate.
        window_closed=pl.col("received_at") + window <= as_of,
        resolved=pl.col("resolved_at").is_not_null() & (pl.col("resolved_at") <= as_of),
    )
    scoped = with_company(cases)
    keys = ("period", "segment")
    counts, fcr, repeats, promises, followups, compensation, durations = pl.collect_all(
        [
            scoped.group_by(keys).agg(n=pl.len(), open=(~pl.col("resolved")).sum()),
            scoped.group_by(keys).agg(hits=(pl.col("resolved") & (pl.col("contacts") == 1)).sum(), n=pl.len()),
            scoped.filter("window_closed").group_by(keys).agg(hits=pl.col("repeated").sum(), n=pl.len()),
            # Due promises only: one still running (open, promised for later) is not yet kept or broken.
            scoped.filter(pl.col("promised_at").is_not_null() & (pl.col("resolved") | (pl.col("promised_at") < as_of)))
            .group_by(keys)
            .agg(hits=(pl.col("resolved") & (pl.col("resolved_at") <= pl.col("promised_at"))).sum(), n=pl.len()),
            scoped.filter(pl.col("satisfied_at_follow_up").is_not_null())
            .group_by(keys)
            .agg(hits=pl.col("satisfied_at_follow_up").sum(), n=pl.len()),
            scoped.filter(pl.col("compensation_amount").is_not_null())
            .group_by(*keys, "compensation_currency")
            .agg(value=pl.col("compensation_amount").sum(), n=pl.len()),
            scoped.select(
                *keys,
                days=(pl.when(pl.col("resolved")).then(pl.col("resolved_at")).otherwise(as_of) - pl.col("received_at"))
                .dt.total_microseconds()
                .truediv(DAY_US),
                event="resolved",
            ),
        ]
    )
    names = {"time_to_resolution_median": 0.5, "time_to_resolution_p90": 0.9}
    quantiles = counts.join(kaplan_meier_quantiles(durations.lazy(), names), on=list(keys), how="left")
    censored = pl.format("Kaplan-Meier; {} of {} cases open, censored at the report time", "open", "n")
    exact = pl.lit(False)  # a count of the log, not a sample: no interval
    window_note = f"window {params.repeat_window_days} days; cases whose window is still open are left out"
    rows = [
        counts.select(
            pl.lit("complaints").alias("metric"), *keys, pl.col("n").cast(pl.Float64).alias("value"), "n", exact
        ),
        _share("fcr", fcr, params.min_n),
        _share("repeat_contact_rate", repeats, params.min_n).with_columns(reference=pl.lit(window_note)),
        _share("promise_kept", promises, params.min_n),
        _share("followup_satisfied", followups, params.min_n),
        compensation.select(
            pl.lit("compensation_total").alias("metric"),
            *keys,
            pl.col("compensation_currency").alias("item"),
            "value",
            "n",
            exact.alias("small_sample"),
        ),
        *[
            quantiles.select(
                pl.lit(name).alias("metric"),
                *keys,
                pl.col(name).alias("value"),
                "n",
                pl.col(f"{name}_low").alias("ci_low"),
                pl.col(f"{name}_high").alias("ci_high"),
                (pl.col("n") < params.min_n).alias("small_sample"),
                pl.when(pl.col(name).is_null())
                .then(pl.concat_str(censored, pl.lit("; not reached: too many cases still open")))
                .when(pl.col(f"{name}_high").is_null())
                .then(pl.concat_str(censored, pl.lit("; upper end of the interval not reached")))
                .otherwise(censored)
                .alias("reference"),
            )
            for name in names
        ],
        counts.select(
            pl.lit("iceberg_silent_estimate").alias("metric"),
            *keys,
            (pl.col("n") * params.iceberg_ratio).alias("value"),
            "n",
            exact.alias("small_sample"),
            pl.lit(f"heuristic: {params.iceberg_ratio:g} silent per complaint (TARP 1979/1986)").alias("reference"),
        ),
    ]
    return metric_rows(rows)

"""Annual scorecard metrics: one row per metric x period x segment x mode x item x comparator.

One pass over the long answers aggregates sums at the finest grain (period, segment,
mode, question); every roll-up (all segments, oral/written, all modes) and every
interval is then computed on that small table. Formulas: docs/metrics.md, stats.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from transforms import stats
from transforms.scopes import COMPANY

ORAL, WRITTEN = "oral", "written"
MODE_FAMILY = {"phone": ORAL, "in_person": ORAL, "online": WRITTEN, "paper": WRITTEN}

METRICS_SCHEMA: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "period": pl.String(),
    "segment": pl.String(),
    "mode": pl.String(),
    "item": pl.String(),
    "value": pl.Float64(),
    "n": pl.Int64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "comparator": pl.String(),
    "reference": pl.Float64(),
    "p_value": pl.Float64(),
    "target": pl.Float64(),
    "below_target": pl.Boolean(),
    "small_sample": pl.Boolean(),
}
GROUP = ("period", "segment", "mode", "question_id")


@dataclass(frozen=True)
class ScorecardParameters:
    overall_item: str
    nps_item: str | None
    attribute_items: Sequence[str]
    min_n: int
    target_csat: float
    target_nps: float | None
    benchmarks: Sequence[tuple[str, str, float, str | None]]  # (name, metric, value, period or None)
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)  # group -> its units (roll-ups)


def _previous(period: pl.Expr) -> pl.Expr:
    fiscal = period.str.starts_with("FY")
    year = period.str.strip_prefix("FY").cast(pl.Int32, strict=False) - 1
    return pl.when(fiscal).then(pl.format("FY{}", year)).otherwise(year.cast(pl.String))


def fine_aggregates(answers: pl.LazyFrame) -> pl.LazyFrame:
    """Sums per period, segment, mode and question over the answered items, from long answers.

    The pipeline computes the same sums from the stored wide responses (`answer_sums`, no
    reshape of millions of rows); this long form is the readable definition they are tested against.
    """
    return (
        answers.filter(pl.col("value").is_not_null())
        .group_by(GROUP)
        .agg(
            n=pl.len(),
            top=pl.col("top_box").sum(),
            det=pl.col("detractor").fill_null(False).sum(),
            sx=pl.col("value").sum(),
            sxx=(pl.col("value") ** 2).sum(),
        )
    )


def _rolled_up(fine: pl.DataFrame, groups: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    """Add 'All', unit-group and oral / written / all mode roll-ups by re-summing the fine sums."""
    sums = ["n", "top", "det", "sx", "sxx"]
    modes = pl.concat(
        [
            fine,
            fine.with_columns(mode=pl.col("mode").replace_strict(MODE_FAMILY, default=None)),
            fine.with_columns(mode=pl.lit("all")),
        ]
    ).filter(pl.col("mode").is_not_null())
    # Each unit counts towards itself, the company total and every group that contains it.
    units = fine["segment"].unique()
    membership = pl.concat(
        [
            pl.DataFrame({"segment": units, "rollup": units}),
            pl.DataFrame({"segment": units, "rollup": pl.repeat(COMPANY, len(units), eager=True)}),
            pl.DataFrame(
                [(unit, group) for group, members in groups.items() for unit in members],
                schema={"segment": pl.String, "rollup": pl.String},
                orient="row",
            ),
        ]
    )
    stacked = modes.join(membership, on="segment").with_columns(segment="rollup").drop("rollup")
    return stacked.group_by(GROUP).agg(pl.col(s).sum() for s in sums).sort(GROUP)


def _base_metrics(rolled: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    n = rolled["n"].to_numpy().astype(np.float64)
    top, det = rolled["top"].to_numpy().astype(np.float64), rolled["det"].to_numpy().astype(np.float64)
    mean = rolled["sx"].to_numpy() / n
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.maximum(rolled["sxx"].to_numpy() - n * mean**2, 0) / (n - 1))
    p_low, p_high = stats.wilson_interval(top, n)
    m_low, m_high = stats.mean_interval(mean, sd, n)
    nps_low, nps_high = stats.nps_interval(top, det, n)
    base = rolled.select("period", "segment", "mode", pl.col("question_id").alias("item"), "n")
    item = pl.col("item")
    frames = [
        base.with_columns(metric=pl.lit("csat_top2box"), value=top / n, ci_low=p_low, ci_high=p_high).filter(
            item == params.overall_item
        ),
        base.with_columns(metric=pl.lit("mean_score"), value=mean, ci_low=m_low, ci_high=m_high).filter(
            item == params.overall_item
        ),
        base.with_columns(metric=pl.lit("attribute_top2box"), value=top / n, ci_low=p_low, ci_high=p_high).filter(
            item.is_in(list(params.attribute_items)) & (pl.col("mode") == "all")
        ),
    ]
    if params.nps_item is not None:
        frames.append(
            base.with_columns(
                metric=pl.lit("nps"), value=100 * (top - det) / n, ci_low=nps_low, ci_high=nps_high
            ).filter(item == params.nps_item)
        )
    return pl.concat(frames, how="diagonal_relaxed").with_columns(
        item=pl.when(pl.col("metric") == "attribute_top2box").then(item)
    )


def _differences(pairs: pl.DataFrame, params: ScorecardParameters, suffix: str) -> pl.DataFrame:
    """csat / mean / nps differences (value - reference) with intervals and p-values.

    `pairs` has period, segment, mode, item, comparator, and the sums n/top/det/sx/sxx of
    the compared group plus the same with a `_ref` suffix for the reference group.
    """
    if pairs.is_empty():
        return pl.DataFrame(schema=METRICS_SCHEMA)

    def col(name: str) -> np.ndarray:
        return pairs[name].to_numpy().astype(np.float64)

    n1, top1, det1, sx1, sxx1 = (col(c) for c in ("n_ref", "top_ref", "det_ref", "sx_ref", "sxx_ref"))
    n2, top2, det2, sx2, sxx2 = (col(c) for c in ("n", "top", "det", "sx", "sxx"))
    with np.errstate(invalid="ignore", divide="ignore"):
        m1, m2 = sx1 / n1, sx2 / n2
        s1 = np.sqrt(np.maximum(sxx1 - n1 * m1**2, 0) / (n1 - 1))
        s2 = np.sqrt(np.maximum(sxx2 - n2 * m2**2, 0) / (n2 - 1))
        nps1, nps2 = 100 * (top1 - det1) / n1, 100 * (top2 - det2) / n2
    c_low, c_high = stats.newcombe_difference_interval(top2, n2, top1, n1)
    c_p = stats.two_proportion_test(top2, n2, top1, n1)
    m_low, m_high, m_p = stats.welch_difference(m1, s1, n1, m2, s2, n2)
    nps_low, nps_high, nps_p = stats.nps_difference(
        nps1, stats.nps_standard_error(top1, det1, n1), nps2, stats.nps_standard_error(top2, det2, n2)
    )
    keys = pairs.select(
        "period",
        "segment",
        "mode",
        "item",
        "comparator",
        n=(pl.col("n") + pl.col("n_ref")).cast(pl.Int64),
        smaller_group_n=pl.min_horizontal("n", "n_ref"),
    )
    variants = [
        ("csat_top2box", params.overall_item, top2 / n2 - top1 / n1, top1 / n1, c_low, c_high, c_p),
        ("mean_score", params.overall_item, m2 - m1, m1, m_low, m_high, m_p),
    ]
    if params.nps_item is not None:
        variants.append(("nps", params.nps_item, nps2 - nps1, nps1, nps_low, nps_high, nps_p))
    frames = [
        keys.with_columns(
            metric=pl.lit(f"{metric}_{suffix}"),
            value=value,
            reference=reference,
            ci_low=low,
            ci_high=high,
            p_value=p,
        ).filter(pl.col("item") == item)
        for metric, item, value, reference, low, high, p in variants
    ]
    return pl.concat(frames).with_columns(item=pl.lit(None, pl.String))


def _year_over_year(rolled: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    current = rolled.with_columns(previous=_previous(pl.col("period")))
    pairs = current.join(
        rolled.rename({"period": "previous"}), on=["previous", "segment", "mode", "question_id"], suffix="_ref"
    ).select(pl.exclude("question_id"), item="question_id", comparator="previous")
    return _differences(pairs, params, "change")


def _oral_vs_written(rolled: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    pairs = (
        rolled.filter(pl.col("mode") == ORAL)
        .join(rolled.filter(pl.col("mode") == WRITTEN), on=["period", "segment", "question_id"], suffix="_ref")
        .select(
            pl.exclude("question_id", "mode", "mode_ref"),
            item="question_id",
            mode=pl.lit("oral-written"),
            comparator=pl.lit(WRITTEN),
        )
    )
    return _differences(pairs, params, "mode_gap")


def _benchmark_gaps(base: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    rows = []
    for name, metric, value, period in params.benchmarks:
        ours = base.filter((pl.col("metric") == metric) & (pl.col("segment") == COMPANY) & (pl.col("mode") == "all"))
        if period is not None:
            ours = ours.filter(pl.col("period") == period)
        rows.append(
            ours.with_columns(
                metric=pl.lit(f"{metric}_vs_benchmark"),
                value=pl.col("value") - value,
                ci_low=pl.col("ci_low") - value,
                ci_high=pl.col("ci_high") - value,
                comparator=pl.lit(name),
                reference=pl.lit(value, pl.Float64),
            )
        )
    return pl.concat(rows, how="diagonal_relaxed") if rows else pl.DataFrame(schema=METRICS_SCHEMA)


def _oral_share(rolled: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    overall = rolled.filter(pl.col("question_id") == params.overall_item)
    oral = overall.filter(pl.col("mode") == ORAL).select("period", "segment", oral="n")
    total = overall.filter(pl.col("mode") == "all").select("period", "segment", "n")
    shares = total.join(oral, on=["period", "segment"], how="left").with_columns(pl.col("oral").fill_null(0))
    low, high = stats.wilson_interval(shares["oral"].to_numpy(), shares["n"].to_numpy())
    return shares.select(
        "period",
        "segment",
        "n",
        metric=pl.lit("mode_share_oral"),
        mode=pl.lit("all"),
        value=pl.col("oral") / pl.col("n"),
        ci_low=low,
        ci_high=high,
    )


def _responses(responses: pl.LazyFrame) -> pl.LazyFrame:
    return responses.group_by("period", "segment", "mode").agg(n=pl.len())


def answer_sums(responses: pl.LazyFrame, codebook: pl.DataFrame) -> pl.LazyFrame:
    """`fine_aggregates` computed from the wide responses (one column per question): one pass, no reshape.

    value = raw answer, reverse-coded as (min + max) - raw for negatively worded items; top =
    value >= the item's threshold; det = NPS value <= 6. A question the codebook gained after
    a response was stored reads as unanswered for it.
    """
    stored = responses.collect_schema().names()
    aggregations, questions = [], []
    for q in codebook.iter_rows(named=True):
        qid = q["question_id"]
        raw = pl.col(qid).cast(pl.Float64) if qid in stored else pl.lit(None, dtype=pl.Float64)
        value = (q["scale_min"] + q["scale_max"] - raw) if q["reverse"] else raw
        detractor = (value <= 6) if q["kind"] == "nps" else pl.lit(False)
        aggregations += [
            value.count().alias(f"{qid}\x1fn"),
            (value >= q["top_box_from"]).sum().alias(f"{qid}\x1ftop"),
            (detractor & value.is_not_null()).sum().alias(f"{qid}\x1fdet"),
            value.sum().alias(f"{qid}\x1fsx"),
            (value**2).sum().alias(f"{qid}\x1fsxx"),
        ]
        questions.append(qid)
    by_group = responses.group_by(*GROUP[:3]).agg(aggregations)
    return pl.concat(
        [
            by_group.select(
                *GROUP[:3],
                question_id=pl.lit(qid),
                n=pl.col(f"{qid}\x1fn").cast(pl.UInt32),
                top=pl.col(f"{qid}\x1ftop").cast(pl.UInt32),
                det=pl.col(f"{qid}\x1fdet").cast(pl.UInt32),
                sx=pl.col(f"{qid}\x1fsx"),
                sxx=pl.col(f"{qid}\x1fsxx"),
            ).filter(pl.col("n") > 0)
            for qid in questions
        ]
    )


def scorecard_metrics(sums: pl.LazyFrame, responses: pl.LazyFrame, params: ScorecardParameters) -> pl.DataFrame:
    """Every scorecard metric for every period, segment and mode group present in the data.

    `sums`: `answer_sums` (or `fine_aggregates`) of the answers; `responses`: the responses.
    """
    fine, response_counts = pl.collect_all([sums, _responses(responses)])
    if fine.is_empty():
        return pl.DataFrame(schema=METRICS_SCHEMA)
    rolled = _rolled_up(fine, params.groups)
    base = _base_metrics(rolled, params)

    counts = _rolled_up(
        response_counts.with_columns(question_id=pl.lit("_responses"), top=0, det=0, sx=0.0, sxx=0.0).cast(
            {"n": pl.Int64, "top": pl.Int64, "det": pl.Int64}
        ),
        params.groups,
    ).select("period", "segment", "mode", "n", metric=pl.lit("responses"), value=pl.col("n").cast(pl.Float64))

    metrics = pl.concat(
        [
            base,
            counts,
            _year_over_year(rolled, params),
            _oral_vs_written(rolled, params),
            _benchmark_gaps(base, params),
            _oral_share(rolled, params),
        ],
        how="diagonal_relaxed",
    )
    flagged = _flags(metrics, params)
    return flagged.select(
        [pl.col(c).cast(t) if c in flagged.columns else pl.lit(None, t).alias(c) for c, t in METRICS_SCHEMA.items()]
    ).sort("metric", "period", "segment", "mode", "item", "comparator", nulls_last=True)


def _flags(metrics: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    target = (
        pl.when(pl.col("metric") == "csat_top2box")
        .then(pl.lit(params.target_csat))
        .when((pl.col("metric") == "nps") & pl.lit(params.target_nps is not None))
        .then(pl.lit(params.target_nps, pl.Float64))
    )
    return metrics.with_columns(target=target).with_columns(
        below_target=pl.when(pl.col("target").is_not_null()).then(pl.col("value") < pl.col("target")),
        # A difference is only as solid as its smaller group.
        small_sample=pl.coalesce(
            pl.col("smaller_group_n") if "smaller_group_n" in metrics.columns else None, pl.col("n")
        )
        < params.min_n,
        # NaN (undefined, e.g. a standard deviation of one answer) is reported as missing.
        ci_low=pl.col("ci_low").fill_nan(None),
        ci_high=pl.col("ci_high").fill_nan(None),
        p_value=pl.col("p_value").fill_nan(None) if "p_value" in metrics.columns else pl.lit(None, pl.Float64),
    )

"""Annual scorecard metrics: one row per metric x period x segment x mode x item x comparator.

One pass over the long answers aggregates sums at the finest grain (period, segment,
mode, question); every roll-up (all segments, oral/written, all modes) and every
interval is then computed on that small table. Formulas: docs/metrics.md, stats.py.

Weighted responses (a `weight` column, transforms/weighting.py) add weighted sums beside the
counts; each weighted figure then uses its Kish effective n (`n_eff`) in place of n in the same
formulas. Changes are adjusted for many comparisons (Benjamini-Hochberg `q_value` per metric,
period and mode, tests below min_n skipped), and cells too small to show - or whose showing would
reveal one that is - are marked `suppressed` (transforms/multiple_comparisons.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from transforms import stats
from transforms.multiple_comparisons import fdr_adjust, suppressed_groups
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
    "n_eff": pl.Float64(),  # Kish effective n of a weighted figure (for a difference: both groups); null unweighted
    "q_value": pl.Float64(),  # Benjamini-Hochberg adjusted p_value (per metric, period and mode); null when not tested
    "suppressed": pl.String(),  # why the report does not show the row ("below minimum", "complementary"), else null
}
GROUP = ("period", "segment", "mode", "question_id")
SUMS = ("n", "top", "det", "sx", "sxx")
WEIGHTED_SUMS = ("sw", "sw2", "topw", "detw", "sxw", "sxxw")  # Σw, Σw², and the weighted top / det / x / x²


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
    min_group_size: int = 1  # a cell of fewer responses is not shown (report.min_group_size); 1: every cell shown


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
    sums = [c for c in fine.columns if c not in GROUP]
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


def _effective(rolled: pl.DataFrame) -> pl.DataFrame:
    """Weighted sums as those of an unweighted sample of n_eff answers with the same shares, mean and
    variance, so that every formula below applies unchanged with n_eff in place of n (Kish; methodology
    "Weighting"): n -> n_eff = (Σw)²/Σw², top -> n_eff·Σw[top]/Σw, det likewise, sx -> n_eff·x̄_w,
    sxx -> n_eff·Σwx²/Σw (so s² = n_eff/(n_eff - 1)·Σw(x - x̄_w)²/Σw). The answer counts move to `answers`.
    Unweighted sums are returned as they are."""
    if "sw" not in rolled.columns:
        return rolled
    n_eff = pl.col("sw") ** 2 / pl.col("sw2")

    def scaled(column: str) -> pl.Expr:
        return pl.col(column) / pl.col("sw") * n_eff

    return rolled.with_columns(
        answers=pl.col("n"),
        n=n_eff,
        top=scaled("topw"),
        det=scaled("detw"),
        sx=scaled("sxw"),
        sxx=scaled("sxxw"),
    )


def _reported_n(frame: pl.DataFrame) -> list[pl.Expr]:
    """The n a row reports (answers) and, for weighted sums, the n_eff its formulas used."""
    if "answers" in frame.columns:
        return [pl.col("answers").alias("n"), pl.col("n").alias("n_eff")]
    return [pl.col("n")]


def _base_metrics(rolled: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    n = rolled["n"].to_numpy().astype(np.float64)
    top, det = rolled["top"].to_numpy().astype(np.float64), rolled["det"].to_numpy().astype(np.float64)
    mean = rolled["sx"].to_numpy() / n
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.maximum(rolled["sxx"].to_numpy() - n * mean**2, 0) / (n - 1))
    p_low, p_high = stats.wilson_interval(top, n)
    m_low, m_high = stats.mean_interval(mean, sd, n)
    nps_low, nps_high = stats.nps_interval(top, det, n)
    base = rolled.select("period", "segment", "mode", pl.col("question_id").alias("item"), *_reported_n(rolled))
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
    weighted = "answers" in pairs.columns
    keys = pairs.select(
        "period",
        "segment",
        "mode",
        "item",
        "comparator",
        *([(pl.col("n") + pl.col("n_ref")).alias("n_eff")] if weighted else []),
        n=(pl.col("answers") + pl.col("answers_ref")).cast(pl.Int64)
        if weighted
        else (pl.col("n") + pl.col("n_ref")).cast(pl.Int64),
        # A difference is as solid as its smaller group (weighted: the smaller n_eff).
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
    # Weighted: the oral share of the weights, its interval on the total's n_eff.
    weighted = "sw" in rolled.columns
    size = "sw" if weighted else "n"
    oral = overall.filter(pl.col("mode") == ORAL).select("period", "segment", oral=size)
    total = overall.filter(pl.col("mode") == "all").select("period", "segment", *_reported_n(overall), total=size)
    shares = total.join(oral, on=["period", "segment"], how="left").with_columns(
        pl.col("oral").fill_null(0), value=pl.col("oral").fill_null(0) / pl.col("total")
    )
    if weighted:
        n_eff = shares["n_eff"].to_numpy()
        low, high = stats.wilson_interval(shares["value"].to_numpy() * n_eff, n_eff)
    else:
        low, high = stats.wilson_interval(shares["oral"].to_numpy(), shares["n"].to_numpy())
    return shares.select(
        "period",
        "segment",
        "n",
        *(["n_eff"] if weighted else []),
        metric=pl.lit("mode_share_oral"),
        mode=pl.lit("all"),
        value="value",
        ci_low=low,
        ci_high=high,
    )


def _responses(responses: pl.LazyFrame) -> pl.LazyFrame:
    return responses.group_by("period", "segment", "mode").agg(n=pl.len())


def answer_sums(responses: pl.LazyFrame, codebook: pl.DataFrame) -> pl.LazyFrame:
    """`fine_aggregates` computed from the wide responses (one column per question): one pass, no reshape.

    value = raw answer, reverse-coded as (min + max) - raw for negatively worded items; top =
    value >= the item's threshold; det = NPS value <= 6. A question the codebook gained after
    a response was stored reads as unanswered for it. Responses with a `weight` column
    (transforms/weighting.py) also give the weighted sums Σw, Σw², Σw·top, Σw·det, Σw·x, Σw·x²
    over the answered items.
    """
    stored = responses.collect_schema().names()
    weighted = "weight" in stored
    sums = SUMS + WEIGHTED_SUMS if weighted else SUMS
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
        if weighted:
            w = pl.when(value.is_not_null()).then(pl.col("weight"))  # the weights of the answered items
            aggregations += [
                w.sum().alias(f"{qid}\x1fsw"),
                (w**2).sum().alias(f"{qid}\x1fsw2"),
                pl.when(value >= q["top_box_from"]).then(w).sum().alias(f"{qid}\x1ftopw"),
                pl.when(detractor).then(w).sum().alias(f"{qid}\x1fdetw"),
                (value * w).sum().alias(f"{qid}\x1fsxw"),
                (value**2 * w).sum().alias(f"{qid}\x1fsxxw"),
            ]
        questions.append(qid)
    by_group = responses.group_by(*GROUP[:3]).agg(aggregations)
    return pl.concat(
        [
            by_group.select(
                *GROUP[:3],
                *(pl.col(f"{qid}\x1f{s}").cast(pl.Float64).alias(s) for s in sums if s in WEIGHTED_SUMS),
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
    rolled = _effective(_rolled_up(fine, params.groups))
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
    flagged = _suppressed(q_values(_flags(metrics, params)), counts, params)
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
        # A difference is only as solid as its smaller group; a weighted figure as its n_eff.
        small_sample=_test_size(metrics) < params.min_n,
        # NaN (undefined, e.g. a standard deviation of one answer) is reported as missing.
        ci_low=pl.col("ci_low").fill_nan(None),
        ci_high=pl.col("ci_high").fill_nan(None),
        p_value=pl.col("p_value").fill_nan(None) if "p_value" in metrics.columns else pl.lit(None, pl.Float64),
    )


def _test_size(metrics: pl.DataFrame) -> pl.Expr:
    """The n a figure's precision rests on: the smaller group of a difference, else n_eff (weighted) or n."""
    sizes = [c for c in ("smaller_group_n", "n_eff") if c in metrics.columns]
    return pl.coalesce(*[pl.col(c) for c in sizes], pl.col("n"))


def q_values(metrics: pl.DataFrame) -> pl.DataFrame:
    """`q_value`: Benjamini-Hochberg q-values of the p-values, one family per metric, period and mode - every
    segment's change (or mode gap) in `metrics` at once. Small-sample tests (the smaller group, n_eff when
    weighted, below min_n) are not counted and get none. A report recomputes them over the segments it
    shows, so that its verdicts do not move with the figures of units it does not show."""
    tested = metrics.drop("q_value", strict=False).with_columns(_tested=(~pl.col("small_sample")).cast(pl.Int8))
    adjusted = fdr_adjust(tested, by=("metric", "period", "mode"), n_col="_tested", min_n=1)
    return adjusted.drop("_tested", "fdr_reject").select(
        *metrics.columns, *([] if "q_value" in metrics.columns else ["q_value"])
    )


# Splits a report prints beside their total: the four modes, each mode family, the two families.
MODE_SPLITS = (
    ("all", ("online", "paper", "phone", "in_person")),
    (ORAL, ("phone", "in_person")),
    (WRITTEN, ("online", "paper")),
    ("all", (ORAL, WRITTEN)),
)


def _children(units: Sequence[str], groups: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Each total's direct parts in the unit hierarchy: the company's are the outermost groups and the
    units in none; a group's are its largest sub-groups and its units in none of them."""
    sets = {COMPANY: frozenset(units), **{g: frozenset(members) for g, members in groups.items()}}
    tree = {}
    for total, members in sets.items():
        inner = [g for g, m in sets.items() if g != total and m < members]
        largest = [g for g in inner if not any(sets[g] < sets[h] for h in inner)]
        covered = frozenset().union(*(sets[g] for g in largest))
        tree[total] = [*largest, *sorted(members - covered)]
    return tree


def hidden_cells(counts: pl.DataFrame, groups: Mapping[str, Sequence[str]], min_group_size: int) -> pl.DataFrame:
    """Which period x segment x mode cells a report must not show: (period, segment, mode, reason).

    `counts`: responses per period, segment (units, groups, 'All') and mode (`responses` rows). A cell
    below `min_group_size` is hidden ("below minimum"), and so many more ("complementary") that no
    hidden cell can be worked out by subtracting shown ones from a shown total: the splits are each
    total's parts in the unit hierarchy (the company's: its outer groups and the units in none; a
    group's: its sub-groups and units), which also protects the company's list of every unit, and
    each segment's split by mode (`suppressed_groups`: a cell hidden in one split is hidden in every
    split and report; complements are taken before group totals, which head reports of their own).
    Empty cells are known to be empty and take no part. Not covered: a unit's mode cell recovered from
    the company's mode split minus every other unit's (that takes every unit's own report; tying the
    units' mode splits across reports would hide the large units' modes for one small unit's).
    """
    cells = counts.filter(pl.col("n") > 0)
    if cells.is_empty() or min_group_size <= 1:
        return pl.DataFrame(schema={"period": pl.String, "segment": pl.String, "mode": pl.String, "reason": pl.String})
    segments = cells["segment"].unique().to_list()
    units = sorted(s for s in segments if s != COMPANY and s not in groups)
    flat = {COMPANY: units, **{g: [u for u in members if u in units] for g, members in groups.items()}}
    # (name, total segment, total mode, its parts): each total's parts in the hierarchy - its units too when
    # its groups overlap (then the parts are no partition) - and each segment's modes. The company's table
    # lists every unit, which the hierarchy covers: the company's parts are split further by each group's.
    tree = _children(units, flat)
    sizes = {COMPANY: len(units), **{g: len(members) for g, members in flat.items()}}
    splits = [((total, tuple(parts)), total, "all", [(p, "all") for p in parts]) for total, parts in tree.items()]
    splits += [
        ((total, tuple(parts)), total, "all", [(p, "all") for p in parts])
        for total, parts in flat.items()
        if sum(sizes.get(p, 1) for p in tree[total]) != len(parts)
    ]
    for segment in [COMPANY, *groups, *units]:
        splits += [
            ((segment, "modes", whole, parts), segment, whole, [(segment, m) for m in parts])
            for whole, parts in MODE_SPLITS
        ]
    split_rows = pl.DataFrame(
        [
            (repr(name), segment, mode)
            for name, total, whole, parts in splits
            for segment, mode in [(total, whole), *parts]
        ],
        schema={"rollup": pl.String, "segment": pl.String, "mode": pl.String},
        orient="row",
    ).unique()
    stacked = (
        cells.select("period", "segment", "mode", "n")
        .join(split_rows, on=["segment", "mode"])
        .with_columns(
            rollup=pl.concat_str("period", "rollup", separator="\x1f"),
            group=pl.concat_str("period", "segment", "mode", separator="\x1f"),
            # A complement is taken from units and modes before a total that heads a report of its own.
            priority=(pl.col("segment").is_in([COMPANY, *groups]) & (pl.col("mode") == "all")).cast(pl.Int8),
        )
    )
    decided = suppressed_groups(stacked.select("rollup", "group", "n", "priority"), min_group_size, priority="priority")
    hidden = decided.filter(pl.col("suppressed")).select("group", "reason").unique("group")
    keys = stacked.select("group", "period", "segment", "mode").unique("group")
    return keys.join(hidden, on="group").drop("group").sort("period", "segment", "mode")


def _suppressed(metrics: pl.DataFrame, counts: pl.DataFrame, params: ScorecardParameters) -> pl.DataFrame:
    """`suppressed` on every row that would show a hidden cell: a level, a change whose either period is
    hidden, a mode gap or oral share whose oral or written side is hidden, a benchmark gap of a hidden total."""
    hidden = hidden_cells(counts.select("period", "segment", "mode", "n"), params.groups, params.min_group_size)
    metric = pl.col("metric")
    sides = metric.str.ends_with("_mode_gap") | (metric == "mode_share_oral")
    keyed = metrics.with_columns(
        _mode1=pl.when(sides).then(pl.lit(ORAL)).otherwise("mode"),
        _period2=pl.when(metric.str.ends_with("_change")).then("comparator").otherwise("period"),
        _mode2=pl.when(sides).then(pl.lit(WRITTEN)).otherwise("mode"),
    )
    first = hidden.rename({"period": "period", "mode": "_mode1", "reason": "_reason1"})
    second = hidden.rename({"period": "_period2", "mode": "_mode2", "reason": "_reason2"})
    return (
        keyed.join(first, on=["period", "segment", "_mode1"], how="left")
        .join(second, on=["_period2", "segment", "_mode2"], how="left")
        .with_columns(suppressed=pl.coalesce("_reason1", "_reason2"))
        .drop("_mode1", "_period2", "_mode2", "_reason1", "_reason2")
    )


def quotable_units(metrics: pl.DataFrame, period: str, min_size: int) -> list[str]:
    """Units (and groups) with at least `min_size` respondents in `period`: comments may be quoted from them."""
    counts = metrics.filter(
        (pl.col("metric") == "responses") & (pl.col("period") == period) & (pl.col("mode") == "all")
    )
    return counts.filter(pl.col("n") >= min_size)["segment"].to_list()

"""Service-quality gaps, expectation, mode and wording effects (methodology.md, "SERVQUAL and the
five-gap model", "Mode and wording").

Pure: long answers in (one row per response per question, as `transforms.normalise.answers_long`
gives them: response_id, question_id, value (after reverse-coding), score (0-1), reverse_coded,
mode, and the `period` and `segment` the caller scopes them to), metric rows out in the metrics
file's columns (transforms.improvement.rows.metric_rows). Every mean has its n (respondents) and a
Student t interval; differences between independent groups a Welch interval. An interval that cannot
be computed (n < 2 in a group, one manager) is null.

Signs (all "the later minus the earlier" along the chain customer -> management -> standard ->
delivery -> promise -> perception):
- servqual_gap / gap 5 = P - E: negative = perceptions fall short of expectations.
- gap 1 (knowledge) = management's estimate of E - customers' own E: negative = management
  underestimates what customers expect, positive = overestimates.
- gap 2 (standards) = configured service standard - management's estimate of E: negative = the
  standard is set below what management believes customers expect.
- gap 3 (delivery) = delivered (operational result) - standard, passed through as given: negative =
  delivery falls short of the standard.
- gap 4 (communication) = 1 - promise_kept share: the share of promises not kept (0 is ideal,
  positive = over-promising). Not on the P/E scale; read it on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import polars as pl

from transforms.improvement.rows import metric_rows
from transforms.stats import mean_interval, welch_difference

KEYS = ("period", "segment")

Frame = pl.DataFrame | pl.LazyFrame


def mean_rows(
    stats: pl.DataFrame, metric: str, min_n: int, reference: pl.Expr | str | None = None, scale: float = 1.0
) -> pl.DataFrame:
    """Rows of a mean: `stats` holds period, segment, item, mean, sd, n; t interval (mean_interval),
    null when n < 2."""
    low, high = mean_interval(stats["mean"].to_numpy(), stats["sd"].to_numpy(), stats["n"].to_numpy())
    ref = pl.lit(reference, dtype=pl.String) if reference is None or isinstance(reference, str) else reference
    defined = pl.col("n") >= 2
    return stats.select(
        pl.lit(metric).alias("metric"),
        *KEYS,
        "item",
        (pl.col("mean") * scale).alias("value"),
        pl.col("n").cast(pl.Int64),
        pl.when(defined).then(pl.Series(low * scale).fill_nan(None)).alias("ci_low"),
        pl.when(defined).then(pl.Series(high * scale).fill_nan(None)).alias("ci_high"),
        (pl.col("n") < min_n).alias("small_sample"),
        ref.alias("reference"),
    )


def _summary(frame: pl.LazyFrame, by: Sequence[str], column: str) -> pl.LazyFrame:
    return frame.group_by(*by).agg(mean=pl.col(column).mean(), sd=pl.col(column).std(ddof=1), n=pl.col(column).count())


def pairs_from_codebook(codebook: pl.DataFrame) -> pl.DataFrame:
    """Attribute x expectation pairs: each attribute item with the expectation item of its dimension.

    `codebook`: question_id, kind, dimension (as flows.sources builds it). Returns attribute,
    expectation, dimension; attributes whose dimension has no expectation item are left out.
    """
    items = codebook.select("question_id", "kind", "dimension")
    return (
        items.filter(pl.col("kind") == "attribute")
        .select(attribute="question_id", dimension="dimension")
        .join(
            items.filter(pl.col("kind") == "expectation").select(expectation="question_id", dimension="dimension"),
            on="dimension",
        )
        .select("attribute", "expectation", "dimension")
        .sort("dimension", "attribute")
    )


def item_gaps(perception: Frame, expectation: Frame, pairs: pl.DataFrame) -> pl.LazyFrame:
    """Q = P - E per respondent and attribute: responses answering both items of a pair.

    Returns period, segment (the perception's), response_id, attribute, dimension, q.
    """
    p = (
        perception.lazy()
        .join(pairs.lazy().rename({"attribute": "question_id"}), on="question_id")
        .filter(pl.col("value").is_not_null())
        .select(*KEYS, "response_id", pl.col("question_id").alias("attribute"), "expectation", "dimension", p="value")
    )
    e = (
        expectation.lazy()
        .filter(pl.col("value").is_not_null())
        .select("response_id", pl.col("question_id").alias("expectation"), e="value")
    )
    return p.join(e, on=["response_id", "expectation"]).select(
        *KEYS, "response_id", "attribute", "dimension", q=pl.col("p") - pl.col("e")
    )


def _dimension_gaps(q: pl.LazyFrame) -> pl.LazyFrame:
    """Dimension gap per respondent: the mean of the respondent's item gaps in the dimension."""
    return q.group_by(*KEYS, "response_id", "dimension").agg(q=pl.col("q").mean())


def servqual_gaps(
    perception: Frame,
    expectation: Frame,
    pairs: pl.DataFrame,
    dimension_weights: Mapping[str, float] | Frame | None = None,
    min_n: int = 30,
) -> pl.DataFrame:
    """SERVQUAL gap scores (Parasuraman, Zeithaml, Berry 1988; weights PZB 1991).

    Rows metric "servqual_gap": item = the attribute (item gap Q = P - E), "dimension:<name>"
    (the mean of a respondent's item gaps in the dimension, then across respondents) and
    "overall" with reference "unweighted" (per respondent the mean of the dimension gaps; with every
    dimension answered this is the mean of the dimension gaps) and, with importance points,
    "weighted" (per respondent Σ (w_d / 100)·Q_d). Overall scores use the respondents who answered
    every dimension of `pairs` (complete cases), so each respondent's score covers the same
    dimensions; n says how many. Weights: {dimension: points} for everyone, or a frame
    response_id, dimension, points (each respondent's 100 points); points not summing to 100 are
    rescaled to 100 (Σ w_d·Q_d / Σ w_d), and a respondent without points for every dimension is left
    out of the weighted score.
    """
    q = item_gaps(perception, expectation, pairs)
    dims = _dimension_gaps(q)
    n_dims = pairs["dimension"].n_unique()
    complete = dims.filter(pl.len().over(*KEYS, "response_id") == n_dims)
    plans = [
        _summary(q, [*KEYS, "attribute"], "q").rename({"attribute": "item"}),
        _summary(dims, [*KEYS, "dimension"], "q").select(
            *KEYS, pl.format("dimension:{}", "dimension").alias("item"), "mean", "sd", "n"
        ),
        _summary(complete.group_by(*KEYS, "response_id").agg(q=pl.col("q").mean()), KEYS, "q").with_columns(
            item=pl.lit("overall")
        ),
    ]
    if dimension_weights is not None:
        if isinstance(dimension_weights, Mapping):
            weights = pl.LazyFrame(
                {"dimension": list(dimension_weights), "points": [float(v) for v in dimension_weights.values()]}
            )
            on: list[str] = ["dimension"]
        else:
            weights = dimension_weights.lazy().select("response_id", "dimension", pl.col("points").cast(pl.Float64))
            on = ["response_id", "dimension"]
        weighted = (
            complete.join(weights, on=on)
            .filter(pl.col("points").is_not_null())
            .group_by(*KEYS, "response_id")
            .agg(q=(pl.col("q") * pl.col("points")).sum() / pl.col("points").sum(), dims=pl.len())
            .filter(pl.col("dims") == n_dims)
        )
        plans.append(_summary(weighted, KEYS, "q").with_columns(item=pl.lit("overall:weighted")))
    stats = pl.concat(pl.collect_all(plans), how="diagonal")
    rows = mean_rows(stats, "servqual_gap", min_n).with_columns(
        item=pl.col("item").str.replace(":weighted", "", literal=True),
        reference=pl.when(pl.col("item") == "overall:weighted")
        .then(pl.lit("weighted"))
        .when(pl.col("item") == "overall")
        .then(pl.lit("unweighted")),
    )
    return metric_rows([rows])


def gap_model(
    perception: Frame,
    expectation: Frame,
    management: Frame,
    pairs: pl.DataFrame,
    service_standards: Mapping[str, float] | None = None,
    delivery: pl.DataFrame | None = None,
    communication: pl.DataFrame | None = None,
    min_n: int = 30,
    min_managers: int = 3,
) -> pl.DataFrame:
    """The five-gap model (PZB 1985) for the gaps the data supports; signs in the module docstring.

    Rows metric "gap_model", item "gap<k>:<dimension>" (or "gap<k>:<given item>" for 3 and 4).
    - gap 1 per dimension: management's mean estimate of E (each manager's mean over the dimension's
      expectation items, then across managers) - customers' mean E (each customer's mean over the
      dimension's expectation items, then across customers); Welch interval; n = customers
      (managers in `reference`). small_sample when customers < `min_n` or managers < `min_managers`;
      with one manager (or one customer) the interval is null and small_sample is true.
      `management`: period, segment, manager_id, question (an expectation item), rating - rows for
      the company carry the company's segment label, as the caller scopes them.
    - gap 2 per dimension with a configured standard: standard - management's mean estimate; t
      interval of the managers' mean (null with one manager); n = managers, small_sample when
      managers < `min_managers`.
    - gap 3: `delivery` (period, segment, item, value = operational result - standard, n and
      optionally ci_low/ci_high) passed through.
    - gap 4: `communication` (the promise_kept rows: period, segment, value, n, ci_low, ci_high,
      optional item): 1 - value, the interval mirrored.
    - gap 5 per dimension and overall: the unweighted SERVQUAL gaps (P - E).
    """
    expect_dims = pairs.select("expectation", "dimension").unique().lazy()
    customers = (
        expectation.lazy()
        .filter(pl.col("value").is_not_null())
        .join(expect_dims, left_on="question_id", right_on="expectation")
        .group_by(*KEYS, "dimension", "response_id")
        .agg(value=pl.col("value").cast(pl.Float64).mean())
    )
    managers = (
        management.lazy()
        .filter(pl.col("rating").is_not_null())
        .join(expect_dims, left_on="question", right_on="expectation")
        .group_by(*KEYS, "dimension", "manager_id")
        .agg(estimate=pl.col("rating").cast(pl.Float64).mean())
    )
    cust, mgmt = pl.collect_all(
        [_summary(customers, [*KEYS, "dimension"], "value"), _summary(managers, [*KEYS, "dimension"], "estimate")]
    )
    both = cust.join(mgmt, on=[*KEYS, "dimension"], suffix="_m", nulls_equal=True)
    low, high, _ = welch_difference(
        both["mean"].to_numpy(),
        both["sd"].to_numpy(),
        both["n"].to_numpy(),
        both["mean_m"].to_numpy(),
        both["sd_m"].to_numpy(),
        both["n_m"].to_numpy(),
    )
    defined = (pl.col("n") >= 2) & (pl.col("n_m") >= 2)
    gap1 = both.select(
        pl.lit("gap_model").alias("metric"),
        *KEYS,
        pl.format("gap1:{}", "dimension").alias("item"),
        (pl.col("mean_m") - pl.col("mean")).alias("value"),
        "n",
        pl.when(defined).then(pl.Series(low).fill_nan(None)).alias("ci_low"),
        pl.when(defined).then(pl.Series(high).fill_nan(None)).alias("ci_high"),
        ((pl.col("n") < min_n) | (pl.col("n_m") < min_managers) | ~defined).alias("small_sample"),
        pl.format("knowledge gap: management's estimate of E - customers' E ({} managers)", pl.col("n_m")).alias(
            "reference"
        ),
    )
    rows = [gap1]
    if service_standards:
        standards = pl.DataFrame(
            {"dimension": list(service_standards), "standard": [float(v) for v in service_standards.values()]}
        )
        with_standard = mgmt.join(standards, on="dimension")
        lo, hi = mean_interval(
            with_standard["mean"].to_numpy(), with_standard["sd"].to_numpy(), with_standard["n"].to_numpy()
        )
        one = pl.col("n") < 2
        rows.append(
            with_standard.select(
                pl.lit("gap_model").alias("metric"),
                *KEYS,
                pl.format("gap2:{}", "dimension").alias("item"),
                (pl.col("standard") - pl.col("mean")).alias("value"),
                "n",
                pl.when(~one).then(pl.col("standard") - pl.Series(hi).fill_nan(None)).alias("ci_low"),
                pl.when(~one).then(pl.col("standard") - pl.Series(lo).fill_nan(None)).alias("ci_high"),
                ((pl.col("n") < min_managers) | one).alias("small_sample"),
                pl.lit("standards gap: service standard - management's estimate of E (n = managers)").alias(
                    "reference"
                ),
            )
        )
    if delivery is not None:
        rows.append(
            delivery.select(
                pl.lit("gap_model").alias("metric"),
                *KEYS,
                pl.format("gap3:{}", "item").alias("item"),
                "value",
                "n",
                *[c for c in ("ci_low", "ci_high") if c in delivery.columns],
                (pl.col("n") < min_n).alias("small_sample"),
                pl.lit("delivery gap: operational result - standard (as given)").alias("reference"),
            )
        )
    if communication is not None:
        item = pl.col("item") if "item" in communication.columns else pl.lit(None, dtype=pl.String)
        rows.append(
            communication.select(
                pl.lit("gap_model").alias("metric"),
                *KEYS,
                pl.when(item.is_null()).then(pl.lit("gap4")).otherwise(pl.format("gap4:{}", item)).alias("item"),
                (1 - pl.col("value")).alias("value"),
                "n",
                (1 - pl.col("ci_high")).alias("ci_low"),
                (1 - pl.col("ci_low")).alias("ci_high"),
                (pl.col("n") < min_n).alias("small_sample"),
                pl.lit("communication gap: 1 - promise_kept (share of promises not kept)").alias("reference"),
            )
        )
    servqual = servqual_gaps(perception, expectation, pairs, min_n=min_n).filter(
        pl.col("item").str.starts_with("dimension:") | (pl.col("reference") == "unweighted")
    )
    rows.append(
        servqual.with_columns(
            metric=pl.lit("gap_model"),
            item=pl.format("gap5:{}", pl.col("item").str.replace("dimension:", "", literal=True)),
            reference=pl.lit("customer gap: P - E (SERVQUAL, unweighted)"),
        )
    )
    return metric_rows(rows)


def low_expectation_flag(
    perception: Frame,
    expectation: Frame,
    pairs: pl.DataFrame,
    high: float = 0.75,
    rule: Literal["midpoint", "others"] = "midpoint",
    min_n: int = 30,
) -> pl.DataFrame:
    """Dimensions whose satisfaction is high but whose expectation is low (seed 000: very high
    satisfaction can mean low expectations).

    Works on `score` (0-1, after reverse-coding) so one threshold fits every scale. Satisfaction of a
    dimension = the mean over respondents of their mean score on its attribute items; expectation =
    the mean score of its expectation item(s). Flagged when satisfaction >= `high` (0.75 = 4 on 1-5)
    and expectation is low: rule "midpoint" (the default: an absolute test that does not fire just
    because one dimension is expected less than the others) = below the scale midpoint 0.5; rule
    "others" = below the mean of the other dimensions' expectations in the same period and segment
    (never with a single dimension).
    Rows metric "low_expectation_flag", one per dimension checked (so the file shows the check was made):
    item = dimension, value = expectation score with its t interval and n; `reference` starts "flagged:"
    or "not flagged:" and states the satisfaction, the expectation and the rule.
    """
    p = (
        perception.lazy()
        .filter(pl.col("score").is_not_null())
        .join(pairs.select("attribute", "dimension").lazy(), left_on="question_id", right_on="attribute")
        .group_by(*KEYS, "dimension", "response_id")
        .agg(score=pl.col("score").mean())
        .group_by(*KEYS, "dimension")
        .agg(satisfaction=pl.col("score").mean())
    )
    e = _summary(
        expectation.lazy()
        .filter(pl.col("score").is_not_null())
        .join(pairs.select("expectation", "dimension").unique().lazy(), left_on="question_id", right_on="expectation")
        .group_by(*KEYS, "dimension", "response_id")
        .agg(score=pl.col("score").mean()),
        [*KEYS, "dimension"],
        "score",
    )
    # With one dimension there are no others: the bar is null and nothing is flagged (not NaN, which
    # polars orders above every number, so `mean < NaN` would flag it).
    others = pl.when(pl.len().over(KEYS) > 1).then(
        (pl.col("mean").sum().over(KEYS) - pl.col("mean")) / (pl.len().over(KEYS) - 1)
    )
    bar = pl.lit(0.5) if rule == "midpoint" else others
    label = "the scale midpoint" if rule == "midpoint" else "the other dimensions' mean"
    checked = (
        e.join(p, on=[*KEYS, "dimension"], nulls_equal=True)
        .with_columns(bar=bar)
        .with_columns(flagged=((pl.col("satisfaction") >= high) & (pl.col("mean") < pl.col("bar"))).fill_null(False))
        .rename({"dimension": "item"})
        .collect()
    )
    reference = (
        pl.when(pl.col("flagged"))
        .then(
            pl.format(
                "flagged: satisfaction {} >= {} with expectation below {} {}: may reflect low expectations",
                pl.col("satisfaction").round(2),
                pl.lit(high),
                pl.lit(label),
                pl.col("bar").round(2),
            )
        )
        .otherwise(
            pl.format(
                "not flagged: satisfaction {}, expectation {} ({} {})",
                pl.col("satisfaction").round(2).cast(pl.String).fill_null("unknown"),
                pl.col("mean").round(2),
                pl.lit(label),
                pl.col("bar").round(2).cast(pl.String).fill_null("undefined: no other dimension"),
            )
        )
    )
    return metric_rows([mean_rows(checked, "low_expectation_flag", min_n, reference)])


ORAL = ("phone", "in_person")
WRITTEN = ("online", "paper")


def mode_effect(
    answers: Frame,
    heuristic_points: float = 12.0,
    oral: Sequence[str] = ORAL,
    written: Sequence[str] = WRITTEN,
    min_n: int = 30,
) -> pl.DataFrame:
    """Oral minus written mean score per question, in points of the 0-100 score, Welch interval.

    Interviewer-administered modes read higher than self-administered ones (Elliott et al. 2009;
    de Vries et al. 2005: up to 11 points); `reference` compares the difference with the rule of
    thumb (seed 000: "up to 12 %" - a heuristic, configurable), and says when written reads higher.
    n = answers in both groups; small_sample when either group is below `min_n`. Other modes
    (video) are in neither group.
    """
    frame = (
        answers.lazy()
        .filter(pl.col("score").is_not_null() & pl.col("mode").is_in([*oral, *written]))
        .with_columns(oral=pl.col("mode").is_in(list(oral)))
    )
    stats = _summary(frame, [*KEYS, "question_id", "oral"], "score").collect()
    o = stats.filter(pl.col("oral")).drop("oral")
    w = stats.filter(~pl.col("oral")).drop("oral")
    both = o.join(w, on=[*KEYS, "question_id"], suffix="_w", nulls_equal=True)
    low, high, _ = welch_difference(
        both["mean_w"].to_numpy(),
        both["sd_w"].to_numpy(),
        both["n_w"].to_numpy(),
        both["mean"].to_numpy(),
        both["sd"].to_numpy(),
        both["n"].to_numpy(),
    )
    diff = 100 * (pl.col("mean") - pl.col("mean_w"))
    reference = (
        pl.when(diff < 0)
        .then(pl.lit("written reads higher than oral (opposite to the usual mode effect)"))
        .when(diff <= heuristic_points)
        .then(pl.format("oral reads higher, within the rule of thumb of up to {} points (heuristic)", heuristic_points))
        .otherwise(pl.format("oral reads higher, beyond the rule of thumb of {} points (heuristic)", heuristic_points))
    )
    rows = both.select(
        pl.lit("mode_effect").alias("metric"),
        *KEYS,
        pl.col("question_id").alias("item"),
        diff.alias("value"),
        (pl.col("n") + pl.col("n_w")).alias("n"),
        pl.Series("ci_low", 100 * low),
        pl.Series("ci_high", 100 * high),
        (pl.min_horizontal("n", "n_w") < min_n).alias("small_sample"),
        reference.alias("reference"),
    )
    return metric_rows([rows])


def wording_effect(answers: Frame, dimensions: Mapping[str, str] | None = None, min_n: int = 30) -> pl.DataFrame:
    """Positively minus negatively worded items' mean score (after reverse-coding), 0-100 points.

    Paired within respondents: per respondent the mean score of the positive items minus the mean
    score of the negative (reverse-coded) items, then the mean over respondents who answered both,
    with a t interval - so a respondent's general level cancels out. With `dimensions`
    (question_id -> dimension) the comparison stays within a dimension (item "dimension:<name>");
    otherwise over all the items given (item "all": pass attribute items only). Positive wording is
    expected to read higher (seed 000); `reference` says which way it went.
    """
    frame = answers.lazy().filter(pl.col("score").is_not_null())
    if dimensions is not None:
        mapping = pl.LazyFrame({"question_id": list(dimensions), "dimension": list(dimensions.values())})
        frame = frame.join(mapping, on="question_id").with_columns(item=pl.format("dimension:{}", "dimension"))
    else:
        frame = frame.with_columns(item=pl.lit("all"))
    per_respondent = (
        frame.group_by(*KEYS, "item", "response_id")
        .agg(
            positive=pl.col("score").filter(~pl.col("reverse_coded")).mean(),
            negative=pl.col("score").filter(pl.col("reverse_coded")).mean(),
        )
        .filter(pl.col("positive").is_not_null() & pl.col("negative").is_not_null())
        .with_columns(d=100 * (pl.col("positive") - pl.col("negative")))
    )
    stats = _summary(per_respondent, [*KEYS, "item"], "d").collect()
    reference = (
        pl.when(pl.col("mean") > 0)
        .then(pl.lit("positive wording reads higher (the usual wording effect)"))
        .otherwise(pl.lit("negative wording reads as high or higher after reverse-coding"))
    )
    return metric_rows([mean_rows(stats, "wording_effect", min_n, reference)])

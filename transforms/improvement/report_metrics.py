"""Every metric of the continuous-improvement report, computed from its inputs in one call.

Pure: the store's tables (already labelled with the report's `period` - a month, quarter or year -
and limited to the periods the report shows) in, the metrics file out (transforms/improvement/rows.py
columns plus rank, cumulative_share, comparator and target), with the printable evidence beside it.
The subject modules do the statistics; this module decides what each is fed:

- the answers of the report period, per unit and for the company ("All"); trends and control charts
  over the `history` periods;
- management's latest expectation estimates and self-assessments on or before the period's end
  (they are made once a year, the report is monthly), shown under the report's period;
- gap 3 (delivery) from the operational goals: each goal's result minus its target (the standard);
- gap 4 (communication) from the complaint log's kept promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from transforms.improvement.complaints import ComplaintParameters, complaint_metrics
from transforms.improvement.control_charts import control_chart_metrics
from transforms.improvement.drivers import driver_weights, importance_performance
from transforms.improvement.gaps import (
    gap_model,
    low_expectation_flag,
    mean_rows,
    mode_effect,
    pairs_from_codebook,
    servqual_gaps,
    wording_effect,
)
from transforms.improvement.operations import (
    GOAL_EXTRA,
    PROBLEM_EXTRA,
    ProblemWeights,
    goal_status,
    return_rate,
    self_assessment,
    supplier_metrics,
    top_problems,
)
from transforms.improvement.qualitative import (
    composition,
    focus_group_representativeness,
    interviewer_effect,
    representative_excerpts,
    theme_cooccurrence,
    theme_frequency,
)
from transforms.improvement.rows import metric_rows, with_company
from transforms.scopes import COMPANY
from transforms.stats import mean_interval, wilson_interval
from transforms.weighting import n_eff_expr

EXTRA = {**PROBLEM_EXTRA, **GOAL_EXTRA, "n_eff": pl.Float64()}  # n_eff: weighted figures only
# Results of operations a goal (the standard) can be set on: gap 3 compares them (promises are gap 4).
OPERATIONAL = (
    "fcr",
    "repeat_contact_rate",
    "time_to_resolution_median",
    "time_to_resolution_p90",
    "followup_satisfied",
    "return_rate",
    "supplier_on_time",
    "supplier_defect_rate",
)
KEYS = ("period", "segment")
DIGITS = 10  # decimals kept in the metrics file
Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class ImprovementInputs:
    """The store's tables, each row with the report's `period` label and its unit in `segment`.

    answers: long survey answers (transforms.normalise.answers_long) of the history periods; the other
    tables as stored, of the history periods (management's estimates and self-assessments: their
    latest round up to the period's end, labelled with the period).
    """

    answers: pl.LazyFrame
    complaints: pl.LazyFrame
    interviews: pl.LazyFrame
    coded_excerpts: pl.LazyFrame  # with segment (from its focus-group session) and source
    participants: pl.LazyFrame  # participants of the sessions held in the period
    supplier_scorecards: pl.LazyFrame
    supplier_issues: pl.LazyFrame
    orders: pl.LazyFrame
    returns: pl.LazyFrame
    management: pl.LazyFrame
    self_assessments: pl.LazyFrame
    # The period's raking weights (response_id, weight) when population margins are configured, else None.
    weights: pl.LazyFrame | None = None


@dataclass(frozen=True)
class Goal:
    metric: str
    comparator: str
    target: float
    at_risk_margin: float = 0.0
    item: str | None = None


@dataclass(frozen=True)
class ImprovementParameters:
    period: str  # the report's period
    history: tuple[str, ...]  # the periods of its trends and control charts, oldest first, ending with `period`
    as_of: datetime  # open complaints are censored here
    codebook: pl.DataFrame  # flows.sources.codebook_frame
    themes: pl.DataFrame  # the coding frame: code, label, parent, actionable
    min_n: int = 30
    bootstrap: int = 500
    repeat_window_days: int = 7
    iceberg_ratio: float = 26.0
    problem_weights: ProblemWeights = field(default_factory=ProblemWeights)
    goals: tuple[Goal, ...] = ()
    service_standards: Mapping[str, float] = field(default_factory=dict)
    customer_base: Mapping[str, float] = field(default_factory=dict)
    question_of_period: str | None = None  # a codebook question id or an interview topic
    seed: int = 0

    @property
    def periods_per_year(self) -> int:
        """How many of the report's periods make a year (12 months, 4 quarters, 1 year)."""
        if "-Q" in self.period:
            return 4
        return 12 if len(self.period) == 7 else 1  # "2025-03" is a month; "2025" and "FY2026" are years

    def items(self, kind: str) -> list[str]:
        return self.codebook.filter(pl.col("kind") == kind)["question_id"].to_list()


@dataclass(frozen=True)
class ImprovementResult:
    metrics: pl.DataFrame  # the metrics file
    excerpts: pl.DataFrame  # segment, theme, rank, document, quote, truncated: evidence to quote


def improvement_metrics(inputs: ImprovementInputs, params: ImprovementParameters) -> ImprovementResult:
    """Every metric of issue 8 for the period (and the history the charts need), per unit and "All"."""
    overall = params.items("overall")[0]
    attributes = params.items("attribute")
    expectations = params.items("expectation")
    now = pl.col("period") == params.period
    answered = inputs.answers.filter(pl.col("value").is_not_null())
    # The store is read twice, not once per metric: sums per unit, item and period over the history (the
    # company's are their totals), and the period's own answers, which every other survey metric reads.
    this_period = answered.filter(now)
    if inputs.weights is not None:
        this_period = this_period.join(inputs.weights, on="response_id", how="left")
    sums, period_answers = pl.collect_all(
        [
            _answer_sums(answered.filter(pl.col("question_id").is_in([overall, *attributes]))),
            with_company(this_period),
        ]
    )
    current = period_answers.lazy()
    perception = current.filter(pl.col("question_id").is_in(attributes))
    expectation = current.filter(pl.col("question_id").is_in(expectations))
    pairs = pairs_from_codebook(params.codebook)

    rows = _survey_trend_rows(sums, _weighted_recent(answered, inputs.weights, params), [overall, *attributes], params)
    drivers = _drivers(current, overall, attributes, params, weighted=inputs.weights is not None)
    rows.append(drivers)
    performance = rows[0].filter(now & (pl.col("metric") == "attribute_mean") & pl.col("item").is_in(attributes))
    scale = params.codebook.filter(pl.col("question_id").is_in(attributes)).row(0, named=True)
    rows.append(
        importance_performance(
            drivers.filter(pl.col("metric") == "driver_weight"),
            performance.select("period", "segment", "item", "value"),
            scale=(scale["scale_min"], scale["scale_max"]),
        )
    )
    complaints = complaint_metrics(
        inputs.complaints,
        ComplaintParameters(
            as_of=params.as_of,
            repeat_window_days=params.repeat_window_days,
            iceberg_ratio=params.iceberg_ratio,
            min_n=params.min_n,
        ),
    ).filter(pl.col("period").is_in(params.history))
    rows.append(complaints)
    operations = [
        return_rate(inputs.orders, inputs.returns, min_n=params.min_n),
        supplier_metrics(inputs.supplier_scorecards),
    ]
    rows.extend(operations)
    if not pairs.is_empty():
        rows.append(servqual_gaps(perception, expectation, pairs, min_n=params.min_n))
        rows.append(low_expectation_flag(perception, expectation, pairs, min_n=params.min_n))
    rows.append(mode_effect(current.filter(pl.col("question_id").is_in([overall, *attributes])), min_n=params.min_n))
    dims = dict(params.codebook.filter(pl.col("kind") == "attribute").select("question_id", "dimension").iter_rows())
    rows.append(wording_effect(perception, dims, min_n=params.min_n))
    excerpt_rows = _excerpt_rows(inputs).filter(now)
    rows.append(theme_frequency(with_company(excerpt_rows), _parents(params.themes), min_n=params.min_n))
    rows.append(theme_cooccurrence(with_company(excerpt_rows), min_n=params.min_n))
    # Interviewer effects and focus-group composition need more than a month holds: the last year's.
    year = pl.col("period").is_in(params.history[-params.periods_per_year :])
    rows.append(
        interviewer_effect(
            with_company(inputs.interviews.filter(year & pl.col("rating").is_not_null())).with_columns(
                period=pl.lit(params.period)
            ),
            min_n=params.min_n,
        )
    )
    rows.append(_representativeness(inputs.participants.filter(year), params))
    rows.append(self_assessment(inputs.self_assessments.filter(now)))
    rows.append(_question_of_period(current, inputs.interviews.filter(now), params))
    values = metric_rows([r for r in rows if not r.is_empty()], EXTRA).filter(now)
    goals = goal_status(values, _goal_frame(params.goals, values)) if params.goals else None
    gaps = gap_model(
        perception,
        expectation,
        with_company(inputs.management.filter(now)),  # a unit with its own managers has its own gaps 1 and 2
        pairs,
        service_standards=params.service_standards,
        delivery=_delivery_gaps(values, params.goals),
        communication=complaints.filter(now & (pl.col("metric") == "promise_kept")),
        min_n=params.min_n,
    )
    rows.append(gaps)
    if goals is not None:
        rows.append(_unreached_times_missed(goals))
    rows.append(_problems(inputs, excerpt_rows, params))
    metrics = metric_rows([r for r in rows if not r.is_empty()], EXTRA)
    # The history periods are kept for the trend-like metrics only; every other metric is the period's.
    history_metrics = ("trend", "p_chart", "spc_signal", "attribute_csat", "attribute_mean", "top_problem")
    metrics = metrics.filter(now | pl.col("metric").is_in(history_metrics) | pl.col("period").is_null())
    # Parallel sums add in no fixed order, so the last bits of a mean can differ between runs: rounded, the
    # same data gives the same metrics file (its fingerprint decides whether a report is re-sent).
    metrics = metrics.with_columns(pl.selectors.float().round(DIGITS))
    return ImprovementResult(metrics=metrics, excerpts=_scoped_excerpts(excerpt_rows, params))


# --- the parts --------------------------------------------------------------------------------


def _weighted_recent(
    answered: pl.LazyFrame, weights: pl.LazyFrame | None, params: ImprovementParameters
) -> pl.LazyFrame | None:
    """The period's and the previous period's answers with their weights (None unweighted): weighted alike,
    so the report's change compares like with like."""
    if weights is None:
        return None
    recent = answered.filter(pl.col("period").is_in(params.history[-2:]))
    return with_company(recent.join(weights, on="response_id", how="inner"))


def _survey_trend_rows(
    sums: pl.DataFrame, weighted: pl.LazyFrame | None, items: list[str], params: ImprovementParameters
) -> list[pl.DataFrame]:
    """attribute_csat / attribute_mean over the history (the period's and the previous one's weighted when
    weights are given) and the control charts of the satisfied share (counted as collected: a p-chart's
    limits assume counts)."""
    attribute_rows = _attribute_rows(sums, params)
    if weighted is not None:
        recent = _weighted_attribute_rows(weighted.filter(pl.col("question_id").is_in(items)), params)
        attribute_rows = pl.concat(
            [attribute_rows.filter(~pl.col("period").is_in(params.history[-2:])), recent], how="diagonal_relaxed"
        )
    charts = control_chart_metrics(sums.select("segment", "item", "period", d="satisfied", n="n"), min_n=params.min_n)
    return [attribute_rows, charts]


def _answer_sums(answers: pl.LazyFrame) -> pl.LazyFrame:
    """n, satisfied, Σx and Σx² per unit, item and period, and the company's totals of them."""
    units = answers.group_by(*KEYS, pl.col("question_id").alias("item")).agg(
        n=pl.len(),
        satisfied=pl.col("top_box").sum().cast(pl.Int64),
        total=pl.col("value").sum(),
        squares=(pl.col("value") ** 2).sum(),
    )
    company = units.group_by("period", "item").agg(pl.col("n", "satisfied", "total", "squares").sum())
    return pl.concat([units, company.with_columns(segment=pl.lit(COMPANY))], how="diagonal")


def _attribute_rows(sums: pl.DataFrame, params: ImprovementParameters) -> pl.DataFrame:
    """attribute_csat (satisfied share, Wilson) and attribute_mean (mean answer, t interval) per item."""
    n = pl.col("n").cast(pl.Float64)
    stats = sums.with_columns(
        mean=pl.col("total") / n,
        # The sample variance from the sums: (Σx² - (Σx)²/n) / (n - 1), never below 0 by rounding.
        sd=pl.when(n > 1).then(((pl.col("squares") - pl.col("total") ** 2 / n) / (n - 1)).clip(0).sqrt()),
    ).join(params.codebook.select(pl.col("question_id").alias("item"), "dimension"), on="item", how="left")
    low, high = wilson_interval(stats["satisfied"].to_numpy(), stats["n"].to_numpy())
    csat = stats.select(
        pl.lit("attribute_csat").alias("metric"),
        *KEYS,
        "item",
        (pl.col("satisfied") / pl.col("n")).alias("value"),
        "n",
        pl.Series("ci_low", low),
        pl.Series("ci_high", high),
        (pl.col("n") < params.min_n).alias("small_sample"),
        pl.format("dimension: {}", "dimension").alias("reference"),
    )
    means = mean_rows(stats, "attribute_mean", params.min_n, pl.format("dimension: {}", "dimension"))
    return metric_rows([csat, means])


def _weighted_attribute_rows(answers: pl.LazyFrame, params: ImprovementParameters) -> pl.DataFrame:
    """attribute_csat and attribute_mean of the period, weighted: p = Σw·top / Σw, x̄ = Σw·x / Σw; the
    intervals use Kish's n_eff = (Σw)² / Σw² in place of n (the variance from the weighted moments,
    times n_eff / (n_eff - 1)); n stays the answers, n_eff is its own column."""
    stats = (
        answers.group_by(*KEYS, pl.col("question_id").alias("item"))
        .agg(
            n=pl.len(),
            sw=pl.col("weight").sum(),
            sw2=(pl.col("weight") ** 2).sum(),
            top=(pl.col("weight") * pl.col("top_box").cast(pl.Float64)).sum(),
            sx=(pl.col("weight") * pl.col("value")).sum(),
            sxx=(pl.col("weight") * pl.col("value") ** 2).sum(),
        )
        .with_columns(n_eff=pl.col("sw") ** 2 / pl.col("sw2"))
        .with_columns(p=pl.col("top") / pl.col("sw"), mean=pl.col("sx") / pl.col("sw"))
        .with_columns(
            sd=pl.when(pl.col("n_eff") > 1).then(
                ((pl.col("sxx") / pl.col("sw") - pl.col("mean") ** 2) * pl.col("n_eff") / (pl.col("n_eff") - 1))
                .clip(0)
                .sqrt()
            )
        )
        .join(params.codebook.lazy().select(pl.col("question_id").alias("item"), "dimension"), on="item", how="left")
        .collect()
    )
    n_eff = stats["n_eff"].to_numpy()
    low, high = wilson_interval(stats["p"].to_numpy() * n_eff, n_eff)
    m_low, m_high = mean_interval(stats["mean"].to_numpy(), stats["sd"].to_numpy(), n_eff)
    reference = pl.format("dimension: {}; weighted", "dimension")
    common = [
        *KEYS,
        "item",
        "n",
        "n_eff",
        (pl.col("n_eff") < params.min_n).alias("small_sample"),
        reference.alias("reference"),
    ]
    return metric_rows(
        [
            stats.select(
                pl.lit("attribute_csat").alias("metric"),
                pl.col("p").alias("value"),
                pl.Series("ci_low", low),
                pl.Series("ci_high", high),
                *common,
            ),
            stats.select(
                pl.lit("attribute_mean").alias("metric"),
                pl.col("mean").alias("value"),
                pl.Series("ci_low", m_low),
                pl.Series("ci_high", m_high),
                *common,
            ),
        ],
        {"n_eff": pl.Float64()},
    )


def _drivers(
    current: pl.LazyFrame, overall: str, attributes: list[str], params: ImprovementParameters, *, weighted: bool = False
) -> pl.DataFrame:
    """Key drivers of the overall answer, per scope: one respondent per row, the items as columns."""
    index = ["segment", "response_id", *(["weight"] if weighted else [])]
    wide = (
        current.filter(pl.col("question_id").is_in([overall, *attributes]))
        .collect()
        .pivot(on="question_id", index=index, values="value", aggregate_function="first")
        # The bootstrap draws rows by position: a fixed order makes its intervals the same on every run.
        .sort("segment", "response_id")
    )
    for column in (overall, *attributes):
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(column))
    frames = [
        driver_weights(
            part,
            overall,
            attributes,
            period=params.period,
            segment=segment,
            seed=params.seed,
            bootstrap=params.bootstrap,
            min_n=params.min_n,
            weight="weight" if weighted else None,
        )
        for (segment,), part in sorted(wide.partition_by("segment", as_dict=True).items())
    ]
    rows = metric_rows(frames)
    if not weighted:
        return rows
    # Weighted drivers carry their Kish n_eff (of the complete cases they rest on), as every weighted figure.
    complete = wide.drop_nulls([overall, *attributes]).group_by("segment").agg(n_eff=n_eff_expr())
    return metric_rows([rows.join(complete, on="segment", how="left")], {"n_eff": pl.Float64()})


def _parents(themes: pl.DataFrame) -> dict[str, str | None]:
    return dict(themes.select("code", "parent").iter_rows())


def _excerpt_rows(inputs: ImprovementInputs) -> pl.LazyFrame:
    """Interview answers and focus-group excerpts as one list of coded quotes, with their source."""
    interviews = inputs.interviews.select(
        *KEYS,
        "themes",
        pl.col("interview_id").alias("document"),
        pl.col("excerpt").alias("quote"),
        source=pl.lit("interviews"),
    )
    groups = inputs.coded_excerpts.select(
        *KEYS, "themes", "document", "quote", "excerpt_id", source=pl.lit("focus groups")
    )
    return pl.concat([interviews, groups], how="diagonal")


def _scoped_excerpts(excerpts: pl.LazyFrame, params: ImprovementParameters) -> pl.DataFrame:
    """Up to two short quotes per theme and scope (the company's from every unit)."""
    scoped = with_company(excerpts)
    frames = [
        representative_excerpts(part, k=2).with_columns(segment=pl.lit(segment))
        for (segment,), part in scoped.collect().partition_by("segment", as_dict=True).items()
        if segment is not None
    ]
    if not frames:
        return pl.DataFrame(
            schema={
                "theme": pl.String,
                "rank": pl.Int64,
                "document": pl.String,
                "quote": pl.String,
                "truncated": pl.Boolean,
                "segment": pl.String,
            }
        )
    return pl.concat(frames, how="diagonal").sort("segment", "theme", "rank")


def _representativeness(participants: pl.LazyFrame, params: ImprovementParameters) -> pl.DataFrame:
    if not params.customer_base:
        return metric_rows([])
    people = participants.collect()
    if people.is_empty():
        return metric_rows([])
    return focus_group_representativeness(
        composition(people, "customer_type"), params.customer_base, period=params.period, segment=COMPANY
    )


def _question_of_period(current: pl.LazyFrame, interviews: pl.LazyFrame, params: ImprovementParameters) -> pl.DataFrame:
    """The period's one question: the share of each answer, and the mean (item "mean")."""
    question = params.question_of_period
    if question is None:
        return metric_rows([])
    if question in params.codebook["question_id"].to_list():
        answers = current.filter(pl.col("question_id") == question).select(*KEYS, answer="raw_value")
        source = "survey"
    else:
        answers = with_company(interviews.filter(pl.col("question") == question)).select(
            *KEYS, answer=pl.col("rating").cast(pl.Float64)
        )
        source = "interviews"
    answers = answers.filter(pl.col("answer").is_not_null())
    counts = answers.group_by(*KEYS, "answer").agg(k=pl.len()).with_columns(n=pl.col("k").sum().over(KEYS)).collect()
    low, high = wilson_interval(counts["k"].to_numpy(), counts["n"].to_numpy())
    shares = counts.select(
        pl.lit("question_of_period").alias("metric"),
        *KEYS,
        pl.format("answer:{}", pl.col("answer").cast(pl.Int64)).alias("item"),
        (pl.col("k") / pl.col("n")).alias("value"),
        "n",
        pl.Series("ci_low", low),
        pl.Series("ci_high", high),
        (pl.col("n") < params.min_n).alias("small_sample"),
        pl.lit(f"{question} ({source})").alias("reference"),
    )
    stats = answers.group_by(KEYS).agg(mean=pl.col("answer").mean(), sd=pl.col("answer").std(), n=pl.len()).collect()
    mean = mean_rows(
        stats.with_columns(item=pl.lit("mean")), "question_of_period", params.min_n, f"{question} ({source})"
    )
    return metric_rows([shares, mean])


def _goal_frame(goals: Sequence[Goal], values: pl.DataFrame) -> pl.DataFrame:
    """The goals as goal_status reads them. A goal without an item is on its metric's headline row (item
    blank); a metric that has only itemised rows (supplier_on_time: one per supplier) gets it on each item."""
    frame = pl.DataFrame(
        [g.__dict__ for g in goals],
        schema={
            "metric": pl.String,
            "comparator": pl.String,
            "target": pl.Float64,
            "at_risk_margin": pl.Float64,
            "item": pl.String,
        },
    )
    only_items = values.group_by("metric").agg(blank=pl.col("item").is_null().any()).filter(~pl.col("blank"))
    spread = pl.col("item").is_null() & pl.col("metric").is_in(only_items["metric"].to_list())
    each = frame.filter(spread).drop("item").join(values.select("metric", "item").unique(), on="metric")
    return pl.concat([frame.filter(~spread), each.select(frame.columns)]).sort("metric", "item", nulls_last=True)


def _unreached_times_missed(goals: pl.DataFrame) -> pl.DataFrame:
    """A median (or 90th percentile) time to resolution that is not reached - more than half the cases
    still open - is longer than any "at most" target: the goal is missed, not without data."""
    unreached = (
        pl.col("item").str.starts_with("time_to_resolution")
        & pl.col("value").is_null()
        & (pl.col("n") > 0)
        & (pl.col("comparator") == "<=")
    )
    return goals.with_columns(reference=pl.when(unreached).then(pl.lit("missed")).otherwise(pl.col("reference")))


def _delivery_gaps(values: pl.DataFrame, goals: Sequence[Goal]) -> pl.DataFrame | None:
    """Gap 3: each operational goal's result against its target (the standard), positive = better."""
    goals = [g for g in goals if g.metric in OPERATIONAL]
    if not goals:
        return None
    frame = _goal_frame(goals, values).join(values, on=["metric", "item"], how="inner", nulls_equal=True)
    if frame.is_empty():
        return None
    sign = pl.when(pl.col("comparator") == ">=").then(1.0).otherwise(-1.0)
    low = sign * (pl.when(sign > 0).then(pl.col("ci_low")).otherwise(pl.col("ci_high")) - pl.col("target"))
    high = sign * (pl.when(sign > 0).then(pl.col("ci_high")).otherwise(pl.col("ci_low")) - pl.col("target"))
    return frame.select(
        *KEYS,
        pl.when(pl.col("item").is_null())
        .then(pl.col("metric"))
        .otherwise(pl.format("{}/{}", "metric", "item"))
        .alias("item"),
        (sign * (pl.col("value") - pl.col("target"))).alias("value"),
        "n",
        low.alias("ci_low"),
        high.alias("ci_high"),
    )


def _problems(inputs: ImprovementInputs, excerpts: pl.LazyFrame, params: ImprovementParameters) -> pl.DataFrame:
    """top_problem per scope, for the period and the one before it (the report shows the change)."""
    periods = params.history[-2:]
    complaints = with_company(inputs.complaints.filter(pl.col("period").is_in(periods))).collect()
    coded = (
        with_company(excerpts.filter(pl.col("period").is_in(periods)))
        .explode("themes")
        .filter(pl.col("themes").is_not_null())
        .group_by(*KEYS, "source", theme="themes")
        .agg(count=pl.len())
        .collect()
    )
    returns = with_company(inputs.returns.filter(pl.col("period").is_in(periods))).collect()
    suppliers = inputs.supplier_issues.filter(pl.col("period").is_in(periods)).collect()
    currency = complaints.filter(pl.col("compensation_amount") > 0)["compensation_currency"].drop_nulls().mode()
    # Costs add up in one currency only: the one most compensation was paid in (the others stay in compensation_total).
    unit = currency.sort()[0] if len(currency) else ""
    cost = complaints.filter(pl.col("compensation_currency") == unit) if unit else complaints.clear()
    # One split per source, not one filter per scope: hundreds of units stay one pass each.
    parts = {
        name: frame.partition_by("period", "segment", as_dict=True)
        for name, frame in (("complaints", complaints), ("coded", coded), ("returns", returns), ("cost", cost))
    }
    scopes = {key for split in parts.values() for key in split if key[1] is not None}
    frames = []
    for period, segment in sorted(scopes | {(p, COMPANY) for p in periods}):
        empty = {
            name: frame.clear()
            for name, frame in (("complaints", complaints), ("coded", coded), ("returns", returns), ("cost", cost))
        }
        got = {name: split.get((period, segment), empty[name]) for name, split in parts.items()}
        spent = got["cost"].group_by(theme="category").agg(cost=pl.col("compensation_amount").sum())
        ranked = top_problems(
            params.themes,
            period=period,
            segment=segment,
            complaints=got["complaints"],
            coded=got["coded"],
            supplier_issues=suppliers.filter(pl.col("period") == period) if segment == COMPANY else None,
            returns=got["returns"],
            cost=spent,
            weights=params.problem_weights,
        )
        # The cost that weighed in the ranking is part of the evidence a reader sees.
        paid = pl.format("compensation {} {}", pl.col("cost").round(2), pl.lit(unit))
        frames.append(
            ranked.join(spent.rename({"theme": "item"}), on="item", how="left").with_columns(
                reference=pl.when(pl.col("cost") > 0)
                .then(pl.concat_str([paid, pl.col("reference")], separator=", "))
                .otherwise(pl.col("reference"))
            )
        )
    return metric_rows(frames, EXTRA)


# Figures of survey answers: a unit's are hidden when it had fewer respondents than the minimum group size.
SURVEY_METRICS = (
    "attribute_csat",
    "attribute_mean",
    "trend",
    "p_chart",
    "spc_signal",
    "driver_weight",
    "driver_r2",
    "ipa_quadrant",
    "servqual_gap",
    "low_expectation_flag",
    "mode_effect",
    "wording_effect",
    "question_of_period",
)


def mark_small_groups(metrics: pl.DataFrame, respondents: pl.DataFrame, min_group_size: int) -> pl.DataFrame:
    """`metrics` with `suppressed` = "below minimum" on the survey rows of a unit or group (not the company)
    whose period had fewer respondents than `min_group_size` (`respondents`: period, segment, value); the
    report does not show them, the metrics file keeps them marked (as the scorecard's)."""
    small = respondents.filter(pl.col("value") < min_group_size).select("period", "segment", small=pl.lit(True))
    return (
        metrics.join(small, on=["period", "segment"], how="left")
        .with_columns(
            suppressed=pl.when(
                pl.col("small").fill_null(False)
                & pl.col("metric").is_in(SURVEY_METRICS)
                & (pl.col("segment") != COMPANY)
            ).then(pl.lit("below minimum"))
        )
        .drop("small")
    )

"""Build continuous-improvement reports from the store: one snapshot read per run, then one report per scope.

The report's period is a month, quarter or year (`improvement.period` in config/pipeline.yaml); its
label comes from each row's own date in the period time zone (an answer's submission, a complaint's
receipt, an interview, a focus-group session, a supplier or operations file's period start). The
snapshot reads every source the report uses, labels it, and computes every metric for the company
and each unit in one pass (transforms/improvement/report_metrics.py); a group's figures are computed
from its member units' rows when its report is built. Plain functions (no Prefect).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from flows.scorecard_report import NoDataError, ReportScope, check_reproducible
from flows.settings import Settings
from flows.sources import SOURCES, codebook_frame
from flows.store import Store
from transforms.data_quality import answers_by_file, current_answers, files_in_scope, quarantine_summary
from transforms.improvement.operations import ProblemWeights
from transforms.improvement.report_metrics import (
    Goal,
    ImprovementInputs,
    ImprovementParameters,
    ImprovementResult,
    improvement_metrics,
    mark_small_groups,
)
from transforms.normalise import answers_long
from transforms.periods import period_after, period_label, period_of_date, period_of_time, periods_up_to
from transforms.report_context.improvement import ImprovementMeta
from transforms.scopes import COMPANY
from transforms.weighting import margin_shares, rake

KIND = "improvement"
READS = tuple(source.name for source in SOURCES)  # every source: all are evidence of what to fix


@dataclass(frozen=True)
class ImprovementSnapshot:
    """What every improvement report of one period reads from the store, read once per run."""

    period: str
    previous: str | None
    granularity: str  # month | quarter | year
    data_as_of: datetime
    reproduced: bool
    result: ImprovementResult  # the company and every unit
    inputs: ImprovementInputs  # labelled store tables: a group's figures are computed from them
    params: ImprovementParameters
    volume: pl.DataFrame  # responses per period and unit (metric, period, segment, mode, value): the gate's
    intake_period: str  # the year label of the period: files and their rows are counted per year
    current_answers: pl.DataFrame
    ingest_files: pl.DataFrame
    file_units: pl.DataFrame
    quarantine: pl.DataFrame


@dataclass(frozen=True)
class ImprovementData:
    """One scope's cut of the snapshot: what its report prints."""

    scope: ReportScope
    period: str
    previous: str | None
    granularity: str
    history: tuple[str, ...]
    data_as_of: datetime
    reproduced: bool
    metrics: pl.DataFrame  # the metrics file: the scope and, for the company or a group, its units
    excerpts: pl.DataFrame
    files: pl.DataFrame
    quarantine_reasons: pl.DataFrame
    inputs: dict[str, dict[str, Any]]

    @property
    def segment(self) -> str:
        return self.scope.name


def improvement_parameters(
    settings: Settings, period: str, history: list[str], as_of: datetime
) -> ImprovementParameters:
    cfg = settings.pipeline.improvement
    frame = settings.coding_frame
    question = cfg.question_of_period.periods.get(period, cfg.question_of_period.default)
    return ImprovementParameters(
        period=period,
        history=tuple(history),
        as_of=as_of,
        codebook=codebook_frame(settings.codebook),
        themes=pl.DataFrame(
            {
                "code": [t.code for t in frame.themes],
                "label": [t.label for t in frame.themes],
                "parent": [t.parent for t in frame.themes],
                "actionable": [t.actionable for t in frame.themes],
            },
            schema={"code": pl.String, "label": pl.String, "parent": pl.String, "actionable": pl.Boolean},
        ),
        min_n=cfg.min_n,
        bootstrap=cfg.bootstrap,
        repeat_window_days=cfg.repeat_window_days,
        iceberg_ratio=cfg.iceberg_ratio,
        problem_weights=ProblemWeights(**cfg.top_problems.model_dump()),
        goals=tuple(Goal(g.metric, g.comparator, g.target, g.at_risk_margin, g.item) for g in cfg.goals),
        service_standards=dict(settings.pipeline.management.service_standards),
        customer_base=dict(cfg.customer_base),
        question_of_period=question,
    )


def _labels(settings: Settings) -> tuple[str, str, int]:
    periods = settings.pipeline.periods
    return settings.pipeline.improvement.period, periods.timezone, periods.start_month


def available_periods(
    settings: Settings, store: Store, units: tuple[str, ...] | None, as_of: datetime | None
) -> list[str]:
    """Report periods with survey answers (of `units`, else of anyone), as the store was at `as_of`."""
    if store.version("responses", as_of) is None:
        raise NoDataError("the store holds no answers yet: drop survey exports into inbox/surveys/ and run again")
    granularity, tz, start = _labels(settings)
    responses = store.scan("responses", as_of)
    if units is not None:
        responses = responses.filter(pl.col("segment").is_in(list(units)))
    labels = responses.select(period_of_time(pl.col("submitted_at"), granularity, tz, start).unique().alias("p"))
    return sorted(labels.collect()["p"].drop_nulls().to_list())


def resolve_period(requested: str, available: list[str], settings: Settings, now: datetime) -> str:
    """'latest' -> the latest complete period with answers; an explicit label must have answers."""
    granularity, tz, start = _labels(settings)
    if requested != "latest":
        if requested not in available:
            raise NoDataError(
                f"no answers for {granularity} {requested}; {granularity}s in the store: "
                f"{', '.join(available[-24:]) or 'none'}"
            )
        return requested
    today = now.astimezone(ZoneInfo(tz)).date()
    # Complete once its last complaints' repeat-contact windows have closed: built earlier, its figures would
    # move night after night (and each move would be emailed as a correction).
    settle = timedelta(days=settings.pipeline.improvement.repeat_window_days)
    complete = [p for p in available if period_after(p, granularity, start) + settle <= today]
    if not complete:
        raise NoDataError(
            f"no complete {granularity} with answers yet (in the store: {', '.join(available) or 'none'})"
        )
    return complete[-1]


def _labelled(frame: pl.LazyFrame, label: pl.Expr, history: list[str]) -> pl.LazyFrame:
    return frame.with_columns(period=label).filter(pl.col("period").is_in(history))


def _latest_round(frame: pl.LazyFrame, who: str, before: date, period: str) -> pl.LazyFrame:
    """Each person's latest assessment on or before the period's end, shown under the period."""
    dated = frame.filter(pl.col("assessed_on") < before)
    return dated.filter(pl.col("assessed_on") == pl.col("assessed_on").max().over(who)).with_columns(
        period=pl.lit(period)
    )


def read_inputs(
    settings: Settings, store: Store, period: str, history: list[str], as_of: datetime | None
) -> ImprovementInputs:
    """The store's tables the report reads, each row labelled with its report period."""
    granularity, tz, start = _labels(settings)

    def at(column: str) -> pl.Expr:
        return period_of_time(pl.col(column), granularity, tz, start)

    def on(column: str) -> pl.Expr:
        return period_of_date(pl.col(column), granularity, start)

    responses = _labelled(store.scan("responses", as_of), at("submitted_at"), history)
    weighting, weights = settings.pipeline.weighting, None
    if weighting.margins:
        # The period's responses raked to the population margins (transforms/weighting.py), as the scorecard does.
        # Raked over the year to the period (two years for a yearly report), not one month: a month's few answers
        # of a small unit would get extreme weights. The period and the one before are weighted alike.
        year = periods_up_to(period, {"month": 12, "quarter": 4, "year": 2}[granularity], granularity, start)
        weights = rake(
            responses.filter(pl.col("period").is_in(year)).with_columns(window=pl.lit(period)),
            weighting.margins,
            by=("window",),
            tolerance=weighting.tolerance,
            max_iterations=weighting.max_iterations,
            on_missing="rescale",
        ).select("response_id", "weight")
    sessions = store.scan("focus_group_sessions", as_of).select("session_id", "segment", period=at("held_at"))
    end = period_after(period, granularity, start)
    return ImprovementInputs(
        answers=answers_long(responses, codebook_frame(settings.codebook)),
        complaints=_labelled(store.scan("complaints", as_of), at("received_at"), history),
        interviews=_labelled(store.scan("interview_answers", as_of), at("interviewed_at"), history),
        # An excerpt belongs to its session's unit and period (coding may happen weeks later); an excerpt of
        # no known session (an interview transcript coded in a QDA tool) to the time it was coded.
        coded_excerpts=store.scan("coded_excerpts", as_of)
        .drop("segment", "period", strict=False)
        .join(sessions, left_on="document", right_on="session_id", how="left")
        .with_columns(pl.col("period").fill_null(at("coded_at")))
        .filter(pl.col("period").is_in(history)),
        participants=store.scan("focus_group_participants", as_of)
        .drop("segment", "period", strict=False)  # a participant's unit and period are its session's
        .join(sessions, on="session_id")
        .filter(pl.col("period").is_in(history)),
        supplier_scorecards=_labelled(store.scan("supplier_scorecards", as_of), on("period_start"), history),
        supplier_issues=_labelled(store.scan("supplier_issues", as_of), on("period_start"), history),
        orders=_labelled(store.scan("orders", as_of), on("period_start"), history),
        returns=_labelled(store.scan("returns", as_of), on("period_start"), history),
        management=_latest_round(store.scan("management_expectations", as_of), "manager_id", end, period),
        self_assessments=_latest_round(store.scan("self_assessments", as_of), "assessor_id", end, period),
        weights=weights,
    )


def read_snapshot(
    settings: Settings,
    store: Store,
    *,
    period: str = "latest",
    units: tuple[str, ...] | None = None,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> ImprovementSnapshot:
    """Everything the period's improvement reports need, read from the store as it was at `as_of`."""
    now = now or datetime.now(UTC)
    check_reproducible(store, as_of)
    granularity, tz, start = _labels(settings)
    available = available_periods(settings, store, units, as_of)
    chosen = resolve_period(period, available, settings, as_of or now)  # "latest" as it was at `as_of`
    history = periods_up_to(chosen, settings.pipeline.improvement.history, granularity, start)
    data_as_of = as_of or (now + timedelta(seconds=1)).replace(microsecond=0)
    inputs = read_inputs(settings, store, chosen, history, as_of)
    # Complaints are counted as at the period's cut-off (its end plus the repeat window): a case still open
    # then is open in the report, so later nights do not change a delivered month.
    cutoff = datetime.combine(period_after(chosen, granularity, start), datetime.min.time(), ZoneInfo(tz)) + timedelta(
        days=settings.pipeline.improvement.repeat_window_days
    )
    params = improvement_parameters(settings, chosen, history, min(data_as_of, cutoff.astimezone(UTC)))
    result = improvement_metrics(inputs, params)
    first_day = period_after(chosen, granularity, start) - timedelta(days=1)
    year = pl.select(period_label(pl.lit(datetime.combine(first_day, datetime.min.time(), ZoneInfo(tz))), tz, start))
    intake_period = year.item()
    # Responses per period and unit for the completeness gate: counted on the stored rows, one per response.
    volume = (
        _labelled(
            store.scan("responses", as_of), period_of_time(pl.col("submitted_at"), granularity, tz, start), history
        )
        .group_by("period", "segment")
        .agg(value=pl.len().cast(pl.Float64))
    )
    volume = pl.concat(
        [volume, volume.group_by("period").agg(pl.col("value").sum()).with_columns(segment=pl.lit(COMPANY))],
        how="diagonal",
    )
    responses = store.scan("responses", as_of)
    volume_df, current, ingest_files, file_units, quarantine = pl.collect_all(
        [
            volume.with_columns(metric=pl.lit("responses"), mode=pl.lit("all")),
            current_answers(responses, intake_period),
            store.scan("ingest_files", as_of),
            store.scan("ingest_file_units", as_of),
            store.scan("quarantine", as_of).select("file_sha256", "source_file", "source_line", "segment", "reason"),
        ]
    )
    previous = history[-2] if len(history) > 1 and history[-2] in available else None
    return ImprovementSnapshot(
        period=chosen,
        previous=previous,
        granularity=granularity,
        data_as_of=data_as_of,
        reproduced=as_of is not None,
        result=result,
        inputs=inputs,
        params=params,
        volume=volume_df,
        intake_period=intake_period,
        current_answers=current,
        ingest_files=ingest_files,
        file_units=file_units,
        quarantine=quarantine,
    )


def _group_result(snapshot: ImprovementSnapshot, scope: ReportScope) -> ImprovementResult:
    """A group's figures: the company's computation over its member units' rows, named after the group."""
    members = list(scope.units)

    def only(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(pl.col("segment").is_in(members))

    inputs = snapshot.inputs
    nothing = pl.lit(False)  # suppliers serve the company, not a group: their figures are the company report's
    scoped = replace(
        inputs,
        supplier_scorecards=inputs.supplier_scorecards.filter(nothing),
        supplier_issues=inputs.supplier_issues.filter(nothing),
        management=only(inputs.management),
        **{
            name: only(getattr(inputs, name))
            for name in (
                "answers",
                "complaints",
                "interviews",
                "coded_excerpts",
                "orders",
                "returns",
                "self_assessments",
            )
        },
        participants=only(inputs.participants),
    )
    result = improvement_metrics(scoped, snapshot.params)
    rename = pl.when(pl.col("segment") == COMPANY).then(pl.lit(scope.name)).otherwise(pl.col("segment"))
    return ImprovementResult(
        metrics=result.metrics.filter(pl.col("segment") == COMPANY).with_columns(segment=rename),
        excerpts=result.excerpts.filter(pl.col("segment") == COMPANY).with_columns(segment=rename),
    )


def scope_improvement(snapshot: ImprovementSnapshot, scope: ReportScope, settings: Settings) -> ImprovementData:
    """The scope's cut of the snapshot; raises NoDataError when the scope has no answers in the period."""
    groups = {g.name for g in settings.pipeline.groups}
    segment = pl.col("segment")
    result = snapshot.result
    if scope.company:
        metrics, excerpts = result.metrics, result.excerpts.filter(segment == COMPANY)
    elif scope.name in groups:
        group = _group_result(snapshot, scope)
        metrics = pl.concat([group.metrics, result.metrics.filter(segment.is_in(list(scope.units)))])
        excerpts = group.excerpts
    else:
        metrics = result.metrics.filter(segment == scope.name)
        excerpts = result.excerpts.filter(segment == scope.name)
    answered = snapshot.volume.filter(
        (pl.col("period") == snapshot.period) & (segment.is_in([*scope.units, scope.name]))
    )
    if answered.is_empty():
        raise NoDataError(f"{scope.name} has no answers for {snapshot.period}")
    units = scope.unit_filter
    read_files = snapshot.ingest_files.lazy().filter(pl.col("source").is_in(READS))
    files_lazy = files_in_scope(read_files, snapshot.file_units.lazy(), units, snapshot.intake_period)
    files, reasons, inputs = pl.collect_all(
        [
            files_lazy,
            quarantine_summary(snapshot.quarantine.lazy(), files_lazy, units),
            answers_by_file(snapshot.current_answers.lazy(), snapshot.ingest_files.lazy(), units),
        ]
    )
    # Respondents per period of every unit and group: a group's are its members' together.
    respondents = pl.concat(
        [
            snapshot.volume.select("period", "segment", "value"),
            *(
                snapshot.volume.filter(pl.col("segment").is_in(list(settings.units_in(g.name))))
                .group_by("period")
                .agg(pl.col("value").sum())
                .with_columns(segment=pl.lit(g.name))
                .select("period", "segment", "value")
                for g in settings.pipeline.groups
            ),
        ]
    )
    metrics = mark_small_groups(metrics, respondents, settings.pipeline.report.min_group_size)
    return ImprovementData(
        scope=scope,
        period=snapshot.period,
        previous=snapshot.previous,
        granularity=snapshot.granularity,
        history=snapshot.params.history,
        data_as_of=snapshot.data_as_of,
        reproduced=snapshot.reproduced,
        metrics=metrics.sort("metric", "period", "segment", "item", "reference", nulls_last=True),
        excerpts=excerpts,
        files=files,
        quarantine_reasons=reasons,
        inputs={sha: {"file": name, "answers": n} for sha, name, n in inputs.iter_rows()},
    )


def improvement_meta(settings: Settings, data: ImprovementData, banner: list[str] | None = None) -> ImprovementMeta:
    codebook, cfg = settings.codebook, settings.pipeline.improvement
    overall = codebook.by_kind("overall")[0]
    question = cfg.question_of_period.periods.get(data.period, cfg.question_of_period.default)
    texts = {q.id: q.text for q in codebook.questions}
    return ImprovementMeta(
        organisation=settings.pipeline.report.organisation,
        period=data.period,
        previous_period=data.previous,
        granularity=data.granularity,
        history=data.history,
        segment=data.segment,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        data_as_of=f"{data.data_as_of.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        locale=settings.pipeline.report.locale,
        min_n=cfg.min_n,
        overall_item=overall.id,
        # A negatively worded statement is scored reversed ("satisfied" = disagreeing): its label says so.
        questions=tuple(
            (q.id, q.text + (" (reversed)" if q.wording == "negative" else ""), q.dimension)
            for q in [overall, *codebook.by_kind("attribute")]
        ),
        themes=tuple((t.code, t.label, t.actionable) for t in settings.coding_frame.themes),
        goals=tuple((g.metric, g.item, g.label or g.metric.replace("_", " ")) for g in cfg.goals),
        question_of_period=(question, texts.get(question, question.replace("_", " "))) if question else None,
        iceberg_ratio=cfg.iceberg_ratio,
        problem_weights=(cfg.top_problems.frequency, cfg.top_problems.cost, cfg.top_problems.actionable),
        min_group_size=settings.pipeline.report.min_group_size,
        min_comment_group_size=settings.pipeline.report.min_comment_group_size,
        weighting=tuple(
            f"{'business unit' if variable == 'segment' else variable}: "
            + ", ".join(f"{category} {share:.0%}" for category, share in categories.items())
            for variable, categories in margin_shares(settings.pipeline.weighting.margins).items()
        ),
        banner=tuple(banner or ()),
        members=data.scope.units if data.scope.name in {g.name for g in settings.pipeline.groups} else (),
        source_titles=tuple((s.name, s.title) for s in SOURCES),
    )

"""Build scorecard reports from the store: one snapshot read per run, then one report per scope.

A scope is the company ('All'), a unit or a group of units. Everything a report shows is cut
from the snapshot by its scope's units, so a unit's report holds only that unit's figures,
comments, files and quarantined rows. Plain functions (no Prefect): tests and flows share them.

A report's files (PDF, metrics CSV and Parquet, manifest) are written together: all are
prepared first, then renamed into place, the manifest last with the hash of each file, so a
failed render or a full disk changes nothing and a run killed between renames is detected
(and the report rebuilt) by the next run.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import io
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from flows.files import atomic_write_many, sha256_file
from flows.migrations import reproducible_since
from flows.names import report_stem
from flows.settings import Settings
from flows.sources import SOURCES, codebook_frame
from flows.store import Store
from transforms.comments import comment_candidates, select_comments
from transforms.data_quality import answers_by_file, current_answers, files_in_scope, period_rank, quarantine_summary
from transforms.normalise import answers_long
from transforms.periods import previous_period
from transforms.report_context import ScorecardMeta
from transforms.scopes import COMPANY
from transforms.scorecard import ScorecardParameters, answer_sums, q_values, quotable_units, scorecard_metrics
from transforms.weighting import margin_gaps, rake


def start_importing_statistics() -> None:
    """Import scipy.special (the t and normal distributions of the intervals, ~0.5 s) in the
    background: a run calls this before its ingest, so the metrics that follow find it ready."""
    threading.Thread(target=importlib.import_module, args=("scipy.special",), name="import-scipy").start()


KIND = "scorecard"
READS = ("surveys",)  # the sources a scorecard reads: only their files are on its data-quality page


class NoDataError(Exception):
    """The requested period or scope has no answers: no report rather than an empty one."""


@dataclass(frozen=True)
class ReportScope:
    name: str  # 'All', a group or a unit
    units: tuple[str, ...]

    @property
    def company(self) -> bool:
        return self.name == COMPANY

    @property
    def unit_filter(self) -> tuple[str, ...] | None:
        """The units to cut by, None for the company (every row, also rows of units no longer configured)."""
        return None if self.company else self.units


def report_scope(settings: Settings, name: str) -> ReportScope:
    return ReportScope(name, settings.units_in(name))


@dataclass(frozen=True)
class StoreSnapshot:
    """What every scorecard of one period reads from the store, read once per run."""

    period: str
    previous: str | None
    data_as_of: datetime
    reproduced: bool  # read "as of" a past time: written beside, never over, the current reports
    metrics: pl.DataFrame  # every unit, group and the company total, periods up to `period`
    comments: pl.DataFrame  # the period's commented responses
    current_answers: pl.DataFrame  # responses each file provides now, per unit (transforms.data_quality)
    ingest_files: pl.DataFrame
    file_units: pl.DataFrame
    quarantine: pl.DataFrame
    # Weighted (weighting.margins configured): margin categories without answers per period (`margin_gaps`).
    weighting_gaps: pl.DataFrame | None = None

    @property
    def intake_period(self) -> str:
        """The period files and their rows are counted in (ingest_file_units): the report's own year."""
        return self.period

    @property
    def volume(self) -> pl.DataFrame:
        """The `responses` rows the completeness gate compares (transforms.completeness.volume_issues)."""
        return self.metrics


@dataclass(frozen=True)
class ScorecardData:
    """One scope's cut of the snapshot: what its report prints."""

    scope: ReportScope
    period: str
    previous: str | None
    data_as_of: datetime
    reproduced: bool
    metrics: pl.DataFrame
    files: pl.DataFrame
    quarantine_reasons: pl.DataFrame
    comments: pl.DataFrame
    inputs: dict[str, dict[str, Any]]  # file content hash -> {"file": name, "answers": n} (a correction's cause)
    weighting_gaps: pl.DataFrame | None = None  # the snapshot's, None when unweighted

    @property
    def segment(self) -> str:
        return self.scope.name


@dataclass(frozen=True)
class ReportFiles:
    kind: str
    period: str
    segment: str
    pdf: Path
    metrics_csv: Path
    metrics_parquet: Path
    data_as_of: datetime
    fingerprint: str = ""
    reproduced: bool = False

    @property
    def key(self) -> str:
        """The delivery key; a reproduction has its own, so sending it never counts as holding the current report."""
        key = f"{self.kind}/{self.period}/{self.segment}"
        return f"{key}@as-of-{self.data_as_of.astimezone(UTC):%Y%m%dT%H%M%S}" if self.reproduced else key

    @property
    def manifest(self) -> Path:
        return self.pdf.with_suffix(".json")


def scorecard_parameters(settings: Settings) -> ScorecardParameters:
    codebook, pipeline = settings.codebook, settings.pipeline
    nps = codebook.by_kind("nps")
    return ScorecardParameters(
        overall_item=codebook.by_kind("overall")[0].id,
        nps_item=nps[0].id if nps else None,
        attribute_items=[q.id for q in codebook.by_kind("attribute")],
        min_n=pipeline.report.min_n,
        target_csat=pipeline.targets.csat_top2box,
        target_nps=pipeline.targets.nps,
        benchmarks=[(b.name, b.metric, b.value, b.period) for b in pipeline.benchmarks],
        groups={g.name: settings.units_in(g.name) for g in pipeline.groups},
        min_group_size=pipeline.report.min_group_size,
    )


def period_end(label: str, settings: Settings) -> datetime:
    """First instant after the period, in the period time zone."""
    tz = ZoneInfo(settings.pipeline.periods.timezone)
    if label.startswith("FY"):
        return datetime(int(label[2:]), settings.pipeline.periods.start_month, 1, tzinfo=tz)
    return datetime(int(label) + 1, 1, 1, tzinfo=tz)


def resolve_period(requested: str, available: list[str], settings: Settings, now: datetime) -> str:
    """'latest' -> the most recent complete period with answers; an explicit label must have answers."""
    if requested != "latest":
        if requested not in available:
            raise NoDataError(
                f"no answers for period {requested}; periods in the store: {', '.join(sorted(available)) or 'none'}"
            )
        return requested
    complete = sorted(p for p in available if period_end(p, settings) <= now)
    if not complete:
        raise NoDataError(
            "no complete reporting period with answers yet "
            f"(periods in the store: {', '.join(sorted(available)) or 'none'}); "
            "set report.period in config/pipeline.yaml or pass --period"
        )
    return complete[-1]


def check_reproducible(store: Store, as_of: datetime | None) -> None:
    """Refuse an `as_of` the store cannot show faithfully: before its first data or its last migration."""
    if as_of is None:
        return
    since = reproducible_since(store)
    if since is not None and as_of < since:
        raise NoDataError(
            f"--as-of {as_of:%Y-%m-%d %H:%M:%S} UTC is before {since:%Y-%m-%d %H:%M:%S} UTC, when the store was "
            "migrated to the current layout: reproductions go back to then"
        )
    if store.version("responses", as_of) is None:
        first = store.history_start("responses")
        raise NoDataError(
            f"--as-of {as_of:%Y-%m-%d %H:%M:%S} UTC is before the store's first data"
            + (f" ({first:%Y-%m-%d %H:%M:%S} UTC)" if first else " (the store is empty)")
        )


def available_periods(store: Store, units: tuple[str, ...] | None = None, as_of: datetime | None = None) -> list[str]:
    """Periods with answers (of `units`, else of anyone), as the store was at `as_of`."""
    if store.version("responses", as_of) is None:
        raise NoDataError("the store holds no answers yet: drop survey exports into inbox/surveys/ and run again")
    responses = store.scan("responses", as_of)
    if units is not None:
        responses = responses.filter(pl.col("segment").is_in(list(units)))
    return sorted(responses.select(pl.col("period").unique()).collect()["period"].drop_nulls().to_list())


def read_snapshot(
    settings: Settings,
    store: Store,
    *,
    period: str = "latest",
    units: tuple[str, ...] | None = None,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> StoreSnapshot:
    """Everything the period's scorecards need, read from the store as it was at `as_of` (default: now).

    `units` narrows which periods count as available ('latest' for one unit is its latest period).
    """
    now = now or datetime.now(UTC)
    check_reproducible(store, as_of)
    available = available_periods(store, units, as_of)
    chosen = resolve_period(period, available, settings, now)
    in_scope = period_rank(pl.col("period")) <= period_rank(pl.lit(chosen))
    params = scorecard_parameters(settings)
    responses = store.scan("responses", as_of)
    codebook = codebook_frame(settings.codebook)
    # Comments quote the period's overall answer only: reshape just that column of just that period.
    overall = answers_long(
        responses.filter(pl.col("period") == chosen), codebook.filter(pl.col("question_id") == params.overall_item)
    )
    in_periods = responses.filter(in_scope)
    weighting, gaps = settings.pipeline.weighting, None
    if weighting.margins:
        # One weight per response, raked per period over all of the period's responses (every scope cuts them).
        gaps = margin_gaps(in_periods, weighting.margins)
        in_periods = rake(
            in_periods,
            weighting.margins,
            tolerance=weighting.tolerance,
            max_iterations=weighting.max_iterations,
            on_missing="rescale",
        )
    metrics = scorecard_metrics(answer_sums(in_periods, codebook), in_periods, params)
    comments, current, ingest_files, file_units, quarantine = pl.collect_all(
        [
            comment_candidates(responses, overall, chosen, params.overall_item),
            current_answers(responses, chosen),
            store.scan("ingest_files", as_of),
            store.scan("ingest_file_units", as_of),
            store.scan("quarantine", as_of).select("file_sha256", "source_file", "source_line", "segment", "reason"),
        ]
    )
    previous = previous_period(chosen)
    return StoreSnapshot(
        period=chosen,
        previous=previous if previous in available else None,
        # Whole seconds, rounded up, so the printed time (to the second) still includes the latest commit.
        data_as_of=as_of or (now + timedelta(seconds=1)).replace(microsecond=0),
        reproduced=as_of is not None,
        metrics=metrics,
        comments=comments,
        current_answers=current,
        ingest_files=ingest_files,
        file_units=file_units,
        quarantine=quarantine,
        weighting_gaps=gaps,
    )


def scope_scorecard(snapshot: StoreSnapshot, scope: ReportScope, settings: Settings) -> ScorecardData:
    """The scope's cut of the snapshot; raises NoDataError when the scope has no answers in the period."""
    groups = {g.name for g in settings.pipeline.groups}
    segment = pl.col("segment")
    if scope.company:
        # Unit rows and the total; group roll-ups belong to the groups' own reports.
        metrics = snapshot.metrics.filter(~segment.is_in(list(groups)))
    elif scope.name in groups:
        metrics = snapshot.metrics.filter(segment.is_in([*scope.units, scope.name]))
    else:
        metrics = snapshot.metrics.filter(segment == scope.name)
    # Many comparisons are those the report makes: its q-values adjust over the segments it shows.
    metrics = q_values(metrics)
    answered = metrics.filter(
        (pl.col("metric") == "responses") & (pl.col("period") == snapshot.period) & (segment == scope.name)
    )
    if answered.is_empty():
        raise NoDataError(f"{scope.name} has no answers for period {snapshot.period}")
    units = scope.unit_filter
    # Comments are quoted only from units with enough respondents that a comment cannot point at its author.
    quotable = quotable_units(snapshot.metrics, snapshot.period, settings.pipeline.report.min_comment_group_size)
    comment_units = [u for u in (units if units is not None else quotable) if u in quotable]
    read_files = snapshot.ingest_files.lazy().filter(pl.col("source").is_in(READS))
    files_lazy = files_in_scope(read_files, snapshot.file_units.lazy(), units, snapshot.period)
    files, reasons, comments, inputs = pl.collect_all(
        [
            files_lazy,
            quarantine_summary(snapshot.quarantine.lazy(), files_lazy, units),
            select_comments(snapshot.comments.lazy(), comment_units, settings.pipeline.report.comments_shown),
            answers_by_file(snapshot.current_answers.lazy(), snapshot.ingest_files.lazy(), units),
        ]
    )
    return ScorecardData(
        scope=scope,
        period=snapshot.period,
        previous=snapshot.previous,
        data_as_of=snapshot.data_as_of,
        reproduced=snapshot.reproduced,
        metrics=metrics,
        files=files,
        quarantine_reasons=reasons,
        comments=comments,
        inputs={sha: {"file": name, "answers": n} for sha, name, n in inputs.iter_rows()},
        weighting_gaps=snapshot.weighting_gaps,
    )


def gather_scorecard(
    settings: Settings,
    store: Store,
    *,
    period: str = "latest",
    segment: str = COMPANY,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> ScorecardData:
    """One scope's scorecard data straight from the store (on-demand reports, tests, benchmarks)."""
    scope = report_scope(settings, segment)
    snapshot = read_snapshot(settings, store, period=period, units=scope.unit_filter, as_of=as_of, now=now)
    return scope_scorecard(snapshot, scope, settings)


def scorecard_meta(settings: Settings, data: ScorecardData, banner: list[str] | None = None) -> ScorecardMeta:
    codebook, report_cfg = settings.codebook, settings.pipeline.report
    overall = codebook.by_kind("overall")[0]
    nps = codebook.by_kind("nps")
    return ScorecardMeta(
        organisation=report_cfg.organisation,
        period=data.period,
        previous_period=data.previous,
        segment=data.segment,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        data_as_of=f"{data.data_as_of.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        locale=report_cfg.locale,
        min_n=report_cfg.min_n,
        target_csat=settings.pipeline.targets.csat_top2box,
        target_nps=settings.pipeline.targets.nps,
        overall_question=overall.text,
        nps_question=nps[0].text if nps else None,
        attributes=[(q.id, q.text, q.dimension, q.wording == "negative") for q in codebook.by_kind("attribute")],
        benchmarks=[
            (b.name, b.metric, b.value, b.source)
            for b in settings.pipeline.benchmarks
            if b.period in (None, data.period) and (b.metric != "nps" or nps)
        ],
        comment_max_chars=report_cfg.comment_max_chars,
        mode_shift_warning_pts=report_cfg.mode_shift_warning_pts,
        overall_scale=(overall.scale.min, overall.scale.max),
        banner=tuple(banner or ()),
        members=data.scope.units if data.scope.name in {g.name for g in settings.pipeline.groups} else (),
        source_titles=tuple((s.name, s.title) for s in SOURCES),
        min_group_size=report_cfg.min_group_size,
        min_comment_group_size=report_cfg.min_comment_group_size,
        weighting=weighting_margins(settings),
        weighting_notes=weighting_notes(data.weighting_gaps, data.period),
    )


WEIGHTING_VARIABLES = {"segment": "business unit", "mode": "collection mode"}


def weighting_margins(settings: Settings) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    """The configured margins as the report prints them: (variable, ((category, population share), ...))."""
    from transforms.report_context.vocabulary import MODE_LABELS

    questions = {q.id: q.text for q in settings.codebook.questions}
    printed = []
    for variable, categories in settings.pipeline.weighting.margins.items():
        total = sum(categories.values())
        name = WEIGHTING_VARIABLES.get(variable) or f"the answer to “{questions[variable]}”"
        shares = tuple(
            (MODE_LABELS.get(c, c) if variable == "mode" else c, value / total) for c, value in categories.items()
        )
        printed.append((name, shares))
    return tuple(printed)


def weighting_notes(gaps: pl.DataFrame | None, period: str) -> tuple[str, ...]:
    """A sentence per period up to the report's with margin categories nobody answered from: raking could not
    represent them, so that period's weighted figures describe the population without them."""
    if gaps is None or gaps.is_empty():
        return ()
    notes = []
    shown = gaps.filter(period_rank(pl.col("period")) <= period_rank(pl.lit(period)))
    for (label,), rows in shown.group_by("period", maintain_order=True):
        parts = []
        for (variable,), categories in rows.group_by("variable", maintain_order=True):
            names = categories["category"].to_list()
            listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
            together = "together " if len(names) > 1 else ""
            parts.append(
                f"{WEIGHTING_VARIABLES.get(variable, variable)} {listed} "
                f"({together}{100 * categories['share'].sum():.0f} % of the population)"
            )
        missing = "; ".join(parts)
        notes.append(
            f"{label}: no answers from {missing}; the other categories were weighted up to the whole, so the "
            f"{label} figures describe the population without them."
        )
    return tuple(notes)


# --- files ------------------------------------------------------------------------------


def report_files(settings: Settings, data: Any, kind: str = KIND) -> ReportFiles:
    """Where a scope's report files go (any report kind: `data` has period, segment, data_as_of and
    reproduced); a reproduction ('as of') gets its own names beside the current ones."""
    folder = settings.reports / data.period
    suffix = f"_as-of-{data.data_as_of.astimezone(UTC):%Y%m%dT%H%M%S}" if data.reproduced else ""
    stem = report_stem(kind, data.period, data.segment) + suffix
    # The scorecard's metrics file keeps its first name ("metrics_..."); every other kind's is "<kind>-metrics_...".
    metrics_kind = "metrics" if kind == KIND else f"{kind}-metrics"
    metrics_stem = report_stem(metrics_kind, data.period, data.segment) + suffix
    return ReportFiles(
        kind,
        data.period,
        data.segment,
        folder / f"{stem}.pdf",
        folder / f"{metrics_stem}.csv",
        folder / f"{metrics_stem}.parquet",
        data.data_as_of,
        reproduced=data.reproduced,
    )


@cache
def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + sha256_file(path).encode())
    return digest.hexdigest()


def assets_digest(templates: Path, logo: Path | None) -> str:
    """What a PDF looks like besides its context: templates, styles, fonts, the logo, WeasyPrint's version."""
    logo_part = sha256_file(logo) if logo is not None and logo.is_file() else ""
    renderer = importlib.metadata.version("weasyprint")
    return hashlib.sha256(f"{_tree_digest(templates)}|{logo_part}|{renderer}".encode()).hexdigest()


RENDER_TIMES = ("generated_at", "data_as_of")
GATE_NOTES = ("banner", "missing")  # what the completeness gate adds: about the data, not the figures


def content_fingerprint(
    context: dict[str, Any], metrics: pl.DataFrame, assets: str, ignore: tuple[str, ...] = RENDER_TIMES
) -> str:
    """The report's content: everything printed (but the `ignore`d meta keys) and the metrics file.

    With the default, equal fingerprints mean an identical PDF: nothing is re-rendered. For
    delivery the gate's notes are ignored too (`delivery_fingerprint`).
    """
    meta = {k: v for k, v in context["meta"].items() if k not in ignore}
    printed = json.dumps({**context, "meta": meta}, sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(printed.encode("utf-8"))
    digest.update(metrics.write_csv().encode("utf-8"))
    digest.update(assets.encode())
    return digest.hexdigest()


def delivery_fingerprint(context: dict[str, Any], metrics: pl.DataFrame, assets: str) -> str:
    """What a recipient holds: the figures, texts and layout, not the gate's notes about the data.

    A banner that appears (a rejected file elsewhere) or goes (the file fixed) without a figure
    changing is no reason to email a "correction"; the owner is told about the data instead.
    """
    return content_fingerprint(context, metrics, assets, RENDER_TIMES + GATE_NOTES)


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def current_version(files: ReportFiles, fingerprint: str) -> datetime | None:
    """The data time of the report on disk if it has exactly this content and its files are intact, else None."""
    manifest = read_manifest(files.manifest)
    if manifest.get("fingerprint") != fingerprint:
        return None
    hashes = manifest.get("files", {})
    for path in (files.pdf, files.metrics_csv, files.metrics_parquet):
        if not path.is_file() or hashes.get(path.name) != sha256_file(path):
            return None  # a file is missing or from another version: rebuild all of them
    return datetime.fromisoformat(manifest["data_as_of"])


def metrics_bytes(metrics: pl.DataFrame, data_as_of: datetime) -> tuple[bytes, bytes]:
    """The machine-readable metrics: CSV for people, Parquet for programs."""
    frame = metrics.with_columns(data_as_of=pl.lit(data_as_of.astimezone(UTC).isoformat(timespec="seconds")))
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return frame.write_csv().encode("utf-8"), buffer.getvalue()


def write_report_files(files: ReportFiles, pdf: bytes, metrics: pl.DataFrame) -> None:
    """PDF, metrics files and manifest, changed together (see the module docstring)."""
    csv, parquet = metrics_bytes(metrics, files.data_as_of)
    contents = {files.pdf: pdf, files.metrics_csv: csv, files.metrics_parquet: parquet}
    manifest = {
        "fingerprint": files.fingerprint,
        "data_as_of": files.data_as_of.isoformat(),
        "files": {path.name: hashlib.sha256(data).hexdigest() for path, data in contents.items()},
    }
    atomic_write_many({**contents, files.manifest: json.dumps(manifest, indent=2).encode("utf-8")})

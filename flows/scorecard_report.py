"""Build one scorecard report from the store: metrics, metrics files, PDF, email content.

Plain functions (no Prefect) so tests and the flows share one path. The store version
read is recorded in the report and the metrics file: `csat report --as-of-version N`
reproduces a past report from the data as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from flows.files import atomic_write_bytes, sha256_file
from flows.render import TEMPLATES_DIR
from flows.settings import Settings
from flows.store import Store
from transforms.comments import quarantine_summary, select_comments
from transforms.periods import previous_period
from transforms.scorecard import ALL, ScorecardParameters, scorecard_metrics


class NoDataError(Exception):
    """The requested period or segment has no answers: no report rather than an empty one."""


@dataclass(frozen=True)
class ScorecardData:
    period: str
    previous: str | None
    segment: str
    data_as_of: datetime
    data_versions: dict[str, int | None]
    reproduced: bool  # computed "as of" a past time: written beside, never over, the current report
    metrics: pl.DataFrame
    files: pl.DataFrame
    quarantine_reasons: pl.DataFrame
    comments: pl.DataFrame


@dataclass(frozen=True)
class ReportFiles:
    kind: str
    period: str
    segment: str
    pdf: Path
    metrics_csv: Path
    metrics_parquet: Path
    data_as_of: datetime

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.period}/{self.segment}"


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


def gather_scorecard(
    settings: Settings,
    store: Store,
    *,
    period: str = "latest",
    segment: str = ALL,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> ScorecardData:
    """Everything a scorecard needs, read from the store as it was at `as_of` (default: now)."""
    now = now or datetime.now(UTC)
    if store.version("answers") is None:
        raise NoDataError("the store holds no answers yet: drop survey exports into the inbox and run again")
    answers = store.scan("answers", as_of)
    responses = store.scan("responses", as_of)
    if segment != ALL:
        # A unit's report is computed from that unit's rows only: nothing else can leak into it.
        answers = answers.filter(pl.col("segment") == segment)
        responses = responses.filter(pl.col("segment") == segment)
    available = responses.select(pl.col("period").unique()).collect()["period"].to_list()
    chosen = resolve_period(period, available, settings, now)
    # Periods of one store share a kind ('2025' or 'FY2026'): their years order them.
    in_scope = pl.col("period").str.strip_prefix("FY").cast(pl.Int32) <= int(chosen.removeprefix("FY"))
    params = scorecard_parameters(settings)
    metrics = scorecard_metrics(answers.filter(in_scope), responses.filter(in_scope), params)
    if segment != ALL:
        metrics = metrics.filter(pl.col("segment") == segment)
    previous = previous_period(chosen)
    files = store.scan("ingest_files", as_of).sort("source_file").collect()
    quarantine = quarantine_summary(store.scan("quarantine", as_of)).collect()
    if segment != ALL:
        # Reasons quote cell values from every unit's rows: a unit's report shows only their kind.
        quarantine = quarantine.with_columns(pl.col("reason").str.replace_all(r"'[^']*'", "'…'"))
    comments = select_comments(
        responses, answers, chosen, params.overall_item, settings.pipeline.report.comments_shown
    ).collect()
    return ScorecardData(
        period=chosen,
        previous=previous if previous in available else None,
        segment=segment,
        # Whole seconds, rounded up, so the printed time (to the second) still includes the latest commit.
        data_as_of=as_of or (now + timedelta(seconds=1)).replace(microsecond=0),
        data_versions=store.versions(as_of),
        reproduced=as_of is not None,
        metrics=metrics,
        files=files,
        quarantine_reasons=quarantine,
        comments=comments,
    )


def slug(text: str) -> str:
    """A file-name-safe form that keeps letters of any script ('Rīga' -> 'rīga', 'Нарва' -> 'нарва')."""
    cleaned = re.sub(r"[\W_]+", "-", text.casefold()).strip("-")
    return cleaned or "segment-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def file_stem(kind: str, data: ScorecardData) -> str:
    stem = f"{kind}_{data.period}_{slug(data.segment)}"
    return f"{stem}_as-of-{data.data_as_of.astimezone(UTC):%Y%m%dT%H%M%S}" if data.reproduced else stem


def write_metrics_files(data: ScorecardData, folder: Path) -> tuple[Path, Path]:
    """The machine-readable metrics (CSV for people, Parquet for programs), written atomically."""
    frame = data.metrics.with_columns(
        data_as_of=pl.lit(data.data_as_of.astimezone(UTC).isoformat(timespec="seconds")),
    )
    stem = file_stem("metrics", data)
    csv_path = atomic_write_bytes(folder / f"{stem}.csv", frame.write_csv().encode("utf-8"))
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    parquet_path = atomic_write_bytes(folder / f"{stem}.parquet", buffer.getvalue())
    return csv_path, parquet_path


def report_fingerprint(settings: Settings, data: ScorecardData) -> str:
    """What a report's content depends on: store versions, scope, configuration and templates."""
    digest = hashlib.sha256()
    digest.update(json.dumps([data.period, data.segment, data.data_versions], sort_keys=True).encode())
    for path in sorted(settings.config_dir.rglob("*")) + sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + sha256_file(path).encode())
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def write_manifest(path: Path, fingerprint: str, data_as_of: datetime) -> None:
    body = {"fingerprint": fingerprint, "data_as_of": data_as_of.isoformat()}
    atomic_write_bytes(path, json.dumps(body, indent=2).encode("utf-8"))

"""Prefect flows: `nightly` (ingest -> store -> metrics -> PDF -> email) and on-demand `report`.

The flow bodies read like a recipe; the work lives in plain functions (load_surveys,
scorecard_report, render, delivery) that tests call directly. Retries are on IO tasks
only, and only for transient OS errors: bad input fails fast. Nothing returned by a
task is persisted (results may hold customer text); the run summary artifact holds
counts and file names only.
"""

from __future__ import annotations

import errno
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.delivery import DeliveryLedger, DeliveryOutcome, ReportEmail, deliver_report
from flows.load_surveys import FileOutcome, load_inbox
from flows.render import render_scorecard
from flows.scorecard_report import (
    ReportFiles,
    ScorecardData,
    file_stem,
    gather_scorecard,
    read_manifest,
    report_fingerprint,
    write_manifest,
    write_metrics_files,
)
from flows.settings import Recipient, Settings, default_config_dir, load_settings
from flows.store import Store
from transforms.report_context import ScorecardMeta, build_scorecard_context
from transforms.scorecard import ALL

TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.EIO, errno.ESTALE}


def _transient_io(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only what a second attempt can fix: transient OS errors, not bad input or a full disk."""
    try:
        state.result()
    except OSError as exc:
        return exc.errno in TRANSIENT_ERRNOS
    except Exception:
        return False
    return False


io_task = task(
    retries=2, retry_delay_seconds=5, retry_condition_fn=_transient_io, cache_policy=NO_CACHE, persist_result=False
)
compute_task = task(cache_policy=NO_CACHE, persist_result=False)


@dataclass
class RunSummary:
    """What a run did; printed by `--json` and published (without customer text) as an artifact."""

    status: str = "completed"
    period: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    emails: list[dict[str, Any]] = field(default_factory=list)
    store_versions: dict[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        totals = {k: sum(f[k] for f in self.files) for k in ("rows_read", "rows_loaded", "rows_quarantined")}
        return asdict(self) | {
            "totals": totals,
            "metrics_file": self.reports[0]["metrics_csv"] if self.reports else None,
        }


# --- tasks ---------------------------------------------------------------------------------


@io_task(name="ingest-inbox")
def ingest_inbox(settings: Settings, store: Store) -> list[FileOutcome]:
    outcomes = load_inbox(settings, store)
    logger = get_run_logger()
    for o in outcomes:
        logger.info(
            "%s: %s - read %d, loaded %d, quarantined %d%s",
            o.file,
            o.status,
            o.rows_read,
            o.rows_loaded,
            o.rows_quarantined,
            f" ({o.message})" if o.message else "",
        )
    if not outcomes:
        logger.info("no new files in %s", settings.inbox)
    return outcomes


@compute_task(name="compute-scorecard")
def compute_scorecard(
    settings: Settings, store: Store, period: str, segment: str, as_of: datetime | None
) -> ScorecardData:
    return gather_scorecard(settings, store, period=period, segment=segment, as_of=as_of)


@io_task(name="render-scorecard")
def render_scorecard_files(settings: Settings, data: ScorecardData) -> tuple[ReportFiles, dict[str, Any]]:
    """Metrics files and PDF; an unchanged input (data, config, templates) reuses the existing files.

    Re-rendering identical data would only change the printed time, and the PDF on disk
    would no longer be the one management received.
    """
    folder = settings.reports / data.period
    stem = file_stem("scorecard", data)
    pdf = folder / f"{stem}.pdf"
    fingerprint = report_fingerprint(settings, data)
    previous = read_manifest(folder / f"{stem}.json")
    up_to_date = previous.get("fingerprint") == fingerprint and pdf.is_file()
    if up_to_date:
        data = replace(data, data_as_of=datetime.fromisoformat(previous["data_as_of"]))
    csv_path, parquet_path = write_metrics_files(data, folder)
    context = build_scorecard_context(
        data.metrics, data.files, data.quarantine_reasons, data.comments, scorecard_meta(settings, data)
    )
    if up_to_date:
        get_run_logger().info("%s is up to date (same data, configuration and templates)", pdf)
    else:
        render_scorecard(context, pdf, logo=settings.logo)
        write_manifest(folder / f"{stem}.json", fingerprint, data.data_as_of)
        get_run_logger().info("wrote %s and %s", pdf, csv_path)
    files = ReportFiles("scorecard", data.period, data.segment, pdf, csv_path, parquet_path, data.data_as_of)
    return files, context


@task(name="deliver-report", cache_policy=NO_CACHE, persist_result=False)
def deliver(
    settings: Settings, report: ReportFiles, context: dict[str, Any], recipients: list[Recipient] | None, resend: bool
) -> list[DeliveryOutcome]:
    # No Prefect retries here: delivery retries transient SMTP errors itself, per recipient,
    # and its ledger makes a re-run send only what was not yet delivered.
    delivery = settings.pipeline.delivery
    if recipients is not None:
        delivery = delivery.model_copy(update={"recipients": recipients})
    email = ReportEmail(
        report_key=report.key,
        subject=email_subject(settings, report),
        body_text=email_body(settings, report, context),
        pdf_path=report.pdf,
        pdf_filename=report.pdf.name,
    )
    ledger = DeliveryLedger(settings.store / "deliveries.sqlite")
    outcomes = deliver_report(email, delivery, settings.outbox, ledger, resend=resend)
    for o in outcomes:
        get_run_logger().info("%s -> %s: %s", report.key, o.recipient, o.status)
    return outcomes


# --- flows -----------------------------------------------------------------------------------


def _load(config_dir: str | None) -> Settings:
    return load_settings(Path(config_dir) if config_dir else default_config_dir())


@flow(name="nightly", persist_result=False, log_prints=False)
def nightly(config_dir: str | None = None) -> dict[str, Any]:
    """Ingest new exports, then build and deliver the scorecard for the configured period."""
    settings = _load(config_dir)
    store = Store(settings.store)
    with store.run_lock():
        summary = RunSummary()
        summary.files = [{"source": "surveys"} | asdict(o) for o in ingest_inbox(settings, store)]
        _report(settings, store, summary, settings.pipeline.report.period, ALL, None, None, resend=False)
    return _finish(summary, store)


@flow(name="report", persist_result=False, log_prints=False)
def report(
    config_dir: str | None = None,
    kind: str = "scorecard",
    period: str | None = None,
    segment: str = ALL,
    recipients: list[str] | None = None,
    as_of: datetime | None = None,
    resend: bool = False,
) -> dict[str, Any]:
    """Build one report on demand (a period, a segment, chosen recipients, the data as of a time)."""
    if kind != "scorecard":
        raise ValueError(f"unknown report kind {kind!r}; available: scorecard")
    settings = _load(config_dir)
    store = Store(settings.store)
    chosen = _recipients(settings, recipients)
    with store.run_lock():
        summary = RunSummary()
        _report(
            settings, store, summary, period or settings.pipeline.report.period, segment, chosen, as_of, resend=resend
        )
    return _finish(summary, store)


def _report(
    settings: Settings,
    store: Store,
    summary: RunSummary,
    period: str,
    segment: str,
    recipients: list[Recipient] | None,
    as_of: datetime | None,
    *,
    resend: bool,
) -> None:
    data = compute_scorecard(settings, store, period, segment, as_of)
    files, context = render_scorecard_files(settings, data)
    summary.period = data.period
    summary.reports.append(
        {
            "kind": files.kind,
            "period": files.period,
            "segment": files.segment,
            "pdf": str(files.pdf),
            "metrics_csv": str(files.metrics_csv),
            "metrics_parquet": str(files.metrics_parquet),
            "data_as_of": files.data_as_of.isoformat(timespec="seconds"),
        }
    )
    outcomes = deliver(settings, files, context, recipients, resend)
    summary.emails.extend(
        {
            "report": files.key,
            "recipient": o.recipient,
            "status": o.status,
            "message_id": o.message_id,
            "path": str(o.outbox_path) if o.outbox_path else None,
        }
        for o in outcomes
    )


def _recipients(settings: Settings, addresses: list[str] | None) -> list[Recipient] | None:
    if not addresses:
        return None
    known = {r.email.casefold(): r for r in settings.pipeline.delivery.recipients}
    return [known.get(a.casefold()) or Recipient(name=a, email=a) for a in addresses]


def _finish(summary: RunSummary, store: Store) -> dict[str, Any]:
    summary.store_versions = store.versions()
    result = summary.as_dict()
    create_markdown_artifact(markdown=summary_markdown(result), key="csat-run-summary", description="csat run summary")
    return result


# --- email and artifact text (numbers and file names only) -------------------------------------


def email_subject(settings: Settings, report: ReportFiles) -> str:
    scope = "" if report.segment == ALL else f" - {report.segment}"
    return f"{settings.pipeline.report.organisation}: customer satisfaction scorecard {report.period}{scope}"


def email_body(settings: Settings, report: ReportFiles, context: dict[str, Any]) -> str:
    lines = [
        f"Customer satisfaction scorecard {report.period}"
        + ("" if report.segment == ALL else f" for {report.segment}"),
        "",
        *(f"- {context['headline'][key]['sentence']}" for key in ("csat", "nps", "mean", "responses")),
        "",
        "The attached PDF has the intervals, segments, collection modes, benchmarks, data quality and method.",
        f"Data as of {report.data_as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "-- csat-pipeline (automatic message)",
    ]
    return "\n".join(lines)


def summary_markdown(result: dict[str, Any]) -> str:
    rows = (
        "\n".join(
            f"| {f['file']} | {f['status']} | {f['rows_read']} | {f['rows_loaded']} | {f['rows_quarantined']} |"
            for f in result["files"]
        )
        or "| (no new files) | | | | |"
    )
    emails = "\n".join(f"| {e['recipient']} | {e['status']} |" for e in result["emails"]) or "| (none) | |"
    reports = "\n".join(f"- {r['kind']} {r['period']} {r['segment']}: `{r['pdf']}`" for r in result["reports"])
    return (
        f"# csat run: {result['status']}\n\nPeriod: {result['period']}\n\n"
        "| file | status | read | loaded | quarantined |\n|---|---|---|---|---|\n"
        f"{rows}\n\n## Reports\n{reports}\n\n## Emails\n| recipient | status |\n|---|---|\n{emails}\n"
    )


def scorecard_meta(settings: Settings, data: ScorecardData) -> ScorecardMeta:
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
    )

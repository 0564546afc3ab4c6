"""Prefect flows: `nightly` and the on-demand `report`, one recipe for both.

    ingest the inbox -> read the store once -> one report per scope (company, groups, units)
    -> completeness gate -> render what changed (worker processes) -> deliver what each
    recipient is entitled to and does not hold yet (corrections included)

The work lives in plain functions (load_sources, scorecard_report, render, delivery) that
tests call directly; the flow bodies only sequence them. Retries are on IO tasks only, and
only for transient OS errors: bad input fails fast. Nothing returned by a task is
persisted (results may hold customer text); the run-summary artifact holds counts, file
names and addresses only. A failed or held run emails the owner.
"""

from __future__ import annotations

import errno
import hashlib
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as current_run
from prefect.states import Completed

from flows import email_text
from flows.delivery import DeliveryError, DeliveryLedger, DeliveryOutcome, ReportEmail, deliver_report, send_alert
from flows.files import sweep_temp_files
from flows.load_sources import FileOutcome, load_inbox
from flows.migrations import migrate
from flows.render import TEMPLATES_DIR
from flows.report_kinds import READ_BY_REPORTS, REPORT_KINDS, ReportKind, report_kind
from flows.scorecard_report import (
    NoDataError,
    ReportFiles,
    ReportScope,
    ScorecardData,
    StoreSnapshot,
    assets_digest,
    content_fingerprint,
    current_version,
    delivery_fingerprint,
    report_files,
    report_scope,
    start_importing_statistics,
    write_report_files,
)
from flows.settings import Recipient, Settings, default_config_dir, load_settings
from flows.store import Store
from transforms.completeness import Issue, banner_lines, intake_issues, volume_issues
from transforms.data_quality import files_of_period
from transforms.scopes import COMPANY

TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.EIO, errno.ESTALE}
HELD = "held"
WOULD_HOLD = "would_hold"  # a dry run that found incomplete data (nothing was held: nothing was to be sent)
log = logging.getLogger(__name__)


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

    run: str = ""
    status: str = "completed"  # completed | held | would_hold (dry run) | failed (raises after its artifact)
    dry_run: bool = False
    period: str | None = None  # the first kind's (the scorecard's); `periods` has each kind's
    periods: dict[str, str] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)  # what the completeness gate found
    # Rejected or mostly quarantined files of sources no report reads yet: they hold nothing, but are told.
    attention: list[str] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    emails: list[dict[str, Any]] = field(default_factory=list)
    outdated: list[dict[str, Any]] = field(default_factory=list)  # recipients holding a version not corrected
    alerts: list[dict[str, Any]] = field(default_factory=list)
    store_versions: dict[str, int | None] = field(default_factory=dict)
    error: str | None = None  # a failed run: the exception, for the artifact (the run itself raises)

    def as_dict(self) -> dict[str, Any]:
        counted = [f for f in self.files if f["status"] in ("loaded", "rejected")]
        sums = ("rows_read", "rows_loaded", "rows_quarantined")
        totals = {k: sum(f[k] for f in counted) for k in sums}
        # Per source: its files and their row counts (read = loaded + quarantined holds for each).
        sources = {
            name: {"files": sum(f["source"] == name for f in self.files)}
            | {k: sum(f[k] for f in counted if f["source"] == name) for k in sums}
            for name in dict.fromkeys(f["source"] for f in self.files)
        }
        built = [r for r in self.reports if "metrics_csv" in r]  # skipped scopes have no files
        company = [r for r in built if r["segment"] == COMPANY] or built
        return asdict(self) | {
            "totals": totals,
            "sources": sources,
            "metrics_file": company[0]["metrics_csv"] if company else None,
        }


@dataclass(frozen=True)
class RunRequest:
    """What a run is asked to do: which reports, for which period and whom, and how to deliver."""

    scopes: list[str]  # 'All', groups, units
    period: str | None  # 'latest' or a label; None: each kind's own (flows/report_kinds.py default_period)
    recipients: list[Recipient] | None = None  # None: everyone entitled to each report
    as_of: datetime | None = None  # a reproduction from the data as it was
    resend: bool = False
    deliver_incomplete: bool = False
    dry_run: bool = False
    kinds: tuple[str, ...] = ("scorecard",)  # keys of flows.report_kinds.REPORT_KINDS, built in this order


@dataclass(frozen=True)
class BuiltReport:
    """One scope's report: its data, what it prints, where its files are, and whether they are current."""

    data: ScorecardData
    context: dict[str, Any]
    files: ReportFiles  # .fingerprint: the PDF's content (re-rendered when it changes)
    up_to_date: bool
    delivered_content: str  # what recipients hold: the content without the gate's notes

    @property
    def incomplete(self) -> bool:
        """The completeness gate found something this report's cover must say."""
        return bool(self.context["meta"]["missing"])


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


@compute_task(name="read-store")
def read_store(
    settings: Settings, store: Store, kind: str, period: str, units: tuple[str, ...] | None, as_of: datetime | None
) -> StoreSnapshot:
    return report_kind(kind).snapshot(settings, store, period, units, as_of)


@compute_task(name="build-reports")
def build_reports(
    settings: Settings, snapshot: StoreSnapshot, scopes: list[ReportScope], issues: list[Issue], kind: str
) -> tuple[list[BuiltReport], list[str]]:
    """Each scope's context (with its banner), fingerprint and files; scopes without answers are skipped."""
    report = report_kind(kind)
    assets = assets_digest(TEMPLATES_DIR, settings.logo)
    built, skipped = [], []
    for scope in scopes:
        try:
            data = report.scope_data(snapshot, scope, settings)
        except NoDataError as exc:
            skipped.append(str(exc))
            continue
        banner = [] if data.reproduced else banner_lines(issues, scope.unit_filter)
        context = report.context(settings, data, banner)
        files = report_files(settings, data, report.name)
        fingerprint = content_fingerprint(context, data.metrics, assets)
        on_disk = current_version(files, fingerprint)
        # Same content: keep the files as delivered, with the data time they were made from.
        files = replace(files, fingerprint=fingerprint, data_as_of=on_disk or files.data_as_of)
        built.append(
            BuiltReport(data, context, files, on_disk is not None, delivery_fingerprint(context, data.metrics, assets))
        )
    return built, skipped


@io_task(name="render-reports")
def render_reports(settings: Settings, reports: list[BuiltReport]) -> None:
    """Render the reports whose content changed (in worker processes) and write each one's files together."""
    stale = [r for r in reports if not r.up_to_date]
    pdfs = report_kind(stale[0].files.kind).render([(r.context, settings.logo) for r in stale]) if stale else []
    for report, pdf in zip(stale, pdfs, strict=True):
        write_report_files(report.files, pdf, report.data.metrics)
        get_run_logger().info("wrote %s", report.files.pdf)
    for report in reports:
        if report.up_to_date:
            get_run_logger().info("%s is up to date (same content)", report.files.pdf)


@task(name="deliver-reports", cache_policy=NO_CACHE, persist_result=False)
def deliver_reports(
    settings: Settings,
    emails: list[tuple[ReportEmail, list[Recipient]]],
    *,
    resend: bool,
    dry_run: bool,
) -> tuple[list[tuple[str, DeliveryOutcome]], list[str]]:
    """Deliver every report to its recipients; returns (report key, outcome) pairs and the failures.

    No Prefect retries: delivery retries transient SMTP errors itself, per recipient, and its
    ledger makes a re-run send only what was not yet delivered. One report's failure does not
    stop the others; the run fails at the end if any failed.
    """
    ledger = DeliveryLedger(settings.ledger_path)
    results: list[tuple[str, DeliveryOutcome]] = []
    failures: list[str] = []
    for email, recipients in emails:
        delivery = settings.pipeline.delivery.model_copy(update={"recipients": recipients})
        try:
            outcomes = deliver_report(
                email,
                delivery,
                settings.outbox,
                ledger,
                resend=resend,
                correction_text=email_text.correction_text,
                dry_run=dry_run,
            )
        except DeliveryError as exc:
            failures.append(str(exc))
            outcomes = exc.outcomes
        results.extend((email.report_key, o) for o in outcomes)
        for o in outcomes:
            get_run_logger().info("%s -> %s: %s (%s)", email.report_key, o.recipient, o.status, o.kind)
    return results, failures


# --- flows -----------------------------------------------------------------------------------


def _load(config_dir: str | None) -> Settings:
    return load_settings(Path(config_dir) if config_dir else default_config_dir())


def _run_name() -> str:
    return str(current_run.name or current_run.id or "local")


def alert_owner_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect hook (failed or crashed run): email the owner the run, the error and what to do."""
    try:
        settings = _load(flow_run.parameters.get("config_dir"))
        subject, body = email_text.failed_alert(
            flow_run.name, flow.name, (state.message or state.name)[:1000], datetime.now(UTC)
        )
        ledger = DeliveryLedger(settings.ledger_path)
        send_alert(f"failed:{flow_run.id}", subject, body, settings.pipeline.delivery, settings.outbox, ledger)
    except Exception:  # the run has failed already; say so in the log, do not mask the first error
        log.exception("could not alert the owner about the failed run %s", flow_run.name)


def _entitled(settings: Settings, scope: str) -> list[Recipient]:
    return [r for r in settings.pipeline.delivery.recipients if scope in r.scopes]


def nightly_scopes(settings: Settings) -> list[str]:
    """The company report and every unit or group report someone is entitled to."""
    entitled = {s for r in settings.pipeline.delivery.recipients for s in r.scopes}
    return [s for s in settings.scope_names if s == COMPANY or s in entitled]


def csat_flow(name: str) -> Any:
    """A pipeline flow: results not persisted (they may hold customer text); a failure or crash emails the owner."""
    return flow(
        name=name,
        persist_result=False,
        log_prints=False,
        on_failure=[alert_owner_on_failure],
        on_crashed=[alert_owner_on_failure],
    )


# The kinds the nightly run builds (a kind's `schedule` says when it is due), each for its own period.
NIGHTLY_KINDS = tuple(k.name for k in REPORT_KINDS.values() if k.schedule == "nightly")


@csat_flow("nightly")
def nightly(config_dir: str | None = None, deliver_incomplete: bool = False, dry_run: bool = False) -> Any:
    """Ingest new exports, then build and deliver the company report and every entitled unit's report."""
    settings = _load(config_dir)
    return _run(
        settings,
        RunRequest(
            scopes=nightly_scopes(settings),
            period=None,
            deliver_incomplete=deliver_incomplete,
            dry_run=dry_run,
            kinds=NIGHTLY_KINDS,
        ),
    )


@csat_flow("report")
def report(
    config_dir: str | None = None,
    kind: str = "scorecard",
    period: str | None = None,
    segment: str = COMPANY,
    recipients: list[str] | None = None,
    as_of: datetime | None = None,
    resend: bool = False,
    deliver_incomplete: bool = False,
    dry_run: bool = False,
) -> Any:
    """One report on demand: a period, a unit or group, chosen recipients, the data as of a time."""
    report_kind(kind)  # an unknown kind fails here, naming the ones there are
    settings = _load(config_dir)
    scope = settings.resolve_scope(segment)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)  # a deployment parameter without an offset means UTC, as on the CLI
    return _run(
        settings,
        RunRequest(
            scopes=[scope],
            period=period,
            recipients=None if recipients is None else settings.recipients_for(scope, recipients),
            as_of=as_of,
            resend=resend,
            deliver_incomplete=deliver_incomplete,
            dry_run=dry_run,
            kinds=(kind,),
        ),
    )


def _run(settings: Settings, request: RunRequest) -> Any:
    """One run under the store lock; whatever happens, Prefect gets a summary artifact of it."""
    settings.require_inbox()
    store = Store(settings.store)
    summary = RunSummary(run=_run_name(), dry_run=request.dry_run)
    with store.run_lock():
        sweep_temp_files(settings.reports, settings.outbox)
        try:
            for step in migrate(settings, store):
                get_run_logger().warning("store migrated: %s", step)
            _produce(settings, store, summary, request)
        except Exception as exc:
            summary.status = "failed"
            summary.error = f"{type(exc).__name__}: {exc}"[:1000]
            _finish(summary, store)
            raise
    return _finish(summary, store)


def _produce(settings: Settings, store: Store, summary: RunSummary, request: RunRequest) -> None:
    """The recipe: ingest once, then per report kind read the store, build, gate, render, deliver (or hold).

    A kind without data (no complete period yet) does not stop the others; the run still fails
    at the end, naming it. So does a delivery failure.
    """
    # Even an on-demand report first loads what is waiting, so it shows the same data as the nightly.
    start_importing_statistics()
    outcomes = ingest_inbox(settings, store)
    summary.files = [asdict(o) for o in outcomes]
    _tell_about_other_sources(settings, summary, outcomes, dry_run=request.dry_run)
    no_data: list[str] = []
    failures: list[str] = []
    gated = Gated()
    for name in request.kinds:
        kind = report_kind(name)
        try:
            failures += _produce_kind(settings, store, summary, request, kind, outcomes, gated)
        except NoDataError as exc:
            if len(request.kinds) == 1:
                raise
            summary.reports.append({"kind": kind.name, "skipped": str(exc)})
            if (request.period or kind.default_period(settings)) != "latest":
                get_run_logger().error("%s: no report - %s", kind.name, exc)
                no_data.append(f"{kind.name}: {exc}")  # a period asked for by name: the run fails, naming it
            else:
                # No complete period yet (a new store, a new kind): not a failure of tonight's run, but told.
                get_run_logger().warning("%s: no report yet - %s", kind.name, exc)
                summary.attention.append(f"{kind.name} report: {exc}")
                _tell_once(settings, summary, f"nodata:{kind.name}", f"{kind.name} report: {exc}", request.dry_run)
    if gated.issues and not request.dry_run:
        # One alert for the run, whichever kinds the findings hold: the owner acts once.
        unique = list({i.detail: i for i in gated.issues}.values())
        _alert_owner(settings, summary, unique, gated.built, gated.held)
    if failures:
        raise DeliveryError(" | ".join(failures))
    if no_data:
        raise NoDataError("; ".join(no_data))


@dataclass
class Gated:
    """What the completeness gate found across a run's report kinds: told to the owner once, at the end."""

    issues: list[Issue] = field(default_factory=list)
    built: list[BuiltReport] = field(default_factory=list)
    held: list[tuple[str, DeliveryOutcome]] = field(default_factory=list)


def _produce_kind(
    settings: Settings,
    store: Store,
    summary: RunSummary,
    request: RunRequest,
    kind: ReportKind,
    outcomes: list[FileOutcome],
    gated: Gated,
) -> list[str]:
    """One kind's reports: read, build, gate, render, deliver; returns the delivery failures."""
    report_scopes = [report_scope(settings, name) for name in request.scopes]
    single = report_scopes[0].unit_filter if len(report_scopes) == 1 else None
    period = request.period or kind.default_period(settings)
    snapshot = read_store(settings, store, kind.name, period, single, request.as_of)
    summary.periods[kind.name] = snapshot.period
    summary.period = summary.period or snapshot.period
    issues = _completeness(settings, snapshot, outcomes, kind)
    summary.issues += [i.detail for i in issues if i.detail not in summary.issues]
    built, skipped = build_reports(settings, snapshot, report_scopes, issues, kind.name)
    if not built:
        raise NoDataError("; ".join(skipped))
    render_reports(settings, built)
    summary.reports += [_report_entry(r) for r in built] + [
        {"kind": kind.name, "skipped": reason} for reason in skipped
    ]
    recipients = request.recipients
    if recipients is None and request.as_of is not None:
        recipients = []  # a reproduction is an archive copy: it goes only to addresses asked for
    emails = [
        (
            _report_email(settings, r, kind),
            recipients if recipients is not None else _entitled(settings, r.data.segment),
        )
        for r in built
    ]
    planned, _ = deliver_reports(settings, emails, resend=request.resend, dry_run=True)
    gate_holds = settings.pipeline.completeness.on_incomplete == "hold" and not request.deliver_incomplete
    incomplete = {r.files.key for r in built if r.incomplete}
    # Held: emails that would go out with a report whose cover says data is missing. Reports the
    # findings do not concern go out; recipients already holding a report lose nothing.
    held = [(k, o) for k, o in planned if o.status == "planned" and k in incomplete] if gate_holds else []
    if request.dry_run:
        summary.emails += [_email_entry(k, o, held=(k, o) in held, dry_run=True) for k, o in planned]
        if held:
            summary.status = WOULD_HOLD
        return []
    held_keys = {k for k, _ in held}
    delivered, failures = deliver_reports(
        settings, [(e, r) for e, r in emails if e.report_key not in held_keys], resend=request.resend, dry_run=False
    )
    summary.emails += [_email_entry(k, o) for k, o in delivered] + [_email_entry(k, o, held=True) for k, o in held]
    if held:
        summary.status = HELD
    if issues:
        gated.issues += issues
        gated.built += built
        gated.held += held
    _report_outdated(settings, summary, emails, delivered)
    return failures


def _completeness(
    settings: Settings, snapshot: StoreSnapshot, outcomes: list[FileOutcome], kind: ReportKind
) -> list[Issue]:
    if snapshot.reproduced:
        return []  # a reproduction shows the data as it was; today's inbox says nothing about it
    limits = settings.pipeline.completeness
    ledger = DeliveryLedger(settings.ledger_path)
    # Only the sources the report reads can make it incomplete (a file outside every source folder may be one).
    outcomes = [o for o in outcomes if o.source in kind.reads or o.source == ""]
    this_run = pl.DataFrame(
        [{"file": o.file, "file_sha256": o.sha256, "status": o.status, "message": o.message} for o in outcomes],
        schema={"file": pl.String, "file_sha256": pl.String, "status": pl.String, "message": pl.String},
    )
    loaded_now = [o.sha256 for o in outcomes if o.status == "loaded"]
    period_files = files_of_period(
        snapshot.ingest_files.lazy().filter(pl.col("source").is_in(kind.reads)),
        snapshot.file_units.lazy(),
        snapshot.intake_period,
        loaded_now,
    )
    accepted = set(ledger.accepted())
    expected = [u.name for u in settings.pipeline.units if u.expected]
    return intake_issues(this_run, period_files.collect(), accepted, limits.max_quarantine_share) + volume_issues(
        snapshot.volume,
        snapshot.period,
        snapshot.previous,
        expected,
        settings.unit_names,
        accepted,
        limits.max_volume_drop,
        settings.pipeline.report.min_n,
    )


def _tell_about_other_sources(
    settings: Settings, summary: RunSummary, outcomes: list[FileOutcome], *, dry_run: bool
) -> None:
    """Files of sources no report reads yet cannot hold a report, but a rejected one or one mostly
    quarantined is never silent: listed in the summary and logged every run, the owner told once per set."""
    limit = settings.pipeline.completeness.max_quarantine_share
    problems = [
        f"{o.source}/{o.file}: rejected - {o.message}"
        if o.status == "rejected"
        else f"{o.source}/{o.file}: {o.rows_quarantined:,} of {o.rows_read:,} rows quarantined (over {limit:.0%})"
        for o in outcomes
        if o.source not in (*READ_BY_REPORTS, "")
        and (o.status == "rejected" or (o.status == "loaded" and o.rows_quarantined > limit * o.rows_read))
    ]
    summary.attention = problems
    if not problems:
        return
    get_run_logger().warning("input files of other sources need attention: %s", "; ".join(problems))
    if dry_run:
        return
    ledger = DeliveryLedger(settings.ledger_path)
    # Each finding is told once: a file rejected night after night is one email, not one a night.
    keys = {p: "intake:" + hashlib.sha256(p.encode()).hexdigest()[:16] for p in problems}
    untold = [p for p in problems if not ledger.alerted(keys[p])]
    if not untold:
        return
    findings = hashlib.sha256("\n".join(sorted(untold)).encode()).hexdigest()[:16]
    subject, body = email_text.intake_notice(summary.run, untold)
    alert = send_alert(f"intake:{findings}", subject, body, settings.pipeline.delivery, settings.outbox, ledger)
    for problem in untold:
        ledger.record_alert(keys[problem], alert.message_id)
    summary.alerts.append(_alert_entry("intake", alert))


def _tell_once(settings: Settings, summary: RunSummary, key: str, finding: str, dry_run: bool) -> None:
    """Tell the owner a finding that holds nothing, once for as long as it stays the same."""
    if dry_run:
        return
    ledger = DeliveryLedger(settings.ledger_path)
    told = f"{key}:" + hashlib.sha256(finding.encode()).hexdigest()[:16]
    if ledger.alerted(told):
        return
    subject, body = email_text.no_report_notice(summary.run, finding)
    alert = send_alert(told, subject, body, settings.pipeline.delivery, settings.outbox, ledger)
    ledger.record_alert(told, alert.message_id)
    summary.alerts.append(_alert_entry("attention", alert))


def _report_email(settings: Settings, built: BuiltReport, kind: ReportKind) -> ReportEmail:
    files = built.files
    label = "All customers" if files.segment == COMPANY else files.segment[:60]
    return ReportEmail(
        report_key=files.key,
        subject=kind.subject(settings.pipeline.report.organisation, files),
        body_text=kind.body(files, built.context),
        pdf_path=files.pdf,
        pdf_filename=f"{kind.title} {files.period} – {label}.pdf".replace("/", "-").replace("\\", "-"),
        fingerprint=built.delivered_content,
        headline=kind.headline(built.context),
        inputs=built.data.inputs,
    )


def _report_entry(built: BuiltReport) -> dict[str, Any]:
    files = built.files
    return {
        "kind": files.kind,
        "period": files.period,
        "segment": files.segment,
        "pdf": str(files.pdf),
        "metrics_csv": str(files.metrics_csv),
        "metrics_parquet": str(files.metrics_parquet),
        "data_as_of": files.data_as_of.isoformat(timespec="seconds"),
        "rendered": not built.up_to_date,
        "banner": built.context["meta"]["missing"],
    }


def _email_entry(
    report_key: str, outcome: DeliveryOutcome, *, held: bool = False, dry_run: bool = False
) -> dict[str, Any]:
    return {
        "report": report_key,
        "recipient": outcome.recipient,
        "status": "held" if held and not dry_run else outcome.status,
        "held": held,
        "kind": outcome.kind,
        "message_id": outcome.message_id,
        "path": str(outcome.outbox_path) if outcome.outbox_path else None,
    }


def _alert_owner(
    settings: Settings,
    summary: RunSummary,
    issues: list[Issue],
    built: list[BuiltReport],
    held: list[tuple[str, DeliveryOutcome]],
) -> None:
    """Tell the owner about incomplete data: every held run; otherwise once per distinct set of findings."""
    details = [i.detail for i in issues]
    get_run_logger().warning("incomplete data%s: %s", " - delivery held" if held else "", "; ".join(details))
    incomplete = {r.files.key for r in built if r.incomplete}
    delivered = [e for e in summary.emails if e["status"] in ("sent", "written_to_outbox")]
    with_banner = [e for e in delivered if e["report"] in incomplete]
    pdfs = [str(r.files.pdf) for r in built if r.incomplete]
    if held:
        key = f"held:{current_run.id or summary.run}"
        subject, body = email_text.held_alert(
            summary.run, details, [(k, o.recipient) for k, o in held], delivered, pdfs
        )
    else:
        findings = hashlib.sha256("\n".join(sorted(i.key or i.detail for i in issues)).encode()).hexdigest()[:16]
        key = f"incomplete:{findings}"
        subject, body = email_text.incomplete_notice(summary.run, details, with_banner, pdfs)
    ledger = DeliveryLedger(settings.ledger_path)
    alert = send_alert(key, subject, body, settings.pipeline.delivery, settings.outbox, ledger)
    summary.alerts.append(_alert_entry("held" if held else "incomplete", alert))


def _report_outdated(
    settings: Settings,
    summary: RunSummary,
    emails: list[tuple[ReportEmail, list[Recipient]]],
    delivered: list[tuple[str, DeliveryOutcome]],
) -> None:
    """Recipients the correction policy left with an outdated report: summary, log and (once) the owner's inbox."""
    by_key = {email.report_key: email for email, _ in emails}
    withheld: dict[str, list[DeliveryOutcome]] = {}
    for key, outcome in delivered:
        if outcome.status == "withheld":
            withheld.setdefault(key, []).append(outcome)
    ledger = DeliveryLedger(settings.ledger_path)
    policy = settings.pipeline.delivery.corrections.send
    for key, outcomes in withheld.items():
        email = by_key[key]
        holders = [o.previous for o in outcomes if o.previous is not None]
        for o in outcomes:
            summary.outdated.append(
                {
                    "report": key,
                    "recipient": o.recipient,
                    "holds_since": o.previous.delivered_at.isoformat() if o.previous else None,
                }
            )
        get_run_logger().warning(
            "%s: %d recipient(s) hold an outdated version (corrections: %s): %s",
            key,
            len(outcomes),
            policy,
            ", ".join(o.recipient for o in outcomes),
        )
        subject, body = email_text.outdated_alert(key, holders, email, policy)
        alert = send_alert(
            f"outdated:{key}:{email.fingerprint}", subject, body, settings.pipeline.delivery, settings.outbox, ledger
        )
        summary.alerts.append(_alert_entry("outdated", alert))


def _alert_entry(kind: str, outcome: DeliveryOutcome) -> dict[str, Any]:
    return {
        "kind": kind,
        "to": outcome.recipient,
        "status": outcome.status,
        "path": str(outcome.outbox_path) if outcome.outbox_path else None,
    }


def _finish(summary: RunSummary, store: Store) -> Any:
    summary.store_versions = store.versions()
    result = summary.as_dict()
    create_markdown_artifact(markdown=summary_markdown(result), key="csat-run-summary", description="csat run summary")
    if summary.status == HELD:
        # A distinct final state: visible in Prefect and to automations as "Held", not as a success.
        return Completed(name="Held", message="delivery held: " + "; ".join(summary.issues)[:500], data=result)
    return result


def summary_markdown(result: dict[str, Any]) -> str:
    """The run summary for Prefect: file names, counts, addresses and statuses; no customer text."""
    rows = (
        "\n".join(
            f"| {f['source'] or '(none)'} | {f['file']} | {f['profile'] or ''} | {f['status']} | {f['rows_read']} "
            f"| {f['rows_loaded']} | {f['rows_quarantined']} |"
            for f in result["files"]
        )
        or "| | (no new files) | | | | | |"
    )
    issues = "\n".join(f"- {i}" for i in result["issues"]) or "- none"
    attention = "\n".join(f"- {a}" for a in result["attention"]) or "- none"
    emails = (
        "\n".join(f"| {e['report']} | {e['recipient']} | {e['kind']} | {e['status']} |" for e in result["emails"])
        or "| (none) | | | |"
    )
    reports = "\n".join(
        f"- {r['kind']} {r['period']} {r['segment']}: `{r['pdf']}`" if "pdf" in r else f"- skipped: {r['skipped']}"
        for r in result["reports"]
    )
    outdated = "\n".join(f"- {o['report']}: {o['recipient']}" for o in result["outdated"]) or "- none"
    error = f"Error: {result['error']}\n\n" if result["error"] else ""
    return (
        f"# csat run {result['run']}: {result['status']}{' (dry run)' if result['dry_run'] else ''}\n\n"
        f"{error}Period: {result['period']}\n\n"
        "| source | file | profile | status | read | loaded | quarantined |\n|---|---|---|---|---|---|---|\n"
        f"{rows}\n\n## Completeness\n{issues}\n\n## Other sources' files needing attention\n{attention}\n\n"
        f"## Reports\n{reports}\n\n"
        f"## Emails\n| report | recipient | kind | status |\n|---|---|---|---|\n{emails}\n\n"
        f"## Holding an outdated report\n{outdated}\n"
    )

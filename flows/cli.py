"""`csat`: the command line (typer).

Arguments are checked against the configuration and the store before anything starts, so
a user error costs one clear line and exit code 2, never a Prefect start and a traceback.
Prefect (slow to import, and it starts a temporary API) is imported only by the commands
that run flows. Exit codes: 0 done (a dry run too), 1 failed, 2 usage or configuration
error, 3 held (the data was incomplete: the reports it concerns were not sent, the owner
was told).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flows.settings import ConfigError, Settings, default_config_dir, load_settings
from transforms.scopes import COMPANY

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Customer-satisfaction evidence in, trusted reports out."
)
err = Console(stderr=True, soft_wrap=True)  # never break a file path in a message
# Piped into a log file, a summary keeps whole lines rather than wrapping at 80 columns.
WIDE = None if sys.stdout.isatty() else 200

EXIT_FAILED, EXIT_USAGE, EXIT_HELD = 1, 2, 3
AS_OF_FORMATS = [
    "%Y-%m-%d %H:%M:%S UTC",  # as printed in the PDF's "Data as of"
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
]

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration folder (default: $CSAT_CONFIG_DIR or ./config).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON summary on stdout (logs go to stderr).")]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Load and render as usual, send nothing; show who would receive what.")
]
IncompleteOption = Annotated[
    bool,
    typer.Option(
        "--deliver-incomplete", help="Deliver even though the data is incomplete (the reports carry a banner)."
    ),
]


def _usage_error(message: str) -> NoReturn:
    err.print(f"[bold red]error[/]: {escape(message)}", highlight=False)
    raise typer.Exit(EXIT_USAGE)


def _settings(config: Path | None, *, needs_inbox: bool = False) -> Settings:
    try:
        settings = load_settings(config or default_config_dir())
        if needs_inbox:
            settings.require_inbox()
    except ConfigError as exc:
        err.print(f"[bold red]configuration error[/]\n{escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    return settings


def _prefect_environment(settings: Settings) -> None:
    """Embedded defaults: a project-local Prefect home, no telemetry (there is no network)."""
    os.environ.setdefault("PREFECT_HOME", str(settings.root / "var" / "prefect"))
    # Prefect's ephemeral server cannot create its SQLite database in a missing folder.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    # The temporary API's first start migrates its database: 15-20 s here, more on a busy 2-core
    # machine - Prefect's 20 s default then fails `make demo` on a fresh clone.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def _run_flow(settings: Settings, as_json: bool, what: str, call: Callable[[], Any]) -> dict[str, Any]:
    _prefect_environment(settings)
    with err.status(f"[bold]{what}[/] (starting Prefect; the first start takes ~15 s)", spinner="dots"):
        try:
            result: dict[str, Any] = call()
        except Exception as exc:
            _fail(as_json, exc)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    else:
        _print_summary(result)
    if result["status"] == "held":
        raise typer.Exit(EXIT_HELD)
    return result


def _fail(as_json: bool, exc: BaseException) -> NoReturn:
    message = f"{type(exc).__name__}: {exc}"
    if as_json:
        sys.stdout.write(json.dumps({"status": "failed", "error": message}, indent=2) + "\n")
    err.print(f"[bold red]run failed[/]: {escape(message)}", highlight=False)
    raise typer.Exit(EXIT_FAILED)


def _files_table(result: dict[str, Any]) -> Table:
    files = Table(title="Input files (read = loaded + quarantined)", title_justify="left")
    for column in ("source", "file", "profile", "status", "read", "loaded", "quarantined", "note"):
        files.add_column(column, justify="right" if column in ("read", "loaded", "quarantined") else "left")
    for f in sorted(result["files"], key=lambda f: f["source"]):
        counted = f["status"] == "loaded"
        files.add_row(
            escape(f["source"] or "(none)"),
            escape(f["file"]),
            escape(f["profile"] or ""),
            f["status"].replace("_", " "),
            *(str(f[k]) if counted else "–" for k in ("rows_read", "rows_loaded", "rows_quarantined")),
            escape(f["message"] or ""),
        )
    if not result["files"]:
        files.add_row("", "(no new files)", "", "", "", "", "", "")
    return files


def _emails_table(result: dict[str, Any]) -> Table:
    table = Table(title="Emails" + (" (dry run: nothing sent)" if result["dry_run"] else ""), title_justify="left")
    for column in ("report", "recipient", "kind", "status", "file"):
        table.add_column(column)
    for e in result["emails"]:
        if e["status"] == "planned":
            status = "would be held" if e["held"] else "would be sent"
        else:
            status = e["status"].replace("_", " ")
        table.add_row(escape(e["report"]), e["recipient"], e["kind"], status, escape(e["path"] or ""))
    return table


def _print_summary(result: dict[str, Any]) -> None:
    out = Console(soft_wrap=True, highlight=False, width=WIDE)
    out.print(_files_table(result))
    for issue in result["issues"]:
        out.print(f"[bold red]Incomplete[/] {escape(issue)}")
    for problem in result.get("attention", []):
        out.print(f"[bold yellow]Attention[/] {escape(problem)} (no report reads this source yet; the owner is told)")
    for r in result["reports"]:
        if "skipped" in r:
            out.print(f"[bold]Skipped[/] {escape(r['skipped'])}")
        else:
            state = "rendered" if r["rendered"] else "unchanged"
            out.print(
                f"[bold]Report[/]  {r['kind']} {r['period']} {escape(r['segment'])} ({state}): {escape(r['pdf'])}"
            )
    if result["emails"]:
        out.print(_emails_table(result))
    for o in result["outdated"]:
        out.print(f"[bold yellow]Outdated[/] {o['recipient']} holds an earlier {escape(o['report'])} (not corrected)")
    for a in result["alerts"]:
        path = escape(a.get("path") or "")
        out.print(f"[bold]Alert[/]   {a['kind']} -> {a['to']}: {a['status'].replace('_', ' ')} {path}")
    if result["status"] in ("held", "would_hold"):
        dry = result["status"] == "would_hold"
        out.print(
            ("[bold yellow]WOULD HOLD[/] (dry run)" if dry else "[bold red]HELD[/]")
            + ": the data is incomplete; the reports it concerns "
            + ("would not be sent" if dry else "were not sent and the owner was told")
            + ". Fix the cause, or `csat accept`, or `csat run --deliver-incomplete` (docs/operations.md)."
        )
    if result.get("metrics_file"):
        out.print(f"[bold]Metrics[/] {escape(result['metrics_file'])}")


# --- checks before any flow starts --------------------------------------------------------


def _check_report_arguments(
    settings: Settings, kind: str, period: str | None, segment: str, as_of: datetime | None, recipients: list[str]
) -> str:
    """Check a report request against the configuration and the store; return the scope's exact name.

    Every problem is one line with the known values, and exit 2 (no Prefect start).
    """
    from flows.migrations import store_version
    from flows.report_kinds import REPORT_KINDS
    from flows.scorecard_report import NoDataError, available_periods, check_reproducible
    from flows.store import LAYOUT, Store

    if kind not in REPORT_KINDS:
        _usage_error(f"unknown report kind '{kind}'; available: {', '.join(REPORT_KINDS)}")
    try:
        scope = settings.resolve_scope(segment)
        settings.recipients_for(scope, recipients)
    except ValueError as exc:
        _usage_error(str(exc))
    store = Store(settings.store)
    if store_version(store) < LAYOUT:
        return scope  # the run migrates the store first; its units and periods are checked then
    units = None if scope == COMPANY else settings.units_in(scope)
    try:
        check_reproducible(store, as_of)
        if kind == "scorecard":
            periods = available_periods(store, units, as_of)
        else:
            from flows.improvement_report import available_periods as report_periods

            periods = report_periods(settings, store, units, as_of)
    except NoDataError as exc:
        _usage_error(str(exc))
    if period not in (None, "latest") and period not in periods:
        whose = "" if scope == COMPANY else f" for {scope}"
        _usage_error(f"no answers for period {period}{whose}; periods with answers: {', '.join(periods) or 'none'}")
    return scope


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- commands -------------------------------------------------------------------------------


@app.command()
def demo(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Write realistic demo data of every source (survey exports, records) into the inbox; run the nightly pipeline."""
    from flows.demo_data import write_demo_exports, write_demo_records

    settings = _settings(config)
    written = write_demo_exports(settings.inbox)
    err.print(f"wrote {len(written)} demo exports to {settings.source_folder('surveys')}")
    records = write_demo_records(settings.inbox)
    folders = ", ".join(sorted({p.parent.name for p in records}))
    err.print(f"wrote {len(records)} demo record files to {settings.inbox} ({folders})")
    _prefect_environment(settings)  # before Prefect is imported: it reads its settings at import
    from flows.pipeline import nightly

    _run_flow(
        settings, as_json, "Running the nightly pipeline on the demo data", lambda: nightly(str(settings.config_dir))
    )
    if not as_json:
        Console(soft_wrap=True).print(
            "\nOpen the PDFs above; the .eml files in the outbox are the emails management would receive\n"
            "(each recipient only the reports of their units). Run `csat run` again: nothing new is loaded\n"
            "and nobody is emailed twice."
        )


@app.command()
def run(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    dry_run: DryRunOption = False,
    deliver_incomplete: IncompleteOption = False,
) -> None:
    """Run the nightly pipeline once: ingest new exports, build the reports, deliver them."""
    settings = _settings(config, needs_inbox=True)
    _prefect_environment(settings)  # before Prefect is imported: it reads its settings at import
    from flows.pipeline import nightly

    _run_flow(
        settings,
        as_json,
        "Running the nightly pipeline",
        lambda: nightly(str(settings.config_dir), deliver_incomplete=deliver_incomplete, dry_run=dry_run),
    )


def _report_command(settings: Settings, as_json: bool, what: str, **parameters: Any) -> None:
    scope = _check_report_arguments(
        settings,
        parameters["kind"],
        parameters["period"],
        parameters["segment"],
        parameters["as_of"],
        parameters["recipients"] or [],
    )
    _prefect_environment(settings)
    from flows.pipeline import report as report_flow

    parameters["segment"] = scope
    _run_flow(settings, as_json, what, lambda: report_flow(str(settings.config_dir), **parameters))


@app.command()
def report(
    config: ConfigOption = None,
    kind: Annotated[str, typer.Option(help="Report kind.")] = "scorecard",
    period: Annotated[
        str | None,
        typer.Option(
            help="'latest', or the kind's period: a year '2025' / 'FY2026' (scorecard), '2025-03' (improvement)."
        ),
    ] = None,
    segment: Annotated[str, typer.Option(help="'All', a unit or a group (case does not matter).")] = COMPANY,
    recipient: Annotated[
        list[str] | None, typer.Option(help="Deliver to these addresses (repeatable; default: those entitled).")
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            help="Reproduce from the data as it was at this UTC time (the 'Data as of' in the PDF).",
            formats=AS_OF_FORMATS,
        ),
    ] = None,
    as_json: JsonOption = False,
    dry_run: DryRunOption = False,
    deliver_incomplete: IncompleteOption = False,
) -> None:
    """Build and deliver one report on demand."""
    settings = _settings(config, needs_inbox=True)
    _report_command(
        settings,
        as_json,
        f"Building the {kind} report",
        kind=kind,
        period=period,
        segment=segment,
        recipients=recipient,
        as_of=_as_utc(as_of),
        dry_run=dry_run,
        deliver_incomplete=deliver_incomplete,
    )


@app.command()
def resend(
    period: Annotated[str, typer.Option(help="The period whose report to send again, e.g. 2025 or 2025-03.")],
    config: ConfigOption = None,
    kind: Annotated[str, typer.Option(help="Report kind.")] = "scorecard",
    segment: Annotated[str, typer.Option(help="'All', a unit or a group.")] = COMPANY,
    recipient: Annotated[list[str] | None, typer.Option(help="Only these addresses (default: those entitled).")] = None,
    as_json: JsonOption = False,
    dry_run: DryRunOption = False,
    deliver_incomplete: IncompleteOption = False,
) -> None:
    """Deliver a report again on purpose, even to recipients who already received it."""
    settings = _settings(config, needs_inbox=True)
    _report_command(
        settings,
        as_json,
        "Re-sending the report",
        kind=kind,
        period=period,
        segment=segment,
        recipients=recipient,
        as_of=None,
        resend=True,
        dry_run=dry_run,
        deliver_incomplete=deliver_incomplete,
    )


@app.command()
def accept(
    note: Annotated[str, typer.Option(help="Why delivery may go ahead without it (kept in the ledger).")],
    file: Annotated[str | None, typer.Argument(help="A file's name (as in the run summary) or its path.")] = None,
    unit: Annotated[str | None, typer.Option(help="A unit (or 'All') with no or too few answers ...")] = None,
    period: Annotated[str | None, typer.Option(help="... in this period, e.g. 2025.")] = None,
    config: ConfigOption = None,
) -> None:
    """Deliver without a finding of the completeness gate: a file's missing rows, or a unit's missing answers."""
    import polars as pl

    from flows.delivery import DeliveryLedger
    from flows.files import sha256_file
    from flows.store import Store
    from transforms.completeness import file_key, unit_key

    settings = _settings(config)
    if (file is None) == (unit is None and period is None) or (unit is None) != (period is None):
        _usage_error("give either a FILE, or --unit and --period")
    if file is None:
        assert unit is not None and period is not None
        from flows.scorecard_report import NoDataError, available_periods

        try:
            scope = settings.resolve_scope(unit)
            periods = available_periods(Store(settings.store))
        except (ValueError, NoDataError) as exc:
            _usage_error(str(exc))
        if scope not in (COMPANY, *settings.unit_names):
            _usage_error(f"'{scope}' is a group: accept its units one by one, or 'All' for the company total")
        if period not in periods:
            _usage_error(f"no answers for period {period}; periods with answers: {', '.join(periods) or 'none'}")
        key, label = unit_key(scope, period), f"{scope} in {period}"
    else:
        path = Path(file)
        if path.is_file():
            key, label = file_key(sha256_file(path)), path.name
        else:
            files = Store(settings.store).scan("ingest_files").select("file_sha256", "source_file").collect()
            matches = files.filter(pl.col("source_file") == file)
            if matches.height != 1:
                known = ", ".join(sorted(files["source_file"].unique().to_list())) or "none"
                _usage_error(
                    f"no single file called '{file}' in the store's file list (give its path instead); known: {known}"
                )
            key, label = file_key(matches["file_sha256"][0]), file
    DeliveryLedger(settings.ledger_path).accept(key, label, note)
    err.print(f"accepted {escape(label)}: it no longer holds delivery. Note: {escape(note)}", highlight=False)


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Serve the nightly flow on the configured cron schedule and time zone (needs a Prefect server)."""
    settings = _settings(config, needs_inbox=True)  # a mistyped inbox would fail every night: refuse now
    _prefect_environment(settings)
    from flows.serving import CannotServe, serve_nightly

    try:
        serve_nightly(settings, announce=lambda line: err.print(line, highlight=False, markup=False))
    except CannotServe as exc:  # no server to schedule on: the operator's move (docs/operations.md)
        err.print(f"[bold red]cannot serve[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    except Exception as exc:  # e.g. the server refused the deployment: one line, not a traceback
        err.print(f"[bold red]serve failed[/]: {escape(f'{type(exc).__name__}: {exc}')}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None


@app.command()
def forget(
    customer: Annotated[str, typer.Option("--customer", help="The customer id whose personal data to delete.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be removed; remove nothing.")] = False,
) -> None:
    """Delete one customer's personal data (complaint names, addresses, phones) and its history.

    Says what was removed and where the customer's data still is (docs/personal-data.md).
    """
    from flows.personal_data import forget_customer

    settings = _settings(config)
    if not customer.strip():
        _usage_error("--customer is empty: give the customer id as in the complaint log")
    try:
        result = forget_customer(settings, customer, dry_run=dry_run)
    except Exception as exc:  # another run holding the lock too long, a store that cannot be read
        _fail(as_json, exc)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
        _print_forget(result, dry_run)


def _print_forget(result: Any, dry_run: bool) -> None:
    """`csat forget`'s summary: what was removed, what was not, and where the customer's data still is."""
    out = Console(soft_wrap=True, highlight=False, width=WIDE)
    who = escape(result.customer_id)
    ids = escape(", ".join(result.complaint_ids))
    would = "would be " if dry_run else ""
    if result.status == "nothing_stored":
        out.print(f"No personal data of customer {who} in the store: nothing to remove.")
    elif result.complaint_ids:
        out.print(
            f"[bold]{'Would remove' if dry_run else 'Removed'}[/] the personal data of {len(result.complaint_ids)} "
            f"complaint(s) of customer {who}: {ids}"
        )
        out.print(f"  fields {would}purged: {', '.join(result.fields_purged) or '(none held a value)'}")
    else:
        out.print(f"No current personal data for customer {who}; older versions of the contacts table {would}purged.")
    if result.files_vacuumed:
        out.print(
            f"  complaint_contacts: {len(result.files_vacuumed)} data file(s) of older versions {would}vacuumed "
            f"({escape(', '.join(result.files_vacuumed))}); its history before "
            + ("the purge" if dry_run else "now")
            + " can no longer be read (reports never read this table: --as-of is unaffected)"
        )
    if result.kept_complaints or result.kept_rows:
        out.print("[bold]Not removed[/] (rows keeping the pseudonymous customer id; no personal-data fields):")
        for table, rows in result.kept_rows.items():
            which = f": {escape(', '.join(result.kept_complaints))}" if table == "complaints" else ""
            out.print(f"  {table}: {rows} row(s) with customer_id {who}{which}")
    if result.raw_files or result.unchecked_files:
        out.print("[bold yellow]Still holding the customer's personal data[/] - delete or redact these yourself:")
        for f in result.raw_files:
            where = escape(f.path) if f.in_inbox else f"{escape(f.file)} (no longer at {escape(f.path)}: any copy)"
            out.print(f"  {where}")
        for path in result.unchecked_files:
            out.print(f"  {escape(path)} (could not be read to check: look at it yourself)")
    if result.forgotten_at:
        out.print(
            f"Recorded as forgotten at {result.forgotten_at}: the personal data of complaints received until then is "
            "never stored again, even from a file that still holds it; a later complaint of this customer is "
            "stored like any other."
        )
    if dry_run:
        out.print("Dry run: nothing was removed.")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Export files to check.", exists=True, dir_okay=False)],
    source: Annotated[
        str | None, typer.Option(help="The source the files belong to (default: their folder's name, else surveys).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check export files without loading anything: the profile chosen and why, and every row's fate.

    Exit 1 if a file would be rejected or any row quarantined.
    """
    from flows.load_sources import read_export, stage_export
    from flows.readers import UnreadableExport
    from flows.sources import SOURCES_BY_NAME

    settings = _settings(config)
    if source is not None and source not in SOURCES_BY_NAME:
        _usage_error(f"no source called '{source}'; known: {', '.join(SOURCES_BY_NAME)}")
    problems = 0
    out = Console(soft_wrap=True)
    for path in files:
        chosen_source = SOURCES_BY_NAME[
            source or (path.parent.name if path.parent.name in SOURCES_BY_NAME else "surveys")
        ]
        try:
            export = read_export(path, path.read_bytes(), settings, chosen_source)
        except UnreadableExport as exc:
            out.print(f"[red]REJECTED[/] {exc}", highlight=False)
            problems += 1
            continue
        _valid, invalid = stage_export(export, settings)
        bad = invalid.select("source_line", "reason").collect()
        read, table, profile = export.frame.height, export.table, export.chosen.profile
        status = "[green]OK[/]" if bad.is_empty() else "[yellow]ROWS REJECTED[/]"
        out.print(
            f"{status} {path.name} ({chosen_source.name}): {table.format}"
            + (f", {table.encoding} ({table.encoding_reason})" if table.encoding else "")
            + (f", delimiter {table.delimiter!r}" if table.delimiter else "")
            + f" - read {read}, valid {read - bad.height}, would be quarantined {bad.height}",
            highlight=False,
        )
        out.print(f"  profile: {profile.name} - {profile.title}; chosen because {export.chosen.why}", highlight=False)
        out.print(f"  reads: {profile.describe()}", highlight=False)
        out.print(f"  timestamps: {export.timestamp_note}", highlight=False)
        for note in export.notes:
            out.print(f"  note: {note}", highlight=False)
        for line, reason in bad.head(50).iter_rows():
            out.print(f"  line {line}: {reason}", highlight=False)
        if bad.height > 50:
            out.print(f"  ... and {bad.height - 50} more")
        problems += int(not bad.is_empty())
    raise typer.Exit(1 if problems else 0)


if __name__ == "__main__":
    app()

"""`csat`: the command line (typer). Prefect is imported only by the commands that run flows."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import ConfigError, Settings, default_config_dir, load_settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Customer-satisfaction evidence in, trusted reports out."
)
err = Console(stderr=True, soft_wrap=True)  # never break a file path in a message

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration folder (default: $CSAT_CONFIG_DIR or ./config).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON summary on stdout (logs go to stderr).")]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config or default_config_dir())
    except ConfigError as exc:
        err.print(f"[bold red]configuration error[/]\n{exc}", highlight=False, markup=True)
        raise typer.Exit(2) from None


def _prefect_environment(settings: Settings) -> None:
    """Embedded defaults: a project-local Prefect home, no telemetry (there is no network)."""
    os.environ.setdefault("PREFECT_HOME", str(settings.root / "var" / "prefect"))
    # Prefect's ephemeral server cannot create its SQLite database in a missing folder.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")


def _run_flow(settings: Settings, as_json: bool, what: str, call: Any) -> dict[str, Any]:
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
    return result


def _run_report(settings: Settings, as_json: bool, what: str, **parameters: Any) -> None:
    _prefect_environment(settings)
    from flows.pipeline import report as report_flow

    _run_flow(settings, as_json, what, lambda: report_flow(str(settings.config_dir), **parameters))


def _fail(as_json: bool, exc: BaseException) -> None:
    message = f"{type(exc).__name__}: {exc}"
    if as_json:
        sys.stdout.write(json.dumps({"status": "failed", "error": message}, indent=2) + "\n")
    err.print(f"[bold red]run failed[/]: {message}", highlight=False)
    raise typer.Exit(1)


def _print_summary(result: dict[str, Any]) -> None:
    out = Console(soft_wrap=True)
    files = Table(title="Input files (read = loaded + quarantined)", title_justify="left")
    for column in ("file", "status", "read", "loaded", "quarantined"):
        files.add_column(column, justify="right" if column in ("read", "loaded", "quarantined") else "left")
    for f in result["files"]:
        files.add_row(f["file"], f["status"], str(f["rows_read"]), str(f["rows_loaded"]), str(f["rows_quarantined"]))
    if not result["files"]:
        files.add_row("(no new files)", "", "", "", "")
    out.print(files)
    for r in result["reports"]:
        out.print(f"[bold]Report[/]  {r['kind']} {r['period']} ({r['segment']}): {r['pdf']}")
        out.print(f"[bold]Metrics[/] {r['metrics_csv']}")
    for e in result["emails"]:
        where = f" -> {e['path']}" if e["path"] else ""
        out.print(f"[bold]Email[/]   {e['recipient']}: {e['status'].replace('_', ' ')}{where}")


@app.command()
def demo(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Write realistic demo survey exports into the inbox and run the nightly pipeline on them."""
    from flows.demo_data import write_demo_exports

    settings = _settings(config)
    written = write_demo_exports(settings.inbox)
    err.print(f"wrote {len(written)} demo exports to {settings.inbox}")
    from flows.pipeline import nightly

    result = _run_flow(
        settings, as_json, "Running the nightly pipeline on the demo data", lambda: nightly(str(settings.config_dir))
    )
    if not as_json:
        Console(soft_wrap=True).print(
            "\nOpen the PDF above; the .eml files in the outbox are the emails management would receive.\n"
            "Run `csat run` again: nothing new is loaded and nobody is emailed twice."
        )
    del result


@app.command()
def run(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Run the nightly pipeline once: ingest new exports, build the scorecard, deliver it."""
    settings = _settings(config)
    from flows.pipeline import nightly

    _run_flow(settings, as_json, "Running the nightly pipeline", lambda: nightly(str(settings.config_dir)))


@app.command()
def report(
    config: ConfigOption = None,
    kind: Annotated[str, typer.Option(help="Report kind.")] = "scorecard",
    period: Annotated[str | None, typer.Option(help="'latest', a year '2025' or 'FY2026'.")] = None,
    segment: Annotated[str, typer.Option(help="'All' or one business unit.")] = "All",
    recipient: Annotated[list[str] | None, typer.Option(help="Deliver to these addresses (repeatable).")] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            help="Reproduce from the data as it was at this UTC time (the 'Data as of' in the PDF).",
            formats=["%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Build and deliver one report on demand."""
    settings = _settings(config)
    _run_report(
        settings,
        as_json,
        f"Building the {kind} report",
        kind=kind,
        period=period,
        segment=segment,
        recipients=recipient,
        as_of=_utc(as_of),
    )


@app.command()
def resend(
    period: Annotated[str, typer.Option(help="The period whose report to send again, e.g. 2025.")],
    config: ConfigOption = None,
    segment: Annotated[str, typer.Option(help="'All' or one business unit.")] = "All",
    recipient: Annotated[list[str] | None, typer.Option(help="Only these addresses (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Deliver a report again on purpose, even to recipients who already received it."""
    settings = _settings(config)
    _run_report(
        settings, as_json, "Re-sending the report", period=period, segment=segment, recipients=recipient, resend=True
    )


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Serve the nightly flow on the configured cron schedule and time zone (needs a Prefect server)."""
    settings = _settings(config)
    _prefect_environment(settings)
    from prefect.schedules import Cron

    from flows.pipeline import nightly

    schedule = settings.pipeline.schedule
    err.print(f"serving 'nightly' on cron '{schedule.cron}' ({schedule.timezone}); Ctrl-C stops")
    nightly.serve(
        name="csat-nightly",
        schedule=Cron(schedule.cron, timezone=schedule.timezone),
        parameters={"config_dir": str(settings.config_dir)},
        limit=1,  # one nightly run at a time; the store lock serialises it with on-demand reports
    )


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Export files to check.", exists=True, dir_okay=False)],
    config: ConfigOption = None,
) -> None:
    """Check export files against the contract without loading anything; exit 1 if any row would be rejected."""
    import polars as pl

    from flows.ingest import UnreadableExport, read_export
    from flows.load_surveys import stage

    settings = _settings(config)
    problems = 0
    out = Console(soft_wrap=True)
    for path in files:
        try:
            export = read_export(path, settings)
        except UnreadableExport as exc:
            out.print(f"[red]REJECTED[/] {exc}", highlight=False)
            problems += 1
            continue
        bad = stage([export], settings).filter(pl.col("reason").is_not_null()).select("source_line", "reason").collect()
        read = export.frame.height
        status = "[green]OK[/]" if bad.is_empty() else "[yellow]ROWS REJECTED[/]"
        out.print(
            f"{status} {path.name}: {export.format}"
            + (f", {export.encoding}, delimiter {export.delimiter!r}" if export.encoding else "")
            + f" - read {read}, valid {read - bad.height}, would be quarantined {bad.height}",
            highlight=False,
        )
        for note in export.notes:
            out.print(f"  note: {note}", highlight=False)
        for line, reason in bad.head(50).iter_rows():
            out.print(f"  line {line}: {reason}", highlight=False)
        if bad.height > 50:
            out.print(f"  ... and {bad.height - 50} more")
        problems += int(not bad.is_empty())
    raise typer.Exit(1 if problems else 0)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


if __name__ == "__main__":
    app()

"""The `csat` command line: validation without loading, and configuration errors before any work."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from flows.settings import Settings
from tests.conftest import HEADER, export_csv, row

runner = CliRunner()


def test_validate_lists_rejected_rows_and_loads_nothing(settings: Settings):
    """`csat validate` names each bad line and reason, exits 1, and leaves the store untouched."""
    path = export_csv(settings, "check.csv", "\n".join([HEADER, row("R1"), row("R2", q1="9")]) + "\n")
    result = runner.invoke(app, ["validate", str(path), "--config", str(settings.config_dir)])
    assert result.exit_code == 1
    assert "read 2, valid 1, would be quarantined 1" in result.output
    assert "line 3: overall_satisfaction: 9 is outside the scale" in result.output
    assert not settings.store.exists()


def test_validate_clean_file_exits_zero(settings: Settings):
    """A file whose rows are all valid passes validation with exit code 0."""
    path = export_csv(settings, "ok.csv", "\n".join([HEADER, row("R1")]) + "\n")
    result = runner.invoke(app, ["validate", str(path), "--config", str(settings.config_dir)])
    assert result.exit_code == 0, result.output


def test_config_typo_stops_before_work(project: Path):
    """A typo in the configuration exits with code 2 and names file and key; no run starts."""
    path = project / "config" / "pipeline.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("inbox: var/inbox", "inbx: var/inbox"), encoding="utf-8")
    result = runner.invoke(app, ["run", "--config", str(project / "config")])
    assert result.exit_code == 2
    assert "pipeline.yaml" in result.output and "paths.inbx" in result.output
    assert not (project / "var").exists()

"""The `csat` command line: validation without loading, and configuration errors before any work."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.load_sources import load_inbox
from flows.settings import Settings
from flows.store import Store
from tests.conftest import HEADER, export_csv, row, set_config

runner = CliRunner()


def test_validate_lists_rejected_rows_and_loads_nothing(settings: Settings):
    """`csat validate` names each bad line and reason, exits 1, and leaves the store untouched."""
    path = export_csv(settings, "check.csv", "\n".join([HEADER, row("R1"), row("R2", q1="9")]) + "\n")
    result = runner.invoke(app, ["validate", str(path), "--config", str(settings.config_dir)])
    assert result.exit_code == 1
    assert "read 2, valid 1, would be quarantined 1" in result.output
    assert (
        "line 3: overall_satisfaction: a 1-digit number outside the scale (expected a whole number 1-5)"
        in result.output
    )
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


def test_validate_shows_encoding_and_why(settings: Settings):
    """`csat validate` prints the encoding it chose and why: byte-order mark, valid UTF-8, detected, configured."""
    cyrillic = (HEADER + "\n" + row("R1", comment="Очень долго ждал но спасибо")).replace(",", ";") + "\n"
    files = {
        "bom.csv": b"\xef\xbb\xbf" + (HEADER + "\n" + row("R1") + "\n").encode(),
        "utf16.txt": b"\xff\xfe" + (HEADER + "\n" + row("R1") + "\n").encode("utf-16-le"),
        "plain.csv": (HEADER + "\n" + row("R1", unit="Rīga") + "\n").encode(),
        "ru.csv": cyrillic.encode("cp1251"),
    }
    settings.source_folder("surveys").mkdir(parents=True)
    for name, data in files.items():
        (settings.source_folder("surveys") / name).write_bytes(data)
    paths = [str(settings.source_folder("surveys") / name) for name in files]
    result = runner.invoke(app, ["validate", *paths, "--config", str(settings.config_dir)])
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("OK")}
    assert "utf-8-sig (byte-order mark)" in lines["bom.csv"]
    assert "utf-16-le (byte-order mark)" in lines["utf16.txt"]
    assert "utf-8 (valid UTF-8)" in lines["plain.csv"]
    assert "cp1251 (detected by charset-normalizer" in lines["ru.csv"]
    assert "%" in lines["ru.csv"]  # how clear the detection was

    path = settings.config_dir / "pipeline.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("encoding: auto", "encoding: cp1251"), encoding="utf-8")
    result = runner.invoke(app, ["validate", paths[-1], "--config", str(settings.config_dir)])
    assert "cp1251 (configured: csv.encoding)" in result.output


# --- user errors cost one line and exit 2, before Prefect is even imported ------------------------------

# Runs the real CLI in a fresh interpreter and reports whether any Prefect module was imported.
_PROBE = """
import sys
from flows.cli import app
try:
    app(sys.argv[1:], prog_name="csat")
    code = 0
except SystemExit as exit:
    code = exit.code
print("PREFECT-IMPORTED" if any(m == "prefect" or m.startswith("prefect.") for m in sys.modules) else "NO-PREFECT")
sys.exit(code)
"""


def _csat(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and CLI
        [sys.executable, "-c", _PROBE, *args, "--config", str(settings.config_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def loaded(settings: Settings, store: Store) -> Settings:
    """A store with answers for 2025 in Tallinn and Rīga (no Prefect involved)."""
    export_csv(settings, "a.csv", "\n".join([HEADER, row("R1"), row("R2", unit="Riga")]) + "\n")
    load_inbox(settings, store)
    return settings


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--segment", "Tartux"], "error: no unit or group called 'Tartux'; known: All, Estonia, Tallinn"),
        (["report", "--period", "2019"], "error: no answers for period 2019; periods with answers: 2025"),
        (["report", "--segment", "narva", "--period", "2025"], "error: no answers for period 2025 for Narva"),
        (["report", "--kind", "monthly"], "error: unknown report kind 'monthly'; available: scorecard"),
        (["report", "--as-of", "2020-01-31T00:00"], "error: --as-of 2020-01-31 00:00:00 UTC is before the store's"),
        (["resend", "--period", "2031", "--segment", "TALLINN"], "error: no answers for period 2031 for Tallinn"),
        (["report", "--recipient", "not-an-address"], "error: 'not-an-address' is not an e-mail address"),
        (
            ["report", "--segment", "Narva", "--recipient", "riga@northwind.example"],
            "error: riga@northwind.example is entitled to the reports of Rīga, not of Narva",
        ),
    ],
)
def test_argument_errors_are_one_line_before_prefect(loaded: Settings, args: list[str], message: str):
    """Unknown unit, period without data, unknown kind, as-of before the data: one line, exit 2, no Prefect."""
    result = _csat(loaded, *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout.strip() == "NO-PREFECT"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_validate_and_a_missing_inbox_never_start_prefect(loaded: Settings):
    """`validate` works without Prefect; `run` with a mistyped inbox path is a configuration error (exit 2)."""
    result = _csat(loaded, "validate", str(loaded.source_folder("surveys") / "a.csv"))
    assert (result.returncode, result.stdout.splitlines()[-1]) == (0, "NO-PREFECT")
    set_config(loaded.config_dir, "inbox: var/inbox", "inbox: var/inbx")
    result = _csat(loaded, "run")
    assert (result.returncode, result.stdout.strip()) == (2, "NO-PREFECT")
    assert "key 'paths.inbox'" in result.stderr and "var/inbx does not exist" in result.stderr


def test_accept_records_a_file_or_a_unit_period(loaded: Settings):
    """`csat accept` records a file by its content hash, or a unit's period; either no longer holds delivery."""
    from flows.delivery import DeliveryLedger

    def accept(*args: str) -> object:
        return runner.invoke(app, ["accept", *args, "--note", "checked by hand", "--config", str(loaded.config_dir)])

    assert accept("a.csv").exit_code == 0
    assert accept("--unit", "narva", "--period", "2025").exit_code == 0
    digest = hashlib.sha256((loaded.source_folder("surveys") / "a.csv").read_bytes()).hexdigest()
    assert DeliveryLedger(loaded.ledger_path).accepted() == {
        f"file:{digest}": "a.csv",
        "unit:Narva:2025": "Narva in 2025",
    }
    unknown = accept("b.csv")
    assert unknown.exit_code == 2 and "no single file called 'b.csv'" in unknown.output
    assert accept("--unit", "Narva").exit_code == 2  # a unit needs its period
    assert "is a group" in accept("--unit", "Estonia", "--period", "2025").output
    assert "no answers for period 205" in accept("--unit", "Narva", "--period", "205").output

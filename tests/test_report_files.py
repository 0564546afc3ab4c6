"""A report's files (PDF, metrics CSV and Parquet, manifest) change together or not at all."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from flows import files as files_module
from flows.files import sweep_temp_files
from flows.scorecard_report import ReportFiles, current_version, write_report_files

WHEN = datetime(2026, 1, 31, tzinfo=UTC)


def _report(folder: Path, fingerprint: str) -> ReportFiles:
    return ReportFiles(
        "scorecard", "2025", "All", folder / "scorecard_2025_all.pdf", folder / "metrics_2025_all.csv",
        folder / "metrics_2025_all.parquet", WHEN, fingerprint,
    )  # fmt: skip


def _metrics(value: float) -> pl.DataFrame:
    return pl.DataFrame({"metric": ["csat_top2box"], "value": [value]})


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_failed_write_leaves_every_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Disk full while writing the new metrics file: PDF, metrics and manifest all stay old, no temp files."""
    write_report_files(_report(tmp_path, "v1"), b"%PDF-1 old\n%%EOF", _metrics(0.80))
    before = _contents(tmp_path)
    real_fdopen, calls = os.fdopen, []

    def disk_full_on_second(fd, *args, **kwargs):
        calls.append(fd)
        handle = real_fdopen(fd, *args, **kwargs)
        if len(calls) == 2:
            handle.close()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return handle

    monkeypatch.setattr(files_module.os, "fdopen", disk_full_on_second)
    with pytest.raises(OSError, match="No space left"):
        write_report_files(_report(tmp_path, "v2"), b"%PDF-1 new\n%%EOF", _metrics(0.70))
    assert _contents(tmp_path) == before
    assert current_version(_report(tmp_path, "v1"), "v1") == WHEN


def test_a_run_killed_between_renames_is_detected_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Killed after the new PDF replaced the old one but before the manifest: no version counts as current."""
    write_report_files(_report(tmp_path, "v1"), b"%PDF-1 old\n%%EOF", _metrics(0.80))
    real_replace = os.replace

    def killed_before_manifest(src, dst):
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt  # stands in for SIGKILL between two renames
        real_replace(src, dst)

    monkeypatch.setattr(files_module.os, "replace", killed_before_manifest)
    with pytest.raises(KeyboardInterrupt):
        write_report_files(_report(tmp_path, "v2"), b"%PDF-1 new\n%%EOF", _metrics(0.70))
    monkeypatch.undo()
    assert current_version(_report(tmp_path, "v1"), "v1") is None  # its PDF is gone: rebuild
    assert current_version(_report(tmp_path, "v2"), "v2") is None  # never finished: rebuild
    write_report_files(_report(tmp_path, "v2"), b"%PDF-1 new\n%%EOF", _metrics(0.70))
    assert current_version(_report(tmp_path, "v2"), "v2") == WHEN


def test_orphaned_temp_files_are_swept(tmp_path: Path):
    """Temp files a killed run left in the reports and outbox folders are removed at the next start."""
    (tmp_path / "reports" / "2025").mkdir(parents=True)
    (tmp_path / "outbox" / "scorecard_2025_all").mkdir(parents=True)
    orphans = [
        tmp_path / "reports" / "2025" / ".scorecard_2025_all.pdf.k2j3h4.tmp",
        tmp_path / "outbox" / "scorecard_2025_all" / ".ceo@northwind.example--report-1.eml.a8b9.tmp",
    ]
    for orphan in orphans:
        orphan.write_bytes(b"half")
    kept = tmp_path / "reports" / "2025" / "scorecard_2025_all.pdf"
    kept.write_bytes(b"%PDF-")

    removed = sweep_temp_files(tmp_path / "reports", tmp_path / "outbox")

    assert sorted(removed) == sorted(orphans)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [kept]


def test_written_files_get_ordinary_permissions(tmp_path: Path):
    """Reports are readable like any new file here (mkstemp alone would make them owner-only)."""
    write_report_files(_report(tmp_path, "v1"), b"%PDF-1\n%%EOF", _metrics(0.8))
    umask = os.umask(0)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {0o666 & ~umask}

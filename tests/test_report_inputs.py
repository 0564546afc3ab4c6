"""A report's fingerprint covers only what it reads: other periods and other sources leave it unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from flows.demo_data import write_demo_exports
from flows.load_sources import load_inbox
from flows.scorecard_report import (
    assets_digest,
    content_fingerprint,
    read_snapshot,
    report_scope,
    scope_scorecard,
    scorecard_meta,
)
from flows.settings import Settings
from flows.store import Store
from tests.conftest import HEADER, export_csv, row
from transforms.report_context import build_scorecard_context

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _fingerprints(settings: Settings, store: Store) -> dict[str, str]:
    snapshot = read_snapshot(settings, store, period="2025", now=NOW)
    assets = assets_digest(settings.root / "report_templates", None)
    prints = {}
    for name in ("All", "Tallinn", "Narva"):
        data = scope_scorecard(snapshot, report_scope(settings, name), settings)
        meta = scorecard_meta(settings, data)
        context = build_scorecard_context(data.metrics, data.files, data.quarantine_reasons, data.comments, meta)
        prints[name] = content_fingerprint(context, data.metrics, assets)
    return prints


def test_files_of_a_later_period_or_another_source_change_no_report(settings: Settings, store: Store):
    write_demo_exports(settings.inbox)
    load_inbox(settings, store)
    before = _fingerprints(settings, store)

    # A 2026 export (a period after the report's) and a file of another source in the store.
    export_csv(settings, "2026_q1.csv", "\n".join([HEADER, row("N1", when="2026-02-03 10:00")]) + "\n")
    load_inbox(settings, store)
    other = {
        "file_sha256": "f" * 64,
        "source_file": "complaints_2025.csv",
        "source": "complaints",
        "profile": "plain",
        "format": "csv",
        "encoding": "utf-8",
        "delimiter": ",",
        "status": "loaded",
        "message": None,
        "rows_read": 3,
        "rows_loaded": 3,
        "rows_quarantined": 0,
        "duplicates_superseded": 0,
        "ingested_at": NOW,
        "file_size": 100,
        "file_ctime_ns": 1,
    }
    store.upsert("ingest_files", pl.DataFrame([other]))
    store.upsert(
        "ingest_file_units",
        pl.DataFrame(
            [{"file_sha256": "f" * 64, "segment": "Tallinn", "period": "2025", "rows_loaded": 3, "rows_quarantined": 0}]
        ).with_columns(duplicates_superseded=pl.lit(0, pl.Int64)),
    )
    assert _fingerprints(settings, store) == before

    # A late 2025 answer for Tallinn changes Tallinn's and the company's report, not Narva's.
    export_csv(settings, "late_2025.csv", "\n".join([HEADER, row("L1", when="2025-11-03 10:00", q1="1")]) + "\n")
    load_inbox(settings, store)
    after = _fingerprints(settings, store)
    assert after["All"] != before["All"] and after["Tallinn"] != before["Tallinn"]
    assert after["Narva"] == before["Narva"]

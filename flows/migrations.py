"""Bring a store written by an earlier release up to the current layout, once, at the start of a run.

Version 1 (the first release) differs from version 2 in four ways, each fixed by one
idempotent step (safe to repeat if a run is killed half-way; the version marker is
written last):
1. `quarantine` has no `segment` column, its reasons quote cell values and it keeps the ids
   of invalid rows: add the column, replace quoted values by "a value", drop the ids of
   invalid rows, and vacuum the table's old versions (they hold the quoted text).
2. `responses` and `answers` hold export labels where units are now configured names:
   map them through the configured labels (rows naming no configured unit keep their label
   and show in the company report only).
3. `ingest_file_units` does not exist: count it from the stored responses and quarantined
   rows (rows superseded before the upgrade are not known any more).
4. The delivery ledger records one row per report and recipient: copy them into the message
   history as reports delivered with unknown content, so the next run sends each holder the
   current version once, as a correction.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from flows.delivery import DeliveryLedger
from flows.files import atomic_write_bytes
from flows.settings import Settings
from flows.store import SCHEMAS, Store

log = logging.getLogger(__name__)
CURRENT = 2
_MARKER = ".schema-version"


def store_version(store: Store) -> int:
    """The layout version of a store: a store with tables but no marker is version 1."""
    marker = store.root / _MARKER
    if marker.is_file():
        return int(marker.read_text(encoding="utf-8").strip())
    return 1 if store.version("responses") is not None else CURRENT


def migrate(settings: Settings, store: Store) -> list[str]:
    """Run the steps a store needs; returns what was done (empty when it is current). Hold the run lock."""
    if store_version(store) >= CURRENT:
        if not (store.root / _MARKER).is_file():  # a new store: say which layout it is written in
            atomic_write_bytes(store.root / _MARKER, f"{CURRENT}\n".encode())
        return []
    done = [
        step
        for step in (
            _redact_quarantine(store),
            _canonical_units(store, settings.unit_labels()),
            _count_file_units(store),
            _ledger_history(settings.ledger_path),
        )
        if step
    ]
    atomic_write_bytes(store.root / _MARKER, f"{CURRENT}\n".encode())
    for step in done:
        log.warning("store migrated to version %d: %s", CURRENT, step)
    return done


def _redact_quarantine(store: Store) -> str | None:
    if store.version("quarantine") is None or "segment" in store.scan("quarantine").collect_schema():
        return None
    old = store.scan("quarantine").collect()
    redacted = old.with_columns(
        # Old reasons quoted up to 40 characters of a cell, or printed a number: say only what it was.
        reason=pl.col("reason")
        .str.replace_all(r"'[^']*'", "a value")
        .str.replace_all(r":\s*[-+\d.]+ is outside the scale", ": a number outside the scale"),
        response_id=pl.when(pl.col("reason").str.starts_with("duplicate response_id")).then(pl.col("response_id")),
        segment=pl.lit(None, pl.String),
    )
    path = str(store.table_path("quarantine"))
    frame = redacted.select([pl.col(c).cast(t) for c, t in SCHEMAS["quarantine"].items()])
    frame.write_delta(path, mode="overwrite", delta_write_options={"schema_mode": "overwrite"})
    # The old versions still hold the quoted cell values: remove their files.
    DeltaTable(path).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    return f"quarantine: {old.height} rows without quoted cell values, with a unit column"


def _canonical_units(store: Store, labels: dict[str, str]) -> str | None:
    changed = 0
    for table in ("responses", "answers"):
        if store.version(table) is None:
            continue
        rows = store.scan(table).collect()
        mapped = rows.with_columns(
            segment=pl.coalesce(
                pl.col("segment").replace_strict(labels, default=None, return_dtype=pl.String),
                pl.col("segment").str.to_lowercase().replace_strict(labels, default=None, return_dtype=pl.String),
                pl.col("segment"),
            )
        )
        moved = mapped.filter(pl.col("segment") != rows["segment"])
        if moved.height:
            store.upsert(table, moved)
            changed += moved.height
    return f"responses and answers: {changed} rows now name their configured unit" if changed else None


def _count_file_units(store: Store) -> str | None:
    if store.version("ingest_file_units") is not None or store.version("responses") is None:
        return None
    loaded = (
        store.scan("responses")
        .group_by("file_sha256", "segment", "period")
        .agg(rows_loaded=pl.len())
        .with_columns(rows_quarantined=pl.lit(0, pl.Int64))
    )
    quarantined = (
        store.scan("quarantine")
        .group_by("file_sha256")
        .agg(rows_quarantined=pl.len())
        .with_columns(segment=pl.lit(None, pl.String), period=pl.lit(None, pl.String), rows_loaded=pl.lit(0, pl.UInt32))
    )
    counts = (
        pl.concat([loaded, quarantined], how="diagonal_relaxed")
        .group_by("file_sha256", "segment", "period")
        .agg(pl.col("rows_loaded").sum(), pl.col("rows_quarantined").sum())
        .with_columns(duplicates_superseded=pl.lit(0, pl.Int64))
        .collect()
    )
    store.upsert("ingest_file_units", counts, may_overlap=False)
    return f"ingest_file_units: {counts.height} rows counted from stored responses and quarantine"


def _ledger_history(path: Path) -> str | None:
    if not path.is_file():
        return None
    DeliveryLedger(path)  # creates the current tables
    with sqlite3.connect(path) as conn:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'").fetchone()
        if not exists:
            return None
        copied = conn.execute(
            """
            INSERT OR IGNORE INTO messages
                (report_key, recipient, kind, fingerprint, status, message_id, pdf_sha256, headline, inputs,
                 delivered_at)
            SELECT report_key, recipient, 'report', 'unknown (before version 2)', status, message_id, pdf_sha256,
                   '{}', '{}', delivered_at
            FROM deliveries
            """
        ).rowcount
        conn.execute("ALTER TABLE deliveries RENAME TO deliveries_version_1")
    return f"ledger: {copied} earlier deliveries kept as the versions their recipients hold"

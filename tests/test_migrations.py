"""A store written by the first release is brought up to the current layout at the start of a run."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime

import polars as pl
import pytest

from flows.load_surveys import load_inbox
from flows.migrations import migrate, store_version
from flows.scorecard_report import NoDataError, read_snapshot
from flows.settings import Settings
from flows.store import LAYOUT, Store
from tests.conftest import HEADER, export_csv, row

CARD = "4111 1111 1111 1111"


def _as_first_release(settings: Settings, store: Store) -> None:
    """Rewrite a current store the way release 1 left it: no unit column or per-unit counts, quoted
    cell values in reasons, export labels as units, and the old one-row-per-recipient ledger."""
    quarantine = store.scan("quarantine").collect().drop("segment")
    # Release 1 quoted cells unescaped: an apostrophe inside the quote defeats any quote pattern.
    old_reason = (
        f"submitted_at: 'Tuesday's visit {CARD}' is not a date-time in a known form (expected e.g. 2025-03-04T10:15); "
        "staff_courtesy: 7 is outside the scale (expected a whole number 1-5)"
    )
    quarantine = quarantine.with_columns(reason=pl.lit(old_reason), response_id=pl.lit(CARD))
    path = str(store.table_path("quarantine"))
    quarantine.write_delta(path, mode="overwrite", delta_write_options={"schema_mode": "overwrite"})
    shutil.rmtree(store.table_path("ingest_file_units"))
    (store.root / ".schema-version").unlink(missing_ok=True)
    for table in ("responses", "answers"):
        relabelled = store.scan(table).collect().with_columns(segment=pl.lit("Riga"))
        store.upsert(table, relabelled)
    with sqlite3.connect(settings.ledger_path) as conn:
        conn.execute(
            "CREATE TABLE deliveries (report_key TEXT, recipient TEXT, status TEXT, message_id TEXT, "
            "pdf_sha256 TEXT, delivered_at TEXT, PRIMARY KEY (report_key, recipient))"
        )
        conn.execute(
            "INSERT INTO deliveries VALUES ('scorecard/2025/All', 'ceo@northwind.example', 'written_to_outbox', "
            "'<m1@northwind.example>', 'abc', '2026-01-05T04:31:00+00:00')"
        )


def test_a_first_release_store_is_migrated_once(settings: Settings, store: Store):
    """Quoted values and ids leave the quarantine (and its history), labels become units, counts and ledger follow."""
    export_csv(settings, "a.csv", "\n".join([HEADER, row("R1", unit="Riga"), row("R2", when="soon")]) + "\n")
    load_inbox(settings, store)
    migrate(settings, store)  # a new store: just marked
    assert store_version(store) == LAYOUT
    _as_first_release(settings, store)
    assert store_version(store) == 1

    done = migrate(settings, store)

    assert len(done) == 5 and store_version(store) == LAYOUT  # quarantine, responses, answers, counts, ledger
    quarantine = store.scan("quarantine").collect()
    assert quarantine["segment"].to_list() == [None] and quarantine["response_id"].to_list() == [None]
    assert quarantine["reason"][0] == (
        "submitted_at: a value that is not a date-time in a known form; staff_courtesy: a number outside the scale"
    )
    for path in store.table_path("quarantine").rglob("*"):  # data files and the log (its statistics quote too)
        if path.is_file():
            assert CARD.encode() not in path.read_bytes() and b"Tuesday" not in path.read_bytes(), path
    assert set(store.scan("responses").collect()["segment"]) == {"Rīga"}
    assert store.scan("ingest_file_units").collect().select("rows_loaded", "rows_quarantined").sum().row(0) == (1, 1)
    snapshot = read_snapshot(settings, store, period="2025", now=datetime(2026, 11, 23, tzinfo=UTC))
    assert snapshot.metrics.filter(pl.col("segment") == "Rīga").height > 0
    with sqlite3.connect(settings.ledger_path) as conn:
        assert conn.execute("SELECT kind, recipient FROM messages").fetchall() == [("report", "ceo@northwind.example")]
    assert migrate(settings, store) == []
    assert not list(store.root.glob("quarantine.*"))  # no half-swapped folders left


def test_reproductions_stop_at_the_migration(settings: Settings, store: Store):
    """--as-of before the migration is refused (older versions are in the first release's layout)."""
    export_csv(settings, "a.csv", "\n".join([HEADER, row("R1")]) + "\n")
    load_inbox(settings, store)
    before = datetime.now(UTC)
    _as_first_release(settings, store)
    migrate(settings, store)
    with pytest.raises(NoDataError, match="when the store was migrated to the current layout"):
        read_snapshot(settings, store, period="2025", as_of=before)


def test_a_killed_swap_is_resumed(settings: Settings, store: Store):
    """Killed between moving the old quarantine aside and moving the new one in: the next run finishes it."""
    export_csv(settings, "a.csv", "\n".join([HEADER, row("R1"), row("R2", when="soon")]) + "\n")
    load_inbox(settings, store)
    _as_first_release(settings, store)
    table = store.table_path("quarantine")
    table.rename(table.with_name("quarantine.old"))  # the old table moved aside ...
    shutil.copytree(table.with_name("quarantine.old"), table.with_name("quarantine.new"))  # ... a "new" one ready
    migrate(settings, store)
    assert not table.with_name("quarantine.old").exists() and not table.with_name("quarantine.new").exists()
    assert "segment" in store.scan("quarantine").collect_schema()


def test_a_first_release_store_without_loaded_rows_is_recognised(settings: Settings, store: Store):
    """A store whose only file was fully quarantined has no responses table: still release 1, still migrated."""
    export_csv(settings, "bad.csv", "\n".join([HEADER, row("R1", when="soon")]) + "\n")
    load_inbox(settings, store)
    assert store.version("responses") is None
    quarantine = store.scan("quarantine").collect().drop("segment")
    quarantine.write_delta(
        str(store.table_path("quarantine")), mode="overwrite", delta_write_options={"schema_mode": "overwrite"}
    )
    (store.root / ".schema-version").unlink(missing_ok=True)
    assert store_version(store) == 1
    assert migrate(settings, store) and "segment" in store.scan("quarantine").collect_schema()

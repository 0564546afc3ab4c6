"""A store written by the first release is brought up to the current layout at the start of a run."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.load_sources import load_inbox
from flows.migrations import migrate, store_version
from flows.scorecard_report import NoDataError, read_snapshot
from flows.settings import Settings
from flows.sources import codebook_frame
from flows.store import LAYOUT, Store
from tests.conftest import HEADER, export_csv, row
from transforms.normalise import answers_long

CARD = "4111 1111 1111 1111"
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _rewrite(store: Store, table: str, frame: pl.DataFrame) -> None:
    """Replace a table by a fresh one holding `frame`: its history, too, is only ever in the older layout."""
    shutil.rmtree(store.table_path(table), ignore_errors=True)
    frame.write_delta(str(store.table_path(table)))


def _as_issue5_release(settings: Settings, store: Store) -> None:
    """Rewrite a current store the way the issue-5 release (layout 2) left it: answers as rows of a long
    `answers` table (as that release's normalise wrote them), no question columns in `responses`, and no
    `source` in ingest_files and quarantine (nor `profile` in ingest_files)."""
    questions = [q.id for q in settings.codebook.questions]
    responses = store.scan("responses").collect()
    answers = answers_long(responses.lazy(), codebook_frame(settings.codebook)).collect()
    assert answers.schema == V2_ANSWERS
    _rewrite(store, "answers", answers)
    _rewrite(store, "responses", responses.drop(questions))
    _rewrite(store, "quarantine", store.scan("quarantine").collect().drop("source"))
    _rewrite(store, "ingest_files", store.scan("ingest_files").collect().drop("source", "profile"))
    (store.root / ".schema-version").write_text(json.dumps({"version": 2, "migrated_at": None}), encoding="utf-8")


# The issue-5 release's `answers` table (flows/store.py, layout 2).
V2_ANSWERS = pl.Schema(
    {
        "response_id": pl.String(),
        "question_id": pl.String(),
        "raw_value": pl.Float64(),
        "value": pl.Float64(),
        "score": pl.Float64(),
        "top_box": pl.Boolean(),
        "detractor": pl.Boolean(),
        "reverse_coded": pl.Boolean(),
        "submitted_at": pl.Datetime("us", "UTC"),
        "period": pl.String(),
        "segment": pl.String(),
        "mode": pl.String(),
    }
)


def _as_first_release(settings: Settings, store: Store) -> None:
    """Rewrite a current store the way release 1 left it: layout 2's long answers and no sources, and no
    unit column or per-unit counts, quoted cell values in reasons, export labels as units, and the old
    one-row-per-recipient ledger."""
    _as_issue5_release(settings, store)
    quarantine = store.scan("quarantine").collect().drop("segment")
    # Release 1 quoted cells unescaped: an apostrophe inside the quote defeats any quote pattern.
    old_reason = (
        f"submitted_at: 'Tuesday's visit {CARD}' is not a date-time in a known form (expected e.g. 2025-03-04T10:15); "
        "staff_courtesy: 7 is outside the scale (expected a whole number 1-5)"
    )
    quarantine = quarantine.with_columns(reason=pl.lit(old_reason), response_id=pl.lit(CARD))
    _rewrite(store, "quarantine", quarantine)
    shutil.rmtree(store.table_path("ingest_file_units"))
    (store.root / ".schema-version").unlink()
    for table in ("responses", "answers"):
        _rewrite(store, table, store.scan(table).collect().with_columns(segment=pl.lit("Riga")))
    with sqlite3.connect(settings.ledger_path) as conn:
        conn.execute(
            "CREATE TABLE deliveries (report_key TEXT, recipient TEXT, status TEXT, message_id TEXT, "
            "pdf_sha256 TEXT, delivered_at TEXT, PRIMARY KEY (report_key, recipient))"
        )
        conn.execute(
            "INSERT INTO deliveries VALUES ('scorecard/2025/All', 'ceo@northwind.example', 'written_to_outbox', "
            "'<m1@northwind.example>', 'abc', '2026-01-05T04:31:00+00:00')"
        )


def _answers(settings: Settings, store: Store) -> pl.DataFrame:
    return (
        answers_long(store.scan("responses"), codebook_frame(settings.codebook))
        .sort("response_id", "question_id")
        .collect()
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

    # quarantine, units, counts, ledger, then answers into responses and ingest_files' source (the quarantine's
    # came with its rebuild)
    assert len(done) == 6 and store_version(store) == LAYOUT
    assert not store.table_path("answers").exists()
    quarantine = store.scan("quarantine").collect()
    assert quarantine["segment"].to_list() == [None] and quarantine["response_id"].to_list() == [None]
    assert quarantine["reason"][0] == (
        "submitted_at: a value that is not a date-time in a known form; staff_courtesy: a number outside the scale"
    )
    for path in store.table_path("quarantine").rglob("*"):  # data files and the log (its statistics quote too)
        if path.is_file():
            assert CARD.encode() not in path.read_bytes() and b"Tuesday" not in path.read_bytes(), path
    assert set(store.scan("responses").collect()["segment"]) == {"Rīga"}
    assert store.scan("responses").collect()["overall_satisfaction"].to_list() == [5]
    assert set(store.scan("quarantine").collect()["source"]) == {"surveys"}
    assert store.scan("ingest_files").collect().select("source", "profile").rows() == [("surveys", "plain")]
    assert store.scan("ingest_file_units").collect().select("rows_loaded", "rows_quarantined").sum().row(0) == (1, 1)
    snapshot = read_snapshot(settings, store, period="2025", now=NOW)
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


def _issue5_store(settings: Settings, store: Store) -> dict[str, pl.DataFrame]:
    """A store with answers in three units (a blank one, a reverse-coded item), a quarantined row and a rejected
    file, as the current release writes it; returns what it reads before it is rewritten in layout 2."""
    rows = [
        HEADER,
        row("R1", unit="Riga", q1="2", q6="5"),
        row("R2", q2="", q6="2", comment="Quick and kind"),
        row("R3", unit="Narva", q1="4", q2="3"),
        row("R4", when="soon"),
    ]
    export_csv(settings, "a.csv", "\n".join(rows) + "\n")
    export_csv(settings, "latin.csv", HEADER + "\n" + row("R9", comment="très déçu") + "\n", encoding="latin-1")
    assert {o.status for o in load_inbox(settings, store)} == {"loaded", "rejected"}
    before = {
        "responses": store.scan("responses").sort("response_id").collect(),
        "answers": _answers(settings, store),
        "metrics": read_snapshot(settings, store, period="2025", now=NOW).metrics,
    }
    _as_issue5_release(settings, store)
    assert store_version(store) == 2
    assert store.scan("answers").collect().height == 3 * len(settings.codebook.questions)
    assert "overall_satisfaction" not in store.scan("responses").collect_schema()
    return before


def test_an_issue5_store_is_migrated_once(settings: Settings, store: Store):
    """Layout 2 -> 3: every answer moves from the long `answers` table into its response's question column
    (same values, same metrics), `answers` goes, earlier files and quarantined rows are surveys; then nothing."""
    before = _issue5_store(settings, store)

    done = migrate(settings, store)

    assert len(done) == 3 and store_version(store) == LAYOUT  # answers moved; source on ingest_files, quarantine
    assert not store.table_path("answers").exists()
    responses = store.scan("responses").sort("response_id").collect()
    assert_frame_equal(responses, before["responses"], check_column_order=False)
    assert responses.select("response_id", "likely_to_recommend", "explained_more_than_once").rows() == [
        ("R1", 9, 5),
        ("R2", None, 2),  # a blank answer stays blank
        ("R3", 3, 1),
    ]
    assert_frame_equal(_answers(settings, store), before["answers"])
    assert_frame_equal(read_snapshot(settings, store, period="2025", now=NOW).metrics, before["metrics"])
    files = store.scan("ingest_files").sort("source_file").collect()
    assert files.select("source_file", "source", "status").rows() == [
        ("a.csv", "surveys", "loaded"),
        ("latin.csv", "surveys", "rejected"),
    ]
    assert files.filter(pl.col("status") == "loaded")["profile"].to_list() == ["plain"]
    quarantine = store.scan("quarantine").collect()
    assert quarantine.select("source_line", "source").rows() == [(5, "surveys")]

    versions = store.versions()
    assert migrate(settings, store) == []
    assert store.versions() == versions

    # The migrated store is the current layout: a later export updates a migrated response in place.
    export_csv(settings, "b.csv", HEADER + "\n" + row("R2", when="2025-03-05 10:00", q2="7") + "\n")
    later = {o.file: o for o in load_inbox(settings, store)}["b.csv"]  # latin.csv: rejected again
    assert (later.rows_loaded, later.duplicates_superseded) == (1, 1)
    responses = store.scan("responses").sort("response_id").collect()
    assert responses.select("response_id", "likely_to_recommend").rows() == [("R1", 9), ("R2", 7), ("R3", 3)]


def test_a_killed_answers_move_is_resumed(settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch):
    """Killed after the answers are in `responses` and `answers` is set aside, before it is deleted: the next
    run finishes the job."""
    before = _issue5_store(settings, store)

    def killed(path, *args, **kwargs):
        raise OSError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(shutil, "rmtree", killed)
        with pytest.raises(OSError, match="killed"):
            migrate(settings, store)
    assert store_version(store) == 2 and store.table_path("answers").with_name("answers.retired").exists()
    assert "overall_satisfaction" in store.scan("responses").collect_schema()  # killed after the move

    assert migrate(settings, store) and store_version(store) == LAYOUT
    assert not store.table_path("answers").exists()
    assert not store.table_path("answers").with_name("answers.retired").exists()
    assert_frame_equal(
        store.scan("responses").sort("response_id").collect(), before["responses"], check_column_order=False
    )
    assert_frame_equal(_answers(settings, store), before["answers"])


def test_migrated_responses_get_todays_row_hash(settings: Settings, store: Store):
    """Layout 2 hashed a response's content another way: the migration hashes it anew, so the same
    response sent again (another file, identical content) is unchanged, not counted as superseded."""
    _issue5_store(settings, store)
    responses = store.scan("responses").collect().with_columns(row_hash=pl.lit(12345, pl.Int64))  # layout 2's formula
    responses.write_delta(str(store.table_path("responses")), mode="overwrite")
    migrate(settings, store)
    again = [HEADER, row("R1", unit="Riga", q1="2", q6="5")]
    export_csv(settings, "a_again.csv", "\n".join(again) + "\n")
    resent = {o.file: o for o in load_inbox(settings, store)}["a_again.csv"]
    assert (resent.rows_loaded, resent.duplicates_superseded) == (1, 0)

"""The store: idempotent upserts by natural key, and history that reproduces a past report."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.load_sources import load_inbox
from flows.scorecard_report import gather_scorecard
from flows.settings import Settings
from flows.store import Store
from tests.conftest import HEADER, export_csv, row


def test_upsert_is_idempotent(store: Store):
    """Upserting the same rows twice leaves one row per key; changed rows are updated in place."""
    frame = pl.DataFrame(
        {
            "file_sha256": ["h1"],
            "source_file": ["f"],
            "source_line": [2],
            "response_id": ["R"],
            "segment": ["Tallinn"],
            "reason": ["x"],
            "quarantined_at": [datetime(2025, 1, 1, tzinfo=UTC)],
            "source": ["surveys"],
        }
    )
    store.upsert("quarantine", frame)
    store.upsert("quarantine", frame)
    store.upsert("quarantine", frame.with_columns(reason=pl.lit("y")))
    out = store.scan("quarantine").collect()
    assert out.height == 1 and out["reason"][0] == "y"


def test_past_report_reproduced_from_history(settings: Settings, store: Store):
    """Metrics computed 'as of' an earlier time equal those computed then, after more data arrived."""
    export_csv(
        settings,
        "one.csv",
        "\n".join([HEADER, row("R1", when="2024-05-05 10:00", q1="5"), row("R2", when="2024-05-06 10:00", q1="2")])
        + "\n",
    )
    load_inbox(settings, store)
    now = datetime(2026, 1, 15, tzinfo=UTC)
    then = gather_scorecard(settings, store, period="2024", now=now)
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    export_csv(settings, "two.csv", "\n".join([HEADER, row("R3", when="2024-07-07 10:00", q1="1")]) + "\n")
    load_inbox(settings, store)
    later = gather_scorecard(settings, store, period="2024", now=now)
    assert not later.metrics.equals(then.metrics)
    reproduced = gather_scorecard(settings, store, period="2024", as_of=moment, now=now)
    assert_frame_equal(reproduced.metrics, then.metrics)
    assert reproduced.files["source_file"].to_list() == ["one.csv"]


def test_runs_are_serialised(store: Store):
    """While one run holds the store lock, a second run waits and then fails loudly instead of interleaving."""
    from flows.store import RunInProgress

    with store.run_lock(), pytest.raises(RunInProgress, match=r"\.run\.lock"), store.run_lock(wait_seconds=0.2):
        raise AssertionError("a second run entered while the first held the lock")


def test_answers_of_a_dropped_question_do_not_survive_an_update(store: Store):
    """Answers are columns of `responses`: a question the codebook gains becomes a column, and an updated
    response without a question's column stores it blank (never an answer from an older submission)."""
    from datetime import UTC, datetime

    base = {
        "response_id": "R1",
        "submitted_at": datetime(2025, 3, 4, tzinfo=UTC),
        "period": "2025",
        "segment": "Tallinn",
        "mode": "online",
        "customer_id": None,
        "comment": None,
        "source_file": "a.csv",
        "source_line": 2,
        "file_sha256": "a" * 64,
        "row_hash": 1,
        "ingested_at": datetime(2025, 3, 5, tzinfo=UTC),
    }
    store.upsert("responses", pl.DataFrame([base | {"old_question": 4}]))
    store.upsert("responses", pl.DataFrame([base | {"row_hash": 2, "new_question": 5}]))
    stored = store.scan("responses").collect()
    assert stored.height == 1
    assert stored.select("old_question", "new_question").row(0) == (None, 5)

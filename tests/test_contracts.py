"""The data contracts check the data itself, not only column types."""

from __future__ import annotations

from datetime import UTC, datetime

import dataframely as dy
import polars as pl
import pytest

from flows.settings import Settings
from flows.sources import survey_contract, survey_raw_contract


def _staged(**changes: object) -> pl.DataFrame:
    row = {
        "response_id": "R1",
        "submitted_at": datetime(2025, 3, 4, 8, 15, tzinfo=UTC),
        "period": "2025",
        "customer_id": None,
        "segment": "Tallinn",
        "mode": "online",
        "comment": None,
        "source_file": "a.csv",
        "source_line": 2,
        "file_sha256": "0" * 64,
        "file_order": 0,
        "overall_satisfaction": 4,
        "likely_to_recommend": 9,
    }
    frame = pl.DataFrame([row | changes])
    return frame.with_columns(
        pl.col("submitted_at").cast(pl.Datetime("us", "UTC")),
        pl.col("overall_satisfaction", "likely_to_recommend").cast(pl.Int16),
        pl.col("customer_id", "comment", "response_id", "mode").cast(pl.String),
        pl.col("source_line").cast(pl.Int64),
    )


def test_staged_responses_contract_holds_for_a_valid_row(settings: Settings):
    contract = survey_contract(settings)
    frame = _staged()
    missing = [c for c in contract.column_names() if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.Int16).alias(c) for c in missing)
    assert contract.validate(frame.select(contract.column_names())).height == 1


@pytest.mark.parametrize(
    "change",
    [
        {"overall_satisfaction": 7},  # outside its 1-5 scale
        {"mode": "fax"},  # not one of our four modes
        {"response_id": None},  # a response without its key
        {"source_line": 0},  # lines count from 1
    ],
)
def test_staged_responses_contract_rejects_bad_data(settings: Settings, change: dict[str, object]):
    contract = survey_contract(settings)
    frame = _staged(**change)
    missing = [c for c in contract.column_names() if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.Int16).alias(c) for c in missing)
    with pytest.raises(dy.exc.ValidationError):
        contract.validate(frame.select(contract.column_names()))


def test_two_rows_with_one_key_break_the_contract(settings: Settings):
    contract = survey_contract(settings)
    frame = pl.concat([_staged(), _staged(source_line=3)])
    missing = [c for c in contract.column_names() if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.Int16).alias(c) for c in missing)
    with pytest.raises(dy.exc.ValidationError, match="primary_key"):
        contract.validate(frame.select(contract.column_names()))


def test_raw_contract_needs_lineage(settings: Settings):
    contract = survey_raw_contract(settings)
    columns = dict.fromkeys(contract.column_names(), pl.String) | {"source_line": pl.Int64, "file_order": pl.Int64}
    frame = pl.DataFrame({c: [None] for c in columns}, schema=columns)  # no file, no line
    with pytest.raises(pl.exceptions.ComputeError, match="validation"):
        contract.validate(frame.lazy(), cast=False).collect()


def test_each_source_and_the_store_agree_on_its_key():
    from flows.sources import SOURCES
    from flows.store import KEYS

    for source in SOURCES:
        assert KEYS[source.table] == source.key, source.name

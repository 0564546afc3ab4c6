"""Bring a store written by an earlier release up to the current layout, once, at the start of a run.

Version 1 (the first release) differs from version 2 in four ways, each fixed by one
idempotent step (safe to repeat if a run is killed half-way; the version marker is
written last):
1. `quarantine` has no `segment` column, its reasons quote cell values and it keeps the ids
   of invalid rows: rebuild it in a fresh table from our own wording (`first_release_reason`),
   without those ids, and swap it in, so no old data file or log entry keeps the quotes.
2. `responses` and `answers` hold export labels where units are now configured names:
   map them through the configured labels (rows naming no configured unit keep their label
   and show in the company report only).
3. `ingest_file_units` does not exist: count it from the stored responses and quarantined
   rows (rows superseded before the upgrade are not known any more).
4. The delivery ledger records one row per report and recipient: copy them into the message
   history as reports delivered with unknown content, so the next run sends each holder the
   current version once, as a correction.
Version 2 differs from version 3 (sources and export profiles) in two ways:
5. Answers are stored one Int16 column per question in `responses`, not as rows of a long
   `answers` table: each question's raw answers move into `responses`, then `answers` goes.
6. `ingest_files` and `quarantine` carry the source (all were surveys) and `ingest_files` the
   export profile (all were read as our own format, 'plain').
The marker records when the store was migrated: `--as-of` cannot go back before that (the
older versions are in the earlier layout, and the quarantine's were removed).
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flows.delivery import DeliveryLedger
from flows.settings import Settings
from flows.sources import survey_content
from flows.store import ANSWER_TYPE, LAYOUT, SCHEMAS, Store
from transforms.normalise import with_row_hash

log = logging.getLogger(__name__)


class NewerStore(Exception):
    """The store was written by a newer release than this one: refuse rather than damage it."""


def store_version(store: Store) -> int:
    """The layout version of a store: one with any table but no marker was written by the first release."""
    layout = store.layout()
    if layout is not None:
        return int(layout["version"])
    return 1 if store.exists() else LAYOUT


def reproducible_since(store: Store) -> datetime | None:
    """How far back `--as-of` can go: not before a migration (older versions hold the earlier layout)."""
    migrated = (store.layout() or {}).get("migrated_at")
    return datetime.fromisoformat(migrated) if migrated else None


def migrate(settings: Settings, store: Store) -> list[str]:
    """Run the steps a store needs; returns what was done (empty when it is current). Hold the run lock."""
    version = store_version(store)
    if version > LAYOUT:
        raise NewerStore(
            f"{store.root} is written in layout version {version} by a newer release of csat-pipeline; "
            f"this one knows version {LAYOUT}: use the newer release"
        )
    if version == LAYOUT:
        return []
    questions = [q.id for q in settings.codebook.questions]
    steps = []
    if version < 2:
        steps += [
            _redact_quarantine(store, questions),
            *_canonical_units(store, settings.unit_labels()),
            _count_file_units(store),
            _ledger_history(settings.ledger_path),
        ]
    steps += [_answers_into_responses(store, settings), *_source_columns(store)]
    done = [step for step in steps if step]
    store.write_layout(datetime.now(UTC))
    for step in done:
        log.warning("store migrated to version %d: %s", LAYOUT, step)
    return done


def first_release_reason(reason: pl.Expr, question_ids: Sequence[str]) -> pl.Expr:
    """A first-release quarantine reason rebuilt from our own wording only.

    Those reasons quoted up to 40 characters of a cell, unescaped: no pattern can cut the
    quote out reliably. So the new reason is made of fixed phrases chosen by what the old
    one says, the numbers of a shape error, question ids and - for duplicates, which quote
    no cell - the file names of the original. Nothing else of the old text survives.
    """

    def says(phrase: str) -> pl.Expr:
        return reason.str.contains(phrase, literal=True)

    shape = r"^line (\d+): expected (\d+) fields separated by '.' but found (\d+)"
    phrases = [
        pl.when(reason.str.contains(shape)).then(
            pl.format(
                "expected {} fields but found {}",
                *(reason.str.extract(shape, group) for group in (2, 3)),
            )
        ),
        *(pl.when(says(f"{field}: missing")).then(pl.lit(f"{field}: missing"))
          for field in ("response_id", "submitted_at", "segment", "mode")),
        pl.when(says("is not a date-time in a known form")).then(
            pl.lit("submitted_at: a value that is not a date-time in a known form")
        ),
        pl.when(says("is reserved for the company-wide total")).then(
            pl.lit("segment: 'All' is reserved for the company-wide total (expected a business unit name)")
        ),
        pl.when(says("is not a known collection mode")).then(
            pl.lit("mode: a value that is not a known collection mode (expected a label listed under mode_values)")
        ),
        *(pl.when(says(f"{q}: '") & says("is not a number")).then(pl.lit(f"{q}: a value that is not a number"))
          for q in question_ids),
        *(pl.when(says(f"{q}: ") & says("is outside the scale")).then(pl.lit(f"{q}: a number outside the scale"))
          for q in question_ids),
        pl.when(says("no answer to any codebook question")).then(pl.lit("no answer to any codebook question")),
    ]  # fmt: skip
    rebuilt = pl.concat_str(phrases, separator="; ", ignore_nulls=True)
    duplicate = reason.str.contains(
        r"^duplicate response_id: (superseded by a later submission \(.+ line \d+\)"
        r"|a newer submission is already stored \(from .+\))$"
    )
    return (
        pl.when(duplicate)
        .then(reason)
        .when(rebuilt != "")
        .then(rebuilt)
        .otherwise(pl.lit("a problem recorded by an earlier release (its details quoted the row and were removed)"))
    )


def _redact_quarantine(store: Store, question_ids: Sequence[str]) -> str | None:
    """Rebuild `quarantine` in a fresh table and swap it in: old data files and the Delta log (its column
    statistics quote reasons too) go with the old folder. Resumes a swap a killed run left half done."""
    table = store.table_path("quarantine")
    fresh, retired = table.with_name("quarantine.new"), table.with_name("quarantine.old")
    if not table.exists() and fresh.exists():
        fresh.rename(table)
    if retired.exists():
        shutil.rmtree(retired)
    if store.version("quarantine") is None or "segment" in store.scan("quarantine").collect_schema():
        return None
    if fresh.exists():
        shutil.rmtree(fresh)  # a rebuild a killed run left unfinished: start it again
    old = store.scan("quarantine").collect()
    rebuilt = old.with_columns(
        reason=first_release_reason(pl.col("reason"), question_ids),
        response_id=pl.when(pl.col("reason").str.starts_with("duplicate response_id")).then(pl.col("response_id")),
        segment=pl.lit(None, pl.String),
        source=pl.lit("surveys"),
    )
    rebuilt.select([pl.col(c).cast(t) for c, t in SCHEMAS["quarantine"].items()]).write_delta(str(fresh))
    table.rename(retired)
    fresh.rename(table)
    shutil.rmtree(retired)
    return f"quarantine: {old.height} rows rebuilt without quoted cell values, with a unit column"


def _canonical_units(store: Store, labels: dict[str, str]) -> list[str]:
    done = []
    for table in ("responses",):  # the answers' units follow the responses' in step 5
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
            done.append(f"{table}: {moved.height} rows now name their configured unit")
    return done


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
    with closing(sqlite3.connect(path)) as conn, conn:
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


def _answers_into_responses(store: Store, settings: Settings) -> str | None:
    """Step 5: each question's raw answers from the long `answers` table into an Int16 column of `responses`.

    One question at a time (memory holds one question's answers, not the long table); `answers`
    is renamed aside before it is deleted, so a run killed at any point repeats or finishes the step.
    Each response's `row_hash` is computed anew the way loading now computes it, so an identical
    response sent again stays "unchanged" rather than counting as superseded.
    """
    answers = store.table_path("answers")
    retired = answers.with_name("answers.retired")
    if retired.exists():
        shutil.rmtree(retired)
    if store.version("answers") is None:
        return None
    questions = store.scan("answers").select(pl.col("question_id").unique()).collect()["question_id"].to_list()
    responses = store.scan("responses").collect()
    for question in sorted(questions):
        column = (
            store.scan("answers")
            .filter(pl.col("question_id") == question)
            .select("response_id", pl.col("raw_value").cast(ANSWER_TYPE).alias(question))
            .collect()
        )
        responses = responses.drop(question, strict=False).join(column, on="response_id", how="left")
    content = survey_content(settings)
    responses = responses.with_columns(
        pl.lit(None, dtype=ANSWER_TYPE).alias(c) for c in content if c not in responses.columns
    )
    responses = with_row_hash(responses.lazy(), content).collect()
    responses.write_delta(
        str(store.table_path("responses")), mode="overwrite", delta_write_options={"schema_mode": "overwrite"}
    )
    answers.rename(retired)  # only after the answers are in `responses`
    shutil.rmtree(retired)
    return f"responses: the answers to {len(questions)} questions moved in from the long answers table"


def _source_columns(store: Store) -> list[str]:
    """Step 6: `source` (and `profile`) on ingest_files and quarantine; every earlier file was a survey export."""
    done = []
    loaded = pl.col("status") == "loaded"
    added = {
        # Rejected files were read by no profile: they keep none.
        "ingest_files": {
            "source": pl.lit("surveys"),
            "profile": pl.when(loaded).then(pl.lit("plain")),
            "file_size": pl.lit(None, pl.Int64),  # unknown: such files are read and hashed once more
            "file_ctime_ns": pl.lit(None, pl.Int64),
        },
        # Reasons name their line once: the page prints the line beside them (layout 2 repeated it).
        "quarantine": {
            "source": pl.lit("surveys"),
            "reason": pl.col("reason").str.replace(r"^line \d+: (expected \d+ fields)", "${1}"),
        },
    }
    for table, columns in added.items():
        if store.version(table) is None or "source" in store.scan(table).collect_schema():
            continue
        rows = store.scan(table).collect().with_columns(v.alias(k) for k, v in columns.items())
        rows.select([pl.col(c).cast(t) for c, t in SCHEMAS[table].items()]).write_delta(
            str(store.table_path(table)), mode="overwrite", delta_write_options={"schema_mode": "overwrite"}
        )
        done.append(f"{table}: {rows.height} rows marked as source 'surveys'")
    return done

"""Load new survey exports from the inbox into the store: read, stage, normalise, upsert.

Each file content (sha256) is processed once. Every row read is either loaded or
quarantined with a reason; the per-file counts satisfy read = loaded + quarantined.
Writes go answers -> responses -> quarantine -> ingest_files, each an idempotent
upsert, and the file is marked processed last: a run killed half-way simply processes
the file again next time, with no duplicate rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flows.files import sha256_file
from flows.ingest import RawExport, UnreadableExport, inbox_files, read_export
from flows.settings import Codebook, Settings
from flows.store import Store
from transforms.normalise import answers_long, resolve_duplicates, with_row_hash
from transforms.staging.surveys import PeriodRules, TimestampRules, stg_survey_responses

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileOutcome:
    file: str
    sha256: str
    status: str  # loaded | rejected | already_processed
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    duplicates_superseded: int
    message: str | None


def codebook_frame(codebook: Codebook) -> pl.DataFrame:
    """The codebook as a small frame the pure transforms can join on."""
    return pl.DataFrame(
        {
            "question_id": [q.id for q in codebook.questions],
            "kind": [q.kind for q in codebook.questions],
            "dimension": [q.dimension for q in codebook.questions],
            "scale_min": [q.scale.min for q in codebook.questions],
            "scale_max": [q.scale.max for q in codebook.questions],
            "reverse": [q.wording == "negative" for q in codebook.questions],
            "top_box_from": [q.top_box_threshold for q in codebook.questions],
        },
        schema_overrides={"scale_min": pl.Int64, "scale_max": pl.Int64, "top_box_from": pl.Int64},
    )


def mode_labels(settings: Settings) -> dict[str, str]:
    labels = {mode: mode for mode in settings.pipeline.mode_values}  # our own names are always understood
    for mode, names in settings.pipeline.mode_values.items():
        labels |= dict.fromkeys(names, mode)
    return labels


def stage(exports: list[RawExport], settings: Settings) -> pl.LazyFrame:
    """All exports' rows, typed, with lineage and a reason for each invalid row."""
    question_ids = [q.id for q in settings.codebook.questions]
    raw = pl.concat(
        [
            e.frame.with_columns(
                source_file=pl.lit(e.path.name), file_sha256=pl.lit(e.sha256), file_order=pl.lit(i, pl.Int64)
            )
            for i, e in enumerate(exports)
        ],
        how="vertical",
    ).lazy()
    staged = stg_survey_responses(
        raw,
        codebook_frame(settings.codebook),
        mode_labels(settings),
        TimestampRules(settings.pipeline.timestamps.date_order, settings.pipeline.timestamps.source_timezone),
        PeriodRules(settings.pipeline.periods.timezone, settings.pipeline.periods.start_month),
    )
    return with_row_hash(staged, question_ids)


def read_new_exports(settings: Settings, store: Store) -> tuple[list[RawExport], list[FileOutcome]]:
    """Read every inbox file whose content is not yet in the store; unreadable ones become outcomes."""
    files = store.scan("ingest_files").select("file_sha256", "status", "message").collect()
    loaded = set(files.filter(pl.col("status") == "loaded")["file_sha256"])
    # Rejected files are tried again (the configuration may have been fixed); an unchanged
    # rejection is not recorded again.
    rejected = dict(files.filter(pl.col("status") == "rejected").select("file_sha256", "message").iter_rows())
    exports, outcomes, seen = [], [], set()
    for path in inbox_files(settings.inbox):
        digest = sha256_file(path)
        if digest in loaded or digest in seen:
            continue  # this content was loaded before (maybe under another name)
        seen.add(digest)
        try:
            exports.append(read_export(path, settings, digest))
        except UnreadableExport as exc:
            log.warning("rejected whole file: %s", exc)
            if rejected.get(digest) != str(exc):
                outcomes.append(FileOutcome(path.name, digest, "rejected", 0, 0, 0, 0, str(exc)))
    return exports, outcomes


def load_inbox(settings: Settings, store: Store, now: datetime | None = None) -> list[FileOutcome]:
    """Ingest every new inbox file into the store; return one outcome per newly processed file."""
    now = now or datetime.now(UTC)
    exports, outcomes = read_new_exports(settings, store)
    if exports:
        outcomes = _load_exports(exports, settings, store, now) + outcomes
    _record_files(store, exports, outcomes, now)
    return outcomes


def _load_exports(exports: list[RawExport], settings: Settings, store: Store, now: datetime) -> list[FileOutcome]:
    staged = stage(exports, settings)
    stored = store.scan("responses").select("response_id", "submitted_at", "row_hash", "source_file")
    decided = resolve_duplicates(staged.filter(pl.col("reason").is_null()), stored)
    invalid, decided = pl.collect_all([staged.filter(pl.col("reason").is_not_null()), decided])

    to_write = decided.filter(pl.col("decision").is_in(["new", "update"]))
    rejected = pl.concat(
        [
            invalid.select(_quarantine_columns()),
            decided.filter(pl.col("decision") == "duplicate").select(_quarantine_columns()),
        ]
    ).with_columns(quarantined_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")))
    answers = answers_long(to_write.lazy(), codebook_frame(settings.codebook)).collect()
    # Checked per table: a run killed between the two writes leaves answers whose response
    # row is missing; appending them again would double-count.
    store.upsert("answers", answers, may_overlap=_any_stored(store, "answers", to_write))
    store.upsert(
        "responses",
        to_write.with_columns(ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC"))),
        may_overlap=_any_stored(store, "responses", to_write),
    )
    store.upsert("quarantine", rejected)

    per_file = _counts_per_file(invalid, decided)
    outcomes = []
    for e in exports:
        c = per_file.get(e.sha256, {})
        read = e.frame.height
        loaded, quarantined = c.get("loaded", 0), c.get("quarantined", 0)
        if read != loaded + quarantined:  # an invariant, not an input error: stop loudly
            raise AssertionError(f"{e.path.name}: read {read} != loaded {loaded} + quarantined {quarantined}")
        outcomes.append(
            FileOutcome(
                e.path.name,
                e.sha256,
                "loaded",
                read,
                loaded,
                quarantined,
                c.get("superseded", 0),
                "; ".join(e.notes) or None,
            )
        )
    return outcomes


def _any_stored(store: Store, table: str, rows: pl.DataFrame) -> bool:
    """Whether any of these response ids already has rows in `table` (then merge, else append)."""
    ids = rows.select("response_id").lazy()
    return store.scan(table).select("response_id").join(ids, on="response_id", how="semi").head(1).collect().height > 0


def _quarantine_columns() -> list[pl.Expr]:
    return [
        pl.col("file_sha256"),
        pl.col("source_file"),
        pl.col("source_line"),
        pl.col("response_id"),
        pl.col("reason"),
    ]


def _counts_per_file(invalid: pl.DataFrame, decided: pl.DataFrame) -> dict[str, dict[str, int]]:
    counts = (
        pl.concat(
            [
                invalid.select("file_sha256", decision=pl.lit("invalid")),
                decided.select("file_sha256", "decision"),
            ]
        )
        .group_by("file_sha256")
        .agg(
            loaded=pl.col("decision").is_in(["new", "update", "unchanged"]).sum(),
            quarantined=pl.col("decision").is_in(["invalid", "duplicate"]).sum(),
            superseded=(pl.col("decision") == "update").sum(),
        )
    )
    return {row["file_sha256"]: row for row in counts.iter_rows(named=True)}


def _record_files(store: Store, exports: list[RawExport], outcomes: list[FileOutcome], now: datetime) -> None:
    details = {e.sha256: e for e in exports}
    rows = [
        {
            "file_sha256": o.sha256,
            "source_file": o.file,
            "format": details[o.sha256].format if o.sha256 in details else Path(o.file).suffix.lstrip(".").lower(),
            "encoding": details[o.sha256].encoding if o.sha256 in details else None,
            "delimiter": details[o.sha256].delimiter if o.sha256 in details else None,
            "status": o.status,
            "message": o.message,
            "rows_read": o.rows_read,
            "rows_loaded": o.rows_loaded,
            "rows_quarantined": o.rows_quarantined,
            "duplicates_superseded": o.duplicates_superseded,
            "ingested_at": now,
        }
        for o in outcomes
    ]
    if rows:
        store.upsert("ingest_files", pl.DataFrame(rows))

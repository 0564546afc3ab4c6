"""Load new survey exports from the inbox into the store: read, stage, normalise, upsert.

Each file content (sha256) is processed once, and only once it is complete (flows.inbox).
Every row read is either loaded or quarantined with a reason; the per-file counts satisfy
read = loaded + quarantined, per unit and period as well (`ingest_file_units`). Writes go
answers -> responses -> quarantine -> ingest_file_units -> ingest_files, each an
idempotent upsert, and the file is marked processed last: a run killed half-way simply
processes the file again next time, with no duplicate rows.

Nothing in the inbox is skipped silently: each run reports files still being copied,
files rejected whole (again every run, until fixed or accepted), files whose bytes equal
one already loaded under another name, and hidden or temporary files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flows.inbox import StillChanging, read_complete, scan_inbox
from flows.ingest import RawExport, UnreadableExport, content_sha256, read_export
from flows.settings import Codebook, Settings
from flows.store import Store
from transforms.normalise import answers_long, resolve_duplicates, with_row_hash
from transforms.staging.surveys import PeriodRules, TimestampRules, stg_survey_responses

log = logging.getLogger(__name__)
LOADED = ("new", "update", "unchanged")


@dataclass(frozen=True)
class FileOutcome:
    file: str
    sha256: str  # "" when the bytes were not read (in progress, ignored)
    status: str  # loaded | rejected | in_progress | duplicate_content | ignored
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    duplicates_superseded: int
    message: str | None


def _noted(path: Path, status: str, message: str, sha256: str = "") -> FileOutcome:
    return FileOutcome(path.name, sha256, status, 0, 0, 0, 0, message)


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
        settings.unit_labels(),
        TimestampRules(settings.pipeline.timestamps.date_order, settings.pipeline.timestamps.source_timezone),
        PeriodRules(settings.pipeline.periods.timezone, settings.pipeline.periods.start_month),
    )
    return with_row_hash(staged, question_ids)


def read_new_exports(
    settings: Settings, store: Store, now: datetime
) -> tuple[list[RawExport], list[FileOutcome], set[str]]:
    """Read every complete inbox file whose content is not in the store yet.

    Returns the readable exports, an outcome for everything else worth saying (rejected, in
    progress, duplicate content, ignored), and the hashes of rejections already recorded
    with the same message (not recorded again).
    """
    files = store.scan("ingest_files").select("file_sha256", "source_file", "status", "message").collect()
    loaded = dict(files.filter(pl.col("status") == "loaded").select("file_sha256", "source_file").iter_rows())
    # Rejected files are tried again every run (the configuration may have been fixed).
    rejected = dict(files.filter(pl.col("status") == "rejected").select("file_sha256", "message").iter_rows())
    scan = scan_inbox(settings.require_inbox(), settings.pipeline.intake, now.timestamp())
    # A marker beside its file is the convention working; an orphan marker is worth saying.
    outcomes = [_noted(path, "ignored", why) for path, why in scan.ignored.items() if why != "ready marker"]
    outcomes += [_noted(path, "in_progress", why) for path, why in scan.in_progress.items()]
    exports: list[RawExport] = []
    seen: dict[str, str] = {}
    unchanged_rejections: set[str] = set()
    for path in scan.complete:
        try:
            data = read_complete(path)  # read once: the hash recorded and the rows loaded come from these bytes
        except StillChanging as exc:
            outcomes.append(_noted(path, "in_progress", str(exc)))
            continue
        digest = content_sha256(data)
        if loaded.get(digest) == path.name:
            continue  # loaded before: the steady state of an inbox
        if digest in loaded or digest in seen:
            first = loaded.get(digest) or seen[digest]
            outcomes.append(
                _noted(path, "duplicate_content", f"same bytes as {first}, which is loaded; not loaded again", digest)
            )
            continue
        seen[digest] = path.name
        try:
            if not data.strip():
                raise UnreadableExport(f"{path.name}: the file is empty (expected a header line and rows)")
            exports.append(read_export(path, data, settings))
        except UnreadableExport as exc:
            log.warning("rejected whole file: %s", exc)
            outcomes.append(_noted(path, "rejected", str(exc), digest))
            if rejected.get(digest) == str(exc):
                unchanged_rejections.add(digest)
    return exports, outcomes, unchanged_rejections


def load_inbox(settings: Settings, store: Store, now: datetime | None = None) -> list[FileOutcome]:
    """Ingest every new complete inbox file into the store; return an outcome per file worth reporting."""
    now = now or datetime.now(UTC)
    exports, outcomes, unchanged = read_new_exports(settings, store, now)
    if exports:
        outcomes = _load_exports(exports, settings, store, now) + outcomes
    _record_files(store, exports, [o for o in outcomes if o.sha256 not in unchanged], now)
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
    store.upsert("ingest_file_units", _counts_per_unit(invalid, decided))

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
        pl.col("segment"),
        pl.col("reason"),
    ]


def _counts_per_unit(invalid: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """Rows loaded, quarantined and superseding per file, unit and period (null: not readable)."""
    return (
        pl.concat(
            [
                invalid.select("file_sha256", "segment", "period", decision=pl.lit("invalid")),
                decided.select("file_sha256", "segment", "period", "decision"),
            ]
        )
        .group_by("file_sha256", "segment", "period")
        .agg(
            rows_loaded=pl.col("decision").is_in(LOADED).sum(),
            rows_quarantined=pl.col("decision").is_in(["invalid", "duplicate"]).sum(),
            duplicates_superseded=(pl.col("decision") == "update").sum(),
        )
    )


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
            loaded=pl.col("decision").is_in(LOADED).sum(),
            quarantined=pl.col("decision").is_in(["invalid", "duplicate"]).sum(),
            superseded=(pl.col("decision") == "update").sum(),
        )
    )
    return {row["file_sha256"]: row for row in counts.iter_rows(named=True)}


def _record_files(store: Store, exports: list[RawExport], outcomes: list[FileOutcome], now: datetime) -> None:
    """One `ingest_files` row per file loaded or rejected (the others are not processed yet, or never will be)."""
    outcomes = [o for o in outcomes if o.status in ("loaded", "rejected")]
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

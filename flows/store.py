"""The embedded store: Delta Lake tables with history, owned by this one module.

Why Delta Lake (docs/architecture.md): every write is an atomic, versioned commit, merges
give idempotent upserts by natural key, and any past version can be read back
(`version=`) so a past report is reproducible from the data as it was. Runs are
serialised by a lock file, so there is one writer at a time.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError, TableNotFoundError
from filelock import FileLock, Timeout

from flows.files import atomic_write_bytes
from transforms.staging import RECORD_SPECS
from transforms.staging.records import personal_schema, table_schema

log = logging.getLogger(__name__)

UTC_TIME = pl.Datetime("us", "UTC")

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "responses": {
        "response_id": pl.String(),
        "submitted_at": UTC_TIME,
        "period": pl.String(),
        "customer_id": pl.String(),
        "segment": pl.String(),
        "mode": pl.String(),
        "comment": pl.String(),
        "source_file": pl.String(),
        "source_line": pl.Int64(),
        "file_sha256": pl.String(),
        "row_hash": pl.Int64(),
        "ingested_at": UTC_TIME,
        # ... and one Int16 column per codebook question (ANSWER_TYPE): the raw answer, null if blank.
    },
    "quarantine": {
        "file_sha256": pl.String(),
        "source_file": pl.String(),
        "source_line": pl.Int64(),
        "response_id": pl.String(),
        "segment": pl.String(),  # the configured unit the row names, null when it names none
        "reason": pl.String(),
        "quarantined_at": UTC_TIME,
        "source": pl.String(),
    },
    # Rows of each file by unit and period, counted when loaded: a unit's report shows its own
    # share of every file (read = loaded + quarantined) without reading other units' rows.
    "ingest_file_units": {
        "file_sha256": pl.String(),
        "segment": pl.String(),  # null: rows whose unit could not be read
        "period": pl.String(),  # null: rows whose date could not be read
        "rows_loaded": pl.Int64(),
        "rows_quarantined": pl.Int64(),
        "duplicates_superseded": pl.Int64(),
    },
    "ingest_files": {
        "file_sha256": pl.String(),
        "source_file": pl.String(),
        "source": pl.String(),  # the source whose folder held it ("" for a file outside every source folder)
        "profile": pl.String(),  # the export profile it was read with
        "format": pl.String(),
        "encoding": pl.String(),
        "delimiter": pl.String(),
        "status": pl.String(),
        "message": pl.String(),
        "rows_read": pl.Int64(),
        "rows_loaded": pl.Int64(),
        "rows_quarantined": pl.Int64(),
        "duplicates_superseded": pl.Int64(),
        "ingested_at": UTC_TIME,
        # The file as it lay in the inbox when loaded: an untouched file (same name, size and
        # status-change time, which copy tools cannot set back) is not read and hashed again.
        "file_size": pl.Int64(),
        "file_ctime_ns": pl.Int64(),
    },
}

# Every record source's table (transforms/staging/<source>.py), and the tables its personal data lives in.
SCHEMAS |= {spec.table: table_schema(spec) for spec in RECORD_SPECS}
SCHEMAS |= {spec.personal_table: personal_schema(spec) for spec in RECORD_SPECS if spec.personal_table}
# Customers whose personal data was purged (`csat forget`): what was received before is never stored again.
SCHEMAS["forgotten_customers"] = {"customer_id": pl.String(), "forgotten_at": UTC_TIME}
# Personal-data tables: statistics for the key only, so no personal value is copied into the log.
PERSONAL_TABLES = {spec.personal_table for spec in RECORD_SPECS if spec.personal_table}

# Tables that also hold columns named by configuration (answers: one per codebook question; supplier
# measures), of this type.
ANSWER_TYPE = pl.Int16()
OPEN_COLUMNS = {"responses": ANSWER_TYPE} | {
    spec.table: pl.Float64() for spec in RECORD_SPECS if spec.open_number_columns
}

KEYS: dict[str, tuple[str, ...]] = (
    {
        "responses": ("response_id",),
        "quarantine": ("file_sha256", "source_line"),
        "ingest_file_units": ("file_sha256", "segment", "period"),
        "ingest_files": ("file_sha256",),
        "forgotten_customers": ("customer_id",),
    }
    | {spec.table: spec.key for spec in RECORD_SPECS}
    | {spec.personal_table: spec.key for spec in RECORD_SPECS if spec.personal_table}
)
# Key columns that may be null: matched with IS NOT DISTINCT FROM (small tables only: it is no hash join).
NULLABLE_KEYS = {"ingest_file_units": ("segment", "period")}


LAYOUT = 3  # the table layout this release writes (flows.migrations brings older stores up to it)
LAYOUT_MARKER = ".schema-version"


class RunInProgress(Exception):
    """Another run holds the store lock for longer than we are willing to wait."""


@dataclass(frozen=True)
class Store:
    root: Path

    def table_path(self, table: str) -> Path:
        return self.root / table

    def version(self, table: str, as_of: datetime | None = None) -> int | None:
        """The table's newest version, or the one current at `as_of`; None if it did not exist."""
        try:
            delta = DeltaTable(str(self.table_path(table)))
            if as_of is not None:
                start = self.history_start(table)
                if start is None or as_of < start:
                    return None  # deltalake would silently give the first version
                delta.load_as_version(as_of)
            return delta.version()
        except (TableNotFoundError, DeltaError):
            return None

    def history_start(self, table: str) -> datetime | None:
        """When the table's first version was written (how far back `--as-of` can go), None if it does not exist."""
        try:
            delta = DeltaTable(str(self.table_path(table)))
        except (TableNotFoundError, DeltaError):
            return None
        oldest = min(delta.history(), key=lambda commit: commit.get("version", 0))
        return datetime.fromtimestamp(oldest["timestamp"] / 1000, tz=UTC)

    def exists(self) -> bool:
        """Whether any table has been written."""
        return any(self.version(table) is not None for table in SCHEMAS)

    def layout(self) -> dict[str, Any] | None:
        """The layout marker: {"version", "migrated_at"}; None when the store has none (a first-release store)."""
        path = self.root / LAYOUT_MARKER
        if not path.is_file():
            return None
        loaded = json.loads(path.read_text(encoding="utf-8"))
        return loaded if isinstance(loaded, dict) else {"version": int(loaded), "migrated_at": None}

    def write_layout(self, migrated_at: datetime | None) -> None:
        body = {"version": LAYOUT, "migrated_at": migrated_at.isoformat() if migrated_at else None}
        atomic_write_bytes(self.root / LAYOUT_MARKER, json.dumps(body).encode())

    def versions(self, as_of: datetime | None = None) -> dict[str, int | None]:
        return {table: self.version(table, as_of) for table in SCHEMAS}

    def scan(self, table: str, as_of: datetime | None = None) -> pl.LazyFrame:
        """The table as a LazyFrame, as it was at `as_of` if given; empty and typed before its first write."""
        version = self.version(table, as_of)
        if version is None:
            return pl.LazyFrame(schema=SCHEMAS[table])
        return pl.scan_delta(str(self.table_path(table)), version=version)

    def has_rows(self, table: str, column: str, value: str) -> bool:
        """Whether any row of `table` has `value` in `column` (e.g. a file's rows, by its content hash)."""
        if self.version(table) is None:
            return False
        return self.scan(table).filter(pl.col(column) == value).select(pl.len()).collect().item() > 0

    def upsert(self, table: str, frame: pl.DataFrame, *, may_overlap: bool = True) -> dict[str, int]:
        """Insert new rows and update existing ones by the table's natural key, in one commit.

        `may_overlap=False` (the caller knows no key exists yet) appends, which is much
        cheaper than a merge on large first loads.
        """
        fixed = SCHEMAS[table]
        open_type = OPEN_COLUMNS.get(table)
        new_table = self.version(table) is None
        extra = []
        if open_type is not None:
            extra = [pl.col(c).cast(open_type) for c in frame.columns if c not in fixed]
            if not new_table:
                # A stored open column the rows lack (a question the codebook dropped) is written as null,
                # so an updated row never keeps an answer from an older submission.
                stored = self.scan(table).collect_schema().names()
                extra += [
                    pl.lit(None, dtype=open_type).alias(c) for c in stored if c not in fixed and c not in frame.columns
                ]
        frame = frame.select(*[pl.col(c).cast(t) for c, t in fixed.items()], *extra)
        if frame.is_empty():
            return {"inserted": 0, "updated": 0}
        path = str(self.table_path(table))
        if new_table and not self.exists():
            self.write_layout(None)  # a store born now is in this release's layout
        if new_table or not may_overlap:
            options: dict[str, Any] = {"schema_mode": "merge"}
            if new_table and table in PERSONAL_TABLES:
                options["configuration"] = {"delta.dataSkippingNumIndexedCols": str(len(KEYS[table]))}
            # schema merge: a question the codebook gained becomes a new column (older rows read it as null)
            frame.write_delta(path, mode="append", delta_write_options=options)
            return {"inserted": frame.height, "updated": 0}
        nullable = NULLABLE_KEYS.get(table, ())
        predicate = " AND ".join(
            f"(s.{k} IS NOT DISTINCT FROM t.{k})" if k in nullable else f"(s.{k} = t.{k})" for k in KEYS[table]
        )
        merger = frame.write_delta(
            path,
            mode="merge",
            delta_merge_options={
                "predicate": predicate,
                "source_alias": "s",
                "target_alias": "t",
                "merge_schema": bool(extra),
            },
        )
        assert merger is not None  # mode="merge" always returns a TableMerger
        metrics = merger.when_matched_update_all().when_not_matched_insert_all().execute()
        return {"inserted": metrics["num_target_rows_inserted"], "updated": metrics["num_target_rows_updated"]}

    def delete_keys(self, table: str, keys: pl.DataFrame) -> int:
        """Delete the rows whose natural key is among `keys` (one commit); returns how many were deleted."""
        if keys.is_empty() or self.version(table) is None:
            return 0
        key = KEYS[table]
        frame = keys.select(pl.col(k).cast(SCHEMAS[table][k]) for k in key)
        # Nothing to delete: no commit (a merge would rewrite files and leave the old ones as history).
        if self.scan(table).join(frame.lazy(), on=list(key), how="semi").head(1).collect().is_empty():
            return 0
        merger = frame.write_delta(
            str(self.table_path(table)),
            mode="merge",
            delta_merge_options={
                "predicate": " AND ".join(f"(s.{k} = t.{k})" for k in key),
                "source_alias": "s",
                "target_alias": "t",
            },
        )
        assert merger is not None
        return int(merger.when_matched_delete().execute()["num_target_rows_deleted"])

    def current_files(self, table: str) -> set[Path] | None:
        """The data files the table's newest version reads; None if the table does not exist."""
        try:
            uris = DeltaTable(str(self.table_path(table))).file_uris()
        except (TableNotFoundError, DeltaError):
            return None
        return {Path(uri.removeprefix("file://")).resolve() for uri in uris}

    def stale_files(self, table: str) -> list[Path]:
        """Data files on disk that the newest version does not read: only older versions need them."""
        current = self.current_files(table)
        folder = self.table_path(table)
        if current is None or not folder.is_dir():
            return []
        on_disk = {p.resolve() for p in folder.rglob("*.parquet") if "_delta_log" not in p.parts}
        return sorted(on_disk - current)

    def drop_history(self, table: str) -> list[Path]:
        """Delete every data file the table's newest version does not use, whatever its age (vacuum, no
        retention): older versions of this table cannot be read any more. Returns the files removed
        (none, and no commit, when there were none)."""
        stale = self.stale_files(table)
        if not stale:
            return []
        DeltaTable(str(self.table_path(table))).vacuum(
            retention_hours=0, enforce_retention_duration=False, dry_run=False
        )
        if left := [p for p in stale if p.exists()]:  # never report a purge that did not happen
            raise RuntimeError(f"{table}: {len(left)} data file(s) of older versions remain after the vacuum")
        return stale

    @contextlib.contextmanager
    def run_lock(self, wait_seconds: float = 3600) -> Iterator[None]:
        """Serialise runs (nightly and on-demand) on this store: one writer, one report per key."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / ".run.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.info("another run holds %s; waiting up to %.0f s", self.root / ".run.lock", wait_seconds)
            try:
                lock.acquire(timeout=wait_seconds)
            except Timeout:
                raise RunInProgress(
                    f"another csat run has held the store lock {self.root / '.run.lock'} for over {wait_seconds:.0f} s"
                ) from None
        try:
            yield
        finally:
            lock.release()

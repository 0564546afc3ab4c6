"""Load new files of every source (flows/sources.py) from the inbox into the store, one file at a time.

The machinery every source shares, written once: each file content (sha256) is processed
once, and only once it is complete (flows.inbox); its bytes are read once, hashed, and read
as strings by its profile (flows/profiles.py, flows/readers.py); the source's staging types
them; every row read is loaded or quarantined with a reason (read = loaded + quarantined,
per unit and period as well, in `ingest_file_units`); rows merge into the source's table by
natural key (idempotent), after the rows written pass the source's data contract. Per file,
writes go table -> quarantine -> ingest_file_units -> ingest_files, each an idempotent
upsert, the file marked processed last: a run killed half-way processes the file again next
time, with no duplicate rows. One file at a time bounds memory by the largest file.

Nothing in the inbox is skipped silently: each run reports files still being copied, files
rejected whole (again every run, until fixed or accepted), files whose bytes equal one
already loaded under another name, hidden or temporary files, and files outside any
source's folder.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from flows.inbox import StillChanging, read_complete, scan_inbox
from flows.profiles import (
    ChosenProfile,
    ColumnLabels,
    FieldNames,
    Mapping,
    column_labels,
    map_columns,
    profile_by_pattern,
    profile_by_shape,
    resolve_profiles,
)
from flows.readers import HEAD_ROWS, RawTable, UnreadableExport, content_sha256, read_table
from flows.settings import Settings
from flows.sources import SOURCES, SOURCES_BY_NAME, Source
from flows.store import Store
from transforms.normalise import resolve_duplicates, with_row_hash
from transforms.timestamps import DateOrderEvidence, TimestampRules, common_format, date_order_evidence

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
    source: str = ""  # the source whose folder holds it ("" outside any)
    profile: str | None = None  # the export profile it was read with


def _noted(path: Path, status: str, message: str, source: str, sha256: str = "") -> FileOutcome:
    return FileOutcome(path.name, sha256, status, 0, 0, 0, 0, message, source)


@dataclass(frozen=True)
class Untouched:
    """A loaded file seen again, unchanged by content, whose size and time are recorded anew."""

    sha256: str
    stat: os.stat_result


@dataclass(frozen=True)
class RawExport:
    """One file read and mapped: strings in the source's field names, lineage, and how it was read."""

    path: Path
    sha256: str
    source: Source
    chosen: ChosenProfile
    table: RawTable
    frame: pl.DataFrame  # our fields + source_line + shape_error
    timestamps: TimestampRules
    notes: list[str]
    timestamp_note: str  # how its dates and times are read (for `csat validate`)


# --- reading ------------------------------------------------------------------------------


def choose_profile(path: Path, data: bytes, settings: Settings, source: Source) -> ChosenProfile:
    """The configured profile whose file pattern matches, else the tool whose shape the first rows have."""
    profiles = resolve_profiles(settings)
    order = [p.name for p in settings.pipeline.profiles]
    if (chosen := profile_by_pattern(path.name, [profiles[name] for name in order], source.name)) is not None:
        return chosen
    head_reader = replace(profiles["plain"], header_rows=HEAD_ROWS, label_rows=(1,))  # up to 3 rows, if there are
    head: list[list[str]] = []
    # The first lines; more when they end inside a quoted cell (a question text or comment over lines).
    for lines in (64, 1024, None):
        try:
            head = read_table(path, data, head_reader, head_lines=lines).header
            break
        except UnreadableExport:
            continue  # damaged or too short: the full read under 'plain' says what is wrong
    return profile_by_shape(head, profiles, source.name)


def read_export(path: Path, data: bytes, settings: Settings, source: Source, sha256: str | None = None) -> RawExport:
    """Read one file's bytes (already read from `path`) into the source's fields; raises UnreadableExport.

    Only `data` is hashed and parsed, never the file again: the recorded hash is that of
    the bytes loaded, even if the file changes meanwhile (`sha256`: their hash, if known).
    """
    chosen = choose_profile(path, data, settings, source)
    profile = chosen.profile
    table = read_table(path, data, profile)
    labels = column_labels(table.header, profile)
    fields = source.fields(settings, profile)
    mapping = map_columns(labels, fields)
    # A name titling several columns is an error for any field: no column is picked by guess.
    missing = [f for f in fields if f.field not in mapping.columns and (f.required or f.field in mapping.ambiguous)]
    if missing:
        single = len(labels.labels) == 1 and table.format == "csv"
        hint = " (the header is a single field: is the delimiter right?)" if single else ""
        expected = "; ".join(_expected_column(f, mapping, labels) for f in missing)
        raise UnreadableExport(
            f"{path.name}: header: missing or ambiguous column(s) under profile {profile.name} ({chosen.why}) - "
            f"expected {expected}{hint}"
        )
    frame = table.frame.select(
        *[pl.col(f"c{mapping.columns[f.field]}").alias(f.field) for f in fields if f.field in mapping.columns],
        *[pl.lit(None, dtype=pl.String).alias(f.field) for f in fields if f.field not in mapping.columns],
        "source_line",
        "shape_error",
    )
    frame = source.prepare(frame.lazy(), profile, set(mapping.columns)).collect()
    noted = source.noted(settings)
    notes = list(table.notes) + [
        f"no column for {f.field} ({source.blank_note})"
        for f in fields
        if f.field in noted and f.field not in mapping.columns
    ]
    if source.report_unused and (unused := _unused_columns(labels, mapping)):
        notes.append(unused)
    notes += source.file_notes(frame, table.format)
    dates = source.date_fields
    zone = labels.time_zones.get(mapping.columns.get(dates[0], -1)) if dates else None
    if zone is not None and not _known_zone(zone):
        raise UnreadableExport(
            f"{path.name}: header: the {dates[0]} column names the time zone {zone[:60]!r}, which is not an "
            "IANA zone such as 'Europe/Tallinn'; correct the export's time zone setting"
        )
    aligned = frame.lazy().filter(pl.col("shape_error").is_null())  # a misaligned row's 'date' may be any cell
    # Every date field of the file is read in one order: any of them may show it, none may contradict it.
    written = pl.concat([aligned.select(pl.col(d).alias("_date"), "source_line") for d in dates]) if dates else None
    evidence = (
        DateOrderEvidence(**date_order_evidence(written, "_date").collect().row(0, named=True))
        if written is not None
        else DateOrderEvidence(None, None, 0)
    )
    named = "/".join(dates) or "dates"
    if (conflict := evidence.conflict(profile.date_order)) is not None:
        mixed = evidence.day_first_line is not None and evidence.month_first_line is not None
        fix = (
            "fix the export (one order per file)"
            if mixed
            else f"set date_order (DMY or MDY) for profile {profile.name} in config/pipeline.yaml "
            "(profiles, or timestamps.date_order)"
        )
        raise UnreadableExport(f"{path.name}: {named}: {conflict}; {fix} - nothing is read with day and month swapped")
    order = evidence.order(profile.date_order)
    timestamps = TimestampRules(order, zone or profile.timezone, profile.clock)
    sample = frame[dates[0]].head(1000) if dates else pl.Series([], dtype=pl.String)
    timestamps = replace(timestamps, common_format=common_format(sample, timestamps))
    shown_by = evidence.day_first_line if order == "DMY" else evidence.month_first_line
    timestamp_note = (
        f"numeric dates (03/04/2025) read {order}"
        + (f", as line {shown_by} shows" if shown_by is not None else ", the profile's order (no date here shows one)")
        + f", {profile.clock} clock, times without an offset in {timestamps.source_timezone}"
        + (" (named by the export's header)" if zone else "")
    )
    # The table's own rows are not needed any more (the mapped `frame` holds what is loaded).
    table = replace(table, frame=table.frame.clear())
    digest = sha256 or content_sha256(data)
    return RawExport(path, digest, source, chosen, table, frame, timestamps, notes, timestamp_note)


def _unused_columns(labels: ColumnLabels, mapping: Mapping, shown: int = 6) -> str | None:
    """'columns not used: a, b (and 3 more)' - reported, never fatal: a file may carry more than we read."""
    taken = set(mapping.columns.values())
    unused = [_short(title, 40) for column, title in enumerate(labels.titles) if column not in taken]
    if not unused:
        return None
    more = f" and {len(unused) - shown} more" if len(unused) > shown else ""
    return f"{len(unused)} column(s) not used: {', '.join(unused[:shown])}{more}"


def _short(title: str, limit: int = 60) -> str:
    printable = "".join(ch if ch.isprintable() else " " for ch in title)
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _expected_column(field: FieldNames, mapping: Mapping, labels: ColumnLabels) -> str:
    """What a missing required field needed: its names, or which columns its name titles at once."""
    if field.field in mapping.ambiguous:
        # Column titles are the survey designer's text: shown short, without control characters.
        titles = ", ".join(_short(labels.titles[c]) for c in mapping.ambiguous[field.field])
        return f"{field.field}: its name titles several columns ({titles}); name one in the profile's columns"
    names = list(dict.fromkeys(n for tier in field.tiers for n in tier))
    return f"{field.field}: one of {names}"


def new_exports(
    source: Source, settings: Settings, now: datetime, known: pl.DataFrame
) -> Iterator[tuple[Path, bytes, str, os.stat_result] | FileOutcome | Untouched]:
    """Every complete file in the source's folder whose content is not in the store yet, with its bytes,
    one at a time (memory holds one file); an outcome for everything else worth saying (in progress,
    duplicate content, ignored)."""
    folder = settings.source_folder(source.name)
    if not folder.is_dir():
        return
    loaded_files = known.filter(pl.col("status") == "loaded")
    loaded = dict(loaded_files.select("file_sha256", "source_file").iter_rows())
    # Loaded before and untouched since (name, size, status-change time): not read or hashed again.
    untouched = set(loaded_files.select("source_file", "file_size", "file_ctime_ns").drop_nulls().iter_rows())
    scan = scan_inbox(folder, settings.pipeline.intake, now.timestamp())
    # A marker beside its file is the convention working; an orphan marker is worth saying.
    yield from (_noted(p, "ignored", why, source.name) for p, why in scan.ignored.items() if why != "ready marker")
    yield from (_noted(p, "in_progress", why, source.name) for p, why in scan.in_progress.items())
    seen: dict[str, str] = {}
    for path in scan.complete:
        stat = path.stat()
        if (path.name, stat.st_size, stat.st_ctime_ns) in untouched:
            continue  # the steady state of an inbox
        try:
            data = read_complete(path)  # read once: the hash recorded and the rows loaded come from these bytes
        except StillChanging as exc:
            yield _noted(path, "in_progress", str(exc), source.name)
            continue
        digest = content_sha256(data)
        if loaded.get(digest) == path.name:
            yield Untouched(digest, stat)  # loaded before: recorded as it lies now, not read again
            continue
        if digest in loaded or digest in seen:
            first = loaded.get(digest) or seen[digest]
            yield _noted(
                path,
                "duplicate_content",
                f"same bytes as {first}, which is loaded; not loaded again",
                source.name,
                digest,
            )
            continue
        seen[digest] = path.name
        yield path, data, digest, stat  # read_complete refused a file that moved: `stat` is of these bytes


def outside_sources(settings: Settings, now: datetime, loaded: set[str]) -> list[FileOutcome]:
    """Files lying directly in the inbox belong to no source: rejected (loudly), never loaded by guess.

    One whose content is loaded already (put there before sources had folders) is only noted:
    its rows are in the store; it should move into its folder.
    """
    folders = ", ".join(f"{s.name}/" for s in SOURCES)
    scan = scan_inbox(settings.require_inbox(), settings.pipeline.intake, now.timestamp())
    outcomes = [
        _noted(path, "ignored", f"not a source folder (expected one of: {folders})" if path.is_dir() else why, "")
        for path, why in scan.ignored.items()
        if why != "ready marker" and path.name not in SOURCES_BY_NAME
    ]
    outcomes += [_noted(path, "in_progress", why, "") for path, why in scan.in_progress.items()]
    for path in scan.complete:
        digest = content_sha256(path.read_bytes())
        if digest in loaded:
            message = f"lies directly in the inbox but is loaded already; move it into its source's folder ({folders})"
            outcomes.append(_noted(path, "ignored", message, "", digest))
        else:
            message = f"{path.name}: lies directly in the inbox; move it into its source's folder ({folders})"
            outcomes.append(_noted(path, "rejected", message, "", digest))
    return outcomes


def check_ids_not_stored_bare(export: RawExport, store: Store) -> None:
    """A tool's ids are stored with its prefix ('limesurvey:12'); the same ids stored bare were loaded
    before export profiles existed (as our own format). Loading both would count each response twice."""
    prefix = export.chosen.profile.id_prefix
    if export.source.name != "surveys":  # only survey ids take a profile's prefix (flows/sources.py)
        return
    key = export.source.key[0]
    if not prefix or store.version(export.source.table) is None:
        return
    bare = export.frame.lazy().select(pl.col(key).str.strip_prefix(prefix)).filter(pl.col(key) != "")
    clash = store.scan(export.source.table).select(key).join(bare, on=key, how="semi").select(pl.len()).collect()
    if clash.item():
        raise UnreadableExport(
            f"{export.path.name}: {clash.item()} of its {key}s are stored already without the prefix "
            f"'{prefix}' (loaded before export profiles); loading them again would count them twice - "
            f"set id_prefix: '' for profile {export.chosen.profile.name} in config/pipeline.yaml (profiles)"
        )


# --- loading ------------------------------------------------------------------------------


def load_inbox(
    settings: Settings, store: Store, now: datetime | None = None, timings: dict[str, float] | None = None
) -> list[FileOutcome]:
    """Ingest every new complete file of every source; return an outcome per file worth reporting.

    `timings`, if given, is filled with seconds per stage (read, stage, write) for benchmarks.
    """
    now = now or datetime.now(UTC)
    timings = timings if timings is not None else {}
    known = (
        store.scan("ingest_files")
        .select("file_sha256", "source_file", "status", "message", "file_size", "file_ctime_ns")
        .collect()
    )
    rejected_before = dict(known.filter(pl.col("status") == "rejected").select("file_sha256", "message").iter_rows())
    loaded = set(known.filter(pl.col("status") == "loaded")["file_sha256"])
    outcomes = outside_sources(settings, now, loaded)
    for outcome in outcomes:
        if outcome.status == "rejected" and rejected_before.get(outcome.sha256) != outcome.message:
            _record_file(store, outcome, Path(outcome.file), None, now, None)
    for source in SOURCES:
        noted, untouched = [], []
        for order, item in enumerate(new_exports(source, settings, now, known)):
            if isinstance(item, FileOutcome):
                noted.append(item)
                continue
            if isinstance(item, Untouched):
                untouched.append(item)
                continue
            path, data, digest, stat = item
            started = time.perf_counter()
            table = None
            try:
                export = read_export(path, data, settings, source, digest)
                check_ids_not_stored_bare(export, store)
            except UnreadableExport as exc:
                log.warning("rejected whole file: %s", exc)
                outcome = FileOutcome(path.name, digest, "rejected", 0, 0, 0, 0, str(exc), source.name)
            else:
                timings["read"] = timings.get("read", 0.0) + time.perf_counter() - started
                outcome, table = load_export(export, order, settings, store, now, timings), export.table
            del data, item  # one file's bytes in memory at a time
            outcomes.append(outcome)
            if outcome.status == "loaded" or rejected_before.get(digest) != outcome.message:
                # A rejection recorded before is not repeated.
                _record_file(store, outcome, path, table, now, stat if outcome.status == "loaded" else None)
        outcomes += noted
        _record_untouched(store, untouched)
    return outcomes


def _record_untouched(store: Store, files: list[Untouched]) -> None:
    """Size and time of loaded files seen unchanged (a store from before they were recorded, a touched file)."""
    if not files:
        return
    seen = pl.DataFrame(
        {
            "file_sha256": [f.sha256 for f in files],
            "file_size": [f.stat.st_size for f in files],
            "file_ctime_ns": [f.stat.st_ctime_ns for f in files],
        },
        schema={"file_sha256": pl.String, "file_size": pl.Int64, "file_ctime_ns": pl.Int64},
    )
    rows = store.scan("ingest_files").drop("file_size", "file_ctime_ns").join(seen.lazy(), on="file_sha256")
    store.upsert("ingest_files", rows.collect())


def stage_export(export: RawExport, settings: Settings, order: int = 0) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The file's rows with lineage through its source's staging: (valid rows, invalid rows with `reason`)."""
    raw = export.frame.lazy().with_columns(
        source_file=pl.lit(export.path.name), file_sha256=pl.lit(export.sha256), file_order=pl.lit(order, pl.Int64)
    )
    raw = export.source.raw_contract(settings).validate(raw, cast=False)  # lazy: checked as the rows are staged
    return export.source.stage(raw, settings, export.timestamps, export.chosen.profile)


def load_export(
    export: RawExport, order: int, settings: Settings, store: Store, now: datetime, timings: dict[str, float]
) -> FileOutcome:
    """Stage one read file, settle duplicates against the store, write rows, quarantine and counts."""
    source = export.source
    started = time.perf_counter()
    valid, invalid = stage_export(export, settings, order)
    valid, invalid = pl.collect_all([with_row_hash(valid, source.content(settings)), invalid])
    # A source without a time of its own: of two rows with one key, the later file's (then line's) wins.
    newer = source.newer or "_newer"
    constant = pl.lit(0, dtype=pl.Int8).alias("_newer")
    stored = store.scan(source.table)
    stored = stored if source.newer else stored.with_columns(constant)
    stored = stored.select(*dict.fromkeys([*source.key, newer]), "row_hash", "source_file", "file_sha256")
    valid = valid if source.newer else valid.with_columns(constant)
    repeated = bool(valid.select(pl.struct(*source.key).is_duplicated().any()).item())
    profile = export.chosen.profile
    decided = resolve_duplicates(
        valid.lazy(),
        stored,
        source.key,
        newer,
        repeated_keys=repeated,
        counter_ids=profile.counter_ids,
        derived_ids=profile.derive_response_id,
    ).collect()
    timings["stage"] = timings.get("stage", 0.0) + time.perf_counter() - started

    started = time.perf_counter()
    to_write = decided.filter(pl.col("decision").is_in(["new", "update"]))
    contract = source.contract(settings)
    contract.validate(to_write.select(contract.column_names()), cast=False)  # a violation is our bug: loud
    written = to_write.drop("decision", "reason", "file_order", "_newer", strict=False).with_columns(
        ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC"))
    )
    if source.personal_table:
        _write_personal(decided, source, store, now)
        written = written.drop(*source.personal)
    store.upsert(source.table, written, may_overlap=_any_stored(store, source, to_write))
    duplicates = decided.filter(pl.col("decision") == "duplicate")
    quarantined = pl.concat(
        [
            invalid.select(_quarantine_columns(pl.lit(None, dtype=pl.String))),
            duplicates.select(_quarantine_columns(pl.concat_str([pl.col(k) for k in source.key], separator="/"))),
        ]
    ).with_columns(source=pl.lit(source.name), quarantined_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")))
    # A file's first visit appends (a merge costs more); each table is checked on its own, since a
    # run killed between the two writes leaves the first one written.
    for table, rows in (("quarantine", quarantined), ("ingest_file_units", _counts_per_unit(invalid, decided))):
        store.upsert(table, rows, may_overlap=store.has_rows(table, "file_sha256", export.sha256))
    timings["write"] = timings.get("write", 0.0) + time.perf_counter() - started

    read = export.frame.height
    loaded = decided.filter(pl.col("decision").is_in(LOADED)).height
    superseded = decided.filter(pl.col("decision") == "update").height
    if read != loaded + quarantined.height:  # an invariant, not an input error: stop loudly
        raise AssertionError(f"{export.path.name}: read {read} != loaded {loaded} + quarantined {quarantined.height}")
    return FileOutcome(
        export.path.name,
        export.sha256,
        "loaded",
        read,
        loaded,
        quarantined.height,
        superseded,
        "; ".join(export.notes) or None,
        source.name,
        export.chosen.profile.name,
    )


def _write_personal(decided: pl.DataFrame, source: Source, store: Store, now: datetime) -> None:
    """Personal data goes to its own table, by key, from every row loaded (new, updated or unchanged in the
    source's table: a changed phone number alone is no change of the record, whose hash leaves it out).
    A record loaded without any of it keeps no row there. Always merged: idempotent after a killed run.
    The table keeps no older versions: what was replaced or deleted is removed from disk at once."""
    table = source.personal_table
    assert table is not None
    loaded = decided.filter(pl.col("decision").is_in(LOADED))
    personal = _without_forgotten(loaded, source, store).select(
        *source.key, "customer_id", *source.personal, ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC"))
    )
    has_any = pl.any_horizontal(pl.col(c).is_not_null() for c in source.personal)
    exists = store.version(table) is not None
    kept = personal.filter(has_any)
    if exists:  # rows stored as they are now are not written again
        same = [*source.key, "customer_id", *source.personal]
        kept = kept.join(store.scan(table).select(same).collect(), on=same, how="anti", nulls_equal=True)
    store.upsert(table, kept, may_overlap=exists)
    if exists:
        store.delete_keys(table, personal.filter(~has_any).select(*source.key))
    # Personal data keeps no history: a changed address or a deleted row is gone from disk at once.
    store.drop_history(table)


def _without_forgotten(rows: pl.DataFrame, source: Source, store: Store) -> pl.DataFrame:
    """Personal fields blanked for customers purged by `csat forget` (their rows received until then):
    a file still holding them, loaded again, must not bring them back."""
    if store.version("forgotten_customers") is None:
        return rows
    forgotten = store.scan("forgotten_customers").collect()
    rows = rows.join(forgotten, on="customer_id", how="left")
    until = pl.col("forgotten_at").is_not_null()
    if source.dated_by:  # a complaint received after the purge is new data, kept like any other
        until = until & (pl.col(source.dated_by) <= pl.col("forgotten_at"))
    return rows.with_columns(pl.when(until).then(None).otherwise(pl.col(c)).alias(c) for c in source.personal).drop(
        "forgotten_at"
    )


def _any_stored(store: Store, source: Source, rows: pl.DataFrame) -> bool:
    """Whether any of these keys is already in the source's table (then merge, else append)."""
    if rows.is_empty() or store.version(source.table) is None:
        return False
    keys = rows.select(*source.key).lazy()
    return (
        store.scan(source.table)
        .select(*source.key)
        .join(keys, on=list(source.key), how="semi")
        .head(1)
        .collect()
        .height
        > 0
    )


def _quarantine_columns(key: pl.Expr) -> list[pl.Expr]:
    """Where the row was and why; a duplicate keeps its (valid) key, an invalid row none (it may be any text)."""
    return [
        pl.col("file_sha256"),
        pl.col("source_file"),
        pl.col("source_line"),
        key.alias("response_id"),
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


def _record_file(
    store: Store, outcome: FileOutcome, path: Path, table: RawTable | None, now: datetime, stat: os.stat_result | None
) -> None:
    """The file's `ingest_files` row: loaded or rejected (the others are not processed yet, or never will be).

    `stat`: the file's size and modification time when its loaded bytes were read (to skip it while untouched).
    """
    store.upsert(
        "ingest_files",
        pl.DataFrame(
            [
                {
                    "file_sha256": outcome.sha256,
                    "source_file": outcome.file,
                    "source": outcome.source,
                    "profile": outcome.profile,
                    "format": table.format if table else path.suffix.lstrip(".").lower(),
                    "encoding": table.encoding if table else None,
                    "delimiter": table.delimiter if table else None,
                    "status": outcome.status,
                    "message": outcome.message,
                    "rows_read": outcome.rows_read,
                    "rows_loaded": outcome.rows_loaded,
                    "rows_quarantined": outcome.rows_quarantined,
                    "duplicates_superseded": outcome.duplicates_superseded,
                    "ingested_at": now,
                    "file_size": stat.st_size if stat else None,
                    "file_ctime_ns": stat.st_ctime_ns if stat else None,
                }
            ]
        ),
    )

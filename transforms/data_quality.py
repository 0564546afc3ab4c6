"""Which input files and quarantined rows a report's data-quality page shows.

A report shows the files that hold its rows - the company report every file with rows in
its periods, a unit's report only that unit's rows of each file - so a unit manager never
sees another unit's files, counts or reasons, and a later year's files do not change an
earlier year's report. Pure: frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

FILES_COLUMNS = (
    "source",
    "source_file",
    "status",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "duplicates_superseded",
)


def period_rank(period: pl.Expr) -> pl.Expr:
    """'2025' -> 2025, 'FY2026' -> 2026: periods of one store share a kind, so the year orders them."""
    return period.str.strip_prefix("FY").cast(pl.Int32, strict=False)


def files_in_scope(
    ingest_files: pl.LazyFrame, file_units: pl.LazyFrame, units: Sequence[str] | None, last_period: str
) -> pl.LazyFrame:
    """Loaded files holding rows of `units` (None: the whole company) in periods up to `last_period`.

    A file counts when it has such rows, or when none of its rows has a readable date (it may
    hold any period). The company report shows each file's whole counts; a unit's report only
    the unit's rows of it, so read = loaded + quarantined holds for what is shown.
    Grain: one row per file, columns FILES_COLUMNS + file_sha256.
    """
    rows = file_units if units is None else file_units.filter(pl.col("segment").is_in(list(units)))
    rank = period_rank(pl.col("period"))
    relevant = rows.group_by("file_sha256").agg(
        in_periods=(rank <= period_rank(pl.lit(last_period))).any(),
        dated=pl.col("period").is_not_null().any(),
        rows_loaded=pl.col("rows_loaded").sum(),
        rows_quarantined=pl.col("rows_quarantined").sum(),
        duplicates_superseded=pl.col("duplicates_superseded").sum(),
    )
    kept = relevant.filter(pl.col("in_periods") | ~pl.col("dated"))
    loaded = ingest_files.filter(pl.col("status") == "loaded")
    if units is None:
        shown = loaded.join(kept.select("file_sha256"), on="file_sha256", how="semi")
    else:
        shown = loaded.select("file_sha256", "source", "source_file", "status").join(
            kept.with_columns(rows_read=pl.col("rows_loaded") + pl.col("rows_quarantined")), on="file_sha256"
        )
    return shown.select("file_sha256", *FILES_COLUMNS).sort("source", "source_file", "file_sha256")


def quarantine_summary(
    quarantine: pl.LazyFrame, files: pl.LazyFrame, units: Sequence[str] | None, limit: int = 40
) -> pl.LazyFrame:
    """One row per file and reason of the shown files, with the number of rows and their first lines.

    A unit's report counts only rows that named that unit; rows whose unit could not be read
    appear in the company report only.
    Grain: one row per (file, reason).
    """
    rows = quarantine.join(files.select("file_sha256"), on="file_sha256", how="semi")
    if units is not None:
        rows = rows.filter(pl.col("segment").is_in(list(units)))
    return (
        rows.group_by("source_file", "reason")
        .agg(rows=pl.len(), first_line=pl.col("source_line").min(), lines=pl.col("source_line").sort().head(5))
        .sort("source_file", "first_line")
        .head(limit)
        .select(
            "source_file",
            pl.format("line {}: {}", pl.col("lines").cast(pl.List(pl.String)).list.join(", "), "reason").alias(
                "reason"
            ),
            "rows",
        )
    )


def current_answers(responses: pl.LazyFrame, last_period: str) -> pl.LazyFrame:
    """How many stored responses each file provides now, per unit (periods up to `last_period`).

    A response counts for the file its current version came from: a corrected export takes
    over the rows it replaced. Grain: one row per file and unit.
    """
    in_periods = period_rank(pl.col("period")) <= period_rank(pl.lit(last_period))
    return responses.filter(in_periods).group_by("file_sha256", "segment").agg(answers=pl.len())


def answers_by_file(current: pl.LazyFrame, ingest_files: pl.LazyFrame, units: Sequence[str] | None) -> pl.LazyFrame:
    """The answers each file contributes to a report of `units` (None: the company): a correction's cause.

    Grain: one row per file content (file_sha256), with its name.
    """
    rows = current if units is None else current.filter(pl.col("segment").is_in(list(units)))
    return (
        rows.group_by("file_sha256")
        .agg(pl.col("answers").sum())
        .join(ingest_files.select("file_sha256", "source_file"), on="file_sha256", how="left")
        .select("file_sha256", "source_file", "answers")
        .sort("file_sha256")
    )


def files_of_period(
    ingest_files: pl.LazyFrame, file_units: pl.LazyFrame, period: str, loaded_now: Sequence[str] = ()
) -> pl.LazyFrame:
    """Loaded files holding rows of `period` (or no dated row at all), and the files loaded in this run
    (`loaded_now`: a late file of an earlier period changes the comparisons), with the units of their rows.

    `units` is null when some rows named no unit: then the file may concern any report.
    What the completeness gate checks for too many quarantined rows; other earlier files
    were checked when they arrived.
    Grain: one row per file.
    """
    per_file = (
        file_units.group_by("file_sha256")
        .agg(
            in_period=(pl.col("period") == period).any(),
            dated=pl.col("period").is_not_null().any(),
            unknown_unit=pl.col("segment").is_null().any(),
            units=pl.col("segment").drop_nulls().unique().sort(),
        )
        .with_columns(units=pl.when(pl.col("unknown_unit")).then(None).otherwise(pl.col("units")))
    )
    return (
        ingest_files.filter(pl.col("status") == "loaded")
        .join(
            per_file.filter(pl.col("in_period") | ~pl.col("dated") | pl.col("file_sha256").is_in(list(loaded_now))),
            on="file_sha256",
        )
        .select("source_file", "file_sha256", "rows_read", "rows_quarantined", "units")
        .sort("source_file")
    )

"""Which customer comments a report quotes, and the quarantine summary for the data-quality page."""

from __future__ import annotations

import polars as pl


def select_comments(
    responses: pl.LazyFrame, answers: pl.LazyFrame, period: str, overall_item: str, limit: int
) -> pl.LazyFrame:
    """The `limit` most useful comments of the period: dissatisfied customers first, newest first.

    Surveys should yield useful information, not praise (domain.md), so comments from
    customers below the top box lead. Deterministic: ties broken by response id.
    Grain: one row per quoted response.
    """
    overall = answers.filter(pl.col("question_id") == overall_item).select(
        "response_id", overall_value="value", satisfied="top_box"
    )
    return (
        responses.filter(
            (pl.col("period") == period)
            # A comment of only spaces or invisible characters says nothing: it takes no slot.
            & (pl.col("comment").str.replace_all(r"[\s\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", "") != "")
        )
        .join(overall, on="response_id", how="left")
        .sort(
            [pl.col("satisfied").fill_null(False), "submitted_at", "response_id"],
            descending=[False, True, False],
        )
        .head(limit)
        .select("submitted_at", "segment", "mode", "overall_value", "comment")
    )


def quarantine_summary(quarantine: pl.LazyFrame, limit: int = 40) -> pl.LazyFrame:
    """One row per file and reason with the number of rows and their first lines."""
    return (
        quarantine.group_by("source_file", "reason")
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

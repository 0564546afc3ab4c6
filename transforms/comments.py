"""Which customer comments a report quotes."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def comment_candidates(responses: pl.LazyFrame, answers: pl.LazyFrame, period: str, overall_item: str) -> pl.LazyFrame:
    """The period's responses with a comment that says something, with their overall answer.

    Read once per run; each report then picks its own (`select_comments`).
    Grain: one row per commented response of the period.
    """
    overall = answers.filter((pl.col("period") == period) & (pl.col("question_id") == overall_item)).select(
        "response_id", overall_value="value", satisfied="top_box"
    )
    return (
        responses.filter(
            (pl.col("period") == period)
            # A comment of only spaces or invisible characters says nothing: it takes no slot.
            & (pl.col("comment").str.replace_all(r"[\s\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", "") != "")
        )
        .join(overall, on="response_id", how="left")
        .select("response_id", "submitted_at", "segment", "mode", "overall_value", "satisfied", "comment")
    )


def select_comments(candidates: pl.LazyFrame, units: Sequence[str] | None, limit: int) -> pl.LazyFrame:
    """The `limit` most useful comments of `units` (None: every unit): dissatisfied customers first, newest first.

    Surveys should yield useful information, not praise (domain.md), so comments from
    customers below the top box lead. Deterministic: ties broken by response id.
    Grain: one row per quoted response.
    """
    rows = candidates if units is None else candidates.filter(pl.col("segment").is_in(list(units)))
    return (
        rows.sort(
            [pl.col("satisfied").fill_null(False), "submitted_at", "response_id"],
            descending=[False, True, False],
        )
        .head(limit)
        .select("submitted_at", "segment", "mode", "overall_value", "comment")
    )

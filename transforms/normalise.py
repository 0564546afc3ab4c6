"""Normalise staged survey responses: resolve duplicate ids, then wide to long with common scores.

Duplicate response ids (documented policy, docs/methodology.md):
- within one batch, the latest `submitted_at` wins (ties: the later file, then the later
  line); the others are quarantined with the winner named;
- against the store, a newer-or-equal submission with different content replaces the
  stored one (counted as `duplicates_superseded`); identical content is `unchanged`
  (already loaded, nothing written); an older one is quarantined.
"""

from __future__ import annotations

import polars as pl

from transforms.staging.surveys import BASE_COLUMNS

DECISIONS = ("new", "update", "unchanged", "duplicate")


def with_row_hash(staged: pl.LazyFrame, question_ids: list[str]) -> pl.LazyFrame:
    """Add `row_hash`: a fingerprint of the response's content, for change detection."""
    content = [pl.col(c).cast(pl.String).fill_null("\x00") for c in (*BASE_COLUMNS, *question_ids)]
    # Reinterpreted as signed: Delta Lake has no unsigned integers.
    return staged.with_columns(row_hash=pl.concat_str(content, separator="\x1f").hash(seed=0).reinterpret(signed=True))


def resolve_duplicates(valid: pl.LazyFrame, stored: pl.LazyFrame) -> pl.LazyFrame:
    """Decide per valid staged row: new, update, unchanged, or duplicate (with `reason`).

    `valid`: staged rows without a reason, with `row_hash`. `stored`: response_id,
    submitted_at, row_hash, source_file of the responses already in the store.
    Grain: one row per valid input row.
    """
    order = ["submitted_at", "file_order", "source_line"]
    ranked = valid.sort([*order]).with_columns(
        winner_file=pl.col("source_file").last().over("response_id"),
        winner_line=pl.col("source_line").last().over("response_id"),
        is_winner=pl.int_range(pl.len()).over("response_id") == pl.len().over("response_id") - 1,
    )
    joined = ranked.join(
        stored.select(
            "response_id",
            pl.col("submitted_at").alias("stored_submitted_at"),
            pl.col("row_hash").alias("stored_row_hash"),
            pl.col("source_file").alias("stored_source_file"),
        ),
        on="response_id",
        how="left",
    )
    decision = (
        pl.when(~pl.col("is_winner"))
        .then(pl.lit("duplicate"))
        .when(pl.col("stored_submitted_at").is_null())
        .then(pl.lit("new"))
        .when(pl.col("stored_submitted_at") > pl.col("submitted_at"))
        .then(pl.lit("duplicate"))
        .when(pl.col("stored_row_hash") == pl.col("row_hash"))
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit("update"))
    )
    reason = (
        pl.when(~pl.col("is_winner"))
        .then(
            pl.format(
                "duplicate response_id: superseded by a later submission ({} line {})",
                "winner_file",
                "winner_line",
            )
        )
        .when(pl.col("stored_submitted_at") > pl.col("submitted_at"))
        .then(pl.format("duplicate response_id: a newer submission is already stored (from {})", "stored_source_file"))
    )
    return joined.with_columns(decision=decision, reason=reason).drop(
        "winner_file", "winner_line", "is_winner", "stored_submitted_at", "stored_row_hash", "stored_source_file"
    )


def answers_long(responses: pl.LazyFrame, codebook: pl.DataFrame) -> pl.LazyFrame:
    """Wide to long: one row per response per codebook question (blank answers kept as null).

    value = raw, reverse-coded as (min + max) - raw for negatively worded items;
    score = (value - min) / (max - min) in 0-1; top_box = value >= the item's threshold
    (NPS: promoter 9-10); detractor = NPS 0-6 (null for other kinds).
    Keeping blank answers as rows makes a re-submitted response overwrite every item.
    """
    questions = codebook.select("question_id", "kind", "scale_min", "scale_max", "reverse", "top_box_from").lazy()
    question_ids = codebook["question_id"].to_list()
    long = responses.select("response_id", "submitted_at", "period", "segment", "mode", *question_ids).unpivot(
        index=["response_id", "submitted_at", "period", "segment", "mode"],
        on=question_ids,
        variable_name="question_id",
        value_name="raw_value",
    )
    value = (
        pl.when(pl.col("reverse"))
        .then(pl.col("scale_min") + pl.col("scale_max") - pl.col("raw_value"))
        .otherwise(pl.col("raw_value"))
    )
    return (
        long.join(questions, on="question_id", how="left")
        .with_columns(value=value)
        .with_columns(
            score=(pl.col("value") - pl.col("scale_min")) / (pl.col("scale_max") - pl.col("scale_min")),
            top_box=pl.col("value") >= pl.col("top_box_from"),
            detractor=pl.when(pl.col("kind") == "nps").then(pl.col("value") <= 6),
            reverse_coded=pl.col("reverse"),
        )
        .select(
            "response_id",
            "question_id",
            "raw_value",
            "value",
            "score",
            "top_box",
            "detractor",
            "reverse_coded",
            "submitted_at",
            "period",
            "segment",
            "mode",
        )
    )

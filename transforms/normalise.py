"""Normalise staged survey responses: resolve duplicate ids, then wide to long with common scores.

Duplicate response ids (documented policy, docs/methodology.md):
- within one batch, the latest `submitted_at` wins (ties: the later file, then the later
  line); the others are quarantined with the winner named;
- against the store, a newer-or-equal submission with different content replaces the
  stored one (counted as `duplicates_superseded`); identical content is `unchanged`
  (already loaded, nothing written); an older one is quarantined.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.staging.columns import RANKING_COLUMNS


def with_row_hash(staged: pl.LazyFrame, content: list[str]) -> pl.LazyFrame:
    """Add `row_hash`: a fingerprint of the response's typed content, for change detection.

    polars' hash is stable for one polars version (pinned in the lock); after an upgrade an
    identical re-sent response counts as an update once, which rewrites the same values.
    """
    # Reinterpreted as signed: Delta Lake has no unsigned integers.
    return staged.with_columns(row_hash=pl.struct(*content).hash(seed=0).reinterpret(signed=True))


def resolve_duplicates(
    valid: pl.LazyFrame,
    stored: pl.LazyFrame,
    key: Sequence[str] = ("response_id",),
    newer: str = "submitted_at",
    *,
    repeated_keys: bool = True,
    counter_ids: bool = False,
    derived_ids: bool = False,
) -> pl.LazyFrame:
    """Decide per valid staged row: new, update, unchanged, or duplicate (with `reason`).

    `valid`: staged rows without a reason, with `row_hash` and lineage. `stored`: the `key` columns,
    `newer`, row_hash, source_file of the rows already in the store. Of rows sharing a key,
    the one with the latest `newer` wins (ties: the later file, then the later line).
    `repeated_keys=False` (the caller checked: no key occurs twice in `valid`) skips the ranking.
    `counter_ids`: the ids are a survey's own counter (LimeSurvey, Microsoft Forms, a Google Forms
    time stamp), so the same id from another file with another submission time is most likely
    another survey's response: it is quarantined, never allowed to replace the stored one.
    `derived_ids`: the id is made from the time stamp (Google Forms), so any other content under
    it from another file is another form's response (an edited response gets a new time stamp).
    Grain: one row per valid input row.
    """
    key = list(key)
    named = "/".join(key)
    order = [newer, "file_order", "source_line"]
    if repeated_keys:
        ranked = valid.sort(order).with_columns(
            winner_file=pl.col("source_file").last().over(key),
            winner_line=pl.col("source_line").last().over(key),
            is_winner=pl.int_range(pl.len()).over(key) == pl.len().over(key) - 1,
        )
    else:  # the caller knows every key occurs once: no ranking (a sort of the whole batch) needed
        ranked = valid.with_columns(
            winner_file=pl.lit(None, dtype=pl.String), winner_line=pl.lit(None, dtype=pl.Int64), is_winner=pl.lit(True)
        )
    joined = ranked.join(
        stored.select(
            *key,
            pl.col(newer).alias("stored_newer"),
            pl.col("row_hash").alias("stored_row_hash"),
            pl.col("source_file").alias("stored_source_file"),
            pl.col("file_sha256").alias("stored_file_sha256"),
        ),
        on=key,
        how="left",
    )
    other_file = pl.col("stored_file_sha256") != pl.col("file_sha256")
    other_survey = other_file & (
        (pl.lit(counter_ids) & (pl.col("stored_newer") != pl.col(newer)))
        | (pl.lit(derived_ids) & (pl.col("stored_row_hash") != pl.col("row_hash")))
    )
    decision = (
        pl.when(~pl.col("is_winner"))
        .then(pl.lit("duplicate"))
        .when(pl.col("stored_newer").is_null())
        .then(pl.lit("new"))
        .when(pl.col("stored_newer") > pl.col(newer))
        .then(pl.lit("duplicate"))
        .when(other_survey)
        .then(pl.lit("duplicate"))
        .when(pl.col("stored_row_hash") == pl.col("row_hash"))
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit("update"))
    )
    reason = (
        pl.when(~pl.col("is_winner"))
        .then(
            pl.format(
                f"duplicate {named}: superseded by a later submission ({{}} line {{}})", "winner_file", "winner_line"
            )
        )
        .when(pl.col("stored_newer") > pl.col(newer))
        .then(pl.format(f"duplicate {named}: a newer submission is already stored (from {{}})", "stored_source_file"))
        .when(other_survey)
        .then(
            pl.format(
                f"{named} taken: {{}} holds another response under this id - two surveys numbering their "
                "responses alike? give each survey's files a profile with its own id_prefix",
                "stored_source_file",
            )
        )
    )
    return joined.with_columns(decision=decision, reason=reason).drop(*RANKING_COLUMNS)


def answers_long(responses: pl.LazyFrame, codebook: pl.DataFrame) -> pl.LazyFrame:
    """The stored wide responses as long answers: one row per response per codebook question, read lazily.

    Answers are stored one Int16 column per question (compact, one row per response); this is
    the shape the metrics read. A question the codebook gained after a response was stored
    reads as blank for it. Blank answers are kept as null rows.

    value = raw, reverse-coded as (min + max) - raw for negatively worded items;
    score = (value - min) / (max - min) in 0-1; top_box = value >= the item's threshold
    (NPS: promoter 9-10); detractor = NPS 0-6 (null for other kinds).
    Keeping blank answers as rows makes a re-submitted response overwrite every item.
    """
    questions = codebook.select("question_id", "kind", "scale_min", "scale_max", "reverse", "top_box_from").lazy()
    question_ids = codebook["question_id"].to_list()
    stored = responses.collect_schema().names()
    responses = responses.with_columns(pl.lit(None, dtype=pl.Int16).alias(q) for q in question_ids if q not in stored)
    long = (
        responses.select("response_id", "submitted_at", "period", "segment", "mode", *question_ids)
        .unpivot(
            index=["response_id", "submitted_at", "period", "segment", "mode"],
            on=question_ids,
            variable_name="question_id",
            value_name="raw_value",
        )
        .with_columns(pl.col("raw_value").cast(pl.Float64))
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

"""stg_survey_responses: one row per survey response, typed, with a reason when it is invalid.

Staging only renames, casts and converts: strings in (from any export format), typed
columns out. A row with any problem keeps a `reason` naming the field and what was
expected; the caller sends those rows to quarantine. Nothing is guessed silently:
ambiguous numeric dates follow the configured day/month order, timestamps without an
offset are read in the configured source time zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from transforms.periods import period_label

BASE_COLUMNS = ("response_id", "submitted_at", "customer_id", "segment", "mode", "comment")
LINEAGE_COLUMNS = ("source_file", "source_line", "file_sha256", "file_order")

_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_OFFSET = r"(?:[+-]\d{2}:?\d{2})?"


@dataclass(frozen=True)
class TimestampRules:
    date_order: str  # "DMY" or "MDY"
    source_timezone: str


@dataclass(frozen=True)
class PeriodRules:
    timezone: str
    start_month: int  # 1 = calendar year


def parse_timestamp(text: pl.Expr, rules: TimestampRules) -> pl.Expr:
    """Parse the common export forms to UTC; null when no form matches (never a guess).

    Every form is first rewritten to 'YYYY-MM-DD HH:MM:SS[.f][offset]' with a few regex
    passes, so only two parses run per value (with and without an offset). Dotted dates
    (31.12.2025) are day-first by convention; slashed or dashed ones follow the hint.
    """
    day_month = "${3}-${2}-${1}" if rules.date_order == "DMY" else "${3}-${1}-${2}"
    canonical = (
        text.str.strip_chars()
        .str.replace(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})", "${3}-${2}-${1}")
        .str.replace(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})", day_month)
        .str.replace(rf"^({_DATE})[T ]", "${1} ")
        .str.replace(r"Z$", "+00:00")
        .str.replace(rf"^({_DATE})$", "${1} 00:00:00")
        .str.replace(rf"^({_DATE} \d{{1,2}}:\d{{2}})({_OFFSET})$", "${1}:00${2}")
    )
    aware = canonical.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_unit="us")
    naive = canonical.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    localised = naive.dt.replace_time_zone(rules.source_timezone, ambiguous="earliest", non_existent="null")
    return pl.coalesce(aware.dt.convert_time_zone("UTC"), localised.dt.convert_time_zone("UTC"))


def shape(value: pl.Expr) -> pl.Expr:
    """What a cell looks like, never what it says: 'a 2-digit number', 'a decimal number', 'a 19-character text'.

    Reasons end up in the store, the report and logs; a misdelimited row can put any
    customer text (a card number, an e-mail address) into any field.
    """
    text = value.str.strip_chars()
    digits = text.str.count_matches(r"\d")
    return (
        pl.when(text.str.contains(r"^\+?\d+$"))
        .then(pl.format("a {}-digit number", digits))
        .when(text.str.contains(r"^-\d+$"))
        .then(pl.format("a negative {}-digit number", digits))
        .when(text.str.contains(r"^[+-]?(\d+[.,]\d*|[.,]\d+)$"))
        .then(pl.lit("a decimal number"))
        .otherwise(pl.format("a {}-character text", text.str.len_chars()))
    )


def _blank_to_null(name: str) -> pl.Expr:
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped).alias(name)


def stg_survey_responses(
    raw: pl.LazyFrame,
    codebook: pl.DataFrame,
    mode_labels: Mapping[str, str],
    unit_labels: Mapping[str, str],
    timestamps: TimestampRules,
    periods: PeriodRules,
) -> pl.LazyFrame:
    """Type the raw export rows; `reason` is null for a valid row, else says what is wrong.

    `raw` has string columns BASE_COLUMNS + one per codebook question + LINEAGE_COLUMNS
    + `shape_error`. `codebook` has question_id, scale_min, scale_max. `unit_labels` maps
    an export's unit labels (exact, then lower-case) to the configured unit names: the
    output `segment` is always a configured unit, or null when the row names none.
    Grain: one row per input row (nothing is dropped here).
    """
    questions: Sequence[tuple[str, int, int]] = codebook.select("question_id", "scale_min", "scale_max").rows()
    labels = {label.strip().casefold(): mode for label, mode in mode_labels.items()}
    known_modes = ", ".join(sorted(set(labels.values())))

    typed = raw.with_columns(
        *[_blank_to_null(c) for c in ("response_id", "submitted_at", "customer_id", "segment", "mode")],
        pl.col("comment").str.strip_chars(),
    ).with_columns(
        submitted_at_utc=parse_timestamp(pl.col("submitted_at"), timestamps),
        mode_code=pl.col("mode").str.to_lowercase().replace_strict(labels, default=None, return_dtype=pl.String),
        unit=pl.coalesce(
            pl.col("segment").replace_strict(dict(unit_labels), default=None, return_dtype=pl.String),
            pl.col("segment")
            .str.to_lowercase()
            .replace_strict(dict(unit_labels), default=None, return_dtype=pl.String),
        ),
        **{f"{q}__num": pl.col(q).str.strip_chars().cast(pl.Float64, strict=False) for q, _, _ in questions},
    )

    problems = [
        pl.when(pl.col("shape_error").is_not_null()).then(pl.col("shape_error")),
        pl.when(pl.col("response_id").is_null()).then(pl.lit("response_id: missing")),
        pl.when(pl.col("submitted_at").is_null()).then(pl.lit("submitted_at: missing")),
        pl.when(pl.col("submitted_at").is_not_null() & pl.col("submitted_at_utc").is_null()).then(
            pl.format(
                "submitted_at: {} is not a date-time in a known form (expected e.g. 2025-03-04T10:15[:00][+02:00] "
                "or {} 10:15)",
                shape(pl.col("submitted_at")),
                pl.lit("04.03.2025 / 04/03/2025" if timestamps.date_order == "DMY" else "04.03.2025 / 03/04/2025"),
            )
        ),
        pl.when(pl.col("segment").is_null()).then(pl.lit("segment: missing")),
        # 'All' names the company-wide total in every report; a unit of that name would merge into it.
        pl.when(pl.col("segment").str.to_lowercase() == "all").then(
            pl.lit("segment: 'All' is reserved for the company-wide total (expected a business unit name)")
        ),
        pl.when(
            pl.col("segment").is_not_null() & (pl.col("segment").str.to_lowercase() != "all") & pl.col("unit").is_null()
        ).then(
            pl.format(
                "segment: {} is not a configured unit (expected a name or alias listed under 'units' in the "
                "configuration)",
                shape(pl.col("segment")),
            )
        ),
        pl.when(pl.col("mode").is_null()).then(pl.lit("mode: missing")),
        pl.when(pl.col("mode").is_not_null() & pl.col("mode_code").is_null()).then(
            pl.format(
                "mode: {} is not a known collection mode (expected a label listed under mode_values for: {})",
                shape(pl.col("mode")),
                pl.lit(known_modes),
            )
        ),
    ]
    for q, low, high in questions:
        raw_text, number = pl.col(q).str.strip_chars(), pl.col(f"{q}__num")
        problems.append(
            pl.when(raw_text.is_not_null() & (raw_text != "") & number.is_null()).then(
                pl.format(
                    "{}: {} is not a number (expected a whole number {}-{})", pl.lit(q), shape(raw_text), low, high
                )
            )
        )
        problems.append(
            pl.when(number.is_not_null() & ((number < low) | (number > high) | (number != number.round(0)))).then(
                pl.format(
                    "{}: {} outside the scale (expected a whole number {}-{})", pl.lit(q), shape(raw_text), low, high
                )
            )
        )
    answered = pl.sum_horizontal(pl.col(f"{q}__num").is_not_null() for q, _, _ in questions)
    problems.append(pl.when(answered == 0).then(pl.lit("no answer to any codebook question")))

    reason = pl.concat_str(problems, separator="; ", ignore_nulls=True)
    return typed.select(
        # An invalid row's id may be any text of a misdelimited row: only valid rows keep it.
        pl.when(reason == "").then(pl.col("response_id")).alias("response_id"),
        pl.col("submitted_at_utc").alias("submitted_at"),
        period_label(pl.col("submitted_at_utc"), periods.timezone, periods.start_month).alias("period"),
        "customer_id",
        pl.col("unit").alias("segment"),
        pl.col("mode_code").alias("mode"),
        pl.when(pl.col("comment") == "").then(None).otherwise(pl.col("comment")).alias("comment"),
        *[pl.col(f"{q}__num").alias(q) for q, _, _ in questions],
        *LINEAGE_COLUMNS,
        reason.alias("reason"),
    ).with_columns(pl.when(pl.col("reason") == "").then(None).otherwise(pl.col("reason")).alias("reason"))

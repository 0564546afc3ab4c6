"""Survey staging: one row per survey response, typed, or quarantined with a reason.

`checked_survey_rows` types every row and runs a cheap test; `split_survey_rows` turns the
checked rows into (valid responses, invalid rows with a `reason`). Materialise the checked
rows once when collecting both (flows/sources.py does).

Staging only renames, casts and converts: strings in (from any export format and profile),
typed columns out. A row with any problem gets a `reason` naming the field and what was
expected; nothing is guessed silently: numeric dates follow the file's profile (checked
against the file's own dates before staging), timestamps without an offset are read in the
profile's time zone. Validity is decided with cheap boolean tests first, and the reason
text is built only for the invalid rows (a handful among millions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from transforms.contracts import dy
from transforms.periods import period_label
from transforms.staging.columns import LINEAGE_COLUMNS
from transforms.timestamps import TimestampRules, with_timestamp


@dataclass(frozen=True)
class PeriodRules:
    timezone: str
    start_month: int  # 1 = calendar year


@dataclass(frozen=True)
class SurveyRules:
    """What staging needs from the configuration, as plain values."""

    questions: Sequence[tuple[str, int, int]]  # (question id, scale min, scale max)
    mode_labels: Mapping[str, str]  # export label -> one of our modes
    unit_labels: Mapping[str, str]  # export label (exact, then lower-case) -> configured unit
    timestamps: TimestampRules
    periods: PeriodRules
    # `response_status` values (lower case) that mark no customer's response: previews, tests, spam.
    not_responses: frozenset[str] = frozenset()


class RawSurveyRow(dy.Schema):
    """An export row as read and mapped: strings in our names, with lineage (input of staging)."""

    response_id = dy.String(nullable=True)
    submitted_at = dy.String(nullable=True)
    customer_id = dy.String(nullable=True)
    segment = dy.String(nullable=True)
    mode = dy.String(nullable=True)
    comment = dy.String(nullable=True)
    source_file = dy.String(nullable=False)
    source_line = dy.Int64(nullable=False, min=1)
    file_sha256 = dy.String(nullable=False)
    file_order = dy.Int64(nullable=False)
    shape_error = dy.String(nullable=True)
    response_status = dy.String(nullable=True)  # a tool's mark of previews and spam (null: none)


class StagedSurveyResponse(dy.Schema):
    """A valid staged response (output of staging); one Int16 column per codebook question besides these.

    Checked on the data before it is written (flows/load_sources.py): one row per response id,
    keys, time, period and unit present, the mode one of our four, every answer within its scale.
    (That the unit is a configured one, staging decides: its output names only configured units.)
    """

    response_id = dy.String(nullable=False, primary_key=True)  # checked once duplicates are resolved
    submitted_at = dy.Datetime(nullable=False, time_zone="UTC", time_unit="us")
    period = dy.String(nullable=False)
    customer_id = dy.String(nullable=True)
    segment = dy.String(nullable=False)
    mode = dy.String(nullable=False, regex="^(online|paper|phone|in_person)$")
    comment = dy.String(nullable=True)
    source_file = dy.String(nullable=False)
    source_line = dy.Int64(nullable=False, min=1)
    file_sha256 = dy.String(nullable=False)
    file_order = dy.Int64(nullable=False)


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


def checked_survey_rows(raw: dy.LazyFrame[RawSurveyRow], rules: SurveyRules) -> pl.LazyFrame:
    """Every row typed, with `quick_ok`: a cheap test (answers written as plain whole numbers within
    their scale, every field readable) that settles nearly every row.

    `raw` (RawSurveyRow) has the base fields as strings, one string column per codebook question,
    the lineage columns and `shape_error`. Grain: one row per input row.
    """
    ints = {f"{q}__num": pl.col(q).cast(pl.Int16, strict=False) for q, _, _ in rules.questions}
    return (
        _typed_fields(raw, rules)
        .with_columns(**ints)
        .with_columns(quick_ok=_row_ok(rules, [pl.lit(True)] * len(rules.questions)))
    )


def split_survey_rows(
    checked: pl.LazyFrame, rules: SurveyRules
) -> tuple[dy.LazyFrame[StagedSurveyResponse], pl.LazyFrame]:
    """(valid, invalid with `reason`): rows the quick test passed are valid; only the others are
    examined in full (spaces, '4.0', out-of-scale values) and, if invalid, given their reason.

    Valid rows (StagedSurveyResponse) carry each answer as Int16, `segment` always a configured
    unit. Grain: every checked row is in exactly one of the two outputs.
    """
    nums = [f"{q}__num" for q, _, _ in rules.questions]
    settled = checked.filter(pl.col("quick_ok"))
    examined = (
        checked.filter(~pl.col("quick_ok"))
        .drop(*nums, "quick_ok")
        .with_columns(pl.col(q).str.strip_chars() for q, _, _ in rules.questions)
        .with_columns(**{f"{q}__num": pl.col(q).cast(pl.Float64, strict=False) for q, _, _ in rules.questions})
    )
    whole = [pl.col(f"{q}__num") == pl.col(f"{q}__num").round(0) for q, _, _ in rules.questions]
    examined = examined.with_columns(valid_row=_row_ok(rules, whole))
    valid = pl.concat([_valid_output(settled, rules), _valid_output(examined.filter(pl.col("valid_row")), rules)])
    invalid = examined.filter(~pl.col("valid_row")).select(
        pl.col("unit").alias("segment"),
        period_label(pl.col("submitted_at_utc"), rules.periods.timezone, rules.periods.start_month).alias("period"),
        *LINEAGE_COLUMNS,
        reason=_reasons(rules),
    )
    return valid, invalid


def _typed_fields(raw: pl.LazyFrame, rules: SurveyRules) -> pl.LazyFrame:
    """Base fields trimmed (blank = null), the time in UTC, the mode and unit as configured."""
    labels = {label.strip().casefold(): mode for label, mode in rules.mode_labels.items()}
    units = dict(rules.unit_labels)
    typed = raw.with_columns(
        *[_blank_to_null(c) for c in ("response_id", "submitted_at", "customer_id", "segment", "mode", "comment")]
    )
    return with_timestamp(typed, "submitted_at", "submitted_at_utc", rules.timestamps).with_columns(
        mode_code=pl.col("mode").str.to_lowercase().replace_strict(labels, default=None, return_dtype=pl.String),
        unit=pl.coalesce(
            pl.col("segment").replace_strict(units, default=None, return_dtype=pl.String),
            pl.col("segment").str.to_lowercase().replace_strict(units, default=None, return_dtype=pl.String),
        ),
    )


def _row_ok(rules: SurveyRules, whole: list[pl.Expr]) -> pl.Expr:
    """Every field readable and every answer blank or a whole number within its scale (null counts as not ok).

    `whole`, per question: the test that its number is whole (always true for integers).
    """
    answers_ok = [
        pl.col(q).is_null() | (pl.col(q) == "") | pl.col(f"{q}__num").is_between(low, high) & is_whole
        for is_whole, (q, low, high) in zip(whole, rules.questions, strict=True)
    ]
    answered = pl.sum_horizontal(pl.col(f"{q}__num").is_not_null() for q, _, _ in rules.questions)
    return pl.all_horizontal(
        pl.col("shape_error").is_null(),
        _a_response(rules),
        pl.col("response_id").is_not_null(),
        pl.col("submitted_at_utc").is_not_null(),
        pl.col("unit").is_not_null(),
        pl.col("mode_code").is_not_null(),
        *answers_ok,
        answered > 0,
    ).fill_null(False)  # an unknown test is a failed one: every row lands in exactly one output


def _a_response(rules: SurveyRules) -> pl.Expr:
    """Not marked by the tool as a preview, test or spam."""
    if not rules.not_responses:
        return pl.lit(True)
    status = pl.col("response_status").str.strip_chars().str.to_lowercase()
    return status.is_null() | ~status.is_in(sorted(rules.not_responses))


def _valid_output(rows: pl.LazyFrame, rules: SurveyRules) -> pl.LazyFrame:
    return rows.select(
        "response_id",
        pl.col("submitted_at_utc").alias("submitted_at"),
        period_label(pl.col("submitted_at_utc"), rules.periods.timezone, rules.periods.start_month).alias("period"),
        "customer_id",
        pl.col("unit").alias("segment"),
        pl.col("mode_code").alias("mode"),
        pl.when(pl.col("comment") == "").then(None).otherwise(pl.col("comment")).alias("comment"),
        *[pl.col(f"{q}__num").cast(pl.Int16).alias(q) for q, _, _ in rules.questions],
        *LINEAGE_COLUMNS,
    )


def _reasons(rules: SurveyRules) -> pl.Expr:
    """Every problem of an invalid row, '; '-separated; values appear only by their shape."""
    known_modes = ", ".join(sorted(set(rules.mode_labels.values())))
    problems = [
        pl.when(pl.col("shape_error").is_not_null()).then(pl.col("shape_error")),
        pl.when(~_a_response(rules)).then(
            pl.lit("response_status: marked by the survey tool as a preview, test or spam (not a customer's response)")
        ),
        pl.when(pl.col("response_id").is_null()).then(pl.lit("response_id: missing")),
        pl.when(pl.col("submitted_at").is_null()).then(pl.lit("submitted_at: missing")),
        pl.when(pl.col("submitted_at").is_not_null() & pl.col("submitted_at_utc").is_null()).then(
            pl.format(
                "submitted_at: {} is not a date-time in the profile's form (expected e.g. {})",
                shape(pl.col("submitted_at")),
                pl.lit(rules.timestamps.example()),
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
    for q, low, high in rules.questions:
        raw_text, number = pl.col(q), pl.col(f"{q}__num")
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
    answered = pl.sum_horizontal(pl.col(f"{q}__num").is_not_null() for q, _, _ in rules.questions)
    problems.append(pl.when(answered == 0).then(pl.lit("no answer to any codebook question")))
    return pl.concat_str(problems, separator="; ", ignore_nulls=True)

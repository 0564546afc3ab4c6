"""Timestamps as exports write them: parsed to UTC, never guessed.

Every common form is rewritten to 'YYYY-MM-DD HH:MM:SS[.f][offset]' by a few regex passes,
so only two parses run per value (with and without an offset). Dotted dates (31.12.2025) are
day-first by convention; slashed or dashed ones follow the profile's date order, which a
file's own dates must not contradict (`DateOrderEvidence.conflict`): 13/04 under month-first,
or 13/04 and 04/13 in one file, rejects the file instead of swapping day and month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_OFFSET = r"(?:[+-]\d{2}:?\d{2})?"
_NUMERIC_DATE = r"^\s*(\d{1,2})[/-](\d{1,2})[/-](\d{4})"
_CLOCK_12H = r"(\d{1,2})(:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*([AaPp])\.?[Mm]\.?\s*([+-]\d{2}:\d{2})?$"


@dataclass(frozen=True)
class TimestampRules:
    date_order: str  # "DMY" or "MDY" ("auto" is decided per file before parsing)
    source_timezone: str  # zone of timestamps written without an offset
    clock: str = "24h"  # "12h": times end in AM/PM
    # The one format a file's values share (`common_format`): parsed in one pass, the general
    # rewriting runs only on values it does not read. None: every value takes the general path.
    common_format: str | None = None

    def example(self) -> str:
        date = "04/03/2025" if self.date_order == "DMY" else "03/04/2025"
        return f"2025-03-04T10:15[:00][+02:00] or {date} {'10:15 AM' if self.clock == '12h' else '10:15'}"


def parse_timestamp(text: pl.Expr, rules: TimestampRules) -> pl.Expr:
    """Parse the common export forms to UTC; null when no form matches (never a guess)."""
    return _parse_any_form(text.str.strip_chars(), rules)


def with_timestamp(rows: pl.LazyFrame, column: str, name: str, rules: TimestampRules) -> pl.LazyFrame:
    """Add `name`: `column` parsed to UTC as `parse_timestamp` does, fast when the file's values share a format.

    With `rules.common_format`, every value is read by that one format in a single pass, and
    only the values it does not read take the general path, on just those rows (regex passes
    cost as much on a column of nulls as on values, so they must not see the others).
    """
    if rules.common_format is None:
        return rows.with_columns(parse_timestamp(pl.col(column), rules).alias(name))
    text = pl.col(column).str.strip_chars()
    # strptime is lenient (its %Y reads '25' as the year 25): only values written exactly in the
    # format's shape take the fast path, the others the general one.
    fast = pl.when(text.str.contains(_format_pattern(rules.common_format))).then(
        _in_utc(text.str.to_datetime(rules.common_format, strict=False, time_unit="us"), rules)
    )
    # Worked out on the one column alone, so the join below touches two columns, not the whole file.
    parsed = rows.select(column).with_row_index("_row").with_columns(fast.alias(name))
    rest = parsed.filter(pl.col(name).is_null() & pl.col(column).is_not_null()).select(
        "_row", _parse_any_form(text, rules).alias("_general")
    )
    combined = parsed.join(rest, on="_row", how="left", maintain_order="left").select(
        pl.coalesce(name, "_general").alias(name)
    )
    return pl.concat([rows, combined], how="horizontal")


_FORMAT_TOKENS = {
    "%Y": r"\d{4}",
    "%m": r"\d{1,2}",
    "%d": r"\d{1,2}",
    "%H": r"\d{1,2}",
    "%I": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%p": r"[AaPp][Mm]",
    "%:z": r"[+-]\d{2}:\d{2}",
    "%z": r"[+-]\d{2}:?\d{2}",
}


def _format_pattern(fmt: str) -> str:
    """An anchored regex for the values written exactly in `fmt`'s shape (four-digit years)."""
    parts = re.split(r"(%:z|%[A-Za-z])", fmt)
    return "^" + "".join(_FORMAT_TOKENS.get(part, re.escape(part)) for part in parts) + "$"


def _in_utc(parsed: pl.Expr, rules: TimestampRules) -> pl.Expr:
    if rules.common_format is not None and "%z" in rules.common_format:
        return parsed.dt.convert_time_zone("UTC")
    if rules.common_format is not None and rules.common_format.endswith("Z"):  # a literal Z: the time is UTC
        return parsed.dt.replace_time_zone("UTC")
    localised = parsed.dt.replace_time_zone(rules.source_timezone, ambiguous="earliest", non_existent="null")
    return localised.dt.convert_time_zone("UTC")


def common_format(sample: pl.Series, rules: TimestampRules) -> str | None:
    """The first candidate format that reads every value of `sample` exactly as the general path does, or None."""
    values = sample.drop_nulls().str.strip_chars()
    if values.is_empty():
        return None
    day_month = ("%d", "%m") if rules.date_order == "DMY" else ("%m", "%d")
    dates = ["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", f"{day_month[0]}/{day_month[1]}/%Y"]
    times = ["%I:%M:%S %p", "%I:%M %p"] if rules.clock == "12h" else ["%H:%M:%S", "%H:%M"]
    candidates = [f"%Y-%m-%dT{t}{zone}" for t in times if "%p" not in t for zone in ("%z", "%:z", "Z")]
    candidates += [f"{d}{sep}{t}" for d in dates for t in times for sep in (" ", "T") if sep == " " or d == "%Y-%m-%d"]
    general = values.to_frame("v").select(_parse_any_form(pl.col("v"), rules)).to_series()
    for candidate in candidates:
        candidate_rules = TimestampRules(rules.date_order, rules.source_timezone, rules.clock, candidate)
        shaped = pl.col("v").str.contains(_format_pattern(candidate))
        parsed = (
            values.to_frame("v")
            .select(
                pl.when(shaped).then(
                    _in_utc(pl.col("v").str.to_datetime(candidate, strict=False, time_unit="us"), candidate_rules)
                )
            )
            .to_series()
        )
        if parsed.null_count() == 0 and parsed.equals(general):
            return candidate
    return None


def _parse_any_form(text: pl.Expr, rules: TimestampRules) -> pl.Expr:
    day_month = "${3}-${2}-${1}" if rules.date_order == "DMY" else "${3}-${1}-${2}"
    canonical = (
        text.str.replace(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})", "${3}-${2}-${1}")
        .str.replace(_NUMERIC_DATE, day_month)
        .str.replace(r"^(\d{4})/(\d{1,2})/(\d{1,2})", "${1}-${2}-${3}")
        .str.replace(rf"^({_DATE})[T ]", "${1} ")
        .str.replace(r"\s*(?:Z|UTC|GMT)$", "+00:00")
        .str.replace(r"\s*(?:GMT|UTC)([+-])(\d{1,2})$", "${1}0${2}:00")  # Google's 'GMT+2'
        .str.replace(r"([+-])0(\d{2}):00$", "${1}${2}:00")
    )
    if rules.clock == "12h":
        canonical = _to_24h(canonical, written_iso=text.str.contains(_ISO_DATE_TIME))
    canonical = canonical.str.replace(rf"^({_DATE})$", "${1} 00:00:00").str.replace(
        rf"^({_DATE} \d{{1,2}}:\d{{2}})({_OFFSET})$", "${1}:00${2}"
    )
    aware = canonical.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_unit="us")
    naive = canonical.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    localised = naive.dt.replace_time_zone(rules.source_timezone, ambiguous="earliest", non_existent="null")
    return pl.coalesce(aware.dt.convert_time_zone("UTC"), localised.dt.convert_time_zone("UTC"))


_ISO_DATE_TIME = r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"


def _to_24h(text: pl.Expr, written_iso: pl.Expr) -> pl.Expr:
    """'10:15:32 PM' -> '22:15:32'. A value written as an ISO date-time (workbook date cells arrive so)
    stays as it is, on the 24-hour clock; any other time without AM/PM is null (not the profile's form).

    `written_iso` is decided on the value as written, before its date was rewritten to ISO order.
    """
    parts = text.str.extract_groups(rf"^(.*?\s)?{_CLOCK_12H}")
    hour = parts.struct.field("2").cast(pl.Int32, strict=False)
    pm = parts.struct.field("4").str.to_uppercase() == "P"
    hour24 = pl.when(hour > 12).then(None).otherwise(hour % 12 + pl.when(pm).then(12).otherwise(0))
    converted = pl.concat_str(
        parts.struct.field("1").fill_null(""),
        hour24.cast(pl.String).str.zfill(2),
        parts.struct.field("3"),
        parts.struct.field("5").fill_null(""),
    )
    return pl.when(hour.is_not_null()).then(converted.str.strip_chars()).when(written_iso).then(text)


@dataclass(frozen=True)
class DateOrderEvidence:
    """Lines of a file whose numeric dates can only be day-first (13/04) or month-first (04/13)."""

    day_first_line: int | None
    month_first_line: int | None
    numeric_dates: int = 0  # values written as d/m/y or m/d/y at all

    def conflict(self, configured: str) -> str | None:
        """Why this file's dates cannot be read in `configured` order, or None (the order stands)."""
        day, month = self.day_first_line, self.month_first_line
        if day is not None and month is not None:
            return (
                f"its dates mix day-first (line {day}: day above 12 first) and month-first (line {month}: "
                "day above 12 second) forms, so neither order reads every date"
            )
        if configured == "MDY" and day is not None:
            return f"line {day}: a day-first date (its first number is above 12) while the profile reads month-first"
        if configured == "DMY" and month is not None:
            return f"line {month}: a month-first date (its second number is above 12) while the profile reads day-first"
        if configured == "auto" and day is None and month is None and self.numeric_dates:
            return "every numeric date fits both day-first and month-first reading"
        return None

    def order(self, configured: str) -> str:
        """The order to read with: the configured one, or under 'auto' the one the dates show."""
        if configured != "auto":
            return configured
        return "DMY" if self.day_first_line is not None else "MDY"


def date_order_evidence(rows: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """One row: the first line whose numeric date shows day-first, and the first showing month-first."""
    # Only values that are numeric dates are dissected (most exports write ISO dates: none is).
    numeric = rows.select(column, "source_line").filter(pl.col(column).str.contains(_NUMERIC_DATE))
    parts = pl.col(column).str.extract_groups(_NUMERIC_DATE)
    first = parts.struct.field("1").cast(pl.Int32, strict=False)
    second = parts.struct.field("2").cast(pl.Int32, strict=False)
    return numeric.select(
        day_first_line=pl.col("source_line").filter((first > 12) & (second <= 12)).min(),
        month_first_line=pl.col("source_line").filter((second > 12) & (first <= 12)).min(),
        numeric_dates=pl.len(),
    )

"""Timestamps: the one-format fast path reads exactly what the general path reads."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_series_equal

from transforms.timestamps import TimestampRules, common_format, parse_timestamp, with_timestamp

VALUES = [
    "2025-03-04 10:15:00",
    "2025-10-26 03:30:00",  # the hour the clocks go back in Tallinn: the earlier of the two
    "2025-03-30 03:30:00",  # the hour that does not exist in Tallinn: no time
    " 2025-12-31 23:59:59 ",
    "04.03.2025 10:15",  # another form among the common one: the general path reads it
    "2025-03-04T10:15:00+02:00",
    "next Tuesday",
    None,
    "",
]


def test_fast_path_equals_the_general_path():
    rules = TimestampRules("DMY", "Europe/Tallinn")
    fmt = common_format(pl.Series(VALUES[:2]), rules)
    assert fmt == "%Y-%m-%d %H:%M:%S"
    fast_rules = TimestampRules("DMY", "Europe/Tallinn", common_format=fmt)
    rows = pl.LazyFrame({"when": VALUES, "other": range(len(VALUES))})
    fast = with_timestamp(rows, "when", "utc", fast_rules).collect()
    general = rows.select(parse_timestamp(pl.col("when"), rules).alias("utc")).collect()
    assert_series_equal(fast["utc"], general["utc"])
    assert fast["other"].to_list() == list(range(len(VALUES)))  # rows keep their order and columns


def test_no_common_format_when_the_sample_disagrees_with_the_general_path():
    # 03/04 under MDY is 4 March... a day-first candidate must not be chosen for it
    rules = TimestampRules("MDY", "UTC")
    assert common_format(pl.Series(["03/04/2025 10:00:00", "12/31/2025 09:00:00"]), rules) == "%m/%d/%Y %H:%M:%S"
    assert common_format(pl.Series(["soon"]), rules) is None


def test_a_value_off_the_common_format_takes_the_general_path():
    """strptime reads '25' as the year 25: a two-digit year among four-digit ones is not read by the fast path."""
    rules = TimestampRules("DMY", "Europe/Tallinn", common_format="%d/%m/%Y %H:%M")
    values = ["04/03/2025 10:15"] * 3 + ["05/03/25 10:15"]
    fast = with_timestamp(pl.LazyFrame({"when": values}), "when", "utc", rules).collect()["utc"]
    assert fast[:3].null_count() == 0 and fast[3] is None


def test_a_twelve_hour_profile_wants_am_pm_except_on_iso_date_times():
    rules = TimestampRules("MDY", "UTC", "12h")
    values = pl.DataFrame({"t": ["03/04/2025 10:15:00 PM", "03/04/2025 22:15:00", "2025-03-04 22:15:00"]})
    parsed = values.select(parse_timestamp(pl.col("t"), rules).alias("t"))["t"].dt.strftime("%Y-%m-%d %H:%M").to_list()
    assert parsed == ["2025-03-04 22:15", None, "2025-03-04 22:15"]

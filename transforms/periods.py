"""Reporting periods: which year an answer belongs to."""

from __future__ import annotations

from datetime import date

import polars as pl


def period_label(utc: pl.Expr, timezone: str, start_month: int) -> pl.Expr:
    """'2025' for a calendar year; 'FY2026' for a fiscal year, named by the year it ends in.

    The period is decided by the answer's local date in `timezone`, so an answer given
    at 00:30 on 1 January in Tallinn belongs to the new year even though it is still
    the old one in UTC.
    """
    local = utc.dt.convert_time_zone(timezone)
    if start_month == 1:
        return local.dt.year().cast(pl.String)
    end_year = local.dt.year() + (local.dt.month() >= start_month).cast(pl.Int32)
    return pl.format("FY{}", end_year)


def previous_period(label: str) -> str:
    """The period one year before `label` ('2025' -> '2024', 'FY2026' -> 'FY2025')."""
    if label.startswith("FY"):
        return f"FY{int(label[2:]) - 1}"
    return str(int(label) - 1)


# --- months and quarters (the improvement report) ---------------------------------------------------


def period_of_date(local_date: pl.Expr, granularity: str, start_month: int) -> pl.Expr:
    """The label of a local date's month ('2025-03'), quarter ('2025-Q1'; fiscal: 'FY2026-Q1', Q1
    starting in the fiscal start month) or year (as `period_label`). Labels sort in time order."""
    year, month = local_date.dt.year(), local_date.dt.month().cast(pl.Int32)
    if granularity == "month":
        return local_date.dt.strftime("%Y-%m")
    if start_month == 1:
        if granularity == "quarter":
            return pl.format("{}-Q{}", year, (month - 1) // 3 + 1)
        return year.cast(pl.String)
    end_year = year + (month >= start_month).cast(pl.Int32)
    if granularity == "quarter":
        return pl.format("FY{}-Q{}", end_year, ((month - start_month) % 12) // 3 + 1)
    return pl.format("FY{}", end_year)


def period_of_time(utc: pl.Expr, granularity: str, timezone: str, start_month: int) -> pl.Expr:
    """`period_of_date` of an instant's local date in `timezone` (a 00:30 answer on 1 March in
    Tallinn is March's, though still February in UTC)."""
    return period_of_date(utc.dt.convert_time_zone(timezone).dt.date(), granularity, start_month)


def period_start(label: str, granularity: str, start_month: int) -> date:
    """The first local day of a label made by `period_of_date`."""
    if granularity == "month":
        year, month = label.split("-")
        return date(int(year), int(month), 1)
    fiscal = label.startswith("FY")
    year_part, _, quarter = label.removeprefix("FY").partition("-Q")
    first_month = start_month if fiscal else 1
    first_year = int(year_part) - 1 if fiscal and start_month != 1 else int(year_part)
    months = (first_month - 1) + (3 * (int(quarter) - 1) if quarter else 0)
    return date(first_year + months // 12, months % 12 + 1, 1)


def period_after(label: str, granularity: str, start_month: int) -> date:
    """The first local day after the period."""
    start = period_start(label, granularity, start_month)
    months = start.month - 1 + {"month": 1, "quarter": 3, "year": 12}[granularity]
    return date(start.year + months // 12, months % 12 + 1, 1)


def periods_up_to(label: str, count: int, granularity: str, start_month: int) -> list[str]:
    """The `count` labels ending with `label`, oldest first (every period, with data or not)."""
    step = {"month": 1, "quarter": 3, "year": 12}[granularity]
    start = period_start(label, granularity, start_month)
    firsts = []
    for back in range(count - 1, -1, -1):
        months = start.year * 12 + start.month - 1 - back * step
        firsts.append(date(months // 12, months % 12 + 1, 1))
    frame = pl.DataFrame({"d": firsts})
    return frame.select(period_of_date(pl.col("d"), granularity, start_month))["d"].to_list()

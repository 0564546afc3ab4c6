"""Reporting periods: which year an answer belongs to."""

from __future__ import annotations

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

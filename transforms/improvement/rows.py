"""The metric rows every improvement metric returns: the metrics file's columns, one shared shape.

metric, period, segment, item, value, n, ci_low, ci_high, small_sample, reference. A module may
add columns a metric needs (a problem's rank, a goal's target) as `extra`; an interval that
cannot be computed (n < 2, one group) is null, never NaN, so no comparison reads it as a bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from transforms.scopes import COMPANY

COLUMNS: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "period": pl.String(),
    "segment": pl.String(),
    "item": pl.String(),
    "value": pl.Float64(),
    "n": pl.Int64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "small_sample": pl.Boolean(),
    "reference": pl.String(),
}
FLOATS = ("value", "ci_low", "ci_high")


def metric_rows(frames: Sequence[pl.DataFrame], extra: Mapping[str, pl.DataType] | None = None) -> pl.DataFrame:
    """The frames in the metrics file's columns (missing ones null; NaN made null), concatenated, sorted by
    metric, period, segment, item, reference."""
    columns = {**COLUMNS, **(extra or {})}
    aligned = [
        frame.with_columns(
            *[pl.lit(None, dtype=dtype).alias(c) for c, dtype in columns.items() if c not in frame.columns]
        ).select(pl.col(c).cast(dtype) for c, dtype in columns.items())
        for frame in frames
    ]
    if not aligned:
        return pl.DataFrame(schema=columns)
    return (
        pl.concat(aligned)
        .with_columns(pl.col(c).fill_nan(None) for c in FLOATS)
        .sort("metric", "period", "segment", "item", "reference", nulls_last=True)
    )


def with_company(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Each row once under its unit and once under the company ("All"): one pass gives every scope."""
    return pl.concat([rows, rows.with_columns(segment=pl.lit(COMPANY))])

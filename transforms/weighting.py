"""Survey weights: raking responses to population margins, and the Kish effective sample size.

Raking (iterative proportional fitting, Deming & Stephan 1940) adjusts one weight per response so
that the weighted shares of each margin variable (a business unit, the collection mode, the answer
to a codebook question) equal the population's, all margins at once. The fitting itself is svy's
(`Sample.weighting.rake`, Rust kernel), run on the cross-classification cells rather than on the
responses: with equal starting weights every response of a cell ends with the same weight, so a
million responses rake as fast as the few dozen cells they fall into, and the per-response weight
is a join. Weights are scaled to average 1 within each `by` group (Σw = n), so that n_eff compares
directly with n.

Kish's effective sample size n_eff = (Σw)² / Σw² (Kish 1965) is the n of an unweighted sample with
the same precision for a mean. It reflects the unequal weights only - not clustering or
stratification - and is what the intervals of weighted figures use in place of n.

Pure: frames in, frames out; no IO, no settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypeVar

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

WEIGHT = "weight"
Margins = Mapping[str, Mapping[str, float]]  # variable -> category (as text) -> population share or count
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
_COUNT = "_responses"


class WeightingError(ValueError):
    """The margins cannot be applied to the data as they are; the message names the group, variable and categories."""


def kish_n_eff(weights: ArrayLike) -> float:
    """Kish's effective sample size (Σw)² / Σw²; equals n when every weight is the same, 0 for no weights."""
    w = np.asarray(weights, dtype=np.float64)
    total_sq = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / total_sq if total_sq > 0 else 0.0


def n_eff_expr(weight: str | pl.Expr = WEIGHT) -> pl.Expr:
    """`kish_n_eff` as a polars aggregation (for group_by / over)."""
    w = pl.col(weight) if isinstance(weight, str) else weight
    return w.sum() ** 2 / (w**2).sum()


def margin_shares(margins: Margins) -> dict[str, dict[str, float]]:
    """Each variable's margin as shares summing to 1 (counts and rounded shares alike are scaled)."""
    shares = {}
    for variable, categories in margins.items():
        total = float(sum(categories.values()))
        if not categories or total <= 0 or any(v <= 0 for v in categories.values()):
            raise WeightingError(f"margin of {variable!r}: expected positive shares or counts, got {dict(categories)}")
        shares[variable] = {str(k): float(v) / total for k, v in categories.items()}
    return shares


def _cells(frame: pl.LazyFrame | pl.DataFrame, variables: Sequence[str], by: Sequence[str]) -> pl.DataFrame:
    """Responses per `by` group and cell of the margin variables (one small, collected table)."""
    return (
        frame.lazy()
        .group_by(*by, *variables)
        .agg(pl.len().alias(_COUNT))
        .with_columns(pl.col(v).cast(pl.String).alias(f"_text_{v}") for v in variables)
        .sort(*by, *variables, nulls_last=True)
        .collect()
    )


def _group_label(key: tuple[object, ...], by: Sequence[str]) -> str:
    return ", ".join(f"{b} {k}" for b, k in zip(by, key, strict=True)) or "all responses"


def _check_categories(cells: pl.DataFrame, shares: Mapping[str, Mapping[str, float]], by: Sequence[str]) -> None:
    """Every response must fall in a margin category: an empty value, or a category the margins do not
    list, cannot be given a weight - an error naming the group, the category and its responses."""
    problems = []
    for variable, categories in shares.items():
        text = pl.col(f"_text_{variable}")
        stray = (
            cells.filter(text.is_null() | ~text.is_in(list(categories)))
            .group_by(*by, text.alias("category"))
            .agg(pl.col(_COUNT).sum())
            .sort(*by, "category", nulls_last=False)
        )
        for row in stray.iter_rows(named=True):
            where = _group_label(tuple(row[b] for b in by), by)
            what = "no value" if row["category"] is None else f"{row['category']!r}, which the margins do not list"
            problems.append(f"{where}: {row[_COUNT]} response(s) with {variable} {what}")
    if problems:
        raise WeightingError(
            "responses cannot be weighted to the configured margins - "
            + "; ".join(problems)
            + " (every category of the data needs a population share)"
        )


def margin_gaps(
    frame: pl.LazyFrame | pl.DataFrame, margins: Margins, *, by: Sequence[str] = ("period",)
) -> pl.DataFrame:
    """Margin categories a `by` group has no responses in: (by..., variable, category, share).

    Raking cannot give weight to a category without responses; `rake(..., on_missing="rescale")`
    leaves it out of that group's margins and rescales the others, so its figures describe the
    population without that category. These rows are what a report must say about it.
    """
    shares = margin_shares(margins)
    cells = _cells(frame, list(shares), by)
    groups = cells.select(*by).unique(maintain_order=True)
    rows = []
    for variable, categories in shares.items():
        present = cells.select(*by, category=pl.col(f"_text_{variable}")).unique()
        listed = pl.DataFrame(
            {"variable": variable, "category": list(categories), "share": list(categories.values())},
            schema={"variable": pl.String, "category": pl.String, "share": pl.Float64},
        )
        rows.append(groups.join(listed, how="cross").join(present, on=[*by, "category"], how="anti"))
    schema = {**{b: cells.schema[b] for b in by}, "variable": pl.String, "category": pl.String, "share": pl.Float64}
    return pl.concat(rows).sort(*by, "variable", "category") if rows else pl.DataFrame(schema=schema)


def rake(
    frame: Frame,
    margins: Margins,
    *,
    by: Sequence[str] = ("period",),
    tolerance: float = 1e-6,
    max_iterations: int = 100,
    on_missing: Literal["error", "rescale"] = "error",
) -> Frame:
    """`frame` with a `weight` column: each `by` group raked to `margins`, weights averaging 1 in the group.

    `margins`: variable (a column of `frame`) -> category (its value as text) -> population share or
    count; each variable's are scaled to sum to 1. Every response must have a listed category
    (else WeightingError). A listed category without responses in a group is an error, or with
    `on_missing="rescale"` is left out of that group's margins (see `margin_gaps`). Raking stops when
    every margin is met within `tolerance` (largest |weighted share - target| / target); not meeting
    it in `max_iterations` sweeps is an error. No margins: every weight is 1.
    """
    if not margins:
        return frame.with_columns(pl.lit(1.0).alias(WEIGHT))
    shares = margin_shares(margins)
    variables = list(shares)
    cells = _cells(frame, variables, by)
    _check_categories(cells, shares, by)

    import svy  # ~1.5 s of import: only when weighting is configured

    weighted = []
    for key, group in cells.group_by(*by, maintain_order=True):
        where = _group_label(key, by)
        targets = {}
        for variable, categories in shares.items():
            present = set(group[f"_text_{variable}"].to_list())
            missing = [c for c in categories if c not in present]
            if missing and on_missing == "error":
                raise WeightingError(
                    f"{where}: no responses with {variable} {', '.join(map(repr, missing))}: raking cannot "
                    "represent a category nobody in the data belongs to"
                )
            # A category absent from the group gets a target of 0: svy then rescales the others.
            targets[f"_text_{variable}"] = {c: (s if c in present else 0.0) for c, s in categories.items()}
        sample = svy.Sample(group, svy.Design(wgt=_COUNT))
        try:
            raked = sample.weighting.rake(shares=targets, tol=tolerance, max_iter=max_iterations, wgt_name="_raked")
        except svy.SvyError as exc:
            raise WeightingError(f"{where}: raking to the margins failed: {str(exc).strip()}") from exc
        weighted.append(raked.data.select(*by, *variables, (pl.col("_raked") / pl.col(_COUNT)).alias(WEIGHT)))
    weights = pl.concat(weighted)
    joined = frame.lazy().join(weights.lazy(), on=[*by, *variables], how="left", maintain_order="left")
    return joined.collect() if isinstance(frame, pl.DataFrame) else joined

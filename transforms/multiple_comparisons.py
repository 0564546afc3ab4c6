"""Many groups at once: the false discovery rate, and which groups may be shown at all
(methodology, "Showing a group at all").

- benjamini_hochberg: q-values and reject flags for one family of tests (Benjamini & Hochberg 1995,
  JRSS B 57:289), tests below a minimum n skipped (null). fdr_adjust: the same per family over a
  metrics frame's p_value column.
- suppressed_groups: groups below the minimum n are hidden, and so many more (complementary
  suppression) that no hidden group can be recovered by subtracting the shown groups from a shown total.

Pure polars / numpy; the only loop is suppressed_groups' fixed-point iteration (one pass per round of
complementary suppression, never per row).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import ArrayLike


def benjamini_hochberg(
    p_values: ArrayLike, alpha: float = 0.05, *, n: ArrayLike | None = None, min_n: int = 0
) -> tuple[pl.Series, pl.Series]:
    """Benjamini-Hochberg step-up procedure: (q_value, reject), one element per test, in input order.

    Tests with a missing p (null / NaN) or with n < min_n are skipped: they are not counted in m and
    get null in both. For the m tests kept, sorted by p: q_(i) = min over j >= i of m·p_(j) / j, capped
    at 1; reject where q <= alpha (controls the FDR at alpha for independent or positively dependent
    tests). Same values as statsmodels `multipletests(method="fdr_bh")` on the kept tests.
    """
    p = np.asarray(pl.Series(p_values, dtype=pl.Float64).fill_null(np.nan).to_numpy(), dtype=np.float64)
    kept = np.isfinite(p)
    if n is not None:
        counts = np.asarray(pl.Series(n, dtype=pl.Float64).fill_null(np.nan).to_numpy(), dtype=np.float64)
        kept &= np.nan_to_num(counts, nan=-1.0) >= min_n
    tested = p[kept]
    m = tested.size
    order = np.argsort(tested, kind="stable")
    raw = tested[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 1.0)
    q = np.full(p.size, np.nan)
    q[np.flatnonzero(kept)[order]] = adjusted
    q_series = pl.Series("q_value", q).fill_nan(None)
    return q_series, (q_series <= alpha).alias("reject")


def fdr_adjust(
    frame: pl.DataFrame,
    *,
    by: Sequence[str] = ("metric", "period"),
    p_col: str = "p_value",
    n_col: str = "n",
    min_n: int = 30,
    alpha: float = 0.05,
) -> pl.DataFrame:
    """`frame` with q_value and fdr_reject added: Benjamini-Hochberg within each family `by`
    (default: one metric in one period - every segment compared at once). Rows with no p or
    n < min_n are skipped (null) and not counted in their family's m.
    """
    families = list(by)
    p = pl.when(pl.col(p_col).is_not_nan() & (pl.col(n_col) >= min_n)).then(pl.col(p_col))
    return (
        frame.with_columns(_p=p)
        .with_columns(
            _m=pl.col("_p").count().over(families),
            _rank=pl.col("_p").rank("ordinal").over(families),
        )
        .with_columns(_raw=pl.col("_p") * pl.col("_m") / pl.col("_rank"))
        .with_columns(
            q_value=pl.col("_raw")
            .cum_min(reverse=True)
            .over(families, order_by="_p", nulls_last=True)
            .clip(upper_bound=1.0)
        )
        .with_columns(fdr_reject=pl.col("q_value") <= alpha)
        .drop("_p", "_m", "_rank", "_raw")
    )


BELOW_MINIMUM = "below minimum"
COMPLEMENT = "complementary"


def suppressed_groups(
    counts: pl.DataFrame,
    min_n: int = 5,
    *,
    rollup: str = "rollup",
    group: str = "group",
    n: str = "n",
    protect_sum: bool = True,
    priority: str | None = None,
) -> pl.DataFrame:
    """Which groups must not be shown: `counts` (rollup, group, n; one row per group of each roll-up)
    with `suppressed` (bool) and `reason` ("below minimum", "complementary" or null) added.

    A roll-up is a set of groups shown beside their total (the units of a group, the company's units,
    the answers of one question split by segment). Rules, repeated until nothing changes:
    1. a group with n < min_n is hidden (primary suppression);
    2. in a roll-up with exactly one hidden group, the shown group with the smallest n (then the first
       name) is hidden too - otherwise total minus the shown groups gives the hidden one; with a
       `priority` column, the lowest priority first (e.g. 1 for totals that head a report of their own);
    3. (protect_sum) in a roll-up whose hidden groups together have fewer than min_n, the next smallest
       is hidden as well - otherwise the difference reveals a group of fewer than min_n anyway.
    A group is one name everywhere: hidden in one roll-up, hidden in all (so give a unit's product
    "Tallinn/Repairs", not "Repairs"). List each total as a group of its parent roll-up (a unit group
    under the company) so that a total of hidden groups is checked as well. A roll-up with nothing
    left to hide keeps its hidden groups hidden; its total is only safe if it is itself >= min_n.
    """
    state = counts.with_columns(suppressed=pl.col(n) < min_n)
    names = state.select(group, n).unique(group)
    for _ in range(names.height + 1):  # every round hides at least one more group, or stops
        stats = state.group_by(rollup).agg(
            hidden=pl.col("suppressed").sum(),
            hidden_n=pl.col(n).filter(pl.col("suppressed")).sum(),
        )
        condition = pl.col("hidden") == 1
        if protect_sum:
            condition = condition | ((pl.col("hidden") >= 1) & (pl.col("hidden_n") < min_n))
        exposed = stats.filter(condition).select(rollup)
        extra = (
            state.join(exposed, on=rollup)
            .filter(~pl.col("suppressed"))
            .sort(rollup, *([priority] if priority else []), n, group)
            .group_by(rollup, maintain_order=True)
            .first()
            .get_column(group)
            .unique()
        )
        if extra.is_empty():
            break
        state = state.with_columns(suppressed=pl.col("suppressed") | pl.col(group).is_in(extra.implode()))
    return state.with_columns(
        reason=pl.when(pl.col(n) < min_n)
        .then(pl.lit(BELOW_MINIMUM))
        .when(pl.col("suppressed"))
        .then(pl.lit(COMPLEMENT))
    )

"""Key driver analysis and importance-performance analysis (methodology.md, "Key driver analysis").

Pure numpy/polars, no IO. Answers in (one row per respondent: the overall question and the
attribute questions, optionally a case weight), metric rows out in the shared columns of
transforms/improvement/rows.py (metric, period, segment, item, value, n, ci_low, ci_high,
small_sample, reference; sorted by metric, period, segment, item, reference - so attributes come
in name order, not the order given).

Two derived-importance measures, both splitting the model R² of `overall ~ attributes` over
the attributes (so they sum to R², and their shares to 1):
- relative weights (Johnson 2000, Multivariate Behavioral Research 35(1):1-19);
- LMG / Shapley values (Lindeman, Merenda & Gold 1980): the exact average R² increment of an
  attribute over all orderings. Offered beside relative weights because of the criticism of the
  latter (Thomas et al. 2014, MBR 49(4)).
Both work on the (case-weighted) correlation matrix, so a case weight w_i gives the weighted
least-squares R² and its decomposition. Intervals: percentile bootstrap over respondents.

Metric rows:
- driver_weight: item = attribute, reference = "relative_weight" or "lmg", value = the
  attribute's share of R² in 0-1 (shares of one method sum to 1), n = complete cases,
  ci = 95 % percentile bootstrap interval of the share.
- driver_r2: the R² being shared out (item null, reference "ols"), with its bootstrap interval.
- ipa_quadrant: importance-performance quadrant of an attribute (Martilla & James 1977).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb, factorial
from typing import Literal, NamedTuple

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from transforms.improvement.rows import metric_rows

Floats = NDArray[np.float64]

LMG_MAX_PREDICTORS = 20  # 2^p subsets; exact and fast up to ~15, still feasible (~1 s) at 20
_SUBSET_BUDGET = 20_000_000  # floats held at once by a batch of subset solves (bootstrap chunking)

METHODS = ("relative_weight", "lmg")
QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}  # (high importance, high performance) -> Martilla & James (1977) quadrant name

# --------------------------------------------------------------------------------------------
# Correlation matrices (stacked: one per bootstrap replicate)


def _design(x: ArrayLike, y: ArrayLike, w: ArrayLike | None) -> tuple[Floats, Floats]:
    """z = [x, y] (n, p+1) and the case weights (n,), checked."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    target = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.shape[0] != target.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows, y has {target.shape[0]}")
    weights = np.ones(target.shape[0]) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    if weights.shape[0] != target.shape[0]:
        raise ValueError(f"w has {weights.shape[0]} values for {target.shape[0]} rows")
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
        raise ValueError("case weights must be finite and non-negative")
    return np.column_stack([x, target]), weights


def weighted_correlations(data: Floats, case_weights: Floats) -> Floats:
    """Weighted Pearson correlation matrices, one per row of `case_weights`.

    data (n, q), case_weights (B, n) -> (B, q, q). With v = w_b / Σ w_b (row b of case_weights):
    cov_jk = Σ_i v_i (z_ij - z̄_j)(z_ik - z̄_k), z̄_j = Σ_i v_i z_ij; r_jk = cov_jk / sqrt(cov_jj cov_kk).
    The weights' scale cancels (frequency and probability weights give the same r). data is centred
    on its unweighted mean first so the raw second moments below do not cancel catastrophically.
    A constant column gives NaN correlations.
    """
    z = data - data.mean(axis=0)
    n, q = z.shape
    v = case_weights / case_weights.sum(axis=1, keepdims=True)
    means = v @ z  # (B, q)
    second = (v @ (z[:, :, None] * z[:, None, :]).reshape(n, q * q)).reshape(-1, q, q)
    cov = second - means[:, :, None] * means[:, None, :]
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / (sd[:, :, None] * sd[:, None, :])
    return r


def kish_n_eff(w: ArrayLike) -> float:
    """Kish effective sample size (Σw)² / Σw² (Kish 1965); ignores clustering and stratification."""
    weights = np.asarray(w, dtype=np.float64)
    return float(weights.sum() ** 2 / np.sum(weights**2))


# --------------------------------------------------------------------------------------------
# Relative weights (Johnson 2000)


def _relative_weights_from_r(r: Floats) -> Floats:
    """Raw relative weights ε (B, p) from stacked correlation matrices (B, p+1, p+1), y last.

    R_xx = QΛQ'; Λ* = QΛ^½Q' (the correlations of the X with their closest orthogonal
    counterparts); β* = Λ*⁻¹ r_xy; ε_j = Σ_k (λ*_jk)² (β*_k)². Σ_j ε_j = R². A singular R_xx
    (perfectly collinear attributes) uses the pseudo-inverse of Λ*.
    """
    p = r.shape[-1] - 1
    rxx, rxy = r[:, :p, :p], r[:, :p, p]
    lam, q = np.linalg.eigh(rxx)
    root = np.sqrt(np.clip(lam, 0.0, None))
    tol = root.max(axis=1, keepdims=True) * p * np.finfo(np.float64).eps * 10
    inv_root = np.divide(1.0, root, out=np.zeros_like(root), where=root > tol)
    qt = np.swapaxes(q, 1, 2)
    lam_star = (q * root[:, None, :]) @ qt
    beta_star = np.einsum("bjk,bk->bj", (q * inv_root[:, None, :]) @ qt, rxy)
    return np.einsum("bjk,bk->bj", lam_star**2, beta_star**2)


class RelativeWeights(NamedTuple):
    raw: Floats  # ε_j, sums to R²
    rescaled: Floats  # 100·ε_j / R²: percent of R², sums to 100
    r2: float


def relative_weights(x: ArrayLike, y: ArrayLike, w: ArrayLike | None = None) -> RelativeWeights:
    """Johnson's (2000) relative weights of the columns of x for y, optionally case-weighted.

    Raw ε_j (Σ ε = R² of the least-squares fit of y on x with an intercept) and rescaled
    100·ε_j / R². Case weights w give weighted correlations, i.e. the weighted least-squares fit.
    """
    z, weights = _design(x, y, w)
    raw = _relative_weights_from_r(weighted_correlations(z, weights[None, :]))[0]
    r2 = float(raw.sum())
    return RelativeWeights(raw=raw, rescaled=100 * raw / r2, r2=r2)


# --------------------------------------------------------------------------------------------
# LMG / Shapley (Lindeman, Merenda & Gold 1980)


def _subset_r2(r: Floats) -> Floats:
    """R² of y on every subset S of the p predictors: (B, 2^p), indexed by the bit mask of S.

    R²_S = r_S' R_SS⁻¹ r_S (squared multiple correlation from the correlation matrix); R²_∅ = 0.
    One batched solve per subset size.
    """
    stacked, p = r.shape[0], r.shape[-1] - 1
    r2 = np.zeros((stacked, 2**p))
    for k in range(1, p + 1):
        idx = np.array(list(combinations(range(p), k)), dtype=np.intp)  # (C, k)
        masks = (1 << idx).sum(axis=1)
        rss = r[:, idx[:, :, None], idx[:, None, :]]  # (B, C, k, k)
        rs = r[:, idx, p]  # (B, C, k)
        try:
            beta = np.linalg.solve(rss, rs[..., None])[..., 0]
        except np.linalg.LinAlgError:  # exactly collinear subset: least-norm solution
            beta = np.einsum("bcjk,bck->bcj", np.linalg.pinv(rss, hermitian=True), rs)
        r2[:, masks] = np.einsum("bck,bck->bc", rs, beta)
    return r2


def _lmg_from_r(r: Floats) -> Floats:
    """LMG shares (B, p): φ_j = Σ_{S ⊆ P∖{j}} |S|!(p-|S|-1)!/p! · (R²_{S∪{j}} - R²_S).

    The Shapley value of the R² "game": the average over all p! orderings of the R² increment
    when j enters, computed from the 2^p subset R² values (each once). Σ_j φ_j = R²_P.
    """
    p = r.shape[-1] - 1
    if p > LMG_MAX_PREDICTORS:
        raise ValueError(f"LMG is exact over 2^p subsets: {p} predictors exceeds {LMG_MAX_PREDICTORS}")
    r2 = _subset_r2(r)
    masks = np.arange(2**p)
    size = np.bitwise_count(masks)
    shapley = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) for s in range(p)])
    out = np.empty((r.shape[0], p))
    for j in range(p):
        without = masks[(masks >> j) & 1 == 0]
        out[:, j] = (r2[:, without | (1 << j)] - r2[:, without]) @ shapley[size[without]]
    return out


def lmg(x: ArrayLike, y: ArrayLike, w: ArrayLike | None = None) -> Floats:
    """LMG / Shapley decomposition of R² (Lindeman, Merenda & Gold 1980; relaimpo's "lmg").

    Returns φ_j per column of x, summing to the R² of y on x (weighted least squares when case
    weights w are given). Exact: all 2^p subsets, so p up to ~15 (hard limit LMG_MAX_PREDICTORS).
    """
    z, weights = _design(x, y, w)
    return _lmg_from_r(weighted_correlations(z, weights[None, :]))[0]


# --------------------------------------------------------------------------------------------
# Bootstrap


@dataclass(frozen=True)
class BootstrapIntervals:
    """Percentile bootstrap intervals (Efron & Tibshirani 1993, ch. 13), one per predictor.

    `*_share` are intervals of the share of R² (0-1: ε_j / R², φ_j / R²); `*_raw` of the raw
    measures (in R² units); `r2` of the model R². `valid_replicates`: replicates used (those where a
    resampled predictor or y was constant are dropped).
    """

    relative_weight_share: tuple[Floats, Floats]
    lmg_share: tuple[Floats, Floats]
    relative_weight_raw: tuple[Floats, Floats]
    lmg_raw: tuple[Floats, Floats]
    r2: tuple[float, float]
    valid_replicates: int


def bootstrap_intervals(
    x: ArrayLike,
    y: ArrayLike,
    w: ArrayLike | None = None,
    *,
    replicates: int = 500,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> BootstrapIntervals:
    """Percentile bootstrap of relative weights and LMG (`replicates` draws): deterministic given `seed`.

    Each replicate draws n respondents with replacement (numpy Generator, `rng.integers`), keeping
    their case weights: replicate b's weights are c_bi·w_i with c_bi the times respondent i was
    drawn. Both measures are recomputed on the replicate's weighted correlation matrix; the
    interval is the (1-level)/2 and (1+level)/2 quantiles of the replicates.
    """
    z, weights = _design(x, y, w)
    n, p = z.shape[0], z.shape[1] - 1
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    per_replicate = max(comb(p, k) * (k * k + k) for k in range(1, p + 1)) + n * 3
    chunk = max(1, min(replicates, _SUBSET_BUDGET // per_replicate))
    raw_rw, raw_lmg = np.empty((replicates, p)), np.empty((replicates, p))
    for start in range(0, replicates, chunk):
        b = min(chunk, replicates - start)
        draws = rng.integers(0, n, size=(b, n))
        counts = np.bincount((draws + n * np.arange(b)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        r = weighted_correlations(z, counts * weights[None, :])
        valid = np.isfinite(r).all(axis=(1, 2))
        r[~valid] = np.eye(p + 1)  # placeholder, results set to NaN below
        rw, lg = _relative_weights_from_r(r), _lmg_from_r(r)
        rw[~valid], lg[~valid] = np.nan, np.nan
        raw_rw[start : start + b], raw_lmg[start : start + b] = rw, lg
    r2 = raw_lmg.sum(axis=1)
    q = [(1 - level) / 2, (1 + level) / 2]

    def interval(values: Floats) -> tuple[Floats, Floats]:
        low, high = np.nanquantile(values, q, axis=0) if np.isfinite(r2).any() else np.full((2, p), np.nan)
        return low, high

    with np.errstate(divide="ignore", invalid="ignore"):
        shares_rw, shares_lmg = raw_rw / r2[:, None], raw_lmg / r2[:, None]
    r2_low, r2_high = interval(r2[:, None])
    return BootstrapIntervals(
        relative_weight_share=interval(shares_rw),
        lmg_share=interval(shares_lmg),
        relative_weight_raw=interval(raw_rw),
        lmg_raw=interval(raw_lmg),
        r2=(float(r2_low[0]), float(r2_high[0])),
        valid_replicates=int(np.isfinite(r2).sum()),
    )


# --------------------------------------------------------------------------------------------
# Metric rows


def _finite(values: ArrayLike) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def driver_weights(
    answers: pl.DataFrame,
    overall: str,
    attributes: list[str],
    *,
    period: str | None = None,
    segment: str | None = None,
    weight: str | None = None,
    seed: int = 0,
    bootstrap: int = 500,
    min_n: int = 30,
    level: float = 0.95,
) -> pl.DataFrame:
    """driver_weight rows (one per attribute and method) and one driver_r2 row for `overall ~ attributes`.

    `answers`: one row per respondent with the numeric `overall` and `attributes` columns (null or
    NaN = not answered) and, if `weight` is given, that case-weight column. Complete cases only:
    rows with the overall and every attribute answered (and a positive weight). value = share of R²
    in 0-1 (ε_j / R² for reference "relative_weight", φ_j / R² for "lmg"); n = complete cases;
    ci = percentile bootstrap (`bootstrap` replicates, `seed`); small_sample when the Kish n_eff of
    the complete cases (= n without weights) is below `min_n`. Too few cases to fit (n < p + 2) or
    a constant column: value and ci null. `period` and `segment` are copied to every row.
    """
    if not attributes:
        raise ValueError("driver_weights needs at least one attribute")
    columns = [*attributes, overall]
    cols = [pl.col(c).cast(pl.Float64) for c in columns]
    if weight is not None:
        cols.append(pl.col(weight).cast(pl.Float64).alias("__weight"))
    data = answers.select(cols).drop_nulls().drop_nans()
    if weight is not None:
        data = data.filter(pl.col("__weight") > 0)
    n = data.height
    p = len(attributes)
    x = data.select(attributes).to_numpy().reshape(n, p)
    y = data[overall].to_numpy()
    w = data["__weight"].to_numpy() if weight is not None else None
    n_eff = kish_n_eff(w) if w is not None and n else float(n)
    nan = np.full(p, np.nan)
    estimates = dict.fromkeys(METHODS, nan)
    intervals = dict.fromkeys(METHODS, (nan, nan))
    r2, r2_ci = np.nan, (np.nan, np.nan)
    if n >= p + 2:
        z, weights = _design(x, y, w)
        r = weighted_correlations(z, weights[None, :])
        if np.isfinite(r).all():
            raw = {"relative_weight": _relative_weights_from_r(r)[0], "lmg": _lmg_from_r(r)[0]}
            r2 = float(raw["lmg"].sum())
            estimates = {m: raw[m] / r2 for m in METHODS}
            if bootstrap > 0:
                boot = bootstrap_intervals(x, y, w, replicates=bootstrap, seed=seed, level=level)
                intervals = {"relative_weight": boot.relative_weight_share, "lmg": boot.lmg_share}
                r2_ci = boot.r2
    small = n_eff < min_n
    weights_rows = pl.DataFrame(
        {
            "metric": "driver_weight",
            "item": [a for _ in METHODS for a in attributes],
            "value": [v for m in METHODS for v in _finite(estimates[m])],
            "ci_low": [v for m in METHODS for v in _finite(intervals[m][0])],
            "ci_high": [v for m in METHODS for v in _finite(intervals[m][1])],
            "reference": [m for m in METHODS for _ in attributes],
        },
        schema_overrides={"value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64},
    )
    r2_row = pl.DataFrame(
        {
            "metric": ["driver_r2"],
            "value": _finite(r2),
            "ci_low": _finite(r2_ci[0]),
            "ci_high": _finite(r2_ci[1]),
            "reference": ["ols"],
        },
        schema_overrides={"value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64},
    )
    rows = pl.concat([weights_rows, r2_row], how="diagonal").with_columns(
        period=pl.lit(period, dtype=pl.String),
        segment=pl.lit(segment, dtype=pl.String),
        n=pl.lit(n, dtype=pl.Int64),
        small_sample=pl.lit(small),
    )
    return metric_rows([rows])


def importance_performance(
    weights: pl.DataFrame,
    performance: pl.DataFrame,
    crosshair: Literal["means", "midpoint"] = "means",
    scale: tuple[float, float] = (1, 5),
    *,
    method: str = "relative_weight",
) -> pl.DataFrame:
    """ipa_quadrant rows: each attribute's importance-performance quadrant (Martilla & James 1977,
    J. Marketing 41(1):77-79).

    `weights`: driver_weight rows (importance = value, the share of R²; rows of `method` when
    they carry a `reference`). `performance`: item and value (the attribute's mean score on
    `scale`); both may carry period and segment, which are then matched too. Crosshair per
    (period, segment): "means" = the grand means of importance and of performance over the
    attributes; "midpoint" = the scale midpoint for performance and the equal share 1/k for
    importance (k attributes). High = at or above the crosshair. reference = the quadrant name,
    "; crosshair: ..." and the crosshair's coordinates; value null (a category), n and
    small_sample from the weights row.
    """
    if crosshair not in ("means", "midpoint"):
        raise ValueError(f"crosshair must be 'means' or 'midpoint', not {crosshair!r}")
    imp = weights
    if "metric" in imp.columns:
        imp = imp.filter(pl.col("metric") == "driver_weight")
    if "reference" in imp.columns:
        imp = imp.filter(pl.col("reference") == method)
    keys = [k for k in ("period", "segment") if k in imp.columns and k in performance.columns]
    extra = [c for c in ("n", "small_sample") if c in imp.columns]
    joined = (
        imp.select(*keys, "item", pl.col("value").alias("importance"), *extra)
        .join(performance.select(*keys, "item", pl.col("value").alias("performance")), on=[*keys, "item"])
        .filter(pl.col("importance").is_not_null() & pl.col("performance").is_not_null())
    )
    over = keys or None
    if crosshair == "means":
        imp_cross = pl.col("importance").mean()
        perf_cross = pl.col("performance").mean()
        label = "grand means"
    else:
        imp_cross = 1 / pl.len()
        perf_cross = pl.lit((scale[0] + scale[1]) / 2)
        label = f"scale midpoint {(scale[0] + scale[1]) / 2:g}, equal share"
    if over:
        imp_cross, perf_cross = imp_cross.over(over), perf_cross.over(over)
    joined = joined.with_columns(imp_x=imp_cross.cast(pl.Float64), perf_x=perf_cross.cast(pl.Float64))
    high_imp = pl.col("importance") >= pl.col("imp_x")
    high_perf = pl.col("performance") >= pl.col("perf_x")
    quadrant = pl.when(high_imp & ~high_perf).then(pl.lit(QUADRANTS[True, False]))
    for (hi, hp), name in QUADRANTS.items():
        if (hi, hp) != (True, False):
            quadrant = quadrant.when(high_imp.eq(hi) & high_perf.eq(hp)).then(pl.lit(name))
    reference = pl.format(
        "{}; crosshair: {} (importance {}, performance {})",
        quadrant.otherwise(None),
        pl.lit(label),
        pl.col("imp_x").round(4),
        pl.col("perf_x").round(4),
    )
    out = joined.select(
        pl.lit("ipa_quadrant").alias("metric"),
        *keys,
        "item",
        *extra,
        reference.alias("reference"),
    )
    return metric_rows([out])

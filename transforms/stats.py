"""Interval estimates and tests behind every number in a report.

Vectorised over numpy arrays (one element per metric row) so a whole metrics table is
computed in one call. Each function names its formula and source; tests check them
against the oracles in methodology.md and against scipy / statsmodels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Z95 = 1.959963984540054  # two-sided 95 % normal quantile

Floats = NDArray[np.float64]


# scipy.special's distribution functions, imported when first needed: scipy.stats (same values,
# tests compare with it) costs ~1.5 s of import on every command.
def _t_quantile(p: float, df: ArrayLike) -> Floats:
    from scipy.special import stdtrit

    return np.asarray(stdtrit(df, p), dtype=np.float64)


def _t_sf(x: ArrayLike, df: ArrayLike) -> Floats:
    from scipy.special import stdtr

    return np.asarray(stdtr(df, -np.asarray(x)), dtype=np.float64)


def _normal_sf(x: ArrayLike) -> Floats:
    from scipy.special import ndtr

    return np.asarray(ndtr(-np.asarray(x)), dtype=np.float64)


def _f(values: ArrayLike) -> Floats:
    return np.asarray(values, dtype=np.float64)


def wilson_interval(successes: ArrayLike, n: ArrayLike, z: float = Z95) -> tuple[Floats, Floats]:
    """Wilson score interval for a proportion (Wilson 1927, JASA 22:209; Newcombe 1998).

    (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n); NaN where n = 0.
    """
    x, n = _f(successes), _f(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = p + z * z / (2 * n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        denom = 1 + z * z / n
        low, high = (centre - half) / denom, (centre + half) / denom
    # Guard float noise at the bounds (x = 0 or x = n).
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def mean_interval(mean: ArrayLike, sd: ArrayLike, n: ArrayLike) -> tuple[Floats, Floats]:
    """Student t interval for a mean: x̄ ± t(0.975, n-1)·s/√n; NaN where n < 2."""
    mean, sd, n = _f(mean), _f(sd), _f(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(n >= 2, n - 1, np.nan)
        half = _t_quantile(0.975, df) * sd / np.sqrt(n)
    return mean - half, mean + half


def nps_standard_error(promoters: ArrayLike, detractors: ArrayLike, n: ArrayLike) -> Floats:
    """SE of NPS in points: 100·sqrt((p + d - (p - d)²) / n) (trinomial variance; Reichheld 2003 for NPS)."""
    pr, de, n = _f(promoters), _f(detractors), _f(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p, d = pr / n, de / n
        return 100 * np.sqrt((p + d - (p - d) ** 2) / n)


def nps_interval(promoters: ArrayLike, detractors: ArrayLike, n: ArrayLike, z: float = Z95) -> tuple[Floats, Floats]:
    """Adjusted-Wald 95 % interval for NPS (Rocks 2016, The American Statistician).

    Add 0.75 to promoters and to detractors and 3 to n, then centre ± z·SE with the
    trinomial SE; better coverage than plain Wald at small n. Clipped to [-100, 100].
    """
    pr, de, n = _f(promoters) + 0.75, _f(detractors) + 0.75, _f(n) + 3
    centre = 100 * (pr - de) / n
    half = z * nps_standard_error(pr, de, n)
    return np.clip(centre - half, -100, 100), np.clip(centre + half, -100, 100)


def two_sided_p(z: ArrayLike) -> Floats:
    return 2 * _normal_sf(np.abs(_f(z)))


def two_proportion_test(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike) -> Floats:
    """Two-sided p of the pooled two-proportion z-test of p1 = p2 (NaN if undefined)."""
    x1, n1, x2, n2 = _f(x1), _f(n1), _f(x2), _f(n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    # se = 0 means both groups are all-0 or all-1: identical, no evidence of a difference.
    return np.where(se == 0, 1.0, two_sided_p(z))


def newcombe_difference_interval(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, z: float = Z95
) -> tuple[Floats, Floats]:
    """Interval for p1 - p2 from the two Wilson intervals (Newcombe 1998, Stat Med 17:873, method 10)."""
    x1, n1, x2, n2 = _f(x1), _f(n1), _f(x2), _f(n2)
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def nps_difference(
    nps1: ArrayLike, se1: ArrayLike, nps2: ArrayLike, se2: ArrayLike, z: float = Z95
) -> tuple[Floats, Floats, Floats]:
    """Change NPS2 - NPS1 between independent samples: z = Δ / sqrt(SE1² + SE2²).

    Returns (ci_low, ci_high, p) in points.
    """
    delta = _f(nps2) - _f(nps1)
    se = np.sqrt(_f(se1) ** 2 + _f(se2) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = two_sided_p(delta / se)
    return delta - z * se, delta + z * se, p


def welch_difference(
    mean1: ArrayLike, sd1: ArrayLike, n1: ArrayLike, mean2: ArrayLike, sd2: ArrayLike, n2: ArrayLike
) -> tuple[Floats, Floats, Floats]:
    """Welch t interval and two-sided p for mean2 - mean1 (Welch-Satterthwaite df)."""
    m1, s1, n1, m2, s2, n2 = (_f(v) for v in (mean1, sd1, n1, mean2, sd2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        v1, v2 = s1**2 / n1, s2**2 / n2
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        delta = m2 - m1
        half = _t_quantile(0.975, df) * se
        p = 2 * _t_sf(np.abs(delta / se), df)
    return delta - half, delta + half, p

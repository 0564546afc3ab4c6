"""Interval and test formulas against the oracles in methodology.md and independent implementations."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats import proportion as sm_proportion

from transforms import stats as s


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe_1998(x, n, low, high):
    """The Wilson interval reproduces Newcombe's published examples to 4 decimals."""
    lo, hi = s.wilson_interval([x], [n])
    assert lo[0] == pytest.approx(low, abs=5e-5)
    assert hi[0] == pytest.approx(high, abs=5e-5)
    ref = stats.binomtest(x, n).proportion_ci(method="wilson")
    assert (lo[0], hi[0]) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_wilson_is_undefined_without_answers():
    """n = 0 gives no interval rather than a fake one."""
    lo, hi = s.wilson_interval([0], [0])
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_mean_interval_matches_scipy():
    """The t interval for a mean equals scipy's t.interval."""
    data = np.array([4, 5, 3, 4, 2, 5, 5, 4, 3, 4], dtype=float)
    lo, hi = s.mean_interval([data.mean()], [data.std(ddof=1)], [data.size])
    ref = stats.t.interval(0.95, data.size - 1, loc=data.mean(), scale=stats.sem(data))
    assert (lo[0], hi[0]) == pytest.approx(ref, rel=1e-12)


def test_nps_standard_error_oracle():
    """n=1000, P=250, D=75 gives NPS SE 1.716 points, Wald CI 14.14-20.86 (methodology.md)."""
    se = s.nps_standard_error([250], [75], [1000])[0]
    assert se == pytest.approx(1.716, abs=5e-4)
    assert 17.5 - s.Z95 * se == pytest.approx(14.14, abs=5e-3)
    assert 17.5 + s.Z95 * se == pytest.approx(20.86, abs=5e-3)


def test_nps_se_equals_plus_minus_one_coding():
    """The trinomial SE equals the SE of the mean of +1/0/-1 codes (population variance / n)."""
    codes = np.array([1] * 37 + [0] * 41 + [-1] * 22, dtype=float)
    se = s.nps_standard_error([37], [22], [100])[0]
    assert se == pytest.approx(100 * codes.std(ddof=0) / np.sqrt(codes.size), rel=1e-12)


def test_nps_adjusted_wald_adds_pseudo_observations():
    """The adjusted-Wald interval is the Wald interval of P+0.75, D+0.75, n+3 (Rocks 2016)."""
    lo, hi = s.nps_interval([5], [2], [12])
    p, d, n = 5.75 / 15, 2.75 / 15, 15
    centre, half = 100 * (p - d), 100 * s.Z95 * np.sqrt((p + d - (p - d) ** 2) / n)
    assert (lo[0], hi[0]) == pytest.approx((centre - half, centre + half))


def test_nps_change_oracle():
    """NPS 17.5 -> 23.0 (P 300, D 70, n 1000) is a change of 5.5, z 2.224, p 0.026."""
    se1 = s.nps_standard_error([250], [75], [1000])
    se2 = s.nps_standard_error([300], [70], [1000])
    lo, hi, p = s.nps_difference([17.5], se1, [23.0], se2)
    z = 5.5 / np.sqrt(se1[0] ** 2 + se2[0] ** 2)
    assert z == pytest.approx(2.224, abs=5e-4)
    assert p[0] == pytest.approx(0.026, abs=5e-4)
    assert (lo[0] + hi[0]) / 2 == pytest.approx(5.5)


def test_two_proportion_test_matches_statsmodels():
    """The pooled z-test p-value equals statsmodels' score test without correction."""
    p = s.two_proportion_test([81], [263], [60], [250])[0]
    ref = sm_proportion.test_proportions_2indep(81, 263, 60, 250, method="score", correction=False, return_results=True)
    assert p == pytest.approx(ref.pvalue, rel=1e-6)


def test_two_proportion_test_identical_extremes():
    """Two groups that are both 100 % satisfied are not different (p = 1), not NaN."""
    assert s.two_proportion_test([20], [20], [35], [35])[0] == 1.0


def test_newcombe_difference_matches_statsmodels():
    """The Newcombe hybrid-score interval equals statsmodels' 'newcomb' method."""
    lo, hi = s.newcombe_difference_interval([56], [70], [48], [80])
    ref = sm_proportion.confint_proportions_2indep(56, 70, 48, 80, method="newcomb", compare="diff")
    assert (lo[0], hi[0]) == pytest.approx(ref, rel=1e-9)


def test_welch_difference_matches_scipy():
    """Welch's interval and p-value equal scipy's ttest_ind(equal_var=False)."""
    a = np.array([3, 4, 5, 4, 4, 2, 5, 3], dtype=float)
    b = np.array([4, 5, 5, 4, 5, 3, 5, 4, 5, 5], dtype=float)
    lo, hi, p = s.welch_difference([a.mean()], [a.std(ddof=1)], [a.size], [b.mean()], [b.std(ddof=1)], [b.size])
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert p[0] == pytest.approx(ref.pvalue, rel=1e-9)
    assert (lo[0], hi[0]) == pytest.approx((ci.low, ci.high), rel=1e-9)

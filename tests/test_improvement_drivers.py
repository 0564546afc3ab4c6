"""Key driver analysis (transforms/improvement/drivers.py) against the oracles in methodology.md
("Key driver analysis": R package rwa on mtcars, R relaimpo on swiss, numpy with case weights),
against independent brute-force implementations (permutations + numpy lstsq; weighted = rows
repeated), and the importance-performance quadrants on a hand example."""

from __future__ import annotations

from itertools import combinations, permutations
from math import factorial

import numpy as np
import polars as pl
import pytest

from transforms.improvement.drivers import (
    bootstrap_intervals,
    driver_weights,
    importance_performance,
    kish_n_eff,
    lmg,
    relative_weights,
)

# mtcars (R datasets, Henderson & Velleman 1981; public domain), file order:
# mpg, cyl, disp, hp, gear.
MTCARS = np.array(
    [
        [21.0, 6, 160.0, 110, 4],  # Mazda RX4
        [21.0, 6, 160.0, 110, 4],  # Mazda RX4 Wag
        [22.8, 4, 108.0, 93, 4],  # Datsun 710
        [21.4, 6, 258.0, 110, 3],  # Hornet 4 Drive
        [18.7, 8, 360.0, 175, 3],  # Hornet Sportabout
        [18.1, 6, 225.0, 105, 3],  # Valiant
        [14.3, 8, 360.0, 245, 3],  # Duster 360
        [24.4, 4, 146.7, 62, 4],  # Merc 240D
        [22.8, 4, 140.8, 95, 4],  # Merc 230
        [19.2, 6, 167.6, 123, 4],  # Merc 280
        [17.8, 6, 167.6, 123, 4],  # Merc 280C
        [16.4, 8, 275.8, 180, 3],  # Merc 450SE
        [17.3, 8, 275.8, 180, 3],  # Merc 450SL
        [15.2, 8, 275.8, 180, 3],  # Merc 450SLC
        [10.4, 8, 472.0, 205, 3],  # Cadillac Fleetwood
        [10.4, 8, 460.0, 215, 3],  # Lincoln Continental
        [14.7, 8, 440.0, 230, 3],  # Chrysler Imperial
        [32.4, 4, 78.7, 66, 4],  # Fiat 128
        [30.4, 4, 75.7, 52, 4],  # Honda Civic
        [33.9, 4, 71.1, 65, 4],  # Toyota Corolla
        [21.5, 4, 120.1, 97, 3],  # Toyota Corona
        [15.5, 8, 318.0, 150, 3],  # Dodge Challenger
        [15.2, 8, 304.0, 150, 3],  # AMC Javelin
        [13.3, 8, 350.0, 245, 3],  # Camaro Z28
        [19.2, 8, 400.0, 175, 3],  # Pontiac Firebird
        [27.3, 4, 79.0, 66, 4],  # Fiat X1-9
        [26.0, 4, 120.3, 91, 5],  # Porsche 914-2
        [30.4, 4, 95.1, 113, 5],  # Lotus Europa
        [15.8, 8, 351.0, 264, 5],  # Ford Pantera L
        [19.7, 6, 145.0, 175, 5],  # Ferrari Dino
        [15.0, 8, 301.0, 335, 5],  # Maserati Bora
        [21.4, 4, 121.0, 109, 4],  # Volvo 142E
    ]
)

# swiss (R datasets, Mosteller & Tukey 1977; public domain), file order:
# Fertility, Agriculture, Examination, Education, Catholic, Infant.Mortality.
SWISS = np.array(
    [
        [80.2, 17.0, 15, 12, 9.96, 22.2],  # Courtelary
        [83.1, 45.1, 6, 9, 84.84, 22.2],  # Delemont
        [92.5, 39.7, 5, 5, 93.40, 20.2],  # Franches-Mnt
        [85.8, 36.5, 12, 7, 33.77, 20.3],  # Moutier
        [76.9, 43.5, 17, 15, 5.16, 20.6],  # Neuveville
        [76.1, 35.3, 9, 7, 90.57, 26.6],  # Porrentruy
        [83.8, 70.2, 16, 7, 92.85, 23.6],  # Broye
        [92.4, 67.8, 14, 8, 97.16, 24.9],  # Glane
        [82.4, 53.3, 12, 7, 97.67, 21.0],  # Gruyere
        [82.9, 45.2, 16, 13, 91.38, 24.4],  # Sarine
        [87.1, 64.5, 14, 6, 98.61, 24.5],  # Veveyse
        [64.1, 62.0, 21, 12, 8.52, 16.5],  # Aigle
        [66.9, 67.5, 14, 7, 2.27, 19.1],  # Aubonne
        [68.9, 60.7, 19, 12, 4.43, 22.7],  # Avenches
        [61.7, 69.3, 22, 5, 2.82, 18.7],  # Cossonay
        [68.3, 72.6, 18, 2, 24.20, 21.2],  # Echallens
        [71.7, 34.0, 17, 8, 3.30, 20.0],  # Grandson
        [55.7, 19.4, 26, 28, 12.11, 20.2],  # Lausanne
        [54.3, 15.2, 31, 20, 2.15, 10.8],  # La Vallee
        [65.1, 73.0, 19, 9, 2.84, 20.0],  # Lavaux
        [65.5, 59.8, 22, 10, 5.23, 18.0],  # Morges
        [65.0, 55.1, 14, 3, 4.52, 22.4],  # Moudon
        [56.6, 50.9, 22, 12, 15.14, 16.7],  # Nyone
        [57.4, 54.1, 20, 6, 4.20, 15.3],  # Orbe
        [72.5, 71.2, 12, 1, 2.40, 21.0],  # Oron
        [74.2, 58.1, 14, 8, 5.23, 23.8],  # Payerne
        [72.0, 63.5, 6, 3, 2.56, 18.0],  # Paysd'enhaut
        [60.5, 60.8, 16, 10, 7.72, 16.3],  # Rolle
        [58.3, 26.8, 25, 19, 18.46, 20.9],  # Vevey
        [65.4, 49.5, 15, 8, 6.10, 22.5],  # Yverdon
        [75.5, 85.9, 3, 2, 99.71, 15.1],  # Conthey
        [69.3, 84.9, 7, 6, 99.68, 19.8],  # Entremont
        [77.3, 89.7, 5, 2, 100.00, 18.3],  # Herens
        [70.5, 78.2, 12, 6, 98.96, 19.4],  # Martigwy
        [79.4, 64.9, 7, 3, 98.22, 20.2],  # Monthey
        [65.0, 75.9, 9, 9, 99.06, 17.8],  # St Maurice
        [92.2, 84.6, 3, 3, 99.46, 16.3],  # Sierre
        [79.3, 63.1, 13, 13, 96.83, 18.1],  # Sion
        [70.4, 38.4, 26, 12, 5.62, 20.3],  # Boudry
        [65.7, 7.7, 29, 11, 13.79, 20.5],  # La Chauxdfnd
        [72.7, 16.7, 22, 13, 11.22, 18.9],  # Le Locle
        [64.4, 17.6, 35, 32, 16.92, 23.0],  # Neuchatel
        [77.6, 37.6, 15, 7, 4.97, 20.0],  # Val de Ruz
        [67.6, 18.7, 25, 7, 8.65, 19.5],  # ValdeTravers
        [35.0, 1.2, 37, 53, 42.34, 18.0],  # V. De Geneve
        [44.7, 46.6, 16, 29, 50.43, 18.2],  # Rive Droite
        [42.8, 27.7, 22, 29, 58.33, 19.3],  # Rive Gauche
    ]
)
SWISS_WEIGHTS = 1 + np.arange(1, 48) % 3  # w_i = 1 + (i mod 3), i = 1..47 in file order

MT_X, MT_Y = MTCARS[:, 1:], MTCARS[:, 0]
SW_X, SW_Y = SWISS[:, 1:], SWISS[:, 0]


# ---------------------------------------------------------------- oracles (methodology.md)


def test_mtcars_relative_weights_match_rwa():
    result = relative_weights(MT_X, MT_Y)
    assert result.r2 == pytest.approx(0.7791896, abs=5e-8)
    np.testing.assert_allclose(result.raw, [0.2284797, 0.2221469, 0.2321744, 0.0963886], atol=5e-8)
    np.testing.assert_allclose(result.rescaled, [29.32, 28.51, 29.80, 12.37], atol=5e-3)


def test_mtcars_lmg_matches_oracle():
    np.testing.assert_allclose(lmg(MT_X, MT_Y), [0.24705, 0.24350, 0.21091, 0.07773], atol=5e-6)


def test_swiss_matches_relaimpo():
    rw = relative_weights(SW_X, SW_Y)
    assert rw.r2 == pytest.approx(0.706735, abs=5e-7)
    np.testing.assert_allclose(rw.raw, [0.0484169, 0.1547082, 0.2719641, 0.1146800, 0.1169657], atol=5e-8)
    np.testing.assert_allclose(lmg(SW_X, SW_Y), [0.0570912, 0.1711730, 0.2601347, 0.1055702, 0.1127660], atol=1e-7)


def test_swiss_with_case_weights_matches_oracle():
    shares = lmg(SW_X, SW_Y, SWISS_WEIGHTS)
    rw = relative_weights(SW_X, SW_Y, SWISS_WEIGHTS)
    assert rw.r2 == pytest.approx(0.694333, abs=5e-7)
    assert shares.sum() == pytest.approx(0.694333, abs=5e-7)
    np.testing.assert_allclose(shares, [0.05182, 0.15495, 0.25598, 0.10196, 0.12963], atol=5e-6)
    assert kish_n_eff(SWISS_WEIGHTS) == pytest.approx(40.47, abs=5e-3)


@pytest.mark.parametrize(("x", "y"), [(MT_X, MT_Y), (SW_X, SW_Y)], ids=["mtcars", "swiss"])
def test_integer_case_weights_equal_repeated_rows(x, y):
    """Independent check of the weighted path: frequency weights 1..3 = each row repeated w_i times."""
    repeated = np.repeat(np.arange(len(y)), SWISS_WEIGHTS[: len(y)])
    w = SWISS_WEIGHTS[: len(y)]
    np.testing.assert_allclose(relative_weights(x, y, w).raw, relative_weights(x[repeated], y[repeated]).raw)
    np.testing.assert_allclose(lmg(x, y, w), lmg(x[repeated], y[repeated]), atol=1e-12)


# ---------------------------------------------------------------- identities and brute force


def _wls_r2(x, y, w):
    """R² of the weighted least-squares fit with intercept: 1 - Σw(y-ŷ)² / Σw(y-ȳ_w)², via lstsq."""
    if x.shape[1] == 0:
        return 0.0
    sw = np.sqrt(w)
    design = np.column_stack([np.ones(len(y)), x]) * sw[:, None]
    beta, *_ = np.linalg.lstsq(design, y * sw, rcond=None)
    resid = y - np.column_stack([np.ones(len(y)), x]) @ beta
    ybar = np.sum(w * y) / np.sum(w)
    return 1 - np.sum(w * resid**2) / np.sum(w * (y - ybar) ** 2)


def _lmg_by_permutations(x, y, w):
    """LMG by definition: the average over all p! orderings of each predictor's R² increment."""
    p = x.shape[1]
    r2 = {S: _wls_r2(x[:, list(S)], y, w) for k in range(p + 1) for S in combinations(range(p), k)}
    total = np.zeros(p)
    for order in permutations(range(p)):
        for pos, j in enumerate(order):
            before = tuple(sorted(order[:pos]))
            total[j] += r2[tuple(sorted((*before, j)))] - r2[before]
    return total / factorial(p), r2[tuple(range(p))]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("x", "y"), [(MT_X, MT_Y), (SW_X, SW_Y)], ids=["mtcars", "swiss"])
def test_lmg_equals_brute_force_over_permutations(x, y, weighted):
    w = SWISS_WEIGHTS[: len(y)].astype(float) if weighted else np.ones(len(y))
    expected, r2 = _lmg_by_permutations(x, y, w)
    got = lmg(x, y, w if weighted else None)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert got.sum() == pytest.approx(r2, abs=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("x", "y"), [(MT_X, MT_Y), (SW_X, SW_Y)], ids=["mtcars", "swiss"])
def test_both_measures_sum_to_r2(x, y, weighted):
    w = SWISS_WEIGHTS[: len(y)].astype(float) if weighted else None
    r2 = _wls_r2(x, y, np.ones(len(y)) if w is None else w)
    rw = relative_weights(x, y, w)
    assert rw.raw.sum() == pytest.approx(r2, abs=1e-12)
    assert rw.r2 == pytest.approx(r2, abs=1e-12)
    assert rw.rescaled.sum() == pytest.approx(100, abs=1e-9)
    assert lmg(x, y, w).sum() == pytest.approx(r2, abs=1e-12)


def test_uncorrelated_predictors_get_their_squared_correlations():
    """With orthogonal predictors both measures reduce to r²(x_j, y)."""
    rng = np.random.default_rng(3)
    raw = rng.normal(size=(60, 3))
    x, _ = np.linalg.qr(raw - raw.mean(axis=0))  # centred, mutually orthogonal columns
    y = x @ [3.0, 2.0, 1.0] + rng.normal(size=60)
    r = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(3)])
    np.testing.assert_allclose(lmg(x, y), r**2, atol=1e-10)
    np.testing.assert_allclose(relative_weights(x, y).raw, r**2, atol=1e-10)


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_is_deterministic_and_contains_the_estimates():
    first = bootstrap_intervals(SW_X, SW_Y, SWISS_WEIGHTS, replicates=300, seed=42)
    second = bootstrap_intervals(SW_X, SW_Y, SWISS_WEIGHTS, replicates=300, seed=42)
    other = bootstrap_intervals(SW_X, SW_Y, SWISS_WEIGHTS, replicates=300, seed=43)
    for field in ("relative_weight_share", "lmg_share", "relative_weight_raw", "lmg_raw"):
        for a, b in zip(getattr(first, field), getattr(second, field), strict=True):
            np.testing.assert_array_equal(a, b)
    assert first.r2 == second.r2
    assert not np.array_equal(first.lmg_share[0], other.lmg_share[0])
    assert first.valid_replicates == 300

    rw = relative_weights(SW_X, SW_Y, SWISS_WEIGHTS)
    shares_lmg = lmg(SW_X, SW_Y, SWISS_WEIGHTS) / rw.r2
    for (low, high), estimate in [
        (first.relative_weight_share, rw.rescaled / 100),
        (first.lmg_share, shares_lmg),
        (first.relative_weight_raw, rw.raw),
    ]:
        assert np.all(low < estimate) and np.all(estimate < high)
        assert np.all((low >= 0) & (high <= 1))
    assert first.r2[0] < rw.r2 < first.r2[1]


def test_bootstrap_chunking_does_not_change_the_stream():
    """Replicates are drawn from one Generator in order: the first B of a longer run are the same."""
    short = bootstrap_intervals(MT_X, MT_Y, replicates=1, seed=7)
    rng = np.random.default_rng(7)
    counts = np.bincount(rng.integers(0, 32, size=32), minlength=32)
    expected = lmg(MT_X, MT_Y, counts) / lmg(MT_X, MT_Y, counts).sum()
    np.testing.assert_allclose(short.lmg_share[0], expected, atol=1e-12)


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_bootstrap_interval_ends_match_an_independent_bootstrap(level):
    """The same Generator stream resampled by hand: rows drawn with rng.integers(0, n, (B, n)), each
    replicate's R² and LMG by lstsq over all orderings, relative weights on the repeated rows; the
    interval ends are np.quantile at (1 - level)/2 and 1 - (1 - level)/2 of those replicates."""
    replicates, seed = 120, 11
    n = len(MT_Y)
    draws = np.random.default_rng(seed).integers(0, n, size=(replicates, n))
    ones = np.ones(n)
    lmg_raw, r2, rw_raw = [], [], []
    for idx in draws:
        phi, total = _lmg_by_permutations(MT_X[idx], MT_Y[idx], ones)
        lmg_raw.append(phi)
        r2.append(total)
        rw_raw.append(relative_weights(MT_X[idx], MT_Y[idx]).raw)
    lmg_raw, r2, rw_raw = np.array(lmg_raw), np.array(r2), np.array(rw_raw)
    ends = [(1 - level) / 2, 1 - (1 - level) / 2]

    boot = bootstrap_intervals(MT_X, MT_Y, replicates=replicates, seed=seed, level=level)
    assert boot.valid_replicates == replicates
    np.testing.assert_allclose(boot.r2, np.quantile(r2, ends), atol=1e-9)
    np.testing.assert_allclose(boot.lmg_raw, np.quantile(lmg_raw, ends, axis=0), atol=1e-9)
    np.testing.assert_allclose(boot.lmg_share, np.quantile(lmg_raw / r2[:, None], ends, axis=0), atol=1e-9)
    np.testing.assert_allclose(boot.relative_weight_raw, np.quantile(rw_raw, ends, axis=0), atol=1e-9)
    np.testing.assert_allclose(boot.relative_weight_share, np.quantile(rw_raw / r2[:, None], ends, axis=0), atol=1e-9)


# ---------------------------------------------------------------- metric rows


def _answers():
    cols = ["overall", "cyl", "disp", "hp", "gear"]
    frame = pl.DataFrame(MTCARS, schema=cols, orient="row")
    blanks = pl.DataFrame(
        {"overall": [None, 20.0, 20.0], "cyl": [4.0, None, 6.0], "disp": [100.0, 100.0, float("nan")]},
        schema_overrides={"overall": pl.Float64, "cyl": pl.Float64},
    ).with_columns(hp=pl.lit(100.0), gear=pl.lit(4.0))
    return pl.concat([frame, blanks.select(cols)])


def test_driver_weights_rows():
    rows = driver_weights(
        _answers(), "overall", ["cyl", "disp", "hp", "gear"], period="2025-Q1", segment="All", seed=1, bootstrap=200
    )
    assert rows.columns == [
        "metric",
        "period",
        "segment",
        "item",
        "value",
        "n",
        "ci_low",
        "ci_high",
        "small_sample",
        "reference",
    ]
    weights = rows.filter(pl.col("metric") == "driver_weight")
    assert weights.height == 8
    assert set(rows["period"]) == {"2025-Q1"} and set(rows["segment"]) == {"All"}
    assert set(rows["n"]) == {32}  # the three incomplete rows are dropped
    assert set(rows["small_sample"]) == {False}
    rw = weights.filter(pl.col("reference") == "relative_weight")
    shares = dict(zip(rw["item"], rw["value"], strict=True))
    np.testing.assert_allclose(
        [shares[a] for a in ("cyl", "disp", "hp", "gear")], [0.2932, 0.2851, 0.2980, 0.1237], atol=5e-5
    )
    by_method = weights.group_by("reference").agg(pl.col("value").sum())
    np.testing.assert_allclose(by_method["value"].to_numpy(), 1.0)
    # rows.py order: metric, period, segment, item, reference (attributes by name, lmg before relative_weight)
    assert rows["metric"].to_list() == ["driver_r2"] + ["driver_weight"] * 8
    assert weights.select("item", "reference").rows()[:4] == [
        ("cyl", "lmg"),
        ("cyl", "relative_weight"),
        ("disp", "lmg"),
        ("disp", "relative_weight"),
    ]
    assert (weights["ci_low"] < weights["value"]).all() and (weights["value"] < weights["ci_high"]).all()
    r2 = rows.filter(pl.col("metric") == "driver_r2")
    assert r2["value"].item() == pytest.approx(0.7791896, abs=5e-8)
    assert r2["ci_low"].item() < r2["value"].item() < r2["ci_high"].item()

    again = driver_weights(
        _answers(), "overall", ["cyl", "disp", "hp", "gear"], period="2025-Q1", segment="All", seed=1, bootstrap=200
    )
    assert rows.equals(again)


def test_driver_weights_case_weights_and_small_samples():
    frame = pl.DataFrame(SWISS, schema=["f", "a", "ex", "ed", "c", "im"], orient="row").with_columns(
        w=pl.Series(SWISS_WEIGHTS)
    )
    rows = driver_weights(frame, "f", ["a", "ex", "ed", "c", "im"], weight="w", bootstrap=50, min_n=41)
    lmg_rows = rows.filter(pl.col("reference") == "lmg")
    shares = dict(zip(lmg_rows["item"], lmg_rows["value"], strict=True))
    np.testing.assert_allclose(
        [shares[a] for a in ("a", "ex", "ed", "c", "im")],
        np.array([0.05182, 0.15495, 0.25598, 0.10196, 0.12963]) / 0.694333,
        atol=2e-5,
    )
    assert set(rows["n"]) == {47}
    assert set(rows["small_sample"]) == {True}  # Kish n_eff 40.47 < 41 though n = 47

    tiny = driver_weights(frame.head(5), "f", ["a", "ex", "ed", "c", "im"], bootstrap=50)
    assert tiny["value"].is_null().all() and tiny["ci_low"].is_null().all()
    assert set(tiny["n"]) == {5} and tiny["small_sample"].all()


# ---------------------------------------------------------------- importance-performance


def test_importance_performance_quadrants():
    weights = pl.DataFrame(
        {
            "metric": "driver_weight",
            "period": "2025",
            "segment": "All",
            "item": ["staff", "speed", "price", "parking", "staff", "speed", "price", "parking"],
            "value": [0.40, 0.30, 0.20, 0.10, 0.1, 0.1, 0.1, 0.7],
            "n": 100,
            "small_sample": False,
            "reference": ["relative_weight"] * 4 + ["lmg"] * 4,
        }
    )
    performance = pl.DataFrame(
        {
            "period": "2025",
            "segment": "All",
            "item": ["staff", "speed", "price", "parking"],
            "value": [4.5, 3.0, 2.8, 4.4],
        }
    )
    # Grand means: importance 0.25, performance 3.675.
    rows = importance_performance(weights, performance, crosshair="means")
    quadrant = {r["item"]: r["reference"].split(";")[0] for r in rows.iter_rows(named=True)}
    assert quadrant == {
        "staff": "keep up the good work",
        "speed": "concentrate here",
        "price": "low priority",
        "parking": "possible overkill",
    }
    assert set(rows["metric"]) == {"ipa_quadrant"} and set(rows["n"]) == {100}
    assert all("crosshair: grand means (importance 0.25, performance 3.675)" in r for r in rows["reference"])

    # Scale midpoint 3 and equal share 1/4: speed (3.0) now counts as high performance.
    mid = importance_performance(weights, performance, crosshair="midpoint", scale=(1, 5))
    quadrant = {r["item"]: r["reference"].split(";")[0] for r in mid.iter_rows(named=True)}
    assert quadrant["speed"] == "keep up the good work"
    assert quadrant["price"] == "low priority"
    assert all("scale midpoint 3" in r for r in mid["reference"])

    by_lmg = importance_performance(weights, performance, method="lmg")
    quadrant = {r["item"]: r["reference"].split(";")[0] for r in by_lmg.iter_rows(named=True)}
    assert quadrant["parking"] == "keep up the good work" and quadrant["staff"] == "possible overkill"

    with pytest.raises(ValueError, match="crosshair"):
        importance_performance(weights, performance, crosshair="median")  # type: ignore[arg-type]


@pytest.mark.parametrize("crosshair", ["means", "midpoint"])
def test_a_tie_exactly_on_the_crosshair_counts_as_high(crosshair):
    # Importance 0.25 is exactly the grand mean of (0.5, 0.25, 0.25, 0) and exactly 1/4; performance 3.0
    # is exactly the grand mean of (4, 3, 3, 2) and the midpoint of 1-5. At or above the crosshair = high.
    weights = pl.DataFrame(
        {"item": ["a", "b", "c", "d"], "value": [0.5, 0.25, 0.25, 0.0], "reference": "relative_weight"}
    )
    performance = pl.DataFrame({"item": ["a", "b", "c", "d"], "value": [2.0, 3.0, 4.0, 3.0]})
    rows = importance_performance(weights, performance, crosshair=crosshair)
    quadrant = {r["item"]: r["reference"].split(";")[0] for r in rows.iter_rows(named=True)}
    assert quadrant == {
        "a": "concentrate here",  # high importance, low performance
        "b": "keep up the good work",  # both exactly on the crosshair: high and high
        "c": "keep up the good work",  # importance on the crosshair, performance above
        "d": "possible overkill",  # low importance, performance on the crosshair
    }

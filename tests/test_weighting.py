"""Raking (transforms/weighting.py) against the methodology's IPF oracle and an independent numpy IPF;
Kish's n_eff; and every way the margins can fail to fit the data is an error or a reported gap."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from transforms.improvement.drivers import kish_n_eff as drivers_kish_n_eff
from transforms.weighting import WeightingError, kish_n_eff, margin_gaps, n_eff_expr, rake

SEED = np.array([[40, 30, 20, 10], [35, 50, 100, 75], [30, 80, 70, 120], [20, 30, 40, 50]])


def _responses_from_table(table: np.ndarray, period: str = "2025") -> pl.DataFrame:
    """One response per unit of each cell: row category r0.., column category c0.."""
    rows = [
        (f"r{i}", f"c{j}") for i in range(table.shape[0]) for j in range(table.shape[1]) for _ in range(table[i, j])
    ]
    return pl.DataFrame(rows, schema=["row", "col"], orient="row").with_columns(period=pl.lit(period))


def numpy_ipf(table: np.ndarray, row_targets: np.ndarray, col_targets: np.ndarray, sweeps: int = 2000) -> np.ndarray:
    """Deming & Stephan's iterative proportional fitting of a two-way table, written out independently."""
    fitted = table.astype(float)
    for _ in range(sweeps):
        fitted *= (row_targets / fitted.sum(axis=1))[:, None]
        fitted *= (col_targets / fitted.sum(axis=0))[None, :]
    return fitted


def _raked_table(raked: pl.DataFrame, shape: tuple[int, int]) -> np.ndarray:
    cells = raked.group_by("row", "col").agg(pl.col("weight").sum())
    out = np.zeros(shape)
    for r, c, w in cells.iter_rows():
        out[int(r[1:]), int(c[1:])] = w
    return out


def test_rake_reproduces_the_methodology_ipf_oracle():
    # the weights average 1 (sum 800, the seed's total); scaled to the targets' total of 1000 they are the fit
    raked = rake(
        _responses_from_table(SEED),
        {"row": {"r0": 150, "r1": 300, "r2": 400, "r3": 150}, "col": {"c0": 200, "c1": 300, "c2": 400, "c3": 100}},
        tolerance=1e-10,
        max_iterations=1000,
    )
    fitted = _raked_table(raked, SEED.shape) * 1000 / SEED.sum()
    assert fitted[0] == pytest.approx([64.56, 46.23, 35.38, 3.82], abs=0.006)
    assert fitted.sum(axis=1) == pytest.approx([150, 300, 400, 150])
    assert fitted.sum(axis=0) == pytest.approx([200, 300, 400, 100])


@pytest.mark.parametrize("seed", range(4))
def test_rake_agrees_with_an_independent_numpy_ipf(seed: int):
    rng = np.random.default_rng(seed)
    table = rng.integers(1, 60, size=(3, 5))
    row_shares, col_shares = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(5))
    margins = {
        "row": {f"r{i}": float(s) for i, s in enumerate(row_shares)},
        "col": {f"c{j}": float(s) for j, s in enumerate(col_shares)},
    }
    raked = rake(_responses_from_table(table), margins, tolerance=1e-12, max_iterations=5000)
    n = table.sum()
    expected = numpy_ipf(table, row_shares * n, col_shares * n)
    assert _raked_table(raked, table.shape) == pytest.approx(expected, rel=1e-6)
    # every response of a cell carries the same weight; the weights average 1
    assert raked.group_by("row", "col").agg(pl.col("weight").n_unique())["weight"].max() == 1
    assert raked["weight"].mean() == pytest.approx(1.0)


def test_each_period_is_raked_to_the_margins_on_its_own():
    both = pl.concat([_responses_from_table(SEED, "2024"), _responses_from_table(SEED.T * 2, "2025")]).with_row_index(
        "response_id"
    )
    margins = {"row": {"r0": 1, "r1": 1, "r2": 1, "r3": 1}, "col": {"c0": 4, "c1": 3, "c2": 2, "c3": 1}}
    raked = rake(both.lazy(), margins, tolerance=1e-9, max_iterations=500).collect()
    assert raked.height == both.height and raked["response_id"].to_list() == both["response_id"].to_list()
    for period, size in (("2024", SEED.sum()), ("2025", 2 * SEED.sum())):
        one = raked.filter(pl.col("period") == period)
        assert one["weight"].sum() == pytest.approx(size)  # weights average 1 in each period
        shares = one.group_by("col").agg(pl.col("weight").sum() / size).sort("col")["weight"].to_list()
        assert shares == pytest.approx([0.4, 0.3, 0.2, 0.1], abs=1e-8)


def test_no_margins_weighs_every_response_one():
    frame = _responses_from_table(SEED)
    assert rake(frame, {})["weight"].unique().to_list() == [1.0]


def test_kish_effective_n():
    assert kish_n_eff([1, 1, 1, 1]) == 4
    assert kish_n_eff([1, 1, 2, 2]) == pytest.approx(36 / 10)
    assert kish_n_eff([0.5] * 10) == pytest.approx(10)  # scale-free
    swiss = [1 + (i % 3) for i in range(1, 48)]  # methodology.md: n_eff 40.47
    assert kish_n_eff(swiss) == pytest.approx(40.47, abs=5e-3)
    assert kish_n_eff(swiss) == pytest.approx(drivers_kish_n_eff(swiss))
    frame = pl.DataFrame({"g": ["a", "a", "b", "b", "b"], "weight": [1.0, 1.0, 1.0, 2.0, 3.0]})
    by_group = frame.group_by("g").agg(n_eff_expr()).sort("g")["weight"].to_list()
    assert by_group == pytest.approx([2.0, 36 / 14])


def test_a_data_category_the_margins_do_not_list_is_an_error():
    frame = _responses_from_table(SEED)
    with pytest.raises(WeightingError, match=r"period 2025: 140 response\(s\) with row 'r3', which the margins"):
        rake(frame, {"row": {"r0": 1, "r1": 1, "r2": 1}})
    with_gap = frame.with_columns(row=pl.when(pl.col("col") == "c3").then(None).otherwise("row"))
    with pytest.raises(WeightingError, match=r"255 response\(s\) with row no value"):
        rake(with_gap, {"row": {"r0": 1, "r1": 1, "r2": 1, "r3": 1}})


def test_a_margin_category_without_answers_is_an_error_or_a_reported_gap():
    frame = _responses_from_table(SEED)
    margins = {"row": {"r0": 0.2, "r1": 0.2, "r2": 0.2, "r3": 0.2, "r9": 0.2}}
    with pytest.raises(WeightingError, match="period 2025: no responses with row 'r9'"):
        rake(frame, margins)
    rescaled = rake(frame, margins, on_missing="rescale")
    shares = rescaled.group_by("row").agg(pl.col("weight").sum() / rescaled.height)["weight"].to_list()
    assert shares == pytest.approx([0.25] * 4)  # the four present categories share the whole
    gaps = margin_gaps(frame, margins)
    assert gaps.rows() == [("2025", "row", "r9", pytest.approx(0.2))]
    assert margin_gaps(frame, {"row": {"r0": 1, "r1": 1, "r2": 1, "r3": 1}}).is_empty()


def test_raking_that_does_not_converge_is_an_error():
    margins = {"row": {"r0": 150, "r1": 300, "r2": 400, "r3": 150}, "col": {"c0": 200, "c1": 300, "c2": 400, "c3": 100}}
    with pytest.raises(WeightingError, match=r"period 2025: raking to the margins failed.*converge"):
        rake(_responses_from_table(SEED), margins, tolerance=1e-12, max_iterations=2)


def test_margins_must_be_positive():
    with pytest.raises(WeightingError, match="positive"):
        rake(_responses_from_table(SEED), {"row": {"r0": 1, "r1": 0, "r2": 1, "r3": 1}})

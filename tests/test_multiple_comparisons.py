"""False discovery rate and small-group suppression (transforms/multiple_comparisons.py)
against hand examples and statsmodels' `multipletests(method="fdr_bh")`."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.multitest import multipletests

from transforms.multiple_comparisons import benjamini_hochberg, fdr_adjust, suppressed_groups

# --- Benjamini-Hochberg ---------------------------------------------------------------------------


def test_benjamini_hochberg_by_hand():
    # sorted: 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4); m·p/i = 0.02, 0.02, 0.04, 0.04; running min from the top
    q, reject = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert q.to_list() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert reject.to_list() == [True, True, True, True]
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005], alpha=0.03)[1].to_list() == [True, False, False, True]
    # ties share a q: 3·0.02/1 = 0.06, 3·0.02/2 = 0.03 -> both 0.03; 3·0.5/3 = 0.5
    assert benjamini_hochberg([0.02, 0.02, 0.5])[0].to_list() == pytest.approx([0.03, 0.03, 0.5])
    assert benjamini_hochberg([0.9, 0.95])[0].to_list() == pytest.approx([0.95, 0.95])  # capped by the largest


def test_tests_below_the_minimum_n_are_skipped_and_not_counted():
    q, reject = benjamini_hochberg([0.01, 0.04, 0.03, 0.005, 0.001, None], n=[100, 100, 100, 100, 3, 100], min_n=30)
    assert q.to_list()[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])  # m = 4, as without the small test
    assert q.to_list()[4:] == [None, None] and reject.to_list()[4:] == [None, None]
    empty_q, empty_reject = benjamini_hochberg([0.01], n=[2], min_n=30)
    assert empty_q.to_list() == [None] and empty_reject.to_list() == [None]


@pytest.mark.parametrize("seed", range(8))
def test_benjamini_hochberg_agrees_with_statsmodels(seed: int):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 60))
    p = np.concatenate([rng.uniform(0, 1, size), rng.uniform(0, 0.01, size // 3)])  # some true effects
    p = np.round(p, 3)  # rounded: tied p-values
    n = rng.integers(1, 200, p.size)
    q, reject = benjamini_hochberg(p, alpha=0.1, n=n, min_n=20)
    kept = n >= 20
    expected_reject, expected_q, _, _ = multipletests(p[kept], alpha=0.1, method="fdr_bh")
    assert q.to_numpy()[kept] == pytest.approx(expected_q)
    assert reject.to_numpy()[kept].tolist() == expected_reject.tolist()
    assert q.filter(pl.Series(~kept)).null_count() == int((~kept).sum())


def test_fdr_adjust_works_per_family_of_a_metrics_frame():
    rng = np.random.default_rng(7)
    frame = pl.DataFrame(
        {
            "metric": ["csat"] * 12 + ["nps"] * 8,
            "period": "2025",
            "segment": [f"S{i}" for i in range(20)],
            "p_value": np.round(rng.uniform(0, 0.2, 20), 3),
            "n": rng.integers(10, 100, 20),
        }
    ).with_columns(p_value=pl.when(pl.col("segment") == "S3").then(None).otherwise(pl.col("p_value")))
    out = fdr_adjust(frame, min_n=30, alpha=0.05)
    assert out.columns == [*frame.columns, "q_value", "fdr_reject"]
    for metric in ("csat", "nps"):
        family = out.filter(pl.col("metric") == metric)
        q, reject = benjamini_hochberg(family["p_value"], alpha=0.05, n=family["n"], min_n=30)
        assert family["q_value"].to_list() == pytest.approx(q.to_list(), nan_ok=True)
        assert family["fdr_reject"].to_list() == reject.to_list()


# --- suppression --------------------------------------------------------------------------------


def hidden(counts, **kwargs):
    frame = pl.DataFrame(counts, schema=["rollup", "group", "n"], orient="row")
    result = suppressed_groups(frame, **kwargs)
    return {
        (r["group"]): r["reason"] for r in result.filter(pl.col("suppressed")).unique("group").iter_rows(named=True)
    }


def test_one_hidden_group_takes_the_next_smallest_with_it():
    # All = 73; showing B, C, D and the total would give A = 73 - 70 = 3
    assert hidden([("All", "A", 3), ("All", "B", 10), ("All", "C", 20), ("All", "D", 40)]) == {
        "A": "below minimum",
        "B": "complementary",
    }
    # equal sizes: the first name
    assert hidden([("All", "A", 3), ("All", "C", 10), ("All", "B", 10)]) == {"A": "below minimum", "B": "complementary"}


def test_nothing_hidden_when_every_group_is_large_enough():
    assert hidden([("All", "A", 5), ("All", "B", 10)]) == {}
    assert hidden([("All", "A", 5), ("All", "B", 10)], min_n=6) == {"A": "below minimum", "B": "complementary"}


def test_two_hidden_groups_that_together_are_still_small_take_a_third():
    two = [("All", "A", 2), ("All", "B", 4), ("All", "C", 30), ("All", "D", 40)]
    assert hidden(two) == {"A": "below minimum", "B": "below minimum"}  # together 6 >= 5: enough
    tiny = [("All", "A", 1), ("All", "B", 2), ("All", "C", 30), ("All", "D", 40)]
    assert hidden(tiny) == {"A": "below minimum", "B": "below minimum", "C": "complementary"}  # together 3
    assert hidden(tiny, protect_sum=False) == {"A": "below minimum", "B": "below minimum"}


def test_complementary_suppression_spreads_across_roll_ups():
    counts = [
        ("Estonia", "Tallinn", 3),
        ("Estonia", "Narva", 30),
        ("All", "Estonia", 33),
        ("All", "Riga", 50),
        ("All", "Vilnius", 8),
        ("Russian-speaking", "Narva", 30),
        ("Russian-speaking", "Riga", 50),
        ("Russian-speaking", "Daugavpils", 60),
    ]
    # Tallinn < 5 -> Narva (Estonia = Tallinn + Narva); Narva alone hidden among Russian-speaking -> Riga;
    # Riga alone hidden under All -> Vilnius.
    assert hidden(counts) == {
        "Tallinn": "below minimum",
        "Narva": "complementary",
        "Riga": "complementary",
        "Vilnius": "complementary",
    }
    result = suppressed_groups(pl.DataFrame(counts, schema=["rollup", "group", "n"], orient="row"))
    assert result.height == len(counts) and result.filter(pl.col("group") == "Narva")["suppressed"].all()


def test_a_roll_up_of_one_hidden_group_leaves_nothing_else_to_hide():
    assert hidden([("Riga", "Riga shop", 4), ("All", "Riga", 4), ("All", "Tallinn", 40), ("All", "Narva", 50)]) == {
        "Riga shop": "below minimum",
        "Riga": "below minimum",
        "Tallinn": "complementary",
    }


def test_a_priority_takes_the_complement_from_the_cheaper_groups_first():
    # Estonia heads a report of its own (priority 1): the complement of Riga is Cape, though Estonia is smaller.
    counts = pl.DataFrame(
        [("All", "Estonia", 20, 1), ("All", "Riga", 3, 0), ("All", "Cape", 50, 0), ("All", "Shop", 60, 0)],
        schema=["rollup", "group", "n", "priority"],
        orient="row",
    )
    by_size = suppressed_groups(counts).filter(pl.col("suppressed"))["group"].to_list()
    by_priority = suppressed_groups(counts, priority="priority").filter(pl.col("suppressed"))["group"].to_list()
    assert sorted(by_size) == ["Estonia", "Riga"] and sorted(by_priority) == ["Cape", "Riga"]

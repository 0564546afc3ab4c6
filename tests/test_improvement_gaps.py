"""SERVQUAL gaps, the five-gap model, low-expectation flags, mode and wording effects
(transforms/improvement/gaps.py) against methodology.md's oracle, hand-computed values and scipy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from scipy import stats

from transforms.improvement import rows as shared_rows
from transforms.improvement.gaps import (
    gap_model,
    low_expectation_flag,
    mean_rows,
    mode_effect,
    pairs_from_codebook,
    servqual_gaps,
    wording_effect,
)

REPO = Path(__file__).resolve().parents[1]
DIMS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
ORACLE_GAPS = [-0.65, -1.10, -0.83, -0.70, -1.01]  # methodology.md -> unweighted -0.858
OFFSETS = [-0.3, -0.1, 0.1, 0.3]  # per-respondent spread around each dimension gap (mean 0)
PAIRS = pl.DataFrame(
    {"attribute": [f"p_{d}" for d in DIMS], "expectation": [f"e_{d}" for d in DIMS], "dimension": DIMS}
)


def answer(rid, qid, value, *, mode="online", reverse=False, lo=1.0, hi=7.0, segment="All"):
    return {
        "response_id": rid,
        "question_id": qid,
        "value": None if value is None else float(value),
        "score": None if value is None else (float(value) - lo) / (hi - lo),
        "reverse_coded": reverse,
        "mode": mode,
        "period": "2025",
        "segment": segment,
    }


def oracle_answers() -> pl.DataFrame:
    rows = []
    for r, off in enumerate(OFFSETS):
        for d, g in zip(DIMS, ORACLE_GAPS, strict=True):
            rows += [answer(f"R{r}", f"p_{d}", 6 + g + off), answer(f"R{r}", f"e_{d}", 6)]
    return pl.DataFrame(rows)


def row(frame: pl.DataFrame, item: str, reference: str | None = None, metric: str | None = None) -> dict:
    hit = frame.filter(pl.col("item") == item)
    if reference is not None:
        hit = hit.filter(pl.col("reference") == reference)
    if metric is not None:
        hit = hit.filter(pl.col("metric") == metric)
    assert hit.height == 1, hit
    return hit.row(0, named=True)


def test_servqual_oracle_unweighted():
    """Dimension gaps -0.65, -1.10, -0.83, -0.70, -1.01 give unweighted SERVQUAL -0.858 (methodology.md)."""
    out = servqual_gaps(oracle_answers(), oracle_answers(), PAIRS)
    for d, g in zip(DIMS, ORACLE_GAPS, strict=True):
        assert row(out, f"dimension:{d}")["value"] == pytest.approx(g)
        assert row(out, f"p_{d}")["value"] == pytest.approx(g)
    overall = row(out, "overall", "unweighted")
    assert overall["value"] == pytest.approx(-0.858)
    assert overall["n"] == 4 and overall["small_sample"]
    # The interval is scipy's t interval of the respondents' overall scores.
    scores = np.array([np.mean(ORACLE_GAPS) + off for off in OFFSETS])
    ref = stats.t.interval(0.95, 3, loc=scores.mean(), scale=stats.sem(scores))
    assert (overall["ci_low"], overall["ci_high"]) == pytest.approx(ref)
    assert set(out["metric"]) == {"servqual_gap"}


def test_servqual_weighted_by_importance_points():
    """Weighted SERVQUAL = Σ (w_d/100)·Q_d: 20/30/15/15/20 points -> -0.8915 by hand."""
    weights = dict(zip(DIMS, [20, 30, 15, 15, 20], strict=True))
    out = servqual_gaps(oracle_answers(), oracle_answers(), PAIRS, weights)
    expected = 0.2 * -0.65 + 0.3 * -1.10 + 0.15 * -0.83 + 0.15 * -0.70 + 0.2 * -1.01
    assert expected == pytest.approx(-0.8915)
    assert row(out, "overall", "weighted")["value"] == pytest.approx(expected)
    assert row(out, "overall", "unweighted")["value"] == pytest.approx(-0.858)


def test_servqual_weighted_per_respondent_points():
    """Each respondent's own 100 points weight their own dimension gaps (PZB 1991)."""
    points = [[100, 0, 0, 0, 0], [0, 100, 0, 0, 0], [20, 20, 20, 20, 20], [0, 0, 0, 50, 50]]
    frame = pl.DataFrame(
        [
            {"response_id": f"R{r}", "dimension": d, "points": p}
            for r, ps in enumerate(points)
            for d, p in zip(DIMS, ps, strict=True)
        ]
    )
    out = servqual_gaps(oracle_answers(), oracle_answers(), PAIRS, frame)
    per = [
        -0.65 - 0.3,
        -1.10 - 0.1,
        np.mean(ORACLE_GAPS) + 0.1,
        0.5 * (-0.70 + 0.3) + 0.5 * (-1.01 + 0.3),
    ]
    assert row(out, "overall", "weighted")["value"] == pytest.approx(np.mean(per))


def test_servqual_pairs_items_per_respondent_and_dimension():
    """Hand example: two items in a dimension average per respondent first; a response without the
    expectation is left out; overall uses respondents who answered every dimension."""
    pairs = pl.DataFrame(
        {"attribute": ["a1", "a2", "b1"], "expectation": ["ea", "ea", "eb"], "dimension": ["a", "a", "b"]}
    )
    given = {
        "R1": {"a1": 3, "a2": 5, "ea": 5, "b1": 4, "eb": 6},
        "R2": {"a1": 2, "a2": None, "ea": 4, "b1": 6, "eb": None},
        "R3": {"a1": 7, "ea": None},
    }
    rows = [answer(rid, qid, v) for rid, answers in given.items() for qid, v in answers.items()]
    out = servqual_gaps(pl.DataFrame(rows), pl.DataFrame(rows), pairs)
    # R1: a1 -2, a2 0 -> dimension a -1; b -2. R2: a1 -2 -> a -2; b has no expectation. R3: no E.
    assert row(out, "a1")["value"] == pytest.approx(-2.0) and row(out, "a1")["n"] == 2
    assert row(out, "a2")["value"] == pytest.approx(0.0) and row(out, "a2")["n"] == 1
    assert row(out, "dimension:a")["value"] == pytest.approx(-1.5) and row(out, "dimension:a")["n"] == 2
    assert row(out, "dimension:b")["value"] == pytest.approx(-2.0) and row(out, "dimension:b")["n"] == 1
    overall = row(out, "overall", "unweighted")
    assert overall["value"] == pytest.approx(-1.5) and overall["n"] == 1  # only R1 answered both dimensions
    assert overall["ci_low"] is None and overall["ci_high"] is None  # n = 1: no interval (null, not NaN)


def test_pairs_from_the_bundled_codebook():
    """Attributes pair with the expectation item of their dimension (config/codebook.yaml)."""
    questions = yaml.safe_load((REPO / "config" / "codebook.yaml").read_text())["questions"]
    codebook = pl.DataFrame(
        {
            "question_id": [q["id"] for q in questions],
            "kind": [q["kind"] for q in questions],
            "dimension": [q.get("dimension", "general") for q in questions],
        }
    )
    pairs = pairs_from_codebook(codebook)
    got = dict(zip(pairs["attribute"], pairs["expectation"], strict=True))
    assert got["resolved_first_contact"] == "expect_reliability"
    assert got["explained_more_than_once"] == "expect_reliability"
    assert got["staff_courtesy"] == "expect_empathy"
    assert "overall_satisfaction" not in got and "likely_to_recommend" not in got


def test_gap_model_signs_and_pass_through():
    """Gap 1 = management's E - customers' E (Welch), gap 2 = standard - management, gap 3 as given,
    gap 4 = 1 - promise_kept, gap 5 = P - E."""
    pairs = PAIRS.filter(pl.col("dimension").is_in(["reliability", "empathy"]))
    customers = oracle_answers()
    management = pl.DataFrame(
        {
            "period": "2025",
            "segment": "All",
            "manager_id": ["M1", "M2", "M3", "M1", "M2"],
            "question": ["e_reliability", "e_reliability", "e_reliability", "e_empathy", "e_empathy"],
            "rating": [5, 6, 4, 7, 6],
        }
    )
    # Customers' E on reliability varies too so the Welch interval is defined.
    customers = customers.with_columns(
        value=pl.when(pl.col("question_id") == "e_reliability")
        .then(pl.col("response_id").replace_strict({"R0": 5.0, "R1": 6.0, "R2": 6.0, "R3": 7.0}))
        .otherwise("value")
    )
    delivery = pl.DataFrame({"period": ["2025"], "segment": ["All"], "item": ["on_time"], "value": [-0.2], "n": [50]})
    communication = pl.DataFrame(
        {"period": ["2025"], "segment": ["All"], "value": [0.8], "n": [40], "ci_low": [0.65], "ci_high": [0.9]}
    )
    out = gap_model(
        customers,
        customers,
        management,
        pairs,
        service_standards={"reliability": 4.5, "empathy": 6.0},
        delivery=delivery,
        communication=communication,
    )
    gap1 = row(out, "gap1:reliability")
    assert gap1["value"] == pytest.approx(5.0 - 6.0) and gap1["n"] == 4
    welch = stats.ttest_ind([5, 6, 4], [5.0, 6.0, 6.0, 7.0], equal_var=False).confidence_interval()
    assert (gap1["ci_low"], gap1["ci_high"]) == pytest.approx((welch.low, welch.high))
    assert row(out, "gap1:empathy")["value"] == pytest.approx(6.5 - 6.0)
    gap2 = row(out, "gap2:reliability")
    assert gap2["value"] == pytest.approx(4.5 - 5.0) and gap2["n"] == 3
    mgmt = stats.t.interval(0.95, 2, loc=5.0, scale=stats.sem([5, 6, 4]))
    assert (gap2["ci_low"], gap2["ci_high"]) == pytest.approx((4.5 - mgmt[1], 4.5 - mgmt[0]))
    assert row(out, "gap3:on_time")["value"] == pytest.approx(-0.2) and row(out, "gap3:on_time")["n"] == 50
    gap4 = row(out, "gap4")
    assert (gap4["value"], gap4["ci_low"], gap4["ci_high"], gap4["n"]) == pytest.approx((0.2, 0.1, 0.35, 40))
    # Gap 5: P - E per respondent (P = 6 + g + offset) against each respondent's E.
    p_rel = np.array([6 - 1.10 + off for off in OFFSETS])
    assert row(out, "gap5:reliability")["value"] == pytest.approx((p_rel - [5, 6, 6, 7]).mean())
    assert row(out, "gap5:empathy")["value"] == pytest.approx(-1.01)
    assert set(out["metric"]) == {"gap_model"}


def test_low_expectation_flag_rules():
    """High satisfaction with an expectation below the midpoint (or below the others) is flagged."""
    rows = []
    for r in range(4):
        rows += [
            answer(f"R{r}", "p_tangibles", 5, hi=5),  # score 1.0: high
            answer(f"R{r}", "e_tangibles", 2, hi=5),  # score 0.25: below midpoint
            answer(f"R{r}", "p_reliability", 5, hi=5),
            answer(f"R{r}", "e_reliability", 4, hi=5),  # 0.75: above midpoint, below the others? no
            answer(f"R{r}", "p_empathy", 2, hi=5),  # low satisfaction: never flagged
            answer(f"R{r}", "e_empathy", 1, hi=5),
        ]
    frame = pl.DataFrame(rows)
    pairs = PAIRS.filter(pl.col("dimension").is_in(["tangibles", "reliability", "empathy"]))
    checked = low_expectation_flag(frame, frame, pairs)
    assert sorted(checked["item"]) == ["empathy", "reliability", "tangibles"]  # every dimension is checked
    midpoint = checked.filter(pl.col("reference").str.starts_with("flagged:"))
    assert midpoint["item"].to_list() == ["tangibles"]
    assert midpoint["metric"].to_list() == ["low_expectation_flag"]  # issue 8's id
    assert midpoint["value"][0] == pytest.approx(0.25) and midpoint["n"][0] == 4
    assert "midpoint" in midpoint["reference"][0]
    # Others' mean for tangibles: (0.75 + 0) / 2 = 0.375 > 0.25 -> flagged; reliability 0.75 vs 0.125: not.
    others = low_expectation_flag(frame, frame, pairs, rule="others").filter(
        pl.col("reference").str.starts_with("flagged:")
    )
    assert others["item"].to_list() == ["tangibles"]
    assert "0.38" in others["reference"][0] or "0.375" in others["reference"][0]


def test_mode_effect_matches_scipy_welch():
    """Oral minus written mean score in 0-100 points with scipy's Welch interval; the rule of thumb."""
    oral = [5, 4, 5, 5, 4, 5]
    written = [4, 3, 5, 4, 3, 4, 4]
    rows = [
        answer(f"O{i}", "q", v, mode=m, hi=5)
        for i, (v, m) in enumerate(zip(oral, ["phone", "in_person"] * 3, strict=True))
    ]
    rows += [answer(f"W{i}", "q", v, mode="paper" if i % 2 else "online", hi=5) for i, v in enumerate(written)]
    rows += [answer("V1", "q", 1, mode="video", hi=5)]  # neither oral nor written
    out = mode_effect(pl.DataFrame(rows))
    got = row(out, "q")
    so, sw = (np.array(oral) - 1) / 4 * 100, (np.array(written) - 1) / 4 * 100
    assert got["value"] == pytest.approx(so.mean() - sw.mean()) and got["n"] == 13
    ci = stats.ttest_ind(so, sw, equal_var=False).confidence_interval()
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert got["value"] > 12 and "beyond the rule of thumb of 12" in got["reference"]
    assert "within the rule of thumb" in row(mode_effect(pl.DataFrame(rows), heuristic_points=30), "q")["reference"]


def test_wording_effect_is_paired_within_respondents():
    """Positive minus reverse-coded negative items per respondent, t interval = scipy's paired test."""
    pos = [5, 4, 5, 3, 4]
    neg = [4, 4, 3, 3, 2]  # already reverse-coded values
    rows = []
    for r, (p, n) in enumerate(zip(pos, neg, strict=True)):
        rows += [answer(f"R{r}", "pos", p, hi=5), answer(f"R{r}", "neg", n, hi=5, reverse=True)]
    rows += [answer("R9", "pos", 5, hi=5)]  # no negative item: not paired, left out
    out = wording_effect(pl.DataFrame(rows), {"pos": "reliability", "neg": "reliability"})
    got = row(out, "dimension:reliability")
    d = (np.array(pos) - np.array(neg)) / 4 * 100
    assert got["value"] == pytest.approx(d.mean()) and got["n"] == 5
    ci = stats.ttest_rel((np.array(pos) - 1) / 4 * 100, (np.array(neg) - 1) / 4 * 100).confidence_interval()
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert "positive wording reads higher" in got["reference"]
    assert row(wording_effect(pl.DataFrame(rows)), "all")["value"] == pytest.approx(d.mean())


def test_servqual_weighted_rescales_points_not_summing_to_100():
    """Points that do not sum to 100 are rescaled: Σ w_d·Q_d / Σ w_d (dividing by 100 instead would
    give a quarter of the score here)."""
    points = [2, 1, 1, 0, 0]  # sums to 4
    weights = dict(zip(DIMS, points, strict=True))
    out = servqual_gaps(oracle_answers(), oracle_answers(), PAIRS, weights)
    expected = (2 * -0.65 + 1 * -1.10 + 1 * -0.83) / 4
    assert row(out, "overall", "weighted")["value"] == pytest.approx(expected)
    # Per respondent too: R0's points sum to 4, the others' to 100.
    frame = pl.DataFrame(
        [
            {"response_id": f"R{r}", "dimension": d, "points": p}
            for r in range(4)
            for d, p in zip(DIMS, points if r == 0 else [20, 20, 20, 20, 20], strict=True)
        ]
    )
    out = servqual_gaps(oracle_answers(), oracle_answers(), PAIRS, frame)
    per = [expected + OFFSETS[0]] + [np.mean(ORACLE_GAPS) + off for off in OFFSETS[1:]]
    assert row(out, "overall", "weighted")["value"] == pytest.approx(np.mean(per))


def test_mean_rows_interval_is_null_below_two():
    """n < 2 gives a null interval (not NaN, which polars orders above every number)."""
    stats_frame = pl.DataFrame(
        {"period": ["2025"] * 2, "segment": ["All"] * 2, "item": ["a", "b"], "mean": [1.0, 2.0], "sd": [None, 1.0]}
    ).with_columns(n=pl.Series([1, 3]))
    out = mean_rows(stats_frame, "x", 30)
    assert out["ci_low"].to_list()[0] is None and out["ci_high"].to_list()[0] is None
    assert out["ci_low"].null_count() == 1 and not out["ci_low"].is_nan().any()
    lo, hi = stats.t.interval(0.95, 2, loc=2.0, scale=1.0 / np.sqrt(3))
    assert (out["ci_low"][1], out["ci_high"][1]) == pytest.approx((lo, hi))


def management_rows(ratings: dict[str, dict[str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"period": "2025", "segment": "All", "manager_id": m, "question": q, "rating": v}
            for m, given in ratings.items()
            for q, v in given.items()
        ]
    )


TWO_ITEMS = pl.DataFrame({"attribute": ["p_a", "p_a"], "expectation": ["e_a1", "e_a2"], "dimension": ["a", "a"]})


def two_item_customers() -> pl.DataFrame:
    """Four customers answering both expectation items of dimension a (and its attribute)."""
    given = {"R0": (4, 6), "R1": (5, 5), "R2": (6, 7), "R3": (7, 3)}
    rows = []
    for rid, (e1, e2) in given.items():
        rows += [answer(rid, "p_a", 5), answer(rid, "e_a1", e1), answer(rid, "e_a2", e2)]
    return pl.DataFrame(rows)


def test_gap1_counts_customers_not_answers():
    """Gap 1: each customer's mean over the dimension's expectation items first, then over customers:
    n = 4 customers (not 8 answers) and the Welch interval uses the 4 customer means."""
    customers = two_item_customers()
    management = management_rows({"M1": {"e_a1": 5, "e_a2": 6}, "M2": {"e_a1": 4}, "M3": {"e_a2": 7}})
    out = gap_model(customers, customers, management, TWO_ITEMS, min_n=4)
    gap1 = row(out, "gap1:a")
    cust = [5.0, 5.0, 6.5, 5.0]
    mgmt = [5.5, 4.0, 7.0]
    assert gap1["n"] == 4
    assert gap1["value"] == pytest.approx(np.mean(mgmt) - np.mean(cust))
    welch = stats.ttest_ind(mgmt, cust, equal_var=False).confidence_interval()
    assert (gap1["ci_low"], gap1["ci_high"]) == pytest.approx((welch.low, welch.high))
    assert gap1["small_sample"] is False
    assert "3 managers" in gap1["reference"]


def test_gap1_small_sample_by_managers_and_one_manager():
    """small_sample when either group is below its minimum; one manager: null interval, small_sample."""
    customers = two_item_customers()
    two = management_rows({"M1": {"e_a1": 5}, "M2": {"e_a1": 6}})
    assert row(gap_model(customers, customers, two, TWO_ITEMS, min_n=4), "gap1:a")["small_sample"] is True
    assert (
        row(gap_model(customers, customers, two, TWO_ITEMS, min_n=4, min_managers=2), "gap1:a")["small_sample"] is False
    )
    assert row(gap_model(customers, customers, two, TWO_ITEMS, min_n=5, min_managers=2), "gap1:a")["small_sample"]
    one = management_rows({"M1": {"e_a1": 5, "e_a2": 6}})
    out = gap_model(customers, customers, one, TWO_ITEMS, min_n=1, min_managers=1, service_standards={"a": 6.0})
    gap1 = row(out, "gap1:a")
    assert gap1["value"] == pytest.approx(5.5 - 5.375)
    assert gap1["ci_low"] is None and gap1["ci_high"] is None
    assert gap1["small_sample"] is True
    gap2 = row(out, "gap2:a")
    assert gap2["value"] == pytest.approx(0.5) and gap2["n"] == 1
    assert gap2["ci_low"] is None and gap2["ci_high"] is None and gap2["small_sample"] is True


def test_gap_model_rows_use_the_shared_columns_and_nan_becomes_null():
    """The rows come from transforms/improvement/rows.py: its columns, NaN passed in made null."""
    customers = two_item_customers()
    management = management_rows({"M1": {"e_a1": 5}, "M2": {"e_a1": 6}, "M3": {"e_a1": 4}})
    delivery = pl.DataFrame(
        {
            "period": ["2025"],
            "segment": ["All"],
            "item": ["on_time"],
            "value": [-0.2],
            "n": [1],
            "ci_low": [float("nan")],
            "ci_high": [float("nan")],
        }
    )
    out = gap_model(customers, customers, management, TWO_ITEMS, delivery=delivery)
    assert out.schema == pl.Schema(shared_rows.COLUMNS)
    gap3 = row(out, "gap3:on_time")
    assert gap3["ci_low"] is None and gap3["ci_high"] is None
    for column in shared_rows.FLOATS:
        assert not out[column].is_nan().any()


def test_low_expectation_others_rule_needs_other_dimensions():
    """Rule "others" with a single dimension has nothing to compare with: nothing is flagged."""
    rows = []
    for r in range(4):
        rows += [answer(f"R{r}", "p_tangibles", 5, hi=5), answer(f"R{r}", "e_tangibles", 2, hi=5)]
    frame = pl.DataFrame(rows)
    pairs = PAIRS.filter(pl.col("dimension") == "tangibles")
    others = low_expectation_flag(frame, frame, pairs, rule="others")
    assert others["item"].to_list() == ["tangibles"] and others["reference"][0].startswith("not flagged:")
    midpoint = low_expectation_flag(frame, frame, pairs)
    assert midpoint["item"].to_list() == ["tangibles"] and midpoint["reference"][0].startswith("flagged:")

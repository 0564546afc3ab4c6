"""Themes, excerpts, interviewer effects and focus-group composition (transforms/improvement/qualitative.py)
against hand counts, methodology.md's oracle and scipy / statsmodels."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from scipy import stats

from transforms.improvement.qualitative import (
    composition,
    exact_multinomial_p,
    focus_group_representativeness,
    interviewer_effect,
    representative_excerpts,
    theme_cooccurrence,
    theme_frequency,
)

REPO = Path(__file__).resolve().parents[1]
PARENTS = {
    t["code"]: t.get("parent") for t in yaml.safe_load((REPO / "config" / "coding_frame.yaml").read_text())["themes"]
}

EXCERPTS = pl.DataFrame(
    {
        "period": "2025",
        "segment": "All",
        "document": ["FG-1", "FG-1", "FG-2", "FG-2", "FG-2"],
        "excerpt_id": ["E1", "E2", "E3", "E4", "E5"],
        "participant_id": ["P1", "P2", "P1", "P3", "P4"],
        "themes": [
            ["late_delivery", "broken_promise"],
            ["late_delivery", "damaged_in_transit", "late_delivery"],
            ["staff_attitude"],
            [],
            ["late_delivery"],
        ],
        "quote": [
            "They promised Friday; it came on Tuesday.",
            "Late\x00 and\u202e broken.",
            "Rude.",
            "Nothing to add.",
            "Late again, as always, every single week.",
        ],
    }
)


def value(frame: pl.DataFrame, metric: str, item: str, reference: str | None = None) -> dict:
    hit = frame.filter((pl.col("metric") == metric) & (pl.col("item") == item))
    if reference is not None:
        hit = hit.filter(pl.col("reference") == reference)
    assert hit.height == 1, hit
    return hit.row(0, named=True)


def test_theme_frequency_counts_excerpts_once_and_rolls_up():
    """Hand counts: late_delivery on 3 of 5 excerpts (repeated code counted once); delivery rolled up
    = excerpts with late_delivery or damaged_in_transit = 3; shares over all 5 excerpts (Wilson)."""
    out = theme_frequency(EXCERPTS, PARENTS)
    assert set(out["metric"]) == {"theme_frequency"}  # issue 8's id; reference tells count from share
    assert value(out, "theme_frequency", "late_delivery", "count as coded")["value"] == 3
    assert value(out, "theme_frequency", "damaged_in_transit", "count as coded")["value"] == 1
    assert value(out, "theme_frequency", "delivery", "count rolled up")["value"] == 3
    assert value(out, "theme_frequency", "promises", "count rolled up")["value"] == 1
    assert value(out, "theme_frequency", "service", "count rolled up")["value"] == 1
    share = value(out, "theme_frequency", "late_delivery", "share as coded")
    assert share["value"] == pytest.approx(3 / 5) and share["n"] == 5
    ref = stats.binomtest(3, 5).proportion_ci(method="wilson")
    assert (share["ci_low"], share["ci_high"]) == pytest.approx((ref.low, ref.high))
    assert value(out, "theme_frequency", "delivery", "share rolled up")["value"] == pytest.approx(3 / 5)
    assert sorted(out.filter(pl.col("item") == "delivery")["reference"]) == ["count rolled up", "share rolled up"]


def test_theme_cooccurrence_excerpt_and_document():
    """Pairs on one excerpt: late+broken (E1), late+damaged (E2); Jaccard = both / either."""
    out = theme_cooccurrence(EXCERPTS)
    assert set(out["metric"]) == {"theme_cooccurrence"}
    pair = value(out, "theme_cooccurrence", "broken_promise+late_delivery", "count on the same excerpt")
    assert pair["value"] == 1 and pair["n"] == 5
    jac = value(out, "theme_cooccurrence", "broken_promise+late_delivery", "Jaccard on the same excerpt")
    assert jac["value"] == pytest.approx(1 / 3) and jac["n"] == 3  # late on 3 excerpts, broken on 1
    assert set(out["item"]) == {"broken_promise+late_delivery", "damaged_in_transit+late_delivery"}
    by_doc = theme_cooccurrence(EXCERPTS, unit="document")
    # FG-1: late, broken, damaged; FG-2: staff_attitude, late.
    count, jaccard = "count on the same document", "Jaccard on the same document"
    assert value(by_doc, "theme_cooccurrence", "broken_promise+damaged_in_transit", count)["value"] == 1
    assert value(by_doc, "theme_cooccurrence", "late_delivery+staff_attitude", count)["n"] == 2
    assert value(by_doc, "theme_cooccurrence", "late_delivery+staff_attitude", jaccard)["value"] == pytest.approx(1 / 2)


def test_representative_excerpts_shortest_complete_sanitised_deterministic():
    """Complete (fitting) quotes first, shortest first; then truncated ones; text cleaned."""
    out = representative_excerpts(EXCERPTS, "late_delivery", k=3, max_chars=30)
    assert out["theme"].to_list() == ["late_delivery"] * 3
    assert out["quote"][0] == "Late and broken."  # NUL and bidi override removed
    assert out["truncated"].to_list() == [False, True, True]
    assert all(len(q) <= 30 for q in out["quote"])
    assert out["rank"].to_list() == [1, 2, 3]
    # Equal lengths of the two long quotes (41 characters) break on document, then excerpt id.
    assert out["document"].to_list() == ["FG-1", "FG-1", "FG-2"]
    again = representative_excerpts(EXCERPTS.reverse(), "late_delivery", k=3, max_chars=30)
    assert again.equals(out)
    every = representative_excerpts(EXCERPTS, k=1, max_chars=30)
    assert every["theme"].to_list() == ["broken_promise", "damaged_in_transit", "late_delivery", "staff_attitude"]


def ratings(groups: dict[str, list[int]], question: str = "overall_satisfaction") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "period": "2025",
            "segment": "All",
            "question": question,
            "interviewer_id": [iv for iv, ys in groups.items() for _ in ys],
            "rating": [y for ys in groups.values() for y in ys],
        }
    )


def test_interviewer_icc_by_hand_unbalanced():
    """Unbalanced hand example: m0 = (N - Σn_i²/N)/(k-1); F and p equal scipy's one-way ANOVA."""
    groups = {"A": [5, 4, 5, 5], "B": [3, 2, 3], "C": [4, 3, 4, 3, 4]}
    out = interviewer_effect(ratings(groups))
    ys = [np.array(v, dtype=float) for v in groups.values()]
    big_n, k = 12, 3
    grand = np.concatenate(ys).mean()
    msb = sum(len(y) * (y.mean() - grand) ** 2 for y in ys) / (k - 1)
    msw = sum(((y - y.mean()) ** 2).sum() for y in ys) / (big_n - k)
    m0 = (big_n - (16 + 9 + 25) / big_n) / (k - 1)
    rho = (msb - msw) / (msb + (m0 - 1) * msw)
    assert set(out["metric"]) == {"interviewer_effect"}
    icc = value(out, "interviewer_effect", "icc:overall_satisfaction")
    assert icc["value"] == pytest.approx(rho) and icc["n"] == 12
    assert f"m0 {round(m0, 2)}" in icc["reference"]
    f = stats.f_oneway(*ys)
    assert f.statistic == pytest.approx(msb / msw)
    assert f"p {round(float(f.pvalue), 4)}" in icc["reference"]
    deff = value(out, "interviewer_effect", "design_effect:overall_satisfaction")
    assert deff["value"] == pytest.approx(1 + rho * (4 - 1))
    # A: mean 4.75 vs the others' (8 + 18) / 8 = 3.25; its t interval excludes 3.25 -> flagged.
    a = value(out, "interviewer_effect", "deviation:overall_satisfaction:A")
    assert a["value"] == pytest.approx(4.75 - 26 / 8) and a["n"] == 4
    lo, hi = stats.t.interval(0.95, 3, loc=4.75, scale=stats.sem(groups["A"]))
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((lo - 26 / 8, hi - 26 / 8))
    assert a["reference"].startswith("flagged")
    c = value(out, "interviewer_effect", "deviation:overall_satisfaction:C")
    assert c["reference"].startswith("within")


def test_interviewer_icc_agrees_with_mixedlm_on_balanced_data():
    """Balanced groups: the REML variance components of a random-intercept model equal the ANOVA
    (method-of-moments) ones whenever the between-interviewer estimate is positive, so
    τ²/(τ² + σ²) = ρ_ANOVA exactly in theory; the tolerance (0.01) covers only mixedlm's numerical
    optimiser, not a difference of method."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(7)
    effects = {"A": 0.8, "B": 0.0, "C": -0.5, "D": 0.2, "E": -0.3, "F": 0.4}
    groups = {
        iv: list(np.clip(np.round(3.5 + e + rng.normal(0, 0.9, 12)), 1, 5).astype(int)) for iv, e in effects.items()
    }
    frame = ratings(groups)
    rho = value(interviewer_effect(frame), "interviewer_effect", "icc:overall_satisfaction")["value"]
    assert rho > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("rating ~ 1", frame.to_pandas(), groups="interviewer_id").fit(reml=True)
    tau2, sigma2 = float(fit.cov_re.iloc[0, 0]), float(fit.scale)
    assert rho == pytest.approx(tau2 / (tau2 + sigma2), abs=0.01)


def test_focus_group_oracle_and_scipy():
    """5/9/4/2 vs 40/30/20/10 % -> χ² 2.625, df 3, p 0.453 (methodology.md); scipy chisquare agrees."""
    counts = {"private": 5, "business": 9, "public": 4, "reseller": 2}
    base = {"private": 0.4, "business": 0.3, "public": 0.2, "reseller": 0.1}
    out = focus_group_representativeness(counts, base, "2025", "All")
    assert set(out["metric"]) == {"focus_group_representativeness"}
    chi2 = value(out, "focus_group_representativeness", "chi2:customer_type")
    assert chi2["value"] == pytest.approx(2.625) and chi2["n"] == 20
    assert "df 3" in chi2["reference"] and "p 0.453" in chi2["reference"]
    p = value(out, "focus_group_representativeness", "chi2_p:customer_type")["value"]
    assert p == pytest.approx(0.453, abs=5e-4)
    ref = stats.chisquare([5, 9, 4, 2], f_exp=[8, 6, 4, 2])
    assert (chi2["value"], p) == pytest.approx((ref.statistic, ref.pvalue))
    # Expected 4 and 2 are below 5: the exact multinomial p is added and named.
    exact = value(out, "focus_group_representativeness", "exact_p:customer_type")
    assert "exact multinomial" in exact["reference"] and "below 5" in chi2["reference"]
    shares = np.array([0.4, 0.3, 0.2, 0.1])
    observed = stats.multinomial.pmf([5, 9, 4, 2], 20, shares)
    brute = sum(
        pr
        for x in itertools.product(range(21), repeat=3)
        if sum(x) <= 20 and (pr := stats.multinomial.pmf([*x, 20 - sum(x)], 20, shares)) <= observed * (1 + 1e-7)
    )
    assert exact["value"] == pytest.approx(brute, rel=1e-9)
    # The composition table: every category with its share and the base share.
    private = value(out, "focus_group_representativeness", "composition:customer_type:private")
    assert private["value"] == pytest.approx(0.25) and private["reference"] == "base 40.0 %"


def test_focus_group_large_expected_counts_have_no_exact_p():
    """With every expected count >= 5 only the χ² test is reported."""
    out = focus_group_representativeness({"a": 30, "b": 20}, {"a": 0.5, "b": 0.5})
    assert "exact_p:customer_type" not in out["item"].to_list()
    assert value(out, "focus_group_representativeness", "chi2:customer_type")["value"] == pytest.approx(2.0)


def test_exact_multinomial_two_categories_is_the_binomial_test():
    """K = 2: the exact multinomial test is scipy's exact two-sided binomial test."""
    assert exact_multinomial_p(np.array([3, 9]), np.array([0.5, 0.5])) == pytest.approx(
        stats.binomtest(3, 12, 0.5).pvalue
    )


def test_composition_counts_participants():
    participants = pl.DataFrame({"customer_type": ["private", "business", "private", None]})
    assert composition(participants, "customer_type") == {"private": 2, "business": 1}


def test_theme_frequency_rolled_up_counts_parent_coded_directly():
    """Excerpts [P], [P1], [P1, P2] with P1, P2 under P: rolled-up P = 3 (the excerpt coded with P
    itself counts, and the one with both sub-themes counts once)."""
    rows = pl.DataFrame({"period": "2025", "segment": "All", "themes": [["P"], ["P1"], ["P1", "P2"]]})
    out = theme_frequency(rows, {"P": None, "P1": "P", "P2": "P"})
    assert value(out, "theme_frequency", "P", "count rolled up")["value"] == 3
    assert value(out, "theme_frequency", "P", "share rolled up")["value"] == pytest.approx(1.0)
    assert value(out, "theme_frequency", "P", "count as coded")["value"] == 1
    assert value(out, "theme_frequency", "P1", "count rolled up")["value"] == 2  # a leaf: as coded


def test_interviewer_with_a_single_rating_is_not_flagged():
    """n_i = 1: no interval (null) and no test, so never flagged (NaN would compare above 0)."""
    groups = {"A": [5, 4, 5, 5], "B": [3, 2, 3, 3], "C": [1]}
    out = interviewer_effect(ratings(groups))
    c = value(out, "interviewer_effect", "deviation:overall_satisfaction:C")
    assert c["n"] == 1 and c["ci_low"] is None and c["ci_high"] is None
    assert not c["reference"].startswith("flagged") and "single rating" in c["reference"]
    for column in ("value", "ci_low", "ci_high"):
        assert not out[column].is_nan().any()


def test_interviewer_deviation_controls_the_false_discovery_rate():
    """Several interviewers: one-sample t test of each one's ratings against the others' mean,
    Benjamini-Hochberg q (statsmodels) in the reference; raw p < 0.05 is not enough to be flagged."""
    from statsmodels.stats.multitest import multipletests

    groups = {
        "A": [5, 5, 5, 4, 5, 5, 4, 5],  # clearly above the others
        "B": [4, 4, 3, 4, 3, 4, 4, 3],
        "C": [3, 4, 3, 3, 4, 3, 3, 4],
        "D": [3, 3, 4, 3, 3, 4, 3, 3],
        "E": [3, 3, 3, 4, 3, 3, 3, 3],  # below: p < 0.05 unadjusted, not after BH over 8 interviewers
        "F": [3, 4, 3, 3, 3, 4, 3, 3],
        "G": [4, 3, 3, 3, 4, 3, 3, 3],
        "H": [3, 3, 4, 3, 3, 3, 4, 3],
    }
    out = interviewer_effect(ratings(groups))
    p = {}
    for iv, ys in groups.items():
        others = [y for other, zs in groups.items() if other != iv for y in zs]
        p[iv] = stats.ttest_1samp(ys, np.mean(others)).pvalue
    _, q, _, _ = multipletests(list(p.values()), method="fdr_bh")
    q = dict(zip(groups, q, strict=True))
    assert p["E"] < 0.05 < q["E"], (p["E"], q["E"])  # the case the adjustment is for
    assert q["A"] < 0.05
    for iv in groups:
        got = value(out, "interviewer_effect", f"deviation:overall_satisfaction:{iv}")
        assert f"q {round(float(q[iv]), 4)}" in got["reference"]
        flagged = got["reference"].startswith("flagged")
        assert flagged == (q[iv] < 0.05), (iv, got["reference"])
    e = value(out, "interviewer_effect", "deviation:overall_satisfaction:E")
    assert e["ci_high"] < 0  # the unadjusted interval excludes the others' mean, yet E is not flagged
    assert value(out, "interviewer_effect", "deviation:overall_satisfaction:A")["reference"].startswith("flagged")


def test_focus_group_with_no_participants_has_no_p():
    """Zero participants: the tests have a null value and say "no participants"; no exact p of 1."""
    out = focus_group_representativeness({}, {"a": 0.5, "b": 0.5}, "2025", "All")
    tests = out.filter(~pl.col("item").str.starts_with("composition:"))
    assert sorted(tests["item"]) == ["chi2:customer_type", "chi2_p:customer_type"]
    assert tests["value"].null_count() == tests.height
    assert set(tests["reference"]) == {"no participants"}
    assert (tests["n"] == 0).all()
    composition_rows = out.filter(pl.col("item").str.starts_with("composition:"))
    assert composition_rows.height == 2 and composition_rows["value"].null_count() == 2
    outside = focus_group_representativeness({"z": 3}, {"a": 0.5, "b": 0.5})
    assert "exact_p:customer_type" not in outside["item"].to_list()
    assert value(outside, "focus_group_representativeness", "chi2:customer_type")["value"] is None

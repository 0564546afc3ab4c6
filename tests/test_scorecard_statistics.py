"""The statistics every scorecard figure shares (transforms/scorecard.py): weighted figures with their Kish
n_eff, Benjamini-Hochberg q-values across segments, and groups too small to show - checked against
independent numpy / scipy / statsmodels computations on small hand-made data."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from transforms import stats
from transforms.report_context import ScorecardMeta, build_scorecard_context
from transforms.scorecard import ScorecardParameters, answer_sums, hidden_cells, scorecard_metrics

CODEBOOK = pl.DataFrame(
    {
        "question_id": ["sat", "nps"],
        "kind": ["overall", "nps"],
        "scale_min": [1, 0],
        "scale_max": [5, 10],
        "reverse": [False, False],
        "top_box_from": [4, 9],
    }
)
PARAMS = ScorecardParameters("sat", "nps", [], min_n=30, target_csat=0.95, target_nps=None, benchmarks=[])


def _wide(rng: np.random.Generator, period: str, segment: str, mode: str, n: int, shift: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "response_id": [f"{period}-{segment}-{mode}-{i}" for i in range(n)],
            "period": period,
            "segment": segment,
            "mode": mode,
            "sat": np.clip(rng.integers(1, 6, n) + shift, 1, 5).astype(np.int16),
            "nps": np.clip(rng.integers(0, 11, n) + 2 * shift, 0, 10).astype(np.int16),
        }
    )


def _metrics(wide: pl.DataFrame, params: ScorecardParameters = PARAMS) -> pl.DataFrame:
    return scorecard_metrics(answer_sums(wide.lazy(), CODEBOOK), wide.lazy(), params)


def _row(metrics: pl.DataFrame, metric: str, period: str, segment: str, mode: str = "all") -> dict:
    rows = metrics.filter(
        (pl.col("metric") == metric)
        & (pl.col("period") == period)
        & (pl.col("segment") == segment)
        & (pl.col("mode") == mode)
    )
    assert rows.height == 1, rows
    return rows.row(0, named=True)


@pytest.fixture(scope="module")
def weighted() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(11)
    wide = pl.concat(
        [
            _wide(rng, "2024", "A", "online", 120),
            _wide(rng, "2025", "A", "online", 150, shift=1),
            _wide(rng, "2025", "A", "phone", 60),
            _wide(rng, "2025", "B", "online", 90),
        ]
    ).with_columns(weight=pl.Series(rng.uniform(0.3, 3.0, 420)))
    return wide, _metrics(wide)


def test_weighted_figures_use_the_weights_and_their_kish_n_eff(weighted):
    wide, metrics = weighted
    now = wide.filter(pl.col("period") == "2025")
    w, sat, nps = now["weight"].to_numpy(), now["sat"].to_numpy(), now["nps"].to_numpy()
    n_eff = w.sum() ** 2 / (w**2).sum()

    csat = _row(metrics, "csat_top2box", "2025", "All")
    p = np.sum(w * (sat >= 4)) / w.sum()
    low, high = stats.wilson_interval(p * n_eff, n_eff)
    assert (csat["value"], csat["n"], csat["n_eff"]) == (pytest.approx(p), now.height, pytest.approx(n_eff))
    assert (csat["ci_low"], csat["ci_high"]) == (pytest.approx(low), pytest.approx(high))

    mean = _row(metrics, "mean_score", "2025", "All")
    m = np.sum(w * sat) / w.sum()
    s = np.sqrt(np.sum(w * (sat - m) ** 2) / w.sum() * n_eff / (n_eff - 1))
    half = sps.t.ppf(0.975, n_eff - 1) * s / np.sqrt(n_eff)
    assert (mean["value"], mean["ci_low"], mean["ci_high"]) == pytest.approx((m, m - half, m + half))

    score = _row(metrics, "nps", "2025", "All")
    promoters, detractors = np.sum(w * (nps >= 9)) / w.sum(), np.sum(w * (nps <= 6)) / w.sum()
    nps_low, nps_high = stats.nps_interval(promoters * n_eff, detractors * n_eff, n_eff)
    assert score["value"] == pytest.approx(100 * (promoters - detractors))
    assert (score["ci_low"], score["ci_high"]) == (pytest.approx(nps_low), pytest.approx(nps_high))

    # the oral share is the share of the weights; the answer count stays a count
    phone = now.filter(pl.col("mode") == "phone")["weight"].sum()
    share = _row(metrics, "mode_share_oral", "2025", "All")
    share_low, share_high = stats.wilson_interval(phone / w.sum() * n_eff, n_eff)
    assert (share["value"], share["n_eff"]) == (pytest.approx(phone / w.sum()), pytest.approx(n_eff))
    assert (share["ci_low"], share["ci_high"]) == (pytest.approx(share_low), pytest.approx(share_high))
    assert _row(metrics, "responses", "2025", "All")["n_eff"] is None


def test_a_weighted_change_rests_on_both_periods_n_eff(weighted):
    wide, metrics = weighted
    a = wide.filter(pl.col("segment") == "A")

    def side(period: str) -> tuple[float, float]:
        one = a.filter(pl.col("period") == period)
        w = one["weight"].to_numpy()
        return np.sum(w * (one["sat"].to_numpy() >= 4)) / w.sum(), w.sum() ** 2 / (w**2).sum()

    (p1, n1), (p2, n2) = side("2024"), side("2025")
    change = _row(metrics, "csat_top2box_change", "2025", "A")
    expected_p = stats.two_proportion_test(p2 * n2, n2, p1 * n1, n1)
    assert change["value"] == pytest.approx(p2 - p1)
    assert change["n_eff"] == pytest.approx(n1 + n2) and change["n"] == a.height
    assert change["p_value"] == pytest.approx(float(expected_p))


def test_equal_weights_give_the_unweighted_figures_with_n_eff_equal_to_n():
    rng = np.random.default_rng(3)
    wide = pl.concat([_wide(rng, "2024", "A", "online", 70), _wide(rng, "2025", "A", "phone", 80, shift=1)])
    plain = _metrics(wide)
    ones = _metrics(wide.with_columns(weight=pl.lit(1.0)))
    columns = ["metric", "period", "segment", "mode", "value", "n", "ci_low", "ci_high", "p_value", "q_value"]
    left, right = plain.select(columns), ones.select(columns)
    assert left.equals(right) or np.allclose(
        left.select(pl.col(pl.Float64)).to_numpy().astype(float),
        right.select(pl.col(pl.Float64)).to_numpy().astype(float),
        equal_nan=True,
    )
    assert plain["n_eff"].null_count() == plain.height  # unweighted: no n_eff at all
    figures = ones.filter(pl.col("metric") != "responses")
    assert figures["n_eff"].to_numpy() == pytest.approx(figures["n"].to_numpy().astype(float))


def test_changes_are_adjusted_per_metric_and_period_like_statsmodels_and_small_tests_skipped():
    rng = np.random.default_rng(5)
    sizes = {"A": 200, "B": 150, "C": 90, "D": 60, "E": 40, "F": 12}
    frames = []
    for i, (segment, n) in enumerate(sizes.items()):
        frames += [_wide(rng, "2024", segment, "online", n), _wide(rng, "2025", segment, "online", n, shift=i % 2)]
    metrics = _metrics(pl.concat(frames))
    for metric in ("csat_top2box_change", "nps_change", "mean_score_change"):
        family = metrics.filter((pl.col("metric") == metric) & (pl.col("mode") == "all")).sort("segment")
        tested = family.filter(pl.col("segment") != "F")  # F: 12 answers a year, below min_n 30
        _, expected, _, _ = multipletests(tested["p_value"].to_numpy(), method="fdr_bh")
        assert tested["q_value"].to_numpy() == pytest.approx(expected)
        assert family.filter(pl.col("segment") == "F")["q_value"].to_list() == [None]
        assert family.filter(pl.col("segment") == "F")["p_value"].null_count() == 0  # p kept, just not tested


# --- groups not shown ---------------------------------------------------------------------------------


def _counts(cells: dict[tuple[str, str], int], period: str = "2025") -> pl.DataFrame:
    return pl.DataFrame(
        [(period, segment, mode, n) for (segment, mode), n in cells.items()],
        schema={"period": pl.String, "segment": pl.String, "mode": pl.String, "n": pl.Int64},
        orient="row",
    )


def _hidden(cells: dict[tuple[str, str], int], groups: dict | None = None, size: int = 5) -> dict:
    frame = hidden_cells(_counts(cells), groups or {}, size)
    return {(r["segment"], r["mode"]): r["reason"] for r in frame.iter_rows(named=True)}


def test_a_small_unit_and_its_complement_are_hidden_and_nothing_else():
    cells = {("All", "all"): 83, ("A", "all"): 3, ("B", "all"): 10, ("C", "all"): 20, ("D", "all"): 50}
    assert _hidden(cells) == {("A", "all"): "below minimum", ("B", "all"): "complementary"}
    assert _hidden(cells, size=1) == {}
    assert _hidden({**cells, ("A", "all"): 5}) == {}


def test_a_group_total_shown_elsewhere_does_not_reveal_a_hidden_unit():
    # Estonia (Tallinn + Narva) is printed in its own report. Hiding Riga and Tallinn in the company's
    # table would let All - Cape - Shop - Estonia give Riga: the hierarchy split (Estonia, Riga, Cape, Shop)
    # makes a second unit outside Estonia go as well.
    cells = {
        ("All", "all"): 133,
        ("Estonia", "all"): 20,
        ("Tallinn", "all"): 10,
        ("Narva", "all"): 10,
        ("Riga", "all"): 3,
        ("Cape", "all"): 50,
        ("Shop", "all"): 60,
    }
    hidden = _hidden(cells, {"Estonia": ["Tallinn", "Narva"]})
    assert hidden[("Riga", "all")] == "below minimum"
    assert set(hidden) == {("Riga", "all"), ("Cape", "all")}  # total - shown parts is never Riga alone
    # the group's own report keeps its figures: a complement is a unit before a group total
    assert ("Estonia", "all") not in hidden


def test_a_mode_split_hides_the_complement_within_the_same_segment():
    cells = {
        ("All", "all"): 60,
        ("All", "online"): 40,
        ("All", "paper"): 12,
        ("All", "phone"): 6,
        ("All", "in_person"): 2,
    }
    cells |= {("All", "oral"): 8, ("All", "written"): 52}
    assert _hidden(cells) == {
        ("All", "in_person"): "below minimum",
        ("All", "phone"): "complementary",  # oral = phone + in person
    }


def test_hidden_cells_mark_every_metric_row_that_would_show_them():
    rng = np.random.default_rng(9)
    wide = pl.concat(
        [
            _wide(rng, "2024", "A", "online", 40),
            _wide(rng, "2025", "A", "online", 40),
            _wide(rng, "2024", "B", "online", 3),  # B too small last year only
            _wide(rng, "2025", "B", "online", 35),
            _wide(rng, "2025", "B", "phone", 2),  # and its phone answers this year
            _wide(rng, "2024", "C", "online", 50),
            _wide(rng, "2025", "C", "online", 50),
        ]
    )
    params = ScorecardParameters("sat", "nps", [], 30, 0.95, None, [], min_group_size=5)
    metrics = _metrics(wide, params)
    assert _row(metrics, "csat_top2box", "2024", "B")["suppressed"] == "below minimum"
    assert _row(metrics, "csat_top2box", "2025", "B")["suppressed"] is None
    assert _row(metrics, "csat_top2box_change", "2025", "B")["suppressed"] == "below minimum"  # reveals 2024
    assert _row(metrics, "csat_top2box", "2024", "A")["suppressed"] == "complementary"  # All 2024 - C = A + B
    assert _row(metrics, "csat_top2box", "2025", "B", "phone")["suppressed"] == "below minimum"
    assert _row(metrics, "csat_top2box_mode_gap", "2025", "B", "oral-written")["suppressed"] is not None
    assert _row(metrics, "mode_share_oral", "2025", "B")["suppressed"] is not None
    assert _row(metrics, "csat_top2box", "2025", "All")["suppressed"] is None


# --- what the report makes of it -----------------------------------------------------------------------


def _meta(segment: str = "All", **overrides) -> ScorecardMeta:
    values = {
        "organisation": "Org",
        "period": "2025",
        "previous_period": "2024",
        "segment": segment,
        "generated_at": "2026-01-01 00:00 UTC",
        "data_as_of": "2026-01-01 00:00:00 UTC",
        "locale": "en_GB",
        "min_n": 30,
        "target_csat": 0.95,
        "target_nps": None,
        "overall_question": "Overall?",
        "nps_question": "Recommend?",
        "attributes": [],
        "benchmarks": [],
        "comment_max_chars": 400,
        "min_group_size": 5,
        "min_comment_group_size": 10,
    }
    return ScorecardMeta(**(values | overrides))


EMPTY_FILES = pl.DataFrame(
    schema={
        "source": pl.String,
        "source_file": pl.String,
        "status": pl.String,
        "rows_read": pl.Int64,
        "rows_loaded": pl.Int64,
        "rows_quarantined": pl.Int64,
        "duplicates_superseded": pl.Int64,
    }
)
EMPTY_REASONS = pl.DataFrame(schema={"source_file": pl.String, "reason": pl.String, "rows": pl.Int64})
EMPTY_COMMENTS = pl.DataFrame(
    schema={
        "submitted_at": pl.Datetime("us", "UTC"),
        "segment": pl.String,
        "mode": pl.String,
        "overall_value": pl.Float64,
        "comment": pl.String,
    }
)


def _context(metrics: pl.DataFrame, meta: ScorecardMeta, comments: pl.DataFrame = EMPTY_COMMENTS) -> dict:
    return build_scorecard_context(metrics, EMPTY_FILES, EMPTY_REASONS, comments, meta)


def test_the_verdict_on_a_change_is_its_q_value_not_its_p_value():
    rng = np.random.default_rng(2)
    frames = []
    for i, segment in enumerate("ABCDEFGH"):
        frames += [_wide(rng, "2024", segment, "online", 120), _wide(rng, "2025", segment, "online", 120, shift=i == 0)]
    metrics = _metrics(pl.concat(frames))
    changes = metrics.filter((pl.col("metric") == "csat_top2box_change") & (pl.col("mode") == "all"))
    rows = {r["segment"]: r for r in _context(metrics, _meta())["segments"]["rows"]}
    for change in changes.iter_rows(named=True):
        name = "All segments" if change["segment"] == "All" else change["segment"]
        shown = rows[name]["change"]
        assert shown["significant"] is (change["q_value"] < 0.05)
        assert shown["q_text"].startswith("q")
    # at least one segment has p < 0.05 yet q >= 0.05: called not significant
    assert changes.filter((pl.col("p_value") < 0.05) & (pl.col("q_value") >= 0.05)).height >= 1


def test_a_small_unit_is_left_out_of_the_company_tables_with_a_note_that_gives_no_n():
    rng = np.random.default_rng(2)
    wide = pl.concat(
        [_wide(rng, "2025", s, "online", n) for s, n in (("A", 3), ("B", 40), ("C", 60), ("D", 80))]
        + [_wide(rng, "2024", s, "online", 50) for s in "ABCD"]
    )
    params = ScorecardParameters("sat", "nps", [], 30, 0.95, None, [], min_group_size=5)
    context = _context(_metrics(wide, params), _meta())
    shown = [r["segment"] for r in context["segments"]["rows"]]
    assert shown == ["C", "D", "All segments"]  # A below 5, B its complement
    note = context["segments"]["hidden_text"]
    assert note.startswith("Not shown: A, B - to protect respondents' anonymity")
    assert "3" not in note and "40" not in note


def test_a_unit_below_the_minimum_gets_no_figures_and_a_reason():
    rng = np.random.default_rng(4)
    wide = pl.concat([_wide(rng, "2025", "A", "online", 4), _wide(rng, "2025", "B", "online", 80)])
    params = ScorecardParameters("sat", "nps", [], 3, 0.95, None, [], min_group_size=5)
    metrics = _metrics(wide, params).filter(pl.col("segment") == "A")
    context = _context(metrics, _meta("A", min_n=3))
    assert context["meta"]["too_small"]
    assert "fewer than 5 respondents" in context["meta"]["too_small_text"]
    assert not context["headline"]["csat"]["available"] and context["headline"]["responses"]["n"] == 4
    assert context["segments"]["rows"] == [] and context["modes"]["rows"] == []


def test_comments_need_the_comment_minimum_of_respondents():
    rng = np.random.default_rng(6)
    wide = pl.concat([_wide(rng, "2025", "A", "online", 8), _wide(rng, "2024", "A", "online", 8)])
    params = ScorecardParameters("sat", "nps", [], 5, 0.95, None, [], min_group_size=5)
    comments = pl.DataFrame(
        {
            "submitted_at": [datetime(2025, 3, 1, tzinfo=UTC)],
            "segment": ["A"],
            "mode": ["online"],
            "overall_value": [2.0],
            "comment": ["Slow."],
        }
    )
    context = _context(_metrics(wide, params), _meta("A", min_n=5), comments)
    assert context["comments"]["items"] == []
    assert context["comments"]["withheld_text"].startswith("No comments are quoted: fewer than 10 customers")
    allowed = _context(_metrics(wide, params), _meta("A", min_n=5, min_comment_group_size=8), comments)
    assert [c["text"] for c in allowed["comments"]["items"]] == ["Slow."]

"""Scorecard metrics on small hand-made data equal independently computed figures."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats as sps

from transforms.normalise import answers_long
from transforms.scorecard import ScorecardParameters, answer_sums, fine_aggregates, scorecard_metrics

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
PARAMS = ScorecardParameters(
    "sat", "nps", [], min_n=30, target_csat=0.95, target_nps=None, benchmarks=[("Industry", "csat_top2box", 0.5, None)]
)


def _responses(period: str, mode: str, sat: list[int], nps: list[int], segment: str = "A") -> pl.DataFrame:
    n = len(sat)
    return pl.DataFrame(
        {
            "response_id": [f"{period}-{mode}-{segment}-{i}" for i in range(n)],
            "submitted_at": [datetime(int(period), 6, 1, tzinfo=UTC)] * n,
            "period": [period] * n,
            "segment": [segment] * n,
            "mode": [mode] * n,
            "sat": [float(s) for s in sat],
            "nps": [float(x) for x in nps],
        }
    )


@pytest.fixture(scope="module")
def metrics() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    frames = [
        _responses("2024", "online", rng.integers(1, 6, 80).tolist(), rng.integers(0, 11, 80).tolist()),
        _responses("2025", "online", rng.integers(2, 6, 90).tolist(), rng.integers(3, 11, 90).tolist()),
        _responses("2025", "phone", rng.integers(3, 6, 40).tolist(), rng.integers(5, 11, 40).tolist()),
        _responses("2025", "paper", [5, 4, 2], [10, 9, 1], segment="B"),
    ]
    wide = pl.concat(frames)
    return scorecard_metrics(fine_aggregates(answers_long(wide.lazy(), CODEBOOK)), wide.lazy(), PARAMS).with_columns(
        pl.col("item").fill_null(""), pl.col("comparator").fill_null("")
    )


def _get(
    metrics: pl.DataFrame,
    metric: str,
    period: str = "2025",
    segment: str = "All",
    mode: str = "all",
    comparator: str = "",
) -> dict:
    rows = metrics.filter(
        (pl.col("metric") == metric)
        & (pl.col("period") == period)
        & (pl.col("segment") == segment)
        & (pl.col("mode") == mode)
        & (pl.col("comparator") == comparator)
    )
    assert rows.height == 1, (metric, period, segment, mode, rows)
    return rows.row(0, named=True)


def _raw(period: str, mode: str | None = None, segment: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    groups = {
        ("2024", "online", "A"): (rng.integers(1, 6, 80), rng.integers(0, 11, 80)),
        ("2025", "online", "A"): (rng.integers(2, 6, 90), rng.integers(3, 11, 90)),
        ("2025", "phone", "A"): (rng.integers(3, 6, 40), rng.integers(5, 11, 40)),
        ("2025", "paper", "B"): (np.array([5, 4, 2]), np.array([10, 9, 1])),
    }
    keep = [v for (p, m, s), v in groups.items() if p == period and mode in (None, m) and segment in (None, s)]
    return np.concatenate([k[0] for k in keep]), np.concatenate([k[1] for k in keep])


def test_csat_and_interval(metrics):
    """CSAT is the top-2-box share with scipy's Wilson interval, over every segment and mode."""
    sat, _ = _raw("2025")
    row = _get(metrics, "csat_top2box")
    x, n = int((sat >= 4).sum()), sat.size
    ci = sps.binomtest(x, n).proportion_ci(method="wilson")
    assert (row["value"], row["n"]) == (pytest.approx(x / n), n)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert row["below_target"] is True and row["target"] == 0.95


def test_mean_score_interval(metrics):
    """The mean score interval equals scipy's t interval on the raw answers."""
    sat, _ = _raw("2025")
    row = _get(metrics, "mean_score")
    ci = sps.t.interval(0.95, sat.size - 1, loc=sat.mean(), scale=sps.sem(sat))
    assert row["value"] == pytest.approx(sat.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(ci)


def test_nps_value(metrics):
    """NPS = % promoters (9-10) - % detractors (0-6) in points."""
    _, nps = _raw("2025", segment="A")
    row = _get(metrics, "nps", segment="A")
    assert row["value"] == pytest.approx(100 * ((nps >= 9).mean() - (nps <= 6).mean()))


def test_small_segment_is_marked_not_hidden(metrics):
    """A segment with 3 answers is reported with its value and marked as a small sample."""
    row = _get(metrics, "csat_top2box", segment="B")
    assert row["n"] == 3 and row["value"] == pytest.approx(2 / 3) and row["small_sample"] is True


def test_year_over_year_change_matches_two_proportion_test(metrics):
    """The CSAT change vs the previous year uses the pooled two-proportion z-test."""
    now, _ = _raw("2025", segment="A")
    before, _ = _raw("2024", segment="A")
    row = _get(metrics, "csat_top2box_change", segment="A", comparator="2024")
    x1, n1, x2, n2 = (now >= 4).sum(), now.size, (before >= 4).sum(), before.size
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert row["value"] == pytest.approx(x1 / n1 - x2 / n2)
    assert row["p_value"] == pytest.approx(2 * sps.norm.sf(abs(z)))
    assert row["reference"] == pytest.approx(x2 / n2)


def test_modes_reported_separately_and_gap(metrics):
    """Each mode has its own figure and the oral-written gap compares phone/in person with online/paper."""
    phone, _ = _raw("2025", mode="phone")
    written = np.concatenate([_raw("2025", mode="online")[0], _raw("2025", mode="paper")[0]])
    assert _get(metrics, "csat_top2box", mode="phone")["n"] == phone.size
    gap = _get(metrics, "csat_top2box_mode_gap", mode="oral-written", comparator="written")
    assert gap["value"] == pytest.approx((phone >= 4).mean() - (written >= 4).mean())
    share = _get(metrics, "mode_share_oral")
    assert share["value"] == pytest.approx(phone.size / (phone.size + written.size))


def test_benchmark_gap(metrics):
    """The benchmark gap is our value minus the benchmark, with our interval shifted by the same amount."""
    ours = _get(metrics, "csat_top2box")
    gap = _get(metrics, "csat_top2box_vs_benchmark", comparator="Industry")
    assert gap["value"] == pytest.approx(ours["value"] - 0.5)
    assert gap["ci_low"] == pytest.approx(ours["ci_low"] - 0.5)


def test_sums_from_wide_responses_equal_the_long_definition():
    """answer_sums (the pipeline's one pass over wide responses) equals fine_aggregates over long answers,
    with a reverse-coded item, blank answers and an NPS item."""
    codebook = pl.DataFrame(
        {
            "question_id": ["sat", "nps", "waited"],
            "kind": ["overall", "nps", "attribute"],
            "scale_min": [1, 0, 1],
            "scale_max": [5, 10, 5],
            "reverse": [False, False, True],
            "top_box_from": [4, 9, 4],
        }
    )
    rng = np.random.default_rng(11)
    wide = pl.concat(
        [
            _responses("2024", "online", rng.integers(1, 6, 50).tolist(), rng.integers(0, 11, 50).tolist()),
            _responses("2025", "phone", rng.integers(1, 6, 30).tolist(), rng.integers(0, 11, 30).tolist(), "B"),
        ]
    ).with_columns(
        waited=pl.Series(rng.integers(1, 6, 80), dtype=pl.Float64),
        sat=pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise(pl.col("sat")),  # blanks
    )
    order = ["period", "segment", "mode", "question_id"]
    long = fine_aggregates(answers_long(wide.lazy(), codebook)).collect().sort(order)
    direct = answer_sums(wide.lazy(), codebook).collect().sort(order)
    assert_frame_equal(direct.select(long.columns), long, check_dtypes=False)

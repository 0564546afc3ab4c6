"""Control charts (transforms/improvement/control_charts.py) against the methodology's oracles, hand-computed
limits and constructed series for each Western Electric rule (fired exactly where expected, not by a near miss)."""

from __future__ import annotations

import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from transforms.improvement.control_charts import (
    RULES,
    control_chart_metrics,
    p_chart,
    trend_rows,
    western_electric_signals,
    xmr_chart,
)
from transforms.improvement.rows import COLUMNS

ORACLE_COUNTS = [40, 44, 22, 34, 24, 32, 28, 32, 34, 30]


def months(k: int) -> list[str]:
    """k sortable month labels from 2024-01 on."""
    return [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(k)]


def counts(d, n, *, segment="Tallinn", item="q1") -> pl.DataFrame:
    return pl.DataFrame({"segment": segment, "item": item, "period": months(len(d)), "d": d, "n": n})


def chart(d, n, **keys) -> pl.DataFrame:
    return p_chart(counts(d, n, **keys)).collect()


def z_points(zs, *, segment="Tallinn", item="q1") -> pl.DataFrame:
    """Chart points with given distances from the centre in sigmas (p = 0.5 + 0.05·z at n = 100)."""
    return pl.DataFrame(
        {
            "segment": segment,
            "item": item,
            "period": months(len(zs)),
            "z": [float(z) for z in zs],
            "p": [0.5 + 0.05 * z for z in zs],
            "n": 100,
        }
    )


def fired(zs, rule: int) -> list[tuple[int, str]]:
    """(1-based position, side) of each point that fires `rule`."""
    signals = western_electric_signals(z_points(zs)).filter(pl.col("reference").str.starts_with(RULES[rule]))
    position = {period: i + 1 for i, period in enumerate(months(len(zs)))}
    return [
        (position[row["period"]], row["reference"].split(", ")[1].removesuffix(" centre"))
        for row in signals.iter_rows(named=True)
    ]


def test_p_chart_oracle():
    points = chart(ORACLE_COUNTS, [200] * 10)
    assert points["centre"].round(4).unique().to_list() == [0.16]
    assert points["ucl"].round(4).unique().to_list() == [0.2378]
    assert points["lcl"].round(4).unique().to_list() == [0.0822]
    assert points["p"].to_list() == pytest.approx([c / 200 for c in ORACLE_COUNTS])
    assert points["upper_2s"][0] == pytest.approx(0.16 + 2 * (0.16 * 0.84 / 200) ** 0.5)
    assert points["lower_1s"][0] == pytest.approx(0.16 - (0.16 * 0.84 / 200) ** 0.5)


def test_oracle_series_is_in_control():
    assert western_electric_signals(chart(ORACLE_COUNTS, [200] * 10)).is_empty()


def test_limits_widen_where_n_is_small_and_floor_at_zero():
    # p̄ = 30/125 = 0.24; σ(100) = sqrt(0.24·0.76/100) = 0.0427083, σ(25) = 0.0854166.
    points = chart([20, 10], [100, 25])
    assert points["centre"].to_list() == pytest.approx([0.24, 0.24])
    assert points["sigma"].to_list() == pytest.approx([0.0427083, 0.0854166], abs=1e-7)
    assert points["ucl"].to_list() == pytest.approx([0.3681249, 0.4962499], abs=1e-7)
    assert points["upper_2s"].to_list() == pytest.approx([0.3254166, 0.4108333], abs=1e-7)
    # 0.24 - 3·0.0854166 = -0.01625: floored at 0; the n = 100 point keeps 0.1118751.
    assert points["lcl"].to_list() == pytest.approx([0.1118751, 0.0], abs=1e-7)


def test_limits_cap_at_one():
    # p̄ = 104/110 = 0.945455; UCL = 1.0136 (n = 100) and 1.1609 (n = 10): both capped.
    points = chart([95, 9], [100, 10])
    assert points["ucl"].to_list() == [1.0, 1.0]
    assert points["lcl"].to_list() == pytest.approx([0.8773273, 0.7300173], abs=1e-7)


def test_points_are_in_time_order_and_empty_periods_dropped():
    frame = pl.DataFrame(
        {"period": ["2025-03", "2025-01", "2025-02", "2025-01"], "d": [3, 1, 0, 1], "n": [10, 5, 0, 5]}
    )
    points = p_chart(frame).collect()
    assert points.select("period", "d", "n").rows() == [("2025-01", 2, 10), ("2025-03", 3, 10)]
    assert points["centre"].to_list() == pytest.approx([0.25, 0.25])


def test_all_zero_series_sits_on_the_centre_without_signals():
    points = chart([0] * 10, [50] * 10)
    assert points["z"].to_list() == [0.0] * 10
    assert points["ucl"].to_list() == [0.0] * 10
    assert western_electric_signals(points).is_empty()


def test_same_share_signals_at_large_n_but_not_at_small_n():
    # p̄ = 1014/2025 = 0.50074; p = 0.56 is 3.75σ away at n = 1000 but only 0.59σ at n = 25.
    points = chart([560, 440, 14], [1000, 1000, 25])
    signals = western_electric_signals(points)
    assert signals.select("period", "reference", "value", "n").rows() == [
        ("2024-01", "rule 1: beyond 3 sigma, above centre", 0.56, 1000),
        ("2024-02", "rule 1: beyond 3 sigma, below centre", 0.44, 1000),
    ]
    assert points["z"][2] == pytest.approx((0.56 - 1014 / 2025) / (1014 / 2025 * 1011 / 2025 / 25) ** 0.5)


def test_rule_1_beyond_three_sigma_only():
    assert fired([0, 3.1, 0, -3.2, 2.9, -2.99, 3.0], 1) == [(2, "above"), (4, "below")]


def test_rule_2_two_of_three_beyond_two_sigma():
    assert fired([0, 2.5, 0.5, 2.1, 0], 2) == [(4, "above")]
    assert fired([0, -2.5, -2.2, 0], 2) == [(3, "below")]


def test_rule_2_near_misses():
    assert fired([0, 2.5, 0.5, 0.5, 2.1], 2) == []  # 2 beyond, but 4 points apart
    assert fired([0, 2.5, -2.5, 0], 2) == []  # opposite sides
    assert fired([0, 2.5, 1.9, 1.99, 0], 2) == []  # only one beyond 2σ


def test_rule_3_four_of_five_beyond_one_sigma():
    assert fired([0, 1.5, 1.2, 0.2, 1.8, 1.1, 0], 3) == [(6, "above")]
    assert fired([-1.5, -1.2, -1.1, -1.9, 0], 3) == [(4, "below")]


def test_rule_3_near_misses():
    assert fired([0, 1.5, 1.2, 0.2, 0.3, 1.8, 1.1], 3) == []  # 3 of 5 at most
    assert fired([1.5, -1.5, 1.5, -1.5, 1.5, -1.5], 3) == []  # opposite sides


def test_rule_4_eight_in_a_row_not_seven():
    assert fired([0.5] * 7 + [-0.5], 4) == []
    assert fired([0.5] * 8, 4) == [(8, "above")]
    assert fired([-0.2] * 9, 4) == [(8, "below"), (9, "below")]  # a continuing run keeps signalling
    assert fired([0.5] * 4 + [0] + [0.5] * 4, 4) == []  # a point on the centre line breaks the run


def test_signal_rows_are_metric_rows():
    signals = western_electric_signals(z_points([0, 3.5]), min_n=150)
    assert dict(signals.schema) == COLUMNS
    row = signals.row(0, named=True)
    assert row["metric"] == "spc_signal"
    assert (row["period"], row["segment"], row["item"]) == ("2024-02", "Tallinn", "q1")
    assert row["value"] == pytest.approx(0.675)
    assert (row["n"], row["small_sample"]) == (100, True)


def test_series_are_kept_apart():
    # Each series alone has 4 points above centre: interleaved they would be 8 in a row.
    frame = pl.concat(
        [
            z_points([0.5] * 4, segment="Tallinn", item="q1"),
            z_points([0.5] * 4, segment="Tallinn", item="q2"),
        ]
    )
    assert western_electric_signals(frame).is_empty()
    # p̄ per series: 30/200 for Tallinn q1, 100/200 for Tallinn q2, 7/20 for Narva with no item.
    mixed = pl.concat([counts([10, 20], [100, 100]), counts([50, 50], [100, 100], item="q2")])
    mixed = pl.concat([mixed, counts([3, 4], [10, 10], segment="Narva", item=None)], how="vertical_relaxed")
    points = p_chart(mixed.lazy()).collect()
    assert points.select("segment", "item", "centre").unique(maintain_order=True).rows() == [
        ("Narva", None, pytest.approx(0.35)),
        ("Tallinn", "q1", pytest.approx(0.15)),
        ("Tallinn", "q2", pytest.approx(0.5)),
    ]


def test_rules_read_each_series_in_its_own_time_order():
    # Rows shuffled and series interleaved: B's run of 8 below fires at its 8th month, A's 2-of-3 at its 3rd.
    frame = pl.concat([z_points([-0.4] * 8, segment="B"), z_points([2.2, 0, 2.4], segment="A")]).sample(
        fraction=1.0, shuffle=True, seed=7
    )
    signals = western_electric_signals(frame)
    assert signals.select("segment", "period", "reference").rows() == [
        ("A", "2024-03", "rule 2: 2 of 3 beyond 2 sigma, above centre"),
        ("B", "2024-08", "rule 4: 8 in a row on one side, below centre"),
    ]


def test_xmr_oracle():
    points = xmr_chart(pl.DataFrame({"period": months(4), "value": [10, 50, 40, 30]})).collect()
    assert points["mr"].to_list() == [None, 40.0, 10.0, 10.0]
    assert points["centre"][0] == pytest.approx(32.5)
    assert points["mr_bar"][0] == pytest.approx(20.0)
    assert points["ucl"][0] == pytest.approx(85.7)
    assert points["lcl"][0] == pytest.approx(-20.7)
    assert points["mr_ucl"][0] == pytest.approx(65.36)
    assert not points["mr_beyond"].any()


def test_xmr_series_kept_apart_and_rules_apply():
    frame = pl.DataFrame(
        {
            "segment": ["A"] * 4 + ["B"] * 4,
            "period": months(4) * 2,
            "value": [10, 50, 40, 30, 1, 1, 1, 1],
        }
    )
    points = xmr_chart(frame).collect()
    assert points.filter(segment="B")["ucl"].to_list() == [1.0] * 4  # MR̄ 0: limits on the centre
    assert points.filter(segment="A")["ucl"][0] == pytest.approx(85.7)
    assert points.filter(segment="A")["z"][3] == pytest.approx(-2.5 / (2.66 * 20 / 3))
    assert western_electric_signals(points, value="value").is_empty()


def test_trend_and_p_chart_rows():
    points = chart([40, 9], [200, 20])
    rows = trend_rows(points, min_n=30)
    assert dict(rows.schema) == COLUMNS
    trend = rows.filter(metric="trend")
    low, high = proportion_confint([40, 9], [200, 20], method="wilson")
    assert trend["value"].to_list() == pytest.approx([0.2, 0.45])
    assert trend["ci_low"].to_list() == pytest.approx(low)
    assert trend["ci_high"].to_list() == pytest.approx(high)
    assert trend["n"].to_list() == [200, 20]
    assert trend["small_sample"].to_list() == [False, True]
    limits = rows.filter(metric="p_chart")
    assert limits["value"].to_list() == pytest.approx([49 / 220] * 2)
    assert limits["ci_low"].to_list() == pytest.approx(points["lcl"].to_list())
    assert limits["ci_high"].to_list() == pytest.approx(points["ucl"].to_list())
    assert limits["ci_high"][1] > limits["ci_high"][0]  # the n = 20 point has the wider limits
    assert limits["reference"][0].startswith("p-chart")
    # the limits sit in ci_low/ci_high: the reference says they are not a confidence interval
    assert set(limits["reference"]) == {
        "p-chart: value = centre p̄ = Σd/Σn; ci_low/ci_high = control limits p̄ ± 3·sqrt(p̄(1-p̄)/n) in [0, 1]"
        " (Shewhart 1931), not a confidence interval"
    }
    assert trend["reference"].null_count() == 2


def test_control_chart_metrics_has_every_row_kind():
    rows = control_chart_metrics(counts([560, 440, 14], [1000, 1000, 25]))
    assert rows.group_by("metric").len().sort("metric").rows() == [("p_chart", 3), ("spc_signal", 2), ("trend", 3)]


def test_rows_are_sorted_by_metric_period_segment_item():
    two = pl.concat([counts([10, 20], [100, 100], segment="B"), counts([30, 40], [100, 100], segment="A")])
    rows = control_chart_metrics(two)
    assert rows.filter(metric="trend").select("period", "segment").rows() == [
        ("2024-01", "A"),
        ("2024-01", "B"),
        ("2024-02", "A"),
        ("2024-02", "B"),
    ]
    assert rows["metric"].to_list() == ["p_chart"] * 4 + ["trend"] * 4


def test_a_missing_period_is_not_filled_the_rules_run_over_the_points_present():
    # Eight points above centre with no row for 2024-05: the run of 8 still fires at the 8th point present.
    frame = z_points([0.5] * 9).filter(pl.col("period") != "2024-05")
    signals = western_electric_signals(frame)
    assert signals.select("period", "reference").rows() == [("2024-09", "rule 4: 8 in a row on one side, above centre")]
    # a period with n = 0 is dropped from the chart, not plotted as a zero share
    points = chart([10, 0, 30], [100, 0, 100])
    assert points["period"].to_list() == ["2024-01", "2024-03"]

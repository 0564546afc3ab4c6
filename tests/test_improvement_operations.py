"""Operational metrics of the improvement report (transforms/improvement/operations.py) against
hand-computed values, statsmodels' Wilson interval and scipy's t interval."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from transforms.improvement.operations import (
    ProblemWeights,
    goal_status,
    return_rate,
    self_assessment,
    self_assessment_totals,
    supplier_metrics,
    top_problems,
)
from transforms.improvement.rows import COLUMNS


def get(frame, metric, segment="All", item=None, period=None):
    rows = frame.filter((pl.col("metric") == metric) & (pl.col("segment") == segment))
    rows = rows.filter(pl.col("item").is_null() if item is None else pl.col("item") == item)
    if period is not None:
        rows = rows.filter(pl.col("period") == period)
    assert rows.height == 1, (metric, segment, item)
    return rows.row(0, named=True)


# --- return rate ------------------------------------------------------------------------------

ORDERS = pl.DataFrame(
    {
        "period": ["2025-Q1"] * 4,
        "segment": ["Tallinn", "Tallinn", "Narva", "Tallinn"],
        "product": ["Repairs", "Parts", "Repairs", "Repairs"],
        "orders": [60, 50, 40, 40],  # Tallinn Repairs in two months: 60 + 40
    }
)
RETURNS = pl.DataFrame(
    {
        "period": ["2025-Q1"] * 4,
        "segment": ["Tallinn", "Tallinn", "Tallinn", "Narva"],
        "product": ["Repairs", "Repairs", "Parts", "Repairs"],
        "return_reason": ["defective_product", "wrong_item", "defective_product", "late_delivery"],
        "returns": [6, 4, 5, 2],
    }
)


def test_return_rate_by_unit_product_and_reason_by_hand():
    m = return_rate(ORDERS, RETURNS)
    assert m.columns == list(COLUMNS)
    expected = {
        ("return_rate", "All", None): (17, 190),
        ("return_rate", "Tallinn", None): (15, 150),
        ("return_rate", "Narva", None): (2, 40),
        ("return_rate", "Tallinn", "Repairs"): (10, 100),
        ("return_rate", "All", "Repairs"): (12, 140),
        ("return_rate", "All", "Parts"): (5, 50),
        ("return_rate_by_reason", "All", "defective_product"): (11, 190),
        ("return_rate_by_reason", "Tallinn", "wrong_item"): (4, 150),
        ("return_rate_by_reason", "Narva", "late_delivery"): (2, 40),
    }
    for (metric, segment, item), (x, n) in expected.items():
        row = get(m, metric, segment, item)
        assert (row["value"], row["n"]) == (pytest.approx(x / n), n), (metric, segment, item)
        low, high = proportion_confint(x, n, alpha=0.05, method="wilson")
        assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))
        assert row["small_sample"] is False and row["reference"] is None
    assert m.filter(pl.col("metric") == "return_rate_by_reason").height == 6  # 3 reasons x All + 3 unit rows
    assert get(return_rate(ORDERS, RETURNS, min_n=50), "return_rate", "Narva")["small_sample"] is True


def test_returns_without_orders_or_above_orders_are_shown_without_an_interval():
    returns = pl.concat(
        [
            RETURNS,
            pl.DataFrame(
                {
                    "period": ["2025-Q1"],
                    "segment": ["Narva"],
                    "product": ["Parts"],
                    "return_reason": ["wrong_item"],
                    "returns": [3],
                }
            ),
        ]
    )
    m = return_rate(ORDERS, returns)
    orphan = get(m, "return_rate", "Narva", "Parts")
    assert orphan["value"] is None and orphan["n"] == 0 and orphan["reference"] == "no orders recorded"
    assert orphan["ci_low"] is None
    assert get(m, "return_rate", "Narva")["value"] == pytest.approx(5 / 40)
    many = return_rate(ORDERS.filter(pl.col("segment") == "Narva").with_columns(orders=pl.lit(1)), RETURNS)
    row = get(many, "return_rate", "Narva")
    assert row["value"] == 2 and row["ci_low"] is None and row["reference"] == "returns exceed orders: no interval"


def test_a_product_without_returns_has_rate_zero():
    orders = pl.concat([ORDERS, ORDERS.head(1).with_columns(product=pl.lit("Gift cards"), orders=pl.lit(30, pl.Int64))])
    row = get(return_rate(orders, RETURNS), "return_rate", "Tallinn", "Gift cards")
    assert (row["value"], row["n"], row["ci_low"]) == (0.0, 30, 0.0)


# --- suppliers --------------------------------------------------------------------------------

SCORECARDS = pl.DataFrame(
    {
        "supplier_id": ["COURIER", "COURIER", "COURIER", "WEB", "WEB"],
        "period": ["2025-Q1", "2025-Q1", "2025-Q1", "2025", "2025"],
        "period_start": [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 1, 1), date(2025, 4, 1)],
        "period_months": [1, 1, 1, 3, 1],
        "on_time_pct": [90.0, 96.0, None, 80.0, 100.0],
        "defect_rate_pct": [0.5, None, 1.0, 2.0, None],
    }
)


def test_supplier_means_of_months_and_latest_by_hand():
    m = supplier_metrics(SCORECARDS)
    on_time = get(m, "supplier_on_time", item="COURIER")
    assert (on_time["value"], on_time["n"], on_time["period"]) == (pytest.approx(0.93), 2, "2025-Q1")
    latest = get(m, "supplier_on_time_latest", item="COURIER")  # March is blank: February is the latest figure
    assert (latest["value"], latest["n"], latest["reference"]) == (pytest.approx(0.96), 1, "as of 2025-02-01")
    defect = get(m, "supplier_defect_rate", item="COURIER")
    assert (defect["value"], defect["n"]) == (pytest.approx(0.0075), 2)
    assert get(m, "supplier_defect_rate_latest", item="COURIER")["reference"] == "as of 2025-03-01"
    web = get(m, "supplier_on_time", item="WEB")  # a quarter's row counts as its three months
    assert (web["value"], web["n"]) == (pytest.approx((0.80 * 3 + 1.00) / 4), 4)
    assert get(m, "supplier_on_time_latest", item="WEB")["value"] == pytest.approx(1.0)
    assert m["small_sample"].to_list() == [False] * m.height and m["ci_low"].null_count() == m.height


def test_supplier_latest_is_by_period_start_whatever_the_row_order():
    shuffled = SCORECARDS[[2, 0, 4, 1, 3]]  # March, January, WEB April, February, WEB January
    m = supplier_metrics(shuffled)
    latest = get(m, "supplier_on_time_latest", item="COURIER")  # February, not the last row (January)
    assert (latest["value"], latest["n"], latest["reference"]) == (pytest.approx(0.96), 1, "as of 2025-02-01")
    defect = get(m, "supplier_defect_rate_latest", item="COURIER")  # March, not January
    assert (defect["value"], defect["reference"]) == (pytest.approx(0.01), "as of 2025-03-01")
    web = get(m, "supplier_on_time_latest", item="WEB")  # April's month, not January's quarter
    assert (web["value"], web["n"], web["reference"]) == (pytest.approx(1.0), 1, "as of 2025-04-01")
    assert m.equals(supplier_metrics(SCORECARDS))


# --- top problems -------------------------------------------------------------------------------

THEMES = pl.DataFrame(
    {
        "code": ["service", "waiting_time", "product", "defective_product", "delivery", "late_delivery",
                 "billing", "billing_error", "general_dissatisfaction"],
        "parent": [None, "service", None, "product", None, "delivery", None, "billing", None],
        "actionable": [True, True, True, True, True, True, True, True, False],
    }
)  # fmt: skip
COMPLAINTS = pl.DataFrame(
    {"category": ["defective_product"] * 3 + ["late_delivery"] * 2 + ["general_dissatisfaction"] * 4}
)
CODED = pl.DataFrame(
    {
        "source": ["interviews", "interviews", "focus groups"],
        "theme": ["defective_product", "waiting_time", "waiting_time"],
        "count": [2, 5, 1],
    }
)
ISSUES = pl.DataFrame({"category": ["late_delivery"], "count": [7]})
RETURN_REASONS = pl.DataFrame({"return_reason": ["defective_product", "defective_product"], "returns": [6, 4]})


def problems(**kwargs):
    sources = {"complaints": COMPLAINTS, "coded": CODED, "supplier_issues": ISSUES, "returns": RETURN_REASONS}
    return top_problems(THEMES, period="2025-03", **{**sources, **kwargs})


def test_top_problems_pooled_scored_and_ranked_by_hand():
    m = problems()
    # totals: defective 3+2+10 = 15, late 2+7 = 9, waiting 5+1 = 6, general 4; max 15
    assert m["item"].to_list() == [
        "defective_product", "late_delivery", "waiting_time", "general_dissatisfaction",
        "billing", "billing_error", "delivery", "product", "service",
    ]  # fmt: skip
    assert m["rank"].to_list() == list(range(1, 10))
    assert m["value"].to_list() == pytest.approx(
        [0.5 + 0.2, 0.5 * 9 / 15 + 0.2, 0.5 * 6 / 15 + 0.2, 0.5 * 4 / 15, 0, 0, 0, 0, 0]
    )
    assert m["n"].to_list() == [15, 9, 6, 4, 0, 0, 0, 0, 0]
    assert m["cumulative_share"].to_list() == pytest.approx([15 / 34, 24 / 34, 30 / 34, 1, 1, 1, 1, 1, 1])
    assert m["reference"].to_list()[:5] == [
        "complaints 3, interviews 2, returns 10",
        "complaints 2, suppliers 7",
        "focus groups 1, interviews 5",
        "complaints 4; not actionable",
        "no evidence",
    ]
    assert set(m["metric"]) == {"top_problem"} and set(m["period"]) == {"2025-03"} and set(m["segment"]) == {"All"}


def test_cost_and_weights_change_the_order():
    cost = pl.DataFrame({"theme": ["defective_product", "waiting_time"], "cost": [100.0, 400.0]})
    m = problems(cost=cost)
    assert m["item"].to_list()[:3] == ["defective_product", "waiting_time", "late_delivery"]
    assert m["value"].to_list()[:3] == pytest.approx([0.5 + 0.3 * 0.25 + 0.2, 0.5 * 6 / 15 + 0.3 + 0.2, 0.5])
    frequency_only = problems(weights=ProblemWeights(frequency=1, cost=0, actionable=0))
    assert frequency_only["item"].to_list()[:4] == ["defective_product", "late_delivery", "waiting_time",
                                                   "general_dissatisfaction"]  # fmt: skip


def test_ties_break_on_count_then_code():
    flat = problems(weights=ProblemWeights(frequency=0, cost=0, actionable=1))
    # every actionable theme with evidence scores 1: ordered by count, then code; general (not actionable) 0
    assert flat["item"].to_list()[:4] == [
        "defective_product",
        "late_delivery",
        "waiting_time",
        "general_dissatisfaction",
    ]
    same = top_problems(THEMES, period="p", complaints=pl.DataFrame({"category": ["late_delivery", "billing_error"]}))
    assert same["item"].to_list()[:2] == ["billing_error", "late_delivery"]
    assert problems().equals(problems())


def test_roll_up_to_parent_themes():
    m = problems(roll_up=True)
    assert m["item"].to_list() == ["product", "delivery", "service", "general_dissatisfaction", "billing"]
    assert m["n"].to_list() == [15, 9, 6, 4, 0]


def test_evidence_without_a_theme_is_counted_in_the_reference_not_dropped():
    complaints = pl.concat([COMPLAINTS, pl.DataFrame({"category": [None, None]}, schema={"category": pl.String})])
    returns = pl.concat(
        [RETURN_REASONS, pl.DataFrame({"return_reason": [None]}, schema={"return_reason": pl.String}).with_columns(
            returns=pl.lit(5, pl.Int64))]
    )  # fmt: skip
    m = problems(complaints=complaints, returns=returns)
    baseline = problems()
    # the ranking, totals and Pareto line are those of the themed evidence
    assert m.select("item", "rank", "n", "value", "cumulative_share").equals(
        baseline.select("item", "rank", "n", "value", "cumulative_share")
    )
    suffix = "; uncategorised, not ranked: complaints 2, returns 5"
    assert m["reference"].to_list() == [r + suffix for r in baseline["reference"]]
    assert all("uncategorised" not in r for r in baseline["reference"])
    rolled = problems(complaints=complaints, roll_up=True)
    assert (
        rolled["reference"].to_list()[0]
        == "complaints 3, interviews 2, returns 10; uncategorised, not ranked: complaints 2"
    )


def test_a_theme_outside_the_coding_frame_is_an_error():
    with pytest.raises(ValueError, match="not in the coding frame: unicorn"):
        top_problems(THEMES, period="p", supplier_issues=pl.DataFrame({"category": ["unicorn"], "count": [1]}))


# --- goals ------------------------------------------------------------------------------------

VALUES = pl.DataFrame(
    {
        "metric": ["csat_top2box"] * 4 + ["return_rate"] * 3 + ["supplier_on_time", "supplier_on_time", "fcr"],
        "period": "2025",
        "segment": ["All", "Tallinn", "Narva", "Riga", "All", "Tallinn", "Narva", "All", "All", "All"],
        "item": [None] * 7 + ["COURIER", "WEB", None],
        "value": [0.96, 0.93, 0.80, None, 0.04, 0.07, 0.06, 0.93, 0.99, 0.5],
        "n": [400, 120, 60, 0, 900, 300, 200, 3, 3, 10],
        "ci_low": [0.94, 0.90, 0.70, None, 0.03, 0.055, 0.04, None, None, 0.2],
        "ci_high": [0.98, 0.96, 0.88, None, 0.06, 0.09, 0.08, None, None, 0.8],
        "small_sample": [False] * 10,
    }
)
GOALS = pl.DataFrame(
    {
        "metric": ["csat_top2box", "return_rate", "supplier_on_time"],
        "item": [None, None, "COURIER"],
        "comparator": [">=", "<=", ">="],
        "target": [0.95, 0.05, 0.95],
        "at_risk_margin": [None, None, 0.05],
    }
)


def test_goal_status_met_at_risk_missed_by_hand():
    m = goal_status(VALUES, GOALS)
    status = {(r["segment"], r["item"]): r["reference"] for r in m.iter_rows(named=True)}
    assert status == {
        ("All", "csat_top2box"): "met",  # 0.96 >= 0.95
        ("Tallinn", "csat_top2box"): "at risk",  # 0.93 misses, but the interval reaches 0.95
        ("Narva", "csat_top2box"): "missed",  # 0.80, interval up to 0.88
        ("Riga", "csat_top2box"): "no data",
        ("All", "return_rate"): "met",  # 0.04 <= 0.05
        ("Tallinn", "return_rate"): "missed",  # 0.07, interval from 0.055: wholly above
        ("Narva", "return_rate"): "at risk",  # 0.06, interval from 0.04
        ("All", "supplier_on_time/COURIER"): "at risk",  # 0.93 within the 0.05 margin, no interval
    }  # WEB and fcr have no goal: no row
    row = get(m, "goal_status", "Tallinn", "csat_top2box")
    assert (row["value"], row["n"], row["ci_high"], row["comparator"], row["target"]) == (0.93, 120, 0.96, ">=", 0.95)
    tight = goal_status(VALUES, GOALS.with_columns(at_risk_margin=pl.lit(0.0)))
    assert get(tight, "goal_status", "All", "supplier_on_time/COURIER")["reference"] == "missed"


def test_a_goal_without_item_column_covers_every_item_and_comparators_are_checked():
    m = goal_status(VALUES, GOALS.drop("item", "at_risk_margin").filter(pl.col("metric") == "supplier_on_time"))
    assert dict(zip(m["item"], m["reference"], strict=True)) == {
        "supplier_on_time/COURIER": "missed",
        "supplier_on_time/WEB": "met",
    }
    with pytest.raises(ValueError, match="comparator"):
        goal_status(VALUES, GOALS.with_columns(comparator=pl.lit(">")))


def test_a_nan_interval_never_turns_a_miss_into_at_risk():
    values = pl.DataFrame(
        {
            "metric": ["csat_top2box", "return_rate"],
            "period": "2025",
            "segment": "All",
            "item": [None, None],
            "value": [0.80, 0.20],
            "n": [1, 1],
            "ci_low": [float("nan"), float("nan")],
            "ci_high": [float("nan"), float("nan")],
            "small_sample": True,
        },
        schema_overrides={"item": pl.String},
    )
    m = goal_status(values, GOALS.filter(pl.col("item").is_null()))
    assert dict(zip(m["item"], m["reference"], strict=True)) == {"csat_top2box": "missed", "return_rate": "missed"}
    assert m["ci_low"].null_count() == 2 and m["ci_high"].null_count() == 2  # NaN bounds come out null
    nan_value = goal_status(values.with_columns(value=pl.lit(float("nan"))), GOALS.head(1))
    assert nan_value["reference"].to_list() == ["no data"] and nan_value["value"].to_list() == [None]


def test_a_goal_whose_metric_has_no_rows_is_no_data():
    goals = pl.concat(
        [GOALS, pl.DataFrame({"metric": ["nps", "supplier_on_time"], "item": [None, "FREIGHT"], "comparator": ">=",
                              "target": [30.0, 0.9], "at_risk_margin": [None, None]},
                             schema_overrides={"item": pl.String, "at_risk_margin": pl.Float64})]
    )  # fmt: skip
    m = goal_status(VALUES, goals)
    for item in ("nps", "supplier_on_time/FREIGHT"):
        row = m.filter(pl.col("item") == item).row(0, named=True)
        assert m.filter(pl.col("item") == item).height == 1
        assert (row["reference"], row["value"], row["period"], row["segment"]) == ("no data", None, None, None)
    assert row["comparator"] == ">=" and row["target"] == 0.9
    assert m.height == 8 + 2  # the eight rows of the goals with data are unchanged
    no_item_column = goal_status(VALUES, pl.DataFrame({"metric": ["nps"], "comparator": ["<="], "target": [1.0]}))
    assert no_item_column.select("item", "reference").rows() == [("nps", "no data")]


# --- self-assessment ----------------------------------------------------------------------------

AREAS = ["customer_focused_culture", "customer_focused_products", "response_to_feedback", "knowing_customers",
         "ease_of_contact", "staff_qualification", "active_improvement"]  # fmt: skip
ASSESSMENTS = pl.DataFrame(
    [
        {"assessor_id": "M-CEO", "segment": None, **dict(zip(AREAS, [4, 3, 3, 4, 2, 4, 3], strict=True))},
        {"assessor_id": "M-COO", "segment": None, **dict(zip(AREAS, [5, 5, 4, 4, 3, 4, 4], strict=True))},
        {"assessor_id": "M-T", "segment": "Tallinn", **dict(zip(AREAS, [2] * 7, strict=True))},
    ]
).with_columns(period=pl.lit("2025"), assessed_on=pl.lit(date(2025, 1, 15)))


def test_self_assessment_totals_and_area_means_by_hand():
    assert self_assessment_totals(ASSESSMENTS)["total"].to_list() == [23, 29, 14]
    m = self_assessment(ASSESSMENTS)
    total = get(m, "self_assessment", "All", "total")
    assert (total["value"], total["n"]) == (26.0, 2)
    low, high = stats.t.interval(0.95, 1, loc=26, scale=stats.tstd([23, 29]) / 2**0.5)
    assert (total["ci_low"], total["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert get(m, "self_assessment", "All", "ease_of_contact")["value"] == 2.5
    tallinn = get(m, "self_assessment", "Tallinn", "total")  # a unit's own assessment, not pooled into All
    assert (tallinn["value"], tallinn["n"], tallinn["ci_low"], tallinn["small_sample"]) == (14.0, 1, None, True)
    assert m.height == 2 * 8 and set(m["item"]) == {*AREAS, "total"}


def test_a_total_needs_all_seven_statements():
    blank = ASSESSMENTS.with_columns(
        ease_of_contact=pl.when(pl.col("assessor_id") == "M-COO").then(None).otherwise(pl.col("ease_of_contact"))
    )
    assert self_assessment_totals(blank)["total"].to_list() == [23, None, 14]
    m = self_assessment(blank)
    total = get(m, "self_assessment", "All", "total")  # M-COO's six statements are not a 7-35 total
    assert (total["value"], total["n"], total["ci_low"], total["small_sample"]) == (23.0, 1, None, True)
    assert total["reference"] == "total of 7 statements, 7-35; 1 incomplete assessment(s) left out (a statement blank)"
    ease = get(m, "self_assessment", "All", "ease_of_contact")
    assert (ease["value"], ease["n"]) == (2.0, 1)
    assert get(m, "self_assessment", "All", "staff_qualification")["n"] == 2  # other statements keep both
    assert get(m, "self_assessment", "Tallinn", "total")["reference"] == "total of 7 statements, 7-35"

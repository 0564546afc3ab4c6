"""Complaint handling metrics (transforms/improvement/complaints.py) against hand-computed values and an
independent implementation (statsmodels' Kaplan-Meier and Wilson interval)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from transforms.improvement.complaints import ComplaintParameters, complaint_metrics, kaplan_meier_quantiles

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
AS_OF = datetime(2025, 4, 1, tzinfo=UTC)


def case(cid, customer, day, *, unit="Tallinn", resolved=None, promised=None, contacts=1, satisfied=None, comp=None):
    at = T0 + timedelta(days=day)
    return {
        "complaint_id": cid,
        "customer_id": customer,
        "received_at": at,
        "resolved_at": None if resolved is None else at + timedelta(days=resolved),
        "promised_at": None if promised is None else at + timedelta(days=promised),
        "follow_up_at": None,
        "satisfied_at_follow_up": satisfied,
        "contacts": contacts,
        "compensation_amount": None if comp is None else comp[0],
        "compensation_currency": None if comp is None else comp[1],
        "segment": unit,
        "period": "2025-03",
    }


CASES = [
    case("K1", "C1", 0, resolved=0.5, contacts=1, satisfied=True, comp=(10.0, "EUR")),
    case("K2", "C1", 3, resolved=2, promised=1, contacts=2, satisfied=False),  # C1 again within 7 days; late
    case("K3", "C2", 1, resolved=1, promised=2, contacts=1, comp=(5.5, "EUR")),  # promise kept
    case("K4", "C3", 2, promised=40, contacts=1),  # open, promise not yet due: neither kept nor broken
    case("K5", "C4", 4, promised=3, contacts=3, unit="Narva", comp=(100.0, "ZAR")),  # open past promise: broken
    case("K6", None, 5, resolved=4, contacts=1, unit="Narva", satisfied=True),
    case("K7", "C2", 20, resolved=1, contacts=1),  # C2 again, but 19 days later: no repeat
]


def metrics(cases=CASES, **params):
    frame = pl.DataFrame(
        cases,
        schema_overrides={
            "satisfied_at_follow_up": pl.Boolean,
            "contacts": pl.Int64,
            "compensation_amount": pl.Float64,
        },
    )
    return complaint_metrics(frame.lazy(), ComplaintParameters(as_of=AS_OF, **params))


def get(frame, metric, segment="All", item=None):
    rows = frame.filter((pl.col("metric") == metric) & (pl.col("segment") == segment))
    if item is not None:
        rows = rows.filter(pl.col("item") == item)
    assert rows.height == 1, (metric, segment, item)
    return rows.row(0, named=True)


def test_shares_counts_and_totals_by_hand():
    m = metrics()
    assert get(m, "complaints")["value"] == 7
    assert get(m, "complaints", "Narva")["value"] == 2
    fcr = get(m, "fcr")  # resolved with one contact: K1, K3, K6, K7
    assert (fcr["value"], fcr["n"]) == (pytest.approx(4 / 7), 7)
    repeat = get(m, "repeat_contact_rate")  # K1 (C1 again 3 days later)
    assert (repeat["value"], repeat["n"]) == (pytest.approx(1 / 7), 7)
    promise = get(m, "promise_kept")  # due: K2 (late), K3 (kept), K5 (open past promise); K4 not yet due
    assert (promise["value"], promise["n"]) == (pytest.approx(1 / 3), 3)
    followup = get(m, "followup_satisfied")
    assert (followup["value"], followup["n"]) == (pytest.approx(2 / 3), 3)
    assert get(m, "compensation_total", item="EUR")["value"] == pytest.approx(15.5)
    assert get(m, "compensation_total", item="ZAR")["value"] == pytest.approx(100.0)
    iceberg = get(m, "iceberg_silent_estimate")
    assert iceberg["value"] == 7 * 26 and iceberg["reference"].startswith("heuristic: 26 silent per complaint")
    assert get(metrics(iceberg_ratio=10), "iceberg_silent_estimate")["value"] == 70
    assert fcr["small_sample"] is True


def test_wilson_intervals_agree_with_statsmodels():
    fcr = get(metrics(), "fcr")
    low, high = proportion_confint(4, 7, alpha=0.05, method="wilson")
    assert (fcr["ci_low"], fcr["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_time_to_resolution_counts_open_cases_as_censored():
    """Open cases are censored at the report's time, not dropped: dropping them would shorten the median."""
    m = metrics()
    ends = [c["resolved_at"] or AS_OF for c in CASES]
    durations = np.array([(end - c["received_at"]).total_seconds() / 86400 for end, c in zip(ends, CASES, strict=True)])
    resolved = np.array([c["resolved_at"] is not None for c in CASES], dtype=int)
    oracle = SurvfuncRight(durations, resolved)
    assert get(m, "time_to_resolution_median")["value"] == pytest.approx(oracle.quantile(0.5))
    assert get(m, "time_to_resolution_median")["n"] == 7
    # 5 of 7 resolved: S never falls to 0.1, so the 90th percentile is not reached (null), as statsmodels says.
    assert np.isnan(oracle.quantile(0.9)) and get(m, "time_to_resolution_p90")["value"] is None
    dropped = np.median(durations[resolved == 1])
    assert get(m, "time_to_resolution_median")["value"] >= dropped


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_kaplan_meier_quantiles_agree_with_statsmodels(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    days = np.round(rng.exponential(6, n), 1)  # rounded: tied times, as logs have
    event = rng.random(n) < rng.uniform(0.5, 1.0)
    frame = pl.DataFrame({"period": "p", "segment": "s", "days": days, "event": event})
    ours = kaplan_meier_quantiles(frame.lazy(), {"q25": 0.25, "q50": 0.5, "q90": 0.9}).row(0, named=True)
    oracle = SurvfuncRight(days, event.astype(int))
    for name, q in (("q25", 0.25), ("q50", 0.5), ("q90", 0.9)):
        expected = oracle.quantile(q)
        if np.isnan(expected):
            assert ours[name] is None, (name, seed)
        else:
            assert ours[name] == pytest.approx(expected), (name, seed)


def test_a_case_received_after_the_report_time_is_not_counted():
    late = [*CASES, case("K9", "C9", 45)]  # 15 April, after as_of
    assert get(metrics(late), "complaints")["value"] == 7


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # statsmodels' log(0) where S reaches 0
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6, 7, 8])
def test_kaplan_meier_intervals_agree_with_statsmodels(seed: int):
    """Brookmeyer-Crowley intervals on the complementary log-log scale, as statsmodels (and SAS) compute them;
    an end that is never reached is null where statsmodels says inf or nan."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 150))
    days = np.round(rng.exponential(6, n), 0)  # whole days: many ties
    event = rng.random(n) < rng.uniform(0.5, 1.0)
    frame = pl.DataFrame({"period": "p", "segment": "s", "days": days, "event": event})
    ours = kaplan_meier_quantiles(frame.lazy(), {"q50": 0.5, "q90": 0.9}).row(0, named=True)
    oracle = SurvfuncRight(days, event.astype(int))
    for name, q in (("q50", 0.5), ("q90", 0.9)):
        low, high = oracle.quantile_ci(q)
        for mine, theirs in (
            (ours[name], oracle.quantile(q)),
            (ours[f"{name}_low"], low),
            (ours[f"{name}_high"], high),
        ):
            if not np.isfinite(theirs):
                assert mine is None, (name, seed)
            else:
                assert mine == pytest.approx(theirs), (name, seed)


def test_a_quantile_on_an_exact_half_follows_the_strict_rule():
    """S falls to exactly 0.5 at day 2: the median is the next event time, as SAS and statsmodels have it."""
    frame = pl.DataFrame({"period": "p", "segment": "s", "days": [1.0, 2.0, 3.0, 4.0], "event": [True] * 4})
    assert kaplan_meier_quantiles(frame.lazy(), {"m": 0.5}).row(0, named=True)["m"] == 3.0
    assert SurvfuncRight(frame["days"].to_numpy(), np.ones(4)).quantile(0.5) == 3.0


def test_promises_still_running_are_neither_kept_nor_broken():
    cases = [
        case("P1", "A", 0, resolved=1, promised=2),  # kept
        case("P2", "B", 0, promised=5),  # open past its promise (due 6 March): broken
        case("P3", "C", 0, promised=10),  # open past its promise: broken
        case("P4", "D", 25, promised=20),  # promised for 15 April, after the report time: not yet due
    ]
    promise = get(metrics(cases), "promise_kept")
    assert (promise["value"], promise["n"]) == (pytest.approx(1 / 3), 3)


def test_the_repeat_window_includes_its_last_day_and_waits_until_it_closes():
    cases = [
        case("R1", "A", 0),
        case("R2", "A", 7),  # exactly 7 days later: a repeat
        case("R3", "B", 0),
        case("R4", "B", 8),  # 8 days later: none
        case("R5", "C", 28),  # 29 March: its window runs past the report time (1 April)
    ]
    repeat = get(metrics(cases), "repeat_contact_rate")
    assert (repeat["value"], repeat["n"]) == (pytest.approx(1 / 4), 4)  # R5 is not yet decidable
    assert "still open are left out" in repeat["reference"]


def test_resolution_times_say_how_many_cases_were_open():
    median = get(metrics(), "time_to_resolution_median")
    assert median["reference"].startswith("Kaplan-Meier; 2 of 7 cases open, censored at the report time")
    p90 = get(metrics(), "time_to_resolution_p90")
    assert p90["value"] is None and p90["reference"].endswith("not reached: too many cases still open")
    assert median["small_sample"] is True

"""The continuous-improvement report over the demo's every source, in a real store: its metrics file,
its periods, its scopes, its PDF read back and its email (no Prefect: the plain functions the flows call)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from pypdf import PdfReader

from flows import email_text
from flows.demo_data import write_demo_exports, write_demo_records
from flows.improvement_report import read_snapshot, scope_improvement
from flows.load_sources import load_inbox
from flows.report_kinds import IMPROVEMENT
from flows.scorecard_report import assets_digest, content_fingerprint, report_files, report_scope
from flows.settings import Settings, load_settings
from flows.store import Store
from tests.conftest import REPO
from transforms.periods import period_after, period_of_date, period_start, periods_up_to
from transforms.scopes import COMPANY

# Every metric id issue 8 names, each in the metrics file of the demo's latest month.
ISSUE_METRICS = {
    "attribute_csat",
    "attribute_mean",
    "trend",
    "p_chart",
    "spc_signal",
    "driver_weight",
    "servqual_gap",
    "gap_model",
    "low_expectation_flag",
    "mode_effect",
    "wording_effect",
    "complaints",
    "fcr",
    "repeat_contact_rate",
    "time_to_resolution_median",
    "time_to_resolution_p90",
    "promise_kept",
    "followup_satisfied",
    "compensation_total",
    "iceberg_silent_estimate",
    "top_problem",
    "theme_frequency",
    "theme_cooccurrence",
    "interviewer_effect",
    "focus_group_representativeness",
    "question_of_period",
    "return_rate",
    "supplier_on_time",
    "supplier_defect_rate",
    "goal_status",
    "self_assessment",
}
NOW = datetime(2026, 2, 10, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Settings, Store]:
    """The demo's survey exports and every record source, loaded into a fresh store."""
    project = tmp_path_factory.mktemp("improvement")
    shutil.copytree(REPO / "config", project / "config")
    settings = load_settings(project / "config")
    write_demo_exports(settings.inbox)
    write_demo_records(settings.inbox)
    store = Store(settings.store)
    load_inbox(settings, store, datetime.now(UTC) + timedelta(minutes=1))
    return settings, store


@pytest.fixture(scope="module")
def snapshot(demo):
    settings, store = demo
    return read_snapshot(settings, store, now=NOW)


def test_periods_are_months_quarters_or_years():
    days = pl.DataFrame({"d": [date(2025, 1, 31), date(2025, 4, 1), date(2025, 12, 31)]})
    label = {g: days.select(period_of_date(pl.col("d"), g, 1))["d"].to_list() for g in ("month", "quarter", "year")}
    assert label == {
        "month": ["2025-01", "2025-04", "2025-12"],
        "quarter": ["2025-Q1", "2025-Q2", "2025-Q4"],
        "year": ["2025", "2025", "2025"],
    }
    # A fiscal year from April: Q1 is April-June, named by the year it ends in.
    fiscal = days.select(period_of_date(pl.col("d"), "quarter", 4))["d"].to_list()
    assert fiscal == ["FY2025-Q4", "FY2026-Q1", "FY2026-Q3"]
    assert (period_start("FY2026-Q1", "quarter", 4), period_after("FY2026-Q1", "quarter", 4)) == (
        date(2025, 4, 1),
        date(2025, 7, 1),
    )
    assert periods_up_to("2025-02", 4, "month", 1) == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert periods_up_to("2025-Q1", 3, "quarter", 1) == ["2024-Q3", "2024-Q4", "2025-Q1"]


def test_latest_complete_month_and_its_history(snapshot, demo):
    settings, _ = demo
    assert (snapshot.period, snapshot.previous) == ("2025-12", "2025-11")
    assert snapshot.params.history[-1] == "2025-12" and len(snapshot.params.history) == 24
    # The month in progress is not "latest": a report of half a month would look like a fall.
    during = read_snapshot(settings, demo[1], now=datetime(2025, 12, 20, tzinfo=UTC))
    assert during.period == "2025-11"


def test_every_issue_metric_is_in_the_metrics_file(snapshot):
    metrics = snapshot.result.metrics
    company = metrics.filter((pl.col("segment") == COMPANY) & (pl.col("period") == "2025-12"))
    assert set(company["metric"]) >= ISSUE_METRICS
    # The gaps the data supports: 1 knowledge, 2 standards, 3 delivery, 4 communication, 5 customer.
    gaps = {item.split(":")[0] for item in company.filter(pl.col("metric") == "gap_model")["item"]}
    assert gaps == {"gap1", "gap2", "gap3", "gap4", "gap5"}
    # Trends cover every month of the history; every attribute has its own series.
    trend = metrics.filter((pl.col("metric") == "trend") & (pl.col("segment") == COMPANY))
    assert trend["period"].n_unique() == 24 and trend["item"].n_unique() == 6
    # Every row has its n; intervals are never NaN.
    assert metrics.filter(pl.col("metric") != "goal_status")["n"].null_count() == 0
    assert not metrics.select(pl.col("value", "ci_low", "ci_high").is_nan().any()).row(0)[0]


def test_the_same_data_gives_the_same_metrics_and_report(snapshot, demo):
    """Parallel sums and a row-order bootstrap must not move the last digits: equal fingerprints, no re-send."""
    settings, store = demo
    again = read_snapshot(settings, store, now=NOW + timedelta(hours=1))
    assert again.result.metrics.equals(snapshot.result.metrics)
    assets = assets_digest(REPO / "report_templates", settings.logo)
    prints = []
    for snap in (snapshot, again):
        data = scope_improvement(snap, report_scope(settings, "Estonia"), settings)
        prints.append(content_fingerprint(IMPROVEMENT.context(settings, data, []), data.metrics, assets))
    assert prints[0] == prints[1]


def test_a_group_pools_its_member_units(snapshot, demo):
    settings, _ = demo
    data = scope_improvement(snapshot, report_scope(settings, "Estonia"), settings)
    csat = data.metrics.filter(
        (pl.col("metric") == "attribute_csat")
        & (pl.col("period") == "2025-12")
        & (pl.col("item") == "speed_of_service")
    )
    n = dict(csat.select("segment", "n").iter_rows())
    assert set(n) == {"Estonia", "Tallinn", "Narva"} and n["Estonia"] == n["Tallinn"] + n["Narva"]
    value = dict(csat.select("segment", "value").iter_rows())
    pooled = (value["Tallinn"] * n["Tallinn"] + value["Narva"] * n["Narva"]) / n["Estonia"]
    assert value["Estonia"] == pytest.approx(pooled)
    unit = scope_improvement(snapshot, report_scope(settings, "Narva"), settings)
    assert set(unit.metrics["segment"]) == {"Narva"}


def test_goals_follow_their_rule(snapshot):
    goals = snapshot.result.metrics.filter(
        (pl.col("metric") == "goal_status") & (pl.col("segment") == COMPANY) & (pl.col("period") == "2025-12")
    )
    for row in goals.iter_rows(named=True):
        sign = 1 if row["comparator"] == ">=" else -1
        if row["value"] is None:
            # A median time not reached (more than half the cases open) misses an "at most" target.
            assert row["reference"] == ("missed" if row["item"].startswith("time_to_resolution") else "no data")
        elif sign * (row["value"] - row["target"]) >= 0:
            assert row["reference"] == "met", row
        else:
            assert row["reference"] in ("at risk", "missed"), row


def test_quarterly_report(demo):
    settings, store = demo
    pipeline = settings.pipeline.model_copy(
        update={"improvement": settings.pipeline.improvement.model_copy(update={"period": "quarter", "history": 8})}
    )
    quarterly = read_snapshot(replace(settings, pipeline=pipeline), store, now=NOW)
    assert (quarterly.period, quarterly.previous) == ("2025-Q4", "2025-Q3")
    trend = quarterly.result.metrics.filter(pl.col("metric") == "trend")
    assert sorted(trend["period"].unique()) == [
        "2024-Q1",
        "2024-Q2",
        "2024-Q3",
        "2024-Q4",
        *[f"2025-Q{q}" for q in range(1, 5)],
    ]
    monthly = read_snapshot(settings, store, now=NOW).result.metrics
    complaints = {
        kind: frame.filter((pl.col("metric") == "complaints") & (pl.col("segment") == COMPANY))
        for kind, frame in (("quarter", quarterly.result.metrics), ("month", monthly))
    }
    q4 = complaints["quarter"].filter(pl.col("period") == "2025-Q4")["value"].item()
    assert q4 > complaints["month"].filter(pl.col("period") == "2025-12")["value"].item()


@pytest.fixture(scope="module")
def company_pdf(snapshot, demo, tmp_path_factory):
    from flows.render import render_improvement

    settings, _ = demo
    data = scope_improvement(snapshot, report_scope(settings, COMPANY), settings)
    context = IMPROVEMENT.context(settings, data, [])
    path = tmp_path_factory.mktemp("pdf") / "improvement.pdf"
    render_improvement(context, path, logo=settings.logo)
    return data, context, path


def test_pdf_opens_with_the_three_things_to_fix(company_pdf, demo):
    settings, _ = demo
    data, context, path = company_pdf
    reader = PdfReader(path)
    first = " ".join(reader.pages[0].extract_text().replace("\u00a0", " ").split())
    assert "What to fix: December 2025" in first and "Three things to fix" in first
    actionable = {t.code for t in settings.coding_frame.themes if t.actionable}
    ranked = data.metrics.filter(
        (pl.col("metric") == "top_problem")
        & (pl.col("period") == "2025-12")
        & (pl.col("segment") == COMPANY)
        & (pl.col("n") > 0)
        & pl.col("item").is_in(list(actionable))
    ).sort("rank")
    labels = {t.code: t.label for t in settings.coding_frame.themes}
    top = [labels[code] for code in ranked["item"].head(3)]
    assert [fix["label"] for fix in context["fixes"]["items"]] == top
    for name in top:
        assert name in first
    overall = data.metrics.filter(
        (pl.col("metric") == "attribute_csat")
        & (pl.col("period") == "2025-12")
        & (pl.col("segment") == COMPANY)
        & (pl.col("item") == "overall_satisfaction")
    )["value"].item()
    assert f"{100 * overall:.1f} % of customers were satisfied overall" in first
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in ("What drives overall satisfaction", "Service-quality gaps", "Control charts",
                    "Complaints and their resolution", "Goals", "Method notes", "Data quality"):  # fmt: skip
        assert heading in text, heading
    assert "None" not in text and "nan" not in text.lower().split()
    assert reader.attachments == {}
    # The Pareto chart is in count order, its fixes numbered as on page 1; the resolution chart counts open cases.
    totals = [bar["total"] for bar in context["fixes"]["pareto"]]
    assert totals == sorted(totals, reverse=True)
    assert {bar["rank"] for bar in context["fixes"]["pareto"] if bar["top"]} == {1, 2, 3}
    open_cases = data.metrics.filter(
        (pl.col("metric") == "time_to_resolution_median") & (pl.col("period") == "2025-12")
    ).select("segment", opened=pl.col("reference").str.extract(r"(\d+) of \d+ cases open").cast(pl.Int64))
    charted = {row["label"]: row["open_cases"] for row in context["complaints"]["chart"]}
    for unit, opened in open_cases.filter(pl.col("segment") != COMPANY).iter_rows():
        assert charted[unit] == (opened or 0), unit


def test_hostile_quotes_print_as_text(company_pdf, demo, tmp_path):
    """A quote with markup and a remote image: printed literally, nothing fetched, no markup made."""
    from flows.render import render_improvement

    settings, _ = demo
    data, _, _ = company_pdf
    hostile = '<img src="http://attacker.example/x.png"><script>alert(1)</script> & {{ meta }}'
    excerpts = pl.DataFrame(
        {
            "theme": ["waiting_time"],
            "rank": [1],
            "document": ["X"],
            "quote": [hostile],
            "truncated": [False],
            "segment": [COMPANY],
        }
    )
    context = IMPROVEMENT.context(settings, replace(data, excerpts=excerpts), [])
    assert any(q["text"] == hostile for fix in context["fixes"]["items"] for q in fix["quotes"])
    pdf = render_improvement(context, tmp_path / "hostile.pdf", logo=settings.logo)
    first = PdfReader(tmp_path / "hostile.pdf").pages[0].extract_text()
    assert '<img src="http://attacker.example/x.png">' in first and "{{ meta }}" in first
    assert b"/URI" not in pdf and PdfReader(tmp_path / "hostile.pdf").pages[0].get("/Annots") is None  # no link


def test_email_names_the_fixes_but_quotes_no_customer(company_pdf, demo):
    settings, _ = demo
    data, context, _ = company_pdf
    files = report_files(settings, data, IMPROVEMENT.name)
    body = email_text.improvement_body(files, context)
    assert IMPROVEMENT.subject(settings.pipeline.report.organisation, files).endswith("report 2025-12")
    for fix in context["fixes"]["items"]:
        assert fix["label"] in body
        for quote in fix["quotes"]:
            assert quote["text"] not in body
    assert str(files.metrics_csv.name).startswith("improvement-metrics_2025-12_all")


def test_report_command_checks_the_month(demo):
    from typer.testing import CliRunner

    from flows.cli import app

    settings, _ = demo
    args = ["report", "--kind", "improvement", "--period", "2030-01", "--config", str(settings.config_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "no answers for period 2030-01" in result.output and "2025-12" in result.output


def test_attribute_figures_match_an_independent_computation(snapshot):
    """attribute_csat and attribute_mean of December (company, one attribute) from the raw answers with scipy."""
    from scipy import stats

    answers = (
        snapshot.inputs.answers.filter(
            (pl.col("period") == "2025-12") & (pl.col("question_id") == "explained_more_than_once")
        )
        .filter(pl.col("value").is_not_null())
        .collect()
    )
    values = answers["value"].to_numpy()  # reverse-coded: the statement is negatively worded
    assert (
        set(answers["raw_value"].cast(pl.Int64)) <= {1, 2, 3, 4, 5}
        and (values == 6 - answers["raw_value"].to_numpy()).all()
    )
    rows = snapshot.result.metrics.filter(
        (pl.col("period") == "2025-12")
        & (pl.col("segment") == COMPANY)
        & (pl.col("item") == "explained_more_than_once")
    )
    mean = rows.filter(pl.col("metric") == "attribute_mean").row(0, named=True)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert (mean["value"], mean["ci_low"], mean["ci_high"], mean["n"]) == pytest.approx(
        (values.mean(), low, high, len(values))
    )
    csat = rows.filter(pl.col("metric") == "attribute_csat").row(0, named=True)
    satisfied = int((values >= 4).sum())
    wilson = stats.binomtest(satisfied, len(values)).proportion_ci(method="wilson")
    assert (csat["value"], csat["ci_low"], csat["ci_high"]) == pytest.approx(
        (satisfied / len(values), wilson.low, wilson.high)
    )


def test_weighted_figures_are_post_stratified_by_unit(demo):
    """Margins on the unit alone: the company's weighted share is Σ_u share_u·p_u (post-stratification), with
    Kish's n_eff beside n; the key drivers use the same weights; the method note says what was weighted."""
    settings, store = demo
    units = ["Tallinn", "Rīga", "Narva", "Cape Town", "Online shop"]
    shares = dict(zip(units, [0.3, 0.25, 0.15, 0.05, 0.25], strict=True))
    weighting = settings.pipeline.weighting.model_copy(update={"margins": {"segment": shares}})
    weighted = replace(settings, pipeline=settings.pipeline.model_copy(update={"weighting": weighting}))
    snap = read_snapshot(weighted, store, now=NOW)
    rows = snap.result.metrics.filter(
        (pl.col("metric") == "attribute_csat") & (pl.col("period") == "2025-12") & (pl.col("item") == "staff_courtesy")
    )
    by_unit = {r["segment"]: r for r in rows.iter_rows(named=True)}
    company = by_unit[COMPANY]
    # Raked on the year's responses: each of a unit's weighs share_u·R / R_u (R: the 12 months' responses).
    year = snap.params.history[-12:]
    responses = dict(
        snap.volume.filter(pl.col("period").is_in(year) & (pl.col("segment") != COMPANY))
        .group_by("segment")
        .agg(pl.col("value").sum())
        .iter_rows()
    )
    total = sum(responses.values())
    w = {u: shares[u] * total / responses[u] for u in units}
    n = {u: by_unit[u]["n"] for u in units}  # answers to this question
    expected = sum(w[u] * n[u] * by_unit[u]["value"] for u in units) / sum(w[u] * n[u] for u in units)
    assert company["value"] == pytest.approx(expected)
    n_eff = sum(w[u] * n[u] for u in units) ** 2 / sum(w[u] ** 2 * n[u] for u in units)
    assert company["n_eff"] == pytest.approx(n_eff) and company["n_eff"] < company["n"]
    assert by_unit["Narva"]["n_eff"] == pytest.approx(by_unit["Narva"]["n"])  # within a unit: equal weights
    # November is weighted alike (the change compares like with like); the drivers carry their n_eff.
    november = snap.result.metrics.filter(
        (pl.col("metric") == "attribute_csat") & (pl.col("period") == "2025-11") & (pl.col("segment") == COMPANY)
    )
    assert november["n_eff"].is_not_null().all()
    driver_rows = snap.result.metrics.filter(pl.col("metric").is_in(["driver_weight", "driver_r2"]) & (pl.col("n") > 0))
    assert driver_rows["n_eff"].is_not_null().all()
    plain = read_snapshot(settings, store, now=NOW).result.metrics
    drivers = {
        name: frame.filter(
            (pl.col("metric") == "driver_weight") & (pl.col("segment") == COMPANY) & (pl.col("period") == "2025-12")
        )["value"]
        for name, frame in (("weighted", snap.result.metrics), ("plain", plain))
    }
    assert not drivers["weighted"].equals(drivers["plain"])
    data = scope_improvement(snap, report_scope(weighted, COMPANY), weighted)
    context = IMPROVEMENT.context(weighted, data, [])
    assert context["overall"]["n_eff_text"] and context["meta"]["weighting"][0].startswith("business unit: Tallinn 30%")


def test_a_unit_with_too_few_respondents_shows_no_survey_figures(snapshot, demo, tmp_path):
    """Cape Town answered fewer than 5 times in December: its report keeps complaints and operations, but prints
    no satisfaction figure, driver, gap or control chart of its own."""
    from flows.render import render_improvement

    settings, _ = demo
    data = scope_improvement(snapshot, report_scope(settings, "Cape Town"), settings)
    answers = data.metrics.filter(
        (pl.col("metric") == "attribute_csat")
        & (pl.col("period") == "2025-12")
        & (pl.col("item") == "overall_satisfaction")
    )["n"].item()
    assert answers < settings.pipeline.report.min_group_size
    context = IMPROVEMENT.context(settings, data, [])
    assert context["meta"]["too_small"] and context["overall"]["text"] == "–"
    assert (
        context["drivers"]["rows"] == [] and context["control"]["series"] == [] and not context["question"]["available"]
    )
    render_improvement(context, tmp_path / "small.pdf", logo=settings.logo)
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(tmp_path / "small.pdf").pages).split())
    assert "fewer than 5 respondents" in text and "What drives overall satisfaction" not in text
    assert "1 mentions" not in text  # one return is one mention
    assert "Complaints and their resolution" in text
    body = email_text.improvement_body(report_files(settings, data, IMPROVEMENT.name), context)
    assert "fewer than 5 respondents" in body and "n = 0" not in body


def test_a_month_is_reported_once_its_repeat_windows_have_closed(demo):
    """December's last complaints can still be followed by a repeat until 7 January: the month is "latest" from
    8 January on, and its complaint figures are those of that cut-off on every later night."""
    settings, store = demo
    assert read_snapshot(settings, store, now=datetime(2026, 1, 5, 12, tzinfo=UTC)).period == "2025-11"
    first = read_snapshot(settings, store, now=datetime(2026, 1, 8, 12, tzinfo=UTC))
    later = read_snapshot(settings, store, now=datetime(2026, 3, 1, 12, tzinfo=UTC))
    assert first.period == later.period == "2025-12"
    assert first.params.as_of == later.params.as_of == datetime(2026, 1, 7, 22, tzinfo=UTC)  # 8 Jan, Tallinn
    assert first.result.metrics.equals(later.result.metrics)


@pytest.mark.parametrize("month", ["2025-10", "2025-12"])  # October holds the quarter's supplier issues
def test_a_group_adds_up_its_units_evidence(demo, month):
    """Estonia's problems are its units' (Tallinn + Narva) evidence, theme by theme: no company-wide supplier issue."""
    settings, store = demo
    snapshot = read_snapshot(settings, store, period=month, now=NOW)
    data = scope_improvement(snapshot, report_scope(settings, "Estonia"), settings)
    problems = snapshot.result.metrics.filter(pl.col("metric") == "top_problem")
    group = data.metrics.filter((pl.col("metric") == "top_problem") & (pl.col("segment") == "Estonia"))
    for period in snapshot.params.history[-2:]:
        members = (
            problems.filter(pl.col("segment").is_in(["Tallinn", "Narva"]) & (pl.col("period") == period))
            .group_by("item")
            .agg(pl.col("n").sum())
        )
        mine = dict(group.filter(pl.col("period") == period).select("item", "n").iter_rows())
        assert dict(members.iter_rows()) == mine, period
    goals = data.metrics.filter((pl.col("metric") == "goal_status") & (pl.col("segment") == "Estonia"))
    assert not goals.filter(pl.col("item").str.starts_with("supplier")).height


def test_focus_group_excerpts_belong_to_their_session(snapshot):
    """Coded a week after the session (24 September), the excerpts still count in September."""
    excerpts = snapshot.inputs.coded_excerpts.filter(pl.col("document") == "FG-2025-02").collect()
    assert excerpts.height == 15 and set(excerpts["period"]) == {"2025-09"}
    assert set(excerpts["segment"]) == {"Narva"}


def test_small_units_survey_rows_are_marked_in_the_metrics_file(snapshot, demo):
    """Cape Town's few December answers: its survey rows in the company's metrics file are marked, not shown."""
    settings, _ = demo
    data = scope_improvement(snapshot, report_scope(settings, COMPANY), settings)
    december = data.metrics.filter(pl.col("period") == "2025-12")
    cape = december.filter((pl.col("segment") == "Cape Town") & (pl.col("metric") == "attribute_csat"))
    assert cape.height and set(cape["suppressed"]) == {"below minimum"}
    assert (
        december.filter((pl.col("segment") == "Tallinn") & (pl.col("metric") == "attribute_csat"))["suppressed"]
        .is_null()
        .all()
    )
    complaints = december.filter((pl.col("segment") == "Cape Town") & (pl.col("metric") == "complaints"))
    assert complaints["suppressed"].is_null().all()  # operational counts are not survey answers

"""Weighting, groups not shown and comment minimums through the real parts: exports loaded into a real
store, the snapshot read as the flows read it, the context built and the PDF rendered and read back."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from flows.load_sources import load_inbox
from flows.render import render_scorecard
from flows.scorecard_report import read_snapshot, report_scope, scope_scorecard, scorecard_meta
from flows.settings import ConfigError, Settings, load_settings
from flows.store import Store
from tests.conftest import HEADER, export_csv, row
from transforms.report_context import build_scorecard_context

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _export(settings: Settings, name: str, rows: list[str]) -> None:
    export_csv(settings, name, "\n".join([HEADER, *rows]) + "\n")


def _answers(
    unit: str, count: int, *, year: int = 2025, mode: str = "Web", satisfied: int = 0, comment: str = ""
) -> list[str]:
    """`count` answers of a unit, the first `satisfied` of them in the top box (5), the rest a 2."""
    return [
        row(
            f"{unit[:3]}-{year}-{mode}-{i}",
            when=f"{year}-03-04 10:15",
            unit=unit,
            mode=mode,
            q1="5" if i < satisfied else "2",
            q2="9" if i < satisfied else "3",
            comment=comment if comment and i == 0 else "",
        )
        for i in range(count)
    ]


def _report(settings: Settings, store: Store, scope: str) -> tuple[dict, pl.DataFrame]:
    snapshot = read_snapshot(settings, store, period="2025", now=NOW)
    data = scope_scorecard(snapshot, report_scope(settings, scope), settings)
    meta = scorecard_meta(settings, data)
    context = build_scorecard_context(data.metrics, data.files, data.quarantine_reasons, data.comments, meta)
    return context, data.metrics


def _pdf_text(context: dict, tmp: Path) -> str:
    pdf = render_scorecard(context, tmp / "report.pdf")
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return text.replace("\xa0", " ")


def _weigh(config: Path, margins: str) -> None:
    path = config / "pipeline.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nweighting:\n  margins:\n" + margins, encoding="utf-8")


def test_a_weighted_scorecard_prints_n_eff_and_says_what_was_weighted(project: Path, tmp_path: Path):
    settings = load_settings(project / "config")
    store = Store(settings.store)
    _export(
        settings,
        "2025.csv",
        _answers("Tallinn", 40, satisfied=36) + _answers("Narva", 40, mode="Phone", satisfied=20),
    )
    _export(settings, "2024.csv", _answers("Tallinn", 40, year=2024, satisfied=30) + _answers("Narva", 40, year=2024))
    load_inbox(settings, store)
    plain_context, plain = _report(settings, store, "All")
    assert plain["n_eff"].null_count() == plain.height and "weighting" not in plain_context

    # Narva stands for 75 % of customers, Tallinn 25 %; the other units have no answers (a reported gap).
    _weigh(project / "config", "    segment: {Tallinn: 25, Narva: 75, Rīga: 20, Cape Town: 10, Online shop: 10}\n")
    settings = load_settings(project / "config")
    context, metrics = _report(settings, store, "All")
    csat = metrics.filter(
        (pl.col("metric") == "csat_top2box")
        & (pl.col("period") == "2025")
        & (pl.col("segment") == "All")
        & (pl.col("mode") == "all")
    ).row(0, named=True)
    # weights 0.5 (Tallinn) and 1.5 (Narva): p = 0.25·36/40 + 0.75·20/40; n_eff = 80² / (40·0.25 + 40·2.25) = 64
    assert csat["value"] == pytest.approx(0.25 * 0.9 + 0.75 * 0.5)
    assert (csat["n"], csat["n_eff"]) == (80, pytest.approx(64.0))
    assert context["headline"]["csat"]["n_eff_text"] == "64"
    text = _pdf_text(context, tmp_path)
    assert "n_eff = 64" in text
    assert "Weighted to the population by business unit" in text
    assert "Tallinn 17.9 %, Narva 53.6 %, Rīga 14.3 %" in " ".join(text.split())
    assert "not any clustering or stratification" in " ".join(text.split())
    assert (
        "2025: no answers from business unit Cape Town, Online shop and Rīga (together 29 % of the population); the "
        "other categories were weighted up to the whole"
    ) in " ".join(text.split())

    unweighted_pdf = _pdf_text(plain_context, tmp_path)
    assert "n_eff" not in unweighted_pdf and "Weighting" not in unweighted_pdf


def test_margins_that_name_no_known_variable_or_category_stop_at_load(project: Path):
    _weigh(project / "config", "    segment: {Tallinn: 1, Tartu: 1}\n")
    with pytest.raises(ConfigError, match=r"weighting.margins.segment': 'Tartu' is no category of segment"):
        load_settings(project / "config")
    path = project / "config" / "pipeline.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Tartu: 1", "Narva: 1"), encoding="utf-8")
    settings = load_settings(project / "config")
    assert settings.pipeline.weighting.margins == {"segment": {"Tallinn": 1.0, "Narva": 1.0}}


def test_a_question_margin_takes_the_answers_of_its_scale(project: Path):
    _weigh(project / "config", "    overall_satisfaction: {1: 0.1, 2: 0.1, 3: 0.2, 4: 0.3, 9: 0.3}\n")
    with pytest.raises(ConfigError, match=r"'9' is no category of overall_satisfaction"):
        load_settings(project / "config")
    _weigh_text = (project / "config" / "pipeline.yaml").read_text(encoding="utf-8").replace("9: 0.3", "5: 0.3")
    (project / "config" / "pipeline.yaml").write_text(_weigh_text, encoding="utf-8")
    assert load_settings(project / "config").pipeline.weighting.margins["overall_satisfaction"]["5"] == 0.3
    _weigh(project / "config", "    age: {young: 1}\n")
    with pytest.raises(ConfigError, match="weighting by 'age' is not possible"):
        load_settings(project / "config")


def test_small_units_are_hidden_with_their_complement_everywhere_and_comments_need_ten(
    settings: Settings, store: Store, tmp_path: Path
):
    # Estonia = Tallinn + Narva. Narva has 3 answers: hidden; Estonia's total is in Estonia's report, so
    # Tallinn goes too (else Estonia - Tallinn = Narva). Rīga has 8: shown, but too few to quote comments.
    this_year = (
        _answers("Tallinn", 40, satisfied=30, comment="Tallinn was fine")
        + _answers("Narva", 3, comment="Narva secret comment")
        + _answers("Rīga", 8, satisfied=4, comment="Riga comment")
        + _answers("Cape Town", 35, satisfied=20)
        + _answers("Online shop", 50, satisfied=40)
    )
    last_year = [
        line
        for unit in ("Tallinn", "Narva", "Rīga", "Cape Town", "Online shop")
        for line in _answers(unit, 30, year=2024)
    ]
    _export(settings, "2025.csv", this_year)
    _export(settings, "2024.csv", last_year)
    load_inbox(settings, store)

    company, metrics = _report(settings, store, "All")
    hidden = metrics.filter(
        pl.col("suppressed").is_not_null() & (pl.col("metric") == "responses") & (pl.col("mode") == "all")
    )
    assert sorted(hidden["segment"].to_list()) == ["Narva", "Tallinn"]
    assert [r["segment"] for r in company["segments"]["rows"]] == ["Cape Town", "Online shop", "Rīga", "All segments"]
    text = " ".join(_pdf_text(company, tmp_path).split())
    assert "Not shown: Narva, Tallinn - to protect respondents' anonymity" in text
    assert "Narva secret comment" not in text and "Riga comment" not in text and "Tallinn was fine" in text
    assert "Comments from Narva, Rīga are not quoted: fewer than 10 customers answered there." in text

    # A unit's report compares one segment: its q-values are its p-values (a family of one per metric).
    _, shop_metrics = _report(settings, store, "Online shop")
    shop_changes = shop_metrics.filter(pl.col("metric").str.ends_with("_change") & pl.col("q_value").is_not_null())
    assert shop_changes.height > 0 and shop_changes["q_value"].to_list() == shop_changes["p_value"].to_list()

    narva, _ = _report(settings, store, "Narva")
    assert narva["meta"]["too_small"] and "fewer than 5 respondents" in narva["meta"]["too_small_text"]
    narva_text = " ".join(_pdf_text(narva, tmp_path).split())
    assert "fewer than 5 respondents in 2025" in narva_text
    assert "%" not in narva_text.split("Data quality")[0].replace("95 %", "")  # no figure before the data pages

    tallinn, _ = _report(settings, store, "Tallinn")
    assert (
        tallinn["meta"]["too_small"]
        and "work out the figures of a group too small" in tallinn["meta"]["too_small_text"]
    )
    estonia, _ = _report(settings, store, "Estonia")
    assert not estonia["meta"]["too_small"] and estonia["segments"]["rows"][-1]["segment"] == "Estonia"
    assert [r["segment"] for r in estonia["segments"]["rows"]] == ["Estonia"]
    assert estonia["segments"]["hidden_text"].startswith("Not shown: Tallinn, Narva")

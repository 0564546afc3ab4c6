"""The whole nightly flow on the demo data, under a real Prefect API, read back from its outputs."""

from __future__ import annotations

import email
import re
import shutil
from email import policy
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from flows.demo_data import write_demo_exports
from flows.scorecard_report import NoDataError
from flows.settings import Settings, load_settings
from flows.store import Store
from tests.conftest import REPO

UNITS = ("Tallinn", "Rīga", "Narva", "Cape Town", "Online shop")


def _text(pdf: Path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    return re.sub(r"[\u00a0\u202f]", " ", text)


@pytest.fixture(scope="module")
def demo(prefect_harness, tmp_path_factory) -> tuple[Settings, dict, dict, dict, dict]:
    from flows.pipeline import nightly

    project = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "config", project / "config")
    settings = load_settings(project / "config")
    write_demo_exports(settings.inbox)
    first = nightly(str(settings.config_dir))
    versions_after_first = Store(settings.store).versions()
    second = nightly(str(settings.config_dir))
    return settings, first, second, versions_after_first, Store(settings.store).versions()


def test_every_row_accounted_for(demo):
    """Each demo file satisfies read = loaded + quarantined; the planted bad rows are quarantined."""
    _, first, *_ = demo
    assert len(first["files"]) == 6
    for f in first["files"]:
        assert f["status"] == "loaded"
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"]
    assert first["totals"]["rows_quarantined"] == 9
    assert first["totals"]["rows_read"] == first["totals"]["rows_loaded"] + 9


def test_emails_carry_the_pdf(demo):
    """One email per recipient lands in the outbox with the PDF attached byte for byte and headline numbers."""
    _, first, *_ = demo
    pdf = Path(first["reports"][0]["pdf"]).read_bytes()
    assert {e["status"] for e in first["emails"]} == {"written_to_outbox"}
    assert len(first["emails"]) == 2
    for sent in first["emails"]:
        message = email.message_from_bytes(Path(sent["path"]).read_bytes(), policy=policy.default)
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == pdf
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "of customers were satisfied" in body and "Net Promoter Score" in body


def test_pdf_numbers_equal_metrics_file(demo):
    """The CSAT, NPS and response counts printed in the PDF are those of the metrics file."""
    _, first, *_ = demo
    report = first["reports"][0]
    metrics = pl.read_csv(report["metrics_csv"], schema_overrides={"period": pl.String})
    text = _text(Path(report["pdf"]))
    current = metrics.filter((pl.col("period") == report["period"]) & (pl.col("mode") == "all"))

    def value(metric: str, segment: str) -> float:
        return current.filter((pl.col("metric") == metric) & (pl.col("segment") == segment))["value"][0]

    for segment in ("All", *UNITS):
        assert f"{value('csat_top2box', segment) * 100:.1f} %" in text, segment
        assert f"{round(value('nps', segment)):+d}" in text, segment
        assert f"{int(value('responses', segment)):,}" in text, segment
    assert f"{value('mean_score', 'All'):.2f}" in text


def test_pdf_has_no_attachments_and_shows_data_quality(demo):
    """The PDF embeds no files and its data-quality page lists every input file with the equation."""
    _, first, *_ = demo
    pdf = Path(first["reports"][0]["pdf"])
    reader = PdfReader(pdf)
    assert reader.attachments == {}
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get("/Names", {}))
    text = _text(pdf)
    for f in first["files"]:
        assert f["file"] in text
        assert f"{f['rows_read']:,} = {f['rows_loaded']:,} + {f['rows_quarantined']:,}" in text


def test_second_run_loads_and_sends_nothing(demo):
    """Re-running the nightly flow loads no rows, writes no store version and emails nobody again."""
    settings, first, second, versions_after_first, versions_after_second = demo
    assert second["files"] == []
    assert {e["status"] for e in second["emails"]} == {"already_delivered"}
    assert versions_after_second == versions_after_first
    outbox = sorted(p.name for p in settings.outbox.rglob("*.eml"))
    assert outbox == sorted(Path(e["path"]).name for e in first["emails"])


def test_unit_report_contains_only_that_unit(demo):
    """An on-demand report for one unit, to its manager, carries no other unit's figures or comments."""
    from flows.pipeline import report

    settings, *_ = demo
    result = report(str(settings.config_dir), period="2025", segment="Rīga", recipients=["riga@northwind.example"])
    [sent] = result["emails"]
    assert sent["recipient"] == "riga@northwind.example" and sent["status"] == "written_to_outbox"
    text = _text(Path(result["reports"][0]["pdf"]))
    assert "Rīga" in text
    for other in set(UNITS) - {"Rīga"}:
        assert other not in text
    metrics = pl.read_csv(result["reports"][0]["metrics_csv"])
    assert set(metrics["segment"]) == {"Rīga"}


def test_missing_period_fails_loudly(demo):
    """Asking for a period without answers fails the run with a clear message; no PDF, no email."""
    from flows.pipeline import report

    settings, *_ = demo
    before = sorted(settings.outbox.rglob("*.eml"))
    with pytest.raises(NoDataError, match="no answers for period 2019"):
        report(str(settings.config_dir), period="2019")
    assert not (settings.reports / "2019").exists()
    assert sorted(settings.outbox.rglob("*.eml")) == before


def test_reproduction_is_written_beside_the_current_report(demo):
    """Reproducing 'as of' the first run's data time gives its metrics, in a separate file beside the current one."""
    from datetime import datetime

    from flows.pipeline import report

    settings, first, *_ = demo
    current = first["reports"][0]
    before = Path(current["pdf"]).read_bytes()
    as_of = datetime.fromisoformat(current["data_as_of"])
    result = report(str(settings.config_dir), period="2025", as_of=as_of, recipients=["archive@northwind.example"])
    reproduced = result["reports"][0]
    assert "_as-of-" in reproduced["pdf"]
    assert Path(current["pdf"]).read_bytes() == before
    now = pl.read_csv(current["metrics_csv"]).drop("data_as_of")
    then = pl.read_csv(reproduced["metrics_csv"]).drop("data_as_of")
    assert now.equals(then)

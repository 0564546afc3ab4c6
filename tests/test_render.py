"""Scorecard rendering end to end: real WeasyPrint, real PDFs read back with pypdf, no mocks."""

from __future__ import annotations

import errno
import io
import os
import re
from pathlib import Path

import jinja2
import pytest
from pypdf import PdfReader
from report_fixtures import MULTILINGUAL, metrics_frame, scorecard_inputs
from weasyprint.urls import FatalURLFetchingError

from flows import files as files_module
from flows.charts import scorecard_charts
from flows.render import (
    TEMPLATES_DIR,
    ReportFetcher,
    ReportRenderError,
    html_to_pdf,
    render_pdf,
    render_scorecard,
    template_environment,
)
from transforms.report_context import build_scorecard_context, sanitise_text

REPO = Path(__file__).resolve().parents[1]
LOGO = REPO / "config" / "logo.svg"
HOSTILE = (
    '<script>alert(1)</script><img src="http://169.254.169.254/latest"> '
    '<link rel=attachment href="file:///etc/passwd"> & <b>bold</b>'
)
HUGE = "\u200b\u202e\x00Start" + "y" * 1_000_000 + "\u2066end\x00"


class RecordingFetcher(ReportFetcher):
    """A ReportFetcher that remembers every URL WeasyPrint asked it for."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[str] = []

    def fetch(self, url, headers=None):
        self.asked.append(url)
        return super().fetch(url, headers)


def squash(text: str) -> str:
    """Text without any whitespace (PDF line breaks and NBSPs fall where layout puts them)."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def context() -> dict:
    return build_scorecard_context(*scorecard_inputs(extra_comments=[HOSTILE, HUGE]))


@pytest.fixture(scope="module")
def rendered(context: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, RecordingFetcher]:
    out = tmp_path_factory.mktemp("report") / "scorecard_2025.pdf"
    fetcher = RecordingFetcher(extra_allowed=(LOGO,))
    pdf = render_scorecard(context, out, logo=LOGO, fetcher=fetcher)
    return out, pdf, fetcher


@pytest.fixture(scope="module")
def pdf_text(rendered: tuple[Path, bytes, RecordingFetcher]) -> str:
    reader = PdfReader(io.BytesIO(rendered[1]))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_hostile_comment_prints_literally_and_fetches_nothing(rendered, pdf_text):
    """Markup in a comment is printed as text, embeds nothing, and the fetcher only served data: and bundled files."""
    out, pdf, fetcher = rendered
    assert squash(HOSTILE) in squash(pdf_text)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    names = reader.trailer["/Root"].get("/Names")
    assert names is None or "/EmbeddedFiles" not in names.get_object()
    assert "root:x:0:0" not in pdf_text
    assert out.read_bytes() == pdf
    assert fetcher.asked, "the fetcher served the stylesheet, fonts, charts and logo"
    templates = TEMPLATES_DIR.resolve().as_uri() + "/"
    for url in fetcher.asked:
        assert url.startswith(("data:", templates)) or url == LOGO.resolve().as_uri(), url[:120]
    assert not any("169.254" in url or "/etc/passwd" in url for url in fetcher.asked)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/logo.png",
        "ftp://example.com/x",
        "file://evil.example/etc/passwd",
        (TEMPLATES_DIR / "fonts" / ".." / ".." / "pyproject.toml").as_uri(),
        TEMPLATES_DIR.resolve().as_uri() + "/%2e%2e/pyproject.toml",
        "file:///etc/passwd%00.ttf",
    ],
)
def test_fetcher_refuses_anything_outside_the_templates(url):
    """The fetcher refuses other files, network schemes and `..` escapes with a fatal error."""
    with pytest.raises(FatalURLFetchingError):
        ReportFetcher().fetch(url)


def test_refusal_is_logged_with_the_url_but_no_payload(caplog):
    """A refused fetch is logged naming the URL without its query; data: payloads are never logged."""
    with caplog.at_level("ERROR", logger="flows.render"), pytest.raises(FatalURLFetchingError):
        ReportFetcher().fetch("https://example.com/track?comment=secret-customer-text")
    assert "https://example.com/track" in caplog.text
    assert "secret-customer-text" not in caplog.text
    with pytest.raises(FatalURLFetchingError) as refused:
        ReportFetcher().fetch("gopher://x/" + "c" * 500)
    assert len(str(refused.value)) < 400


def test_fetcher_refuses_a_symlink_out_of_the_templates(tmp_path):
    """A symlink inside the templates folder that points outside it is refused."""
    templates = tmp_path / "templates"
    templates.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (templates / "link.css").symlink_to(secret)
    with pytest.raises(FatalURLFetchingError):
        ReportFetcher(templates).fetch((templates / "link.css").as_uri())


def test_fetcher_serves_bundled_font_data_urls_and_allowed_extras():
    """A bundled font, a data: URL and an explicitly allowed file are served."""
    fetcher = ReportFetcher(extra_allowed=(LOGO,))
    font = fetcher.fetch((TEMPLATES_DIR / "fonts" / "DejaVuSans.ttf").as_uri())
    assert font.read(4) == b"\x00\x01\x00\x00"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    assert b"<svg" in fetcher.fetch(LOGO.as_uri()).read()
    with pytest.raises(FatalURLFetchingError):
        ReportFetcher().fetch(LOGO.as_uri())  # not allowed unless passed explicitly


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="file:///etc/passwd">',
        '<img src="http://169.254.169.254/latest">',
        '<link rel="attachment" href="file:///etc/passwd">',
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
        '<style>@import url("file:///etc/passwd");</style>',
    ],
)
def test_template_referencing_outside_resources_fails_without_pdf(markup, tmp_path):
    """A template that references a local file or a URL fails loudly and writes no PDF."""
    html = template_environment().from_string(f"<html><body><p>x</p>{markup}</body></html>").render()
    out = tmp_path / "report.pdf"
    with pytest.raises((ReportRenderError, FatalURLFetchingError)):
        html_to_pdf(html, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_template_variable_raises_before_any_pdf(context, tmp_path):
    """A context without a variable the template uses raises and creates no file."""
    incomplete = {key: value for key, value in context.items() if key != "modes"}
    incomplete.update(charts={}, logo_url="")
    out = tmp_path / "report.pdf"
    with pytest.raises(jinja2.UndefinedError):
        render_pdf("scorecard.html", incomplete, out)
    assert not out.exists()


def test_autoescape_applies_to_every_template():
    """Autoescape is on regardless of template name or extension."""
    env = template_environment()
    assert env.from_string("{{ x }}").render(x="<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert env.autoescape is True


def test_huge_comment_is_sanitised_truncated_and_renders(context, rendered, pdf_text):
    """A 1 MB comment without spaces, with zero-width/bidi marks and NULs, is cleaned and cut; the PDF completes."""
    item = next(c for c in context["comments"]["items"] if c["text"].startswith("Start"))
    assert item["truncated"]
    assert len(item["text"]) <= context["meta"]["comment_max_chars"]
    assert item["text"].endswith("…")
    assert not re.search("[\x00\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", item["text"])
    assert rendered[0].stat().st_size > 0
    assert squash(item["text"]) in squash(pdf_text)


def test_sanitise_text_keeps_single_line_breaks_and_drops_controls():
    """Control and invisible characters go, whitespace collapses, one newline survives, nothing is markup."""
    text, cut = sanitise_text("a\x07\u200b b\t\t c\r\n\n\n d\ufeff <i>", 100)
    assert (text, cut) == ("a b c\nd <i>", False)
    assert sanitise_text("one\r\ntwo\tthree\u2028four\x0cfive", 100) == ("one\ntwo three\nfour five", False)
    short, cut = sanitise_text("word " * 50, 40)
    assert cut
    assert len(short) <= 40
    assert short.endswith("…")


def test_multilingual_comments_render_correctly(pdf_text):
    """Russian, Estonian, Latvian and Afrikaans comments come back from the PDF unchanged."""
    text = squash(pdf_text)
    for comment in MULTILINGUAL:
        assert squash(comment) in text, comment


def test_printed_numbers_equal_the_metrics_frame(pdf_text):
    """Headline and segment-table figures in the PDF are the metrics frame's values, formatted."""
    text = squash(pdf_text)
    frame = metrics_frame()

    def row(metric: str, segment: str) -> dict:
        rows = frame.filter(
            (frame["metric"] == metric)
            & (frame["period"] == "2025")
            & (frame["segment"] == segment)
            & (frame["mode"] == "all")
        ).to_dicts()
        assert len(rows) == 1
        return rows[0]

    for segment in ("All", "Retail", "Business", "Online shop", "Tartu branch"):
        csat, nps = row("csat_top2box", segment), row("nps", segment)
        assert f"{100 * csat['value']:.1f}%" in text
        assert f"{100 * csat['ci_low']:.1f}–{100 * csat['ci_high']:.1f}%" in text
        assert f"{csat['n']:,}" in text
        assert f"{nps['value']:+.0f}" in text
        assert f"{nps['ci_low']:+.0f}to{nps['ci_high']:+.0f}" in text
        change = row("csat_top2box_change", segment)
        assert f"{100 * change['value']:+.1f}pts" in text
        assert f"p={change['p_value']:.3f}" in text
    headline = row("csat_top2box", "All")
    assert f"{100 * headline['value']:.1f}%ofcustomersweresatisfied" in text
    assert f"NetPromoterScore{row('nps', 'All')['value']:+.0f}" in text
    assert "1,640=1,623+17" in text  # data quality: read = loaded + quarantined, totals


def test_failed_write_keeps_previous_pdf_and_leaves_no_temp_file(context, tmp_path, monkeypatch):
    """A disk-full error while replacing the PDF leaves the previous file intact and no temp file behind."""
    out = tmp_path / "scorecard_2025.pdf"
    out.write_bytes(b"%PDF-previous report")

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files_module.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        render_scorecard(context, out)
    assert out.read_bytes() == b"%PDF-previous report"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_empty_period_is_refused():
    """A metrics frame without rows for the requested period raises instead of giving an empty report."""
    metrics, files, reasons, comments, meta = scorecard_inputs(period="2030")
    with pytest.raises(ValueError, match="2030"):
        build_scorecard_context(metrics, files, reasons, comments, meta)


def test_unit_report_shows_only_that_unit():
    """A segment's report lists that segment alone in the segment table."""
    context = build_scorecard_context(*scorecard_inputs(segment="Retail"))
    assert [r["segment"] for r in context["segments"]["rows"]] == ["Retail"]
    assert context["headline"]["csat"]["text"] == "82.1\u00a0%"


def test_charts_are_deterministic_vector_svg(context):
    """The same context draws byte-identical SVGs with text kept as text and no date."""
    first, second = scorecard_charts(context), scorecard_charts(context)
    assert first == second
    assert set(first) == {"segments", "trend", "csat_by_mode"}
    for svg in first.values():
        assert svg.lstrip().startswith("<?xml")
        assert "<text" in svg
        assert "<dc:date>" not in svg


def test_worker_processes_render_the_same_reports(context: dict, pdf_text: str):
    """Reports rendered in spawned worker processes are complete PDFs with the same text as in-process."""
    from flows.render import render_scorecards

    unit = build_scorecard_context(*scorecard_inputs(segment="Retail"))
    company_pdf, unit_pdf = render_scorecards([(context, LOGO), (unit, LOGO)], workers=2)

    def text(pdf: bytes) -> str:
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)

    assert text(company_pdf).split("Data as of", 1)[0] == pdf_text.split("Data as of", 1)[0]
    assert "ANNUAL REPORT · RETAIL" in text(unit_pdf)

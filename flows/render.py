"""Report context -> HTML (Jinja) -> PDF (WeasyPrint), written atomically.

Every resource WeasyPrint asks for goes through `ReportFetcher`: `data:` URLs and files
inside `report_templates/` (plus an explicit allow-list, e.g. the configured logo) are
served; anything else (http, https, ftp, files elsewhere, `..` or symlinks out of the
folder) stops the render. Templates are autoescaped whatever their extension and a
missing variable is an error before any PDF exists. A PDF carrying attachments is
refused; the file on disk is replaced atomically, so a failed write leaves the previous
report intact.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from flows.charts import scorecard_charts
from flows.files import atomic_write_bytes

LOGGER = logging.getLogger(__name__)
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "report_templates"
# Every report's style, then the kind's own (flows/report_kinds.py names them per kind).
COMMON_STYLESHEET = "css/common.css"
SCORECARD_STYLESHEETS = (COMMON_STYLESHEET, "css/scorecard.css")
SCORECARD_TEMPLATE = "scorecard.html"
IMPROVEMENT_STYLESHEETS = (COMMON_STYLESHEET, "css/improvement.css")
IMPROVEMENT_TEMPLATE = "improvement.html"
RENDERS_PER_WORKER = 25  # a fresh worker process after this many reports (WeasyPrint keeps memory)
# Below this many reports one process is faster: a worker's start (~3 s of imports and a first
# layout) outweighs what a second core gives. Measured on the 2-core reference machine (bench/README.md):
# 7 reports 11.5 s in-process vs 16.5 s in 2 workers; 28 reports 46 s vs 32 s.
WORKERS_FROM_REPORTS = 12


class ReportRenderError(RuntimeError):
    """The report could not be rendered safely; no PDF was written."""


def describe_url(url: str, limit: int = 160) -> str:
    """A URL for logs and errors: scheme, host and path only (no query, no data: payload), shortened."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "data":
        media = url[5:].split(",", 1)[0].split(";", 1)[0] or "text/plain"
        return f"data:{media} ({len(url)} chars)"
    try:
        parts = urlsplit(url)
        shown = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path
    except ValueError:
        shown = "(malformed URL)"
    shown = "".join(ch if ch.isprintable() else "?" for ch in shown)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class ReportFetcher(URLFetcher):
    """WeasyPrint fetcher that serves `data:` URLs and bundled template assets, and refuses the rest.

    Refusal raises `FatalURLFetchingError` (a BaseException WeasyPrint does not swallow), so
    a blocked resource stops the render instead of becoming a logged warning.
    """

    def __init__(self, templates_dir: Path = TEMPLATES_DIR, extra_allowed: Iterable[Path] = (), **kwargs: Any):
        kwargs["allow_redirects"] = False
        kwargs.setdefault("timeout", 5)
        super().__init__(**kwargs)
        self.root = Path(os.path.realpath(templates_dir))
        self.extra_allowed = frozenset(Path(os.path.realpath(p)) for p in extra_allowed)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)  # urllib's DataHandler decodes it: no IO
        if scheme == "file" and (path := self._allowed_file(url)) is not None:
            LOGGER.debug("serving bundled asset %s", path.name)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime})
        shown = describe_url(url)
        LOGGER.error("report render refused to fetch %s (only data: URLs and bundled assets are allowed)", shown)
        raise FatalURLFetchingError(
            f"refused to fetch {shown}: only data: URLs and files under {self.root} are allowed"
        )

    def _allowed_file(self, url: str) -> Path | None:
        """The real path of a file: URL if it is a bundled asset or explicitly allowed, else None."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.netloc not in ("", "localhost"):
            return None
        raw = url2pathname(unquote(parts.path))
        if "\x00" in raw or not os.path.isabs(raw):
            return None
        real = Path(os.path.realpath(raw))  # resolves `..` and symlinks before the check
        if not real.is_file():
            return None
        if real in self.extra_allowed or real.is_relative_to(self.root):
            return real
        return None


def template_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Jinja environment for reports: autoescape on for every template, missing variables are errors."""
    return Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=True,  # regardless of extension (select_autoescape would skip unknown ones)
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(template: str, context: dict[str, Any], *, templates_dir: Path = TEMPLATES_DIR) -> str:
    """The report as HTML; raises jinja2.UndefinedError on a missing variable."""
    return template_environment(templates_dir).get_template(template).render(**context)


def svg_data_uri(svg: str) -> str:
    """An SVG as a `data:` URL for `<img src>` (base64: nothing in it can end the attribute)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def html_to_pdf(
    html: str,
    out_path: Path | None,
    *,
    extra_allowed: tuple[Path, ...] = (),
    fetcher: ReportFetcher | None = None,
    templates_dir: Path = TEMPLATES_DIR,
    stylesheets: Sequence[str] = SCORECARD_STYLESHEETS,
) -> bytes:
    """Lay out `html` with the report's stylesheets, write the PDF atomically (unless `out_path` is None), return it.

    One FontConfiguration serves the stylesheet and the layout; the same fetcher serves the
    HTML, the stylesheet and the document (v70's write step uses the document's fetcher for
    attachments). Nothing is written when a fetch is refused or the PDF would carry attachments.
    """
    fetcher = fetcher if fetcher is not None else ReportFetcher(templates_dir, extra_allowed=extra_allowed)
    font_config = FontConfiguration()
    base_url = templates_dir.resolve().as_uri() + "/"
    try:
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        sheets = [
            CSS(url=(templates_dir / name).resolve().as_uri(), url_fetcher=fetcher, font_config=font_config)
            for name in stylesheets
        ]
        rendered = document.render(font_config=font_config, stylesheets=sheets, presentational_hints=False)
        if rendered.url_fetcher is not fetcher:
            raise ReportRenderError("the document does not use the report fetcher")
        _refuse_attachments(rendered)
        pdf = rendered.write_pdf(presentational_hints=False)
    except FatalURLFetchingError as exc:
        raise ReportRenderError(f"report not rendered: {exc}") from exc
    if out_path is not None:
        atomic_write_bytes(out_path, pdf)
    return pdf


def _refuse_attachments(document: Any) -> None:
    """A report never embeds files: `<link rel=attachment>` or `<a rel=attachment>` would copy any readable file."""
    count = len(document.metadata.attachments or [])
    count += sum(1 for page in document.pages for link in page.links if link[0] == "attachment")
    if count:
        raise ReportRenderError(f"report not rendered: the document would embed {count} attachment(s)")


def render_pdf(
    template: str,
    context: dict[str, Any],
    out_path: Path | None,
    *,
    extra_allowed: tuple[Path, ...] = (),
    fetcher: ReportFetcher | None = None,
    templates_dir: Path = TEMPLATES_DIR,
    stylesheets: Sequence[str] = SCORECARD_STYLESHEETS,
) -> bytes:
    """Render `template` with `context` to a PDF at `out_path` (atomic) and return the bytes.

    A missing template variable raises before any PDF exists; a refused fetch raises
    ReportRenderError. `extra_allowed` lists files outside report_templates/ the template may
    reference (the configured logo); `fetcher` replaces the default ReportFetcher.
    """
    html = render_html(template, context, templates_dir=templates_dir)
    return html_to_pdf(
        html,
        out_path,
        extra_allowed=extra_allowed,
        fetcher=fetcher,
        templates_dir=templates_dir,
        stylesheets=stylesheets,
    )


def _with_logo(logo: Path | None) -> tuple[tuple[Path, ...], str]:
    """The configured logo as an allowed file and its URL (none: nothing allowed, no URL)."""
    if logo is None:
        return (), ""
    logo = logo.resolve()
    return (logo,), logo.as_uri()


def render_scorecard(
    context: dict[str, Any],
    out_path: Path | None,
    *,
    logo: Path | None = None,
    fetcher: ReportFetcher | None = None,
) -> bytes:
    """The annual scorecard PDF: charts drawn from the context, logo allowed explicitly, then render_pdf.

    Returns the bytes; writes them atomically to `out_path` unless it is None.
    """
    charts = {name: svg_data_uri(svg) for name, svg in scorecard_charts(context).items()}
    extra, logo_url = _with_logo(logo)
    full = {**context, "charts": charts, "logo_url": logo_url}
    return render_pdf(SCORECARD_TEMPLATE, full, out_path, extra_allowed=extra, fetcher=fetcher)


def render_improvement(
    context: dict[str, Any],
    out_path: Path | None,
    *,
    logo: Path | None = None,
    fetcher: ReportFetcher | None = None,
) -> bytes:
    """The continuous-improvement PDF: its charts from the context, its template and stylesheets."""
    from flows.improvement_charts import improvement_charts

    charts = {name: svg_data_uri(svg) for name, svg in improvement_charts(context).items()}
    extra, logo_url = _with_logo(logo)
    full = {**context, "charts": charts, "logo_url": logo_url}
    return render_pdf(
        IMPROVEMENT_TEMPLATE, full, out_path, extra_allowed=extra, fetcher=fetcher, stylesheets=IMPROVEMENT_STYLESHEETS
    )


RENDERERS = {"scorecard": render_scorecard, "improvement": render_improvement}


def _render_in_worker(job: tuple[str, dict[str, Any], Path | None]) -> bytes:
    kind, context, logo = job
    return RENDERERS[kind](context, None, logo=logo)


def render_reports(
    kind: str, jobs: Sequence[tuple[dict[str, Any], Path | None]], workers: int | None = None
) -> list[bytes]:
    """Render several reports of one kind (context, logo) to PDF bytes, in order.

    From WORKERS_FROM_REPORTS reports on (or when `workers` is given): in worker processes,
    every core busy, each recycled after RENDERS_PER_WORKER reports because WeasyPrint does
    not return memory. Spawned, not forked: the parent runs Prefect's threads, which a fork
    would copy in an unknown state.
    """
    if workers is None:
        workers = (os.cpu_count() or 1) if len(jobs) >= WORKERS_FROM_REPORTS else 1
    workers = min(workers, len(jobs))
    tasks = [(kind, context, logo) for context, logo in jobs]
    if workers <= 1:
        return [_render_in_worker(task) for task in tasks]
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=RENDERS_PER_WORKER
    ) as pool:
        return list(pool.map(_render_in_worker, tasks))


def render_scorecards(jobs: Sequence[tuple[dict[str, Any], Path | None]], workers: int | None = None) -> list[bytes]:
    """Several scorecards: `render_reports` of the scorecard kind."""
    return render_reports("scorecard", jobs, workers)

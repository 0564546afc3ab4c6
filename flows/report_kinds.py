"""Report kinds: a report is one declaration here - the sources it reads, how its data is read from the
store and cut per scope, its context builder, its template, its email and its delivery schedule.

The `nightly` and `report` flows, per-unit delivery, corrections and the content fingerprint serve
every kind alike (flows/pipeline.py): adding a report is a declaration in `REPORT_KINDS`, its data
module (like flows/scorecard_report.py), its context builder under transforms/report_context/ and its
template under report_templates/.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flows import email_text, improvement_report
from flows.scorecard_report import (
    READS,
    ReportFiles,
    ReportScope,
    read_snapshot,
    scope_scorecard,
    scorecard_meta,
)
from flows.settings import Settings
from flows.store import Store
from transforms.report_context import build_scorecard_context
from transforms.report_context.improvement import build_improvement_context


@dataclass(frozen=True)
class ReportKind:
    name: str  # in file names, delivery keys and `csat report --kind`
    title: str  # for people: the attached PDF's name
    reads: tuple[str, ...]  # sources: their files are on its data-quality page; their intake can hold it
    schedule: str  # "nightly": built every night for the company and every entitled scope
    default_period: Callable[[Settings], str]  # the period a scheduled run reports ('latest' or a label)
    # The store as the report needs it, once per run: (settings, store, period, units, as_of) -> snapshot.
    snapshot: Callable[[Settings, Store, str, tuple[str, ...] | None, datetime | None], Any]
    # One scope's cut of the snapshot (raises scorecard_report.NoDataError when the scope has no data).
    scope_data: Callable[[Any, ReportScope, Settings], Any]
    context: Callable[[Settings, Any, list[str]], dict[str, Any]]  # (settings, data, banner) -> what it prints
    # (context, logo) -> PDFs: its template (extending report_templates/base.html, macros from _macros/), its
    # stylesheets (css/common.css, then its own) and charts are the renderer's (flows/render.py).
    render: Callable[[Sequence[tuple[dict[str, Any], Path | None]]], list[bytes]]
    subject: Callable[[str, ReportFiles], str]  # (organisation, files) -> email subject
    body: Callable[[ReportFiles, dict[str, Any]], str]  # plain-text email body, no customer text
    headline: Callable[[dict[str, Any]], dict[str, dict[str, Any]]]  # figures a correction compares


def _renderer(kind: str) -> Callable[[Sequence[tuple[dict[str, Any], Path | None]]], list[bytes]]:
    def render(jobs: Sequence[tuple[dict[str, Any], Path | None]]) -> list[bytes]:
        from flows.render import render_reports  # WeasyPrint's import: only for a run that renders

        return render_reports(kind, jobs)

    return render


def _scorecard_context(settings: Settings, data: Any, banner: list[str]) -> dict[str, Any]:
    meta = scorecard_meta(settings, data, banner)
    return build_scorecard_context(data.metrics, data.files, data.quarantine_reasons, data.comments, meta)


SCORECARD = ReportKind(
    name="scorecard",
    title="Scorecard",
    reads=READS,
    schedule="nightly",
    default_period=lambda settings: settings.pipeline.report.period,
    snapshot=lambda settings, store, period, units, as_of: read_snapshot(
        settings, store, period=period, units=units, as_of=as_of
    ),
    scope_data=scope_scorecard,
    context=_scorecard_context,
    render=_renderer("scorecard"),
    subject=email_text.report_subject,
    body=email_text.report_body,
    headline=email_text.headline_figures,
)


def _improvement_context(settings: Settings, data: Any, banner: list[str]) -> dict[str, Any]:
    meta = improvement_report.improvement_meta(settings, data, banner)
    return build_improvement_context(data.metrics, data.excerpts, data.files, data.quarantine_reasons, meta)


# Monthly (or quarterly, yearly: `improvement.period`): built every night for the latest complete period,
# so it is sent once when a period completes, and again only as a correction when its data change.
IMPROVEMENT = ReportKind(
    name=improvement_report.KIND,
    title="Continuous improvement",
    reads=improvement_report.READS,
    schedule="nightly",
    default_period=lambda settings: "latest",
    snapshot=lambda settings, store, period, units, as_of: improvement_report.read_snapshot(
        settings, store, period=period, units=units, as_of=as_of
    ),
    scope_data=improvement_report.scope_improvement,
    context=_improvement_context,
    render=_renderer(improvement_report.KIND),
    subject=email_text.improvement_subject,
    body=email_text.improvement_body,
    headline=email_text.improvement_headline,
)

REPORT_KINDS: dict[str, ReportKind] = {kind.name: kind for kind in (SCORECARD, IMPROVEMENT)}
# Sources some report reads: a bad file of any other source holds no report (it is told, not gated).
READ_BY_REPORTS = tuple(dict.fromkeys(source for kind in REPORT_KINDS.values() for source in kind.reads))


def report_kind(name: str) -> ReportKind:
    if name not in REPORT_KINDS:
        raise ValueError(f"unknown report kind {name!r}; available: {', '.join(REPORT_KINDS)}")
    return REPORT_KINDS[name]

"""Every pipeline call the benchmark makes, and the configuration it writes, in one place.

Ingest: `flows.load_sources.load_inbox` (survey exports in `<inbox>/surveys`; its `timings`
dict is filled with seconds per stage).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from flows.load_sources import load_inbox
from flows.scorecard_report import (
    read_snapshot,
    report_scope,
    scope_scorecard,
    scorecard_meta,
    start_importing_statistics,
)
from flows.settings import Settings, load_settings
from flows.store import Store
from transforms.report_context import build_scorecard_context

REPO = Path(__file__).resolve().parents[1]
PERIOD = "2025"
NOW = datetime(2026, 6, 1, tzinfo=UTC)  # fixed, so every run reports the same complete period


def write_project(root: Path) -> None:
    """A project: the repository's configuration, a 10-question codebook (headers Q1..Q10), no settle delay."""
    shutil.copytree(REPO / "config", root / "config")
    (root / "var" / "inbox").mkdir(parents=True)
    scale_1_5 = {"min": 1, "max": 5}
    questions = [
        {"id": "q1", "text": "Overall satisfaction", "kind": "overall", "scale": scale_1_5},
        {"id": "q2", "text": "Likely to recommend", "kind": "nps", "scale": {"min": 0, "max": 10}},
        *({"id": f"q{i}", "text": f"Attribute {i}", "kind": "attribute", "scale": scale_1_5} for i in range(3, 11)),
    ]
    (root / "config" / "codebook.yaml").write_text(yaml.safe_dump({"questions": questions}, sort_keys=False))
    pipeline_file = root / "config" / "pipeline.yaml"
    pipeline = yaml.safe_load(pipeline_file.read_text(encoding="utf-8"))
    pipeline["columns"]["questions"] = {f"q{i}": f"Q{i}" for i in range(1, 11)}
    pipeline["intake"]["settle_seconds"] = 0
    pipeline.pop("management", None)  # its service standards name the shipped codebook's dimensions
    pipeline_file.write_text(yaml.safe_dump(pipeline, allow_unicode=True, sort_keys=False), encoding="utf-8")


def open_project(project: Path) -> tuple[Settings, Store]:
    settings = load_settings(project / "config")
    return settings, Store(settings.store)


def survey_inbox(settings: Settings) -> Path:
    """The folder survey exports are dropped into (created if missing)."""
    folder = settings.source_folder("surveys")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ingest(settings: Settings, store: Store) -> tuple[int, dict[str, float]]:
    """Load every new inbox file; return the rows loaded and the ingest's own per-stage seconds (if it gives them)."""
    timings: dict[str, float] = {}
    start_importing_statistics()  # as a pipeline run does before its ingest
    outcomes = load_inbox(settings, store, timings=timings)
    return sum(o.rows_loaded for o in outcomes), timings


def metrics(settings: Settings, store: Store) -> Any:
    """Every scope's metrics in one pass over the store (the snapshot all reports are cut from)."""
    return read_snapshot(settings, store, period=PERIOD, now=NOW)


def report_contexts(settings: Settings, snapshot: Any) -> list[dict[str, Any]]:
    """Each scope's cut of the snapshot, formatted for its template (what a PDF prints)."""
    contexts = []
    for name in settings.scope_names:
        data = scope_scorecard(snapshot, report_scope(settings, name), settings)
        meta = scorecard_meta(settings, data)
        contexts.append(build_scorecard_context(data.metrics, data.files, data.quarantine_reasons, data.comments, meta))
    return contexts


def improvement(settings: Settings, store: Store) -> list[dict[str, Any]]:
    """The monthly improvement report's snapshot (every metric, every unit) and each scope's context."""
    from flows import improvement_report
    from flows.report_kinds import IMPROVEMENT

    snapshot = improvement_report.read_snapshot(settings, store, now=NOW)
    return [
        IMPROVEMENT.context(
            settings, improvement_report.scope_improvement(snapshot, report_scope(settings, name), settings), []
        )
        for name in settings.scope_names
    ]


def render(settings: Settings, contexts: list[dict[str, Any]]) -> int:
    """Render the PDFs in memory; return how many."""
    from flows.render import render_scorecards

    return len(render_scorecards([(context, settings.logo) for context in contexts]))

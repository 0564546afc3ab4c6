"""Report contexts: the metrics frame and its companions turned into plain, display-ready values.

Pure (no IO): frames in, a dict of str/int/float/bool/list/dict out, numbers formatted for
the report's locale with the raw values alongside. Shared by every report kind:

- `text`: customer text and labels from data, sanitised to plain text
- `numbers`: the locale's number formatting (`Formatter`), intervals
- `lookup`: figures from the metrics frame (`Metrics`, `MetricRow`)
- `figures`: one metric or change as plain values, and the clauses about them
- `vocabulary`: display names of modes and metrics
- `comments`: customer comments as printed excerpts
- `data_quality`: the data-quality page (files, row accounting, quarantine reasons)

Per report kind: `scorecard` (`build_scorecard_context`, `ScorecardMeta`).
"""

from __future__ import annotations

from transforms.report_context.comments import comment_excerpts
from transforms.report_context.data_quality import QUARANTINE_SHOWN, data_quality_page
from transforms.report_context.figures import (
    SIGNIFICANCE,
    SMALL_SAMPLE_MARK,
    change_clause,
    change_values,
    metric_values,
    sample_clause,
)
from transforms.report_context.lookup import METRICS_COLUMNS, MetricRow, Metrics, answer_count
from transforms.report_context.numbers import NBSP, Formatter, float_or_none, interval_text, to_percent
from transforms.report_context.scorecard import ScorecardMeta, build_scorecard_context
from transforms.report_context.text import BANNER_CHARS, BANNER_LINES, label, sanitise_text
from transforms.report_context.vocabulary import GROUP_ORDER, METRIC_LABELS, MODE_LABELS, MODE_ORDER

__all__ = [
    "BANNER_CHARS",
    "BANNER_LINES",
    "GROUP_ORDER",
    "METRICS_COLUMNS",
    "METRIC_LABELS",
    "MODE_LABELS",
    "MODE_ORDER",
    "NBSP",
    "QUARANTINE_SHOWN",
    "SIGNIFICANCE",
    "SMALL_SAMPLE_MARK",
    "Formatter",
    "MetricRow",
    "Metrics",
    "ScorecardMeta",
    "answer_count",
    "build_scorecard_context",
    "change_clause",
    "change_values",
    "comment_excerpts",
    "data_quality_page",
    "float_or_none",
    "interval_text",
    "label",
    "metric_values",
    "sample_clause",
    "sanitise_text",
    "to_percent",
]

"""Customer comments as printed excerpts: sanitised, shortened, with date, segment, mode and score.

Which comments a report quotes is decided before (transforms/comments.py); this only makes
them safe and display-ready.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from transforms.report_context.numbers import Formatter, float_or_none
from transforms.report_context.text import label, sanitise_text
from transforms.report_context.vocabulary import MODE_LABELS


def comment_excerpts(comments: pl.DataFrame, fmt: Formatter, max_chars: int) -> dict[str, Any]:
    """The comments to print, each cut to `max_chars`; comments that are empty once cleaned are left out."""
    items = []
    for r in comments.iter_rows(named=True):
        text, truncated = sanitise_text(r.get("comment"), max_chars)
        if not text:
            continue
        score = float_or_none(r.get("overall_value"))
        items.append(
            {
                "text": text,
                "truncated": truncated,
                "date_text": fmt.date(r.get("submitted_at")),
                "segment": label(r.get("segment"), 60),
                "mode": MODE_LABELS.get(str(r.get("mode")), label(r.get("mode"), 30)),
                "score": score,
                "score_text": fmt.dec(score, "#,##0.#") if score is not None else "",
            }
        )
    return {"items": items, "count": len(items), "max_chars": max_chars}

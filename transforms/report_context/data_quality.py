"""The data-quality page: every input file with its row accounting, grouped by source, and the quarantine reasons.

Which files and reasons a report shows is decided before (transforms/data_quality.py);
this formats them and checks each file's invariant, rows read = loaded + quarantined.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from transforms.data_quality import FILES_COLUMNS
from transforms.report_context.numbers import Formatter
from transforms.report_context.text import label

QUARANTINE_SHOWN = 25


def _balance_text(fmt: Formatter, read: int, loaded: int, quarantined: int) -> str:
    """'820 = 812 + 8' (or '≠' when rows went missing): the per-file invariant, shown."""
    sign = "=" if read == loaded + quarantined else "≠"
    return f"{fmt.count(read)} {sign} {fmt.count(loaded)} + {fmt.count(quarantined)}"


def data_quality_page(
    files: pl.DataFrame, quarantine_reasons: pl.DataFrame, fmt: Formatter, source_titles: dict[str, str] | None = None
) -> dict[str, Any]:
    """The files table, grouped by source (each with its own totals), and the quarantine reasons."""
    missing = [c for c in FILES_COLUMNS if c not in files.columns]
    if missing:
        raise ValueError(f"ingest files frame lacks column(s) {', '.join(missing)}")
    titles = source_titles or {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in files.sort("source", "source_file").iter_rows(named=True):
        read, loaded, quarantined = (int(r[c] or 0) for c in ("rows_read", "rows_loaded", "rows_quarantined"))
        dupes = int(r["duplicates_superseded"] or 0)
        groups.setdefault(str(r["source"]), []).append(
            {
                "file": label(r["source_file"], 80),
                "status": str(r["status"]),
                "read": read,
                "loaded": loaded,
                "quarantined": quarantined,
                "duplicates": dupes,
                "read_text": fmt.count(read),
                "loaded_text": fmt.count(loaded),
                "quarantined_text": fmt.count(quarantined),
                "duplicates_text": fmt.count(dupes),
                "balanced": read == loaded + quarantined,
                "check_text": _balance_text(fmt, read, loaded, quarantined),
            }
        )
    rows = [row for group in groups.values() for row in group]
    totals = _file_totals(rows, fmt)
    reasons = []
    if quarantine_reasons.height:
        ordered = quarantine_reasons.sort(["rows", "source_file", "reason"], descending=[True, False, False])
        for r in ordered.head(QUARANTINE_SHOWN).iter_rows(named=True):
            reasons.append(
                {
                    "file": label(r["source_file"], 80),
                    "reason": label(r["reason"], 200),
                    "rows": int(r["rows"] or 0),
                    "rows_text": fmt.count(int(r["rows"] or 0)),
                }
            )
    return {
        "sources": [
            {"title": label(titles.get(name, name), 80), "files": group, "totals": _file_totals(group, fmt)}
            for name, group in groups.items()
        ],
        "files": rows,
        "file_count": len(rows),
        "totals": totals,
        "all_balanced": all(r["balanced"] for r in rows) and totals["balanced"],
        "unbalanced_files": [r["file"] for r in rows if not r["balanced"]],
        "quarantine_reasons": reasons,
        "quarantine_reasons_more": max(0, quarantine_reasons.height - QUARANTINE_SHOWN),
    }


def _file_totals(rows: list[dict[str, Any]], fmt: Formatter) -> dict[str, Any]:
    totals = {k: sum(r[k] for r in rows) for k in ("read", "loaded", "quarantined", "duplicates")}
    balanced = totals["read"] == totals["loaded"] + totals["quarantined"]
    return {
        **totals,
        **{f"{k}_text": fmt.count(v) for k, v in totals.items()},
        "file_count": len(rows),
        "balanced": balanced,
        "check_text": _balance_text(fmt, totals["read"], totals["loaded"], totals["quarantined"]),
    }

"""The completeness gate: is the data behind this run's reports complete enough to deliver?

Checks (docs/operations.md says what to do about each):
- a file in the inbox could not be read (rejected), or is still being copied;
- a file holding rows of the reported period had more than `max_quarantine_share` of its
  rows quarantined;
- an expected unit has no answers for the period;
- a report's answers fell by more than `max_volume_drop` on the previous period (units
  with at least `min_n` answers before: smaller ones swing by chance).
A finding the owner accepted (`csat accept`, by its key) raises nothing. Each issue carries
a text for the company report and the owner, and one for unit reports that names no other
unit or file. Pure: frames and values in, issues out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import polars as pl

from transforms.scopes import COMPANY


@dataclass(frozen=True)
class Issue:
    check: str  # rejected_file | file_in_progress | quarantine_share | unit_missing | volume_drop
    detail: str  # what is missing, for the company report and the owner's alert
    units: tuple[str, ...] | None  # the units it concerns; None: unknown, so every report; (): company only
    unit_detail: str  # the same for a unit's report: no other unit's name, no file name
    key: str = ""  # identifies the finding; `csat accept` records file: and unit: keys


def file_key(file_sha256: str) -> str:
    return f"file:{file_sha256}"


def unit_key(unit: str, period: str) -> str:
    return f"unit:{unit}:{period}"


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def intake_issues(
    outcomes: pl.DataFrame, period_files: pl.DataFrame, accepted: Collection[str], max_quarantine_share: float
) -> list[Issue]:
    """Issues from this run's inbox (`outcomes`: file, file_sha256, status, message) and from the loaded
    files holding rows of the reported period (`period_files`: source_file, file_sha256, rows_read,
    rows_quarantined, units - the units of its rows, null when some rows named none)."""
    issues = []
    for o in outcomes.iter_rows(named=True):
        if o["status"] == "rejected" and file_key(o["file_sha256"]) not in accepted:
            why = (o["message"] or "").removeprefix(f"{o['file']}: ")
            issues.append(
                Issue(
                    "rejected_file",
                    f"{o['file']} could not be read, so none of its rows are in this report: {why}",
                    None,
                    "An input file could not be read: answers of this unit may be missing.",
                    file_key(o["file_sha256"]),
                )
            )
        elif o["status"] == "in_progress":
            issues.append(
                Issue(
                    "file_in_progress",
                    f"{o['file']} was still being written ({o['message']}); it is loaded once complete",
                    None,
                    "An input file was still being copied: answers of this unit may be missing.",
                    f"progress:{o['file']}",  # not acceptable: it resolves itself once the copy is complete
                )
            )
    over = period_files.filter(
        (pl.col("rows_read") > 0) & (pl.col("rows_quarantined") / pl.col("rows_read") > max_quarantine_share)
    ).sort("source_file")
    for f in over.iter_rows(named=True):
        if file_key(f["file_sha256"]) in accepted:
            continue
        share = f["rows_quarantined"] / f["rows_read"]
        issues.append(
            Issue(
                "quarantine_share",
                f"{f['source_file']}: {f['rows_quarantined']:,} of {f['rows_read']:,} rows quarantined "
                f"({_pct(share)}), more than the {_pct(max_quarantine_share)} allowed",
                None if f["units"] is None else tuple(f["units"]),
                "An input file had many rows set aside: answers of this unit may be missing.",
                file_key(f["file_sha256"]),
            )
        )
    return issues


def volume_issues(
    metrics: pl.DataFrame,
    period: str,
    previous: str | None,
    expected_units: Sequence[str],
    checked_units: Sequence[str],
    accepted: Collection[str],
    max_volume_drop: float,
    min_n: int,
) -> list[Issue]:
    """Expected units without answers in `period`, and answer counts that fell sharply on `previous`.

    `metrics` holds the `responses` rows (metric, period, segment, mode, value).
    """
    counts = metrics.filter((pl.col("metric") == "responses") & (pl.col("mode") == "all")).select(
        "period", "segment", n=pl.col("value").cast(pl.Int64)
    )
    now = dict(counts.filter(pl.col("period") == period).select("segment", "n").iter_rows())
    before = dict(counts.filter(pl.col("period") == previous).select("segment", "n").iter_rows()) if previous else {}
    issues = [
        Issue(
            "unit_missing",
            f"{unit} has no answers for {period}",
            (unit,),
            f"{unit} has no answers for {period}.",
            unit_key(unit, period),
        )
        for unit in expected_units
        if not now.get(unit) and unit_key(unit, period) not in accepted
    ]
    for scope in (COMPANY, *checked_units):
        n, n_before = now.get(scope, 0), before.get(scope, 0)
        if n and n_before >= min_n and (n_before - n) / n_before > max_volume_drop:
            if unit_key(scope, period) in accepted:
                continue
            text = (
                f"{'All units' if scope == COMPANY else scope}: {n:,} answers in {period} against {n_before:,} in "
                f"{previous} ({_pct((n_before - n) / n_before)} fewer)"
            )
            # The company-wide drop stays on the company report: its totals hold every unit's answers.
            units = () if scope == COMPANY else (scope,)
            issues.append(Issue("volume_drop", text, units, text + ".", unit_key(scope, period)))
    return issues


def banner_lines(issues: Sequence[Issue], units: Sequence[str] | None) -> list[str]:
    """What a report's cover says is missing: all issues for the company report (`units` None);
    for a unit or group report the ones about its units, and the unknown-unit ones in their neutral form."""
    lines: list[str] = []
    for issue in issues:
        if units is None:
            text = issue.detail if issue.detail.endswith(".") else issue.detail + "."
        elif issue.units is None or set(issue.units) & set(units):
            text = issue.unit_detail
        else:
            continue
        if text not in lines:
            lines.append(text)
    return lines

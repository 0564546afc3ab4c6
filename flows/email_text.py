"""The words of every email: report emails, corrections, and the owner's alerts.

Numbers and file names only: no customer text ever reaches an email body. The figures
come from the report context (already formatted for the report's locale).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flows.delivery import DeliveryRecord, ReportEmail
from flows.scorecard_report import ReportFiles
from transforms.scopes import COMPANY

ARROW = "→"
FOOTER = "-- csat-pipeline (automatic message)"


def headline_figures(context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figures a report leads with, as printed, with 'points' for the correction threshold."""
    headline = context["headline"]
    responses = {"label": "responses", "text": headline["responses"]["text"], "points": None}
    if context["meta"]["too_small"]:
        return {"responses": responses}
    figures = {
        "csat": {
            "label": "CSAT top-2-box",
            "text": headline["csat"]["text"],
            "points": None if headline["csat"]["value"] is None else 100 * headline["csat"]["value"],
        },
        "nps": {"label": "NPS", "text": headline["nps"]["text"], "points": headline["nps"]["value"]},
        "mean": {"label": "average rating", "text": headline["mean"]["text"], "points": None},
        "responses": responses,
    }
    return {name: figure for name, figure in figures.items() if figure["text"] not in ("–", "")}


def report_subject(organisation: str, report: ReportFiles) -> str:
    scope = "" if report.segment == COMPANY else f" - {report.segment}"
    return f"{organisation}: customer satisfaction scorecard {report.period}{scope}"


def report_body(report: ReportFiles, context: dict[str, Any]) -> str:
    meta, headline = context["meta"], context["headline"]
    title = f"Customer satisfaction scorecard {report.period}" + (
        "" if report.segment == COMPANY else f" for {meta['segment_label']}"
    )
    if meta["too_small"]:
        figures = [meta["too_small_text"]]
    else:
        figures = [f"- {headline[key]['sentence']}" for key in ("csat", "nps", "mean", "responses")]
    missing = ["", "Incomplete data - these figures may change:", *(f"- {line}" for line in meta["missing"])]
    return "\n".join(
        [
            title,
            "",
            *figures,
            *(missing if meta["missing"] else []),
            "",
            "The attached PDF has the intervals, segments, collection modes, benchmarks, data quality and method.",
            f"Data as of {report.data_as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
            "",
            FOOTER,
        ]
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _answers(n: int, what: str) -> str:
    return f"{n:,} {what} answer{'s' if n != 1 else ''}"


def correction_cause(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], figures_moved: bool) -> str:
    """Why a report changed, from the answers each input file (by content hash) provided then and now.

    Answers beyond the earlier total are late; answers files gave up are corrected (a newer
    submission replaced them). With one file behind the change it is named with both
    ("240 late answers from file X"); with several, the totals and each file's gain.
    """
    count = {sha: {"then": before.get(sha, {}).get("answers", 0), "now": after.get(sha, {}).get("answers", 0)}
             for sha in before.keys() | after.keys()}  # fmt: skip
    name = {sha: (after.get(sha) or before.get(sha) or {}).get("file") or sha[:12] for sha in count}
    gains = {sha: c["now"] - c["then"] for sha, c in count.items() if c["now"] > c["then"]}
    replaced = sum(c["then"] - c["now"] for c in count.values() if c["then"] > c["now"])
    late = sum(gains.values()) - replaced
    kinds = [
        _answers(late, "late") if late > 0 else "",
        _answers(replaced, "corrected") if replaced and gains else "",
        f"{_answers(replaced, 'earlier')} no longer count" if replaced and not gains else "",
    ]
    what = " and ".join(k for k in kinds if k)
    if gains:
        files = sorted(gains, key=lambda s: (name[s], s))
        if len(files) == 1:
            return f"{what} from file {name[files[0]]}"
        return f"{what}, from files " + ", ".join(f"{name[s]} (+{gains[s]:,})" for s in files)
    if what:
        return what
    if figures_moved:
        return "stored answers were corrected"
    return "the report's configuration or layout changed (the figures below did not)"


def change_cause(previous: DeliveryRecord, email: ReportEmail) -> str:
    """Why `email` differs from the version `previous` holds (the ledger of the first release kept no inputs)."""
    if not previous.inputs and not previous.headline:
        return "a new release of the pipeline re-issued it (what the earlier copy showed is not on record)"
    return correction_cause(previous.inputs, email.inputs, figures_moved(previous.headline, email.headline))


def figures_moved(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> bool:
    return any(before.get(name, {}).get("text") != figure["text"] for name, figure in after.items())


def figure_changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> str:
    """'CSAT top-2-box 81.2 % → 81.9 %; NPS +27 → +28; ...' for the figures both versions print."""
    parts = [
        f"{figure['label']} {before[name]['text']} {ARROW} {figure['text']}"
        for name, figure in after.items()
        if name in before
    ]
    return "; ".join(parts) + "." if parts else "No headline figure is comparable."


def correction_text(email: ReportEmail, previous: DeliveryRecord) -> tuple[str, str]:
    """A correction for someone who holds `previous`: marked as such, the figures before and after, and why."""
    cause = change_cause(previous, email)
    first = f"CORRECTION to the report sent to you on {_when(previous.delivered_at)}: {cause}."
    body = "\n".join(
        [
            first,
            f"Before {ARROW} now: {figure_changes(previous.headline, email.headline)}",
            "The attached PDF replaces the earlier one.",
            "",
            email.body_text,
        ]
    )
    return f"CORRECTION: {email.subject}", body


# --- owner alerts ------------------------------------------------------------------------


_WHAT_TO_DO = [
    "What to do (docs/operations.md, 'Held runs and incomplete data'):",
    "- fix the cause: replace a broken or incomplete file in the inbox with a complete export, or wait",
    "  for a file still being copied; the next run loads it and delivers;",
    "- or accept a finding for good: csat accept FILE --note '...' (or --unit UNIT --period PERIOD);",
    "- or deliver now, with the banner: csat run --deliver-incomplete",
    "- preview who would receive what: csat run --dry-run",
]


def held_alert(
    run: str,
    issues: Sequence[str],
    held: Sequence[tuple[str, str]],
    delivered: Sequence[dict[str, Any]],
    reports: Sequence[str],
) -> tuple[str, str]:
    """(subject, body) telling the owner that delivery was held, why, and what to do.

    `held`: (report key, recipient) of every email not sent; `delivered`: the run's email entries that went out.
    """
    lines = [
        f"The csat run {run} held delivery: the data is incomplete, so these reports were not sent to management.",
        "",
        "What is missing:",
        *(f"- {issue}" for issue in issues),
        "",
        f"Held: {len(held)} email(s):",
        *(f"- {key} to {recipient}" for key, recipient in held),
        f"Delivered (their reports are not concerned): {len(delivered)}.",
        "The reports with a banner saying what is missing are on disk:",
        *(f"- {path}" for path in reports),
        "",
        *_WHAT_TO_DO,
        "",
        FOOTER,
    ]
    return (
        f"[csat] HELD: run {run} - {len(held)} email(s) not sent ({len(issues)} problem(s) with the data)",
        "\n".join(lines),
    )


def incomplete_notice(
    run: str, issues: Sequence[str], delivered: Sequence[dict[str, Any]], reports: Sequence[str]
) -> tuple[str, str]:
    """(subject, body): the data is incomplete, nothing was held (nothing changed for anyone, or the
    configuration or the operator said deliver with a banner). Sent once per set of findings."""
    lines = [
        f"The csat run {run} found incomplete data. Nothing was held: "
        + (
            f"{len(delivered)} email(s) went out with a banner saying what is missing."
            if delivered
            else "no recipient needed a new report."
        ),
        "",
        "What is missing:",
        *(f"- {issue}" for issue in issues),
        "",
        "The reports with the banner are on disk:",
        *(f"- {path}" for path in reports),
        "",
        *_WHAT_TO_DO[:4],
        "",
        "You get this once for this set of findings; the run summary lists them every night.",
        "",
        FOOTER,
    ]
    return f"[csat] INCOMPLETE DATA: run {run} - {len(issues)} problem(s)", "\n".join(lines)


def intake_notice(run: str, problems: Sequence[str]) -> tuple[str, str]:
    """(subject, body): files of sources that no report reads yet were rejected or mostly quarantined.
    Nothing was held; the rows are missing from the store until the files are fixed. Sent once per set."""
    lines = [
        f"The csat run {run} could not load some input files (or most of their rows). No report reads",
        "these sources yet, so nothing was held, but their rows are missing from the store:",
        "",
        *(f"- {problem}" for problem in problems),
        "",
        "What to do: run `csat validate FILE` on each to see every line and the form expected; fix the file",
        "(or config/pipeline.yaml, config/coding_frame.yaml) and drop the corrected file into its folder.",
        "",
        "You get this once for this set of findings; the run summary lists them every night.",
        "",
        FOOTER,
    ]
    return f"[csat] INPUT FILES NEED ATTENTION: run {run} - {len(problems)} file(s)", "\n".join(lines)


def failed_alert(run: str, flow: str, error: str, when: datetime) -> tuple[str, str]:
    """(subject, body) telling the owner that a run failed."""
    lines = [
        f"The csat {flow} run {run} FAILED at {_when(when)}.",
        "",
        f"Error: {error}",
        "",
        "Nothing half-done was delivered: emails already accepted by the mail server are in the ledger, and a",
        "re-run sends only what is missing.",
        "",
        "What to do (docs/operations.md):",
        "- read the run's log (Prefect UI, or `prefect flow-run logs <id>`; `csat run` prints it too);",
        "- fix the cause (configuration, a file, the mail server), then run again: csat run",
        "",
        FOOTER,
    ]
    return f"[csat] FAILED: {flow} run {run}", "\n".join(lines)


def outdated_alert(
    report_key: str, holders: Sequence[DeliveryRecord], email: ReportEmail, policy: str
) -> tuple[str, str]:
    """(subject, body): recipients hold an outdated report that the correction policy did not re-send."""
    lines = [
        f"The report {report_key} changed, but delivery.corrections.send is '{policy}', so no correction was sent.",
        "These recipients hold an outdated version:",
        *(
            f"- {record.recipient} (received {_when(record.delivered_at)}; "
            f"{figure_changes(record.headline, email.headline)})"
            for record in holders
        ),
        "",
        f"Why it changed: {change_cause(holders[0], email) if holders else 'unknown'}.",
        "To send the current version: csat resend --period PERIOD --segment UNIT [--recipient ADDRESS]",
        "",
        FOOTER,
    ]
    return f"[csat] OUTDATED: {report_key} - {len(holders)} recipient(s) hold an earlier version", "\n".join(lines)


# --- the continuous-improvement report ---------------------------------------------------------


def improvement_headline(context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figures the improvement report leads with (a correction compares them): overall satisfaction
    and the three problems to fix, as printed."""
    overall = context["overall"]
    figures = {
        "overall": {
            "label": "satisfied overall",
            "text": overall["text"],
            "points": None if overall["value"] is None else 100 * overall["value"],
        }
    }
    for fix in context["fixes"]["items"]:
        figures[f"fix{fix['rank']}"] = {"label": f"problem {fix['rank']}", "text": fix["label"], "points": None}
    return figures


def improvement_subject(organisation: str, report: ReportFiles) -> str:
    scope = "" if report.segment == COMPANY else f" - {report.segment}"
    return f"{organisation}: continuous improvement report {report.period}{scope}"


def improvement_body(report: ReportFiles, context: dict[str, Any]) -> str:
    """Plain text: what to fix (theme names from the coding frame, never customer text), goals, completeness."""
    meta, fixes, counts = context["meta"], context["fixes"]["items"], context["goal_counts"]
    title = meta["title"] + ("" if report.segment == COMPANY else f" for {meta['segment_label']}")
    lines = [f"- {fix['label']}: {fix['mentions_text']} ({fix['evidence']})" for fix in fixes] or [
        "- no problem was raised in this period"
    ]
    goals = ", ".join(f"{counts[s]} {s}" for s in ("met", "at risk", "missed") if counts[s]) or "no goals configured"
    missing = ["", "Incomplete data - these figures may change:", *(f"- {line}" for line in meta["missing"])]
    return "\n".join(
        [
            title,
            "",
            meta["too_small_text"]
            if meta["too_small"]
            else f"Satisfied overall: {context['overall']['text']} (95 % interval {context['overall']['ci_text']}, "
            f"n = {context['overall']['n_text']}).",
            "",
            "Three things to fix:",
            *lines,
            "",
            f"Goals: {goals}.",
            *(missing if meta["missing"] else []),
            "",
            "The attached PDF has the evidence, key drivers, gaps, control charts, complaints, themes, method and "
            "data quality.",
            f"Data as of {report.data_as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
            "",
            FOOTER,
        ]
    )


def no_report_notice(run: str, finding: str) -> tuple[str, str]:
    """(subject, body): a report kind has no complete period with data yet; the run's other reports went out."""
    lines = [
        f"The csat run {run} built no report of one kind, because its data do not cover a complete period yet:",
        "",
        f"- {finding}",
        "",
        "Nothing failed and the other reports were delivered. If the data should be there, check that the",
        "exports of that period reached the inbox (`csat validate FILE`); otherwise the report follows on",
        "the first night after its period is complete.",
        "",
        "You get this once for this finding; the run summary lists it every night.",
        "",
        FOOTER,
    ]
    return f"[csat] NO REPORT YET: run {run} - {finding[:80]}", "\n".join(lines)

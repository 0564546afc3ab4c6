"""The scorecard's report context: the metrics frame turned into plain, display-ready values.

Pure: polars frames and a `ScorecardMeta` in, a dict of str/int/float/bool/list/dict out.
Numbers arrive already formatted for the report's locale (Babel) with the raw values
alongside, so templates hold no logic, charts need no polars, and tests can check every
printed number without a PDF. Customer text (comments) is sanitised here and stays
plain text: the templates escape it, nothing here produces markup.

The scorecard's own sections live here (headline, segments, trend, benchmarks, modes,
attributes); comments and the data-quality page come from the shared modules beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from transforms.report_context.comments import comment_excerpts
from transforms.report_context.data_quality import data_quality_page
from transforms.report_context.figures import (
    SMALL_SAMPLE_MARK,
    change_clause,
    change_values,
    metric_values,
    sample_clause,
)
from transforms.report_context.lookup import Metrics, answer_count
from transforms.report_context.numbers import NBSP, Formatter
from transforms.report_context.text import banner_texts, label
from transforms.report_context.vocabulary import GROUP_ORDER, METRIC_LABELS, MODE_LABELS, MODE_ORDER
from transforms.scopes import COMPANY


@dataclass(frozen=True)
class ScorecardMeta:
    """What the report states besides the metrics: who, which period, targets, questions."""

    organisation: str
    period: str
    previous_period: str | None
    segment: str  # "All" for the company-wide report
    generated_at: str
    data_as_of: str  # the store time the figures come from, e.g. "2026-11-23 00:02:41 UTC"
    locale: str
    min_n: int
    target_csat: float
    target_nps: float | None
    overall_question: str
    nps_question: str | None
    attributes: list[tuple[str, str, str, bool]]  # (question_id, text, dimension, reverse_coded)
    benchmarks: list[tuple[str, str, float, str]]  # (name, metric, value, source)
    comment_max_chars: int
    # Extensions with defaults (the configuration has them; callers may leave them out).
    mode_shift_warning_pts: float = 10.0  # report.mode_shift_warning_pts
    overall_scale: tuple[int, int] | None = None  # (min, max) of the overall question, for the sentence
    banner: tuple[str, ...] = ()  # what is missing from the data (the completeness gate), on the cover
    members: tuple[str, ...] = ()  # a group's report: the units it lists beside its total
    source_titles: tuple[tuple[str, str], ...] = ()  # (source, title) for the data-quality page's groups
    min_group_size: int = 1  # report.min_group_size: smaller groups are not shown (1: every group shown)
    min_comment_group_size: int = 1  # report.min_comment_group_size: no comments quoted from fewer respondents
    # Raking (weighting.margins): (variable as printed, ((category, population share), ...)); () = unweighted.
    weighting: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    weighting_notes: tuple[str, ...] = ()  # e.g. a margin category without answers in a period


HIDDEN_REASON = (
    "to protect respondents' anonymity: a group with fewer than {size} respondents is not shown, nor a group "
    "whose figures would let a reader work out a hidden group's by subtracting from the total"
)


class Hidden:
    """The period x segment x mode cells the metrics frame marks `suppressed` (its `responses` rows)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        rows = (
            frame.filter((pl.col("metric") == "responses") & pl.col("suppressed").is_not_null())
            if "suppressed" in frame.columns
            else frame.clear()
        )
        self.cells = {(str(p), s, mo) for p, s, mo in rows.select("period", "segment", "mode").iter_rows()}

    def __contains__(self, cell: tuple[str, str, str]) -> bool:
        return cell in self.cells

    def note(self, names: list[str], meta: ScorecardMeta) -> str:
        """'Not shown: Narva, Cape Town - to protect ...'; empty when nothing is hidden. No n is given."""
        if not names:
            return ""
        return f"Not shown: {', '.join(names)} - " + HIDDEN_REASON.format(size=meta.min_group_size) + "."


def _headline(m: Metrics, fmt: Formatter, meta: ScorecardMeta) -> dict[str, Any]:
    p, seg, prev = meta.period, meta.segment, meta.previous_period
    csat_row = m.get("csat_top2box", p, seg)
    csat = metric_values(csat_row, fmt, "pct")
    target = csat_row.target if csat_row is not None and csat_row.target is not None else meta.target_csat
    csat_change = change_values(m.get("csat_top2box_change", p, seg, comparator=prev), fmt, "pct", prev)
    below = (
        csat_row.below_target
        if csat_row is not None and csat_row.below_target is not None
        else (csat["value"] is not None and csat["value"] < target)
    )
    csat["target_text"] = fmt.pct_whole(target)
    csat["below_target"] = bool(below)
    csat["vs_target_text"] = fmt.pts(None if csat["value"] is None else csat["value"] - target)
    target_clause = f"below the {csat['target_text']} target" if below else f"meeting the {csat['target_text']} target"
    csat["change"] = csat_change
    csat["sentence"] = (
        f"{csat['text']} of customers were satisfied (top-2-box), {target_clause}; "
        f"{change_clause(csat_change, prev, 'points')}." + sample_clause(csat, meta.min_n)
    )

    nps_row = m.get("nps", p, seg)
    nps = metric_values(nps_row, fmt, "nps")
    nps_target = nps_row.target if nps_row is not None and nps_row.target is not None else meta.target_nps
    nps_change = change_values(m.get("nps_change", p, seg, comparator=prev), fmt, "nps", prev)
    nps["change"] = nps_change
    nps["target_text"] = fmt.nps(nps_target) if nps_target is not None else ""
    nps["below_target"] = bool(nps_target is not None and nps["value"] is not None and nps["value"] < nps_target)
    if nps_row is None:
        nps["sentence"] = "No recommendation question was asked in this period."
    else:
        if nps_target is None:
            nps_target_clause = "no target set"
        elif nps["below_target"]:
            nps_target_clause = f"below the target of {nps['target_text']}"
        else:
            nps_target_clause = f"meeting the target of {nps['target_text']}"
        nps["sentence"] = (
            f"Net Promoter Score {nps['text']}: the share of promoters (9-10) minus the share of detractors "
            f"(0-6), on a scale from -100 to +100; {nps_target_clause}; "
            f"{change_clause(nps_change, prev, 'points')}." + sample_clause(nps, meta.min_n)
        )

    mean_row = m.get("mean_score", p, seg)
    mean = metric_values(mean_row, fmt, "mean")
    mean_change = change_values(m.get("mean_score_change", p, seg, comparator=prev), fmt, "mean", prev)
    mean["change"] = mean_change
    scale = f" on the {meta.overall_scale[0]}-{meta.overall_scale[1]} scale" if meta.overall_scale else ""
    mean["scale_text"] = f"{meta.overall_scale[0]}-{meta.overall_scale[1]}" if meta.overall_scale else ""
    mean["sentence"] = (
        f"The average overall rating was {mean['text']}{scale} (95 % interval {mean['ci_text']}); "
        f"{change_clause(mean_change, prev, '')}." + sample_clause(mean, meta.min_n)
    )

    n_now = answer_count(m, p, seg, csat["n"])
    n_prev = answer_count(m, prev, seg, None) if prev else None
    responses = {
        "n": n_now,
        "text": fmt.count(n_now),
        "previous_n": n_prev,
        "previous_text": fmt.count(n_prev) if n_prev is not None else "",
        "sentence": f"{fmt.count(n_now)} customers answered the survey in {p}"
        + (f", compared with {fmt.count(n_prev)} in {prev}." if n_prev is not None else "."),
    }
    return {"csat": csat, "nps": nps, "mean": mean, "responses": responses}


def _segments(m: Metrics, fmt: Formatter, meta: ScorecardMeta, hidden: Hidden) -> dict[str, Any]:
    p, prev = meta.period, meta.previous_period
    present = [s for s in m.values("csat_top2box", 2) if m.get("csat_top2box", p, s) is not None]
    parts = sorted({s for _, s, _ in hidden.cells} - {COMPANY}) if meta.segment == COMPANY else list(meta.members)
    not_shown = [label(s, 60) for s in parts if (p, s, "all") in hidden and s != meta.segment]
    # The company and a group list their units and the total; a unit's report carries that unit only.
    listed = (
        [s for s in present if s != COMPANY] if meta.segment == COMPANY else [s for s in meta.members if s in present]
    )
    names = listed + ([meta.segment] if meta.segment in present else [])
    rows = []
    for seg in names:
        csat_row = m.get("csat_top2box", p, seg)
        csat = metric_values(csat_row, fmt, "pct")
        target = csat_row.target if csat_row is not None and csat_row.target is not None else meta.target_csat
        below = (
            csat_row.below_target
            if csat_row is not None and csat_row.below_target is not None
            else csat["value"] is not None and csat["value"] < target
        )
        n = answer_count(m, p, seg, csat["n"])
        rows.append(
            {
                "segment": "All segments" if seg == COMPANY else label(seg, 60),
                "is_total": seg == meta.segment and len(names) > 1,
                "n": n,
                "n_text": fmt.count(n),
                "csat": csat,
                "below_target": bool(below),
                "vs_target_text": fmt.pts(None if csat["value"] is None else csat["value"] - target),
                "change": change_values(m.get("csat_top2box_change", p, seg, comparator=prev), fmt, "pct", prev),
                "nps": metric_values(m.get("nps", p, seg), fmt, "nps"),
                "nps_change": change_values(m.get("nps_change", p, seg, comparator=prev), fmt, "nps", prev),
            }
        )
    return {
        "rows": rows,
        "any_small": any(r["csat"]["small_sample"] or r["nps"]["small_sample"] for r in rows),
        "target_text": fmt.pct_whole(meta.target_csat),
        "target": meta.target_csat,
        "hidden_text": hidden.note(not_shown, meta),
    }


def _trend(m: Metrics, fmt: Formatter, meta: ScorecardMeta, hidden: Hidden) -> dict[str, Any]:
    seg = meta.segment
    not_shown = sorted(q for q, s, mo in hidden.cells if s == seg and mo == "all" and q <= meta.period)
    periods = [q for q in m.values("csat_top2box", 1) if q <= meta.period and m.get("csat_top2box", q, seg)]
    rows = []
    for q in periods:
        csat = metric_values(m.get("csat_top2box", q, seg), fmt, "pct")
        rows.append(
            {
                "period": q,
                "is_current": q == meta.period,
                "n_text": fmt.count(answer_count(m, q, seg, csat["n"])),
                "csat": csat,
                "nps": metric_values(m.get("nps", q, seg), fmt, "nps"),
                "mean": metric_values(m.get("mean_score", q, seg), fmt, "mean"),
            }
        )
    return {
        "rows": rows,
        "any_small": any(r["csat"]["small_sample"] or r["nps"]["small_sample"] for r in rows),
        "hidden_text": hidden.note(not_shown, meta),
    }


def _benchmarks(headline: dict[str, Any], fmt: Formatter, meta: ScorecardMeta) -> list[dict[str, Any]]:
    ours = {
        "csat_top2box": ("csat", fmt.pct, fmt.pts),
        "nps": ("nps", fmt.nps, fmt.nps_pts),
        "mean_score": ("mean", fmt.mean, fmt.mean_diff),
    }
    out = []
    for name, metric, value, source in meta.benchmarks:
        if metric not in ours:
            continue
        key, show, show_diff = ours[metric]
        our = headline[key]
        low, high = our["ci_low"], our["ci_high"]
        if our["value"] is None or low is None or high is None:
            position, verdict = "unknown", "cannot be compared: our figure has no interval"
        elif value < low:
            position, verdict = "below", "lies below our 95 % interval: we are ahead of it"
        elif value > high:
            position, verdict = "above", "lies above our 95 % interval: we are behind it"
        else:
            position, verdict = "inside", "lies inside our 95 % interval: no clear difference"
        out.append(
            {
                "name": label(name, 80),
                "metric": metric,
                "metric_label": METRIC_LABELS[metric],
                "value": value,
                "value_text": show(value),
                "ours_text": our["text"],
                "ours_ci_text": our["ci_text"],
                "ours_value": our["value"],
                "difference_text": show_diff(None if our["value"] is None else our["value"] - value),
                "position": position,
                "inside": position == "inside",
                "verdict": f"{label(name, 80)} ({show(value)}) {verdict}.",
                "source": label(source, 200),
            }
        )
    return out


def _modes(m: Metrics, fmt: Formatter, meta: ScorecardMeta, hidden: Hidden) -> dict[str, Any]:
    p, seg, prev = meta.period, meta.segment, meta.previous_period
    not_shown = [MODE_LABELS[mode] for mode in (*MODE_ORDER, *GROUP_ORDER) if (p, seg, mode) in hidden]
    total = answer_count(m, p, seg, None)

    def mode_row(mode: str) -> dict[str, Any] | None:
        csat = metric_values(m.get("csat_top2box", p, seg, mode), fmt, "pct")
        n = answer_count(m, p, seg, csat["n"], mode) or 0
        if not csat["available"] and not n:
            return None
        share = n / total if total else None
        return {
            "mode": mode,
            "label": MODE_LABELS.get(mode, label(mode, 40)),
            "is_group": mode in GROUP_ORDER,
            "n": n,
            "n_text": fmt.count(n),
            "share": share,
            "share_text": fmt.pct(share),
            "csat": csat,
            "nps": metric_values(m.get("nps", p, seg, mode), fmt, "nps"),
            "mean": metric_values(m.get("mean_score", p, seg, mode), fmt, "mean"),
        }

    rows = [r for r in (mode_row(mode) for mode in MODE_ORDER) if r is not None]
    groups = [r for r in (mode_row(mode) for mode in GROUP_ORDER) if r is not None]
    gaps = {
        "csat": change_values(m.get("csat_top2box_mode_gap", p, seg, "oral-written"), fmt, "pct", "written"),
        "nps": change_values(m.get("nps_mode_gap", p, seg, "oral-written"), fmt, "nps", "written"),
        "mean": change_values(m.get("mean_score_mode_gap", p, seg, "oral-written"), fmt, "mean", "written"),
    }
    gap = gaps["csat"]
    if gap["available"]:
        direction = "higher" if gap["direction"] == "up" else "lower" if gap["direction"] == "down" else "the same"
        amount = gap["text"].lstrip("+-−")
        gap["sentence"] = (
            f"Answers given orally (phone, in person) show a CSAT {amount} {direction} than written answers "
            f"(online, paper): 95 % interval {gap['ci_text']}, {gap['p_text']}"
            + (f", {gap['q_text']}" if gap.get("q_text") else "")
            + (
                " - too few answers to test."
                if gap.get("tested") is False
                else " - a statistically significant gap."
                if gap["significant"]
                else " - not statistically significant."
            )
        )
    elif (p, seg, "oral") in hidden or (p, seg, "written") in hidden:
        gap["sentence"] = "The oral-versus-written gap is not shown: one of the two groups is too small to show."
    else:
        gap["sentence"] = "The oral-versus-written gap cannot be estimated: one of the two groups has no answers."

    shares = ", ".join(f"{r['label'].lower()} {r['share_text']}" for r in rows if r["share"] is not None)
    pooled_note = (
        f"The headline figures pool all collection modes ({shares} of answers). "
        "They are not adjusted for mode: interviewer-administered modes (phone, in person) tend to read higher."
        if not meta.weighting
        else f"The headline figures pool all collection modes ({shares} of answers), weighted to the population "
        "margins of the method note. They are not adjusted for the mode effect: interviewer-administered modes "
        "(phone, in person) tend to read higher."
    )

    share_row = m.get("mode_share_oral", p, seg)
    prev_share_row = m.get("mode_share_oral", prev, seg) if prev else None
    now_share = share_row.value if share_row is not None else None
    prev_share = (
        prev_share_row.value if prev_share_row is not None else share_row.reference if share_row is not None else None
    )
    shift_pts = None if now_share is None or prev_share is None else 100 * (now_share - prev_share)
    warning = shift_pts is not None and abs(shift_pts) >= meta.mode_shift_warning_pts
    # Whole points: the shares are shown rounded, a one-decimal difference of them would not add up.
    shift_text = "–" if shift_pts is None else fmt.dec(shift_pts, "+#,##0;-#,##0") + NBSP + "pts"
    shift = {
        "share_oral": now_share,
        "share_oral_text": fmt.pct(now_share),
        "previous_share_oral": prev_share,
        "previous_share_oral_text": fmt.pct(prev_share),
        "shift_pts": shift_pts,
        "shift_text": shift_text,
        "threshold_text": fmt.dec(meta.mode_shift_warning_pts, "#,##0.#") + NBSP + "pts",
        "warning": warning,
        "text": (
            f"The mode mix shifted: {fmt.pct(now_share)} of answers were collected orally in {p}, against "
            f"{fmt.pct(prev_share)} in {prev} ({shift_text}). "
            f"Oral modes read higher, so part of the change on {prev} may come from how customers were asked, "
            "not from the service. Compare like with like in the table by mode; the pooled figures are not adjusted."
            if warning
            else ""
        ),
    }
    return {
        "rows": rows,
        "groups": groups,
        "gap": gap,
        "gaps": gaps,
        "pooled_note": pooled_note,
        "shift": shift,
        "any_small": any(r["csat"]["small_sample"] for r in rows + groups),
        "hidden_text": hidden.note(not_shown, meta),
    }


def _attributes(m: Metrics, fmt: Formatter, meta: ScorecardMeta) -> dict[str, Any]:
    rows = []
    for qid, text, dimension, reverse in meta.attributes:
        metric = metric_values(m.get("attribute_top2box", meta.period, meta.segment, item=qid), fmt, "pct")
        rows.append(
            {
                "question_id": qid,
                "text": label(text, 200),
                "dimension": label(dimension, 40)[:1].upper() + label(dimension, 40)[1:],
                "reverse_coded": reverse,
                "metric": metric,
            }
        )
    return {
        "rows": rows,
        "any_reverse": any(r["reverse_coded"] for r in rows),
        "any_small": any(r["metric"]["small_sample"] for r in rows),
    }


def build_scorecard_context(
    metrics: pl.DataFrame,
    files: pl.DataFrame,
    quarantine_reasons: pl.DataFrame,
    comments: pl.DataFrame,
    meta: ScorecardMeta,
) -> dict[str, Any]:
    """Everything the scorecard template prints, formatted for `meta.locale`, raw values alongside.

    Raises ValueError when the metrics frame has no CSAT figure for the period and segment:
    an empty scorecard is never produced.
    """
    fmt = Formatter(meta.locale)
    every = Metrics(metrics, meta.min_n)
    csat_row = every.get("csat_top2box", meta.period, meta.segment)
    if csat_row is None or csat_row.value is None:
        raise ValueError(
            f"the metrics frame has no csat_top2box figure for period {meta.period!r}, segment {meta.segment!r}: "
            "refusing to produce an empty scorecard"
        )
    # Figures of groups too small to show (or that would reveal one) are left out of every section.
    hidden = Hidden(metrics)
    shown = metrics.filter(pl.col("suppressed").is_null()) if "suppressed" in metrics.columns else metrics
    m = Metrics(shown, meta.min_n)
    headline = _headline(m, fmt, meta)
    segment_label = "All customers" if meta.segment == COMPANY else label(meta.segment, 60)
    scope_hidden = (meta.period, meta.segment, "all") in hidden
    if scope_hidden:  # the count stays on the cover: it is this scope's own, not a hidden group's figure
        headline["responses"] = _headline(every, fmt, meta)["responses"]
    responses = headline["responses"]["n"] or 0
    # A unit with fewer answers than min_n gets a report that says so, not figures that mislead.
    too_small = scope_hidden or (meta.segment != COMPANY and responses < meta.min_n)
    if not scope_hidden:
        too_small_text = (
            f"{segment_label} had {fmt.count(responses)} answer{'s' if responses != 1 else ''} in {meta.period}, "
            f"fewer than the {fmt.count(meta.min_n)} needed for reliable figures. This report therefore shows "
            "no percentages, scores or comments; these answers count towards the company-wide figures."
        )
    elif responses < meta.min_group_size:
        too_small_text = (
            f"{segment_label} had fewer than {fmt.count(meta.min_group_size)} respondents in {meta.period}. To protect "
            "their anonymity this report shows no percentages, scores or comments; these answers count towards "
            "the company-wide figures."
        )
    else:
        too_small_text = (
            f"To protect respondents' anonymity this report shows no percentages, scores or comments for "
            f"{meta.period}: with them, a reader could work out the figures of a group too small to show "
            "by subtracting from the totals."
        )
    comments_allowed = not too_small and responses >= meta.min_comment_group_size
    quiet = _quiet_units(every, meta)
    context = {
        "meta": {
            "organisation": label(meta.organisation, 120),
            "title": f"Customer satisfaction scorecard {meta.period}",
            "period": meta.period,
            "previous_period": meta.previous_period or "",
            "segment": meta.segment,
            "segment_label": segment_label,
            "is_company_wide": meta.segment == COMPANY,
            "generated_at": meta.generated_at,
            "data_as_of": meta.data_as_of,
            "locale": meta.locale,
            "min_n": meta.min_n,
            "min_n_text": fmt.count(meta.min_n),
            "small_sample_mark": SMALL_SAMPLE_MARK,
            "target_csat": meta.target_csat,
            "target_csat_text": fmt.pct_whole(meta.target_csat),
            "target_nps": meta.target_nps,
            "target_nps_text": fmt.nps(meta.target_nps) if meta.target_nps is not None else "",
            "overall_question": label(meta.overall_question, 200),
            "nps_question": label(meta.nps_question, 200) if meta.nps_question else "",
            "comment_max_chars": meta.comment_max_chars,
            "mode_shift_warning_text": fmt.dec(meta.mode_shift_warning_pts, "#,##0.#") + NBSP + "pts",
            # The cover has room for a few lines; the data-quality page lists them all.
            **banner_texts(meta.banner),
            "too_small": too_small,
            "too_small_text": too_small_text if too_small else "",
            "min_group_size_text": fmt.count(meta.min_group_size),
            "min_comment_group_size_text": fmt.count(meta.min_comment_group_size),
        },
        "headline": headline,
        "segments": _segments(m, fmt, meta, hidden),
        "trend": _trend(m, fmt, meta, hidden),
        "benchmarks": _benchmarks(headline, fmt, meta),
        "modes": _modes(m, fmt, meta, hidden),
        "attributes": _attributes(m, fmt, meta),
        "comments": comment_excerpts(comments if comments_allowed else comments.clear(), fmt, meta.comment_max_chars)
        | {
            "withheld_text": ""
            if comments_allowed or too_small
            else f"No comments are quoted: fewer than {fmt.count(meta.min_comment_group_size)} customers answered, "
            "so a comment could identify who wrote it.",
            "quiet_text": f"Comments from {', '.join(quiet)} are not quoted: fewer than "
            f"{fmt.count(meta.min_comment_group_size)} customers answered there."
            if quiet and comments_allowed
            else "",
        },
        "data_quality": data_quality_page(files, quarantine_reasons, fmt, dict(meta.source_titles)),
    }
    if meta.weighting:  # unweighted reports carry no weighting keys at all
        context["weighting"] = _weighting(meta)
    return context


def _quiet_units(every: Metrics, meta: ScorecardMeta) -> list[str]:
    """Units of the report's scope whose respondents are too few to quote comments from (flows leave them out)."""
    units = meta.members if meta.members else every.values("responses", 2) if meta.segment == COMPANY else []
    quiet = []
    for unit in units:
        if unit in (COMPANY, meta.segment):
            continue
        n = answer_count(every, meta.period, unit, None)
        if n is not None and n < meta.min_comment_group_size:
            quiet.append(label(unit, 60))
    return quiet


def _weighting(meta: ScorecardMeta) -> dict[str, Any]:
    """What was weighted to which margins, said once for the cover and in full for the method page."""
    fmt = Formatter(meta.locale)
    variables = [
        {
            "variable": variable,
            "title": variable[:1].upper() + variable[1:],
            "margins_text": ", ".join(f"{label(category, 60)} {fmt.pct(share)}" for category, share in categories),
        }
        for variable, categories in meta.weighting
    ]
    names = " and ".join(v["variable"] for v in variables)
    return {
        "variables": variables,
        "notes": [label(note, 300) for note in meta.weighting_notes],
        "cover_text": f"Weighted to the population by {names}. Beside each weighted figure, n_eff is its effective "
        "number of answers: its interval rests on n_eff, not on the answers counted.",
        "text": f"Responses are weighted so that, in each year, the shares of {names} match the population's "
        "(raking: iterative proportional fitting, Deming & Stephan 1940). Every figure except the response counts "
        "is weighted. A weighted figure is less precise than as many unweighted answers: its Kish effective sample "
        "size n_eff = (Σw)² / Σw² is printed beside it, and its 95 % interval and tests use n_eff in place of n. "
        "n_eff reflects the unequal weights only, not any clustering or stratification of the sample.",
    }

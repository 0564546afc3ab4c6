"""What the continuous-improvement report prints: its metrics file cut to one scope, formatted.

Pure: metric rows (transforms/improvement/report_metrics.py), the quotes chosen as evidence, the
data-quality frames and an ImprovementMeta in; plain values and display strings out. Everything
configured or customer-written passes through `label`/`sanitise_text`; the template escapes again.
Sections, in reading order: the three things to fix, drivers and quadrant, gaps, control charts,
complaints, themes and what customers said, operations and goals, method notes, data quality.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Any

import polars as pl
from babel.numbers import format_currency

from transforms.report_context.data_quality import data_quality_page
from transforms.report_context.figures import SMALL_SAMPLE_MARK
from transforms.report_context.numbers import NBSP, Formatter, float_or_none, interval_text
from transforms.report_context.text import banner_texts, label
from transforms.scopes import COMPANY

TOP_FIXES = 3
PARETO_BARS = 10
RULES = {
    "1": "one point beyond 3 sigma",
    "2": "2 of 3 points beyond 2 sigma on one side",
    "3": "4 of 5 points beyond 1 sigma on one side",
    "4": "8 points in a row on one side of the centre",
}
QUADRANTS = {
    "concentrate here": "Concentrate here",
    "keep up the good work": "Keep up the good work",
    "low priority": "Low priority",
    "possible overkill": "Possible overkill",
}
GAPS = {
    "gap1": ("1 Knowledge", "management's estimate of what customers expect − what they expect"),
    "gap2": ("2 Standards", "the service standard − management's estimate of what customers expect"),
    "gap3": ("3 Delivery", "the operational result − its goal, signed so that negative = short of the goal"),
    "gap4": ("4 Communication", "the share of complaint promises not kept"),
    "gap5": ("5 Customer", "perception − expectation (SERVQUAL)"),
}


@dataclass(frozen=True)
class ImprovementMeta:
    organisation: str
    period: str
    previous_period: str | None
    granularity: str  # month | quarter | year
    history: tuple[str, ...]
    segment: str
    generated_at: str
    data_as_of: str
    locale: str
    min_n: int
    overall_item: str
    questions: tuple[tuple[str, str, str], ...]  # (id, text, dimension) of the overall and attribute questions
    themes: tuple[tuple[str, str, bool], ...]  # (code, label, actionable) of the coding frame
    goals: tuple[tuple[str, str | None, str], ...]  # (metric, item, label) as configured
    question_of_period: tuple[str, str] | None  # (id, text)
    iceberg_ratio: float
    min_group_size: int = 5  # fewer respondents: the scope's survey figures are not shown
    min_comment_group_size: int = 10  # fewer coded excerpts: no customer's words are quoted
    weighting: tuple[str, ...] = ()  # the margins the period's figures were raked to; empty: unweighted
    problem_weights: tuple[float, float, float] = (0.5, 0.3, 0.2)  # frequency, cost, actionable
    banner: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    source_titles: tuple[tuple[str, str], ...] = ()


def period_text(label_: str, granularity: str) -> str:
    """'2025-12' -> 'December 2025'; quarters and years as they are."""
    if granularity == "month" and len(label_) == 7:
        return f"{calendar.month_name[int(label_[5:])]} {label_[:4]}"
    return label_.replace("-Q", " Q")


class _Rows:
    """The scope's metric rows, looked up by metric, period and item."""

    def __init__(self, metrics: pl.DataFrame, segment: str) -> None:
        self.all = metrics
        self.frame = metrics.filter(pl.col("segment") == segment)

    def of(self, metric: str, period: str | None = None, frame: pl.DataFrame | None = None) -> list[dict[str, Any]]:
        rows = (self.frame if frame is None else frame).filter(pl.col("metric") == metric)
        if period is not None:
            rows = rows.filter(pl.col("period") == period)
        return rows.to_dicts()

    def one(self, metric: str, period: str, item: str | None = None) -> dict[str, Any] | None:
        for row in self.of(metric, period):
            if row["item"] == item:
                return row
        return None


class _Fmt:
    """The report's figures as text: shares, means, days, differences - each with its interval."""

    def __init__(self, fmt: Formatter, min_n: int) -> None:
        self.fmt, self.min_n = fmt, min_n

    def figure(self, row: dict[str, Any] | None, kind: str) -> dict[str, Any]:
        if row is None or float_or_none(row.get("value")) is None:
            return {
                "available": False,
                "n_eff_text": "",
                "text": "–",
                "ci_text": "",
                "n_text": str(row["n"]) if row else "0",
                "small": bool(row and row.get("small_sample")),
                "value": None,
                "mark": "",
            }
        value, low, high = (float_or_none(row.get(c)) for c in ("value", "ci_low", "ci_high"))
        text = self.text(value, kind)
        ci = "" if low is None or high is None else interval_text(self.text(low, kind), self.text(high, kind))
        small = bool(row.get("small_sample"))
        n_eff = float_or_none(row.get("n_eff"))
        return {
            "n_eff_text": "" if n_eff is None else self.fmt.count(round(n_eff)),
            "available": True,
            "value": value,
            "text": text,
            "ci_text": ci,
            "n": row.get("n"),
            "n_text": self.fmt.count(row.get("n")),
            "small": small,
            "mark": SMALL_SAMPLE_MARK if small else "",
        }

    def text(self, value: float | None, kind: str) -> str:
        fmt = self.fmt
        if value is None:
            return "–"
        return {
            "share": lambda: fmt.pct(value),
            "mean": lambda: fmt.mean(value),
            "diff": lambda: fmt.mean_diff(value),
            "pts": lambda: fmt.dec(value, "+#,##0.0;-#,##0.0") + NBSP + "pts",
            "share_pts": lambda: fmt.pts(value),
            "days": lambda: fmt.dec(value, "#,##0.0") + NBSP + "days",
            "count": lambda: fmt.count(value),
            "r2": lambda: fmt.dec(value, "0.00"),
        }[kind]()


def _share_change(now: dict[str, Any] | None, before: dict[str, Any] | None, fmt: _Fmt) -> str:
    if not now or not before or now.get("value") is None or before.get("value") is None:
        return "–"
    return fmt.text(now["value"] - before["value"], "share_pts")


# --- sections ------------------------------------------------------------------------------------


def _fixes(r: _Rows, meta: ImprovementMeta, f: _Fmt, excerpts: pl.DataFrame) -> dict[str, Any]:
    """The three things to fix: the best-ranked actionable problems, their evidence, size and trend.

    Customers' words are quoted only from a scope with at least `min_comment_group_size` coded
    excerpts in the period: from fewer, a reader could tell who said it."""
    coded = next((row["n"] for row in r.of("theme_frequency", meta.period)), 0) or 0
    if coded < meta.min_comment_group_size:
        excerpts = excerpts.clear()
    themes = {code: (name, actionable) for code, name, actionable in meta.themes}
    ranked = sorted(r.of("top_problem", meta.period), key=lambda row: row["rank"] or 10**6)
    before = {row["item"]: row for row in r.of("top_problem", meta.previous_period)} if meta.previous_period else {}
    raised = [row for row in ranked if (row["n"] or 0) > 0]
    quotes: dict[str, list[dict[str, Any]]] = {}
    for q in excerpts.sort("theme", "rank").iter_rows(named=True):
        said = quotes.setdefault(q["theme"], [])
        if all(s["text"] != q["quote"] for s in said):  # the same words in two documents: quoted once
            said.append({"text": q["quote"], "truncated": bool(q["truncated"])})
    fixes = []
    for row in raised:
        name, actionable = themes.get(row["item"], (row["item"], True))
        if not actionable or len(fixes) == TOP_FIXES:
            continue
        prior = before.get(row["item"])
        prior_n = (prior or {}).get("n") or 0
        n = row["n"] or 0
        trend = (
            f"{'up' if n > prior_n else 'down' if n < prior_n else 'unchanged'} from {f.fmt.count(prior_n)} in "
            f"{period_text(meta.previous_period, meta.granularity)}"
            if meta.previous_period
            else ""
        )
        evidence = str(row["reference"] or "").split("; uncategorised")[0]
        fixes.append(
            {
                "rank": len(fixes) + 1,
                "code": row["item"],
                "label": label(name, 80),
                "total_text": f.fmt.count(n),
                "mentions_text": f"{f.fmt.count(n)} mention{'' if n == 1 else 's'}",
                "evidence": label(evidence, 200),
                "trend": trend,
                "direction": "up" if n > prior_n else "down" if n < prior_n else "same",
                "score_text": f.fmt.dec(row["value"], "0.00"),
                "quotes": quotes.get(row["item"], [])[:2],
            }
        )
    skipped = [
        label(themes.get(row["item"], (row["item"], True))[0], 60)
        for row in raised[: max(TOP_FIXES, len(fixes))]
        if not themes.get(row["item"], (row["item"], True))[1]
    ]
    # A Pareto chart orders by the count itself (the ranking, which also weighs cost and actionability, is
    # page 1's): the cumulative line then shows how few themes make up most of the evidence.
    by_count = sorted(raised, key=lambda row: (-(row["n"] or 0), row["rank"]))
    evidence_total = sum(row["n"] or 0 for row in by_count) or 1
    running = 0
    pareto = []
    for row in by_count[:PARETO_BARS]:
        running += row["n"] or 0
        pareto.append(
            {
                "label": label(themes.get(row["item"], (row["item"], True))[0], 40),
                "total": int(row["n"] or 0),
                "cumulative_share": running / evidence_total,
                # The chart numbers the three fixes as page 1 does.
                "rank": next((fx["rank"] for fx in fixes if fx["code"] == row["item"]), len(pareto) + 1),
                "top": row["item"] in {fx["code"] for fx in fixes},
            }
        )
    uncategorised = (
        str(ranked[0]["reference"]).split("; uncategorised, not ranked: ")[1]
        if ranked and "; uncategorised" in str(ranked[0]["reference"])
        else ""
    )
    return {"items": fixes, "not_actionable": skipped, "pareto": pareto, "uncategorised": label(uncategorised, 200)}


def _open_cases(reference: object) -> int:
    """The open cases a Kaplan-Meier row's reference names ("...; 4 of 8 cases open, ...")."""
    found = re.search(r"(\d+) of \d+ cases open", str(reference or ""))
    return int(found.group(1)) if found else 0


def _questions(meta: ImprovementMeta) -> dict[str, tuple[str, str]]:
    return {qid: (label(text, 90), dimension) for qid, text, dimension in meta.questions}


def _drivers(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    questions = _questions(meta)
    weights = {(row["item"], row["reference"]): row for row in r.of("driver_weight", meta.period)}
    quadrants = {row["item"]: row for row in r.of("ipa_quadrant", meta.period)}
    r2 = r.one("driver_r2", meta.period)
    rows = []
    points = []
    for qid, (text, dimension) in questions.items():
        if qid == meta.overall_item:
            continue
        csat = r.one("attribute_csat", meta.period, qid)
        if csat is None:
            continue  # not asked, or not shown (too few respondents)
        before = r.one("attribute_csat", meta.previous_period, qid) if meta.previous_period else None
        mean = r.one("attribute_mean", meta.period, qid)
        rw, lmg = weights.get((qid, "relative_weight")), weights.get((qid, "lmg"))
        quadrant = str((quadrants.get(qid) or {}).get("reference") or "").split(";")[0]
        rows.append(
            {
                "item": qid,
                "text": text,
                "dimension": label(dimension, 40),
                "csat": f.figure(csat, "share"),
                "change": _share_change(csat, before, f),
                "mean": f.figure(mean, "mean"),
                "weight": f.figure(rw, "share"),
                "lmg": f.figure(lmg, "share"),
                "quadrant": QUADRANTS.get(quadrant.lower(), label(quadrant, 40)),
            }
        )
        if rw and rw.get("value") is not None and mean and mean.get("value") is not None:
            points.append(
                {
                    "label": text if len(text) <= 28 else qid.replace("_", " "),
                    "importance": float(rw["value"]),
                    "performance": float(mean["value"]),
                    "quadrant": quadrant.lower(),
                    "small": bool(rw.get("small_sample")),
                }
            )
    rows.sort(key=lambda x: -(x["weight"]["value"] or -1))
    crosshair = None
    if points:
        crosshair = (
            sum(p["performance"] for p in points) / len(points),
            sum(p["importance"] for p in points) / len(points),
        )
    return {
        "rows": rows,
        "r2": f.figure(r2, "r2"),
        "points": points,
        "crosshair": crosshair,
        "available": bool(points),
    }


def _gaps(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    questions = _questions(meta)
    servqual = r.of("servqual_gap", meta.period)
    dims = [
        {
            "label": label(row["item"].removeprefix("dimension:"), 40).capitalize(),
            **f.figure(row, "diff"),
            "ci_low": row["ci_low"],
            "ci_high": row["ci_high"],
        }
        for row in servqual
        if str(row["item"]).startswith("dimension:")
    ]
    overall = {row["reference"]: f.figure(row, "diff") for row in servqual if row["item"] == "overall"}
    model = []
    for row in sorted(r.of("gap_model", meta.period), key=lambda x: str(x["item"])):
        key, _, what = str(row["item"]).partition(":")
        name, meaning = GAPS.get(key, (key, ""))
        # Gap 3 of a share (fcr, return rate, on time) is in percentage points, of days in days; gap 4 is a share.
        kind = (
            "share"
            if key == "gap4"
            else ("diff" if what.startswith("time_to_resolution") else "share_pts")
            if key == "gap3"
            else "diff"
        )
        what_text = (
            questions.get(what, (what.replace("_", " "), ""))[0] if what else "promises made when complaints were taken"
        )
        model.append({"gap": name, "what": label(what_text, 60), "meaning": meaning, **f.figure(row, kind)})
    flags = [
        {"dimension": label(row["item"], 40), "reference": label(row["reference"], 200), **f.figure(row, "share")}
        for row in r.of("low_expectation_flag", meta.period)
        if str(row["reference"]).startswith("flagged:")
    ]
    mode = [
        {
            "question": questions.get(row["item"], (row["item"], ""))[0],
            "reference": label(row["reference"], 160),
            **f.figure(row, "pts"),
        }
        for row in r.of("mode_effect", meta.period)
    ]
    wording = [
        {"what": label(str(row["item"]).removeprefix("dimension:"), 40), **f.figure(row, "pts")}
        for row in r.of("wording_effect", meta.period)
    ]
    chart = [
        {"label": d["label"], "value": d["value"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "small": d["small"]}
        for d in dims
        if d["value"] is not None
    ]
    return {
        "dimensions": dims,
        "overall": overall.get("unweighted"),
        "weighted": overall.get("weighted"),
        "model": model,
        "low_expectation": flags,
        "mode": mode,
        "wording": wording,
        "chart": chart,
    }


def _control(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    questions = _questions(meta)
    trend = r.of("trend")
    limits = {(row["item"], row["period"]): row for row in r.of("p_chart")}
    signals: dict[tuple[str, str], list[int]] = {}
    listed = []
    for row in r.of("spc_signal"):
        if row["small_sample"]:
            continue  # a "signal" of a handful of answers is the normal limits failing, not the process moving
        rule = str(row["reference"] or "").removeprefix("rule ").split(":")[0]
        signals.setdefault((row["item"], row["period"]), []).append(int(rule) if rule.isdigit() else 0)
        if row["period"] in meta.history[-6:]:
            listed.append(
                {
                    "question": questions.get(row["item"], (row["item"], ""))[0],
                    "period": period_text(row["period"], meta.granularity),
                    "rule": RULES.get(rule, label(row["reference"], 80)),
                    "side": "above" if "above" in str(row["reference"]) else "below",
                }
            )
    series = []
    for qid, (text, _) in questions.items():
        by_period = {row["period"]: row for row in trend if row["item"] == qid}
        if not by_period:
            continue
        centre = next((limits[(qid, p)]["value"] for p in meta.history if (qid, p) in limits), None)
        points = []
        for period in meta.history:
            point, limit = by_period.get(period), limits.get((qid, period))
            points.append(
                {
                    "period": period,
                    "p": float_or_none(point["value"]) if point else None,
                    "n": int(point["n"]) if point else 0,
                    "lcl": float_or_none(limit["ci_low"]) if limit else None,
                    "ucl": float_or_none(limit["ci_high"]) if limit else None,
                    "small": bool(point and point["small_sample"]),
                    "signals": sorted(set(signals.get((qid, period), []))),
                }
            )
        series.append({"title": text, "value_label": "Satisfied (%)", "centre": centre, "points": points})
    return {"series": series, "signals": listed}


def _complaints(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    p = meta.period
    money = [
        format_currency(row["value"], row["item"], locale=f.fmt.locale)
        if row["item"]
        else f.fmt.dec(row["value"], "#,##0.00")
        for row in r.of("compensation_total", p)
        if row["value"] is not None
    ]
    iceberg = r.one("iceberg_silent_estimate", p)
    summary = {
        "complaints": f.figure(r.one("complaints", p), "count"),
        "fcr": f.figure(r.one("fcr", p), "share"),
        "repeat": f.figure(r.one("repeat_contact_rate", p), "share"),
        "median": f.figure(r.one("time_to_resolution_median", p), "days"),
        "p90": f.figure(r.one("time_to_resolution_p90", p), "days"),
        "promise": f.figure(r.one("promise_kept", p), "share"),
        "followup": f.figure(r.one("followup_satisfied", p), "share"),
        "compensation": ", ".join(money) or "none",
        "iceberg": f.fmt.count(iceberg["value"]) if iceberg and iceberg["value"] is not None else "–",
        "iceberg_ratio": f.fmt.dec(meta.iceberg_ratio, "#,##0.#"),
    }
    units = []
    chart = []
    if meta.segment == COMPANY or meta.members:
        frame = r.all.filter(pl.col("period") == p)
        segments = sorted(
            set(frame.filter(pl.col("metric") == "complaints")["segment"].drop_nulls()) - {COMPANY, meta.segment}
        )
        for seg in segments:
            rr = _Rows(r.all, seg)
            median, p90 = rr.one("time_to_resolution_median", p), rr.one("time_to_resolution_p90", p)
            cases = rr.one("complaints", p)
            units.append(
                {
                    "unit": label(seg, 40),
                    "complaints": f.figure(cases, "count"),
                    "fcr": f.figure(rr.one("fcr", p), "share"),
                    "median": f.figure(median, "days"),
                    "p90": f.figure(p90, "days"),
                    "promise": f.figure(rr.one("promise_kept", p), "share"),
                }
            )
            chart.append(
                {
                    "label": label(seg, 30),
                    "median": float_or_none((median or {}).get("value")),
                    "median_low": float_or_none((median or {}).get("ci_low")),
                    "median_high": float_or_none((median or {}).get("ci_high")),
                    "p90": float_or_none((p90 or {}).get("value")),
                    "open_cases": _open_cases((median or {}).get("reference")),
                    "small": bool((median or {}).get("small_sample", True)),
                }
            )
    return {"summary": summary, "units": units, "chart": chart, "available": summary["complaints"]["available"]}


def _themes(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    names = {code: label(name, 60) for code, name, _ in meta.themes}
    freq = [row for row in r.of("theme_frequency", meta.period) if row["reference"] == "count rolled up"]
    shares = {row["item"]: row for row in r.of("theme_frequency", meta.period) if row["reference"] == "share rolled up"}
    freq.sort(key=lambda row: (-(row["value"] or 0), row["item"]))
    rows = [
        {
            "theme": names.get(row["item"], label(row["item"], 60)),
            "count": f.fmt.count(row["value"]),
            **{"share_" + k: v for k, v in f.figure(shares.get(row["item"]), "share").items()},
        }
        for row in freq[:8]
    ]
    pairs = [row for row in r.of("theme_cooccurrence", meta.period) if str(row["reference"]).startswith("count")]
    jaccard = {
        row["item"]: row
        for row in r.of("theme_cooccurrence", meta.period)
        if str(row["reference"]).startswith("Jaccard")
    }
    pairs.sort(key=lambda row: (-(row["value"] or 0), row["item"]))
    together = [
        {
            "pair": " + ".join(names.get(code, code) for code in str(row["item"]).split("+")),
            "count": f.fmt.count(row["value"]),
            "jaccard": f.fmt.dec((jaccard.get(row["item"]) or {}).get("value"), "0.00"),
        }
        for row in pairs[:5]
        if (row["value"] or 0) >= 2
    ]
    excerpts = freq[0]["n"] if freq else 0
    return {"rows": rows, "pairs": together, "excerpts_text": f.fmt.count(excerpts), "available": bool(rows)}


def _interviewers(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    questions = _questions(meta)
    rows = r.of("interviewer_effect", meta.period)
    icc = [
        {
            "question": questions.get(str(row["item"])[4:], (str(row["item"])[4:].replace("_", " "), ""))[0],
            **f.figure(row, "r2"),
            "reference": label(row["reference"], 160),
        }
        for row in rows
        if str(row["item"]).startswith("icc:")
    ]
    flagged = [
        {
            "interviewer": label(str(row["item"]).split(":")[2], 30),
            "question": questions.get(str(row["item"]).split(":")[1], ("", ""))[0] or str(row["item"]).split(":")[1],
            **f.figure(row, "diff"),
        }
        for row in rows
        if str(row["item"]).startswith("deviation:") and "flagged" in str(row["reference"])
    ]
    return {"icc": icc, "flagged": flagged, "available": bool(icc)}


def _focus_groups(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    rows = r.of("focus_group_representativeness", meta.period)
    composition = [
        {
            "category": label(str(row["item"]).split(":", 2)[2], 40),
            **f.figure(row, "share"),
            "base": label(row["reference"], 60),
        }
        for row in rows
        if str(row["item"]).startswith("composition:")
    ]
    tests = {str(row["item"]).split(":")[0]: row for row in rows if not str(row["item"]).startswith("composition:")}
    p = tests.get("exact_p") or tests.get("chi2_p")
    verdict = ""
    if p and p.get("value") is not None:
        kind = "exact multinomial test" if "exact_p" in tests else "chi-square test"
        differs = p["value"] < 0.05
        verdict = (
            f"Participants {'differ from' if differs else 'do not differ detectably from'} the customer base "
            f"({kind}, {f.fmt.p(p['value'])}, n = {f.fmt.count(p['n'])})."
        )
    return {"composition": composition, "verdict": verdict, "available": bool(composition)}


def _question_of_period(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    if meta.question_of_period is None:
        return {"available": False}
    rows = r.of("question_of_period", meta.period)
    answers = sorted(
        (
            {"answer": str(row["item"]).removeprefix("answer:"), **f.figure(row, "share")}
            for row in rows
            if str(row["item"]).startswith("answer:")
        ),
        key=lambda a: a["answer"],
    )
    mean = next((row for row in rows if row["item"] == "mean"), None)
    return {
        "available": bool(answers),
        "question": label(meta.question_of_period[1], 200),
        "answers": answers,
        "mean": f.figure(mean, "mean"),
    }


def _operations(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    p = meta.period
    names = {code: label(name, 60) for code, name, _ in meta.themes}
    reasons = sorted(r.of("return_rate_by_reason", p), key=lambda row: -(row["value"] or 0))[:3]
    suppliers = []
    for row in r.of("supplier_on_time", p):
        defect = r.one("supplier_defect_rate", p, row["item"])
        suppliers.append(
            {
                "supplier": label(row["item"], 40),
                "on_time": f.figure(row, "share"),
                "defects": f.figure(defect, "share"),
            }
        )
    return {
        "returns": f.figure(r.one("return_rate", p), "share"),
        "reasons": [
            {"reason": names.get(row["item"], label(row["item"], 40)), **f.figure(row, "share")} for row in reasons
        ],
        "suppliers": suppliers,
    }


def _goals(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> list[dict[str, Any]]:
    labels = {(metric, item): name for metric, item, name in meta.goals}
    out = []
    for row in r.of("goal_status", meta.period) + [x for x in r.of("goal_status") if x["period"] is None]:
        metric, _, item = str(row["item"]).partition("/")
        kind = "days" if metric.startswith("time_to_resolution") else "mean" if metric.endswith("_mean") else "share"
        name = labels.get((metric, item or None)) or labels.get((metric, None)) or metric.replace("_", " ")
        out.append(
            {
                "goal": label(name, 80) + (f" – {label(item, 30)}" if item and (metric, item) not in labels else ""),
                "target": f"{'≥' if row['comparator'] == '>=' else '≤'} {f.text(row['target'], kind)}",
                "status": str(row["reference"]),
                "survey": metric.startswith("attribute_"),
                **f.figure(row, kind),
            }
        )
    order = {"missed": 0, "at risk": 1, "no data": 2, "met": 3}
    return sorted(out, key=lambda g: (order.get(g["status"], 9), g["goal"]))


def _self_assessment(r: _Rows, meta: ImprovementMeta, f: _Fmt) -> dict[str, Any]:
    rows = r.of("self_assessment", meta.period)
    total = next((row for row in rows if row["item"] == "total"), None)
    parts = [
        {"area": label(str(row["item"]).replace("_", " "), 40).capitalize(), **f.figure(row, "mean")}
        for row in rows
        if row["item"] != "total"
    ]
    return {"available": total is not None, "total": f.figure(total, "mean"), "parts": parts}


def build_improvement_context(
    metrics: pl.DataFrame,
    excerpts: pl.DataFrame,
    files: pl.DataFrame,
    quarantine_reasons: pl.DataFrame,
    meta: ImprovementMeta,
) -> dict[str, Any]:
    """Everything the improvement template prints. Raises ValueError without the period's answers for
    the scope: an empty report is never produced."""
    fmt = Formatter(meta.locale)
    f = _Fmt(fmt, meta.min_n)
    r = _Rows(metrics, meta.segment)
    overall = r.one("attribute_csat", meta.period, meta.overall_item)
    if overall is None:
        raise ValueError(
            f"the metrics frame has no attribute_csat figure for {meta.overall_item!r} in period {meta.period!r}, "
            f"segment {meta.segment!r}: refusing to produce an empty report"
        )
    segment_label = "All customers" if meta.segment == COMPANY else label(meta.segment, 60)
    period_name = period_text(meta.period, meta.granularity)
    too_small = meta.segment != COMPANY and (overall["n"] or 0) < meta.min_group_size
    goals = [g for g in _goals(r, meta, f) if not (too_small and g["survey"])]
    control = _control(r, meta, f)
    excerpts_here = excerpts.filter(pl.col("segment") == meta.segment) if "segment" in excerpts.columns else excerpts
    return {
        "meta": {
            "organisation": label(meta.organisation, 120),
            "title": f"Continuous improvement report {period_name}",
            "period": meta.period,
            "period_text": period_name,
            "previous_text": period_text(meta.previous_period, meta.granularity) if meta.previous_period else "",
            "granularity": meta.granularity,
            "segment": meta.segment,
            "segment_label": segment_label,
            "is_company_wide": meta.segment == COMPANY,
            "generated_at": meta.generated_at,
            "data_as_of": meta.data_as_of,
            "locale": meta.locale,
            "min_n": meta.min_n,
            "min_n_text": fmt.count(meta.min_n),
            "small_sample_mark": SMALL_SAMPLE_MARK,
            # The summary page has room for a few lines; the data-quality page lists them all.
            **banner_texts(meta.banner),
            "history_text": f"{period_text(meta.history[0], meta.granularity)} – {period_name}",
            "too_small": too_small,
            "too_small_text": (
                f"{segment_label} had fewer than {fmt.count(meta.min_group_size)} respondents in {period_name}: "
                "its survey figures are not shown, so that no one's answers can be told apart. They count towards "
                "the company's figures; complaints, operations and what customers said in interviews are shown."
                if too_small
                else ""
            ),
            "min_comment_group_size_text": fmt.count(meta.min_comment_group_size),
            "per_period": {"month": "Monthly", "quarter": "Quarterly", "year": "Yearly"}.get(meta.granularity, ""),
            "year_window_text": {"month": "the last 12 months", "quarter": "the last 4 quarters"}.get(
                meta.granularity, "the year"
            ),
            "problem_weights_text": "frequency {}, cost {}, actionable {}".format(
                *(fmt.dec(w, "0.0#") for w in meta.problem_weights)
            ),
            "weighting": [label(line, 200) for line in meta.weighting],
        },
        # Too few respondents: no survey figure of the scope at all (not even in the context, which is hashed).
        "overall": f.figure(None if too_small else overall, "share"),
        "fixes": _fixes(r, meta, f, excerpts_here),
        "goals": goals,
        "goal_counts": {s: sum(g["status"] == s for g in goals) for s in ("met", "at risk", "missed", "no data")},
        "drivers": _drivers(_Rows(metrics.clear(), meta.segment) if too_small else r, meta, f),
        "gaps": _gaps(_Rows(metrics.clear(), meta.segment) if too_small else r, meta, f),
        "control": {"series": [], "signals": []} if too_small else control,
        "complaints": _complaints(r, meta, f),
        "themes": _themes(r, meta, f),
        "interviewers": _interviewers(r, meta, f),
        "focus_groups": _focus_groups(r, meta, f),
        "question": {"available": False} if too_small else _question_of_period(r, meta, f),
        "operations": _operations(r, meta, f),
        "self_assessment": _self_assessment(r, meta, f),
        "data_quality": data_quality_page(files, quarantine_reasons, fmt, dict(meta.source_titles)),
    }

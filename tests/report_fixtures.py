"""A small, realistic scorecard input built by hand following docs/data-contracts.md.

Counts are written out per period, segment and mode; the fixture derives proportions,
Wilson / adjusted-Wald / t intervals, Newcombe differences and z-test p-values from them
with inline formulas so the frame is internally consistent (it is test data, not the
producer under test).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import polars as pl

from transforms.report_context import ScorecardMeta

Z = 1.959963984540054
MIN_N = 30
TARGET_CSAT = 0.95
TARGET_NPS = 30.0

# (n, top-2-box, promoters, detractors, mean, sd) per period -> segment
COUNTS: dict[str, dict[str, tuple[int, int, int, int, float, float]]] = {
    "2025": {
        "Retail": (812, 667, 340, 130, 4.11, 0.92),
        "Business": (356, 270, 128, 72, 3.98, 1.01),
        "Online shop": (431, 366, 198, 60, 4.22, 0.85),
        "Tartu branch": (24, 17, 9, 6, 3.88, 1.12),
    },
    "2024": {
        "Retail": (790, 628, 300, 140, 4.02, 0.95),
        "Business": (340, 262, 120, 70, 3.95, 1.02),
        "Online shop": (380, 318, 160, 62, 4.15, 0.88),
        "Tartu branch": (31, 24, 11, 7, 3.97, 1.05),
    },
    "2023": {
        "Retail": (760, 589, 280, 150, 3.96, 0.98),
        "Business": (310, 233, 100, 72, 3.90, 1.04),
        "Online shop": (300, 246, 120, 55, 4.08, 0.90),
    },
}
# Company-wide answers by collection mode: (n, top-2-box, promoters, detractors, mean, sd)
MODES: dict[str, dict[str, tuple[int, int, int, int, float, float]]] = {
    "2025": {
        "online": (700, 552, 280, 120, 4.05, 0.93),
        "paper": (210, 160, 80, 40, 3.97, 1.00),
        "phone": (480, 419, 215, 70, 4.25, 0.84),
        "in_person": (233, 189, 100, 38, 4.18, 0.88),
    },
    "2024": {
        "online": (800, 628, 300, 150, 4.01, 0.95),
        "paper": (270, 210, 95, 55, 3.95, 1.01),
        "phone": (330, 282, 150, 55, 4.20, 0.86),
        "in_person": (141, 112, 46, 19, 4.12, 0.90),
    },
}
ATTRIBUTES = [
    ("staff_courtesy", "The staff were courteous and helpful.", "empathy", False, 1580, 1390),
    ("speed_of_service", "I was served quickly.", "responsiveness", False, 1601, 1150),
    (
        "resolved_first_contact",
        "My request was resolved the first time I got in touch.",
        "reliability",
        False,
        1550,
        1130,
    ),
    ("explained_more_than_once", "I had to explain my request more than once.", "reliability", True, 1540, 1050),
    ("value_for_money", "The service was good value for money.", "tangibles", False, 1490, 900),
    ("online_booking", "Booking online was easy.", "tangibles", False, 22, 15),
]
BENCHMARKS = [
    ("Industry average", "csat_top2box", 0.78, "Demo figure: national customer-satisfaction index (illustrative)"),
    ("Best competitor", "csat_top2box", 0.86, "Demo figure: competitor's published annual report (illustrative)"),
    ("Industry average", "nps", 21.0, "Demo figure: sector NPS study (illustrative)"),
]
MULTILINGUAL = [
    "Обслуживание было быстрым, спасибо сотрудникам!",
    "Teenindus oli väga hea, õäöü – aitäh!",
    "Ļoti laipni darbinieki: āēīūšžņļķģ.",
    "Die diens was baie goed; ons is tevrede: ëêô.",
]


def wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


def p_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def nps_se(p: float, d: float, n: float) -> float:
    return 100 * math.sqrt((p / n + d / n - (p / n - d / n) ** 2) / n)


def _base(metric: str, period: str, segment: str, mode: str = "all", item: str | None = None) -> dict:
    return {
        "metric": metric,
        "period": period,
        "segment": segment,
        "mode": mode,
        "item": item,
        "value": None,
        "n": 0,
        "ci_low": None,
        "ci_high": None,
        "comparator": None,
        "reference": None,
        "p_value": None,
        "target": None,
        "below_target": None,
        "small_sample": None,
    }


def _level_rows(period: str, segment: str, mode: str, c: tuple[int, int, int, int, float, float]) -> list[dict]:
    n, top, pro, det, mean, sd = c
    small = n < MIN_N
    lo, hi = wilson(top, n)
    csat = {
        **_base("csat_top2box", period, segment, mode, "overall_satisfaction"),
        "value": top / n,
        "n": n,
        "ci_low": lo,
        "ci_high": hi,
        "target": TARGET_CSAT,
        "below_target": top / n < TARGET_CSAT,
    }
    pa, da, na = pro + 0.75, det + 0.75, n + 3
    centre = 100 * (pa - da) / na
    nps_value = 100 * (pro - det) / n
    nps = {
        **_base("nps", period, segment, mode, "likely_to_recommend"),
        "value": nps_value,
        "n": n,
        "ci_low": centre - Z * nps_se(pa, da, na),
        "ci_high": centre + Z * nps_se(pa, da, na),
        "target": TARGET_NPS,
        "below_target": nps_value < TARGET_NPS,
    }
    half = 2.0 * sd / math.sqrt(n) if n < 60 else Z * sd / math.sqrt(n)
    mean_row = {
        **_base("mean_score", period, segment, mode, "overall_satisfaction"),
        "value": mean,
        "n": n,
        "ci_low": mean - half,
        "ci_high": mean + half,
    }
    responses = {**_base("responses", period, segment, mode), "value": float(n), "n": n}
    rows = [responses, csat, nps, mean_row]
    for row in rows:
        row["small_sample"] = small
    return rows


def _newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float, float]:
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (x1 + x2) / (n1 + n2)
    z = d / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return d, low, high, p_two_sided(z)


def _difference_rows(
    metric: str, period: str, segment: str, mode: str, *, comparator: str, now: tuple, then: tuple
) -> list[dict]:
    n1, t1, p1, d1, m1, s1 = now
    n2, t2, p2, d2, m2, s2 = then
    small = min(n1, n2) < MIN_N
    d, lo, hi, p = _newcombe(t1, n1, t2, n2)
    csat = {
        **_base(f"csat_top2box_{metric}", period, segment, mode),
        "value": d,
        "n": n1 + n2,
        "ci_low": lo,
        "ci_high": hi,
        "comparator": comparator,
        "reference": t2 / n2,
        "p_value": p,
        "small_sample": small,
    }
    nps1, nps2 = 100 * (p1 - d1) / n1, 100 * (p2 - d2) / n2
    se = math.hypot(nps_se(p1, d1, n1), nps_se(p2, d2, n2))
    nps = {
        **_base(f"nps_{metric}", period, segment, mode),
        "value": nps1 - nps2,
        "n": n1 + n2,
        "ci_low": nps1 - nps2 - Z * se,
        "ci_high": nps1 - nps2 + Z * se,
        "comparator": comparator,
        "reference": nps2,
        "p_value": p_two_sided((nps1 - nps2) / se),
        "small_sample": small,
    }
    mse = math.hypot(s1 / math.sqrt(n1), s2 / math.sqrt(n2))
    mean = {
        **_base(f"mean_score_{metric}", period, segment, mode),
        "value": m1 - m2,
        "n": n1 + n2,
        "ci_low": m1 - m2 - Z * mse,
        "ci_high": m1 - m2 + Z * mse,
        "comparator": comparator,
        "reference": m2,
        "p_value": p_two_sided((m1 - m2) / mse),
        "small_sample": small,
    }
    return [csat, nps, mean]


def _total(parts: dict[str, tuple]) -> tuple[int, int, int, int, float, float]:
    n = sum(c[0] for c in parts.values())
    mean = sum(c[0] * c[4] for c in parts.values()) / n
    sd = math.sqrt(sum(c[0] * c[5] ** 2 for c in parts.values()) / n)
    return (
        n,
        sum(c[1] for c in parts.values()),
        sum(c[2] for c in parts.values()),
        sum(c[3] for c in parts.values()),
        round(mean, 4),
        round(sd, 4),
    )


def _group(parts: dict[str, tuple], modes: tuple[str, ...]) -> tuple:
    return _total({m: parts[m] for m in modes})


METRICS_SCHEMA = {
    "metric": pl.String,
    "period": pl.String,
    "segment": pl.String,
    "mode": pl.String,
    "item": pl.String,
    "value": pl.Float64,
    "n": pl.Int64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "comparator": pl.String,
    "reference": pl.Float64,
    "p_value": pl.Float64,
    "target": pl.Float64,
    "below_target": pl.Boolean,
    "small_sample": pl.Boolean,
}


def metrics_frame() -> pl.DataFrame:
    """The metrics file for 2025 with 2024 and 2023 levels (one row per metric x period x segment x mode x item)."""
    rows: list[dict] = []
    for period, segments in COUNTS.items():
        for segment, c in segments.items():
            rows += _level_rows(period, segment, "all", c)
        rows += _level_rows(period, "All", "all", _total(segments))
    for period, modes in MODES.items():
        for mode, c in modes.items():
            rows += _level_rows(period, "All", mode, c)
        oral, written = _group(modes, ("phone", "in_person")), _group(modes, ("online", "paper"))
        rows += _level_rows(period, "All", "oral", oral)
        rows += _level_rows(period, "All", "written", written)
        rows += _difference_rows(
            "mode_gap", period, "All", "oral-written", comparator="written", now=oral, then=written
        )
        total = _total(modes)
        rows.append(
            {
                **_base("mode_share_oral", period, "All"),
                "value": oral[0] / total[0],
                "n": total[0],
                "small_sample": False,
            }
        )
    for segment, c in COUNTS["2025"].items():
        rows += _difference_rows(
            "change", "2025", segment, "all", comparator="2024", now=c, then=COUNTS["2024"][segment]
        )
    rows += _difference_rows(
        "change", "2025", "All", "all", comparator="2024", now=_total(COUNTS["2025"]), then=_total(COUNTS["2024"])
    )
    for qid, _text, _dim, _rev, n, top in ATTRIBUTES:
        lo, hi = wilson(top, n)
        rows.append(
            {
                **_base("attribute_top2box", "2025", "All", "all", qid),
                "value": top / n,
                "n": n,
                "ci_low": lo,
                "ci_high": hi,
                "small_sample": n < MIN_N,
            }
        )
    return pl.DataFrame(rows, schema=METRICS_SCHEMA)


def files_frame() -> pl.DataFrame:
    """ingest_files rows: three loaded files and one rejected whole, all survey exports."""
    when = datetime(2026, 1, 5, 4, 30, tzinfo=UTC)
    data = [
        ("a1", "export_2025_h1.csv", "csv", "utf-8", ";", "loaded", None, 820, 812, 8, 3),
        ("b2", "export_2025_h2.xlsx", "xlsx", "", None, "loaded", None, 611, 607, 4, 0),
        ("c3", "interviews_2025.jsonl", "jsonl", "utf-8", None, "loaded", None, 209, 204, 5, 1),
        (
            "d4",
            "branch_tartu_2025.csv",
            "csv",
            "cp1251",
            ",",
            "rejected",
            "branch_tartu_2025.csv: line 14: expected 9 fields, found 11 (is the delimiter ';'?)",
            0,
            0,
            0,
            0,
        ),
    ]
    cols = [
        "file_sha256",
        "source_file",
        "format",
        "encoding",
        "delimiter",
        "status",
        "message",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "duplicates_superseded",
    ]
    frame = pl.DataFrame(data, schema=cols, orient="row")
    return frame.with_columns(pl.lit("surveys").alias("source"), pl.lit(when).alias("ingested_at"))


def quarantine_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_file": ["export_2025_h1.csv", "export_2025_h1.csv", "export_2025_h2.xlsx", "interviews_2025.jsonl"],
            "reason": [
                "overall_satisfaction: expected a number 1-5, got text",
                "submitted_at: not a date",
                "mode: unknown collection mode",
                "response_id: missing",
            ],
            "rows": [5, 3, 4, 5],
        }
    )


def comments_frame(extra: list[str] | None = None) -> pl.DataFrame:
    texts = [
        "Quick and friendly service at the counter; the new opening hours help a lot.",
        "Had to call three times before anyone owned my case.",
        *MULTILINGUAL,
        *(extra or []),
    ]
    segments = ["Retail", "Business", "Online shop", "Retail", "Tartu branch", "Business"]
    modes = ["online", "phone", "paper", "in_person", "online", "phone"]
    return pl.DataFrame(
        {
            "submitted_at": [datetime(2025, 3 + i % 9, 1 + i, 10, 0, tzinfo=UTC) for i in range(len(texts))],
            "segment": [segments[i % len(segments)] for i in range(len(texts))],
            "mode": [modes[i % len(modes)] for i in range(len(texts))],
            "overall_value": [float(5 - i % 4) if i % 5 else None for i in range(len(texts))],
            "comment": texts,
        }
    )


def meta(**overrides: object) -> ScorecardMeta:
    values: dict = {
        "organisation": "Northwind Services",
        "period": "2025",
        "previous_period": "2024",
        "segment": "All",
        "generated_at": "5 Jan 2026, 04:30 (Europe/Tallinn)",
        "data_as_of": "2026-01-15 06:00:00 UTC",
        "locale": "en_GB",
        "min_n": MIN_N,
        "target_csat": TARGET_CSAT,
        "target_nps": TARGET_NPS,
        "overall_question": "Overall, how satisfied are you with Northwind Services?",
        "nps_question": "How likely are you to recommend us to a friend or colleague?",
        "attributes": [(q, t, d, r) for q, t, d, r, _n, _x in ATTRIBUTES],
        "benchmarks": BENCHMARKS,
        "comment_max_chars": 400,
        "mode_shift_warning_pts": 10.0,
        "overall_scale": (1, 5),
    }
    values.update(overrides)
    return ScorecardMeta(**values)


def scorecard_inputs(extra_comments: list[str] | None = None, **meta_overrides: object) -> tuple:
    """(metrics, files, quarantine_reasons, comments, meta) ready for build_scorecard_context."""
    return metrics_frame(), files_frame(), quarantine_frame(), comments_frame(extra_comments), meta(**meta_overrides)

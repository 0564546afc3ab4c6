"""Charts of the continuous-improvement report (flows/improvement_charts.py): well-formed, deterministic
vector SVG whose labels are real, literal, truncated text, and that survives empty and partial input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from flows import improvement_charts as ic

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ["$x$", "<script>alert(1)</script>", "&amp;"]
LONG = "Waiting time at the counter when the branch is busy on a Monday morning"  # 70 characters


def _root(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))  # noqa: S314 - our own charts' output


def _texts(svg: str) -> list[str]:
    """The content of every <text> element, as a reader of the SVG would see it (entities decoded)."""
    return ["".join(element.itertext()) for element in _root(svg).iter(f"{SVG}text")]


def _problem(label: str, rank: int, total: int | None = 10, share: float | None = 0.5) -> dict[str, Any]:
    return {"label": label, "total": total, "cumulative_share": share, "rank": rank, "top": rank <= 3}


def _point(period: str, p: float | None, signals: list[int] | None = None, small: bool = False) -> dict[str, Any]:
    return {"period": period, "p": p, "n": 80, "lcl": 0.7, "ucl": 0.96, "small": small, "signals": signals or []}


def _series(title: str = "Overall", signals: dict[int, list[int]] | None = None) -> dict[str, Any]:
    values = [0.84, 0.86, None, 0.88, 0.97, 0.83]
    points = [_point(f"2025-{i + 1:02d}", v, (signals or {}).get(i)) for i, v in enumerate(values)]
    return {"title": title, "value_label": "Satisfied (%)", "centre": 0.85, "points": points}


def _ipa(label: str, importance: float | None = 0.3, performance: float | None = 3.4) -> dict[str, Any]:
    return {
        "label": label,
        "importance": importance,
        "performance": performance,
        "quadrant": "concentrate here",
        "small": False,
    }


def _gap(label: str, value: float | None = -0.42, small: bool = False) -> dict[str, Any]:
    low, high = (None, None) if value is None else (value - 0.2, value + 0.2)
    return {"label": label, "value": value, "ci_low": low, "ci_high": high, "small": small}


def _unit(label: str, median: float | None = 4.0, p90: float | None = 12.0, small: bool = False) -> dict[str, Any]:
    low, high = (None, None) if median is None else (median - 1, median + 2)
    return {
        "label": label,
        "median": median,
        "median_low": low,
        "median_high": high,
        "p90": p90,
        "open_cases": 3,
        "small": small,
    }


# chart name -> (draw with these labels, draw with no rows)
CHARTS: dict[str, tuple[Callable[[list[str]], str], Callable[[], str]]] = {
    "pareto": (
        lambda labels: ic.pareto_svg([_problem(lab, i + 1, 20 - i, (i + 1) / 10) for i, lab in enumerate(labels)]),
        lambda: ic.pareto_svg([]),
    ),
    "control": (
        lambda labels: ic.control_chart_svg(_series(labels[0])),
        lambda: ic.control_chart_svg(
            {"title": "Overall", "value_label": "Satisfied (%)", "centre": None, "points": []}
        ),
    ),
    "controls": (
        lambda labels: ic.control_charts_svg([_series(lab) for lab in labels]),
        lambda: ic.control_charts_svg([]),
    ),
    "quadrant": (
        lambda labels: ic.quadrant_svg(
            [_ipa(lab, 0.1 + 0.1 * i, 3.2 + 0.4 * i) for i, lab in enumerate(labels)], (3.8, 0.25)
        ),
        lambda: ic.quadrant_svg([], (3.8, 0.25)),
    ),
    "gaps": (
        lambda labels: ic.gaps_svg([_gap(lab, 0.3 - 0.25 * i) for i, lab in enumerate(labels)], "P - E"),
        lambda: ic.gaps_svg([], "P - E"),
    ),
    "resolution": (
        lambda labels: ic.resolution_svg([_unit(lab, 3.0 + i) for i, lab in enumerate(labels)]),
        lambda: ic.resolution_svg([]),
    ),
}


@pytest.mark.parametrize("name", CHARTS)
def test_chart_is_deterministic_vector_svg_with_real_text(name: str):
    """Same input, same bytes; the SVG parses; labels are <text> elements (not glyph paths), no date."""
    draw, _ = CHARTS[name]
    first, second = draw(["Billing", "Staff"]), draw(["Billing", "Staff"])
    assert first == second
    root = _root(first)
    assert root.tag == f"{SVG}svg"
    assert any("Billing" in text for text in _texts(first))
    assert "<dc:date>" not in first
    assert "DejaVuSans-" not in first  # glyph outlines would be defined as paths named after the font


@pytest.mark.parametrize("name", CHARTS)
def test_empty_input_gives_a_no_data_svg(name: str):
    """No rows: a small, valid SVG that says there is no data, instead of an exception or a blank axis."""
    _, draw_empty = CHARTS[name]
    svg = draw_empty()
    texts = _texts(svg)
    assert any("no data" in text.lower() for text in texts)
    assert len(texts) == 1  # no axes, ticks or legend drawn around nothing


@pytest.mark.parametrize("name", CHARTS)
def test_hostile_labels_stay_literal_text(name: str):
    """Mathtext, markup and entities in labels are printed as typed, never interpreted or injected."""
    draw, _ = CHARTS[name]
    labels = HOSTILE if name != "control" else ["$x$ <script>alert(1)</script> &amp;"]
    svg = draw(labels)
    texts = _texts(svg)
    for label in labels:
        assert any(label in text for text in texts), label
    assert not any(element.tag.endswith("script") for element in _root(svg).iter())


@pytest.mark.parametrize("name", CHARTS)
def test_long_labels_are_cut_with_an_ellipsis(name: str):
    """A 70-character label is printed as its first 39 characters and "…", never in full."""
    draw, _ = CHARTS[name]
    texts = _texts(draw([LONG, "Staff"]))
    assert not any(LONG in text for text in texts)
    assert any(LONG[:39].rstrip() + "…" in text for text in texts)


def test_single_points_and_missing_values_do_not_raise():
    """One row with every optional value missing draws a valid SVG in every chart."""
    svgs = [
        ic.pareto_svg([_problem("Only", 1, None, None)]),
        ic.control_chart_svg(
            {"title": "One", "value_label": "Satisfied (%)", "centre": None, "points": [_point("2025-01", None)]}
        ),
        ic.control_chart_svg(
            {
                "title": "One",
                "value_label": "Satisfied (%)",
                "centre": 0.8,
                "points": [
                    {"period": "2025-01", "p": 0.8, "n": 5, "lcl": None, "ucl": None, "small": True, "signals": []}
                ],
            }
        ),
        ic.control_charts_svg([_series("A"), {"title": "Empty", "points": []}], columns=2),
        ic.quadrant_svg([_ipa("Only")], (3.4, 0.3)),
        ic.quadrant_svg([_ipa("No importance", importance=None), _ipa("Scored")], (3.4, 0.3)),
        ic.gaps_svg([_gap("Only", None)], "Gap"),
        ic.resolution_svg([_unit("Only", None, None)]),
    ]
    for svg in svgs:
        assert _root(svg).tag == f"{SVG}svg"
    assert any("Not shown (no value): No importance" in text for text in _texts(svgs[5]))
    assert "no data" in _texts(svgs[6])
    assert "median not reached; 90th pct. not reached" in _texts(svgs[7])


def test_pareto_numbers_and_bolds_only_the_top_three():
    """Top problems are numbered (rank) and bold: readable without the darker fill."""
    svg = ic.pareto_svg([_problem(f"Problem {i}", i, 50 - i, i / 5) for i in range(1, 6)])
    root = _root(svg)
    labels = {"".join(e.itertext()): e.get("style", "") for e in root.iter(f"{SVG}text")}
    for rank in (1, 2, 3):
        assert "font-weight: 700" in labels[f"{rank}. Problem {rank}"]
    assert "Problem 4" in labels
    assert "4. Problem 4" not in labels
    assert "font-weight: 700" not in labels["Problem 4"]
    assert "Evidence (count)" in labels
    assert "100 %" in labels  # the cumulative axis runs to 100 %


def test_pareto_draws_at_most_ten_bars():
    svg = ic.pareto_svg([_problem(f"Problem {i}", i) for i in range(1, 13)])
    texts = _texts(svg)
    assert "Problem 10" in texts
    assert "Problem 11" not in texts


def test_control_chart_writes_rule_numbers_of_signalled_points_only():
    """A signalled point carries its rule numbers ("R1", "R2,4"); without signals no rule text appears."""
    signalled = _texts(ic.control_chart_svg(_series(signals={4: [1], 5: [2, 4]})))
    assert "R1" in signalled
    assert "R2,4" in signalled
    quiet = _texts(ic.control_chart_svg(_series()))
    assert not [text for text in quiet if re.fullmatch(r"R[\d,]+", text)]


def test_control_chart_axis_fits_the_data_not_zero_to_hundred():
    """Values at 70-97 % get an axis around them (no 0 % tick), never past 100 %, covering every point and limit."""
    texts = _texts(ic.control_chart_svg(_series(signals={4: [1]})))
    ticks = [float(t.removesuffix(" %")) for t in texts if re.fullmatch(r"\d+(\.\d+)? %", t)]
    assert ticks
    assert min(ticks) > 0
    assert min(ticks) <= 70  # the lower control limit
    assert max(ticks) == 100  # the upper limit (96 %) and the point at 97 % are under the top tick
    assert "Satisfied (%)" in texts


def test_control_chart_thins_period_labels_when_many_points():
    """Twelve months: every period labelled; 24 months: every 2nd."""
    year = [_point(f"2025-{m:02d}", 0.8) for m in range(1, 13)]
    twelve = _texts(ic.control_chart_svg({"title": "T", "centre": 0.8, "points": year}))
    assert all(f"2025-{m:02d}" in twelve for m in range(1, 13))
    points = [_point(f"{2024 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}", 0.8) for m in range(1, 25)]
    many = _texts(ic.control_chart_svg({"title": "T", "centre": 0.8, "points": points}))
    assert "2024-01" in many
    assert "2024-02" not in many
    assert "2024-03" in many


def test_small_multiples_share_one_legend():
    """Several panels, each titled, and the legend (centre line, limits, signal, small sample) drawn once."""
    texts = _texts(ic.control_charts_svg([_series("First"), _series("Second"), _series("Third")], columns=2))
    assert {"First", "Second", "Third"} <= set(texts)
    for entry in ("Centre line", "Control limits (3σ)", "Signal, R = rule no.", "Small sample (hollow, †)"):
        assert texts.count(entry) == 1


def test_quadrant_names_and_axis_titles():
    texts = _texts(ic.quadrant_svg([_ipa("Waiting", 0.4, 3.1), _ipa("Staff", 0.1, 4.5)], (3.8, 0.25)))
    for name in ("Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"):
        assert name in texts
    assert "Performance (mean score, 1–5 scale)" in texts
    assert "Importance (% of explained variance)" in texts
    assert {"Waiting", "Staff"} <= set(texts)


def test_gaps_print_signed_values_and_mark_small_samples():
    """Values carry their sign (typographic minus), small samples a dagger; the x title is configurable."""
    rows = [_gap("Reliability", -0.42), _gap("Empathy", 0.31, small=True), _gap("Tangibles", 0.0)]
    texts = _texts(ic.gaps_svg(rows, "Perception minus expectation", x_label="Gap (points)"))
    assert {"−0.42", "+0.31", "0.00"} <= set(texts)
    assert "Empathy †" in texts
    assert "Reliability" in texts
    assert "Gap (points)" in texts
    assert "Perception minus expectation" in texts


def test_negative_gaps_are_hatched():
    """The sign reads without colour: a hatch pattern fills negative bars (and its legend patch) only."""
    positive = ic.gaps_svg([_gap("A", 0.3), _gap("B", 0.1)], "Gap")
    negative = ic.gaps_svg([_gap("A", -0.3), _gap("B", 0.1)], "Gap")
    assert len(re.findall(r"fill: url\(#h", negative)) > len(re.findall(r"fill: url\(#h", positive))


def test_resolution_says_not_reached_when_the_percentile_is_missing():
    reached = _texts(ic.resolution_svg([_unit("Retail", 4.0, 12.0)]))
    assert not any("not reached" in text for text in reached)
    missing = _texts(ic.resolution_svg([_unit("Retail", 4.0, None)]))
    assert "90th pct. not reached" in missing
    assert "Days to resolution" in missing
    assert "Retail (3 open)" in missing

"""The completeness gate's checks on small frames: what holds delivery, and what each report's banner says."""

from __future__ import annotations

import polars as pl

from transforms.completeness import banner_lines, intake_issues, volume_issues

OUTCOMES_SCHEMA = {"file": pl.String, "file_sha256": pl.String, "status": pl.String, "message": pl.String}
FILES_SCHEMA = {
    "source_file": pl.String,
    "file_sha256": pl.String,
    "rows_read": pl.Int64,
    "rows_quarantined": pl.Int64,
    "units": pl.List(pl.String),
}


def _outcomes(*rows: tuple[str, str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=OUTCOMES_SCHEMA, orient="row")


def _files(*rows: tuple[str, str, int, int, list[str] | None]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FILES_SCHEMA, orient="row")


def _responses(counts: dict[tuple[str, str], int]) -> pl.DataFrame:
    return pl.DataFrame(
        [("responses", period, segment, "all", float(n)) for (period, segment), n in counts.items()],
        schema={"metric": pl.String, "period": pl.String, "segment": pl.String, "mode": pl.String, "value": pl.Float64},
        orient="row",
    )


def test_rejected_and_unfinished_files_are_issues_unless_accepted():
    """A rejected file and a file still being copied each hold delivery; an accepted file no longer does."""
    outcomes = _outcomes(
        ("bad.csv", "h1", "rejected", "bad.csv: line 1: missing required column(s)"),
        ("big.csv", "", "in_progress", "last changed 5 s ago"),
        ("ok.csv", "h3", "loaded", None),
    )
    issues = intake_issues(outcomes, _files(), set(), 0.05)
    assert [i.check for i in issues] == ["rejected_file", "file_in_progress"]
    assert issues[0].detail == (
        "bad.csv could not be read, so none of its rows are in this report: line 1: missing required column(s)"
    )
    assert [i.check for i in intake_issues(outcomes, _files(), {"file:h1"}, 0.05)] == ["file_in_progress"]


def test_quarantine_share_over_the_limit_is_an_issue():
    """More than the allowed share of a file's rows quarantined holds delivery; at or under it does not.
    The finding concerns the units of the file's rows (any unit when some rows named none)."""
    files = _files(("many.csv", "a", 100, 6, ["Narva"]), ("few.csv", "b", 100, 5, None), ("bad.csv", "c", 10, 9, None))
    bad, many = intake_issues(_outcomes(), files, set(), 0.05)  # in file-name order
    assert many.detail == "many.csv: 6 of 100 rows quarantined (6 %), more than the 5 % allowed"
    assert (many.units, bad.units, many.key) == (("Narva",), None, "file:a")
    assert [i.key for i in intake_issues(_outcomes(), files, {"file:a"}, 0.05)] == ["file:c"]


def test_missing_unit_and_volume_drop():
    """An expected unit without answers, and a drop of more than half on a previous period of at least min_n."""
    metrics = _responses(
        {
            ("2024", "All"): 1000, ("2025", "All"): 900,
            ("2024", "Tallinn"): 400, ("2025", "Tallinn"): 150,  # -62 %
            ("2024", "Narva"): 20, ("2025", "Narva"): 2,  # -90 %, but too few before to judge
            ("2024", "Rīga"): 300,
        }
    )  # fmt: skip
    units = ["Tallinn", "Narva", "Rīga"]
    issues = volume_issues(metrics, "2025", "2024", units, units, set(), 0.5, 30)
    assert [(i.check, i.units) for i in issues] == [("unit_missing", ("Rīga",)), ("volume_drop", ("Tallinn",))]
    assert issues[1].detail == "Tallinn: 150 answers in 2025 against 400 in 2024 (62 % fewer)"
    assert volume_issues(metrics, "2025", None, [], ["Tallinn"], set(), 0.5, 30) == []
    accepted = {"unit:Rīga:2025", "unit:Tallinn:2025"}  # csat accept --unit ... --period 2025
    assert volume_issues(metrics, "2025", "2024", units, units, accepted, 0.5, 30) == []


def test_banner_of_a_unit_report_names_no_other_unit_or_file():
    """The company banner lists everything; a unit's banner only its own issues and neutral text for the rest."""
    outcomes = _outcomes(("tartu_export.csv", "h", "rejected", "tartu_export.csv: not valid UTF-8"))
    metrics = _responses({("2024", "Narva"): 100, ("2025", "Narva"): 10, ("2024", "All"): 500, ("2025", "All"): 100})
    issues = intake_issues(outcomes, _files(), set(), 0.05) + volume_issues(
        metrics, "2025", "2024", ["Narva"], ["Narva"], set(), 0.5, 30
    )
    company = banner_lines(issues, None)
    narva = banner_lines(issues, ["Narva"])
    riga = banner_lines(issues, ["Rīga"])
    assert len(company) == 3 and any("tartu_export.csv" in line for line in company)
    assert narva == [
        "An input file could not be read: answers of this unit may be missing.",
        "Narva: 10 answers in 2025 against 100 in 2024 (90 % fewer).",
    ]
    assert riga == ["An input file could not be read: answers of this unit may be missing."]

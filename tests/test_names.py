"""File names for free-text unit and recipient names: unique, bounded, valid."""

from __future__ import annotations

from pathlib import Path

from flows.names import key_folder, name_part, report_stem


def test_names_differing_only_in_case_or_punctuation_get_distinct_files(tmp_path: Path) -> None:
    """'Tartu' / 'TARTU' and 'Tallinn!' / 'Tallinn?' write four different PDFs, each a readable slug."""
    names = ["Tartu", "TARTU", "Tallinn!", "Tallinn?"]
    stems = [report_stem("scorecard", "2025", name) for name in names]

    for stem in stems:
        (tmp_path / f"{stem}.pdf").write_bytes(b"%PDF-")

    assert len({s.casefold() for s in stems}) == 4  # distinct even on a case-insensitive file system
    assert stems[0].startswith("scorecard_2025_tartu-") and stems[2].startswith("scorecard_2025_tallinn-")
    assert len(list(tmp_path.iterdir())) == 4


def test_a_300_character_unit_name_gets_a_valid_bounded_file(tmp_path: Path) -> None:
    """A very long name (any script) still makes a file name under the 255-byte limit, stable across runs."""
    for name in ("Ü" * 300, "Отделение " * 30, "x" * 300):
        stem = report_stem("scorecard", "2025", name)
        path = tmp_path / f"{stem}.pdf"
        path.write_bytes(b"%PDF-")
        assert len(path.name.encode("utf-8")) < 255
        assert stem == report_stem("scorecard", "2025", name)


def test_company_report_and_key_folders() -> None:
    """The company report is 'all'; a report key maps to its report's stem; hostile keys stay one component."""
    assert report_stem("scorecard", "2025", "All") == "scorecard_2025_all"
    assert key_folder("scorecard/2025/Rīga") == report_stem("scorecard", "2025", "Rīga")
    assert "/" not in key_folder("../../etc/passwd") and not key_folder("../../etc/passwd").startswith(".")
    assert name_part("") != ""

"""The words of corrections: why a report changed, from the answers each file provides."""

from __future__ import annotations

from flows.email_text import correction_cause, figure_changes

BEFORE = {"a1": {"file": "export.csv", "answers": 40}}


def test_late_answers_from_a_new_file():
    """A new file adding answers: 'N late answers from file X'."""
    after = BEFORE | {"b2": {"file": "riga_late.csv", "answers": 240}}
    assert correction_cause(BEFORE, after, True) == "240 late answers from file riga_late.csv"


def test_a_corrected_export_replaces_answers():
    """A re-export that changes one stored answer is a correction, not a late answer."""
    after = {"a1": {"file": "export.csv", "answers": 39}, "c3": {"file": "export_fixed.csv", "answers": 1}}
    assert correction_cause(BEFORE, after, True) == "1 corrected answer from file export_fixed.csv"


def test_a_new_batch_under_an_old_name_is_told_by_content():
    """A vendor overwriting export.csv with a new batch: late answers from export.csv, the old ones still count."""
    after = BEFORE | {"d4": {"file": "export.csv", "answers": 25}}
    assert correction_cause(BEFORE, after, True) == "25 late answers from file export.csv"


def test_mixed_and_unexplained_changes():
    """Late and corrected answers together; no input change: corrected answers, or the layout if no figure moved."""
    after = {"a1": {"file": "export.csv", "answers": 30}, "e5": {"file": "fix.csv", "answers": 15}}
    assert correction_cause(BEFORE, after, True) == "5 late answers and 10 corrected answers from file fix.csv"
    assert correction_cause(BEFORE, BEFORE, True) == "stored answers were corrected"
    assert correction_cause(BEFORE, BEFORE, False).startswith("the report's configuration or layout changed")


def test_figure_changes_read_before_and_after():
    """Each headline figure both versions print, as printed."""
    before = {"csat": {"label": "CSAT top-2-box", "text": "87.6 %", "points": 87.6}}
    after = {"csat": {"label": "CSAT top-2-box", "text": "69.7 %", "points": 69.7}, "mean": {"label": "x", "text": "1"}}
    assert figure_changes(before, after) == "CSAT top-2-box 87.6 % → 69.7 %."


def test_several_files_are_told_with_totals_not_guesses():
    """A late file and a corrected export together: the totals, and each file's gain."""
    after = {
        "a1": {"file": "export.csv", "answers": 28},
        "x": {"file": "a_late.csv", "answers": 240},
        "y": {"file": "b_fix.csv", "answers": 12},
    }
    assert correction_cause(BEFORE, after, True) == (
        "240 late answers and 12 corrected answers, from files a_late.csv (+240), b_fix.csv (+12)"
    )

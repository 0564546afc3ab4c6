"""Wide to long with common scores: reverse-coding, 0-1 scores, top box and NPS classes."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from polars.testing import assert_frame_equal

from transforms.normalise import answers_long

CODEBOOK = pl.DataFrame(
    {
        "question_id": ["sat", "explain", "nps"],
        "kind": ["overall", "attribute", "nps"],
        "scale_min": [1, 1, 0],
        "scale_max": [5, 5, 10],
        "reverse": [False, True, False],
        "top_box_from": [4, 4, 9],
    }
)


def test_answers_long_scores_and_reverse_coding():
    """One row per response per question; a negative item is reverse-coded before scoring; NPS classes."""
    wide = pl.LazyFrame(
        {
            "response_id": ["a"],
            "submitted_at": [datetime(2025, 1, 2, tzinfo=UTC)],
            "period": ["2025"],
            "segment": ["S"],
            "mode": ["phone"],
            "sat": [4.0],
            "explain": [1.0],  # "I had to explain more than once": strongly disagree = good
            "nps": [6.0],
        }
    )
    out = answers_long(wide, CODEBOOK).collect().sort("question_id")
    expected = pl.DataFrame(
        {
            "question_id": ["explain", "nps", "sat"],
            "raw_value": [1.0, 6.0, 4.0],
            "value": [5.0, 6.0, 4.0],
            "score": [1.0, 0.6, 0.75],
            "top_box": [True, False, True],
            "detractor": [None, True, None],
            "reverse_coded": [True, False, False],
            "mode": ["phone"] * 3,
        }
    )
    assert_frame_equal(out.select(expected.columns), expected)


def test_blank_answers_stay_as_null_rows():
    """A blank item is kept as a null row, so a re-submission overwrites every item of the response."""
    wide = pl.LazyFrame(
        {
            "response_id": ["a"],
            "submitted_at": [datetime(2025, 1, 2, tzinfo=UTC)],
            "period": ["2025"],
            "segment": ["S"],
            "mode": ["online"],
            "sat": [None],
            "explain": [3.0],
            "nps": [10.0],
        },
        schema_overrides={"sat": pl.Float64},
    )
    out = answers_long(wide, CODEBOOK).collect()
    assert out.height == 3
    assert out.filter(pl.col("question_id") == "sat")["top_box"].to_list() == [None]


def test_invisible_comments_take_no_slot():
    """Comments of only spaces or zero-width characters are not quoted; real ones fill the slots."""
    from transforms.comments import comment_candidates, select_comments

    responses = pl.LazyFrame(
        {
            "response_id": ["a", "b", "c"],
            "submitted_at": [datetime(2025, 1, d, tzinfo=UTC) for d in (3, 2, 1)],
            "period": ["2025"] * 3,
            "segment": ["S"] * 3,
            "mode": ["online"] * 3,
            "comment": ["\u200b\u200b", "   ", "Slow delivery"],
        }
    )
    answers = pl.LazyFrame(
        schema={
            "response_id": pl.String,
            "period": pl.String,
            "question_id": pl.String,
            "value": pl.Float64,
            "top_box": pl.Boolean,
        }
    )
    picked = select_comments(comment_candidates(responses, answers, "2025", "sat"), None, limit=2).collect()
    assert picked["comment"].to_list() == ["Slow delivery"]

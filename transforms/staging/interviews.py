"""Interviews: one row per answer given in an interview, with its coding (docs/data-contracts.md).

Interviews give the fullest answers but depend on the interviewer (domain notes): the
interviewer's id is required on every row, so interviewer effects can be measured.
"""

from __future__ import annotations

from transforms.staging.records import Field, RecordSpec

INTERVIEW_MODES = ("phone", "in_person", "video")

INTERVIEWS = RecordSpec(
    source="interviews",
    table="interview_answers",
    key=("interview_id", "question"),
    fields=(
        Field("interview_id", "id", True, "the interview", ("interview", "interview id")),
        Field("customer_id", "id", False, "the customer interviewed", ("customer id",)),
        Field("interviewer_id", "id", True, "who asked the questions", ("interviewer", "interviewer id")),
        Field("interviewed_at", "datetime", True, "when (date, or date and time)", ("date", "interview date")),
        Field("mode", "choice", True, "phone, in_person or video", ("interview mode", "channel")),
        Field("segment", "unit", True, "the business unit the interview is about", ("unit", "branch", "business unit")),
        Field("question", "topic", True, "codebook question id or code; or an open question's name", ("question id",)),
        Field("rating", "rating", False, "the answer on the question's scale (codebook questions only)", ("score",)),
        Field("themes", "codes", False, "theme codes of the coding frame, ';'-separated", ("codes", "theme codes")),
        Field("excerpt", "text", False, "what the customer said (verbatim)", ("quote", "answer")),
        Field("language", "language", False, "language of the excerpt (en, et, lv, ru, ...)", ("lang",)),
    ),
    period_from="interviewed_at",
    newer="interviewed_at",
)

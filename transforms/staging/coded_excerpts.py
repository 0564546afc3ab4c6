"""Coded excerpts of focus groups and interviews: our own format and qualitative-analysis tools' exports.

One row per excerpt: the document it comes from (a focus-group session id or an interview
id), who said it, its theme codes (the coding frame, config/coding_frame.yaml) and the quote.
Taguette's and QualCoder's CSV exports and REFI-QDA projects (.qdpx) map onto the same
fields (docs/data-contracts.md).
"""

from __future__ import annotations

from transforms.staging.records import Field, RecordSpec

CODED_EXCERPTS = RecordSpec(
    source="coded_excerpts",
    table="coded_excerpts",
    key=("document", "excerpt_id"),
    fields=(
        Field("excerpt_id", "id", True, "the excerpt, unique within its document", ("excerpt", "excerpt id")),
        Field("document", "id", True, "the focus-group session id or interview id it comes from", ("session_id",)),
        Field("participant_id", "id", False, "who said it (a participant of the session)", ("participant", "speaker")),
        Field("themes", "codes", False, "theme codes of the coding frame, ';'-separated", ("codes", "theme codes")),
        Field("quote", "text", True, "the excerpt's text", ("excerpt text", "text")),
        Field("coder", "id", False, "who coded it", ("coded by",)),
        Field("coded_at", "datetime", False, "when it was coded", ()),
    ),
    period_from="coded_at",
    newer=None,
)

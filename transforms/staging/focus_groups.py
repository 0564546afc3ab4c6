"""Focus groups: sessions and their participants (their coded excerpts: coded_excerpts.py).

Focus groups may not represent the whole customer base (domain notes): each participant's
segment attributes are kept so the composition can be compared with the customer base.
"""

from __future__ import annotations

from transforms.staging.records import Field, RecordSpec

FOCUS_GROUP_SESSIONS = RecordSpec(
    source="focus_group_sessions",
    table="focus_group_sessions",
    key=("session_id",),
    fields=(
        Field("session_id", "id", True, "the session", ("session", "session id", "focus group")),
        Field("held_at", "datetime", True, "when it was held", ("date", "session date")),
        Field("moderator_id", "id", True, "who moderated", ("moderator", "moderator id")),
        Field("location", "text", False, "where (a room, a city, online)", ("venue", "place")),
        Field("segment", "unit", True, "the business unit it is about", ("unit", "branch", "business unit")),
        Field("topic", "text", False, "what it was about", ("subject",)),
    ),
    period_from="held_at",
    newer="held_at",
)

FOCUS_GROUP_PARTICIPANTS = RecordSpec(
    source="focus_group_participants",
    table="focus_group_participants",
    key=("session_id", "participant_id"),
    fields=(
        Field("session_id", "id", True, "the session attended", ("session", "session id")),
        Field("participant_id", "id", True, "the participant (as the transcript names them)", ("participant",)),
        Field("customer_id", "id", False, "the customer, when the participant is one", ("customer id",)),
        Field("customer_type", "text", False, "e.g. private, business", ("type", "customer type")),
        Field("region", "text", False, "where the participant lives or buys", ()),
        Field("tenure_years", "number", False, "years as a customer", ("tenure",), low=0, high=150),
    ),
    period_from=None,
)

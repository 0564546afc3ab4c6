"""The complaint log: one row per complaint (case), every field the domain notes list.

Names, addresses and phone numbers are personal data: staging types them like any text, and
loading keeps them in their own table (`complaint_contacts`, by complaint id), never in the
complaints table, the quarantine, a reason or a report. Reasons show values only by shape.
"""

from __future__ import annotations

from transforms.staging.records import Check, Field, RecordSpec

COMPLAINT_CHANNELS = ("phone", "email", "in_person", "online", "letter", "social_media")

COMPLAINTS = RecordSpec(
    source="complaints",
    table="complaints",
    key=("complaint_id",),
    fields=(
        Field("complaint_id", "id", True, "the case", ("complaint", "case id", "case")),
        Field("customer_id", "id", False, "the customer (pseudonymous id)", ("customer id", "customer no")),
        Field("customer_name", "personal", False, "personal data", ("name",)),
        Field("customer_address", "personal", False, "personal data", ("address",)),
        Field("customer_phone", "personal", False, "personal data", ("phone", "telephone")),
        Field("received_by", "id", True, "the employee who received it (id)", ("employee", "received by")),
        Field("received_at", "datetime", True, "when it was received", ("received", "date")),
        Field("channel", "choice", True, ", ".join(COMPLAINT_CHANNELS), ("received via", "contact channel")),
        Field("segment", "unit", True, "the business unit it concerns", ("unit", "branch", "business unit")),
        Field("category", "theme", True, "its nature, one theme code of the coding frame", ("nature code", "type")),
        Field("nature", "text", False, "the complaint in words", ("description",)),
        Field("agreed_solution", "text", False, "the solution agreed with the customer", ("solution",)),
        Field("solved_at_once", "bool", False, "yes when solved on the spot", ("solved immediately",)),
        Field("promised_at", "datetime", False, "when the solution was promised for", ("promised",)),
        Field("actions_taken", "text", False, "steps taken", ("actions", "steps taken")),
        Field("resolved_at", "datetime", False, "when it was resolved (blank: open)", ("resolved",)),
        Field("follow_up_at", "datetime", False, "when the follow-up checked the customer", ("follow-up", "follow up")),
        Field("satisfied_at_follow_up", "bool", False, "the customer satisfied at the follow-up", ("satisfied",)),
        Field("compensation_amount", "number", False, "compensation given", ("compensation",), low=0),
        Field("compensation_currency", "currency", False, "its currency (ISO 4217)", ("currency",)),
        Field("prevention_suggestion", "text", False, "how to avoid it in future", ("prevention", "suggestion")),
        Field(
            "contacts",
            "int",
            True,
            "contacts the customer needed (1 = first-contact resolution)",
            ("number of contacts",),
            low=1,
            high=1000,
        ),
    ),
    period_from="received_at",
    # A case changes as it progresses (resolved, followed up): of two versions of one complaint, the one
    # with the later activity wins, so an older export loaded late never reopens a resolved case.
    newer="last_activity_at",
    latest_of=("received_at", "resolved_at", "follow_up_at"),
    checks=(
        Check(
            lambda c: c("resolved_at") >= c("received_at"), "resolved_at: before received_at (expected on or after it)"
        ),
        Check(
            lambda c: c("promised_at") >= c("received_at"), "promised_at: before received_at (expected on or after it)"
        ),
        Check(
            lambda c: c("follow_up_at") >= c("received_at"),
            "follow_up_at: before received_at (expected on or after it)",
        ),
        Check(
            lambda c: c("compensation_amount").is_null() | c("compensation_currency").is_not_null(),
            "compensation_currency: missing (expected with compensation_amount)",
        ),
        Check(
            lambda c: c("solved_at_once").fill_null(True) | c("promised_at").is_not_null(),
            "promised_at: missing (expected when the complaint was not solved at once)",
        ),
    ),
    personal_table="complaint_contacts",
)

"""Management's view: their estimate of customers' expectations (gap 1) and the service self-assessment.

The service standards per dimension (gap 2) are configuration (config/pipeline.yaml, management).
The self-assessment has seven statements scored 1 (never) to 5 (all the time); the total
runs from 7 to 35 (domain notes).
"""

from __future__ import annotations

from transforms.staging.records import Field, RecordSpec

MANAGEMENT_EXPECTATIONS = RecordSpec(
    source="management_expectations",
    table="management_expectations",
    key=("manager_id", "assessed_on", "question"),
    fields=(
        Field("manager_id", "id", True, "the manager giving the estimate", ("manager", "manager id")),
        Field("assessed_on", "date", True, "when", ("date",)),
        Field("segment", "unit", False, "the unit they speak for (blank: the company)", ("unit", "branch")),
        Field(
            "question",
            "question",
            True,
            "an expectation item of the codebook",
            ("item",),
            question_kinds=("expectation",),
        ),
        Field("rating", "rating", True, "what they think customers expect, on the item's scale", ("estimate",)),
    ),
    period_from="assessed_on",
    newer="assessed_on",
)

SELF_ASSESSMENT_AREAS = (
    "customer_focused_culture",
    "customer_focused_products",
    "response_to_feedback",
    "knowing_customers",
    "ease_of_contact",
    "staff_qualification",
    "active_improvement",
)

SELF_ASSESSMENTS = RecordSpec(
    source="self_assessments",
    table="self_assessments",
    key=("assessor_id", "assessed_on"),
    fields=(
        Field("assessor_id", "id", True, "who scored", ("assessor", "manager")),
        Field("assessed_on", "date", True, "when", ("date",)),
        Field("segment", "unit", False, "the unit assessed (blank: the company)", ("unit", "branch")),
        *(
            Field(area, "int", True, "1 (never) to 5 (all the time)", (f"s{i}",), low=1, high=5)
            for i, area in enumerate(SELF_ASSESSMENT_AREAS, start=1)
        ),
    ),
    period_from="assessed_on",
    newer="assessed_on",
)

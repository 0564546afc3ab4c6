"""Suppliers and service providers: their periodic scorecards and the customer issues they report."""

from __future__ import annotations

from transforms.staging.records import Field, RecordSpec

_PERIOD = Field("period", "period", True, "2025, 2025-03 or 2025-Q1", ("month", "quarter", "year"))
_SUPPLIER = Field(
    "supplier_id", "id", True, "the supplier or service provider", ("supplier", "provider", "supplier id")
)

SUPPLIER_SCORECARDS = RecordSpec(
    source="supplier_scorecards",
    table="supplier_scorecards",
    key=("supplier_id", "period_start", "period_months"),
    fields=(
        _SUPPLIER,
        _PERIOD,
        Field(
            "on_time_pct", "number", False, "deliveries on time, % (0-100)", ("on time", "on-time %"), low=0, high=100
        ),
        Field(
            "defect_rate_pct",
            "number",
            False,
            "defective deliveries, % (0-100)",
            ("defect rate", "defects %"),
            low=0,
            high=100,
        ),
        Field("returns_attributable", "int", False, "returns caused by the supplier", ("returns",), low=0),
    ),
    period_from="period",
    # ... and the measures configured under suppliers.measures (numbers)
    open_number_columns="suppliers.measures",
)

SUPPLIER_ISSUES = RecordSpec(
    source="supplier_issues",
    table="supplier_issues",
    key=("supplier_id", "period_start", "period_months", "category"),
    fields=(
        _SUPPLIER,
        _PERIOD,
        Field("category", "theme", True, "the issue, one theme code of the coding frame", ("issue", "type")),
        Field("count", "int", True, "how many customers raised it", ("customers", "number"), low=1),
        Field("notes", "text", False, "what the supplier says about it", ("note", "comment")),
    ),
    period_from="period",
)

"""Operational data: orders and returns per period, unit and product (the return rate follows)."""

from __future__ import annotations

from transforms.staging.records import Field, RecordSpec

_PERIOD = Field("period", "period", True, "2025, 2025-03 or 2025-Q1", ("month", "quarter", "year"))
_UNIT = Field("segment", "unit", True, "the business unit", ("unit", "branch", "business unit"))
_PRODUCT = Field("product", "id", True, "product or product group", ("product id", "sku"))

ORDERS = RecordSpec(
    source="orders",
    table="orders",
    key=("period_start", "period_months", "segment", "product"),
    fields=(_PERIOD, _UNIT, _PRODUCT, Field("orders", "int", True, "orders in the period", ("count",), low=0)),
    period_from="period",
)

RETURNS = RecordSpec(
    source="returns",
    table="returns",
    key=("period_start", "period_months", "segment", "product", "return_reason"),
    fields=(
        _PERIOD,
        _UNIT,
        _PRODUCT,
        Field("return_reason", "theme", True, "one theme code of the coding frame", ("reason", "return reason")),
        Field("returns", "int", True, "items returned for this reason", ("count",), low=0),
    ),
    period_from="period",
)

"""Staging: one module per source; only renames, casts and converts units.

`RECORD_SPECS`: the declared record sources (transforms/staging/records.py), in the order
they are loaded and listed.
"""

from transforms.staging.coded_excerpts import CODED_EXCERPTS
from transforms.staging.complaints import COMPLAINTS
from transforms.staging.focus_groups import FOCUS_GROUP_PARTICIPANTS, FOCUS_GROUP_SESSIONS
from transforms.staging.interviews import INTERVIEWS
from transforms.staging.management import MANAGEMENT_EXPECTATIONS, SELF_ASSESSMENTS
from transforms.staging.operations import ORDERS, RETURNS
from transforms.staging.suppliers import SUPPLIER_ISSUES, SUPPLIER_SCORECARDS

RECORD_SPECS = (
    INTERVIEWS,
    FOCUS_GROUP_SESSIONS,
    FOCUS_GROUP_PARTICIPANTS,
    CODED_EXCERPTS,
    COMPLAINTS,
    SUPPLIER_SCORECARDS,
    SUPPLIER_ISSUES,
    ORDERS,
    RETURNS,
    MANAGEMENT_EXPECTATIONS,
    SELF_ASSESSMENTS,
)

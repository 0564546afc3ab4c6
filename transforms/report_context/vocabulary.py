"""Display names of collection modes and metrics, and the order modes are listed in."""

from __future__ import annotations

MODE_ORDER = ("online", "paper", "phone", "in_person")
GROUP_ORDER = ("oral", "written")
MODE_LABELS = {
    "all": "All modes",
    "online": "Online",
    "paper": "Paper",
    "phone": "Phone",
    "in_person": "In person",
    "oral": "Oral (phone, in person)",
    "written": "Written (online, paper)",
}
METRIC_LABELS = {"csat_top2box": "CSAT top-2-box", "nps": "Net Promoter Score", "mean_score": "Mean score"}

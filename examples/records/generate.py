"""Example files of every record source, in our own format: one small CSV per source folder.

Run `.venv/bin/python examples/records/generate.py`: it (re)writes `examples/<source>/<source>.csv`
for each record source but coded_excerpts (examples/coded_excerpts/ has its own), byte for byte
the same every time. Each file has a header row of the field names (transforms/staging/*.py;
other names and the fields' forms: docs/data-contracts.md) and a handful of rows a person can
read; every row loads (tests/test_demo_records.py). Drop a copy into var/inbox/<source>/ to try it.

Times without an offset are local times in timestamps.source_timezone (config/pipeline.yaml,
Europe/Tallinn); Cape Town's carry their offset. Names, addresses and phone numbers are fictional.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent

# source -> (header, rows); a blank cell is an empty string.
# fmt: off
FILES: dict[str, tuple[tuple[str, ...], list[tuple[object, ...]]]] = {
    "interviews": (
        ("interview_id", "customer_id", "interviewer_id", "interviewed_at", "mode", "segment", "question", "rating",
         "themes", "excerpt", "language"),
        [
            ("INT-EX-001", "C100001", "IV-01", "2025-03-04 10:15", "phone", "Tallinn", "overall_satisfaction", 4,
             "", "", ""),
            ("INT-EX-001", "C100001", "IV-01", "2025-03-04 10:15", "phone", "Tallinn", "likely_to_recommend", 8,
             "", "", ""),
            ("INT-EX-001", "C100001", "IV-01", "2025-03-04 10:15", "phone", "Tallinn", "resolved_first_contact", 5,
             "", "", ""),
            ("INT-EX-001", "C100001", "IV-01", "2025-03-04 10:15", "phone", "Tallinn", "what_to_improve", "",
             "waiting_time", "Ootasin järjekorras nelikümmend minutit, enne kui keegi mind aitas.", "et"),
            ("INT-EX-002", "C100002", "IV-02", "2025-03-05 14:30", "video", "Online shop", "overall_satisfaction", 2,
             "", "", ""),
            ("INT-EX-002", "C100002", "IV-02", "2025-03-05 14:30", "video", "Online shop", "likely_to_recommend", 3,
             "", "", ""),
            # negatively worded: 5 = "I strongly agree I had to explain more than once" (reverse-coded when scored)
            ("INT-EX-002", "C100002", "IV-02", "2025-03-05 14:30", "video", "Online shop", "explained_more_than_once",
             5, "repeat_explanation", "", ""),
            ("INT-EX-002", "C100002", "IV-02", "2025-03-05 14:30", "video", "Online shop", "what_to_improve", "",
             "late_delivery;broken_promise", "They promised delivery on Friday; it came the next Wednesday.", "en"),
        ],
    ),
    "focus_group_sessions": (
        ("session_id", "held_at", "moderator_id", "location", "segment", "topic"),
        [
            ("FG-EX-01", "2025-04-09 17:30", "MOD-01", "Tallinn office, meeting room 2", "Tallinn",
             "Waiting times and first-contact resolution"),
            ("FG-EX-02", "2025-05-14 18:00", "MOD-02", "Online (video call)", "Online shop",
             "Deliveries and damaged parcels"),
        ],
    ),
    "focus_group_participants": (
        ("session_id", "participant_id", "customer_id", "customer_type", "region", "tenure_years"),
        [
            ("FG-EX-01", "P1", "C100001", "private", "Harju County", "6.5"),
            ("FG-EX-01", "P2", "C100011", "business", "Harju County", "12"),
            ("FG-EX-01", "P3", "C100012", "business", "Tartu County", "3.5"),
            ("FG-EX-01", "P4", "", "private", "Harju County", "0"),  # a prospect, not a customer yet
            ("FG-EX-02", "P1", "C100002", "private", "Pärnu County", "1.5"),
            ("FG-EX-02", "P2", "C100021", "business", "Harju County", "8"),
            ("FG-EX-02", "P3", "C100022", "private", "Vidzeme", "2"),
        ],
    ),
    "complaints": (
        ("complaint_id", "customer_id", "customer_name", "customer_address", "customer_phone", "received_by",
         "received_at", "channel", "segment", "category", "nature", "agreed_solution", "solved_at_once",
         "promised_at", "actions_taken", "resolved_at", "follow_up_at", "satisfied_at_follow_up",
         "compensation_amount", "compensation_currency", "prevention_suggestion", "contacts"),
        [
            # solved on the spot, first contact
            ("CMP-EX-0001", "C100001", "Demo Person 001", "1 Example Street, Tallinn", "+372 5555 0001", "TLN-01",
             "2025-02-03 11:20", "in_person", "Tallinn", "waiting_time", "Waited about 40 minutes at the counter",
             "Apology; priority appointment offered", "yes", "", "Solved on the spot", "2025-02-03 11:35", "", "", "",
             "", "Add a second counter at peak hours", 1),
            # promise kept, followed up, satisfied
            ("CMP-EX-0002", "C100002", "Demo Person 002", "", "+372 5555 0002", "WEB-02", "2025-02-10 09:05",
             "online", "Online shop", "damaged_in_transit", "Parcel arrived crushed, product broken",
             "Replacement sent at our cost", "no", "2025-02-14 17:00", "Damage claim filed with the courier",
             "2025-02-13 15:10", "2025-02-17 10:00", "yes", "", "", "Stronger packaging for furniture", 2),
            # promise broken: compensation, follow-up not satisfied
            ("CMP-EX-0003", "C100003", "Demo Person 003", "3 Example Street, Tartu", "+372 5555 0003", "WEB-01",
             "2025-03-01 19:40", "email", "Online shop", "late_delivery",
             "Order delivered five days after the promised date", "Delivery fee refunded", "no", "2025-03-04 17:00",
             "Courier asked for the tracking history", "2025-03-11 12:00", "2025-03-13 10:30", "no", "15", "EUR",
             "Promise delivery dates the courier can keep", 4),
            # still open (no resolved_at)
            ("CMP-EX-0004", "C100004", "Demo Person 004", "4 Example Street, Rīga", "+371 2555 0004", "RIX-02",
             "2025-03-20 13:15", "phone", "Rīga", "repeat_explanation",
             "Had to explain the case to three different people", "One case owner until resolved", "no",
             "2025-03-25 17:00", "Case assigned to one owner", "", "", "", "", "", "", 3),
            # a letter: no phone number; the label of a theme works as well as its code
            ("CMP-EX-0005", "", "Demo Person 005", "5 Example Street, Narva", "", "NRV-01", "2025-04-02 10:00",
             "letter", "Narva", "Billing error", "Charged twice for one order", "Refund of the double charge", "no",
             "2025-04-09 17:00", "Refund issued by finance", "2025-04-08 09:30", "2025-04-10 11:00", "yes", "", "",
             "", 1),
            # Cape Town: its own time offset and currency
            ("CMP-EX-0006", "C100006", "Demo Person 006", "6 Example Street, Cape Town", "+27 21 555 0006", "CPT-01",
             "2025-04-15T09:30:00+02:00", "phone", "Cape Town", "hard_to_reach",
             "Could not reach anyone by phone after 17:00", "Call-back at a time the customer chose", "no",
             "2025-04-16T12:00:00+02:00", "Customer called back", "2025-04-16T11:45:00+02:00", "", "", "250", "ZAR",
             "Evening call-back slots", 2),
        ],
    ),
    "supplier_scorecards": (
        # response_hours: a measure configured under suppliers.measures in config/pipeline.yaml
        ("supplier_id", "period", "on_time_pct", "defect_rate_pct", "returns_attributable", "response_hours"),
        [
            ("COURIER-NX", "2025-01", "94.2", "1.1", 6, "18.5"),
            ("COURIER-NX", "2025-02", "93.8", "1.3", 7, "20"),
            ("COURIER-NX", "2025-03", "86.9", "2.0", 14, "31.5"),
            ("PARTS-BALT", "2025-01", "95.5", "1.6", 8, "36"),
            ("PARTS-BALT", "2025-02", "96.1", "1.2", 6, "30"),
            ("PARTS-BALT", "2025-03", "94.7", "1.4", 7, "41.5"),
        ],
    ),
    "supplier_issues": (
        ("supplier_id", "period", "category", "count", "notes"),
        [
            ("COURIER-NX", "2025-Q1", "late_delivery", 14, "Peak-season capacity; extra vans from next month"),
            ("COURIER-NX", "2025-Q1", "damaged_in_transit", 6, ""),
            ("WEB-PIXEL", "2025-Q1", "hard_to_reach", 4, "Contact form failed after a release"),
            ("WEB-PIXEL", "2025-Q1", "billing_error", 2, ""),
            ("PARTS-BALT", "2025-Q1", "defective_product", 9, "Batch with faulty switches (lamps)"),
            ("PARTS-BALT", "2025-Q1", "wrong_item", 3, ""),
        ],
    ),
    "orders": (
        ("period", "segment", "product", "orders"),
        [
            ("2025-03", "Tallinn", "STOOL-SET", 262),
            ("2025-03", "Tallinn", "DESK", 181),
            ("2025-03", "Tallinn", "LAMP", 318),
            ("2025-03", "Tallinn", "SPARE-PARTS", 139),
            ("2025-03", "Online shop", "STOOL-SET", 470),
            ("2025-03", "Online shop", "DESK", 322),
            ("2025-03", "Online shop", "LAMP", 551),
            ("2025-03", "Online shop", "SPARE-PARTS", 236),
        ],
    ),
    "returns": (
        ("period", "segment", "product", "return_reason", "returns"),
        [
            ("2025-03", "Tallinn", "LAMP", "defective_product", 4),
            ("2025-03", "Tallinn", "STOOL-SET", "changed_mind", 3),
            ("2025-03", "Tallinn", "DESK", "wrong_item", 1),
            ("2025-03", "Online shop", "LAMP", "defective_product", 14),
            ("2025-03", "Online shop", "STOOL-SET", "damaged_in_transit", 13),
            ("2025-03", "Online shop", "STOOL-SET", "changed_mind", 19),
            ("2025-03", "Online shop", "DESK", "wrong_item", 3),
            ("2025-03", "Online shop", "DESK", "damaged_in_transit", 9),
        ],
    ),
    "management_expectations": (
        # question: an expectation item of config/codebook.yaml; rating: what they think customers expect (1-5)
        ("manager_id", "assessed_on", "segment", "question", "rating"),
        [
            ("MGR-CEO", "2025-02-14", "", "expect_reliability", 4),
            ("MGR-CEO", "2025-02-14", "", "expect_responsiveness", 4),
            ("MGR-CEO", "2025-02-14", "", "expect_empathy", 4),
            ("MGR-CEO", "2025-02-14", "", "expect_tangibles", 5),
            ("MGR-RIX", "2025-02-14", "Rīga", "expect_reliability", 4),
            ("MGR-RIX", "2025-02-14", "Rīga", "expect_responsiveness", 3),
            ("MGR-RIX", "2025-02-14", "Rīga", "expect_empathy", 5),
            ("MGR-RIX", "2025-02-14", "Rīga", "expect_tangibles", 5),
        ],
    ),
    "self_assessments": (
        # seven statements, 1 (never) to 5 (all the time); the total runs from 7 to 35
        ("assessor_id", "assessed_on", "segment", "customer_focused_culture", "customer_focused_products",
         "response_to_feedback", "knowing_customers", "ease_of_contact", "staff_qualification", "active_improvement"),
        [
            ("MGR-CEO", "2025-03-03", "", 4, 4, 4, 3, 3, 4, 4),
            ("MGR-CX", "2025-03-03", "", 4, 3, 4, 3, 3, 4, 4),
            ("MGR-RIX", "2025-03-05", "Rīga", 4, 4, 4, 3, 4, 4, 4),
        ],
    ),
}
# fmt: on


def csv_bytes(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> bytes:
    """UTF-8 without a byte-order mark, comma-separated, LF line ends, cells quoted only when needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        assert len(row) == len(header), row
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def main() -> None:
    for source, (header, rows) in FILES.items():
        path = EXAMPLES / source / f"{source}.csv"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(csv_bytes(header, rows))
    print(f"wrote {len(FILES)} files, {sum(len(r) for _, r in FILES.values())} rows, into {EXAMPLES}/<source>/")


if __name__ == "__main__":
    main()

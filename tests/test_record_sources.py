"""Record sources (interviews, focus groups, complaints, suppliers, operations, management's view):
typed by their declared fields, quarantined with reasons, loaded idempotently, robust to what files do."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import dataframely as dy
import polars as pl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from flows.cli import app
from flows.load_sources import FileOutcome, load_inbox, read_export, stage_export
from flows.settings import ConfigError, Settings, load_settings
from flows.source_contracts import all_contracts
from flows.sources import SOURCES_BY_NAME
from flows.store import KEYS, SCHEMAS, Store
from tests.conftest import HEADER, REPO, row, set_config
from transforms.staging import RECORD_SPECS
from transforms.staging.columns import LINEAGE_COLUMNS, RANKING_COLUMNS, STAGING_COLUMNS
from transforms.staging.records import table_schema

LATER = datetime(2030, 1, 1, tzinfo=UTC)  # every dropped file has settled by then

INTERVIEWS = (
    "interview_id,customer_id,interviewer_id,date,mode,unit,question,rating,themes,excerpt,language\n"
    "INT-1,C-1,IV-1,2025-03-14 10:00,phone,Tallinn,overall_satisfaction,4,"
    "waiting_time; Staff attitude,Slow but kind,en\n"
    "INT-1,C-1,IV-1,2025-03-14 10:00,phone,Tallinn,What should we improve?,,late_delivery,Deliveries,en\n"
    "INT-2,C-2,IV-2,15.03.2025,video call,Riga,Q1,5,,Hea teenindus,et\n"
)
COMPLAINTS_HEADER = (
    "complaint_id,customer_id,customer_name,customer_address,customer_phone,received_by,received_at,channel,"
    "segment,category,nature,agreed_solution,solved_at_once,promised_at,actions_taken,resolved_at,follow_up_at,"
    "satisfied_at_follow_up,compensation_amount,compensation_currency,prevention_suggestion,contacts"
)


def complaint(cid: str, **values: str) -> str:
    row = {
        "complaint_id": cid,
        "customer_id": "C-1",
        "customer_name": "Demo Person",
        "customer_address": "1 Example Street",
        "customer_phone": "+372 5555 0001",
        "received_by": "E-7",
        "received_at": "2025-02-03 09:30",
        "channel": "phone",
        "segment": "Tallinn",
        "category": "late_delivery",
        "nature": "Parcel two days late",
        "agreed_solution": "Refund shipping",
        "solved_at_once": "no",
        "promised_at": "2025-02-05 17:00",
        "actions_taken": "Courier contacted",
        "resolved_at": "2025-02-05 12:00",
        "follow_up_at": "2025-02-10 10:00",
        "satisfied_at_follow_up": "yes",
        "compensation_amount": "4.90",
        "compensation_currency": "eur",
        "prevention_suggestion": "Check courier SLA",
        "contacts": "2",
    } | values
    return ",".join(row[c] for c in COMPLAINTS_HEADER.split(","))


def drop(settings: Settings, source: str, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    folder = settings.source_folder(source)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def load(settings: Settings, store: Store) -> dict[str, FileOutcome]:
    outcomes = {o.file: o for o in load_inbox(settings, store, LATER)}
    for o in outcomes.values():
        if o.status == "loaded":
            assert o.rows_read == o.rows_loaded + o.rows_quarantined, o
    return outcomes


def reasons(store: Store, file: str) -> dict[int, str]:
    rows = store.scan("quarantine").filter(pl.col("source_file") == file).select("source_line", "reason").collect()
    return dict(rows.iter_rows())


def test_every_record_source_has_a_table_keyed_as_declared():
    """The store's tables and keys are the declarations' (one place to add a source)."""
    for spec in RECORD_SPECS:
        assert SOURCES_BY_NAME[spec.source].table == spec.table
        assert KEYS[spec.table] == spec.key == SOURCES_BY_NAME[spec.source].key
        assert SCHEMAS[spec.table] == table_schema(spec)
        assert set(spec.key) <= set(SCHEMAS[spec.table])
        # A field must not take the name of a column staging, duplicate resolution or loading adds.
        working = {*STAGING_COLUMNS, *RANKING_COLUMNS, *LINEAGE_COLUMNS, "row_hash", "ingested_at"}
        assert not {f.name for f in spec.fields} & working, spec.source
        # `segment` and `period` are what every source's counts are cut by: only a unit, or a period, gives them.
        assert all(f.kind == "unit" for f in spec.fields if f.name == "segment"), spec.source
        assert all(f.kind == "period" for f in spec.fields if f.name == "period"), spec.source


def test_interviews_are_typed_and_every_fault_named(settings: Settings, store: Store):
    broken = (
        INTERVIEWS
        + "INT-3,C-3,,2025-03-16,phone,Tallinn,overall_satisfaction,7,no such theme,x,en\n"  # 3 faults
        + "INT-4,C-4,IV-1,31/13/2025,carrier pigeon,Mars,overall_satisfaction,3,,,\n"
        + "INT-5,C-5,IV-1,2025-03-16,phone,Tallinn,Open question,4,,,\n"  # a rating on an open question
    )
    drop(settings, "interviews", "interviews.csv", broken)
    outcome = load(settings, store)["interviews.csv"]
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (6, 3, 3)
    why = reasons(store, "interviews.csv")
    assert "interviewer_id: missing (required)" in why[5]
    assert "rating: a 1-digit number is not within the question's scale" in why[5]
    assert "themes: 'no such theme' is not in the coding frame" in why[5]
    assert "interviewed_at: a 10-character text is not a date and time" in why[6]
    assert "mode: a 14-character text is not one of: in_person, phone, video" in why[6]
    assert "segment: a 4-character text is not a business unit" in why[6]
    assert "open questions take no rating" in why[7]
    rows = store.scan("interview_answers").sort("interview_id", "question").collect()
    first = rows.row(1, named=True)  # INT-1, overall_satisfaction
    assert first["themes"] == ["waiting_time", "staff_attitude"]  # a label is stored as its code
    assert first["rating"] == 4 and first["mode"] == "phone" and first["period"] == "2025"
    assert first["interviewed_at"] == datetime(2025, 3, 14, 8, 0, tzinfo=UTC)  # 10:00 in Tallinn
    riga = rows.filter(pl.col("interview_id") == "INT-2").row(0, named=True)
    assert (riga["question"], riga["segment"], riga["mode"], riga["language"]) == (
        "overall_satisfaction",
        "Rīga",
        "video",
        "et",
    )
    open_question = rows.filter(pl.col("question") == "What should we improve?").row(0, named=True)
    assert open_question["rating"] is None and open_question["themes"] == ["late_delivery"]


def test_loading_twice_adds_nothing_and_a_later_file_supersedes(settings: Settings, store: Store):
    drop(settings, "complaints", "log_1.csv", COMPLAINTS_HEADER + "\n" + complaint("K-1") + "\n" + complaint("K-2"))
    load(settings, store)
    drop(settings, "complaints", "log_1_copy.csv", (settings.source_folder("complaints") / "log_1.csv").read_bytes())
    assert load(settings, store)["log_1_copy.csv"].status == "duplicate_content"
    # The next export of the log: K-2 resolved later, K-3 new; K-1 unchanged.
    later = "\n".join(
        [COMPLAINTS_HEADER, complaint("K-1"), complaint("K-2", resolved_at="2025-02-07 09:00"), complaint("K-3")]
    )
    outcome = load(settings, store)
    drop(settings, "complaints", "log_2.csv", later)
    outcome = load(settings, store)["log_2.csv"]
    assert (outcome.rows_loaded, outcome.duplicates_superseded) == (3, 1)
    complaints = store.scan("complaints").sort("complaint_id").collect()
    assert complaints["complaint_id"].to_list() == ["K-1", "K-2", "K-3"]
    assert complaints["resolved_at"][1] == datetime(2025, 2, 7, 7, 0, tzinfo=UTC)
    assert complaints["compensation_amount"][0] == pytest.approx(4.9)
    assert complaints["compensation_currency"][0] == "EUR"
    assert store.scan("complaint_contacts").select(pl.len()).collect().item() == 3
    load(settings, store)
    assert store.scan("complaints").select(pl.len()).collect().item() == 3


def test_complaint_rules_across_fields(settings: Settings, store: Store):
    rows = [
        complaint("K-1", resolved_at="2025-02-01 09:00"),  # resolved before received
        complaint("K-2", promised_at="", solved_at_once="no"),  # no promise although not solved at once
        complaint("K-3", compensation_currency=""),  # an amount without a currency
        complaint("K-4", contacts="0"),
        complaint("K-5", solved_at_once="yes", promised_at="", resolved_at=""),  # open, solved at once: fine
    ]
    drop(settings, "complaints", "log.csv", "\n".join([COMPLAINTS_HEADER, *rows]))
    outcome = load(settings, store)["log.csv"]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (1, 4)
    why = reasons(store, "log.csv")
    assert why[2] == "resolved_at: before received_at (expected on or after it)"
    assert why[3] == "promised_at: missing (expected when the complaint was not solved at once)"
    assert why[4] == "compensation_currency: missing (expected with compensation_amount)"
    assert why[5] == "contacts: a 1-digit number is not from 1 to 1000"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "latin-1"])
def test_encodings(project: Path, encoding: str):
    """A Cyrillic or accented excerpt reads the same from every encoding exports use: UTF-8 with or without
    a byte-order mark by itself, a single-byte code page as the file's profile names it."""
    text = "Отлично, спасибо" if encoding == "cp1251" else "Très bien, merci"
    if encoding in ("cp1251", "latin-1"):
        profile = f'  - name: legacy\n    files: ["legacy_*.csv"]\n    encoding: {encoding}\n'
        set_config(project / "config", "columns:\n", f"profiles:\n{profile}columns:\n")
    settings = load_settings(project / "config")
    store = Store(settings.store)
    data = INTERVIEWS.replace("Slow but kind", f'"{text}"')
    drop(settings, "interviews", "legacy_int.csv", data, encoding)
    assert load(settings, store)["legacy_int.csv"].rows_loaded == 3
    excerpts = store.scan("interview_answers").select("excerpt").collect()["excerpt"].to_list()
    assert text in excerpts


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiters(settings: Settings, store: Store, delimiter: str):
    header, *rows = INTERVIEWS.replace("; Staff attitude", "").strip().split("\n")
    data = "\n".join(line.replace(",", delimiter) for line in [header, *rows]) + "\n"
    drop(settings, "interviews", "int.csv", data)
    assert load(settings, store)["int.csv"].rows_loaded == 3


def test_excel_with_mixed_types_and_dates(settings: Settings, store: Store):
    """A workbook whose cells are numbers, text and real Excel dates in one column reads as written."""
    frame = pl.DataFrame(
        {
            "supplier_id": ["COURIER", "COURIER", "WEB"],
            "period": ["2025-01", "2025-Q1", "2025"],
            "on_time_pct": ["97.5", "96 %", "99"],
            "defect_rate_pct": [0.5, 1.5, 0.0],
            "returns_attributable": [3, 4, 0],
        }
    )
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        frame.write_excel(workbook, worksheet="scorecards")
        pl.DataFrame({"about": ["exported by the supplier portal"]}).write_excel(workbook, worksheet="read me")
    drop(settings, "supplier_scorecards", "suppliers.xlsx", buffer.getvalue())
    outcome = load(settings, store)["suppliers.xlsx"]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (3, 0), outcome
    assert outcome.message == "sheet 'scorecards' read; not read: 'read me'"  # the other sheet is told, not skipped
    rows = store.scan("supplier_scorecards").sort("period_months").collect()
    assert rows["period_start"].to_list() == [date(2025, 1, 1)] * 3
    assert rows["period_months"].to_list() == [1, 3, 12]
    assert rows["on_time_pct"].to_list() == [97.5, 96.0, 99.0]
    assert rows["returns_attributable"].to_list() == [3, 4, 0]


def _workbook(orders: int) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        pl.DataFrame({"about": ["notes first"]}).write_excel(workbook, worksheet="cover")
        data = pl.DataFrame({"period": ["2025-03"], "unit": ["Narva"], "product": ["P-1"], "orders": [orders]})
        data.write_excel(workbook, worksheet="data")
    return buffer.getvalue()


def test_a_profile_names_the_sheet_to_read(project: Path):
    profiles = (
        '  - name: portal\n    files: ["portal_*.xlsx"]\n    sheet: data\n'
        '  - name: typo\n    files: ["typo_*.xlsx"]\n    sheet: Data 2\n'
    )
    set_config(project / "config", "columns:\n", f"profiles:\n{profiles}columns:\n")
    settings = load_settings(project / "config")
    store = Store(settings.store)
    drop(settings, "orders", "portal_march.xlsx", _workbook(12))
    drop(settings, "orders", "typo_april.xlsx", _workbook(13))
    outcomes = load(settings, store)
    march = outcomes["portal_march.xlsx"]
    assert (march.profile, march.rows_loaded, march.message) == ("portal", 1, "sheet 'data' read; not read: 'cover'")
    assert store.scan("orders").collect()["orders"].to_list() == [12]
    april = outcomes["typo_april.xlsx"]
    assert april.status == "rejected"
    assert april.message == (
        "typo_april.xlsx: the workbook has no sheet 'Data 2' (profile typo: sheet); it has 'cover', 'data'"
    )


def test_percent_cells_of_a_workbook_are_noted(settings: Settings, store: Store):
    frame = pl.DataFrame(
        {"supplier_id": ["COURIER", "WEB"], "period": ["2025-01", "2025-01"], "on_time_pct": [0.942, 0.97]}
    )
    buffer = io.BytesIO()
    frame.write_excel(buffer, column_formats={"on_time_pct": "0.0%"})
    drop(settings, "supplier_scorecards", "portal.xlsx", buffer.getvalue())
    outcome = load(settings, store)["portal.xlsx"]
    assert outcome.rows_loaded == 2, reasons(store, "portal.xlsx")
    assert (outcome.message or "").startswith("on_time_pct: every value is between 0 and 1")


def test_empty_files_and_header_only_files(settings: Settings, store: Store):
    drop(settings, "orders", "empty.csv", b"")
    drop(settings, "orders", "header_only.csv", "period,unit,product,orders\n")
    outcomes = load(settings, store)
    assert outcomes["empty.csv"].status == "rejected"
    assert "empty.csv" in (outcomes["empty.csv"].message or "")
    header_only = outcomes["header_only.csv"]
    assert (header_only.status, header_only.rows_read, header_only.rows_loaded) == ("loaded", 0, 0)


def test_unknown_columns_are_reported_not_fatal(settings: Settings, store: Store):
    data = "period,unit,product,orders,warehouse,notes\n2025-03,Tallinn,P-1,120,W1,fine\n"
    drop(settings, "orders", "orders.csv", data)
    outcome = load(settings, store)["orders.csv"]
    assert outcome.rows_loaded == 1
    assert "2 column(s) not used: warehouse, notes" in (outcome.message or "")


def test_missing_required_columns_reject_the_file_with_the_list(settings: Settings, store: Store):
    drop(settings, "returns", "returns.csv", "period,unit,returns\n2025-03,Tallinn,4\n")
    outcome = load(settings, store)["returns.csv"]
    assert outcome.status == "rejected"
    message = outcome.message or ""
    assert message.startswith("returns.csv: header: missing")
    assert "product: one of ['product', 'product id', 'sku']" in message
    assert "return_reason: one of ['return_reason', 'reason', 'return reason']" in message
    recorded = store.scan("ingest_files").filter(pl.col("source_file") == "returns.csv").collect()
    assert recorded["status"].to_list() == ["rejected"] and recorded["source"].to_list() == ["returns"]


def test_duplicate_ids_across_files(settings: Settings, store: Store):
    """The same session in two files: the later file's row wins once, never two rows; the same rows again
    change nothing."""
    header = "session_id,held_at,moderator_id,location,unit,topic\n"
    drop(
        settings,
        "focus_group_sessions",
        "a.csv",
        header + "FG-1,2025-04-02 17:00,M-1,Tallinn office,Tallinn,Delivery\n",
    )
    load(settings, store)
    drop(
        settings,
        "focus_group_sessions",
        "b.csv",
        header + "FG-1,2025-04-02 17:00,M-2,Tallinn office,Tallinn,Delivery\n",
    )
    outcome = load(settings, store)["b.csv"]
    assert (outcome.rows_loaded, outcome.duplicates_superseded) == (1, 1)
    sessions = store.scan("focus_group_sessions").collect()
    assert sessions.height == 1 and sessions["moderator_id"].item() == "M-2"


def test_within_a_file_the_later_line_wins_and_the_other_is_quarantined(settings: Settings, store: Store):
    data = (
        "session_id,participant_id,customer_type,region,tenure_years\n"
        "FG-1,P1,private,Harju,2\n"
        "FG-1,P1,business,Harju,3\n"
    )
    drop(settings, "focus_group_participants", "p.csv", data)
    outcome = load(settings, store)["p.csv"]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (1, 1)
    assert store.scan("focus_group_participants").collect()["customer_type"].item() == "business"
    assert "superseded by a later submission (p.csv line 3)" in reasons(store, "p.csv")[2]


def test_a_megabyte_of_free_text_and_control_characters(settings: Settings, store: Store):
    """A 1 MB excerpt loads whole; control characters in text are kept as data, in an id they quarantine."""
    long_text = "word " * 200_000
    data = (
        "excerpt_id,document,participant_id,themes,quote\n"
        f'E-1,FG-1,P1,waiting_time,"{long_text}"\n'
        'E-2,FG-1,P2,praise,"bell\x07 and\x1b[31m escape"\n'
        'E-\x013,FG-1,P3,praise,"x"\n'
    )
    drop(settings, "coded_excerpts", "excerpts.csv", data)
    outcome = load(settings, store)["excerpts.csv"]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (2, 1)
    quotes = store.scan("coded_excerpts").sort("excerpt_id").collect()["quote"].to_list()
    assert len(quotes[0]) == len(long_text.strip()) and "\x1b[31m" in quotes[1]
    assert reasons(store, "excerpts.csv")[4].startswith("excerpt_id: a 4-character text is not an identifier")


def test_dates_in_the_forms_tools_emit_and_time_zones(settings: Settings, store: Store):
    header = "manager_id,assessed_on,question,rating\n"
    rows = [
        "M-1,2025-05-06,overall_satisfaction,4",  # not an expectation item
        "M-1,06.05.2025,Q1,4",
        "M-2,2025-05-06T23:30:00+00:00,Q1,4",  # a date is the day as written, whatever time follows
        "M-3,6/5/2025,Q1,4",  # day first (the profile's order)
    ]
    expectation = next(q for q in settings.codebook.questions if q.kind == "expectation")
    rows = [r.replace(",Q1,", f",{expectation.id},") for r in rows]
    drop(settings, "management_expectations", "m.csv", header + "\n".join(rows) + "\n")
    outcome = load(settings, store)["m.csv"]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (3, 1)
    assert reasons(store, "m.csv")[2] == (
        "question: 'overall_satisfaction' is not an item of kind expectation in config/codebook.yaml (its id or code)"
    )
    days = dict(store.scan("management_expectations").select("manager_id", "assessed_on").collect().iter_rows())
    assert days == {"M-1": date(2025, 5, 6), "M-2": date(2025, 5, 6), "M-3": date(2025, 5, 6)}


def test_a_file_contradicting_its_date_order_is_rejected_naming_the_fields(settings: Settings, store: Store):
    data = (
        COMPLAINTS_HEADER
        + "\n"
        + complaint(
            "K-1", received_at="03/13/2025 10:00", promised_at="", solved_at_once="yes", resolved_at="", follow_up_at=""
        )
    )
    drop(settings, "complaints", "log.csv", data)
    outcome = load(settings, store)["log.csv"]
    assert outcome.status == "rejected"
    assert "received_at/promised_at/resolved_at/follow_up_at" in (outcome.message or "")


def test_validate_prints_file_line_field_and_expected_form(settings: Settings, project: Path):
    bad = drop(
        settings,
        "supplier_issues",
        "issues.csv",
        "supplier_id,period,category,count,notes\nCOURIER,2025-13,late_delivery,3,x\nCOURIER,2025-03,late_delivery,-1,\n",
    )
    result = CliRunner().invoke(app, ["validate", str(bad), "--config", str(project / "config")])
    assert result.exit_code == 1
    assert "issues.csv (supplier_issues)" in result.output
    assert "line 2: period: a 7-character text is not a year (2025), a month (2025-03) or a quarter (2025-Q1)" in (
        result.output
    )
    assert "line 3: count: a negative 1-digit number is not at least 1" in result.output
    rejected = drop(settings, "orders", "o.csv", "period,unit\n2025,Tallinn\n")
    result = CliRunner().invoke(app, ["validate", str(rejected), "--config", str(project / "config")])
    assert result.exit_code == 1 and "REJECTED o.csv: header: missing" in result.output


def test_docs_show_every_source_contract_and_their_examples_load(settings: Settings, store: Store):
    """docs/sources.md holds each declaration's contract as generated, and each section's example file
    loads without a row quarantined: a new user can prepare every file from it."""
    text = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    for name, contract in all_contracts().items():
        assert contract in text, f"docs/sources.md: {name}'s contract is out of date: python -m flows.source_contracts"
    examples = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        source = re.search(r"\(`(\w+)`\)$", section.splitlines()[0])
        block = re.search(r"```csv\n(.*?)```", section, re.DOTALL)
        assert source and block, section.splitlines()[0]
        examples[source.group(1)] = block.group(1)
        drop(settings, source.group(1), f"doc_{source.group(1)}.csv", block.group(1))
    assert set(examples) == {spec.source for spec in RECORD_SPECS}
    outcomes = load(settings, store)
    for source in examples:
        outcome = outcomes[f"doc_{source}.csv"]
        assert (outcome.status, outcome.rows_quarantined) == ("loaded", 0), (outcome, reasons(store, outcome.file))


def _doc_example(source: str) -> str:
    text = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    section = next(
        s for s in re.split(r"^## ", text, flags=re.MULTILINE) if s.splitlines()[0].endswith(f"(`{source}`)")
    )
    block = re.search(r"```csv\n(.*?)```", section, re.DOTALL)
    assert block
    return block.group(1)


@pytest.mark.parametrize("spec", RECORD_SPECS, ids=lambda spec: spec.source)
def test_contracts_check_the_staged_data(settings: Settings, spec):
    """Each source's contract holds on its staged example rows, and fails on the same rows made wrong:
    a key twice, a required value missing."""
    source = SOURCES_BY_NAME[spec.source]
    export = read_export(Path(f"{spec.source}.csv"), _doc_example(spec.source).encode(), settings, source)
    valid, invalid = stage_export(export, settings)
    rows, invalid = pl.collect_all([valid, invalid])
    assert invalid.is_empty() and rows.height >= 1
    contract = source.contract(settings)
    checked = rows.select(contract.column_names())
    assert contract.validate(checked, cast=False).height == rows.height
    with pytest.raises(dy.exc.ValidationError, match="primary_key"):
        contract.validate(pl.concat([checked, checked]), cast=False)
    required = next(f.name for f in spec.fields if f.required and f.kind != "period")
    with pytest.raises(dy.exc.ValidationError, match="nullability"):
        contract.validate(checked.with_columns(pl.lit(None).cast(checked.schema[required]).alias(required)), cast=False)


def test_contract_bounds(settings: Settings):
    source = SOURCES_BY_NAME["complaints"]
    export = read_export(Path("c.csv"), _doc_example("complaints").encode(), settings, source)
    rows = stage_export(export, settings)[0].collect()
    contract = source.contract(settings)
    checked = rows.select(contract.column_names())
    for broken in (pl.lit(0, pl.Int64).alias("contacts"), pl.lit(-1.0).alias("compensation_amount")):
        with pytest.raises(dy.exc.ValidationError, match="min"):
            contract.validate(checked.with_columns(broken), cast=False)


@pytest.mark.parametrize("spec", RECORD_SPECS, ids=lambda spec: spec.source)
def test_validate_names_file_line_field_and_form_for_every_source(settings: Settings, project: Path, spec):
    """A broken file of each source: `csat validate` names the file, the line, the field and what was
    expected, and exits 1 - a required value left blank, and a value of the wrong form."""
    header, first, *_ = _doc_example(spec.source).splitlines()
    columns = header.split(",")
    required = next(f for f in spec.fields if f.required and f.kind not in ("text", "personal"))
    cells = next(csv.reader([first]))
    blank = [("" if c == required.name else v) for c, v in zip(columns, cells, strict=True)]
    wrong = [("\x01bad" if c == required.name else v) for c, v in zip(columns, cells, strict=True)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([columns, blank, wrong])
    path = drop(settings, spec.source, "broken.csv", buffer.getvalue())
    result = CliRunner().invoke(app, ["validate", str(path), "--config", str(project / "config")])
    assert result.exit_code == 1, result.output
    assert f"broken.csv ({spec.source})" in result.output
    assert f"line 2: {required.name}: missing (required)" in result.output
    assert f"line 3: {required.name}: a 4-character text is not " in result.output


def test_bad_record_files_make_the_report_that_reads_them_incomplete(prefect_harness, settings: Settings):
    """A rejected complaint log and a mostly quarantined interview file: the improvement report reads them, so
    its cover says what is missing; the scorecard (surveys only) does not mention them."""
    from pypdf import PdfReader

    from flows.pipeline import nightly

    survey = "\n".join([HEADER, *(row(f"R{i}", q1=str(1 + i % 5)) for i in range(40))])
    drop(settings, "surveys", "survey.csv", survey)
    drop(settings, "complaints", "broken.csv", "case,when\nK-1,2025-01-01\n")
    drop(settings, "interviews", "all_bad.csv", INTERVIEWS.replace("IV-1", "").replace("IV-2", ""))
    result = nightly(str(settings.config_dir), deliver_incomplete=True)  # (units without answers: not the point)
    assert any("broken.csv could not be read" in i for i in result["issues"])
    assert any("all_bad.csv: 3 of 3 rows quarantined" in i for i in result["issues"])
    assert result["attention"] == []  # every source is read by a report now: the gate tells, not a side note
    covers = {
        r["kind"]: PdfReader(r["pdf"]).pages[0].extract_text() for r in result["reports"] if r.get("segment") == "All"
    }
    assert "broken.csv" in covers["improvement"] and "all_bad.csv" in covers["improvement"]
    assert "broken.csv" not in covers["scorecard"] and "all_bad.csv" not in covers["scorecard"]


def test_values_of_a_source_with_personal_data_appear_by_shape_only(settings: Settings, store: Store):
    """A name in the category column (a misplaced cell) is not quoted in the reason, as a theme would be
    elsewhere: a source holding personal data never quotes a value."""
    drop(settings, "complaints", "log.csv", "\n".join([COMPLAINTS_HEADER, complaint("K-1", category="Maria Tamm")]))
    load(settings, store)
    reason = reasons(store, "log.csv")[2]
    expected = "a 10-character text is not in the coding frame (config/coding_frame.yaml: one theme's code or label)"
    assert reason == f"category: {expected}"
    assert "Maria" not in store.scan("quarantine").collect().write_csv()


@pytest.mark.parametrize(
    ("column", "written", "stored"),
    [
        ("compensation_amount", "12,5", 12.5),
        ("compensation_amount", "1.250", None),  # a thousand and a quarter, or one and a quarter?
        ("compensation_amount", "1,000", None),
        ("contacts", "1,000", None),
        ("contacts", "2.0", 2),
        ("contacts", "5%", None),
    ],
)
def test_thousands_separators_are_never_guessed(settings: Settings, store: Store, column, written, stored):
    drop(
        settings, "complaints", "log.csv", "\n".join([COMPLAINTS_HEADER, complaint("K-1", **{column: f'"{written}"'})])
    )
    outcome = load(settings, store)["log.csv"]
    if stored is None:
        assert outcome.rows_quarantined == 1
        assert reasons(store, "log.csv")[2].startswith(f"{column}: a ")
    else:
        assert store.scan("complaints").collect()[column].item() == stored


def test_an_older_export_loaded_late_never_reopens_a_case(settings: Settings, store: Store):
    """Of two versions of a complaint, the one with the later activity wins, whatever order files come in."""
    resolved = complaint("K-1", resolved_at="2025-02-05 12:00", follow_up_at="2025-02-10 10:00")
    still_open = complaint("K-1", resolved_at="", follow_up_at="", solved_at_once="yes", promised_at="")
    drop(settings, "complaints", "export_2.csv", "\n".join([COMPLAINTS_HEADER, resolved]))
    load(settings, store)
    drop(settings, "complaints", "export_1.csv", "\n".join([COMPLAINTS_HEADER, still_open]))
    outcome = load(settings, store)["export_1.csv"]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (0, 1)
    assert "a newer submission is already stored (from export_2.csv)" in reasons(store, "export_1.csv")[2]
    assert store.scan("complaints").collect()["resolved_at"].item() is not None


def test_a_profile_for_every_source_does_not_break_other_sources(project: Path):
    """A configured profile extending plain applies to any source's files it matches; its survey-only
    settings (an id prefix) change nothing for them."""
    profile = '  - name: legacy\n    files: ["*.csv"]\n    id_prefix: "legacy:"\n'
    set_config(project / "config", "columns:\n", f"profiles:\n{profile}columns:\n")
    settings = load_settings(project / "config")
    store = Store(settings.store)
    drop(settings, "complaints", "a.csv", "\n".join([COMPLAINTS_HEADER, complaint("K-1")]))
    drop(settings, "orders", "a.csv", "period,unit,product,orders\n2025-03,Tallinn,P-1,12\n")
    load(settings, store)
    drop(settings, "complaints", "b.csv", "\n".join([COMPLAINTS_HEADER, complaint("K-1", nature="Late twice")]))
    drop(settings, "orders", "b.csv", "period,unit,product,orders\n2025-03,Tallinn,P-1,13\n")
    outcomes = load_inbox(settings, store, LATER)
    assert {(o.source, o.status, o.duplicates_superseded) for o in outcomes} == {
        ("complaints", "loaded", 1),
        ("orders", "loaded", 1),
    }
    assert store.scan("complaints").collect()["complaint_id"].to_list() == ["K-1"]


def test_a_run_killed_between_the_personal_and_the_record_write_loads_once(
    settings: Settings, store: Store, monkeypatch
):
    drop(settings, "complaints", "log.csv", "\n".join([COMPLAINTS_HEADER, complaint("K-1"), complaint("K-2")]))
    real_upsert = Store.upsert

    def dies(self, table, frame, **kwargs):
        if table == "complaints":
            raise OSError("killed")
        return real_upsert(self, table, frame, **kwargs)

    monkeypatch.setattr(Store, "upsert", dies)
    with pytest.raises(OSError, match="killed"):
        load_inbox(settings, store, LATER)
    assert store.scan("complaint_contacts").collect().height == 2  # written before the run died
    monkeypatch.setattr(Store, "upsert", real_upsert)
    load(settings, store)
    contacts = store.scan("complaint_contacts").collect()
    assert contacts.height == 2 and contacts["complaint_id"].is_unique().all()
    assert store.scan("complaints").collect().height == 2


def test_supplier_measures_must_not_take_a_column_name(project: Path):
    for clash in ("segment", "source_file", "on_time_pct", "row_hash"):
        set_config(project / "config", "    - response_hours", f"    - {clash}")
        with pytest.raises(ConfigError, match=r"suppliers\.measures"):
            load_settings(project / "config")
        set_config(project / "config", f"    - {clash}", "    - response_hours")
    load_settings(project / "config")

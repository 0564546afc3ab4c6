"""The demo's record sources and the example files load through the real intake, into a real store.

Every demo row loads except the three planted faults (flows/demo_data.py names them); personal
data of the complaint log lands only in its own table; the examples load without quarantine;
and the survey's expectation items leave the scorecard's figures as they were.
"""

from __future__ import annotations

import importlib.util
import shutil
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.demo_data import EXPECTATIONS, MANAGERS, RECORD_BASE, demo_records, demo_responses, write_demo_records
from flows.load_sources import FileOutcome, load_inbox
from flows.scorecard_report import scorecard_parameters
from flows.settings import Settings, load_settings
from flows.sources import codebook_frame
from flows.store import Store
from tests.conftest import REPO
from transforms.scorecard import answer_sums, scorecard_metrics
from transforms.staging import RECORD_SPECS

RECORD_SOURCES = {spec.source for spec in RECORD_SPECS}
PERSONAL = ("customer_name", "customer_address", "customer_phone")
# The planted faults: (source, file, line) -> reason.
FAULTS = {
    ("complaints", "complaints_2025.csv", 41): (
        "segment: a 5-character text is not a business unit listed under 'units' in config/pipeline.yaml"
    ),
    ("interviews", "interviews_2025.csv", 72): "interviewer_id: missing (required)",
    ("supplier_scorecards", "scorecard_parts_balt.csv", 19): "on_time_pct: a decimal number is not from 0 to 100",
}
# Rows per source: read (loaded = read - the faults).
ROWS = {
    "interviews": 648,
    "focus_group_sessions": 5,
    "focus_group_participants": 35,
    "coded_excerpts": 75,
    "complaints": 150,
    "supplier_scorecards": 72,
    "supplier_issues": 48,
    "orders": 480,
    "returns": 1106,
    "management_expectations": 32,
    "self_assessments": 7,
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[Settings, Store, list[FileOutcome]]:
    """The demo records written into a fresh project's inbox (each with its ready marker) and loaded once."""
    project = tmp_path_factory.mktemp("records")
    shutil.copytree(REPO / "config", project / "config")
    settings = load_settings(project / "config")
    responses = demo_responses()
    write_demo_records(settings.inbox, responses=responses)
    store = Store(settings.store)
    return settings, store, load_inbox(settings, store, datetime.now(UTC) + timedelta(minutes=1))


def test_every_demo_file_loads_and_accounts_for_every_row(loaded):
    """Each file of each record source loads; read = loaded + quarantined, per file and per source."""
    _, store, outcomes = loaded
    assert {o.source for o in outcomes} == RECORD_SOURCES
    for o in outcomes:
        assert o.status == "loaded", o
        assert o.rows_read == o.rows_loaded + o.rows_quarantined, o
        assert o.message is None, o  # every column is a field (or the configured measure): nothing unused
    faults = {source for source, _, _ in FAULTS}
    for source, rows in ROWS.items():
        mine = [o for o in outcomes if o.source == source]
        read = sum(o.rows_read for o in mine)
        assert read == rows, source
        assert sum(o.rows_loaded for o in mine) == rows - (source in faults), source
        table = next(s.table for s in RECORD_SPECS if s.source == source)
        assert store.scan(table).select(pl.len()).collect().item() == rows - (source in faults), source


def test_only_the_planted_faults_are_quarantined(loaded):
    _, store, outcomes = loaded
    quarantine = store.scan("quarantine").select("source", "source_file", "source_line", "reason").collect()
    assert {(s, f, line): reason for s, f, line, reason in quarantine.iter_rows()} == FAULTS
    assert sum(o.rows_quarantined for o in outcomes) == len(FAULTS)


def test_complaint_contact_details_only_in_their_own_table(loaded):
    """Names, addresses and phone numbers are in complaint_contacts (by complaint id), nowhere else."""
    _, store, _ = loaded
    complaints = store.scan("complaints").collect()
    assert not set(PERSONAL) & set(complaints.columns)
    contacts = store.scan("complaint_contacts").collect()
    assert set(PERSONAL) <= set(contacts.columns)
    assert set(contacts["complaint_id"]) == set(complaints["complaint_id"])  # every demo complaint names someone
    assert contacts["customer_name"].str.starts_with("Demo Person ").all()
    assert contacts["customer_address"].drop_nulls().str.contains(" Example Street, ").all()
    reasons = " ".join(store.scan("quarantine").collect()["reason"])
    assert "Demo Person" not in reasons and "Example Street" not in reasons and "5555" not in reasons


def test_demo_records_tell_the_demo_story(loaded):
    """Shared customers, units and years; the interviewer effect; open cases and broken promises; the knowledge gap."""
    _, store, _ = loaded
    responses = demo_responses()
    customers = set(responses["customer_id"])
    for table in ("interview_answers", "complaints", "focus_group_participants"):
        ids = store.scan(table).select(pl.col("customer_id").drop_nulls().unique()).collect()["customer_id"]
        assert ids.len() > 0 and set(ids) <= customers, table
    for table in ("interview_answers", "complaints", "orders", "returns", "supplier_scorecards"):
        assert set(store.scan(table).select("period").collect()["period"]) == {"2024", "2025"}, table

    answers = store.scan("interview_answers").filter(pl.col("question") == "overall_satisfaction").collect()
    by_interviewer = dict(answers.group_by("interviewer_id").agg(pl.col("rating").mean()).iter_rows())
    assert max(by_interviewer, key=by_interviewer.get) == "IV-03"
    assert set(answers["mode"]) == {"phone", "in_person", "video"}

    # The focus groups do not look like the customer base: more business and long-standing customers.
    participants = store.scan("focus_group_participants").collect()
    assert (participants["customer_type"] == "business").mean() > 2 * RECORD_BASE["business_share"]
    assert participants["tenure_years"].median() > 2 * RECORD_BASE["median_tenure_years"]

    complaints = store.scan("complaints").collect()
    assert set(complaints["contacts"]) == {1, 2, 3, 4}
    assert complaints["contacts"].mode().to_list() == [1]
    assert complaints["resolved_at"].null_count() > 0  # some still open
    promised = complaints.filter(pl.col("promised_at").is_not_null() & pl.col("resolved_at").is_not_null())
    assert (promised["resolved_at"] <= promised["promised_at"]).any()  # kept
    assert (promised["resolved_at"] > promised["promised_at"]).any()  # broken
    assert set(complaints["compensation_currency"].drop_nulls()) == {"EUR", "ZAR"}
    assert set(complaints["satisfied_at_follow_up"].drop_nulls()) == {True, False}

    # Gap 1: management under-estimates how much customers expect reliability, over-estimates value for money.
    estimates = store.scan("management_expectations").collect()
    assert estimates.height == len(MANAGERS) * len(EXPECTATIONS) * 2
    estimated = dict(estimates.group_by("question").agg(pl.col("rating").mean()).iter_rows())
    assert estimated["expect_reliability"] < responses["expect_reliability"].mean() - 0.5
    assert estimated["expect_tangibles"] > responses["expect_tangibles"].mean()


def test_demo_records_are_deterministic():
    assert demo_records(7) == demo_records(7)
    assert demo_records(7) != demo_records(8)


def test_expectation_items_answered_by_some_and_above_perceptions():
    """~40 % answer the expectation items; expectations exceed the perceived attribute on every dimension."""
    responses = demo_responses()
    answered = responses.select(pl.col(EXPECTATIONS).is_not_null().mean())
    assert all(0.35 < share < 0.45 for share in answered.row(0))
    perception = {
        "expect_reliability": "resolved_first_contact",
        "expect_responsiveness": "speed_of_service",
        "expect_empathy": "staff_courtesy",
        "expect_tangibles": "value_for_money",
    }
    for expectation, attribute in perception.items():
        assert responses[expectation].mean() > responses[attribute].mean(), expectation


def test_expectation_items_leave_the_scorecard_as_it_was(settings: Settings):
    """The scorecard's metrics from the demo answers are the same with and without the expectation items."""
    year = pl.col("submitted_at").dt.convert_time_zone("Europe/Tallinn").dt.year().cast(pl.String)
    responses = demo_responses().with_columns(period=year).lazy()
    codebook = codebook_frame(settings.codebook)
    params = scorecard_parameters(settings)
    with_items = scorecard_metrics(answer_sums(responses, codebook), responses, params)
    without = codebook.filter(pl.col("kind") != "expectation")
    assert without.height == codebook.height - len(EXPECTATIONS)
    assert_frame_equal(with_items, scorecard_metrics(answer_sums(responses, without), responses, params))


# --- the examples -------------------------------------------------------------------------------

EXAMPLES = REPO / "examples"
EXAMPLE_SOURCES = sorted(RECORD_SOURCES - {"coded_excerpts"})  # examples/coded_excerpts/ is tested with its source


def _generator():
    spec = importlib.util.spec_from_file_location("records_generate", EXAMPLES / "records" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_files_are_those_the_generator_writes():
    """Up to date with examples/records/generate.py, each headed by its source's field names."""
    generate = _generator()
    assert sorted(generate.FILES) == EXAMPLE_SOURCES
    for source, (header, rows) in generate.FILES.items():
        spec = next(s for s in RECORD_SPECS if s.source == source)
        measures = ["response_hours"] if spec.open_number_columns else []  # the configured supplier measure
        assert list(header) == [f.name for f in spec.fields] + measures, source
        path = EXAMPLES / source / f"{source}.csv"
        assert path.read_bytes() == generate.csv_bytes(header, rows), f"{path}: run examples/records/generate.py"


def test_example_files_load_without_quarantine(settings: Settings, store: Store):
    for source in EXAMPLE_SOURCES:
        folder = settings.source_folder(source)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / source / f"{source}.csv", folder)
    outcomes = {o.source: o for o in load_inbox(settings, store)}
    assert sorted(outcomes) == EXAMPLE_SOURCES
    for o in outcomes.values():
        assert (o.status, o.rows_quarantined, o.message) == ("loaded", 0, None), o
        assert o.rows_read == o.rows_loaded > 0, o
    contacts = store.scan("complaint_contacts").collect()
    assert contacts.height == outcomes["complaints"].rows_loaded
    assert not set(PERSONAL) & set(store.scan("complaints").collect_schema().names())

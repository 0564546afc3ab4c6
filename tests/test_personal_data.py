"""Personal data of the complaint log: kept in `complaint_contacts` only, never in another store file,
report, email, metrics file or log; `csat forget` removes one customer's and every older version of it.

Real store, real loading, real nightly flow (Prefect API, PDFs read with pypdf, .eml files parsed).
"""

from __future__ import annotations

import csv
import email
import io
import json
import logging
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from flows.cli import app
from flows.inbox import touch_ready_marker
from flows.load_sources import load_inbox
from flows.personal_data import forget_customer
from flows.settings import Settings
from flows.store import Store
from tests.conftest import HEADER, export_csv, row
from transforms.staging.complaints import COMPLAINTS

CONTACTS = "complaint_contacts"
FIELDS = [f.name for f in COMPLAINTS.fields]
PERSONAL = list(COMPLAINTS.personal)
# Customer C-Q7: two complaints, then a new address; customer C-O3: one complaint.
QUAX = ("Zebulon Quaxmire", "17 Nowhere Lane", "+372 5550 1234")
QUAX_MOVED = "42 Nevermore Close"
OTTO = ("Ottoline Brambleweft", "9 Elsewhere Road", "+372 5550 9876")
SECRETS = (*QUAX, QUAX_MOVED, *OTTO)

runner = CliRunner()


def _complaint(cid: str, customer: str, person: tuple[str, str, str], **cells: str) -> dict[str, str]:
    name, address, phone = person
    return (
        dict.fromkeys(FIELDS, "")
        | {
            "complaint_id": cid,
            "customer_id": customer,
            "customer_name": name,
            "customer_address": address,
            "customer_phone": phone,
            "received_by": "EMP-7",
            "received_at": "2025-03-04 10:15",
            "channel": "phone",
            "segment": "Tallinn",
            "category": "waiting_time",
            "nature": "Waited forty minutes at the counter",
            "solved_at_once": "yes",
            "contacts": "1",
        }
        | cells
    )


def _drop_complaints(settings: Settings, name: str, rows: list[dict[str, str]]) -> Path:
    """Our own CSV format (header = the field names), delivered with its ready marker."""
    folder = settings.source_folder("complaints")
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    path = folder / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    touch_ready_marker(path)
    return path


def _first_log(settings: Settings) -> Path:
    """Q7's two complaints and O3's one, plus a row quarantined with Q7's name and phone in bad fields."""
    return _drop_complaints(
        settings,
        "complaints_2025_03.csv",
        [
            _complaint("CMP-1", "C-Q7", QUAX),
            _complaint("CMP-2", "C-Q7", QUAX, channel="letter", category="billing_error"),
            _complaint("CMP-3", "C-O3", OTTO, segment="Narva"),
            _complaint("CMP-4", "C-Q7", QUAX, channel=QUAX[0], contacts=QUAX[2]),  # invalid: quarantined
        ],
    )


def _second_log(settings: Settings) -> Path:
    """A later export: Q7 moved (CMP-1 updated), so the old address lives on only in an older version."""
    return _drop_complaints(
        settings,
        "complaints_2025_04.csv",
        [_complaint("CMP-1", "C-Q7", (QUAX[0], QUAX_MOVED, QUAX[2]), resolved_at="2025-04-01 09:00")],
    )


def _values(frame: pl.DataFrame) -> str:
    """Every value of a frame as text (lists and structs included), for a substring search."""
    return json.dumps(frame.rows(), default=str, ensure_ascii=False)


def _parquet_text(paths: list[Path]) -> str:
    return "\n".join(_values(pl.read_parquet(p)) for p in paths)


def _contacts_data_files(store: Store) -> list[Path]:
    folder = store.table_path(CONTACTS)
    return sorted(p for p in folder.rglob("*.parquet") if "_delta_log" not in p.parts)


def _assert_nowhere_but_contacts(store: Store, secrets: tuple[str, ...]) -> None:
    """No personal value in any file under the store but complaint_contacts' own data files: bytes of every
    file (the contacts' Delta log included: no statistics of personal columns), and every parquet file read
    with polars (compression can hide a string from a byte search)."""
    contacts_data = set(_contacts_data_files(store))
    files = [p for p in store.root.rglob("*") if p.is_file() and p not in contacts_data]
    assert any("_delta_log" in p.parts and CONTACTS in p.parts for p in files)  # its log is searched too
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, (secret, path)
    decoded = _parquet_text([p for p in files if p.suffix == ".parquet"])
    for secret in secrets:
        assert secret not in decoded, secret


def _contacts_log_stats(store: Store) -> list[dict]:
    """The column statistics of every file ever added to complaint_contacts (from its Delta log)."""
    stats = []
    for entry in sorted((store.table_path(CONTACTS) / "_delta_log").glob("*.json")):
        for line in entry.read_text(encoding="utf-8").splitlines():
            action = json.loads(line)
            if "add" in action and action["add"].get("stats"):
                stats.append(json.loads(action["add"]["stats"]))
    return stats


# --- where personal data is kept -----------------------------------------------------------------


def test_personal_fields_live_only_in_complaint_contacts(settings: Settings, store: Store, caplog):
    """Names, addresses and phones go to complaint_contacts by complaint id; nowhere else in the store."""
    _first_log(settings)
    with caplog.at_level(logging.DEBUG):
        [outcome] = load_inbox(settings, store)
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 3, 1)

    complaints = store.scan("complaints").collect()
    assert not set(PERSONAL) & set(complaints.columns)
    assert sorted(complaints["complaint_id"]) == ["CMP-1", "CMP-2", "CMP-3"]
    contacts = store.scan(CONTACTS).sort("complaint_id").collect()
    assert contacts.select("complaint_id", "customer_id", *PERSONAL).rows() == [
        ("CMP-1", "C-Q7", *QUAX),
        ("CMP-2", "C-Q7", *QUAX),
        ("CMP-3", "C-O3", *OTTO),
    ]
    # The quarantined row (Q7's name as its channel, phone as its contact count) is there by shape only.
    [reason] = store.scan("quarantine").collect()["reason"]
    assert "channel:" in reason and "contacts:" in reason

    _assert_nowhere_but_contacts(store, SECRETS)
    assert _contacts_log_stats(store)
    for stats in _contacts_log_stats(store):
        assert set(stats["minValues"]) == set(stats["maxValues"]) == {"complaint_id"}
    for secret in SECRETS:
        assert secret not in caplog.text


# --- csat forget ---------------------------------------------------------------------------------


@pytest.fixture
def two_logs(settings: Settings, store: Store) -> Store:
    """Both complaint logs loaded, one run each: complaint_contacts has an older version holding Q7's old address."""
    _first_log(settings)
    load_inbox(settings, store)
    _second_log(settings)
    [outcome] = load_inbox(settings, store)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1)
    assert store.scan(CONTACTS).filter(pl.col("complaint_id") == "CMP-1").collect()["customer_address"][0] == (
        QUAX_MOVED
    )
    assert QUAX[1] in _parquet_text(_contacts_data_files(store))  # the old address: in an older version's file
    return store


def test_dry_run_removes_nothing(settings: Settings, two_logs: Store):
    """`forget --dry-run` names what would go; every file of the store stays as it was."""
    store = two_logs
    before = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file() and p.name != ".run.lock"}
    result = forget_customer(settings, "C-Q7", dry_run=True)
    assert result.status == "would_remove"
    assert result.complaint_ids == ["CMP-1", "CMP-2"]
    assert result.fields_purged == PERSONAL
    # The one file holding the rows: the old address was removed from disk when the new one was loaded.
    assert len(result.files_vacuumed) == 1
    after = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file() and p.name != ".run.lock"}
    assert after == before

    cli = runner.invoke(app, ["forget", "--customer", "C-Q7", "--dry-run", "--config", str(settings.config_dir)])
    assert cli.exit_code == 0, cli.output
    assert "Would remove the personal data of 2 complaint(s) of customer C-Q7: CMP-1, CMP-2" in cli.output
    assert "Dry run: nothing was removed." in cli.output
    assert {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file() and p.name != ".run.lock"} == before


def test_personal_data_keeps_no_history(settings: Settings, two_logs: Store):
    """A replaced address is gone from disk as soon as the new one is loaded: no older version holds it."""
    store = two_logs
    assert store.stale_files(CONTACTS) == []
    on_disk = pl.concat(pl.read_parquet(p) for p in _contacts_data_files(store))
    cmp_1 = on_disk.filter(pl.col("complaint_id") == "CMP-1")["customer_address"].to_list()
    assert cmp_1 == [QUAX_MOVED]  # CMP-1's first address is in no file any more


def test_forget_purges_the_customer_and_every_older_version(settings: Settings, two_logs: Store):
    """After `forget`: no file of complaint_contacts holds Q7's values (old versions included), O3's remain,
    the version before the purge cannot be read; the complaints, responses and raw files are reported."""
    store = two_logs
    export_csv(settings, "survey.csv", "\n".join([HEADER, row("Q7"), row("X1")]) + "\n")  # customer C-Q7 answered
    load_inbox(settings, store)
    before_purge = datetime.now(UTC)
    dry = forget_customer(settings, "C-Q7", dry_run=True)

    cli = runner.invoke(app, ["forget", "--customer", "C-Q7", "--config", str(settings.config_dir)])
    assert cli.exit_code == 0, cli.output
    folder = settings.source_folder("complaints")
    assert "Removed the personal data of 2 complaint(s) of customer C-Q7: CMP-1, CMP-2" in cli.output
    assert "fields purged: customer_name, customer_address, customer_phone" in cli.output
    assert "complaint_contacts: 1 data file(s) of older versions vacuumed" in cli.output
    assert "complaints: 2 row(s) with customer_id C-Q7: CMP-1, CMP-2" in cli.output
    assert "responses: 1 row(s) with customer_id C-Q7" in cli.output
    # The raw files still hold the names: listed with their paths, for the operator.
    assert str(folder / "complaints_2025_03.csv") in cli.output
    assert str(folder / "complaints_2025_04.csv") in cli.output

    remaining = _parquet_text(_contacts_data_files(store))
    for secret in (*QUAX, QUAX_MOVED):
        assert secret not in remaining, secret
    for secret in OTTO:
        assert secret in remaining, secret
    assert store.scan(CONTACTS).collect()["complaint_id"].to_list() == ["CMP-3"]
    # The complaints keep their rows, without personal fields, under the pseudonymous id.
    assert store.scan("complaints").filter(pl.col("customer_id") == "C-Q7").collect().height == 2
    # The purge rewrote exactly what the dry run said it would vacuum.
    result_files = {p.name for p in _contacts_data_files(store)}
    assert not result_files & set(dry.files_vacuumed)

    # History: the log still names the old versions, but their data is gone - reading one fails loudly.
    path = str(store.table_path(CONTACTS))
    with pytest.raises(FileNotFoundError):
        pl.scan_delta(path, version=0).collect()
    old = store.version(CONTACTS, before_purge)
    assert old is not None  # the version is still known (the log is kept) ...
    with pytest.raises(FileNotFoundError):
        store.scan(CONTACTS, before_purge).collect()  # ... but cannot be read
    # Other tables keep their history: a report as of before the purge still reads.
    assert store.scan("complaints", before_purge).collect().height == 3

    _assert_nowhere_but_contacts(store, SECRETS)


def test_forget_twice_changes_nothing_the_second_time(settings: Settings, two_logs: Store):
    """Idempotent: the second call finds nothing, writes no commit, and still reports the raw files."""
    store = two_logs
    first = forget_customer(settings, "C-Q7")
    assert first.status == "removed" and first.rows_removed == 2
    version = store.version(CONTACTS)
    files = _contacts_data_files(store)

    second = forget_customer(settings, "C-Q7")
    assert second.status == "nothing_stored"
    assert (second.complaint_ids, second.rows_removed, second.files_vacuumed) == ([], 0, [])
    assert [f.file for f in second.raw_files] == ["complaints_2025_03.csv", "complaints_2025_04.csv"]
    assert all(f.in_inbox for f in second.raw_files)
    assert store.version(CONTACTS) == version and _contacts_data_files(store) == files

    cli = runner.invoke(app, ["forget", "--customer", "C-Q7", "--json", "--config", str(settings.config_dir)])
    assert cli.exit_code == 0, cli.output
    summary = json.loads(cli.output)
    assert summary["status"] == "nothing_stored" and summary["kept_complaints"] == ["CMP-1", "CMP-2"]


def test_a_forgotten_customer_is_not_stored_again_from_old_data(settings: Settings, two_logs: Store):
    """After `forget`, a later export still naming the customer (a complaint of theirs changed) loads the
    complaint without their personal data; a complaint they make after the purge is new data, kept."""
    store = two_logs
    forget_customer(settings, "C-Q7")
    later = _complaint(
        "CMP-2", "C-Q7", QUAX, channel="letter", category="billing_error", resolved_at="2025-05-02 10:00"
    )
    after_purge = _complaint("CMP-9", "C-Q7", QUAX, received_at="2030-06-01 10:00")
    _drop_complaints(settings, "complaints_2025_05.csv", [later, after_purge])
    outcome = {o.file: o for o in load_inbox(settings, store)}["complaints_2025_05.csv"]
    assert (outcome.rows_loaded, outcome.duplicates_superseded) == (2, 1)
    assert store.scan("complaints").filter(pl.col("complaint_id") == "CMP-2").collect()["resolved_at"].item()
    assert sorted(store.scan(CONTACTS).collect()["complaint_id"].to_list()) == ["CMP-3", "CMP-9"]
    assert store.scan("forgotten_customers").collect()["customer_id"].to_list() == ["C-Q7"]


def test_forget_killed_before_the_vacuum_finishes_next_time(settings: Settings, two_logs: Store, monkeypatch):
    """Rows deleted, then the process dies before vacuuming: the next call removes the older versions."""
    store = two_logs

    def killed(self: Store, table: str) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "drop_history", killed)
    with pytest.raises(KeyboardInterrupt):
        forget_customer(settings, "C-Q7")
    monkeypatch.undo()
    assert QUAX[0] in _parquet_text(_contacts_data_files(store))  # deleted from the table, not from the disk

    again = forget_customer(settings, "C-Q7")
    assert again.status == "removed" and again.complaint_ids == []
    assert len(again.files_vacuumed) == 1
    assert QUAX[0] not in _parquet_text(_contacts_data_files(store))
    assert OTTO[0] in _parquet_text(_contacts_data_files(store))


def test_redacted_raw_files_load_without_personal_data(settings: Settings, two_logs: Store):
    """The operator's part (docs/personal-data.md): each listed file redacted into a new file, the original
    deleted; the redacted files load as updates without personal data and are no longer listed."""
    store = two_logs
    first = forget_customer(settings, "C-Q7")
    folder = settings.source_folder("complaints")
    assert [f.path for f in first.raw_files] == [
        str(folder / "complaints_2025_03.csv"),
        str(folder / "complaints_2025_04.csv"),
    ]
    for listed in first.raw_files:
        original = Path(listed.path)
        rows = list(csv.DictReader(original.open(encoding="utf-8")))
        kept = [  # Q7's personal fields blanked; the invalid row (name and phone in other fields) deleted
            r | dict.fromkeys(PERSONAL, "") if r["customer_id"] == "C-Q7" else r
            for r in rows
            if r["complaint_id"] != "CMP-4"
        ]
        _drop_complaints(settings, original.stem + "_redacted.csv", kept)
        original.unlink()
        original.with_name(original.name + ".ready").unlink()
    outcomes = load_inbox(settings, store)
    assert {o.file: o.status for o in outcomes} == {
        "complaints_2025_03_redacted.csv": "loaded",
        "complaints_2025_04_redacted.csv": "loaded",
    }
    assert store.scan(CONTACTS).collect()["complaint_id"].to_list() == ["CMP-3"]
    again = forget_customer(settings, "C-Q7")
    assert (again.status, again.unchecked_files) == ("nothing_stored", [])
    # The redacted rows of unchanged complaints leave the records as they were (personal data is no part of
    # a record's content), so the files they came from are still named - gone from the inbox: "any copy".
    assert all(not f.in_inbox for f in again.raw_files)
    for path in [*folder.iterdir(), *_contacts_data_files(store)]:
        data = path.read_bytes()
        for secret in (*QUAX, QUAX_MOVED):
            assert secret.encode() not in data, (secret, path)
    _assert_nowhere_but_contacts(store, SECRETS)


def test_unknown_customer_exits_zero_with_a_clear_message(settings: Settings, store: Store):
    """A customer the store knows nothing about (and a store that does not exist yet): said, exit 0."""
    cli = runner.invoke(app, ["forget", "--customer", "C-NOBODY", "--config", str(settings.config_dir)])
    assert cli.exit_code == 0, cli.output
    assert "No personal data of customer C-NOBODY in the store: nothing to remove." in cli.output
    # Still recorded: a complaint file not loaded yet must not store the customer's personal data either.
    assert Store(settings.store).scan("forgotten_customers").collect()["customer_id"].to_list() == ["C-NOBODY"]
    _first_log(settings)
    load_inbox(settings, store)
    version = store.version(CONTACTS)
    cli = runner.invoke(app, ["forget", "--customer", "C-NOBODY", "--config", str(settings.config_dir)])
    assert cli.exit_code == 0, cli.output
    assert "No personal data of customer C-NOBODY in the store: nothing to remove." in cli.output
    assert "Still holding" not in cli.output
    assert store.version(CONTACTS) == version
    empty = runner.invoke(app, ["forget", "--customer", "  ", "--config", str(settings.config_dir)])
    assert empty.exit_code == 2


# --- the nightly flow ----------------------------------------------------------------------------


def _eml_text(path: Path) -> str:
    """An email as a mail client shows it: headers, every text part, and each attachment decoded
    (a PDF's extracted text as well as its bytes)."""
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    parts = [str(value) for value in message.values()]
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_content()
        if isinstance(content, bytes):
            parts.append(content.decode("latin-1"))
            if part.get_content_type() == "application/pdf":
                parts.append(_pdf_text(content))
        else:
            parts.append(content)
    return "\n".join(parts)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_nightly_run_carries_no_personal_data(prefect_harness, settings: Settings, caplog):
    """A nightly run with complaint logs in the inbox: no name, address or phone in any email (attachments
    decoded), PDF text, file under the reports folder, the run summary, or the logs."""
    from flows.pipeline import nightly, summary_markdown

    export_csv(settings, "survey.csv", "\n".join([HEADER, *(row(f"R{i}", q1=str(1 + i % 5)) for i in range(40))]))
    _first_log(settings)
    _second_log(settings)
    prefect_logger = logging.getLogger("prefect")  # Prefect's loggers may not propagate to the root
    prefect_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG):
            result = nightly(str(settings.config_dir), deliver_incomplete=True)
    finally:
        prefect_logger.removeHandler(caplog.handler)
    loaded = {f["file"]: f for f in result["files"]}
    assert loaded["complaints_2025_03.csv"]["rows_loaded"] == 3
    assert loaded["complaints_2025_04.csv"]["rows_loaded"] == 1
    assert Store(settings.store).scan(CONTACTS).collect().height == 3  # the personal data is in the store

    emails = sorted(settings.outbox.rglob("*.eml"))
    pdfs = sorted(settings.reports.rglob("*.pdf"))
    assert emails and pdfs and result["emails"]
    assert any("application/pdf" in p.read_text(encoding="latin-1") for p in emails)  # reports, with their PDF
    for path in emails:  # reports and the owner's alerts alike
        text = _eml_text(path)
        for secret in SECRETS:
            assert secret not in text, (secret, path)
    for path in pdfs:
        text = _pdf_text(path.read_bytes())
        assert "Data quality" in text or text  # text was extracted
        for secret in SECRETS:
            assert secret not in text, (secret, path)
    others = [p for p in settings.reports.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in others) and any(p.suffix == ".parquet" for p in others)
    for path in others:
        data = path.read_bytes()
        decoded = _values(pl.read_parquet(path)) if path.suffix == ".parquet" else ""
        for secret in SECRETS:
            assert secret.encode() not in data and secret not in decoded, (secret, path)
    summary = json.dumps(result, default=str) + summary_markdown(result)
    assert "wrote" in caplog.text  # the flow's own log lines were captured
    for secret in SECRETS:
        assert secret not in summary and secret not in caplog.text, secret
    _assert_nowhere_but_contacts(Store(settings.store), SECRETS)

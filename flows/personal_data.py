"""Forget one customer's personal data: `csat forget --customer ID` (docs/personal-data.md).

Personal data (names, addresses, phone numbers of the complaint log) is kept in one table only,
`complaint_contacts`, by complaint id; reports never read it. Forgetting a customer deletes
their rows there and then vacuums the table with no retention, so no older version of it
(the data files Delta Lake keeps for time travel) still holds them. Idempotent: a second call
finds nothing and changes nothing; a call killed between the delete and the vacuum finishes
the vacuum next time (files of older versions left on disk are always removed).

What it does not remove is said, not hidden: the complaint rows themselves (pseudonymous
customer id, no personal fields), other rows carrying the customer id (survey responses,
interview answers, focus-group participants), and the raw files in the inbox that still name
the customer - those are the operator's to delete or redact.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from flows.inbox import READY_SUFFIX
from flows.load_sources import read_export
from flows.settings import Settings
from flows.sources import SOURCES_BY_NAME
from flows.store import PERSONAL_TABLES, SCHEMAS, Store
from transforms.staging.complaints import COMPLAINTS

log = logging.getLogger(__name__)

SOURCE = COMPLAINTS.source  # the source whose files hold personal data
TABLE = COMPLAINTS.table
CONTACTS = COMPLAINTS.personal_table or "complaint_contacts"
KEY = COMPLAINTS.key[0]


@dataclass(frozen=True)
class RawFile:
    """A complaint-log file holding the customer's personal data, or one their complaints came from that is gone."""

    file: str  # its name, as `source_file` in the store
    path: str  # where it lies (or lay) in the inbox
    in_inbox: bool  # False: a stored complaint of theirs came from it, but it is gone from the folder


@dataclass
class ForgetResult:
    customer_id: str
    dry_run: bool
    status: str = "nothing_stored"  # removed | would_remove | nothing_stored
    complaint_ids: list[str] = field(default_factory=list)  # whose personal data was (would be) removed
    rows_removed: int = 0  # rows of complaint_contacts deleted (or that would be)
    fields_purged: list[str] = field(default_factory=list)  # personal fields that held a value in those rows
    files_vacuumed: list[str] = field(default_factory=list)  # data files of older versions removed (would be)
    # Not removed: rows that keep the pseudonymous customer id, by table (complaint ids for complaints).
    kept_complaints: list[str] = field(default_factory=list)
    kept_rows: dict[str, int] = field(default_factory=dict)  # table -> rows with this customer_id
    raw_files: list[RawFile] = field(default_factory=list)  # inbox files naming the customer: the operator's job
    unchecked_files: list[str] = field(default_factory=list)  # complaint files that could not be read to check
    # Recorded in `forgotten_customers`: the personal fields of what was received until now are never stored
    # again, even from a file that still holds them.
    forgotten_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def forget_customer(settings: Settings, customer_id: str, *, dry_run: bool = False) -> ForgetResult:
    """Delete the customer's personal data and every older version of the table that held it.

    Runs under the store's run lock (one writer); a dry run only reads and takes no lock.
    Raises RunInProgress if another run holds the lock for too long.
    """
    customer_id = customer_id.strip()
    if not customer_id:
        raise ValueError("the customer id is empty")
    store = Store(settings.store)
    if dry_run:  # nothing to write
        return _forget(settings, store, customer_id, dry_run=True)
    with store.run_lock():
        return _forget(settings, store, customer_id, dry_run=False)


def _forget(settings: Settings, store: Store, customer_id: str, *, dry_run: bool) -> ForgetResult:
    result = ForgetResult(customer_id, dry_run)
    complaints = _complaints_of(store, customer_id)
    ids = sorted(set(complaints[KEY].to_list()))
    contacts = _contacts_of(store, customer_id, ids)
    history = store.stale_files(CONTACTS)  # older versions' files: they may hold this customer too
    result.complaint_ids = sorted(contacts[KEY].to_list())
    result.rows_removed = contacts.height
    result.fields_purged = [f for f in COMPLAINTS.personal if contacts[f].null_count() < contacts.height]
    result.kept_complaints = ids
    result.kept_rows = _rows_with_customer(store, customer_id)
    result.raw_files, result.unchecked_files = _raw_files(settings, customer_id, complaints)
    if not dry_run:
        now = datetime.now(UTC)
        store.upsert(
            "forgotten_customers",
            pl.DataFrame({"customer_id": [customer_id], "forgotten_at": [now]}, schema=SCHEMAS["forgotten_customers"]),
        )
        result.forgotten_at = now.isoformat(timespec="seconds")
    if contacts.is_empty() and not history:
        log.info("forget %s: no personal data stored", customer_id)
        return result
    if dry_run:
        result.status = "would_remove"
        # The files the deletion would rewrite (those holding the rows) go with the older versions' files.
        rewritten = _files_holding(store, CONTACTS, result.complaint_ids)
        result.files_vacuumed = sorted(p.name for p in {*history, *rewritten})
        return result
    removed = store.delete_keys(CONTACTS, contacts.select(KEY))
    if removed != contacts.height:  # the lock makes this impossible: stop before claiming anything
        raise RuntimeError(f"{CONTACTS}: deleted {removed} rows where {contacts.height} were found; run again")
    result.files_vacuumed = sorted(p.name for p in store.drop_history(CONTACTS))
    result.status = "removed"
    log.info(
        "forget %s: %d complaint(s) purged from %s, %d file(s) vacuumed",
        customer_id,
        removed,
        CONTACTS,
        len(result.files_vacuumed),
    )
    return result


def _complaints_of(store: Store, customer_id: str) -> pl.DataFrame:
    """The customer's complaints in the complaints table: key and the file each was loaded from."""
    return store.scan(TABLE).filter(pl.col("customer_id") == customer_id).select(KEY, "source_file").sort(KEY).collect()


def _contacts_of(store: Store, customer_id: str, complaint_ids: list[str]) -> pl.DataFrame:
    """The customer's rows of complaint_contacts: by its own customer id, or by the complaints' ids."""
    return (
        store.scan(CONTACTS)
        .filter((pl.col("customer_id") == customer_id) | pl.col(KEY).is_in(complaint_ids))
        .select(KEY, *COMPLAINTS.personal)
        .collect()
    )


def _rows_with_customer(store: Store, customer_id: str) -> dict[str, int]:
    """Rows keeping the pseudonymous customer id, per table (personal tables excluded: they are purged)."""
    counts = {}
    for table, schema in SCHEMAS.items():
        if table in PERSONAL_TABLES or "customer_id" not in schema or store.version(table) is None:
            continue
        rows = store.scan(table).filter(pl.col("customer_id") == customer_id).select(pl.len()).collect().item()
        if rows:
            counts[table] = int(rows)
    return counts


def _raw_files(settings: Settings, customer_id: str, complaints: pl.DataFrame) -> tuple[list[RawFile], list[str]]:
    """Complaint-log files that still hold the customer's personal data: every file in the source's inbox
    folder with a row carrying the customer id and a name, address or phone (read as loading reads it,
    invalid rows included; a redacted file is not listed), and the files the stored complaints were loaded
    from that are gone from the folder (their copies are unknown). Files that cannot be read come apart."""
    folder = settings.source_folder(SOURCE)
    source = SOURCES_BY_NAME[SOURCE]
    named: set[str] = set()
    unchecked: list[str] = []
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    for path in files:
        if not path.is_file() or path.name.endswith(READY_SUFFIX) or path.name.startswith("."):
            continue
        try:
            export = read_export(path, path.read_bytes(), settings, source)
        except Exception:
            unchecked.append(str(path))
            continue
        theirs = pl.col("customer_id").str.strip_chars() == customer_id
        personal = pl.any_horizontal(pl.col(f).str.strip_chars().fill_null("") != "" for f in COMPLAINTS.personal)
        if export.frame.select((theirs & personal).any()).item():
            named.add(path.name)
    named |= {name for name in complaints["source_file"].to_list() if not (folder / name).is_file()}
    return [RawFile(name, str(folder / name), (folder / name).is_file()) for name in sorted(named)], unchecked


def _files_holding(store: Store, table: str, keys: list[str]) -> list[Path]:
    """The newest version's data files holding any of these keys (a deletion rewrites exactly these)."""
    if not keys:
        return []
    return [
        path
        for path in sorted(store.current_files(table) or ())
        if pl.read_parquet(path, columns=[KEY]).select(pl.col(KEY).is_in(keys).any()).item()
    ]

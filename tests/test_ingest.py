"""Reading exports: every row loaded or quarantined with a reason; bad files rejected loudly."""

from __future__ import annotations

import polars as pl
import pytest

from flows.ingest import UnreadableExport, read_export
from flows.load_surveys import load_inbox
from flows.settings import Settings
from flows.store import Store
from tests.conftest import HEADER, export_csv, row


def _quarantine(store: Store) -> pl.DataFrame:
    return store.scan("quarantine").sort("source_line").collect()


def test_count_equation_and_reasons(settings: Settings, store: Store):
    """A file with good and bad rows: read = loaded + quarantined, each bad row with file, line and field."""
    lines = [
        HEADER,
        row("R1"),
        row("R2", q1="7"),
        row("R3", when="next Tuesday"),
        row("R4", mode="Fax"),
        row("", q1="4"),
        row("R6", q2="x"),
    ]
    export_csv(settings, "mixed.csv", "\n".join(lines) + "\n")
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (6, 1, 5)
    reasons = dict(_quarantine(store).select("source_line", "reason").iter_rows())
    assert reasons[3].startswith("overall_satisfaction: 7 is outside the scale")
    assert "submitted_at: 'next Tuesday'" in reasons[4]
    assert "mode: 'Fax'" in reasons[5]
    assert reasons[6] == "response_id: missing"
    assert "likely_to_recommend: 'x' is not a number" in reasons[7]


def test_ragged_rows_quarantined_with_line(settings: Settings, store: Store):
    """Rows with too few or too many fields are quarantined naming the line; a quoted newline is fine."""
    text = "\n".join(
        [
            HEADER,
            row("R1", comment='"two\nlines, with comma"'),
            "R2,2025-03-04 10:15,C,Tallinn,Web,5",
            row("R3") + ",extra",
        ]
    )
    export_csv(settings, "ragged.csv", text + "\n")
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (3, 1, 2)
    reasons = dict(_quarantine(store).select("source_line", "reason").iter_rows())
    assert reasons == {
        4: "line 4: expected 13 fields separated by ',' but found 6",
        5: "line 5: expected 13 fields separated by ',' but found 14",
    }
    comment = store.scan("responses").collect()["comment"][0]
    assert comment == "two\nlines, with comma"


def test_wrong_delimiter_rejects_file_with_hint(settings: Settings, store: Store):
    """A configured delimiter that does not match gives a whole-file rejection that says so."""
    settings = settings.__class__(
        settings.root,
        settings.config_dir,
        settings.pipeline.model_copy(update={"csv": settings.pipeline.csv.model_copy(update={"delimiter": "|"})}),
        settings.codebook,
    )
    path = export_csv(settings, "semi.csv", HEADER + "\n" + row("R1") + "\n")
    with pytest.raises(UnreadableExport, match=r"semi\.csv: line 1: missing required column.*delimiter"):
        read_export(path, settings)
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected" and "semi.csv" in (outcome.message or "")


def test_cp1251_semicolon_and_bom_are_decoded(settings: Settings, store: Store):
    """A cp1251 file with ';' and a UTF-8 file with a BOM both load with intact text and headers."""
    cyr = (HEADER + "\n" + row("R1", comment="Очень долго ждал")).replace(",", ";")
    export_csv(settings, "ru.csv", cyr + "\n", encoding="cp1251")
    export_csv(settings, "bom.csv", "\ufeff" + HEADER + "\n" + row("R2", unit="Rīga", comment="Ļoti labi") + "\n")
    outcomes = {o.file: o for o in load_inbox(settings, store)}
    assert outcomes["ru.csv"].rows_loaded == 1 and outcomes["bom.csv"].rows_loaded == 1
    files = store.scan("ingest_files").collect()
    assert dict(files.select("source_file", "encoding").iter_rows()) == {"ru.csv": "cp1251", "bom.csv": "utf-8-sig"}
    comments = set(store.scan("responses").collect()["comment"])
    assert comments == {"Очень долго ждал", "Ļoti labi"}


def test_undecodable_file_rejected_loudly(settings: Settings, store: Store):
    """A latin-1 file is not guessed: it is rejected naming the line and the setting to change."""
    export_csv(settings, "latin.csv", HEADER + "\n" + row("R1", comment="très déçu") + "\n", encoding="latin-1")
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected"
    assert "latin.csv: line 2: not valid UTF-8" in (outcome.message or "")
    assert "csv.encoding" in (outcome.message or "")


def test_each_file_processed_once(settings: Settings, store: Store):
    """Re-running over the same inbox (even a renamed copy) loads nothing and writes no new versions."""
    path = export_csv(settings, "a.csv", HEADER + "\n" + row("R1") + "\n")
    load_inbox(settings, store)
    before = store.versions()
    path.with_name("a_copy.csv").write_bytes(path.read_bytes())
    assert load_inbox(settings, store) == []
    assert store.versions() == before
    assert store.scan("answers").collect().height == 7


def test_duplicate_ids_policy(settings: Settings, store: Store):
    """Latest submission wins in a batch; a re-export of a stored response updates it; an older one is refused."""
    export_csv(
        settings,
        "first.csv",
        "\n".join([HEADER, row("R1", when="2025-03-01 10:00", q1="2"), row("R1", when="2025-03-02 10:00", q1="4")])
        + "\n",
    )
    [first] = load_inbox(settings, store)
    assert (first.rows_loaded, first.rows_quarantined) == (1, 1)
    assert "superseded by a later submission (first.csv line 3)" in _quarantine(store)["reason"][0]

    export_csv(
        settings,
        "second.csv",
        "\n".join([HEADER, row("R1", when="2025-03-05 10:00", q1="5"), row("R1", when="2025-03-01 09:00", q1="1")])
        + "\n",
    )
    [second] = load_inbox(settings, store)
    assert (second.rows_loaded, second.rows_quarantined, second.duplicates_superseded) == (1, 1, 1)
    overall = store.scan("answers").filter(pl.col("question_id") == "overall_satisfaction").collect()
    assert overall["raw_value"].to_list() == [5.0]
    assert store.scan("responses").collect().height == 1


def test_timestamps_forms_and_periods(settings: Settings, store: Store):
    """ISO with offset or Z, day-first dates and naive local times parse; the period is the local year."""
    rows = [
        row("R1", when="2024-12-31T23:30:00+02:00"),
        row("R2", when="2024-12-31T22:30:00Z"),  # 00:30 on 1 Jan in Tallinn
        row("R3", when="31.12.2024 23:59"),
        row("R4", when="01/02/2025"),  # DMY hint: 1 February
        row("R5", when="2025-03-30 03:30"),  # inside the DST gap in Tallinn: does not exist
    ]
    export_csv(settings, "ts.csv", "\n".join([HEADER, *rows]) + "\n")
    [outcome] = load_inbox(settings, store)
    responses = store.scan("responses").sort("response_id").collect()
    assert dict(responses.select("response_id", "period").iter_rows()) == {
        "R1": "2024",
        "R2": "2025",
        "R3": "2024",
        "R4": "2025",
    }
    r4 = responses.filter(pl.col("response_id") == "R4")["submitted_at"][0]
    assert (r4.month, r4.day) == (1, 31)  # 1 Feb 00:00 Tallinn = 31 Jan 22:00 UTC
    assert outcome.rows_quarantined == 1
    assert "submitted_at: '2025-03-30 03:30'" in _quarantine(store)["reason"][0]


def test_excel_blanks_then_text_preserved(settings: Settings, store: Store):
    """An Excel column that is blank for many rows and then holds text keeps every value (explicit string dtypes)."""
    n = 1500  # beyond fastexcel's 1000-row type sample
    frame = pl.DataFrame(
        {
            "Response ID": [f"X{i}" for i in range(n)],
            "Submitted": ["2025-05-05 12:00"] * n,
            "Customer": [None] * (n - 1) + ["VIP-007"],
            "Business unit": ["Tallinn"] * n,
            "Channel": ["Paper"] * n,
            **{f"Q{i}": [4] * n for i in range(1, 8)},
            "Comment": [None] * (n - 1) + ["late text"],
        }
    )
    settings.inbox.mkdir(parents=True)
    frame.write_excel(settings.inbox / "late.xlsx")
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_read, outcome.rows_loaded) == (n, n)
    last = store.scan("responses").filter(pl.col("response_id") == f"X{n - 1}").collect()
    assert last["customer_id"][0] == "VIP-007" and last["comment"][0] == "late text"


def test_json_jsonl_parquet_read(settings: Settings, store: Store):
    """JSON arrays, JSON Lines (scores as strings) and typed Parquet all load with our column names."""
    record = {
        "ResponseId": "J1",
        "Submitted": "2025-04-01T09:00:00Z",
        "Customer": "C",
        "Branch": "Narva",
        "mode": "Telephone",
        **{f"Q{i}": 4 for i in range(1, 8)},
        "Comments": None,
    }
    settings.inbox.mkdir(parents=True)
    pl.DataFrame([record]).write_json(settings.inbox / "a.json")
    pl.DataFrame([record | {"ResponseId": "J2", "Q1": "5"}]).write_ndjson(settings.inbox / "b.jsonl")
    pl.DataFrame([record | {"ResponseId": "J3"}]).with_columns(
        pl.col("Submitted").str.to_datetime(time_zone="UTC")
    ).write_parquet(settings.inbox / "c.parquet")
    outcomes = load_inbox(settings, store)
    assert sorted((o.file, o.rows_loaded) for o in outcomes) == [("a.json", 1), ("b.jsonl", 1), ("c.parquet", 1)]
    modes = store.scan("responses").collect()["mode"].unique().to_list()
    assert modes == ["phone"]


def test_run_killed_between_writes_does_not_double_count(settings: Settings, store: Store, monkeypatch):
    """A run that dies after writing answers but before responses re-runs without duplicate answers."""
    export_csv(settings, "a.csv", "\n".join([HEADER, row("R1"), row("R2")]) + "\n")
    real_upsert = Store.upsert

    def dies_on_responses(self, table, frame, **kwargs):
        if table == "responses":
            raise OSError("killed")
        return real_upsert(self, table, frame, **kwargs)

    monkeypatch.setattr(Store, "upsert", dies_on_responses)
    with pytest.raises(OSError, match="killed"):
        load_inbox(settings, store)
    monkeypatch.setattr(Store, "upsert", real_upsert)
    [outcome] = load_inbox(settings, store)
    answers = store.scan("answers").collect()
    assert outcome.rows_loaded == 2
    assert answers.height == 14
    assert answers.select("response_id", "question_id").is_unique().all()


def test_damaged_utf8_is_not_read_as_cp1251(settings: Settings, store: Store):
    """A UTF-8 Cyrillic file with one stray byte is rejected naming the line, not silently garbled."""
    good = "\n".join([HEADER, row("R1", comment="Очень долго ждал"), row("R2", comment="Спасибо")]) + "\n"
    data = good.encode("utf-8").replace("Спасибо".encode(), "Спасибо".encode() + b"\xab")
    settings.inbox.mkdir(parents=True)
    (settings.inbox / "damaged.csv").write_bytes(data)
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected"
    assert "damaged.csv: line 3: not valid UTF-8" in (outcome.message or "")


def test_unclosed_quote_named_without_quoting_customer_text(settings: Settings, store: Store):
    """A stray quote rejects the file naming its line; the message never repeats the row's text."""
    text = "\n".join([HEADER, row("R1"), row("R2", comment='The 12" screen SECRET'), row("R3")]) + "\n"
    export_csv(settings, "quote.csv", text)
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected"
    assert "quote.csv: line 3: a double quote is never closed" in (outcome.message or "")
    assert "SECRET" not in (outcome.message or "")


def test_rejected_file_retried_after_configuration_fix(settings: Settings, store: Store):
    """A file rejected for its encoding loads once it is configured; an unchanged rejection is not re-recorded."""
    export_csv(settings, "latin.csv", HEADER + "\n" + row("R1", comment="très bien") + "\n", encoding="latin-1")
    [first] = load_inbox(settings, store)
    assert first.status == "rejected"
    assert load_inbox(settings, store) == []
    latin = settings.pipeline.model_copy(
        update={"csv": settings.pipeline.csv.model_copy(update={"encoding": "latin-1"})}
    )
    fixed = settings.__class__(settings.root, settings.config_dir, latin, settings.codebook)
    [second] = load_inbox(fixed, store)
    assert (second.status, second.rows_loaded) == ("loaded", 1)
    assert store.scan("responses").collect()["comment"].to_list() == ["très bien"]


def test_segment_named_all_is_refused(settings: Settings, store: Store):
    """A unit called 'All' would merge into the company total: its rows are quarantined with the reason."""
    export_csv(settings, "all.csv", "\n".join([HEADER, row("R1", unit="All"), row("R2")]) + "\n")
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (1, 1)
    assert "reserved for the company-wide total" in _quarantine(store)["reason"][0]

"""Reading exports: every row loaded or quarantined with a reason; bad files rejected loudly."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.demo_data import write_demo_exports
from flows.load_sources import load_inbox, read_export
from flows.readers import UnreadableExport
from flows.settings import ConfigError, Settings, load_settings
from flows.sources import SURVEYS, codebook_frame
from flows.store import Store
from tests.conftest import HEADER, export_csv, row
from transforms.normalise import answers_long


def _quarantine(store: Store) -> pl.DataFrame:
    return store.scan("quarantine").sort("source_line").collect()


def _answers(settings: Settings, store: Store) -> pl.DataFrame:
    """The stored answers in long form (one row per response and codebook question), as the metrics read them."""
    return answers_long(store.scan("responses"), codebook_frame(settings.codebook)).collect()


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
    assert reasons[3] == "overall_satisfaction: a 1-digit number outside the scale (expected a whole number 1-5)"
    assert "submitted_at: a 12-character text is not a date-time" in reasons[4]
    assert "mode: a 3-character text is not a known collection mode" in reasons[5]
    assert reasons[6] == "response_id: missing"
    assert "likely_to_recommend: a 1-character text is not a number (expected a whole number 0-10)" in reasons[7]
    assert "next Tuesday" not in " ".join(reasons.values())


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
        4: "expected 13 fields separated by ',' but found 6",
        5: "expected 13 fields separated by ',' but found 14",
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
    with pytest.raises(UnreadableExport, match=r"semi\.csv: header: missing or ambiguous column.*delimiter"):
        read_export(path, path.read_bytes(), settings, SURVEYS)
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
    """Re-running over the same inbox loads nothing; a renamed copy is reported, not loaded; no new versions."""
    path = export_csv(settings, "a.csv", HEADER + "\n" + row("R1") + "\n")
    load_inbox(settings, store)
    before = store.versions()
    assert load_inbox(settings, store) == []
    path.with_name("a_copy.csv").write_bytes(path.read_bytes())
    [copy] = load_inbox(settings, store)
    assert (copy.file, copy.status) == ("a_copy.csv", "duplicate_content")
    assert copy.message == "same bytes as a.csv, which is loaded; not loaded again"
    assert store.versions() == before
    assert store.scan("responses").collect().height == 1
    assert _answers(settings, store).height == len(settings.codebook.questions)  # one per question


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
    assert store.scan("responses").collect()["overall_satisfaction"].to_list() == [5]
    overall = _answers(settings, store).filter(pl.col("question_id") == "overall_satisfaction")
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
    assert "submitted_at: a 16-character text is not a date-time" in _quarantine(store)["reason"][0]


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
    settings.source_folder("surveys").mkdir(parents=True)
    frame.write_excel(settings.source_folder("surveys") / "late.xlsx")
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
    settings.source_folder("surveys").mkdir(parents=True)
    pl.DataFrame([record]).write_json(settings.source_folder("surveys") / "a.json")
    pl.DataFrame([record | {"ResponseId": "J2", "Q1": "5"}]).write_ndjson(settings.source_folder("surveys") / "b.jsonl")
    pl.DataFrame([record | {"ResponseId": "J3"}]).with_columns(
        pl.col("Submitted").str.to_datetime(time_zone="UTC")
    ).write_parquet(settings.source_folder("surveys") / "c.parquet")
    outcomes = load_inbox(settings, store)
    assert sorted((o.file, o.rows_loaded) for o in outcomes) == [("a.json", 1), ("b.jsonl", 1), ("c.parquet", 1)]
    modes = store.scan("responses").collect()["mode"].unique().to_list()
    assert modes == ["phone"]


@pytest.mark.parametrize("dies_on", ["quarantine", "ingest_file_units", "ingest_files"])
def test_run_killed_between_writes_does_not_double_count(settings: Settings, store: Store, monkeypatch, dies_on):
    """A run that dies after writing responses but before the file is marked processed re-runs without duplicates."""
    export_csv(settings, "a.csv", "\n".join([HEADER, row("R1"), row("R2"), row("R3", q1="9")]) + "\n")
    real_upsert = Store.upsert

    def dies(self, table, frame, **kwargs):
        if table == dies_on:
            raise OSError("killed")
        return real_upsert(self, table, frame, **kwargs)

    monkeypatch.setattr(Store, "upsert", dies)
    with pytest.raises(OSError, match="killed"):
        load_inbox(settings, store)
    assert store.scan("responses").collect().height == 2  # written before the run died
    assert store.scan("ingest_files").collect().is_empty()  # ... but the file is not marked processed
    monkeypatch.setattr(Store, "upsert", real_upsert)
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (3, 2, 1)
    assert outcome.duplicates_superseded == 0
    responses = store.scan("responses").collect()
    assert responses.height == 2 and responses["response_id"].is_unique().all()
    answers = _answers(settings, store)
    assert answers.height == 2 * len(settings.codebook.questions)
    assert answers.select("response_id", "question_id").is_unique().all()
    assert store.scan("quarantine").collect().height == 1
    units = store.scan("ingest_file_units").collect()
    assert (units["rows_loaded"].sum(), units["rows_quarantined"].sum(), units["duplicates_superseded"].sum()) == (
        2,
        1,
        0,
    )
    assert store.scan("ingest_files").collect()["status"].to_list() == ["loaded"]
    assert load_inbox(settings, store) == []


def test_two_files_in_one_run_settle_like_two_runs(settings: Settings, store: Store):
    """One file at a time: a later file's newer-or-equal row updates the earlier one's, an older one is refused."""
    export_csv(
        settings,
        "a.csv",
        "\n".join(
            [
                HEADER,
                row("R1", when="2025-03-02 10:00", q1="2"),
                row("R2", when="2025-03-05 10:00", q1="3"),
                row("R3", when="2025-03-04 10:00", q1="2"),
            ]
        )
        + "\n",
    )
    export_csv(
        settings,
        "b.csv",
        "\n".join(
            [
                HEADER,
                row("R1", when="2025-03-03 10:00", q1="4"),  # newer: updates a.csv's row
                row("R2", when="2025-03-01 10:00", q1="1"),  # older than the stored one: refused
                row("R3", when="2025-03-04 10:00", q1="5"),  # same time, other content: updates
            ]
        )
        + "\n",
    )
    outcomes = {o.file: o for o in load_inbox(settings, store)}
    counts = {
        name: (o.rows_read, o.rows_loaded, o.rows_quarantined, o.duplicates_superseded) for name, o in outcomes.items()
    }
    assert counts == {"a.csv": (3, 3, 0, 0), "b.csv": (3, 2, 1, 2)}
    responses = store.scan("responses").sort("response_id").collect()
    assert responses.select("response_id", "overall_satisfaction", "source_file").rows() == [
        ("R1", 4, "b.csv"),
        ("R2", 3, "a.csv"),
        ("R3", 5, "b.csv"),
    ]
    [refused] = _quarantine(store).select("source_file", "source_line", "response_id", "reason").rows()
    assert refused == ("b.csv", 3, "R2", "duplicate response_id: a newer submission is already stored (from a.csv)")
    files = store.scan("ingest_files").sort("source_file").collect()
    assert files.select("rows_loaded", "rows_quarantined", "duplicates_superseded").rows() == [(3, 0, 0), (2, 1, 2)]
    units = store.scan("ingest_file_units").join(
        store.scan("ingest_files").select("file_sha256", "source_file"), on="file_sha256"
    )
    per_file = (
        units.group_by("source_file")
        .agg(pl.col("rows_loaded").sum(), pl.col("rows_quarantined").sum(), pl.col("duplicates_superseded").sum())
        .sort("source_file")
        .collect()
    )
    assert per_file.rows() == [("a.csv", 3, 0, 0), ("b.csv", 2, 1, 2)]


def test_damaged_utf8_is_not_read_as_cp1251(settings: Settings, store: Store):
    """A UTF-8 Cyrillic file with one stray byte is rejected naming the line, not silently garbled."""
    good = "\n".join([HEADER, row("R1", comment="Очень долго ждал"), row("R2", comment="Спасибо")]) + "\n"
    data = good.encode("utf-8").replace("Спасибо".encode(), "Спасибо".encode() + b"\xab")
    settings.source_folder("surveys").mkdir(parents=True)
    (settings.source_folder("surveys") / "damaged.csv").write_bytes(data)
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
    """A rejected file is reported every run (it holds delivery) but recorded once; it loads once configured."""
    export_csv(settings, "latin.csv", HEADER + "\n" + row("R1", comment="très bien") + "\n", encoding="latin-1")
    [first] = load_inbox(settings, store)
    assert first.status == "rejected"
    versions = store.versions()
    assert load_inbox(settings, store) == [first]
    assert store.versions() == versions
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


# --- encodings: BOMs first, then strict UTF-8, then an unambiguous detection or a loud rejection ---------------


def _with_encoding(settings: Settings, encoding: str) -> Settings:
    """The same project with `csv.encoding` set in config/pipeline.yaml (validated like a user's edit)."""
    path = settings.config_dir / "pipeline.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^  encoding: \S+", f'  encoding: "{encoding}"', text, count=1), encoding="utf-8")
    return load_settings(settings.config_dir)


def _excel_unicode_text(rows: list[str]) -> str:
    """What Excel's "Unicode text" export holds: tab-separated, CRLF (the caller adds the BOM and codec)."""
    return "\r\n".join(r.replace(",", "\t") for r in rows) + "\r\n"


def _read(settings: Settings, path: Path):
    return read_export(path, path.read_bytes(), settings, SURVEYS)


def test_latin1_french_is_not_read_as_cyrillic(settings: Settings, store: Store):
    """A latin-1 French file is never read as cp1251 ("а"): auto rejects it naming candidates; the setting loads it."""
    text = "\n".join(
        [HEADER, row("R1", comment="Merci à vous"), row("R2", comment="Très déçu le conseiller était absent")]
    )
    path = export_csv(settings, "fr.csv", text + "\n", encoding="latin-1")
    with pytest.raises(UnreadableExport) as rejected:
        _read(settings, path)
    message = str(rejected.value)
    assert message.startswith("fr.csv: ") and "line 2" in message
    assert "cp1252/latin-1" in message and "cp1250" in message  # à or ŕ: only the file's author knows
    assert "cp1251" not in message  # accents inside Latin words are no Cyrillic text
    assert "csv.encoding" in message and "config/pipeline.yaml" in message
    assert "Merci" not in message and "vous" not in message

    latin = _with_encoding(settings, "latin-1")
    [outcome] = load_inbox(latin, store)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2)
    comments = set(store.scan("responses").collect()["comment"])
    assert comments == {"Merci à vous", "Très déçu le conseiller était absent"}


def test_ambiguous_short_file_names_candidates_and_setting(settings: Settings, store: Store):
    """Latvian in cp1257 reads as other plausible text in cp1252: too close to call, so the file is rejected."""
    export_csv(
        settings, "lv.csv", HEADER + "\n" + row("R1", unit="Rīga", comment="Ļoti labi") + "\n", encoding="cp1257"
    )
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected"
    message = outcome.message or ""
    assert message.startswith("lv.csv: line 2: ")
    assert "cp1257" in message and "iso-8859-13" in message and "cp1252" in message
    assert "csv.encoding" in message and "config/pipeline.yaml" in message
    [loaded] = load_inbox(_with_encoding(settings, "iso-8859-13"), store)
    assert loaded.status == "loaded"
    assert store.scan("responses").collect().select("segment", "comment").row(0) == ("Rīga", "Ļoti labi")


def test_cp1252_euro_sign_detected(settings: Settings, store: Store):
    """A Windows 'ANSI' export with a euro sign and a dash: every plausible reading agrees, so it loads as cp1252."""
    rows = [HEADER, row("R1", comment="Zu teuer: 40 € für nichts – schade"), row("R2", comment="Größe passt")]
    export_csv(settings, "eur.csv", "\r\n".join(rows) + "\r\n", encoding="cp1252")
    [outcome] = load_inbox(settings, store)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2), outcome.message
    files = store.scan("ingest_files").collect()
    assert files["encoding"].to_list() == ["cp1252"]
    assert set(store.scan("responses").collect()["comment"]) == {"Zu teuer: 40 € für nichts – schade", "Größe passt"}


def test_demo_narva_export_still_detected_as_cp1251(settings: Settings, tmp_path: Path):
    """The demo's Narva file (cp1251, ';', CRLF, Cyrillic header) is detected as cp1251 with the reason given."""
    paths = {p.name: p for p in write_demo_exports(tmp_path / "demo")}
    export = _read(settings, paths["narva_2025.csv"])
    assert (export.table.encoding, export.table.delimiter) == ("cp1251", ";")
    assert export.table.encoding_reason.startswith("detected by charset-normalizer")
    assert export.frame["comment"].str.contains("[а-я]").any()
    assert (
        not export.frame["comment"].str.contains("[ÀÁÂÃÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ]").any()
    )


@pytest.mark.parametrize(
    ("name", "prefix", "codec", "expected"),
    [
        ("excel_unicode.txt", b"\xff\xfe", "utf-16-le", "utf-16-le"),
        ("be.txt", b"\xfe\xff", "utf-16-be", "utf-16-be"),
        ("no_bom_le.txt", b"", "utf-16-le", "utf-16-le"),
        ("u32.txt", b"\xff\xfe\x00\x00", "utf-32-le", "utf-32-le"),
        ("u32be.txt", b"\x00\x00\xfe\xff", "utf-32-be", "utf-32-be"),
        ("u8bom.txt", b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
        ("u8.txt", b"", "utf-8", "utf-8"),
    ],
)
def test_unicode_exports_decoded(settings: Settings, store: Store, name: str, prefix: bytes, codec: str, expected: str):
    """UTF-16/32 with a byte-order mark (Excel's "Unicode text"), BOM-less UTF-16 and UTF-8 all load intact."""
    text = _excel_unicode_text(
        [HEADER, row("R1", unit="Rīga", comment="Ļoti labi"), row("R2", comment="Очень долго ждал")]
    )
    settings.source_folder("surveys").mkdir(parents=True)
    (settings.source_folder("surveys") / name).write_bytes(prefix + text.encode(codec))
    [outcome] = load_inbox(settings, store)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2), outcome.message
    files = store.scan("ingest_files").collect()
    assert files.select("encoding", "delimiter").row(0) == (expected, "\t")
    responses = store.scan("responses").sort("response_id").collect()
    assert responses["comment"].to_list() == ["Ļoti labi", "Очень долго ждал"]
    assert responses["segment"].to_list() == ["Rīga", "Tallinn"]


def test_explicit_encodings_are_accepted_values(settings: Settings):
    """Every documented csv.encoding value validates; a guessed name is a configuration error naming the key."""
    for value in (
        "auto",
        "utf-8",
        "utf-16",
        "utf-32",
        "cp1250",
        "cp1251",
        "cp1252",
        "cp1257",
        "latin-1",
        "iso-8859-13",
    ):
        assert _with_encoding(settings, value).pipeline.csv.encoding == value
    with pytest.raises(ConfigError, match=r"key 'csv\.encoding'"):
        _with_encoding(settings, "windows-1251-ish")


def test_configured_encoding_is_used_and_explained(settings: Settings):
    """A configured encoding is used as is (a UTF-16 file under csv.encoding: utf-16 too) and says so."""
    cp1252 = _with_encoding(settings, "cp1252")
    path = export_csv(cp1252, "fr.csv", HEADER + "\n" + row("R1", comment="Merci à vous") + "\n", encoding="cp1252")
    export = _read(cp1252, path)
    assert export.table.encoding == "cp1252" and "configured" in export.table.encoding_reason
    assert export.frame["comment"].to_list() == ["Merci à vous"]
    utf16 = _with_encoding(settings, "utf-16")
    path.write_bytes(b"\xff\xfe" + (HEADER + "\n" + row("R1", comment="Merci à vous") + "\n").encode("utf-16-le"))
    assert _read(utf16, path).frame["comment"].to_list() == ["Merci à vous"]


# --- the hash recorded is that of the bytes parsed --------------------------------------------------------------


def test_read_export_parses_only_the_bytes_given(settings: Settings, tmp_path: Path):
    """read_export hashes and parses the bytes it is given, never the file on disk (which may be changing)."""
    data = (HEADER + "\n" + row("R1") + "\n").encode()
    gone = tmp_path / "gone.csv"  # no such file: any read from disk would fail
    export = read_export(gone, data, settings, SURVEYS)
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    assert export.frame["response_id"].to_list() == ["R1"]

    record = {"ResponseId": "P1", "Submitted": "2025-04-01T09:00:00Z", "Customer": "C", "Branch": "Narva"}
    frame = pl.DataFrame([record | {"mode": "Web", **{f"Q{i}": 4 for i in range(1, 8)}, "Comments": "ok"}])
    for suffix, write in ((".xlsx", frame.write_excel), (".parquet", frame.write_parquet)):
        buffer = io.BytesIO()
        write(buffer)
        export = read_export(tmp_path / f"gone{suffix}", buffer.getvalue(), settings, SURVEYS)
        assert export.sha256 == hashlib.sha256(buffer.getvalue()).hexdigest()
        assert export.frame["response_id"].to_list() == ["P1"]


def test_stored_hash_is_of_the_loaded_bytes(settings: Settings, store: Store):
    """The ingest_files hash is the sha256 of the very bytes that were loaded."""
    path = export_csv(settings, "a.csv", HEADER + "\n" + row("R1") + "\n")
    load_inbox(settings, store)
    stored = store.scan("ingest_files").collect()["file_sha256"].to_list()
    assert stored == [hashlib.sha256(path.read_bytes()).hexdigest()]
    assert store.scan("responses").collect()["file_sha256"].to_list() == stored


# --- no customer text in quarantine, messages or logs -------------------------------------------------------------

CARD, EMAIL, PHONE = "4111 1111 1111 1111", "jane.doe@example.com", "+372 5555 1234"
SECRETS = (CARD, EMAIL, PHONE, "4111111111111111", "3725555", "55551234", "jane.doe")


def _secret_row(rid_field: str, sep: str = ",") -> str:
    """A row with the card number, e-mail and phone number in every one of its 13 fields."""
    cells = [rid_field] + [f"{CARD} {EMAIL} {PHONE}"] * 12
    return sep.join(cells)


def _assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_bad_rows_with_personal_data_leave_no_trace(settings: Settings, store: Store, caplog):
    """Card number, e-mail and phone in every field (plain, misdelimited): not in store, logs or validate output."""
    rows = [
        HEADER,
        row("R1"),
        _secret_row(f"{CARD} {EMAIL} {PHONE}"),  # plain: every field bad
        _secret_row(f"{CARD} {EMAIL} {PHONE}", sep=";"),  # misdelimited: the whole row lands in response_id
        row("R4", when=CARD, mode=EMAIL, q1=PHONE, q2="4111111111111111", unit=EMAIL, comment=PHONE),
    ]
    path = export_csv(settings, "pii.csv", "\n".join(rows) + "\n")
    ndjson = settings.source_folder("surveys") / "pii.jsonl"
    ndjson.write_text('{"ResponseId": "J1"}\n{"ResponseId": ' + f'"{EMAIL}", "Q1": {PHONE}' + "}\n", encoding="utf-8")
    (settings.source_folder("surveys") / "pii.json").write_text(
        f'[{{"ResponseId": "J2", "Q1": {CARD}, "Comment": "{EMAIL}"}}]', encoding="utf-8"
    )
    (settings.source_folder("surveys") / "pii.xlsx").write_bytes(f"PK\x03\x04 {CARD} {EMAIL} {PHONE}".encode())
    (settings.source_folder("surveys") / "pii.parquet").write_bytes(f"PAR1 {CARD} {EMAIL} {PHONE} PAR1".encode())

    with caplog.at_level(logging.DEBUG):
        outcomes = {o.file: o for o in load_inbox(settings, store)}
    assert (outcomes["pii.csv"].rows_loaded, outcomes["pii.csv"].rows_quarantined) == (1, 3)
    assert all(outcomes[f].status == "rejected" for f in ("pii.jsonl", "pii.json", "pii.xlsx", "pii.parquet"))
    assert "line 2" in (outcomes["pii.jsonl"].message or "")
    _assert_no_secrets(caplog.text)

    quarantine = _quarantine(store)
    assert quarantine["response_id"].null_count() == 3  # invalid rows keep no id: it may be a whole raw row
    reasons = dict(quarantine.select("source_line", "reason").iter_rows())
    assert "submitted_at: a 19-character text is not a date-time" in reasons[5]
    assert "mode: a 20-character text is not a known collection mode" in reasons[5]
    assert "overall_satisfaction: a 14-character text is not a number (expected a whole number 1-5)" in reasons[5]
    assert "likely_to_recommend: a 16-digit number outside the scale (expected a whole number 0-10)" in reasons[5]
    for table in ("responses", "quarantine", "ingest_files", "ingest_file_units"):
        frame = store.scan(table).collect()
        _assert_no_secrets(frame.cast(pl.String).write_csv())

    result = CliRunner().invoke(app, ["validate", str(path), "--config", str(settings.config_dir)])
    assert "would be quarantined 3" in result.output
    _assert_no_secrets(result.output)
    for other in ("pii.jsonl", "pii.json", "pii.xlsx", "pii.parquet"):
        result = CliRunner().invoke(
            app, ["validate", str(settings.source_folder("surveys") / other), "--config", str(settings.config_dir)]
        )
        assert "REJECTED" in result.output
        _assert_no_secrets(result.output)

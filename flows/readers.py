"""Read export files into string tables: the header rows' cells, and every data row as strings.

Every value stays a string here; typing and validation happen in the pure staging
transforms, so a bad value becomes a quarantined row with a reason, not a crash. A file
that cannot be read as a table at all raises `UnreadableExport` with the file, the line and
what was expected - never the file's content (customer text), which is why parser errors are
reduced to their kind and position.

CSV is parsed by polars straight from the bytes (UTF-8, or re-encoded to it); ragged rows,
which polars would pad or cut silently, are found by counting each record's fields on the
physical lines, quote-aware and vectorised, which also gives every record its exact line.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.profiles import ExportProfile

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet", ".qdpx")
DELIMITERS = (",", ";", "\t", "|")
HEAD_ROWS = 3  # rows read to recognise a tool's export by its shape


class UnreadableExport(Exception):
    """The whole file is rejected; the message names the file, line and what was expected."""


@dataclass(frozen=True)
class RawTable:
    """A file as read: header cells, and data rows as strings in columns c0..cN (N = the header's width).

    `frame` also holds `source_line` (i64: the record's first physical line, or sheet row) and
    `shape_error` (str: why the row does not fit the header, null if it does).
    """

    header: list[list[str]]
    frame: pl.DataFrame
    format: str
    encoding: str | None = None
    encoding_reason: str | None = None  # why this encoding (byte-order mark, valid UTF-8, detected, configured)
    delimiter: str | None = None
    notes: tuple[str, ...] = ()  # how it was read, worth telling (a workbook's other sheets)


# --- decoding ---------------------------------------------------------------------------

# csv.encoding value -> Python codec. "auto" decides among these (see decode_text).
CODECS = {
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "utf-32": "utf-32",
    "cp1250": "cp1250",
    "cp1251": "cp1251",
    "cp1252": "cp1252",
    "cp1257": "cp1257",
    "latin-1": "latin-1",
    "iso-8859-13": "iso8859-13",
}
# The single-byte encodings "auto" may detect, in the order a name is recorded when several
# read a file identically (e.g. German text is the same in cp1252, latin-1 and cp1257).
SINGLE_BYTE = ("cp1252", "latin-1", "cp1257", "iso-8859-13", "cp1250", "cp1251")
# UTF-32 LE before UTF-16 LE: its mark starts with the UTF-16 LE one.
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# charset-normalizer's mess ratio ("chaos", 0-1) above which a reading is not text in that
# encoding (its own default). Below it the ratio is too erratic on short CSV files to rank
# readings (docs/configuration.md): detection accepts only a reading that is the one left.
MAX_MESS = 0.2
DETECTION_SAMPLE_BYTES = 1 << 20  # detection reads at most this much of the non-ASCII lines
MAX_ACCENTED = 0.35  # European Latin text has far fewer accented letters; Cyrillic read as Latin far more
_LETTERS = re.compile(r"[^\W\d_]+")
_NON_ASCII_LINES = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")
SETTING = "the encoding (csv.encoding, or the profile's encoding, in config/pipeline.yaml)"


@dataclass(frozen=True)
class Decoded:
    """A CSV export's text, the encoding it was read in, and why that one."""

    text: str
    encoding: str  # codec name recorded in ingest_files
    reason: str  # why this encoding: shown by `csat validate`


def decode_text(path: Path, data: bytes, setting: str) -> Decoded:
    """Decode CSV bytes as configured, or under 'auto' by evidence only; anything unclear raises UnreadableExport.

    'auto': a byte-order mark decides; else UTF-16 without a mark when unmistakable; else
    strict UTF-8 (UTF-8 with a few bad bytes is damage, rejected); else the readings in the
    single-byte encodings of SINGLE_BYTE, accepted only when every reading but one (or one
    group of identical ones) is ruled out (`_detect_single_byte`).
    """
    bom = next(((mark, codec) for mark, codec in BOMS if data.startswith(mark)), None)
    if setting != "auto":
        return _decode_configured(path, data, setting, bom)
    if bom:
        return _strict(path, data[len(bom[0]) :], bom[1], "byte-order mark")
    if utf16 := _bomless_utf16(data):
        return _strict(path, data, utf16, "UTF-16 without byte-order mark: every other byte of the header is NUL")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "valid UTF-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start, "utf-8")
        if _mostly_utf8(data):
            raise UnreadableExport(
                f"{path.name}: line {line}: not valid UTF-8 (byte {exc.start}); the rest of the file is UTF-8, "
                "so this looks like damage - fix or re-export the file"
            ) from None
        return _detect_single_byte(path, data, line)


def _decode_configured(path: Path, data: bytes, setting: str, bom: tuple[bytes, str] | None) -> Decoded:
    """The configured encoding, strictly; a UTF byte-order mark picks the byte order (or contradicts the setting)."""
    configured = "configured: csv.encoding"
    if bom and bom[1].startswith(setting):  # utf-8 -> utf-8-sig, utf-16 -> utf-16-le/-be, utf-32 likewise
        return _strict(path, data[len(bom[0]) :], bom[1], f"byte-order mark, {configured}")
    if bom:
        raise UnreadableExport(
            f"{path.name}: line 1: the file starts with a {bom[1].removesuffix('-sig').upper()} byte-order mark "
            f"but {SETTING} is {setting}; set it to auto or to the marked encoding"
        )
    if setting in ("utf-16", "utf-32"):
        codec = _bomless_utf16(data) if setting == "utf-16" else _bomless_utf32(data)
        if codec is None:
            raise UnreadableExport(
                f"{path.name}: line 1: no {setting.upper()} byte-order mark and the byte order cannot be told "
                f"from the header; re-export the file with a byte-order mark or fix {SETTING}"
            )
        return _strict(path, data, codec, configured)
    return _strict(path, data, CODECS[setting], configured, name=setting)


def _strict(path: Path, data: bytes, codec: str, reason: str, name: str | None = None) -> Decoded:
    """Decode every byte as `codec` (recorded as `name`, else the codec) or reject the file naming the line."""
    try:
        return Decoded(data.decode(codec), name or codec, reason)
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start, codec)
        raise UnreadableExport(
            f"{path.name}: line {line}: cannot be decoded as {name or codec} (byte {exc.start}); "
            f"re-export the file or fix {SETTING}"
        ) from None


def _line_of(data: bytes, position: int, codec: str) -> int:
    """1-based line of a byte position, counted in the file's own encoding (UTF-16 newlines are two bytes)."""
    return data[:position].decode(codec, errors="replace").count("\n") + 1


def _bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'-be' when the start is unmistakably UTF-16: in the first KB nearly every high byte is NUL
    (an ASCII header) and no low byte is; None otherwise (UTF-8 and single-byte text hold no such NULs)."""
    head = data[: min(len(data), 1024) // 2 * 2]
    if len(data) % 2 or len(head) < 8:
        return None
    for codec, low, high in (("utf-16-le", head[0::2], head[1::2]), ("utf-16-be", head[1::2], head[0::2])):
        if high.count(0) >= 0.9 * len(high) and low.count(0) == 0:
            return codec
    return None


def _bomless_utf32(data: bytes) -> str | None:
    """The UTF-32 byte order that decodes the whole file (the other order gives code points beyond Unicode)."""
    fits = []
    for codec in ("utf-32-le", "utf-32-be"):
        try:
            data.decode(codec)
            fits.append(codec)
        except UnicodeDecodeError:
            continue
    return fits[0] if len(fits) == 1 else None


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 text with a few damaged bytes (decoding it as a single-byte encoding would garble every letter)."""
    text = data.decode("utf-8", errors="replace")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return non_ascii > 0 and text.count("\ufffd") / non_ascii < 0.1


def _detect_single_byte(path: Path, data: bytes, line: int) -> Decoded:
    """The one single-byte encoding left with a plausible reading, else UnreadableExport naming the candidates.

    charset-normalizer reads the lines that hold non-ASCII bytes (every candidate reads ASCII
    alike) in each encoding of SINGLE_BYTE, as one chunk (its default sampling is noisy on
    short files), dropping messy readings and merging identical ones. Readings no real text
    has are dropped too (`_implausible`). One distinct reading left: accepted; several: the
    choice is ambiguous; none: no supported encoding fits.
    """
    import charset_normalizer  # only files that are not UTF-8 pay for its import

    sample = b"\n".join(_NON_ASCII_LINES.findall(data))[:DETECTION_SAMPLE_BYTES]
    matches = charset_normalizer.from_bytes(
        sample,
        steps=1,
        chunk_size=len(sample),
        threshold=MAX_MESS,
        cp_isolation=[CODECS[name] for name in SINGLE_BYTE],
        preemptive_behaviour=False,  # a customer comment saying "charset=..." must not steer it
        enable_fallback=False,
    )
    readings = [(m, "/".join(_names(m.could_be_from_charset)), _implausible(str(m))) for m in matches]
    plausible = [(m, names) for m, names, why in readings if why is None and names]
    if len(plausible) > 1:
        raise UnreadableExport(
            f"{path.name}: line {line}: not valid UTF-8, and the encoding is ambiguous: "
            f"{', '.join(names for _, names in plausible)} read the file as different, equally plausible text; "
            f"set {SETTING} to the encoding it was saved in"
        )
    if not plausible:
        raise UnreadableExport(
            f"{path.name}: line {line}: not valid UTF-8, and none of {', '.join(SINGLE_BYTE)} reads it as plausible "
            f"text; re-export it as UTF-8 or set {SETTING} to the encoding it was saved in"
        )
    [(match, names)] = plausible
    ruled_out = [f"{n} ({why})" for _, n, why in readings if why is not None]
    messy = [name for name in SINGLE_BYTE if not any(name in n.split("/") for _, n, _ in readings)]
    ruled_out += [f"{'/'.join(messy)} (undecodable or mess over {MAX_MESS:.0%})"] if messy else []
    encoding = names.split("/")[0]
    reason = (
        f"detected by charset-normalizer: mess {match.chaos:.1%}"
        + (f", read identically as {names.removeprefix(encoding + '/')}" if "/" in names else "")
        + (f"; ruled out: {', '.join(ruled_out)}" if ruled_out else "")
    )
    # Strictly: bytes beyond the detection sample may still be undefined in this encoding.
    return _strict(path, data, CODECS[encoding], reason, name=encoding)


def _names(codecs_found: list[str]) -> list[str]:
    """Our names (SINGLE_BYTE order) for charset-normalizer's codec names."""
    found = {codecs.lookup(c).name for c in codecs_found}
    return [name for name in SINGLE_BYTE if codecs.lookup(CODECS[name]).name in found]


def _implausible(text: str) -> str | None:
    """Why no real text reads like this (a wrong code page's reading), or None.

    C1 control characters (cp1252 punctuation read as latin-1); Latin and Cyrillic letters
    inside one word ("trиs": latin-1 accents read as cp1251); Cyrillic mostly in capitals
    (another Cyrillic code page read with the wrong table); Latin letters mostly accented
    ("Ñïàñèáî": Cyrillic read as latin-1).
    """
    if re.search(r"[\x80-\x9f]", text):
        return "control characters"
    words = pl.Series(_LETTERS.findall(text), dtype=pl.String)
    non_ascii = words.filter(words.str.contains(r"[^\x00-\x7f]"))
    cyrillic = non_ascii.filter(non_ascii.str.contains(r"[\u0400-\u04ff]"))
    if cyrillic.str.contains(r"[A-Za-z\u00c0-\u024f]").sum() >= 0.05 * max(non_ascii.len(), 1):
        return "Latin and Cyrillic letters within words"
    cyrillic_letters = cyrillic.str.replace_all(r"[^\u0400-\u04ff]", "")
    if cyrillic_letters.str.count_matches(r"[\u0400-\u042f]").sum() >= 0.5 * max(
        cyrillic_letters.str.len_chars().sum(), 1
    ):
        return "Cyrillic mostly capitals"
    latin_letters = words.str.replace_all(r"[^A-Za-z\u00c0-\u024f]", "")
    accented = latin_letters.str.count_matches(r"[\u00c0-\u024f]").sum()
    if accented >= MAX_ACCENTED * max(latin_letters.str.len_chars().sum(), 1):
        return f"{accented / latin_letters.str.len_chars().sum():.0%} of Latin letters accented"
    return None


# --- CSV --------------------------------------------------------------------------------


def sniff_delimiter(header_text: str) -> str:
    """The candidate that splits the first header line holding any into the most fields (ties: the
    earlier candidate). Later lines only count when the first has none (a title line above the
    column titles): question texts in later header rows may hold commas of their own."""
    for line in header_text.split("\n"):
        counts = {d: line.count(d) for d in DELIMITERS}
        best = max(DELIMITERS, key=lambda d: counts[d])
        if counts[best] > 0:
            return best
    return ","


def _physical_lines(data: bytes) -> pl.LazyFrame:
    """Every physical line of UTF-8 bytes (polars splits them, validating the UTF-8 on the way)."""
    return (
        pl.read_csv(data, has_header=False, separator=_free_byte(data), quote_char=None, schema={"text": pl.String})
        .lazy()
        .with_row_index("line", offset=1)
        .with_columns(pl.col("line").cast(pl.Int64), pl.col("text").fill_null("").str.strip_suffix("\r"))
    )


def utf8_lines(path: Path, data: bytes, setting: str) -> tuple[bytes, pl.LazyFrame, Decoded]:
    """The file as UTF-8 bytes for the parser, its physical lines, and how it was decoded.

    UTF-8 (the common case) passes through as it is: polars validates it while splitting the
    lines, and only a file it refuses is decoded in Python for an exact diagnosis (`decode_text`).
    """
    utf8_bom = data.startswith(b"\xef\xbb\xbf")
    if setting in ("auto", "utf-8") and (
        utf8_bom or not (data.startswith(tuple(b for b, _ in BOMS)) or _bomless_utf16(data))
    ):
        body = data[3:] if utf8_bom else data
        try:
            lines = _physical_lines(body).collect().lazy()
        except pl.exceptions.ComputeError:
            pass  # not UTF-8: decode_text says why, or finds the encoding
        else:
            why = "byte-order mark" if utf8_bom else "valid UTF-8" if setting == "auto" else "configured: csv.encoding"
            return body, lines, Decoded("", "utf-8-sig" if utf8_bom else "utf-8", why)
    decoded = decode_text(path, data, setting)
    utf8 = decoded.text.encode("utf-8")
    return utf8, _physical_lines(utf8), decoded


def _free_byte(data: bytes) -> str:
    """A control character absent from the file: splitting on it yields whole lines."""
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 15, 16):
        if bytes([code]) not in data:
            return chr(code)
    raise UnreadableExport("the file holds every control character; expected text")


def record_shapes(lines: pl.LazyFrame, delimiter: str) -> pl.DataFrame:
    """One row per CSV record: its first physical line, field count, and whether it is blank or has an open quote.

    A record starts on a line entered outside quotes (an even number of quotes before it);
    fields are the delimiters outside quoted sections plus one. Records spanning lines (a
    newline inside quotes) are grouped only if there are any.
    """
    lines = lines.with_columns(quotes=pl.col("text").str.count_matches('"', literal=True))
    if lines.select((pl.col("quotes") % 2 == 1).any()).collect().item():
        lines = (
            lines.with_columns(starts=((pl.col("quotes").cum_sum() - pl.col("quotes")) % 2 == 0))
            .with_columns(record=pl.col("starts").cum_sum())
            .group_by("record", maintain_order=True)
            .agg(pl.col("line").first(), pl.col("text").str.join("\n"), pl.col("quotes").sum())
        )

    def shape(text: pl.Expr) -> list[pl.Expr]:
        return [
            "line",
            (text.str.count_matches(delimiter, literal=True) + 1).alias("fields"),
            (pl.col("text").str.strip_chars() == "").alias("blank"),
            (pl.col("quotes") % 2 == 1).alias("open_quote"),
        ]

    # Only records with quotes need their quoted sections removed (a regex pass): the rest are counted as they are.
    unquoted = pl.col("text").str.replace_all(r'"(?:[^"]|"")*"', "")
    return (
        pl.concat(
            [
                lines.filter(pl.col("quotes") == 0).select(shape(pl.col("text"))),
                lines.filter(pl.col("quotes") > 0).select(shape(unquoted)),
            ]
        )
        .sort("line")
        .collect()
    )


def _unparseable_csv(path: Path, shapes: pl.DataFrame, delimiter: str) -> str:
    unclosed = shapes.filter(pl.col("open_quote"))
    where = (
        f"line {unclosed['line'][0]}: a double quote is never closed (a quote inside an unquoted field?)"
        if unclosed.height
        else "the rows could not be split into fields"
    )
    shown = delimiter.replace("\t", "\\t")
    return f"{path.name}: {where}; expected a CSV table delimited by '{shown}', quotes only around whole fields"


def _parse_csv(path: Path, data: bytes, delimiter: str, shapes: pl.DataFrame, header_rows: int) -> pl.DataFrame:
    # The widest header row sets the width (a title line above the column titles has fewer fields).
    width = shapes.filter(~pl.col("blank")).head(header_rows)["fields"].max() or 1
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            separator=delimiter,
            schema={f"c{i}": pl.String for i in range(width)},
            truncate_ragged_lines=True,
            missing_columns="insert",
            raise_if_empty=True,
        )
    except pl.exceptions.PolarsError:
        # The parser's own message quotes raw rows (customer text): say where, not what.
        raise UnreadableExport(_unparseable_csv(path, shapes, delimiter)) from None
    if frame.height != shapes.height:
        raise UnreadableExport(_unparseable_csv(path, shapes, delimiter))
    return frame


def _split_header(
    frame: pl.DataFrame, header_rows: int, path: Path, *, at_most: bool = False
) -> tuple[list[list[str]], pl.DataFrame]:
    """The first `header_rows` non-blank rows are the header (`at_most`: as many as there are, for
    recognising a file's shape); the rest are data rows (blank ones dropped)."""
    rows = frame.filter(~pl.col("blank")) if frame["blank"].any() else frame
    header_rows = min(header_rows, rows.height) if at_most else header_rows
    if rows.height < header_rows:
        raise UnreadableExport(f"{path.name}: expected {header_rows} header row(s) and rows of answers")
    cells = [c for c in rows.columns if c.startswith("c")]
    header = [[cell or "" for cell in row] for row in rows.head(header_rows).select(cells).rows()]
    return header, rows.slice(header_rows).drop("blank")


def _utf8_compatible(data: bytes) -> bool:
    """Whether a newline byte is a line end here (not half of a UTF-16 or UTF-32 character)."""
    wide_boms = tuple(mark for mark, codec in BOMS if codec.startswith(("utf-16", "utf-32")))
    return not data.startswith(wide_boms) and _bomless_utf16(data) is None


def _first_lines(data: bytes, count: int) -> bytes:
    """The first `count` lines of `data` (all of it if it has fewer), without copying the rest."""
    end = -1
    for _ in range(count):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return data
    return data[: end + 1]


def read_csv_table(path: Path, data: bytes, profile: ExportProfile, *, head_lines: int | None = None) -> RawTable:
    head_only = head_lines is not None
    if head_lines is not None and _utf8_compatible(data):
        # Recognising the tool that wrote a file reads its first lines, not the whole file.
        utf8, lines, decoded = utf8_lines(path, _first_lines(data, head_lines), profile.encoding)
    else:
        utf8, lines, decoded = utf8_lines(path, data, profile.encoding)
        if head_lines is not None:  # UTF-16/32: lines can only be cut once decoded
            utf8 = _first_lines(utf8, head_lines)
            lines = _physical_lines(utf8)
    if not utf8 or utf8.isspace():
        raise UnreadableExport(f"{path.name}: the file is empty (expected a header line and rows)")
    header_text = _first_lines(utf8, profile.header_rows).decode("utf-8", errors="replace")
    delimiter = sniff_delimiter(header_text) if profile.delimiter == "auto" else profile.delimiter
    shapes = record_shapes(lines, delimiter)
    frame = _parse_csv(path, utf8, delimiter, shapes, profile.header_rows)
    width = frame.width
    # polars pads a short row with nulls; a profile that expects short rows keeps them (pad_short_rows).
    misaligned = (pl.col("fields") > width) if profile.pad_short_rows else (pl.col("fields") != width)
    shape_error = (
        pl.when(misaligned)
        .then(
            pl.format(
                "expected {} fields separated by '{}' but found {}",
                pl.lit(width),
                pl.lit(delimiter.replace("\t", "\\t")),
                "fields",
            )
        )
        .otherwise(None)
    )
    frame = pl.concat(
        [frame, shapes.select(source_line="line", shape_error=shape_error, blank="blank")], how="horizontal"
    )
    header, rows = _split_header(frame, profile.header_rows, path, at_most=head_only)
    return RawTable(header, rows, "csv", decoded.encoding, decoded.reason, delimiter)


# --- other formats ------------------------------------------------------------------------


def _all_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast every column to string; datetimes keep their offset so nothing is reinterpreted."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f%:z" if dtype.time_zone else "%Y-%m-%dT%H:%M:%S%.f"
            exprs.append(pl.col(name).dt.to_string(fmt))
        elif isinstance(dtype, pl.Float64 | pl.Float32):
            # 4.0 -> "4" so integer checks downstream see the answer as written.
            exprs.append(
                pl.when(pl.col(name) == pl.col(name).round(0))
                .then(pl.col(name).cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(pl.col(name).cast(pl.String))
                .alias(name)
            )
        elif dtype.is_nested():
            raise UnreadableExport(f"column {name!r} holds nested values ({dtype}); expected one value per cell")
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


def _keyed_table(header: list[str], frame: pl.DataFrame, lines: pl.Series, fmt: str) -> RawTable:
    """A table whose header is its keys (JSON, Parquet): one header row."""
    renamed = _all_strings(frame).rename({name: f"c{i}" for i, name in enumerate(frame.columns)})
    return RawTable([header], renamed.with_columns(source_line=lines, shape_error=pl.lit(None, dtype=pl.String)), fmt)


def read_xlsx_table(path: Path, data: bytes, profile: ExportProfile) -> RawTable:
    import fastexcel  # only workbooks pay for its import

    try:
        workbook = fastexcel.read_excel(data)
        names = list(workbook.sheet_names)
    except Exception as exc:  # fastexcel raises its own error types for every kind of damage
        # Its messages may quote cells (customer text): keep the kind only.
        raise UnreadableExport(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    wanted = profile.sheet or (names[0] if names else None)
    if wanted not in names:
        shown = ", ".join(repr(n[:40]) for n in names[:10])
        raise UnreadableExport(
            f"{path.name}: the workbook has no sheet {wanted!r} (profile {profile.name}: sheet); it has {shown}"
        )
    try:
        frame = workbook.load_sheet(wanted, header_row=None, dtypes="string").to_polars()
    except Exception as exc:
        raise UnreadableExport(f"{path.name}: sheet {wanted!r} is not readable ({type(exc).__name__})") from None
    frame = _all_strings(frame)
    frame = frame.rename({name: f"c{i}" for i, name in enumerate(frame.columns)})
    frame = frame.with_columns(
        source_line=pl.int_range(1, frame.height + 1, dtype=pl.Int64),  # the sheet's row number
        shape_error=pl.lit(None, dtype=pl.String),
        blank=pl.all_horizontal(pl.col(c).fill_null("").str.strip_chars() == "" for c in frame.columns),
    )
    header, rows = _split_header(frame, profile.header_rows, path)
    # Several sheets: one is read, and the file's notes say which and which not (nothing is skipped silently).
    others = [n for n in names if n != wanted]
    notes = (f"sheet {wanted!r} read; not read: {', '.join(repr(n[:40]) for n in others)}",) if others else ()
    return RawTable(header, rows, "xlsx", notes=notes)


def read_json_table(path: Path, data: bytes, *, lines: bool) -> RawTable:
    """A JSON array of objects or JSON Lines; parser errors say where, never what (they quote customer text)."""
    kind = "JSON Lines" if lines else "JSON"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start, "utf-8")
        raise UnreadableExport(
            f"{path.name}: line {line}: not valid UTF-8 (byte {exc.start}); {kind} must be UTF-8"
        ) from None
    if lines:
        try:
            frame = pl.read_ndjson(io.BytesIO(text.encode()), infer_schema_length=None)
        except pl.exceptions.PolarsError as exc:
            where = _first_bad_json_line(text)
            raise UnreadableExport(
                f"{path.name}: {where}not valid JSON Lines; expected one JSON object per line ({type(exc).__name__})"
            ) from None
        numbers = _non_blank_line_numbers(text)
    else:
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableExport(
                f"{path.name}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
            ) from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise UnreadableExport(f"{path.name}: expected a JSON array of objects, one per response")
        try:
            frame = pl.DataFrame(records, infer_schema_length=None)
        except pl.exceptions.PolarsError as exc:
            raise UnreadableExport(f"{path.name}: not a table of JSON values ({type(exc).__name__})") from None
        numbers = pl.int_range(1, len(records) + 1, eager=True)
    return _keyed_table(frame.columns, frame, pl.Series(numbers, dtype=pl.Int64), "jsonl" if lines else "json")


def _first_bad_json_line(text: str) -> str:
    """'line N: ' for the first non-blank line that is no JSON object (where the parser stopped), else ''."""
    stripped = pl.col("text").str.strip_chars()
    bad = (
        pl.DataFrame({"text": text.split("\n")})
        .with_row_index("line", offset=1)
        .filter((stripped != "") & (~stripped.str.starts_with("{") | stripped.str.json_path_match("$").is_null()))
    )
    return f"line {bad['line'][0]}: " if bad.height else ""


def _non_blank_line_numbers(text: str) -> pl.Series:
    lines = pl.Series(text.split("\n"))
    return (pl.int_range(1, len(lines) + 1, eager=True)).filter(lines.str.strip_chars() != "")


def read_parquet_table(path: Path, data: bytes) -> RawTable:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # damaged files surface as several arrow/polars error types
        raise UnreadableExport(f"{path.name}: not a readable Parquet file ({type(exc).__name__})") from None
    return _keyed_table(frame.columns, frame, pl.int_range(1, frame.height + 1, dtype=pl.Int64, eager=True), "parquet")


def content_sha256(data: bytes) -> str:
    """The content hash that identifies an export (a file is processed once per content)."""
    return hashlib.sha256(data).hexdigest()


def read_table(path: Path, data: bytes, profile: ExportProfile, *, head_lines: int | None = None) -> RawTable:
    """Read one file's bytes (already read from `path`: never the file again) as the profile says.

    `head_lines` reads just the first lines of a CSV (to recognise the tool that wrote it).
    Raises UnreadableExport naming the file.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableExport(
            f"{path.name}: unsupported file type {suffix or '(none)'}; expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not data or data.isspace():
        raise UnreadableExport(f"{path.name}: the file is empty (expected a header line and rows)")
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            return read_csv_table(path, data, profile, head_lines=head_lines)
        if suffix == ".xlsx":
            return read_xlsx_table(path, data, profile)
        if suffix == ".qdpx":  # a REFI-QDA project: one row per coded text selection
            from flows.qda import read_qdpx_table

            return read_qdpx_table(path, data, head_only=head_lines is not None)
        if profile.header_rows != 1:
            raise UnreadableExport(
                f"profile {profile.name} expects {profile.header_rows} header rows, but a {suffix} file has "
                "its field names only; choose another profile for it"
            )
        if suffix == ".json":
            return read_json_table(path, data, lines=False)
        if suffix in (".jsonl", ".ndjson"):
            return read_json_table(path, data, lines=True)
        return read_parquet_table(path, data)
    except UnreadableExport as exc:
        message = str(exc)
        raise UnreadableExport(message if message.startswith(path.name) else f"{path.name}: {message}") from None

"""Read survey exports from the inbox into string frames with our column names.

Every value stays a string here; typing and validation happen in the pure staging
transform, so a bad value becomes a quarantined row with a reason, not a crash. A
file that cannot be read as a table at all raises `UnreadableExport` with the file,
the line and what was expected.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from flows.files import sha256_file
from flows.settings import Columns, Settings

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet")
DELIMITERS = (",", ";", "\t", "|")
_WORD = re.compile(r"\w+")
BASE_FIELDS = ("response_id", "submitted_at", "customer_id", "segment", "mode", "comment")
REQUIRED_FIELDS = ("response_id", "submitted_at", "segment", "mode")


class UnreadableExport(Exception):
    """The whole file is rejected; the message names the file, line and what was expected."""


@dataclass(frozen=True)
class RawExport:
    path: Path
    sha256: str
    format: str
    frame: pl.DataFrame  # strings in our names + source_line (i64) + shape_error (str, null if fine)
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)


def inbox_files(inbox: Path) -> list[Path]:
    """Every regular file in the inbox except hidden and editor lock files, sorted by name."""
    if not inbox.is_dir():
        return []
    return sorted(
        p for p in inbox.iterdir() if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith("#")
    )


# --- decoding ---------------------------------------------------------------------------


def decode_text(path: Path, data: bytes, encoding: str) -> tuple[str, str]:
    """Decode CSV bytes; 'auto' accepts UTF-8 (BOM or not) or Cyrillic cp1251, else refuses loudly."""
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            if encoding == "utf-8" or _mostly_utf8(data):
                raise UnreadableExport(
                    f"{path.name}: line {line}: not valid UTF-8 (byte {exc.start}); the rest of the file is UTF-8, "
                    "so this looks like damage - fix or re-export the file"
                ) from None
            text = data.decode("cp1251", errors="strict") if _looks_cp1251(data) else None
            if text is None:
                raise UnreadableExport(
                    f"{path.name}: line {line}: not valid UTF-8 and not a Cyrillic cp1251 file; "
                    "set csv.encoding in config/pipeline.yaml (utf-8, cp1251 or latin-1)"
                ) from None
            return text, "cp1251"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnreadableExport(f"{path.name}: line {line}: cannot be decoded as {encoding}") from None


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 text with a few damaged bytes (decoding it as cp1251 would garble every letter)."""
    text = data.decode("utf-8", errors="replace")
    non_ascii = sum(1 for c in text if ord(c) > 127)
    return non_ascii > 0 and text.count("\ufffd") / non_ascii < 0.1


def _looks_cp1251(data: bytes) -> bool:
    """cp1251 decodes almost any bytes; accept it only for real Cyrillic words.

    Latin-1 accents read as cp1251 turn into Cyrillic letters inside Latin words
    ("très" -> "trиs"): such mixed-script words mean it is not a Cyrillic file.
    """
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        return False
    words = pl.Series(_WORD.findall(text), dtype=pl.String)
    cyrillic = words.filter(words.str.contains(r"[\u0400-\u04ff]"))
    if cyrillic.is_empty():
        return False
    mixed = cyrillic.str.contains(r"[A-Za-z]").mean() or 0.0
    return mixed < 0.05


# --- CSV --------------------------------------------------------------------------------


def sniff_delimiter(header_line: str) -> str:
    """The candidate that splits the header into the most fields (ties: the earlier candidate)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _record_shapes(text: str, delimiter: str) -> pl.DataFrame:
    """One row per CSV record: its first physical line and its field count, quote-aware and vectorised.

    polars fills short rows with nulls silently, so ragged rows are found here.
    """
    lines = pl.Series("line_text", text.split("\n"))
    if len(lines) and lines[-1] == "":
        lines = lines.head(-1)  # the final newline ends the last record, it is no blank line
    frame = (
        pl.DataFrame(lines)
        .with_row_index("line", offset=1)
        .with_columns(pl.col("line").cast(pl.Int64))
        .with_columns(pl.col("line_text").str.strip_suffix("\r"))
        .with_columns(quotes=pl.col("line_text").str.count_matches('"', literal=True))
        # A record starts on a line entered outside quotes: even number of quotes before it.
        .with_columns(starts=((pl.col("quotes").cum_sum() - pl.col("quotes")) % 2 == 0))
        .with_columns(record=pl.col("starts").cum_sum())
    )
    return (
        frame.group_by("record", maintain_order=True)
        .agg(pl.col("line").first(), pl.col("line_text").str.join("\n").alias("text"))
        .with_columns(
            blank=pl.col("text").str.strip_chars() == "",
            open_quote=pl.col("text").str.count_matches('"', literal=True) % 2 == 1,
            fields=pl.col("text").str.replace_all(r'"(?:[^"]|"")*"', "").str.count_matches(delimiter, literal=True) + 1,
        )
        .select("line", "fields", "blank", "open_quote")
    )


def _unparseable_csv(path: Path, shapes: pl.DataFrame, delimiter: str) -> str:
    unclosed = shapes.filter(pl.col("open_quote"))
    where = (
        f"line {unclosed['line'][0]}: a double quote is never closed (a quote inside an unquoted field?)"
        if unclosed.height
        else "the rows could not be split into fields"
    )
    return f"{path.name}: {where}; expected a CSV table delimited by {delimiter!r}, quotes only around whole fields"


def read_csv_export(path: Path, data: bytes, settings: Settings) -> tuple[pl.DataFrame, str, str]:
    text, encoding = decode_text(path, data, settings.pipeline.csv.encoding)
    if not text.strip():
        raise UnreadableExport(f"{path.name}: the file is empty (expected a header line and rows)")
    header_line = text.split("\n", 1)[0]
    delimiter = settings.pipeline.csv.delimiter
    if delimiter == "auto":
        delimiter = sniff_delimiter(header_line)
    shapes = _record_shapes(text, delimiter)
    header_fields = shapes["fields"][0]
    try:
        frame = pl.read_csv(
            io.StringIO(text),
            separator=delimiter,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=True,
        )
    except pl.exceptions.PolarsError:
        # The parser's own message quotes raw rows (customer text): say where, not what.
        raise UnreadableExport(_unparseable_csv(path, shapes, delimiter)) from None
    body = shapes.slice(1)
    if body.height != frame.height:
        raise UnreadableExport(_unparseable_csv(path, shapes, delimiter))
    shape_error = (
        pl.when(pl.col("fields") != header_fields)
        .then(
            pl.format(
                "line {}: expected {} fields separated by '{}' but found {}",
                "line",
                pl.lit(header_fields),
                pl.lit(delimiter.replace("\t", "\\t")),
                "fields",
            )
        )
        .otherwise(None)
    )
    frame = (
        pl.concat([frame, body.select(source_line="line", shape_error=shape_error, blank="blank")], how="horizontal")
        .filter(~pl.col("blank"))
        .drop("blank")
    )
    return frame, encoding, delimiter


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


def read_xlsx_export(path: Path) -> pl.DataFrame:
    try:
        sheet = fastexcel.read_excel(path).load_sheet(0, dtypes="string", header_row=0)
        frame = sheet.to_polars()
    except Exception as exc:  # fastexcel raises its own error types for every kind of damage
        raise UnreadableExport(f"{path.name}: not a readable .xlsx workbook: {exc}") from None
    # Header is sheet row 1, so data row i (0-based) is sheet row i + 2.
    return _all_strings(frame).with_columns(source_line=pl.int_range(2, frame.height + 2, dtype=pl.Int64))


def read_json_export(path: Path, data: bytes, *, lines: bool) -> pl.DataFrame:
    try:
        if lines:
            frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
            numbers = _non_blank_line_numbers(data)
        else:
            records = json.loads(data.decode("utf-8-sig"))
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise UnreadableExport(f"{path.name}: expected a JSON array of objects, one per response")
            frame = pl.DataFrame(records, infer_schema_length=None)
            numbers = pl.int_range(1, len(records) + 1, eager=True)
    except (pl.exceptions.PolarsError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableExport(f"{path.name}: not valid {'JSON Lines' if lines else 'JSON'}: {exc}") from None
    return _all_strings(frame).with_columns(source_line=pl.Series(numbers, dtype=pl.Int64))


def _non_blank_line_numbers(data: bytes) -> pl.Series:
    lines = pl.Series(data.decode("utf-8-sig").split("\n"))
    return (pl.int_range(1, len(lines) + 1, eager=True)).filter(lines.str.strip_chars() != "")


def read_parquet_export(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # damaged files surface as several arrow/polars error types
        raise UnreadableExport(f"{path.name}: not a readable Parquet file: {exc}") from None
    return _all_strings(frame).with_columns(source_line=pl.int_range(1, frame.height + 1, dtype=pl.Int64))


# --- header mapping -----------------------------------------------------------------------


def map_columns(path: Path, frame: pl.DataFrame, columns: Columns) -> tuple[pl.DataFrame, list[str]]:
    """Rename the export's headers to ours; a missing required column rejects the file."""
    by_key = {name.strip().lstrip("\ufeff").casefold(): name for name in frame.columns}
    wanted = {f: getattr(columns, f) for f in BASE_FIELDS} | columns.questions
    rename, missing = {}, []
    for ours, aliases in wanted.items():
        found = next((by_key[a.casefold()] for a in aliases if a.casefold() in by_key), None)
        if found is None:
            missing.append(ours)
        else:
            rename[found] = ours
    if required := [f for f in REQUIRED_FIELDS if f in missing]:
        data_columns = [c for c in frame.columns if c not in ("source_line", "shape_error")]
        hint = " (the header is a single field: is the delimiter right?)" if len(data_columns) == 1 else ""
        expected = "; ".join(f"{f}: one of {wanted[f]}" for f in required)
        raise UnreadableExport(f"{path.name}: line 1: missing required column(s) - expected {expected}{hint}")
    kept = [*rename, "source_line", *(["shape_error"] if "shape_error" in frame.columns else [])]
    out = frame.select(kept).rename(rename)
    out = out.with_columns(pl.lit(None, dtype=pl.String).alias(m) for m in missing)
    if "shape_error" not in out.columns:
        out = out.with_columns(shape_error=pl.lit(None, dtype=pl.String))
    notes = [f"no column for {m} (answers left blank)" for m in missing if m in columns.questions]
    return out.select(*wanted, "source_line", "shape_error"), notes


def read_export(path: Path, settings: Settings, sha256: str | None = None) -> RawExport:
    """Read one inbox file into a string frame with our column names, or raise UnreadableExport."""
    suffix = path.suffix.lower()
    digest = sha256 or sha256_file(path)
    encoding = delimiter = None
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableExport(
            f"{path.name}: unsupported file type {suffix or '(none)'}; expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            frame, encoding, delimiter = read_csv_export(path, path.read_bytes(), settings)
            fmt = "csv"
        elif suffix == ".xlsx":
            frame, fmt = read_xlsx_export(path), "xlsx"
        elif suffix == ".json":
            frame, fmt = read_json_export(path, path.read_bytes(), lines=False), "json"
        elif suffix in (".jsonl", ".ndjson"):
            frame, fmt = read_json_export(path, path.read_bytes(), lines=True), "jsonl"
        else:
            frame, fmt = read_parquet_export(path), "parquet"
    except UnreadableExport as exc:
        message = str(exc)
        raise UnreadableExport(message if message.startswith(path.name) else f"{path.name}: {message}") from None
    mapped, notes = map_columns(path, frame, settings.pipeline.columns)
    return RawExport(path, digest, fmt, mapped, encoding, delimiter, notes)

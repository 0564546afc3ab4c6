"""Staging of record sources (every source but survey exports), declared as typed fields.

A source's `RecordSpec` lists its fields; each field has a kind that says how its text is
read (an id, a date, a rating on a codebook question, theme codes from the coding frame, a
business unit, ...). `stage_records` types every field of every row and returns (valid rows,
invalid rows with a `reason` naming each field that failed and the form expected). Values
appear in reasons only by their shape, except theme codes and question ids that look like
codes: customer text is hostile, and personal data never leaves its own table.

Every staged row also gets `segment` (its configured unit, null for sources without one) and
`period` (the reporting year of its date or period), which the per-unit counts and the
reports' fingerprints use alike for every source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from transforms.contracts import dy
from transforms.periods import period_label
from transforms.staging.columns import LINEAGE_COLUMNS
from transforms.staging.surveys import PeriodRules, shape
from transforms.timestamps import TimestampRules, parse_timestamp, with_timestamp

UTC_TIME = pl.Datetime("us", "UTC")
# How each kind is stored; `period` becomes period_start (Date) and period_months (Int8).
KIND_TYPES: dict[str, pl.DataType] = {
    "id": pl.String(),
    "text": pl.String(),
    "personal": pl.String(),
    "datetime": UTC_TIME,
    "date": pl.Date(),
    "int": pl.Int64(),
    "number": pl.Float64(),
    "rating": pl.Int16(),
    "choice": pl.String(),
    "bool": pl.Boolean(),
    "unit": pl.String(),
    "codes": pl.List(pl.String()),
    "question": pl.String(),
    "topic": pl.String(),
    "theme": pl.String(),
    "currency": pl.String(),
    "language": pl.String(),
}
EXPECTED: dict[str, str] = {
    "id": "an identifier of at most 200 characters without control characters",
    "text": "text",
    "personal": "text",
    "datetime": "a date and time",
    "date": "a date",
    "int": "a whole number",
    "number": "a number (decimal point or comma)",
    "rating": "a whole number on the question's scale",
    "choice": "one of the listed values",
    "bool": "yes or no (yes/no, true/false, 1/0)",
    "unit": "a business unit listed under 'units' in config/pipeline.yaml",
    "codes": "in the coding frame (config/coding_frame.yaml: a theme's code or label; several separated by ';')",
    "question": "a question id or code of config/codebook.yaml",
    "topic": "a question id or code of config/codebook.yaml, or an open question's short name",
    "theme": "in the coding frame (config/coding_frame.yaml: one theme's code or label)",
    "currency": "a three-letter ISO 4217 code such as EUR",
    "language": "a language code such as en, et, lv, ru",
    "period": "a year (2025), a month (2025-03) or a quarter (2025-Q1)",
}
_YES = ("yes", "y", "true", "1", "jah", "jā", "да", "ja")
_NO = ("no", "n", "false", "0", "ei", "nē", "нет", "nee")
_CONTROL = r"[\x00-\x1f\x7f]"
# The date at the start of a value (ISO, dotted or slashed), whatever follows it.
_DATE_PART = r"^(\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{4})(?:[T ]|$)"
# A theme or question written like a code may be quoted in a reason; anything else only by its shape.
_CODE_LIKE = r"^[\p{L}\p{N} _./&()'-]{1,40}$"


@dataclass(frozen=True)
class Field:
    """One column of a source's file and how it is typed."""

    name: str
    kind: str  # a key of KIND_TYPES, or "period"
    required: bool = False
    doc: str = ""  # what it holds, for people (docs/data-contracts.md, `csat validate`)
    names: tuple[str, ...] = ()  # other column titles that name it (matched ignoring case)
    low: float | None = None  # bounds of int, number and (without a question) rating
    high: float | None = None
    question_kinds: tuple[str, ...] = ()  # a `question` field: only codebook questions of these kinds


@dataclass(frozen=True)
class Check:
    """A rule across fields on the typed row; `ok(col)` reads a field's typed value as `col("name")`.

    False fails the row with `reason`; null (a field blank, so not decidable) passes.
    """

    ok: Callable[[Callable[[str], pl.Expr]], pl.Expr]
    reason: str


@dataclass(frozen=True)
class RecordSpec:
    source: str
    table: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    period_from: str | None  # the field whose date (or period) gives the row's reporting period (None: none)
    newer: str | None = None  # of two rows with one key, the later value here wins (None: the later file)
    # `newer` derived: the latest of these datetime fields (a complaint's last activity), stored as `newer`.
    latest_of: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    personal_table: str | None = None  # where its `personal` fields are kept, by key
    open_number_columns: str | None = None  # settings key naming extra numeric columns (supplier measures)

    @property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def date_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.kind in ("date", "datetime"))

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.kind == "personal")


@dataclass(frozen=True)
class RecordRules:
    """What staging needs from the configuration, as plain values."""

    timestamps: TimestampRules
    periods: PeriodRules
    unit_labels: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # field -> label (casefold) -> value
    themes: Mapping[str, str] = field(default_factory=dict)  # code or label (casefold) -> code
    questions: Mapping[str, str] = field(default_factory=dict)  # id, code or text (casefold) -> question id
    scales: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # question id -> (min, max)
    question_kinds: Mapping[str, str] = field(default_factory=dict)  # question id -> kind
    extra_numbers: Sequence[str] = ()  # configured numeric columns (e.g. supplier measures)


def output_columns(spec: RecordSpec, extra_numbers: Sequence[str] = ()) -> dict[str, pl.DataType]:
    """The staged row's typed columns (personal fields included), in order, without lineage."""
    columns: dict[str, pl.DataType] = {}
    for f in spec.fields:
        if f.kind == "period":
            columns |= {"period_start": pl.Date(), "period_months": pl.Int8()}
        else:
            columns[f.name] = KIND_TYPES[f.kind]
    columns |= dict.fromkeys(extra_numbers, pl.Float64())
    if spec.latest_of and spec.newer:
        columns[spec.newer] = UTC_TIME
    columns.setdefault("segment", pl.String())
    columns["period"] = pl.String()
    return columns


def table_schema(spec: RecordSpec) -> dict[str, pl.DataType]:
    """The store table of a record source: typed fields but personal ones, lineage, hash, load time."""
    columns = {k: v for k, v in output_columns(spec).items() if k not in spec.personal}
    return columns | {
        "source_file": pl.String(),
        "source_line": pl.Int64(),
        "file_sha256": pl.String(),
        "row_hash": pl.Int64(),
        "ingested_at": UTC_TIME,
    }


def personal_schema(spec: RecordSpec) -> dict[str, pl.DataType]:
    """The personal-data table: the record's key first (the only column with statistics), then the personal fields.

    Only the key is indexed (delta.dataSkippingNumIndexedCols), so no name or phone number is ever
    copied into the table's log as a min/max statistic, where vacuuming could not reach it.
    """
    return {k: pl.String() for k in spec.key} | {
        "customer_id": pl.String(),
        **dict.fromkeys(spec.personal, pl.String()),
        "ingested_at": UTC_TIME,
    }


def raw_contract(spec: RecordSpec, extra_numbers: Sequence[str] = ()) -> type[dy.Schema]:
    """A file's row as read and mapped: one string per field, lineage, and the reader's shape error."""
    columns = {f.name: dy.String(nullable=True) for f in spec.fields}
    columns |= {n: dy.String(nullable=True) for n in extra_numbers}
    columns |= {
        "source_file": dy.String(nullable=False),
        "source_line": dy.Int64(nullable=False, min=1),
        "file_sha256": dy.String(nullable=False),
        "file_order": dy.Int64(nullable=False),
        "shape_error": dy.String(nullable=True),
    }
    return type(f"Raw{_camel(spec.source)}Row", (dy.Schema,), columns)


def contract(spec: RecordSpec, extra_numbers: Sequence[str] = ()) -> type[dy.Schema]:
    """The staged row as written: types, required fields present, bounds held, one row per key."""
    fields = spec.by_name
    columns: dict[str, dy.Column] = {}
    for name, dtype in output_columns(spec, extra_numbers).items():
        f = fields.get(name) or fields.get("period" if name in ("period_start", "period_months") else "")
        required = bool(f and f.required) or (name == "period" and _period_required(spec))
        key = name in spec.key
        low = f.low if f is not None and f.kind in ("int", "number") else None
        high = f.high if f is not None and f.kind in ("int", "number") else None
        columns[name] = _dy_column(dtype, nullable=not (required or key), key=key, low=low, high=high)
    columns |= {
        "source_file": dy.String(nullable=False),
        "source_line": dy.Int64(nullable=False, min=1),
        "file_sha256": dy.String(nullable=False),
        "file_order": dy.Int64(nullable=False),
    }
    return type(f"Staged{_camel(spec.source)}Row", (dy.Schema,), columns)


def _period_required(spec: RecordSpec) -> bool:
    return spec.period_from is not None and spec.by_name[spec.period_from].required


def _dy_column(dtype: pl.DataType, *, nullable: bool, key: bool, low: float | None, high: float | None) -> dy.Column:
    """The dataframely column checking a stored type: nullability, key, bounds."""
    common = {"nullable": nullable, "primary_key": key}
    columns: dict[pl.DataType, Callable[[], dy.Column]] = {
        pl.String(): lambda: dy.String(**common),
        pl.Date(): lambda: dy.Date(**common),
        UTC_TIME: lambda: dy.Datetime(time_zone="UTC", time_unit="us", **common),
        pl.Int64(): lambda: dy.Int64(min=low, max=high, **common),
        pl.Int16(): lambda: dy.Int16(**common),
        pl.Int8(): lambda: dy.Int8(min=1, max=12, **common),  # period_months
        pl.Float64(): lambda: dy.Float64(min=low, max=high, nullable=nullable),
        pl.Boolean(): lambda: dy.Bool(nullable=nullable),
        pl.List(pl.String()): lambda: dy.List(dy.String(nullable=False), nullable=nullable),
    }
    return columns[dtype]()


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


# --- typing -------------------------------------------------------------------------------


def _text(name: str) -> pl.Expr:
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def _number(text: pl.Expr) -> pl.Expr:
    """'12.5', '12,5', '97 %' -> 12.5 / 97.0; anything else null, and so is '1,000' or '1.250': a
    thousands separator or a decimal one? Never guessed (written without a separator, it reads)."""
    cleaned = text.str.strip_suffix("%").str.strip_chars()
    ambiguous = cleaned.str.contains(r"^[+-]?[1-9]\d{0,2}([.,]\d{3})+$")  # '0.942' is a fraction, plainly
    return (
        pl.when(cleaned.str.contains(r"^[+-]?(\d+([.,]\d+)?|[.,]\d+)$") & ~ambiguous)
        .then(cleaned.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False))
        .otherwise(None)
    )


def _period_start(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """'2025' / '2025-03' / '03/2025' / '2025-Q1' -> (first day, months covered)."""
    t = text.str.to_uppercase().str.replace_all(r"\s", "")
    year = t.str.extract(r"^(\d{4})$").cast(pl.Int32, strict=False)
    y_m = t.str.extract_groups(r"^(\d{4})-(\d{1,2})$")
    m_y = t.str.extract_groups(r"^(\d{1,2})[./](\d{4})$")
    y_q = t.str.extract_groups(r"^(\d{4})-?Q([1-4])$")
    month_year = pl.coalesce(y_m.struct.field("1"), m_y.struct.field("2")).cast(pl.Int32, strict=False)
    month = pl.coalesce(y_m.struct.field("2"), m_y.struct.field("1")).cast(pl.Int32, strict=False)
    quarter_year = y_q.struct.field("1").cast(pl.Int32, strict=False)
    quarter = y_q.struct.field("2").cast(pl.Int32, strict=False)
    valid_month = month.is_between(1, 12)
    start = (
        pl.when(year.is_not_null())
        .then(pl.date(year, 1, 1))
        .when(month_year.is_not_null() & valid_month)
        .then(pl.date(month_year, month, 1))
        .when(quarter_year.is_not_null())
        .then(pl.date(quarter_year, (quarter - 1) * 3 + 1, 1))
    )
    months = (
        pl.when(year.is_not_null())
        .then(12)
        .when(month_year.is_not_null() & valid_month)
        .then(1)
        .when(quarter_year.is_not_null())
        .then(3)
        .cast(pl.Int8)
    )
    return start, months


def _year_of(day: pl.Expr, start_month: int) -> pl.Expr:
    """The reporting year of a date: '2025', or 'FY2026' for a fiscal year named by the year it ends in."""
    if start_month == 1:
        return day.dt.year().cast(pl.String)
    return pl.format("FY{}", day.dt.year() + (day.dt.month() >= start_month).cast(pl.Int32))


def _as_id(raw: pl.Expr) -> pl.Expr:
    return pl.when(raw.str.contains(_CONTROL) | (raw.str.len_chars() > 200)).then(None).otherwise(raw)


def _as_whole(raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Digits only ('1,000' is not a thousand here, nor '5%' a count); '4.0' and '4,0' read as 4."""
    written_whole = raw.str.contains(r"^[+-]?\d+([.,]0{1,2})?$")  # not '1,000': a thousand, or one?
    return pl.when(written_whole).then(raw.str.replace(r"[.,]0{1,2}$", "").cast(dtype, strict=False))


def _as_bool(raw: pl.Expr) -> pl.Expr:
    folded = raw.str.to_lowercase()
    return pl.when(folded.is_in(_YES)).then(True).when(folded.is_in(_NO)).then(False)


def _as_label(raw: pl.Expr, labels: Mapping[str, str]) -> pl.Expr:
    """A label (matched ignoring case) as the value it names; null when it names none."""
    return raw.str.to_lowercase().replace_strict(dict(labels), default=None, return_dtype=pl.String)


def _as_unit(raw: pl.Expr, units: Mapping[str, str]) -> pl.Expr:
    """Exact spellings first, so units whose names differ only in case stay apart (Settings.unit_labels)."""
    return pl.coalesce(raw.replace_strict(dict(units), default=None, return_dtype=pl.String), _as_label(raw, units))


def _as_question(f: Field, raw: pl.Expr, rules: RecordRules) -> pl.Expr:
    mapped = _as_label(raw, rules.questions)
    if f.question_kinds:
        allowed = [q for q, k in rules.question_kinds.items() if k in f.question_kinds]
        mapped = pl.when(mapped.is_in(allowed)).then(mapped)
    if f.kind == "question":
        return mapped
    # A topic not in the codebook is an open question, named as written (an id's rules).
    return pl.coalesce(mapped, _as_id(raw))


def _as_codes(f: Field, raw: pl.Expr, themes: Mapping[str, str]) -> list[pl.Expr]:
    """Theme codes, ';'-separated, each a code or label of the frame -> their codes in order, once each;
    null if any is unknown (`{name}__unknown`: the first unknown one, for the reason)."""
    parts = (
        raw.str.split(";").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
    )
    lookup = dict(themes)
    codes = parts.list.eval(pl.element().str.to_lowercase().replace_strict(lookup, default=None))
    typed = pl.when(codes.list.eval(pl.element().is_not_null()).list.all()).then(codes.list.unique(maintain_order=True))
    unknown = parts.list.eval(
        pl.when(pl.element().str.to_lowercase().replace_strict(lookup, default=None).is_null()).then(pl.element())
    )
    return [
        typed.alias(f"{f.name}__t"),
        (raw.is_null() | typed.is_not_null()).alias(f"{f.name}__ok"),
        unknown.list.drop_nulls().list.first().alias(f"{f.name}__unknown"),
    ]


def _typed_value(f: Field, raw: pl.Expr, rules: RecordRules) -> pl.Expr:
    """The field's value typed by its kind; null when blank or not readable as that kind."""
    readers: dict[str, pl.Expr] = {  # cheap to build: only the field's own is evaluated
        "text": raw,
        "personal": raw,
        "id": _as_id(raw),
        "int": _as_whole(raw, pl.Int64()),
        "rating": _as_whole(raw, pl.Int16()),
        "number": _number(raw),
        "choice": _as_label(raw, rules.choices.get(f.name, {})),
        "bool": _as_bool(raw),
        "unit": _as_unit(raw, rules.unit_labels),
        "question": _as_question(f, raw, rules),
        "topic": _as_question(f, raw, rules),
        "theme": _as_label(raw, rules.themes),
        "currency": pl.when(raw.str.contains(r"^[A-Za-z]{3}$")).then(raw.str.to_uppercase()),
        "language": pl.when(raw.str.contains(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")).then(
            raw.str.replace("_", "-", literal=True).str.to_lowercase()
        ),
        # parsed by with_timestamp before staging types the row (`{name}__utc`); a date is the local day
        "datetime": pl.col(f"{f.name}__utc"),
        "date": pl.col(f"{f.name}__utc").dt.date(),
    }
    return readers[f.kind]


def _typed(f: Field, rules: RecordRules) -> list[pl.Expr]:
    """`{name}__t`: the typed value (null when blank or unreadable); `{name}__ok`: readable or blank."""
    raw = _text(f.name)
    if f.kind == "codes":
        return _as_codes(f, raw, rules.themes)
    if f.kind == "period":
        start, months = _period_start(raw)
        return [
            start.alias("period_start"),
            months.alias("period_months"),
            (raw.is_null() | start.is_not_null()).alias(f"{f.name}__ok"),
        ]
    typed = _typed_value(f, raw, rules)
    return [typed.alias(f"{f.name}__t"), (raw.is_null() | typed.is_not_null()).alias(f"{f.name}__ok")]


def _bounded(f: Field, spec: RecordSpec, rules: RecordRules) -> pl.Expr | None:
    """The field's bounds test on the typed value (null or true passes), if it has bounds."""
    value = pl.col(f"{f.name}__t")
    question = next((q for q in spec.fields if q.kind in ("question", "topic")), None)
    if f.kind == "rating" and question is not None:
        low = pl.col(f"{question.name}__t").replace_strict(
            {q: s[0] for q, s in rules.scales.items()}, default=None, return_dtype=pl.Int64
        )
        high = pl.col(f"{question.name}__t").replace_strict(
            {q: s[1] for q, s in rules.scales.items()}, default=None, return_dtype=pl.Int64
        )
        # A rating on an open question (not in the codebook) has no scale: not allowed.
        question_t = pl.col(f"{question.name}__t")  # an unreadable question has its own reason
        return value.is_null() | question_t.is_null() | (low.is_not_null() & value.is_between(low, high))
    if f.low is None and f.high is None:
        return None
    test = pl.lit(True)
    if f.low is not None:
        test = test & (value >= f.low)
    if f.high is not None:
        test = test & (value <= f.high)
    return value.is_null() | test


def _bounds_text(f: Field) -> str:
    if f.kind == "rating" and f.low is None:
        return "within the question's scale (config/codebook.yaml); open questions take no rating"
    if f.low is not None and f.high is not None:
        return f"from {f.low:g} to {f.high:g}"
    return f"at least {f.low:g}" if f.low is not None else f"at most {f.high:g}"


def _shown(f: Field, value: pl.Expr, spec: RecordSpec) -> pl.Expr:
    """A value in a reason: codes and question ids that look like codes are quoted, anything else by shape.

    Never quoted in a source holding personal data: a misplaced cell may put a name into any field.
    """
    if f.kind in ("codes", "question", "topic", "theme") and not spec.personal:
        return (
            pl.when(value.str.contains(_CODE_LIKE) & ~value.str.contains(r"\d{5}"))
            .then(pl.format("'{}'", value))
            .otherwise(shape(value))
        )
    return shape(value)


def stage_records(raw: pl.LazyFrame, spec: RecordSpec, rules: RecordRules) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(valid typed rows, invalid rows with `reason`). Grain: every input row is in exactly one output.

    `raw`: one string column per field (and per configured extra number), lineage and `shape_error`.
    """
    rows = raw
    # A date is the day as written: any time after it is ignored, and no time zone can move or drop it
    # (midnight does not exist on some days in some zones), so it is read as a UTC midnight.
    as_written = replace(rules.timestamps, source_timezone="UTC", common_format=None)
    for f in spec.fields:
        if f.kind == "datetime":
            rows = with_timestamp(
                rows.with_columns(_text(f.name).alias(f"{f.name}__in")),
                f"{f.name}__in",
                f"{f.name}__utc",
                rules.timestamps,
            )
        elif f.kind == "date":
            day = _text(f.name).str.extract(_DATE_PART)
            rows = rows.with_columns(
                parse_timestamp(pl.coalesce(day, _text(f.name)), as_written).alias(f"{f.name}__utc")
            )
    typed = rows.with_columns(*[e for f in spec.fields for e in _typed(f, rules)]).with_columns(
        *[_number(_text(n)).alias(f"{n}__t") for n in rules.extra_numbers],
    )
    tests: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.col("shape_error").is_null(), pl.col("shape_error")),
    ]
    for f in spec.fields:
        readable = pl.col(f"{f.name}__ok")
        if f.required:
            tests.append((_text(f.name).is_not_null(), pl.lit(f"{f.name}: missing (required)")))
        expected = EXPECTED[f.kind]
        if f.kind == "question" and f.question_kinds:
            expected = f"an item of kind {' or '.join(f.question_kinds)} in config/codebook.yaml (its id or code)"
        if f.kind == "choice":
            values = sorted(set(rules.choices.get(f.name, {}).values()))
            expected = f"one of: {', '.join(values)}"
        if f.kind in ("date", "datetime"):
            expected = f"{expected}, e.g. {rules.timestamps.example()}"
        unknown = pl.col(f"{f.name}__unknown") if f.kind == "codes" else _text(f.name)
        tests.append((readable, pl.format(f"{f.name}: {{}} is not {expected}", _shown(f, unknown, spec))))
        if (bounded := _bounded(f, spec, rules)) is not None:
            tests.append((bounded, pl.format(f"{f.name}: {{}} is not {_bounds_text(f)}", shape(_text(f.name)))))
    for n in rules.extra_numbers:
        tests.append(
            (
                _text(n).is_null() | pl.col(f"{n}__t").is_not_null(),
                pl.format(f"{n}: {{}} is not {EXPECTED['number']}", shape(_text(n))),
            )
        )
    tests += [(_check_ok(c), pl.lit(c.reason)) for c in spec.checks]
    checked = typed.with_columns(*[t.fill_null(True).alias(f"__test{i}") for i, (t, _) in enumerate(tests)])
    checked = checked.with_columns(valid_row=pl.all_horizontal(f"__test{i}" for i in range(len(tests))))
    segment = _segment(spec)
    period = _period(spec, rules)
    out = output_columns(spec, rules.extra_numbers)
    typed_names = {f.name for f in spec.fields if f.kind != "period"} | set(rules.extra_numbers)
    valid = checked.filter(pl.col("valid_row")).select(
        *[
            (pl.col(f"{c}__t") if c in typed_names else pl.col(c)).cast(dtype).alias(c)
            for c, dtype in out.items()
            if (c not in ("segment", "period") or c in typed_names) and not (spec.latest_of and c == spec.newer)
        ],
        *([segment.alias("segment")] if "segment" not in typed_names else []),
        *([pl.max_horizontal(f"{n}__t" for n in spec.latest_of).alias(spec.newer)] if spec.latest_of else []),
        period.alias("period"),
        *LINEAGE_COLUMNS,
    )
    # A row that does not fit the header has its cells under the wrong fields: its shape is the one reason.
    reason = (
        pl.when(pl.col("shape_error").is_not_null())
        .then(pl.col("shape_error"))
        .otherwise(
            pl.concat_str(
                [pl.when(~pl.col(f"__test{i}")).then(text) for i, (_, text) in enumerate(tests)],
                separator="; ",
                ignore_nulls=True,
            )
        )
    )
    invalid = checked.filter(~pl.col("valid_row")).select(
        segment.alias("segment"), period.alias("period"), *LINEAGE_COLUMNS, reason.alias("reason")
    )
    return valid, invalid


def _check_ok(check: Check) -> pl.Expr:
    return check.ok(lambda name: pl.col("period_start" if name == "period_start" else f"{name}__t")).fill_null(True)


def _segment(spec: RecordSpec) -> pl.Expr:
    units = [f.name for f in spec.fields if f.kind == "unit"]
    return pl.col(f"{units[0]}__t") if units else pl.lit(None, dtype=pl.String)


def _period(spec: RecordSpec, rules: RecordRules) -> pl.Expr:
    if spec.period_from is None:
        return pl.lit(None, dtype=pl.String)
    f = spec.by_name[spec.period_from]
    if f.kind == "datetime":
        return period_label(pl.col(f"{f.name}__t"), rules.periods.timezone, rules.periods.start_month)
    if f.kind == "date":
        return _year_of(pl.col(f"{f.name}__t"), rules.periods.start_month)
    return _year_of(pl.col("period_start"), rules.periods.start_month)

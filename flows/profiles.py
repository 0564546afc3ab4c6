"""Export profiles: how to read one kind of export file, chosen per file.

What belongs to a file rather than to the pipeline - encoding, delimiter, header rows and
which of them title the columns, date order, clock, time zone of timestamps written without
an offset, id prefix, default collection mode, column names - is grouped into a named
profile. A file takes the first configured profile whose `files` pattern matches its name,
else the built-in whose unmistakable shape it has (`SHAPES`), else `plain` (our own format,
the `columns` in config/pipeline.yaml). Several profiles work in one run; `csat validate
FILE` says which one a file got and why. Built-ins are documented with an example file each
in examples/surveys/ (docs/survey-exports.md).

Columns are found by their labels: every header row named in `label_rows` gives each column
labels (a Qualtrics column is titled by its id, its question text and its ImportId), and a
field takes the one column one of its names labels - first the profile's own names, then the
codebook's (question id, code, exact text), then the configured `columns`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from flows.settings import Profile, Settings
from transforms.staging import RECORD_SPECS

BASE_FIELDS = ("response_id", "submitted_at", "customer_id", "segment", "mode", "comment")
# Read when a profile names them, never stored: a tool's mark of previews, tests and spam.
STATUS_FIELD = "response_status"


@dataclass(frozen=True)
class ExportProfile:
    """A profile with every setting decided (built-in, then the analyst's overrides, then the defaults)."""

    name: str
    encoding: str = "auto"
    delimiter: str = "auto"
    header_rows: int = 1
    label_rows: tuple[int, ...] = (1,)
    date_order: str = "DMY"
    clock: str = "24h"
    timezone: str = "UTC"
    mode: str | None = None
    id_prefix: str = ""
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    # Built-in behaviour a tool needs (inherited by profiles that extend it):
    fill_labels: bool = False  # a blank header cell continues the one to its left (SurveyMonkey's matrices)
    derive_response_id: bool = False  # no id column: time stamp + its occurrence (Google Forms)
    counter_ids: bool = False  # ids count one survey's responses (1, 2, ...): another survey reuses them
    # A coded excerpt's id repeats once per code (Taguette: one row per highlight and tag): the
    # excerpt id becomes '<id>/<code>' (flows/qda.py).
    excerpt_per_code: bool = False
    # A CSV row with fewer fields than the header is padded with empty cells, not misaligned
    # (QualCoder writes only as many Category cells as a code has ancestors); more stays an error.
    pad_short_rows: bool = False
    # Values of the tool's response-status column that mark no customer's response (previews, tests,
    # spam): such rows are quarantined, never counted.
    not_responses: tuple[str, ...] = ()
    title: str = ""  # the tool's name, for people
    builtin: str = "plain"  # the built-in it derives from (a tool's own numbering is not ours)
    sheet: str | None = None  # a workbook's sheet to read (None: the first)
    source: str | None = None  # the one source whose files it reads (None: any; plain and its extensions)

    def describe(self) -> str:
        parts = [
            f"encoding {self.encoding}",
            f"delimiter {self.delimiter!r}" if self.delimiter != "auto" else "delimiter auto",
            f"{self.header_rows} header row(s), labels from row(s) {', '.join(map(str, self.label_rows))}",
            f"dates {self.date_order}, {self.clock} clock, naive times in {self.timezone}",
        ]
        if self.mode:
            parts.append(f"mode {self.mode} when the file has no mode column")
        if self.id_prefix:
            parts.append(f"ids prefixed '{self.id_prefix}'")
        return "; ".join(parts)


# The built-in profiles, keyed by name. Settings left out come from `csv` and `timestamps`
# (date order, time zone), since a tool's export follows its account's locale.
BUILTIN: dict[str, dict[str, object]] = {
    "plain": {"title": "our own format"},
    "qualtrics": {
        "source": "surveys",
        "title": "Qualtrics (CSV or UTF-16 TSV)",
        "header_rows": 3,
        "label_rows": (1, 2, 3),
        "mode": "online",
        "id_prefix": "qualtrics:",
        "columns": {
            "response_id": ("ResponseId",),
            "submitted_at": ("RecordedDate", "EndDate"),
            "response_status": ("Status", "Response Type"),
        },
        # Qualtrics' Status, as numbers or labels: 1/2 preview and test, 8/9/12 spam, 17 offline preview.
        "not_responses": (
            "1",
            "2",
            "8",
            "9",
            "12",
            "17",
            "survey preview",
            "survey test",
            "spam",
            "preview spam",
            "imported spam",
            "offline survey preview",
        ),
    },
    "surveymonkey": {
        "source": "surveys",
        "title": "SurveyMonkey (CSV or XLSX)",
        "header_rows": 2,
        "label_rows": (1, 2),
        "fill_labels": True,
        "date_order": "MDY",
        "clock": "12h",
        "mode": "online",
        "id_prefix": "surveymonkey:",
        "columns": {"response_id": ("Respondent ID",), "submitted_at": ("End Date",)},
    },
    "limesurvey": {
        "source": "surveys",
        "title": "LimeSurvey (CSV, ',' or ';')",
        "mode": "online",
        "id_prefix": "limesurvey:",
        "counter_ids": True,
        "columns": {"response_id": ("id",), "submitted_at": ("submitdate",)},
    },
    "google_forms": {
        "source": "surveys",
        "title": "Google Forms (responses sheet as CSV)",
        "mode": "online",
        "id_prefix": "googleforms:",
        "derive_response_id": True,
        "columns": {"submitted_at": ("Timestamp", "Marca temporal", "Horodateur", "Zeitstempel")},
    },
    "microsoft_forms": {
        "source": "surveys",
        "title": "Microsoft Forms (XLSX)",
        "mode": "online",
        "id_prefix": "msforms:",
        "counter_ids": True,
        "columns": {"response_id": ("ID",), "submitted_at": ("Completion time",)},
    },
    # Qualitative-analysis tools' exports of coded excerpts (examples/coded_excerpts/README.md).
    "taguette": {
        "source": "coded_excerpts",
        "title": "Taguette (highlights CSV or XLSX)",
        "excerpt_per_code": True,
        "columns": {
            "excerpt_id": ("id",),
            "document": ("document",),
            "themes": ("tag",),
            "quote": ("content",),
        },
    },
    "qualcoder": {
        "source": "coded_excerpts",
        "title": "QualCoder (coding report, CSV)",
        "pad_short_rows": True,
        "columns": {
            "excerpt_id": ("Id",),
            "document": ("Filename", "File", "File/case"),
            "participant_id": ("Case",),
            "themes": ("Codename",),
            "quote": ("Coded",),
            "coder": ("Coder",),
        },
    },
}


def _norm(text: str) -> str:
    """Labels and names compare without case, surrounding blanks, repeated blanks or a byte-order mark."""
    return " ".join(text.lstrip("\ufeff").split()).casefold()


def _row(header: Sequence[Sequence[str]], number: int) -> list[str]:
    return [_norm(c) for c in header[number - 1]] if len(header) >= number else []


# A built-in's unmistakable shape: (name, test on the first rows, why - said by `csat validate`).
SHAPES: tuple[tuple[str, object, str], ...] = (
    (
        "qualtrics",
        lambda h: "responseid" in _row(h, 1) and any(c.startswith('{"importid"') for c in _row(h, 3)),
        "row 1 has ResponseId and row 3 holds ImportId JSON (a Qualtrics export)",
    ),
    (
        "surveymonkey",
        lambda h: {"respondent id", "collector id"} <= set(_row(h, 1)),
        "row 1 has Respondent ID and Collector ID (a SurveyMonkey export)",
    ),
    (
        "limesurvey",
        lambda h: {"id", "submitdate", "lastpage"} <= set(_row(h, 1)),
        "row 1 has id, submitdate and lastpage (a LimeSurvey export)",
    ),
    (
        "microsoft_forms",
        lambda h: {"id", "start time", "completion time"} <= set(_row(h, 1)),
        "row 1 has ID, Start time and Completion time (a Microsoft Forms export)",
    ),
    (
        "google_forms",
        lambda h: bool(_row(h, 1)) and _row(h, 1)[0] in {"timestamp", "marca temporal", "horodateur", "zeitstempel"},
        "the first column is Timestamp (a Google Forms responses sheet)",
    ),
    (
        "taguette",
        lambda h: _row(h, 1) == ["id", "document", "tag", "content"],
        "row 1 is exactly id, document, tag, content (a Taguette highlights export)",
    ),
    (
        "qualcoder",
        lambda h: (
            bool(_row(h, 1))
            and _row(h, 1)[0] in {"file", "case", "file/case"}
            and {"coder", "coded", "id", "codename", "coded_memo"} <= set(_row(h, 1))
        ),
        "row 1 starts with File or Case and has Coder, Coded, Id, Codename and Coded_Memo (a QualCoder coding report)",
    ),
)


def _overrides(profile: Profile) -> dict[str, object]:
    values = {
        "encoding": profile.encoding,
        "delimiter": profile.delimiter,
        "header_rows": profile.header_rows,
        "label_rows": tuple(profile.label_rows) if profile.label_rows is not None else None,
        "date_order": profile.date_order,
        "clock": profile.clock,
        "timezone": profile.timezone,
        "mode": profile.mode,
        "id_prefix": profile.id_prefix,
        "sheet": profile.sheet,
    }
    return {k: v for k, v in values.items() if v is not None}


def resolve_profiles(settings: Settings) -> dict[str, ExportProfile]:
    """Every usable profile by name: the built-ins over the defaults, then the configured ones in order."""
    pipeline = settings.pipeline
    defaults = ExportProfile(
        name="plain",
        encoding=pipeline.csv.encoding,
        delimiter=pipeline.csv.delimiter,
        date_order=pipeline.timestamps.date_order,
        timezone=pipeline.timestamps.source_timezone,
    )
    profiles = {
        name: replace(defaults, name=name, builtin=name, **spec)  # type: ignore[arg-type]
        for name, spec in BUILTIN.items()
    }
    for configured in pipeline.profiles:
        parent = profiles[configured.extends or (configured.name if configured.name in profiles else "plain")]
        merged = replace(parent, name=configured.name, **_overrides(configured))  # type: ignore[arg-type]
        columns = {**parent.columns, **{k: tuple(v) for k, v in configured.columns.items()}}
        label_rows = merged.label_rows if configured.label_rows is not None else _fit(parent, merged.header_rows)
        profiles[configured.name] = replace(
            merged,
            columns=columns,
            files=tuple(configured.files),
            label_rows=label_rows,
            title=parent.title if configured.name == parent.name else f"{configured.name} (from {parent.name})",
        )
    return profiles


def _fit(parent: ExportProfile, header_rows: int) -> tuple[int, ...]:
    """The parent's label rows that still exist when a profile changes the number of header rows."""
    kept = tuple(r for r in parent.label_rows if r <= header_rows)
    return kept or (1,)


def check_profiles(profiles: Sequence[Profile], question_ids: Iterable[str]) -> None:
    """Configured profiles must extend known ones and map known fields (ValueError says which)."""
    known_profiles = set(BUILTIN)
    fields = {*BASE_FIELDS, STATUS_FIELD, *question_ids, *(f.name for spec in RECORD_SPECS for f in spec.fields)}
    names = [p.name for p in profiles]
    if repeated := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"profile name(s) {', '.join(repeated)} defined more than once (expected unique names)")
    for profile in profiles:
        if profile.extends is not None and profile.extends not in known_profiles:
            raise ValueError(
                f"'{profile.name}' extends '{profile.extends}', which is not defined before it "
                f"(expected one of: {', '.join(sorted(known_profiles))})"
            )
        if unknown := sorted(set(profile.columns) - fields):
            raise ValueError(
                f"'{profile.name}' maps unknown field(s) {', '.join(unknown)} "
                f"(expected one of: {', '.join(sorted(fields))})"
            )
        known_profiles.add(profile.name)


@dataclass(frozen=True)
class ChosenProfile:
    profile: ExportProfile
    why: str


def profile_by_pattern(
    file_name: str, configured: Sequence[ExportProfile], source: str = "surveys"
) -> ChosenProfile | None:
    """The first of the configured profiles (in configuration order) for this source with a `files` pattern
    matching the name."""
    for profile in configured:
        if profile.source not in (None, source):
            continue
        for pattern in profile.files:
            if fnmatch.fnmatch(file_name.casefold(), pattern.casefold()):
                return ChosenProfile(profile, f"file name matches '{pattern}' (profiles: {profile.name})")
    return None


def profile_by_shape(
    header: Sequence[Sequence[str]], profiles: dict[str, ExportProfile], source: str = "surveys"
) -> ChosenProfile:
    """The source's built-in whose shape the first rows have (a configured profile of that name refines it),
    else plain."""
    for name, test, why in SHAPES:
        if profiles[name].source == source and test(header):  # type: ignore[operator]
            return ChosenProfile(profiles[name], why)
    columns = "columns in config/pipeline.yaml" if source == "surveys" else "the field names of docs/sources.md"
    return ChosenProfile(
        profiles["plain"], f"no profile's file pattern or tool shape matched: our own format ({columns})"
    )


# --- column labels and mapping ------------------------------------------------------------


@dataclass(frozen=True)
class ColumnLabels:
    labels: list[list[str]]  # per column, its labels (normalised), in the order found
    titles: list[str]  # per column, a readable title (for messages)
    time_zones: dict[int, str]  # column -> the time zone its header names (Qualtrics' ImportId JSON)


def _import_id(cell: str) -> tuple[str | None, str | None]:
    """ImportId and timeZone of a Qualtrics third-row cell such as {"ImportId":"QID1"}, else (None, None)."""
    if not cell.startswith("{"):
        return None, None
    try:
        parsed = json.loads(cell)
    except ValueError:
        return None, None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("ImportId"), str):
        return None, None
    zone = parsed.get("timeZone")
    return parsed["ImportId"], zone if isinstance(zone, str) else None


_BRACKETED = re.compile(r"^(.*?)\s*\[([^\[\]]+)\]$")  # 'Question [Statement]' (Google Forms grids)


def column_labels(header: Sequence[Sequence[str]], profile: ExportProfile) -> ColumnLabels:
    """Each column's labels from the profile's label rows.

    Besides each cell as written: a Qualtrics ImportId, the part after ' - ' ('Question - Statement')
    and inside trailing brackets ('Question [Statement]'), and with two label rows their combination
    ('Question - Sub-label'), so a matrix statement matches the codebook's exact text.
    """
    width = max((len(r) for r in header), default=0)
    rows = []
    for number in profile.label_rows:
        cells = [c.lstrip("\ufeff").strip() for c in header[number - 1]] if number <= len(header) else []
        cells += [""] * (width - len(cells))
        # Only the first label row names groups (a matrix question over its columns); a blank
        # sub-label below is just blank.
        if profile.fill_labels and number == profile.label_rows[0]:
            filled, last = [], ""
            for cell in cells:
                last = cell or last
                filled.append(last)
            cells = filled
        rows.append(cells)
    labels: list[list[str]] = []
    titles: list[str] = []
    zones: dict[int, str] = {}
    for column in range(width):
        found: list[str] = []
        written = [row[column] for row in rows if row[column]]
        for cell in written:
            import_id, zone = _import_id(cell)
            if import_id is not None:
                found.append(import_id)
                if zone:
                    zones[column] = zone
                continue
            found.append(cell)
            if " - " in cell:
                found.append(cell.rsplit(" - ", 1)[1])
            if match := _BRACKETED.match(cell):
                found.append(match.group(2))
        texts = [c for c in written if _import_id(c)[0] is None]
        if len(texts) >= 2:
            found.append(" - ".join(texts[-2:]))
        labels.append(list(dict.fromkeys(_norm(label) for label in found if label.strip())))
        titles.append(texts[0] if texts else (written[0] if written else f"column {column + 1}"))
    return ColumnLabels(labels, titles, zones)


@dataclass(frozen=True)
class FieldNames:
    """One of our fields and the names that may title its column, in tiers tried one after another."""

    field: str
    tiers: tuple[tuple[str, ...], ...]
    required: bool = False


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, int]  # our field -> column index
    ambiguous: dict[str, list[int]]  # fields left unmapped because their best name titles several columns


def map_columns(labels: ColumnLabels, fields: Sequence[FieldNames]) -> Mapping:
    """Give each field the one column a name of it labels, tier by tier; a column serves one field.

    A name that labels several free columns maps nothing (it is ambiguous); the next name is tried.
    """
    index: dict[str, list[int]] = {}
    for column, names in enumerate(labels.labels):
        for name in names:
            index.setdefault(name, []).append(column)
    taken: set[int] = set()
    mapped: dict[str, int] = {}
    ambiguous: dict[str, list[int]] = {}
    depth = max((len(f.tiers) for f in fields), default=0)
    for tier in range(depth):
        for f in fields:
            if f.field in mapped or tier >= len(f.tiers):
                continue
            for name in f.tiers[tier]:
                free = [c for c in index.get(_norm(name), []) if c not in taken]
                if len(free) == 1:
                    mapped[f.field] = free[0]
                    taken.add(free[0])
                    ambiguous.pop(f.field, None)
                    break
                if len(free) > 1:
                    ambiguous.setdefault(f.field, free)
    return Mapping(mapped, {k: v for k, v in ambiguous.items() if k not in mapped})

"""Configuration an analyst edits (`config/pipeline.yaml`, `config/codebook.yaml`), validated at start.

Every error names the file, the key and the expected form, before any work starts.
Secrets never live here: the SMTP password is read from the environment variable the
configuration names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from transforms.scopes import COMPANY
from transforms.staging.columns import LINEAGE_COLUMNS, RANKING_COLUMNS, STAGING_COLUMNS

PIPELINE_FILE = "pipeline.yaml"
CODEBOOK_FILE = "codebook.yaml"
CODING_FRAME_FILE = "coding_frame.yaml"

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# Unit names are free text (any script, any case) but one printable line; long names are allowed.
UnitName = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]
EMAIL_PATTERN = r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$"
EmailAddress = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
MODES = ("online", "paper", "phone", "in_person")
# The stored response's own columns (flows/store.py); question ids must differ from them.
# Also the working columns of staging and duplicate resolution.
RESPONSE_COLUMNS = frozenset((*STAGING_COLUMNS, *RANKING_COLUMNS, *LINEAGE_COLUMNS)) | frozenset(
    (
        "response_id",
        "submitted_at",
        "period",
        "customer_id",
        "segment",
        "mode",
        "comment",
        "source_file",
        "source_line",
        "file_sha256",
        "row_hash",
        "ingested_at",
        "profile",
    )
)
ORAL_MODES = ("phone", "in_person")  # interviewer-administered: read higher (methodology.md)
M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file is missing, unreadable or invalid; the message says where and why."""


class _Strict(BaseModel):
    # Unknown keys are typos until proven otherwise.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"an IANA time zone such as 'Europe/Tallinn' or 'UTC', got {value!r}") from exc
    return value


# --- codebook -------------------------------------------------------------------------


class Scale(_Strict):
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.max <= self.min:
            raise ValueError(f"scale max ({self.max}) must be greater than min ({self.min})")
        return self


class Question(_Strict):
    id: Identifier
    text: str = Field(min_length=1)
    kind: Literal["overall", "attribute", "nps", "expectation", "importance"]
    dimension: str = "general"
    scale: Scale
    wording: Literal["positive", "negative"] = "positive"
    # Lowest raw answer (after reverse-coding) that counts as top box; default: top 40 % of the scale.
    top_box_from: int | None = None
    # The question's codes in survey tools (Qualtrics export tag or ImportId, LimeSurvey code): an
    # export column titled by the id, a code or exactly the text is this question (flows/profiles.py).
    code: list[str] = []

    @field_validator("code", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.kind == "nps" and (self.scale.min, self.scale.max) != (0, 10):
            raise ValueError("an nps question needs scale min 0 and max 10")
        if self.top_box_from is not None and not self.scale.min <= self.top_box_from <= self.scale.max:
            raise ValueError(f"top_box_from must lie within the scale {self.scale.min}-{self.scale.max}")
        return self

    @property
    def top_box_threshold(self) -> int:
        """Top two boxes of a 5-point scale generalised to the top 40 % of any scale."""
        if self.kind == "nps":
            return 9  # promoters (Reichheld 2003)
        if self.top_box_from is not None:
            return self.top_box_from
        span = self.scale.max - self.scale.min + 1
        return self.scale.max - max(1, round(0.4 * span)) + 1


class Codebook(_Strict):
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_complete(self) -> Codebook:
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"question ids must be unique; repeated: {', '.join(dupes)}")
        overall = [q.id for q in self.questions if q.kind == "overall"]
        if len(overall) != 1:
            raise ValueError(f"exactly one question of kind 'overall' is needed, found {len(overall)}")
        if sum(q.kind == "nps" for q in self.questions) > 1:
            raise ValueError("at most one question of kind 'nps' is allowed")
        codes = [c.casefold() for q in self.questions for c in q.code]
        if shared := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"question code(s) {', '.join(shared)} belong to more than one question")
        # Answers are stored one column per question beside the response's own columns.
        if clash := sorted({i for i in ids if i in RESPONSE_COLUMNS or i.endswith("__num")}):
            raise ValueError(f"question ids {', '.join(clash)} are reserved for the response's own columns")
        return self

    def by_kind(self, kind: str) -> list[Question]:
        return [q for q in self.questions if q.kind == kind]


class Theme(_Strict):
    """A theme of the coding frame: what coded excerpts, complaint categories, supplier issues and return
    reasons are about. Files name a theme by its code or its label (ignoring case)."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
    label: str = Field(min_length=1, max_length=120)
    parent: str | None = None  # the code of the theme it refines (one level or more)
    actionable: bool = True  # 'my order was defective' is; 'I was unhappy' is not (domain notes)


class CodingFrame(_Strict):
    themes: list[Theme] = []

    @model_validator(mode="after")
    def _unique_and_rooted(self) -> CodingFrame:
        codes = [t.code for t in self.themes]
        # Folded as files' names are (lower case), so the check and the lookup agree.
        names = [n for t in self.themes for n in {t.code.lower(), t.label.lower()}]
        if with_separator := [t.label for t in self.themes if ";" in t.label]:
            raise ValueError(f"theme labels must not contain ';' (it separates themes in files): {with_separator[0]}")
        if repeated := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"theme codes and labels must each name one theme; repeated: {', '.join(repeated)}")
        for theme in self.themes:
            if theme.parent is not None and theme.parent not in codes:
                raise ValueError(f"theme '{theme.code}' has parent '{theme.parent}', which is not a theme code")
        parents = {t.code: t.parent for t in self.themes}
        for theme in self.themes:
            seen, parent = {theme.code}, theme.parent
            while parent is not None:
                if parent in seen:
                    raise ValueError(f"theme '{theme.code}': its parents form a cycle")
                seen.add(parent)
                parent = parents[parent]
        return self

    def labels(self) -> dict[str, str]:
        """Code or label (lower case, as staging folds a file's names) -> code."""
        return {n.lower(): t.code for t in self.themes for n in (t.code, t.label)}


# --- pipeline -------------------------------------------------------------------------


class Periods(_Strict):
    kind: Literal["calendar", "fiscal"] = "calendar"
    fiscal_start_month: int = Field(default=1, ge=1, le=12)
    timezone: str = "UTC"  # an answer belongs to the period of its local date in this zone

    _tz = field_validator("timezone")(_check_timezone)

    @model_validator(mode="after")
    def _fiscal(self) -> Periods:
        if self.kind == "calendar" and self.fiscal_start_month != 1:
            raise ValueError("fiscal_start_month applies only when kind is 'fiscal'")
        if self.kind == "fiscal" and self.fiscal_start_month == 1:
            raise ValueError("a fiscal year starting in January is a calendar year: use kind 'calendar'")
        return self

    @property
    def start_month(self) -> int:
        return self.fiscal_start_month if self.kind == "fiscal" else 1


DateOrder = Literal["DMY", "MDY", "auto"]
Encoding = Literal[
    "auto", "utf-8", "utf-16", "utf-32", "cp1250", "cp1251", "cp1252", "cp1257", "latin-1", "iso-8859-13"
]
Delimiter = Literal["auto", ",", ";", "\t", "|"]


class Timestamps(_Strict):
    """Defaults for every export profile that does not set its own (see `profiles`)."""

    # How to read a numeric date such as 03/04/2025 (ISO dates are never ambiguous); 'auto': from the
    # file's own dates (13/04 is day-first), a file whose dates fit both orders is rejected. A file
    # whose dates contradict the order (13/04 under MDY) is always rejected, never read swapped.
    date_order: DateOrder = "DMY"
    # Zone of timestamps written without an offset.
    source_timezone: str = "UTC"

    _tz = field_validator("source_timezone")(_check_timezone)


ColumnNames = Annotated[list[str], Field(min_length=1)]


class Columns(_Strict):
    """Our field -> the header(s) it may carry in a user's export (first match wins)."""

    response_id: ColumnNames
    submitted_at: ColumnNames
    customer_id: ColumnNames
    segment: ColumnNames
    mode: ColumnNames
    comment: ColumnNames
    # Optional: a question is also found by its id, its codebook `code`s or its exact text.
    questions: dict[Identifier, ColumnNames] = {}

    @field_validator("*", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value


class Csv(_Strict):
    """Defaults for every export profile that does not set its own (see `profiles`)."""

    delimiter: Delimiter = "auto"
    # auto: byte-order mark, else valid UTF-8, else a detection that is unambiguous or a rejection
    # (flows/readers.py decode_text); any other value is used as is, strictly.
    encoding: Encoding = "auto"


class Profile(_Strict):
    """How to read one kind of export file: a built-in (flows/profiles.py) or the analyst's own.

    Unset keys come from `extends` (a built-in or an earlier profile), then from `csv` and `timestamps`.
    """

    name: Identifier
    extends: str | None = None
    files: list[str] = []  # file-name patterns (glob, case-insensitive) that choose this profile
    encoding: Encoding | None = None
    delimiter: Delimiter | None = None
    header_rows: int | None = Field(default=None, ge=1, le=10)  # rows above the first answer
    label_rows: list[int] | None = None  # which header rows title the columns (1-based)
    date_order: DateOrder | None = None
    clock: Literal["24h", "12h"] | None = None  # 12h: times end in AM/PM
    timezone: str | None = None  # zone of timestamps written without an offset
    mode: Literal["online", "paper", "phone", "in_person"] | None = None  # for files without a mode column
    id_prefix: str | None = Field(default=None, max_length=40)  # keeps ids of different tools apart
    sheet: str | None = Field(default=None, max_length=100)  # a workbook's sheet to read (default: the first)
    # Our field (response_id, submitted_at, ..., or a question id) -> header(s), tried before `columns`.
    columns: dict[str, ColumnNames] = {}

    _tz = field_validator("timezone")(lambda v: v if v is None else _check_timezone(v))

    @field_validator("columns", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _labels_within_header(self) -> Profile:
        rows, header = self.label_rows or [], self.header_rows
        if header is not None and (bad := [r for r in rows if not 1 <= r <= header]):
            raise ValueError(f"label_rows {bad} lie outside the {header} header row(s)")
        return self


class Benchmark(_Strict):
    name: str = Field(min_length=1, max_length=80)
    metric: Literal["csat_top2box", "nps", "mean_score"]
    value: float
    source: str = Field(min_length=1)
    period: str | None = None  # None: compared with every period


class Targets(_Strict):
    csat_top2box: float = Field(default=0.95, gt=0, le=1)  # domain.md: under 95-98 % deserves investigation
    nps: float | None = Field(default=None, ge=-100, le=100)


class Report(_Strict):
    organisation: str = Field(min_length=1, max_length=120)
    logo: Path | None = None
    language: Literal["en"] = "en"
    locale: str = "en_GB"  # number and date formatting (Babel)
    # 'latest' (the most recent complete period with answers), a year '2025' or a fiscal year 'FY2026'
    period: Annotated[str, StringConstraints(pattern=r"^(latest|\d{4}|FY\d{4})$")] = "latest"
    min_n: int = Field(default=30, ge=1)  # below this a figure is marked "small sample"
    mode_shift_warning_pts: float = Field(default=10.0, gt=0)
    comments_shown: int = Field(default=12, ge=0, le=50)
    comment_max_chars: int = Field(default=400, ge=40, le=2000)
    # A group (unit, its split by mode, ...) of fewer respondents is not shown, nor one that would reveal it.
    min_group_size: int = Field(default=5, ge=1, le=1000)
    min_comment_group_size: int = Field(default=10, ge=1, le=1000)  # no comments quoted from fewer respondents


class Weighting(_Strict):
    """Raking responses to population margins (transforms/weighting.py); no margins: unweighted."""

    # variable (`segment`, `mode` or a codebook question id) -> category -> population share or count
    margins: dict[str, dict[str, Annotated[float, Field(gt=0)]]] = {}
    tolerance: float = Field(default=1e-6, gt=0, le=0.01)  # largest relative miss of a margin accepted
    max_iterations: int = Field(default=100, ge=1, le=10_000)

    @field_validator("margins", mode="before")
    @classmethod
    def _category_text(cls, value: object) -> object:
        # A question's categories are answers: YAML reads `5: 0.2` with an integer key.
        if isinstance(value, dict):
            return {v: ({str(k): n for k, n in c.items()} if isinstance(c, dict) else c) for v, c in value.items()}
        return value


class Contact(_Strict):
    name: str = Field(min_length=1, max_length=120)
    email: EmailAddress


class Recipient(Contact):
    # "all": the company-wide report; else the units or groups whose reports this person receives.
    units: Literal["all"] | list[UnitName] = "all"

    @property
    def scopes(self) -> list[str]:
        """Report scopes this recipient is entitled to: 'All' or unit / group names."""
        return [COMPANY] if self.units == "all" else list(dict.fromkeys(self.units))


class Corrections(_Strict):
    """What happens when a delivered report changes (late or corrected rows, a configuration change)."""

    # always: send the corrected report; threshold: only when a headline figure moves by more than
    # threshold_pts; never: send nothing, and the run says who holds an outdated report.
    send: Literal["always", "threshold", "never"] = "always"
    threshold_pts: float = Field(default=1.0, gt=0, le=100)  # CSAT / NPS points


class Smtp(_Strict):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password_env: Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")] = "CSAT_SMTP_PASSWORD"
    timeout_seconds: float = Field(default=30, gt=0, le=300)
    max_message_bytes: int = Field(default=10_000_000, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    retry_delay_seconds: float = Field(default=5, ge=0)

    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.user else None


class Delivery(_Strict):
    sender: EmailAddress
    owner: Contact  # told (by email, same transport) about every failed or held run
    recipients: list[Recipient] = Field(min_length=1)
    smtp: Smtp | None = None  # absent: messages are written as .eml files to the outbox
    corrections: Corrections = Corrections()


_CRON_FORM = "a 5-field cron 'minute hour day-of-month month day-of-week' such as '30 4 * * *' (04:30 daily)"


def _check_cron(value: str) -> str:
    """The cron Prefect 3.8 accepts, checked with cronsim so that loading a configuration needs no Prefect.

    Prefect validates with its vendored croniter and refuses random ('R') and hashed ('H')
    fields. cronsim is stricter in places (it refuses 31 February, '?', wrapping ranges such
    as '5-1'), which is fine; the few cronsim extensions croniter refuses are refused here too.
    """
    import re
    from datetime import UTC, datetime

    from cronsim import CronSim, CronSimError

    fields = value.split()
    if len(fields) != 5:
        raise ValueError(f"expected {_CRON_FORM}; this has {len(fields)} field(s)")
    if any(re.match(r"^[HR](\(|/|$)", f, re.IGNORECASE) for f in fields):
        raise ValueError(f"expected {_CRON_FORM}; random 'R' and hashed 'H' fields are not supported by Prefect")
    dom, dow = fields[2].upper(), fields[4].upper()
    if "W" in dom or ("L" in dom and dom != "L") or "L" in dow or ("#" in dow and "," in dow):
        raise ValueError(
            f"expected {_CRON_FORM}; Prefect supports 'L' only as a whole day-of-month field, "
            "no 'W' or 'L' in day-of-week, and 'weekday#n' only on its own"
        )
    try:
        CronSim(" ".join(fields), datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as exc:  # e.g. "Bad hour"
        raise ValueError(f"expected {_CRON_FORM}; {str(exc).lower()} field") from None
    return " ".join(fields)


def _check_schedule_timezone(value: str) -> str:
    """An IANA zone Prefect accepts: it checks against zoneinfo.available_timezones()."""
    from zoneinfo import available_timezones

    _check_timezone(value)
    if value == "localtime" or value not in available_timezones():
        raise ValueError(f"an IANA time zone such as 'Europe/Tallinn' or 'UTC', got {value!r}")
    return value


class Schedule(_Strict):
    """When `csat serve` runs the nightly flow: a cron read in a time zone (docs/operations.md)."""

    cron: str = "30 4 * * *"  # 04:30: after the hour a DST change skips or repeats (02:00-04:00 local in Europe)
    timezone: str = "UTC"

    _cron = field_validator("cron")(_check_cron)
    _tz = field_validator("timezone")(_check_schedule_timezone)


class Paths(_Strict):
    inbox: Path = Path("var/inbox")
    store: Path = Path("var/store")
    reports: Path = Path("var/reports")
    outbox: Path = Path("var/outbox")


class Unit(_Strict):
    """A business unit (branch, shop, region) as answers name it."""

    name: UnitName
    aliases: list[UnitName] = []  # other labels exports use for this unit (matched ignoring case)
    expected: bool = True  # a period without answers from this unit holds delivery (completeness)


class Group(_Strict):
    """A node of the optional unit hierarchy: its report covers every unit below it."""

    name: UnitName
    members: list[UnitName] = Field(min_length=1)  # units or other groups


class Intake(_Strict):
    """When an inbox file counts as complete (a copy still in progress is never loaded)."""

    settle_seconds: int = Field(default=120, ge=0, le=86_400)  # unchanged size and mtime for this long
    # optional: NAME.ready beside a file marks it complete at once; required: only marked files are loaded.
    ready_marker: Literal["optional", "required"] = "optional"


class Completeness(_Strict):
    """The gate before delivery: what counts as incomplete data and what to do about it."""

    on_incomplete: Literal["hold", "deliver_with_banner"] = "hold"
    max_quarantine_share: float = Field(default=0.05, ge=0, le=1)  # per file: quarantined / read
    # A report's answers falling by more than this share on the previous period look like missing data.
    max_volume_drop: float = Field(default=0.5, gt=0, le=1)


class Management(_Strict):
    """Management's side of the gap model."""

    # Gap 2: the service standard set per codebook dimension, on the questions' scale (e.g. reliability: 4.5).
    service_standards: dict[str, float] = {}


class Suppliers(_Strict):
    # Numeric columns supplier scorecards carry besides on-time %, defect rate and returns (e.g. response_hours).
    measures: list[Identifier] = []


class Goal(_Strict):
    """A quantified goal the improvement report marks met / at risk / missed (e.g. fcr >= 0.8)."""

    metric: Identifier  # a metric id of the improvement report's metrics file
    comparator: Literal[">=", "<="]  # ">=": higher is better
    target: float
    at_risk_margin: float = Field(default=0.0, ge=0)  # a miss by at most this much is "at risk"
    item: str | None = None  # one item of the metric (an attribute, a supplier); None: the metric's headline row
    label: str | None = Field(default=None, max_length=120)  # how the report names it


class ProblemRanking(_Strict):
    """How the top quality problems are ranked: weights of frequency, cost and actionability."""

    frequency: float = Field(default=0.5, ge=0)
    cost: float = Field(default=0.3, ge=0)
    actionable: float = Field(default=0.2, ge=0)


class QuestionOfPeriod(_Strict):
    """The one question asked in every conversation for a period (domain notes): a codebook question
    id or an interview topic; `periods` picks it per period label, `default` otherwise."""

    default: str | None = None
    periods: dict[str, str] = {}


class Improvement(_Strict):
    """The continuous-improvement report: its period, the figures it compares and its thresholds."""

    period: Literal["month", "quarter", "year"] = "month"
    history: int = Field(default=24, ge=4, le=120)  # periods on its control charts and trends
    min_n: int = Field(default=30, ge=1)  # below this a figure is marked "small sample"
    repeat_window_days: int = Field(default=7, ge=1, le=365)
    iceberg_ratio: float = Field(default=26.0, gt=0)  # silent dissatisfied customers per complaint (a heuristic)
    bootstrap: int = Field(default=500, ge=50, le=5000)  # key-driver bootstrap replicates
    top_problems: ProblemRanking = ProblemRanking()
    goals: list[Goal] = []
    question_of_period: QuestionOfPeriod = QuestionOfPeriod()
    # Customer base by customer type (shares or counts): what focus groups are compared with.
    customer_base: dict[str, float] = {}


class Pipeline(_Strict):
    paths: Paths = Paths()
    intake: Intake = Intake()
    periods: Periods = Periods()
    timestamps: Timestamps = Timestamps()
    csv: Csv = Csv()
    profiles: list[Profile] = []
    columns: Columns
    # Export's mode labels (case-insensitive) -> our four modes.
    mode_values: dict[Literal["online", "paper", "phone", "in_person"], list[str]]
    units: list[Unit] = Field(min_length=1)
    groups: list[Group] = []
    targets: Targets = Targets()
    benchmarks: list[Benchmark] = []
    report: Report
    completeness: Completeness = Completeness()
    delivery: Delivery
    schedule: Schedule = Schedule()
    management: Management = Management()
    suppliers: Suppliers = Suppliers()
    improvement: Improvement = Improvement()
    weighting: Weighting = Weighting()


@dataclass(frozen=True)
class Settings:
    """Validated configuration with every path made absolute against the project root."""

    root: Path
    config_dir: Path
    pipeline: Pipeline
    codebook: Codebook
    coding_frame: CodingFrame = field(default_factory=CodingFrame)

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else (self.root / relative)

    @property
    def inbox(self) -> Path:
        return self.path(self.pipeline.paths.inbox)

    @property
    def store(self) -> Path:
        return self.path(self.pipeline.paths.store)

    @property
    def ledger_path(self) -> Path:
        """The SQLite ledger beside the store: who holds which report, owner alerts, accepted files."""
        return self.store / "deliveries.sqlite"

    @property
    def reports(self) -> Path:
        return self.path(self.pipeline.paths.reports)

    @property
    def outbox(self) -> Path:
        return self.path(self.pipeline.paths.outbox)

    @property
    def logo(self) -> Path | None:
        logo = self.pipeline.report.logo
        return None if logo is None else self.path(logo)

    def source_folder(self, source: str) -> Path:
        """Where a source's files are dropped: its sub-folder of the inbox (flows/sources.py)."""
        return self.inbox / source

    def require_inbox(self) -> Path:
        """The inbox folder; a path that does not exist is a configuration error, never 'no new files'."""
        if not self.inbox.is_dir():
            raise ConfigError(
                f"{self.config_dir / PIPELINE_FILE}: key 'paths.inbox': the folder {self.inbox} does not exist "
                "(expected an existing folder; create it or correct the path)"
            )
        return self.inbox

    @property
    def unit_names(self) -> tuple[str, ...]:
        return tuple(u.name for u in self.pipeline.units)

    @property
    def scope_names(self) -> tuple[str, ...]:
        """Every report scope: the company ('All'), each group, each unit."""
        return (COMPANY, *(g.name for g in self.pipeline.groups), *self.unit_names)

    def units_in(self, scope: str) -> tuple[str, ...]:
        """The units a report scope covers: all of them for 'All', the unit itself, or a group's units."""
        if scope == COMPANY:
            return self.unit_names
        groups = {g.name: g.members for g in self.pipeline.groups}
        if scope not in groups:
            return (scope,) if scope in self.unit_names else ()
        return tuple(dict.fromkeys(u for member in groups[scope] for u in self.units_in(member)))

    def unit_labels(self) -> dict[str, str]:
        """Export label -> unit name: names and aliases as written, then their lower-case forms where unique.

        Exact spellings win, so units whose names differ only in case ('Tartu', 'TARTU') stay apart.
        """
        exact = {label: u.name for u in self.pipeline.units for label in (u.name, *u.aliases)}
        folded: dict[str, set[str]] = {}
        for label, unit in exact.items():
            folded.setdefault(label.lower(), set()).add(unit)
        unique = {label: next(iter(units)) for label, units in folded.items() if len(units) == 1}
        return unique | exact

    def recipients_for(self, scope: str, addresses: list[str]) -> list[Recipient]:
        """Recipients typed by a person for one report: valid addresses, and a configured recipient only
        for a report whose units they may all see - the company's, their group's, their unit's - so a
        unit's report never reaches another unit's manager by a typo. Other addresses (an auditor, an
        archive) are taken as given."""
        known = {r.email.casefold(): r for r in self.pipeline.delivery.recipients}
        needed = set(self.units_in(scope))
        chosen = []
        for address in addresses:
            if len(address) > 254 or not re.fullmatch(EMAIL_PATTERN, address):
                raise ValueError(f"'{address}' is not an e-mail address")
            recipient = known.get(address.casefold()) or Recipient(name=address, email=address)
            visible = {unit for entitled in recipient.scopes for unit in self.units_in(entitled)}
            if address.casefold() in known and not needed <= visible:
                raise ValueError(
                    f"{address} is entitled to the reports of {', '.join(recipient.scopes)}, not of {scope} "
                    "(delivery.recipients in the configuration)"
                )
            chosen.append(recipient)
        return chosen

    def resolve_scope(self, text: str) -> str:
        """A scope name typed by a person: exact, else ignoring case when that is unambiguous."""
        if text in self.scope_names:
            return text
        matches = [name for name in self.scope_names if name.casefold() == text.strip().casefold()]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(self.scope_names)
        if matches:
            raise ValueError(f"'{text}' matches several units or groups ({', '.join(matches)}); write it exactly")
        raise ValueError(f"no unit or group called '{text}'; known: {known}")


def _read_yaml(path: Path) -> object:
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc


_EXPECTED = {
    "extra_forbidden": "no such key here (a typo?)",
    "missing": "this key is required",
}


def _explain(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: {error.error_count()} problem(s)"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = _EXPECTED.get(item["type"], item["msg"].removeprefix("Value error, "))
        got = item.get("input")
        shown = "" if item["type"] in ("missing",) or isinstance(got, dict) else f" (got {got!r:.60})"
        lines.append(f"  - key '{key}': {message}{shown}")
    return "\n".join(lines)


def _validate(model: type[M], path: Path) -> M:
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(path, exc)) from None


def _cross_check(settings: Settings) -> None:
    pipeline_file = settings.config_dir / PIPELINE_FILE
    mapped = set(settings.pipeline.columns.questions)
    known = {q.id for q in settings.codebook.questions}
    if unknown := sorted(mapped - known):
        raise ConfigError(
            f"{pipeline_file}: key 'columns.questions' maps {', '.join(unknown)}, "
            f"which {settings.config_dir / CODEBOOK_FILE} does not define (expected one of: {', '.join(sorted(known))})"
        )
    from flows.profiles import check_profiles  # the built-ins live beside the readers

    try:
        check_profiles(settings.pipeline.profiles, known)
    except ValueError as exc:
        raise ConfigError(f"{pipeline_file}: key 'profiles': {exc}") from None
    # The declarations import polars and dataframely: only a command that loads settings pays for them.
    from transforms.staging import RECORD_SPECS
    from transforms.staging.records import output_columns, table_schema

    measures = settings.pipeline.suppliers.measures
    taken = {
        c for spec in RECORD_SPECS if spec.open_number_columns for c in (*table_schema(spec), *output_columns(spec))
    }
    taken |= {f.name for spec in RECORD_SPECS for f in spec.fields} | set(LINEAGE_COLUMNS) | set(STAGING_COLUMNS)
    if clash := sorted(set(measures) & taken) or sorted({m for m in measures if measures.count(m) > 1}):
        raise ConfigError(
            f"{pipeline_file}: key 'suppliers.measures': {', '.join(clash)} is a scorecard's own column or repeated "
            "(expected new, unique names such as response_hours)"
        )
    dimensions = {q.dimension for q in settings.codebook.questions}
    if unknown := sorted(set(settings.pipeline.management.service_standards) - dimensions):
        raise ConfigError(
            f"{pipeline_file}: key 'management.service_standards' names dimension(s) {', '.join(unknown)} that no "
            f"question of {settings.config_dir / CODEBOOK_FILE} has (expected one of: {', '.join(sorted(dimensions))})"
        )
    logo = settings.logo
    if logo is not None and (not logo.is_file() or logo.suffix.lower() not in (".svg", ".png", ".jpg", ".jpeg")):
        raise ConfigError(f"{pipeline_file}: key 'report.logo': expected an existing .svg/.png/.jpg file, got {logo}")
    smtp = settings.pipeline.delivery.smtp
    if smtp is not None and smtp.user and not os.environ.get(smtp.password_env):
        raise ConfigError(
            f"{pipeline_file}: key 'delivery.smtp.user' is set but the environment variable "
            f"{smtp.password_env} (named by 'delivery.smtp.password_env') is empty"
        )


def _check_units(settings: Settings) -> None:
    """Unit, group and entitlement names must be unique, known and free of cycles."""
    where = settings.config_dir / PIPELINE_FILE
    pipeline = settings.pipeline
    names = [u.name for u in pipeline.units] + [g.name for g in pipeline.groups]
    if repeated := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(
            f"{where}: keys 'units' and 'groups' repeat the name(s) {', '.join(repeated)}; names are unique"
        )
    if reserved := [n for n in names if n.casefold() == COMPANY.casefold()]:
        raise ConfigError(f"{where}: '{reserved[0]}' is reserved for the company-wide report; choose another unit name")
    owner: dict[str, str] = {}
    for unit in pipeline.units:
        for alias in unit.aliases:
            clash = owner.get(alias.lower())
            if (clash and clash != unit.name) or (alias in names and alias != unit.name):
                raise ConfigError(
                    f"{where}: key 'units': the alias '{alias}' of '{unit.name}' also names "
                    f"'{clash or alias}' (expected each label to mean one unit)"
                )
            owner[alias.lower()] = unit.name
    known = set(names)
    for group in pipeline.groups:
        if unknown := [m for m in group.members if m not in known]:
            raise ConfigError(
                f"{where}: key 'groups': '{group.name}' lists unknown member(s) {', '.join(unknown)} "
                "(expected names of units or groups defined in this file)"
            )
    members = {g.name: g.members for g in pipeline.groups}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise ConfigError(f"{where}: key 'groups' has a cycle: {' > '.join((*path, name))}")
        for member in members.get(name, ()):
            visit(member, (*path, name))

    for group in pipeline.groups:
        visit(group.name, ())
    for recipient in pipeline.delivery.recipients:
        if recipient.units != "all" and (unknown := [u for u in recipient.units if u not in known]):
            raise ConfigError(
                f"{where}: key 'delivery.recipients': {recipient.email} is entitled to unknown unit(s) "
                f"{', '.join(unknown)} (expected 'all' or names under 'units' or 'groups')"
            )


def _check_weighting(settings: Settings) -> None:
    """Margins name a known variable, and categories its data can hold: units, modes or a question's answers."""
    where = settings.config_dir / PIPELINE_FILE
    questions = {q.id: q for q in settings.codebook.questions}
    for variable, categories in settings.pipeline.weighting.margins.items():
        key = f"weighting.margins.{variable}"
        if variable == "segment":
            known = list(settings.unit_names)
        elif variable == "mode":
            known = list(MODES)
        elif variable in questions:
            scale = questions[variable].scale
            known = [str(v) for v in range(scale.min, scale.max + 1)]
        else:
            raise ConfigError(
                f"{where}: key '{key}': weighting by '{variable}' is not possible "
                f"(expected segment, mode or a question id of {settings.config_dir / CODEBOOK_FILE})"
            )
        if unknown := [c for c in categories if c not in known]:
            raise ConfigError(
                f"{where}: key '{key}': {', '.join(map(repr, unknown))} is no category of {variable} "
                f"(expected some of: {', '.join(known)})"
            )


def load_settings(config_dir: Path) -> Settings:
    """Read and validate both configuration files; raise ConfigError naming file and key."""
    config_dir = config_dir.resolve()
    pipeline = _validate(Pipeline, config_dir / PIPELINE_FILE)
    codebook = _validate(Codebook, config_dir / CODEBOOK_FILE)
    # Optional: without a coding frame, files naming themes are quarantined with the reason.
    frame_file = config_dir / CODING_FRAME_FILE
    frame = _validate(CodingFrame, frame_file) if frame_file.exists() else CodingFrame()
    settings = Settings(
        root=config_dir.parent, config_dir=config_dir, pipeline=pipeline, codebook=codebook, coding_frame=frame
    )
    _cross_check(settings)
    _check_units(settings)
    _check_weighting(settings)
    return settings


def default_config_dir() -> Path:
    """`CSAT_CONFIG_DIR` if set, else ./config."""
    return Path(os.environ.get("CSAT_CONFIG_DIR", "config"))

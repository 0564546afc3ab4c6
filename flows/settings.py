"""Configuration an analyst edits (`config/pipeline.yaml`, `config/codebook.yaml`), validated at start.

Every error names the file, the key and the expected form, before any work starts.
Secrets never live here: the SMTP password is read from the environment variable the
configuration names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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

PIPELINE_FILE = "pipeline.yaml"
CODEBOOK_FILE = "codebook.yaml"

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$", max_length=254)]
MODES = ("online", "paper", "phone", "in_person")
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
        return self

    def by_kind(self, kind: str) -> list[Question]:
        return [q for q in self.questions if q.kind == kind]


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


class Timestamps(_Strict):
    # How to read an ambiguous numeric date such as 03/04/2025; ISO dates are never ambiguous.
    date_order: Literal["DMY", "MDY"] = "DMY"
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
    questions: dict[Identifier, ColumnNames]

    @field_validator("*", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value


class Csv(_Strict):
    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    encoding: Literal["auto", "utf-8", "cp1251", "latin-1"] = "auto"


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


class Recipient(_Strict):
    name: str = Field(min_length=1, max_length=120)
    email: EmailAddress


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
    recipients: list[Recipient] = Field(min_length=1)
    smtp: Smtp | None = None  # absent: messages are written as .eml files to the outbox


class Schedule(_Strict):
    cron: Annotated[str, StringConstraints(pattern=r"^\S+( \S+){4}$")] = "30 4 * * *"
    timezone: str = "UTC"

    _tz = field_validator("timezone")(_check_timezone)


class Paths(_Strict):
    inbox: Path = Path("var/inbox")
    store: Path = Path("var/store")
    reports: Path = Path("var/reports")
    outbox: Path = Path("var/outbox")


class Pipeline(_Strict):
    paths: Paths = Paths()
    periods: Periods = Periods()
    timestamps: Timestamps = Timestamps()
    csv: Csv = Csv()
    columns: Columns
    # Export's mode labels (case-insensitive) -> our four modes.
    mode_values: dict[Literal["online", "paper", "phone", "in_person"], list[str]]
    targets: Targets = Targets()
    benchmarks: list[Benchmark] = []
    report: Report
    delivery: Delivery
    schedule: Schedule = Schedule()


@dataclass(frozen=True)
class Settings:
    """Validated configuration with every path made absolute against the project root."""

    root: Path
    config_dir: Path
    pipeline: Pipeline
    codebook: Codebook

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else (self.root / relative)

    @property
    def inbox(self) -> Path:
        return self.path(self.pipeline.paths.inbox)

    @property
    def store(self) -> Path:
        return self.path(self.pipeline.paths.store)

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
    if missing := sorted(known - mapped):
        raise ConfigError(
            f"{pipeline_file}: key 'columns.questions' has no export column for {', '.join(missing)}"
            ' (expected: question id: "Header in your export")'
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


def load_settings(config_dir: Path) -> Settings:
    """Read and validate both configuration files; raise ConfigError naming file and key."""
    config_dir = config_dir.resolve()
    pipeline = _validate(Pipeline, config_dir / PIPELINE_FILE)
    codebook = _validate(Codebook, config_dir / CODEBOOK_FILE)
    settings = Settings(root=config_dir.parent, config_dir=config_dir, pipeline=pipeline, codebook=codebook)
    _cross_check(settings)
    return settings


def default_config_dir() -> Path:
    """`CSAT_CONFIG_DIR` if set, else ./config."""
    return Path(os.environ.get("CSAT_CONFIG_DIR", "config"))

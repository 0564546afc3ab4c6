"""The sources of customer evidence, each a declaration; flows/load_sources.py loads them all alike.

A source is: its inbox sub-folder (its name), the fields its files map and which are required,
how a file's rows get the fields a profile supplies (`prepare`), its pure staging transform
(transforms/staging/<source>.py) with its data contract, its store table and natural key, and
the column that decides which of two rows with one key is the newer. Adding a source is one
declaration in `SOURCES` plus its staging module (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from flows.profiles import BASE_FIELDS, STATUS_FIELD, ExportProfile, FieldNames
from flows.qda import prepare_coded_excerpts
from flows.settings import Codebook, Settings
from transforms.contracts import dy
from transforms.staging import RECORD_SPECS
from transforms.staging.records import RecordRules, RecordSpec, stage_records
from transforms.staging.records import contract as record_contract
from transforms.staging.records import output_columns as record_columns
from transforms.staging.records import raw_contract as record_raw_contract
from transforms.staging.surveys import (
    PeriodRules,
    RawSurveyRow,
    StagedSurveyResponse,
    SurveyRules,
    checked_survey_rows,
    split_survey_rows,
)
from transforms.timestamps import TimestampRules


@dataclass(frozen=True)
class Source:
    name: str  # inbox sub-folder, and `source` in ingest_files and quarantine
    title: str  # for people: the data-quality page and the run summary
    table: str  # the store table its rows are merged into
    key: tuple[str, ...]  # natural key of that table (the store's KEYS for it: tests/test_contracts.py checks)
    newer: str  # of two rows with one key, the one with the later value here wins
    fields: Callable[[Settings, ExportProfile], list[FieldNames]]
    # Fill what a profile supplies for fields the file has no column for (a derived id, a default mode).
    prepare: Callable[[pl.LazyFrame, ExportProfile, set[str]], pl.LazyFrame]
    # Staging: raw strings -> (valid typed rows, invalid rows with `reason`), given the file's time rules and profile.
    stage: Callable[[pl.LazyFrame, Settings, TimestampRules, ExportProfile], tuple[pl.LazyFrame, pl.LazyFrame]]
    raw_contract: Callable[[Settings], type[dy.Schema]]  # checked on the rows read, before staging
    contract: Callable[[Settings], type[dy.Schema]]  # checked on the rows written
    content: Callable[[Settings], list[str]]  # columns whose change makes a row an update
    date_fields: tuple[str, ...] = ("submitted_at",)  # read with the file's date order (the first: time zone)
    # Optional fields whose missing column is worth a note ("answers left blank"), by settings.
    noted: Callable[[Settings], set[str]] = lambda settings: set()
    blank_note: str = "left blank"
    report_unused: bool = False  # columns the file has but no field takes are listed in the file's notes
    personal: tuple[str, ...] = ()  # fields kept out of `table`, in `personal_table` by key
    personal_table: str | None = None
    # Notes on a whole file read (frame of strings, its format): what looks wrong but may be right.
    file_notes: Callable[[pl.DataFrame, str], list[str]] = lambda frame, fmt: []
    dated_by: str | None = None  # the field saying when a record arose (personal data is forgotten until then)
    description: str = ""  # what one row is, for `csat validate` and docs


# --- surveys ------------------------------------------------------------------------------


def survey_fields(settings: Settings, profile: ExportProfile) -> list[FieldNames]:
    """Base fields by the profile's names, then the configured ones; questions also by id, code and text."""
    columns = settings.pipeline.columns
    required = {"submitted_at", "segment"} | ({"response_id"} if not profile.derive_response_id else set())
    required |= {"mode"} if profile.mode is None else set()
    fields = [
        FieldNames(name, (profile.columns.get(name, ()), (), tuple(getattr(columns, name))), name in required)
        for name in BASE_FIELDS
    ]
    if profile.not_responses:
        fields.append(FieldNames(STATUS_FIELD, (profile.columns.get(STATUS_FIELD, ()),)))
    # `columns.questions` names the columns of our own format ('Q3' = staff courtesy): a tool numbers its
    # questions its own way, so its exports are matched by the codebook's ids, codes and texts only.
    ours = profile.builtin == "plain"
    fields += [
        FieldNames(
            q.id,
            (
                profile.columns.get(q.id, ()),
                (q.id, *q.code, q.text),
                tuple(columns.questions.get(q.id, ())) if ours else (),
            ),
        )
        for q in settings.codebook.questions
    ]
    return fields


def prepare_survey_rows(rows: pl.LazyFrame, profile: ExportProfile, mapped: set[str]) -> pl.LazyFrame:
    """Ids and modes a profile supplies: a prefix keeping tools' ids apart, a derived id, a default mode."""
    if "response_id" not in mapped and profile.derive_response_id:
        # No id column (Google Forms): the time stamp as written and its occurrence among equal ones,
        # in file order - the same for a response in every later cumulative export of the form.
        stamp = pl.col("submitted_at").str.strip_chars()
        occurrence = pl.int_range(1, pl.len() + 1).over(stamp)
        rows = rows.with_columns(response_id=pl.format("{}#{}", stamp, occurrence))
    if STATUS_FIELD not in mapped:
        rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias(STATUS_FIELD))
    if "mode" not in mapped and profile.mode is not None:
        rows = rows.with_columns(mode=pl.lit(profile.mode))
    if profile.id_prefix:
        stripped = pl.col("response_id").str.strip_chars()
        rows = rows.with_columns(
            response_id=pl.when(stripped != "").then(pl.lit(profile.id_prefix) + stripped).otherwise(stripped)
        )
    return rows


def codebook_frame(codebook: Codebook) -> pl.DataFrame:
    """The codebook as a small frame the pure transforms can join on."""
    return pl.DataFrame(
        {
            "question_id": [q.id for q in codebook.questions],
            "kind": [q.kind for q in codebook.questions],
            "dimension": [q.dimension for q in codebook.questions],
            "scale_min": [q.scale.min for q in codebook.questions],
            "scale_max": [q.scale.max for q in codebook.questions],
            "reverse": [q.wording == "negative" for q in codebook.questions],
            "top_box_from": [q.top_box_threshold for q in codebook.questions],
        },
        schema_overrides={"scale_min": pl.Int64, "scale_max": pl.Int64, "top_box_from": pl.Int64},
    )


def mode_labels(settings: Settings) -> dict[str, str]:
    labels = {mode: mode for mode in settings.pipeline.mode_values}  # our own names are always understood
    for mode, names in settings.pipeline.mode_values.items():
        labels |= dict.fromkeys(names, mode)
    return labels


def survey_rules(settings: Settings, timestamps: TimestampRules, profile: ExportProfile) -> SurveyRules:
    return SurveyRules(
        not_responses=frozenset(profile.not_responses),
        questions=[(q.id, q.scale.min, q.scale.max) for q in settings.codebook.questions],
        mode_labels=mode_labels(settings),
        unit_labels=settings.unit_labels(),
        timestamps=timestamps,
        periods=PeriodRules(settings.pipeline.periods.timezone, settings.pipeline.periods.start_month),
    )


def stage_surveys(
    raw: pl.LazyFrame, settings: Settings, timestamps: TimestampRules, profile: ExportProfile
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Survey staging, with the checked rows materialised once: both outputs read them (polars would
    otherwise type every row twice)."""
    rules = survey_rules(settings, timestamps, profile)
    return split_survey_rows(checked_survey_rows(raw, rules).collect().lazy(), rules)


def survey_raw_contract(settings: Settings) -> type[dy.Schema]:
    """An export row as read and mapped, with one string column per codebook question."""
    answers = {q.id: dy.String(nullable=True) for q in settings.codebook.questions}
    return type("RawSurveyRowWithAnswers", (RawSurveyRow,), answers)


def survey_contract(settings: Settings) -> type[dy.Schema]:
    """The staged response with one Int16 column per codebook question, within its scale."""
    answers = {q.id: dy.Int16(nullable=True, min=q.scale.min, max=q.scale.max) for q in settings.codebook.questions}
    return type("StagedSurveyResponseWithAnswers", (StagedSurveyResponse,), answers)


def survey_content(settings: Settings) -> list[str]:
    return [*BASE_FIELDS, *(q.id for q in settings.codebook.questions)]


SURVEYS = Source(
    name="surveys",
    title="Survey exports",
    table="responses",
    key=("response_id",),
    newer="submitted_at",
    fields=survey_fields,
    prepare=prepare_survey_rows,
    stage=stage_surveys,
    raw_contract=survey_raw_contract,
    contract=survey_contract,
    content=survey_content,
    # A missing column of a question the scorecard reads is worth a note; expectation and importance
    # items are asked in some surveys only.
    noted=lambda settings: {q.id for q in settings.codebook.questions if q.kind in ("overall", "nps", "attribute")},
    blank_note="answers left blank",
    description="one row per survey response",
)


# --- record sources (transforms/staging/records.py) ---------------------------------------

VIDEO_LABELS = ("video", "video call", "zoom", "teams", "skype", "видео", "videokõne", "videozvans")
CHANNEL_LABELS = {
    "phone": ("phone", "telephone", "call", "телефон", "telefon", "tālrunis"),
    "email": ("email", "e-mail", "e-post", "e-pasts", "эл. почта"),  # not 'mail': surveys read it as paper
    "in_person": ("in person", "in-person", "face to face", "store", "shop", "counter", "kauplus", "veikals"),
    "online": ("online", "web", "website", "chat", "app", "form"),
    "letter": ("letter", "post", "paper", "kiri", "vēstule", "письмо"),
    "social_media": ("social media", "social", "facebook", "instagram", "x", "twitter"),
}


def extra_numbers(spec: RecordSpec, settings: Settings) -> list[str]:
    """Configured numeric columns of a source (supplier measures)."""
    return list(settings.pipeline.suppliers.measures) if spec.open_number_columns else []


def record_rules(spec: RecordSpec, settings: Settings, timestamps: TimestampRules) -> RecordRules:
    """Plain values from the configuration for a record source's staging."""
    questions = settings.codebook.questions
    modes = mode_labels(settings)
    interview_modes = {label: mode for label, mode in modes.items() if mode in ("phone", "in_person")}
    choices = {
        "mode": {label.casefold(): mode for label, mode in interview_modes.items()}
        | dict.fromkeys(VIDEO_LABELS, "video"),
        "channel": {label: channel for channel, labels in CHANNEL_LABELS.items() for label in (channel, *labels)},
    }
    return RecordRules(
        timestamps=timestamps,
        periods=PeriodRules(settings.pipeline.periods.timezone, settings.pipeline.periods.start_month),
        unit_labels=settings.unit_labels(),
        choices={name: {k.casefold(): v for k, v in labels.items()} for name, labels in choices.items()},
        themes=settings.coding_frame.labels(),
        questions={n.casefold(): q.id for q in questions for n in (q.id, *q.code)},
        scales={q.id: (q.scale.min, q.scale.max) for q in questions},
        question_kinds={q.id: q.kind for q in questions},
        extra_numbers=extra_numbers(spec, settings),
    )


def percent_fractions(spec: RecordSpec) -> Callable[[pl.DataFrame, str], list[str]]:
    """A workbook's percent-formatted cells hold fractions (94.2 % is 0.942): a percent field whose values are
    all within 0-1 in a workbook is worth a note (they may be tiny percentages, so nothing is rejected)."""
    fields = [f.name for f in spec.fields if f.name.endswith("_pct")]

    def notes(frame: pl.DataFrame, fmt: str) -> list[str]:
        if fmt != "xlsx":
            return []
        found = []
        for name in fields:
            values = frame[name].str.strip_chars().cast(pl.Float64, strict=False).drop_nulls()
            if not values.is_empty() and values.max() <= 1 and values.max() > 0:  # type: ignore[operator]
                found.append(
                    f"{name}: every value is between 0 and 1 - if these are cells formatted as percent, the workbook "
                    "holds fractions (0.942 for 94.2 %) and they were read as under 1 %; format the column as "
                    "numbers holding percentages"
                )
        return found

    return notes


def record_source(
    spec: RecordSpec,
    title: str,
    description: str,
    prepare: Callable[[pl.LazyFrame, ExportProfile, set[str]], pl.LazyFrame] | None = None,
) -> Source:
    """A source declared by its typed fields: every file column found by the field's name or its other names."""

    def fields(settings: Settings, profile: ExportProfile) -> list[FieldNames]:
        declared = [
            FieldNames(f.name, (profile.columns.get(f.name, ()), (f.name, *f.names)), f.required) for f in spec.fields
        ]
        measures = [FieldNames(n, (profile.columns.get(n, ()), (n,))) for n in extra_numbers(spec, settings)]
        return declared + measures

    def stage(
        raw: pl.LazyFrame, settings: Settings, timestamps: TimestampRules, profile: ExportProfile
    ) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        return stage_records(raw, spec, record_rules(spec, settings, timestamps))

    return Source(
        name=spec.source,
        title=title,
        table=spec.table,
        key=spec.key,
        newer=spec.newer or "",
        fields=fields,
        prepare=prepare or (lambda rows, profile, mapped: rows),
        stage=stage,
        raw_contract=lambda settings: record_raw_contract(spec, extra_numbers(spec, settings)),
        contract=lambda settings: record_contract(spec, extra_numbers(spec, settings)),
        # Personal fields are no part of a record's fingerprint: row_hash must not confirm a guessed phone number.
        content=lambda settings: [
            c for c in record_columns(spec, extra_numbers(spec, settings)) if c not in spec.personal
        ],
        date_fields=spec.date_fields,
        report_unused=True,
        personal=spec.personal,
        personal_table=spec.personal_table,
        dated_by=spec.period_from,
        file_notes=percent_fractions(spec),
        description=description,
    )


_TITLES = {
    "interviews": ("Interviews", "one row per answer given in an interview"),
    "focus_group_sessions": ("Focus-group sessions", "one row per session"),
    "focus_group_participants": ("Focus-group participants", "one row per participant of a session"),
    "coded_excerpts": ("Coded excerpts", "one row per coded excerpt (focus groups, interviews, QDA exports)"),
    "complaints": ("Complaint log", "one row per complaint"),
    "supplier_scorecards": ("Supplier scorecards", "one row per supplier and period"),
    "supplier_issues": ("Supplier-reported issues", "one row per supplier, period and issue"),
    "orders": ("Orders", "one row per period, unit and product"),
    "returns": ("Returns", "one row per period, unit, product and return reason"),
    "management_expectations": ("Management's expectation estimates", "one row per manager, date and item"),
    "self_assessments": ("Service self-assessments", "one row per assessor and date (7 statements, 1-5)"),
}

SOURCES: tuple[Source, ...] = (
    SURVEYS,
    *(
        record_source(
            spec, *_TITLES[spec.source], prepare=prepare_coded_excerpts if spec.source == "coded_excerpts" else None
        )
        for spec in RECORD_SPECS
    ),
)
SOURCES_BY_NAME = {source.name: source for source in SOURCES}

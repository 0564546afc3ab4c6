"""Export profiles: every survey tool's export loads by configuration alone, dates are never swapped."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from flows.cli import app
from flows.load_sources import load_inbox, read_export
from flows.readers import UnreadableExport
from flows.scorecard_report import read_snapshot
from flows.settings import Settings, load_settings
from flows.sources import SURVEYS
from flows.store import Store
from tests.conftest import REPO, set_config

EXAMPLES = REPO / "examples" / "surveys"
# Data rows of each example (examples/surveys/README.md); header rows are not answers.
TOOL_FILES = {
    "qualtrics.csv": ("qualtrics", 34),
    "qualtrics.tsv": ("qualtrics", 29),
    "surveymonkey.csv": ("surveymonkey", 31),
    "surveymonkey.xlsx": ("surveymonkey", 27),
    "limesurvey.csv": ("limesurvey", 32),
    "limesurvey_semicolon.csv": ("limesurvey", 26),
    "google_forms.csv": ("google_forms", 33),
    "microsoft_forms.xlsx": ("microsoft_forms", 30),
    "plain_cp1251.csv": ("plain", 28),
}
REPORTED_AT = datetime(2026, 6, 1, tzinfo=UTC)


def _drop(settings: Settings, *names: str, folder: Path = EXAMPLES) -> None:
    target = settings.source_folder("surveys")
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(folder / name, target / name)


def _with_profiles(project: Path, profiles_yaml: str) -> Settings:
    """The project's settings with `profiles:` (YAML list items) added as an analyst would."""
    set_config(project / "config", "columns:\n", f"profiles:\n{profiles_yaml}columns:\n")
    return load_settings(project / "config")


def _metrics(settings: Settings, store: Store) -> pl.DataFrame:
    metrics = read_snapshot(settings, store, period="2025", now=REPORTED_AT).metrics
    return metrics.sort(metrics.columns)


def test_every_tool_export_loads_in_one_run_by_configuration_alone(project: Path, tmp_path: Path):
    """One inbox with every tool's export: each gets its profile, every data row loads, no header row counts."""
    settings = load_settings(project / "config")
    _drop(settings, *TOOL_FILES)
    store = Store(settings.store)
    outcomes = {o.file: o for o in load_inbox(settings, store)}
    for name, (profile, rows) in TOOL_FILES.items():
        outcome = outcomes[name]
        assert (outcome.status, outcome.profile) == ("loaded", profile), outcome
        assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (rows, rows, 0), outcome
    assert store.scan("responses").select(pl.len()).collect().item() == sum(r for _, r in TOOL_FILES.values())
    files = store.scan("ingest_files").select("source_file", "source", "profile").collect()
    assert dict(files.select("source_file", "profile").iter_rows()) == {k: v for k, (v, _) in TOOL_FILES.items()}
    assert set(files["source"]) == {"surveys"}


def test_tool_exports_give_the_metrics_of_the_same_answers_in_one_plain_csv(project: Path, tmp_path: Path):
    """The tools' files and all_answers.csv (the same answers, our own format) give identical metrics."""
    settings = load_settings(project / "config")
    _drop(settings, *TOOL_FILES)
    store = Store(settings.store)
    load_inbox(settings, store)

    shutil.copytree(project / "config", tmp_path / "plain" / "config")
    plain = load_settings(tmp_path / "plain" / "config")
    _drop(plain, "all_answers.csv")
    plain_store = Store(plain.store)
    [outcome] = load_inbox(plain, plain_store)
    assert outcome.rows_loaded == 270
    assert_frame_equal(_metrics(settings, store), _metrics(plain, plain_store))


def test_a_rerun_and_a_cumulative_reexport_load_nothing_twice(settings: Settings, store: Store, tmp_path: Path):
    """Google Forms exports are cumulative: the same rows again are unchanged, only new ones are new."""
    _drop(settings, "google_forms.csv")
    [first] = load_inbox(settings, store)
    assert first.rows_loaded == 33
    assert load_inbox(settings, store) == []
    lines = (EXAMPLES / "google_forms.csv").read_text(encoding="utf-8").splitlines()
    extra = lines[1].replace("02/01/2025 14:47:44", "28/12/2025 09:00:01")
    (tmp_path / "later.csv").write_text("\n".join([*lines, extra]) + "\n", encoding="utf-8")
    _drop(settings, "later.csv", folder=tmp_path)
    [later] = load_inbox(settings, store)
    assert (later.rows_read, later.rows_loaded, later.duplicates_superseded) == (34, 34, 0)
    assert store.scan("responses").select(pl.len()).collect().item() == 34


def test_day_and_month_are_never_swapped(project: Path):
    """A file whose dates contradict the profile's order is rejected naming the line, never read swapped."""
    set_config(project / "config", "date_order: DMY", "date_order: MDY")
    settings = load_settings(project / "config")
    _drop(settings, "google_forms.csv")  # DD/MM/YYYY: has days above 12
    store = Store(settings.store)
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected"
    assert "line " in outcome.message and "day-first" in outcome.message and "google_forms" in outcome.message
    assert store.version("responses") is None


def test_a_file_mixing_both_date_orders_is_rejected(settings: Settings, tmp_path: Path):
    forms = pl.read_csv(EXAMPLES / "google_forms.csv", infer_schema=False)
    day_first = forms.filter(pl.col("Timestamp").str.extract(r"^(\d+)/").cast(pl.Int32) > 12)["Timestamp"][0]
    month_first = pl.Series([day_first]).str.replace(r"^(\d+)/(\d+)/", "${2}/${1}/")[0]
    path = tmp_path / "google_forms.csv"
    forms.with_columns(pl.col("Timestamp").replace(day_first, month_first)).write_csv(path)
    with pytest.raises(UnreadableExport, match="mix day-first"):
        read_export(path, path.read_bytes(), settings, SURVEYS)


def test_date_order_auto_reads_the_files_own_order_and_refuses_to_guess(project: Path, tmp_path: Path):
    set_config(project / "config", "date_order: DMY", "date_order: auto")
    settings = load_settings(project / "config")
    path = EXAMPLES / "google_forms.csv"
    export = read_export(path, path.read_bytes(), settings, SURVEYS)
    assert export.timestamps.date_order == "DMY"
    undecidable = tmp_path / "early.csv"
    undecidable.write_text(
        "Timestamp,Overall satisfaction,Which branch did you visit?\n03/04/2025 10:00:00,4,Tallinn\n"
        "04/03/2025 11:00:00,5,Narva\n",
        encoding="utf-8",
    )
    with pytest.raises(UnreadableExport, match="fits both"):
        read_export(undecidable, undecidable.read_bytes(), settings, SURVEYS)


def test_twelve_hour_times_and_the_exports_own_time_zone(settings: Settings, store: Store):
    """SurveyMonkey's 'hh:mm:ss PM' is read on a 12-hour clock; Qualtrics' header names its time zone."""
    _drop(settings, "surveymonkey.csv", "qualtrics.csv")
    load_inbox(settings, store)
    raw = pl.read_csv(EXAMPLES / "surveymonkey.csv", skip_rows_after_header=1, infer_schema=False)
    afternoon = raw.filter(pl.col("End Date").str.ends_with("PM") & ~pl.col("End Date").str.contains(" 12:")).row(
        0, named=True
    )
    expected = (
        datetime.strptime(afternoon["End Date"], "%m/%d/%Y %I:%M:%S %p")
        .replace(tzinfo=__import__("zoneinfo").ZoneInfo("Europe/Tallinn"))
        .astimezone(UTC)
    )
    stored = (
        store.scan("responses")
        .filter(pl.col("response_id") == f"surveymonkey:{afternoon['Respondent ID']}")
        .select("submitted_at")
        .collect()
        .item()
    )
    assert stored == expected
    qualtrics = read_export(EXAMPLES / "qualtrics.csv", (EXAMPLES / "qualtrics.csv").read_bytes(), settings, SURVEYS)
    assert (
        qualtrics.timestamps.source_timezone == "Europe/Tallinn" and "named by the export" in qualtrics.timestamp_note
    )


def test_tools_small_ids_do_not_collide(settings: Settings, store: Store):
    """LimeSurvey's id 1 and Microsoft Forms' ID 1 are different responses (ids are prefixed per tool)."""
    _drop(settings, "limesurvey.csv", "microsoft_forms.xlsx")
    load_inbox(settings, store)
    ids = store.scan("responses").select("response_id").collect()["response_id"]
    assert {"limesurvey:1", "msforms:1"} <= set(ids) and ids.len() == 32 + 30


def test_a_configured_profile_is_chosen_by_file_name(project: Path, tmp_path: Path):
    """An analyst's profile (by glob, extending a built-in) wins over shape detection; validate says why."""
    set_config(
        project / "config",
        "profiles: []" if "profiles: []" in (project / "config" / "pipeline.yaml").read_text() else "columns:\n",
        "profiles:\n  - name: forms_us\n    extends: google_forms\n    files: ['forms_us_*.csv']\n"
        "    date_order: MDY\n    id_prefix: 'us:'\ncolumns:\n",
    )
    settings = load_settings(project / "config")
    forms = pl.read_csv(EXAMPLES / "google_forms.csv", infer_schema=False)
    us = forms.with_columns(pl.col("Timestamp").str.replace(r"^(\d+)/(\d+)/", "${2}/${1}/"))
    path = tmp_path / "forms_us_2025.csv"
    us.write_csv(path)
    export = read_export(path, path.read_bytes(), settings, SURVEYS)
    assert export.chosen.profile.name == "forms_us" and "forms_us_*.csv" in export.chosen.why
    assert export.timestamps.date_order == "MDY"
    result = CliRunner().invoke(app, ["validate", str(path), "--config", str(settings.config_dir)])
    assert result.exit_code == 0, result.output
    assert "profile: forms_us" in result.output and "file name matches 'forms_us_*.csv'" in result.output


def test_validate_names_the_detected_tool_and_why(settings: Settings):
    result = CliRunner().invoke(
        app, ["validate", str(EXAMPLES / "qualtrics.tsv"), "--config", str(settings.config_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "profile: qualtrics" in result.output and "ImportId" in result.output
    assert "utf-16-le (byte-order mark)" in result.output and "read 29" in result.output


def test_a_label_naming_two_columns_is_rejected_not_guessed(settings: Settings, tmp_path: Path):
    path = tmp_path / "twice.csv"
    path.write_text(
        "Response ID,Submitted,Business unit,Branch,Channel,Q1\nR1,2025-03-04 10:00,Tallinn,Narva,web,4\n",
        encoding="utf-8",
    )
    export = read_export(path, path.read_bytes(), settings, SURVEYS)
    assert export.frame["segment"].to_list() == ["Tallinn"]  # the first configured name wins
    path.write_text(
        "Response ID,Submitted,Business unit,Business unit,Channel,Q1\nR1,2025-03-04 10:00,Tallinn,Narva,web,4\n",
        encoding="utf-8",
    )
    with pytest.raises(UnreadableExport, match="titles several columns"):
        read_export(path, path.read_bytes(), settings, SURVEYS)


def test_a_file_directly_in_the_inbox_is_rejected_loudly(settings: Settings, store: Store):
    settings.inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "all_answers.csv", settings.inbox / "all_answers.csv")
    [outcome] = load_inbox(settings, store)
    assert outcome.status == "rejected" and "surveys/" in (outcome.message or "")
    assert store.version("responses") is None


def test_date_order_auto_accepts_files_without_numeric_dates(project: Path):
    set_config(project / "config", "date_order: DMY", "date_order: auto")
    settings = load_settings(project / "config")
    for name in ("qualtrics.csv", "microsoft_forms.xlsx", "plain_cp1251.csv"):
        export = read_export(EXAMPLES / name, (EXAMPLES / name).read_bytes(), settings, SURVEYS)
        assert export.frame.height == TOOL_FILES[name][1]


def test_a_twelve_hour_profile_still_reads_iso_times(settings: Settings, tmp_path: Path):
    """Workbook date cells arrive as ISO text: a 12-hour profile reads them on the 24-hour clock."""
    raw = pl.read_csv(EXAMPLES / "surveymonkey.csv", has_header=False, infer_schema=False)
    header, data = raw.head(2), raw.slice(2)
    iso = data.with_columns(pl.col("column_3").str.to_datetime("%m/%d/%Y %I:%M:%S %p").dt.strftime("%Y-%m-%d %H:%M:%S"))
    path = tmp_path / "surveymonkey_iso.csv"
    pl.concat([header, iso]).write_csv(path, include_header=False)
    [outcome] = _load_one(settings, path)
    assert (outcome.rows_read, outcome.rows_loaded) == (31, 31), outcome


def _load_one(settings: Settings, path: Path) -> list:
    _drop(settings, path.name, folder=path.parent)
    return load_inbox(settings, Store(settings.store))


def test_a_question_label_titling_two_columns_rejects_the_file(settings: Settings, tmp_path: Path):
    path = tmp_path / "two_q1.csv"
    path.write_text(
        "Response ID,Submitted,Business unit,Channel,Q1,Q1\nR1,2025-03-04 10:00,Tallinn,web,4,5\n", encoding="utf-8"
    )
    with pytest.raises(UnreadableExport, match="overall_satisfaction: its name titles several columns"):
        read_export(path, path.read_bytes(), settings, SURVEYS)


def test_file_patterns_follow_configuration_order_even_for_a_builtin_name(project: Path, tmp_path: Path):
    settings = _with_profiles(
        project, "  - name: mine\n    files: ['*.csv']\n  - name: qualtrics\n    files: ['*.csv']\n"
    )
    path = EXAMPLES / "all_answers.csv"
    export = read_export(path, path.read_bytes(), settings, SURVEYS)
    assert export.chosen.profile.name == "mine" and export.frame.height == 270


def test_a_title_line_above_the_column_titles(project: Path, tmp_path: Path):
    """header_rows 2 with labels from row 2: the title line sets neither the delimiter nor the width."""
    settings = _with_profiles(
        project, "  - name: titled\n    files: ['titled_*.csv']\n    header_rows: 2\n    label_rows: [2]\n"
    )
    path = tmp_path / "titled_2025.csv"
    body = (EXAMPLES / "all_answers.csv").read_text(encoding="utf-8")
    path.write_text("Northwind survey export 2025\n" + body, encoding="utf-8")
    export = read_export(path, path.read_bytes(), settings, SURVEYS)
    assert export.frame.height == 270 and export.table.delimiter == ","


def test_an_untouched_file_is_not_read_again_a_touched_one_is(settings: Settings, store: Store):
    """Loaded files stay in the inbox: later runs skip one with the same name, size and status-change time
    without reading it; a file rewritten in place is read again even when its modification time is set back
    (as `cp -p` or `rsync -t` do)."""
    _drop(settings, "limesurvey.csv")
    [first] = load_inbox(settings, store)
    recorded = store.scan("ingest_files").select("file_size", "file_ctime_ns").collect().row(0)
    path = settings.source_folder("surveys") / "limesurvey.csv"
    assert recorded == (path.stat().st_size, path.stat().st_ctime_ns)
    assert load_inbox(settings, store) == []
    stat = path.stat()
    changed = path.read_bytes().replace(b'"Tallinn"', b'"Narva.."')  # same size, other content
    assert len(changed) == stat.st_size and changed != path.read_bytes()
    path.write_bytes(changed)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    [again] = load_inbox(settings, store)
    assert again.sha256 != first.sha256 and again.status == "loaded"


def test_a_tools_ids_stored_bare_before_profiles_are_not_counted_twice(settings: Settings, store: Store):
    """A store upgraded from before export profiles holds a tool's ids without prefix: a re-export of the
    same responses is refused loudly (and the loaded file left lying in the inbox is only noted)."""
    raw = pl.read_csv(EXAMPLES / "limesurvey.csv", infer_schema=False)
    as_plain = raw.select(
        pl.col("id").alias("Response ID"),
        pl.col("submitdate").alias("Submitted"),
        pl.col("BRANCH").alias("Business unit"),
        pl.lit("web").alias("Channel"),
        pl.col("Q1"),
    ).drop_nulls("Response ID")
    settings.inbox.mkdir(parents=True, exist_ok=True)
    old = settings.inbox / "old_export.csv"
    as_plain.write_csv(old)
    _drop(settings, old.name, folder=settings.inbox)  # loaded as our own format, ids bare: '1', '2', ...
    before = next(o for o in load_inbox(settings, store) if o.source == "surveys")
    _drop(settings, "limesurvey.csv")
    outcomes = {o.file: o for o in load_inbox(settings, store)}
    assert outcomes["limesurvey.csv"].status == "rejected"
    assert "without the prefix 'limesurvey:'" in (outcomes["limesurvey.csv"].message or "")
    assert outcomes["old_export.csv"].status == "ignored" and "loaded already" in outcomes["old_export.csv"].message
    assert store.scan("responses").select(pl.len()).collect().item() == before.rows_loaded


def test_a_long_utf16_qualtrics_export_is_recognised(settings: Settings, tmp_path: Path):
    """Recognition reads the first lines of the decoded text (a UTF-16 newline is two bytes)."""
    lines = (EXAMPLES / "qualtrics.tsv").read_bytes().decode("utf-16").splitlines()
    header, body = lines[:3], lines[3:]
    more = [line.replace("\tR_", f"\tR_{copy}x", 1) for copy in range(4) for line in body]
    path = tmp_path / "qualtrics_long.tsv"
    path.write_bytes("\r\n".join([*header, *more, ""]).encode("utf-16"))
    export = read_export(path, path.read_bytes(), settings, SURVEYS)
    assert export.chosen.profile.name == "qualtrics" and export.frame.height == 4 * TOOL_FILES["qualtrics.tsv"][1]


def test_two_forms_sharing_an_id_space_never_overwrite_each_other(settings: Settings, store: Store, tmp_path: Path):
    """Two Google Forms with a response in the same second, or two LimeSurvey surveys both counting from 1:
    the second survey's response is quarantined naming the clash, the first stays as it was."""
    forms = pl.read_csv(EXAMPLES / "google_forms.csv", infer_schema=False)
    other_form = forms.head(1).with_columns(pl.col("Which branch did you visit?").replace({"Narva": "Tallinn"}))
    other_form = other_form.with_columns(pl.col(other_form.columns[1]).replace({"3": "5", "5": "3", "4": "1"}))
    (tmp_path / "b_other_form.csv").write_text(other_form.write_csv(), encoding="utf-8")
    _drop(settings, "google_forms.csv")
    load_inbox(settings, store)
    before = store.scan("responses").sort("response_id").collect()
    _drop(settings, "b_other_form.csv", folder=tmp_path)
    [outcome] = load_inbox(settings, store)
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (0, 1)
    reason = store.scan("quarantine").select("reason").collect().item()
    assert "holds another response under this id" in reason and "id_prefix" in reason
    assert_frame_equal(store.scan("responses").sort("response_id").collect(), before)

    lime = pl.read_csv(EXAMPLES / "limesurvey.csv", infer_schema=False).drop_nulls("id")
    shifted = lime.head(2).with_columns(pl.col("submitdate").str.replace("^2025", "2026"))  # newer: would win
    (tmp_path / "lime_other_survey.csv").write_text(shifted.write_csv(), encoding="utf-8")
    _drop(settings, "limesurvey.csv")
    load_inbox(settings, store)
    _drop(settings, "lime_other_survey.csv", folder=tmp_path)
    [other] = load_inbox(settings, store)
    assert (other.rows_loaded, other.rows_quarantined) == (0, 2)


def test_qualtrics_previews_tests_and_spam_are_no_customers_answers(settings: Settings, tmp_path: Path):
    """Qualtrics marks previews, tests and spam in Status: those rows are quarantined, never counted."""
    raw = pl.read_csv(EXAMPLES / "qualtrics.csv", has_header=False, infer_schema=False)
    header, data = raw.head(3), raw.slice(3)
    status = raw.columns[raw.row(0).index("Status")]
    marked = data.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("1"))  # Survey Preview
        .when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("8"))  # Spam
        .otherwise(pl.col(status))
        .alias(status)
    )
    path = tmp_path / "qualtrics_marked.csv"
    pl.concat([header, marked]).write_csv(path, include_header=False)
    [outcome] = _load_one(settings, path)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (34, 32, 2)
    reasons = Store(settings.store).scan("quarantine").select("reason").collect()["reason"].to_list()
    assert (
        reasons
        == ["response_status: marked by the survey tool as a preview, test or spam (not a customer's response)"] * 2
    )

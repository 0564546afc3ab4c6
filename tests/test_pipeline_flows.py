"""The nightly and on-demand flows on the demo data, under a real Prefect API, read back from their outputs.

Each scenario works on its own copy of one delivered demo project: the real store, real
PDFs (pypdf), real .eml files parsed as a mail client would.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import time
from collections import Counter
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from flows.demo_data import write_demo_exports
from flows.inbox import touch_ready_marker
from flows.scorecard_report import NoDataError
from flows.settings import Settings, load_settings
from flows.store import SCHEMAS, Store
from tests.conftest import HEADER, REPO, row, set_config

UNITS = ("Tallinn", "Rīga", "Narva", "Cape Town", "Online shop")
CARD, MAIL, PHONE = "4111 1111 1111 1111", "jane.doe@example.com", "+372 5555 1234"


def _text(pdf: Path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    return re.sub(r"[\u00a0\u202f]", " ", text)


def _flat(text: str) -> str:
    """Text with line breaks as spaces: a sentence the PDF wrapped reads as one."""
    return " ".join(text.split())


def _message(path: str | Path) -> EmailMessage:
    return email.message_from_bytes(Path(path).read_bytes(), policy=policy.default)  # type: ignore[return-value]


def _body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def _emails(settings: Settings) -> set[Path]:
    return set(settings.outbox.rglob("*.eml"))


def _copy(project: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Settings:
    """A copy of a delivered project (config, store, reports, ledger, outbox): one scenario's own world."""
    target = tmp_path_factory.mktemp(name)
    shutil.copytree(project, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("prefect"))
    return load_settings(target / "config")


def _drop(settings: Settings, name: str, lines: list[str] | bytes) -> Path:
    """Deliver a file to the inbox as a sender does: the file, then its ready marker."""
    path = settings.source_folder("surveys") / name
    path.write_bytes(lines if isinstance(lines, bytes) else ("\n".join([HEADER, *lines]) + "\n").encode())
    touch_ready_marker(path)
    return path


def _late_riga_rows(n: int = 240) -> list[str]:
    return [
        row(f"LATE-{i:04d}", when=f"2025-12-{1 + i % 28:02d} 11:{i % 60:02d}", unit="Riga", q1="2") for i in range(n)
    ]


@pytest.fixture(scope="module")
def demo(prefect_harness, tmp_path_factory) -> tuple[Settings, dict, dict, dict, dict]:
    """The demo delivered once (first run), then a second run over the same inbox."""
    from flows.pipeline import nightly

    project = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "config", project / "config")
    settings = load_settings(project / "config")
    write_demo_exports(settings.inbox)
    first = nightly(str(settings.config_dir))
    versions_after_first = Store(settings.store).versions()
    second = nightly(str(settings.config_dir))
    return settings, first, second, versions_after_first, Store(settings.store).versions()


def _flow_run(name: str):
    """A flow run as the Prefect API reports it (found by its name)."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            [run] = [r for r in await client.read_flow_runs() if r.name == name]
            return run

    return asyncio.run(read())


def _artifact(run_name: str) -> str:
    """The run-summary markdown a flow run published."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    run = _flow_run(run_name)

    async def read():
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            return "\n".join(str(a.data) for a in found)

    return asyncio.run(read())


# --- the delivered demo ---------------------------------------------------------------------------


def test_every_row_accounted_for(demo):
    """Each demo file satisfies read = loaded + quarantined; the planted bad rows are quarantined."""
    _, first, *_ = demo
    assert len(first["files"]) == 6
    for f in first["files"]:
        assert f["status"] == "loaded"
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"]
    assert first["totals"]["rows_quarantined"] == 9
    assert first["totals"]["rows_read"] == first["totals"]["rows_loaded"] + 9
    assert first["status"] == "completed" and first["issues"] == []


def test_each_recipient_gets_exactly_their_reports(demo):
    """The burst: one email per report a recipient is entitled to (company, group or unit), nothing else."""
    settings, first, *_ = demo
    received = Counter((e["recipient"], e["report"]) for e in first["emails"])
    # Both nightly kinds: the annual scorecard and the latest complete month's improvement report.
    entitled = {
        (r.email, f"{kind}/{period}/{scope}")
        for r in settings.pipeline.delivery.recipients
        for scope in r.scopes
        for kind, period in (("scorecard", "2025"), ("improvement", "2025-12"))
    }
    assert set(received) == entitled and set(received.values()) == {1}
    reports = {(r["kind"], r["segment"]): r["pdf"] for r in first["reports"]}
    scopes = {"All", "Estonia", "Rīga", "Narva", "Cape Town", "Online shop"}
    assert set(reports) == {(kind, scope) for kind in ("scorecard", "improvement") for scope in scopes}
    for sent in first["emails"]:
        message = _message(sent["path"])
        assert message["To"].addresses[0].addr_spec == sent["recipient"]
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        kind, _, scope = sent["report"].split("/", 2)
        assert attachment.get_content() == Path(reports[(kind, scope)]).read_bytes()


@pytest.mark.parametrize("kind", ["scorecard", "improvement"])
def test_unit_manager_sees_only_their_unit(demo, kind):
    """Rīga's manager: email, PDF and metrics file hold no other unit's name, figures, files or comments."""
    _, first, *_ = demo
    [sent] = [e for e in first["emails"] if e["recipient"] == "riga@northwind.example" and e["report"].startswith(kind)]
    [report] = [r for r in first["reports"] if r["segment"] == "Rīga" and r["kind"] == kind]
    message = _message(sent["path"])
    pdf = _text(Path(report["pdf"]))
    assert "Rīga" in pdf and "Rīga" in message["Subject"]
    for other in set(UNITS) - {"Rīga"}:
        assert other not in pdf, other
        assert other not in _body(message), other
    metrics = pl.read_csv(report["metrics_csv"])
    assert set(metrics["segment"]) == {"Rīga"}
    # Data quality: only files holding Rīga rows, and only Rīga's rows of them.
    riga_files = {f["file"] for f in first["files"]} - {"narva_2025.csv", "2025_survey_export.jsonl"}
    for f in first["files"]:
        assert (f["file"] in pdf) == (f["file"] in riga_files), f["file"]
    company = _text(Path(next(r["pdf"] for r in first["reports"] if r["segment"] == "All" and r["kind"] == kind)))
    assert "1,377 = 1,374 + 3" in company and "1,377 = 1,374 + 3" not in pdf


def test_small_unit_gets_a_report_that_says_so(demo):
    """Cape Town (22 answers, min_n 30): the report says too few answers, and shows no percentages or comments."""
    _, first, *_ = demo
    [report] = [r for r in first["reports"] if r["segment"] == "Cape Town" and r["kind"] == "scorecard"]
    text = _text(Path(report["pdf"]))
    assert "fewer than the 30 needed for reliable figures" in _flat(text)
    assert "Satisfied customers" not in text and "In customers’ words" not in text
    assert not re.search(r"\d+\.\d %", text.split("Data quality")[0])


def test_pdf_numbers_equal_metrics_file(demo):
    """The CSAT, NPS and response counts printed in the company PDF are those of the metrics file."""
    _, first, *_ = demo
    report = next(r for r in first["reports"] if r["segment"] == "All")
    metrics = pl.read_csv(report["metrics_csv"], schema_overrides={"period": pl.String})
    text = _text(Path(report["pdf"]))
    current = metrics.filter((pl.col("period") == report["period"]) & (pl.col("mode") == "all"))

    def value(metric: str, segment: str) -> float:
        return current.filter((pl.col("metric") == metric) & (pl.col("segment") == segment))["value"][0]

    for segment in ("All", *UNITS):
        assert f"{value('csat_top2box', segment) * 100:.1f} %" in text, segment
        assert f"{round(value('nps', segment)):+d}" in text, segment
        assert f"{int(value('responses', segment)):,}" in text, segment
    assert f"{value('mean_score', 'All'):.2f}" in text
    assert PdfReader(report["pdf"]).attachments == {}


def test_second_run_loads_and_sends_nothing(demo):
    """Re-running the nightly flow loads no rows, renders nothing, writes no store version, emails nobody again."""
    settings, first, second, versions_after_first, versions_after_second = demo
    assert second["files"] == []
    assert {e["status"] for e in second["emails"]} == {"already_delivered"}
    assert not any(r["rendered"] for r in second["reports"])
    assert versions_after_second == versions_after_first
    assert _emails(settings) == {Path(e["path"]) for e in first["emails"]}


# --- late rows: corrections to exactly the affected recipients ---------------------------------------


@pytest.fixture(scope="module")
def corrected(demo, tmp_path_factory):
    from flows.pipeline import nightly

    settings = _copy(demo[0].root, tmp_path_factory, "late")
    before = _emails(settings)
    _drop(settings, "riga_late_december.csv", _late_riga_rows())
    result = nightly(str(settings.config_dir))
    return settings, result, before


def test_late_rows_send_corrections_to_the_affected_only(corrected):
    """240 late Rīga answers change the company and Rīga reports: their recipients get a correction, nobody else."""
    settings, result, before = corrected
    sent = {(e["recipient"], e["kind"]) for e in result["emails"] if e["status"] == "written_to_outbox"}
    assert sent == {
        ("ceo@northwind.example", "correction"),
        ("cx@northwind.example", "correction"),
        ("riga@northwind.example", "correction"),
    }
    assert {e["status"] for e in result["emails"] if e["recipient"] not in {r for r, _ in sent}} == {
        "already_delivered"
    }
    # Each gets two: the annual scorecard's and December's improvement report's (both changed).
    assert {e["report"].split("/")[0] for e in result["emails"] if e["status"] == "written_to_outbox"} == {
        "scorecard",
        "improvement",
    }
    assert len(_emails(settings) - before) == 6


def test_correction_email_says_what_changed_and_why(corrected):
    """The correction is marked in the subject and first line, with the headline before and after and the cause."""
    _, result, _ = corrected
    [sent] = [e for e in result["emails"] if e["recipient"] == "riga@northwind.example" and "scorecard" in e["report"]]
    message = _message(sent["path"])
    first_line, second_line = _body(message).replace("\u00a0", " ").splitlines()[:2]
    assert message["Subject"].startswith("CORRECTION:")
    assert first_line.startswith("CORRECTION to the report sent to you on ")
    assert first_line.endswith("240 late answers from file riga_late_december.csv.")
    assert re.search(r"CSAT top-2-box 87\.6 % → \d+\.\d %; NPS \+45 → [+-]\d+; .*responses 699 → 939\.", second_line)


# --- incomplete data: held, the owner alerted; or delivered with a banner ------------------------------


@pytest.fixture(scope="module")
def held(demo, tmp_path_factory):
    from flows.pipeline import nightly

    settings = _copy(demo[0].root, tmp_path_factory, "held")
    before = _emails(settings)
    _drop(settings, "riga_late_december.csv", _late_riga_rows())
    _drop(settings, "branch_export.xlsx", b"PK\x03\x04 not really a workbook")
    first = nightly(str(settings.config_dir))
    after_held = _emails(settings)
    released = nightly(str(settings.config_dir), deliver_incomplete=True)
    return settings, first, before, after_held, released


def test_rejected_file_holds_delivery_and_alerts_the_owner(held):
    """A rejected file: nothing goes to management, the run ends 'held', the owner's alert names the file."""
    settings, first, before, after_held, _ = held
    assert first["status"] == "held"
    assert any("branch_export.xlsx could not be read" in issue for issue in first["issues"])
    held = {(e["recipient"], e["kind"]) for e in first["emails"] if e["status"] == "held"}
    assert held == {("ceo@northwind.example", "correction"), ("cx@northwind.example", "correction"),
                    ("riga@northwind.example", "correction")}  # fmt: skip
    assert {e["status"] for e in first["emails"] if not e["held"]} == {"already_delivered"}
    [alert_path] = after_held - before
    assert alert_path.parent.name == "alerts"
    alert = _message(alert_path)
    assert alert["To"].addresses[0].addr_spec == settings.pipeline.delivery.owner.email
    assert alert["Subject"].startswith("[csat] HELD")
    assert "branch_export.xlsx" in _body(alert) and "csat accept" in _body(alert)
    assert [a["kind"] for a in first["alerts"]] == ["held"]
    run = _flow_run(first["run"])
    assert (run.state.type.value, run.state.name) == ("COMPLETED", "Held")  # distinct in the UI and for automations


def test_held_run_exits_3_from_the_command_line(demo, tmp_path_factory):
    """`csat run` on incomplete data prints HELD and exits 3 (not 0), so a scheduler or a person notices."""
    from typer.testing import CliRunner

    from flows.cli import app

    settings = _copy(demo[0].root, tmp_path_factory, "held-cli")
    _drop(settings, "riga_late_december.csv", _late_riga_rows(30))
    _drop(settings, "empty.csv", b"")
    before = _emails(settings)
    dry = CliRunner().invoke(app, ["run", "--dry-run", "--config", str(settings.config_dir)])
    assert dry.exit_code == 0, dry.output  # a preview is not a held run: no Held state, no alert
    assert "WOULD HOLD" in dry.output and "would be held" in dry.output and _emails(settings) == before
    result = CliRunner().invoke(app, ["run", "--config", str(settings.config_dir)])
    assert result.exit_code == 3, result.output
    assert "HELD" in result.output and "empty.csv could not be read" in result.output


def test_a_unit_without_answers_holds_only_the_reports_it_concerns(demo, tmp_path_factory):
    """An expected, entitled unit without answers: its report is skipped, the company report (whose cover names
    it) is held, Rīga's correction goes out - and the run finishes with its summary."""
    from flows.pipeline import nightly

    settings = _copy(demo[0].root, tmp_path_factory, "missing-unit")
    set_config(settings.config_dir, "  - name: Cape Town\n", "  - name: Cape Town\n  - name: Tartu\n")
    manager = "    - name: Tartu manager\n      email: tartu@northwind.example\n      units: [Tartu]\n"
    set_config(settings.config_dir, "    - name: Thandi Nkosi\n", manager + "    - name: Thandi Nkosi\n")
    _drop(settings, "riga_late_december.csv", _late_riga_rows(40))
    result = nightly(str(settings.config_dir))
    assert result["status"] == "held"
    assert result["issues"] == ["Tartu has no answers for 2025", "Tartu has no answers for 2025-12"]
    assert {"kind": "scorecard", "skipped": "Tartu has no answers for period 2025"} in result["reports"]
    assert {"kind": "improvement", "skipped": "Tartu has no answers for 2025-12"} in result["reports"]
    by_recipient = {e["recipient"]: (e["status"], e["kind"]) for e in result["emails"]}
    assert by_recipient["riga@northwind.example"] == ("written_to_outbox", "correction")
    assert by_recipient["ceo@northwind.example"] == ("held", "correction")
    assert "tartu@northwind.example" not in by_recipient
    assert result["metrics_file"].endswith("metrics_2025_all.csv")


def test_deliver_incomplete_sends_reports_with_a_banner(held):
    """Released on purpose, the held corrections go out with a cover that says what is missing; reports whose
    figures did not change are not sent again for a banner alone; the owner is told once."""
    settings, _, _, after_held, released = held
    assert released["status"] == "completed"
    sent = {e["recipient"] for e in released["emails"] if e["status"] == "written_to_outbox"}
    assert sent == {"ceo@northwind.example", "cx@northwind.example", "riga@northwind.example"}
    [notice] = [p for p in _emails(settings) - after_held if p.parent.name == "alerts"]
    assert _message(notice)["Subject"].startswith("[csat] INCOMPLETE DATA")
    company = next(r for r in released["reports"] if r["segment"] == "All" and r["kind"] == "scorecard")
    cover = PdfReader(company["pdf"]).pages[0].extract_text()
    assert "Incomplete data" in cover and "branch_export.xlsx" in cover
    unit = next(r for r in released["reports"] if r["segment"] == "Narva" and r["kind"] == "scorecard")
    unit_cover = PdfReader(unit["pdf"]).pages[0].extract_text()
    assert "Incomplete data" in unit_cover and "branch_export.xlsx" not in unit_cover  # no file names of others


def test_half_copied_file_waits_until_complete(demo, tmp_path_factory):
    """A file still being written is not loaded (the run says so); once complete it loads, hashed as loaded."""
    from flows.pipeline import nightly

    settings = _copy(demo[0].root, tmp_path_factory, "copying")
    set_config(settings.config_dir, "settle_seconds: 120", "settle_seconds: 60")
    full = ("\n".join([HEADER, *_late_riga_rows(50)]) + "\n").encode()
    path = settings.source_folder("surveys") / "riga_upload.csv"
    path.write_bytes(full[: len(full) // 2])  # half of it, just now
    answers = Store(settings.store).scan("responses").collect().height

    waiting = nightly(str(settings.config_dir))

    assert [(f["file"], f["status"]) for f in waiting["files"]] == [("riga_upload.csv", "in_progress")]
    assert Store(settings.store).scan("responses").collect().height == answers
    path.write_bytes(full)
    settled = time.time() - 300
    os.utime(path, (settled, settled))
    loaded = nightly(str(settings.config_dir))
    [outcome] = loaded["files"]
    assert (outcome["status"], outcome["rows_loaded"]) == ("loaded", 50)
    import hashlib

    assert outcome["sha256"] == hashlib.sha256(full).hexdigest()


def test_failed_run_alerts_the_owner(demo, tmp_path_factory):
    """A run that fails emails the owner (Prefect hook) with the run, the error and what to do; no report goes out."""
    from flows.pipeline import nightly

    settings = _copy(demo[0].root, tmp_path_factory, "failing")
    set_config(settings.config_dir, "period: latest ", 'period: "2019" ')
    before = _emails(settings)
    with pytest.raises(NoDataError, match="no answers for period 2019"):
        nightly(str(settings.config_dir))
    [alert] = _emails(settings) - before
    message = _message(alert)
    assert message["Subject"].startswith("[csat] FAILED: nightly run")
    assert "no answers for period 2019" in _body(message) and "What to do" in _body(message)
    run_name = message["Subject"].removeprefix("[csat] FAILED: nightly run ")
    assert _flow_run(run_name).state.type.value == "FAILED"
    assert "# csat run " + run_name + ": failed" in _artifact(run_name)


# --- customer text never leaks ------------------------------------------------------------------------


def test_personal_data_in_a_bad_row_reaches_no_output(demo, tmp_path_factory):
    """Card number, e-mail and phone in every field of bad rows: not in the store, PDFs, emails, logs or artifacts."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from flows.pipeline import nightly

    settings = _copy(demo[0].root, tmp_path_factory, "pii")
    secret = f"{CARD} {MAIL} {PHONE}"
    bad = [
        ",".join([secret] * 13),  # every field
        ";".join([secret] * 13),  # misdelimited: one field holds the whole row
        row("PII-1", when=CARD, unit=MAIL, mode=PHONE, q1=CARD.replace(" ", ""), comment=MAIL),
    ]
    _drop(settings, "riga_pii.csv", [*_late_riga_rows(20), *bad])
    result = nightly(str(settings.config_dir), deliver_incomplete=True)
    needles = (CARD, CARD.replace(" ", ""), MAIL, PHONE, PHONE.replace(" ", ""))

    def clean(text: str, where: str) -> None:
        for needle in needles:
            assert needle not in text, f"{needle!r} found in {where}"

    assert next(f for f in result["files"] if f["file"] == "riga_pii.csv")["rows_quarantined"] == 3
    for table in SCHEMAS:
        clean(Store(settings.store).scan(table).collect().cast(pl.String).write_csv(), f"table {table}")
    for report in result["reports"]:
        clean(_text(Path(report["pdf"])), report["pdf"])
        clean(Path(report["metrics_csv"]).read_text(encoding="utf-8"), report["metrics_csv"])
    for path in settings.outbox.rglob("*.eml"):
        clean(_body(_message(path)), str(path))
    clean(str(result), "run summary")

    async def logs_and_artifacts() -> str:
        async with get_client() as client:
            [run] = [r for r in await client.read_flow_runs() if r.name == result["run"]]
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
            artifacts = await client.read_artifacts()
            return "\n".join([*(log.message for log in logs), *(str(a.data) for a in artifacts)])

    clean(asyncio.run(logs_and_artifacts()), "Prefect logs and artifacts")


def test_reproduction_is_written_beside_the_current_report(demo, tmp_path_factory):
    """Reproducing 'as of' the first run's data time gives its metrics in separate files; the current ones stay."""
    from datetime import datetime

    from flows.pipeline import report

    settings = _copy(demo[0].root, tmp_path_factory, "reproduce")
    _drop(settings, "riga_late_december.csv", _late_riga_rows())
    current = next(r for r in demo[1]["reports"] if r["segment"] == "All")
    # Naive, as a deployment parameter without an offset arrives: read as UTC.
    as_of = datetime.fromisoformat(current["data_as_of"]).replace(tzinfo=None)
    result = report(str(settings.config_dir), period="2025", as_of=as_of, recipients=["archive@northwind.example"])
    [reproduced] = result["reports"]
    assert "_as-of-" in reproduced["pdf"] and Path(reproduced["pdf"]).parent == settings.reports / "2025"
    [sent] = result["emails"]
    assert sent["recipient"] == "archive@northwind.example" and "@as-of-" in sent["report"]
    then = pl.read_csv(current["metrics_csv"]).drop("data_as_of")
    assert pl.read_csv(reproduced["metrics_csv"]).drop("data_as_of").equals(then)
    # The late file was loaded by this run, but the current report was not touched by the reproduction.
    assert (settings.reports / "2025" / Path(current["pdf"]).name).read_bytes() == Path(current["pdf"]).read_bytes()


def test_a_kind_without_a_complete_period_yet_is_told_once_not_failed(prefect_harness, tmp_path):
    """A new store with answers of this year only: no complete year for the scorecard yet, but complete months
    for the improvement report. The run completes and delivers the improvement report; the owner is told once."""
    from flows.pipeline import nightly

    project = tmp_path / "new"
    shutil.copytree(REPO / "config", project / "config")
    settings = load_settings(project / "config")
    units = ["Tallinn", "Riga", "Narva", "Cape Town", "Online shop"]
    this_year = datetime.now(UTC).year
    lines = [
        row(f"N{i}", when=f"{this_year}-0{1 + i % 2}-{1 + i % 27:02d} 10:15", unit=units[i % 5]) for i in range(200)
    ]
    settings.source_folder("surveys").mkdir(parents=True)
    _drop(settings, "first.csv", lines)
    first = nightly(str(settings.config_dir), deliver_incomplete=True)
    assert first["status"] == "completed"
    assert {"kind": "scorecard", "skipped": first["reports"][0]["skipped"]} == first["reports"][0]
    assert "no complete reporting period" in first["reports"][0]["skipped"]
    assert any(r.get("kind") == "improvement" and "pdf" in r for r in first["reports"])
    assert [a for a in first["attention"] if a.startswith("scorecard report:")]
    told = [p for p in (settings.outbox / "alerts").glob("*.eml") if "NO REPORT YET" in _message(p)["Subject"]]
    assert len(told) == 1
    again = nightly(str(settings.config_dir), deliver_incomplete=True)
    assert again["status"] == "completed" and not [a for a in again["alerts"] if a["kind"] == "attention"]
    assert [p for p in (settings.outbox / "alerts").glob("*.eml") if "NO REPORT YET" in _message(p)["Subject"]] == told

"""Configuration is validated before any work, with errors naming file, key and expected form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.load_sources import read_export
from flows.settings import ConfigError, load_settings
from flows.sources import SURVEYS
from tests.conftest import HEADER, row


def _edit(project: Path, old: str, new: str, file: str = "pipeline.yaml") -> None:
    path = project / "config" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bundled_configuration_is_valid(project: Path):
    """The configuration shipped with the repo loads and resolves paths against the project root."""
    settings = load_settings(project / "config")
    assert settings.inbox == project / "var" / "inbox"
    assert settings.codebook.by_kind("overall")[0].id == "overall_satisfaction"


def test_unknown_key_is_named_with_file(project: Path):
    """A misspelt key is rejected with the file and the dotted key path."""
    _edit(project, "  min_n: 30", "  min_nn: 30")
    with pytest.raises(ConfigError) as exc:
        load_settings(project / "config")
    assert "pipeline.yaml" in str(exc.value)
    assert "report.min_nn" in str(exc.value)
    assert "no such key" in str(exc.value)


def test_wrong_type_says_expected_form(project: Path):
    """A target written as text is rejected naming the key and the expected number."""
    _edit(project, "csat_top2box: 0.95", "csat_top2box: ninety-five")
    with pytest.raises(ConfigError, match=r"targets\.csat_top2box.*number"):
        load_settings(project / "config")


def test_missing_recipients_rejected(project: Path):
    """Delivery without any recipient is a configuration error, not a silent no-op."""
    path = project / "config" / "pipeline.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  recipients:"), text.index("  # Without 'smtp'")
    path.write_text(text[:start] + "  recipients: []\n" + text[end:], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"delivery\.recipients"):
        load_settings(project / "config")


def test_bad_email_and_timezone_rejected(project: Path):
    """An invalid address and an unknown time zone are both reported in one message."""
    _edit(project, "email: ceo@northwind.example", "email: not-an-address")
    _edit(project, "timezone: Europe/Tallinn  # an answer", "timezone: Europe/Talin  # an answer")
    with pytest.raises(ConfigError) as exc:
        load_settings(project / "config")
    message = str(exc.value)
    assert "delivery.recipients.0.email" in message
    assert "periods.timezone" in message and "IANA" in message


def test_codebook_typo_names_codebook_file(project: Path):
    """A wrong question kind in the codebook names codebook.yaml and the allowed kinds."""
    _edit(project, "kind: nps", "kind: promoter", file="codebook.yaml")
    with pytest.raises(ConfigError) as exc:
        load_settings(project / "config")
    assert "codebook.yaml" in str(exc.value)
    assert "questions.1.kind" in str(exc.value)
    assert "'overall'" in str(exc.value)


def test_questions_need_no_alias_but_an_alias_must_name_a_question(project: Path):
    """`columns.questions` is optional (a question is also found by its id, code or exact text); an alias for a
    question the codebook does not define is still caught before any file is read."""
    _edit(project, "    value_for_money: [Value for money, Q7]\n", "")
    settings = load_settings(project / "config")  # no longer an error: nothing must cover the codebook

    def value_for_money(title: str) -> tuple[list[str | None], list[str]]:
        header = HEADER.replace(",Q7,", f",{title},")
        export = read_export(Path("a.csv"), (header + "\n" + row("R1") + "\n").encode(), settings, SURVEYS)
        return export.frame["value_for_money"].to_list(), export.notes

    for title in ("The service was good value for money.", "value_for_money", "Q3_5"):  # text, id, code
        assert value_for_money(title) == (["4"], []), title
    assert value_for_money("Q7") == ([None], ["no column for value_for_money (answers left blank)"])

    _edit(
        project,
        "    staff_courtesy: [Staff courtesy, Q3]\n",
        "    staff_courtesy: [Staff courtesy, Q3]\n    value_for_mony: [Q7]\n",
    )
    with pytest.raises(ConfigError, match=r"'columns\.questions' maps value_for_mony, which .*does not define"):
        load_settings(project / "config")


def test_smtp_user_needs_password_in_environment(project: Path, monkeypatch: pytest.MonkeyPatch):
    """With an SMTP user configured, an empty password variable stops the run before any work."""
    monkeypatch.delenv("CSAT_SMTP_PASSWORD", raising=False)
    _edit(
        project,
        "  # smtp:\n",
        "  smtp:\n    host: smtp.example.com\n    port: 587\n    user: reports@example.com\n",
    )
    with pytest.raises(ConfigError, match="CSAT_SMTP_PASSWORD"):
        load_settings(project / "config")


# --- schedule (fault 24: a cron or time zone typo is a configuration error) -------------------


def _set_schedule(project: Path, *, cron: str | None = None, timezone: str | None = None) -> None:
    """Replace one key of the `schedule:` block in the copied pipeline.yaml, whatever else the file holds."""
    path = project / "config" / "pipeline.yaml"
    text = path.read_text(encoding="utf-8")
    head, block = text.split("\nschedule:\n", 1)
    for key, value in (("cron", cron), ("timezone", timezone)):
        if value is not None:
            block, count = re.subn(rf"(?m)^(\s+){key}:.*$", lambda m, k=key, v=value: f'{m[1]}{k}: "{v}"', block)
            assert count == 1, f"schedule.{key} not found in {path}"
    path.write_text(f"{head}\nschedule:\n{block}", encoding="utf-8")


def test_bundled_schedule_is_a_nightly_outside_the_dst_hours(project: Path):
    """The shipped schedule runs at 04:30 Tallinn time, outside 01:00-03:00 where a DST change skips or repeats."""
    schedule = load_settings(project / "config").pipeline.schedule
    assert (schedule.cron, schedule.timezone) == ("30 4 * * *", "Europe/Tallinn")


@pytest.mark.parametrize(
    ("cron", "why"),
    [
        ("30 4 * *", "has 4 field"),
        ("0 30 4 * * *", "has 6 field"),
        ("@daily", "has 1 field"),
        ("30 25 * * *", "bad hour"),
        ("61 4 * * *", "bad minute"),
        ("30 4 * * 8", "bad day-of-week"),
        ("30 4 31 2 *", "bad day-of-month"),  # 31 February never comes
        ("H 4 * * *", "hashed 'H'"),  # Prefect refuses croniter's random and hashed fields
        ("R 4 * * *", "random 'R'"),
        ("H/15 4 * * *", "hashed 'H'"),
        ("30 4 LW * *", "Prefect supports 'L'"),  # cronsim would accept these; Prefect does not
        ("30 4 * * 5L", "Prefect supports 'L'"),
        ("30 4 * * 1,MON#2", "'weekday#n' only on its own"),
        ("half past four", "has 3 field"),
        ("half past four * *", "bad minute"),
    ],
)
def test_invalid_cron_is_a_config_error(project: Path, cron: str, why: str):
    """A cron Prefect would refuse (or that never fires) stops at load, naming file, key and the expected form."""
    _set_schedule(project, cron=cron)
    with pytest.raises(ConfigError) as exc:
        load_settings(project / "config")
    message = str(exc.value)
    assert "pipeline.yaml" in message
    assert "key 'schedule.cron'" in message
    assert "5-field cron 'minute hour day-of-month month day-of-week'" in message
    assert why in message


VALID_CRONS = ["30 4 * * *", "*/15 6-18 * * MON-FRI", "0 5 L * *", "0 5 * * MON#2", "0 5 1,15 * *", "30 4 * JUL *"]


@pytest.mark.parametrize("cron", VALID_CRONS)
def test_valid_cron_is_accepted_as_written(project: Path, cron: str):
    """Ordinary crons, names, steps and Prefect-supported 'L' and '#' load unchanged."""
    _set_schedule(project, cron=cron)
    assert load_settings(project / "config").pipeline.schedule.cron == cron


def test_every_accepted_cron_is_accepted_by_prefect():
    """What the configuration accepts, Prefect 3.8's own validator (vendored croniter) accepts too.

    Fields are drawn from the pieces where cronsim and croniter differ ('L', 'W', '#', '?',
    'H', names, ranges, steps, lists); a disagreement would let `csat serve` fail after start.
    """
    import random

    from prefect._internal.schemas.validators import validate_cron_string

    from flows.settings import Schedule

    pieces = [
        ["*", "0", "5", "30", "59", "60", "H", "R", "L"],
        ["*", "0", "4", "12", "23", "24", "H", "L"],
        ["*", "1", "15", "28", "30", "31", "L", "LW", "1W", "?", "H"],
        ["*", "1", "2", "12", "JAN", "feb", "L", "?"],
        ["*", "0", "1", "5", "7", "MON", "thu", "5L", "L5", "1#2", "MON#2", "5#5", "?", "H"],
    ]
    rng = random.Random(2026)

    def field(options: list[str]) -> str:
        text = rng.choice(options)
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            text += rng.choice("-/,") + rng.choice(options)
        return text

    accepted = 0
    for _ in range(20_000):
        cron = " ".join(field(options) for options in pieces)
        try:
            Schedule(cron=cron)
        except ValueError:
            continue
        accepted += 1
        validate_cron_string(cron)  # raises ValueError if Prefect would refuse it
    assert accepted > 200  # the sample really exercised accepted expressions


@pytest.mark.parametrize("zone", ["Europe/Talinn", "europe/tallinn", "EET+2", "localtime", "posix/Europe/Tallinn"])
def test_invalid_schedule_timezone_is_a_config_error(project: Path, zone: str):
    """The schedule's zone must be an IANA name Prefect knows (it checks zoneinfo.available_timezones())."""
    _set_schedule(project, timezone=zone)
    with pytest.raises(ConfigError) as exc:
        load_settings(project / "config")
    message = str(exc.value)
    assert "pipeline.yaml" in message and "key 'schedule.timezone'" in message and "IANA time zone" in message


# --- units, groups and who is entitled to what -----------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  - name: Narva\n", "  - name: Narva\n  - name: Narva\n", "repeat the name(s) Narva"),
        ("    members: [Tallinn, Narva]", "    members: [Tallinn, Tartu]", "'Estonia' lists unknown member(s) Tartu"),
        ("      units: [Rīga]", "      units: [Riga city]", "entitled to unknown unit(s) Riga city"),
        ("    aliases: [Webshop]", "    aliases: [Riga]", "the alias 'Riga' of 'Online shop' also names 'Rīga'"),
        ("  - name: Cape Town\n", "  - name: all\n", "'all' is reserved for the company-wide report"),
        (
            "    members: [Tallinn, Narva]",
            "    members: [Tallinn, Baltics]\n  - name: Baltics\n    members: [Estonia]",
            "has a cycle: Estonia > Baltics > Estonia",
        ),
    ],
)
def test_unit_configuration_errors_are_named(project: Path, old: str, new: str, message: str):
    """Repeated, unknown, ambiguous, reserved or circular unit names stop the run naming the problem."""
    _edit(project, old, new)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(project / "config")


def test_scopes_units_and_labels(project: Path):
    """Groups expand to their units; export labels map exactly first, then ignoring case where unambiguous."""
    _edit(project, "  - name: Narva\n", "  - name: Narva\n  - name: Tartu\n  - name: TARTU\n")
    settings = load_settings(project / "config")
    assert settings.units_in("Estonia") == ("Tallinn", "Narva")
    assert settings.units_in("All")[:3] == ("Tallinn", "Rīga", "Narva")
    labels = settings.unit_labels()
    assert (labels["Riga"], labels["riga"], labels["webshop"]) == ("Rīga", "Rīga", "Online shop")
    assert (labels["Tartu"], labels["TARTU"]) == ("Tartu", "TARTU") and "tartu" not in labels
    assert settings.resolve_scope("rīga") == "Rīga" and settings.resolve_scope("ESTONIA") == "Estonia"
    with pytest.raises(ValueError, match="matches several units or groups"):
        settings.resolve_scope("tartu")
    with pytest.raises(ValueError, match="no unit or group called 'Riga city'; known: All, Estonia, Tallinn"):
        settings.resolve_scope("Riga city")


def test_missing_inbox_folder_is_a_configuration_error(project: Path):
    """A mistyped inbox path is reported as such, never as 'no new files'."""
    _edit(project, "inbox: var/inbox", "inbox: var/inbx")
    settings = load_settings(project / "config")
    with pytest.raises(ConfigError, match=r"key 'paths.inbox': the folder .*var/inbx does not exist"):
        settings.require_inbox()


def test_typed_recipients_see_only_units_they_may_see(project: Path):
    """The CEO may get any report, a group head their units', a unit manager only theirs; others as given."""
    settings = load_settings(project / "config")
    assert [r.name for r in settings.recipients_for("Tallinn", ["ceo@northwind.example"])] == ["Maria Tamm, CEO"]
    assert settings.recipients_for("Narva", ["estonia@northwind.example", "auditor@example.org"])[1].name == (
        "auditor@example.org"
    )
    with pytest.raises(ValueError, match="entitled to the reports of Rīga, not of Narva"):
        settings.recipients_for("Narva", ["riga@northwind.example"])
    with pytest.raises(ValueError, match="entitled to the reports of Estonia, not of All"):
        settings.recipients_for("All", ["estonia@northwind.example"])
    with pytest.raises(ValueError, match="'not-an-address' is not an e-mail address"):
        settings.recipients_for("All", ["not-an-address"])

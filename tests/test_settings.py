"""Configuration is validated before any work, with errors naming file, key and expected form."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.settings import ConfigError, load_settings


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


def test_column_mapping_must_cover_codebook(project: Path):
    """A codebook question without an export column is caught before any file is read."""
    _edit(project, "    value_for_money: [Value for money, Q7]\n", "")
    with pytest.raises(ConfigError, match="no export column for value_for_money"):
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

"""Shared fixtures: a throw-away project (the bundled config copied into a temp folder)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from flows.settings import Settings, load_settings
from flows.store import Store

REPO = Path(__file__).resolve().parents[1]

# Prefect reads these at import: a throw-away home, and no telemetry (there is no network).
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="csat-test-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture(scope="session")
def prefect_harness():
    """One real, temporary Prefect API for the whole session (it takes ~15 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder whose config/ is the bundled demo configuration; its var/ is empty.

    Files a test drops are complete at once (`intake.settle_seconds: 0`); the tests of
    settling set their own value.
    """
    shutil.copytree(REPO / "config", tmp_path / "config")
    set_config(tmp_path / "config", "settle_seconds: 120", "settle_seconds: 0")
    return tmp_path


def set_config(config_dir: Path, old: str, new: str) -> None:
    """Edit the copied pipeline.yaml as an analyst would (the text must be there exactly once)."""
    path = config_dir / "pipeline.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def settings(project: Path) -> Settings:
    return load_settings(project / "config")


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings.store)


def export_csv(settings: Settings, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Drop a CSV export with the given text into the inbox."""
    settings.source_folder("surveys").mkdir(parents=True, exist_ok=True)
    path = settings.source_folder("surveys") / name
    path.write_bytes(text.encode(encoding))
    return path


HEADER = "Response ID,Submitted,Customer,Business unit,Channel,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Comment"


def row(
    rid: str,
    when: str = "2025-03-04 10:15",
    unit: str = "Tallinn",
    mode: str = "Web",
    q1: str = "5",
    q2: str = "9",
    q6: str = "1",
    comment: str = "",
) -> str:
    return f"{rid},{when},C-{rid},{unit},{mode},{q1},{q2},4,4,4,{q6},4,{comment}"

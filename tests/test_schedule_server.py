"""`csat serve` against a real `prefect server start`: the nightly schedule fires (fault 24).

Nothing is mocked. A Prefect server runs on 127.0.0.1 (free port, throw-away PREFECT_HOME);
`csat serve` runs as a subprocess in a throw-away project whose configuration is the
repository's own, with only the schedule changed to every minute in UTC. The test waits
until a run that the *server's scheduler* created (auto-scheduled, Scheduled first) is
Completed, then checks the server never logged the SQLAlchemy 2.1 scheduler crash.
Both subprocesses run in their own process groups and are always killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtualenv running the tests: .venv/bin/prefect, .venv/bin/csat
SERVER_START_SECONDS = 120  # a fresh PREFECT_HOME runs the database migrations (~15-20 s here, more under load)
SCHEDULED_RUN_SECONDS = 240  # serve start + next minute + one nightly run, on a busy 2-core machine
BULK_DML_ERROR = "Can't evaluate bulk DML statement"  # the scheduler crash with SQLAlchemy 2.1 (stack-notes)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _base_env(prefect_home: Path) -> dict[str, str]:
    """This environment without any Prefect API or profile of the caller: only what the test sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CSAT_"))}
    env |= {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no network here
        "PYTHONUNBUFFERED": "1",
    }
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group (serve's flow-run children too), SIGKILL what is left."""
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:  # the leader is gone; children it left behind in the group go too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        return


def _start(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """A subprocess in its own process group (so that `_stop` reaches its children), output to a log file."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own virtualenv's prefect / csat
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _csat(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own virtualenv's csat
        [str(BIN / "csat"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@dataclass
class Server:
    api: str
    log: Path

    def get(self, path: str) -> Any:
        return self._call(f"{self.api}{path}")

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call(f"{self.api}{path}", json.dumps(body).encode())

    @staticmethod
    def _call(url: str, data: bytes | None = None) -> Any:
        assert url.startswith("http://127.0.0.1:")
        headers = {"Content-Type": "application/json"} if data is not None else {}
        request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - checked just above
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return json.load(response)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `prefect server start` with its scheduler, on 127.0.0.1 and a free port."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    log = home / "server.log"
    port = _free_port()
    env = _base_env(home) | {
        "PREFECT_SERVER_UI_ENABLED": "false",  # not needed; spares copying the UI build on a fresh home
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "10",  # default 60; new deployments are seen in ~5 s anyway
        "PREFECT_SERVER_LOGGING_LEVEL": "INFO",
    }
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = _start(command, env, home, log)
    server = Server(f"http://127.0.0.1:{port}/api", log)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"prefect server exited with {process.returncode}:\n{_tail(log)}")
            try:
                if server.get("/health") is True:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server not healthy after {SERVER_START_SECONDS} s:\n{_tail(log)}")
            time.sleep(1)
        yield server
    finally:
        _stop(process)


def _every_minute_project(tmp_path: Path) -> Path:
    """The repository's configuration as it is now, with only the schedule changed; demo exports in the inbox."""
    from flows.demo_data import write_demo_exports

    shutil.copytree(REPO / "config", tmp_path / "config")
    pipeline = tmp_path / "config" / "pipeline.yaml"
    text = pipeline.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^schedule:\n(?:[ \t]+.*\n?|[ \t]*\n)*", "", text)
    assert count <= 1, f"several schedule blocks in {pipeline}"
    pipeline.write_text(text.rstrip("\n") + '\n\nschedule:\n  cron: "* * * * *"\n  timezone: UTC\n', encoding="utf-8")
    settings = load_settings(tmp_path / "config")
    assert (settings.pipeline.schedule.cron, settings.pipeline.schedule.timezone) == ("* * * * *", "UTC")
    write_demo_exports(settings.inbox)  # each with its ready marker: complete at once
    return tmp_path


def _run_logs(server: Server, run_id: str) -> str:
    try:
        logs = server.post(
            "/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 60}
        )
    except urllib.error.URLError as exc:
        return f"(logs unavailable: {exc})"
    return "\n".join(f"{entry['timestamp']} {entry['message'][:300]}" for entry in logs)


def _wait_for_scheduled_completion(
    server: Server, serve: subprocess.Popen[bytes], serve_log: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deployment and its first auto-scheduled run in a Completed state; fail fast and say why otherwise."""
    deadline = time.monotonic() + SCHEDULED_RUN_SECONDS
    deployment: dict[str, Any] | None = None
    seen: dict[str, str] = {}
    while True:
        if time.monotonic() > deadline:
            pytest.fail(
                f"no scheduled run of nightly/csat-nightly completed within {SCHEDULED_RUN_SECONDS} s; "
                f"deployment: {'created' if deployment else 'never created'}; runs seen: {seen or 'none'}\n"
                f"--- csat serve:\n{_tail(serve_log)}\n--- server:\n{_tail(server.log)}"
            )
        if serve.poll() is not None:
            pytest.fail(f"`csat serve` exited with {serve.returncode}:\n{_tail(serve_log)}")
        time.sleep(3)
        try:
            if deployment is None:
                deployment = server.get("/deployments/name/nightly/csat-nightly")
            runs = server.post(
                "/flow_runs/filter",
                {"deployments": {"id": {"any_": [deployment["id"]]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 20},
            )
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # serve has not created the deployment yet (it imports the pipeline first)
                continue
            raise
        except (urllib.error.URLError, TimeoutError):  # a busy server: ask again
            continue
        for run in runs:
            state = run["state"]["type"] if run["state"] else "NONE"
            seen[run["name"]] = f"{state}{'' if run['auto_scheduled'] else ' (manual)'}"
            if not run["auto_scheduled"]:
                continue
            if state in ("FAILED", "CRASHED", "CANCELLED"):
                pytest.fail(
                    f"scheduled run {run['name']} ended {state}: {run['state'].get('message')}\n"
                    f"--- flow run logs:\n{_run_logs(server, run['id'])}\n--- csat serve:\n{_tail(serve_log)}"
                )
            if state == "COMPLETED":
                return deployment, run


def test_scheduler_creates_a_nightly_run_that_completes(prefect_server: Server, tmp_path: Path):
    """A run created by the server's scheduler for `nightly/csat-nightly` reaches Completed within minutes."""
    project = _every_minute_project(tmp_path)
    serve_log = tmp_path / "serve.log"
    env = _base_env(tmp_path / "client-prefect-home") | {
        "PREFECT_API_URL": prefect_server.api,
        "PREFECT_RUNNER_POLL_FREQUENCY": "5",  # default 10 s
    }
    serve = _start([str(BIN / "csat"), "serve", "--config", str(project / "config")], env, project, serve_log)
    try:
        deployment, completed = _wait_for_scheduled_completion(prefect_server, serve, serve_log)
        # The scheduler made this run: auto-scheduled, its first state Scheduled, on the configured schedule.
        states = sorted(
            prefect_server.get(f"/flow_run_states/?flow_run_id={completed['id']}"), key=lambda s: s["timestamp"]
        )
        assert states[0]["type"] == "SCHEDULED", [s["name"] for s in states]
        assert (states[-1]["type"], states[-1]["name"]) == ("COMPLETED", "Completed"), _run_logs(
            prefect_server, completed["id"]
        )
        assert completed["parameters"] == {"config_dir": str(project / "config")}
        schedules = [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in deployment["schedules"]]
        assert schedules == [("* * * * *", "UTC", True)]
        assert deployment["paused"] is False
        # The run did the nightly's work in the throw-away project: reports rendered and delivered.
        settings = load_settings(project / "config")
        assert (settings.reports / "2025" / "scorecard_2025_all.pdf").is_file(), _run_logs(
            prefect_server, completed["id"]
        )
        assert any(settings.outbox.rglob("*.eml"))
    finally:
        _stop(serve)
    assert BULK_DML_ERROR not in prefect_server.log.read_text(encoding="utf-8", errors="replace")


def test_serve_without_prefect_api_url_refuses_at_once(tmp_path: Path):
    """No PREFECT_API_URL: exit 2 in seconds with one line naming the variable and the runbook, no traceback."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "var" / "inbox").mkdir(parents=True)  # serve checks the inbox first
    started = time.monotonic()
    # (an ephemeral server would serve forever: _csat's 120 s timeout only catches that)
    result = _csat(["serve", "--config", str(tmp_path / "config")], _base_env(tmp_path / "prefect-home"), tmp_path)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert elapsed < 30, f"took {elapsed:.1f} s"
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "PREFECT_API_URL is not set" in lines[0] and "docs/operations.md" in lines[0]
    assert "Traceback" not in output


def test_serve_with_unreachable_server_refuses(tmp_path: Path):
    """A PREFECT_API_URL nobody answers on: exit 2 with one line, before anything is deployed."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "var" / "inbox").mkdir(parents=True)  # serve checks the inbox first
    env = _base_env(tmp_path / "prefect-home") | {"PREFECT_API_URL": f"http://127.0.0.1:{_free_port()}/api"}
    result = _csat(["serve", "--config", str(tmp_path / "config")], env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "does not answer" in output and "PREFECT_API_URL" in output and "Traceback" not in output


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("cron", "30 4 * *", "5-field cron"),
        ("cron", "H 4 * * *", "hashed 'H'"),
        ("timezone", "Europe/Talinn", "IANA time zone"),
    ],
)
def test_serve_with_bad_schedule_exits_2(tmp_path: Path, key: str, value: str, expected: str):
    """A cron or time zone typo stops `csat serve` with exit 2 and the file, key and expected form."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    pipeline = tmp_path / "config" / "pipeline.yaml"
    head, block = pipeline.read_text(encoding="utf-8").split("\nschedule:\n", 1)
    block, count = re.subn(rf"(?m)^(\s+){key}:.*$", lambda m: f'{m[1]}{key}: "{value}"', block)
    assert count == 1
    pipeline.write_text(f"{head}\nschedule:\n{block}", encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--config", str(tmp_path / "config")])
    assert result.exit_code == 2, result.output
    assert "configuration error" in result.output
    assert "pipeline.yaml" in result.output and f"key 'schedule.{key}'" in result.output
    assert expected in result.output
    assert not (tmp_path / "var").exists()  # stopped before any work


def test_serve_with_a_missing_inbox_exits_2(tmp_path: Path):
    """A mistyped inbox path would fail every scheduled night: `csat serve` refuses to start (exit 2)."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    result = CliRunner().invoke(app, ["serve", "--config", str(tmp_path / "config")])
    assert result.exit_code == 2, result.output
    assert "key 'paths.inbox'" in result.output and "does not exist" in result.output

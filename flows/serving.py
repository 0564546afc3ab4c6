"""`csat serve`: the nightly flow served to a Prefect server on the configured cron and time zone.

Prefect only schedules on a real server: without `PREFECT_API_URL` it starts a temporary
(ephemeral) API in this process, which has no scheduler ("Cannot schedule flows on an
ephemeral server") - the deployment would be created and nothing would ever run. So
serving refuses at once, before anything is created, and tells the operator what to do.

Decisions (docs/operations.md explains them to the person on call):

- Deployment `nightly/csat-nightly`, parameters `{"config_dir": <this config folder>}`,
  entry point by module path (`flows.pipeline.nightly`): runs work from any directory.
- `limit=1`: this process runs one nightly at a time. The store's own file lock
  serialises it with on-demand reports and with any other process.
- `pause_on_shutdown=False`: a stopped `csat serve` leaves the schedule active. The
  server keeps creating runs; nobody executes them, so they turn *Late* - visible in the
  UI and in `prefect flow-run ls`, and a Prefect automation can notify on them. When
  `csat serve` starts again it picks the late runs up, so a missed night is caught up
  (the nightly is idempotent: a second run finds nothing new and emails nobody twice).
  Prefect's default (`True`) would instead pause the deployment on every stop: nothing
  late, nothing shown, the report silently stops coming - the failure this module exists
  to prevent. To stop nightly runs on purpose, stop `csat serve` and pause the schedule:
  `prefect deployment schedule pause nightly/csat-nightly <schedule-id>` (starting
  `csat serve` again re-applies the deployment and makes the schedule active again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.settings import Settings

DEPLOYMENT_NAME = "csat-nightly"
FLOW_NAME = "nightly"
RUNBOOK = "docs/operations.md"


class CannotServe(Exception):
    """Serving cannot start; the message says what the operator must do (the command exits 2)."""


def prefect_api_url() -> str | None:
    """The API URL Prefect will use, or None for ephemeral mode.

    From the environment, a prefect.toml, or the profile under PREFECT_HOME - which `csat`
    points at the project's var/prefect unless set, so a profile in ~/.prefect is not read.
    """
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def check_server(url: str) -> None:
    """Refuse to serve to a server that does not answer: a clear line instead of a traceback later."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise CannotServe(
            f"the Prefect server at PREFECT_API_URL={url} does not answer ({type(problem).__name__}: "
            f"{str(problem)[:200]}); start it or correct PREFECT_API_URL (see {RUNBOOK})"
        )


def serve_nightly(settings: Settings, announce: Callable[[str], Any] = print) -> None:
    """Create or update the `csat-nightly` deployment and run its scheduled runs until stopped (Ctrl-C, SIGTERM)."""
    url = prefect_api_url()
    if not url:
        raise CannotServe(
            "PREFECT_API_URL is not set, and Prefect's temporary (ephemeral) server cannot run schedules: "
            "start a Prefect server and point to it, e.g. PREFECT_API_URL=http://127.0.0.1:4200/api "
            f"(see {RUNBOOK})"
        )
    check_server(url)

    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from flows.pipeline import nightly

    schedule = settings.pipeline.schedule
    announce(
        f"serving '{FLOW_NAME}/{DEPLOYMENT_NAME}' to {url} on cron '{schedule.cron}' in {schedule.timezone}; "
        "Ctrl-C stops (the schedule stays active: runs missed while stopped show as Late and run on restart)"
    )
    nightly.serve(
        name=DEPLOYMENT_NAME,
        schedule=Cron(schedule.cron, timezone=schedule.timezone),
        parameters={"config_dir": str(settings.config_dir)},
        description=f"Nightly csat pipeline for {settings.config_dir} (served by `csat serve`).",
        limit=1,
        pause_on_shutdown=False,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )

"""One measured stage, run as its own process by bench/nightly_scale.py; writes its in-process steps as JSON.

python bench/stages.py generate REPORT.json RESPONSES FIRST_ID OUT.csv..  # input files (bench/generate.py)
python bench/stages.py floor REPORT.json FILE.csv                # plain polars: read_csv + mean of Q1 per unit
python bench/stages.py night REPORT.json PROJECT FILE.csv..      # (new project,) files into inbox, ingest, metrics
python bench/stages.py render REPORT.json PROJECT                # metrics, report contexts, PDFs
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPORT = Path(sys.argv[2])


def process_seconds() -> float:
    """Wall time since this process started (Linux /proc): interpreter start and imports included."""
    ticks = os.sysconf("SC_CLK_TCK")
    started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
    return float(Path("/proc/uptime").read_text().split()[0]) - started


class Clock:
    """Seconds per step, in order, written to the report at each step (a stage killed half-way shows how far it got).

    The first step is the process start up to now: interpreter start and imports.
    """

    def __init__(self) -> None:
        self.steps: dict[str, float | int] = {"start + imports": process_seconds()}
        self.last = time.perf_counter()

    def lap(self, name: str, **counts: int) -> None:
        now = time.perf_counter()
        self.steps[name] = now - self.last
        self.steps |= counts
        self.last = now
        REPORT.write_text(json.dumps(self.steps))


def generate(responses: str, first_id: str, *files: str) -> None:
    """Files of `responses` each, response ids numbered on from `first_id` across the files."""
    from generate import wide_export

    clock = Clock()
    for i, file in enumerate(files):
        first = int(first_id) + i * int(responses)
        wide_export(int(responses), first, seed=first).write_csv(file)
    clock.lap("generate")


def floor(csv: str) -> None:
    import polars as pl

    clock = Clock()
    frame = pl.read_csv(csv)
    clock.lap("read_csv")
    frame.group_by("Business unit").agg(pl.col("Q1").mean())
    clock.lap("group-by mean")


def night(project: str, *files: str) -> None:
    import pipeline_api as api

    clock = Clock()
    if not Path(project, "config").exists():
        api.write_project(Path(project))  # a fresh project and store
        clock.lap("write the bench project")
    settings, store = api.open_project(Path(project))
    inbox = api.survey_inbox(settings)
    for file in map(Path, files):
        (inbox / file.name).hardlink_to(file)  # shared bytes: no copy, nothing to wait for
    clock.lap("settings, files into the inbox")
    loaded, timings = api.ingest(settings, store)
    clock.lap("ingest", rows_loaded=loaded)
    if timings:  # the ingest's own split, beside its total
        clock.steps |= {f"ingest: {k}": float(v) for k, v in timings.items()}
        clock.steps["ingest: other"] = clock.steps["ingest"] - sum(timings.values())
    snapshot = api.metrics(settings, store)
    clock.lap("metrics")
    api.report_contexts(settings, snapshot)
    clock.lap("report contexts")
    api.improvement(settings, store)
    clock.lap("improvement: metrics + contexts")


def render(project: str) -> None:
    import pipeline_api as api

    clock = Clock()
    settings, store = api.open_project(Path(project))
    contexts = api.report_contexts(settings, api.metrics(settings, store))
    clock.lap("metrics + report contexts")
    clock.lap("render", reports=api.render(settings, contexts))


def main() -> None:
    stage, _, *args = sys.argv[1:]
    {"generate": generate, "floor": floor, "night": night, "render": render}[stage](*args)


if __name__ == "__main__":
    main()

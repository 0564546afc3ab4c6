"""Benchmark: the nightly path over 1 million responses x 7 questions on this machine.

Prints wall time per stage and the process's peak memory. Run with `make bench`.
Measures, never asserts: speed is tracked here, not in the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flows.demo_data import write_benchmark_exports
from flows.load_surveys import load_inbox
from flows.scorecard_report import read_snapshot, report_scope, scope_scorecard, scorecard_meta
from flows.settings import load_settings
from flows.store import Store

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_seconds() -> float:
    """Wall time since this process started (Linux /proc): what a user waits, imports included."""
    ticks = os.sysconf("SC_CLK_TCK")
    started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
    return float(Path("/proc/uptime").read_text().split()[0]) - started


def plain_polars_baseline(files: list[Path]) -> int:
    """The least any pipeline must do: read the exports and average the overall question per unit."""
    frames = []
    for path in files:
        frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
        unit = "Business unit" if "Business unit" in frame.columns else "Branch"
        overall = "Overall satisfaction" if "Overall satisfaction" in frame.columns else "Q1"
        frames.append(frame.select(unit=pl.col(unit), overall=pl.col(overall).cast(pl.Float64)))
    return pl.concat(frames).group_by("unit").agg(pl.col("overall").mean()).height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--render", action="store_true", help="also render the scorecard PDF")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="csat-bench-") as tmp:
        project = Path(tmp)
        shutil.copytree(REPO / "config", project / "config")
        settings = load_settings(project / "config")
        store = Store(settings.store)

        t0 = time.perf_counter()
        files = write_benchmark_exports(settings.inbox, responses=args.responses)
        t1 = time.perf_counter()
        outcomes = load_inbox(settings, store)
        t2 = time.perf_counter()
        snapshot = read_snapshot(settings, store, period="latest", now=datetime.now(UTC))
        scopes = [report_scope(settings, name) for name in settings.scope_names]
        reports = [scope_scorecard(snapshot, scope, settings) for scope in scopes]
        t3 = time.perf_counter()
        read = sum(o.rows_read for o in outcomes)
        print(f"responses: {read:,} in {len(files)} files ({sum(f.stat().st_size for f in files) / 1e6:.0f} MB)")
        print(f"generate exports : {t1 - t0:6.2f} s (not part of the nightly run)")
        print(f"ingest + store   : {t2 - t1:6.2f} s")
        print(
            f"metrics          : {t3 - t2:6.2f} s ({snapshot.metrics.height} metric rows, period {snapshot.period}, "
            f"{len(reports)} scopes)"
        )
        if args.render:
            from flows.render import WORKERS_FROM_REPORTS, render_scorecards
            from transforms.report_context import build_scorecard_context

            t4 = time.perf_counter()
            contexts = [
                build_scorecard_context(
                    d.metrics, d.files, d.quarantine_reasons, d.comments, scorecard_meta(settings, d)
                )
                for d in reports
            ]
            t5 = time.perf_counter()
            pdfs = render_scorecards([(context, settings.logo) for context in contexts])
            print(f"report contexts  : {t5 - t4:6.2f} s")
            where = "worker processes, their start included" if len(pdfs) >= WORKERS_FROM_REPORTS else "this process"
            print(f"render PDFs      : {time.perf_counter() - t5:6.2f} s ({len(pdfs)} reports, in {where})")
        t5 = time.perf_counter()
        again = load_inbox(settings, store)
        print(f"re-run (no new)  : {time.perf_counter() - t5:6.2f} s, {len(again)} files processed")
        t6 = time.perf_counter()
        baseline = plain_polars_baseline(files)
        print(f"plain polars     : {time.perf_counter() - t6:6.2f} s (same files read, mean per unit: {baseline} rows)")
        print(f"ingest / baseline: {(t2 - t1) / (time.perf_counter() - t6):6.1f}x")
        print(f"peak memory      : {peak_rss_mb():,.0f} MB (this process; render workers are separate processes)")
        print(f"whole process    : {process_seconds():6.2f} s wall, imports and data generation included")


if __name__ == "__main__":
    main()

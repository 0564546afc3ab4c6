"""Benchmark: the nightly path over 1 million responses x 7 questions on this machine.

Prints wall time per stage and the process's peak memory. Run with `make bench`.
Measures, never asserts: speed is tracked here, not in the test suite.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from flows.demo_data import write_benchmark_exports
from flows.load_surveys import load_inbox
from flows.scorecard_report import gather_scorecard
from flows.settings import load_settings
from flows.store import Store

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
        data = gather_scorecard(settings, store, period="latest", now=datetime.now(UTC))
        t3 = time.perf_counter()
        read = sum(o.rows_read for o in outcomes)
        print(f"responses: {read:,} in {len(files)} files ({sum(f.stat().st_size for f in files) / 1e6:.0f} MB)")
        print(f"generate exports : {t1 - t0:6.2f} s (not part of the nightly run)")
        print(f"ingest + store   : {t2 - t1:6.2f} s")
        print(f"scorecard metrics: {t3 - t2:6.2f} s ({data.metrics.height} metric rows, period {data.period})")
        if args.render:
            from flows.pipeline import scorecard_meta
            from flows.render import render_scorecard
            from transforms.report_context import build_scorecard_context

            t4 = time.perf_counter()
            meta = scorecard_meta(settings, data)
            context = build_scorecard_context(data.metrics, data.files, data.quarantine_reasons, data.comments, meta)
            render_scorecard(context, settings.reports / "bench.pdf", logo=settings.logo)
            print(f"render PDF       : {time.perf_counter() - t4:6.2f} s (context, charts, WeasyPrint)")
        t5 = time.perf_counter()
        again = load_inbox(settings, store)
        print(f"re-run (no new)  : {time.perf_counter() - t5:6.2f} s, {len(again)} files processed")
        print(f"peak memory      : {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()

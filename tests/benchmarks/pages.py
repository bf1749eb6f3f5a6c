"""Benchmark: every portal page on the demo catalogue, rendered in process, against the 100 ms budget.

    .venv/bin/python tests/benchmarks/pages.py [--runs 7]

Creates a fresh PostgreSQL database (named after DATABASE_URL's, default
postgres://postgres@127.0.0.1:5432/modelhub_bench_pages, with a unique suffix), migrates it, loads the demo
catalogue (`manage.py seed_demo`: validation runs in process), then renders each page of
tests/marketplace/pages/test_demo_catalogue.py's list as the demo user and as the reviewer through Django's test client
(session, middleware, templates; no HTTP server, no test instrumentation), --runs times each, and prints the best and the median per
page, slowest first. Exit status 1 when a page's best is over the budget. The database is dropped at the end.
`tests/marketplace/pages/test_demo_catalogue.py` checks that every page renders in a fixed number of queries; the time is
measured here, where a busy machine is not a failed test.

Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.scratch import scratch_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelhub_bench_pages"
BUDGET_MS = 100.0


def run(runs: int) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from tests.marketplace.pages.test_demo_catalogue import pages_for

    # The test client's host; no setup_test_environment(): its template instrumentation copies every
    # template's context for the client to inspect, which is no part of serving a page.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # As the test suite serves them: the manifest (hashed names) is only built by collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    started = time.perf_counter()
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    print(f"demo catalogue loaded in {time.perf_counter() - started:.1f} s")
    users = get_user_model().objects
    report = []
    for username in ("demo", "reviewer"):
        client = Client()
        client.force_login(users.get(username=username))
        for url in pages_for(username):
            assert client.get(url).status_code == 200, (username, url)
            timings = []
            for _ in range(runs):
                start = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - start) * 1000)
            report.append((min(timings), statistics.median(timings), username, url))
    print(f"{'best':>7} {'median':>7}  user      page   (ms, {runs} runs each; budget {BUDGET_MS:.0f} ms)")
    for best, median, username, url in sorted(report, reverse=True):
        print(f"{best:7.1f} {median:7.1f}  {username:8}  {url}")
    slow = [url for best, _, _, url in report if best > BUDGET_MS]
    print(f"{len(report)} page renders, {len(slow)} over budget")
    return 1 if slow else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    base_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    with scratch_database(base_url):
        return run(args.runs)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the recovery sweeps over a registry of a million versions.

    .venv/bin/python tests/benchmarks/recovery.py [--versions 1000000] [--runs 7] [--keep]

Creates a fresh PostgreSQL database (named after DATABASE_URL's, default
postgres://postgres@127.0.0.1:5432/modelhub_bench_recovery, with a unique suffix), migrates it, and fills it with
SQL (generate_series) with --versions versions over assets of a thousand versions each, every one with its
validation report: 100 still validating, of which 50 hold a live claim, 25 a claim whose heartbeat stopped and 25
were never claimed; half approved, each with its approved review round and signature but 75, of which 25 are being
signed (heartbeat now), 25 lost their worker and 25 their message. It then times the median of --runs calls of
the validation sweep (`validations_recover_stalled`, sending nothing) and of the signing sweep
(`signatures_reclaim_lost`), with nothing lost and with the 50 lost ones of each re-sent each time, with the
index each sweep reads (`version_status_idx`, `review_round_unsigned_idx`) and without it, and prints the
ratios, and the endpoint sweep's time. It fails (exit status 1) unless the sweeps find exactly the 50 lost
validations and the 50 lost signings. The database is dropped unless --keep.

Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.scratch import scratch_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelhub_bench_recovery"
PER_ASSET = 1000


def fill(versions: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from registry.assets.models import Asset
    from registry.teams.services import team_create

    user = get_user_model().objects.create_user(username="bench", password="bench")
    team = team_create(user=user, slug="bench", name="Bench")
    assets = (versions + PER_ASSET - 1) // PER_ASSET
    Asset.objects.bulk_create(
        (Asset(kind="model", team=team, name=f"model {i}", slug=f"model-{i}") for i in range(assets)), batch_size=5000
    )
    first = Asset.objects.order_by("pk").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registry_assetversion (asset_id, version, major, minor, patch, prerelease, is_prerelease,
                status, status_changed_at, metadata, filename, sha256, size, deprecation_reason, created_by_id,
                created_at, updated_at)
            SELECT %s + (n / %s), '1.' || (n %% %s) || '.0', 1, n %% %s, 0, '', false,
                CASE WHEN n < 100 THEN 'validating' WHEN n < %s THEN 'approved' ELSE 'validated' END,
                now() - interval '1 hour', '{}', 'model.onnx', md5(n::text) || md5(n::text), 1000, '', %s,
                now(), now()
            FROM generate_series(0, %s - 1) AS n
            """,
            [first, PER_ASSET, PER_ASSET, PER_ASSET, 100 + versions // 2, user.pk, versions],
        )
        # Reports: 50 live claims (heartbeat now), 25 whose heartbeat stopped an hour ago, 25 never claimed; the
        # validating versions are the first 100 ids.
        cursor.execute("SELECT min(id) FROM registry_assetversion")
        (low,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO registry_validationreport (version_id, outcome, failed_check, reason, details, attempts,
                task_id, claimed_at, started_at, finished_at)
            SELECT id, CASE WHEN status = 'validating' THEN 'pending' ELSE 'passed' END, '', '', '{}', 1,
                CASE WHEN id - %s < 75 THEN 'task-' || id ELSE '' END,
                CASE WHEN id - %s < 50 THEN now() WHEN id - %s < 75 THEN now() - interval '1 hour' END,
                now(), CASE WHEN status = 'validating' THEN NULL ELSE now() END
            FROM registry_assetversion
            """,
            [low, low, low],
        )
        # Half the versions approved, each with its approved round: all signed but 75, whose signing is running
        # (25, heartbeat now), lost with its worker (25, heartbeat an hour ago) or lost with its message (25).
        cursor.execute(
            """
            INSERT INTO registry_reviewround (version_id, number, status, submitted_at, note, closed_at,
                approvals_required, forbid_owning_team, submitted_by_id, signing_claimed_at, signed_at)
            SELECT id, 1, 'approved', now() - interval '2 hours', '', now() - interval '1 hour', 1, false, %s,
                CASE WHEN id - %s < 125 THEN now() WHEN id - %s < 150 THEN now() - interval '1 hour'
                     WHEN id - %s < 175 THEN NULL ELSE now() - interval '1 hour' END,
                CASE WHEN id - %s < 175 THEN NULL ELSE now() END
            FROM registry_assetversion WHERE status = 'approved'
            """,
            [user.pk, low, low, low, low],
        )
        cursor.execute(
            """
            INSERT INTO registry_versionsignature (version_id, bundle, approval, key_id, signed_at)
            SELECT version_id, '{}', '{}', repeat('0', 64), signed_at FROM registry_reviewround
            WHERE signed_at IS NOT NULL
            """
        )
        cursor.execute("ANALYZE")


def median_seconds(step, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(versions: int, runs: int) -> int:
    from django.db import connection
    from django.utils import timezone

    from registry.endpoints.services import endpoints_recover_stalled
    from registry.governance.models import ReviewRound
    from registry.governance.signing import signatures_reclaim_lost
    from registry.validation import services as validation
    from registry.validation.models import ValidationReport
    from registry.versions.models import AssetVersion

    started = time.perf_counter()
    fill(versions)
    print(f"recovery sweep benchmark: {versions:,} versions, 100 validating ({time.perf_counter() - started:.0f} s)")
    logging.getLogger("registry").setLevel(logging.ERROR)  # the sweep logs every re-send
    sent: list[int] = []
    validation.task_send = lambda name, version_id: sent.append(version_id)
    found = validation.validations_recover_stalled()
    if len(found) != 50:
        print(f"   the sweep found {len(found)} lost validations, not 50")
        return 1
    # What the first sweep reset goes back to lost, so every timed sweep does the same work.
    snapshot = list(ValidationReport.objects.filter(version_id__in=found).values_list("pk", flat=True))

    def validation_sweep() -> None:
        ValidationReport.objects.filter(pk__in=snapshot).update(task_id="", claimed_at=None)
        AssetVersion.objects.filter(pk__in=found).update(status_changed_at="2000-01-01T00:00:00Z")
        validation.validations_recover_stalled()

    lost_signings = signatures_reclaim_lost()
    if len(lost_signings) != 50:
        print(f"   the sweep found {len(lost_signings)} lost signings, not 50")
        return 1
    lost_rounds = list(ReviewRound.objects.filter(version_id__in=lost_signings).values_list("pk", flat=True))

    def signing_sweep() -> None:
        hour_ago = timezone.now() - timedelta(hours=1)
        ReviewRound.objects.filter(pk__in=lost_rounds).update(signing_claimed_at=hour_ago)
        signatures_reclaim_lost()

    timings = {}
    for index in ("with", "without"):
        if index == "without":
            with connection.cursor() as cursor:
                cursor.execute("DROP INDEX version_status_idx")
                cursor.execute("DROP INDEX review_round_unsigned_idx")
                cursor.execute("ANALYZE registry_assetversion")
                cursor.execute("ANALYZE registry_reviewround")
        validation_sweep()  # leaves nothing lost: the idle sweep below is the usual one
        timings[index, "validation", "idle"] = median_seconds(validation.validations_recover_stalled, runs)
        timings[index, "validation", "busy"] = median_seconds(validation_sweep, runs)
        signing_sweep()
        timings[index, "signing", "idle"] = median_seconds(signatures_reclaim_lost, runs)
        timings[index, "signing", "busy"] = median_seconds(signing_sweep, runs)
    endpoints = median_seconds(endpoints_recover_stalled, runs)
    for sweep, index in (("validation", "version_status_idx"), ("signing", "review_round_unsigned_idx")):
        for case, what in (("idle", "nothing lost"), ("busy", f"50 lost {sweep}s re-sent")):
            fast, slow = timings["with", sweep, case], timings["without", sweep, case]
            print(f"   {sweep} sweep, {what}: {fast * 1000:.1f} ms with {index}, "
                  f"{slow * 1000:.1f} ms without ({slow / fast:.1f}x)")  # fmt: skip
    print(f"   endpoint sweep (no endpoints): {endpoints * 1000:.1f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    with scratch_database(os.environ.get("DATABASE_URL", DEFAULT_URL), keep=args.keep):
        return run(args.versions, args.runs)


if __name__ == "__main__":
    sys.exit(main())

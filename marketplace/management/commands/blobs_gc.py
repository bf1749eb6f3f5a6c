from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from registry.artifacts.storage import blobs_collect_garbage
from registry.endpoints.backends.kubernetes import published_copies_collect_garbage


class Command(BaseCommand):
    help = (
        "Delete stored blobs that no version uses any more (after deleted assets or failed uploads), and the "
        "copies published for the kubernetes endpoint backend that no live endpoint serves."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours", type=int, default=24, help="Only blobs created at least this long ago (default 24)."
        )
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted.")

    def handle(self, *args, older_than_hours, dry_run, **options):
        older_than = timezone.now() - timedelta(hours=older_than_hours)
        removed = blobs_collect_garbage(older_than=older_than, dry_run=dry_run)
        copies = published_copies_collect_garbage(older_than=older_than, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for sha256 in removed:
            self.stdout.write(f"{verb} {sha256}")
        for sha256 in copies:
            self.stdout.write(f"{verb} runtime/{sha256}/")
        self.stdout.write(
            f"{len(removed)} blob(s) and {len(copies)} published runtime cop{'y' if len(copies) == 1 else 'ies'} "
            f"{verb}."
        )

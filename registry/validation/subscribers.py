"""Every new version is validated (registry.kernel.events)."""

from registry.kernel.events import subscribe
from registry.validation.models import ValidationReport
from registry.validation.services import validation_enqueue_on_commit
from registry.versions.events import VersionCreated


@subscribe(VersionCreated)
def validate_new_version(event: VersionCreated) -> None:
    """A pending report with the version (so the recovery sweep sees it), and the check queued on commit."""
    ValidationReport.objects.create(version=event.version)
    validation_enqueue_on_commit(event.version.pk)

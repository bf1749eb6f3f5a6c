"""Every new version is validated, and an invalid one again when a new input example may let it pass
(registry.kernel.events)."""

from registry.examples.events import InputExampleChanged
from registry.kernel.events import subscribe
from registry.validation.models import ValidationReport
from registry.validation.services import validation_enqueue_on_commit, validation_restart
from registry.versions.events import VersionCreated


@subscribe(VersionCreated)
def validate_new_version(event: VersionCreated) -> None:
    """A pending report with the version (so the recovery sweep sees it), and the check queued on commit."""
    ValidationReport.objects.create(version=event.version)
    validation_enqueue_on_commit(event.version.pk)


@subscribe(InputExampleChanged)
def validate_again_with_the_new_example(event: InputExampleChanged) -> None:
    """A version that failed at its smoke inference or its example is validated on the new one (or, removed,
    on generated inputs); other versions keep their outcome, as they do when their card changes."""
    validation_restart(version_id=event.version.pk)

"""An input example declared at upload (registry.kernel.events): checked before the upload stores a byte, kept
with the version."""

from registry.examples.services import input_example_create, input_example_parse_upload
from registry.kernel.events import subscribe
from registry.versions.events import VersionCreated, VersionUploading


@subscribe(VersionUploading)
def resolve_declared_input_example(event: VersionUploading) -> None:
    event.resolved["input_example"] = input_example_parse_upload(
        asset=event.asset, value=event.declared.get("input_example")
    )


@subscribe(VersionCreated)
def record_declared_input_example(event: VersionCreated) -> None:
    example = event.resolved.get("input_example")
    if example is not None:
        input_example_create(user=event.user, version=event.version, example=example)

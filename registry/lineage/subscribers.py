"""Lineage declared at upload (registry.kernel.events): checked before the upload stores a byte, recorded
with the version."""

from registry.kernel.events import subscribe
from registry.lineage.services import lineage_create_edges, lineage_parse_upload
from registry.versions.events import VersionCreated, VersionUploading


@subscribe(VersionUploading)
def resolve_declared_lineage(event: VersionUploading) -> None:
    event.resolved["lineage"] = lineage_parse_upload(
        user=event.user, source_asset=event.asset, lineage=event.declared.get("lineage")
    )


@subscribe(VersionCreated)
def record_declared_lineage(event: VersionCreated) -> None:
    targets = event.resolved.get("lineage")
    if targets:
        lineage_create_edges(user=event.user, source=event.version, targets=targets)

"""What the versions area announces (registry.kernel.events); the areas that react subscribe in their own
`subscribers.py`: lineage records what an upload declares, validation checks every new version."""

from dataclasses import dataclass, field

from registry.assets.models import Asset
from registry.versions.models import AssetVersion


@dataclass(frozen=True)
class VersionUploading:
    """A new version of `asset` passed the upload's own checks and is about to be stored. A subscriber checks
    what the upload declares for its area (`declared`, by name: "lineage") and raises a domain error to refuse
    the upload before a byte is stored; what it resolved goes into `resolved`, handed on to VersionCreated."""

    user: object
    asset: Asset
    declared: dict
    resolved: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VersionCreated:
    """The version row and its files exist in the current transaction, status `validating`; `resolved` is
    what VersionUploading's subscribers resolved. A subscriber's rows commit or roll back with the version."""

    user: object
    version: AssetVersion
    resolved: dict

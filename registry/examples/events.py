"""What the examples area announces (registry.kernel.events): validation subscribes, to validate again a
version that failed for want of a fitting input example."""

from dataclasses import dataclass

from registry.versions.models import AssetVersion


@dataclass(frozen=True)
class InputExampleChanged:
    """The input example of `version` was set, replaced or removed (`removed`) after upload, in the current
    transaction, which holds the version's asset lock (registry.versions.release's lock order)."""

    user: object
    version: AssetVersion
    removed: bool = False

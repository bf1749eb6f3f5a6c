"""What the assets area announces (registry.kernel.events); the areas that react subscribe in their own
`subscribers.py`."""

from dataclasses import dataclass

from registry.assets.models import Asset


@dataclass(frozen=True)
class AssetChanged:
    """An asset row was created (`before` None), changed, or deleted (`after` None) in the current transaction.
    `before` is the row as it was when locked (a copy, if the publisher changes the row it read), `after` as
    saved. Search keeps its index in step with it."""

    before: Asset | None
    after: Asset | None


@dataclass(frozen=True)
class AssetDeleting:
    """An asset and its versions are about to be deleted; a subscriber that raises a domain error refuses it
    (an endpoint still serving one of its versions does)."""

    asset: Asset

"""Search keeps its index in step with the catalogue's changes (registry.kernel.events)."""

from registry.assets.events import AssetChanged
from registry.kernel.events import subscribe
from registry.search.backends.base import AssetFacts
from registry.search.index import asset_indexed


@subscribe(AssetChanged)
def index_asset_change(event: AssetChanged) -> None:
    asset_indexed(
        before=AssetFacts.of(event.before) if event.before is not None else None,
        after=AssetFacts.of(event.after) if event.after is not None else None,
    )

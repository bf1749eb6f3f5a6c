from django.db.models import Prefetch, QuerySet

from marketplace.assets.models import Asset
from marketplace.assets.selectors import asset_get
from registry.artifacts.models import VersionFile
from registry.errors import NotFound
from registry.versions.models import AssetVersion


def version_list(*, asset: Asset) -> QuerySet[AssetVersion]:
    """Versions of an asset the caller can already see (get it with marketplace's `asset_get`)."""
    return (AssetVersion.objects.filter(asset=asset)
            .select_related("asset", "validation", "created_by")
            .prefetch_related(Prefetch("files", queryset=VersionFile.objects.select_related("blob")), "aliases"))


def version_get(*, asset: Asset, version: str) -> AssetVersion:
    found = version_list(asset=asset).filter(version=version).first()
    if found is None:
        raise NotFound(f"'{asset.slug}' has no version '{version}'.")
    return found


def visible_version_get(*, user, team: str, slug: str, version: str) -> AssetVersion:
    """Version `version` of asset `team/slug` if the caller may see the asset; NotFound otherwise."""
    return version_get(asset=asset_get(user=user, team=team, slug=slug), version=version)


def version_file_get(*, version: AssetVersion, path: str | None) -> VersionFile:
    """The named file of a version, or its primary file when no path is given."""
    files = list(version.files.all())
    if path:
        match = next((f for f in files if f.path == path), None)
        if match is None:
            raise NotFound(f"Version {version.version} has no file '{path}'; it has: "
                           f"{', '.join(f.path for f in files)}.")
        return match
    return next(f for f in files if f.is_primary)

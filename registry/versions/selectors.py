import base64
import binascii
from dataclasses import dataclass

from django.db.models import BooleanField, Prefetch, QuerySet
from django.db.models.expressions import OrderBy, RawSQL

from registry.artifacts.models import VersionFile
from registry.assets.models import Asset
from registry.assets.selectors import asset_get
from registry.kernel.errors import InvalidInput, NotFound
from registry.versions.models import AssetVersion, VersionMetric, VersionTag
from registry.versions.semver import parse_semver

# The precedence key, every column descending (migration 0009's index): a release above its pre-releases.
_T = "registry_assetversion"
_PRECEDENCE = f'"{_T}"."major", "{_T}"."minor", "{_T}"."patch", (NOT "{_T}"."is_prerelease"), "{_T}"."prerelease"'


def _beyond(key: tuple, *, below: bool) -> RawSQL:
    """Versions whose precedence key is below (or above) `key`: a row comparison the index answers."""
    return RawSQL(f"({_PRECEDENCE}) {'<' if below else '>'} (%s, %s, %s, %s, %s)", key, output_field=BooleanField())


def _by_precedence(*, descending: bool) -> list[OrderBy]:
    return [OrderBy(RawSQL(column, ()), descending=descending) for column in _PRECEDENCE.split(", ")]


@dataclass(frozen=True)
class VersionPage:
    versions: list[AssetVersion]  # newest first; `created_by` loaded, `alias_names` set; metadata, signature deferred
    count: int  # every version of the asset
    next_cursor: str | None
    previous_cursor: str | None


def _cursor(version: str, backwards: bool) -> str:
    return base64.urlsafe_b64encode(f"{'b' if backwards else 'a'}:{version}".encode()).decode().rstrip("=")


def _cursor_key(raw: str) -> tuple[tuple, bool]:
    try:
        direction, _, version = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().partition(":")
        semver = parse_semver(version) if direction in ("a", "b") and len(raw) <= 200 else None
    except (binascii.Error, ValueError, UnicodeDecodeError, InvalidInput):
        semver = None
    if semver is None:
        raise InvalidInput(
            "cursor: not a cursor of this list; use the `next` or `previous` link as given.", field="cursor"
        )
    return (semver.major, semver.minor, semver.patch, not semver.prerelease, semver.prerelease), direction == "b"


def version_page(
    *,
    asset: Asset,
    cursor: str | None = None,
    size: int = 20,
    tags: list[tuple[str, str | None]] = (),
    metrics: list[dict] = (),
) -> VersionPage:
    """One page of an asset the caller can already see, newest first, by keyset: one index seek per page
    whatever the number of versions (the count is the asset's denormalised `version_count`). With `tags`
    ([(key, value or None for any value)]) or `metrics` (VersionMetric lookups), only the versions matching every
    one of them (and their count)."""
    # Without the JSON columns (metadata, signature: the detail's) and without prefetch machinery: a page of
    # 100 is three small queries and 100 light objects.
    qs = AssetVersion.objects.filter(asset=asset).select_related("created_by").defer("metadata", "signature")
    for key, value in tags:
        qs = qs.filter(pk__in=VersionTag.objects.filter(key=key, **({"value": value} if value is not None else {}))
                       .values("version_id"))  # fmt: skip
    for lookup in metrics:  # registry.versions.metrics.metric_filters
        qs = qs.filter(pk__in=VersionMetric.objects.filter(**lookup).values("version_id"))
    count = asset.version_count if not (tags or metrics) else qs.order_by().count()
    backwards = False
    if cursor is not None:
        key, backwards = _cursor_key(cursor)
        qs = qs.filter(_beyond(key, below=not backwards))
    rows = list(qs.order_by(*_by_precedence(descending=not backwards))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    names: dict[int, list[str]] = {row.pk: [] for row in rows}
    alias_model = AssetVersion._meta.get_field("aliases").related_model  # governance's Alias, by relation
    for version_id, name in alias_model.objects.filter(version_id__in=list(names)).values_list("version_id", "name"):
        names[version_id].append(name)
    labels: dict[int, dict[str, str]] = {row.pk: {} for row in rows}
    for version_id, key, value in VersionTag.objects.filter(version_id__in=list(names)).values_list(
        "version_id", "key", "value"
    ):
        labels[version_id][key] = value
    for row in rows:
        row.alias_names = sorted(names[row.pk])
        row.tag_values = dict(sorted(labels[row.pk].items()))
    has_next, has_previous = (True, more) if backwards else (more, cursor is not None)
    return VersionPage(
        versions=rows,
        count=count,
        next_cursor=_cursor(rows[-1].version, False) if rows and has_next else None,
        previous_cursor=_cursor(rows[0].version, True) if rows and has_previous else None,
    )


def version_list(*, asset: Asset) -> QuerySet[AssetVersion]:
    """Versions of an asset the caller can already see (get it with marketplace's `asset_get`)."""
    return (
        AssetVersion.objects.filter(asset=asset)
        .select_related("asset__team", "validation", "created_by")
        .prefetch_related(Prefetch("files", queryset=VersionFile.objects.select_related("blob")), "aliases", "tags")
    )


def version_get(*, asset: Asset, version: str) -> AssetVersion:
    found = version_list(asset=asset).filter(version=version).first()
    if found is None:
        raise NotFound(f"'{asset.slug}' has no version '{version}'.")
    return found


def version_below(*, version: AssetVersion, statuses) -> AssetVersion | None:
    """The newest version of the same asset that `version` outranks and whose status is one of `statuses`, or
    None: one index seek, however many versions the asset has."""
    key = (version.major, version.minor, version.patch, not version.is_prerelease, version.prerelease)
    return (
        AssetVersion.objects.filter(asset_id=version.asset_id, status__in=list(statuses))
        .filter(_beyond(key, below=True))
        .order_by(*_by_precedence(descending=True))
        .first()
    )


def visible_version_get(*, user, team: str, slug: str, version: str) -> AssetVersion:
    """Version `version` of asset `team/slug` if the caller may see the asset; NotFound otherwise."""
    return version_get(asset=asset_get(user=user, team=team, slug=slug), version=version)


def version_file_get(*, version: AssetVersion, path: str | None) -> VersionFile:
    """The named file of a version, or its primary file when no path is given."""
    files = list(version.files.all())
    if path:
        match = next((f for f in files if f.path == path), None)
        if match is None:
            raise NotFound(
                f"Version {version.version} has no file '{path}'; it has: {', '.join(f.path for f in files)}."
            )
        return match
    return next(f for f in files if f.is_primary)

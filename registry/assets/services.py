import copy
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from license_expression import ExpressionError, get_spdx_licensing

from registry.assets.events import AssetChanged, AssetDeleting
from registry.assets.models import Asset, AssetKind, Tag
from registry.kernel.access import Permission, Visibility, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, InvalidInput
from registry.kernel.events import Event, publish
from registry.kernel.lib.validation import raise_invalid
from registry.teams.models import Team

MAX_TAGS = 20
MAX_DESCRIPTION_CHARS = 100_000
EDITABLE_FIELDS = ("name", "summary", "description", "tags", "license", "task", "framework", "visibility")
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
_LICENSE_REF_RE = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")
_licensing = get_spdx_licensing()


def normalize_tags(tags) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, list | tuple):
        raise InvalidInput("tags: give a list of tags.", field="tags")
    result: list[str] = []
    for tag in tags:
        name = str(tag).strip().lower()
        if not _SLUG_RE.match(name) or len(name) > 50:
            raise InvalidInput(
                f"tags: '{tag}' is not a valid tag; use lowercase letters, digits and '-' (at most 50 characters).",
                field="tags",
            )
        if name not in result:
            result.append(name)
    if len(result) > MAX_TAGS:
        raise InvalidInput(f"tags: at most {MAX_TAGS} tags per asset.", field="tags")
    return result


def normalize_license(value: str) -> str:
    """An SPDX licence identifier or expression ('MIT', 'Apache-2.0 OR MIT', 'LicenseRef-acme')."""
    value = (value or "").strip()
    if not value or _LICENSE_REF_RE.match(value):
        return value
    try:
        info = _licensing.validate(value)
        problems, normalized = info.errors, info.normalized_expression
    except Exception:  # the library's own error path fails on some inputs ("MIT AND")
        problems, normalized = [_license_parse_error(value)], None
    if problems or not normalized:
        raise InvalidInput(
            f"license: '{value}' is not an SPDX licence identifier or expression: "
            f"{'; '.join(problems) or 'invalid expression'} (examples: MIT, Apache-2.0, "
            "CC-BY-4.0, Apache-2.0 OR MIT, LicenseRef-yourname).",
            field="license",
        )
    return normalized


def _license_parse_error(value: str) -> str:
    try:
        _licensing.parse(value, validate=True, strict=True)
    except ExpressionError as exc:
        return str(exc)
    except Exception:
        pass
    return "invalid expression"


def _normalize_task(value: str) -> str:
    value = (value or "").strip().lower()
    if value and not _SLUG_RE.match(value):
        raise InvalidInput(
            f"task: '{value}' is not a task name; use lowercase words joined by '-' "
            "(for example tabular-classification).",
            field="task",
        )
    return value


def _apply_fields(asset: Asset, fields: dict) -> list[str] | None:
    """Copy cleaned editable fields onto `asset`; returns the tag list when tags were given."""
    tags = None
    for field, value in fields.items():
        if field not in EDITABLE_FIELDS:
            raise InvalidInput(f"{field}: this field cannot be changed.", field=field)
        if field == "tags":
            tags = normalize_tags(value)
        elif field == "license":
            asset.license = normalize_license(value)
        elif field == "task":
            asset.task = _normalize_task(value)
        elif field == "description" and len(value or "") > MAX_DESCRIPTION_CHARS:
            raise InvalidInput(f"description: at most {MAX_DESCRIPTION_CHARS} characters.", field="description")
        else:
            setattr(asset, field, value if value is not None else "")
    return tags


def _save_tags(asset: Asset, tags: list[str] | None) -> None:
    if tags is not None:
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=tags)}
        for name in tags:
            if name not in existing:
                existing[name], _ = Tag.objects.get_or_create(name=name)
        asset.tags.set([existing[name] for name in tags])
        asset.tags_text = " ".join(tags)
        Asset.objects.filter(pk=asset.pk).update(tags_text=asset.tags_text)


def asset_create(*, user, team: Team, kind: str, name: str, slug: str = "", **fields) -> Asset:
    """Register an asset owned by `team`. The caller must be a member of that team.

    Slugs are unique per team, so the answer never depends on other teams' (private) assets.
    """
    require(
        user,
        Permission.ASSET_CREATE,
        team,
        f"You are not a member of the team '{team.slug}', so you cannot add assets to it.",
    )
    if kind not in AssetKind.values:
        raise InvalidInput(f"kind: '{kind}' is not one of {', '.join(AssetKind.values)}.", field="kind")
    slug = (slug or slugify(name or "")).strip()
    asset = Asset(
        kind=kind,
        team=team,
        name=name,
        slug=slug,
        created_by=user,
        visibility=fields.pop("visibility", Visibility.INTERNAL),
    )
    tags = _apply_fields(asset, fields)
    try:
        asset.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise_invalid(exc)
    try:
        with transaction.atomic():
            asset.save()
            _save_tags(asset, tags or [])
            publish(AssetChanged(before=None, after=asset))
            audit_record(
                actor=user,
                action=Event.ASSET_CREATED,
                target=asset,
                team=team,
                data={"kind": kind, "visibility": asset.visibility},
            )
    except IntegrityError:
        if not Asset.objects.filter(team=team, slug=slug).exists():
            raise
        raise Conflict(
            f"The team '{team.slug}' already has an asset with the slug '{slug}'; choose another slug.", field="slug"
        ) from None
    return asset


def asset_update(*, user, asset: Asset, fields: dict) -> Asset:
    """Change an asset's descriptive fields. Members of the owning team only. Returns the asset as stored.

    The fields are written onto the locked row, and only they are: what other services keep on the row meanwhile
    (release status, version count, usage) is never written back stale.
    """
    require(user, Permission.ASSET_CHANGE, asset.team, f"Only members of '{asset.team.slug}' can edit this asset.")
    with transaction.atomic():
        # The row as stored, locked: search counts move from exactly this state to the new one.
        locked = Asset.objects.select_for_update(of=("self",)).select_related("team", "created_by").get(pk=asset.pk)
        before = copy.copy(locked)
        tags = _apply_fields(locked, fields)
        try:
            locked.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise_invalid(exc)
        locked.save(update_fields=[*(field for field in fields if field != "tags"), "updated_at"])
        _save_tags(locked, tags)
        publish(AssetChanged(before=before, after=locked))
        audit_record(
            actor=user, action=Event.ASSET_UPDATED, target=locked, team=locked.team, data={"fields": sorted(fields)}
        )
    return locked


def asset_delete(*, user, asset: Asset) -> None:
    """Delete an asset and its versions. Maintainers of the owning team only.

    Stored blobs stay (another version may share them); `manage.py blobs_gc` removes orphans.
    """
    require(
        user, Permission.ASSET_DELETE, asset.team, f"Only maintainers of '{asset.team.slug}' can delete this asset."
    )
    with transaction.atomic():
        before = Asset.objects.select_for_update().select_related("team").get(pk=asset.pk)
        # Areas holding something that must not vanish with the asset refuse here (endpoints serving it).
        publish(AssetDeleting(asset=before))
        publish(AssetChanged(before=before, after=None))
        audit_record(
            actor=user,
            action=Event.ASSET_DELETED,
            target=asset,
            team=asset.team,
            data={"slug": asset.full_slug, "versions": asset.versions.count()},
        )
        asset.delete()

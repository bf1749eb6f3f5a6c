"""Version tags: key/value labels set at upload or later by the asset's team (MLflow's model version tags).

A key is 1-64 letters, digits, `_`, `-`, `.` or `/` (`?tag=key:value` filters by them); a value at most 500 characters of text; a version has at
most 50. Setting and deleting are transactional and audited (`version.tagged`, `version.untagged`, with the values
before and after). Tags are not part of the signed approval record: they label a release, they do not change it.
"""

import json
import re

from django.db import transaction

from registry.kernel.audit.services import audit_record
from registry.kernel.errors import InvalidInput, NotFound
from registry.kernel.events import Event
from registry.kernel.lib.json_input import JSONRejected, check_json_document
from registry.versions.models import AssetVersion, VersionTag

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-/]{1,64}$")
VALUE_MAX_CHARS = 500
MAX_TAGS = 50


def tags_clean(raw) -> dict[str, str]:
    """{key: value} from a JSON object (or its text); InvalidInput names the first bad key or value."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput(f"tags: not JSON ({exc}).", field="tags") from None
    if not isinstance(raw, dict):
        raise InvalidInput('tags: a JSON object of key to value, e.g. {"stage": "candidate"}.', field="tags")
    try:
        check_json_document(raw)
    except JSONRejected as exc:
        raise InvalidInput(f"tags: {exc}", field="tags") from None
    if len(raw) > MAX_TAGS:
        raise InvalidInput(f"tags: at most {MAX_TAGS} per version; {len(raw)} given.", field="tags")
    cleaned = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise InvalidInput(f"tags: the key {str(key)[:80]!r} is not 1-64 letters, digits or _ - . /", field="tags")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidInput(f"tags.{key}: a tag's value is text (or a number).", field="tags")
        value = str(value)
        if len(value) > VALUE_MAX_CHARS or "\x00" in value:
            raise InvalidInput(f"tags.{key}: at most {VALUE_MAX_CHARS} characters of text.", field="tags")
        cleaned[key] = value
    return cleaned


def tags_create(*, user, version: AssetVersion, tags: dict[str, str]) -> None:
    """Inside the version's creating transaction: its first tags (already cleaned)."""
    VersionTag.objects.bulk_create(VersionTag(version=version, key=k, value=v, set_by=user) for k, v in tags.items())


def version_tags_set(*, user, version: AssetVersion, tags: dict) -> dict[str, str]:
    """Set (add or replace) tags of a version (members of its team; the caller has authorised them, see
    registry.versions.services.version_change_authorize). Returns every tag of the version after the change."""
    cleaned = tags_clean(tags)
    with transaction.atomic():
        locked = AssetVersion.objects.select_for_update().get(pk=version.pk)
        current = dict(VersionTag.objects.filter(version=locked).values_list("key", "value"))
        changed = {k: v for k, v in cleaned.items() if current.get(k) != v}
        if len(set(current) | set(cleaned)) > MAX_TAGS:
            raise InvalidInput(f"tags: a version has at most {MAX_TAGS}; delete some first.", field="tags")
        for key, value in changed.items():
            VersionTag.objects.update_or_create(version=locked, key=key, defaults={"value": value, "set_by": user})
        if changed:
            audit_record(
                actor=user,
                action=Event.VERSION_TAGGED,
                target=locked,
                team=version.asset.team,
                data={"asset": version.asset.full_slug, "version": version.version},
                before={k: current[k] for k in changed if k in current},
                after=changed,
            )
        return {**current, **cleaned}


def version_tags_patch(*, user, version: AssetVersion, changes: dict) -> dict[str, str]:
    """A merge patch of the version's tags ({key: value} sets, {key: null} deletes), in one transaction; returns
    every tag after it. Members of its team, authorised by the caller."""
    if not isinstance(changes, dict):
        raise InvalidInput('A JSON object of key to value (null deletes), e.g. {"stage": "production"}.')
    deletes = [key for key, value in changes.items() if value is None]
    with transaction.atomic():
        for key in deletes:
            if VersionTag.objects.filter(version=version, key=key).exists():
                version_tag_delete(user=user, version=version, key=key)
        return version_tags_set(user=user, version=version, tags={k: v for k, v in changes.items() if v is not None})


def version_tag_delete(*, user, version: AssetVersion, key: str) -> None:
    """Delete one tag (members of its team, authorised by the caller); NotFound when the version has none of it."""
    with transaction.atomic():
        tag = VersionTag.objects.select_for_update().filter(version=version, key=key).first()
        if tag is None:
            raise NotFound(f"{version.asset.full_slug} {version.version} has no tag '{key[:64]}'.")
        tag.delete()
        audit_record(
            actor=user,
            action=Event.VERSION_UNTAGGED,
            target=version,
            team=version.asset.team,
            data={"asset": version.asset.full_slug, "version": version.version, "key": key},
            before={key: tag.value},
        )

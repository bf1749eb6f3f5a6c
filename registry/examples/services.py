"""Writes of input examples: kept with an upload, and set, replaced or removed later by the version's team.

An example is parsed and checked before any transaction (registry.examples.arrays: data only, bounded); the
row is written in the transaction of the change with its audit event. After upload, the change takes the
asset's lock and then the version's (the lock order of every status change, registry.versions.release), since
validation may answer it by validating the version again (registry.validation.subscribers).
"""

import hashlib

from django.db import transaction

from registry.assets.models import Asset, AssetKind
from registry.examples.arrays import FIELD, INLINE_MAX_VALUES, MAX_TENSORS, ExampleArrays, example_parse
from registry.examples.events import InputExampleChanged
from registry.examples.models import InputExample
from registry.examples.signature import example_mismatches, mismatch_reason
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, NotFound
from registry.kernel.events import Event, publish
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.release import asset_lock
from registry.versions.services import version_change_authorize

# As a card: an approved version is signed and reviewed as it is, so what it shows as its input is fixed too.
FROZEN_STATUSES = frozenset({VersionStatus.APPROVED, VersionStatus.DEPRECATED})


def _row_fields(example: ExampleArrays, user) -> dict:
    data = example.npz_bytes()
    return {
        "data": data,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": sum(array.nbytes for _, array in example.arrays),
        "tensors": example.summary(),
        "inline": example.v2_inputs() if example.value_count <= INLINE_MAX_VALUES else None,
        "updated_by": user if getattr(user, "is_authenticated", False) else None,
    }


def _audit_data(version: AssetVersion, row: InputExample, *, source: str) -> dict:
    return {
        "asset": version.asset.full_slug,
        "version": version.version,
        "source": source,
        "sha256": row.sha256,
        "size": row.size,
        "inputs": [{"name": t["name"], "datatype": t["datatype"], "shape": t["shape"]} for t in row.tensors][:20],
    }


def _refuse_non_models(asset: Asset) -> None:
    if asset.kind != AssetKind.MODEL:
        raise InvalidInput(
            f"{FIELD}: only model versions take an input example; '{asset.full_slug}' is a {asset.kind}.", field=FIELD
        )


def input_example_parse_upload(*, asset: Asset, value) -> ExampleArrays | None:
    """Check what an upload declares as its input example (None, a staged .npz or .json, V2 JSON inputs) before
    a byte of the upload is stored. Raises InvalidInput / PayloadTooLarge; the model's inputs are not known yet,
    so whether the example fits them is validation's question."""
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        return None
    _refuse_non_models(asset)
    return example_parse(value)


def input_example_create(*, user, version: AssetVersion, example: ExampleArrays) -> InputExample:
    """Keep a new version's example. In the version's transaction (VersionCreated); audited."""
    row = InputExample.objects.create(version=version, **_row_fields(example, user))
    audit_record(
        actor=user,
        action=Event.VERSION_INPUT_EXAMPLE_CHANGED,
        target=version,
        team=version.asset.team,
        data=_audit_data(version, row, source="upload"),
    )
    return row


def _lock_changeable(version: AssetVersion) -> AssetVersion:
    """Lock the asset, then the version; refuse while it is validated or once it is approved."""
    asset_lock(version.asset_id)
    locked = AssetVersion.objects.select_for_update().select_related("asset__team").get(pk=version.pk)
    if locked.status in FROZEN_STATUSES:
        article = "an" if locked.status == VersionStatus.APPROVED else "a"
        raise Conflict(
            f"The input example of {article} {locked.status} version cannot change, as its card cannot; upload a "
            f"new version of '{locked.asset.full_slug}' with the new example.",
            code=ErrorCode.CARD_FROZEN,
        )
    if locked.status == VersionStatus.VALIDATING:
        raise Conflict(
            f"Version {locked.version} is being validated; change its input example once validation has finished "
            "(or give it with the upload, as `input_example`)."
        )
    return locked


def _revalidating(locked: AssetVersion, before: str) -> bool:
    return before == VersionStatus.INVALID and (
        AssetVersion.objects.filter(pk=locked.pk, status=VersionStatus.VALIDATING).exists()
    )


def input_example_set(*, user, version: AssetVersion, value) -> tuple[InputExample, bool]:
    """Set or replace the input example of `version` (V2 JSON inputs, or an .npz as bytes or a staged file).

    Members of the owning team (an outsider of a private asset gets NotFound); not while the version is being
    validated, nor once it is approved or deprecated (Conflict). When validation has recorded the model's inputs,
    an example that does not fit them is refused (InvalidInput naming the input). A validated version is not
    validated again (its validation ran on what it had; the endpoint check runs the new example at deploy); an
    invalid one that failed at its smoke inference or its example is validated again, on the new example
    (registry.validation). Transactional and audited. Returns the row and whether validation restarted.
    """
    version_change_authorize(user=user, version=version, what="the input example")
    _refuse_non_models(version.asset)
    example = example_parse(value)
    if example is None:
        raise InvalidInput(f"{FIELD}: send V2 JSON inputs or an .npz of named arrays.", field=FIELD)
    fields = _row_fields(example, user)
    with transaction.atomic():
        locked = _lock_changeable(version)
        before = locked.status
        inputs = (locked.signature or {}).get("inputs")
        # The signature lists at most MAX_TENSORS inputs; past that, validation has the last word.
        if inputs is not None and len(inputs) < MAX_TENSORS:
            problems = example_mismatches(example.tensors(), inputs)
            if problems:
                raise InvalidInput(f"{FIELD}: {mismatch_reason(problems)}", field=FIELD)
        row, _ = InputExample.objects.update_or_create(version=locked, defaults=fields)
        publish(InputExampleChanged(user=user, version=locked))
        restarted = _revalidating(locked, before)
        audit_record(
            actor=user,
            action=Event.VERSION_INPUT_EXAMPLE_CHANGED,
            target=locked,
            team=locked.asset.team,
            data={**_audit_data(locked, row, source="api"), "validation_restarted": restarted},
        )
    return row, restarted


def input_example_remove(*, user, version: AssetVersion) -> bool:
    """Remove the input example of `version`; same permission and status rules as `input_example_set`
    (validation, and the endpoint check, then use generated inputs). NotFound when it has none. Returns whether
    validation restarted."""
    version_change_authorize(user=user, version=version, what="the input example")
    with transaction.atomic():
        locked = _lock_changeable(version)
        before = locked.status
        row = InputExample.objects.filter(version=locked).defer("data").first()
        if row is None:
            raise NotFound(f"Version {locked.version} of '{locked.asset.full_slug}' has no input example.")
        data = _audit_data(locked, row, source="api")
        row.delete()
        publish(InputExampleChanged(user=user, version=locked, removed=True))
        restarted = _revalidating(locked, before)
        audit_record(
            actor=user,
            action=Event.VERSION_INPUT_EXAMPLE_REMOVED,
            target=locked,
            team=locked.asset.team,
            data={**data, "validation_restarted": restarted},
        )
    return restarted

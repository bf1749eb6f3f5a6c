from django.db import transaction

from registry.cards.fields import card_fields_clean
from registry.cards.huggingface import card_from_huggingface_readme
from registry.cards.models import ModelCard
from registry.cards.selectors import FROZEN_STATUSES, card_completeness
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode
from registry.kernel.events import DomainEvent, Event, publish
from registry.versions.metrics import version_metrics_from_card
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.services import version_change_authorize


def _save(*, user, version: AssetVersion, fields: dict, source: str) -> ModelCard:
    kind = version.asset.kind
    with transaction.atomic():
        # The version row lock orders concurrent edits and an approval: the status read here holds.
        status = AssetVersion.objects.select_for_update().values_list("status", flat=True).get(pk=version.pk)
        if status in FROZEN_STATUSES:
            article = "an" if status == VersionStatus.APPROVED else "a"
            raise Conflict(
                f"The card of {article} {status} version cannot change; upload a new version "
                f"of '{version.asset.full_slug}' with the new card.",
                code=ErrorCode.CARD_FROZEN,
            )
        card = ModelCard.objects.filter(version=version).first()
        before = card_completeness(card, kind)
        if card is None:
            card = ModelCard(version=version)
        for name, value in fields.items():
            setattr(card, name, value)
        card.updated_by = user
        card.full_clean(exclude=["version"])
        card.save()
        version_metrics_from_card(version=version, model_index=card.model_index)
        after = card_completeness(card, kind)
        audit_record(
            actor=user,
            action=Event.CARD_UPDATED,
            target=card,
            team=version.asset.team,
            data={
                "asset": version.asset.full_slug,
                "version": version.version,
                "source": source,
                "completeness_before": before,
                "completeness_after": after,
                "sections": sorted(card.sections),
            },
        )
        # Other areas check what they read from the card (monitoring: its feature_map) and may refuse it.
        publish(DomainEvent(name=Event.CARD_UPDATED, subject=version, actor=user, data={"extra": card.extra}))
    return card


def card_update(*, user, version: AssetVersion, fields: dict) -> ModelCard:
    """Replace the card of `version` with `fields` (those not given become empty); create it if needed.

    Members of the owning team only (an outsider of a private asset gets NotFound). Transactional,
    with an audit event carrying the completeness before and after. Raises InvalidInput for bad
    fields (see `card_fields_clean`) and Conflict for an approved or deprecated version.
    """
    version_change_authorize(user=user, version=version, what="the card")
    cleaned = card_fields_clean(fields, kind=version.asset.kind)
    return _save(user=user, version=version, fields=cleaned, source="api")


def card_import_huggingface(*, user, version: AssetVersion, text: str) -> ModelCard:
    """Replace the card of `version` with a Hugging Face README.md (registry.cards.huggingface).

    Same permission, freeze rule, transaction and audit event as `card_update`.
    """
    version_change_authorize(user=user, version=version, what="the card")
    fields = card_from_huggingface_readme(text, kind=version.asset.kind)
    return _save(user=user, version=version, fields=fields, source="huggingface_readme")

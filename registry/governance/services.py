"""Release governance: submitting versions for review, reviewing them, deprecating them, and aliases.

Every service locks the version row first (then the round or alias), so concurrent reviews, submissions,
deprecations and alias moves on one version are serialised: two reviewers acting at the same moment
give exactly one outcome. Each change writes its audit event in the same transaction.
"""

import re

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from registry.assets.models import Asset, AssetKind
from registry.cards.selectors import version_card_completeness
from registry.governance.models import Alias, Review, ReviewDecision, ReviewPolicy, ReviewRound, RoundStatus
from registry.governance.selectors import policy_reviewer_group_ids, review_policy_for, round_refusal, version_rounds
from registry.governance.signing import SIGN_TASK
from registry.kernel.access import Permission, is_reviewer, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, NotFound, PermissionDenied
from registry.kernel.events import DomainEvent, Event, publish
from registry.kernel.lib.model_formats import model_format
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.kernel.lib.tasks import task_send_on_commit
from registry.versions.lifecycle import allowed_clause, require_transition
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.release import asset_lock, asset_release_refresh

COMMENT_MAX_LENGTH = 10_000
ALIAS_NAME_MAX_LENGTH = 64

# A decision that ends the round: (round status, version status, event).
_OUTCOMES = {
    ReviewDecision.REJECT: (RoundStatus.REJECTED, VersionStatus.REJECTED, Event.VERSION_REJECTED),
    ReviewDecision.REQUEST_CHANGES: (
        RoundStatus.CHANGES_REQUESTED,
        VersionStatus.VALIDATED,
        Event.VERSION_CHANGES_REQUESTED,
    ),
    ReviewDecision.APPROVE: (RoundStatus.APPROVED, VersionStatus.APPROVED, Event.VERSION_APPROVED),
}


def _lock_version(version: AssetVersion, *, asset_first: bool = False) -> AssetVersion:
    """Lock the version row; `asset_first` locks its asset before it, as a status change must (see
    registry.versions.release), and leaves the locked asset on `.asset`."""
    asset = asset_lock(version.asset_id) if asset_first else None
    locked = AssetVersion.objects.select_for_update(of=("self",)).select_related("asset__team").get(pk=version.pk)
    if asset is not None:
        locked.asset = asset
    return locked


def _set_status(version: AssetVersion, status: str, **fields) -> None:
    """Move a version locked with `asset_first` to `status`, and its asset's release status with it."""
    require_transition(version, status)
    now = timezone.now()
    AssetVersion.objects.filter(pk=version.pk).update(status=status, status_changed_at=now, updated_at=now, **fields)
    version.status = status
    asset_release_refresh(version.asset)


def _text(value: str, *, field: str, what: str, max_length: int = COMMENT_MAX_LENGTH) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is required.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters.", field=field)
    return value


def _policy_snapshot(policy: ReviewPolicy) -> dict:
    return {
        "policy": policy.pk,
        "approvals_required": policy.approvals_required,
        "reviewer_groups": sorted(g.name for g in policy.reviewer_groups.all()) if policy.pk else [],
        "forbid_owning_team": policy.forbid_owning_team,
    }


def version_submit(*, user, version: AssetVersion, note: str = "") -> ReviewRound:
    """Open the next review round of a validated (or rejected) version under its team's policy.

    Needs a member of the owning team, a licence on the asset, and a model card at least as complete
    as the policy asks (registry.cards.selectors.card_completeness). Transactional; a second submission of the same version answers 409.
    """
    team = version.asset.team
    require(user, Permission.VERSION_SUBMIT, team, f"Only members of '{team.slug}' can submit its versions.")
    if len(note) > COMMENT_MAX_LENGTH:
        raise InvalidInput(f"The note is longer than {COMMENT_MAX_LENGTH} characters.", field="note")
    with transaction.atomic():
        locked = _lock_version(version, asset_first=True)
        require_transition(locked, VersionStatus.IN_REVIEW)
        if not locked.asset.license:
            raise InvalidInput(
                f"Set a licence on '{locked.asset.full_slug}' (an SPDX identifier) before "
                "submitting a version for review.",
                field="license",
            )
        policy = review_policy_for(team=team)
        completeness = version_card_completeness(version=locked)
        if completeness < policy.min_card_completeness:
            raise InvalidInput(
                f"The card of version {locked.version} is {completeness}% complete; the review policy "
                f"asks for at least {policy.min_card_completeness}%. Fill in its sections "
                "(PUT .../card) and submit again.",
                field="card",
            )
        number = (locked.review_rounds.aggregate(n=Max("number"))["n"] or 0) + 1
        review_round = ReviewRound.objects.create(
            version=locked,
            number=number,
            submitted_by=user,
            note=note.strip(),
            policy=policy if policy.pk else None,
            approvals_required=policy.approvals_required,
            forbid_owning_team=policy.forbid_owning_team,
        )
        review_round.reviewer_groups.set(policy_reviewer_group_ids(policy))
        before = locked.status
        _set_status(locked, VersionStatus.IN_REVIEW)
        audit_record(
            actor=user,
            action=Event.VERSION_SUBMITTED,
            target=locked,
            team=team,
            before={"status": before},
            after={"status": locked.status},
            data={"round": number, "card_completeness": completeness, **_policy_snapshot(policy)},
        )
        publish(
            DomainEvent(
                name=Event.VERSION_SUBMITTED,
                subject=locked,
                actor=user,
                data={"round": number, "note": review_round.note},
            )
        )
    return version_rounds(version=locked).get(pk=review_round.pk)


def review_submit(*, user, version: AssetVersion, decision: str, comment: str) -> ReviewRound:
    """Record one reviewer's decision on the version's open round, and close the round when it decides.

    A rejection or a request for changes ends the round at once; approvals end it when the round's
    policy has as many as it requires. Who may review is registry.kernel.access.review_refusal. Returns the
    round as it stands after the decision, with its reviews.
    """
    if decision not in ReviewDecision.values:
        raise InvalidInput(f"decision must be one of {', '.join(ReviewDecision.values)}.", field="decision")
    comment = _text(comment, field="comment", what="A comment")
    with transaction.atomic():
        locked = _lock_version(version, asset_first=True)
        review_round = (
            ReviewRound.objects.select_for_update(of=("self",)).filter(version=locked).order_by("-number").first()
        )
        if review_round is None or review_round.status != RoundStatus.OPEN:
            raise Conflict(
                f"Version {locked.version} is {VersionStatus(locked.status).label.lower()}, not in "
                f"review: there is no open review round {allowed_clause(locked.status)}.",
                code=ErrorCode.NOT_IN_REVIEW,
            )
        review_round.version = locked
        refusal = round_refusal(user, review_round)
        if refusal:
            raise PermissionDenied(refusal)
        if review_round.reviews.filter(reviewer=user).exists():
            raise Conflict(f"You have already reviewed round {review_round.number} of version {locked.version}.")
        review = Review.objects.create(round=review_round, reviewer=user, decision=decision, comment=comment)
        team = locked.asset.team
        audit_record(
            actor=user,
            action=Event.REVIEW_SUBMITTED,
            target=locked,
            team=team,
            data={"round": review_round.number, "decision": decision, "comment": comment[:1000]},
        )
        approvals = review_round.reviews.filter(decision=ReviewDecision.APPROVE).count()
        if decision != ReviewDecision.APPROVE or approvals >= review_round.approvals_required:
            round_status, version_status, event = _OUTCOMES[decision]
            before = locked.status
            _set_status(locked, version_status)
            review_round.status = round_status
            review_round.closed_at = timezone.now()
            review_round.save(update_fields=["status", "closed_at"])
            approvers = list(
                review_round.reviews.filter(decision=ReviewDecision.APPROVE).values_list(
                    "reviewer__username", flat=True
                )
            )
            audit_record(
                actor=user,
                action=event,
                target=locked,
                team=team,
                before={"status": before},
                after={"status": version_status},
                data={"round": review_round.number, "approvers": approvers},
            )
            publish(
                DomainEvent(
                    name=event,
                    subject=locked,
                    actor=user,
                    data={"round": review_round.number, "approvers": approvers, "comment": comment},
                )
            )
            if version_status == VersionStatus.APPROVED:
                task_send_on_commit(SIGN_TASK, locked.pk)
    return version_rounds(version=locked).get(pk=review.round_id)


def version_deprecate(*, user, version: AssetVersion, reason: str) -> AssetVersion:
    """Retire a version with a reason. Maintainers only; refused while an alias points at it."""
    team = version.asset.team
    require(user, Permission.VERSION_DEPRECATE, team, f"Only maintainers of '{team.slug}' can deprecate its versions.")
    reason = _text(reason, field="reason", what="A reason", max_length=2000)
    with transaction.atomic():
        locked = _lock_version(version, asset_first=True)
        require_transition(locked, VersionStatus.DEPRECATED)
        aliases = sorted(locked.aliases.values_list("name", flat=True))
        if aliases:
            raise Conflict(
                f"Version {locked.version} is the target of the alias(es) {', '.join(aliases)}; move or "
                "delete them first.",
                code=ErrorCode.ALIASED,
            )
        before = locked.status
        _set_status(locked, VersionStatus.DEPRECATED, deprecation_reason=reason)
        audit_record(
            actor=user,
            action=Event.VERSION_DEPRECATED,
            target=locked,
            team=team,
            before={"status": before},
            after={"status": locked.status},
            data={"reason": reason},
        )
        publish(DomainEvent(name=Event.VERSION_DEPRECATED, subject=locked, actor=user, data={"reason": reason}))
    locked.deprecation_reason = reason
    return locked


def _require_alias_permission(user, asset: Asset, name: str) -> None:
    policy = review_policy_for(team=asset.team)
    if name in (policy.protected_aliases or []):
        if not is_reviewer(user, policy_reviewer_group_ids(policy)):
            raise PermissionDenied(
                f"The alias '{name}' is protected by the review policy: only reviewers may move or delete it."
            )
        return
    require(user, Permission.ALIAS_MOVE, asset.team, f"Only members of '{asset.team.slug}' can change its aliases.")


def _require_deployable_for(asset: Asset, name: str, version: AssetVersion) -> None:
    """409 when the review policy lets `name` point only at deployable versions and `version` is not one (a model
    whose primary file is not ONNX: catalogued, never served)."""
    if name not in (review_policy_for(team=asset.team).deployable_aliases or []):
        return
    primary = version.files.filter(is_primary=True).values_list("path", flat=True).first() or version.filename
    found = model_format(primary)
    if asset.kind == AssetKind.MODEL and found != "onnx":
        raise Conflict(
            f"The review policy lets the alias '{name}' point only at deployable (ONNX) versions; {version.version} is "
            f"a {found or 'non-ONNX'} model, catalogued but not served.",
            code=ErrorCode.NOT_DEPLOYABLE,
        )


def _check_alias_name(name: str) -> None:
    if len(name) > ALIAS_NAME_MAX_LENGTH or not re.fullmatch(SLUG_PATTERN, name):
        raise InvalidInput(
            f"An alias name is 1-{ALIAS_NAME_MAX_LENGTH} lowercase letters, digits, '-' or '_', "
            "starting and ending with a letter or digit (e.g. production, champion).",
            field="name",
        )


def alias_set(*, user, asset: Asset, name: str, version: AssetVersion) -> Alias:
    """Point `name` at an approved version of `asset` (creating or moving it). Idempotent."""
    _check_alias_name(name)
    _require_alias_permission(user, asset, name)
    if version.asset_id != asset.pk:
        raise InvalidInput("An alias points at a version of its own asset.", field="version")
    with transaction.atomic():
        Asset.objects.select_for_update().filter(pk=asset.pk).first()  # serialises alias creation per asset
        locked = _lock_version(version)
        if locked.status != VersionStatus.APPROVED:
            raise Conflict(
                f"Aliases point at approved versions only; version {locked.version} is "
                f"{VersionStatus(locked.status).label.lower()}.",
                code=ErrorCode.NOT_APPROVED,
            )
        _require_deployable_for(asset, name, locked)
        alias = Alias.objects.filter(asset=asset, name=name).select_related("version").first()
        before = alias.version.version if alias else None
        if alias is None:
            alias = Alias.objects.create(asset=asset, name=name, version=locked, updated_by=user)
        elif alias.version_id != locked.pk:
            alias.version, alias.updated_by = locked, user
            alias.save(update_fields=["version", "updated_by", "updated_at"])
        else:
            return alias
        audit_record(
            actor=user,
            action=Event.ALIAS_MOVED,
            target=asset,
            team=asset.team,
            data={"alias": name},
            before={"version": before},
            after={"version": locked.version},
        )
        # Webhooks hear of it; endpoints that follow the alias are redeployed once the move is committed.
        publish(DomainEvent(name=Event.ALIAS_MOVED, subject=locked, actor=user, data={"alias": name, "before": before}))
    return alias


def alias_delete(*, user, asset: Asset, name: str) -> None:
    _require_alias_permission(user, asset, name)
    with transaction.atomic():
        alias = Alias.objects.select_for_update().filter(asset=asset, name=name).select_related("version").first()
        if alias is None:
            raise NotFound(f"'{asset.full_slug}' has no alias '{name}'.")
        alias.delete()
        audit_record(
            actor=user,
            action=Event.ALIAS_DELETED,
            target=asset,
            team=asset.team,
            data={"alias": name},
            before={"version": alias.version.version},
            after=None,
        )


def review_policy_changed(*, user, policy: ReviewPolicy, changed: list[str]) -> None:
    """Record an edit of a review policy (made in the admin) in the audit trail."""
    audit_record(
        actor=user,
        action=Event.POLICY_CHANGED,
        target=policy,
        team=policy.team,
        data={"changed": changed, **_policy_snapshot(policy)},
    )

"""Reads for release governance, scoped to the caller."""

from django.db.models import Prefetch, Q, QuerySet

from registry.assets.models import Asset
from registry.governance.models import Alias, Review, ReviewPolicy, ReviewRound, RoundStatus, VersionSignature
from registry.kernel.access import Permission, ReviewerFacts, restrict, review_refusal, reviewer_facts
from registry.kernel.errors import NotFound
from registry.versions.models import AssetVersion
from registry.versions.selectors import version_get, version_list, visible_version_get


def review_policy_for(*, team) -> ReviewPolicy:
    """The team's own policy, else the default one, else an unsaved policy with the model's defaults."""
    policies = {
        p.team_id: p
        for p in ReviewPolicy.objects.filter(Q(team=team) | Q(team__isnull=True)).prefetch_related("reviewer_groups")
    }
    return policies.get(team.pk) or policies.get(None) or ReviewPolicy()


def policy_reviewer_group_ids(policy: ReviewPolicy) -> list[int]:
    return [group.pk for group in policy.reviewer_groups.all()] if policy.pk else []


def _rounds() -> QuerySet[ReviewRound]:
    return ReviewRound.objects.select_related(
        "version__asset__team", "version__created_by", "submitted_by"
    ).prefetch_related("reviewer_groups", Prefetch("reviews", queryset=Review.objects.select_related("reviewer")))


def version_rounds(*, version: AssetVersion) -> QuerySet[ReviewRound]:
    """Every review round of the version, oldest first, with its reviews."""
    return _rounds().filter(version=version).order_by("number")


def version_round_list(*, version: AssetVersion) -> list[ReviewRound]:
    """`version_rounds` for a caller that holds the version already (with its asset and team): the rounds
    point at that instance instead of reading the version, its asset and its team again with each round."""
    rounds = list(
        _rounds().select_related(None).select_related("submitted_by").filter(version=version).order_by("number")
    )
    for review_round in rounds:
        review_round.version = version
    return rounds


def round_refusal(user, review_round: ReviewRound, facts: ReviewerFacts | None = None) -> str | None:
    """Why `user` may not review `review_round` (see registry.kernel.access.review_refusal), or None."""
    version = review_round.version
    return review_refusal(
        user,
        team=version.asset.team,
        reviewer_group_ids=[g.pk for g in review_round.reviewer_groups.all()],
        uploader_id=version.created_by_id,
        submitter_id=review_round.submitted_by_id,
        forbid_owning_team=review_round.forbid_owning_team,
        facts=facts,
    )


def review_queue(*, user) -> list[ReviewRound]:
    """Open rounds `user` may act on now: a reviewer under the round's rules who has not reviewed it yet."""
    if not user.is_authenticated:
        return []
    candidates = _rounds().filter(status=RoundStatus.OPEN).exclude(reviews__reviewer=user)
    rounds = list(restrict(candidates, user, Permission.VERSION_REVIEW).order_by("submitted_at", "pk"))
    if not rounds:
        return []
    facts = reviewer_facts(user)  # a fixed number of queries however long the queue
    return [r for r in rounds if round_refusal(user, r, facts) is None]


def reviewable_version_get(*, user, team: str, slug: str, version: str) -> AssetVersion:
    """The version if the caller may see its asset, or may review its open round (reviewers come from
    outside the owning team, so they must reach private assets they are asked to review)."""
    try:
        return visible_version_get(user=user, team=team, slug=slug, version=version)
    except NotFound:
        rounds = _rounds().filter(
            version__asset__team__slug=team,
            version__asset__slug=slug,
            version__version=version,
            status=RoundStatus.OPEN,
        )
        open_round = restrict(rounds, user, Permission.VERSION_REVIEW).first()
        if open_round is None or round_refusal(user, open_round) is not None:
            raise NotFound(f"No asset named '{team}/{slug}'.") from None
        found = version_list(asset=open_round.version.asset).filter(pk=open_round.version_id).first()
        if found is None:
            raise NotFound(f"No asset named '{team}/{slug}'.") from None
        return found


def alias_list(*, asset: Asset) -> QuerySet[Alias]:
    return Alias.objects.filter(asset=asset).select_related("version", "updated_by", "asset__team")


def alias_get(*, asset: Asset, name: str) -> Alias:
    found = alias_list(asset=asset).filter(name=name).first()
    if found is None:
        raise NotFound(f"'{asset.full_slug}' has no alias '{name}'.")
    return found


def version_by_alias(*, asset: Asset, name: str) -> AssetVersion:
    return version_get(asset=asset, version=alias_get(asset=asset, name=name).version.version)


def version_signature_find(*, version: AssetVersion) -> VersionSignature | None:
    """The signature of a version the caller can already see, or None when it has none (yet)."""
    return VersionSignature.objects.filter(version=version).first()


def version_signature_get(*, version: AssetVersion) -> VersionSignature:
    """The signature of a version the caller can already see; NotFound (saying why) when it has none."""
    signature = version_signature_find(version=version)
    if signature is None:
        raise NotFound(
            f"Version {version.version} has no signature: only approved versions are signed "
            f"(it is {version.status}), shortly after approval."
        )
    return signature

"""Who may do what: every permission rule of Modelhub, in one place.

Services call `require(...)` before a change and selectors call `restrict_assets(...)` before a
read, so a view never decides by itself. Rules are stated per team: an asset's permissions are
those of its owning team. The module is part of the kernel: it imports no catalogue or registry
module and reaches memberships through their relation names only.
"""

from dataclasses import dataclass

from django.db import connection, models
from django.db.models import Q, QuerySet

from registry.kernel.errors import PermissionDenied


class TeamRole(models.TextChoices):
    MEMBER = "member", "Member"
    MAINTAINER = "maintainer", "Maintainer"


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal (every signed-in user)"
    PRIVATE = "private", "Private (team members only)"


class Permission(models.TextChoices):
    TEAM_MANAGE_MEMBERS = "team.manage_members", "Add, remove and re-role members"
    ASSET_CREATE = "asset.create", "Register assets owned by the team"
    ASSET_CHANGE = "asset.change", "Edit an asset's descriptive fields"
    ASSET_DELETE = "asset.delete", "Delete an asset and its versions"
    VERSION_UPLOAD = "version.upload", "Upload versions"
    VERSION_CHANGE = "version.change", "Edit a version's metadata"
    VERSION_SUBMIT = "version.submit", "Submit a version for release review"
    VERSION_DEPRECATE = "version.deprecate", "Deprecate a version"
    ALIAS_MOVE = "alias.move", "Set, move and delete the asset's aliases"
    WEBHOOK_VIEW = "webhook.view", "See the team's webhooks and their delivery log"
    WEBHOOK_MANAGE = "webhook.manage", "Create, delete and test the team's webhooks"
    ENDPOINT_VIEW = "endpoint.view", "See the team's inference endpoints and their keys"
    ENDPOINT_MANAGE = "endpoint.manage", "Create, update and delete the team's inference endpoints and keys"


# The least role a permission needs; a maintainer holds every member permission.
_REQUIRED_ROLE: dict[str, str] = {
    Permission.TEAM_MANAGE_MEMBERS: TeamRole.MAINTAINER,
    Permission.ASSET_CREATE: TeamRole.MEMBER,
    Permission.ASSET_CHANGE: TeamRole.MEMBER,
    Permission.ASSET_DELETE: TeamRole.MAINTAINER,
    Permission.VERSION_UPLOAD: TeamRole.MEMBER,
    Permission.VERSION_CHANGE: TeamRole.MEMBER,
    Permission.VERSION_SUBMIT: TeamRole.MEMBER,
    Permission.VERSION_DEPRECATE: TeamRole.MAINTAINER,
    Permission.ALIAS_MOVE: TeamRole.MEMBER,
    Permission.WEBHOOK_VIEW: TeamRole.MEMBER,
    Permission.WEBHOOK_MANAGE: TeamRole.MAINTAINER,
    Permission.ENDPOINT_VIEW: TeamRole.MEMBER,
    Permission.ENDPOINT_MANAGE: TeamRole.MEMBER,
}
_RANK = {TeamRole.MEMBER: 1, TeamRole.MAINTAINER: 2}


def team_role(user, team) -> str | None:
    """The user's role in `team`, or None for a non-member (or an anonymous user)."""
    if user is None or not user.is_authenticated:
        return None
    return team.memberships.filter(user=user).values_list("role", flat=True).first()


def has_permission(user, permission: Permission, team) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    role = team_role(user, team)
    return role is not None and _RANK[role] >= _RANK[_REQUIRED_ROLE[permission]]


def require(user, permission: Permission, team, message: str) -> None:
    """Raise PermissionDenied with `message` unless `user` holds `permission` in `team`."""
    if not has_permission(user, permission, team):
        raise PermissionDenied(message)


def is_team_member(user, team) -> bool:
    return has_permission(user, Permission.ASSET_CHANGE, team)


@dataclass(frozen=True)
class AssetScope:
    """Which assets a user may see, as data (for search engines that cannot take a queryset):
    everything (superusers), or internal assets plus every asset of `team_ids` (signed-in users), or
    nothing (`nothing`: anonymous callers)."""

    everything: bool
    nothing: bool
    team_ids: tuple[int, ...]


def asset_scope(user) -> AssetScope:
    """The visibility rule of `asset_visible_q` as data; one query for a signed-in user's teams."""
    if user is None or not user.is_authenticated:
        return AssetScope(everything=False, nothing=True, team_ids=())
    if user.is_superuser:
        return AssetScope(everything=True, nothing=False, team_ids=())
    # Written out: every search asks, and the ORM's query building cost twice what running this does.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT team_id FROM {user.memberships.model._meta.db_table} WHERE user_id = %s ORDER BY team_id",
            [user.pk],
        )
        return AssetScope(everything=False, nothing=False, team_ids=tuple(row[0] for row in cursor.fetchall()))


def asset_visible_q(user) -> Q:
    """Internal assets are visible to every signed-in user; private ones to their team only."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(visibility=Visibility.INTERNAL) | Q(team_id__in=user.memberships.values("team_id"))


def team_member_ids_q(user) -> Q:
    """Rows whose `team_id` is one of the user's teams (every team for a superuser)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(team_id__in=user.memberships.values("team_id"))


def restrict_assets(queryset: QuerySet, user) -> QuerySet:
    """The assets of `queryset` that `user` may see."""
    return queryset.filter(asset_visible_q(user))


# --- Release reviews -------------------------------------------------------------------------------


def is_reviewer(user, reviewer_group_ids) -> bool:
    """Whether `user` belongs to one of the reviewer groups (superusers always review)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(pk__in=list(reviewer_group_ids)).exists()


@dataclass(frozen=True)
class ReviewerFacts:
    """What review_refusal asks the database about a user, read once for checking many rounds."""

    group_ids: frozenset[int]
    team_ids: frozenset[int]


def reviewer_facts(user) -> ReviewerFacts:
    """The user's groups and teams, in two queries."""
    return ReviewerFacts(
        frozenset(user.groups.values_list("pk", flat=True)),
        frozenset(user.memberships.values_list("team_id", flat=True)),
    )


def review_refusal(
    user,
    *,
    team,
    reviewer_group_ids,
    uploader_id,
    submitter_id,
    forbid_owning_team: bool,
    facts: ReviewerFacts | None = None,
) -> str | None:
    """Why `user` may not review a version under these rules (separation of duties), or None if they may.

    `team` owns the asset; `uploader_id` and `submitter_id` are the users who uploaded the version
    and submitted it for this round. Superusers are reviewers, but not exempt from separation of duties.
    With `facts` (reviewer_facts(user)) it asks the database nothing.
    """
    if facts is not None and user.is_authenticated and user.is_active:
        reviewer = user.is_superuser or not facts.group_ids.isdisjoint(reviewer_group_ids)
        member = team.pk in facts.team_ids
    else:
        reviewer, member = is_reviewer(user, reviewer_group_ids), None
    if not reviewer:
        return "You are not a reviewer under this version's review policy."
    if user.pk == uploader_id:
        return "You uploaded this version; separation of duties means someone else must review it."
    if user.pk == submitter_id:
        return "You submitted this version for review; separation of duties means someone else must review it."
    if forbid_owning_team and (member if member is not None else team_role(user, team) is not None):
        return (
            f"You are a member of '{team.slug}', which owns this asset; its review policy asks for a "
            "reviewer from outside the team."
        )
    return None

"""Who may do what: every permission rule of Modelhub, in one place.

Services call `require(...)` before a change and selectors call `restrict(...)` before a read, so a
view never decides by itself. Rules are stated per team: an asset's permissions are those of its
owning team. The module is part of the kernel: it imports no catalogue or registry module; it reaches
memberships through their relation names and other models through lookups declared as data
(`READ_RULES`, keyed by model label).
"""

import operator
from dataclasses import dataclass
from functools import reduce

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
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
    # Granted by a review policy's reviewer groups, not by a team role (see review_refusal).
    VERSION_REVIEW = "version.review", "Review versions whose review policy names one of the user's groups"
    ALIAS_MOVE = "alias.move", "Set, move and delete the asset's aliases"
    ASSET_VIEW = "asset.view", "See the team's private assets and their versions (internal ones are everyone's)"
    AUDIT_VIEW = "audit.view", "Read the team's audit trail (everyone reads the events of their own actions)"
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
    Permission.ASSET_VIEW: TeamRole.MEMBER,
    Permission.AUDIT_VIEW: TeamRole.MEMBER,
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


# --- Scoped reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadRule:
    """How `restrict` narrows a queryset of one model for a signed-in user who is not a superuser, as
    lookups from that model (data, so the kernel imports no area's model). A row passes when any part
    holds: `internal`, the lookup of an asset visibility that is internal (every signed-in user's);
    `team`, the lookup of the owning team's id, one of the teams where the user holds the permission;
    `actor`, the lookup of the user who acted, the caller; `groups`, the lookup of the groups a row
    names, one of the user's groups (a many-valued lookup: restrict makes the rows distinct); `through`,
    a relation to a model with a rule of its own under the same permission, the related row passing it."""

    internal: str = ""
    team: str = ""
    actor: str = ""
    groups: str = ""
    through: str = ""

    def __post_init__(self):
        if not (self.internal or self.team or self.actor or self.groups or self.through):
            raise ImproperlyConfigured("A ReadRule that names no lookup would let no row through: name one.")


# Per read permission, per model label: how a queryset of that model is narrowed. Webhooks and their
# deliveries are read through their team (the team is found with WEBHOOK_VIEW, then its webhooks).
READ_RULES: dict[str, dict[str, ReadRule]] = {
    Permission.ASSET_VIEW: {
        "registry.Asset": ReadRule(internal="visibility", team="team_id"),
        # A version is seen with its asset.
        "registry.AssetVersion": ReadRule(through="asset"),
    },
    Permission.ENDPOINT_VIEW: {
        "registry.Team": ReadRule(team="pk"),
        "registry.Endpoint": ReadRule(team="team_id"),
    },
    Permission.WEBHOOK_VIEW: {
        "registry.Team": ReadRule(team="pk"),
    },
    Permission.AUDIT_VIEW: {
        "registry.AuditEvent": ReadRule(team="team_id", actor="actor_id"),
    },
    # The rounds a user may be asked to review; review_refusal then applies separation of duties.
    Permission.VERSION_REVIEW: {
        "registry.ReviewRound": ReadRule(groups="reviewer_groups"),
    },
}


def restrict(queryset: QuerySet, user, permission: Permission) -> QuerySet:
    """The rows of `queryset` that `user` may read under `permission` (NetBox's RestrictedQuerySet.restrict):
    every row for a superuser, none for an anonymous or inactive user, else as READ_RULES says for the
    queryset's model. No query of its own: the user's teams are a subquery of the one the caller runs."""
    rule = _read_rule(queryset.model, permission)
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset.all()
    narrowed = queryset.filter(_read_q(queryset.model, rule, user, permission))
    return narrowed.distinct() if rule.groups else narrowed


def _read_rule(model, permission: Permission) -> ReadRule:
    rule = READ_RULES.get(permission, {}).get(model._meta.label)
    if rule is None:
        raise ImproperlyConfigured(f"No read rule for {model._meta.label} under {permission}: add one to READ_RULES.")
    return rule


def _read_q(model, rule: ReadRule, user, permission: Permission) -> Q:
    parts = []
    if rule.internal:
        parts.append(Q(**{rule.internal: Visibility.INTERNAL}))
    if rule.team:
        parts.append(Q(**{f"{rule.team}__in": _team_ids(user, permission)}))
    if rule.actor:
        parts.append(Q(**{rule.actor: user.pk}))
    if rule.groups:
        parts.append(Q(**{f"{rule.groups}__in": user.groups.all()}))
    if rule.through:
        related = model._meta.get_field(rule.through).related_model
        passing = related._default_manager.filter(_read_q(related, _read_rule(related, permission), user, permission))
        parts.append(Q(**{f"{rule.through}__in": passing.values("pk")}))
    return reduce(operator.or_, parts)


def _team_ids(user, permission: Permission) -> QuerySet:
    """The ids of the teams where `user` holds `permission`, as a subquery."""
    memberships = user.memberships.all()
    needed = _RANK[_REQUIRED_ROLE[permission]]
    if needed > min(_RANK.values()):
        memberships = memberships.filter(role__in=[role for role, rank in _RANK.items() if rank >= needed])
    return memberships.values("team_id")


@dataclass(frozen=True)
class AssetScope:
    """Which assets a user may see, as data (for search engines that cannot take a queryset):
    everything (superusers), or internal assets plus every asset of `team_ids` (signed-in users), or
    nothing (`nothing`: anonymous and inactive callers)."""

    everything: bool
    nothing: bool
    team_ids: tuple[int, ...]


def asset_scope(user) -> AssetScope:
    """The rule `restrict` applies to assets under ASSET_VIEW, as data; one query for a signed-in user's teams."""
    if user is None or not user.is_authenticated or not user.is_active:
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


# --- Release reviews -------------------------------------------------------------------------------


def is_service_account(user) -> bool:
    """Whether `user` is a team's service account (registry.identities): a pipeline's identity, never a person.
    At most one query per user object (Django remembers the reverse one-to-one, found or not)."""
    return user is not None and user.is_authenticated and hasattr(user, "service_account")


def is_reviewer(user, reviewer_group_ids) -> bool:
    """Whether `user` belongs to one of the reviewer groups (superusers always review; service accounts never)."""
    if user is None or not user.is_authenticated or not user.is_active or is_service_account(user):
        return False
    return user.is_superuser or user.groups.filter(pk__in=list(reviewer_group_ids)).exists()


@dataclass(frozen=True)
class ReviewerFacts:
    """What review_refusal asks the database about a user, read once for checking many rounds."""

    group_ids: frozenset[int]
    team_ids: frozenset[int]
    service_account: bool = False


def reviewer_facts(user) -> ReviewerFacts:
    """The user's groups and teams, and whether it is a service account, in three queries."""
    return ReviewerFacts(
        frozenset(user.groups.values_list("pk", flat=True)),
        frozenset(user.memberships.values_list("team_id", flat=True)),
        get_user_model().objects.filter(pk=user.pk, service_account__isnull=False).exists(),
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
    if facts.service_account if facts is not None else is_service_account(user):
        return "Service accounts never review releases: a person must."
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

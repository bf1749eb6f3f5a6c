from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registry.kernel.access import Permission, TeamRole, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, InvalidInput, NotFound
from registry.kernel.events import Event
from registry.kernel.lib.validation import raise_invalid
from registry.teams.models import Membership, Team
from registry.teams.selectors import user_get_by_username


def team_create(*, user, slug: str, name: str, description: str = "") -> Team:
    """Create a team with `user` as its first maintainer. Any signed-in user may call it.

    Returns the team as `team_get` reads it (with `member_count`), ready to serialise."""
    team = Team(slug=slug, name=name, description=description)
    try:
        team.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise_invalid(exc)
    try:
        with transaction.atomic():
            team.save()
            Membership.objects.create(team=team, user=user, role=TeamRole.MAINTAINER)
            audit_record(actor=user, action=Event.TEAM_CREATED, target=team, team=team, data={"name": name})
    except IntegrityError:
        raise Conflict(f"A team with the slug '{slug}' already exists.", field="slug") from None
    team.member_count = 1  # what team_list annotates: the maintainer just made
    return team


def _require_maintainer(actor, team: Team) -> None:
    require(actor, Permission.TEAM_MANAGE_MEMBERS, team, f"Only maintainers of '{team.slug}' can manage its members.")


def _check_role(role: str) -> None:
    if role not in TeamRole.values:
        raise InvalidInput(f"'{role}' is not a role; use one of: {', '.join(TeamRole.values)}.", field="role")


def team_member_add(*, actor, team: Team, username: str, role: str = TeamRole.MEMBER) -> Membership:
    """Add a user to a team. Maintainers only; a user already in the team is a conflict."""
    _require_maintainer(actor, team)
    _check_role(role)
    user = user_get_by_username(username)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=team, user=user, role=role)
            audit_record(
                actor=actor,
                action=Event.TEAM_MEMBER_ADDED,
                target=team,
                team=team,
                data={"username": username, "role": role},
            )
    except IntegrityError:
        raise Conflict(f"'{username}' is already a member of '{team.slug}'.") from None
    return membership


def _locked_membership(team: Team, username: str) -> Membership:
    membership = (
        Membership.objects.select_for_update().select_related("user").filter(team=team, user__username=username).first()
    )
    if membership is None:
        raise NotFound(f"'{username}' is not a member of '{team.slug}'.")
    return membership


def _ensure_a_maintainer_remains(team: Team, leaving: Membership) -> None:
    # Lock every maintainer row so two concurrent demotions cannot both see "another one left".
    maintainers = list(
        Membership.objects.select_for_update()
        .filter(team=team, role=TeamRole.MAINTAINER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if leaving.role == TeamRole.MAINTAINER and maintainers == [leaving.pk]:
        raise Conflict(
            f"'{leaving.user.username}' is the last maintainer of '{team.slug}'; make someone else a maintainer first."
        )


def team_member_set_role(*, actor, team: Team, username: str, role: str) -> Membership:
    """Change a member's role. Maintainers only; a team always keeps at least one maintainer."""
    _require_maintainer(actor, team)
    _check_role(role)
    with transaction.atomic():
        membership = _locked_membership(team, username)
        if role != TeamRole.MAINTAINER:
            _ensure_a_maintainer_remains(team, membership)
        old_role, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        audit_record(
            actor=actor,
            action=Event.TEAM_MEMBER_ROLE_CHANGED,
            target=team,
            team=team,
            data={"username": username, "from": old_role, "to": role},
        )
    return membership


def team_member_remove(*, actor, team: Team, username: str) -> None:
    """Remove a member. Maintainers may remove anyone; members may remove themselves (leave)."""
    if actor.username != username:
        _require_maintainer(actor, team)
    with transaction.atomic():
        membership = _locked_membership(team, username)
        _ensure_a_maintainer_remains(team, membership)
        membership.delete()
        audit_record(actor=actor, action=Event.TEAM_MEMBER_REMOVED, target=team, team=team, data={"username": username})

"""Service accounts: team-owned identities for pipelines, made and disabled by the team's maintainers, which act
only through the scoped tokens those maintainers make for them. Every step is audited on the team's trail. The
users that single sign-on makes, and the provider's groups applied to them. And the audit record of a sign-in
lockout (django-axes counts the failures)."""

import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.identities.models import ExternalIdentity, ServiceAccount
from registry.identities.oidc import claim_groups
from registry.kernel.access import Permission, TeamRole, require
from registry.kernel.audit.models import AuditEvent
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.kernel.events import Event
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.teams.models import Membership, Team
from registry.tokens.models import APIToken
from registry.tokens.services import token_create

logger = logging.getLogger(__name__)
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def _require_maintainer(actor, team: Team) -> None:
    require(
        actor, Permission.TEAM_MANAGE_MEMBERS, team, f"Only maintainers of '{team.slug}' manage its service accounts."
    )


def service_account_username(team: Team, name: str) -> str:
    return f"svc-{team.slug}-{name}"


def service_account_create(*, actor, team: Team, name: str, description: str = "") -> ServiceAccount:
    """A new service account of `team`, a member of it (never a maintainer), with no password and no token yet."""
    _require_maintainer(actor, team)
    if not isinstance(name, str) or not re.fullmatch(SLUG_PATTERN, name) or len(name) > 64:
        raise InvalidInput(
            "name: 1-64 lowercase letters, digits, '-' or '_' (for example nightly-training).", field="name"
        )
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=service_account_username(team, name), password=None)
            account = ServiceAccount.objects.create(
                team=team, user=user, name=name, description=description or "", created_by=actor
            )
            Membership.objects.create(team=team, user=user, role=TeamRole.MEMBER)
            audit_record(
                actor=actor, action=Event.SERVICE_ACCOUNT_CREATED, target=account, team=team, data={"name": name}
            )
    except IntegrityError:
        raise Conflict(
            f"'{team.slug}' has a service account named '{name}' already (or a user holds its name)."
        ) from None
    return account


def _active(team: Team, name: str) -> ServiceAccount:
    account = ServiceAccount.objects.select_related("user").filter(team=team, name=name, disabled_at=None).first()
    if account is None:
        raise NotFound(f"'{team.slug}' has no active service account named '{name}'.")
    return account


def service_account_token_create(
    *, actor, team: Team, name: str, token_name: str, scopes: list[str] | None, expires_in_days: int | None
) -> tuple[APIToken, str]:
    """A scoped token for the service account, made by a maintainer (audited as theirs); the key is shown once."""
    _require_maintainer(actor, team)
    account = _active(team, name)
    return token_create(user=account.user, name=token_name, scopes=scopes, expires_in_days=expires_in_days, actor=actor)


def service_account_disable(*, actor, team: Team, name: str) -> ServiceAccount:
    """Disable the account: its user is deactivated and every token of it revoked at once."""
    _require_maintainer(actor, team)
    with transaction.atomic():
        account = _active(team, name)
        now = timezone.now()
        account.disabled_at = now
        account.save(update_fields=["disabled_at"])
        get_user_model().objects.filter(pk=account.user_id).update(is_active=False)
        revoked = APIToken.objects.filter(user_id=account.user_id, revoked_at=None).update(revoked_at=now)
        audit_record(
            actor=actor,
            action=Event.SERVICE_ACCOUNT_DISABLED,
            target=account,
            team=team,
            data={"name": name, "tokens_revoked": revoked},
        )
    return account


def signin_lockout_record(*, username: str, ip_address: str) -> None:
    """Audit a sign-in lockout on the account's trail (or the failed attempt's, for a name that is nobody's), once
    per lockout: attempts made while locked are refused, and signalled, again."""
    from axes.models import AccessAttempt

    target = get_user_model().objects.filter(username=username).first() if username else None
    if target is None:
        target = AccessAttempt.objects.filter(username=username, ip_address=ip_address).order_by("-id").first()
    if target is None:
        return
    if AuditEvent.objects.filter(
        action=Event.SIGNIN_LOCKED,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        created_at__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    ).exists():
        return
    audit_record(
        actor=None,
        action=Event.SIGNIN_LOCKED,
        target=target,
        data={"username": username, "ip_address": ip_address, "failures": settings.AXES_FAILURE_LIMIT},
    )


# --- single sign-on ----------------------------------------------------------------------------------------------


def _free_username(claims: dict) -> str:
    """The provider's username (MODELHUB_OIDC_USERNAME_CLAIM, else the email's local part, the client id, the
    subject), made safe and, when a
    local account holds it, suffixed: an identity never signs in as an account it was not linked to."""
    wanted = (
        claims.get(settings.MODELHUB_OIDC_USERNAME_CLAIM)
        or str(claims.get("email") or "").partition("@")[0]
        or claims.get("client_id")  # a machine identity's client-credentials token
        or claims.get("sub")
    )
    base = _USERNAME_UNSAFE.sub("-", str(wanted or "user"))[:140].strip("-.") or "user"
    users = get_user_model().objects
    for candidate in [base, *(f"{base}-{n}" for n in range(2, 20))]:
        if not users.filter(username=candidate).exists():
            return candidate
    return f"{base}-{secrets.token_hex(4)}"


def _profile(claims: dict) -> dict:
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    return {
        "email": email[:254] if "@" in email else "",
        "first_name": str(claims.get("given_name") or "")[:150],
        "last_name": str(claims.get("family_name") or "")[:150],
    }


def _provision(issuer: str, subject: str, claims: dict) -> ExternalIdentity:
    for _ in range(3):  # a concurrent first sign-in (same subject, or another identity taking the same name)
        try:
            with transaction.atomic():
                user = get_user_model().objects.create_user(username=_free_username(claims), password=None)
                for field, value in _profile(claims).items():
                    setattr(user, field, value)
                user.save()
                identity = ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject)
                audit_record(
                    actor=None,
                    action=Event.IDENTITY_PROVISIONED,
                    target=user,
                    data={"username": user.username, "issuer": issuer, "subject": subject},
                )
                return identity
        except IntegrityError:
            found = ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
            if found is not None:
                return found
    raise Conflict("Could not make an account for this identity (too many concurrent sign-ins); try again.")


def _apply_group_map(user, groups: set[str]) -> None:
    """Make `user`'s memberships of the teams MODELHUB_OIDC_GROUP_MAP names, and its Modelhub groups, what the
    provider's `groups` give; teams and groups the map does not name are left alone. Each change is audited."""
    mapping = settings.MODELHUB_OIDC_GROUP_MAP
    roles = mapping.roles_for(groups)
    teams = {team.slug: team for team in Team.objects.filter(slug__in=mapping.managed_teams)}
    for missing in sorted(mapping.managed_teams - set(teams)):
        logger.warning("MODELHUB_OIDC_GROUP_MAP names the team '%s', which does not exist", missing)
    held = {
        m.team_id: m for m in Membership.objects.select_for_update().filter(user=user, team__in=list(teams.values()))
    }
    source = {"username": user.username, "source": "identity provider"}
    for slug, team in sorted(teams.items()):
        role, membership = roles.get(slug), held.get(team.pk)
        if role and membership is None:
            Membership.objects.create(team=team, user=user, role=role)
            audit_record(
                actor=None, action=Event.TEAM_MEMBER_ADDED, target=team, team=team, data={**source, "role": role}
            )
        elif role and membership.role != role:
            audit_data = {**source, "from": membership.role, "to": role}
            membership.role = role
            membership.save(update_fields=["role"])
            audit_record(actor=None, action=Event.TEAM_MEMBER_ROLE_CHANGED, target=team, team=team, data=audit_data)
        elif not role and membership is not None:
            membership.delete()
            audit_record(actor=None, action=Event.TEAM_MEMBER_REMOVED, target=team, team=team, data=source)
    wanted = mapping.groups_for(groups)
    current = set(user.groups.filter(name__in=mapping.managed_groups).values_list("name", flat=True))
    added, removed = sorted(wanted - current), sorted(current - wanted)
    if added:
        user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in added])
    if removed:
        user.groups.remove(*Group.objects.filter(name__in=removed))
    if added or removed:
        audit_record(
            actor=None,
            action=Event.IDENTITY_GROUPS_MAPPED,
            target=user,
            data={**source, "added": added, "removed": removed},
        )


RESYNC_AFTER = timedelta(seconds=60)


def _unchanged(identity: ExternalIdentity, claims: dict, groups: set[str] | None) -> bool:
    user = identity.user
    return (
        user.is_active
        and identity.last_seen_at is not None
        and timezone.now() - identity.last_seen_at < RESYNC_AFTER
        and (groups is None or sorted(groups) == identity.groups)
        and all(not value or getattr(user, field) == value for field, value in _profile(claims).items())
    )


def external_identity_sign_in(*, issuer: str, claims: dict):
    """The user a provider's verified claims (an ID token's, or an access token's for the API) act as: made at the
    first sign-in, its email and name refreshed, and, with MODELHUB_OIDC_GROUPS_CLAIM set, its memberships set from
    the provider's groups through MODELHUB_OIDC_GROUP_MAP. Transactional, audited, and idempotent: the same claims
    again change nothing (and within RESYNC_AFTER of the last time, write nothing). PermissionDenied for a user
    deactivated in Modelhub."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise InvalidInput("The identity provider's token has no usable `sub` claim.")
    groups = claim_groups(claims)
    identity = ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if identity is not None and _unchanged(identity, claims, groups):
        return identity.user  # a machine client calling the API many times a minute writes once a minute
    with transaction.atomic():
        if identity is None:
            identity = _provision(issuer, subject, claims)
        identity = ExternalIdentity.objects.select_for_update().select_related("user").get(pk=identity.pk)
        user = identity.user
        if not user.is_active:
            raise PermissionDenied(f"The account '{user.username}' is deactivated in Modelhub.")
        changed = [field for field, value in _profile(claims).items() if value and getattr(user, field) != value]
        for field in changed:
            setattr(user, field, _profile(claims)[field])
        if changed:
            user.save(update_fields=changed)
        identity.last_seen_at = timezone.now()
        if groups is not None:
            identity.groups = sorted(groups)
            _apply_group_map(user, groups)
        identity.save(update_fields=["last_seen_at", "groups"])
    return user

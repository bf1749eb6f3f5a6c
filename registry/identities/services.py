"""Service accounts: team-owned identities for pipelines, made and disabled by the team's maintainers, which act
only through the scoped tokens those maintainers make for them. Every step is audited on the team's trail. And
the audit record of a sign-in lockout (django-axes counts the failures)."""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.identities.models import ServiceAccount
from registry.kernel.access import Permission, TeamRole, require
from registry.kernel.audit.models import AuditEvent
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, InvalidInput, NotFound
from registry.kernel.events import Event
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.teams.models import Membership, Team
from registry.tokens.models import APIToken
from registry.tokens.services import token_create


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

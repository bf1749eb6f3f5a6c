"""Emails about review events: reviewers hear of a submission, submitter and uploader of a decision; and about
monitoring alarms: the maintainers of an endpoint's team hear that it drifts or that its performance degraded.

Each recipient gets a message of their own (no one learns who else was told). Only active users with an
email address are written to; reviewers are those the round would let review (its reviewer groups,
separation of duties: never the uploader or the submitter).
"""

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection

from registry.assets.models import Asset
from registry.governance.selectors import round_refusal, version_rounds
from registry.kernel.access import Permission, TeamRole, restrict
from registry.notifications.models import AssetSubscription, Event
from registry.versions.models import AssetVersion

_DECISIONS = {
    Event.VERSION_APPROVED: "approved",
    Event.VERSION_REJECTED: "rejected",
    Event.VERSION_CHANGES_REQUESTED: "changes requested",
}


class EmailSendFailed(Exception):
    """Sending stopped part-way; `sent` lists the addresses already written to."""

    def __init__(self, sent: list[str]):
        super().__init__(f"sent to {len(sent)} recipient(s) before the error")
        self.sent = sent


_ALARMS = {
    Event.ENDPOINT_DRIFT_DETECTED: "drift detected",
    Event.ENDPOINT_PERFORMANCE_DEGRADED: "performance degraded",
}


def _round(version, data):
    return version_rounds(version=version).filter(number=data.get("round")).first()


def event_recipients(*, event: str, version: AssetVersion, data: dict) -> list[str]:
    """The addresses that hear of `event` on `version`, sorted."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if event in _ALARMS:  # the consuming team's maintainers (`data` is the endpoint event's payload)
        chosen = users.filter(memberships__team__slug=data.get("team"), memberships__role=TeamRole.MAINTAINER)
        return sorted({user.email for user in chosen})
    followers = _followers(event, version, users)
    review_round = _round(version, data)
    if review_round is None:
        return sorted(followers)
    if event == Event.VERSION_SUBMITTED:
        candidates = users.filter(groups__in=review_round.reviewer_groups.all()).distinct()
        chosen = [user for user in candidates if round_refusal(user, review_round) is None]
    elif event in _DECISIONS:
        chosen = users.filter(pk__in=[review_round.submitted_by_id, version.created_by_id])
    else:
        return sorted(followers)
    return sorted({user.email for user in chosen} | followers)


def _followers(event: str, version: AssetVersion, users) -> set[str]:
    """Addresses of the people following the version's asset for `event` who may still see it."""
    wanted = [
        sub.user_id
        for sub in AssetSubscription.objects.filter(asset_id=version.asset_id).select_related("user")
        if sub.wants(event)
    ]
    found = set()
    for user in users.filter(pk__in=wanted):
        if restrict(Asset.objects.filter(pk=version.asset_id), user, Permission.ASSET_VIEW).exists():
            found.add(user.email)
    return found


def event_message(*, event: str, version: AssetVersion, data: dict) -> tuple[str, str]:
    """(subject, plain-text body) of the email about `event`."""
    name = f"{version.asset.full_slug} {version.version}"
    if event in _ALARMS:
        return _alarm_message(event, name, data)
    url = data.get("url", "")
    if event == Event.VERSION_SUBMITTED:
        note = data.get("note") or "(no note)"
        return (
            f"[Modelhub] Review requested: {name}",
            f"{data.get('actor') or 'Someone'} submitted {name} for release review.\n\nNote: {note}\n\n"
            f"Review it: {url}reviews\nVersion: {url}\n",
        )
    if event not in _DECISIONS:  # an event someone follows the asset for
        label = Event(event).label.lower()
        extra = f"\nReason: {data['reason']}\n" if data.get("reason") else ""
        return (
            f"[Modelhub] {name}: {label}",
            f"{name}: {label} ({data.get('status', '')}).\n{extra}\nVersion: {url}\n\n"
            "You get this because you follow the asset; stop with DELETE on its /subscription.\n",
        )
    decision = _DECISIONS[event]
    return (
        f"[Modelhub] {name}: {decision}",
        f"{data.get('actor') or 'A reviewer'} decided: {decision}.\n\nComment:\n{data.get('comment', '')}\n\n"
        f"Version: {url}\nReviews: {url}reviews\n",
    )


def _alarm_message(event: str, name: str, data: dict) -> tuple[str, str]:
    endpoint = data.get("endpoint", "?")
    lines = [f"Monitoring of the endpoint {endpoint} ({name}): {_ALARMS[event]}.", ""]
    for entry in data.get("drifted") or []:
        over = ", ".join(
            f"{metric} {entry.get('scores', {}).get(metric, 0):.3g} > {entry.get('thresholds', {}).get(metric, 0):.3g}"
            for metric in entry.get("metrics", [])
        )
        lines.append(f"- {entry.get('feature')}: {over}")
    for metric, compared in (data.get("compared") or {}).items():
        if isinstance(compared, dict) and compared.get("degraded"):
            lines.append(f"- {metric}: {compared.get('measured')} live against {compared.get('declared')} declared")
    trained_on = data.get("trained_on")
    if trained_on:
        lines += ["", f"Trained on {trained_on.get('asset')} {trained_on.get('version')}."]
    lines += ["", f"Monitoring: {data.get('monitoring_url', '')}"]
    if data.get("profile_url"):
        lines.append(f"Report: {data['profile_url']}")
    return f"[Modelhub] {endpoint}: {_ALARMS[event]}", "\n".join(lines) + "\n"


def event_emails_send(*, event: str, version_id: int, data: dict, skip: list[str] = ()) -> list[str]:
    """Send the emails of `event`, except to addresses in `skip`; returns the addresses written to.

    Raises EmailSendFailed (from the SMTP or socket error) naming those already sent, so a retry skips them.
    """
    version = AssetVersion.objects.select_related("asset__team").filter(pk=version_id).first()
    if version is None:
        return []
    recipients = [
        address for address in event_recipients(event=event, version=version, data=data) if address not in skip
    ]
    if not recipients:
        return []
    subject, body = event_message(event=event, version=version, data=data)
    sent: list[str] = []
    try:
        with get_connection() as connection:
            for address in recipients:
                EmailMessage(subject, body, to=[address], connection=connection).send()
                sent.append(address)
    except OSError as exc:  # smtplib.SMTPException is an OSError
        raise EmailSendFailed([*skip, *sent]) from exc
    return sent

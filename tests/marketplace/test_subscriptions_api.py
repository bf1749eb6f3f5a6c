"""Following assets by email (registry/notifications: AssetSubscription): any person follows any asset they may
see, of any team, for the version events they choose, and is emailed while they may still see it."""

import pytest
from django.core import mail

from registry.assets.models import Asset
from registry.notifications.emails import event_emails_send
from registry.notifications.models import AssetSubscription
from tests.factories import bare_versions, make_asset, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def speech(charlie):
    audio = make_team(charlie, slug="audio")
    return make_asset(charlie, audio, slug="speech", kind="model", visibility="internal")


def test_anyone_follows_an_asset_they_see_and_is_emailed(speech, alice, alice_api, settings, charlie):
    alice.email = "alice@example.com"
    alice.save()
    url = "/api/v1/assets/audio/speech/subscription"
    assert alice_api.get(url).status_code == 404
    followed = alice_api.put(url, {"events": ["version.approved", "version.deprecated"]}, format="json")
    assert followed.status_code == 200, followed.json()
    assert followed.json()["asset"] == "audio/speech" and followed.json()["events"] == [
        "version.approved",
        "version.deprecated",
    ]
    assert alice_api.get("/api/v1/subscriptions/").json()["results"][0]["asset"] == "audio/speech"
    refused = alice_api.put(url, {"events": ["endpoint.ready"]}, format="json")
    assert refused.status_code == 400

    (version,) = bare_versions(speech, 1)
    sent = event_emails_send(event="version.approved", version_id=version.pk, data={"url": "/x", "status": "approved"})
    assert sent == ["alice@example.com"] and "audio/speech" in mail.outbox[0].subject
    data = {"url": "/x", "status": "deprecated", "reason": "superseded"}
    assert event_emails_send(event="version.deprecated", version_id=version.pk, data=data) == ["alice@example.com"]
    assert "Reason: superseded" in mail.outbox[1].body and "because you follow the asset" in mail.outbox[1].body
    assert event_emails_send(event="version.validated", version_id=version.pk, data={}) == []  # not followed

    Asset.objects.filter(pk=speech.pk).update(visibility="private")  # no longer hers to see: no more email
    assert event_emails_send(event="version.approved", version_id=version.pk, data={"url": "/x"}) == []
    assert alice_api.put(url, {}, format="json").status_code == 404
    assert alice_api.delete(url).status_code == 404
    Asset.objects.filter(pk=speech.pk).update(visibility="internal")
    assert alice_api.delete(url).status_code == 204 and not AssetSubscription.objects.exists()


def test_a_followed_event_sends_the_email_task_even_outside_the_review_events(
    speech, alice, alice_api, monkeypatch, django_capture_on_commit_callbacks
):
    from registry.notifications.services import event_publish

    sent = []
    monkeypatch.setattr("registry.notifications.services.task_send_on_commit", lambda *args: sent.append(args))
    (version,) = bare_versions(speech, 1)
    event_publish(event="version.validated", version=version, actor=None, data={})
    assert sent == []
    alice_api.put("/api/v1/assets/audio/speech/subscription", {}, format="json")
    event_publish(event="version.validated", version=version, actor=None, data={})
    assert [args[1] for args in sent] == ["version.validated"]


def test_private_assets_of_other_teams_cannot_be_followed(alice_api, charlie):
    audio = make_team(charlie, slug="audio")
    make_asset(charlie, audio, slug="secret", kind="model", visibility="private")
    assert alice_api.put("/api/v1/assets/audio/secret/subscription", {}, format="json").status_code == 404
    assert not AssetSubscription.objects.exists()

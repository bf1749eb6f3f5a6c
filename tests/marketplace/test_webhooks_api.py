"""Team webhooks over the API: maintainer (alice), member (bob), outsider (charlie)."""

import pytest

from registry.kernel.audit.models import AuditEvent
from registry.notifications.models import Webhook, WebhookDelivery
from registry.notifications.signing import secret_decrypt

pytestmark = pytest.mark.django_db
HOOKS = "/api/v1/teams/vision/webhooks/"


@pytest.fixture
def hook(team, alice_api):
    response = alice_api.post(
        HOOKS, {"url": "https://hooks.example.com/modelhub", "events": ["version.approved"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_maintainer_creates_a_webhook_and_sees_the_secret_once(hook, alice_api):
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["version.approved"]
    stored = Webhook.objects.get(pk=hook["id"])
    assert hook["secret"] not in stored.secret_encrypted
    assert secret_decrypt(stored.secret_encrypted) == hook["secret"]
    listed = alice_api.get(HOOKS).json()["results"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert "secret" not in alice_api.get(f"{HOOKS}{hook['id']}/").json()
    assert AuditEvent.objects.filter(action="webhook.created", target_id=str(hook["id"])).count() == 1


def test_member_reads_webhooks_and_deliveries_but_cannot_manage(hook, bob_api):
    assert bob_api.get(HOOKS).json()["count"] == 1
    assert bob_api.get(f"{HOOKS}{hook['id']}/deliveries/").status_code == 200
    assert bob_api.post(HOOKS, {"url": "https://example.com/x"}, format="json").status_code == 403
    assert bob_api.delete(f"{HOOKS}{hook['id']}/").status_code == 403
    assert bob_api.post(f"{HOOKS}{hook['id']}/test").status_code == 403
    assert Webhook.objects.count() == 1 and not WebhookDelivery.objects.exists()


def test_outsider_gets_404_everywhere(hook, charlie_api):
    for response in (
        charlie_api.get(HOOKS),
        charlie_api.post(HOOKS, {"url": "https://example.com/"}, format="json"),
        charlie_api.get(f"{HOOKS}{hook['id']}/"),
        charlie_api.delete(f"{HOOKS}{hook['id']}/"),
        charlie_api.get(f"{HOOKS}{hook['id']}/deliveries/"),
        charlie_api.post(f"{HOOKS}{hook['id']}/test"),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Webhook.objects.count() == 1


def test_a_webhook_of_another_team_is_404(hook, client_for, charlie):
    from tests.factories import make_team

    make_team(charlie, slug="other")
    assert client_for(charlie).get(f"/api/v1/teams/other/webhooks/{hook['id']}/").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "https://user:pw@example.com/hook"}, "url"),
        ({"url": "https://token@example.com/hook"}, "url"),
        ({"url": "https://example.com/" + "a" * 2000}, "url"),
        ({"url": "https://exa mple.com/"}, "url"),
        ({"url": "https:///nohost"}, "url"),
        ({"url": "http://10.0.0.8/hook"}, "url"),
        ({"url": "http://[::ffff:127.0.0.1]/hook"}, "url"),
        ({"url": 5}, "url"),
        ({"url": "https://example.com/", "events": ["version.nope"]}, "events"),
        ({"url": "https://example.com/", "events": ["ping"]}, "events"),
        ({"url": "https://example.com/", "secret": "mine"}, "secret"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(team, alice_api, settings, body, field):
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = False
    response = alice_api.post(HOOKS, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in str(response.json())
    assert not Webhook.objects.exists()


def test_delete_is_audited_and_removes_the_log(hook, alice_api):
    assert alice_api.post(f"{HOOKS}{hook['id']}/test").status_code == 202
    assert alice_api.delete(f"{HOOKS}{hook['id']}/").status_code == 204
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    event = AuditEvent.objects.get(action="webhook.deleted")
    assert event.target_id == str(hook["id"]) and event.actor_name == "alice" and event.team.slug == "vision"
    assert alice_api.get(f"{HOOKS}{hook['id']}/").status_code == 404


def test_test_queues_a_ping_visible_in_the_log(hook, alice_api, bob_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_api.post(f"{HOOKS}{hook['id']}/test")
    assert response.status_code == 202 and response.json()["event"] == "ping"
    assert response.json()["status"] == "pending" and len(callbacks) == 1
    log = bob_api.get(f"{HOOKS}{hook['id']}/deliveries/").json()["results"]
    assert [d["event"] for d in log] == ["ping"]


def test_maintainers_patch_a_webhook_and_rotate_its_secret(hook, alice_api, bob_api, charlie_api):
    url = f"{HOOKS}{hook['id']}/"
    assert bob_api.patch(url, {"active": False}, format="json").status_code == 403
    assert charlie_api.patch(url, {"active": False}, format="json").status_code == 404
    changed = alice_api.patch(url, {"events": ["version.rejected", "alias.moved"], "active": False}, format="json")
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert set(body["events"]) == {"version.rejected", "alias.moved"}
    assert body["active"] is False and body["secret"] is None and body["url"] == hook["url"]
    event = AuditEvent.objects.get(action="webhook.updated", target_id=str(hook["id"]))
    assert event.before == {"events": ["version.approved"], "active": True} and event.after["active"] is False

    rotated = alice_api.patch(url, {"rotate_secret": True}, format="json").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook["secret"]
    assert secret_decrypt(Webhook.objects.get(pk=hook["id"]).secret_encrypted) == rotated["secret"]
    assert rotated["secret_prefix"] == rotated["secret"][:10]
    last = AuditEvent.objects.filter(action="webhook.updated").order_by("id").last()
    assert last.data == {"secret_rotated": True} and rotated["secret"] not in str(last.before) + str(last.after)

    refused = alice_api.patch(url, {"url": "http://127.0.0.1/hook"}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "url"
    assert alice_api.patch(url, {"events": ["nope"]}, format="json").status_code == 400
    assert alice_api.patch(url, {"colour": "red"}, format="json").status_code == 400
    before = AuditEvent.objects.count()
    assert alice_api.patch(url, {"active": False}, format="json").status_code == 200  # no change: nothing audited
    assert AuditEvent.objects.count() == before


def test_a_webhook_follows_assets_of_other_teams_it_may_see(team, alice, alice_api, charlie):
    from registry.assets.models import Asset
    from registry.notifications.services import event_publish
    from tests.factories import bare_versions, make_asset, make_team

    audio = make_team(charlie, slug="audio")
    speech = make_asset(charlie, audio, slug="speech", kind="model", visibility="internal")
    make_asset(charlie, audio, slug="secret", kind="model", visibility="private")
    own = make_asset(alice, team, slug="clf", kind="model")
    refused = alice_api.post(HOOKS, {"url": "https://hooks.example.com/x", "assets": ["audio/secret"]}, format="json")
    assert refused.status_code == 400 and "audio/secret" in refused.json()["detail"]
    follower = alice_api.post(
        HOOKS, {"url": "https://hooks.example.com/follow", "assets": ["audio/speech"]}, format="json"
    ).json()
    assert follower["assets"] == ["audio/speech"]
    plain = alice_api.post(HOOKS, {"url": "https://hooks.example.com/own"}, format="json").json()
    assert plain["assets"] == []
    theirs = bare_versions(speech, 1)[0]
    mine = bare_versions(own, 1)[0]

    def receivers(version) -> set[int]:
        WebhookDelivery.objects.all().delete()
        event_publish(event="version.approved", version=version, actor=charlie, data={})
        return set(WebhookDelivery.objects.values_list("webhook_id", flat=True))

    assert receivers(theirs) == {follower["id"]}  # another team's asset: only the webhook that follows it
    assert receivers(mine) == {plain["id"]}  # the team's own: the webhook with no list; the follower follows speech
    Asset.objects.filter(pk=speech.pk).update(visibility="private")
    assert receivers(theirs) == set()  # no longer visible to vision: nothing more is sent

    changed = alice_api.patch(f"{HOOKS}{follower['id']}/", {"assets": ["vision/clf"]}, format="json").json()
    assert changed["assets"] == ["vision/clf"] and receivers(mine) == {plain["id"], follower["id"]}
    event = AuditEvent.objects.filter(action="webhook.updated").order_by("id").last()
    assert event.before == {"assets": ["audio/speech"]} and event.after == {"assets": ["vision/clf"]}

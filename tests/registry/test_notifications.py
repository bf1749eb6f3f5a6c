"""Notifications: events published by the domain services, emails, webhook signing and delivery.

Deliveries go to a real HTTP receiver on loopback that checks every signature with the secret.
"""

import hashlib
import hmac
import http.server
import ipaddress
import json
import re
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from marketplace.celery import app
from registry.governance.models import ReviewPolicy
from registry.governance.services import alias_set, review_submit, version_submit
from registry.notifications.delivery import address_refusal, retry_delay
from registry.notifications.models import DeliveryStatus, WebhookDelivery
from registry.notifications.services import event_publish, webhook_create, webhook_deliver
from registry.notifications.signing import payload_signature, secret_generate, standard_signature
from registry.validation.services import validation_claim, validation_finish
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_user, make_validated_version, make_version, onnx_bytes

pytestmark = pytest.mark.django_db


# --- a real receiver -----------------------------------------------------------------------------


class Receiver(http.server.ThreadingHTTPServer):
    """Records every POST; answers with the next code of `answers` (then 200); checks the signature."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = ""
        self.answers: list[int] = []
        self.requests: list[dict] = []
        self.delay = 0.0  # seconds before each answer
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"

    def events(self) -> list[str]:
        return [r["json"]["event"] for r in self.requests]

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"the receiver got {len(self.requests)} of {count} requests"
            time.sleep(0.05)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers["X-Modelhub-Timestamp"]
        expected = (
            "sha256="
            + hmac.new(self.server.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        )
        self.server.requests.append(
            {
                "headers": dict(self.headers),
                "json": json.loads(body),
                "path": self.path,
                "signature_valid": hmac.compare_digest(expected, self.headers["X-Modelhub-Signature"]),
                "body": body,
            }
        )
        code = self.server.answers.pop(0) if self.server.answers else 200
        time.sleep(self.server.delay)
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"ok" if code == 200 else b"receiver says no " * 100)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = True
    settings.MODELHUB_WEBHOOK_RETRY_DELAY = 0
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def run_tasks(monkeypatch):
    """Notification tasks sent by name run here, in-process (retries at once), instead of going to the
    broker; other tasks (signing) are only recorded."""
    import registry.notifications.tasks  # noqa: F401  (registers the tasks, as the worker's autodiscovery does)

    sent = []

    def send_task(name, args=(), **kwargs):
        sent.append((name, list(args)))
        if name.startswith("registry.notifications."):
            app.tasks[name].apply(args=args)

    monkeypatch.setattr(app, "send_task", send_task)
    return sent


def hook_for(team, alice, url, events=()):
    webhook, secret = webhook_create(user=alice, team=team, url=url, events=list(events))
    return webhook, secret


@pytest.fixture
def released(alice, team, tmp_path, dave):
    """A validated model version of 'vision/clf' with a licence and a complete card, uploaded by alice."""
    asset = make_asset(alice, team, slug="clf", license="Apache-2.0")
    return make_validated_version(alice, asset, tmp_path)


def published(event=None) -> list[str]:
    rows = WebhookDelivery.objects.order_by("pk")
    return [d.event for d in (rows.filter(event=event) if event else rows)]


# --- which service publishes what ---------------------------------------------------------------


def test_each_service_publishes_its_event_once(
    alice, bob, team, released, dave, erin, django_capture_on_commit_callbacks
):
    hook_for(team, alice, "https://hooks.example.com/all")
    with django_capture_on_commit_callbacks() as callbacks:
        version_submit(user=bob, version=released, note="Ready.")
    assert published() == ["version.submitted"]
    assert len(callbacks) == 2  # one webhook delivery, one email task
    review_submit(user=dave, version=released, decision="approve", comment="Looks right.")
    assert published() == ["version.submitted", "version.approved"]
    approved = WebhookDelivery.objects.get(event="version.approved").payload
    assert approved["asset"] == "vision/clf" and approved["status"] == "approved" and approved["actor"] == "dave"
    assert approved["comment"] == "Looks right." and approved["url"] == "/api/v1/assets/vision/clf/versions/1.0.0/"
    alias_set(user=dave, asset=released.asset, name="production", version=released)
    alias_set(user=dave, asset=released.asset, name="production", version=released)  # no move: no event
    assert published() == ["version.submitted", "version.approved", "alias.moved"]
    assert WebhookDelivery.objects.get(event="alias.moved").payload["alias"] == "production"


@pytest.mark.parametrize(
    "decision, event, status",
    [("reject", "version.rejected", "rejected"), ("request_changes", "version.changes_requested", "validated")],
)
def test_closing_decisions_publish_their_event(alice, bob, team, released, dave, decision, event, status):
    hook_for(team, alice, "https://hooks.example.com/all")
    version_submit(user=bob, version=released)
    review_submit(user=dave, version=released, decision=decision, comment="Not yet.")
    assert published() == ["version.submitted", event]
    assert WebhookDelivery.objects.get(event=event).payload["status"] == status


def test_an_approval_that_does_not_close_the_round_publishes_nothing(alice, bob, team, released, dave, erin):
    ReviewPolicy.objects.filter(team__isnull=True).update(approvals_required=2)
    hook_for(team, alice, "https://hooks.example.com/all")
    version_submit(user=bob, version=released)
    review_submit(user=dave, version=released, decision="approve", comment="One.")
    assert published() == ["version.submitted"]
    review_submit(user=erin, version=released, decision="approve", comment="Two.")
    assert published() == ["version.submitted", "version.approved"]


@pytest.mark.parametrize("passed, event", [(True, "version.validated"), (False, "version.invalid")])
def test_validation_outcome_is_published_once(alice, team, tmp_path, passed, event):
    asset = make_asset(alice, team, slug="clf")
    version = make_version(alice, asset, tmp_path, onnx_bytes())
    hook_for(team, alice, "https://hooks.example.com/all")
    assert validation_claim(version_id=version.pk, task_id="t1") is not None
    assert validation_finish(version_id=version.pk, task_id="t1", passed=passed, reason="Checked.")
    assert not validation_finish(version_id=version.pk, task_id="t1", passed=passed, reason="Again.")
    assert published() == [event]
    payload = WebhookDelivery.objects.get().payload
    assert payload["status"] == ("validated" if passed else "invalid") and payload["reason"] == "Checked."


def test_webhooks_get_only_their_events_and_their_teams(alice, bob, team, released, charlie):
    from tests.factories import make_team

    only_approved, _ = hook_for(team, alice, "https://hooks.example.com/a", ["version.approved"])
    everything, _ = hook_for(team, alice, "https://hooks.example.com/b")
    hook_for(make_team(charlie, slug="other"), charlie, "https://hooks.example.com/c")
    event_publish(event="version.submitted", version=released, actor=bob, data={})
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [everything.pk]
    with pytest.raises(ValueError):
        event_publish(event="ping", version=released, actor=bob, data={})


def test_uploads_and_deprecations_reach_the_webhooks_that_want_them(alice, team, released, tmp_path):
    from registry.governance.services import version_deprecate
    from tests.factories import linear_model

    wanted, _ = hook_for(team, alice, "https://hooks.example.com/a", ["version.created", "version.deprecated"])
    make_version(alice, released.asset, tmp_path, onnx_bytes(linear_model(seed=9)), version="2.0.0")
    created = WebhookDelivery.objects.get(webhook=wanted)
    assert created.event == "version.created" and created.payload["version"] == "2.0.0"
    AssetVersion.objects.filter(pk=released.pk).update(status="approved")
    version_deprecate(user=alice, version=released, reason="superseded by 2.0.0")
    deprecated = WebhookDelivery.objects.filter(webhook=wanted).exclude(pk=created.pk).get()
    assert deprecated.event == "version.deprecated" and deprecated.payload["reason"] == "superseded by 2.0.0"


# --- emails --------------------------------------------------------------------------------------


def _emails(**addresses):
    from django.contrib.auth import get_user_model

    for username, address in addresses.items():
        get_user_model().objects.filter(username=username).update(email=address)


def test_submission_emails_the_reviewers_who_may_review_it(
    alice, bob, team, released, dave, erin, reviewers, run_tasks, django_capture_on_commit_callbacks
):
    # Members of the owning team may review under this policy, so only separation of duties keeps
    # alice (uploader) and bob (submitter) out; frank is a reviewer without an email address.
    ReviewPolicy.objects.filter(team__isnull=True).update(forbid_owning_team=False)
    frank = make_user("frank")
    for user in (alice, bob, frank):
        user.groups.add(reviewers)
    _emails(alice="alice@example.com", bob="bob@example.com", dave="dave@example.com", erin="erin@example.com")
    Group.objects.create(name="others")
    with django_capture_on_commit_callbacks(execute=True):
        version_submit(user=bob, version=released, note="Please look at the metrics.")
    assert sorted(m.to[0] for m in mail.outbox) == ["dave@example.com", "erin@example.com"]
    assert all(len(m.to) == 1 for m in mail.outbox)
    message = mail.outbox[0]
    assert "vision/clf 1.0.0" in message.subject and "Please look at the metrics." in message.body
    assert "/api/v1/assets/vision/clf/versions/1.0.0/" in message.body


@pytest.mark.parametrize(
    "decision, word", [("approve", "approved"), ("reject", "rejected"), ("request_changes", "changes requested")]
)
def test_a_decision_emails_submitter_and_uploader_with_the_comment(
    alice, bob, team, released, dave, erin, run_tasks, django_capture_on_commit_callbacks, decision, word
):
    _emails(alice="alice@example.com", bob="bob@example.com", dave="dave@example.com", erin="erin@example.com")
    version_submit(user=bob, version=released)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(user=dave, version=released, decision=decision, comment="The calibration plot is missing.")
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    assert word in mail.outbox[0].subject
    assert "The calibration plot is missing." in mail.outbox[0].body and "dave" in mail.outbox[0].body


def test_smtp_errors_are_retried_without_writing_twice(
    alice, bob, team, released, dave, erin, run_tasks, settings, monkeypatch, django_capture_on_commit_callbacks
):
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    settings.MODELHUB_WEBHOOK_RETRY_DELAY = 0
    _emails(dave="dave@example.com", erin="erin@example.com")
    real_send = EmailBackend.send_messages
    failures = [smtplib.SMTPServerDisconnected("gone")]

    def flaky(self, messages):  # the second message of the first try fails
        if len(mail.outbox) == 1 and failures:
            raise failures.pop()
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        version_submit(user=bob, version=released)
    assert sorted(m.to[0] for m in mail.outbox) == ["dave@example.com", "erin@example.com"]
    assert len([name for name, _ in run_tasks if name.endswith("event_email_task")]) == 1


# --- signing, addresses, backoff -----------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":1,"event":"ping"}'
    expected = hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert payload_signature(secret="whsec_test", timestamp=1700000000, body=body) == f"sha256={expected}"
    assert payload_signature(secret="whsec_other", timestamp=1700000000, body=body) != f"sha256={expected}"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
    ],
)
def test_private_addresses_are_refused_unless_allowed(settings, address):
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = False
    assert address_refusal(ipaddress.ip_address(address))
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = True
    if address != "0.0.0.0":
        assert address_refusal(ipaddress.ip_address(address)) is None


def test_public_addresses_are_allowed(settings):
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = False
    assert address_refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert address_refusal(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946")) is None


def test_delivery_refuses_a_name_that_resolves_to_loopback(
    alice, team, released, receiver, settings, run_tasks, django_capture_on_commit_callbacks
):
    port = receiver.server_address[1]
    webhook, receiver.secret = hook_for(team, alice, f"http://localhost:{port}/hook")
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(event="version.validated", version=released, actor=None, data={})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "localhost resolves to 127.0.0.1" in delivery.last_error or "::1" in delivery.last_error
    assert receiver.requests == []


def test_the_connected_address_is_checked_too(alice, team, released, receiver, settings, monkeypatch):
    """DNS rebinding: the name looked public when checked, then connects to loopback."""
    from registry.notifications import delivery as delivery_module

    _webhook, receiver.secret = hook_for(team, alice, receiver.url)
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(delivery_module, "host_refusal", lambda url: None)
    delivery = _publish(released)
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=6) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "connected to 127.0.0.1" in delivery.last_error
    assert receiver.requests == []


def test_backoff_doubles_and_is_capped(settings):
    settings.MODELHUB_WEBHOOK_RETRY_DELAY = 10
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay(30) == 3600


# --- delivery to the real receiver ---------------------------------------------------------------


def _publish(released, **kwargs):
    return event_publish(event="version.validated", version=released, actor=None, data={})[0]


def test_direct_delivery_is_signed_and_complete(alice, team, released, receiver, settings):
    webhook, receiver.secret = hook_for(team, alice, receiver.url)
    delivery = _publish(released)
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=6) is None
    [request] = receiver.requests
    assert request["signature_valid"]
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == "Modelhub-Webhooks/1"
    assert headers["X-Modelhub-Event"] == "version.validated" and headers["X-Modelhub-Delivery"] == str(delivery.pk)
    assert abs(int(headers["X-Modelhub-Timestamp"]) - time.time()) < 60
    assert request["json"]["id"] == delivery.pk and request["json"]["event"] == "version.validated"
    assert request["json"]["data"]["asset"] == "vision/clf" and request["json"]["data"]["version"] == "1.0.0"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.delivered_at is not None and delivery.response_ms is not None


def test_deliveries_verify_with_a_stock_standard_webhooks_verifier(alice, team, released, receiver, settings):
    from standardwebhooks.webhooks import Webhook as StandardWebhook
    from standardwebhooks.webhooks import WebhookVerificationError

    webhook, receiver.secret = hook_for(team, alice, receiver.url)
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", receiver.secret)  # 32 bytes in standard base64
    delivery = _publish(released)
    receiver.answers = [500, 200]
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=6) is not None  # the 500: retried
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=6) is None
    first, second = receiver.requests
    for request in (first, second):
        parsed = StandardWebhook(receiver.secret).verify(request["body"], request["headers"])
        assert parsed["event"] == "version.validated"
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == f"msg_{delivery.pk}"  # one id
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(receiver.secret).verify(second["body"].replace(b"1.0.0", b"6.6.6"), second["headers"])
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret_generate()).verify(second["body"], second["headers"])


def test_a_secret_made_before_the_standard_format_still_signs_for_stock_verifiers():
    from standardwebhooks.webhooks import Webhook as StandardWebhook

    body, now = b'{"id":1,"event":"ping"}', int(time.time())
    legacy = "whsec_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg"  # the older 43-character URL-safe form
    signed = standard_signature(secret=legacy, message_id="msg_1", timestamp=now, body=body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": signed}
    assert StandardWebhook(legacy).verify(body, headers) == {"id": 1, "event": "ping"}


def test_two_500s_then_200_is_delivered_on_the_third_attempt(
    alice, team, released, receiver, run_tasks, django_capture_on_commit_callbacks
):
    _webhook, receiver.secret = hook_for(team, alice, receiver.url)
    receiver.answers = [500, 500]
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _publish(released)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert len(receiver.requests) == 3 and all(r["signature_valid"] for r in receiver.requests)
    assert {r["json"]["id"] for r in receiver.requests} == {delivery.pk}


@pytest.mark.parametrize(
    "code, retried", [(503, True), (429, True), (500, True), (404, False), (400, False), (410, False), (302, False)]
)
def test_5xx_and_429_are_retried_other_answers_are_final(alice, team, released, receiver, settings, code, retried):
    settings.MODELHUB_WEBHOOK_RETRY_DELAY = 7
    _webhook, receiver.secret = hook_for(team, alice, receiver.url)
    receiver.answers = [code]
    delivery = _publish(released)
    delay = webhook_deliver(delivery_id=delivery.pk, max_attempts=6)
    delivery.refresh_from_db()
    assert delivery.last_status_code == code and delivery.attempts == 1
    assert len(delivery.last_error) <= 1000 and str(code) in delivery.last_error
    if retried:
        assert delay == 7 and delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=5)
    else:
        assert delay is None and delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None


def test_connection_errors_are_retried_until_attempts_run_out(alice, team, released, settings):
    settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE = True
    settings.MODELHUB_WEBHOOK_RETRY_DELAY = 0
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    hook_for(team, alice, f"http://127.0.0.1:{port}/closed")
    delivery = _publish(released)
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=2) == 0
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=2) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    assert delivery.last_error.startswith("Connection failed")


def test_a_delivered_or_claimed_delivery_is_not_sent_again(alice, team, released, receiver, settings):
    _webhook, receiver.secret = hook_for(team, alice, receiver.url)
    delivery = _publish(released)
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=6) is None
    assert webhook_deliver(delivery_id=delivery.pk, max_attempts=6) is None  # a redelivered message
    assert len(receiver.requests) == 1
    # A second worker arriving while the first holds the claim (its lease) does nothing either.
    other = _publish(released)
    WebhookDelivery.objects.filter(pk=other.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=60), attempts=1
    )
    assert webhook_deliver(delivery_id=other.pk, max_attempts=6) is None
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.get(pk=other.pk).attempts == 1


def test_the_sweep_resends_lost_deliveries_and_fails_exhausted_ones(
    alice, team, released, receiver, run_tasks, settings
):
    from registry.notifications.tasks import webhook_deliveries_recover_task

    settings.MODELHUB_WEBHOOK_MAX_ATTEMPTS = 3
    _webhook, receiver.secret = hook_for(team, alice, receiver.url)
    lost, exhausted, fresh = _publish(released), _publish(released), _publish(released)
    long_ago = timezone.now() - timedelta(minutes=10)
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago, attempts=1)
    WebhookDelivery.objects.filter(pk=exhausted.pk).update(next_attempt_at=long_ago, attempts=3)
    webhook_deliveries_recover_task.apply()
    assert [r["json"]["id"] for r in receiver.requests] == [lost.pk]
    assert WebhookDelivery.objects.get(pk=lost.pk).status == DeliveryStatus.DELIVERED
    assert WebhookDelivery.objects.get(pk=exhausted.pk).status == DeliveryStatus.FAILED
    assert WebhookDelivery.objects.get(pk=fresh.pk).status == DeliveryStatus.PENDING  # its task is on its way


@pytest.mark.django_db(transaction=True)
def test_a_slow_post_keeps_its_claim_and_a_late_outcome_is_dropped(alice, team, released, receiver, settings):
    """The heartbeat moves the claim's lease along while the POST runs, so the sweep leaves a slow delivery alone;
    an attempt whose row was claimed again meanwhile (its lease lapsed) records nothing over the newer attempt."""
    from django.db import connection

    from registry.notifications.selectors import deliveries_lost

    settings.MODELHUB_CLAIM_LEASE, settings.MODELHUB_HEARTBEAT_INTERVAL = 2, 0.25
    _webhook, receiver.secret = hook_for(team, alice, receiver.url)
    receiver.delay = 3.0  # longer than the lease
    slow, late = _publish(released), _publish(released)

    def deliver(delivery_id):
        try:
            webhook_deliver(delivery_id=delivery_id, max_attempts=6)
        finally:
            connection.close()

    workers = [threading.Thread(target=deliver, args=(d.pk,)) for d in (slow, late)]
    for worker in workers:
        worker.start()
    receiver.wait_for(2)
    # The second attempt's claim is taken by another worker, as the sweep would once a lease lapsed.
    WebhookDelivery.objects.filter(pk=late.pk).update(attempts=2)
    time.sleep(2.5)  # past the lease: only the heartbeat keeps the first claim
    assert slow.pk not in deliveries_lost()
    for worker in workers:
        worker.join()
    assert WebhookDelivery.objects.get(pk=slow.pk).status == DeliveryStatus.DELIVERED
    dropped = WebhookDelivery.objects.get(pk=late.pk)
    assert dropped.status == DeliveryStatus.PENDING and dropped.last_status_code is None


def test_a_lost_claim_is_resent_a_lease_after_its_last_heartbeat(alice, team, released, settings):
    from registry.notifications.selectors import deliveries_lost

    settings.MODELHUB_CLAIM_LEASE = 30
    _webhook, _secret = hook_for(team, alice, "https://example.com/hook")
    delivery = _publish(released)
    lease = timedelta(seconds=30)

    def last_heartbeat(seconds_ago):  # it moved the lease to a lease past its own time
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=seconds_ago) + lease, attempts=1
        )

    last_heartbeat(50)
    assert delivery.pk not in deliveries_lost()
    last_heartbeat(61)
    assert deliveries_lost() == [delivery.pk]  # a minute after the worker died, not two


def test_ping_reaches_the_receiver(alice, team, alice_api, receiver, run_tasks, django_capture_on_commit_callbacks):
    _webhook, receiver.secret = hook_for(team, alice, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.post(f"/api/v1/teams/vision/webhooks/{_webhook.pk}/test")
    assert response.status_code == 202
    [request] = receiver.requests
    assert request["json"]["event"] == "ping" and request["signature_valid"]
    assert request["json"]["data"]["team"] == "vision"


# --- through a real Celery worker ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.parametrize("celery_worker_env", [{"MODELHUB_WEBHOOK_ALLOW_PRIVATE": "1"}])
def test_an_approval_reaches_the_receiver_through_the_worker(
    celery_worker, alice, team, bob_api, dave, client_for, receiver, tmp_path
):
    released = make_validated_version(alice, make_asset(alice, team, slug="clf", license="Apache-2.0"), tmp_path)
    _webhook, receiver.secret = hook_for(team, alice, receiver.url, ["version.approved"])
    version = "/api/v1/assets/vision/clf/versions/1.0.0"
    assert bob_api.post(f"{version}/submit", {}, format="json").status_code == 201
    response = client_for(dave).post(
        f"{version}/reviews", {"decision": "approve", "comment": "Ship it."}, format="json"
    )
    assert response.status_code == 201 and response.json()["version_status"] == "approved"
    try:
        receiver.wait_for(1, timeout=60)
    except AssertionError:
        raise AssertionError(celery_worker.log_path.read_text()[-3000:]) from None
    [request] = receiver.requests
    assert request["signature_valid"] and request["headers"]["X-Modelhub-Event"] == "version.approved"
    assert request["json"]["data"]["version"] == released.version and request["json"]["data"]["actor"] == "dave"
    deadline = time.monotonic() + 10
    while WebhookDelivery.objects.get().status != DeliveryStatus.DELIVERED:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_deprecation_reaches_the_teams_that_serve_or_use_the_version(
    alice, bob, dave, charlie, team, tmp_path, settings
):
    from registry.endpoints.services import endpoint_create
    from registry.governance.services import version_deprecate
    from registry.lineage.services import lineage_edge_add
    from tests.factories import bare_versions, make_team
    from tests.registry.endpoint_fixtures import approved_model

    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    clf = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    audio = make_team(charlie, slug="audio")
    theirs, _ = hook_for(audio, charlie, "https://hooks.example.com/audio", ["endpoint.version_deprecated"])
    solutions, _ = hook_for(audio, charlie, "https://hooks.example.com/apps", ["version.deprecated"])
    owners, _ = hook_for(team, alice, "https://hooks.example.com/vision", ["version.deprecated"])
    [(endpoint, _)] = endpoint_create(user=charlie, team=audio, asset=clf.asset, version=clf.version, name="speech")
    (app,) = bare_versions(make_asset(charlie, audio, kind="solution", slug="voice-app"), 1)
    lineage_edge_add(user=charlie, source=app, kind="uses", asset=clf.asset.full_slug, version=clf.version)

    version_deprecate(user=alice, version=clf, reason="retrained on cleaner data: use 2.0.0")
    served = WebhookDelivery.objects.get(webhook=theirs)
    assert served.event == "endpoint.version_deprecated" and served.payload["endpoint"] == "speech"
    assert served.payload["reason"] == "retrained on cleaner data: use 2.0.0" and served.payload["team"] == "audio"
    used = WebhookDelivery.objects.get(webhook=solutions)
    assert used.payload["used_by"] == [f"audio/voice-app@{app.version}"] and used.payload["asset"] == "vision/clf"
    owned = WebhookDelivery.objects.get(webhook=owners)
    assert "used_by" not in owned.payload

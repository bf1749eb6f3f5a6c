"""Abuse limits: API rates per token and per address, counted in Redis by every web process (a real gunicorn with
two workers, real requests), and sign-in lockout per account and per address, audited."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from registry.kernel.audit.models import AuditEvent
from registry.tokens.services import token_create
from tests.conftest import portal_server, require_real_services

RATE = 20
REDIS_DB = 9  # a database of its own on the local Redis, emptied before the test


@pytest.mark.django_db(transaction=True)
def test_a_burst_over_the_token_rate_gets_429s_with_retry_after_across_processes(alice, tmp_path):
    require_real_services()
    cache_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(cache_url).flushdb()
    _, key = token_create(user=alice, name="burst")
    env = {"MODELHUB_CACHE_URL": cache_url, "MODELHUB_API_RATE_PER_TOKEN": f"{RATE}/minute"}
    with portal_server(tmp_path / "gunicorn.log", env=env, workers=2) as base:
        if time.time() % 60 > 50:  # the counts are per minute: keep the burst inside one
            time.sleep(61 - time.time() % 60)

        def call(_):
            return requests.get(f"{base}/api/v1/teams/", headers={"Authorization": f"Bearer {key}"}, timeout=30)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(2 * RATE)))
    statuses = sorted(answer.status_code for answer in answers)
    # Two processes, each with a memory cache of its own, would let up to twice the rate through.
    assert statuses == [200] * RATE + [429] * RATE
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["code"] == "throttled" and int(refused.headers["Retry-After"]) > 0
    redis.Redis.from_url(cache_url).flushdb()


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_account_and_the_address_and_are_audited(alice, bob, client, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit):  # each from another address: the account's count
        answer = client.post(
            "/signin/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR=f"198.51.100.{attempt}"
        )
        assert answer.status_code == (200 if attempt < limit - 1 else 429)
    locked = client.post("/signin/", {"username": "alice", "password": "pw-alice"}, REMOTE_ADDR="198.51.100.200")
    assert locked.status_code == 429 and "Sign-in locked" in locked.content.decode()
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert "_auth_user_id" not in client.session  # the right password does not get in while locked
    event = AuditEvent.objects.get(action="signin.locked")
    assert event.target_id == str(alice.pk) and event.data["username"] == "alice"

    for attempt in range(limit):  # one address trying many accounts: the address's count
        client.post("/signin/", {"username": f"guess{attempt}", "password": "x"}, REMOTE_ADDR="203.0.113.9")
    blocked = client.post("/signin/", {"username": "bob", "password": "pw-bob"}, REMOTE_ADDR="203.0.113.9")
    assert blocked.status_code == 429
    welcome = client.post("/signin/", {"username": "bob", "password": "pw-bob"}, REMOTE_ADDR="203.0.113.10")
    assert welcome.status_code == 302  # bob from elsewhere is fine

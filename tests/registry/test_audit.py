"""The audit trail: hash-chained, append-only on PostgreSQL, verifiable, and readable by those it concerns."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from registry.kernel.audit.chain import GENESIS_HASH
from registry.kernel.audit.models import AuditEvent
from registry.kernel.audit.selectors import audit_chain_verify
from tests.factories import make_asset, make_team, make_validated_version

pytestmark = pytest.mark.django_db
requires_postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'")


def test_events_form_a_hash_chain(alice, team):
    make_asset(alice, team, slug="a")
    make_asset(alice, team, slug="b")
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    assert audit_chain_verify() == (len(events), [])


@requires_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE registry_auditevent SET actor_name = 'mallory'",
        "DELETE FROM registry_auditevent",
    ],
)
def test_postgresql_refuses_rewriting_the_trail(statement, alice, team):
    with (
        pytest.raises(DatabaseError, match="audit events are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(actor_name="alice").exists()


def _bypass_trigger(sql: str, params=()) -> None:
    """What someone with direct database access could do: write with the triggers switched off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_audit_verify_finds_a_rewritten_event_and_a_deleted_one(alice, team, capsys):
    for slug in ("a", "b", "c"):
        make_asset(alice, team, slug=slug)
    call_command("audit_verify")
    assert "audit trail intact" in capsys.readouterr().out

    second = AuditEvent.objects.order_by("seq")[1]
    _bypass_trigger("UPDATE registry_auditevent SET data = %s WHERE id = %s", ['{"slug": "forged"}', second.pk])
    with pytest.raises(CommandError, match="tampered with"):
        call_command("audit_verify")
    assert f"event {second.seq} " in capsys.readouterr().err

    _bypass_trigger("UPDATE registry_auditevent SET data = %s WHERE id = %s", [json.dumps(second.data), second.pk])
    assert audit_chain_verify()[1] == []  # put back as it was: intact again
    third = AuditEvent.objects.order_by("seq")[2]
    _bypass_trigger("DELETE FROM registry_auditevent WHERE id = %s", [third.pk])
    _checked, problems = audit_chain_verify()
    assert any(f"events {third.seq}-{third.seq} are missing" in p for p in problems), problems


def test_events_carry_the_request_id_and_before_after(alice, bob, dave, team, tmp_path, alice_api, bob_api):
    version = make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    response = bob_api.post(
        "/api/v1/assets/vision/clf/versions/1.0.0/submit", {}, format="json", HTTP_X_REQUEST_ID="trace-12345678"
    )
    assert response.status_code == 201 and response["X-Request-ID"] == "trace-12345678"
    event = AuditEvent.objects.get(action="version.submitted", target_id=str(version.pk))
    assert (event.request_id, event.before, event.after) == (
        "trace-12345678",
        {"status": "validated"},
        {"status": "in_review"},
    )
    generated = alice_api.get("/api/v1/audit/?action=version.submitted")
    assert len(generated["X-Request-ID"]) == 32  # a client id that is not well-formed is replaced
    assert generated.json()["results"][0]["request_id"] == "trace-12345678"


def test_audit_api_scopes_to_the_callers_teams_and_filters(
    alice, bob, charlie, team, alice_api, charlie_api, client_for
):
    make_asset(alice, team, slug="mine")
    other = make_team(charlie, slug="elsewhere")
    make_asset(charlie, other, slug="theirs")
    seen_by_alice = {e["target"] for e in alice_api.get("/api/v1/audit/?page_size=100").json()["results"]}
    assert "vision/mine" in seen_by_alice and "elsewhere/theirs" not in seen_by_alice
    filtered = alice_api.get("/api/v1/audit/?action=asset.created&actor=alice&team=vision").json()["results"]
    assert [e["target"] for e in filtered] == ["vision/mine"]
    assert filtered[0]["hash"] and filtered[0]["seq"] > 0
    assert charlie_api.get("/api/v1/audit/?team=vision").json()["results"] == []
    assert alice_api.get("/api/v1/audit/?action=nope").status_code == 400
    assert alice_api.get("/api/v1/audit/?since=yesterday").status_code == 400
    admin = client_for(type(alice).objects.create_superuser("root", password="x"))
    assert "elsewhere/theirs" in {e["target"] for e in admin.get("/api/v1/audit/?page_size=100").json()["results"]}


def test_downloading_a_private_file_is_audited_and_an_internal_one_is_not(alice, team, tmp_path, bob_api):
    private = make_validated_version(alice, make_asset(alice, team, slug="secret", visibility="private"), tmp_path)
    internal = make_validated_version(alice, make_asset(alice, team, slug="open"), tmp_path)
    assert bob_api.get("/api/v1/assets/vision/secret/versions/1.0.0/download").status_code == 200
    assert bob_api.get("/api/v1/assets/vision/open/versions/1.0.0/download").status_code == 200
    downloads = AuditEvent.objects.filter(action="version.downloaded")
    assert [(e.target_id, e.actor_name, e.data) for e in downloads] == [
        (str(private.pk), "bob", {"path": "model.onnx"})
    ]
    assert not downloads.filter(target_id=str(internal.pk)).exists()


def test_deleting_a_team_member_account_leaves_the_trail_intact(alice, bob, team):
    make_asset(bob, team, slug="by-bob")
    bob.delete()
    event = AuditEvent.objects.get(action="asset.created", actor_name="bob")
    assert audit_chain_verify()[1] == [] and event.actor_id is not None


@pytest.mark.parametrize(
    "query, status",
    [
        ("since=0744-08-04T10:59:05%2B20:24", 200),  # an offset PostgreSQL refuses: converted to UTC first
        ("until=0001-01-01T00:00:00%2B01:00", 400),  # before year 1 in UTC
        ("until=", 400),
        ("since=2026-13-01", 400),
    ],
)
def test_odd_times_are_answered_not_500(query, status, alice_api):
    assert alice_api.get(f"/api/v1/audit/?{query}").status_code == status


def _recorded_as_before(*, actor, target, team, action: str) -> AuditEvent:
    """An event appended the way releases before one event vocabulary did, with a name they used."""
    from django.utils import timezone

    from registry.kernel.audit.chain import event_hash

    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    fields = {"actor_id": actor.pk, "actor_name": actor.username, "action": action,
              "target_type": "marketplace.asset", "target_id": str(target.pk), "target_repr": str(target),
              "team_id": team.pk, "data": {}, "before": None, "after": None, "request_id": "",
              "created_at": timezone.now()}  # fmt: skip
    digest = event_hash(seq=seq, prev_hash=prev_hash, **fields)
    return AuditEvent.objects.create(seq=seq, prev_hash=prev_hash, hash=digest, **fields)


def test_reads_by_action_and_target_type_find_events_recorded_under_former_names(alice, team, alice_api):
    """Audit actions and target types were renamed (one event vocabulary; the catalogue moved into `registry`);
    rows recorded before keep their names, since the chain covers them, and are still found by today's."""
    old_asset = make_asset(alice, team, slug="before")
    former = _recorded_as_before(actor=alice, target=old_asset, team=team, action="asset.create")
    new_asset = make_asset(alice, team, slug="after")
    found = alice_api.get("/api/v1/audit/?action=asset.created&page_size=100").json()["results"]
    created = AuditEvent.objects.get(target_id=str(new_asset.pk), action="asset.created")
    assert {e["seq"] for e in found} >= {former.seq, created.seq}
    assert {e["action"] for e in found} == {"asset.created", "asset.create"}
    by_type = alice_api.get(f"/api/v1/audit/?target_type=registry.asset&target_id={old_asset.pk}").json()["results"]
    assert former.seq in {e["seq"] for e in by_type}
    assert {e["target_type"] for e in by_type} == {"marketplace.asset", "registry.asset"}
    assert audit_chain_verify()[1] == []


def test_audit_actions_and_webhook_events_are_one_vocabulary():
    from registry.kernel.audit.services import audit_record
    from registry.kernel.events import Event
    from registry.notifications.models import SUBSCRIBABLE_EVENTS

    assert set(SUBSCRIBABLE_EVENTS) < set(Event.values)
    assert all(value.split(".")[-1].endswith(("ed", "invalid", "ready")) for value in Event.values if value != "ping")
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(actor=None, action="asset.create", target=None)

"""The keyring over the API: every key's public half, for anyone (as `/api/v1/signing-key` always was), and the
signature endpoints naming the key each signature was made with."""

import pytest

from registry.governance.keys import signing_key_active, signing_key_add, signing_key_revoke
from registry.tokens.services import token_create
from tests.registry.endpoint_fixtures import approved_model

pytestmark = pytest.mark.django_db
K = "/api/v1/signing-keys"
V = "/api/v1/assets/vision/clf/versions/1.0.0"


@pytest.fixture(autouse=True)
def keys_dir(settings, tmp_path):
    settings.MODELHUB_SIGNING_KEYS_DIR = str(tmp_path / "signing-keys")


@pytest.fixture
def rotated(alice, bob, dave, team, tmp_path):
    """1.0.0 approved and signed with the first key, then a new key made active."""
    version = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    first = signing_key_active()
    return version, first, signing_key_add(generate=True, name="2027", activate=True)


def test_anyone_lists_the_keyring_and_nothing_secret_is_in_it(rotated, anon_api, charlie_api):
    _, first, second = rotated
    signing_key_revoke(key_id=signing_key_add(generate=True, name="spare").key_id, reason="made by mistake")
    for client in (anon_api, charlie_api):  # public keys are public: no account, or an outsider's
        response = client.get(K)
        assert response.status_code == 200
        keys = response.json()["results"]
        assert [(k["key_id"], k["status"]) for k in keys[:2]] == [(first.key_id, "retired"), (second.key_id, "active")]
        assert keys[2]["status"] == "revoked" and keys[2]["revoked_reason"] == "made by mistake"
        assert keys[2]["revoked_at"] and keys[0]["retired_at"] and keys[1]["activated_at"] and keys[1]["created_at"]
        assert all(k["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----") for k in keys)
        assert b"PRIVATE" not in response.content


def test_one_key_as_json_or_pem_by_id_or_prefix(rotated, anon_api):
    _, first, _ = rotated
    detail = anon_api.get(f"{K}/{first.key_id}")
    assert detail.status_code == 200 and detail.json()["name"] == first.name and detail.json()["status"] == "retired"
    pem = anon_api.get(f"{K}/{first.key_id[:8]}?format=pem")
    assert pem.status_code == 200 and pem["Content-Type"] == "application/x-pem-file"
    assert pem.content.decode() == first.public_key_pem and pem["X-Key-Id"] == first.key_id
    accepted = anon_api.get(f"{K}/{first.key_id}", HTTP_ACCEPT="application/x-pem-file")
    assert accepted.content == pem.content
    assert anon_api.get(f"{K}/{first.key_id}?format=json").json()["key_id"] == first.key_id


def test_unknown_and_malformed_key_ids_and_formats(rotated, anon_api):
    missing = anon_api.get(f"{K}/{'0' * 64}")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    short = anon_api.get(f"{K}/abc")
    assert short.status_code == 400 and short.json()["code"] == "invalid"
    assert anon_api.get(f"{K}/not-hex-at-all").status_code == 400
    wrong = anon_api.get(f"{K}/{rotated[1].key_id}?format=der")
    assert wrong.status_code == 400 and "format" in wrong.json()["detail"]
    assert anon_api.get(f"{K}?colour=blue").status_code == 400  # an unknown query parameter


def test_a_token_without_the_read_scope_is_refused(alice, client_for):
    _, key = token_create(user=alice, name="deploy only", scopes=["deploy"])
    client = client_for(alice)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    for path in (K, f"{K}/{'0' * 64}", "/api/v1/signing-key"):
        refused = client.get(path)
        assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


def test_signature_endpoints_name_the_signature_s_key_and_the_old_endpoint_serves_the_active_one(
    rotated, alice_api, anon_api
):
    _, first, second = rotated
    signature = alice_api.get(f"{V}/signature")
    assert signature.status_code == 200 and signature["X-Key-Id"] == first.key_id
    check = alice_api.get(f"{V}/signature/verification").json()
    assert check == {"valid": True, "detail": check["detail"], "key_id": first.key_id}
    active = anon_api.get("/api/v1/signing-key")
    assert active["X-Key-Id"] == second.key_id and active.content.decode() == second.public_key_pem


def test_an_outsider_gets_nothing_of_a_private_version_s_signature(alice, bob, dave, team, tmp_path, charlie_api):
    from tests.factories import make_asset

    asset = make_asset(alice, team, slug="clf", license="MIT", visibility="private")
    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave, asset=asset)
    for path in (f"{V}/signature", f"{V}/signature/verification"):
        assert charlie_api.get(path).status_code == 404


def test_the_admin_lists_the_keys_read_only(rotated):
    from django.test import Client

    from tests.factories import make_user

    admin = Client()
    admin.force_login(make_user("root", is_staff=True, is_superuser=True))
    listing = admin.get("/admin/registry/signingkey/")
    assert listing.status_code == 200 and b"2027" in listing.content
    assert admin.get("/admin/registry/signingkey/add/").status_code == 403
    assert admin.get("/admin/registry/trustedupstreamkey/").status_code == 200

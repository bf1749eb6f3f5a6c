import pytest
from django.test import Client

from registry.cards.services import card_update
from registry.lineage.services import lineage_edge_add
from tests.factories import bare_versions, make_asset, make_user, make_version, onnx_bytes

pytestmark = pytest.mark.django_db


def test_admin_pages_render_for_staff(alice, team, tmp_path):
    version = make_version(alice, make_asset(alice, team, slug="m"), tmp_path, onnx_bytes())
    card = card_update(user=alice, version=version, fields={"body": "# Card", "license": "mit"})
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    for url in [
        "/admin/",
        "/admin/registry/asset/",
        "/admin/registry/team/",
        "/admin/registry/apitoken/",
        "/admin/registry/assetversion/",
        f"/admin/registry/assetversion/{version.pk}/change/",
        "/admin/registry/auditevent/",
        "/admin/registry/blob/",
        "/admin/registry/modelcard/",
        f"/admin/registry/modelcard/{card.pk}/change/",
    ]:
        assert client.get(url).status_code == 200, url


def test_lineage_edges_are_listed_read_only(alice, team):
    model, dataset = (
        bare_versions(make_asset(alice, team, kind=kind, slug=kind), 1)[0] for kind in ("model", "dataset")
    )
    edge = lineage_edge_add(
        user=alice, source=model, kind="trained_on", asset=dataset.asset.full_slug, version=dataset.version
    )
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    listing = client.get("/admin/registry/lineageedge/")
    assert listing.status_code == 200 and b"trained_on" in listing.content
    assert client.get(f"/admin/registry/lineageedge/{edge.pk}/change/").status_code == 200
    assert client.get("/admin/registry/lineageedge/add/").status_code == 403
    assert client.post(f"/admin/registry/lineageedge/{edge.pk}/delete/", {"post": "yes"}).status_code == 403


def test_admin_is_closed_to_non_staff(alice):
    client = Client()
    client.force_login(alice)
    assert client.get("/admin/registry/assetversion/").status_code == 302


def test_webhooks_are_listed_without_their_secret(alice, team):
    from registry.notifications.services import webhook_create

    webhook, secret = webhook_create(user=alice, team=team, url="https://hooks.example.com/x", events=[])
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    for url in [
        "/admin/registry/webhook/",
        f"/admin/registry/webhook/{webhook.pk}/change/",
        "/admin/registry/webhookdelivery/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert secret.encode() not in response.content and webhook.secret_encrypted.encode() not in response.content
    assert client.get("/admin/registry/webhook/add/").status_code == 403


def test_endpoints_are_listed_read_only_without_key_hashes(alice, bob, dave, team, tmp_path):
    from registry.endpoints.services import endpoint_create
    from tests.registry.endpoint_fixtures import approved_model

    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((endpoint, key),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0")
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    for url in ["/admin/registry/endpoint/", f"/admin/registry/endpoint/{endpoint.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 200 and b"clf-1-0-0" in response.content, url
        assert endpoint.keys.get().key_hash.encode() not in response.content
    assert client.get("/admin/registry/endpoint/add/").status_code == 403

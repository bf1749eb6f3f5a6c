import pytest
from django.test import Client

from registry.cards.services import card_update
from tests.factories import make_asset, make_user, make_version, onnx_bytes

pytestmark = pytest.mark.django_db


def test_admin_pages_render_for_staff(alice, team, tmp_path):
    version = make_version(alice, make_asset(alice, team, slug="m"), tmp_path, onnx_bytes())
    card = card_update(user=alice, version=version, fields={"body": "# Card", "license": "mit"})
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    for url in ["/admin/", "/admin/marketplace/asset/", "/admin/marketplace/team/", "/admin/marketplace/apitoken/",
                "/admin/registry/assetversion/", f"/admin/registry/assetversion/{version.pk}/change/",
                "/admin/marketplace/auditevent/", "/admin/registry/blob/", "/admin/registry/modelcard/",
                f"/admin/registry/modelcard/{card.pk}/change/"]:
        assert client.get(url).status_code == 200, url


def test_admin_is_closed_to_non_staff(alice):
    client = Client()
    client.force_login(alice)
    assert client.get("/admin/registry/assetversion/").status_code == 302

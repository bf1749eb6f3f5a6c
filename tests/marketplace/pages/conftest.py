import pytest

from tests.marketplace.pages.portal_data import build_portal


@pytest.fixture
def portal(alice, bob, dave, tmp_path):
    return build_portal(alice=alice, bob=bob, dave=dave, tmp_path=tmp_path)


@pytest.fixture
def signed_in(client):
    """A Django test client signed in as the given user (session auth, as a browser)."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in

"""Single sign-on in real headless Chromium through the real redirect flow: the portal sends the browser to a real
OpenID Connect provider on loopback (tests/identity_provider: django-oauth-toolkit, PKCE required), the person
signs in there, comes back signed in with the provider's groups applied, and signing out ends both sessions. A
forged answer is refused; with password sign-in switched off, only single sign-on is offered."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from registry.identities.models import ExternalIdentity
from registry.teams.models import Membership
from tests.identity_provider.process import PASSWORD, example_corp, identity_provider, modelhub_settings
from tests.marketplace.pages.browser import browser_as, chromium, shoot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture(scope="module")
def provider(tmp_path_factory, live_server):
    with identity_provider(tmp_path_factory.mktemp("idp"), **example_corp(live_server.url)) as idp:
        yield idp


@pytest.fixture
def sso(settings, provider):
    modelhub_settings(settings, provider)
    return provider


def sign_in_at_the_provider(page, username: str) -> None:
    expect(page.get_by_role("heading", name="Example Corp identity")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in to Example Corp").click()


def test_sign_in_with_the_provider_maps_groups_and_sign_out_ends_both_sessions(
    sso, team, browser_as, live_server, reviewers
):
    page = browser_as(None)
    page.goto("/signin/?next=/catalogue/")
    shoot(page, "sso-01-sign-in")
    page.get_by_role("link", name="Sign in with Example Corp").click()
    assert page.url.startswith(sso.issuer.removesuffix("/o"))  # at the provider, not a page of the portal
    sign_in_at_the_provider(page, "erin")
    expect(page.get_by_role("heading", name="Catalogue")).to_be_visible()  # back where the person was going
    assert page.url == f"{live_server.url}/catalogue/"
    expect(page.get_by_role("button", name=re.compile(r"Sign out.*erin"))).to_be_visible()

    user = get_user_model().objects.get(username="erin")
    identity = ExternalIdentity.objects.get(user=user)
    assert identity.issuer == sso.issuer and identity.groups == ["ml-vision", "model-reviewers"]
    assert (
        Membership.objects.get(user=user, team=team).role == "member" and user.groups.filter(name="reviewers").exists()
    )
    assert user.email == "erin@example.com" and user.first_name == "Erin" and not user.has_usable_password()
    page.goto("/reviews/")  # a reviewer through the provider's group
    expect(page.get_by_role("heading", name=re.compile("Review"))).to_be_visible()

    page.get_by_role("button", name=re.compile("Sign out")).click()
    expect(page.get_by_role("heading", name="Sign in to Modelhub")).to_be_visible()
    assert page.url.startswith(f"{live_server.url}/signin/")
    page.goto("/catalogue/")
    expect(page.get_by_role("heading", name="Sign in to Modelhub")).to_be_visible()  # signed out here
    page.get_by_role("link", name="Sign in with Example Corp").click()
    # ...and at the provider: it asks for the password again instead of signing erin straight back in.
    expect(page.get_by_role("heading", name="Example Corp identity")).to_be_visible()
    sign_in_at_the_provider(page, "frank")
    expect(page.get_by_role("button", name=re.compile(r"Sign out.*frank"))).to_be_visible()
    frank = get_user_model().objects.get(username="frank")
    assert Membership.objects.get(user=frank, team=team).role == "maintainer"
    assert ExternalIdentity.objects.count() == 2


def test_a_forged_or_replayed_answer_signs_nobody_in(sso, browser_as):
    page = browser_as(None)
    response = page.goto("/signin/sso/callback/?code=stolen-code&state=forged-state")
    assert response.status == 400
    expect(page.get_by_role("heading", name="Sign-in with Example Corp failed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("refused")
    shoot(page, "sso-02-refused")
    page.goto("/catalogue/")
    expect(page.get_by_role("heading", name="Sign in to Modelhub")).to_be_visible()

    # A real answer, replayed after the portal took it: its state was spent, and the code with it.
    answers = []
    page.on("request", lambda request: "/signin/sso/callback/" in request.url and answers.append(request.url))
    page.get_by_role("link", name="Sign in with Example Corp").click()
    sign_in_at_the_provider(page, "erin")
    expect(page.get_by_role("button", name=re.compile(r"Sign out.*erin"))).to_be_visible()
    assert len(answers) == 1 and "code=" in answers[0] and "state=" in answers[0]
    assert page.goto(answers[0]).status == 400
    assert ExternalIdentity.objects.count() == 1


def test_with_password_sign_in_off_only_single_sign_on_is_offered(sso, settings, browser_as, alice, client):
    settings.MODELHUB_PASSWORD_SIGNIN = False
    refused = client.post("/signin/", {"username": "alice", "password": "pw-alice"})
    assert refused.status_code == 403 and "_auth_user_id" not in client.session
    page = browser_as(None)
    page.goto("/signin/")
    expect(page.get_by_role("link", name="Sign in with Example Corp")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Password sign-in is switched off")
    shoot(page, "sso-03-sso-only")

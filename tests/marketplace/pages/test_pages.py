"""The portal's pages through Django's test client: what they show, to whom, and in how many queries.

alice maintains `vision`, bob is a member, charlie is the outsider, dave a reviewer from outside the team
(tests/marketplace/pages/portal_data.py). Private assets never appear for charlie or dave, on any page or partial.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.endpoints.models import Endpoint
from registry.examples.models import InputExample
from registry.tokens.models import APIToken
from registry.versions.models import AssetVersion
from tests.factories import make_asset, onnx_bytes

pytestmark = pytest.mark.django_db

PRIVATE_MARKERS = ("Hidden flower model", "hidden-model", "Vision notes", "vision-notes")


def text(response) -> str:
    return response.content.decode()


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


# --- Signing in and the home page -----------------------------------------------------------------


def test_signed_out_visitors_get_the_welcome_page_and_are_sent_to_sign_in(client, portal):
    home = client.get("/")
    assert home.status_code == 200 and "Sign in to browse" in text(home)
    for url in ("/catalogue/", "/assets/vision/clf/", "/reviews/", "/endpoints/", "/teams/", "/tokens/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin/?next="), url


def test_sign_in_and_out_with_a_session(client, alice):
    page = client.get("/signin/")
    assert page.status_code == 200 and 'name="csrfmiddlewaretoken"' in text(page)
    wrong = client.post("/signin/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and "correct username and password" in text(wrong)
    signed_in = client.post("/signin/", {"username": "alice", "password": "pw-alice"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert "Welcome back, alice" in text(client.get("/"))
    assert client.post("/signout/").status_code == 302
    assert client.get("/tokens/").status_code == 302


def test_home_shows_counts_recent_and_what_waits(signed_in, portal, alice, dave):
    page = text(signed_in(alice).get("/"))
    assert "Welcome back, alice" in page and "Flower classifier" in page and "Vision notes" in page
    assert "?kind=dataset" in page
    waiting = text(signed_in(dave).get("/"))
    assert "Review vision/clf 1.1.0" in waiting
    assert not any(marker in waiting for marker in PRIVATE_MARKERS)


# --- Catalogue ------------------------------------------------------------------------------------


def test_catalogue_searches_filters_sorts_and_highlights(signed_in, portal, alice):
    client = signed_in(alice)
    page = text(client.get("/catalogue/?q=flower"))
    assert "<mark>Flower</mark> classifier" in page and "3 results" not in page
    kinds = text(client.get("/catalogue/?q=flo&kind=dataset"))
    assert "1 result for" in kinds and "Flower classifier" not in kinds and "kind: Dataset" in kinds
    tagged = text(client.get("/catalogue/?tag=tabular&tag=linear"))
    assert "Flower classifier" in tagged and "Measurements of iris" not in tagged
    by_name = text(client.get("/catalogue/?sort=name"))
    assert by_name.index("Flower classifier") < by_name.index("Vision notes")
    assert client.get("/catalogue/?sort=used").status_code == 200


def test_catalogue_filters_by_release_status(signed_in, portal, alice):
    client = signed_in(alice)
    page = text(client.get("/catalogue/"))
    assert 'aria-label="Status"' in page and "Approved" in page and "Validated" in page
    approved = text(client.get("/catalogue/?status=approved"))
    assert "Flower classifier" in approved and "Measurements of iris" not in approved
    assert "status: Approved" in approved and '<span class="badge good"' in approved


def test_a_typo_finds_the_word_and_says_so(signed_in, portal, alice):
    page = text(signed_in(alice).get("/catalogue/?q=flowrs&kind=dataset"))
    assert "“flowrs” also matched flowers" in page and "<mark>Flowers</mark>" in page


def test_highlighting_escapes_what_it_shows(signed_in, portal, alice):
    make_asset(alice, portal.team, slug="xss", name="<script>alert(1)</script> flowery", summary="<b>bold</b>")
    page = text(signed_in(alice).get("/catalogue/?q=flowery"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; <mark>flowery</mark>" in page


def test_a_bad_parameter_is_a_friendly_400_not_a_500(signed_in, portal, alice):
    for url in ("/catalogue/?kind=spaceship", "/catalogue/?sort=chaos", "/catalogue/?" + "&".join(["tag=a"] * 11)):
        response = signed_in(alice).get(url)
        assert response.status_code == 400 and 'role="alert"' in text(response), url


def test_suggestions_while_typing(signed_in, portal, alice, charlie):
    partial = text(signed_in(alice).get("/catalogue/suggest?q=classi", HTTP_HX_REQUEST="true"))
    assert "/assets/vision/clf/" in partial and "<mark>classi</mark>fier" in partial
    assert text(signed_in(charlie).get("/catalogue/suggest?q=hidden")).strip() == ""


def test_htmx_requests_get_the_results_partial(signed_in, portal, alice):
    partial = text(signed_in(alice).get("/catalogue/?q=flo", HTTP_HX_REQUEST="true"))
    assert "<!doctype" not in partial and "<mark>Flower</mark> classifier" in partial


# --- Asset page -----------------------------------------------------------------------------------


def test_asset_page_shows_card_signature_files_lineage_reviews_and_release(signed_in, portal, bob):
    page = text(signed_in(bob).get("/assets/vision/clf/?version=1.0.0"))
    for expected in (
        "Flower classifier",
        "Intended use of this release",
        "batch × 4",
        "Passed.",
        portal.approved.sha256,
        "/api/v1/assets/vision/clf/versions/1.0.0/download",
        "@production",
        "/assets/vision/flowers/?version=1.0.0",
        "trained on",
        "Reproduced.",
        "Approved and signed by the organisation key",
        "Deploy 1.0.0",
        "Upload a version",
    ):
        assert expected in page, expected
    assert "<strong>species</strong>" in page  # the description is rendered Markdown


def test_the_signature_is_verified_on_request(signed_in, portal, bob, charlie):
    check = signed_in(bob).get("/assets/vision/clf/versions/1.0.0/signature-check", HTTP_HX_REQUEST="true")
    assert check.status_code == 200 and "Verified now." in text(check)
    unsigned = text(signed_in(bob).get("/assets/vision/clf/versions/1.1.0/signature-check"))
    assert "Does not verify." in unsigned and "no signature" in unsigned
    hidden = signed_in(charlie).get("/assets/secret/hidden-model/versions/1.0.0/signature-check")
    assert hidden.status_code == 404


def test_a_validated_version_can_be_submitted_from_its_page(signed_in, portal, alice, bob, tmp_path):
    from tests.factories import make_validated_version

    version = make_validated_version(alice, portal.clf, tmp_path, version="2.0.0")
    client = signed_in(bob)
    assert "Submit 2.0.0 for review" in text(client.get("/assets/vision/clf/?version=2.0.0"))
    response = client.post("/assets/vision/clf/versions/2.0.0/submit", {"note": "Ready."}, follow=True)
    assert "Version 2.0.0 is in review." in text(response)
    version.refresh_from_db()
    assert version.status == "in_review"


def test_an_unknown_version_or_asset_is_a_404_page(signed_in, portal, alice):
    client = signed_in(alice)
    missing = client.get("/assets/vision/clf/?version=9.9.9")
    assert missing.status_code == 404 and "has no version" in text(missing)
    assert client.get("/assets/vision/nothing/").status_code == 404


def test_version_status_partial_asks_the_page_to_reload_once_validated(signed_in, portal, alice):
    client = signed_in(alice)
    url = "/assets/vision/clf/versions/1.0.0/status"
    assert "HX-Refresh" not in client.get(url)
    assert client.get(url + "?was=validating")["HX-Refresh"] == "true"


# --- Upload ---------------------------------------------------------------------------------------


def test_upload_without_javascript_streams_through_the_same_service(signed_in, portal, bob, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(bob)
    assert client.get("/assets/vision/clf/upload").status_code == 200
    response = client.post(
        "/assets/vision/clf/upload",
        {"version": "1.3.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes()), "metadata": '{"a": 1}'},
    )
    assert response.status_code == 302 and response["Location"] == "/assets/vision/clf/?version=1.3.0"
    created = AssetVersion.objects.get(asset=portal.clf, version="1.3.0")
    assert created.status == "validating" and created.metadata == {"a": 1} and created.created_by == bob
    again = client.post(
        "/assets/vision/clf/upload", {"version": "1.3.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes())}
    )
    assert again.status_code == 400 and "already has version 1.3.0" in text(again)
    example = b'{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}'
    with_example = client.post(
        "/assets/vision/clf/upload",
        {
            "version": "1.4.0",
            "file": SimpleUploadedFile("model.onnx", onnx_bytes()),
            "input_example": SimpleUploadedFile("example.json", example),
        },
    )
    assert with_example.status_code == 302
    kept = InputExample.objects.get(version__version="1.4.0", version__asset=portal.clf)
    assert [t["name"] for t in kept.tensors] == ["input"]
    bad = client.post(
        "/assets/vision/clf/upload",
        {
            "version": "1.5.0",
            "file": SimpleUploadedFile("model.onnx", onnx_bytes()),
            "input_example": SimpleUploadedFile("example.json", b'{"inputs": "no"}'),
        },
    )
    assert bad.status_code == 400 and "input_example" in text(bad)
    assert not AssetVersion.objects.filter(asset=portal.clf, version="1.5.0").exists()


def test_upload_needs_the_csrf_token_and_membership(portal, charlie, bob, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bob)
    refused = strict.post(
        "/assets/vision/clf/upload", {"version": "1.4.0", "file": SimpleUploadedFile("m.onnx", onnx_bytes())}
    )
    assert refused.status_code == 403
    client.force_login(charlie)
    outsider = client.post(
        "/assets/vision/clf/upload", {"version": "1.4.0", "file": SimpleUploadedFile("m.onnx", onnx_bytes())}
    )
    assert outsider.status_code == 403 and "Only members of &#x27;vision&#x27;" in text(outsider)
    assert client.get("/assets/vision/clf/upload").status_code == 403
    assert not AssetVersion.objects.filter(version="1.4.0").exists()


def test_the_api_upload_accepts_the_browser_session_with_csrf(portal, bob):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob)
    page = text(browser.get("/assets/vision/clf/"))
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    from django.core.files.uploadedfile import SimpleUploadedFile

    without = browser.post(
        "/api/v1/assets/vision/clf/versions/",
        {"version": "1.5.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes())},
    )
    assert without.status_code == 403
    response = browser.post(
        "/api/v1/assets/vision/clf/versions/",
        {"version": "1.5.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes())},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 202 and response.json()["status"] == "validating"


# --- Reviews --------------------------------------------------------------------------------------


def test_review_queue_and_page_show_the_diff_and_record_a_decision(signed_in, portal, dave):
    client = signed_in(dave)
    queue = text(client.get("/reviews/"))
    assert "/reviews/vision/clf/1.1.0/" in queue
    page = text(client.get("/reviews/vision/clf/1.1.0/"))
    assert "Compared with 1.0.0" in page and "Accuracy 0.97" in page and "accuracy" in page
    empty = client.post("/reviews/vision/clf/1.1.0/", {"decision": "approve", "comment": ""})
    assert empty.status_code == 400 and "This field is required" in text(empty)
    done = client.post("/reviews/vision/clf/1.1.0/", {"decision": "request_changes", "comment": "Add a table."})
    assert done.status_code == 302
    assert AssetVersion.objects.get(pk=portal.in_review.pk).status == "validated"


def test_the_uploader_and_submitter_cannot_review(signed_in, portal, bob):
    page = text(signed_in(bob).get("/reviews/vision/clf/1.1.0/"))
    assert "You are not a reviewer under this version" in page and "Record decision" not in page
    refused = signed_in(bob).post("/reviews/vision/clf/1.1.0/", {"decision": "approve", "comment": "Me!"})
    assert refused.status_code == 400
    assert AssetVersion.objects.get(pk=portal.in_review.pk).status == "in_review"


# --- Deploy and endpoints -------------------------------------------------------------------------


def test_deploy_creates_an_endpoint_and_its_page_shows_the_key_and_examples(signed_in, portal, bob):
    client = signed_in(bob)
    response = client.post("/assets/vision/clf/versions/1.0.0/deploy", {"team": "vision", "name": "flower-clf"})
    endpoint = Endpoint.objects.get(name="flower-clf")
    assert response.status_code == 302 and response["Location"] == f"/endpoints/{endpoint.pk}/"
    page = text(client.get(response["Location"]))
    key = page.split("data-endpoint-key>")[1].split("<")[0]
    assert key.startswith("mhe_") and f"Bearer {key}" in page
    assert "curl -sS -X POST" in page and "tritonclient.http" in page and "requests.post(" in page
    assert "&quot;shape&quot;: [1, 4]" in page and "&quot;datatype&quot;: &quot;FP32&quot;" in page
    assert 'hx-trigger="every 1s"' in page  # pending: the status polls
    status = client.get(f"/endpoints/{endpoint.pk}/status?settled=0")
    assert status.status_code == 200 and "Pending" in text(status) and "HX-Refresh" not in status
    Endpoint.objects.filter(pk=endpoint.pk).update(status="ready", url="http://127.0.0.1:9/v2/models/flower-clf")
    assert client.get(f"/endpoints/{endpoint.pk}/status?settled=0")["HX-Refresh"] == "true"
    ready = text(client.get(f"/endpoints/{endpoint.pk}/"))
    assert key in ready  # shown once more, now that it is ready ...
    assert key not in text(client.get(f"/endpoints/{endpoint.pk}/"))  # ... and then never again
    assert "$MODELHUB_KEY" in text(client.get(f"/endpoints/{endpoint.pk}/"))


def test_members_create_and_revoke_endpoint_keys_on_its_page(signed_in, portal, bob, charlie):
    from registry.endpoints.models import EndpointKey

    client = signed_in(bob)
    client.post("/assets/vision/clf/versions/1.0.0/deploy", {"team": "vision", "name": "flower-clf"})
    endpoint = Endpoint.objects.get(name="flower-clf")
    created = client.post(f"/endpoints/{endpoint.pk}/keys")
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    key = text(created).split("data-endpoint-key>")[1].split("<")[0]
    assert key.startswith("mhe_") and f"Bearer {key}" in text(created)
    made = EndpointKey.objects.filter(endpoint=endpoint, internal=False).order_by("-pk").first()
    assert key.startswith(made.prefix)
    page = text(client.get(f"/endpoints/{endpoint.pk}/"))
    assert f"Revoke key {made.prefix}" in page and key not in page
    # An outsider can neither make nor revoke one: the endpoint does not exist for them.
    outsider = signed_in(charlie)
    assert outsider.post(f"/endpoints/{endpoint.pk}/keys").status_code == 404
    assert outsider.post(f"/endpoints/{endpoint.pk}/keys/{made.pk}/revoke").status_code == 404
    client = signed_in(bob)
    revoked = client.post(f"/endpoints/{endpoint.pk}/keys/{made.pk}/revoke", follow=True)
    assert f"Key {made.prefix}… revoked" in text(revoked)
    made.refresh_from_db()
    assert made.revoked_at is not None and f"Revoke key {made.prefix}" not in text(revoked)
    again = client.post(f"/endpoints/{endpoint.pk}/keys/{made.pk}/revoke", follow=True)
    assert again.status_code == 200 and f"Key {made.prefix}… revoked" not in text(again)


def test_deploying_an_unapproved_version_says_why(signed_in, portal, bob):
    response = signed_in(bob).post("/assets/vision/clf/versions/1.1.0/deploy", {"team": "vision"}, follow=True)
    assert "Only approved versions can be deployed" in text(response)
    assert not Endpoint.objects.exists()


def test_endpoints_are_only_for_the_teams_members(signed_in, portal, bob, charlie):
    signed_in(bob).post("/assets/vision/clf/versions/1.0.0/deploy", {"team": "vision", "name": "flower-clf"})
    endpoint = Endpoint.objects.get()
    outsider = signed_in(charlie)
    assert outsider.get(f"/endpoints/{endpoint.pk}/").status_code == 404
    assert outsider.get(f"/endpoints/{endpoint.pk}/status").status_code == 404
    assert "flower-clf" not in text(outsider.get("/endpoints/"))
    refused = outsider.post("/assets/vision/clf/versions/1.0.0/deploy", {"team": "vision"}, follow=True)
    assert Endpoint.objects.count() == 1 and "Select a valid choice" in text(refused)


# --- Teams, audit, tokens -------------------------------------------------------------------------


def test_team_page_lets_maintainers_manage_members(signed_in, portal, alice, bob, charlie):
    client = signed_in(alice)
    page = text(client.get("/teams/vision/"))
    assert "Add a member" in page and "Remove bob" in page
    client.post("/teams/vision/members", {"action": "add", "username": "charlie", "role": "member"})
    client.post("/teams/vision/members", {"action": "role", "username": "charlie", "role": "maintainer"})
    assert portal.team.memberships.get(user=charlie).role == "maintainer"
    member = signed_in(bob)
    assert "Add a member" not in text(member.get("/teams/vision/"))
    refused = member.post("/teams/vision/members", {"action": "remove", "username": "alice"}, follow=True)
    assert "Only maintainers of &#x27;vision&#x27;" in text(refused)
    last = signed_in(alice).post("/teams/vision/members", {"action": "role", "username": "alice", "role": "member"})
    assert last.status_code == 302


def test_creating_a_team_from_the_directory(signed_in, portal, charlie):
    client = signed_in(charlie)
    response = client.post("/teams/", {"slug": "charlies-lab", "name": "Charlie's lab"})
    assert response.status_code == 302 and response["Location"] == "/teams/charlies-lab/"
    taken = client.post("/teams/", {"slug": "vision", "name": "Again"})
    assert taken.status_code == 400 and "already exists" in text(taken)


def test_team_audit_log_shows_the_teams_events_to_members_only(signed_in, portal, alice, charlie):
    page = text(signed_in(alice).get("/teams/vision/audit/"))
    assert "version.created" in page and "team.member_added" in page
    filtered = text(signed_in(alice).get("/teams/vision/audit/?action=lineage.added"))
    assert "<code>lineage.added</code>" in filtered and "<code>version.created</code>" not in filtered
    assert "<code>version.created</code>" not in text(signed_in(charlie).get("/teams/vision/audit/"))
    bad = signed_in(alice).get("/teams/vision/audit/?since=yesterday")
    assert bad.status_code == 400


def test_tokens_are_shown_once_and_revoked(signed_in, portal, alice, bob, client):
    page = text(signed_in(alice).get("/tokens/"))
    assert page.count('type="checkbox" name="scopes"') == 6 and page.count("checked") == 6  # all, by default
    none = signed_in(alice).post("/tokens/", {"name": "laptop", "expires_in_days": 30})
    assert "Choose at least one scope" in text(none)
    too_long = signed_in(alice).post("/tokens/", {"name": "laptop", "scopes": ["deploy"], "expires_in_days": 9999})
    assert "less than or equal to 365" in text(too_long)
    created = signed_in(alice).post(
        "/tokens/", {"name": "laptop", "scopes": ["catalogue:read", "deploy"], "expires_in_days": 30}
    )
    token = APIToken.objects.get(user=alice, name="laptop")
    assert (
        token.scopes == ["catalogue:read", "deploy"]
        and round((token.expires_at - token.created_at).total_seconds() / 86400) == 30
    )
    assert "catalogue:read, deploy" in text(created)
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    key = text(created).split("data-new-token>")[1].split("<")[0]
    assert key.startswith(token.prefix)
    assert key not in text(client.get("/tokens/"))
    # Somebody else's token cannot be revoked through the page.
    assert "no active token" in text(signed_in(bob).post(f"/tokens/{token.pk}/revoke", follow=True))
    signed_in(alice).post(f"/tokens/{token.pk}/revoke")
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- Privacy, errors, the API for browsers --------------------------------------------------------


@pytest.mark.parametrize("who", ["charlie", "dave"])
def test_outsiders_see_no_private_asset_anywhere(signed_in, portal, request, who):
    client = signed_in(request.getfixturevalue(who))
    for url in (
        "/",
        "/catalogue/",
        "/catalogue/?q=hidden",
        "/catalogue/?q=notes",
        "/catalogue/?team=secret",
        "/catalogue/?sort=used",
        "/catalogue/suggest?q=hid",
        "/catalogue/?q=hiddn",
        "/reviews/",
        "/endpoints/",
        "/teams/",
        "/teams/secret/",
        "/teams/secret/audit/",
        "/assets/vision/flowers/",
        "/assets/vision/clf/",
    ):
        response = client.get(url)
        assert response.status_code in (200, 400), url
        assert not any(marker in text(response) for marker in PRIVATE_MARKERS), url
    for url in (
        "/assets/secret/hidden-model/",
        "/assets/vision/vision-notes/",
        "/assets/secret/hidden-model/upload",
        "/reviews/secret/hidden-model/1.0.0/",
        "/assets/secret/hidden-model/versions/1.0.0/status",
    ):
        response = client.get(url)
        # The page may repeat the address that was asked for, but nothing about what is (or is not) there.
        assert response.status_code == 404 and "Hidden flower model" not in text(response), url
        assert "private flower model" not in text(response), url


def test_portal_paths_get_html_errors_and_api_paths_json(signed_in, portal, alice, client):
    html = client.get("/no/such/page/")
    assert html.status_code == 404 and html["Content-Type"].startswith("text/html") and "Not found" in text(html)
    api = client.get("/api/v1/no/such/")
    assert api.status_code == 404 and api.json()["code"] == "not_found"


def test_an_unexpected_error_is_an_html_page_on_the_portal_and_json_on_the_api(portal, alice, monkeypatch):
    from django.test import Client

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("marketplace.pages.catalogue.asset_kind_counts", broken)
    monkeypatch.setattr("marketplace.api.tokens.token_list", broken)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    page = client.get("/")
    assert page.status_code == 500 and "Something went wrong" in text(page)
    api = client.get("/api/v1/tokens/")
    assert api.status_code == 500 and api.json()["code"] == "server_error"


def test_a_browser_opening_the_api_gets_json_not_a_500(client, portal, alice):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    anonymous = client.get("/api/v1/assets/", HTTP_ACCEPT=browser_accept)
    assert anonymous.status_code in (401, 403) and anonymous["Content-Type"] == "application/json"
    client.force_login(alice)
    signed = client.get("/api/v1/assets/", HTTP_ACCEPT=browser_accept)
    assert signed.status_code == 200 and signed["Content-Type"] == "application/json"
    assert {row["slug"] for row in signed.json()["results"]} >= {"clf", "flowers"}


# --- A fixed number of queries, and fast ----------------------------------------------------------

PAGES = {
    "/": 8,
    "/catalogue/": 10,
    "/catalogue/?q=flower&kind=model&sort=name": 12,
    "/catalogue/?sort=used": 10,
    "/catalogue/suggest?q=flo": 11,
    "/assets/vision/clf/": 24,
    "/assets/vision/clf/?version=1.0.0": 24,
    "/reviews/": 8,  # with whether the reviewer is a service account
    "/reviews/vision/clf/1.1.0/": 19,
    "/endpoints/": 3,
    "/teams/": 3,
    "/teams/vision/": 6,
    "/teams/vision/audit/": 5,
    "/tokens/": 3,
}


@pytest.mark.parametrize("url", PAGES)
def test_pages_run_a_bounded_number_of_queries_whatever_the_catalogue_size(
    signed_in, portal, alice, dave, tmp_path, url, django_assert_max_num_queries
):
    client = signed_in(dave if url.startswith("/reviews/") else alice)
    client.get(url)  # the session's first request also reads the session's user once more
    before = queries(client, url)
    print(f"{url}: {before} queries")
    with django_assert_max_num_queries(PAGES[url]):
        client.get(url)
    for n in range(8):  # more assets, tags, versions, reviews and events: the same number of queries
        asset = make_asset(
            alice, portal.team, slug=f"more-{n}", name=f"Flower model {n}", tags=["tabular", f"t{n}"], license="MIT"
        )
        from tests.factories import make_validated_version

        make_validated_version(alice, asset, tmp_path, version="1.0.0")
    # Bounded, not equal: a search that matches little also asks the vocabulary for words like its own (typos).
    assert queries(client, url) <= max(before, PAGES[url]), url


def test_members_point_and_remove_aliases_from_the_asset_page(signed_in, portal, alice, charlie):
    from registry.governance.models import Alias

    client = signed_in(alice)
    page = text(client.get("/assets/vision/clf/?version=1.0.0"))
    assert "Point an alias at 1.0.0" in page and 'aria-label="Remove @production"' in page
    done = client.post("/assets/vision/clf/versions/1.0.0/alias", {"name": "Staging"}, follow=True)
    assert "@staging now points at 1.0.0." in text(done)
    assert Alias.objects.get(asset=portal.clf, name="staging").version_id == portal.approved.pk
    refused = text(client.post("/assets/vision/clf/versions/1.0.0/alias", {"name": "no way!"}, follow=True))
    assert "An alias name is 1-64 lowercase letters" in refused
    not_approved = text(client.post("/assets/vision/clf/versions/1.1.0/alias", {"name": "next"}, follow=True))
    assert "Aliases point at approved versions only" in not_approved
    assert "Point an alias at 1.1.0" not in text(client.get("/assets/vision/clf/?version=1.1.0"))
    removed = client.post("/assets/vision/clf/alias-delete", {"name": "staging"}, follow=True)
    assert "@staging is removed." in text(removed) and not Alias.objects.filter(name="staging").exists()
    # An outsider sees no forms, and posting anyway changes nothing.
    outsider = signed_in(charlie)
    assert "Point an alias" not in text(outsider.get("/assets/vision/clf/?version=1.0.0"))
    answer = outsider.post("/assets/vision/clf/alias-delete", {"name": "production"}, follow=True)
    assert answer.status_code == 200 and Alias.objects.filter(name="production").exists()
    assert set(Alias.objects.values_list("name", flat=True)) == {"production"}


def test_the_versions_table_pages_through_many_versions_in_the_same_queries(signed_in, portal, alice):
    from registry.assets.models import Asset
    from tests.factories import bare_versions

    client = signed_in(alice)
    client.get("/")  # the session's first request also reads the session's user once more
    many = make_asset(alice, portal.team, slug="many", name="Many versions")
    bare_versions(many, 3)
    Asset.objects.filter(pk=many.pk).update(latest_version="0.0.2", version_count=3)
    few = queries(client, "/assets/vision/many/")
    bare_versions(many, 42, start=3)
    Asset.objects.filter(pk=many.pk).update(latest_version="0.0.44", version_count=45)
    assert queries(client, "/assets/vision/many/") == few
    first = text(client.get("/assets/vision/many/"))
    assert first.count('<a href="?version=') == 20 and "45 versions, newest first" in first
    assert '<option value="0.0.44" selected>' in first and '?version=0.0.24"' not in first
    older = re.search(r'href="([^"]+)" rel="next">Older', first).group(1).replace("&amp;", "&")
    second = text(client.get("/assets/vision/many/" + older))
    assert '<a href="?version=0.0.24">' in second and '<a href="?version=0.0.44">' not in second
    assert 'rel="prev">← Newer' in second
    # A version beyond the first page can be shown; the picker offers it beside the page's.
    picked = text(client.get("/assets/vision/many/?version=0.0.1"))
    assert '<option value="0.0.1" selected>' in picked
    assert client.get("/assets/vision/many/?versions=garbage").status_code == 400


def test_a_prefix_gets_no_widening_note(signed_in, portal, alice):
    page = text(signed_in(alice).get("/catalogue/?q=flo"))
    assert "also matched" not in page and "<mark>" in page

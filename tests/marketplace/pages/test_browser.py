"""The portal in real headless Chromium: sign in, search, read, upload, review, deploy and call, tokens, privacy.

Each page the flows pass through is screenshotted at desktop and phone widths (tests/marketplace/pages/browser.py prints
the folder) and checked with axe-core: no serious or critical violation anywhere.
"""

import json
import re
import subprocess

import pytest
import requests
from playwright.sync_api import expect

from registry.versions.models import AssetVersion
from tests.conftest import wait_until
from tests.factories import onnx_bytes
from tests.marketplace.pages.browser import browser_as, chromium, shoot  # noqa: F401 (fixtures)
from tests.marketplace.pages.portal_data import build_portal
from tests.registry.runtime_process import live_runtime, live_runtime_worker_env  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def portal(alice, bob, dave, tmp_path):
    return build_portal(alice=alice, bob=bob, dave=dave, tmp_path=tmp_path)


def test_sign_in_then_search_with_a_facet_and_a_typo(portal, browser_as, live_server):
    page = browser_as(None)
    page.goto("/")
    shoot(page, "01-welcome")
    page.get_by_role("link", name="Sign in to browse").click()
    expect(page.get_by_role("heading", name="Sign in to Modelhub")).to_be_visible()
    shoot(page, "02-sign-in")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")
    page.get_by_label("Password").fill("pw-alice")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome back, alice")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("2 Datasets"))).to_be_visible()
    shoot(page, "03-home")
    # Keyboard: the first Tab reaches the skip link, which moves focus to the main landmark.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.get_by_role("search").filter(has=page.locator("#home-q")).get_by_label("Search the catalogue").fill("flo")
    page.locator("#home-q").press("Enter")
    expect(page.get_by_role("heading", name="Catalogue")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="results for")).to_contain_text("2 results")
    # Suggestions while typing.
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("classi", delay=30)
    expect(page.locator("#suggestions a").first).to_contain_text("Flower classifier")
    page.locator("#q").press("Escape")
    # A facet, then a typo: the search finds the word it meant, and says so.
    page.goto("/catalogue/?q=flo")
    page.get_by_role("navigation", name="Kind").get_by_role("link", name=re.compile("Dataset")).click()
    expect(page).to_have_url(re.compile(r"kind=dataset"))
    expect(page.locator(".asset-list .asset-title")).to_have_count(1)
    expect(page.locator(".asset-list mark").first).to_have_text(re.compile("Flo", re.I))
    shoot(page, "04-catalogue")
    page.locator("#q").fill("flowrs")
    page.locator("#q").press("Enter")
    expect(page.get_by_text("“flowrs” also matched flowers")).to_be_visible()
    assert "kind=dataset" in page.url  # the URL keeps the whole query
    expect(page.locator(".asset-list .asset-title")).to_have_text(["Flowers"])
    shoot(page, "05-catalogue-typo-fixed")
    # The release status facet: what has an approved version.
    page.goto("/catalogue/")
    page.get_by_role("navigation", name="Status").get_by_role("link", name=re.compile("Approved")).click()
    expect(page).to_have_url(re.compile(r"status=approved"))
    expect(page.locator(".asset-list .asset-title")).to_have_text(["Flower classifier"])
    # Sign out.
    page.get_by_role("button", name=re.compile("Sign out")).click()
    expect(page.get_by_role("heading", name="Sign in to Modelhub")).to_be_visible()


def test_open_an_asset_read_its_card_and_follow_its_lineage(portal, browser_as, alice):
    page = browser_as(alice)
    page.goto("/assets/vision/clf/?version=1.0.0")
    expect(page.get_by_role("heading", name="Flower classifier", level=1)).to_be_visible()
    card = page.locator("#card")
    expect(card.get_by_role("heading", name="Intended use")).to_be_visible()
    expect(card).to_contain_text("Intended use of this release, written for the reviewers.")
    expect(page.locator("#signature-io")).to_contain_text("batch × 4")
    expect(page.locator("#validation")).to_contain_text("Passed")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    expect(page.get_by_text("@production").first).to_be_visible()
    expect(page.locator("#release-title")).to_be_visible()
    expect(page.get_by_text("Approved and signed by the organisation key")).to_be_visible()
    page.get_by_role("link", name="Verify the files now").click()
    expect(page.locator("[data-signature-check]")).to_contain_text("Verified now.")
    shoot(page, "06-asset")
    node = page.get_by_role("link", name=re.compile(r"vision.flowers version 1\.0\.0"))
    expect(node).to_be_visible()
    node.click()
    expect(page.get_by_role("heading", name="Flowers", level=1)).to_be_visible()
    # Downstream of the dataset: the model that was trained on it.
    expect(page.get_by_role("link", name=re.compile(r"vision.clf version 1\.0\.0"))).to_be_visible()
    expect(page.locator("#signature-io")).to_contain_text("sepal_length")
    shoot(page, "07-dataset")


@pytest.mark.worker
def test_upload_a_version_and_watch_it_validate(portal, browser_as, alice, celery_worker, tmp_path):
    page = browser_as(alice)
    page.goto("/assets/vision/clf/")
    model = tmp_path / "model.onnx"
    model.write_bytes(onnx_bytes())
    page.get_by_role("textbox", name="Version").fill("1.2.0")
    page.get_by_label("File", exact=True).set_input_files(str(model))
    expect(page.locator(".upload-progress")).to_be_hidden()
    # The progress bar's values, kept across the navigation that follows the upload.
    page.evaluate("""() => {
        const bar = document.querySelector('.upload-progress progress');
        new MutationObserver(() => sessionStorage.setItem('progress', bar.value)).observe(bar, {attributes: true});
    }""")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/assets/vision/clf/versions/")):
        page.get_by_role("button", name="Upload").click()  # the streamed API upload, with the session and CSRF
    expect(page).to_have_url(re.compile(r"version=1\.2\.0"))
    assert page.evaluate("sessionStorage.getItem('progress')") == "100"
    expect(page.locator("#validation")).to_contain_text("Passed", timeout=90_000)
    expect(page.locator("#version-status")).to_have_text("Validated")
    expect(page.locator("#signature-io")).to_contain_text("batch × 4")
    assert AssetVersion.objects.get(asset=portal.clf, version="1.2.0").status == "validated"
    shoot(page, "08-asset-uploaded")


def test_a_reviewer_approves_a_release(portal, browser_as, dave):
    page = browser_as(dave)
    page.goto("/")
    page.get_by_role("link", name="Review vision/clf 1.1.0").click()
    expect(page.get_by_role("heading", name="Review Flower classifier 1.1.0")).to_be_visible()
    changes = page.locator("section", has=page.get_by_role("heading", name="What changed"))
    expect(changes).to_contain_text("Compared with 1.0.0")
    expect(changes.locator(".diff .add").first).to_contain_text("Accuracy 0.97")
    page.goto("/reviews/")
    shoot(page, "09-review-queue")
    page.get_by_role("link", name="Review", exact=True).first.click()
    shoot(page, "10-review")
    page.get_by_label("Approve").check()
    page.get_by_label("Comment").fill("Metrics reproduce; card complete.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded: approve on vision/clf 1.1.0")
    assert AssetVersion.objects.get(pk=portal.in_review.pk).status == "approved"
    expect(page.get_by_text("Nothing waits for your review")).to_be_visible()


@pytest.fixture
def celery_worker_env(request):
    # Only the deploy test needs the runtime (and the live server it asks about keys).
    if "live_runtime_worker_env" in request.fixturenames:
        return request.getfixturevalue("live_runtime_worker_env")
    return {}


@pytest.mark.worker
def test_deploy_an_endpoint_watch_it_turn_ready_and_call_it_with_the_shown_curl(
    portal, browser_as, bob, live_runtime, live_runtime_worker_env, celery_worker, settings
):
    settings.MODELHUB_RUNTIME_URL = live_runtime[0]  # the portal reads the runtime's figures from there
    page = browser_as(bob)
    page.goto("/assets/vision/clf/?version=1.0.0")
    page.get_by_label("Endpoint name").fill("flower-clf")
    page.get_by_role("button", name="Deploy 1.0.0").click()
    expect(page.get_by_role("heading", name="flower-clf", level=1)).to_be_visible()
    expect(page.locator("[data-endpoint-key]")).to_be_visible()
    expect(page.locator("[data-endpoint-status]")).to_have_text("Ready", timeout=90_000)
    expect(page.locator("[data-endpoint-url]")).to_contain_text("/v2/models/flower-clf")
    curl = page.locator("[data-example=curl]").inner_text()
    key = page.locator("[data-endpoint-key]").inner_text().strip()
    assert "$MODELHUB_KEY" not in curl and f"Bearer {key}" in curl
    answer = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
    assert answer.returncode == 0, answer.stderr
    body = json.loads(answer.stdout)
    assert body["model_name"] == "flower-clf" and body["outputs"][0]["name"] == "y", body
    assert len(body["outputs"][0]["data"]) == 3
    page.get_by_role("tab", name="Python · tritonclient").click()
    expect(page.locator("[data-example=tritonclient]")).to_contain_text("httpclient.InferInput('x', [1, 4], 'FP32')")
    # The figures refresh by themselves and the chart draws them.
    expect(page.locator("#endpoint-status .figure strong").first).to_have_text(re.compile(r"[1-9]"), timeout=20_000)
    for _ in range(3):
        subprocess.run(["bash", "-c", curl], capture_output=True, timeout=30, check=True)
    first = int(page.locator("#endpoint-status .figure strong").first.inner_text())
    # Polled from here: wait_for_function evaluates its string in the page, which the portal's CSP (no eval) refuses.
    wait_until(lambda: int(page.locator("#endpoint-status .figure strong").first.inner_text()) >= first + 3, timeout=20)
    # The chart draws the runtime's last hour per minute on a fixed 60-minute axis (quiet minutes at zero):
    # this minute's point counts the requests just sent.
    wait_until(
        lambda: page.evaluate(
            "() => document.querySelectorAll('[data-chart] circle.dot-requests').length >= 1 && "
            "document.querySelector('[data-chart] .line-requests').getAttribute('points')"
            ".split(' ').length === 60 && "
            "parseInt(document.querySelector('[data-chart-label]').textContent) >= 3"
        ),
        timeout=30,
        every=0.2,
    )
    expect(page.locator("[data-chart-label]")).to_contain_text("in the last hour")
    shoot(page, "11-endpoint")
    page.goto("/endpoints/")
    shoot(page, "12-endpoints")


def test_create_and_revoke_a_token(portal, browser_as, alice, live_server):
    page = browser_as(alice)
    page.goto("/tokens/")
    page.get_by_label("Token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("[data-new-token]").inner_text().strip()
    assert key.startswith("mh_")
    api = f"{live_server.url}/api/v1/tokens/"
    assert requests.get(api, headers={"Authorization": f"Token {key}"}, timeout=10).status_code == 200
    shoot(page, "13-tokens")
    page.goto("/tokens/")
    expect(page.locator("[data-new-token]")).to_have_count(0)  # shown once
    page.get_by_role("button", name="Revoke laptop").click()
    expect(page.get_by_role("status")).to_contain_text("Token 'laptop' revoked")
    assert requests.get(api, headers={"Authorization": f"Token {key}"}, timeout=10).status_code == 401


def test_team_pages_and_audit_log(portal, browser_as, alice, charlie):
    page = browser_as(alice)
    page.goto("/teams/")
    shoot(page, "14-teams")
    page.get_by_role("link", name="Vision lab").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    page.get_by_label("Username").fill("charlie")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("charlie joined vision")
    shoot(page, "15-team")
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("tbody")).to_contain_text("team.member_added")
    shoot(page, "16-audit")


def test_an_outsider_sees_no_private_asset_anywhere(portal, browser_as, charlie):
    page = browser_as(charlie)
    page.goto("/")
    expect(page.locator("main")).not_to_contain_text("Hidden flower model")
    expect(page.locator("main")).not_to_contain_text("Vision notes")
    for url in (
        "/catalogue/",
        "/catalogue/?q=hidden",
        "/catalogue/?team=secret",
        "/catalogue/?q=notes",
        "/catalogue/suggest?q=hid",
        "/reviews/",
        "/endpoints/",
    ):
        page.goto(url)
        text = page.locator("body").inner_text()
        assert "Hidden flower model" not in text and "Vision notes" not in text, url
        assert "hidden-model" not in page.content(), url
    for url in ("/assets/secret/hidden-model/", "/assets/vision/vision-notes/", "/reviews/secret/hidden-model/1.0.0/"):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    shoot(page, "17-not-found")
    response = page.goto("/teams/secret/audit/")
    assert "hidden-model" not in page.content()
    # The API answers a browser with JSON, never a 500.
    response = page.goto("/api/v1/assets/")
    assert response.status == 200 and response.headers["content-type"].startswith("application/json")
    assert "hidden-model" not in response.text()

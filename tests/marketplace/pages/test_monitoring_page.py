"""The endpoint page's Monitoring section and the asset page's health badges, in real headless Chromium (axe-checked
by `shoot`), over an endpoint whose sepal length drifted for two evaluations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry.endpoints.models import EndpointShadow, ShadowStatus
from registry.monitoring.evaluation import endpoint_evaluate
from registry.monitoring.services import windows_ingest
from registry.versions.models import AssetVersion
from tests.factories import bare_versions
from tests.marketplace.pages.browser import browser_as, chromium, shoot  # noqa: F401 (fixtures)
from tests.registry.monitoring_fixtures import (  # noqa: F401 (fixtures)
    MINUTE,
    SCALES,
    SIGNATURE,
    iris_endpoint,
    make_shadow_window,
    make_window,
    predict,
    training_rows,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def drifting(iris_endpoint):
    base = int((timezone.now() - timedelta(hours=2)).timestamp()) // MINUTE * MINUTE
    windows = []
    for i in range(5):
        rows = training_rows(600, seed=i)
        if i >= 3:
            rows[:, 0] += 1.5 * SCALES[0]
        windows.append(make_window(iris_endpoint, rows, start=base + i * MINUTE))
    windows_ingest(source="test", windows=windows)
    endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    return iris_endpoint


def test_the_monitoring_section_shows_the_drifting_feature(drifting, browser_as, alice):
    page = browser_as(alice)
    page.goto(f"/endpoints/{drifting.pk}/")
    section = page.locator("[data-monitoring]")
    expect(section.locator("[data-health]")).to_have_text("drifting")
    expect(section).to_contain_text("iris-data@0.0.0")
    expect(section.locator("[data-alarms] tbody tr")).to_have_count(1)
    expect(section.locator("[data-alarms]")).to_contain_text("sepal_length_cm")
    drifted = section.locator("figure.drifted[data-feature]")
    expect(drifted.first).to_have_attribute("data-feature", "sepal_length_cm")
    expect(section.locator('figure[data-feature="petal_width_cm"]')).not_to_have_class("drifted")
    # Reference and current bars on the reference's bins, and the score over time.
    expect(section.locator('figure[data-feature="sepal_length_cm"] rect.bar-reference')).to_have_count(10)
    shoot(page, "20-endpoint-monitoring")

    page.goto(f"/assets/{drifting.version.asset.full_slug}/")
    expect(page.locator("[data-health]").first).to_have_text("drifting")


def test_a_shadow_on_the_endpoint_page_and_its_evidence_on_the_review_page(iris_endpoint, browser_as, alice):
    model = iris_endpoint.version.asset
    (candidate,) = bare_versions(model, 1, status="validated", start=1)
    AssetVersion.objects.filter(pk=candidate.pk).update(signature=SIGNATURE)
    EndpointShadow.objects.create(
        endpoint=iris_endpoint, version=candidate, status=ShadowStatus.READY, created_by=alice
    )
    base = int((timezone.now() - timedelta(minutes=30)).timestamp()) // MINUTE * MINUTE
    rows = training_rows(300, seed=7)
    windows_ingest(
        source="test",
        windows=[
            make_window(iris_endpoint, rows, start=base),
            make_shadow_window(iris_endpoint, candidate.version, rows, start=base),
        ],
    )
    moved = rows.copy()
    moved[:, 2] += 0.5
    differ = (predict(rows)["label"] != predict(moved)["label"]).mean()

    page = browser_as(alice)
    page.goto(f"/endpoints/{iris_endpoint.pk}/")
    section = page.locator("[data-shadow]")
    expect(section.locator("[data-shadow-status]")).to_have_text("Receiving a copy of live traffic")
    expect(section.locator("[data-shadow-requests]")).to_contain_text("300 (300 rows)")
    expect(section.locator('[data-shadow-agreement="label"]')).to_contain_text(f"{differ * 100:.1f}% of 300 rows")
    section.get_by_role("button", name="Stop the shadow").click()
    expect(page.get_by_text(f"Shadow of {candidate.version} stopped")).to_be_visible()
    expect(page.locator("[data-shadow-status]")).to_have_text("Stopping")

    page.goto(f"/reviews/{model.full_slug}/{candidate.version}/")
    evidence = page.locator("[data-review-shadow]")
    expect(evidence).to_contain_text("Shadow of iris")
    expect(evidence.locator("[data-shadow-latency]")).to_contain_text("4.00 /")
    expect(evidence.locator('[data-shadow-agreement="label"]')).to_contain_text(f"{differ * 100:.1f}%")
    shoot(page, "21-review-shadow-evidence")

"""The endpoint page's Monitoring section and the asset page's health badges, in real headless Chromium (axe-checked
by `shoot`), over an endpoint whose sepal length drifted for two evaluations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry.monitoring.evaluation import endpoint_evaluate
from registry.monitoring.services import windows_ingest
from tests.marketplace.pages.browser import browser_as, chromium, shoot  # noqa: F401 (fixtures)
from tests.registry.monitoring_fixtures import MINUTE, SCALES, iris_endpoint, make_window, training_rows  # noqa: F401

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

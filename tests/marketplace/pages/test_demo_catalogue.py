"""Every portal page on the demo catalogue (`manage.py seed_demo`) renders for the demo user and the reviewer.
How fast is measured by tests/benchmarks/pages.py (budget: 100 ms a page), not here."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/catalogue/",
    "/catalogue/?q=iris",
    "/catalogue/?kind=model&sort=name",
    "/catalogue/?sort=used",
    "/catalogue/?status=approved",
    "/catalogue/suggest?q=wi",
    "/assets/demo-lab/iris-logreg/",
    "/assets/demo-lab/iris/",
    "/assets/demo-lab/wine-random-forest/",
    "/reviews/",
    "/reviews/demo-lab/wine-random-forest/1.0.0/",
    "/endpoints/",
    "/teams/",
    "/teams/demo-lab/",
    "/teams/demo-lab/audit/",
    "/tokens/",
]


def pages_for(username: str) -> list[str]:
    """The pages `username` (demo or reviewer) can open; a review page is the reviewer's."""
    return [url for url in PAGES if username == "reviewer" or not url.startswith("/reviews/demo-lab")]


def test_every_page_renders_on_the_demo_catalogue(client, reviewers):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    users = get_user_model().objects
    for username in ("demo", "reviewer"):
        client.force_login(users.get(username=username))
        for url in pages_for(username):
            response = client.get(url)
            assert response.status_code == 200, (username, url, response.status_code)
            assert b"Traceback" not in response.content

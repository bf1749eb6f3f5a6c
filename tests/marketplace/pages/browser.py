"""Headless Chromium for the portal's browser tests: one browser per session, a context per test.

Debian's chromium at /usr/bin/chromium (deploy/local/test installs it), driven by Playwright without
`playwright install`. Pages are screenshotted at desktop and phone widths into SCREENSHOTS, and checked
with axe-core (vendored under static/vendor/axe-core) for serious or critical violations.
"""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("MODELHUB_SCREENSHOTS_DIR", REPO / "var" / "test-output" / "screenshots"))
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium():
    """One browser for the browser tests (they live in one module). Module-scoped, not session-scoped:
    Playwright's sync API keeps an asyncio loop running on the main thread while it is started, which
    later tests that call asyncio.run() must not find."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (deploy/local/test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    # With that loop running, Django refuses ORM calls on this thread unless told that the calls the tests
    # make between browser steps are synchronous, as they are; only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        print(f"\nportal screenshots: {SCREENSHOTS}")
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_as(chromium, live_server):
    """browser_as(user) -> a page signed in as `user` (None: signed out), in a fresh context per test."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    contexts = []

    def open_page(user=None):
        context = chromium.new_context(viewport=DESKTOP, base_url=live_server.url)
        context.set_default_timeout(15_000)
        if user is not None:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the password one, as signing in
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
            )
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The portal's Content-Security-Policy: anything it refuses (an inline script, a foreign source) is a bug.
        page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(f"CSP: {m.text}"))
        return page

    errors: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


def axe_check(page, name: str) -> list[dict]:
    """Run axe-core on the page; fail on serious or critical violations. Returns every violation (all impacts)."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")  # from the portal: its CSP allows no inline script
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with open(SCREENSHOTS / "axe-results.jsonl", "a") as log:
        log.write(json.dumps({"page": name, "violations": result}) + "\n")
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe on {name}: {json.dumps(serious, indent=1)}"
    return result


def shoot(page, name: str) -> None:
    """Screenshot the whole page at desktop and phone widths and in dark mode, checking each with axe."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    axe_check(page, f"{name} (desktop)")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    axe_check(page, f"{name} (phone)")
    page.set_viewport_size(DESKTOP)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-dark.png"), full_page=True)
    axe_check(page, f"{name} (dark)")
    page.emulate_media(color_scheme="light")

"""Security headers and production settings: the portal's Content-Security-Policy allows no inline script, frames
are denied, HTTPS is enforced behind a TLS proxy (HSTS, redirect, secure cookies) but for the load balancer's
probes, and `manage.py check --deploy` is clean with the production example environment."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.django_db
EXAMPLE = REPO / "deploy" / "production" / "modelhub.env.example"


def test_pages_and_the_api_carry_a_csp_without_inline_script_and_deny_frames(client, alice):
    client.force_login(alice)
    for path in ("/catalogue/", "/api/v1/assets/", "/api/docs/"):
        answer = client.get(path)
        policy = dict(part.strip().split(" ", 1) for part in answer["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'", path
        assert answer["X-Frame-Options"] == "DENY" and answer["X-Content-Type-Options"] == "nosniff"
    script = client.get("/api/docs/?script=")  # Swagger UI's start script, served as a file for that policy
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def test_behind_a_tls_proxy_https_is_enforced_but_for_the_probes(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS = True, 31_536_000
    plain = client.get("/signin/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200  # a load balancer probes over plain HTTP
    secure = client.get("/signin/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200 and secure["Strict-Transport-Security"] == "max-age=31536000"


def _systemd_env(path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (comments and blank lines skipped)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_check_deploy_is_clean_with_the_production_example(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MODELHUB_", "DATABASE_", "CELERY_"))},
        **_systemd_env(EXAMPLE),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # what the operator replaces `change-me...` with
        "MODELHUB_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "no issues" in done.stdout, done.stdout + done.stderr

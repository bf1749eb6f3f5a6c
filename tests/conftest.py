import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from marketplace.tokens.services import token_create
from tests.factories import make_team, make_user

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path_factory):
    """Artifacts go to the session's temporary folder, which the test worker shares."""
    root = tmp_path_factory.getbasetemp() / "artifacts"
    settings.STORAGES = {**settings.STORAGES, "artifacts": {
        "BACKEND": "registry.artifacts.storage.AtomicFileSystemStorage", "OPTIONS": {"location": str(root)}}}
    return root


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def charlie(db):
    """The outsider: signed in, but in none of the teams the tests create."""
    return make_user("charlie")


@pytest.fixture
def team(alice, bob):
    """alice maintains it, bob is a member."""
    return make_team(alice, slug="vision", members=[bob])


def _client_for(user) -> APIClient:
    client = APIClient()
    _, key = token_create(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user
    return client


@pytest.fixture
def client_for():
    return _client_for


@pytest.fixture
def alice_api(alice):
    return _client_for(alice)


@pytest.fixture
def bob_api(bob):
    return _client_for(bob)


@pytest.fixture
def charlie_api(charlie):
    return _client_for(charlie)


@pytest.fixture
def anon_api():
    return APIClient()


# --- A real Celery worker on the real broker -----------------------------------------------------

def _worker_database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A `celery worker` subprocess bound to the test database and a queue of its own.

    Its artifact storage is the session's artifact folder, which `_isolated_storage` also uses.
    """
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the worker tests need PostgreSQL (set DATABASE_URL)")
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the worker tests need a real broker (set CELERY_BROKER_URL)")
    artifacts = tmp_path_factory.getbasetemp() / "artifacts"
    log_path = tmp_path_factory.getbasetemp() / "celery-worker.log"
    name = f"tests-{uuid.uuid4().hex[:8]}@localhost"
    env = {**os.environ, "DATABASE_URL": _worker_database_url(), "MODELHUB_ARTIFACTS_DIR": str(artifacts),
           "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
           "MODELHUB_DATA_DIR": str(settings.DATA_DIR), "PYTHONPATH": str(REPO)}
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "--loglevel=INFO",
         "--concurrency=1", "--pool=prefork", "-n", name, "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    process.log_path = log_path
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def wait_for_status(client, url: str, *, leaving: str = "validating", timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(url).json()
        if data["status"] != leaving or time.monotonic() > deadline:
            return data
        time.sleep(0.25)

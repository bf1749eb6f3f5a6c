import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from registry.tokens.services import token_create
from tests.factories import make_team, make_user

REPO = Path(__file__).resolve().parent.parent


# What the fault tests and the other measuring tests found (recovery times and the like), printed at the end of the
# run whatever the capture setting, so every CI log carries them.
FIGURES: list[str] = []


def report_figure(line: str) -> None:
    FIGURES.append(line)


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("figures measured by the tests")
        for line in FIGURES:
            terminalreporter.write_line(line)


def pytest_configure(config):
    # PBKDF2 is slow by design; test users need no protection (healthchecks does the same).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _error_codes_are_documented():
    """Every JSON error the API answers in any test carries a code the OpenAPI schema lists (ErrorCode)."""
    import json

    from django.test.client import Client

    from registry.kernel.errors import ErrorCode

    answer = Client.request

    def request(self, **kwargs):
        response = answer(self, **kwargs)
        if (
            response.status_code >= 400
            and not response.streaming
            and response.get("Content-Type", "").startswith("application/json")
            and kwargs.get("PATH_INFO", "").startswith("/api/")
        ):
            body = json.loads(response.content or b"null")
            code = body.get("code") if isinstance(body, dict) else None
            assert code in ErrorCode.values, f"undocumented error code {code!r} from {kwargs['PATH_INFO']}"
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Client, "request", request)
        yield


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path_factory):
    """Artifacts go to the session's temporary folder, which the test worker shares."""
    root = tmp_path_factory.getbasetemp() / "artifacts"
    settings.STORAGES = {
        **settings.STORAGES,
        # Pages render without a collectstatic run (the manifest is a deploy step).
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "artifacts": {
            "BACKEND": "registry.artifacts.storage.AtomicFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (what the runtime said about an endpoint, rate windows, figures)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on loopback with the test bucket, one per module."""
    from tests.s3 import BUCKET, S3Server

    server = S3Server().start()
    server.client().create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server):
    """Artifact storage on the S3 server, for one test."""
    settings.STORAGES = {**settings.STORAGES, "artifacts": s3_server.storage_settings()}
    return s3_server


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
def reviewers(db):
    """The `reviewers` group of the default review policy (made by a migration; flushed by transactional tests)."""
    from django.contrib.auth.models import Group

    from registry.governance.models import ReviewPolicy

    group, _ = Group.objects.get_or_create(name="reviewers")
    policy = ReviewPolicy.objects.filter(team__isnull=True).first() or ReviewPolicy.objects.create(
        protected_aliases=["production"]
    )
    policy.reviewer_groups.add(group)
    return group


@pytest.fixture
def dave(reviewers):
    """A reviewer from outside the team."""
    user = make_user("dave")
    user.groups.add(reviewers)
    return user


@pytest.fixture
def erin(reviewers):
    """A second reviewer from outside the team."""
    user = make_user("erin")
    user.groups.add(reviewers)
    return user


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


def subprocess_database_url() -> str:
    """The test database, for a server or worker this test run starts as a subprocess."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_celery_worker(log_path: Path, *, queue: str, extra_env: dict[str, str] | None = None):
    """Start `celery -A marketplace worker` on the test database and `queue`; wait until it is ready."""
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MODELHUB_DATA_DIR": str(settings.DATA_DIR),
        "PYTHONPATH": str(REPO),
        **(extra_env or {}),
    }
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "marketplace",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--pool=prefork",
            "-n",
            f"tests-{uuid.uuid4().hex[:8]}@localhost",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log_path
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_celery_worker(process)
            pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


@contextmanager
def portal_server(log_path: Path, *, env: dict[str, str] | None = None, workers: int = 1):
    """gunicorn serving the portal on a free loopback port, on the test database unless `env` says otherwise;
    yields its base URL once it answers, and stops it after the block."""
    import requests

    from tests.s3 import free_port

    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        **(env or {}),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "marketplace.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", "2", "--timeout", "60"],
            cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=10)
                break
            except requests.RequestException:  # not listening yet, or still importing Django under load
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def stop_celery_worker(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill_worker(process, *, spare=()) -> float:
    """SIGKILL a worker subprocess and every process under it but `spare` (what an out-of-memory kill or a drained
    node does); returns the monotonic time of the kill once the worker is reaped."""
    import psutil

    worker = psutil.Process(process.pid)
    for child in [worker, *worker.children(recursive=True)]:
        if child not in spare:
            child.kill()
    killed_at = time.monotonic()
    process.wait(timeout=10)
    return killed_at


def process_gone(process) -> bool:
    """Whether a psutil.Process has ended (a zombie counts: killed, not reaped yet by its new parent)."""
    import psutil

    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@contextmanager
def replacement_worker(tmp_path: Path, env: dict[str, str]):
    """A new worker on the test queue, for a fault test once it has killed or stopped `celery_worker`: with its
    environment (`env`: the test's celery_worker_env) and the test's artifact folder; stopped after the block."""
    artifacts = settings.STORAGES["artifacts"]["OPTIONS"]["location"]
    process = start_celery_worker(
        tmp_path / "replacement.log",
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        extra_env={"MODELHUB_ARTIFACTS_DIR": str(artifacts), **env},
    )
    try:
        yield process
    finally:
        stop_celery_worker(process)


def wait_until(condition, *, timeout: float, every: float = 0.5, tick=None, log=None):
    """Poll `condition()` until it returns something truthy (returned); `tick()` runs between polls (a sweep that
    celery beat would run); fails after `timeout` seconds with the tail of `log` (a path) when given."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"not done within {timeout:.0f} s" + (f":\n{Path(log).read_text()[-3000:]}" if log else ""))
        if tick is not None:
            tick()
        time.sleep(every)
    return result


def require_real_services() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the worker tests need PostgreSQL (set DATABASE_URL)")
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the worker tests need a real broker (set CELERY_BROKER_URL)")


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Extra environment for `celery_worker`; a test overrides it with @pytest.mark.parametrize."""
    return {}


@pytest.fixture
def celery_worker(transactional_db, tmp_path, tmp_path_factory, celery_worker_env):
    """A worker subprocess sharing the session's artifact folder with `_isolated_storage`.

    One per test, so a test that needs a differently configured worker has the queue to itself.
    """
    require_real_services()
    from marketplace.celery import app

    app.control.purge()  # messages other tests committed; their versions are gone
    process = start_celery_worker(
        tmp_path / "celery-worker.log",
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        extra_env={"MODELHUB_ARTIFACTS_DIR": str(tmp_path_factory.getbasetemp() / "artifacts"), **celery_worker_env},
    )
    yield process
    stop_celery_worker(process)


def worker_log_count(process, text: str) -> int:
    return process.log_path.read_text().count(text)


def wait_for_status(client, url: str, *, leaving: str = "validating", timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(url).json()
        if data["status"] != leaving or time.monotonic() > deadline:
            return data
        time.sleep(0.25)


@pytest.fixture
def live_runtime_env() -> dict[str, str]:
    """More environment for the runtime process of `live_runtime` (tests/registry/runtime_process.py); a test
    module overrides this fixture to set some."""
    return {}

"""Approved, signed versions ready to deploy, as validation and governance leave them; and the fake V2 runtime for
a worker to provision on (import `authorizing_runtime` and `runtime_worker_env` into a worker test module and make
its `celery_worker_env` return `runtime_worker_env`)."""

import pytest
from django.db import connection

from registry.endpoints.services import runtime_authorize
from registry.governance.services import review_submit, version_submit
from registry.governance.signing import version_sign
from registry.validation.models import ValidationReport
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_validated_version
from tests.registry.fake_runtime import fake_runtime

# What validation stores for tests.factories.linear_model() (x: [batch, 4] -> y: [batch, 3]).
LINEAR_SIGNATURE = {
    "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}],
    "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 3]}],
}
LINEAR_SMOKE = {"seconds": 0.001, "outputs": [{"name": "y", "dtype": "float32", "shape": [1, 3]}]}


def approve(version, *, submitter, reviewer, signature: dict | None = LINEAR_SIGNATURE):
    """Record validation's signature, take the version through review, and sign it."""
    if signature is not None:
        AssetVersion.objects.filter(pk=version.pk).update(signature=signature)
        ValidationReport.objects.filter(version=version).update(
            outcome="passed", details={"smoke_inference": LINEAR_SMOKE}
        )
    version.refresh_from_db()
    version_submit(user=submitter, version=version)
    review_submit(user=reviewer, version=version, decision="approve", comment="Reproduced.")
    assert version_sign(version_id=version.pk) is not None
    version.refresh_from_db()
    return version


def approved_model(
    owner, team, tmp_path, *, submitter, reviewer, slug: str = "clf", version: str = "1.0.0", asset=None
):
    asset = asset or make_asset(owner, team, slug=slug, license="MIT")
    made = make_validated_version(owner, asset, tmp_path, version=version)
    return approve(made, submitter=submitter, reviewer=reviewer)


def _authorize(model: str, digest: str) -> int:
    try:
        return runtime_authorize(model=model, credential_sha256=digest)
    finally:
        connection.close()  # the server thread's own connection


@pytest.fixture
def authorizing_runtime(settings):
    """The fake V2 runtime, asking the portal's authorize service about every credential (the check's own too)."""
    with fake_runtime(settings, authorize=_authorize) as running:
        yield running


def worker_env_for_runtime(url: str, settings, tmp_path) -> dict[str, str]:
    """The environment a Celery worker needs to provision endpoints on the runtime at `url` (the test's settings
    get the same models folder, which the portal's side of provisioning reads)."""
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    return {
        "MODELHUB_RUNTIME_URL": url,
        "MODELHUB_RUNTIME_PUBLIC_URL": url,
        "MODELHUB_RUNTIME_MODELS_DIR": settings.MODELHUB_RUNTIME_MODELS_DIR,
        "MODELHUB_RUNTIME_SECRET": settings.MODELHUB_RUNTIME_SECRET,
    }


@pytest.fixture
def runtime_worker_env(authorizing_runtime, settings, tmp_path):
    """The environment a Celery worker needs to provision endpoints on `authorizing_runtime`."""
    return worker_env_for_runtime(authorizing_runtime.url, settings, tmp_path)

"""Approved, signed versions ready to deploy, as validation and governance leave them."""

from registry.governance.services import review_submit, version_submit
from registry.governance.signing import version_sign
from registry.validation.models import ValidationReport
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_validated_version

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

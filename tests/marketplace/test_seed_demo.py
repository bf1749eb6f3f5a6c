"""`manage.py seed_demo`: the demo catalogue goes through the real services and validates."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from registry.artifacts.storage import blob_open
from registry.assets.models import Asset, AssetKind
from registry.kernel.access import TeamRole
from registry.teams.models import Membership, Team
from registry.validation.models import ValidationOutcome
from registry.validation.services import version_validate
from registry.versions.models import AssetVersion, VersionStatus

DATASETS = {  # slug: (rows, first column, number of feature columns)
    "iris": (150, "sepal_length_cm", 4),
    "wine": (178, "alcohol", 13),
    "breast-cancer": (569, "mean_radius", 30),
    "diabetes": (442, "age", 10),
}
CLASSIFIERS = {"iris-logreg": "iris", "wine-random-forest": "wine", "breast-cancer-logreg": "breast-cancer"}
MODELS = {**CLASSIFIERS, "diabetes-ridge": "diabetes"}

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def version_of(slug: str) -> AssetVersion:
    return AssetVersion.objects.select_related("asset").get(asset__slug=slug, version="1.0.0")


def primary_bytes(version: AssetVersion) -> bytes:
    with blob_open(version.files.get(is_primary=True).blob) as fh:
        return fh.read()


def test_seed_registers_the_catalogue_for_validation():
    output = seed()

    demo = get_user_model().objects.get(username="demo")
    assert demo.is_superuser and demo.is_staff and demo.check_password("demo")
    team = Team.objects.get(slug="demo-lab")
    assert Membership.objects.filter(team=team, user=demo, role=TeamRole.MAINTAINER).exists()
    kinds = dict(Asset.objects.filter(team=team).values_list("slug", "kind"))
    assert kinds == {
        **dict.fromkeys(DATASETS, AssetKind.DATASET),
        **dict.fromkeys(MODELS, AssetKind.MODEL),
        "iris-quickstart": AssetKind.SOLUTION,
    }
    versions = AssetVersion.objects.filter(asset__team=team)
    # The iris data validates in the seed too: its profile is the reference of the monitored endpoint.
    governed = {
        "iris-logreg": VersionStatus.APPROVED,
        "wine-random-forest": VersionStatus.IN_REVIEW,
        "iris": VersionStatus.VALIDATED,
    }
    assert sorted(versions.values_list("asset__slug", "version", "status")) == sorted(
        (slug, "1.0.0", governed.get(slug, VersionStatus.VALIDATING)) for slug in kinds
    )
    assert {v.validation.outcome for v in versions.exclude(asset__slug__in=governed).select_related("validation")} == {
        ValidationOutcome.PENDING
    }
    assert "Demo catalogue ready: 25 created, 0 already there." in output

    iris = Asset.objects.get(slug="iris")
    assert (iris.license, iris.task, iris.framework) == ("CC-BY-4.0", "tabular-classification", "")
    assert "Fisher" in iris.description and "150" in iris.description
    assert Asset.objects.get(slug="diabetes").task == "tabular-regression"
    logreg = version_of("iris-logreg")
    assert (logreg.asset.framework, logreg.asset.license) == ("scikit-learn", "Apache-2.0")
    assert logreg.metadata["trained_on"] == {"asset": "iris", "version": "1.0.0"}
    assert 0.8 <= logreg.metadata["metrics"]["accuracy"] <= 1.0
    assert logreg.metadata["sklearn_version"]
    assert {"r2", "mae"} <= set(version_of("diabetes-ridge").metadata["metrics"])
    solution = version_of("iris-quickstart")
    assert solution.metadata == {"uses": [{"asset": "iris-logreg", "version": "1.0.0"}]}
    assert solution.filename == "README.md"
    assert b"onnxruntime" in primary_bytes(solution)


def test_dataset_files_read_back_from_storage():
    seed()

    for slug, (rows, first_column, features) in DATASETS.items():
        version = version_of(slug)
        assert version.filename == f"{slug}.csv"
        table = list(csv.reader(io.StringIO(primary_bytes(version).decode())))
        header, body = table[0], table[1:]
        assert header[0] == first_column and header[-1] == "target" and len(header) == features + 1
        assert len(body) == rows and all(len(row) == features + 1 for row in body)
        assert all(float(value) == float(value) for row in body for value in row)  # numbers, no NaN

        if version.status == VersionStatus.VALIDATING:  # iris, the monitored model's data, validated in the seed
            assert version_validate(version_id=version.pk, task_id="t")
        version.refresh_from_db()
        assert version.status == VersionStatus.VALIDATED
        assert [c["name"] for c in version.signature["columns"]] == header


def test_models_pass_validation_with_plain_tensor_outputs():
    seed()

    for slug, dataset in MODELS.items():
        version = version_of(slug)
        if version.status == VersionStatus.VALIDATING:  # the governed ones were validated by the seed
            assert version_validate(version_id=version.pk, task_id="t"), slug
        version.refresh_from_db()
        assert version.validation.outcome == ValidationOutcome.PASSED, version.validation.reason
        features = DATASETS[dataset][2]
        assert version.signature["inputs"] == [{"name": "input", "dtype": "float32", "shape": [None, features]}]
        outputs = {o["name"]: o for o in version.signature["outputs"]}
        if slug in CLASSIFIERS:
            assert outputs["label"]["dtype"] == "int64"
            assert outputs["probabilities"]["dtype"] == "float32"
        else:
            assert list(outputs) == ["variable"]
        assert "seconds" in version.validation.details["smoke_inference"]
        # Each carries its dataset's first rows as its input example, and the smoke inference ran on them.
        assert version.validation.details["smoke_inputs"] == "input_example"
        assert version.validation.details["smoke_inference"]["outputs"][0]["shape"][0] == 3


def test_running_twice_creates_nothing_new():
    seed()
    counts = (
        get_user_model().objects.count(),
        Team.objects.count(),
        Asset.objects.count(),
        AssetVersion.objects.count(),
    )
    version_validate(version_id=version_of("diabetes-ridge").pk, task_id="t")

    output = seed()

    assert (
        get_user_model().objects.count(),
        Team.objects.count(),
        Asset.objects.count(),
        AssetVersion.objects.count(),
    ) == counts
    assert "0 created, 21 already there" in output
    assert "created " not in output
    assert version_of("diabetes-ridge").status == VersionStatus.VALIDATED  # left alone
    assert version_of("iris-logreg").review_rounds.count() == 1


def test_demo_shows_governance_lineage_and_cards_working():
    from registry.cards.selectors import version_card_completeness
    from registry.governance.selectors import review_queue, version_by_alias
    from registry.governance.signing import version_signature_verify
    from registry.lineage.models import LineageEdge

    seed()

    iris = version_of("iris-logreg")
    assert version_by_alias(asset=iris.asset, name="production").pk == iris.pk
    assert version_signature_verify(version=iris).valid
    round_ = iris.review_rounds.get()
    assert [(r.reviewer.username, r.decision) for r in round_.reviews.all()] == [("reviewer", "approve")]
    reviewer = get_user_model().objects.get(username="reviewer")
    assert [r.version.asset.slug for r in review_queue(user=reviewer)] == ["wine-random-forest"]
    edges = {
        (e.source.asset.slug, e.kind, e.target.asset.slug)
        for e in LineageEdge.objects.select_related("source__asset", "target__asset")
    }
    assert edges == {
        *((model, "trained_on", dataset) for model, dataset in MODELS.items()),
        ("iris-quickstart", "uses", "iris-logreg"),
    }
    assert all(version_card_completeness(version=v) >= 50 for v in AssetVersion.objects.exclude(asset__kind="solution"))


def test_the_demo_endpoint_has_a_reference_history_and_one_drifting_feature():
    from registry.endpoints.models import Endpoint
    from registry.monitoring.models import MonitoringAlarm
    from registry.monitoring.selectors import endpoint_monitoring

    output = seed()

    endpoint = Endpoint.objects.get(name="iris-production")
    assert endpoint.alias == "production" and endpoint.team.slug == "demo-lab"
    assert "endpoint key, shown once: " in output
    series = endpoint_monitoring(endpoint=endpoint)
    assert series["reference"]["kind"] == "training" and series["reference"]["dataset_version"] == "demo-lab/iris@1.0.0"
    assert series["health"] == "drifting" and len(series["drift"]) >= 6
    assert sum(point["requests"] for point in series["traffic"]) == 36 * 120
    (alarm,) = MonitoringAlarm.objects.filter(endpoint=endpoint)
    assert alarm.status == "open" and [f for f in alarm.features if not f.startswith("probabilities")] == [
        "sepal_width_cm"
    ]
    assert not series["drift"][0]["drifted"]
    measured = [p["measured"] for p in series["performance"] if p["measured"]["labels"]]
    assert measured and measured[0]["metrics"]["accuracy"] > 0.9

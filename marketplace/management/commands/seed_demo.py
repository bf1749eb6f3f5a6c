"""`manage.py seed_demo`: a small demo catalogue, registered through the same services as the API.

Four scikit-learn bundled data sets (no network), a model trained on each and exported to ONNX, and
one solution that uses the iris model. Every write goes through `team_create`, `asset_create` and
`version_create`, so the uploads are validated for real: each version starts `validating` and the
Celery worker takes it from there. Lineage is declared at upload (each model `trained_on` its
dataset, the solution `uses` the iris model) and every version gets a model card or datasheet.

Governance is shown working too: the iris model is validated here (the same sandboxed checks the
worker runs), submitted, approved by the `reviewer` account (in the `reviewers` group, outside the
team), signed with the organisation key and pointed at by the `production` alias; the wine model
waits in the reviewer's queue.

Monitoring too: the approved iris model is deployed as the endpoint `iris-production` with six hours of
history in which one feature drifts (marketplace/management/demo_monitoring.py).

Idempotent: a team, asset or version that already exists is skipped (and a model whose version
exists is not trained again), so running the command twice creates nothing new.
"""

import csv
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sklearn
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn import datasets as sklearn_datasets
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from marketplace.management.demo_monitoring import ENDPOINT_NAME, seed_monitored_endpoint
from registry.artifacts.uploads import StagedFile
from registry.assets.models import Asset, AssetKind
from registry.assets.selectors import asset_get
from registry.assets.services import asset_create
from registry.cards.selectors import card_get
from registry.cards.services import card_update
from registry.governance.models import Alias
from registry.governance.services import alias_set, review_submit, version_submit
from registry.governance.signing import version_sign
from registry.kernel.errors import DomainError, NotFound
from registry.teams.models import Team
from registry.teams.selectors import team_get
from registry.teams.services import team_create
from registry.validation.services import version_validate
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.selectors import version_get, version_list
from registry.versions.services import version_create

USERNAME = "demo"
REVIEWER = "reviewer"
REVIEWERS_GROUP = "reviewers"
APPROVED_MODEL = "iris-logreg"
PENDING_MODEL = "wine-random-forest"
TEAM_SLUG = "demo-lab"
VERSION = "1.0.0"
TARGET_COLUMN = "target"
# The held-out split behind every model's metrics.
TEST_SIZE = 0.25
RANDOM_STATE = 0
ONNX_OPSET = 17
# How long to wait for a version the Celery worker is validating (the seed needs the iris ones validated).
VALIDATION_WAIT_SECONDS = 300


@dataclass(frozen=True)
class DemoDataset:
    slug: str
    name: str
    loader: str  # function name in sklearn.datasets
    summary: str
    task: str
    license: str
    tags: tuple[str, ...]
    source: str
    citation: str
    target: str  # what the target column holds


@dataclass(frozen=True)
class DemoModel:
    slug: str
    name: str
    dataset: str
    summary: str
    classifier: bool
    make_estimator: Callable[[], object]
    estimator: str  # how the description names it
    tags: tuple[str, ...]


UCI = "UCI Machine Learning Repository, via scikit-learn's bundled copy (`sklearn.datasets.{loader}`)"

DATASETS = (
    DemoDataset(
        slug="iris",
        name="Iris",
        loader="load_iris",
        summary="Fisher's iris flowers: 4 measurements of 150 flowers from 3 species.",
        task="tabular-classification",
        license="CC-BY-4.0",
        tags=("tabular", "classification", "botany", "demo"),
        source=UCI.format(loader="load_iris"),
        citation="Fisher, R. A. (1936). The use of multiple measurements in taxonomic problems. "
        "Annals of Eugenics, 7(2), 179-188. UCI dataset doi:10.24432/C56C76.",
        target="the species: 0 = setosa, 1 = versicolor, 2 = virginica",
    ),
    DemoDataset(
        slug="wine",
        name="Wine",
        loader="load_wine",
        summary="Chemical analysis of 178 Italian wines from three cultivars.",
        task="tabular-classification",
        license="CC-BY-4.0",
        tags=("tabular", "classification", "chemistry", "demo"),
        source=UCI.format(loader="load_wine"),
        citation="Aeberhard, S. & Forina, M. (1991). Wine [Dataset]. UCI Machine Learning Repository. "
        "doi:10.24432/C5PC7J.",
        target="the cultivar: 0, 1 or 2",
    ),
    DemoDataset(
        slug="breast-cancer",
        name="Breast Cancer Wisconsin (Diagnostic)",
        loader="load_breast_cancer",
        summary="30 features of cell nuclei from 569 breast mass images, labelled malignant or benign.",
        task="tabular-classification",
        license="CC-BY-4.0",
        tags=("tabular", "classification", "medical", "demo"),
        source=UCI.format(loader="load_breast_cancer"),
        citation="Wolberg, W., Mangasarian, O., Street, N. & Street, W. (1995). Breast Cancer Wisconsin "
        "(Diagnostic) [Dataset]. UCI Machine Learning Repository. doi:10.24432/C5DW2B.",
        target="the diagnosis: 0 = malignant, 1 = benign",
    ),
    DemoDataset(
        slug="diabetes",
        name="Diabetes",
        loader="load_diabetes",
        summary="Ten baseline variables of 442 diabetes patients and their disease progression one year later.",
        task="tabular-regression",
        license="BSD-3-Clause",
        tags=("tabular", "regression", "medical", "demo"),
        source="Efron et al., distributed with scikit-learn (`sklearn.datasets.load_diabetes`); the ten "
        "features are mean-centred and scaled as scikit-learn ships them",
        citation="Efron, B., Hastie, T., Johnstone, I. & Tibshirani, R. (2004). Least Angle Regression. "
        "Annals of Statistics, 32(2), 407-499.",
        target="a quantitative measure of disease progression one year after baseline",
    ),
)

MODELS = (
    DemoModel(
        slug="iris-logreg",
        name="Iris logistic regression",
        dataset="iris",
        classifier=True,
        summary="Predicts the iris species from the four flower measurements.",
        make_estimator=lambda: LogisticRegression(max_iter=1000),
        estimator="`LogisticRegression(max_iter=1000)`",
        tags=("classification", "logistic-regression", "demo"),
    ),
    DemoModel(
        slug="wine-random-forest",
        name="Wine random forest",
        dataset="wine",
        classifier=True,
        summary="Predicts a wine's cultivar from its chemical analysis.",
        make_estimator=lambda: RandomForestClassifier(n_estimators=20, max_depth=5, random_state=RANDOM_STATE),
        estimator="`RandomForestClassifier(n_estimators=20, max_depth=5)`",
        tags=("classification", "random-forest", "demo"),
    ),
    DemoModel(
        slug="breast-cancer-logreg",
        name="Breast cancer logistic regression",
        dataset="breast-cancer",
        classifier=True,
        summary="Classifies a breast mass as malignant or benign from 30 nucleus features.",
        make_estimator=lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        estimator="`StandardScaler` followed by `LogisticRegression(max_iter=1000)`",
        tags=("classification", "logistic-regression", "medical", "demo"),
    ),
    DemoModel(
        slug="diabetes-ridge",
        name="Diabetes ridge regression",
        dataset="diabetes",
        classifier=False,
        summary="Predicts disease progression one year ahead from ten baseline variables.",
        make_estimator=lambda: Ridge(alpha=1.0),
        estimator="`Ridge(alpha=1.0)`",
        tags=("regression", "ridge", "medical", "demo"),
    ),
)

SOLUTION_SLUG = "iris-quickstart"


def column_name(feature: str) -> str:
    """'sepal length (cm)' -> 'sepal_length_cm': names that need no quoting anywhere."""
    return re.sub(r"[^a-z0-9]+", "_", feature.lower()).strip("_")


@dataclass(frozen=True)
class LoadedData:
    columns: list[str]  # features, in model input order
    data: object  # numpy (rows, features)
    target: object  # numpy (rows,)
    classes: list[str] | None


def load(dataset: DemoDataset) -> LoadedData:
    bunch = getattr(sklearn_datasets, dataset.loader)()
    classes = [str(name) for name in bunch.target_names] if "target_names" in bunch else None
    return LoadedData([column_name(f) for f in bunch.feature_names], bunch.data, bunch.target, classes)


def write_csv(loaded: LoadedData, path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*loaded.columns, TARGET_COLUMN])
        integer_target = loaded.classes is not None
        for row, target in zip(loaded.data, loaded.target):
            # repr(float) is the shortest text that reads back as the same float.
            writer.writerow([*(repr(float(x)) for x in row), int(target) if integer_target else repr(float(target))])


def dataset_description(dataset: DemoDataset, loaded: LoadedData) -> str:
    features = ", ".join(f"`{c}`" for c in loaded.columns)
    return (
        f"# {dataset.name}\n\n{dataset.summary}\n\n"
        f"- **Source:** {dataset.source}.\n"
        f"- **Rows:** {len(loaded.data)}\n"
        f"- **Columns:** {len(loaded.columns) + 1}: the features {features}, and `{TARGET_COLUMN}`, "
        f"{dataset.target}.\n"
        f"- **File:** `{dataset.slug}.csv`, comma-separated with a header row.\n\n"
        f"## Citation\n\n{dataset.citation}\n"
    )


def train(model: DemoModel, loaded: LoadedData):
    """Fit on the training part of a fixed split; returns (estimator, metrics on the held-out part)."""
    x_train, x_test, y_train, y_test = train_test_split(
        loaded.data,
        loaded.target,
        test_size=TEST_SIZE,
        random_state=RANDOM_STATE,
        stratify=loaded.target if model.classifier else None,
    )
    estimator = model.make_estimator().fit(x_train, y_train)
    predicted = estimator.predict(x_test)
    if model.classifier:
        metrics = {"accuracy": round(float((predicted == y_test).mean()), 4)}
    else:
        metrics = {
            "r2": round(float(r2_score(y_test, predicted)), 4),
            "mae": round(float(mean_absolute_error(y_test, predicted)), 4),
        }
    return estimator, {**metrics, "test_rows": len(y_test)}


def example_inputs(loaded: LoadedData, rows: int = 3) -> dict:
    """The first rows of the dataset as V2 JSON inputs of the model: its input example."""
    data = loaded.data[:rows].astype("float32")
    return {"inputs": [{"name": "input", "datatype": "FP32", "shape": list(data.shape), "data": data.tolist()}]}


def to_onnx_bytes(model: DemoModel, estimator, n_features: int) -> bytes:
    # zipmap=False: plain `label` and `probabilities` tensors instead of a sequence of maps.
    options = {"zipmap": False} if model.classifier else None
    onnx_model = to_onnx(
        estimator,
        initial_types=[("input", FloatTensorType([None, n_features]))],
        options=options,
        target_opset=ONNX_OPSET,
    )
    return onnx_model.SerializeToString()


def model_description(model: DemoModel, dataset: DemoDataset, loaded: LoadedData, metrics: dict) -> str:
    if model.classifier:
        classes = ", ".join(f"{i} = {name}" for i, name in enumerate(loaded.classes))
        outputs = (
            f"- `label`: int64 `[batch]`, the predicted class ({classes}).\n"
            f"- `probabilities`: float32 `[batch, {len(loaded.classes)}]`, one column per class.\n"
        )
        score = f"accuracy {metrics['accuracy']:.3f}"
    else:
        outputs = "- `variable`: float32 `[batch, 1]`, the predicted disease progression.\n"
        score = f"R² {metrics['r2']:.3f}, mean absolute error {metrics['mae']:.1f}"
    features = ", ".join(f"`{c}`" for c in loaded.columns)
    return (
        f"# {model.name}\n\n{model.summary}\n\n"
        f"scikit-learn {model.estimator}, trained on [`{dataset.slug}`](/api/v1/assets/{TEAM_SLUG}/{dataset.slug}/) "
        f"{VERSION} ({int((1 - TEST_SIZE) * 100)}% of the rows, `random_state={RANDOM_STATE}`) and exported to "
        f"ONNX (opset {ONNX_OPSET}) with skl2onnx.\n\n"
        f"Held-out {score} on {metrics['test_rows']} rows.\n\n"
        f"## Inputs\n\n- `input`: float32 `[batch, {len(loaded.columns)}]`, the features in this order: "
        f"{features}.\n\n## Outputs\n\n{outputs}"
    )


SOLUTION_README = """\
# Iris quickstart

Classify iris flowers with the `iris-logreg` model ({version}) from Python. This solution is
documentation only: Modelhub stores it and never runs it.

## 1. Download the model

```bash
curl -fL -H "Authorization: Token $MODELHUB_TOKEN" \\
     -o iris-logreg.onnx \\
     http://127.0.0.1:8000/api/v1/assets/demo-lab/iris-logreg/versions/{version}/download
```

Create a token with `python manage.py createtoken <username>`.

## 2. Run it with onnxruntime

```python
import numpy as np
import onnxruntime as ort

session = ort.InferenceSession("iris-logreg.onnx")
# One row per flower: sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm
flowers = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
label, probabilities = session.run(["label", "probabilities"], {{"input": flowers}})
species = ["setosa", "versicolor", "virginica"]
for row, p in zip(label, probabilities):
    print(species[row], p.round(3))
```

The input is named `input` (float32, `[batch, 4]`); the outputs are `label` (int64, `[batch]`)
and `probabilities` (float32, `[batch, 3]`). The training data is the `iris` dataset {version}.
"""


def model_card(model: DemoModel, dataset: DemoDataset, loaded: LoadedData, metadata: dict) -> dict:
    """A model card (Mitchell et al. sections) from what the demo knows about the model."""
    shown = ", ".join(f"{k} {v}" for k, v in metadata["metrics"].items())
    return {
        "license": "apache-2.0",
        "library_name": "onnx",
        "tags": list(model.tags),
        "datasets": [f"{TEAM_SLUG}/{dataset.slug}"],
        "pipeline_tag": dataset.task,
        "sections": {
            "model_details": f"scikit-learn {model.estimator}, exported to ONNX opset {ONNX_OPSET} with skl2onnx.",
            "intended_use": f"{model.summary} A teaching example of the Modelhub release flow; not for "
            "decisions about people, plants or wine.",
            "metrics": f"Held-out {shown} on {metadata['evaluation']['test_rows']} rows "
            f"({int(TEST_SIZE * 100)}% split, random_state={RANDOM_STATE}).",
            "training_data": f"`{TEAM_SLUG}/{dataset.slug}` {VERSION}: {dataset.summary}",
            "evaluation_data": f"The held-out {int(TEST_SIZE * 100)}% of `{dataset.slug}`, stratified for classifiers.",
            "caveats_and_recommendations": "Small, old, well-studied data: the scores say little about any "
            "other population.",
        },
    }


def datasheet(dataset: DemoDataset, loaded: LoadedData) -> dict:
    """A datasheet (Gebru et al. sections) for a demo dataset."""
    return {
        "license": dataset.license.lower(),
        "tags": list(dataset.tags),
        "sections": {
            "motivation": f"{dataset.summary} Bundled with scikit-learn as a teaching dataset.",
            "composition": f"{len(loaded.data)} rows of {len(loaded.columns)} numeric features and `{TARGET_COLUMN}`: "
            f"{dataset.target}.",
            "collection_process": f"See the original publication: {dataset.citation}",
            "preprocessing": "Feature names lower-cased with non-alphanumerics replaced by `_`; values written as the "
            "shortest text that reads back as the same float.",
            "distribution": f"{dataset.source}; licence {dataset.license}.",
        },
    }


class Command(BaseCommand):
    help = (
        "Register a small demo catalogue (user demo/demo, team demo-lab, 4 datasets, 4 ONNX models and a "
        "solution) through the normal services. Safe to run again: existing items are skipped."
    )

    def handle(self, *args, **options):
        self.counts = Counter()
        try:
            user = self._user()
            team = self._team(user)
            with tempfile.TemporaryDirectory(prefix="seed-demo-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
                workdir = Path(tmp)
                loaded = {}
                for dataset in DATASETS:
                    loaded[dataset.slug] = load(dataset)
                    self._dataset(user, team, dataset, loaded[dataset.slug], workdir)
                for model in MODELS:
                    dataset = next(d for d in DATASETS if d.slug == model.dataset)
                    self._model(user, team, model, dataset, loaded[dataset.slug], workdir)
                self._solution(user, team, workdir)
            self._governance(user, team)
            self._monitoring(user, team, loaded)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        created, skipped = self.counts["created"], self.counts["skipped"]
        message = f"Demo catalogue ready: {created} created, {skipped} already there."
        if self.counts["versions"]:
            message += f" {self.counts['versions']} new versions are queued for validation by the Celery worker."
        self.stdout.write(self.style.SUCCESS(message))

    # --- output ---------------------------------------------------------------------------------

    def _created(self, what: str) -> None:
        self.counts["created"] += 1
        self.stdout.write(f"  created  {what}")

    def _skipped(self, what: str) -> None:
        self.counts["skipped"] += 1
        self.stdout.write(f"  exists   {what}")

    # --- the catalogue --------------------------------------------------------------------------

    def _user(self):
        users = get_user_model()
        user = users.objects.filter(username=USERNAME).first()
        if user is not None:
            self._skipped(f"user {USERNAME}")
            return user
        user = users.objects.create_superuser(username=USERNAME, email="demo@example.com", password=USERNAME)
        self._created(f"user {USERNAME} (superuser, password '{USERNAME}')")
        return user

    def _team(self, user) -> Team:
        try:
            team = team_get(user=user, slug=TEAM_SLUG)
        except NotFound:
            team = team_create(
                user=user,
                slug=TEAM_SLUG,
                name="Demo lab",
                description="Demo datasets, models and solutions registered by `manage.py seed_demo`.",
            )
            self._created(f"team {TEAM_SLUG} (maintainer {user.username})")
        else:
            self._skipped(f"team {TEAM_SLUG}")
        return team

    def _asset(self, user, team: Team, *, kind: str, slug: str, describe: Callable[[], str], **fields) -> Asset:
        try:
            asset = asset_get(user=user, team=team.slug, slug=slug)
        except NotFound:
            asset = asset_create(user=user, team=team, kind=kind, slug=slug, description=describe(), **fields)
            self._created(f"{kind} {slug}")
            return asset
        if asset.kind != kind:
            raise CommandError(
                f"The asset '{slug}' exists but is a {asset.kind}, not a {kind}; "
                "rename or delete it and run seed_demo again."
            )
        self._skipped(f"{kind} {slug}")
        return asset

    def _version(
        self,
        user,
        asset: Asset,
        *,
        build: Callable[[], tuple[Path, dict, str]],
        card: Callable[[dict], dict],
        lineage: list[dict] | None = None,
        input_example: dict | None = None,
    ) -> None:
        """Upload version VERSION of `asset` unless it exists; `build` writes the file only when needed.

        `card(metadata)` gives the version's card fields (written once, while the card is empty);
        `input_example` (V2 JSON inputs) is what validation, the endpoint check and the portal run it on.
        """
        label = f"{asset.kind} {asset.slug} {VERSION}"
        if version_list(asset=asset).filter(version=VERSION).exists():
            self._skipped(label)
            return
        path, metadata, note = build()
        version = version_create(
            user=user,
            asset=asset,
            version=VERSION,
            upload=StagedFile.from_path(path),
            metadata=metadata,
            lineage=lineage,
            input_example=input_example,
        )
        card_update(user=user, version=version, fields=card(metadata))
        self.counts["versions"] += 1
        self._created(f"{label} ({path.name}, {note}, with a card)")

    def _dataset(self, user, team: Team, dataset: DemoDataset, loaded: LoadedData, workdir: Path) -> None:
        asset = self._asset(
            user,
            team,
            kind=AssetKind.DATASET,
            slug=dataset.slug,
            name=dataset.name,
            summary=dataset.summary,
            describe=lambda: dataset_description(dataset, loaded),
            tags=list(dataset.tags),
            license=dataset.license,
            task=dataset.task,
            framework="",
        )

        def build():
            path = workdir / f"{dataset.slug}.csv"
            write_csv(loaded, path)
            metadata = {
                "source": f"sklearn.datasets.{dataset.loader}",
                "rows": len(loaded.data),
                "features": loaded.columns,
                "target": TARGET_COLUMN,
            }
            if loaded.classes:
                metadata["classes"] = loaded.classes
            return path, metadata, f"{len(loaded.data)} rows, {len(loaded.columns) + 1} columns"

        self._version(user, asset, build=build, card=lambda _metadata: datasheet(dataset, loaded))

    def _model(
        self, user, team: Team, model: DemoModel, dataset: DemoDataset, loaded: LoadedData, workdir: Path
    ) -> None:
        # Trained at most once per run; only when the asset or its version still has to be created.
        trained = {}

        def fit():
            if not trained:
                trained["estimator"], trained["metrics"] = train(model, loaded)
            return trained["estimator"], trained["metrics"]

        asset = self._asset(
            user,
            team,
            kind=AssetKind.MODEL,
            slug=model.slug,
            name=model.name,
            summary=model.summary,
            describe=lambda: model_description(model, dataset, loaded, fit()[1]),
            tags=list(model.tags),
            license="Apache-2.0",
            task=dataset.task,
            framework="scikit-learn",
        )

        def build():
            estimator, metrics = fit()
            path = workdir / f"{model.slug}.onnx"
            path.write_bytes(to_onnx_bytes(model, estimator, len(loaded.columns)))
            metadata = {
                "trained_on": {"asset": dataset.slug, "version": VERSION},
                "metrics": {k: v for k, v in metrics.items() if k != "test_rows"},
                "evaluation": {"test_size": TEST_SIZE, "random_state": RANDOM_STATE, "test_rows": metrics["test_rows"]},
                "sklearn_version": sklearn.__version__,
                "features": loaded.columns,
            }
            if loaded.classes:
                metadata["classes"] = loaded.classes
            shown = ", ".join(f"{k} {v}" for k, v in metadata["metrics"].items())
            return path, metadata, shown

        self._version(
            user,
            asset,
            build=build,
            card=lambda metadata: model_card(model, dataset, loaded, metadata),
            lineage=[{"kind": "trained_on", "asset": f"{TEAM_SLUG}/{dataset.slug}", "version": VERSION}],
            input_example=example_inputs(loaded),
        )

    def _solution(self, user, team: Team, workdir: Path) -> None:
        asset = self._asset(
            user,
            team,
            kind=AssetKind.SOLUTION,
            slug=SOLUTION_SLUG,
            name="Iris quickstart",
            summary="How to download the iris-logreg model and classify flowers with onnxruntime.",
            describe=lambda: SOLUTION_README.format(version=VERSION),
            tags=["quickstart", "onnxruntime", "demo"],
            license="Apache-2.0",
            task="tabular-classification",
            framework="",
        )

        def build():
            path = workdir / "README.md"
            path.write_text(SOLUTION_README.format(version=VERSION))
            return path, {"uses": [{"asset": "iris-logreg", "version": VERSION}]}, "documentation"

        self._version(
            user,
            asset,
            build=build,
            card=lambda _metadata: {
                "license": "apache-2.0",
                "body": SOLUTION_README.format(version=VERSION),
                "sections": {
                    "intended_use": "Getting started with the iris-logreg model from Python and onnxruntime.",
                    "model_details": f"Uses `{TEAM_SLUG}/{APPROVED_MODEL}` {VERSION}; documentation only, never run.",
                },
            },
            lineage=[{"kind": "uses", "asset": f"{TEAM_SLUG}/{APPROVED_MODEL}", "version": VERSION}],
        )

    # --- governance -----------------------------------------------------------------------------

    def _reviewer(self):
        users = get_user_model()
        group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
        reviewer = users.objects.filter(username=REVIEWER).first()
        if reviewer is None:
            reviewer = users.objects.create_user(username=REVIEWER, email="reviewer@example.com", password=REVIEWER)
            self._created(f"user {REVIEWER} (in the '{REVIEWERS_GROUP}' group, password '{REVIEWER}')")
        reviewer.groups.add(group)
        return reviewer

    def _monitoring(self, user, team: Team, loaded: dict) -> None:
        model = next(m for m in MODELS if m.slug == APPROVED_MODEL)
        dataset = loaded[model.dataset]
        # The reference is the training dataset's profile, stored when it validates.
        self._validated(version_get(asset=asset_get(user=user, team=team.slug, slug=model.dataset), version=VERSION))
        estimator, _ = train(model, dataset)
        key = seed_monitored_endpoint(
            user=user,
            team=team,
            asset=f"{team.slug}/{APPROVED_MODEL}",
            estimator=estimator,
            data=dataset.data,
            target=dataset.target,
        )
        if key is None:
            self._skipped(f"endpoint {ENDPOINT_NAME}")
        else:
            self._created(
                f"endpoint {ENDPOINT_NAME} of {APPROVED_MODEL}@production, with six hours of monitoring history "
                f"and a drifting feature (endpoint key, shown once: {key})"
            )

    def _validated(self, version: AssetVersion) -> AssetVersion:
        """The version once validated: checked here, in the sandbox, if the worker has not done it yet, or waited
        for while the worker holds it."""
        if version.status == VersionStatus.VALIDATING:
            version_validate(version_id=version.pk, task_id="seed-demo")
        version.refresh_from_db()
        deadline = time.monotonic() + VALIDATION_WAIT_SECONDS
        while version.status == VersionStatus.VALIDATING and time.monotonic() < deadline:
            time.sleep(0.5)  # a worker claimed it first
            version.refresh_from_db()
        if version.status == VersionStatus.INVALID:
            raise CommandError(f"{version} failed validation: {version.validation.reason}")
        return version

    def _governance(self, user, team: Team) -> None:
        reviewer = self._reviewer()
        approved = self._validated(
            version_get(asset=asset_get(user=user, team=team.slug, slug=APPROVED_MODEL), version=VERSION)
        )
        if approved.status == VersionStatus.VALIDATED:
            version_submit(user=user, version=approved, note="First release of the iris classifier.")
            review_submit(
                user=reviewer,
                version=approved,
                decision="approve",
                comment="Card complete, metrics reproduce on the held-out split, licence fine.",
            )
            self._created(f"review: {APPROVED_MODEL} {VERSION} submitted by {user.username}, approved by {REVIEWER}")
        approved.refresh_from_db()
        if approved.status == VersionStatus.APPROVED:
            if version_sign(version_id=approved.pk):
                self.stdout.write(f"  signed   {APPROVED_MODEL} {VERSION} with the organisation key")
            if not Alias.objects.filter(asset=approved.asset, name="production").exists():
                alias_set(user=reviewer, asset=approved.asset, name="production", version=approved)
                self._created(f"alias {APPROVED_MODEL}@production -> {VERSION}")
        pending = self._validated(
            version_get(asset=asset_get(user=user, team=team.slug, slug=PENDING_MODEL), version=VERSION)
        )
        if pending.status == VersionStatus.VALIDATED and card_get(version=pending) is not None:
            version_submit(user=user, version=pending, note="Ready for review.")
            self._created(f"review: {PENDING_MODEL} {VERSION} waits in {REVIEWER}'s queue")

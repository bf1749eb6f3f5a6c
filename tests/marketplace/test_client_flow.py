"""From the training script and back, for real: `Client.log_model` of a scikit-learn model (validated by a Celery
worker), `modelhub submit`, a reviewer's approval, `modelhub deploy` (provisioned on the runtime process), `modelhub
predict` with an .npy and an .npz, `modelhub endpoints` and `monitoring`, and `modelhub push` of a folder."""

import io
import json
import zipfile

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from marketplace.client import Client
from marketplace.client.cli import main
from marketplace.client.client import sklearn_to_onnx
from registry.cards.sections import sections_for
from registry.governance.services import alias_set, review_submit
from registry.tokens.services import token_create
from registry.uploads.models import UploadSession
from registry.versions.models import AssetVersion
from tests.factories import external_data_zip, make_asset
from tests.registry.runtime_process import live_runtime, live_runtime_worker_env  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def celery_worker_env(live_runtime_worker_env):
    return live_runtime_worker_env


@pytest.fixture
def env(monkeypatch, tmp_path, live_server, alice, team):
    token = token_create(user=alice, name="ci")[1]
    monkeypatch.setenv("MODELHUB_URL", live_server.url)
    monkeypatch.setenv("MODELHUB_TOKEN", token)
    monkeypatch.setenv("MODELHUB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MODELHUB_CACHE", str(tmp_path / "cache"))
    return tmp_path


def cli(capsys, *args):
    code = main(["--json", "-q", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() and code == 0 else None), err


def test_log_model_submit_deploy_and_predict(celery_worker, live_runtime, env, dave, reviewers, capsys, request):
    x, y = load_iris(return_X_y=True)
    estimator = LogisticRegression(max_iter=500).fit(x, y)
    card = env / "README.md"
    card.write_text(
        "---\nlicense: mit\n---\n# Iris\n\nA logistic regression on Fisher's iris.\n\n"
        + "".join(
            f"## {title}\n\n{title} of this release, for the reviewers.\n\n" for title in sections_for("model").values()
        )
    )
    client = Client()
    request.addfinalizer(
        client.close
    )  # a kept-alive connection would hold a live-server thread and its database session
    version = client.log_model(
        estimator,
        "vision/iris",
        version="1.0.0",
        input_example=x[:5],
        card=card,
        metadata={"run_id": "r1"},
        license="MIT",
    )
    assert version["status"] == "validated" and version["metadata"] == {"run_id": "r1"}
    assert version["signature"]["inputs"][0]["name"] == "input"

    code, opened, err = cli(capsys, "submit", "vision/iris@1.0.0", "--note", "Trained in CI")
    assert code == 0, err
    stored = AssetVersion.objects.get(asset__slug="iris", version="1.0.0")
    review_submit(user=dave, version=stored, decision="approve", comment="Fine.")
    from registry.governance.signing import version_sign

    assert version_sign(version_id=stored.pk) is not None
    alias_set(user=dave, asset=stored.asset, name="production", version=stored)

    code, endpoint, err = cli(capsys, "deploy", "vision/iris@production", "--name", "iris-ci")
    assert code == 0, err
    assert endpoint["status"] == "ready" and endpoint["url"].endswith("/v2/models/iris-ci") and endpoint["key"]

    rows = x[[0, 60, 120]].astype(np.float32)
    np.save(env / "rows.npy", rows)
    np.savez(env / "rows.npz", input=rows)
    expected = ort.InferenceSession(sklearn_to_onnx(estimator, x[:5])).run(None, {"input": rows})[0]
    for source in ("rows.npy", "rows.npz"):
        code, answer, err = cli(capsys, "predict", "iris-ci", "--input", str(env / source))
        assert code == 0, err
        assert answer["label"] == expected.tolist() and answer["id"]
    # With the endpoint's own key as well.
    outputs = client.predict("iris-ci", {"input": rows}, key=endpoint["key"])
    assert outputs["label"].tolist() == expected.tolist() and outputs["probabilities"].shape == (3, 3)

    code, listed, _ = cli(capsys, "endpoints")
    assert code == 0 and [e["name"] for e in listed] == ["iris-ci"]
    code, series, _ = cli(capsys, "monitoring", "iris-ci")
    assert code == 0 and series["reference"]["kind"] == "history"


def test_push_a_folder_with_lineage_and_the_exit_codes_of_a_refusal(celery_worker, env, alice, team, capsys, tmp_path):
    make_asset(alice, team, kind="dataset", slug="flowers", license="MIT")
    archive = external_data_zip(tmp_path)
    folder = env / "bundle"
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        z.extractall(folder)
    # Each file through a resumable upload session (the worker assembles and verifies them), then validated.
    code, pushed, err = cli(
        capsys, "push", "vision/big", "2.0.0", str(folder), "--create", "--metadata", "git_sha=abc", "--resumable"
    )
    assert code == 0, err
    assert not UploadSession.objects.exists()  # used up by the version
    assert pushed["status"] == "validated" and sorted(f["path"] for f in pushed["files"]) == [
        "model.onnx",
        "weights.bin",
    ]
    assert pushed["metadata"] == {"git_sha": "abc"}
    code, single, err = cli(capsys, "push", "vision/big", "2.0.1", str(folder), "--single-request")  # a zip
    assert code == 0 and single["status"] == "validated" and len(single["files"]) == 2, err
    # The same version again: the server's refusal, its message, exit code 1.
    code, _, err = cli(capsys, "push", "vision/big", "2.0.0", str(folder))
    assert code == 1 and "409" in err
    code, _, err = cli(capsys, "push", "vision/big", "2.1.0", str(folder), "--lineage", "trained_on=vision/flowers")
    assert code == 2 and "kind=team/asset@version" in err
    code, _, err = cli(capsys, "push", "vision/big", "2.1.0", str(folder), "--metadata", "no-equals")
    assert code == 2 and "key=value" in err

"""The Hugging Face Hub's read API under /hf, driven by the real `huggingface_hub` against a live portal:
hf_hub_download and snapshot_download by version, by alias and by commit, model_info, list_repo_files, the card
as README.md, a dataset repo, and an outsider getting nothing."""

import hashlib
import os

import pytest

from marketplace.api.huggingface import commit_id
from registry.cards.services import card_update
from registry.governance.services import alias_set
from registry.tokens.services import token_create
from registry.versions.models import AssetVersion
from tests.factories import complete_card_fields, external_data_zip, make_asset, make_version
from tests.registry.endpoint_fixtures import approve

hub = pytest.importorskip("huggingface_hub")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def repo(alice, bob, dave, team, tmp_path, reviewers):
    """vision/clf (private): 1.0.0 approved (production) with model.onnx and weights.bin, 1.1.0 validated."""
    asset = make_asset(alice, team, slug="clf", license="MIT", visibility="private", task="tabular-classification")
    archive = external_data_zip(tmp_path)
    first = make_version(alice, asset, tmp_path, archive, filename="bundle.zip")
    AssetVersion.objects.filter(pk=first.pk).update(status="validated")
    card_update(user=alice, version=first, fields=complete_card_fields("model"))
    approve(first, submitter=bob, reviewer=dave, signature={"inputs": [], "outputs": []})
    alias_set(user=dave, asset=asset, name="production", version=first)
    second = make_version(alice, asset, tmp_path, archive, version="1.1.0", filename="bundle.zip")
    files = {f.path: f for f in first.files.select_related("blob")}
    return {"asset": asset, "first": first, "second": second, "files": files}


@pytest.fixture
def hf(live_server, monkeypatch, tmp_path, alice):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    token = token_create(user=alice, name="hf")[1]
    yield {
        "endpoint": f"{live_server.url}/hf",
        "token": token,
        "api": hub.HfApi(endpoint=f"{live_server.url}/hf", token=token),
    }
    # Its kept-alive connections would hold live-server threads, and their database sessions, past the test.
    hub.utils.close_session()


def test_hf_hub_download_by_version_alias_and_commit(repo, hf):
    expected = repo["files"]["weights.bin"]
    common = {"repo_id": "vision/clf", "endpoint": hf["endpoint"], "token": hf["token"]}
    by_alias = hub.hf_hub_download(filename="weights.bin", revision="production", **common)
    by_version = hub.hf_hub_download(filename="weights.bin", revision="1.0.0", **common)
    by_commit = hub.hf_hub_download(filename="weights.bin", revision=commit_id(repo["first"]), **common)
    default = hub.hf_hub_download(filename="weights.bin", **common)  # main: the production alias
    for path in (by_alias, by_version, by_commit, default):
        with open(path, "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == expected.blob.sha256
    assert f"snapshots{os.sep}{commit_id(repo['first'])}" in by_alias
    readme = hub.hf_hub_download(filename="README.md", revision="1.0.0", **common)
    assert open(readme).read().startswith("---\n") and "license: mit" in open(readme).read().lower()


def test_snapshot_download_model_info_and_list_repo_files(repo, hf):
    folder = hub.snapshot_download("vision/clf", revision="production", endpoint=hf["endpoint"], token=hf["token"])
    assert sorted(os.listdir(folder)) == ["README.md", "model.onnx", "weights.bin"]
    with open(os.path.join(folder, "model.onnx"), "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == repo["files"]["model.onnx"].blob.sha256
    info = hf["api"].model_info("vision/clf", revision="1.1.0")
    assert info.id == "vision/clf" and info.sha == commit_id(repo["second"]) and info.private
    assert sorted(s.rfilename for s in info.siblings) == ["README.md", "model.onnx", "weights.bin"]
    assert sorted(hf["api"].list_repo_files("vision/clf", revision="production")) == [
        "README.md",
        "model.onnx",
        "weights.bin",
    ]
    tree = {f.path: f for f in hf["api"].list_repo_tree("vision/clf", revision="1.0.0")}
    assert tree["weights.bin"].size == repo["files"]["weights.bin"].blob.size
    assert tree["weights.bin"].lfs.sha256 == repo["files"]["weights.bin"].blob.sha256


def test_missing_repos_revisions_and_files_say_which(repo, hf, charlie):
    with pytest.raises(hub.errors.RepositoryNotFoundError):
        hf["api"].model_info("vision/nothing")
    with pytest.raises(hub.errors.RevisionNotFoundError):
        hf["api"].model_info("vision/clf", revision="9.9.9")
    with pytest.raises(hub.errors.EntryNotFoundError):
        hub.hf_hub_download("vision/clf", "nope.bin", revision="1.0.0", endpoint=hf["endpoint"], token=hf["token"])
    # A model repo is not a dataset repo.
    with pytest.raises(hub.errors.RepositoryNotFoundError):
        hf["api"].dataset_info("vision/clf")
    # Another team's private asset does not exist for an outsider, here as everywhere.
    outsider = token_create(user=charlie, name="x")[1]
    with pytest.raises(hub.errors.RepositoryNotFoundError):
        hub.HfApi(endpoint=hf["endpoint"], token=outsider).model_info("vision/clf")
    with pytest.raises(hub.errors.RepositoryNotFoundError):
        hub.hf_hub_download("vision/clf", "model.onnx", revision="1.0.0", endpoint=hf["endpoint"], token=outsider)


def test_a_dataset_repo(alice, team, tmp_path, hf):
    data = make_asset(alice, team, kind="dataset", slug="flowers", license="CC-BY-4.0")
    content = b"sepal,petal\n5.1,1.4\n4.9,1.4\n"
    make_version(alice, data, tmp_path, content, filename="flowers.csv")
    path = hub.hf_hub_download(
        "vision/flowers",
        "flowers.csv",
        repo_type="dataset",
        revision="1.0.0",
        endpoint=hf["endpoint"],
        token=hf["token"],
    )
    assert open(path, "rb").read() == content
    assert hf["api"].dataset_info("vision/flowers", revision="1.0.0").id == "vision/flowers"


def test_from_s3_the_hub_client_follows_the_redirect_to_a_presigned_url(alice, team, tmp_path, hf, settings):
    import requests

    from tests.factories import linear_model, onnx_bytes
    from tests.s3 import BUCKET, S3Server

    server = S3Server().start()
    try:
        server.client().create_bucket(Bucket=BUCKET)
        settings.STORAGES = {**settings.STORAGES, "artifacts": server.storage_settings()}
        content = onnx_bytes(linear_model(seed=3))
        make_version(alice, make_asset(alice, team, slug="in-s3", license="MIT"), tmp_path, content)
        url = f"{hf['endpoint']}/vision/in-s3/resolve/1.0.0/model.onnx"
        head = requests.head(url, headers={"Authorization": f"Bearer {hf['token']}"}, allow_redirects=False, timeout=10)
        # The Hub's client reads the file's metadata from the redirect itself, and sends no token to the bucket.
        assert head.status_code == 302 and head.headers["Location"].startswith(server.endpoint)
        assert head.headers["X-Linked-Size"] == str(len(content))
        assert (
            head.headers["X-Linked-Etag"] == f'"{hashlib.sha256(content).hexdigest()}"'
            and head.headers["X-Repo-Commit"]
        )
        path = hub.hf_hub_download(
            "vision/in-s3", "model.onnx", revision="1.0.0", endpoint=hf["endpoint"], token=hf["token"]
        )
        with open(path, "rb") as fh:
            assert fh.read() == content
    finally:
        server.stop()

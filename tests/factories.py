"""Test data: users, teams, assets, versions, and small ONNX models built in memory."""

import io
import zipfile
from itertools import count
from pathlib import Path

import numpy as np
import onnx
from django.contrib.auth import get_user_model
from onnx import TensorProto, helper, numpy_helper

from registry.artifacts.uploads import StagedFile
from registry.assets.services import asset_create
from registry.teams.services import team_create, team_member_add
from registry.versions.models import AssetVersion
from registry.versions.services import version_create

# The Django-free builders of the runtime tests, shared: hostile models cost validation and serving alike.
from tests.registry.runtime.host_fixtures import add_one_loop_body, memory_bomb_model, model_of  # noqa: F401

_seq = count(1)


def make_user(username: str | None = None, **extra):
    username = username or f"user{next(_seq)}"
    return get_user_model().objects.create_user(username=username, password="pw-" + username, **extra)


def make_team(owner, slug: str | None = None, members=()):
    team = team_create(user=owner, slug=slug or f"team-{next(_seq)}", name="Team")
    for member in members:
        team_member_add(actor=owner, team=team, username=member.username)
    return team


def make_asset(user, team, kind: str = "model", slug: str | None = None, **fields):
    slug = slug or f"asset-{next(_seq)}"
    return asset_create(
        user=user, team=team, kind=kind, name=fields.pop("name", slug.replace("-", " ")), slug=slug, **fields
    )


def make_version(
    user, asset, tmp_path: Path, content: bytes, *, filename: str = "model.onnx", version: str = "1.0.0", **kwargs
):
    path = tmp_path / f"upload-{next(_seq)}-{filename}"
    path.write_bytes(content)
    return version_create(
        user=user, asset=asset, version=version, upload=StagedFile.from_path(path, filename), **kwargs
    )


def bare_versions(asset, count: int, *, status: str = "validated", start: int = 0) -> list:
    """`count` versions of `asset` (0.0.start ...) as rows only, without files: for graph-shaped tests."""
    return AssetVersion.objects.bulk_create(
        AssetVersion(
            asset=asset,
            version=f"0.0.{n}",
            major=0,
            minor=0,
            patch=n,
            status=status,
            filename="none",
            sha256="0" * 64,
            size=0,
        )
        for n in range(start, start + count)
    )


def linear_model(in_features: int = 4, out_features: int = 3, *, seed: int = 0) -> onnx.ModelProto:
    """y = relu(x @ W + b) with a symbolic batch dimension."""
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.standard_normal((in_features, out_features)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.standard_normal(out_features).astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "B"], ["h"]), helper.make_node("Relu", ["h"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", in_features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", out_features])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="modelhub-tests")
    model.ir_version = 8
    return model


def onnx_bytes(model: onnx.ModelProto | None = None) -> bytes:
    return (model or linear_model()).SerializeToString()


def external_data_zip(
    tmp_path: Path,
    *,
    location: str = "weights.bin",
    in_features: int = 64,
    out_features: int = 32,
    extra_files: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """A zip of model.onnx whose weights live in an external-data file at `location`."""
    folder = tmp_path / f"ext-{next(_seq)}"
    folder.mkdir()
    model = linear_model(in_features, out_features)
    onnx.save_model(
        model,
        folder / "model.onnx",
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    if location != "weights.bin":
        saved = onnx.load(folder / "model.onnx", load_external_data=False)
        for tensor in saved.graph.initializer:
            for entry in tensor.external_data:
                if entry.key == "location":
                    entry.value = location
        (folder / "model.onnx").write_bytes(saved.SerializeToString())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.write(folder / "model.onnx", "model.onnx")
        archive.write(folder / "weights.bin", "weights.bin")
        for name, data in (extra_files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- Hostile models: valid ONNX that costs whoever runs it ----------------------------------------


def endless_loop_model(trip_count: int = 1 << 62) -> onnx.ModelProto:
    """A Loop that adds 1 for `trip_count` iterations (a constant, not an input): it practically never finishes."""
    return model_of(
        [helper.make_node("Loop", ["trip", "cond", "x"], ["y"], body=add_one_loop_body())],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [
            numpy_helper.from_array(np.array(trip_count, dtype=np.int64), "trip"),
            numpy_helper.from_array(np.array(True), "cond"),
        ],
    )


def relu_model(input_name: str = "x", output_name: str = "y") -> onnx.ModelProto:
    return model_of(
        [helper.make_node("Relu", [input_name], [output_name])],
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [1, 2])],
    )


def complete_card_fields(kind: str = "model") -> dict:
    """Every section of the kind filled: a card at 100% completeness."""
    from registry.cards.sections import sections_for

    return {
        "sections": {
            key: f"{title} of this release, written for the reviewers." for key, title in sections_for(kind).items()
        },
        "body": "A card filled in for the tests, long enough to count.",
        "license": "mit",
    }


def make_validated_version(user, asset, tmp_path: Path, *, version: str = "1.0.0", card: bool = True):
    """A version as validation leaves it (status set directly, the asset's release status recounted), with a
    complete card unless `card=False`."""
    from django.db import transaction

    from registry.cards.services import card_update
    from registry.versions.models import AssetVersion
    from registry.versions.release import asset_lock, asset_release_refresh

    made = make_version(user, asset, tmp_path, onnx_bytes(), version=version)
    with transaction.atomic():
        locked = asset_lock(asset.pk)
        AssetVersion.objects.filter(pk=made.pk).update(status="validated")
        asset_release_refresh(locked)
    made.refresh_from_db()
    if card:
        card_update(user=user, version=made, fields=complete_card_fields(asset.kind))
    return made


def make_search_catalogue(alice, team, charlie) -> dict:
    """The search tests' catalogue: a word ("fraud") in each field of a different asset, a private asset of
    `team`, and an asset of another team ("speech")."""
    speech = make_team(charlie, slug="speech")
    return {
        "by-name": make_asset(
            alice,
            team,
            slug="fraud-detector",
            name="Fraud detector xgboost",
            tags=["finance"],
            task="tabular-classification",
            license="MIT",
            summary="Flags card payments",
        ),
        "by-tag": make_asset(
            alice,
            team,
            slug="payments-risk",
            name="Payments risk",
            tags=["fraud", "finance"],
            task="tabular-classification",
            license="MIT",
            summary="Scores transactions",
        ),
        "by-summary": make_asset(
            alice,
            team,
            slug="txn-scorer",
            name="Transaction scorer",
            kind="dataset",
            tags=["tabular"],
            task="tabular-regression",
            license="CC-BY-4.0",
            summary="Detects fraud in card transactions",
        ),
        "by-description": make_asset(
            alice,
            team,
            slug="ledger",
            name="Ledger model",
            tags=["accounting"],
            license="MIT",
            description="Balances books; may help with fraud reviews.",
        ),
        "secret": make_asset(
            alice,
            team,
            slug="secret-fraud",
            name="Fraud secret",
            visibility="private",
            tags=["finance", "hidden-tag"],
            task="secret-task",
            license="Apache-2.0",
        ),
        "whisper": make_asset(
            charlie,
            speech,
            slug="whisper",
            name="Whisper tiny",
            tags=["audio"],
            task="speech-recognition",
            license="MIT",
            summary="Speech to text",
        ),
    }


# sha256 of 1 GiB of zero bytes: `add_big_file` stores it sparse, so it costs no disk until something reads it.
GIB_OF_ZEROS_SHA256 = "49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"


def add_big_file(version, path: str = "weights.bin"):
    """Add 1 GiB of zeros to `version` at `path`, written sparse straight into artifact storage: a version whose
    materializing and hashing take seconds (the window a fault test kills a worker in)."""
    from registry.artifacts.models import Blob, VersionFile, blob_key
    from registry.artifacts.storage import artifact_storage

    target = Path(artifact_storage().path(blob_key(GIB_OF_ZEROS_SHA256)))
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        out.truncate(1 << 30)
    blob, _ = Blob.objects.get_or_create(sha256=GIB_OF_ZEROS_SHA256, defaults={"size": 1 << 30})
    return VersionFile.objects.create(version=version, path=path, blob=blob)

"""Model formats Modelhub catalogues but does not serve (registry/kernel/lib/model_formats.py): safetensors and GGUF
headers written here byte by byte, read without loading anything; a hostile pickle found by the static scan in the
validation sandbox without ever being unpickled; such versions validated or refused, and never deployable."""

import io
import json
import os
import pickle
import struct
import zipfile

import pytest

from registry.endpoints.services import endpoint_create
from registry.kernel.errors import Conflict
from registry.kernel.lib.model_formats import FormatInvalid, primary_model_file, read_gguf, read_safetensors
from registry.validation.models import ValidationReport
from registry.validation.services import version_validate
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_version


def safetensors_bytes(tensors: dict, metadata: dict | None = None) -> bytes:
    """tensors: name -> (dtype, shape, itemsize); data laid out one after another, zero-filled."""
    header, data, offset = {}, b"", 0
    for name, (dtype, shape, itemsize) in tensors.items():
        count = 1
        for dim in shape:
            count *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + count * itemsize]}
        data += b"\0" * (count * itemsize)
        offset += count * itemsize
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def gguf_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf_bytes(*, context: int = 4096, truncate: int | None = None) -> bytes:
    kv = [
        (gguf_string("general.architecture"), struct.pack("<I", 8) + gguf_string("llama")),
        (gguf_string("general.name"), struct.pack("<I", 8) + gguf_string("tiny-llama")),
        (gguf_string("general.file_type"), struct.pack("<I", 4) + struct.pack("<I", 15)),
        (gguf_string("llama.context_length"), struct.pack("<I", 4) + struct.pack("<I", context)),
        (
            gguf_string("tokenizer.ggml.tokens"),
            struct.pack("<I", 9) + struct.pack("<I", 8) + struct.pack("<Q", 3) + b"".join(map(gguf_string, "abc")),
        ),
        (
            gguf_string("tokenizer.ggml.scores"),
            struct.pack("<I", 9) + struct.pack("<I", 6) + struct.pack("<Q", 3) + struct.pack("<3f", 0, 1, 2),
        ),
    ]
    body = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", 2) + struct.pack("<Q", len(kv))
    body += b"".join(key + value for key, value in kv) + b"\0" * 64  # (tensor infos follow: not read)
    return body[:truncate] if truncate else body


class Pwn:
    """Unpickling this runs a shell command: the payload a hostile model file carries."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_safetensors_header_is_read_without_loading(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(
        safetensors_bytes(
            {"embed.weight": ("F16", [32, 8], 2), "head.weight": ("F32", [8, 4], 4), "head.bias": ("F32", [4], 4)},
            {"format": "pt"},
        )
    )
    found = read_safetensors(path)
    assert found == {
        "format": "safetensors",
        "tensors": 3,
        "parameters": 32 * 8 + 8 * 4 + 4,
        "dtypes": {"F16": 1, "F32": 2},
        "metadata": {"format": "pt"},
    }


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda b: b[:5], "shorter than"),
        (lambda b: struct.pack("<Q", 10**12) + b[8:], "a header of"),
        (lambda b: b[:8] + b"x" + b[9:], "not JSON"),
        (lambda b: b[: len(b) - 8], "outside the file"),
        (lambda b: b.replace(b'"F32"', b'"F99"'), "unknown dtype"),
    ],
)
def test_malformed_safetensors_are_refused_with_the_reason(tmp_path, mutate, words):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(mutate(safetensors_bytes({"w": ("F32", [4, 4], 4)})))
    with pytest.raises(FormatInvalid, match=words):
        read_safetensors(path)


def test_gguf_header_gives_architecture_quantisation_and_context(tmp_path):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(gguf_bytes())
    found = read_gguf(path)
    assert found["architecture"] == "llama" and found["name"] == "tiny-llama"
    assert found["quantisation"] == "Q4_K_M" and found["context_length"] == 4096 and found["tensors"] == 2
    assert found["metadata"]["tokenizer.ggml.tokens"] == "[3 items]"
    path.write_bytes(gguf_bytes(truncate=60))
    with pytest.raises(FormatInvalid, match="ends before"):
        read_gguf(path)
    path.write_bytes(b"GGML" + gguf_bytes()[4:])
    with pytest.raises(FormatInvalid, match="magic"):
        read_gguf(path)


def test_the_primary_file_is_the_onnx_one_else_the_weights():
    assert primary_model_file(["config.json", "model.safetensors", "model.onnx"]) == "model.onnx"
    assert primary_model_file(["config.json", "pytorch_model.bin", "model.safetensors"]) == "model.safetensors"
    assert primary_model_file(["tokenizer.json", "README.md"]) is None


@pytest.mark.django_db
def test_a_safetensors_version_is_catalogued_validated_and_never_deployable(alice, team, tmp_path, settings):
    asset = make_asset(alice, team, slug="bert", kind="model")
    data = safetensors_bytes({"w": ("F32", [16, 16], 4)}, {"framework": "pt"})
    version = make_version(alice, asset, tmp_path, data, filename="model.safetensors")
    assert version_validate(version_id=version.pk, task_id="t1") is True
    report = ValidationReport.objects.get(version=version)
    assert report.outcome == "passed", report.reason
    assert "Catalogued, not deployable" in report.reason and "256 parameters" in report.reason
    assert report.details["format"] == "safetensors" and report.details["deployable"] is False
    assert report.details["files"]["model.safetensors"]["parameters"] == 256
    AssetVersion.objects.filter(pk=version.pk).update(status="approved")
    with pytest.raises(Conflict) as refused:
        endpoint_create(user=alice, team=team, asset=asset, version=version.version)
    assert refused.value.code == "not_deployable" and "serves only ONNX" in refused.value.message


def evil_pytorch_zip(marker) -> bytes:
    """The layout torch.save writes (a zip whose data.pkl is the pickle), with a payload: made by pickle.dumps,
    which only records the reduction; nothing runs until something unpickles it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"state_dict": Pwn(marker)}, protocol=2))
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("filename", ["model.pt", "classifier.joblib", "model.pkl"])
def test_a_hostile_pickle_is_found_by_the_scan_without_being_loaded(alice, team, tmp_path, filename):
    marker = tmp_path / "pwned"
    payload = evil_pytorch_zip(marker) if filename.endswith(".pt") else pickle.dumps(Pwn(marker))
    asset = make_asset(alice, team, slug="evil", kind="model")
    version = make_version(alice, asset, tmp_path, payload, filename=filename)
    assert version_validate(version_id=version.pk, task_id="t1") is True
    report = ValidationReport.objects.get(version=version)
    assert report.outcome == "failed" and report.failed_check == "pickle_scan", report.reason
    assert "system" in report.reason and "Nothing was loaded" in report.reason
    assert AssetVersion.objects.get(pk=version.pk).status == "invalid"
    assert not marker.exists()  # the payload never ran, in the worker or the sandbox


@pytest.mark.django_db
def test_the_policy_may_catalogue_a_flagged_pickle_which_stays_undeployable(alice, team, tmp_path, settings):
    settings.MODELHUB_ALLOW_UNSAFE_PICKLES = True
    marker = tmp_path / "pwned"
    asset = make_asset(alice, team, slug="legacy", kind="model")
    version = make_version(alice, asset, tmp_path, pickle.dumps(Pwn(marker)), filename="model.pkl")
    version_validate(version_id=version.pk, task_id="t1")
    report = ValidationReport.objects.get(version=version)
    assert report.outcome == "passed" and "allowed by policy" in report.reason
    assert report.details["files"]["model.pkl"]["pickle_scan"]["dangerous"] and not marker.exists()


@pytest.mark.django_db
def test_a_benign_pickle_passes_and_a_malformed_header_fails(alice, team, tmp_path):
    asset = make_asset(alice, team, slug="sk", kind="model")
    benign = make_version(alice, asset, tmp_path, pickle.dumps({"coef": [1.0, 2.0]}), filename="model.pkl")
    version_validate(version_id=benign.pk, task_id="t1")
    assert ValidationReport.objects.get(version=benign).outcome == "passed"
    broken = make_version(alice, asset, tmp_path, b"\xff" * 20, filename="model.safetensors", version="2.0.0")
    version_validate(version_id=broken.pk, task_id="t2")
    report = ValidationReport.objects.get(version=broken)
    assert report.outcome == "failed" and report.failed_check == "model_format" and "a header of" in report.reason


@pytest.mark.django_db
def test_the_asset_page_says_catalogued_and_warns_of_a_flagged_pickle(alice, team, tmp_path, client):
    asset = make_asset(alice, team, slug="evil", kind="model")
    version = make_version(alice, asset, tmp_path, pickle.dumps(Pwn(tmp_path / "pwned")), filename="model.pkl")
    version_validate(version_id=version.pk, task_id="t1")
    client.force_login(alice)
    page = client.get("/assets/vision/evil/").content.decode()
    assert "A pickle model: catalogued and hashed" in page and "not deployable" in page
    assert "model.pkl is a pickle that imports" in page and "system" in page


@pytest.mark.django_db
def test_the_review_policy_can_keep_production_on_deployable_versions(alice, team, tmp_path):
    from registry.governance.models import ReviewPolicy
    from registry.governance.services import alias_set

    ReviewPolicy.objects.create(team=team, deployable_aliases=["production"])
    asset = make_asset(alice, team, slug="bert", kind="model")
    version = make_version(alice, asset, tmp_path, safetensors_bytes({"w": ("F32", [2], 4)}), filename="m.safetensors")
    AssetVersion.objects.filter(pk=version.pk).update(status="approved")
    version.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        alias_set(user=alice, asset=asset, name="production", version=version)
    assert refused.value.code == "not_deployable" and "only at deployable (ONNX)" in refused.value.message
    assert alias_set(user=alice, asset=asset, name="staging", version=version).name == "staging"

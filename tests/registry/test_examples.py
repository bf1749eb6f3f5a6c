"""Input examples (registry.examples): given at upload or later, checked as data, used by validation's smoke
inference, the endpoint conformance check and the portal's snippets."""

import io
import json
import zipfile

import numpy as np
import pytest
from onnx import TensorProto, helper

from registry.artifacts.uploads import StagedFile
from registry.examples.arrays import example_parse
from registry.examples.models import InputExample
from registry.examples.services import input_example_set
from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import InvalidInput, PayloadTooLarge
from registry.validation.models import ValidationReport
from registry.validation.services import version_validate
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_validated_version, make_version, onnx_bytes

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "inputs": [
        {"name": "data", "datatype": "FP32", "shape": [6], "data": [0.5, 1, 2, 3, 4, 5]},
        {"name": "shape", "datatype": "INT64", "shape": [2], "data": [2, 3]},
    ]
}


def reshape_model():
    """out = Reshape(data, shape): its valid inputs depend on the values of `shape`, which generated zeros are not."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["data", "shape"], ["out"])],
        "value-dependent",
        [
            helper.make_tensor_value_info("data", TensorProto.FLOAT, ["n"]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["rows", "cols"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="modelhub-tests")
    model.ir_version = 8
    return model


def npz_file(tmp_path, name="example.npz", **arrays) -> StagedFile:
    path = tmp_path / name
    np.savez(path, **arrays)
    return StagedFile.from_path(path, name)


def upload(alice, asset, tmp_path, **kwargs):
    return make_version(alice, asset, tmp_path, onnx_bytes(reshape_model()), **kwargs)


@pytest.fixture
def model(alice, team):
    return make_asset(alice, team, slug="reshaper")


def validated(version) -> AssetVersion:
    version_validate(version_id=version.pk, task_id="t")
    version.refresh_from_db()
    return version


# --- Validation --------------------------------------------------------------------------------------------


def test_a_value_dependent_model_validates_on_its_npz_example(alice, model, tmp_path):
    example = npz_file(tmp_path, data=np.arange(6, dtype=np.float32), shape=np.array([3, 2]))
    version = validated(upload(alice, model, tmp_path, input_example=example))
    assert version.status == "validated", version.validation.reason
    details = version.validation.details
    # The smoke inference really ran on the example: Reshape made its [3, 2] output from the example's values.
    assert details["smoke_inputs"] == "input_example"
    assert details["smoke_inference"]["inputs_from"] == "input_example"
    assert details["smoke_inference"]["outputs"] == [{"name": "out", "dtype": "float32", "shape": [3, 2]}]
    assert details["input_example"]["sha256"] == InputExample.objects.get(version=version).sha256
    assert "smoke inference on the input example passed" in version.validation.reason
    assert AuditEvent.objects.filter(action="version.input_example_changed", target_id=str(version.pk)).exists()


def test_a_value_dependent_model_validates_on_v2_json_inputs(alice, model, tmp_path):
    version = validated(upload(alice, model, tmp_path, input_example=EXAMPLE))
    assert version.status == "validated", version.validation.reason
    assert version.validation.details["smoke_inference"]["outputs"][0]["shape"] == [2, 3]
    stored = InputExample.objects.get(version=version)
    assert [t["name"] for t in stored.tensors] == ["data", "shape"]
    assert stored.inline == EXAMPLE["inputs"]  # small: shown whole in the portal's snippets


def test_a_json_file_works_as_well(alice, model, tmp_path):
    path = tmp_path / "example.json"
    path.write_text(json.dumps(EXAMPLE))
    version = validated(upload(alice, model, tmp_path, input_example=StagedFile.from_path(path)))
    assert version.status == "validated", version.validation.reason


def test_without_an_example_the_failure_asks_for_one_and_does_not_call_the_model_broken(alice, model, tmp_path):
    version = validated(upload(alice, model, tmp_path))
    report = version.validation
    assert version.status == "invalid" and report.failed_check == "smoke_inference"
    assert report.reason.startswith("The model needs an input example")
    assert "`input_example`" in report.reason and "/input-example" in report.reason
    assert "this does not mean it is broken" in report.reason
    assert report.details["smoke_inputs"] == "generated" and report.details["input_example"] is None


def test_an_example_that_does_not_fit_fails_validation_saying_which_input(alice, model, tmp_path):
    example = npz_file(tmp_path, data=np.arange(6, dtype=np.int32), extra=np.zeros(2, dtype=np.float32))
    version = validated(upload(alice, model, tmp_path, input_example=example))
    report = version.validation
    assert version.status == "invalid" and report.failed_check == "input_example"
    assert "the model's input 'shape' is missing" in report.reason
    assert "'extra' is not an input of the model (its inputs: 'data', 'shape')" in report.reason
    assert "'data' is INT32 in the example; the model takes FP32" in report.reason
    assert report.details["smoke_inputs"] == "input_example"


def test_a_wrong_rank_or_fixed_dimension_is_named(alice, model, tmp_path):
    example = npz_file(tmp_path, data=np.zeros((2, 3), dtype=np.float32), shape=np.array([2, 3, 1]))
    version = validated(upload(alice, model, tmp_path, input_example=example))
    assert "'data' has shape [2, 3] in the example; the model takes [n]" in version.validation.reason
    assert "'shape' has shape [3] in the example; the model takes [2]" in version.validation.reason


def test_an_example_whose_values_break_the_model_fails_as_the_model_s_run(alice, model, tmp_path):
    bad = {"inputs": [{**EXAMPLE["inputs"][0]}, {**EXAMPLE["inputs"][1], "data": [4, 4]}]}
    version = validated(upload(alice, model, tmp_path, input_example=bad))
    assert version.status == "invalid" and version.validation.failed_check == "smoke_inference"
    assert version.validation.reason.startswith("onnxruntime failed to run the model on its input example")


# --- Refused at upload, before anything is stored -------------------------------------------------------------


def _refused(alice, model, tmp_path, example, error=InvalidInput) -> str:
    with pytest.raises(error) as caught:
        upload(alice, model, tmp_path, input_example=example)
    assert not AssetVersion.objects.filter(asset=model).exists()
    assert caught.value.field == "input_example"
    return caught.value.message


def _raw(tmp_path, content: bytes, name="example.npz") -> StagedFile:
    path = tmp_path / name
    path.write_bytes(content)
    return StagedFile.from_path(path, name)


def test_a_corrupt_npz_is_refused(alice, model, tmp_path):
    assert "not a readable .npz" in _refused(alice, model, tmp_path, _raw(tmp_path, b"PK\x03\x04 not really a zip"))
    good = io.BytesIO()
    np.savez(good, x=np.arange(1000, dtype=np.float64))
    truncated = good.getvalue()[:-200]
    assert "not a readable .npz" in _refused(alice, model, tmp_path, _raw(tmp_path, truncated))
    assert "neither an .npz" in _refused(alice, model, tmp_path, _raw(tmp_path, b"\x00\x01garbage", name="x.bin"))


def test_a_pickled_object_array_is_refused_and_never_unpickled(alice, model, tmp_path, monkeypatch):
    import pickle

    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    path = tmp_path / "objects.npz"
    np.savez(path, data=np.array([{"a": 1}, None], dtype=object))
    message = _refused(alice, model, tmp_path, StagedFile.from_path(path))
    assert "object array" in message and "never unpickled" in message


def test_an_archive_that_unpacks_into_a_huge_array_is_refused_before_reading(alice, model, tmp_path, settings):
    settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES = 1024 * 1024
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.npy", header.getvalue() + b"\0" * 64)
    assert "over the limit" in _refused(alice, model, tmp_path, _raw(tmp_path, buffer.getvalue()), PayloadTooLarge)


def test_an_example_over_the_limit_is_refused(alice, model, tmp_path, settings):
    settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES = 4096
    big = npz_file(tmp_path, data=np.zeros(2048, dtype=np.float32), shape=np.array([2, 1024]))
    assert "MODELHUB_INPUT_EXAMPLE_MAX_BYTES" in _refused(alice, model, tmp_path, big, PayloadTooLarge)
    # Compressed small, decoded large: the arrays count, not the file.
    path = tmp_path / "small.npz"
    np.savez_compressed(path, data=np.zeros(100_000, dtype=np.float32))
    assert "over the limit" in _refused(alice, model, tmp_path, StagedFile.from_path(path), PayloadTooLarge)


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        ({"datatype": "FP32", "shape": [3], "data": [1, 2]}, "shape [3] needs 3 values, data has 2"),
        ({"datatype": "FLOAT", "shape": [1], "data": [1]}, "datatype 'FLOAT' is not one of"),
        ({"datatype": {"FP32": 1}, "shape": [1], "data": [1]}, "is not one of"),
        ({"datatype": "INT8", "shape": [1], "data": [300]}, "outside the range of INT8"),
        ({"datatype": "INT64", "shape": [2], "data": [1, True]}, "INT64 data must be integers"),
        ({"datatype": "INT64", "shape": [1], "data": [1.5]}, "INT64 data must be integers"),
        ({"datatype": "BOOL", "shape": [1], "data": [1]}, "BOOL data must be true or false"),
        ({"datatype": "FP16", "shape": [1], "data": [1e10]}, "outside the range of FP16"),
        ({"datatype": "FP32", "shape": [-1], "data": []}, "shape must be a list of non-negative integers"),
        ({"datatype": "FP32", "shape": [2, 2], "data": [[1, 2], [3]]}, "needs 4 values, data has 3"),
        ({"datatype": "FP32", "shape": [1], "data": [1], "parameters": {"binary_data_size": 4}}, "binary tensors"),
        ({"datatype": "FP32", "shape": [1], "data": "1"}, "data must be a list"),
    ],
)
def test_bad_v2_json_is_refused_with_what_is_wrong(alice, model, tmp_path, tensor, message):
    assert message in _refused(alice, model, tmp_path, {"inputs": [{"name": "data", **tensor}]})


def test_v2_json_document_shape_is_checked(alice, model, tmp_path):
    assert "V2 JSON inputs are an object" in _refused(alice, model, tmp_path, {"data": [1]})
    assert "two tensors are named 'data'" in _refused(
        alice, model, tmp_path, {"inputs": [EXAMPLE["inputs"][0], EXAMPLE["inputs"][0]]}
    )
    assert "holds no tensors" in _refused(alice, model, tmp_path, {"inputs": []})
    assert "not valid V2 JSON" in _refused(alice, model, tmp_path, _raw(tmp_path, b'{"inputs": [NaN]}', "e.json"))


def test_only_models_take_an_example(alice, team, tmp_path):
    dataset = make_asset(alice, team, slug="table", kind="dataset")
    with pytest.raises(InvalidInput, match="only model versions take an input example"):
        make_version(alice, dataset, tmp_path, b"a,b\n1,2\n", filename="t.csv", input_example=EXAMPLE)


def test_strings_round_trip_and_big_endian_arrays_are_taken(tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, text=np.array(["héllo", "b"]), raw=np.array([b"x", b"yz"]), wide=np.arange(3, dtype=">i4"))
    parsed = example_parse(buffer.getvalue())
    assert [t["datatype"] for t in parsed.tensors()] == ["BYTES", "BYTES", "INT32"]
    assert parsed.v2_inputs()[0]["data"] == ["héllo", "b"] and parsed.v2_inputs()[1]["data"] == ["x", "yz"]
    again = example_parse(parsed.npz_bytes())
    assert again.v2_inputs() == parsed.v2_inputs()
    assert parsed.npz_bytes() == again.npz_bytes()  # canonical: the same arrays are the same bytes


# --- Set with the card: the API ------------------------------------------------------------------------------


def _url(version) -> str:
    asset = version.asset
    return f"/api/v1/assets/{asset.team.slug}/{asset.slug}/versions/{version.version}/input-example"


@pytest.fixture
def linear(alice, team, tmp_path):
    """A validated linear model: x FP32 [batch, 4] -> y."""
    from tests.registry.endpoint_fixtures import LINEAR_SIGNATURE

    version = make_validated_version(alice, make_asset(alice, team, slug="linear"), tmp_path)
    AssetVersion.objects.filter(pk=version.pk).update(signature=LINEAR_SIGNATURE)
    version.refresh_from_db()
    return version


ROWS = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "data": [[5.1, 3.5, 1.4, 0.2], [1, 2, 3, 4]]}]}


def test_put_get_delete_as_json(bob_api, linear):
    answer = bob_api.put(_url(linear), ROWS, format="json")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["inputs"] == [
        {"name": "x", "datatype": "FP32", "shape": [2, 4], "values": 8, "head": [5.1, 3.5, 1.4, 0.2, 1, 2, 3, 4]}
    ]
    assert body["updated_by"] == "bob" and body["validation_restarted"] is False
    got = bob_api.get(_url(linear))
    assert got.status_code == 200 and got["ETag"] == f'"{body["sha256"]}"'
    assert got.json() == {
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "data": [5.1, 3.5, 1.4, 0.2, 1, 2, 3, 4]}]
    }
    detail = bob_api.get(_url(linear).removesuffix("input-example")).json()
    assert detail["input_example"]["sha256"] == body["sha256"]
    assert AuditEvent.objects.filter(action="version.input_example_changed", actor_name="bob").count() == 1
    # A validated version is not validated again (as when its card changes).
    assert AssetVersion.objects.get(pk=linear.pk).status == "validated"

    assert bob_api.delete(_url(linear)).status_code == 204
    assert bob_api.get(_url(linear)).status_code == 404
    assert bob_api.delete(_url(linear)).status_code == 404
    assert AuditEvent.objects.filter(action="version.input_example_removed", actor_name="bob").exists()
    assert bob_api.get(_url(linear).removesuffix("input-example")).json()["input_example"] is None


def test_put_an_npz_as_the_body_or_a_multipart_file(bob_api, linear):
    buffer = io.BytesIO()
    np.savez(buffer, x=np.ones((1, 4), dtype=np.float32))
    raw = bob_api.generic("PUT", _url(linear), buffer.getvalue(), content_type="application/octet-stream")
    assert raw.status_code == 200, raw.json()
    assert raw.json()["inputs"][0]["shape"] == [1, 4]
    buffer.seek(0)
    buffer.name = "rows.npz"
    form = bob_api.put(_url(linear), {"input_example": buffer}, format="multipart")
    assert form.status_code == 200, form.json()
    assert bob_api.get(_url(linear)).json()["inputs"][0]["data"] == [1.0, 1.0, 1.0, 1.0]


def test_an_example_that_does_not_fit_the_validated_signature_is_a_400(bob_api, linear):
    wrong = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]}
    answer = bob_api.put(_url(linear), wrong, format="json")
    assert answer.status_code == 400 and answer.json()["field"] == "input_example"
    assert "'x' is FP64 in the example; the model takes FP32" in answer.json()["detail"]
    assert "'x' has shape [1, 3] in the example; the model takes [batch, 4]" in answer.json()["detail"]
    assert not InputExample.objects.exists()


def test_bad_bodies_are_clear_4xx(bob_api, linear, settings):
    assert bob_api.put(_url(linear), {"inputs": "x"}, format="json").status_code == 400
    bad = bob_api.generic("PUT", _url(linear), b"PK\x03\x04junk", content_type="application/octet-stream")
    assert bad.status_code == 400 and "not a readable .npz" in bad.json()["detail"]
    assert bob_api.generic("PUT", _url(linear), b"{", content_type="application/json").status_code == 400
    assert bob_api.generic("PUT", _url(linear), b"x", content_type="text/plain").status_code == 415
    settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES = 1000
    big = bob_api.generic("PUT", _url(linear), b"\0" * 200_000, content_type="application/octet-stream")
    assert big.status_code == 413 and big.json()["code"] == "payload_too_large"
    body = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [300], "data": [0.5] * 300}]})
    assert bob_api.generic("PUT", _url(linear), body, content_type="application/json").status_code == 413


def test_upload_with_a_bad_example_is_a_4xx_and_creates_no_version(bob_api, alice, team, settings):
    asset = make_asset(alice, team, slug="m")
    url = f"/api/v1/assets/{team.slug}/{asset.slug}/versions/"

    def post(content: bytes, name="example.npz"):
        model = io.BytesIO(onnx_bytes(reshape_model()))
        model.name = "model.onnx"
        example = io.BytesIO(content)
        example.name = name
        return bob_api.post(url, {"version": "1.0.0", "file": model, "input_example": example}, format="multipart")

    corrupt = post(b"PK\x03\x04 broken")
    assert corrupt.status_code == 400 and corrupt.json()["field"] == "input_example"
    buffer = io.BytesIO()
    np.savez(buffer, data=np.array([object()], dtype=object))
    assert "object array" in post(buffer.getvalue()).json()["detail"]
    assert post(b'{"inputs": [{"name": "x"}]}', name="e.json").status_code == 400
    settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES = 100
    assert post(b"{" + b" " * 500 + b"}", name="e.json").status_code == 413
    assert not AssetVersion.objects.filter(asset=asset).exists()
    settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES = 1 << 20
    good = post(json.dumps(EXAMPLE).encode(), name="e.json")
    assert good.status_code == 202 and good.json()["input_example"]["inputs"][1]["head"] == [2, 3]


def test_who_may_read_and_change_it(alice, bob_api, charlie_api, client_for, team, tmp_path):
    internal = make_validated_version(alice, make_asset(alice, team, slug="open"), tmp_path)
    private = make_validated_version(
        alice, make_asset(alice, team, slug="hidden", visibility="private"), tmp_path, version="2.0.0"
    )
    one = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}
    assert bob_api.put(_url(internal), one, format="json").status_code == 200
    assert bob_api.put(_url(private), one, format="json").status_code == 200
    # An outsider sees an internal asset's example but may not change it; a private asset is not there at all.
    assert charlie_api.get(_url(internal)).status_code == 200
    assert charlie_api.put(_url(internal), one, format="json").status_code == 403
    assert charlie_api.delete(_url(internal)).status_code == 403
    for answer in (
        charlie_api.get(_url(private)),
        charlie_api.put(_url(private), one, format="json"),
        charlie_api.delete(_url(private)),
    ):
        assert answer.status_code == 404 and "input" not in answer.json()["detail"]
    assert InputExample.objects.filter(version=private).exists()


def test_it_is_frozen_once_approved_and_waits_while_validating(bob_api, alice, team, tmp_path, linear):
    AssetVersion.objects.filter(pk=linear.pk).update(status="approved")
    frozen = bob_api.put(_url(linear), ROWS, format="json")
    assert frozen.status_code == 409 and frozen.json()["code"] == "card_frozen"
    validating = make_version(alice, make_asset(alice, team, slug="fresh"), tmp_path, onnx_bytes())
    busy = bob_api.put(_url(validating), ROWS, format="json")
    assert busy.status_code == 409 and "being validated" in busy.json()["detail"]


def test_an_example_given_after_failing_for_want_of_one_validates_the_version_again(
    alice, bob, model, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    version = validated(upload(alice, model, tmp_path))
    assert version.status == "invalid"
    sent = []
    monkeypatch.setattr("registry.validation.services.task_send_on_commit", lambda name, pk: sent.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        row, restarted = input_example_set(user=bob, version=version, value=EXAMPLE)
    assert restarted and sent == [version.pk]
    version.refresh_from_db()
    assert version.status == "validating" and version.validation.outcome == "pending"
    assert version.validation.attempts == 0 and version.validation.reason == ""
    event = AuditEvent.objects.filter(action="version.input_example_changed", actor_name="bob").get()
    assert event.data["validation_restarted"] is True
    version = validated(version)
    assert version.status == "validated", version.validation.reason
    assert version.validation.details["smoke_inputs"] == "input_example"


def test_a_version_invalid_for_another_reason_is_not_validated_again(alice, bob, model, tmp_path):
    version = upload(alice, model, tmp_path)
    ValidationReport.objects.filter(version=version).update(outcome="failed", failed_check="checker")
    AssetVersion.objects.filter(pk=version.pk).update(status="invalid")
    version.refresh_from_db()
    _, restarted = input_example_set(user=bob, version=version, value=EXAMPLE)
    assert restarted is False and AssetVersion.objects.get(pk=version.pk).status == "invalid"


# --- The endpoint conformance check and the portal -------------------------------------------------------------


def test_a_deployed_version_is_checked_on_its_example(alice, bob, dave, team, tmp_path, settings, monkeypatch):
    from registry.endpoints import conformance
    from registry.endpoints.services import endpoint_create, endpoint_provision
    from tests.registry.endpoint_fixtures import approve
    from tests.registry.fake_runtime import fake_runtime

    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    version = make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    rows = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}
    input_example_set(user=bob, version=version, value=rows)
    approve(version, submitter=bob, reviewer=dave)
    sent = []
    original = conformance._post
    monkeypatch.setattr(
        conformance, "_post", lambda url, body, *a: sent.append(body["inputs"]) or original(url, body, *a)
    )
    with fake_runtime(settings):
        ((endpoint, _),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0")
        endpoint_provision(endpoint_id=endpoint.pk, task_id="t")
    endpoint.refresh_from_db()
    assert endpoint.status == "ready", endpoint.status_reason
    assert "conformance check passed on the input example" in endpoint.status_reason
    assert sent == [rows["inputs"], rows["inputs"]]


def test_the_endpoint_page_shows_the_example_values(alice, bob, team, tmp_path, client):
    from marketplace.pages.endpoints import examples
    from registry.endpoints.models import Endpoint

    version = make_validated_version(alice, make_asset(alice, team, slug="clf"), tmp_path)
    rows = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}
    input_example_set(user=bob, version=version, value=rows)
    endpoint = Endpoint(name="clf-1-0-0", version=version, url="http://runtime:8081/v2/models/clf-1-0-0")
    shown = examples(endpoint, None, example_url="http://portal/api/x/input-example")
    assert shown["source"] == "input_example"
    assert '"data": [5.1, 3.5, 1.4, 0.2]' in shown["curl"] and "[5.1, 3.5, 1.4, 0.2]" in shown["tritonclient"]
    assert "[5.1, 3.5, 1.4, 0.2]" in shown["requests"]
    # The version page lists it with its first values.
    client.force_login(alice)
    page = client.get(f"/assets/{team.slug}/clf/?version=1.0.0").content.decode()
    assert "Input example" in page and "5.1, 3.5, 1.4, 0.2" in page


def test_a_large_example_is_fetched_by_the_snippets_not_inlined(alice, bob, team, tmp_path):
    from marketplace.pages.endpoints import examples
    from registry.endpoints.models import Endpoint

    version = make_validated_version(alice, make_asset(alice, team, slug="clf"), tmp_path)
    rows = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [100, 4], "data": [0.25] * 400}]}
    input_example_set(user=bob, version=version, value=rows)
    endpoint = Endpoint(name="clf-1-0-0", version=version, url="http://runtime:8081/v2/models/clf-1-0-0")
    url = "http://portal/api/v1/assets/vision/clf/versions/1.0.0/input-example"
    shown = examples(endpoint, "mhe_key", example_url=url)
    assert shown["source"] == "input_example_url"
    assert f"{url} -o input_example.json" in shown["curl"] and "-d @input_example.json" in shown["curl"]
    assert "0.25, 0.25" not in shown["curl"]
    compile(shown["requests"], "requests", "exec")
    compile(shown["tritonclient"], "tritonclient", "exec")
    assert shown["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [100, 4]}]

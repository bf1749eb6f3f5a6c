"""The conformance check against the real runtime app (its HTTP server, the in-process test host): every V2
datatype, strings included, passes; a runtime whose JSON and binary answers disagree fails."""

import pytest

from registry.endpoints.conformance import ConformanceFailure, conformance_check
from tests.registry.runtime.conftest import KEY, model_files, runtime  # noqa: F401  (fixtures)

DTYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "string",
}


@pytest.mark.parametrize("datatype", sorted(DTYPES))
def test_every_datatype_passes_on_the_runtime(runtime, datatype):
    tensor = {"dtype": DTYPES[datatype], "shape": [-1, 3]}
    summary = conformance_check(
        base_url=runtime.url,
        name=f"identity-{datatype.lower()}",
        signature={"inputs": [{"name": "x", **tensor}], "outputs": [{"name": "y", **tensor}]},
        expected_outputs=[{"name": "y", "dtype": DTYPES[datatype]}],
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert summary == {"inputs": ["x"], "outputs": ["y"], "inputs_from": "generated"}


def test_the_version_s_input_example_is_sent_instead_of_generated_values(runtime, monkeypatch):
    from registry.endpoints import conformance

    sent, post = [], conformance._post
    monkeypatch.setattr(conformance, "_post", lambda url, body, *a: sent.append(body["inputs"]) or post(url, body, *a))
    tensor = {"dtype": "int64", "shape": [-1, 3]}
    example = [{"name": "x", "datatype": "INT64", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}]
    summary = conformance_check(
        base_url=runtime.url,
        name="identity-int64",
        signature={"inputs": [{"name": "x", **tensor}], "outputs": [{"name": "y", **tensor}]},
        expected_outputs=[{"name": "y", "dtype": "int64"}],
        headers={"Authorization": f"Bearer {KEY}"},
        inputs=example,
    )
    assert summary["inputs_from"] == "input_example" and sent == [example, example]


def test_string_outputs_are_compared_between_json_and_binary(runtime, monkeypatch):
    from registry.runtime import protocol

    original = protocol._binary_bytes

    def tampered(array, datatype):
        raw = original(array, datatype)
        return raw[:-1] + b"b" if datatype == "BYTES" else raw  # "a" becomes "b" in binary answers only

    monkeypatch.setattr(protocol, "_binary_bytes", tampered)
    tensor = {"dtype": "string", "shape": [-1, 3]}
    with pytest.raises(ConformanceFailure, match="differs between the JSON and the binary answer"):
        conformance_check(
            base_url=runtime.url,
            name="identity-bytes",
            signature={"inputs": [{"name": "x", **tensor}], "outputs": [{"name": "y", **tensor}]},
            expected_outputs=[{"name": "y", "dtype": "string"}],
            headers={"Authorization": f"Bearer {KEY}"},
        )

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
    assert summary == {"inputs": ["x"], "outputs": ["y"]}


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

"""The check a new endpoint passes before it is `ready`: does the runtime serve the version that was validated?

Over the Open Inference Protocol (KServe V2): the model metadata must list the inputs and outputs of the
version's validated signature (names, datatypes, ranks, fixed dimensions); one JSON inference and one
binary-output inference (Triton's binary tensor extension) on the same inputs (the version's input example
when it has one, generated ones otherwise) must both answer 200 with the outputs validation's smoke inference
produced (names, datatypes), and agree.
"""

from __future__ import annotations

import json
import math

import numpy as np
import requests

from registry.examples.signature import V2_OF_DTYPE
from registry.runtime.interface import DATATYPES
from registry.runtime.protocol import ProtocolError, binary_tensor

MAX_GENERATED_ELEMENTS = 1_000_000
BINARY_HEADER = "Inference-Header-Content-Length"


class ConformanceFailure(Exception):
    """The endpoint does not serve the version as validated; str() says how, for the endpoint's owner."""


def v2_datatype(dtype: str) -> str | None:
    return V2_OF_DTYPE.get(dtype)


def generated_inputs(signature_inputs: list[dict], *, seed: int = 0) -> list[dict]:
    """V2 JSON input tensors built from a validated signature: free dimensions 1, floats seeded
    standard-normal, integers 0, booleans false, strings "a"."""
    rng = np.random.default_rng(seed)
    tensors, elements = [], 0
    for spec in signature_inputs:
        datatype = v2_datatype(spec.get("dtype", ""))
        if datatype is None:
            raise ConformanceFailure(
                f"input {spec.get('name')!r} has type {spec.get('dtype')}, which the check cannot generate"
            )
        shape = [dim if isinstance(dim, int) and dim >= 0 else 1 for dim in (spec.get("shape") or [])]
        count = math.prod(shape)
        elements += count
        if elements > MAX_GENERATED_ELEMENTS:
            raise ConformanceFailure(f"the inputs would need more than {MAX_GENERATED_ELEMENTS} generated values")
        if datatype in ("FP32", "FP64", "FP16"):
            data = [float(v) for v in rng.standard_normal(count).astype(DATATYPES[datatype])]
        elif datatype == "BYTES":
            data = ["a"] * count
        elif datatype == "BOOL":
            data = [False] * count
        else:
            data = [0] * count
        tensors.append({"name": spec["name"], "shape": shape, "datatype": datatype, "data": data})
    return tensors


def _compare_tensors(kind: str, expected: list[dict], served: list[dict]) -> None:
    served_by_name = {t.get("name"): t for t in served}
    missing = [s["name"] for s in expected if s["name"] not in served_by_name]
    if missing or len(served_by_name) != len(expected):
        raise ConformanceFailure(
            f"the served model's {kind} are {sorted(served_by_name)}, the validated version's "
            f"are {[s['name'] for s in expected]}"
        )
    for spec in expected:
        tensor = served_by_name[spec["name"]]
        datatype = v2_datatype(spec.get("dtype", ""))
        if datatype and tensor.get("datatype") != datatype:
            raise ConformanceFailure(
                f"{kind[:-1]} {spec['name']!r} is served as {tensor.get('datatype')}, validated as {datatype}"
            )
        shape = spec.get("shape")
        if shape is None:
            continue
        served_shape = list(tensor.get("shape") or [])
        if len(served_shape) != len(shape):
            raise ConformanceFailure(
                f"{kind[:-1]} {spec['name']!r} is served with shape {served_shape}, validated as {shape}"
            )
        for want, got in zip(shape, served_shape):
            if isinstance(want, int) and isinstance(got, int) and got >= 0 and want != got:
                raise ConformanceFailure(
                    f"{kind[:-1]} {spec['name']!r} is served with shape {served_shape}, validated as {shape}"
                )


def _post(url: str, body: dict, headers: dict, timeout: float) -> requests.Response:
    try:
        return requests.post(
            url, data=json.dumps(body), headers={**headers, "Content-Type": "application/json"}, timeout=timeout
        )
    except requests.RequestException as exc:
        raise ConformanceFailure(f"the inference request did not complete: {type(exc).__name__}") from exc


def _binary_outputs(response: requests.Response) -> dict[str, np.ndarray]:
    header_length = response.headers.get(BINARY_HEADER)
    if header_length is None:
        raise ConformanceFailure(f"the binary-output inference answered without the {BINARY_HEADER} header")
    body = response.content
    header = json.loads(body[: int(header_length)])
    offset, arrays = int(header_length), {}
    for output in header.get("outputs", []):
        size = (output.get("parameters") or {}).get("binary_data_size")
        if size is None:
            arrays[output["name"]] = np.asarray(output.get("data"))
            continue
        chunk = memoryview(body)[offset : offset + size]
        offset += size
        if output.get("datatype") not in DATATYPES:
            raise ConformanceFailure(f"output {output.get('name')!r} came back as {output.get('datatype')} in binary")
        try:
            arrays[output["name"]] = binary_tensor(
                chunk, output["name"], output["datatype"], tuple(output.get("shape") or []), role="output"
            )
        except ProtocolError as exc:
            raise ConformanceFailure(f"the binary answer cannot be read: {exc}") from None
    return arrays


def conformance_check(
    *,
    base_url: str,
    name: str,
    signature: dict,
    expected_outputs: list[dict],
    headers: dict,
    timeout: float = 60.0,
    inputs: list[dict] | None = None,
) -> dict:
    """Run the check against `{base_url}/v2/models/{name}`; returns a summary, or raises ConformanceFailure.

    `expected_outputs` are validation's smoke-inference outputs ({"name", "dtype"}), or the signature's
    outputs when validation did not run one. `inputs` are V2 JSON input tensors to send (the version's input
    example); without them, inputs are generated from the signature. The summary's `inputs_from` says which.
    """
    model_url = f"{base_url}/v2/models/{name}"
    try:
        metadata = requests.get(model_url, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise ConformanceFailure(f"the model metadata could not be read: {type(exc).__name__}") from exc
    if metadata.status_code != 200:
        raise ConformanceFailure(f"GET /v2/models/{name} answered {metadata.status_code}")
    meta = metadata.json()
    _compare_tensors("inputs", signature.get("inputs") or [], meta.get("inputs") or [])
    _compare_tensors("outputs", signature.get("outputs") or [], meta.get("outputs") or [])

    inputs_from = "input_example" if inputs is not None else "generated"
    inputs = list(inputs) if inputs is not None else generated_inputs(signature.get("inputs") or [])
    as_json = _post(f"{model_url}/infer", {"id": "conformance-json", "inputs": inputs}, headers, timeout)
    if as_json.status_code != 200:
        raise ConformanceFailure(f"the JSON inference answered {as_json.status_code}: {as_json.text[:300]}")
    json_outputs = {o["name"]: o for o in as_json.json().get("outputs", [])}
    as_binary = _post(
        f"{model_url}/infer",
        {"id": "conformance-binary", "inputs": inputs, "parameters": {"binary_data_output": True}},
        headers,
        timeout,
    )
    if as_binary.status_code != 200:
        raise ConformanceFailure(
            f"the binary-output inference answered {as_binary.status_code}: {as_binary.text[:300]}"
        )
    binary_outputs = _binary_outputs(as_binary)

    for spec in expected_outputs:
        out = json_outputs.get(spec["name"])
        if out is None or spec["name"] not in binary_outputs:
            raise ConformanceFailure(f"the inference did not return output {spec['name']!r}")
        datatype = v2_datatype(spec.get("dtype", ""))
        if datatype and out.get("datatype") != datatype:
            raise ConformanceFailure(
                f"output {spec['name']!r} came back as {out.get('datatype')}; validation's "
                f"smoke inference produced {datatype}"
            )
        if datatype == "BYTES":  # JSON carries strings, binary carries their UTF-8 bytes
            from_json = [value.encode() if isinstance(value, str) else value for value in out.get("data") or []]
            from_binary = binary_outputs[spec["name"]]
            if list(from_binary.shape) != list(out.get("shape") or []) or from_json != from_binary.reshape(-1).tolist():
                raise ConformanceFailure(f"output {spec['name']!r} differs between the JSON and the binary answer")
            continue
        from_json = np.asarray(out.get("data"), dtype=DATATYPES.get(datatype, np.dtype(np.float64))).reshape(
            out.get("shape")
        )
        from_binary = binary_outputs[spec["name"]]
        same = from_json.shape == from_binary.shape and (
            np.allclose(from_json, from_binary, rtol=1e-5, atol=1e-6, equal_nan=True)
            if from_json.dtype.kind == "f"
            else np.array_equal(from_json, from_binary)
        )
        if not same:
            raise ConformanceFailure(f"output {spec['name']!r} differs between the JSON and the binary answer")
    return {"inputs": [t["name"] for t in inputs], "outputs": sorted(json_outputs), "inputs_from": inputs_from}

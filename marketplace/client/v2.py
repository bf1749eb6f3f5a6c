"""Open Inference Protocol (KServe V2) requests and answers for `Client.predict`, with the binary tensor extension
for numpy arrays (`Inference-Header-Content-Length`). numpy is imported only here, and only when arrays are sent:
the client installs without it."""

from __future__ import annotations

import json

BINARY_HEADER = "Inference-Header-Content-Length"
_DATATYPES = {
    "float32": "FP32",
    "float64": "FP64",
    "float16": "FP16",
    "int64": "INT64",
    "int32": "INT32",
    "int16": "INT16",
    "int8": "INT8",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "bool": "BOOL",
}
_NUMPY = {v2: name for name, v2 in _DATATYPES.items()}


def encode(inputs: dict) -> tuple[bytes, dict]:
    """The request body and headers for `inputs`: {name: numpy array} (binary tensors), or a V2 JSON document with
    an `inputs` list (sent as it is)."""
    if "inputs" in inputs and isinstance(inputs["inputs"], list):
        return json.dumps({"parameters": {"binary_data_output": True}, **inputs}).encode(), {
            "Content-Type": "application/json"
        }
    import numpy as np

    described, payloads = [], []
    for name, value in inputs.items():
        array = np.ascontiguousarray(value)
        datatype = _DATATYPES.get(str(array.dtype))
        if datatype is None:
            raise ValueError(f"input '{name}' is {array.dtype}; send one of {', '.join(_DATATYPES)}")
        raw = array.tobytes()
        described.append(
            {
                "name": name,
                "shape": list(array.shape),
                "datatype": datatype,
                "parameters": {"binary_data_size": len(raw)},
            }
        )
        payloads.append(raw)
    header = json.dumps({"inputs": described, "parameters": {"binary_data_output": True}}).encode()
    return header + b"".join(payloads), {"Content-Type": "application/octet-stream", BINARY_HEADER: str(len(header))}


def tensor_json(name: str, value) -> dict:
    """One V2 JSON input (name, datatype, shape, flat data) of a numpy array."""
    import numpy as np

    array = np.asarray(value)
    datatype = _DATATYPES.get(str(array.dtype))
    if datatype is None:
        raise ValueError(f"input '{name}' is {array.dtype}; send one of {', '.join(_DATATYPES)}")
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": array.reshape(-1).tolist()}


def decode(body: bytes, headers) -> dict:
    """{output name: numpy array (binary outputs) or list (JSON outputs)}, and `id` under the key `"id"`."""
    length = headers.get(BINARY_HEADER)
    document = json.loads(body[: int(length)] if length else body)
    offset = int(length) if length else 0
    outputs: dict = {"id": document.get("id")}
    for output in document.get("outputs", []):
        size = (output.get("parameters") or {}).get("binary_data_size")
        if size is None:
            outputs[output["name"]] = output.get("data")
            continue
        import numpy as np

        raw = body[offset : offset + size]
        offset += size
        outputs[output["name"]] = np.frombuffer(raw, dtype=_NUMPY[output["datatype"]]).reshape(output["shape"])
    return outputs

"""Open Inference Protocol (KServe V2) REST codec with Triton's binary tensor data extension.

Pure functions over bytes, numpy and the contract's ModelInfo: no HTTP and no I/O, so the ASGI app
(registry.runtime.app) stays a thin router and every rule here is testable on its own.

Requests are checked against the model before the host sees them: names, datatypes, shapes (rank and every
fixed dimension), element counts and binary framing. Every refusal is a ProtocolError carrying the HTTP
status and a message for the caller; nothing a client sends may end in a 500.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from math import prod

import numpy as np
import orjson

from registry.runtime.interface import DATATYPES, PLATFORM, ModelInfo, TensorSpec

HEADER_LENGTH = "inference-header-content-length"

# Little-endian dtypes for the wire; BYTES is framed by hand (4-byte little-endian length + bytes).
_WIRE_DTYPES: dict[str, np.dtype] = {
    name: (dt.newbyteorder("<") if dt.itemsize > 1 else dt) for name, dt in DATATYPES.items() if name != "BYTES"
}
_DATATYPE_OF_KIND = {np.dtype(dt).str.lstrip("<>=|"): name for name, dt in _WIRE_DTYPES.items()}
_U32 = struct.Struct("<I")


class ProtocolError(Exception):
    """A request the protocol refuses; `status` is the HTTP status, str() the message for the caller."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class InferRequest:
    id: str | None
    inputs: dict[str, np.ndarray]
    output_names: list[str] | None  # None: every output of the model
    binary_outputs: dict[str, bool]  # per requested output; outputs not named use `binary_default`
    binary_default: bool


def datatype_of(array: np.ndarray) -> str:
    """The V2 datatype of a numpy array (object and str arrays are BYTES)."""
    kind = array.dtype.kind
    if kind in "OUS":
        return "BYTES"
    try:
        return _DATATYPE_OF_KIND[array.dtype.str.lstrip("<>=|")]
    except KeyError:
        raise ProtocolError(f"the model returned an unsupported dtype {array.dtype}", 500) from None


# ---------------------------------------------------------------------------------------------- metadata


def server_metadata(version: str, extensions: list[str]) -> bytes:
    return orjson.dumps({"name": "modelhub", "version": version, "extensions": extensions})


def model_metadata(info: ModelInfo) -> bytes:
    """The `GET /v2/models/{name}` document, computed once per loaded model."""

    def spec(tensor: TensorSpec) -> dict:
        return {"name": tensor.name, "datatype": tensor.datatype, "shape": list(tensor.shape)}

    return orjson.dumps(
        {
            "name": info.name,
            "versions": list(info.versions),
            "platform": info.platform or PLATFORM,
            "inputs": [spec(t) for t in info.inputs],
            "outputs": [spec(t) for t in info.outputs],
        }
    )


# ---------------------------------------------------------------------------------------------- requests


def parse_header_length(value: bytes | None, body_length: int) -> int | None:
    """The `Inference-Header-Content-Length` value, checked against the body."""
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        raise ProtocolError("Inference-Header-Content-Length must be an integer") from None
    if length < 0 or length > body_length:
        raise ProtocolError(f"Inference-Header-Content-Length {length} is outside the body of {body_length} bytes")
    return length


def parse_infer_request(body: bytes, header_length: int | None, info: ModelInfo) -> InferRequest:
    """Decode and check an infer request for `info`; raises ProtocolError (400) on anything wrong."""
    view = memoryview(body)
    json_part = view if header_length is None else view[:header_length]
    try:
        doc = orjson.loads(json_part)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"malformed JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ProtocolError("the request must be a JSON object")
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise ProtocolError("'id' must be a string")
    parameters = _object(doc.get("parameters"), "parameters")
    raw_inputs = doc.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise ProtocolError("'inputs' must be a non-empty list")

    specs = {t.name: t for t in info.inputs}
    offset = header_length if header_length is not None else len(body)
    inputs: dict[str, np.ndarray] = {}
    for raw in raw_inputs:
        if not isinstance(raw, dict):
            raise ProtocolError("each input must be a JSON object")
        name = raw.get("name")
        spec = specs.get(name) if isinstance(name, str) else None
        if spec is None:
            raise ProtocolError(f"unknown input {name!r} for model {info.name!r}; its inputs are {sorted(specs)}")
        if name in inputs:
            raise ProtocolError(f"input {name!r} is given twice")
        datatype = raw.get("datatype")
        if datatype != spec.datatype:
            raise ProtocolError(f"input {name!r} has datatype {datatype!r}; the model expects {spec.datatype}")
        shape = _shape(raw.get("shape"), spec)
        count = prod(shape)
        in_params = _object(raw.get("parameters"), f"parameters of input {name!r}")
        if in_params and "shared_memory_region" in in_params:
            raise ProtocolError(f"input {name!r} asks for shared memory, which this server does not offer")
        size = in_params.get("binary_data_size")
        if size is not None:
            if "data" in raw:
                raise ProtocolError(f"input {name!r} has both 'data' and parameters.binary_data_size")
            if header_length is None:
                raise ProtocolError(
                    f"input {name!r} has binary data but the request has no Inference-Header-Content-Length header"
                )
            if type(size) is not int or size < 0:
                raise ProtocolError(f"binary_data_size of input {name!r} must be a non-negative integer")
            if offset + size > len(body):
                raise ProtocolError(
                    f"binary data of input {name!r} ({size} bytes at offset {offset}) runs past "
                    f"the end of the body ({len(body)} bytes)"
                )
            inputs[name] = binary_tensor(view[offset : offset + size], name, datatype, shape)
            offset += size
        else:
            if "data" not in raw:
                raise ProtocolError(f"input {name!r} has no 'data' and no parameters.binary_data_size")
            inputs[name] = _json_tensor(raw["data"], name, datatype, shape, count)
    if offset != len(body):
        raise ProtocolError(
            f"the body has {len(body) - offset} bytes beyond the JSON header and the binary_data_size of the inputs"
        )
    missing = [t.name for t in info.inputs if t.name not in inputs]
    if missing:
        raise ProtocolError(f"missing input(s) {missing} for model {info.name!r}")

    binary_default = parameters.get("binary_data_output") is True
    raw_outputs = doc.get("outputs")
    output_names = None
    binary_outputs: dict[str, bool] = {}
    if raw_outputs is not None:
        if not isinstance(raw_outputs, list):
            raise ProtocolError("'outputs' must be a list")
        known = {t.name for t in info.outputs}
        output_names = []
        for raw in raw_outputs:
            name = raw.get("name") if isinstance(raw, dict) else None
            if name not in known:
                raise ProtocolError(f"unknown output {name!r} for model {info.name!r}; its outputs are {sorted(known)}")
            out_params = _object(raw.get("parameters"), f"parameters of output {name!r}")
            if "classification" in out_params or "shared_memory_region" in out_params:
                raise ProtocolError(
                    f"output {name!r} asks for an extension this server does not offer (classification, shared memory)"
                )
            binary = out_params.get("binary_data", binary_default)
            if not isinstance(binary, bool):
                raise ProtocolError(f"parameters.binary_data of output {name!r} must be true or false")
            output_names.append(name)
            binary_outputs[name] = binary
        if not output_names:
            output_names = None
    return InferRequest(request_id, inputs, output_names, binary_outputs, binary_default)


def _object(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"'{what}' must be a JSON object")
    return value


def _shape(raw, spec: TensorSpec) -> tuple[int, ...]:
    if type(raw) is not list:
        raise ProtocolError(f"the shape of input {spec.name!r} must be a list of non-negative integers")
    for got in raw:
        if type(got) is not int or got < 0:
            raise ProtocolError(f"the shape of input {spec.name!r} must be a list of non-negative integers")
    if len(raw) != len(spec.shape):
        raise ProtocolError(
            f"input {spec.name!r} has shape {raw}; the model expects rank {len(spec.shape)} {list(spec.shape)}"
        )
    for got, want in zip(raw, spec.shape):
        if want != -1 and got != want:
            raise ProtocolError(f"input {spec.name!r} has shape {raw}; the model expects {list(spec.shape)}")
    return tuple(raw)


def binary_tensor(buf: memoryview, name: str, datatype: str, shape: tuple[int, ...], role: str = "input") -> np.ndarray:
    """A tensor from its binary data (the binary tensor extension: raw little-endian values; BYTES elements
    each a 4-byte little-endian length and the bytes). Raises ProtocolError naming the `role` tensor `name`."""
    count = prod(shape)
    if datatype == "BYTES":
        items = []
        pos, end = 0, len(buf)
        while pos < end:
            if pos + 4 > end:
                raise ProtocolError(f"binary BYTES data of {role} {name!r} ends inside an element's length")
            (length,) = _U32.unpack_from(buf, pos)
            pos += 4
            if pos + length > end:
                raise ProtocolError(
                    f"binary BYTES data of {role} {name!r}: an element of {length} bytes runs past its binary_data_size"
                )
            items.append(bytes(buf[pos : pos + length]))
            pos += length
        return _bytes_tensor(items, name, shape, count, role)
    dtype = _WIRE_DTYPES[datatype]
    if len(buf) != count * dtype.itemsize:
        raise ProtocolError(
            f"{role} {name!r} has {len(buf)} bytes of binary data; shape {list(shape)} of "
            f"{datatype} needs {count * dtype.itemsize}"
        )
    array = np.frombuffer(buf, dtype=dtype)
    if datatype == "BOOL" and count and array.view(np.uint8).max() > 1:
        raise ProtocolError(f"binary BOOL data of {role} {name!r} has bytes other than 0 and 1")
    return array.reshape(shape)


def _bytes_tensor(items: list[bytes], name: str, shape: tuple[int, ...], count: int, role: str = "input") -> np.ndarray:
    if len(items) != count:
        raise ProtocolError(f"{role} {name!r} has {len(items)} BYTES elements; shape {list(shape)} needs {count}")
    array = np.empty(count, dtype=object)
    array[:] = items
    return array.reshape(shape)


def _json_tensor(data, name: str, datatype: str, shape: tuple[int, ...], count: int) -> np.ndarray:
    if not isinstance(data, list):
        data = [data]
    if datatype == "BYTES":
        return _bytes_tensor(_flat_strings(data, name), name, shape, count)
    dtype = DATATYPES[datatype]
    try:
        array = np.array(data)  # numpy picks the kind; checked against the datatype before the cast
    except (ValueError, TypeError, OverflowError) as exc:
        raise ProtocolError(f"the data of input {name!r} is not a (nested) list of {datatype} values: {exc}") from None
    if array.size != count:
        raise ProtocolError(f"input {name!r} has {array.size} elements; shape {list(shape)} needs {count}")
    if count and array.dtype.kind in "fO" and dtype.kind in "iu":
        # Floats, or integers past int64 that numpy made floats or kept as Python ints: only the latter pass,
        # and the cast checks their range.
        flat = np.array(data, dtype=object).reshape(-1)
        if not all(type(v) is int for v in flat):
            raise ProtocolError(f"the data of input {name!r} must be integers for {datatype}")
        try:
            array = np.array(flat.tolist(), dtype=dtype)
        except OverflowError:
            raise ProtocolError(f"the data of input {name!r} is outside the range of {datatype}") from None
        return array.reshape(shape)
    if count and array.dtype.kind not in _JSON_KINDS[dtype.kind]:
        raise ProtocolError(f"the data of input {name!r} must be {_JSON_WORDS[dtype.kind]} for {datatype}")
    if count and dtype.kind in "iu":
        limits = np.iinfo(dtype)
        if array.min() < limits.min or array.max() > limits.max:
            raise ProtocolError(
                f"the data of input {name!r} is outside the range of {datatype} [{limits.min}, {limits.max}]"
            )
    return array.astype(dtype, copy=False).reshape(shape)


# What numpy makes of JSON values that each datatype kind accepts: integers for integers, numbers for floats.
_JSON_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}
_JSON_WORDS = {"b": "true/false values", "i": "integers", "u": "integers", "f": "numbers"}


_MAX_NESTING = 64  # numpy's own limit on dimensions; also keeps the recursion below far from Python's


def _flat_strings(data: list, name: str, depth: int = 0) -> list[bytes]:
    if depth > _MAX_NESTING:
        raise ProtocolError(f"the data of input {name!r} is nested more than {_MAX_NESTING} deep")
    out: list[bytes] = []
    for value in data:
        if isinstance(value, str):
            out.append(value.encode())
        elif isinstance(value, list):
            out.extend(_flat_strings(value, name, depth + 1))
        else:
            raise ProtocolError(f"the data of BYTES input {name!r} must be strings")
    return out


# ---------------------------------------------------------------------------------------------- responses


def encode_infer_response(
    info: ModelInfo, request: InferRequest, outputs: dict[str, np.ndarray]
) -> tuple[bytes, int | None]:
    """The response body and, when any output is binary, the length of its JSON header."""
    names = request.output_names if request.output_names is not None else list(outputs)
    documents = []
    chunks: list[bytes] = []
    for name in names:
        array = outputs[name]
        datatype = datatype_of(array)
        doc = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if request.binary_outputs.get(name, request.binary_default):
            raw = _binary_bytes(array, datatype)
            doc["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        elif datatype == "BYTES":
            doc["data"] = [_text(v) for v in array.reshape(-1).tolist()]
        else:
            if not array.dtype.isnative:  # orjson writes native-endian arrays only
                array = array.astype(array.dtype.newbyteorder("="))
            doc["data"] = np.ascontiguousarray(array).reshape(-1)
        documents.append(doc)
    response = {"model_name": info.name, "model_version": info.versions[-1] if info.versions else "1"}
    if request.id is not None:
        response["id"] = request.id
    response["outputs"] = documents
    header = orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)


def _binary_bytes(array: np.ndarray, datatype: str) -> bytes:
    if datatype == "BYTES":
        parts = []
        for value in array.reshape(-1).tolist():
            raw = value.encode() if isinstance(value, str) else bytes(value)
            parts.append(_U32.pack(len(raw)))
            parts.append(raw)
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=_WIRE_DTYPES[datatype]).tobytes()


def _text(value) -> str:
    # JSON carries BYTES as text; bytes that are not UTF-8 are replaced rather than refused (binary
    # outputs carry them exactly).
    return value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")

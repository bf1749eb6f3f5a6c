"""The V2 codec on its own: decoding, checking and encoding, without HTTP."""

import json
import re
import struct

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.runtime.interface import DATATYPES, PLATFORM, ModelInfo, TensorSpec
from registry.runtime.protocol import (
    InferRequest,
    ProtocolError,
    encode_infer_response,
    model_metadata,
    parse_header_length,
    parse_infer_request,
)

VALUES = {
    "BOOL": [True, False, True],
    "UINT8": [0, 7, 255],
    "UINT16": [0, 7, 65535],
    "UINT32": [0, 7, 2**32 - 1],
    "UINT64": [0, 7, 2**64 - 1],
    "INT8": [-128, 0, 127],
    "INT16": [-32768, 0, 32767],
    "INT32": [-(2**31), 0, 2**31 - 1],
    "INT64": [-(2**63), 0, 2**63 - 1],
    "FP16": [0.5, -1.0, 65504.0],
    "FP32": [0.25, -1.5, 3e38],
    "FP64": [0.1, -1e300, 1e-300],
    "BYTES": ["a", "", "é✓"],
}


def info_for(datatype: str, shape=(-1, 3)) -> ModelInfo:
    return ModelInfo("m", ("1",), PLATFORM, (TensorSpec("x", datatype, shape),), (TensorSpec("y", datatype, shape),))


def request_doc(datatype: str, data, shape=(1, 3), **extra) -> dict:
    return {"inputs": [{"name": "x", "datatype": datatype, "shape": list(shape), "data": data}], **extra}


def binary_body(doc: dict, *chunks: bytes) -> tuple[bytes, int]:
    header = orjson.dumps(doc)
    return header + b"".join(chunks), len(header)


def wire(datatype: str, values) -> bytes:
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)
    return np.array(values, dtype=DATATYPES[datatype]).astype(DATATYPES[datatype].newbyteorder("<")).tobytes()


def test_every_datatype_round_trips_through_json_and_binary():
    assert set(VALUES) == set(DATATYPES)
    for datatype, values in VALUES.items():
        info = info_for(datatype)
        from_json = parse_infer_request(orjson.dumps(request_doc(datatype, values)), None, info).inputs["x"]
        doc = {
            "inputs": [
                {
                    "name": "x",
                    "datatype": datatype,
                    "shape": [1, 3],
                    "parameters": {"binary_data_size": len(wire(datatype, values))},
                }
            ]
        }
        body, length = binary_body(doc, wire(datatype, values))
        from_binary = parse_infer_request(body, length, info).inputs["x"]
        expected = [v.encode() for v in values] if datatype == "BYTES" else np.array(values, DATATYPES[datatype])
        for array in (from_json, from_binary):
            assert array.shape == (1, 3) and array.dtype == DATATYPES[datatype], datatype
            assert list(array.reshape(-1)) == list(expected), datatype

        request = InferRequest(None, {}, None, {}, binary_default=False)
        out = from_json if datatype != "BYTES" else np.array([values], dtype=object)
        body, header = encode_infer_response(info, request, {"y": out})
        assert header is None
        doc = orjson.loads(body)["outputs"][0]
        assert (doc["datatype"], doc["shape"]) == (datatype, [1, 3])
        assert doc["data"] == values, datatype

        request = InferRequest("r1", {}, None, {}, binary_default=True)
        body, header = encode_infer_response(info, request, {"y": out})
        doc = orjson.loads(body[:header])
        assert doc["id"] == "r1" and doc["outputs"][0]["parameters"]["binary_data_size"] == len(body) - header
        assert body[header:] == wire(datatype, values), datatype


def test_nested_json_data_and_json_bytes_as_text():
    info = info_for("FP32")
    array = parse_infer_request(orjson.dumps(request_doc("FP32", [[1, 2, 3], [4, 5, 6]], (2, 3))), None, info)
    assert array.inputs["x"].tolist() == [[1, 2, 3], [4, 5, 6]]
    strings = parse_infer_request(orjson.dumps(request_doc("BYTES", [["a", "b", "c"]])), None, info_for("BYTES"))
    assert strings.inputs["x"].tolist() == [[b"a", b"b", b"c"]]


def test_output_selection_and_per_output_binary_flag():
    info = ModelInfo(
        "m",
        ("1",),
        PLATFORM,
        (TensorSpec("x", "FP32", (-1,)),),
        (TensorSpec("a", "FP32", (-1,)), TensorSpec("b", "INT64", (-1,))),
    )
    doc = {
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [2], "data": [1, 2]}],
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "b"}, {"name": "a", "parameters": {"binary_data": False}}],
    }
    request = parse_infer_request(orjson.dumps(doc), None, info)
    assert request.output_names == ["b", "a"] and request.binary_outputs == {"b": True, "a": False}
    body, header = encode_infer_response(
        info, request, {"a": np.array([1, 2], np.float32), "b": np.array([3, 4], np.int64)}
    )
    outputs = orjson.loads(body[:header])["outputs"]
    assert [o["name"] for o in outputs] == ["b", "a"]
    assert outputs[0]["parameters"] == {"binary_data_size": 16} and outputs[1]["data"] == [1.0, 2.0]
    assert np.frombuffer(body[header:], "<i8").tolist() == [3, 4]
    request.binary_outputs["b"] = False
    body, header = encode_infer_response(info, request, {"a": np.array([1, 2], ">f4"), "b": np.array([3, 4], ">i8")})
    assert header is None and [o["data"] for o in orjson.loads(body)["outputs"]] == [[3, 4], [1.0, 2.0]]


def test_metadata_document():
    info = ModelInfo("m", ("1", "2"), PLATFORM, (TensorSpec("x", "FP32", (-1, 3)),), (TensorSpec("y", "BYTES", (-1,)),))
    assert orjson.loads(model_metadata(info)) == {
        "name": "m",
        "versions": ["1", "2"],
        "platform": "onnx_onnxv1",
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3]}],
        "outputs": [{"name": "y", "datatype": "BYTES", "shape": [-1]}],
    }


BAD_JSON_REQUESTS = [
    (b"{not json", "malformed JSON"),
    (b"[]", "JSON object"),
    (orjson.dumps({"inputs": []}), "non-empty list"),
    (orjson.dumps(request_doc("FP32", [1, 2, 3]) | {"id": 5}), "'id'"),
    (
        orjson.dumps({"inputs": [{"name": "nope", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}]}),
        "unknown input 'nope'",
    ),
    (orjson.dumps(request_doc("FP64", [1, 2, 3])), "datatype 'FP64'; the model expects FP32"),
    (orjson.dumps(request_doc("FP32", [1, 2, 3], (3,))), "rank 2"),
    (orjson.dumps(request_doc("FP32", [1, 2, 3, 4], (1, 4))), "the model expects [-1, 3]"),
    (orjson.dumps(request_doc("FP32", [1, 2, 3], (1, -3))), "non-negative integers"),
    (orjson.dumps(request_doc("FP32", [1, 2], (1, 3))), "has 2 elements; shape [1, 3] needs 3"),
    (orjson.dumps(request_doc("FP32", [[1, 2], [3]], (1, 3))), "not a (nested) list of FP32"),
    (orjson.dumps(request_doc("FP32", ["a", "b", "c"])), "must be numbers for FP32"),
    (orjson.dumps(request_doc("FP32", [1, "2", 3])), "must be numbers for FP32"),
    (orjson.dumps(request_doc("FP32", [1, None, 3])), "must be numbers for FP32"),
    (orjson.dumps(request_doc("FP32", [1, 2, 3]) | {"outputs": [{"name": "z"}]}), "unknown output 'z'"),
    (orjson.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3]}]}), "no 'data'"),
    (orjson.dumps({"inputs": [request_doc("FP32", [1, 2, 3])["inputs"][0]] * 2}), "given twice"),
    (
        orjson.dumps(
            {"inputs": [{**request_doc("FP32", [1, 2, 3])["inputs"][0], "parameters": {"shared_memory_region": "r"}}]}
        ),
        "shared memory",
    ),
    (
        orjson.dumps(
            request_doc("FP32", [1, 2, 3]) | {"outputs": [{"name": "y", "parameters": {"classification": 2}}]}
        ),
        "classification",
    ),
]


@pytest.mark.parametrize("body, message", BAD_JSON_REQUESTS)
def test_bad_requests_are_refused_with_a_message(body, message):
    with pytest.raises(ProtocolError) as caught:
        parse_infer_request(body, None, info_for("FP32"))
    assert caught.value.status == 400 and message in str(caught.value)


def test_missing_input_wrong_bool_and_overflow_are_refused():
    two = ModelInfo("m", ("1",), PLATFORM, (TensorSpec("x", "FP32", (-1,)), TensorSpec("z", "FP32", (-1,))), ())
    with pytest.raises(ProtocolError, match=r"missing input\(s\) \['z'\]"):
        parse_infer_request(orjson.dumps(request_doc("FP32", [1], (1,))), None, two)
    with pytest.raises(ProtocolError, match="true/false"):
        parse_infer_request(orjson.dumps(request_doc("BOOL", [1, 0, 1])), None, info_for("BOOL"))
    for datatype, values, message in (
        ("UINT8", [1, 2, 256], "outside the range of UINT8"),
        ("INT8", [-129, 0, 1], "outside the range of INT8"),
        ("UINT64", [-1, 0, 2**64 - 1], "outside the range of UINT64"),
        ("INT64", [1, 2, 2**63], "outside the range of INT64"),
        ("INT64", [1, 2, 1.5], "must be integers"),
        ("UINT64", [1.5, 0, 2**64 - 1], "must be integers"),
    ):
        with pytest.raises(ProtocolError, match=message):
            parse_infer_request(orjson.dumps(request_doc(datatype, values)), None, info_for(datatype))
    ints = parse_infer_request(orjson.dumps(request_doc("FP64", [1, 2, 3])), None, info_for("FP64"))
    assert ints.inputs["x"].dtype == np.float64  # integers are numbers
    with pytest.raises(ProtocolError, match="must be strings"):
        parse_infer_request(orjson.dumps(request_doc("BYTES", [1, 2, 3])), None, info_for("BYTES"))


def test_bad_binary_framing_is_refused():
    info = info_for("FP32")
    doc = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3], "parameters": {"binary_data_size": 12}}]}
    good, length = binary_body(doc, wire("FP32", [1, 2, 3]))
    assert parse_infer_request(good, length, info).inputs["x"].tolist() == [[1, 2, 3]]
    cases = [
        (good + b"x", length, "1 bytes beyond"),  # sizes do not add up
        (good[:-1], length, "runs past the end"),
        (good[:length], None, "no Inference-Header-Content-Length"),
    ]
    short, short_length = binary_body(
        {"inputs": [{**doc["inputs"][0], "parameters": {"binary_data_size": 8}}]}, wire("FP32", [1, 2])
    )
    cases.append((short, short_length, "8 bytes of binary data; shape [1, 3] of FP32 needs 12"))
    both, both_length = binary_body({"inputs": [{**doc["inputs"][0], "data": [1, 2, 3]}]}, wire("FP32", [1, 2, 3]))
    cases.append((both, both_length, "both 'data'"))
    negative, negative_length = binary_body({"inputs": [{**doc["inputs"][0], "parameters": {"binary_data_size": -1}}]})
    cases.append((negative, negative_length, "non-negative integer"))
    for body, header, message in cases:
        with pytest.raises(ProtocolError, match=re.escape(message)):
            parse_infer_request(body, header, info)
    for value, message in ((b"abc", "must be an integer"), (b"999", "outside the body"), (b"-1", "outside")):
        with pytest.raises(ProtocolError, match=message):
            parse_header_length(value, len(good))


def test_bad_bytes_and_bool_framing_is_refused():
    info = info_for("BYTES")
    doc = {"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1, 3], "parameters": {"binary_data_size": 0}}]}
    for raw, message in (
        (wire("BYTES", ["a", "b"]), "2 BYTES elements; shape \\[1, 3\\] needs 3"),
        (wire("BYTES", ["a", "b", "c"])[:-1], "runs past"),
        (wire("BYTES", ["a", "b", "c"]) + b"\x01\x00", "ends inside an element's length"),
    ):
        doc["inputs"][0]["parameters"]["binary_data_size"] = len(raw)
        body, length = binary_body(doc, raw)
        with pytest.raises(ProtocolError, match=message):
            parse_infer_request(body, length, info)
    doc = {"inputs": [{"name": "x", "datatype": "BOOL", "shape": [1, 3], "parameters": {"binary_data_size": 3}}]}
    body, length = binary_body(doc, b"\x01\x00\x02")
    with pytest.raises(ProtocolError, match="other than 0 and 1"):
        parse_infer_request(body, length, info_for("BOOL"))


@pytest.mark.parametrize("datatype, leaf", [("BYTES", b'"a"'), ("BOOL", b"true"), ("FP32", b"1")])
def test_deeply_nested_data_is_400_not_a_crash(datatype, leaf):
    depth = 1020  # orjson accepts it; Python's recursion limit (1000) would not
    body = (
        b'{"inputs":[{"name":"x","datatype":"%s","shape":[1,3],"data":' % datatype.encode()
        + b"[" * depth
        + leaf
        + b"]" * depth
        + b"}]}"
    )
    with pytest.raises(ProtocolError):
        parse_infer_request(body, None, info_for(datatype))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)
_input = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["x", "y", 1]),
        "datatype": st.sampled_from([*DATATYPES, "FP8", 3]),
        "shape": st.lists(st.integers(-2, 4), max_size=3) | _json,
        "data": _json,
        "parameters": st.fixed_dictionaries({}, optional={"binary_data_size": st.integers(-2, 64) | _json}) | _json,
    },
)
_request = st.fixed_dictionaries(
    {},
    optional={
        "id": _json,
        "inputs": st.lists(_input, max_size=3) | _json,
        "parameters": _json,
        "outputs": st.lists(
            st.fixed_dictionaries({"name": st.sampled_from(["y", "z"]), "parameters": _json}), max_size=2
        )
        | _json,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=_request, tail=st.binary(max_size=40), datatype=st.sampled_from(sorted(DATATYPES)))
def test_any_request_is_decoded_or_refused_with_a_protocol_error(doc, tail, datatype):
    header = json.dumps(doc).encode()  # the standard library writes big integers and NaN too
    for body, length in ((header, None), (header + tail, len(header))):
        try:
            parse_infer_request(body, length, info_for(datatype))
        except ProtocolError as exc:
            assert exc.status == 400

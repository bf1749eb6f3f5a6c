"""The framing between the model host and a model worker: explicit, and never pickle.

A frame is `<u64 length><u32 header length><header JSON><tensor buffers>`. The header is a JSON object
whose "tensors" list names each tensor after it ({"name", "datatype", "shape", "nbytes"}, in order); a
tensor's buffer is its C-order raw bytes, or for BYTES a sequence of `<u32 length><item>` entries.
Decoding checks every size against the header, so a worker that sends garbage (it runs an untrusted
graph) produces a FrameError for the host, never an arbitrary object.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping

import numpy as np
import orjson

from registry.runtime.interface import DATATYPES

FRAME_LENGTH = struct.Struct("<Q")
_HEADER_LENGTH = struct.Struct("<I")
_ITEM_LENGTH = struct.Struct("<I")
MAX_HEADER_BYTES = 16 << 20
MAX_FRAME_BYTES = 16 << 30

_DATATYPE_OF = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}


class FrameError(ValueError):
    """A frame that does not match its own header."""


def datatype_of(dtype: np.dtype) -> str:
    if dtype.kind in "OSU":
        return "BYTES"
    try:
        return _DATATYPE_OF[dtype.newbyteorder("=")]
    except KeyError:
        raise FrameError(f"numpy dtype {dtype} has no V2 datatype") from None


def _pack_bytes(array: np.ndarray) -> bytes:
    parts = []
    for item in array.reshape(-1):
        if isinstance(item, str):
            item = item.encode()
        elif not isinstance(item, bytes | bytearray | memoryview):
            item = str(item).encode()
        parts.append(_ITEM_LENGTH.pack(len(item)))
        parts.append(bytes(item))
    return b"".join(parts)


def _unpack_bytes(buffer: memoryview, count: int) -> np.ndarray:
    items = np.empty(count, dtype=object)
    offset = 0
    for index in range(count):
        if offset + _ITEM_LENGTH.size > len(buffer):
            raise FrameError("a BYTES tensor ends early")
        (length,) = _ITEM_LENGTH.unpack_from(buffer, offset)
        offset += _ITEM_LENGTH.size
        if offset + length > len(buffer):
            raise FrameError("a BYTES item runs past its tensor")
        items[index] = bytes(buffer[offset : offset + length])
        offset += length
    if offset != len(buffer):
        raise FrameError("a BYTES tensor has trailing bytes")
    return items


def encode(header: Mapping, tensors: Mapping[str, np.ndarray] | None = None) -> list[bytes | memoryview]:
    """The frame as a list of buffers to write in order (numeric tensors are not copied when contiguous)."""
    specs, buffers = [], []
    for name, array in (tensors or {}).items():
        array = np.asarray(array)
        datatype = datatype_of(array.dtype)
        if datatype == "BYTES":
            data: bytes | memoryview = _pack_bytes(array)
        else:
            flat = np.ascontiguousarray(array).reshape(-1)
            data = flat.view(np.uint8).data if flat.size else b""
        specs.append({"name": name, "datatype": datatype, "shape": list(array.shape), "nbytes": len(data)})
        buffers.append(data)
    head = orjson.dumps({**header, "tensors": specs})
    length = _HEADER_LENGTH.size + len(head) + sum(spec["nbytes"] for spec in specs)
    return [FRAME_LENGTH.pack(length) + _HEADER_LENGTH.pack(len(head)) + head, *buffers]


def decode(payload: bytes | bytearray | memoryview) -> tuple[dict, dict[str, np.ndarray]]:
    """A frame's payload (everything after its length) -> (header, tensors). Raises FrameError."""
    view = memoryview(payload)
    if len(view) < _HEADER_LENGTH.size:
        raise FrameError("a frame shorter than its header length")
    (head_length,) = _HEADER_LENGTH.unpack_from(view)
    if head_length > min(MAX_HEADER_BYTES, len(view) - _HEADER_LENGTH.size):
        raise FrameError("a frame header runs past its frame")
    offset = _HEADER_LENGTH.size + head_length
    try:
        header = orjson.loads(view[_HEADER_LENGTH.size : offset])
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"a frame header is not JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("tensors", []), list):
        raise FrameError("a frame header is not an object with a tensor list")
    tensors = {}
    for spec in header.pop("tensors", []):
        try:
            name, datatype, shape, nbytes = spec["name"], spec["datatype"], tuple(spec["shape"]), spec["nbytes"]
            dtype = DATATYPES[datatype]
        except (KeyError, TypeError):
            raise FrameError(f"a bad tensor description: {spec!r}") from None
        if (
            not all(isinstance(dim, int) and dim >= 0 for dim in shape)
            or not isinstance(nbytes, int)
            or nbytes < 0
            or offset + nbytes > len(view)
        ):
            raise FrameError(f"tensor {name!r} does not fit its frame")
        buffer = view[offset : offset + nbytes]
        offset += nbytes
        count = math.prod(shape)
        if datatype == "BYTES":
            array = _unpack_bytes(buffer, count)
        else:
            if nbytes != count * dtype.itemsize:
                raise FrameError(f"tensor {name!r} has {nbytes} bytes for shape {list(shape)}")
            array = np.frombuffer(buffer, dtype=dtype, count=count)
        tensors[name] = array.reshape(shape)
    if offset != len(view):
        raise FrameError("a frame has trailing bytes")
    return header, tensors

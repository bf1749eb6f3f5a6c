"""Model files Modelhub catalogues but does not serve, read only as data: never loaded, unpickled or executed.

- safetensors: the 8-byte header length and the JSON header (tensor names, dtypes, shapes, offsets, metadata),
  checked against the file's size; the parameter count is summed from the shapes.
- GGUF: the magic, version, tensor and key-value counts, and the key-value metadata (architecture, name,
  quantisation file type, context length), read field by field with every length bounded.
- pickle-based files (PyTorch .pt/.pth/.bin/.ckpt, joblib, .pkl): scanned statically by picklescan for imports
  that would run code when unpickled (os, subprocess, builtins.eval, ...); a zip (PyTorch's format) is scanned
  member by member. What it finds is reported; the version is invalid unless MODELHUB_ALLOW_UNSAFE_PICKLES.
- Keras (.keras, .h5) and anything else: stored and hashed, reported as not inspected.

Each reader raises FormatInvalid with a message for the uploader; nothing here trusts a length or a count read
from the file without checking it against the file's size and a cap. Run in the validation sandbox's child
(registry/validation/sandbox.py), under its memory and time limits.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

SAFETENSORS_HEADER_MAX = 100 * 1024**2  # the format's own limit
SAFETENSORS_DTYPES = {
    "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64",
}  # fmt: skip
GGUF_MAGIC = b"GGUF"
GGUF_MAX_KV = 100_000
GGUF_MAX_STRING = 16 * 1024**2
GGUF_MAX_ARRAY = 50_000_000
# llama.cpp's LLAMA_FTYPE values (general.file_type): the quantisation of most tensors.
GGUF_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
}  # fmt: skip
_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9
METADATA_KEEP = 50  # metadata entries kept in the report

FORMATS = {
    ".onnx": "onnx",
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".bin": "pytorch",
    ".ckpt": "pytorch",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".keras": "keras",
    ".h5": "keras",
}
# The file that stands for a version without an .onnx file, by precedence.
PRIMARY_PRECEDENCE = ("safetensors", "gguf", "pytorch", "keras", "joblib", "pickle")
PICKLE_FORMATS = frozenset({"pytorch", "pickle", "joblib"})


class FormatInvalid(ValueError):
    """The file is not what its name says, or is malformed; str() says how, for the uploader."""


def model_format(path: str) -> str | None:
    return FORMATS.get(Path(path).suffix.lower())


def primary_model_file(paths: list[str]) -> str | None:
    """The file a model version is catalogued by: its .onnx file (served), else the first weights file by
    PRIMARY_PRECEDENCE (catalogued only); None when it has none of them."""
    onnx = [p for p in paths if model_format(p) == "onnx"]
    if onnx:
        return onnx[0]
    for wanted in PRIMARY_PRECEDENCE:
        for path in sorted(paths):
            if model_format(path) == wanted:
                return path
    return None


# --- safetensors -------------------------------------------------------------------------------------------------


def read_safetensors(path: Path) -> dict:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise FormatInvalid("not a safetensors file: shorter than its 8-byte header length")
        (length,) = struct.unpack("<Q", head)
        if length > min(SAFETENSORS_HEADER_MAX, size - 8):
            raise FormatInvalid(f"not a safetensors file: a header of {length} bytes in a file of {size}")
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatInvalid(f"the safetensors header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise FormatInvalid("the safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    data_size = size - 8 - length
    dtypes: dict[str, int] = {}
    parameters = 0
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise FormatInvalid(f"tensor {name[:80]!r}: not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in SAFETENSORS_DTYPES:
            raise FormatInvalid(f"tensor {name[:80]!r}: unknown dtype {str(dtype)[:20]!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise FormatInvalid(f"tensor {name[:80]!r}: the shape is not a list of sizes")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise FormatInvalid(f"tensor {name[:80]!r}: data_offsets is not [begin, end]")
        begin, end = offsets
        if not 0 <= begin <= end <= data_size:
            raise FormatInvalid(f"tensor {name[:80]!r}: its data [{begin}, {end}) lies outside the file")
        spans.append((begin, end))
        dtypes[dtype] = dtypes.get(dtype, 0) + 1
        parameters += math.prod(shape)
    spans.sort()
    if any(a_end > b_begin for (_, a_end), (b_begin, _) in zip(spans, spans[1:])):
        raise FormatInvalid("two tensors' data overlap")
    return {
        "format": "safetensors",
        "tensors": len(header),
        "parameters": parameters,
        "dtypes": dict(sorted(dtypes.items())),
        "metadata": {str(k)[:100]: str(v)[:500] for k, v in list(metadata.items())[:METADATA_KEEP]},
    }


# --- GGUF --------------------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, handle, size: int):
        self.handle, self.size = handle, size

    def take(self, count: int) -> bytes:
        data = self.handle.read(count)
        if len(data) != count:
            raise FormatInvalid("the GGUF header ends before its last field")
        return data

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.unpack("<Q")
        if length > min(GGUF_MAX_STRING, self.size):
            raise FormatInvalid(f"a GGUF string of {length} bytes")
        return self.take(length).decode("utf-8", errors="replace")

    def skip(self, count: int) -> None:
        if self.handle.tell() + count > self.size:
            raise FormatInvalid("the GGUF header ends before its last field")
        self.handle.seek(count, 1)

    def value(self, kind: int):
        if kind in _GGUF_SCALARS:
            return self.unpack(_GGUF_SCALARS[kind])
        if kind == _GGUF_STRING:
            return self.string()
        if kind == _GGUF_ARRAY:
            item_kind, count = self.unpack("<I"), self.unpack("<Q")
            if count > GGUF_MAX_ARRAY:
                raise FormatInvalid(f"a GGUF array of {count} items")
            if item_kind in _GGUF_SCALARS:  # skipped in one seek: a tokenizer's scores, token types
                self.skip(count * struct.calcsize(_GGUF_SCALARS[item_kind]))
            else:
                for _ in range(count):
                    self.value(item_kind)
            return f"[{count} items]"
        raise FormatInvalid(f"unknown GGUF value type {kind}")


def read_gguf(path: Path) -> dict:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        reader = _Reader(handle, size)
        if reader.take(4) != GGUF_MAGIC:
            raise FormatInvalid("not a GGUF file: no GGUF magic")
        version = reader.unpack("<I")
        if version not in (2, 3):
            raise FormatInvalid(f"GGUF version {version} is not one this reader knows (2, 3)")
        tensors, kv_count = reader.unpack("<Q"), reader.unpack("<Q")
        if kv_count > GGUF_MAX_KV or tensors > size:
            raise FormatInvalid(f"GGUF counts out of range ({tensors} tensors, {kv_count} metadata entries)")
        metadata = {}
        for _ in range(kv_count):
            key = reader.string()
            value = reader.value(reader.unpack("<I"))
            if len(metadata) < 10 * METADATA_KEEP:
                metadata[key[:200]] = value if not isinstance(value, str) else value[:500]
    architecture = metadata.get("general.architecture")
    file_type = metadata.get("general.file_type")
    return {
        "format": "gguf",
        "gguf_version": version,
        "tensors": tensors,
        "architecture": architecture,
        "name": metadata.get("general.name"),
        "quantisation": GGUF_FILE_TYPES.get(file_type, f"type {file_type}") if file_type is not None else None,
        "context_length": metadata.get(f"{architecture}.context_length") if architecture else None,
        "metadata": dict(list(metadata.items())[:METADATA_KEEP]),
    }


# --- pickles -----------------------------------------------------------------------------------------------------


def scan_pickles(path: Path) -> dict:
    """picklescan's static scan (it reads opcodes, it never unpickles): the globals imported and those it deems
    dangerous, for a pickle, a zip of pickles (PyTorch) or a numpy file holding one."""
    from picklescan.scanner import SafetyLevel, scan_file_path

    result = scan_file_path(str(path))
    dangerous = sorted(
        {f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Dangerous}, key=str.lower
    )
    suspicious = sorted(
        {f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Suspicious}, key=str.lower
    )
    return {
        "scanner": "picklescan",
        "imports": len(result.globals),
        "dangerous": dangerous[:100],
        "suspicious": suspicious[:100],
        "scan_errors": bool(result.scan_err),
    }


def inspect_model_file(path: Path, name: str) -> dict:
    """What can be read safely of one model file, by its format; FormatInvalid for a malformed one."""
    kind = model_format(name)
    if kind == "safetensors":
        return read_safetensors(path)
    if kind == "gguf":
        return read_gguf(path)
    if kind in PICKLE_FORMATS:
        return {"format": kind, "pickle_scan": scan_pickles(path)}
    return {"format": kind or "unknown", "inspected": False}

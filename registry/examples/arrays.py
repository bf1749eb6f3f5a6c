"""Input examples as data: parsed from an .npz of named arrays or from V2 JSON inputs, checked, and written back
as one canonical .npz (what is stored) and as V2 JSON (what the API, the endpoint check and the portal show).

Parsing never executes or unpickles anything: an .npz is read member by member with numpy's .npy reader and
`allow_pickle=False`, after its zip directory and each array's header have been checked against the size
limit (so a small archive cannot unpack into a huge array, and an object array is refused before numpy reads
it); JSON is parsed strictly (registry.kernel.lib.json_input). Every refusal is an InvalidInput (or a
PayloadTooLarge) whose message says what is wrong with which tensor.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from numpy.lib import format as npy

from registry.kernel.errors import InvalidInput, PayloadTooLarge
from registry.kernel.lib.json_input import JSONRejected, check_json_document, parse_json

FIELD = "input_example"
MAX_TENSORS = 128
NAME_MAX_BYTES = 256
MAX_RANK = 32
# Values of each tensor kept with the summary (what the version page shows), and the most values an example
# may have for the portal's copy-paste snippets to carry it inline (larger ones are fetched from the API).
HEAD_VALUES = 8
INLINE_MAX_VALUES = 256

# V2 datatype -> numpy dtype. BYTES are text here (numpy unicode arrays): what JSON carries.
NUMPY_OF_V2 = {
    "BOOL": np.dtype(np.bool_),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
}
_V2_OF_KIND = {("b", 1): "BOOL", **{(d.kind, d.itemsize): v2 for v2, d in NUMPY_OF_V2.items() if d.kind != "b"}}
_V2_KEYS = {"inputs", "id", "parameters", "outputs"}  # the keys of a V2 inference request
_TENSOR_KEYS = {"name", "datatype", "shape", "data", "parameters"}
_ZIP_MAGIC = b"PK\x03\x04"
_CANONICAL_DATE = (1980, 1, 1, 0, 0, 0)


def max_bytes() -> int:
    return settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(f"{FIELD}: {message}", field=FIELD)


def _too_large(what: str, size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{FIELD}: {what} ({size} bytes) is over the limit of {max_bytes()} bytes "
        "(MODELHUB_INPUT_EXAMPLE_MAX_BYTES); an example needs only a few rows.",
        field=FIELD,
    )


@dataclass(frozen=True)
class ExampleArrays:
    """The named arrays of an example, in order: native byte order, datatypes of V2, text as numpy unicode."""

    arrays: tuple[tuple[str, np.ndarray], ...]

    def tensors(self) -> list[dict]:
        """[{"name", "datatype", "shape"}]: what the signature check and the summary need."""
        return [
            {"name": name, "datatype": datatype_of(array), "shape": list(array.shape)} for name, array in self.arrays
        ]

    def summary(self) -> list[dict]:
        """The tensors with their number of values and the first HEAD_VALUES of them, for pages and the API."""
        return [
            {**tensor, "values": int(array.size), "head": _values(array.reshape(-1)[:HEAD_VALUES])}
            for tensor, (_, array) in zip(self.tensors(), self.arrays)
        ]

    @property
    def value_count(self) -> int:
        return sum(array.size for _, array in self.arrays)

    def v2_inputs(self) -> list[dict]:
        """V2 JSON input tensors (row-major flat `data`): the body of an inference request."""
        return [
            {**tensor, "data": _values(array.reshape(-1))} for tensor, (_, array) in zip(self.tensors(), self.arrays)
        ]

    def npz_bytes(self) -> bytes:
        """The canonical .npz: one .npy per tensor in order, deflated, fixed timestamps (same arrays, same bytes)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in self.arrays:
                member = io.BytesIO()
                npy.write_array(member, array, allow_pickle=False)
                archive.writestr(
                    zipfile.ZipInfo(f"{name}.npy", date_time=_CANONICAL_DATE), member.getvalue(), zipfile.ZIP_DEFLATED
                )
        return buffer.getvalue()


def datatype_of(array: np.ndarray) -> str:
    if array.dtype.kind == "U":
        return "BYTES"
    return _V2_OF_KIND[(array.dtype.kind, array.dtype.itemsize)]


def _values(flat: np.ndarray) -> list:
    if flat.dtype.kind == "f" and flat.dtype.itemsize < 8:
        # The shortest text that reads back as the same float32 (0.1, not 0.10000000149011612).
        return [float(text) for text in flat.astype(str)]
    return flat.tolist()


# --- parsing -----------------------------------------------------------------------------------------


def example_parse(value) -> ExampleArrays | None:
    """An example as given at upload or to the API: None; a staged file (anything with `path`, `name` and
    `size`: an .npz or a .json); bytes or text (.npz or JSON by content); or parsed V2 JSON (a dict).

    Raises InvalidInput (PayloadTooLarge over MODELHUB_INPUT_EXAMPLE_MAX_BYTES) saying what is wrong.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        return v2_parse(value)
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return _parse_bytes(bytes(value), name="")
    path, size = getattr(value, "path", None), getattr(value, "size", None)
    if path is None or size is None:
        raise _invalid("expected an .npz of named arrays or V2 JSON inputs.")
    if size > max_bytes():
        raise _too_large("the file", size)
    return _parse_bytes(Path(path).read_bytes(), name=getattr(value, "name", "") or "")


def _parse_bytes(data: bytes, *, name: str) -> ExampleArrays:
    if len(data) > max_bytes():
        raise _too_large("the example", len(data))
    if not data.strip():
        raise _invalid("the example is empty.")
    lower = name.lower()
    if lower.endswith(".npz") or (not lower.endswith(".json") and data.startswith(_ZIP_MAGIC)):
        return npz_parse(data)
    if lower.endswith(".json") or data.lstrip()[:1] == b"{":
        try:
            document = parse_json(data)
        except JSONRejected as exc:
            raise _invalid(f"not valid V2 JSON inputs: {exc}") from None
        return v2_parse(document)
    raise _invalid(
        f"{name or 'the example'} is neither an .npz of named arrays nor V2 JSON inputs "
        '({"inputs": [{"name", "datatype", "shape", "data"}]}).'
    )


def _check_name(name, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise _invalid(f"{where} has no name; every tensor is named after the model input it feeds.")
    if len(name.encode()) > NAME_MAX_BYTES:
        raise _invalid(f"{where}: the name is longer than {NAME_MAX_BYTES} bytes.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _invalid(f"{where}: the name {name[:40]!r} contains control characters.")
    return name


def _check_count(names: list[str]) -> None:
    if not names:
        raise _invalid("the example holds no tensors.")
    if len(names) > MAX_TENSORS:
        raise _invalid(f"the example holds {len(names)} tensors; at most {MAX_TENSORS} are taken.")
    seen = set()
    for name in names:
        if name in seen:
            raise _invalid(f"two tensors are named {name[:40]!r}.")
        seen.add(name)


def _check_total(arrays: list[tuple[str, np.ndarray]]) -> ExampleArrays:
    total = sum(array.nbytes for _, array in arrays)
    if total > max_bytes():
        raise _too_large("the example's arrays", total)
    return ExampleArrays(tuple(arrays))


def _npz_dtype(dtype: np.dtype, name: str) -> np.dtype:
    """The dtype an .npz array is kept as, or InvalidInput naming what is not taken."""
    if dtype.hasobject:
        raise _invalid(
            f"array {name!r} is an object array (pickled Python objects), which is never unpickled; save plain "
            "numeric, boolean or string arrays (numpy.savez with allow_pickle=False can read them back)."
        )
    if dtype.kind in "US" and dtype.shape == ():
        return dtype  # text: decoded and put in native order once read
    if dtype.fields is None and dtype.shape == () and (dtype.kind, dtype.itemsize) in _V2_OF_KIND:
        return dtype.newbyteorder("=")
    raise _invalid(
        f"array {name!r} has dtype {dtype.str!r}, which is not a V2 datatype (bool, int8-64, uint8-64, float16-64, "
        "strings)."
    )


def npz_parse(data: bytes) -> ExampleArrays:
    """An .npz (numpy.savez / savez_compressed) of named arrays, read with allow_pickle=False."""
    limit = max_bytes()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _invalid("not a readable .npz file (it should be a zip of .npy arrays, as numpy.savez writes).") from None
    names = []
    for info in infos:
        if not info.filename.endswith(".npy") or info.is_dir():
            raise _invalid(f"{info.filename[:80]!r} in the .npz is not an .npy array.")
        if info.flag_bits & 0x1:
            raise _invalid(f"{info.filename[:80]!r} in the .npz is encrypted.")
        names.append(_check_name(info.filename.removesuffix(".npy"), f"array {info.filename[:80]!r}"))
    _check_count(names)
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limit:
        raise _too_large("the .npz unpacked", unpacked)
    arrays = []
    for info, name in zip(infos, names):
        try:
            with archive.open(info) as member:
                version = npy.read_magic(member)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"unsupported .npy format version {version}")
                reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                shape, _fortran, dtype = reader(member)
        except InvalidInput:
            raise
        except Exception as exc:  # a hostile header: anything numpy or zipfile raise is a refusal, never a 500
            raise _invalid(f"array {name!r} is not a valid .npy array ({_short(exc)}).") from None
        kept = _npz_dtype(dtype, name)
        if len(shape) > MAX_RANK:
            raise _invalid(f"array {name!r} has {len(shape)} dimensions; at most {MAX_RANK} are taken.")
        if math.prod(shape) * dtype.itemsize > min(limit, info.file_size):
            raise _too_large(f"array {name!r}", math.prod(shape) * dtype.itemsize)
        try:
            with archive.open(info) as member:
                array = npy.read_array(member, allow_pickle=False)
        except Exception as exc:  # truncated data, a bad CRC, an unknown compression method
            raise _invalid(f"array {name!r} could not be read ({_short(exc)}).") from None
        if array.dtype.kind == "S":
            try:
                array = np.char.decode(array, "utf-8")
            except UnicodeDecodeError:
                raise _invalid(f"array {name!r} holds bytes that are not UTF-8 text.") from None
        array = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("=") if array.dtype.kind == "U" else kept))
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise _invalid(f"array {name!r} holds NaN or infinite values, which JSON cannot carry.")
        arrays.append((name, array))
    return _check_total(arrays)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _flatten(data) -> list:
    """The leaves of nested lists, row-major, without recursion."""
    leaves: list = []
    pending = [iter(data)]
    while pending:
        for item in pending[-1]:
            if isinstance(item, list):
                pending.append(iter(item))
                break
            leaves.append(item)
        else:
            pending.pop()
    return leaves


def _v2_array(tensor, index: int) -> tuple[str, np.ndarray]:
    where = f"inputs[{index}]"
    if not isinstance(tensor, dict):
        raise _invalid(f'{where} is not an object {{"name", "datatype", "shape", "data"}}.')
    unknown = sorted(set(tensor) - _TENSOR_KEYS)
    if unknown:
        raise _invalid(f"{where} has unknown keys {', '.join(repr(k[:40]) for k in unknown[:5])}.")
    name = _check_name(tensor.get("name"), where)
    where = f"input {name!r}"
    parameters = tensor.get("parameters")
    if parameters is not None and (not isinstance(parameters, dict) or "binary_data_size" in parameters):
        raise _invalid(f"{where}: binary tensors are not taken here; send `data` as a JSON list, or an .npz.")
    datatype = tensor.get("datatype")
    if not isinstance(datatype, str) or (datatype not in NUMPY_OF_V2 and datatype != "BYTES"):
        raise _invalid(f"{where}: datatype {str(datatype)[:20]!r} is not one of {', '.join([*NUMPY_OF_V2, 'BYTES'])}.")
    shape = tensor.get("shape")
    if not isinstance(shape, list) or any(type(dim) is not int or dim < 0 for dim in shape):
        raise _invalid(f"{where}: shape must be a list of non-negative integers, e.g. [1, 4].")
    if len(shape) > MAX_RANK:
        raise _invalid(f"{where}: {len(shape)} dimensions; at most {MAX_RANK} are taken.")
    data = tensor.get("data")
    if not isinstance(data, list):
        raise _invalid(f"{where}: data must be a list of values (flat, row-major, or nested).")
    values = _flatten(data)
    expected = math.prod(shape)
    if len(values) != expected:
        raise _invalid(f"{where}: shape {shape} needs {expected} values, data has {len(values)}.")
    return name, _typed(values, datatype, where).reshape(shape)


def _typed(values: list, datatype: str, where: str) -> np.ndarray:
    if datatype == "BYTES":
        if any(type(v) is not str for v in values):
            raise _invalid(f"{where}: BYTES data must be strings.")
        return np.array(values, dtype=str) if values else np.zeros(0, dtype="U1")
    dtype = NUMPY_OF_V2[datatype]
    if datatype == "BOOL":
        if any(type(v) is not bool for v in values):
            raise _invalid(f"{where}: BOOL data must be true or false.")
        return np.array(values, dtype=dtype)
    if dtype.kind in "iu":
        if any(type(v) is not int for v in values):
            raise _invalid(f"{where}: {datatype} data must be integers.")
        info = np.iinfo(dtype)
        if values and (min(values) < info.min or max(values) > info.max):
            raise _invalid(f"{where}: a value is outside the range of {datatype} ({info.min} to {info.max}).")
        return np.array(values, dtype=dtype)
    if any(type(v) not in (int, float) for v in values):
        raise _invalid(f"{where}: {datatype} data must be numbers.")
    with np.errstate(over="ignore"):
        array = np.array(values, dtype=dtype)
    if not np.isfinite(array).all():
        raise _invalid(f"{where}: a value is outside the range of {datatype}.")
    return array


def v2_parse(document) -> ExampleArrays:
    """V2 JSON inputs: {"inputs": [{"name", "datatype", "shape", "data"}, ...]} (an inference request's body;
    its `id`, `parameters` and `outputs` are allowed and ignored)."""
    try:
        check_json_document(document)
    except JSONRejected as exc:
        raise _invalid(str(exc)) from None
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list):
        raise _invalid('V2 JSON inputs are an object {"inputs": [{"name", "datatype", "shape", "data"}, ...]}.')
    unknown = sorted(set(document) - _V2_KEYS)
    if unknown:
        raise _invalid(f"unknown keys {', '.join(repr(k[:40]) for k in unknown[:5])}; V2 inputs have `inputs`.")
    tensors = document["inputs"]
    if len(tensors) > MAX_TENSORS:
        raise _invalid(f"the example holds {len(tensors)} tensors; at most {MAX_TENSORS} are taken.")
    arrays = [_v2_array(tensor, index) for index, tensor in enumerate(tensors)]
    _check_count([name for name, _ in arrays])
    return _check_total(arrays)


def npz_load_canonical(data: bytes) -> ExampleArrays:
    """What example_parse checked and stored (ExampleArrays.npz_bytes), read back; still data only (no pickle),
    and not held to today's size limit, which may have been lowered since."""
    with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
        return ExampleArrays(tuple((name, archive[name]) for name in archive.files))

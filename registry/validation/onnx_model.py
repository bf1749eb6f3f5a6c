"""Inspection of an uploaded ONNX model: is it safe to load, does it load, does it run?

`inspect_onnx` runs the checks in a fixed order and stops at the first failure with a `ModelInvalid`
whose reason a person can act on. The order matters for safety: the model is parsed without its
external data, and every external-data reference is checked to stay inside the version's own folder,
before the ONNX checker or onnxruntime get a chance to open those files.

Nothing here executes or unpickles uploaded content; onnxruntime only interprets the graph with its
built-in CPU kernels. This module is imported by the Celery worker only, so the heavy imports are fine.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import AttributeProto, GraphProto, ModelProto, SparseTensorProto, TensorProto, TypeProto

from registry.examples.signature import V2_OF_DTYPE, example_mismatches, mismatch_reason

CHECKS = (
    "parse",
    "external_data",
    "checker",
    "shape_inference",
    "runtime_session",
    "input_example",
    "smoke_inference",
)

DOC_STRING_LIMIT = 2000
MESSAGE_LIMIT = 500
# What a failed smoke inference on generated inputs says: such values are not valid inputs of every model, so
# the failure is a missing example rather than a broken model.
NEEDS_INPUT_EXAMPLE = (
    "The model needs an input example: it failed on generated inputs (integer zeros, random floats, free "
    "dimensions 1), so its valid inputs likely depend on their values (a shape feeding Reshape or Expand, split "
    "sizes, indices into a table); this does not mean it is broken. Give one, an .npz of named arrays or V2 JSON "
    "inputs, as `input_example` with the upload or with PUT .../versions/{version}/input-example (which "
    "validates it again)"
)
# Generated smoke inputs above this many elements (all inputs together) are not built: a model
# declaring a fixed input of, say, 100000x100000 would otherwise make the worker allocate 40 GB.
SMOKE_INPUT_ELEMENT_LIMIT = 1 << 26
# Inputs, outputs, operators and files past this many are counted, not listed: what a version stores
# stays small however the graph was built (see registry.validation.services for the byte bound).
MAX_LISTED = 128

# onnxruntime treats this external-data location as "the offset is a raw memory address in this
# process". A file on disk must never be allowed to claim it, whatever files exist next to it.
_ORT_MEMORY_ADDRESS_TAG = "_ORT_MEM_ADDR_"
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class ModelInvalid(Exception):
    """The uploaded model failed a check; str(exc) / exc.reason is a sentence a person can read.

    `check` names the step that failed, one of CHECKS, so the caller can store it next to the reason.
    `resource` is "memory" when the step ran out of memory and "time" when it ran out of time (the
    sandbox words those reasons with its limits), else "".
    """

    def __init__(self, reason: str, *, check: str, resource: str = ""):
        if check not in CHECKS:
            raise ValueError(f"unknown check {check!r}")
        super().__init__(reason)
        self.reason = reason
        self.check = check
        self.resource = resource


@dataclass
class OnnxInspection:
    """What inspect_onnx learnt about a model that passed every check.

    inputs/outputs items are {"name", "dtype", "shape"}: dtype is a numpy-style name ("float32",
    "int64", "string") or, for non-tensor values, a type description such as
    "seq(map(int64,tensor(float32)))"; shape is None when the rank is unknown (always for non-tensor
    values), else a list of int (fixed), str (symbolic) or None (unknown) per dimension.
    """

    ir_version: int
    opset_imports: dict[str, int]
    producer_name: str
    producer_version: str
    graph_name: str
    doc_string: str
    # At most MAX_LISTED of each are listed; the *_total fields count them all.
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    inputs_total: int
    outputs_total: int
    operator_counts: dict[str, int]
    operators_total: int
    parameter_count: int
    files: list[dict[str, Any]]
    files_total: int
    model_size_bytes: int
    # {"seconds": float, "inputs_from": "input_example" | "generated", "outputs": [{"name", "dtype", "shape"}]}
    # or {"skipped": reason}.
    smoke_inference: dict[str, Any] = field(default_factory=dict)

    @property
    def signature(self) -> dict[str, list[dict[str, Any]]]:
        return {"inputs": [dict(i) for i in self.inputs], "outputs": [dict(o) for o in self.outputs]}

    def as_dict(self) -> dict[str, Any]:
        """A deep copy made only of dicts, lists, str, int, float and None, ready for a JSONField."""
        return asdict(self)


def _no_stage(check: str) -> None:
    pass


def inspect_onnx(
    model_path: Path,
    *,
    root: Path,
    intra_op_threads: int = 1,
    smoke_time_limit: float | None = None,
    on_stage: Callable[[str], None] = _no_stage,
    input_example: Path | None = None,
) -> OnnxInspection:
    """Check the model at `model_path` and describe it, or raise ModelInvalid naming the failed check.

    `on_stage(check)` is called as each check starts (the sandbox reports progress with it). The
    smoke inference is stopped after `smoke_time_limit` seconds (ModelInvalid with resource "time").
    It runs on `input_example` (an .npz of named arrays, read without pickle) when given, which must fit
    the model's inputs (the "input_example" check), and on generated inputs otherwise.

    `root` is the folder holding all of the version's files; `model_path` must be inside it. No file
    outside `root` is opened (paths are resolved, but nothing outside is read). The folder is not
    modified; shape inference writes a scratch copy of the graph (without weights) to a temporary
    directory that is removed before returning.
    """
    model_path = Path(model_path)
    root = Path(root)
    _require_inside_root(model_path, root)

    on_stage("parse")
    model = _parse(model_path)
    on_stage("external_data")
    external_sizes = _check_external_data(model, model_path=model_path, root=root)

    on_stage("checker")
    try:
        onnx.checker.check_model(str(model_path), full_check=True)
    except Exception as exc:  # the checker raises ValidationError, but also plain C++ errors
        raise _failure("the ONNX checker rejected the model", exc, check="checker") from exc

    on_stage("shape_inference")
    inferred = _infer_shapes(model_path)
    graph = inferred.graph
    initializer_names = {t.name for t in graph.initializer} | {s.values.name for s in graph.sparse_initializer}

    on_stage("runtime_session")
    session = _open_session(model_path, intra_op_threads)
    feeds = None
    if input_example is not None:
        on_stage("input_example")
        feeds = _example_feeds(session, Path(input_example))
    on_stage("smoke_inference")
    smoke = _smoke_inference(session, time_limit=smoke_time_limit, feeds=feeds)

    inputs = [v for v in graph.input if v.name not in initializer_names]
    operator_counts = _operator_counts(model.graph)
    files = _list_files(root)
    return OnnxInspection(
        ir_version=model.ir_version,
        opset_imports={op.domain or "ai.onnx": op.version for op in model.opset_import},
        producer_name=model.producer_name,
        producer_version=model.producer_version,
        graph_name=model.graph.name,
        doc_string=model.doc_string[:DOC_STRING_LIMIT],
        inputs=[_value_info(v) for v in inputs[:MAX_LISTED]],
        outputs=[
            _merge_inferred(declared, inferred_output)
            for declared, inferred_output in zip(model.graph.output[:MAX_LISTED], graph.output)
        ],
        inputs_total=len(inputs),
        outputs_total=len(model.graph.output),
        operator_counts=dict(sorted(operator_counts.most_common(MAX_LISTED))),
        operators_total=len(operator_counts),
        parameter_count=_parameter_count(model.graph),
        files=files[:MAX_LISTED],
        files_total=len(files),
        model_size_bytes=model_path.stat().st_size + sum(external_sizes.values()),
        smoke_inference=smoke,
    )


# --- parsing ----------------------------------------------------------------------------------------


def _require_inside_root(model_path: Path, root: Path) -> None:
    if not model_path.is_file():
        raise FileNotFoundError(model_path)
    if not _is_within(os.path.realpath(model_path.parent), os.path.realpath(root)):
        raise ValueError(f"{model_path} is not inside {root}")
    if model_path.is_symlink():
        # A link could point anywhere; the uploaded files are plain files, so a link is never legitimate.
        raise ModelInvalid("the model file is a symbolic link, not an uploaded file", check="parse")


def _parse(model_path: Path) -> ModelProto:
    try:
        model = onnx.load(str(model_path), load_external_data=False)
    except Exception as exc:
        raise ModelInvalid(
            "not a valid ONNX file: the protobuf could not be parsed (truncated or not ONNX)", check="parse"
        ) from exc
    # Protobuf is lenient: many short byte strings (a few bytes of text, a truncated header) decode
    # as a message with every field missing, so a parse alone proves little.
    if model.ir_version <= 0:
        raise ModelInvalid("not an ONNX model: the file declares no IR version (truncated or not ONNX)", check="parse")
    if not model.graph.node:
        raise ModelInvalid("not an ONNX model: the graph has no operators (truncated or empty)", check="parse")
    if not model.graph.output:
        raise ModelInvalid("not an ONNX model: the graph declares no outputs (truncated or empty)", check="parse")
    return model


# --- external data -----------------------------------------------------------------------------------


def _check_external_data(model: ModelProto, *, model_path: Path, root: Path) -> dict[str, int]:
    """Vet every external-data reference; return the size of each distinct file they use, by location.

    onnx and onnxruntime both guard against escaping the model's folder in their current versions, but
    this check runs first so that safety does not depend on their version, and so that a bad upload
    gets a reason naming the tensor and the path.
    """
    model_dir = os.path.realpath(model_path.parent)
    root_dir = os.path.realpath(root)
    sizes: dict[str, int] = {}
    for tensor in _iter_tensors(model):
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        name = tensor.name or "(unnamed)"
        location = entries.get("location", "")
        if location not in sizes:
            sizes[location] = _external_file_size(name, location, model_dir=model_dir, root_dir=root_dir)
        offset = _external_int(name, entries, "offset", default=0)
        length = _external_int(name, entries, "length", default=max(sizes[location] - offset, 0))
        if offset + length > sizes[location]:
            raise ModelInvalid(
                f"external data of tensor {name!r} needs bytes {offset} to {offset + length} of {location!r}, "
                f"but the file has only {sizes[location]} bytes",
                check="external_data",
            )
    return sizes


def _external_file_size(name: str, location: str, *, model_dir: str, root_dir: str) -> int:
    def invalid(problem: str) -> ModelInvalid:
        return ModelInvalid(f"external data of tensor {name!r} {problem}: {location!r}", check="external_data")

    if not location:
        raise ModelInvalid(f"external data of tensor {name!r} has no location", check="external_data")
    if _ORT_MEMORY_ADDRESS_TAG in location:
        raise invalid("uses onnxruntime's in-memory address marker as a file name")
    if os.path.isabs(location) or location.startswith("/") or _WINDOWS_DRIVE.match(location):
        raise invalid("is an absolute path, not a file next to the model")
    if "\\" in location or "\0" in location:
        raise invalid("is not a plain relative path (backslash or NUL byte)")
    parts = location.split("/")
    if ".." in parts:
        raise invalid("points outside the model's files")
    if any(part in ("", ".") for part in parts):
        raise invalid("is not a plain relative path (empty or '.' component)")

    target = os.path.join(model_dir, *parts)
    # realpath only reads link targets; nothing is opened, so resolving is safe even for hostile links.
    resolved = os.path.realpath(target)
    if not (_is_within(resolved, model_dir) and _is_within(resolved, root_dir)):
        raise invalid("points outside the model's files")
    if resolved != target:
        raise invalid("goes through a symbolic link")
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        raise invalid("refers to a file that was not uploaded") from None
    if not stat.S_ISREG(info.st_mode):
        raise invalid("is not a regular file")
    return info.st_size


def _external_int(name: str, entries: dict[str, str], key: str, *, default: int) -> int:
    if key not in entries:
        return default
    try:
        value = int(entries[key])
    except ValueError:
        value = -1
    if value < 0:
        raise ModelInvalid(
            f"external data of tensor {name!r} has an invalid {key}: {entries[key]!r}", check="external_data"
        )
    return value


def _iter_tensors(model: ModelProto) -> Iterator[TensorProto]:
    """Every TensorProto in the model that may carry data: initializers, sparse initializers and
    attribute tensors, in the main graph, all subgraphs, local functions and training graphs.

    Wider than onnx.external_data_helper._get_all_tensors, which skips sparse tensors; any tensor a
    runtime might load has to be vetted.
    """
    yield from _iter_graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            for attribute in node.attribute:
                yield from _iter_attribute_tensors(attribute)
    for training in model.training_info:
        yield from _iter_graph_tensors(training.initialization)
        yield from _iter_graph_tensors(training.algorithm)


def _iter_graph_tensors(graph: GraphProto) -> Iterator[TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield from _sparse_parts(sparse)
    for node in graph.node:
        for attribute in node.attribute:
            yield from _iter_attribute_tensors(attribute)


def _iter_attribute_tensors(attribute: AttributeProto) -> Iterator[TensorProto]:
    if attribute.HasField("t"):
        yield attribute.t
    yield from attribute.tensors
    if attribute.HasField("sparse_tensor"):
        yield from _sparse_parts(attribute.sparse_tensor)
    for sparse in attribute.sparse_tensors:
        yield from _sparse_parts(sparse)
    for graph in _attribute_graphs(attribute):
        yield from _iter_graph_tensors(graph)


def _sparse_parts(sparse: SparseTensorProto) -> Iterator[TensorProto]:
    yield sparse.values
    yield sparse.indices


def _attribute_graphs(attribute: AttributeProto) -> list[GraphProto]:
    graphs = list(attribute.graphs)
    if attribute.HasField("g"):
        graphs.insert(0, attribute.g)
    return graphs


def _is_within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


# --- checker and shape inference ---------------------------------------------------------------------


def _infer_shapes(model_path: Path) -> ModelProto:
    """The model's graph with inferred types merged into its outputs, loaded without weights.

    The path form is used because it works for models whose protobuf is near the 2 GB limit. It does
    not read or copy external data: only the graph is written to the scratch file.
    """
    with tempfile.TemporaryDirectory(prefix="modelhub-shapes-") as scratch:
        inferred_path = os.path.join(scratch, "inferred.onnx")
        try:
            onnx.shape_inference.infer_shapes_path(str(model_path), inferred_path, strict_mode=True)
            return onnx.load(inferred_path, load_external_data=False)
        except Exception as exc:
            raise _failure("shape inference failed", exc, check="shape_inference") from exc


def _value_info(value: onnx.ValueInfoProto) -> dict[str, Any]:
    return {"name": value.name, "dtype": _type_name(value.type), "shape": _shape(value.type)}


def _merge_inferred(declared: onnx.ValueInfoProto, inferred: onnx.ValueInfoProto) -> dict[str, Any]:
    """The declared output, with dimensions it left unknown taken from shape inference.

    Inference names the dimensions it cannot resolve "unk__0", "unk__1", ...; those names are
    invented, not the model's, so such dimensions stay unknown.
    """
    result = _value_info(declared)
    inferred_shape = _shape(inferred.type)
    if result["dtype"] != _type_name(inferred.type) or inferred_shape is None:
        return result
    declared_shape = result["shape"]
    if declared_shape is None:
        declared_shape = [None] * len(inferred_shape)
    if len(declared_shape) != len(inferred_shape):
        return result
    result["shape"] = [
        found if known is None and not (isinstance(found, str) and _INVENTED_DIM.match(found)) else known
        for known, found in zip(declared_shape, inferred_shape)
    ]
    return result


_INVENTED_DIM = re.compile(r"^unk__\d+$")


def _type_name(type_proto: TypeProto) -> str:
    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        return _dtype_name(type_proto.tensor_type.elem_type)
    return _nested_type_name(type_proto)


def _nested_type_name(type_proto: TypeProto) -> str:
    # Mirrors onnxruntime's type strings ("seq(map(int64,tensor(float)))") with numpy-style dtypes.
    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        return f"tensor({_dtype_name(type_proto.tensor_type.elem_type)})"
    if kind == "sparse_tensor_type":
        return f"sparse_tensor({_dtype_name(type_proto.sparse_tensor_type.elem_type)})"
    if kind == "sequence_type":
        return f"seq({_nested_type_name(type_proto.sequence_type.elem_type)})"
    if kind == "map_type":
        key = _dtype_name(type_proto.map_type.key_type)
        return f"map({key},{_nested_type_name(type_proto.map_type.value_type)})"
    if kind == "optional_type":
        return f"optional({_nested_type_name(type_proto.optional_type.elem_type)})"
    return "unknown"


def _dtype_name(elem_type: int) -> str:
    if elem_type == TensorProto.FLOAT:
        return "float32"
    if elem_type == TensorProto.DOUBLE:
        return "float64"
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"dtype{elem_type}"


def _shape(type_proto: TypeProto) -> list[int | str | None] | None:
    kind = type_proto.WhichOneof("value")
    if kind not in ("tensor_type", "sparse_tensor_type"):
        return None
    tensor_type = getattr(type_proto, kind)
    if not tensor_type.HasField("shape"):
        return None
    dims: list[int | str | None] = []
    for dim in tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        elif dim.HasField("dim_param"):
            dims.append(dim.dim_param)
        else:
            dims.append(None)
    return dims


def _operator_counts(graph: GraphProto) -> Counter[str]:
    """Nodes per operator, subgraphs (If/Loop/Scan bodies) included; non-default domains prefixed."""
    counts: Counter[str] = Counter()
    pending = [graph]
    while pending:
        current = pending.pop()
        for node in current.node:
            key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
            counts[key] += 1
            for attribute in node.attribute:
                pending.extend(_attribute_graphs(attribute))
    return counts


def _parameter_count(graph: GraphProto) -> int:
    """Elements in all initializers, from their declared dims, so external weights are never read.

    Sparse initializers count at their dense size.
    """
    total = 0
    pending = [graph]
    while pending:
        current = pending.pop()
        total += sum(math.prod(t.dims) for t in current.initializer)
        total += sum(math.prod(s.dims) for s in current.sparse_initializer)
        for node in current.node:
            for attribute in node.attribute:
                pending.extend(_attribute_graphs(attribute))
    return total


def _list_files(root: Path) -> list[dict[str, Any]]:
    """Regular files under root, sorted by path; symbolic links are neither followed nor listed."""
    files = []
    for directory, _subdirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                files.append({"path": Path(path).relative_to(root).as_posix(), "size": info.st_size})
    return sorted(files, key=lambda f: f["path"])


# --- onnxruntime -------------------------------------------------------------------------------------


def _open_session(model_path: Path, intra_op_threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise _failure("onnxruntime could not load the model", exc, check="runtime_session") from exc


# numpy dtypes for the onnxruntime tensor element types we know how to fill; others skip the smoke run.
_SMOKE_DTYPES = {
    "float": np.float32,
    "double": np.float64,
    "float16": np.float16,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "bool": np.bool_,
    "string": np.str_,
}
_ORT_TENSOR_TYPE = re.compile(r"^tensor\((\w+)\)$")


def _session_inputs(session: ort.InferenceSession) -> list[dict[str, Any]]:
    """The session's inputs as the signature lists them ({"name", "dtype", "shape"})."""
    return [
        {
            "name": arg.name,
            "dtype": _ort_type_name(arg.type),
            "shape": None if arg.shape is None else [dim if isinstance(dim, int | str) else None for dim in arg.shape],
        }
        for arg in session.get_inputs()
    ]


def _example_feeds(session: ort.InferenceSession, path: Path) -> dict[str, np.ndarray]:
    """The input example's arrays, checked against the session's inputs; ModelInvalid saying what does not fit."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as exc:  # stored by registry.examples, so this is storage damage, not the model's fault
        raise ModelInvalid(f"the input example could not be read: {_shorten(exc)}", check="input_example") from exc
    described = [
        {
            "name": name,
            "datatype": "BYTES" if array.dtype.kind in "US" else V2_OF_DTYPE.get(str(array.dtype), str(array.dtype)),
            "shape": list(array.shape),
        }
        for name, array in arrays.items()
    ]
    problems = example_mismatches(described, _session_inputs(session))
    if problems:
        raise ModelInvalid(mismatch_reason(problems), check="input_example")
    return {name: array.astype(object) if array.dtype.kind in "US" else array for name, array in arrays.items()}


def _smoke_inference(
    session: ort.InferenceSession, *, time_limit: float | None, feeds: dict[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """Run the model once on `feeds` (the input example), or on deterministic generated inputs with every free
    dimension set to 1.

    Generated floats are standard-normal (numpy seed 0), integers zero (valid as indices), booleans False and
    strings "a". Values this crude prove only that the graph executes end to end, and are not valid inputs of a
    model whose valid inputs depend on their values: when they fail at run time, the reason asks for an example
    (NEEDS_INPUT_EXAMPLE). After `time_limit` seconds a timer sets onnxruntime's terminate flag, which its
    executor checks between nodes.
    """
    if feeds is not None:
        return _smoke_run(session, feeds, time_limit=time_limit, inputs_from="input_example")
    rng = np.random.default_rng(0)
    feeds = {}
    elements = 0
    for arg in session.get_inputs():
        match = _ORT_TENSOR_TYPE.match(arg.type)
        dtype = _SMOKE_DTYPES.get(match.group(1)) if match else None
        if dtype is None:
            return {"skipped": f"input {arg.name!r} has type {_ort_type_name(arg.type)}, which cannot be generated"}
        shape = [dim if isinstance(dim, int) and dim >= 0 else 1 for dim in (arg.shape or [])]
        elements += math.prod(shape)
        if elements > SMOKE_INPUT_ELEMENT_LIMIT:
            return {"skipped": f"the inputs would need more than {SMOKE_INPUT_ELEMENT_LIMIT} generated values"}
        if dtype is np.float32 or dtype is np.float64 or dtype is np.float16:
            feeds[arg.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype is np.str_:
            feeds[arg.name] = np.full(shape, "a", dtype=object)
        else:
            feeds[arg.name] = np.zeros(shape, dtype=dtype)
    return _smoke_run(session, feeds, time_limit=time_limit, inputs_from="generated")


def _smoke_run(
    session: ort.InferenceSession, feeds: dict[str, np.ndarray], *, time_limit: float | None, inputs_from: str
) -> dict[str, Any]:
    run_options = ort.RunOptions()
    timer = None
    if time_limit is not None:
        timer = threading.Timer(time_limit, setattr, (run_options, "terminate", True))
        timer.daemon = True
        timer.start()
    started = time.perf_counter()
    try:
        results = session.run(None, feeds, run_options)
    except Exception as exc:
        if run_options.terminate:
            raise ModelInvalid(
                f"The smoke inference did not finish within {time_limit:g} s.", check="smoke_inference", resource="time"
            ) from exc
        if inputs_from == "input_example":
            raise _failure(
                "onnxruntime failed to run the model on its input example", exc, check="smoke_inference"
            ) from exc
        failure = _failure("onnxruntime failed to run the model on generated inputs", exc, check="smoke_inference")
        if failure.resource:  # out of memory: the sandbox words it with its limit
            raise failure from exc
        raise ModelInvalid(
            f"{NEEDS_INPUT_EXAMPLE}. onnxruntime said: {_shorten(exc, limit=250)}", check="smoke_inference"
        ) from exc
    finally:
        if timer is not None:
            timer.cancel()
    seconds = time.perf_counter() - started

    outputs = []
    for arg, value in zip(session.get_outputs(), results):
        if isinstance(value, np.ndarray):
            dtype = "string" if value.dtype.kind in "OU" else str(value.dtype)
            outputs.append({"name": arg.name, "dtype": dtype, "shape": list(value.shape)})
        else:  # sequences come back as lists, maps as dicts
            outputs.append({"name": arg.name, "dtype": _ort_type_name(arg.type), "shape": None})
    return {"seconds": seconds, "inputs_from": inputs_from, "outputs": outputs}


def _ort_type_name(ort_type: str) -> str:
    """onnxruntime's "tensor(float)" style in the numpy-style names used by the signature."""
    named = re.sub(r"\bdouble\b", "float64", re.sub(r"\bfloat\b", "float32", ort_type))
    match = _ORT_TENSOR_TYPE.match(named)
    return match.group(1) if match else named


# How allocation failures surface: Python's MemoryError, C++'s std::bad_alloc as translated by
# pybind11, and onnxruntime's own allocator and arena messages.
_OUT_OF_MEMORY = re.compile(r"bad[_ ]alloc|Failed to allocate memory|out of memory|cannot allocate memory", re.I)


def _failure(what: str, exc: BaseException, *, check: str) -> ModelInvalid:
    """ModelInvalid for a step that raised `exc`, marked as out of memory when that is what it was."""
    out_of_memory = isinstance(exc, MemoryError) or bool(_OUT_OF_MEMORY.search(str(exc)))
    return ModelInvalid(f"{what}: {_shorten(exc)}", check=check, resource="memory" if out_of_memory else "")


def _shorten(exc: BaseException, *, limit: int = MESSAGE_LIMIT) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= limit else message[: limit - 1] + "…"

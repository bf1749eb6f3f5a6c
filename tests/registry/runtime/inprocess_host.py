"""A ModelHost over onnxruntime sessions in the test process, and the small ONNX models the runtime's
tests and benchmark load. No process isolation, batching or limits: those are the real host's
(registry.runtime.host); this one lets the HTTP layer be tested and measured on its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

from registry.runtime.interface import (
    PLATFORM,
    InferenceInputError,
    ModelConfig,
    ModelInfo,
    ModelLoadError,
    ModelNotFound,
    TensorSpec,
)

ONNX_TYPES = {
    "BOOL": TensorProto.BOOL,
    "UINT8": TensorProto.UINT8,
    "UINT16": TensorProto.UINT16,
    "UINT32": TensorProto.UINT32,
    "UINT64": TensorProto.UINT64,
    "INT8": TensorProto.INT8,
    "INT16": TensorProto.INT16,
    "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64,
    "FP16": TensorProto.FLOAT16,
    "FP32": TensorProto.FLOAT,
    "FP64": TensorProto.DOUBLE,
    "BYTES": TensorProto.STRING,
}
_ORT_TYPES = {
    "tensor(bool)": "BOOL",
    "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32",
    "tensor(uint64)": "UINT64",
    "tensor(int8)": "INT8",
    "tensor(int16)": "INT16",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(float16)": "FP16",
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(string)": "BYTES",
}


def _model_bytes(nodes, inputs, outputs) -> bytes:
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def identity_model(datatype: str) -> bytes:
    """y = x, shape [batch, 3]."""
    kind = ONNX_TYPES[datatype]
    return _model_bytes(
        [helper.make_node("Identity", ["x"], ["y"])],
        [helper.make_tensor_value_info("x", kind, ["batch", 3])],
        [helper.make_tensor_value_info("y", kind, ["batch", 3])],
    )


def add_model(features: int = 4) -> bytes:
    """y = x + 1 (FP32), shape [batch, features]: the dynamic batch dimension."""
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    return _model_bytes(
        [helper.make_node("Constant", [], ["c"], value=one), helper.make_node("Add", ["x", "c"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", features])],
    )


def two_output_model(features: int = 4) -> bytes:
    """doubled = x + x (FP32 [batch, features]); label = argmax(x, axis 1) (INT64 [batch])."""
    return _model_bytes(
        [
            helper.make_node("Add", ["x", "x"], ["doubled"]),
            helper.make_node("ArgMax", ["x"], ["label"], axis=1, keepdims=0),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])],
        [
            helper.make_tensor_value_info("doubled", TensorProto.FLOAT, ["batch", features]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
        ],
    )


def write_models(folder: Path) -> dict[str, Path]:
    """Every test model as an .onnx file in `folder`: {endpoint name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    models = {f"identity-{dt.lower()}": identity_model(dt) for dt in ONNX_TYPES}
    models["add"] = add_model()
    models["two-outputs"] = two_output_model()
    paths = {}
    for name, raw in models.items():
        path = folder / f"{name}.onnx"
        path.write_bytes(raw)
        paths[name] = path
    return paths


def _spec(arg) -> TensorSpec:
    return TensorSpec(arg.name, _ORT_TYPES[arg.type], tuple(d if isinstance(d, int) else -1 for d in arg.shape))


class InProcessHost:
    """ModelHost (registry.runtime.interface) running onnxruntime in this process."""

    def __init__(self, metrics=None):
        self.metrics = metrics
        self.sessions: dict[str, tuple[ort.InferenceSession, ModelInfo]] = {}
        self.fail_with: dict[str, Exception] = {}  # name -> what its next infer raises
        self.not_ready: dict[str, dict] = {}  # name -> an index entry for a model that is not READY
        self.delay: dict[str, float] = {}  # name -> seconds each infer waits first
        self.closed = False

    async def load(self, config: ModelConfig) -> ModelInfo:
        options = ort.SessionOptions()
        options.intra_op_num_threads = config.intra_op_threads
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(config.path, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelLoadError(str(exc)) from None
        info = ModelInfo(
            config.name,
            (config.version,),
            PLATFORM,
            tuple(_spec(a) for a in session.get_inputs()),
            tuple(_spec(a) for a in session.get_outputs()),
            config.max_batch_size,
        )
        self.sessions[config.name] = (session, info)
        return info

    async def unload(self, name: str) -> None:
        if self.sessions.pop(name, None) is None:
            raise ModelNotFound(name)

    def info(self, name: str) -> ModelInfo | None:
        entry = self.sessions.get(name)
        return entry[1] if entry is not None else None

    def index(self) -> list[dict]:
        ready = [
            {"name": n, "version": i.versions[-1], "state": "READY", "reason": ""}
            for n, (_, i) in self.sessions.items()
        ]
        return ready + list(self.not_ready.values())

    async def infer(self, name, inputs, output_names):
        entry = self.sessions.get(name)
        if entry is None:
            raise ModelNotFound(name)
        if name in self.delay:
            await asyncio.sleep(self.delay[name])
        failure = self.fail_with.pop(name, None)
        if failure is not None:
            raise failure
        session, info = entry
        feeds = {}
        for key, array in inputs.items():
            if array.dtype == object:  # onnxruntime wants str for string tensors
                try:
                    array = np.vectorize(lambda b: b.decode(), otypes=[object])(array)
                except UnicodeDecodeError as exc:
                    raise InferenceInputError(f"input {key!r} is not UTF-8: {exc}") from None
            feeds[key] = array
        names = output_names or [t.name for t in info.outputs]
        try:
            results = session.run(names, feeds)
        except Exception as exc:
            raise InferenceInputError(str(exc)) from None
        if self.metrics is not None:
            self.metrics.observe_batch(name, 1)
        return dict(zip(names, results))

    async def close(self) -> None:
        self.closed = True

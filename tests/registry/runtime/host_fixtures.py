"""Small ONNX models built in memory for the model host's tests and the density benchmark.

Plain onnx and numpy: no Django, so the benchmark can import it outside pytest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# V2 datatype -> ONNX element type, for every datatype the protocol carries.
ONNX_TYPES = {
    "BOOL": TensorProto.BOOL,
    "BYTES": TensorProto.STRING,
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
}


def model_of(nodes, inputs, outputs, initializers=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "test", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def save(model: onnx.ModelProto, folder: Path, name: str = "model") -> tuple[Path, str]:
    """Write the model as folder/name.onnx; returns (path, sha256)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.onnx"
    data = model.SerializeToString()
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def every_type_model() -> onnx.ModelProto:
    """Identity for each V2 datatype: input in_<DT> [batch, 2] -> output out_<DT> [batch, 2]."""
    return model_of(
        [helper.make_node("Identity", [f"in_{dt}"], [f"out_{dt}"]) for dt in ONNX_TYPES],
        [helper.make_tensor_value_info(f"in_{dt}", kind, ["batch", 2]) for dt, kind in ONNX_TYPES.items()],
        [helper.make_tensor_value_info(f"out_{dt}", kind, ["batch", 2]) for dt, kind in ONNX_TYPES.items()],
    )


def dense_model(features: int = 16, outputs: int = 8, seed: int = 0) -> onnx.ModelProto:
    """tanh(x @ W + b): x [batch, features] -> y [batch, outputs]; 4 * features * outputs bytes of weights."""
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((features, outputs)).astype(np.float32)
    bias = rng.standard_normal(outputs).astype(np.float32)
    return model_of(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["z"]),
            helper.make_node("Tanh", ["z"], ["y"]),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", outputs])],
        [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "b")],
    )


def odd_dims_model() -> onnx.ModelProto:
    """Dims of every kind: a fixed one, a named one and one with neither (-1 both)."""
    value_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, None])
    return model_of(
        [helper.make_node("Relu", ["x"], ["y"])],
        [value_info],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, None])],
    )


def memory_bomb_model(elements: int = 1 << 30) -> onnx.ModelProto:
    """Expand to [elements] floats, then ReduceSum: tiny, and asks for 4 * elements bytes at run time."""
    return model_of(
        [
            helper.make_node("Expand", ["x", "shape"], ["big"]),
            helper.make_node("ReduceSum", ["big"], ["y"], keepdims=0),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        [numpy_helper.from_array(np.array([elements], dtype=np.int64), "shape")],
    )


def add_one_loop_body() -> onnx.GraphProto:
    """The body of a Loop that adds 1 to a float [1] each iteration and never stops by itself."""
    return helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1]),
        ],
        [numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")],
    )


def counting_loop_model() -> onnx.ModelProto:
    """y = x + trip, one Add per iteration of a Loop: trip=10 answers at once, trip=2**62 never does."""
    return model_of(
        [helper.make_node("Loop", ["trip", "cond", "x"], ["y"], body=add_one_loop_body())],
        [
            helper.make_tensor_value_info("trip", TensorProto.INT64, []),
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.array(True), "cond")],
    )

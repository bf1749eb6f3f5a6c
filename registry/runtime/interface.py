"""The contract between the runtime's HTTP layer (registry.runtime.app) and its model host
(registry.runtime.host). Plain Python and numpy: no Django, no HTTP.

The HTTP layer parses and checks requests against a model's ModelInfo (names, datatypes, shapes)
before it calls the host, so the host sees only well-formed tensors; the host owns processes,
onnxruntime sessions, batching, time and memory limits, and restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

PLATFORM = "onnx_onnxv1"

# Open Inference Protocol datatype -> numpy dtype (BYTES tensors are numpy object arrays of bytes).
DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str  # a key of DATATYPES
    shape: tuple[int, ...]  # -1 for a variable dimension


@dataclass(frozen=True)
class ModelConfig:
    """What the repository `load` call asks for (its `parameters`), as the host receives it."""

    name: str  # the endpoint's name: the {name} of /v2/models/{name}
    path: str  # local path of the .onnx file; external-data files sit beside it
    version: str = "1"
    sha256: str = ""  # when set, the host refuses a file with another digest
    max_batch_size: int = 0  # 0: no adaptive batching
    max_batch_delay_ms: float = 2.0
    timeout_ms: int = 30_000  # one inference, after which it is cut off (RunOptions.terminate)
    memory_limit_bytes: int = 2 << 30  # the address space of the process hosting the model
    intra_op_threads: int = 1
    shadow_of: str = ""  # the live model this one shadows (registry.runtime.app mirrors its traffic here)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    versions: tuple[str, ...]
    platform: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    max_batch_size: int = 0


class ModelNotFound(Exception):
    """No such model is loaded (HTTP 404)."""


class ModelLoadError(Exception):
    """The model could not be loaded; str() says why (HTTP 400)."""


class InferenceInputError(Exception):
    """The inputs were refused by the model at run time, e.g. a value out of range (HTTP 400)."""


class InferenceTimeout(Exception):
    """The inference ran past the model's timeout and was cut off (HTTP 504)."""


class ModelUnavailable(Exception):
    """The model's process crashed, ran out of memory or is restarting (HTTP 503); str() says which."""


class ModelHost(Protocol):
    async def load(self, config: ModelConfig) -> ModelInfo:
        """Load (or replace) a model; returns once it is ready. Raises ModelLoadError."""

    async def unload(self, name: str) -> None:
        """Unload a model and free its process. Raises ModelNotFound."""

    def info(self, name: str) -> ModelInfo | None:
        """The model if it is loaded and ready, else None."""

    def index(self) -> list[dict]:
        """V2 repository index entries: {"name", "version", "state": READY|UNAVAILABLE|LOADING, "reason"}."""

    async def infer(
        self, name: str, inputs: dict[str, np.ndarray], output_names: list[str] | None
    ) -> dict[str, np.ndarray]:
        """Run the model; all outputs when output_names is None. Raises ModelNotFound, InferenceInputError,
        InferenceTimeout, ModelUnavailable."""

    async def close(self) -> None:
        """Stop every model process."""

"""An MLServer runtime that runs ONNX models with onnxruntime (loaded by MLServer from model-settings.json).

The benchmark writes, per model, DIR/<name>/model-settings.json naming this class
(`mlserver_runtime.OnnxRuntime`) and `parameters.uri` = the .onnx file, and starts
`mlserver start DIR` with parallel_workers=0 (inference in the server process, MLServer at its best).
"""

import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class OnnxRuntime(MLModel):
    async def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(self.settings.parameters.uri, options, providers=["CPUExecutionProvider"])
        self._output_names = [o.name for o in self._session.get_outputs()]
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        feeds = {inp.name: NumpyCodec.decode_input(inp) for inp in payload.inputs}
        results = self._session.run(None, feeds)
        return InferenceResponse(
            model_name=self.name,
            id=payload.id,
            outputs=[
                NumpyCodec.encode_output(name, np.asarray(value)) for name, value in zip(self._output_names, results)
            ],
        )

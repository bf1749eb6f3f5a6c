"""KServe's Python model server with an onnxruntime model class (run by the benchmark in its own venv).

    <kserve venv>/bin/python kserve_server.py --model-dir DIR --port PORT

Serves every DIR/<name>.onnx as a V2 model `<name>`: the KServe way to host ONNX without Triton.
"""

import argparse
from pathlib import Path

import numpy as np
import onnxruntime as ort
from kserve import InferRequest, InferResponse, Model, ModelServer
from kserve.protocol.infer_type import InferOutput

_DATATYPES = {"tensor(float)": "FP32", "tensor(int64)": "INT64", "tensor(double)": "FP64", "tensor(int32)": "INT32"}


class OnnxModel(Model):
    def __init__(self, name: str, path: Path):
        super().__init__(name)
        self.path = path
        self.session = None

    def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.output_types = {o.name: _DATATYPES.get(o.type, "FP32") for o in self.session.get_outputs()}
        self.ready = True
        return self.ready

    def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        feeds = {inp.name: inp.as_numpy() for inp in payload.inputs}
        results = self.session.run(None, feeds)
        outputs = []
        for meta, value in zip(self.session.get_outputs(), results):
            value = np.asarray(value)
            output = InferOutput(name=meta.name, shape=list(value.shape), datatype=self.output_types[meta.name])
            output.set_data_from_numpy(value, binary_data=False)
            outputs.append(output)
        return InferResponse(model_name=self.name, infer_outputs=outputs, response_id=payload.id)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    models = []
    for path in sorted(Path(args.model_dir).glob("*.onnx")):
        model = OnnxModel(path.stem, path)
        model.load()
        models.append(model)
    ModelServer(http_port=args.port, grpc_port=args.port + 1, workers=1, enable_grpc=False).start(models)


if __name__ == "__main__":
    main()

"""A small but real inference runtime for the tests: an HTTP server on loopback speaking enough of the Open
Inference Protocol (KServe V2) and its repository extension, running models with onnxruntime in-process.

It stands in for registry.runtime (built separately); the integrator's test swaps the real one in.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import onnxruntime as ort

from registry.runtime.metrics import RecentLatency

ORT_TO_V2 = {
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(float16)": "FP16",
    "tensor(int64)": "INT64",
    "tensor(int32)": "INT32",
    "tensor(int16)": "INT16",
    "tensor(int8)": "INT8",
    "tensor(uint8)": "UINT8",
    "tensor(bool)": "BOOL",
    "tensor(string)": "BYTES",
}
V2_TO_NUMPY = {
    "FP32": np.float32,
    "FP64": np.float64,
    "FP16": np.float16,
    "INT64": np.int64,
    "INT32": np.int32,
    "INT16": np.int16,
    "INT8": np.int8,
    "UINT8": np.uint8,
    "BOOL": np.bool_,
    "BYTES": object,
}
BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)


class FakeRuntime:
    def __init__(self, *, secret: str, authorize=None):
        self.secret = secret
        # (model name, sha256 of the credential) -> HTTP status; default: any credential may call.
        self.authorize = authorize or (lambda model, digest: 200)
        self.models: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.unavailable_for = 0  # answer 503 to this many repository calls first
        self.corrupt_binary = False  # a broken runtime: binary outputs differ from JSON ones
        self.requests: dict[str, int] = {}
        self.latencies: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeRuntime:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the protocol ---------------------------------------------------------------------------------

    def load(self, name: str, parameters: dict) -> tuple[int, dict]:
        path = parameters.get("path", "")
        try:
            data = open(path, "rb").read()
        except OSError as exc:
            return 400, {"error": f"cannot read {path}: {exc.strerror}"}
        if parameters.get("sha256") and hashlib.sha256(data).hexdigest() != parameters["sha256"]:
            return 400, {"error": "sha256 mismatch"}
        try:
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        except Exception as exc:
            return 400, {"error": f"onnxruntime cannot load the model: {exc}"}
        with self.lock:
            self.models[name] = {
                "session": session,
                "version": str(parameters.get("version", "1")),
                "parameters": parameters,
            }
        return 200, {}

    def metadata(self, name: str) -> dict:
        model = self.models[name]
        session = model["session"]

        def spec(arg):
            return {
                "name": arg.name,
                "datatype": ORT_TO_V2.get(arg.type, arg.type),
                "shape": [d if isinstance(d, int) else -1 for d in (arg.shape or [])],
            }

        return {
            "name": name,
            "versions": [model["version"]],
            "platform": "onnx_onnxv1",
            "inputs": [spec(a) for a in session.get_inputs()],
            "outputs": [spec(a) for a in session.get_outputs()],
        }

    def infer(self, name: str, body: dict) -> tuple[dict, bytes | None]:
        session = self.models[name]["session"]
        feeds = {}
        for tensor in body["inputs"]:
            dtype = V2_TO_NUMPY[tensor["datatype"]]
            feeds[tensor["name"]] = np.asarray(tensor["data"], dtype=dtype).reshape(tensor["shape"])
        started = time.perf_counter()
        results = session.run(None, feeds)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.requests[name] = self.requests.get(name, 0) + 1
            self.latencies.setdefault(name, []).append(elapsed)
        binary = (body.get("parameters") or {}).get("binary_data_output")
        outputs, chunks = [], []
        for arg, value in zip(session.get_outputs(), results):
            value = np.asarray(value)
            out = {"name": arg.name, "datatype": ORT_TO_V2.get(arg.type, arg.type), "shape": list(value.shape)}
            if binary:
                if self.corrupt_binary:
                    value = value + 1
                raw = np.ascontiguousarray(value).tobytes()
                out["parameters"] = {"binary_data_size": len(raw)}
                chunks.append(raw)
            else:
                out["data"] = value.ravel().tolist()
            outputs.append(out)
        answer = {
            "model_name": name,
            "model_version": self.models[name]["version"],
            "id": body.get("id", ""),
            "outputs": outputs,
        }
        return answer, (b"".join(chunks) if binary else None)

    def metrics(self) -> str:
        lines = ["# HELP fake_requests_total Inference requests.", "# TYPE fake_requests_total counter"]
        with self.lock:
            for name, count in self.requests.items():
                lines.append(f'fake_requests_total{{model="{name}"}} {count}')
            lines.append("# TYPE fake_request_duration_seconds histogram")
            for name, values in self.latencies.items():
                for bound in BUCKETS:
                    lines.append(
                        f'fake_request_duration_seconds_bucket{{model="{name}",le="{bound}"}} '
                        f"{sum(v <= bound for v in values)}"
                    )
                lines.append(f'fake_request_duration_seconds_bucket{{model="{name}",le="+Inf"}} {len(values)}')
                lines.append(f'fake_request_duration_seconds_count{{model="{name}"}} {len(values)}')
        return "\n".join(lines) + "\n"

    def stats(self, name: str) -> dict:
        """The runtime's stats route, as far as the portal reads it: requests and the last hour's latency."""
        recent = RecentLatency()
        with self.lock:
            for seconds in self.latencies.get(name, []):
                recent.observe(seconds, time.time())
            requests = self.requests.get(name, 0)
        return {"model": name, "requests": requests, "last_hour": recent.window(time.time())}

    # --- HTTP -----------------------------------------------------------------------------------------

    def _handler(self):
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code: int, body: dict | str, *, extra: bytes | None = None):
                if isinstance(body, str):
                    payload, ctype, headers = body.encode(), "text/plain; version=0.0.4", {}
                else:
                    payload, ctype = json.dumps(body).encode(), "application/json"
                    headers = {}
                    if extra is not None:
                        headers = {"Inference-Header-Content-Length": str(len(payload))}
                        payload += extra
                        ctype = "application/octet-stream"
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _caller_status(self, name: str) -> int:
                scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
                if scheme not in ("Bearer", "Token") or not credential:
                    return 401
                return runtime.authorize(name, hashlib.sha256(credential.encode()).hexdigest())

            def do_GET(self):
                runtime.calls.append(("GET", self.path))
                if self.path == "/metrics":
                    return self._send(200, runtime.metrics())
                if self.path.startswith("/v2/models/") and self.path.endswith("/stats"):
                    if self.headers.get("Authorization") != f"Bearer {runtime.secret}":
                        return self._send(401, {"error": "runtime secret required"})
                    return self._send(200, runtime.stats(self.path.split("/")[3]))
                if self.path.startswith("/v2/models/"):
                    name = self.path.split("/")[3]
                    status = self._caller_status(name)
                    if status != 200:
                        return self._send(status, {"error": "unauthorized"})
                    if name not in runtime.models:
                        return self._send(404, {"error": f"unknown model {name}"})
                    return self._send(200, runtime.metadata(name))
                return self._send(404, {"error": "not found"})

            def do_POST(self):
                runtime.calls.append(("POST", self.path))
                body = self._body()
                parts = self.path.strip("/").split("/")
                if parts[:2] == ["v2", "repository"]:
                    if self.headers.get("Authorization") != f"Bearer {runtime.secret}":
                        return self._send(401, {"error": "runtime secret required"})
                    if runtime.unavailable_for > 0:
                        runtime.unavailable_for -= 1
                        return self._send(503, {"error": "starting up"})
                    if parts[2:] == ["index"]:
                        return self._send(
                            200,
                            [
                                {"name": n, "version": m["version"], "state": "READY", "reason": ""}
                                for n, m in runtime.models.items()
                            ],
                        )
                    name, action = parts[3], parts[4]
                    if action == "load":
                        code, answer = runtime.load(name, body.get("parameters") or {})
                        return self._send(code, answer)
                    if action == "unload":
                        with runtime.lock:
                            found = runtime.models.pop(name, None)
                        return self._send(200 if found else 404, {} if found else {"error": "not loaded"})
                if parts[:2] == ["v2", "models"] and parts[-1] == "infer":
                    name = parts[2]
                    status = self._caller_status(name)
                    if status != 200:
                        return self._send(status, {"error": "unauthorized"})
                    if name not in runtime.models:
                        return self._send(404, {"error": f"unknown model {name}"})
                    try:
                        answer, binary = runtime.infer(name, body)
                    except Exception as exc:
                        return self._send(400, {"error": str(exc)})
                    return self._send(200, answer, extra=binary)
                return self._send(404, {"error": "not found"})

        return Handler


@contextmanager
def fake_runtime(settings, **kwargs):
    """A running FakeRuntime that the portal's settings point at."""
    runtime = FakeRuntime(secret=settings.MODELHUB_RUNTIME_SECRET, **kwargs).start()
    settings.MODELHUB_RUNTIME_URL = settings.MODELHUB_RUNTIME_PUBLIC_URL = runtime.url
    try:
        yield runtime
    finally:
        runtime.stop()

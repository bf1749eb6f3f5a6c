"""The runtime's HTTP layer over real sockets (its HTTP server in a thread), driven by tritonclient and httpx."""

import asyncio
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import onnxruntime as ort
import orjson
import pytest
import tritonclient.http as tritonhttp
from tritonclient.utils import InferenceServerException

from registry.runtime.app import DEFAULT_MAX_BODY, RuntimeSettings, create_app
from registry.runtime.auth import PortalAuthorizer, StaticAuthorizer
from registry.runtime.interface import InferenceInputError, InferenceTimeout, ModelUnavailable
from registry.runtime.metrics import RuntimeMetrics
from registry.runtime.server import SettingsError, parse_settings
from tests.registry.runtime.conftest import ADD_ONLY_KEY, KEY, SECRET, TEST_MAX_BODY, ServerThread, load_all, sha
from tests.registry.runtime.inprocess_host import ONNX_TYPES, InProcessHost

AUTH = {"Authorization": f"Bearer {KEY}"}


def auth() -> dict:
    # A fresh dict each call: tritonclient adds Inference-Header-Content-Length to the dict it is given.
    return dict(AUTH)


ADMIN = {"Authorization": f"Bearer {SECRET}"}
RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def http(runtime):
    with httpx.Client(base_url=runtime.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def triton(runtime):
    client = tritonhttp.InferenceServerClient(url=runtime.url.removeprefix("http://"))
    yield client
    client.close()


def ort_run(model_files, name, feeds):
    return ort.InferenceSession(str(model_files[name]), providers=["CPUExecutionProvider"]).run(None, feeds)


# ------------------------------------------------------------------------------------------ open routes


def test_health_and_server_metadata_are_open(http, triton):
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").status_code == 200
    assert triton.is_server_live() and triton.is_server_ready()
    meta = triton.get_server_metadata()
    assert meta["name"] == "modelhub" and meta["extensions"] == ["binary_tensor_data", "model_repository"]
    assert http.post("/v2/health/live").status_code == 405
    assert http.get("/v2/nope").json() == {"error": "no route /v2/nope"}


# ------------------------------------------------------------------------------------------ tritonclient


def test_model_metadata_and_readiness(triton, http):
    meta = triton.get_model_metadata("two-outputs", headers=auth())
    assert meta == {
        "name": "two-outputs",
        "versions": ["1"],
        "platform": "onnx_onnxv1",
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
        "outputs": [
            {"name": "doubled", "datatype": "FP32", "shape": [-1, 4]},
            {"name": "label", "datatype": "INT64", "shape": [-1]},
        ],
    }
    assert triton.get_model_metadata("two-outputs", "1", headers=auth()) == meta
    assert triton.is_model_ready("two-outputs", headers=auth())
    assert http.get("/v2/models/two-outputs/versions/9", headers=auth()).status_code == 404
    assert http.get("/v2/models/two-outputs/versions/1/ready", headers=auth()).json() == {
        "name": "two-outputs",
        "ready": True,
    }


def test_infer_binary_outputs_by_default_match_onnxruntime(triton, model_files):
    x = RNG.random((5, 4), dtype=np.float32)
    given = tritonhttp.InferInput("x", [5, 4], "FP32")
    given.set_data_from_numpy(x, binary_data=False)
    result = triton.infer("two-outputs", [given], headers=auth(), request_id="req-1")
    response = result.get_response()
    assert response["id"] == "req-1" and response["model_name"] == "two-outputs"
    assert all("binary_data_size" in o["parameters"] for o in response["outputs"])
    doubled, label = ort_run(model_files, "two-outputs", {"x": x})
    np.testing.assert_array_equal(result.as_numpy("doubled"), doubled)
    np.testing.assert_array_equal(result.as_numpy("label"), label)


def test_infer_json_outputs_binary_inputs_and_one_named_output(triton, model_files):
    x = RNG.random((3, 4), dtype=np.float32)
    given = tritonhttp.InferInput("x", [3, 4], "FP32")
    given.set_data_from_numpy(x, binary_data=True)
    wanted = tritonhttp.InferRequestedOutput("label", binary_data=False)
    result = triton.infer("two-outputs", [given], outputs=[wanted], headers=auth())
    (out,) = result.get_response()["outputs"]
    assert out["name"] == "label" and out["data"] == ort_run(model_files, "two-outputs", {"x": x})[1].tolist()
    np.testing.assert_array_equal(result.as_numpy("label"), ort_run(model_files, "two-outputs", {"x": x})[1])
    assert result.as_numpy("doubled") is None


@pytest.mark.parametrize("binary_in", [True, False])
@pytest.mark.parametrize("binary_out", [True, False])
def test_every_datatype_through_tritonclient(triton, binary_in, binary_out):
    for datatype in ONNX_TYPES:
        name = f"identity-{datatype.lower()}"
        if datatype == "BYTES":
            x = np.array([["a", "bé", ""], ["✓", "x" * 300, "z"]], dtype=object)
        elif datatype == "BOOL":
            x = np.array([[True, False, True], [False, False, True]])
        else:
            x = (RNG.random((2, 3)) * 100).astype(tritonhttp.triton_to_np_dtype(datatype))
        given = tritonhttp.InferInput("x", [2, 3], datatype)
        given.set_data_from_numpy(x, binary_data=binary_in)
        result = triton.infer(
            name, [given], outputs=[tritonhttp.InferRequestedOutput("y", binary_data=binary_out)], headers=auth()
        )
        y = result.as_numpy("y")
        if datatype == "BYTES":
            expected = [v.encode() for v in x.reshape(-1)]
            assert [v if isinstance(v, bytes) else v.encode() for v in y.reshape(-1)] == expected
        else:
            assert y.dtype == x.dtype, datatype
            np.testing.assert_array_equal(y, x)


def test_tritonclient_sees_the_error_message(triton):
    given = tritonhttp.InferInput("x", [2, 5], "FP32")
    given.set_data_from_numpy(np.zeros((2, 5), np.float32))
    with pytest.raises(InferenceServerException, match=r"the model expects \[-1, 4\]"):
        triton.infer("add", [given], headers=auth())


# ------------------------------------------------------------------------------------------ plain HTTP


def infer_doc(data, shape=(1, 4), **extra):
    return {"inputs": [{"name": "x", "datatype": "FP32", "shape": list(shape), "data": data}], **extra}


def test_json_request_with_nested_data_gets_a_json_response(http):
    response = http.post(
        "/v2/models/add/infer", json=infer_doc([[1, 2, 3, 4], [5, 6, 7, 8]], (2, 4), id="abc"), headers=auth()
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert "inference-header-content-length" not in response.headers
    assert response.json() == {
        "model_name": "add",
        "model_version": "1",
        "id": "abc",
        "outputs": [{"name": "y", "datatype": "FP32", "shape": [2, 4], "data": [2, 3, 4, 5, 6, 7, 8, 9]}],
    }


def test_binary_output_response_framing(http):
    response = http.post(
        "/v2/models/add/infer", headers=auth(), json=infer_doc([1, 2, 3, 4], parameters={"binary_data_output": True})
    )
    assert response.headers["content-type"] == "application/octet-stream"
    length = int(response.headers["inference-header-content-length"])
    header = orjson.loads(response.content[:length])
    assert header["outputs"][0]["parameters"] == {"binary_data_size": 16}
    assert np.frombuffer(response.content[length:], "<f4").tolist() == [2, 3, 4, 5]


BINARY_HEADER = orjson.dumps(
    {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}]}
)
BAD_REQUESTS = [
    ("malformed JSON", b"{", {}, 400, "malformed JSON"),
    (
        "unknown input",
        orjson.dumps({"inputs": [{"name": "q", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}),
        {},
        400,
        "unknown input 'q'",
    ),
    (
        "wrong datatype",
        orjson.dumps({"inputs": [{"name": "x", "datatype": "INT32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}),
        {},
        400,
        "expects FP32",
    ),
    ("rank", orjson.dumps(infer_doc([1, 2, 3, 4], (4,))), {}, 400, "rank 2"),
    ("fixed dim", orjson.dumps(infer_doc([1, 2, 3], (1, 3))), {}, 400, "expects [-1, 4]"),
    ("data length", orjson.dumps(infer_doc([1, 2, 3], (1, 4))), {}, 400, "has 3 elements"),
    ("unknown output", orjson.dumps(infer_doc([1, 2, 3, 4], outputs=[{"name": "zz"}])), {}, 400, "unknown output 'zz'"),
    (
        "header past body",
        orjson.dumps(infer_doc([1, 2, 3, 4])),
        {"Inference-Header-Content-Length": "9999"},
        400,
        "outside the body",
    ),
    (
        "sizes",
        BINARY_HEADER + b"\0" * 20,
        {"Inference-Header-Content-Length": str(len(BINARY_HEADER))},
        400,
        "4 bytes beyond the JSON header",
    ),
    ("binary without header", BINARY_HEADER, {}, 400, "no Inference-Header-Content-Length"),
]


@pytest.mark.parametrize("case, body, headers, status, message", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_get_4xx_with_an_error(http, case, body, headers, status, message):
    response = http.post("/v2/models/add/infer", content=body, headers={**auth(), **headers})
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


def test_compressed_requests_are_415(triton):
    given = tritonhttp.InferInput("x", [1, 4], "FP32")
    given.set_data_from_numpy(np.zeros((1, 4), np.float32))
    with pytest.raises(InferenceServerException, match="Content-Encoding 'gzip' is not supported"):
        triton.infer("add", [given], headers=auth(), request_compression_algorithm="gzip")


def test_an_input_given_twice_is_400(http):
    response = http.post(
        "/v2/models/add/infer",
        headers=auth(),
        json={"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}] * 2},
    )
    assert response.status_code == 400 and "given twice" in response.json()["error"]


def test_oversized_bodies_get_413(http):
    assert DEFAULT_MAX_BODY == RuntimeSettings(runtime_secret="s").max_body == 64 << 20
    big = b" " * (TEST_MAX_BODY + 1)
    response = http.post("/v2/models/add/infer", content=big, headers=auth())
    assert response.status_code == 413 and "over the limit" in response.json()["error"]
    chunked = http.post("/v2/models/add/infer", content=iter([b" " * TEST_MAX_BODY, b" "]), headers=auth())
    assert chunked.status_code == 413 and "over the limit" in chunked.json()["error"]


@pytest.mark.parametrize(
    "error, status",
    [
        (InferenceTimeout("ran past 30000 ms"), 504),
        (ModelUnavailable("the model's process ran out of memory"), 503),
        (InferenceInputError("index out of range"), 400),
    ],
)
def test_host_errors_map_to_statuses(runtime, http, error, status):
    runtime.host.fail_with["add"] = error
    response = http.post("/v2/models/add/infer", json=infer_doc([1, 2, 3, 4]), headers=auth())
    assert response.status_code == status and response.json() == {"error": str(error)}


def test_a_model_that_is_not_ready_is_503(runtime, http):
    runtime.host.not_ready["restarting"] = {
        "name": "restarting",
        "version": "1",
        "state": "UNAVAILABLE",
        "reason": "crashed; restarting",
    }
    try:
        for response in (
            http.get("/v2/models/restarting", headers=auth()),
            http.post("/v2/models/restarting/infer", json=infer_doc([1, 2, 3, 4]), headers=auth()),
        ):
            assert response.status_code == 503 and "crashed; restarting" in response.json()["error"]
    finally:
        del runtime.host.not_ready["restarting"]


# ------------------------------------------------------------------------------------------ credentials


def test_model_routes_need_a_credential(http):
    for method, path in (("GET", "/v2/models/add"), ("GET", "/v2/models/add/ready"), ("POST", "/v2/models/add/infer")):
        response = http.request(method, path, json=infer_doc([1, 2, 3, 4]))
        assert response.status_code == 401 and "credentials required" in response.json()["error"]
        response = http.request(method, path, json=infer_doc([1, 2, 3, 4]), headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401 and response.json() == {"error": "invalid or revoked credential"}


def test_every_credential_form_is_accepted(http):
    for headers in (
        {"Authorization": f"Bearer {ADD_ONLY_KEY}"},
        {"Authorization": f"Token {ADD_ONLY_KEY}"},
        {"X-Modelhub-Key": ADD_ONLY_KEY},
    ):
        assert http.get("/v2/models/add", headers=headers).status_code == 200


def test_forbidden_and_unknown_look_alike_to_the_caller(http):
    unknown = http.get("/v2/models/no-such-model", headers=auth())
    hidden = http.get("/v2/models/two-outputs", headers={"X-Modelhub-Key": ADD_ONLY_KEY})  # the table says 404
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json() == {"error": "model 'no-such-model' is not found"}
    assert hidden.json() == {"error": "model 'two-outputs' is not found"}
    forbidden = http.get("/v2/models/identity-fp32", headers={"X-Modelhub-Key": ADD_ONLY_KEY})
    assert forbidden.status_code == 403
    assert http.get("/v2/models/Bad..Name", headers=auth()).status_code == 404


def test_repository_and_stats_routes_need_the_runtime_secret(http):
    for path in ("/v2/repository/index", "/v2/repository/models/add/unload"):
        for headers in ({}, AUTH, {"Authorization": f"Token {SECRET}"}):
            response = http.post(path, headers=headers)
            assert response.status_code == 401 and "runtime secret" in response.json()["error"]
    assert http.get("/v2/models/add/stats", headers=auth()).status_code == 401
    assert http.get("/v2/models/add", headers=ADMIN).status_code == 401  # the secret is not an endpoint key


def portal_runtime(portal_url, host, ttl=5.0):
    auth = PortalAuthorizer(portal_url, SECRET, ttl=ttl, timeout=1.0)
    return ServerThread(
        create_app(host, auth=auth, metrics=RuntimeMetrics(), settings=RuntimeSettings(runtime_secret=SECRET))
    )


def test_portal_decisions_are_cached_and_revocation_lands_after_the_ttl(fake_portal, runtime):
    fake_portal.decisions[("add", sha("k1"))] = 200
    fake_portal.decisions[("two-outputs", sha("k1"))] = 404
    with portal_runtime(fake_portal.url, runtime.host, ttl=0.3) as server, httpx.Client(base_url=server.url) as c:
        key = {"Authorization": "Bearer k1"}
        assert c.post("/v2/models/add/infer", json=infer_doc([1, 2, 3, 4]), headers=key).status_code == 200
        assert fake_portal.calls == [{"model": "add", "credential_sha256": sha("k1")}]
        assert c.post("/v2/models/add/infer", json=infer_doc([1, 2, 3, 4]), headers=key).status_code == 200
        assert len(fake_portal.calls) == 1  # cached
        for _ in range(2):  # the portal's 404 is cached too, and reads like an unknown model
            response = c.get("/v2/models/two-outputs", headers=key)
            assert response.status_code == 404 and response.json() == {"error": "model 'two-outputs' is not found"}
        assert len(fake_portal.calls) == 2
        del fake_portal.decisions[("add", sha("k1"))]  # revoked
        assert c.get("/v2/models/add", headers=key).status_code == 200  # still cached
        time.sleep(0.35)
        assert c.get("/v2/models/add", headers=key).status_code == 401
        assert len(fake_portal.calls) == 3


def test_concurrent_misses_make_one_portal_call(fake_portal, runtime):
    fake_portal.delay = 0.2
    fake_portal.decisions[("add", sha("k2"))] = 200
    with portal_runtime(fake_portal.url, runtime.host) as server, httpx.Client(base_url=server.url) as client:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda _: httpx.get(f"{server.url}/v2/models/add", headers={"X-Modelhub-Key": "k2"}).status_code,
                    range(8),
                )
            )
        assert statuses == [200] * 8 and len(fake_portal.calls) == 1
        assert client.get("/v2/models/add", headers={"X-Modelhub-Key": "k3"}).status_code == 401


def test_portal_unreachable_is_503_and_not_cached(runtime):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: connection refused
    try:
        with portal_runtime(dead, runtime.host) as server, httpx.Client(base_url=server.url) as client:
            for _ in range(2):
                response = client.get("/v2/models/add", headers=auth())
                assert response.status_code == 503 and "cannot be checked" in response.json()["error"]
    finally:
        sock.close()


def test_the_cache_is_bounded():
    async def go():
        auth = PortalAuthorizer(
            "http://portal.invalid",
            SECRET,
            max_entries=3,
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"status": 200})),
        )
        for i in range(5):
            assert await auth.authorize("m", f"{i:064x}") == 200
        await auth.close()
        return auth._cache

    assert [k[1][-1] for k in asyncio.run(go())] == ["2", "3", "4"]


# ------------------------------------------------------------------------------------------ repository


def test_repository_load_infer_unload(runtime, http, model_files):
    params = {
        "path": str(model_files["add"]),
        "version": 3,
        "max_batch_size": 8,
        "max_batch_delay_ms": 1,
        "timeout_ms": 1000,
        "memory_limit_bytes": 1 << 30,
        "sha256": "",
    }
    response = http.post("/v2/repository/models/add-copy/load", json={"parameters": params}, headers=ADMIN)
    assert response.status_code == 200 and response.json() == {"name": "add-copy", "load": True, "versions": ["3"]}
    entries = http.post("/v2/repository/index", json={"ready": True}, headers=ADMIN).json()
    assert {"name": "add-copy", "version": "3", "state": "READY", "reason": ""} in entries
    assert (
        http.post("/v2/models/add-copy/versions/3/infer", json=infer_doc([0, 0, 0, 0]), headers=auth()).json()[
            "model_version"
        ]
        == "3"
    )
    assert http.post("/v2/repository/models/add-copy/unload", headers=ADMIN).json() == {
        "name": "add-copy",
        "unload": True,
    }
    assert http.get("/v2/models/add-copy", headers=auth()).status_code == 404
    assert http.post("/v2/repository/models/add-copy/unload", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    "name, body, message",
    [
        ("Bad_Name", {"parameters": {"path": "x.onnx"}}, "must match"),
        ("m1", {}, "needs"),
        ("m1", {"parameters": {}}, "'path'"),
        ("m1", {"parameters": {"path": "x.onnx", "gpu": True}}, "unknown load parameter(s) ['gpu']"),
        ("m1", {"parameters": {"path": "x.onnx", "timeout_ms": "soon"}}, "'timeout_ms' must be"),
        ("m1", {"parameters": {"path": "x.onnx", "max_batch_size": -1}}, "non-negative"),
        ("m1", {"parameters": {"path": "/nonexistent.onnx"}}, "could not be loaded"),
    ],
)
def test_bad_load_requests_are_400(http, name, body, message):
    response = http.post(f"/v2/repository/models/{name}/load", json=body, headers=ADMIN)
    assert response.status_code == 400 and message in response.json()["error"]


# ------------------------------------------------------------------------------------------ metrics and stats


def test_metrics_count_requests_failures_latency_batches(http):
    http.post("/v2/models/add/infer", json=infer_doc([1, 2, 3, 4]), headers=auth())
    http.post("/v2/models/add/infer", json=infer_doc([1, 2, 3]), headers=auth())
    http.post("/v2/models/unknown-xyz/infer", json=infer_doc([1, 2, 3]), headers=auth())
    http.post("/v2/models/add/infer", json=infer_doc([1, 2, 3, 4]))
    text = http.get("/metrics").text
    assert 'modelhub_runtime_requests_total{code="200",model="add"}' in text
    assert 'modelhub_runtime_request_failures_total{code="400",model="add"}' in text
    assert 'modelhub_runtime_request_failures_total{code="404",model="_unknown"}' in text
    assert 'modelhub_runtime_request_failures_total{code="401",model="add"}' in text
    assert 'modelhub_runtime_request_duration_seconds_bucket{le="0.01",model="add"}' in text
    assert 'modelhub_runtime_batch_size_count{model="add"}' in text
    assert "modelhub_runtime_inflight_requests 0.0" in text


def test_inflight_gauge_counts_requests_being_served(runtime, http):
    runtime.host.delay["identity-int8"] = 2.0
    body = {"inputs": [{"name": "x", "datatype": "INT8", "shape": [1, 3], "data": [1, 2, 3]}]}
    try:
        with ThreadPoolExecutor(2) as pool:
            slow = [
                pool.submit(httpx.post, f"{runtime.url}/v2/models/identity-int8/infer", json=body, headers=auth())
                for _ in range(2)
            ]
            deadline = time.monotonic() + 1.5  # both are in the runtime well before their 2 s are over
            while "modelhub_runtime_inflight_requests 2.0" not in http.get("/metrics").text:
                assert time.monotonic() < deadline, "the gauge never showed both requests"
                time.sleep(0.02)
            assert [f.result().status_code for f in slow] == [200, 200]
    finally:
        del runtime.host.delay["identity-int8"]
    assert "modelhub_runtime_inflight_requests 0.0" in http.get("/metrics").text


def test_stats_of_a_model(http, triton, model_files):
    params = {"path": str(model_files["two-outputs"])}
    assert (
        http.post("/v2/repository/models/stats-model/load", json={"parameters": params}, headers=ADMIN).status_code
        == 200
    )
    x = RNG.normal(size=(40, 4)).astype(np.float32)
    for chunk in np.split(x, 10):
        given = tritonhttp.InferInput("x", list(chunk.shape), "FP32")
        given.set_data_from_numpy(chunk)
        triton.infer("stats-model", [given], headers=auth())
    stats = http.get("/v2/models/stats-model/stats", headers=ADMIN).json()
    assert stats["requests"] == 10 and stats["model"] == "stats-model"
    column = stats["inputs"]["x"]
    assert column["count"] == 40 and column["non_finite_rows"] == 0
    np.testing.assert_allclose(column["mean"], x.astype(np.float64).mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(column["variance"], x.astype(np.float64).var(axis=0, ddof=1), rtol=1e-9)
    np.testing.assert_allclose(column["min"], x.min(axis=0))
    labels, counts = np.unique(np.argmax(x, axis=1), return_counts=True)
    assert stats["outputs"]["label"] == {"values": {str(k): int(v) for k, v in zip(labels, counts)}, "other": 0}
    assert "doubled" not in stats["outputs"]  # float outputs have no value counts
    assert len(stats["samples"]) == 10 and stats["samples"][0]["inputs"]["x"]["shape"] == [4, 4]
    hour = stats["last_hour"]
    assert (
        hour["requests"] == 10 and hour["latency_p50_ms"] > 0 and sum(m["requests"] for m in hour["per_minute"]) == 10
    )
    assert http.get("/v2/models/no-such/stats", headers=ADMIN).status_code == 404
    http.post("/v2/repository/models/stats-model/unload", headers=ADMIN)
    assert http.get("/v2/models/stats-model/stats", headers=ADMIN).status_code == 404


# ------------------------------------------------------------------------------------------ process


def test_shutdown_closes_the_host(model_files):
    host = InProcessHost()
    load_all(host, {"add": model_files["add"]})
    app = create_app(
        host, auth=StaticAuthorizer({}), metrics=RuntimeMetrics(), settings=RuntimeSettings(runtime_secret=SECRET)
    )
    with ServerThread(app):
        assert not host.closed
    assert host.closed


def test_settings_from_arguments_and_environment():
    env = {
        "MODELHUB_RUNTIME_SECRET": SECRET,
        "MODELHUB_PORTAL_URL": "http://portal:8000",
        "MODELHUB_RUNTIME_STATE_DIR": "/srv/runtime",
        "MODELHUB_RUNTIME_MAX_BODY": "1024",
    }
    settings = parse_settings(["--port", "9000"], env)
    assert (settings.port, settings.portal_url, settings.state_dir, settings.max_body) == (
        9000,
        "http://portal:8000",
        "/srv/runtime",
        1024,
    )
    assert parse_settings(["--portal-url", "http://other", "--max-body", "5"], env).max_body == 5
    with pytest.raises(SettingsError, match="MODELHUB_RUNTIME_SECRET"):
        parse_settings([], {})
    with pytest.raises(SettingsError, match="MODELHUB_RUNTIME_MAX_BODY"):
        parse_settings([], {**env, "MODELHUB_RUNTIME_MAX_BODY": "lots"})
    done = subprocess.run(
        [sys.executable, "-m", "registry.runtime"], capture_output=True, text=True, env={"PATH": "/usr/bin"}, timeout=60
    )
    assert done.returncode == 2 and "MODELHUB_RUNTIME_SECRET" in done.stderr


def test_secrets_from_files(tmp_path):
    """MODELHUB_RUNTIME_SECRET_FILE and MODELHUB_RUNTIME_KEYS_FILE, as a mounted secret hands them over (with a
    trailing newline); a variable set both ways, or a file that cannot be read, stops the start."""
    key_hash = "ab" * 32
    (tmp_path / "secret").write_text(SECRET + "\n")
    (tmp_path / "keys").write_text(key_hash + "\n")
    env = {
        "MODELHUB_RUNTIME_SECRET_FILE": str(tmp_path / "secret"),
        "MODELHUB_RUNTIME_KEYS_FILE": str(tmp_path / "keys"),
    }
    settings = parse_settings([], env)
    assert (settings.runtime_secret, settings.static_key_hashes) == (SECRET, (key_hash,))
    with pytest.raises(SettingsError, match="MODELHUB_RUNTIME_SECRET and MODELHUB_RUNTIME_SECRET_FILE are both set"):
        parse_settings([], {**env, "MODELHUB_RUNTIME_SECRET": SECRET})
    with pytest.raises(SettingsError, match="MODELHUB_RUNTIME_KEYS_FILE=.* cannot be read"):
        parse_settings([], {**env, "MODELHUB_RUNTIME_KEYS_FILE": str(tmp_path / "missing")})


def test_build_app_wires_the_process_host_metrics_and_portal(monkeypatch, tmp_path):
    import types

    from registry.runtime.server import build_app

    made = {}

    class ProcessModelHost(InProcessHost):
        def __init__(self, *, state_dir, metrics):
            super().__init__(metrics)
            made.update(state_dir=state_dir, metrics=metrics)

    # The real registry.runtime.host is another engineer's; build_app imports it only when called.
    monkeypatch.setitem(sys.modules, "registry.runtime.host", types.SimpleNamespace(ProcessModelHost=ProcessModelHost))
    settings = parse_settings(
        ["--state-dir", str(tmp_path / "state"), "--portal-url", "http://portal:1", "--auth-ttl", "2"],
        {"MODELHUB_RUNTIME_SECRET": SECRET},
    )
    app = build_app(settings)
    assert made == {"state_dir": str(tmp_path / "state"), "metrics": app.metrics}
    assert (tmp_path / "state").is_dir() and isinstance(app.auth, PortalAuthorizer) and app.auth.ttl == 2
    assert app.auth._url == "http://portal:1/api/v1/internal/runtime/authorize"


def test_main_serves_until_sigterm(tmp_path):
    import signal
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The process host is another engineer's: the in-process one stands in for it, under its name.
    script = (
        "import sys, types\n"
        "from tests.registry.runtime.inprocess_host import InProcessHost\n"
        "class ProcessModelHost(InProcessHost):\n"
        "    def __init__(self, *, state_dir, metrics):\n"
        "        super().__init__(metrics)\n"
        "sys.modules['registry.runtime.host'] = types.SimpleNamespace(ProcessModelHost=ProcessModelHost)\n"
        "from registry.runtime.server import main\n"
        f"sys.exit(main(['--port', '{port}', '--state-dir', {str(tmp_path / 'state')!r}]))\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script],
        env={"MODELHUB_RUNTIME_SECRET": SECRET, "PATH": "/usr/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v2/health/live", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, server.stdout.read()
                time.sleep(0.05)
        assert response.json() == {"live": True} and "server" not in response.headers
        assert httpx.post(f"http://127.0.0.1:{port}/v2/repository/index", headers=ADMIN).json() == []
    finally:
        server.send_signal(signal.SIGTERM)
        # A graceful stop: in-flight requests finish, the host closes (lifespan), the process exits 0.
        assert server.wait(10) == 0
    assert "shutdown complete" in server.stdout.read()


def test_a_shadow_gets_a_copy_of_live_traffic_and_its_agreement_is_counted(
    http, triton, model_files, runtime, tmp_path
):
    from onnx import TensorProto, helper

    from tests.registry.runtime.inprocess_host import _model_bytes

    candidate = tmp_path / "candidate.onnx"  # the same signature; its label is the argmin
    candidate.write_bytes(
        _model_bytes(
            [
                helper.make_node("Add", ["x", "x"], ["doubled"]),
                helper.make_node("ArgMin", ["x"], ["label"], axis=1, keepdims=0),
            ],
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
            [
                helper.make_tensor_value_info("doubled", TensorProto.FLOAT, ["batch", 4]),
                helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
            ],
        )
    )

    def load(name, path, **extra):
        return http.post(
            f"/v2/repository/models/{name}/load", json={"parameters": {"path": str(path), **extra}}, headers=ADMIN
        )

    assert load("shadow-live", model_files["two-outputs"]).status_code == 200
    assert load("shadow-cand", candidate, shadow_of="Not A Name").status_code == 400
    assert load("shadow-cand", candidate, shadow_of="shadow-cand").status_code == 400
    assert load("shadow-cand", candidate, shadow_of="shadow-live").status_code == 200
    x = RNG.normal(size=(40, 4)).astype(np.float32)
    # The portal's own check calls the shadow directly: answered, but kept out of its window of mirrored traffic.
    direct = tritonhttp.InferInput("x", [4, 4], "FP32")
    direct.set_data_from_numpy(x[:4])
    np.testing.assert_array_equal(
        triton.infer("shadow-cand", [direct], headers=auth()).as_numpy("label"), x[:4].argmin(1)
    )
    ids = set()
    for chunk in np.split(x, 10):
        given = tritonhttp.InferInput("x", list(chunk.shape), "FP32")
        given.set_data_from_numpy(chunk)
        answer = triton.infer("shadow-live", [given], headers=auth())
        ids.add(answer.get_response()["id"])
        np.testing.assert_array_equal(answer.as_numpy("label"), chunk.argmax(axis=1))  # callers get the live answer
    shadow = runtime.app.monitoring._monitor("shadow-cand")
    deadline = time.monotonic() + 10
    while shadow.requests < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert shadow.requests == 10
    shadow.fold()
    window = shadow.window
    assert window.rows == 40 and window.failures == 0 and window.latency_ms.count == 10
    differ = int((x.argmax(axis=1) != x.argmin(axis=1)).sum())
    assert window.agreement["label"] == {"rows": 40, "differ": differ}
    assert window.agreement["doubled"] == {"rows": 40, "abs_diff": 0.0, "values": 160}
    assert {p[0] for p in window.predictions} == ids  # the candidate's predictions under the live requests' ids
    # Unloading the candidate stops the mirror.
    assert http.post("/v2/repository/models/shadow-cand/unload", headers=ADMIN).status_code == 200
    given = tritonhttp.InferInput("x", [1, 4], "FP32")
    given.set_data_from_numpy(x[:1])
    triton.infer("shadow-live", [given], headers=auth())
    assert "shadow-live" not in runtime.app._shadows
    http.post("/v2/repository/models/shadow-live/unload", headers=ADMIN)


def test_a_restarted_runtime_mirrors_to_the_shadows_it_restored(model_files):
    """The host saves every load's parameters, `shadow_of` included; after a restart the app routes copies of the
    live model's traffic to the restored shadow again."""
    from registry.runtime.interface import ModelConfig

    class RestoringHost(InProcessHost):
        async def restore(self):
            configs = [
                ModelConfig(name="live", path=str(model_files["add"])),
                ModelConfig(name="live.shadow", path=str(model_files["add"]), version="2", shadow_of="live"),
            ]
            for config in configs:
                await self.load(config)
            return configs

    host = RestoringHost()
    app = create_app(
        host, auth=StaticAuthorizer({}), metrics=RuntimeMetrics(), settings=RuntimeSettings(runtime_secret=SECRET)
    )
    with ServerThread(app):
        assert app._shadows == {"live": "live.shadow"}

"""Endpoints: the list of the caller's, and one endpoint's page with live status, examples to copy and a chart."""

import json
import shlex
from urllib.parse import urlsplit

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from marketplace.pages.monitoring import monitoring_context
from marketplace.pages.responses import flash_outcome, portal_view
from registry.endpoints.conformance import ConformanceFailure, generated_inputs, v2_datatype
from registry.endpoints.lifecycle import is_settled
from registry.endpoints.models import EndpointStatus
from registry.endpoints.selectors import (
    endpoint_get,
    endpoint_key_list,
    endpoint_list,
    endpoint_metrics,
    endpoint_shadow_latest,
    endpoints_serving,
    shadow_candidates,
)
from registry.endpoints.services import endpoint_key_create, endpoint_key_revoke, shadow_start, shadow_stop
from registry.examples.selectors import input_example_get
from registry.kernel.errors import DomainError, NotFound
from registry.monitoring.shadows import shadow_evidence

KEY_PLACEHOLDER = "$MODELHUB_KEY"


@portal_view
def endpoint_index(request):
    endpoints = list(endpoint_list(user=request.user))
    endpoints_serving(endpoints)
    return render(request, "pages/endpoints.html", {"endpoints": endpoints})


def _example_inputs(version) -> tuple[list[dict], str]:
    """The tensors the snippets send and where they come from: the version's input example ("input_example"),
    carried inline when it is small (registry.examples.arrays.INLINE_MAX_VALUES); "input_example_url" for a
    larger one, which the snippets fetch from the API instead (no tensors); else values generated from the
    signature ("generated")."""
    example = input_example_get(version=version)
    if example is not None:
        return (example.inline, "input_example") if example.inline is not None else ([], "input_example_url")
    inputs = (version.signature or {}).get("inputs") or []
    try:
        tensors = generated_inputs(inputs, seed=0)
    except ConformanceFailure:
        return [], "generated"
    for tensor in tensors:
        if tensor["datatype"] in ("FP32", "FP64", "FP16"):
            tensor["data"] = [round(v, 3) for v in tensor["data"]]
    return tensors, "generated"


def _numpy_type(datatype: str) -> str:
    if datatype == "BYTES":
        return "object_"
    return {"FP32": "float32", "FP64": "float64", "FP16": "float16", "BOOL": "bool_"}.get(datatype, datatype.lower())


def examples(endpoint, key: str | None, *, example_url: str = "") -> dict:
    """curl, Python `requests` and Python `tritonclient` calls for this endpoint's signature, on the version's
    input example when it has one (fetched from `example_url`, the API's, when too large to show inline).

    With `key` (shown once, right after deploying) the examples carry it; otherwise a placeholder."""
    credential = key or KEY_PLACEHOLDER
    base = (endpoint.url or "").rstrip("/") or f"http://RUNTIME/v2/models/{endpoint.name}"
    tensors, source = _example_inputs(endpoint.version)
    fetch = source == "input_example_url"
    header = f"Authorization: Bearer {credential}"
    host = urlsplit(base).netloc or "RUNTIME"
    outputs = [o.get("name") for o in (endpoint.version.signature or {}).get("outputs") or []]
    token = 'headers={"Authorization": "Token " + os.environ["MODELHUB_TOKEN"]}'
    fetch_lines = [f"body = requests.get({example_url!r}, {token}, timeout=30).json()"]
    if fetch:
        curl = (
            f'curl -sS -H "Authorization: Token $MODELHUB_TOKEN" {shlex.quote(example_url)} -o input_example.json && \\\n'
            f"curl -sS -X POST {shlex.quote(base + '/infer')} \\\n"
            f'  -H "{header}" \\\n'
            f"  -H 'Content-Type: application/json' \\\n"
            f"  -d @input_example.json"
        )
        body_lines = ["import os", "import requests", "", *fetch_lines]
        json_argument = "json=body"
    else:
        body = json.dumps({"inputs": tensors}, separators=(", ", ": "))
        curl = (
            f"curl -sS -X POST {shlex.quote(base + '/infer')} \\\n"
            f'  -H "{header}" \\\n'
            f"  -H 'Content-Type: application/json' \\\n"
            f"  -d {shlex.quote(body)}"
        )
        body_lines = ["import requests", ""]
        json_argument = f'json={{"inputs": {json.dumps(tensors)}}}'
    py_requests = "\n".join(
        [
            *body_lines,
            f"response = requests.post({base + '/infer'!r},",
            f'    headers={{"Authorization": "Bearer {credential}"}},',
            f"    {json_argument}, timeout=30)",
            "response.raise_for_status()",
            'print(response.json()["outputs"])',
        ]
    )
    lines = ["import os", "import requests"] if fetch else []
    lines += [
        "import numpy as np",
        "import tritonclient.http as httpclient",
        *(["from tritonclient.utils import triton_to_np_dtype"] if fetch else []),
        "",
        f"client = httpclient.InferenceServerClient({host!r})",
        f'headers = {{"Authorization": "Bearer {credential}"}}',
        "inputs = []",
    ]
    if fetch:
        lines += [
            *fetch_lines,
            'for t in body["inputs"]:',
            '    tensor = httpclient.InferInput(t["name"], t["shape"], t["datatype"])',
            '    data = np.array(t["data"], dtype=triton_to_np_dtype(t["datatype"])).reshape(t["shape"])',
            "    tensor.set_data_from_numpy(data)",
            "    inputs.append(tensor)",
        ]
    for tensor in tensors:
        lines += [
            f"tensor = httpclient.InferInput({tensor['name']!r}, {tensor['shape']!r}, {tensor['datatype']!r})",
            f"tensor.set_data_from_numpy(np.array({tensor['data']!r}, dtype=np.{_numpy_type(tensor['datatype'])})"
            f".reshape({tensor['shape']!r}))",
            "inputs.append(tensor)",
        ]
    lines += [f"result = client.infer({endpoint.name!r}, inputs, headers=headers)"]
    lines += [f"print(result.as_numpy({name!r}))" for name in outputs]
    described = tensors or (input_example_get(version=endpoint.version).tensors if fetch else [])
    return {
        "curl": curl,
        "requests": py_requests,
        "tritonclient": "\n".join(lines),
        "has_key": bool(key),
        "source": source,
        "inputs": [{"name": t["name"], "datatype": t["datatype"], "shape": t["shape"]} for t in described],
    }


def _example_path(version) -> str:
    asset = version.asset
    return reverse(
        "api:version-input-example", kwargs={"team": asset.team.slug, "slug": asset.slug, "version": version.version}
    )


def _status_context(endpoint) -> dict:
    endpoints_serving([endpoint])
    metrics = endpoint_metrics(endpoint=endpoint)
    return {
        "endpoint": endpoint,
        "metrics": metrics,
        "settled": is_settled(endpoint.status),
        "metrics_json": json.dumps(metrics),
    }


@portal_view
def endpoint_detail(request, endpoint_id):
    endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
    # Shown until the endpoint has settled (ready or failed), then forgotten: the key is never stored unhashed.
    session_key = f"endpoint-key-{endpoint.pk}"
    key = request.session.get(session_key)
    if key and is_settled(endpoint.status):
        del request.session[session_key]
    return _detail(request, endpoint, key)


def _detail(request, endpoint, key: str | None):
    context = {
        **_status_context(endpoint),
        "examples": examples(endpoint, key, example_url=request.build_absolute_uri(_example_path(endpoint.version))),
        "key": key,
        "keys": list(endpoint_key_list(endpoint=endpoint)),
        "placeholder": KEY_PLACEHOLDER,
        "signature_inputs": (endpoint.version.signature or {}).get("inputs") or [],
        "signature_outputs": (endpoint.version.signature or {}).get("outputs") or [],
        "datatype": v2_datatype,
        "monitoring": (monitoring := monitoring_context(endpoint)),
        **_shadow_context(endpoint),
        "monitoring_groups": [
            {"title": "Features", "charts": monitoring["features"]},
            {"title": "Predictions", "charts": monitoring["outputs"]},
        ],
    }
    response = render(request, "pages/endpoint.html", context)
    if key:
        response["Cache-Control"] = "no-store"
    return response


def _shadow_context(endpoint) -> dict:
    try:
        shadow = endpoint_shadow_latest(endpoint=endpoint)
    except NotFound:
        shadow = None
    return {
        "shadow": shadow,
        "shadow_evidence": shadow_evidence(version=shadow.version, endpoints=[endpoint]) if shadow else None,
        "shadow_candidates": shadow_candidates(endpoint=endpoint) if endpoint.status == EndpointStatus.READY else [],
    }


@require_POST
@portal_view
def endpoint_shadow_start(request, endpoint_id):
    """Mirror the endpoint's traffic to the candidate version chosen in the form."""
    endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
    flash_outcome(
        request,
        lambda: shadow_start(user=request.user, endpoint=endpoint, version=request.POST.get("version", "")),
        lambda shadow: f"{shadow.version.version} gets a copy of the endpoint's traffic once the worker loads it.",
    )
    return redirect("pages:endpoint", endpoint_id=endpoint.pk)


@require_POST
@portal_view
def endpoint_shadow_stop(request, endpoint_id):
    endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
    flash_outcome(
        request,
        lambda: shadow_stop(user=request.user, endpoint=endpoint),
        lambda shadow: f"Shadow of {shadow.version.version} stopped; what it recorded stays.",
    )
    return redirect("pages:endpoint", endpoint_id=endpoint.pk)


@require_POST
@portal_view
def endpoint_key_new(request, endpoint_id):
    """A new key for the endpoint, shown once in this answer (its examples carry it); members of its team."""
    endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
    try:
        _, key = endpoint_key_create(user=request.user, endpoint=endpoint)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("pages:endpoint", endpoint_id=endpoint.pk)
    return _detail(request, endpoint, key)


@require_POST
@portal_view
def endpoint_key_revoke_view(request, endpoint_id, key_id):
    endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
    flash_outcome(
        request,
        lambda: endpoint_key_revoke(user=request.user, endpoint=endpoint, key_id=key_id),
        lambda revoked: f"Key {revoked.prefix}… revoked; the runtime refuses it within seconds.",
    )
    return redirect("pages:endpoint", endpoint_id=endpoint.pk)


@portal_view
def endpoint_status(request, endpoint_id):
    """The status block (htmx polls it): status, URL and the runtime's figures; reloads the page once settled."""
    endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
    response = render(request, "pages/partials/endpoint_status.html", _status_context(endpoint))
    if is_settled(endpoint.status) and request.GET.get("settled") == "0":
        response["HX-Refresh"] = "true"  # the URL and examples appear with the ready endpoint
    return response

"""Scoped, expiring tokens. The scope matrix is generated from the URL conf: every API route and method names the
scope a token needs (a new route without one fails here), a token without it gets a 403 that names it, and a token
with only that scope gets past the check. Sessions (people in the portal) are not limited by scopes."""

import re
import uuid
from datetime import timedelta
from hashlib import sha256

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from marketplace.api.views import ANY_SCOPE, RuntimeOnlyAPIView, ScopedMixin
from registry.endpoints.services import runtime_authorize
from registry.tokens.models import ALL_SCOPES, APIToken
from registry.tokens.services import token_create
from tests.registry.endpoint_fixtures import approved_model

pytestmark = pytest.mark.django_db
METHODS = ("get", "post", "put", "patch", "delete")
# A value for each URL parameter, so every route resolves (the scope is checked before the view looks anything up).
SAMPLES = {
    "team": "vision", "slug": "clf", "version": "1.0.0", "alias": "production", "pk": "1", "key_id": "1",
    "report_id": "1", "edge_id": "1", "number": "1", "session_id": str(uuid.uuid4()), "username": "bob",
    "repo_type": "models", "revision": "main", "path": "README.md", "name": "nightly",
}  # fmt: skip


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _path(route: str) -> str:
    """`route` with a sample value in each parameter: `<str:slug>`, and a regex's `(?P<slug>...)` groups (whose
    patterns nest parentheses, so they are skipped by counting)."""
    path = route
    while (start := path.find("(?P<")) >= 0:
        name = path[start + 4 : path.index(">", start)]
        depth, end = 0, start
        for end in range(start, len(path)):
            depth += {"(": 1, ")": -1}.get(path[end], 0) if path[end - 1] != "\\" else 0
            if depth == 0:
                break
        path = path[:start] + SAMPLES[name] + path[end + 1 :]
    path = re.sub(r"\(\?:([^()]*)\)\?", r"\1", path)  # an optional part, given
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES[m[1]], path)
    return "/" + path.replace("^", "").replace("$", "")


def scoped_operations() -> list[tuple[str, str, type]]:
    """(path, method, view class) of every API operation a token can reach."""
    found = []
    for route, callback in _routes(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if view is None or not issubclass(view, ScopedMixin) or issubclass(view, RuntimeOnlyAPIView):
            continue
        path = _path(route)
        assert get_resolver().resolve(path).func is callback, path
        found += [(path, method.upper(), view) for method in METHODS if hasattr(view, method)]
    return found


OPERATIONS = scoped_operations()


def _client(client_for, user, scopes):
    _, key = token_create(user=user, name=f"scoped {len(scopes)}", scopes=list(scopes))
    client = client_for(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_every_api_operation_names_the_scope_a_token_needs():
    assert len(OPERATIONS) > 60  # the whole API, Hugging Face routes included
    missing = [(path, method) for path, method, view in OPERATIONS if view.required_scope(method) is None]
    assert not missing, f"these operations name no scope (set write_scope on the view): {missing}"
    named = {view.required_scope(method) for _, method, view in OPERATIONS}
    assert named <= {*ALL_SCOPES, ANY_SCOPE} and set(ALL_SCOPES) <= named  # every scope guards something


def test_a_token_without_the_scope_gets_a_403_naming_it_and_one_with_only_it_gets_past(alice, team, client_for):
    assert team  # alice is a maintainer of `vision`, so the routes resolve to things she could act on
    without = {scope: _client(client_for, alice, set(ALL_SCOPES) - {scope}) for scope in ALL_SCOPES}
    only = {scope: _client(client_for, alice, {scope}) for scope in ALL_SCOPES}
    refused, let_through = [], []
    for path, method, view in OPERATIONS:
        scope = view.required_scope(method)
        if scope == ANY_SCOPE:
            continue
        answer = getattr(without[scope], method.lower())(path, {}, format="json")
        body = answer.json() if answer["Content-Type"].startswith("application/json") else {}
        if not (answer.status_code == 403 and body.get("code") == "insufficient_scope" and scope in body["detail"]):
            refused.append((method, path, answer.status_code, body))
        answer = getattr(only[scope], method.lower())(path, {}, format="json")
        if answer.status_code == 403 and answer.json().get("code") == "insufficient_scope":
            let_through.append((method, path))
    assert not refused, refused[:5]
    assert not let_through, let_through[:5]


def test_a_session_is_not_limited_by_scopes(alice, client):
    client.force_login(alice)
    assert (
        client.post("/api/v1/teams/", {"slug": "other", "name": "Other"}, content_type="application/json").status_code
        == 201
    )


def test_tokens_expire_after_the_default_or_the_days_asked_within_the_limit(alice, alice_api, anon_api, settings):
    created = alice_api.post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    assert created["scopes"] == list(ALL_SCOPES)
    token = APIToken.objects.get(pk=created["id"])
    assert round((token.expires_at - token.created_at).total_seconds() / 86400) == settings.MODELHUB_TOKEN_DEFAULT_DAYS
    for days in (0, settings.MODELHUB_TOKEN_MAX_DAYS + 1):
        refused = alice_api.post("/api/v1/tokens/", {"name": "x", "expires_in_days": days}, format="json")
        assert refused.status_code == 400 and "expires_in_days" in refused.json()["detail"]
    unknown = alice_api.post("/api/v1/tokens/", {"name": "x", "scopes": ["everything"]}, format="json")
    assert unknown.status_code == 400 and "scopes" in unknown.json()["detail"]

    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {created['key']}")
    assert anon_api.get("/api/v1/assets/").status_code == 200
    APIToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = anon_api.get("/api/v1/assets/")
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert "expired at" in expired.json()["detail"]


def test_use_records_the_callers_address(alice, alice_api, anon_api):
    created = alice_api.post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {created['key']}")
    anon_api.get("/api/v1/assets/", REMOTE_ADDR="203.0.113.7")
    listed = {t["name"]: t for t in alice_api.get("/api/v1/tokens/").json()["results"]}
    assert listed["ci"]["last_used_ip"] == "203.0.113.7" and listed["ci"]["last_used_at"]


def test_a_token_makes_only_weaker_tokens(alice, client_for):
    parent, key = token_create(user=alice, name="pipeline", scopes=["catalogue:read", "deploy"], expires_in_days=7)
    api = client_for(alice)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    stronger = api.post("/api/v1/tokens/", {"name": "more", "scopes": ["versions:write"]}, format="json")
    assert stronger.status_code == 403 and stronger.json()["code"] == "insufficient_scope"
    assert "versions:write" in stronger.json()["detail"]
    weaker = api.post(
        "/api/v1/tokens/", {"name": "less", "scopes": ["catalogue:read"], "expires_in_days": 90}, format="json"
    )
    assert weaker.status_code == 201
    assert APIToken.objects.get(pk=weaker.json()["id"]).expires_at <= parent.expires_at  # never outlives it


def test_the_runtime_lets_a_token_call_only_with_the_call_scope_and_before_it_expires(alice, bob, dave, team, tmp_path):
    from registry.endpoints.services import endpoint_create

    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0", name="scorer")
    calls, call_key = token_create(user=bob, name="app", scopes=["endpoints:call"])
    _, read_key = token_create(user=bob, name="reader", scopes=["catalogue:read"])
    assert runtime_authorize(model="scorer", credential_sha256=sha256(call_key.encode()).hexdigest()) == 200
    assert runtime_authorize(model="scorer", credential_sha256=sha256(read_key.encode()).hexdigest()) == 403
    APIToken.objects.filter(pk=calls.pk).update(expires_at=timezone.now())
    assert runtime_authorize(model="scorer", credential_sha256=sha256(call_key.encode()).hexdigest()) == 401

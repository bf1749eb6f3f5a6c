"""Hostile input, table-driven, on PostgreSQL: every case is a 4xx JSON error with a message, and
leaves nothing half-written (no row, no blob, no audit event)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, transaction
from django.test import RequestFactory

from marketplace.api.exceptions import exception_handler
from registry.artifacts.models import Blob
from registry.artifacts.uploads import HashingUploadHandler
from registry.assets.models import Asset
from registry.kernel.audit.models import AuditEvent
from registry.teams.models import Team
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_team, onnx_bytes

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")

ASSET = "/api/v1/assets/vision/iris/"
VERSIONS = ASSET + "versions/"


@pytest.fixture
def iris(alice, team):
    asset = make_asset(alice, team, slug="iris", kind="model")
    return asset


def _state() -> dict:
    return {
        "assets": Asset.objects.count(),
        "teams": Team.objects.count(),
        "versions": AssetVersion.objects.count(),
        "blobs": Blob.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def upload(version="1.0.0", metadata=None):
    data = {"version": version, "file": SimpleUploadedFile("model.onnx", onnx_bytes())}
    if metadata is not None:
        data["metadata"] = metadata
    return ("post", VERSIONS, {"data": data, "format": "multipart"})


def raw_json(method: str, url: str, body: str | bytes):
    return (method, url, {"data": body, "content_type": "application/json"})


def as_json(method: str, url: str, data):
    return (method, url, {"data": data, "format": "json"})


CASES = {
    # search: bounded work per request
    "11 tag filters": (
        ("get", "/api/v1/assets/", {"data": {"tag": [f"t{i}" for i in range(11)]}}),
        400,
        "at most 10 tags",
    ),
    "50 tag filters": (("get", "/api/v1/assets/", {"data": {"tag": [f"t{i}" for i in range(50)]}}), 400, "at most"),
    "60 query parameters": (
        ("get", "/api/v1/assets/", {"data": {"framework": ["x"] * 60}}),
        400,
        "at most 30 query parameters",
    ),
    "a 10,000-character query": (("get", "/api/v1/assets/", {"data": {"q": "a" * 10_000}}), 400, "at most 500"),
    "NUL in a tag filter": (("get", "/api/v1/assets/?tag=a%00b", {}), 400, "NUL"),
    "NUL in a path segment": (("delete", "/api/v1/teams/vision/members/a%00b/", {}), 400, "NUL"),
    "an unknown query parameter": (("get", "/api/v1/assets/?tags=vision", {}), 400, "Unknown query parameter 'tags'"),
    "a 0 page size": (("get", "/api/v1/assets/?page_size=0", {}), 400, "page_size"),
    # version numbers
    "Arabic-Indic digit in a version": (upload("1\u0661.0.0"), 400, "semantic version"),
    "version number over 64 bits": (upload("99999999999999999999.0.0"), 400, "at most 9223372036854775807"),
    "version of 300 characters": (upload("1.0.0-" + "a" * 300), 400, "version"),
    # metadata and JSON bodies
    "metadata nested 2,000 levels (multipart)": (upload(metadata="[" * 2000 + "]" * 2000), 400, "nested more than"),
    "metadata with NaN (multipart)": (upload(metadata='{"loss": NaN}'), 400, "NaN"),
    "metadata with Infinity (multipart)": (upload(metadata='{"loss": -Infinity}'), 400, "Infinity"),
    "metadata with \\u0000 (multipart)": (upload(metadata='{"note": "a\\u0000b"}'), 400, "NUL"),
    "metadata with a lone surrogate (multipart)": (upload(metadata='{"note": "\\ud800"}'), 400, "surrogate"),
    "metadata that is a list": (upload(metadata="[1, 2]"), 400, "JSON object"),
    "JSON body of 50,000 [": (raw_json("patch", VERSIONS + "0.1.0/", "[" * 50_000), 400, "nested"),
    "PATCH metadata nested 2,000 levels": (
        raw_json("patch", VERSIONS + "0.1.0/", '{"metadata": ' + "[" * 2000 + "]" * 2000 + "}"),
        400,
        "nested",
    ),
    "PATCH metadata with NaN": (raw_json("patch", VERSIONS + "0.1.0/", '{"metadata": {"x": NaN}}'), 400, "NaN"),
    "PATCH metadata with \\u0000": (
        raw_json("patch", VERSIONS + "0.1.0/", '{"metadata": {"x": "\\u0000"}}'),
        400,
        "NUL",
    ),
    "PATCH metadata with a lone surrogate key": (
        raw_json("patch", VERSIONS + "0.1.0/", '{"metadata": {"\\udfff": 1}}'),
        400,
        "surrogate",
    ),
    "JSON body that is not UTF-8": (
        raw_json("patch", VERSIONS + "0.1.0/", b'{"metadata": {"x": "\xff"}}'),
        400,
        "JSON",
    ),
    "JSON body over the size limit": (
        raw_json("patch", VERSIONS + "0.1.0/", '{"metadata": {"x": "' + "a" * 3_000_000 + '"}}'),
        413,
        "limit",
    ),
    # catalogue fields
    "licence 'MIT AND'": (as_json("patch", ASSET, {"license": "MIT AND"}), 400, "AND requires two or more"),
    "asset slug '-'": (
        as_json("post", "/api/v1/assets/", {"kind": "model", "team": "vision", "name": "x", "slug": "-"}),
        400,
        "slug",
    ),
    "asset slug '_'": (
        as_json("post", "/api/v1/assets/", {"kind": "model", "team": "vision", "name": "x", "slug": "_"}),
        400,
        "slug",
    ),
    "asset slug with capitals": (
        as_json("post", "/api/v1/assets/", {"kind": "model", "team": "vision", "name": "x", "slug": "Iris"}),
        400,
        "slug",
    ),
    "team slug '-'": (as_json("post", "/api/v1/teams/", {"slug": "-", "name": "x"}), 400, "slug"),
    "team slug with capitals": (as_json("post", "/api/v1/teams/", {"slug": "Vision", "name": "x"}), 400, "slug"),
    "team description of 10,001 characters": (
        as_json("post", "/api/v1/teams/", {"slug": "big", "name": "x", "description": "d" * 10_001}),
        400,
        "description",
    ),
    "asset name with NUL": (as_json("patch", ASSET, {"name": "a\x00b"}), 400, "NUL"),
    # transport
    "malformed multipart": (
        ("post", VERSIONS, {"data": b"--nope\r\n\r\n", "content_type": "multipart/form-data; boundary=xyz"}),
        400,
        "",
    ),
    "token id over 64 bits": (("delete", "/api/v1/tokens/99999999999999999999999/", {}), 404, ""),
}


@pytest.mark.parametrize("request_spec, expected_status, message", CASES.values(), ids=CASES.keys())
def test_hostile_input_is_a_4xx_json_error_and_writes_nothing(
    alice_api, alice, iris, tmp_path, request_spec, expected_status, message
):
    from tests.factories import make_version

    make_version(alice, iris, tmp_path, onnx_bytes(), version="0.1.0")
    before = _state()
    method, url, kwargs = request_spec
    response = getattr(alice_api, method)(url, **kwargs)
    assert response.status_code == expected_status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert message in body["detail"], body
    assert _state() == before


def test_many_tags_are_one_subquery_and_mean_all_of_them(alice, team, alice_api, django_assert_max_num_queries):
    make_asset(alice, team, slug="both", tags=[f"t{i}" for i in range(10)])
    make_asset(alice, team, slug="some", tags=["t0", "t1"])
    with django_assert_max_num_queries(12) as captured:
        response = alice_api.get("/api/v1/assets/", {"tag": [f"t{i}" for i in range(10)]})
    assert [a["slug"] for a in response.json()["results"]] == ["both"]
    # One containment test on the asset row's tag array (issue 8), never a join per tag.
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "registry_asset_tags" not in sql
    matches = next(q["sql"] for q in captured.captured_queries if "tag_array @>" in q["sql"])
    assert matches.count("tag_array @>") <= 2  # the filter, and its flag for the disjunctive tag facet


def test_build_metadata_cannot_make_latest_ambiguous(alice_api, iris):
    first = alice_api.post(VERSIONS, upload("1.0.0+build.1")[2]["data"], format="multipart")
    assert first.status_code == 202
    second = alice_api.post(VERSIONS, upload("1.0.0+build.2")[2]["data"], format="multipart")
    assert second.status_code == 409 and "build metadata" in second.json()["detail"]
    assert alice_api.get(ASSET).json()["latest_version"] == "1.0.0+build.1"


def test_browsers_get_json_from_the_api(alice, team, alice_api):
    make_asset(alice, team, slug="iris")
    for extra in ({"HTTP_ACCEPT": "text/html"}, {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}):
        response = alice_api.get("/api/v1/assets/", **extra)
        assert response.status_code == 200 and response.json()["results"][0]["slug"] == "iris"
    response = alice_api.get("/api/v1/assets/?format=api")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_a_crash_in_a_view_is_a_json_500(alice_api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("marketplace.api.teams.team_list", broken)
    alice_api.raise_request_exception = False
    response = alice_api.get("/api/v1/teams/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json" and response.json()["code"] == "server_error"


def test_slug_of_another_teams_private_asset_does_not_leak(alice, team, charlie, charlie_api):
    make_asset(alice, team, slug="secret-model", visibility="private")
    make_team(charlie, slug="charlies")
    response = charlie_api.post(
        "/api/v1/assets/", {"kind": "model", "team": "charlies", "name": "Mine", "slug": "secret-model"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["full_slug"] == "charlies/secret-model"
    assert charlie_api.get("/api/v1/assets/vision/secret-model/").status_code == 404


def test_outsiders_upload_is_refused_before_the_body_is_read(charlie_api, iris, monkeypatch):
    received = []
    original = HashingUploadHandler.receive_data_chunk
    monkeypatch.setattr(
        HashingUploadHandler,
        "receive_data_chunk",
        lambda self, data, start: received.append(len(data)) or original(self, data, start),
    )
    big = SimpleUploadedFile("model.onnx", b"\0" * (3 * 1024 * 1024))
    response = charlie_api.post(VERSIONS, {"version": "1.0.0", "file": big}, format="multipart")
    assert response.status_code == 403
    assert received == []


def test_outsiders_session_upload_is_refused_before_the_body_is_read(charlie, iris, monkeypatch):
    from rest_framework.test import APIClient

    received = []
    monkeypatch.setattr(
        HashingUploadHandler, "receive_data_chunk", lambda self, data, start: received.append(len(data))
    )
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(charlie)
    client.cookies["csrftoken"] = "x" * 32
    response = client.post(
        VERSIONS,
        {"version": "1.0.0", "file": SimpleUploadedFile("m.onnx", b"\0" * 2_000_000), "csrfmiddlewaretoken": "x" * 32},
        format="multipart",
    )
    assert response.status_code == 403
    assert received == []


@postgres_only
def test_web_requests_run_under_a_statement_timeout(alice_api, settings):
    settings.MODELHUB_WEB_STATEMENT_TIMEOUT_MS = 4321
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(**alice_api._credentials)
    assert client.get("/api/v1/teams/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "4321ms"


@postgres_only
def test_a_cancelled_statement_is_a_json_503():
    with pytest.raises(OperationalError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 10")
        cursor.execute("SELECT pg_sleep(1)")
    request = RequestFactory().get("/api/v1/assets/")
    response = exception_handler(caught.value, {"request": request})
    assert response.status_code == 503 and response.data["code"] == "timeout"

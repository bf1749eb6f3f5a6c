"""Downloads as resumable HTTP (marketplace/api/downloads.py): ranges, ETags, HEAD; and Bearer tokens."""

import hashlib

import pytest

from marketplace.api.downloads import RangeNotSatisfiable, byte_range
from registry.kernel.audit.models import AuditEvent
from registry.tokens.services import token_create
from tests.factories import linear_model, make_asset, make_version, onnx_bytes

pytestmark = pytest.mark.django_db
URL = "/api/v1/assets/vision/iris/versions/1.0.0/download"


@pytest.fixture
def content(alice, team, tmp_path) -> bytes:
    data = onnx_bytes(linear_model(64, 32))
    make_version(alice, make_asset(alice, team, slug="iris", kind="model", visibility="private"), tmp_path, data)
    return data


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=0-1,5-9", None),  # several ranges: the whole file
        ("items=0-5", None),
        ("bytes=-", None),
    ],
)
def test_byte_ranges(header, expected):
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-4", "bytes=-0"])
def test_unsatisfiable_ranges(header):
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, 1000)


def test_a_download_resumes_from_any_byte_and_carries_its_sha256_as_etag(alice_api, content):
    sha = hashlib.sha256(content).hexdigest()
    full = alice_api.get(URL)
    assert full.status_code == 200 and body(full) == content
    assert full["ETag"] == f'"{sha}"' and full["Accept-Ranges"] == "bytes" and full["X-Checksum-SHA256"] == sha
    half = len(content) // 2
    rest = alice_api.get(URL, HTTP_RANGE=f"bytes={half}-")
    assert rest.status_code == 206 and body(rest) == content[half:]
    assert rest["Content-Range"] == f"bytes {half}-{len(content) - 1}/{len(content)}"
    assert rest["Content-Length"] == str(len(content) - half) and rest["ETag"] == f'"{sha}"'
    assert body(alice_api.get(URL, HTTP_RANGE="bytes=0-9")) == content[:10]
    assert body(alice_api.get(URL, HTTP_RANGE="bytes=-7")) == content[-7:]
    past = alice_api.get(URL, HTTP_RANGE=f"bytes={len(content)}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(content)}"
    # If-Range with another ETag: the file changed meanwhile, so the whole file comes back.
    changed = alice_api.get(URL, HTTP_RANGE="bytes=10-", HTTP_IF_RANGE='"other"')
    assert changed.status_code == 200 and body(changed) == content
    same = alice_api.get(URL, HTTP_RANGE="bytes=10-", HTTP_IF_RANGE=f'"{sha}"')
    assert same.status_code == 206 and body(same) == content[10:]


def test_if_none_match_and_head_send_no_bytes(alice_api, content):
    sha = hashlib.sha256(content).hexdigest()
    unchanged = alice_api.get(URL, HTTP_IF_NONE_MATCH=f'"{sha}"')
    assert unchanged.status_code == 304 and unchanged["ETag"] == f'"{sha}"' and unchanged.content == b""
    assert alice_api.get(URL, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    head = alice_api.head(URL)
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(content)) and head["ETag"] == f'"{sha}"'


def test_a_private_download_is_audited_once_per_transfer(alice_api, content):
    def audited():
        return AuditEvent.objects.filter(action="version.downloaded").count()

    alice_api.head(URL)
    alice_api.get(URL, HTTP_IF_NONE_MATCH=f'"{hashlib.sha256(content).hexdigest()}"')
    assert audited() == 0
    body(alice_api.get(URL, HTTP_RANGE="bytes=0-99"))
    body(alice_api.get(URL, HTTP_RANGE="bytes=100-"))  # the same transfer, resumed
    assert audited() == 1


def test_the_api_takes_bearer_tokens_as_well_as_token(alice, anon_api, content):
    _, key = token_create(user=alice, name="ci")
    for scheme in ("Bearer", "bearer", "Token"):
        anon_api.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert anon_api.get("/api/v1/assets/vision/iris/").status_code == 200, scheme
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    refused = anon_api.get("/api/v1/assets/vision/iris/")
    assert refused.status_code == 401 and "Invalid or revoked token" in refused.json()["detail"]
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer")
    assert "use 'Bearer <key>'" in anon_api.get("/api/v1/assets/vision/iris/").json()["detail"]

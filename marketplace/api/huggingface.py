"""The read side of the Hugging Face Hub's HTTP API under `/hf`, so `huggingface_hub` works against Modelhub
unchanged: `HF_ENDPOINT=https://modelhub.example.com/hf`, a Modelhub token as the HF token.

- repo id = `team/asset`; a model repo is a model or solution asset, a dataset repo a dataset asset;
- revision = a version (`1.2.0`), an alias (`production`), a version's commit id (40 hex digits, the `sha` the
  Hub reports), or `main`: the `production` alias when there is one, else the newest version;
- `GET /hf/api/models/{repo}` (and `/revision/{rev}`): model_info / repo_info, with `siblings`;
- `GET /hf/api/models/{repo}/tree/{rev}[/{path}]`: list_repo_tree / list_repo_files;
- `GET|HEAD /hf/{repo}/resolve/{rev}/{path}` (datasets: `/hf/datasets/{repo}/...`): the file, with `X-Repo-Commit`,
  `ETag` and `X-Linked-Etag` (the SHA-256), `X-Linked-Size`, ranges, and a redirect to S3 where storage is S3;
  `README.md` is the version's card unless the version has a file of that name.

Private assets are a 404 here as everywhere (with `X-Error-Code: RepoNotFound`, which the client reads).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from marketplace.api.downloads import file_response, starts_a_transfer
from marketplace.api.views import APIView
from registry.artifacts.uploads import safe_filename
from registry.assets.models import AssetKind
from registry.assets.selectors import asset_get
from registry.cards.selectors import card_readme
from registry.governance.selectors import version_by_alias
from registry.kernel.errors import ErrorCode, NotFound
from registry.versions.selectors import version_list
from registry.versions.services import version_download_record

REPO_KINDS = {"models": (AssetKind.MODEL, AssetKind.SOLUTION), "datasets": (AssetKind.DATASET,)}
README = "README.md"


class HubNotFound(NotFound):
    """A 404 that says, as the Hub does in `X-Error-Code`, whether the repo, the revision or the file is missing."""

    def __init__(self, message: str, *, hub_code: str):
        super().__init__(message)
        self.hub_code = hub_code


def commit_id(version) -> str:
    """The 40-hex-digit id the Hub calls a commit: stable for a version, different for every version."""
    return hashlib.sha1(f"modelhub:{version.pk}:{version.sha256}".encode()).hexdigest()


def _asset(user, repo_type: str, team: str, slug: str):
    try:
        asset = asset_get(user=user, team=team, slug=slug)
    except NotFound:
        raise HubNotFound(f"Repository {team}/{slug} not found.", hub_code="RepoNotFound") from None
    if asset.kind not in REPO_KINDS[repo_type]:
        raise HubNotFound(f"Repository {team}/{slug} is not a {repo_type[:-1]} repository.", hub_code="RepoNotFound")
    return asset


def _alias(asset, name: str):
    try:
        return version_by_alias(asset=asset, name=name)
    except NotFound:
        return None


def _version(asset, revision: str):
    versions = version_list(asset=asset)
    if revision == "main":
        found = (
            _alias(asset, "production")
            or versions.order_by("-major", "-minor", "-patch", "-is_prerelease", "-created_at").first()
        )
    elif len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        found = next((v for v in versions if commit_id(v) == revision), None)
    else:
        found = versions.filter(version=revision).first() or _alias(asset, revision)
    if found is None:
        raise HubNotFound(f"Revision '{revision}' of {asset.full_slug} not found.", hub_code="RevisionNotFound")
    return found


def _has_readme(version) -> bool:
    return any(f.path == README for f in version.files.all())


def _card_bytes(version) -> bytes:
    return card_readme(version=version).encode()


def _tree(version) -> list[dict]:
    entries = [
        {
            "type": "file",
            "path": f.path,
            "size": f.blob.size,
            "oid": f.blob.sha256,
            "lfs": {"oid": f.blob.sha256, "size": f.blob.size, "pointerSize": 134},
        }
        for f in sorted(version.files.all(), key=lambda f: f.path)
    ]
    if not _has_readme(version):
        card = _card_bytes(version)
        entries.append({"type": "file", "path": README, "size": len(card), "oid": hashlib.sha256(card).hexdigest()})
    return sorted(entries, key=lambda e: e["path"])


def _not_found(exc: HubNotFound) -> Response:
    return Response(
        {"error": exc.message, "detail": exc.message, "code": ErrorCode.NOT_FOUND},
        status=404,
        headers={"X-Error-Code": exc.hub_code, "X-Error-Message": exc.message},
    )


class _HubView(APIView):
    def handle_exception(self, exc):
        if isinstance(exc, HubNotFound):
            return _not_found(exc)
        return super().handle_exception(exc)


class HubRepoInfoView(_HubView):
    query_params = ("securityStatus", "blobs", "expand", "files_metadata")

    @extend_schema(exclude=True)
    def get(self, request, repo_type, team, slug, revision="main"):
        asset = _asset(request.user, repo_type, team, slug)
        version = _version(asset, revision)
        return Response(
            {
                "_id": f"modelhub-{asset.pk}",
                "id": asset.full_slug,
                "modelId": asset.full_slug,
                "author": asset.team.slug,
                "sha": commit_id(version),
                "private": asset.visibility == "private",
                "disabled": False,
                "gated": False,
                "tags": sorted(t.name for t in asset.tags.all()),
                "pipeline_tag": asset.task or None,
                "library_name": asset.framework or None,
                "createdAt": asset.created_at,
                "lastModified": version.updated_at,
                "downloads": 0,
                "likes": 0,
                "cardData": {"license": asset.license or None, "version": version.version},
                "siblings": [{"rfilename": entry["path"]} for entry in _tree(version)],
            }
        )


class HubTreeView(_HubView):
    query_params = ("recursive", "expand", "cursor", "limit")

    @extend_schema(exclude=True)
    def get(self, request, repo_type, team, slug, revision, path=""):
        version = _version(_asset(request.user, repo_type, team, slug), revision)
        prefix = path.strip("/")
        recursive = request.query_params.get("recursive", "").lower() in ("1", "true")
        entries, folders = [], set()
        for entry in _tree(version):
            if prefix and not entry["path"].startswith(prefix + "/"):
                continue
            rest = entry["path"][len(prefix) + 1 :] if prefix else entry["path"]
            if "/" in rest and not recursive:
                folders.add(f"{prefix}/{rest.split('/')[0]}" if prefix else rest.split("/")[0])
                continue
            if recursive:
                parts = rest.split("/")[:-1]
                for depth in range(1, len(parts) + 1):
                    folders.add("/".join(([prefix] if prefix else []) + parts[:depth]))
            entries.append(entry)
        if prefix and not entries and not folders:
            raise HubNotFound(f"{prefix} is not a folder of {version.version}.", hub_code="EntryNotFound")
        listed = [
            {"type": "directory", "path": folder, "oid": hashlib.sha1(folder.encode()).hexdigest()}
            for folder in sorted(folders)
        ]
        return Response(listed + entries)


class HubResolveView(_HubView):
    @extend_schema(exclude=True)
    def get(self, request, team, slug, revision, path, repo_type="models"):
        asset = _asset(request.user, repo_type, team, slug)
        version = _version(asset, revision)
        hub = {"X-Repo-Commit": commit_id(version)}
        match = next((f for f in version.files.all() if f.path == path), None)
        if match is None and path == README:
            card = _card_bytes(version)
            etag = f'"{hashlib.sha256(card).hexdigest()}"'
            response = HttpResponse(
                b"" if request.method == "HEAD" else card, content_type="text/markdown; charset=utf-8"
            )
            response["Content-Length"], response["ETag"] = str(len(card)), etag
            response["X-Repo-Commit"] = hub["X-Repo-Commit"]
            return response
        if match is None:
            raise HubNotFound(f"{path} is not a file of {asset.full_slug} {version.version}.", hub_code="EntryNotFound")
        hub.update({"X-Linked-Etag": f'"{match.blob.sha256}"', "X-Linked-Size": str(match.blob.size)})
        response = file_response(
            request, match.blob, filename=safe_filename(match.path), ttl=settings.MODELHUB_DOWNLOAD_URL_TTL, headers=hub
        )
        if starts_a_transfer(request, response):
            version_download_record(user=request.user, version=version, path=match.path)
        return response

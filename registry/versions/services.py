import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.artifacts.archive import ArchiveLimits, ArchiveRejected, check_file_paths, extract_zip_safely
from registry.artifacts.models import VersionFile
from registry.artifacts.storage import blob_store
from registry.artifacts.uploads import StagedFile, safe_filename
from registry.assets.models import Asset, AssetKind
from registry.kernel.access import Permission, Visibility, require, restrict
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import ChecksumMismatch, DuplicateVersion, InvalidInput, NotFound, UnsupportedUpload
from registry.kernel.events import Event, publish
from registry.kernel.lib.json_input import json_field_value
from registry.kernel.lib.model_formats import model_format, primary_model_file
from registry.uploads.services import upload_sessions_consume, upload_sessions_for_version
from registry.versions.events import VersionCreated, VersionUploading
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.release import asset_lock, asset_release_refresh
from registry.versions.selectors import version_get
from registry.versions.semver import SemVer, parse_semver
from registry.versions.tags import tags_clean, tags_create


@dataclass(frozen=True)
class _PreparedFile:
    path: str
    local_path: Path | None  # None: stored already (an upload session's blob)
    sha256: str
    size: int
    is_primary: bool


def validate_metadata(metadata) -> dict:
    """A version's metadata: a JSON object the database can store, within the size limit."""
    metadata = json_field_value(metadata, field="metadata", empty={})
    if not isinstance(metadata, dict):
        raise InvalidInput("metadata: must be a JSON object.", field="metadata")
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode())
    if size > settings.MODELHUB_METADATA_MAX_BYTES:
        raise InvalidInput(
            f"metadata: {size} bytes of JSON is over the limit of {settings.MODELHUB_METADATA_MAX_BYTES} bytes.",
            field="metadata",
        )
    return metadata


def _prepare_files(asset: Asset, upload: StagedFile, workdir: Path) -> list[_PreparedFile]:
    filename = safe_filename(upload.name)
    lower = filename.lower()
    if asset.kind != AssetKind.MODEL:
        return [_PreparedFile(filename, upload.path, upload.sha256, upload.size, True)]
    if lower.endswith(".onnx") or (not lower.endswith(".zip") and model_format(lower) is not None):
        return [_PreparedFile(filename, upload.path, upload.sha256, upload.size, True)]
    if not lower.endswith(".zip"):
        raise UnsupportedUpload(
            f"file: a model version is a single model file (.onnx, served; or .safetensors, .gguf, .pt, .bin, "
            f".keras, .joblib, .pkl, catalogued only) or a .zip of them; got '{filename}'.",
            field="file",
        )
    limits = ArchiveLimits(
        max_total_bytes=settings.MODELHUB_ARCHIVE_MAX_EXTRACTED_SIZE,
        max_ratio=settings.MODELHUB_ARCHIVE_MAX_RATIO,
        max_members=settings.MODELHUB_ARCHIVE_MAX_MEMBERS,
    )
    try:
        extracted = extract_zip_safely(upload.path, workdir, limits=limits)
    except ArchiveRejected as exc:
        raise UnsupportedUpload(f"file: {exc}", field="file") from None
    primary = _primary(asset, [f.path for f in extracted], field="file")
    return [_PreparedFile(f.path, f.local_path, f.sha256, f.size, f.path == primary) for f in extracted]


def _primary(asset: Asset, paths: list[str], *, field: str) -> str:
    """A model version's primary file: its one .onnx file (served), or, without one, its weights file by
    registry.kernel.lib.model_formats' precedence (catalogued, never loaded). UnsupportedUpload otherwise."""
    onnx = [path for path in paths if path.lower().endswith(".onnx")]
    if len(onnx) > 1:
        raise UnsupportedUpload(
            f"{field}: a model version holds at most one .onnx file (and its external data); got {len(onnx)} "
            f"({', '.join(onnx)[:200]}).",
            field=field,
        )
    primary = primary_model_file(paths)
    if primary is None:
        raise UnsupportedUpload(
            f"{field}: no model file among {', '.join(paths)[:200]} (.onnx, .safetensors, .gguf, .pt, .bin, "
            ".keras, .joblib or .pkl).",
            field=field,
        )
    return primary


def _files_from_sessions(asset: Asset, uploads: list[dict]):
    """The files of a version sent file by file through upload sessions, checked as an archive's members are."""
    if not uploads:
        raise InvalidInput("files: give at least one file.", field="files")
    try:
        paths = check_file_paths(
            [str(entry["path"]) for entry in uploads],
            limits=ArchiveLimits(max_total_bytes=0, max_members=settings.MODELHUB_ARCHIVE_MAX_MEMBERS),
        )
    except ArchiveRejected as exc:
        raise UnsupportedUpload(f"files: {exc}", field="files") from None
    taken = upload_sessions_for_version(
        asset=asset, files=[{"path": path, "upload": entry["upload"]} for path, entry in zip(paths, uploads)]
    )
    if asset.kind == AssetKind.MODEL:
        primary = _primary(asset, [path for path, _, _ in taken], field="files")
    else:
        primary = taken[0][0]
    prepared = [_PreparedFile(path, None, blob.sha256, blob.size, path == primary) for path, blob, _ in taken]
    return prepared, {path: blob for path, blob, _ in taken}, [session_id for _, _, session_id in taken]


def version_create(
    *,
    user,
    asset: Asset,
    version: str,
    upload: StagedFile | None = None,
    uploads: list[dict] | None = None,
    metadata=None,
    expected_sha256: str | None = None,
    lineage=None,
    input_example=None,
    tags=None,
) -> AssetVersion:
    """Register a new version from an uploaded file (`upload`) or from complete upload sessions (`uploads`,
    [{"path", "upload": session id}]: registry.uploads) and queue its validation.

    Checks everything it can before storing a byte (permission, version number, metadata, lineage,
    checksum, duplicates, archive safety); stores blobs outside any transaction; then creates the
    version, its files, its lineage edges, a pending validation report and audit events in one
    transaction, and enqueues validation once that transaction has committed. A failed call leaves
    no version. `lineage` is a list (or its JSON text) of {"kind", "asset": "team/slug", "version"};
    `input_example` a StagedFile (.npz or .json) or V2 JSON inputs (registry.examples checks and keeps it);
    `tags` a {key: value} object (or its JSON text: registry.versions.tags).
    """
    version_upload_authorize(user=user, asset=asset)
    semver = parse_semver(version)
    version = version.strip()
    metadata = validate_metadata(metadata)
    tags = tags_clean(tags)
    # Lineage (registry.lineage) checks and resolves what the upload declares, before a byte is stored.
    uploading = VersionUploading(user=user, asset=asset, declared={"lineage": lineage, "input_example": input_example})
    publish(uploading)
    if (upload is None) == (uploads is None):
        raise ValueError("version_create takes an upload or upload sessions")
    if upload is not None and expected_sha256 and expected_sha256.strip().lower() != upload.sha256:
        raise ChecksumMismatch(
            f"sha256: the uploaded file's SHA-256 is {upload.sha256}, not "
            f"{expected_sha256.strip().lower()}; the upload was corrupted or is not the file you "
            "meant. Nothing was stored.",
            field="sha256",
        )
    _refuse_duplicate(asset, version, semver)
    if upload is not None:
        workdir = Path(tempfile.mkdtemp(prefix="version-", dir=settings.FILE_UPLOAD_TEMP_DIR))
        try:
            prepared = _prepare_files(asset, upload, workdir)
            blobs = {f.path: blob_store(local_path=f.local_path, sha256=f.sha256, size=f.size) for f in prepared}
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        filename, sha256, size, sessions = safe_filename(upload.name), upload.sha256, upload.size, []
    else:
        prepared, blobs, sessions = _files_from_sessions(asset, uploads)
        primary = next(f for f in prepared if f.is_primary)
        filename, sha256, size = safe_filename(primary.path), primary.sha256, sum(f.size for f in prepared)
    try:
        with transaction.atomic():
            # The asset row is the lock that orders concurrent uploads, so each sees the others'
            # versions when it recomputes the asset's latest version and count.
            locked_asset = asset_lock(asset.pk)
            created = AssetVersion.objects.create(
                asset=asset,
                version=version,
                major=semver.major,
                minor=semver.minor,
                patch=semver.patch,
                prerelease=semver.prerelease,
                is_prerelease=bool(semver.prerelease),
                status=VersionStatus.VALIDATING,
                metadata=metadata,
                filename=filename,
                sha256=sha256,
                size=size,
                created_by=user,
            )
            if sessions:
                upload_sessions_consume(sessions)
            VersionFile.objects.bulk_create(
                VersionFile(version=created, path=f.path, blob=blobs[f.path], is_primary=f.is_primary) for f in prepared
            )
            tags_create(user=user, version=created, tags=tags)
            _refresh_asset_versions(asset)
            asset_release_refresh(locked_asset)
            audit_record(
                actor=user,
                action=Event.VERSION_CREATED,
                target=created,
                team=asset.team,
                data={
                    "asset": asset.full_slug,
                    "version": version,
                    "sha256": sha256,
                    "size": size,
                    "files": len(prepared),
                    **({"tags": tags} if tags else {}),
                },
            )
            # Lineage records the declared edges; validation (registry.validation) opens the version's pending
            # report and queues its check once this commits.
            publish(VersionCreated(user=user, version=created, resolved=uploading.resolved))
    except IntegrityError:
        # Lost a race with a concurrent upload of the same number; its blobs are shared or collectable.
        _refuse_duplicate(asset, version, semver)
        raise
    return version_get(asset=asset, version=version)


def version_upload_authorize(*, user, asset: Asset) -> None:
    """Raise PermissionDenied unless `user` may upload versions of `asset`.

    The upload endpoint calls it before reading the request body, so an outsider's upload is
    refused without being received.
    """
    require(
        user,
        Permission.VERSION_UPLOAD,
        asset.team,
        f"Only members of '{asset.team.slug}' can upload versions of '{asset.full_slug}'.",
    )


def version_change_authorize(*, user, version: AssetVersion, what: str) -> None:
    """NotFound unless `user` sees the version's asset; PermissionDenied unless they may change `what` of it (its
    card, its input example): members of its team."""
    asset = version.asset
    if not restrict(Asset.objects.all(), user, Permission.ASSET_VIEW).filter(pk=asset.pk).exists():
        raise NotFound(f"No asset named '{asset.full_slug}'.")
    require(
        user,
        Permission.VERSION_CHANGE,
        asset.team,
        f"Only members of '{asset.team.slug}' can change {what} of '{asset.full_slug}'.",
    )


def _refuse_duplicate(asset: Asset, version: str, semver: SemVer) -> None:
    """Versions that differ only in build metadata (1.0.0+a, 1.0.0+b) have the same precedence
    (semver 10), so they would make "latest" ambiguous: the second one is a duplicate."""
    existing = (
        AssetVersion.objects.filter(
            asset=asset, major=semver.major, minor=semver.minor, patch=semver.patch, prerelease=semver.prerelease
        )
        .values_list("version", flat=True)
        .first()
    )
    if existing is None:
        return
    same = "" if existing == version else f" ({existing}, which differs only in build metadata)"
    raise DuplicateVersion(
        f"'{asset.full_slug}' already has version {version}{same}; versions are immutable, so "
        "upload this one under a new version number.",
        field="version",
    )


def _refresh_asset_versions(asset: Asset) -> None:
    """Recompute the asset's denormalised latest version and count (inside the asset row lock)."""
    versions = AssetVersion.objects.filter(asset=asset)
    latest = versions.order_by(*AssetVersion._meta.ordering[1:]).values_list("version", flat=True).first()
    Asset.objects.filter(pk=asset.pk).update(
        latest_version=latest or "", version_count=versions.count(), updated_at=timezone.now()
    )


def version_update_metadata(*, user, version: AssetVersion, metadata) -> AssetVersion:
    """Replace a version's free-form metadata (its files never change). Team members only."""
    require(
        user,
        Permission.VERSION_CHANGE,
        version.asset.team,
        f"Only members of '{version.asset.team.slug}' can edit this version.",
    )
    version.metadata = validate_metadata(metadata)
    with transaction.atomic():
        version.save(update_fields=["metadata", "updated_at"])
        audit_record(
            actor=user,
            action=Event.VERSION_METADATA_UPDATED,
            target=version,
            team=version.asset.team,
            data={"keys": sorted(version.metadata)[:50]},
        )
    return version


def version_download_record(*, user, version: AssetVersion, path: str) -> None:
    """Audit a download of a private asset's file. Internal assets, readable by every signed-in user,
    are not recorded (a download is a read, and the trail would drown in them)."""
    if version.asset.visibility != Visibility.PRIVATE:
        return
    with transaction.atomic():
        audit_record(
            actor=user,
            action=Event.VERSION_DOWNLOADED,
            target=version,
            team=version.asset.team,
            data={"path": path},
        )

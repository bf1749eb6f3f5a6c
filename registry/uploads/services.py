"""Resumable upload sessions: create, send parts (in any order, again after a failure), complete with the
SHA-256, verified by a task; a version takes the resulting blobs (registry.versions.services.version_create).

Nothing a session stages is a version file until its bytes are assembled and match the SHA-256 the client
gave; a session nobody completes or uses expires and is deleted with what it staged.
"""

import logging
import re
import shutil
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from registry.artifacts.models import Blob
from registry.artifacts.uploads import human_size, safe_filename
from registry.assets.models import Asset
from registry.kernel.access import Permission, require
from registry.kernel.errors import Conflict, InvalidInput, PayloadTooLarge, TeamLimitReached, TransientStorageError
from registry.kernel.lib.tasks import task_send, task_send_on_commit
from registry.teams.models import Team
from registry.uploads.models import UploadBackend, UploadPart, UploadSession, UploadStatus
from registry.uploads.staging import Mismatch, backend_in_use, staging_for

logger = logging.getLogger(__name__)

VERIFY_TASK = "registry.uploads.tasks.upload_session_verify_task"
MAX_PARTS = 10_000  # S3's limit, kept on local storage too so a client needs one rule
S3_MIN_PART = 5 * 1024**2
MIB = 1024**2
# A verification still running after this long is taken to be lost (its worker died) and sent again.
VERIFY_STALLED_AFTER = timedelta(minutes=30)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _require_upload(user, asset: Asset) -> None:
    require(
        user,
        Permission.VERSION_UPLOAD,
        asset.team,
        f"Only members of '{asset.team.slug}' can upload versions of '{asset.full_slug}'.",
    )


def _part_size(size: int, backend: str) -> int:
    part = settings.MODELHUB_UPLOAD_PART_SIZE
    if backend == UploadBackend.S3:
        part = max(part, S3_MIN_PART)
    needed = -(-size // MAX_PARTS)
    if needed > part:
        part = -(-needed // MIB) * MIB
    return part


def _expiry():
    return timezone.now() + timedelta(seconds=settings.MODELHUB_UPLOAD_SESSION_TTL)


def _require_upload_room(asset: Asset, size: int) -> None:
    """Inside the creating transaction: lock the team row (concurrent creations count one after the other) and
    refuse a session past the team's MODELHUB_TEAM_MAX_UPLOAD_SESSIONS or MODELHUB_TEAM_MAX_UPLOAD_BYTES."""
    team = Team.objects.select_for_update().get(pk=asset.team_id)
    held = UploadSession.objects.filter(asset__team=team).aggregate(count=Count("pk"), size=Sum("size"))
    count, held_bytes = held["count"], held["size"] or 0
    free = "Complete them and create the versions that use them, abort them, or wait until they expire."
    if count + 1 > settings.MODELHUB_TEAM_MAX_UPLOAD_SESSIONS:
        raise TeamLimitReached(
            f"'{team.slug}' has {count} upload session(s) not yet taken by a version, the most it may have "
            f"(MODELHUB_TEAM_MAX_UPLOAD_SESSIONS). {free}"
        )
    limit = settings.MODELHUB_TEAM_MAX_UPLOAD_BYTES
    if held_bytes + size > limit:
        raise TeamLimitReached(
            f"'{team.slug}' has upload sessions of {human_size(held_bytes)} not yet taken by a version; another "
            f"{human_size(size)} would pass its limit of {human_size(limit)} (MODELHUB_TEAM_MAX_UPLOAD_BYTES). {free}"
        )


def upload_session_create(*, user, asset: Asset, filename: str, size: int) -> UploadSession:
    """Open a session for one file of `size` bytes; its parts are laid out at once (see UploadSession)."""
    _require_upload(user, asset)
    limit = settings.MODELHUB_UPLOAD_SESSION_MAX_SIZE
    if size < 1:
        raise InvalidInput("size: an upload session is for a file of at least one byte.", field="size")
    if size > limit:
        raise PayloadTooLarge(f"size: {human_size(size)} is over the limit of {human_size(limit)} for one file.")
    backend = backend_in_use()
    if backend == UploadBackend.LOCAL:
        free = shutil.disk_usage(settings.FILE_UPLOAD_TEMP_DIR).free
        if size > free:
            raise PayloadTooLarge(
                f"size: {human_size(size)} is more than the {human_size(free)} of disk space left for uploads."
            )
    with transaction.atomic():
        _require_upload_room(asset, size)
        session = UploadSession.objects.create(
            asset=asset,
            created_by=user,
            filename=safe_filename(filename),
            size=size,
            part_size=_part_size(size, backend),
            backend=backend,
            expires_at=_expiry(),
        )
    try:
        staging_for(session).create(session)
    except BaseException:
        session.delete()
        raise
    if session.s3_upload_id:
        session.save(update_fields=["s3_upload_id"])
    return session


def upload_session_received(session: UploadSession) -> dict[int, int]:
    """{part number: size} of the parts received so far (S3: as the bucket lists them)."""
    if session.status != UploadStatus.OPEN:
        return {}
    if session.backend == UploadBackend.S3:
        return {number: part["size"] for number, part in staging_for(session).received(session).items()}
    return dict(session.parts.values_list("number", "size"))


def upload_session_missing(session: UploadSession, received: dict[int, int]) -> list[int]:
    """Part numbers not received yet, or received with another size than their place in the file has."""
    return [n for n in range(1, session.part_count + 1) if received.get(n) != session.part_range(n)[1]]


def upload_part_url(session: UploadSession, number: int) -> str | None:
    """The presigned URL to PUT part `number` to (S3), or None: send it to the API."""
    if session.backend != UploadBackend.S3:
        return None
    return staging_for(session).part_url(session, number)


def _part_number(session: UploadSession, number: int) -> int:
    if not 1 <= number <= session.part_count:
        raise InvalidInput(
            f"part: this session has parts 1 to {session.part_count}; there is no part {number}.", field="part"
        )
    return number


def upload_part_receive(*, user, session: UploadSession, number: int, length: int | None, stream) -> UploadPart:
    """Write part `number` from `stream` (exactly its size; sent again, it replaces the first copy)."""
    _require_upload(user, session.asset)
    if session.backend == UploadBackend.S3:
        raise Conflict("This session's parts go straight to S3: PUT each part to its `url` from the session.")
    _part_number(session, number)
    offset, expected = session.part_range(number)
    if length is None:
        raise InvalidInput("A part needs a Content-Length header (its exact size).", field="part")
    if length != expected:
        raise InvalidInput(
            f"part {number} is {expected:,} bytes (offset {offset:,} of {session.size:,}); the request sent {length:,}.",
            field="part",
        )
    staging = staging_for(session)
    try:
        with staging.writing(session) as fh:
            # Under the shared lock: a verification cannot start (or has finished) while this part is written.
            if UploadSession.objects.filter(pk=session.pk, status=UploadStatus.OPEN).exists():
                staging.write_part(fh, offset, expected, stream)
                part, _ = UploadPart.objects.update_or_create(
                    session=session, number=number, defaults={"size": expected}
                )
                UploadSession.objects.filter(pk=session.pk).update(expires_at=_expiry(), updated_at=timezone.now())
                return part
    except FileNotFoundError:
        pass
    raise Conflict("The session is no longer open: it has been completed or aborted.")


def upload_session_complete(*, user, session: UploadSession, sha256: str) -> UploadSession:
    """Check that every part is there and queue the verification; idempotent for the same SHA-256."""
    _require_upload(user, session.asset)
    sha256 = (sha256 or "").strip().lower()
    if not _SHA256.match(sha256):
        raise InvalidInput("sha256: 64 hexadecimal digits, the SHA-256 of the whole file.", field="sha256")
    if session.status in (UploadStatus.VERIFYING, UploadStatus.COMPLETE):
        if session.sha256 != sha256:
            raise Conflict(f"The session was completed with SHA-256 {session.sha256}, not {sha256}.")
        return session
    if session.status == UploadStatus.FAILED:
        raise Conflict(f"The session failed: {session.error} Start a new session.")
    missing = upload_session_missing(session, upload_session_received(session))
    if missing:
        listed = ", ".join(map(str, missing[:20])) + (", ..." if len(missing) > 20 else "")
        raise Conflict(
            f"{len(missing)} of {session.part_count} parts are missing or of the wrong size ({listed}); "
            "send them, then complete again."
        )
    with transaction.atomic():
        updated = UploadSession.objects.filter(pk=session.pk, status=UploadStatus.OPEN).update(
            status=UploadStatus.VERIFYING, sha256=sha256, updated_at=timezone.now()
        )
        if updated:
            task_send_on_commit(VERIFY_TASK, str(session.pk))
    session.refresh_from_db()
    if session.sha256 != sha256:
        raise Conflict(f"The session was completed with SHA-256 {session.sha256}, not {sha256}.")
    return session


def upload_session_verify(session_id: str) -> None:
    """Task body: assemble the parts, check the SHA-256, store the blob; the session ends complete or failed.

    Idempotent: sent again (a lost worker, the sweep), it finds the blob stored already or does the work again.
    TransientStorageError propagates for the task to retry.
    """
    session = UploadSession.objects.filter(pk=session_id, status=UploadStatus.VERIFYING).first()
    if session is None:
        return
    staging = staging_for(session)
    try:
        blob = staging.store(session, session.sha256)
    except Mismatch as exc:
        blob = Blob.objects.filter(sha256=session.sha256, size=session.size).first() if exc.staged_gone else None
        if blob is None:
            _discard(session)
            UploadSession.objects.filter(pk=session.pk, status=UploadStatus.VERIFYING).update(
                status=UploadStatus.FAILED,
                error=f"{exc} Nothing was stored.",
                updated_at=timezone.now(),
                expires_at=_expiry(),
            )
            logger.info("upload session %s failed: %s", session.pk, exc)
            return
    UploadSession.objects.filter(pk=session.pk, status=UploadStatus.VERIFYING).update(
        status=UploadStatus.COMPLETE, blob=blob, updated_at=timezone.now(), expires_at=_expiry()
    )
    session.parts.all().delete()


def upload_session_abort(*, user, session: UploadSession) -> None:
    """Delete the session and what it staged (not while its verification runs)."""
    _require_upload(user, session.asset)
    if session.status == UploadStatus.VERIFYING:
        raise Conflict("The session is being verified; wait for it to finish, then delete it.")
    _discard(session)
    session.delete()


def _discard(session: UploadSession) -> None:
    if session.status != UploadStatus.COMPLETE:
        staging_for(session).discard(session)


def upload_sessions_for_version(*, asset: Asset, files: list[dict]) -> list[tuple[str, Blob, uuid.UUID]]:
    """(path, blob, session id) for each `{"path", "upload"}`: complete sessions of `asset`, else InvalidInput."""
    ids = [entry["upload"] for entry in files]
    sessions = {s.pk: s for s in UploadSession.objects.filter(asset=asset, pk__in=ids).select_related("blob")}
    resolved = []
    for entry in files:
        session = sessions.get(entry["upload"])
        if session is None:
            raise InvalidInput(
                f"files: {entry['upload']} is not an upload session of '{asset.full_slug}' (or it has expired).",
                field="files",
            )
        if session.status != UploadStatus.COMPLETE:
            detail = f": {session.error}" if session.error else "; complete it and wait until it is complete"
            raise InvalidInput(f"files: upload {session.pk} is {session.status}{detail}.", field="files")
        resolved.append((entry["path"], session.blob, session.pk))
    if len(set(ids)) != len(ids):
        raise InvalidInput("files: each upload session can give one file only.", field="files")
    return resolved


def upload_sessions_consume(ids: list[uuid.UUID]) -> None:
    """Inside the version's transaction: delete the sessions it took; Conflict if another took one first."""
    deleted = (
        UploadSession.objects.filter(pk__in=ids, status=UploadStatus.COMPLETE)
        .delete()[1]
        .get(UploadSession._meta.label, 0)
    )
    if deleted != len(set(ids)):
        raise Conflict("An upload session of this version was used or deleted meanwhile; nothing was created.")


def upload_sessions_expire(*, now=None) -> int:
    """The sweep: delete sessions past their expiry with what they staged; re-send lost verifications."""
    now = now or timezone.now()
    for session_id in UploadSession.objects.filter(
        status=UploadStatus.VERIFYING, updated_at__lt=now - VERIFY_STALLED_AFTER
    ).values_list("pk", flat=True):
        task_send(VERIFY_TASK, str(session_id))
    expired = 0
    for session in UploadSession.objects.filter(expires_at__lt=now).exclude(status=UploadStatus.VERIFYING):
        try:
            _discard(session)
        except TransientStorageError as exc:
            logger.warning("upload session %s: staged data not removed yet: %s", session.pk, exc)
            continue
        session.delete()
        expired += 1
    return expired

import uuid

from django.utils import timezone

from registry.assets.models import Asset
from registry.kernel.access import Permission, has_permission
from registry.kernel.errors import NotFound
from registry.uploads.models import UploadSession


def upload_session_get(*, user, asset: Asset, session_id: str) -> UploadSession:
    """A live session of `asset` (found with asset_get) for a member of its team; NotFound once expired, and for
    everybody else (what changes a session then refuses a non-member with PermissionDenied)."""
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        raise NotFound(f"No upload session {session_id!r}.") from None
    session = UploadSession.objects.filter(asset=asset, pk=pk, expires_at__gte=timezone.now()).first()
    if session is None or not has_permission(user, Permission.VERSION_UPLOAD, asset.team):
        raise NotFound(f"No upload session {session_id} of '{asset.full_slug}' (or it has expired).")
    return session


def upload_session_list(*, asset: Asset, user) -> list[UploadSession]:
    """The caller's live sessions of `asset`, oldest first."""
    return list(UploadSession.objects.filter(asset=asset, created_by=user, expires_at__gte=timezone.now()))

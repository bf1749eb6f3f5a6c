"""Resumable upload sessions over the API: one file of any size in parts, then a version made of such files."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from marketplace.api.input import (
    RejectUnknownFieldsMixin,
    StrictCharField,
    StrictRegexField,
    content_length,
    parse_input,
)
from marketplace.api.views import APIView
from registry.assets.selectors import asset_get
from registry.tokens.models import Scope
from registry.uploads.models import UploadSession, UploadStatus
from registry.uploads.selectors import upload_session_get, upload_session_list
from registry.uploads.services import (
    upload_part_receive,
    upload_part_url,
    upload_session_abort,
    upload_session_complete,
    upload_session_create,
    upload_session_missing,
    upload_session_received,
)

# Parts listed in one answer; a client sends them, then reads the session again for the next ones.
PARTS_PER_ANSWER = 1000


class PartSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    offset = serializers.IntegerField(help_text="Where the part starts in the file.")
    size = serializers.IntegerField(help_text="Its exact size; the last part may be shorter.")
    url = serializers.URLField(help_text="Where to `PUT` its bytes.")
    presigned = serializers.BooleanField(
        help_text="True: a presigned S3 URL, sent without Modelhub credentials; false: the API, with them."
    )


class UploadSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    asset = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    part_size = serializers.IntegerField()
    part_count = serializers.IntegerField()
    status = serializers.ChoiceField(choices=UploadStatus.choices)
    sha256 = serializers.CharField(help_text="Given at completion.")
    error = serializers.CharField(help_text="Why the session failed.")
    received = serializers.IntegerField(help_text="Parts received so far (of part_count).")
    missing = PartSerializer(
        many=True, help_text=f"Parts still to send (at most {PARTS_PER_ANSWER}; read the session again for more)."
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="Deleted with what it staged after this, unless used.")
    url = serializers.URLField()


class UploadSessionCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    filename = StrictCharField(max_length=255, help_text="The file's name (a version's file path is given later).")
    size = serializers.IntegerField(min_value=1, help_text="Its exact size in bytes.")


class UploadCompleteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    sha256 = StrictRegexField(r"^[0-9a-fA-F]{64}$", help_text="The SHA-256 of the whole file.")


class OctetStreamParser(BaseParser):
    """Declares the media type a part is sent as; the view reads the body itself, as a stream."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream


def _session_data(session: UploadSession, request) -> dict:
    received = upload_session_received(session)
    missing = upload_session_missing(session, received) if session.status == UploadStatus.OPEN else []
    kwargs = {"team": session.asset.team.slug, "slug": session.asset.slug, "session_id": session.pk}
    url = reverse("api:upload-session-detail", request=request, kwargs=kwargs)
    parts = []
    for number in missing[:PARTS_PER_ANSWER]:
        offset, size = session.part_range(number)
        presigned = upload_part_url(session, number)
        parts.append(
            {
                "number": number,
                "offset": offset,
                "size": size,
                "url": presigned or f"{url}/parts/{number}",
                "presigned": presigned is not None,
            }
        )
    return {
        "id": str(session.pk),
        "asset": session.asset.full_slug,
        "filename": session.filename,
        "size": session.size,
        "part_size": session.part_size,
        "part_count": session.part_count,
        "status": session.status,
        "sha256": session.sha256,
        "error": session.error,
        "received": session.part_count if session.status != UploadStatus.OPEN else session.part_count - len(missing),
        "missing": parts,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
        "url": url,
    }


def _session(request, team: str, slug: str, session_id: str) -> UploadSession:
    asset = asset_get(user=request.user, team=team, slug=slug)
    return upload_session_get(user=request.user, asset=asset, session_id=session_id)


class UploadSessionListView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(operation_id="upload_sessions_list", responses=UploadSessionSerializer(many=True))
    def get(self, request, team, slug):
        """Your live upload sessions of the asset, oldest first (to resume one)."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        return Response(
            [_session_data(session, request) for session in upload_session_list(asset=asset, user=request.user)]
        )

    @extend_schema(request=UploadSessionCreateSerializer, responses={201: UploadSessionSerializer})
    def post(self, request, team, slug):
        """Open a resumable upload of one file: then PUT its parts (any order, again after a failure), complete it
        with the SHA-256, and create the version from complete sessions (`files` in POST .../versions/)."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        data = parse_input(UploadSessionCreateSerializer, request.data)
        session = upload_session_create(user=request.user, asset=asset, filename=data["filename"], size=data["size"])
        return Response(_session_data(session, request), status=status.HTTP_201_CREATED)


class UploadSessionDetailView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(responses=UploadSessionSerializer)
    def get(self, request, team, slug, session_id):
        """The session: its status, the parts received and those still to send (with where to send them)."""
        session = _session(request, team, slug, session_id)
        return Response(_session_data(session, request))

    @extend_schema(responses={204: None})
    def delete(self, request, team, slug, session_id):
        """Abort the session and delete what it staged."""
        session = _session(request, team, slug, session_id)
        upload_session_abort(user=request.user, session=session)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadPartView(APIView):
    write_scope = Scope.VERSIONS_WRITE
    parser_classes = [OctetStreamParser]

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("Content-Length", int, OpenApiParameter.HEADER, required=True)],
        responses={200: OpenApiResponse(description="`{number, size}`: the part is stored.")},
    )
    def put(self, request, team, slug, session_id, number):
        """Send one part (local storage; on S3 parts go to their presigned URLs): exactly its size, streamed."""
        session = _session(request, team, slug, session_id)
        part = upload_part_receive(
            user=request.user,
            session=session,
            number=int(number),
            length=content_length(request),
            stream=request._request,
        )
        return Response({"number": part.number, "size": part.size})


class UploadCompleteView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(request=UploadCompleteSerializer, responses={202: UploadSessionSerializer})
    def post(self, request, team, slug, session_id):
        """Every part is there: assemble and check the SHA-256 (a task; read the session until `complete`)."""
        session = _session(request, team, slug, session_id)
        data = parse_input(UploadCompleteSerializer, request.data)
        session = upload_session_complete(user=request.user, session=session, sha256=data["sha256"])
        return Response(_session_data(session, request), status=status.HTTP_202_ACCEPTED)

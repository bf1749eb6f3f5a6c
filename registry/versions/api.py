from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from marketplace.api.input import RejectUnknownFieldsMixin, parse_input
from marketplace.assets.selectors import asset_get
from registry.artifacts.storage import blob_download_url, blob_open
from registry.artifacts.uploads import HashingUploadHandler, StagedFile, safe_filename, upload_too_large
from registry.errors import InvalidInput
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.selectors import version_file_get, version_get, version_list
from registry.versions.services import version_create, version_update_metadata

# Multipart framing around the file: a body this much over the limit is refused before reading.
MULTIPART_OVERHEAD = 1024 * 1024


class VersionFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    sha256 = serializers.CharField(source="blob.sha256")
    size = serializers.IntegerField(source="blob.size")
    primary = serializers.BooleanField(source="is_primary")
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, file) -> str:
        url = reverse("api:version-download", request=self.context.get("request"),
                      kwargs={"slug": file.version.asset.slug, "version": file.version.version})
        return url if file.is_primary else f"{url}?{urlencode({'path': file.path})}"


class ValidationSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    failed_check = serializers.CharField()
    reason = serializers.CharField()
    details = serializers.JSONField()
    attempts = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class VersionSerializer(serializers.Serializer):
    asset = serializers.SlugField(source="asset.slug")
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=VersionStatus.choices)
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    metadata = serializers.JSONField()
    signature = serializers.JSONField(allow_null=True)
    files = VersionFileSerializer(many=True)
    validation = ValidationSerializer(allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, version) -> str:
        return reverse("api:version-download", kwargs={"slug": version.asset.slug, "version": version.version},
                       request=self.context.get("request"))


class VersionUploadSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=100, help_text="Semantic version, e.g. 1.2.0 or 2.0.0-rc.1.")
    file = serializers.FileField(help_text="Models: one .onnx file, or a .zip of one .onnx and its external data.")
    metadata = serializers.CharField(required=False, allow_blank=True, help_text="A JSON object.")
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False,
                                    help_text="The file's SHA-256; the upload is refused if it differs.")


class VersionUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    metadata = serializers.JSONField()


class VersionListView(generics.GenericAPIView):
    serializer_class = VersionSerializer
    queryset = AssetVersion.objects.none()  # for the schema only; data comes from selectors
    parser_classes = [MultiPartParser, JSONParser]

    def dispatch(self, request, *args, **kwargs):
        # Must be set before anything reads the body (CSRF checks read POST for session users).
        if request.method == "POST":
            request.upload_handlers = [HashingUploadHandler(request)]
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise InvalidInput("Malformed Content-Length header.") from None
            if length > settings.MODELHUB_MAX_UPLOAD_SIZE + MULTIPART_OVERHEAD:
                raise upload_too_large(length)

    @extend_schema(operation_id="versions_list", responses=VersionSerializer(many=True))
    def get(self, request, slug):
        asset = asset_get(user=request.user, slug=slug)
        page = self.paginate_queryset(version_list(asset=asset))
        return self.get_paginated_response(VersionSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(request={"multipart/form-data": VersionUploadSerializer},
                   responses={202: VersionSerializer, 409: OpenApiResponse(description="Duplicate version."),
                              413: OpenApiResponse(description="Upload over the size limit.")})
    def post(self, request, slug):
        """Upload a version (streamed; hashed while streaming). Answers 202 while validation runs."""
        asset = asset_get(user=request.user, slug=slug)
        data = parse_input(VersionUploadSerializer, request.data)
        uploaded = data["file"]
        try:
            version = version_create(user=request.user, asset=asset, version=data["version"],
                                     upload=StagedFile.from_upload(uploaded), metadata=data.get("metadata"),
                                     expected_sha256=data.get("sha256"))
        finally:
            uploaded.close()
        fresh = version_get(asset=asset, version=version.version)
        return Response(VersionSerializer(fresh, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class VersionDetailView(APIView):
    @extend_schema(responses=VersionSerializer)
    def get(self, request, slug, version):
        found = version_get(asset=asset_get(user=request.user, slug=slug), version=version)
        return Response(VersionSerializer(found, context={"request": request}).data)

    @extend_schema(request=VersionUpdateSerializer, responses=VersionSerializer)
    def patch(self, request, slug, version):
        """Replace the version's metadata; its files, sha256 and size never change."""
        asset = asset_get(user=request.user, slug=slug)
        found = version_get(asset=asset, version=version)
        data = parse_input(VersionUpdateSerializer, request.data)
        version_update_metadata(user=request.user, version=found, metadata=data["metadata"])
        fresh = version_get(asset=asset, version=version)
        return Response(VersionSerializer(fresh, context={"request": request}).data)


class VersionDownloadView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("path", str, description="A file of the version; default: its primary file.")],
        responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="The file (local storage)."),
                   302: OpenApiResponse(description="Redirect to a short-lived presigned URL (S3 storage).")})
    def get(self, request, slug, version):
        found = version_get(asset=asset_get(user=request.user, slug=slug), version=version)
        file = version_file_get(version=found, path=request.query_params.get("path"))
        filename = safe_filename(file.path)
        url = blob_download_url(file.blob, filename=filename, ttl=settings.MODELHUB_DOWNLOAD_URL_TTL)
        response = HttpResponseRedirect(url) if url else FileResponse(blob_open(file.blob), as_attachment=True,
                                                                     filename=filename)
        response["X-Checksum-SHA256"] = file.blob.sha256
        return response

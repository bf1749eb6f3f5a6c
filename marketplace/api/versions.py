from urllib.parse import urlencode

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from marketplace.api.downloads import file_response, starts_a_transfer
from marketplace.api.examples import InputExampleSummarySerializer, input_example_summary
from marketplace.api.input import (
    RejectUnknownFieldsMixin,
    StrictCharField,
    StrictRegexField,
    content_length,
    parse_input,
)
from marketplace.api.pagination import PageNumberPagination, iso_datetime, keyset_links
from marketplace.api.parsers import StrictJSONParser
from marketplace.api.views import APIView, GenericAPIView
from registry.artifacts.uploads import HashingUploadHandler, StagedFile, safe_filename, upload_too_large
from registry.assets.selectors import asset_get
from registry.kernel.errors import InvalidInput
from registry.tokens.models import Scope
from registry.versions.metrics import metric_filters, version_metrics_set
from registry.versions.models import AssetVersion, MetricSource, VersionStatus
from registry.versions.selectors import version_file_get, version_get, version_page, visible_version_get
from registry.versions.semver import SEMVER_PATTERN
from registry.versions.services import (
    version_change_authorize,
    version_create,
    version_download_record,
    version_update_metadata,
    version_upload_authorize,
)
from registry.versions.tags import KEY_PATTERN, version_tags_patch

# Multipart framing around the file: a body this much over the limit is refused before reading.
MULTIPART_OVERHEAD = 1024 * 1024


class VersionFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    sha256 = serializers.CharField(source="blob.sha256")
    size = serializers.IntegerField(source="blob.size")
    primary = serializers.BooleanField(source="is_primary")
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, file) -> str:
        url = _download_url(file.version, self.context.get("request"))
        return url if file.is_primary else f"{url}?{urlencode({'path': file.path})}"


def _download_url(version: AssetVersion, request) -> str:
    return reverse(
        "api:version-download",
        request=request,
        kwargs={"team": version.asset.team.slug, "slug": version.asset.slug, "version": version.version},
    )


class ValidationSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    failed_check = serializers.CharField()
    reason = serializers.CharField()
    details = serializers.JSONField()
    attempts = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class UpstreamSignatureSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    key_id = serializers.CharField(
        required=False, help_text="The trusted upstream key that verified it (or was tried)."
    )
    key_name = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, help_text="Why it did not verify.")


class MetricSerializer(serializers.Serializer):
    name = serializers.CharField()
    dataset = serializers.CharField(help_text="What it was measured on (may be empty).")
    value = serializers.FloatField()
    source = serializers.ChoiceField(choices=MetricSource.choices)


class MetricInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=100)
    dataset = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    value = serializers.FloatField()


class VersionSerializer(serializers.Serializer):
    asset = serializers.CharField(source="asset.full_slug", help_text="`team/slug` of the asset.")
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=VersionStatus.choices)
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    metadata = serializers.JSONField()
    signature = serializers.JSONField(allow_null=True)
    deprecation_reason = serializers.CharField()
    aliases = serializers.SerializerMethodField(help_text="Aliases pointing at this version (e.g. production).")
    files = VersionFileSerializer(many=True)
    validation = ValidationSerializer(allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()
    input_example = serializers.SerializerMethodField(
        help_text="The input example validation, the endpoint check and the portal use (null: generated inputs); "
        "its values at `input-example`."
    )
    tags = serializers.SerializerMethodField(help_text="Key/value tags (`stage`, `git_sha`, `run_id`, ...).")
    metrics = MetricSerializer(many=True, help_text="Metrics the version declares (its card's model-index, or set).")
    upstream_signature = serializers.SerializerMethodField(
        help_text="What validation found of the `model.sig` uploaded with the files (a signature made upstream, "
        "checked against the keys the organisation trusts); null: there is none, or validation has not run."
    )

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_tags(self, version) -> dict:
        return {tag.key: tag.value for tag in version.tags.all()}

    def get_download_url(self, version) -> str:
        return _download_url(version, self.context.get("request"))

    @extend_schema_field(InputExampleSummarySerializer(allow_null=True))
    def get_input_example(self, version) -> dict | None:
        return input_example_summary(version)

    @extend_schema_field(UpstreamSignatureSerializer(allow_null=True))
    def get_upstream_signature(self, version) -> dict | None:
        report = getattr(version, "validation", None)
        found = (report.details or {}).get("upstream_signature") if report is not None else None
        return found if isinstance(found, dict) else None

    def get_aliases(self, version) -> list[str]:
        return sorted(alias.name for alias in version.aliases.all())


class VersionListItemSerializer(serializers.Serializer):
    """A version in the list: no files, validation report, signature or metadata (the detail has them).

    For the schema only: list items are built by `version_list_item`."""

    version = serializers.CharField()
    status = serializers.ChoiceField(choices=VersionStatus.choices)
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    aliases = serializers.ListField(child=serializers.CharField(), help_text="Aliases pointing at this version.")
    tags = serializers.DictField(child=serializers.CharField(), help_text="The version's tags, key to value.")
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="The version's detail (files, validation report, signature, metadata).")
    download_url = serializers.URLField()


class VersionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = VersionListItemSerializer(many=True)


def tag_filters(raw: list[str]) -> list[tuple[str, str | None]]:
    """`?tag=key:value` / `?tag=key` as (key, value or None); 400 for a key that cannot be a tag's."""
    filters = []
    for item in raw[:20]:
        key, sep, value = item.partition(":")
        if not KEY_PATTERN.match(key):
            raise InvalidInput(
                f"tag: {item[:80]!r} is not key:value or key (a tag key is 1-64 of A-Z a-z 0-9 _ - . /)."
            )
        filters.append((key, value if sep else None))
    return filters


def version_list_item(version: AssetVersion, prefix: str) -> dict:
    url = f"{prefix}{version.version}/"
    return {
        "version": version.version,
        "status": version.status,
        "filename": version.filename,
        "sha256": version.sha256,
        "size": version.size,
        "aliases": version.alias_names,
        "tags": version.tag_values,
        "created_by": version.created_by.username if version.created_by_id else None,
        "created_at": iso_datetime(version.created_at),
        "updated_at": iso_datetime(version.updated_at),
        "url": url,
        "download_url": f"{url}download",
    }


def _version_field() -> StrictRegexField:
    return StrictRegexField(
        SEMVER_PATTERN,
        max_length=100,
        error_messages={
            "invalid": "Not a semantic version such as 1.0.0 or 2.1.0-rc.1 (ASCII digits, no leading 'v')."
        },
        help_text=(
            "Semantic version (semver.org), e.g. 1.2.0 or 2.0.0-rc.1. Versions that differ only in build metadata "
            "(+...) have the same precedence, so the second one is refused as a duplicate."
        ),
    )


class VersionUploadSerializer(serializers.Serializer):
    version = _version_field()
    file = serializers.FileField(help_text="Models: one .onnx file, or a .zip of one .onnx and its external data.")
    metadata = StrictCharField(required=False, allow_blank=True, help_text="A JSON object.")
    sha256 = StrictRegexField(
        r"^[0-9a-fA-F]{64}$", required=False, help_text="The file's SHA-256; the upload is refused if it differs."
    )
    lineage = StrictCharField(
        required=False,
        allow_blank=True,
        help_text=(
            'A JSON list of what this version depends on, at most 100: [{"kind": "trained_on", "asset": "team/slug", '
            '"version": "1.2.0"}]; kinds trained_on (model -> dataset), derived_from (model -> model), uses (solution '
            "-> model or dataset). An invalid lineage refuses the whole upload."
        ),
    )
    tags = StrictCharField(
        required=False,
        allow_blank=True,
        help_text='A JSON object of tags, e.g. {"stage": "candidate", "git_sha": "4f2a9c1"} (keys 1-64 of letters, '
        "digits and _ - . / :; values up to 500 characters; at most 50).",
    )
    input_example = serializers.FileField(
        required=False,
        help_text=(
            "Models: an input to run the model on, an .npz of named arrays or a .json of V2 inputs "
            '({"inputs": [{"name", "datatype", "shape", "data"}]}); validation, the endpoint check and the portal\'s '
            "examples use it."
        ),
    )


class VersionFileFromUploadSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    path = StrictCharField(max_length=255, help_text="The file's path in the version, e.g. model.onnx.")
    upload = serializers.UUIDField(help_text="A complete upload session of the asset (POST .../uploads/).")


class VersionFromUploadsSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    version = _version_field()
    files = VersionFileFromUploadSerializer(
        many=True,
        help_text="The version's files, each from a complete upload session (used up by the version). Models: "
        "exactly one .onnx and its external data at the paths the graph names.",
    )
    metadata = serializers.DictField(required=False, help_text="A JSON object.")
    lineage = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="As `lineage` of the multipart upload."
    )
    input_example = serializers.DictField(
        required=False, help_text='V2 inputs to run the model on: {"inputs": [{"name", "datatype", "shape", "data"}]}.'
    )
    tags = serializers.DictField(required=False, help_text="As `tags` of the multipart upload.")


class VersionUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    metadata = serializers.DictField(help_text="A JSON object; replaces the version's metadata.")


class VersionListView(GenericAPIView):
    write_scope = Scope.VERSIONS_WRITE
    serializer_class = VersionSerializer
    queryset = AssetVersion.objects.none()  # for the schema only; data comes from selectors
    parser_classes = [MultiPartParser, StrictJSONParser]
    pagination_class = None  # keyset pages from version_page
    query_params = ("cursor", "page_size", "tag", "metric")

    def dispatch(self, request, *args, **kwargs):
        # Must be set before anything reads the body. The handler asks for the upload permission
        # before it takes the first byte, even when a CSRF check reads the body during
        # authentication (session users), so an outsider's upload is refused unread.
        if request.method == "POST":
            request.upload_handlers = [
                HashingUploadHandler(
                    request, authorize=lambda: self._authorize_upload(request, kwargs["team"], kwargs["slug"])
                )
            ]
        return super().dispatch(request, *args, **kwargs)

    def _authorize_upload(self, django_request, team: str, slug: str):
        if getattr(self, "_upload_asset", None) is None:
            # During authentication DRF's user is not known yet; the session user is the one
            # SessionAuthentication is checking.
            user = getattr(self.request, "_user", None) or django_request.user
            asset = asset_get(user=user, team=team, slug=slug)
            version_upload_authorize(user=user, asset=asset)
            self._upload_asset = asset
        return self._upload_asset

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            self._authorize_upload(request._request, kwargs["team"], kwargs["slug"])
            length = content_length(request) or 0
            if length > settings.MODELHUB_MAX_UPLOAD_SIZE + MULTIPART_OVERHEAD:
                raise upload_too_large(length)

    @extend_schema(
        operation_id="versions_list",
        responses=VersionPageSerializer,
        parameters=[
            OpenApiParameter(
                "cursor", str, description="From a `next` or `previous` link: the page after (before) it."
            ),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Results per page, 1 to 100 (default 20)."),
            OpenApiParameter(
                "tag",
                str,
                many=True,
                description="`key:value` (that value) or `key` (any value); repeat for versions with all of them.",
            ),
            OpenApiParameter(
                "metric",
                str,
                many=True,
                description="`name[@dataset]` then `>`, `>=`, `<`, `<=` or `=` and a number, e.g. `accuracy>0.9` or "
                "`f1@iris>=0.8`: versions declaring it (card model-index or set directly); repeat for all of them.",
            ),
        ],
    )
    def get(self, request, team, slug):
        """The asset's versions, newest first (semver precedence), by keyset pages."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        found = version_page(
            asset=asset,
            cursor=request.query_params.get("cursor"),
            size=PageNumberPagination().get_page_size(request),
            tags=tag_filters(request.query_params.getlist("tag")),
            metrics=metric_filters(request.query_params.getlist("metric")),
        )
        prefix = request.build_absolute_uri(request.path)
        next_url, previous_url = keyset_links(
            request, next_cursor=found.next_cursor, previous_cursor=found.previous_cursor
        )
        return Response(
            {
                "count": found.count,
                "next": next_url,
                "previous": previous_url,
                "results": [version_list_item(version, prefix) for version in found.versions],
            }
        )

    @extend_schema(
        request={"multipart/form-data": VersionUploadSerializer, "application/json": VersionFromUploadsSerializer},
        responses={202: VersionSerializer},
    )
    def post(self, request, team, slug):
        """Upload a version: one streamed file (multipart, hashed while streaming, at most MODELHUB_MAX_UPLOAD_SIZE),
        or JSON naming complete upload sessions (files of any size). Answers 202 while validation runs."""
        asset = self._authorize_upload(request._request, team, slug)
        if request.content_type.startswith("application/json"):
            data = parse_input(VersionFromUploadsSerializer, request.data)
            version = version_create(
                user=request.user,
                asset=asset,
                version=data["version"],
                uploads=data["files"],
                metadata=data.get("metadata"),
                lineage=data.get("lineage"),
                input_example=data.get("input_example"),
                tags=data.get("tags"),
            )
            return Response(
                VersionSerializer(version, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
            )
        data = parse_input(VersionUploadSerializer, request.data)
        uploaded = data["file"]
        example = data.get("input_example")
        try:
            version = version_create(
                user=request.user,
                asset=asset,
                version=data["version"],
                upload=StagedFile.from_upload(uploaded),
                metadata=data.get("metadata"),
                expected_sha256=data.get("sha256"),
                lineage=data.get("lineage"),
                input_example=StagedFile.from_upload(example) if example is not None else None,
                tags=data.get("tags"),
            )
        finally:
            uploaded.close()
            if example is not None:
                example.close()
        return Response(VersionSerializer(version, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class VersionDetailView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(responses=VersionSerializer)
    def get(self, request, team, slug, version):
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        return Response(VersionSerializer(found, context={"request": request}).data)

    @extend_schema(request=VersionUpdateSerializer, responses=VersionSerializer)
    def patch(self, request, team, slug, version):
        """Replace the version's metadata; its files, sha256 and size never change."""
        found = version_get(asset=asset_get(user=request.user, team=team, slug=slug), version=version)
        data = parse_input(VersionUpdateSerializer, request.data)
        updated = version_update_metadata(user=request.user, version=found, metadata=data["metadata"])
        return Response(VersionSerializer(updated, context={"request": request}).data)


class VersionTagsView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(
        operation_id="version_tags_get",
        responses=OpenApiResponse(OpenApiTypes.OBJECT, description="The tags: an object of key to value (text)."),
    )
    def get(self, request, team, slug, version):
        """The version's tags, key to value."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        return Response({tag.key: tag.value for tag in found.tags.all()})

    @extend_schema(
        operation_id="version_tags_patch",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiResponse(OpenApiTypes.OBJECT, description="Every tag after the change: key to value."),
    )
    def patch(self, request, team, slug, version):
        """Set and delete tags in one merge patch: `{"stage": "production", "candidate": null}` sets `stage` and
        deletes `candidate` (members of the asset's team; audited). Answers every tag after the change."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        version_change_authorize(user=request.user, version=found, what="tags")
        return Response(version_tags_patch(user=request.user, version=found, changes=request.data))


class VersionMetricsView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(operation_id="version_metrics_get", responses=MetricSerializer(many=True))
    def get(self, request, team, slug, version):
        """The metrics the version declares: from its card's model-index and set directly."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        return Response(MetricSerializer(found.metrics.all(), many=True).data)

    @extend_schema(
        operation_id="version_metrics_set",
        request=MetricInputSerializer(many=True),
        responses=MetricSerializer(many=True),
    )
    def put(self, request, team, slug, version):
        """Replace the metrics set directly (the card's stay, and follow the card): members of the asset's team."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        version_change_authorize(user=request.user, version=found, what="metrics")
        if not isinstance(request.data, list):
            raise InvalidInput('A JSON list of {"name", "value", "dataset"?}.')
        data = [parse_input(MetricInputSerializer, item) for item in request.data[:201]]
        return Response(MetricSerializer(version_metrics_set(version=found, metrics=data), many=True).data)


class VersionDownloadView(APIView):
    query_params = ("path",)

    @extend_schema(
        parameters=[
            OpenApiParameter("path", str, description="A file of the version; default: its primary file."),
            OpenApiParameter(
                "Range", str, OpenApiParameter.HEADER, description="`bytes=FIRST-[LAST]` or `bytes=-SUFFIX`: a part."
            ),
            OpenApiParameter(
                "If-None-Match", str, OpenApiParameter.HEADER, description="The ETag held: 304 when unchanged."
            ),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file (local storage); `ETag` is its quoted SHA-256."
            ),
            (206, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The part asked for by `Range`, with `Content-Range`."
            ),
            302: OpenApiResponse(description="Redirect to a short-lived presigned URL (S3 storage)."),
            304: OpenApiResponse(description="`If-None-Match` holds the file's ETag."),
            416: OpenApiResponse(description="The range starts past the end; `Content-Range: bytes */SIZE`."),
        },
    )
    def get(self, request, team, slug, version):
        """A file of the version: `Range` (206) to resume, `ETag` (the SHA-256) with `If-None-Match` (304), HEAD."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        file = version_file_get(version=found, path=request.query_params.get("path"))
        response = file_response(
            request, file.blob, filename=safe_filename(file.path), ttl=settings.MODELHUB_DOWNLOAD_URL_TTL
        )
        if starts_a_transfer(request, response):
            version_download_record(user=request.user, version=found, path=file.path)
        return response

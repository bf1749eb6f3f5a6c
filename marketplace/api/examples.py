"""A version's input example, set with its card: V2 JSON inputs or an .npz of named arrays."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from marketplace.api.input import content_length
from marketplace.api.views import APIView
from registry.examples.arrays import FIELD
from registry.examples.models import InputExample
from registry.examples.selectors import input_example_arrays, input_example_get
from registry.examples.services import input_example_remove, input_example_set
from registry.kernel.errors import InvalidInput, NotFound, PayloadTooLarge
from registry.kernel.lib.json_input import JSONRejected, parse_json
from registry.tokens.models import Scope
from registry.versions.selectors import visible_version_get

# Multipart framing around the file: a body this much over the limit is refused before it is read.
MULTIPART_OVERHEAD = 64 * 1024


def _read_bounded(stream) -> bytes:
    limit = settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise PayloadTooLarge(
            f"{FIELD}: the example is over the limit of {limit} bytes (MODELHUB_INPUT_EXAMPLE_MAX_BYTES).", field=FIELD
        )
    return body


class InputExampleJSONParser(JSONParser):
    """V2 JSON inputs, parsed strictly, up to MODELHUB_INPUT_EXAMPLE_MAX_BYTES (more than other JSON bodies)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return parse_json(_read_bounded(stream))
        except JSONRejected as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


class NpzParser(BaseParser):
    """An .npz of named arrays as the raw body, up to MODELHUB_INPUT_EXAMPLE_MAX_BYTES; parsed to bytes."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return _read_bounded(stream)


class V2TensorSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The model input it feeds.")
    datatype = serializers.ChoiceField(
        choices=[
            "BOOL",
            "INT8",
            "INT16",
            "INT32",
            "INT64",
            "UINT8",
            "UINT16",
            "UINT32",
            "UINT64",
            "FP16",
            "FP32",
            "FP64",
            "BYTES",
        ]
    )
    shape = serializers.ListField(child=serializers.IntegerField(min_value=0))
    data = serializers.ListField(
        child=serializers.JSONField(), help_text="The values, row-major (flat, or nested lists)."
    )


class V2InputsSerializer(serializers.Serializer):
    inputs = V2TensorSerializer(many=True)


class InputExampleUploadSerializer(serializers.Serializer):
    input_example = serializers.FileField(help_text="An .npz of named arrays, or a .json of V2 inputs.")


class ExampleTensorSerializer(serializers.Serializer):
    name = serializers.CharField()
    datatype = serializers.CharField()
    shape = serializers.ListField(child=serializers.IntegerField())
    values = serializers.IntegerField(help_text="How many values the tensor has.")
    head = serializers.ListField(child=serializers.JSONField(), help_text="The first values, row-major.")


class InputExampleSummarySerializer(serializers.Serializer):
    """What the version's detail says of its example (GET .../input-example has its values)."""

    sha256 = serializers.CharField(help_text="SHA-256 of the canonical .npz kept.")
    size = serializers.IntegerField(help_text="Bytes of the arrays, decoded.")
    inputs = ExampleTensorSerializer(many=True, source="tensors")
    updated_at = serializers.DateTimeField()


def input_example_summary(version) -> dict | None:
    """The version's example as InputExampleSummarySerializer data, or None (one query, the arrays deferred)."""
    row = input_example_get(version=version)
    return InputExampleSummarySerializer(row).data if row is not None else None


class InputExampleSerializer(serializers.Serializer):
    asset = serializers.CharField(source="version.asset.full_slug")
    version = serializers.CharField(source="version.version")
    sha256 = serializers.CharField(help_text="SHA-256 of the canonical .npz kept.")
    size = serializers.IntegerField(help_text="Bytes of the arrays, decoded.")
    inputs = ExampleTensorSerializer(many=True, source="tensors")
    updated_by = serializers.CharField(source="updated_by.username", default=None)
    updated_at = serializers.DateTimeField()
    validation_restarted = serializers.BooleanField(
        help_text="The version had failed validation at its smoke inference or its example, and is being validated "
        "again on this example."
    )


def _example_body(request):
    """What the request sends as the example: parsed V2 JSON (a dict), or the .npz/.json bytes."""
    data = request.data
    if not hasattr(data, "getlist"):  # JSON (any value: the service says what V2 inputs are) or .npz bytes
        return data
    uploaded = data.get(FIELD)
    if not hasattr(uploaded, "read"):
        raise InvalidInput(
            f"{FIELD}: send V2 JSON inputs (application/json), an .npz (application/octet-stream), or a file "
            f"field '{FIELD}' (multipart/form-data).",
            field=FIELD,
        )
    try:
        if uploaded.size > settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES:
            return _read_bounded(uploaded)  # raises PayloadTooLarge
        return uploaded.read()
    finally:
        uploaded.close()


class InputExampleView(APIView):
    write_scope = Scope.VERSIONS_WRITE
    parser_classes = [InputExampleJSONParser, NpzParser, MultiPartParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "PUT":
            length = content_length(request) or 0
            if length > settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES + MULTIPART_OVERHEAD:
                raise PayloadTooLarge(
                    f"{FIELD}: the request ({length} bytes) is over the limit of "
                    f"{settings.MODELHUB_INPUT_EXAMPLE_MAX_BYTES} bytes (MODELHUB_INPUT_EXAMPLE_MAX_BYTES).",
                    field=FIELD,
                )

    @extend_schema(
        operation_id="version_input_example_retrieve",
        responses={200: OpenApiResponse(V2InputsSerializer, description="The example as V2 JSON inputs.")},
    )
    def get(self, request, team, slug, version):
        """The version's input example as V2 JSON inputs: the body of an inference request, ready to send.
        `ETag` is the SHA-256 of the canonical .npz kept."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        stored = input_example_arrays(version_id=found.pk)
        if stored is None:
            raise NotFound(f"Version {found.version} of '{found.asset.full_slug}' has no input example.")
        row, arrays = stored
        response = Response({"inputs": arrays.v2_inputs()})
        response["ETag"] = f'"{row.sha256}"'
        return response

    @extend_schema(
        operation_id="version_input_example_update",
        request={
            "application/json": V2InputsSerializer,
            "application/octet-stream": OpenApiTypes.BINARY,
            "multipart/form-data": InputExampleUploadSerializer,
        },
        responses=InputExampleSerializer,
    )
    def put(self, request, team, slug, version):
        """Set or replace the input example: V2 JSON inputs, an .npz body (application/octet-stream), or a file
        field `input_example`. Team members; 409 while the version is validated or once it is approved. An
        example that does not fit the model's validated inputs is a 400; a version that failed validation at its
        smoke inference is validated again on the new example."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        row, restarted = input_example_set(user=request.user, version=found, value=_example_body(request))
        return Response(InputExampleSerializer(_described(row, restarted)).data)

    @extend_schema(operation_id="version_input_example_destroy", responses={204: None})
    def delete(self, request, team, slug, version):
        """Remove the input example; validation and the endpoint check use generated inputs again."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        input_example_remove(user=request.user, version=found)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _described(row: InputExample, restarted: bool) -> dict:
    return {
        "version": row.version,
        "sha256": row.sha256,
        "size": row.size,
        "tensors": row.tensors,
        "updated_by": row.updated_by,
        "updated_at": row.updated_at,
        "validation_restarted": restarted,
    }

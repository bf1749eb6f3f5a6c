"""Release reviews, deprecation and aliases over the API."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictCharField, StrictRegexField, parse_input
from marketplace.api.versions import VersionSerializer
from marketplace.api.views import APIView, GenericAPIView
from registry.assets.selectors import asset_get
from registry.governance.keys import signing_key_active, signing_key_get, signing_key_list
from registry.governance.models import (
    Alias,
    ReviewDecision,
    ReviewRound,
    RoundStatus,
    SigningKey,
    SigningKeyStatus,
    VersionSignature,
)
from registry.governance.selectors import (
    alias_get,
    alias_list,
    review_queue,
    reviewable_version_get,
    version_by_alias,
    version_rounds,
    version_signature_get,
)
from registry.governance.services import (
    COMMENT_MAX_LENGTH,
    alias_delete,
    alias_set,
    review_submit,
    version_deprecate,
    version_submit,
)
from registry.governance.signing import APPROVAL_FILENAME, version_signature_verify
from registry.kernel.errors import InvalidInput
from registry.tokens.models import Scope
from registry.versions.selectors import version_get, visible_version_get
from registry.versions.semver import SEMVER_PATTERN


class ReviewSerializer(serializers.Serializer):
    reviewer = serializers.CharField(source="reviewer.username")
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewRoundSerializer(serializers.Serializer):
    asset = serializers.CharField(source="version.asset.full_slug")
    version = serializers.CharField(source="version.version")
    version_status = serializers.CharField(source="version.status")
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=RoundStatus.choices)
    submitted_by = serializers.CharField(source="submitted_by.username", default=None)
    submitted_at = serializers.DateTimeField()
    note = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    approvals_required = serializers.IntegerField()
    approvals = serializers.SerializerMethodField()
    reviewer_groups = serializers.SerializerMethodField()
    forbid_owning_team = serializers.BooleanField()
    reviews = ReviewSerializer(many=True)

    def get_reviewer_groups(self, review_round) -> list[str]:
        return sorted(group.name for group in review_round.reviewer_groups.all())

    def get_approvals(self, review_round) -> int:
        return sum(r.decision == ReviewDecision.APPROVE for r in review_round.reviews.all())


class SubmitSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    note = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=COMMENT_MAX_LENGTH,
        help_text="What reviewers should know about this release.",
    )


class ReviewInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    comment = StrictCharField(max_length=COMMENT_MAX_LENGTH, help_text="Required, whatever the decision.")


class DeprecateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Why consumers should stop using this version.")


class AliasSerializer(serializers.Serializer):
    name = serializers.CharField()
    asset = serializers.CharField(source="asset.full_slug")
    version = serializers.CharField(source="version.version")
    updated_by = serializers.CharField(source="updated_by.username", default=None)
    updated_at = serializers.DateTimeField()


class AliasInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    version = StrictRegexField(SEMVER_PATTERN, max_length=100, help_text="An approved version of the asset.")


def _rounds_response(version, request, code=status.HTTP_200_OK) -> Response:
    rounds = version_rounds(version=version)
    return Response(ReviewRoundSerializer(rounds, many=True, context={"request": request}).data, status=code)


class VersionSubmitView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(request=SubmitSerializer, responses={201: ReviewRoundSerializer})
    def post(self, request, team, slug, version):
        """Submit a validated version for release review under its team's review policy (opens a round)."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        data = parse_input(SubmitSerializer, request.data)
        review_round = version_submit(user=request.user, version=found, note=data.get("note", ""))
        return Response(ReviewRoundSerializer(review_round).data, status=status.HTTP_201_CREATED)


class VersionReviewsView(APIView):
    write_scope = Scope.REVIEW

    @extend_schema(operation_id="version_reviews_list", responses=ReviewRoundSerializer(many=True))
    def get(self, request, team, slug, version):
        """Every review round of the version, oldest first, with its reviews."""
        return _rounds_response(
            reviewable_version_get(user=request.user, team=team, slug=slug, version=version), request
        )

    @extend_schema(request=ReviewInputSerializer, responses={201: ReviewRoundSerializer})
    def post(self, request, team, slug, version):
        """Approve, reject or request changes on the version's open round; answers the round after it."""
        found = reviewable_version_get(user=request.user, team=team, slug=slug, version=version)
        data = parse_input(ReviewInputSerializer, request.data)
        review_round = review_submit(
            user=request.user, version=found, decision=data["decision"], comment=data["comment"]
        )
        return Response(ReviewRoundSerializer(review_round).data, status=status.HTTP_201_CREATED)


class VersionDeprecateView(APIView):
    write_scope = Scope.REVIEW

    @extend_schema(request=DeprecateSerializer, responses=VersionSerializer)
    def post(self, request, team, slug, version):
        """Deprecate a version (maintainers), with a reason consumers see."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        data = parse_input(DeprecateSerializer, request.data)
        version_deprecate(user=request.user, version=version_get(asset=asset, version=version), reason=data["reason"])
        return Response(VersionSerializer(version_get(asset=asset, version=version), context={"request": request}).data)


class ReviewQueueView(GenericAPIView):
    serializer_class = ReviewRoundSerializer
    queryset = ReviewRound.objects.none()  # for the schema only; data comes from selectors
    query_params = ("status",)

    @extend_schema(
        operation_id="reviews_list",
        responses=ReviewRoundSerializer(many=True),
        parameters=[
            OpenApiParameter(
                "status", str, enum=["pending"], description="pending (the default): open rounds you may review now."
            )
        ],
    )
    def get(self, request):
        """The review rounds waiting for you: open, under a policy that makes you a reviewer, not yet reviewed
        by you, and not excluded by separation of duties."""
        wanted = request.query_params.get("status", "pending")
        if wanted != "pending":
            raise InvalidInput("status must be 'pending'.", field="status")
        page = self.paginate_queryset(review_queue(user=request.user))
        return self.get_paginated_response(ReviewRoundSerializer(page, many=True).data)


class AliasListView(GenericAPIView):
    serializer_class = AliasSerializer
    queryset = Alias.objects.none()  # for the schema only

    @extend_schema(operation_id="aliases_list", responses=AliasSerializer(many=True))
    def get(self, request, team, slug):
        page = self.paginate_queryset(alias_list(asset=asset_get(user=request.user, team=team, slug=slug)))
        return self.get_paginated_response(AliasSerializer(page, many=True).data)


class AliasDetailView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(responses=AliasSerializer)
    def get(self, request, team, slug, alias):
        asset = asset_get(user=request.user, team=team, slug=slug)
        return Response(AliasSerializer(alias_get(asset=asset, name=alias)).data)

    @extend_schema(request=AliasInputSerializer, responses=AliasSerializer)
    def put(self, request, team, slug, alias):
        """Point the alias at an approved version (creates or moves it); protected aliases need a reviewer."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        data = parse_input(AliasInputSerializer, request.data)
        alias_set(user=request.user, asset=asset, name=alias, version=version_get(asset=asset, version=data["version"]))
        return Response(AliasSerializer(alias_get(asset=asset, name=alias)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, team, slug, alias):
        asset = asset_get(user=request.user, team=team, slug=slug)
        alias_delete(user=request.user, asset=asset, name=alias)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionByAliasView(APIView):
    @extend_schema(operation_id="versions_by_alias", responses=VersionSerializer)
    def get(self, request, team, slug, alias):
        """The version an alias points at (`.../versions/@production/`)."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        found = version_by_alias(asset=asset, name=alias)
        return Response(VersionSerializer(found, context={"request": request}).data)


KEY_ID_HEADER = OpenApiParameter(
    "X-Key-Id",
    str,
    location=OpenApiParameter.HEADER,
    response=[200],
    description="The id of the signing key (sha256 of its public key, DER).",
)


def _signature(request, team, slug, version) -> VersionSignature:
    return version_signature_get(version=visible_version_get(user=request.user, team=team, slug=slug, version=version))


class VersionSignatureView(APIView):
    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The Sigstore bundle, byte for byte as signed (save it as model.sig)."
            )
        },
        parameters=[KEY_ID_HEADER],
    )
    def get(self, request, team, slug, version):
        """The signature of an approved version: a Sigstore bundle (OpenSSF model signing) over the version's
        files plus `modelhub-approval.json`, made with the organisation key that `X-Key-Id` names (its public key:
        `/api/v1/signing-keys/{key_id}?format=pem`)."""
        signature = _signature(request, team, slug, version)
        response = HttpResponse(signature.bundle, content_type="application/json")
        response["X-Key-Id"] = signature.key_id
        return response


class VersionApprovalView(APIView):
    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="modelhub-approval.json, byte for byte as signed."
            )
        }
    )
    def get(self, request, team, slug, version):
        """The signed approval record: policy, approvers, time and the sha256 of each file."""
        signature = _signature(request, team, slug, version)
        response = HttpResponse(signature.approval, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{APPROVAL_FILENAME}"'
        return response


class SignatureCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    detail = serializers.CharField()
    key_id = serializers.CharField(help_text="The signing key the signature names (empty: there is no signature).")


class VersionSignatureCheckView(APIView):
    @extend_schema(responses=SignatureCheckSerializer)
    def get(self, request, team, slug, version):
        """Verify the signature against the files as they are in storage now (reads every file)."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        return Response(SignatureCheckSerializer(version_signature_verify(version=found)).data)


class SigningKeyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        auth=[],
        responses={
            (200, "application/x-pem-file"): OpenApiResponse(
                OpenApiTypes.STR, description="The public key of the active signing key (PEM)."
            )
        },
        parameters=[KEY_ID_HEADER],
    )
    def get(self, request):
        """The public key that verifies new approval signatures of this Modelhub (the active key of the keyring;
        a signature made with an earlier key names it: `/api/v1/signing-keys/{key_id}`)."""
        return _pem_response(signing_key_active())


class SigningKeySerializer(serializers.Serializer):
    key_id = serializers.CharField(help_text="sha256 of the public key (DER), hex: what a signature names.")
    name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=SigningKeyStatus.choices,
        help_text="active signs new approvals; retired still verifies what it signed; revoked: its signatures "
        "do not verify; pending: added, signs nothing yet.",
    )
    created_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)
    retired_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField()
    public_key_pem = serializers.CharField(help_text="The public key, PEM (SubjectPublicKeyInfo).")


def _pem_response(key: SigningKey) -> HttpResponse:
    response = HttpResponse(key.public_key_pem, content_type="application/x-pem-file")
    response["X-Key-Id"] = key.key_id
    response["Content-Disposition"] = f'inline; filename="modelhub-{key.key_id[:16]}.pub"'
    return response


class SigningKeyListView(GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = SigningKeySerializer
    queryset = SigningKey.objects.none()  # for the schema only; data comes from the keyring

    @extend_schema(auth=[], operation_id="signing_keys_list", responses=SigningKeySerializer(many=True))
    def get(self, request):
        """Every key of the organisation's keyring, oldest first: the public halves, and which signs new approvals."""
        page = self.paginate_queryset(signing_key_list())
        return self.get_paginated_response(SigningKeySerializer(page, many=True).data)


class SigningKeyDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        auth=[],
        operation_id="signing_keys_retrieve",
        responses={
            (200, "application/json"): SigningKeySerializer,
            (200, "application/x-pem-file"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The public key (PEM), for `model_signing verify key --public_key`.",
            ),
        },
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", "pem"],
                description="pem: the public key itself (as `Accept: application/x-pem-file` asks).",
            ),
            KEY_ID_HEADER,
        ],
    )
    def get(self, request, key_id):
        """One key of the keyring, by its id (or a prefix of at least 8 hex digits): the key a signature names
        (`X-Key-Id` of `.../signature`)."""
        wanted = request.query_params.get("format", "")
        if wanted not in ("", "json", "pem"):
            raise InvalidInput("format must be 'json' or 'pem'.", field="format")
        key = signing_key_get(key_id=key_id)
        if wanted == "pem" or (not wanted and "application/x-pem-file" in request.headers.get("Accept", "")):
            return _pem_response(key)
        return Response(SigningKeySerializer(key).data)

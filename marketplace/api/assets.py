from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse

from marketplace.access import Visibility
from marketplace.api.input import RejectUnknownFieldsMixin, StrictCharField, StrictRegexField, parse_input
from marketplace.api.views import APIView, GenericAPIView
from marketplace.assets.filters import MAX_TAG_FILTERS, AssetFilter
from marketplace.assets.models import AssetKind
from marketplace.assets.selectors import FACET_FIELDS, asset_get, asset_search
from marketplace.assets.services import MAX_DESCRIPTION_CHARS, MAX_TAGS, asset_create, asset_delete, asset_update
from marketplace.lib.slugs import SLUG_PATTERN
from marketplace.teams.selectors import team_get


class AssetSerializer(serializers.Serializer):
    full_slug = serializers.CharField(help_text="`team/slug`: the asset's name in URLs.")
    slug = serializers.CharField()
    kind = serializers.ChoiceField(choices=AssetKind.choices)
    name = serializers.CharField()
    summary = serializers.CharField()
    description = serializers.CharField(help_text="Markdown.")
    tags = serializers.SerializerMethodField()
    license = serializers.CharField(help_text="SPDX licence identifier or expression.")
    task = serializers.CharField()
    framework = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    team = serializers.SlugField(source="team.slug")
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    latest_version = serializers.CharField(allow_null=True, help_text="Highest version by semver precedence.")
    version_count = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_tags(self, asset) -> list[str]:
        return [tag.name for tag in asset.tags.all()]

    def get_url(self, asset) -> str:
        return reverse("api:asset-detail", kwargs={"team": asset.team.slug, "slug": asset.slug},
                       request=self.context.get("request"))

    def to_representation(self, asset):
        data = super().to_representation(asset)
        data["latest_version"] = data["latest_version"] or None
        return data


class AssetFieldsSerializer(serializers.Serializer):
    """The descriptive fields, all optional: what PATCH accepts, and what POST adds to the required ones."""

    name = StrictCharField(max_length=200, required=False)
    summary = StrictCharField(max_length=300, required=False, allow_blank=True)
    description = StrictCharField(required=False, allow_blank=True, max_length=MAX_DESCRIPTION_CHARS)
    tags = serializers.ListField(child=StrictCharField(max_length=50), required=False, max_length=MAX_TAGS)
    license = StrictCharField(max_length=64, required=False, allow_blank=True)
    task = StrictCharField(max_length=64, required=False, allow_blank=True)
    framework = StrictCharField(max_length=64, required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class AssetInputSerializer(AssetFieldsSerializer):
    kind = serializers.ChoiceField(choices=AssetKind.choices)
    team = StrictCharField(max_length=64, help_text="Slug of the owning team; you must be a member.")
    name = StrictCharField(max_length=200)
    slug = StrictRegexField(SLUG_PATTERN, max_length=100, required=False,
                                  help_text="Unique within the team; defaults to the slugified name.")


class AssetUpdateSerializer(RejectUnknownFieldsMixin, AssetFieldsSerializer):
    pass


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class AssetPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AssetSerializer(many=True)
    facets = serializers.DictField(child=FacetValueSerializer(many=True),
                                   help_text=f"Counts over all matches for: {', '.join(FACET_FIELDS)}.")


class AssetListView(GenericAPIView):
    serializer_class = AssetSerializer
    filterset_class = AssetFilter

    @extend_schema(operation_id="assets_list", responses=AssetPageSerializer, parameters=[
        OpenApiParameter("tag", str, many=True, description=f"Repeat to require several tags (at most {MAX_TAG_FILTERS})."),
    ])
    def get(self, request):
        """Search and browse the catalogue; facet counts come with every page."""
        qs, facets = asset_search(user=request.user, params=request.query_params)
        page = self.paginate_queryset(qs)
        response = self.get_paginated_response(AssetSerializer(page, many=True, context={"request": request}).data)
        response.data["facets"] = facets
        return response

    def filter_queryset(self, queryset):
        return queryset  # the selector filters; filterset_class is here for the schema

    @extend_schema(request=AssetInputSerializer, responses={201: AssetSerializer})
    def post(self, request):
        """Register an asset owned by one of your teams."""
        data = dict(parse_input(AssetInputSerializer, request.data))
        team = team_get(user=request.user, slug=data.pop("team"))
        asset = asset_create(user=request.user, team=team, **data)
        fresh = asset_get(user=request.user, team=team.slug, slug=asset.slug)
        return Response(AssetSerializer(fresh, context={"request": request}).data, status=status.HTTP_201_CREATED)


class AssetDetailView(APIView):
    @extend_schema(responses=AssetSerializer)
    def get(self, request, team, slug):
        asset = asset_get(user=request.user, team=team, slug=slug)
        return Response(AssetSerializer(asset, context={"request": request}).data)

    @extend_schema(request=AssetUpdateSerializer, responses=AssetSerializer)
    def patch(self, request, team, slug):
        """Edit descriptive fields (members of the owning team)."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        asset_update(user=request.user, asset=asset, fields=dict(parse_input(AssetUpdateSerializer, request.data)))
        fresh = asset_get(user=request.user, team=team, slug=slug)
        return Response(AssetSerializer(fresh, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, team, slug):
        """Delete the asset and its versions (maintainers of the owning team)."""
        asset_delete(user=request.user, asset=asset_get(user=request.user, team=team, slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)

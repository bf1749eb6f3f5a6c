from django.urls import reverse as url_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictCharField, StrictRegexField, parse_input
from marketplace.api.pagination import iso_datetime, keyset_links
from marketplace.api.views import APIView, GenericAPIView
from registry.assets.models import AssetKind, ReleaseStatus
from registry.assets.selectors import asset_get
from registry.assets.services import MAX_DESCRIPTION_CHARS, MAX_TAGS, asset_create, asset_delete, asset_update
from registry.kernel.access import Visibility
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.search.filters import MAX_TAG_FILTERS
from registry.search.query import DEFAULT_PAGE_SIZE, MAX_PAGE_OFFSET, MAX_PAGE_SIZE
from registry.search.selectors import asset_search
from registry.search.vocabulary import (
    FACET_LIMIT,
    FACETS,
    FILTERS,
    ORDERING,
    ORDERING_HELP,
    ORDERINGS,
    PARAMETERS,
    WORDS,
    WORDS_HELP,
)
from registry.teams.selectors import team_get
from registry.tokens.models import Scope


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
    status = serializers.ChoiceField(
        choices=ReleaseStatus.choices,
        allow_blank=True,
        help_text=(
            "Release status: the furthest status among the versions (approved if any is); empty without versions."
        ),
    )
    url = serializers.SerializerMethodField()

    def get_tags(self, asset) -> list[str]:
        return asset.tag_names

    def get_url(self, asset) -> str:
        return self.context["request"].build_absolute_uri(url_path("api:asset-list")) + f"{asset.full_slug}/"

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
    slug = StrictRegexField(
        SLUG_PATTERN,
        max_length=100,
        required=False,
        help_text="Unique within the team; defaults to the slugified name.",
    )


class AssetUpdateSerializer(RejectUnknownFieldsMixin, AssetFieldsSerializer):
    pass


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class HighlightSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The name as HTML: matched words in <mark>, the rest escaped.")
    summary = serializers.CharField(help_text="The summary as HTML: matched words in <mark>, the rest escaped.")


class AssetListItemSerializer(serializers.Serializer):
    """A search result: the asset without its description (the detail has it), plus highlights.

    For the schema only: list items are built by `asset_list_item`, without per-item field machinery."""

    full_slug = serializers.CharField(help_text="`team/slug`: the asset's name in URLs.")
    slug = serializers.CharField()
    kind = serializers.ChoiceField(choices=AssetKind.choices)
    name = serializers.CharField()
    summary = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    license = serializers.CharField(help_text="SPDX licence identifier or expression.")
    task = serializers.CharField()
    framework = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    team = serializers.SlugField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    latest_version = serializers.CharField(allow_null=True, help_text="Highest version by semver precedence.")
    version_count = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=ReleaseStatus.choices,
        allow_blank=True,
        help_text=(
            "Release status: the furthest status among the versions (approved if any is); empty without versions."
        ),
    )
    url = serializers.URLField()
    highlights = HighlightSerializer(allow_null=True, help_text="With `q` only.")


def asset_list_item(row: dict, url_prefix: str, highlights: dict | None) -> dict:
    """One search result as JSON-ready data (AssetListItemSerializer documents it), from a row of
    `asset_search(..., as_rows=True)`."""
    team = row["team__slug"]
    return {
        "full_slug": f"{team}/{row['slug']}",
        "slug": row["slug"],
        "kind": row["kind"],
        "name": row["name"],
        "summary": row["summary"],
        "tags": sorted(row["tags_text"].split()),
        "license": row["license"],
        "task": row["task"],
        "framework": row["framework"],
        "visibility": row["visibility"],
        "team": team,
        "created_by": row["created_by__username"],
        "created_at": iso_datetime(row["created_at"]),
        "updated_at": iso_datetime(row["updated_at"]),
        "latest_version": row["latest_version"] or None,
        "version_count": row["version_count"],
        "status": row["status"],
        "url": f"{url_prefix}{team}/{row['slug']}/",
        "highlights": highlights,
    }


class AssetPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Every match you may see, exact.")
    next = serializers.URLField(allow_null=True, help_text="The next page (a keyset cursor).")
    previous = serializers.URLField(allow_null=True)
    results = AssetListItemSerializer(many=True)
    facets = serializers.DictField(
        child=FacetValueSerializer(many=True),
        help_text=(
            f"Up to {FACET_LIMIT} values, most frequent first, for: {', '.join(FACETS)}. Each facet is counted over the "
            "matches of every other filter but not its own, so a chosen value can be widened."
        ),
    )


def _search_parameter(name: str, *, description: str, choices=None, many: bool = False) -> OpenApiParameter:
    # An empty value is no filter (and the default ordering), as the portal's forms send it.
    return OpenApiParameter(
        name, str, many=many, enum=[*choices, ""] if choices else None, description=description or None
    )


# The search's query parameters, from the vocabulary (registry/search/vocabulary.py), then the paging ones.
SEARCH_PARAMETERS = [
    _search_parameter(WORDS, description=WORDS_HELP),
    *(
        _search_parameter(
            f.name,
            choices=f.choices.values if f.choices else None,
            many=f.many,
            description=f"{f.help_text} At most {MAX_TAG_FILTERS}." if f.many else f.help_text,
        )
        for f in FILTERS
    ),
    _search_parameter(ORDERING, choices=[o.name for o in ORDERINGS], description=ORDERING_HELP),
]


class AssetListView(GenericAPIView):
    write_scope = Scope.VERSIONS_WRITE
    serializer_class = AssetSerializer
    pagination_class = None  # the search pages itself (keyset cursors); see asset_search
    query_params = (*PARAMETERS, "cursor", "page", "page_size")

    @extend_schema(
        operation_id="assets_list",
        responses=AssetPageSerializer,
        parameters=[
            *SEARCH_PARAMETERS,
            OpenApiParameter(
                "cursor", str, description="From a `next` or `previous` link: the page after (before) it."
            ),
            OpenApiParameter(
                "page",
                OpenApiTypes.INT,
                description=(f"Numbered pages, for the first {MAX_PAGE_OFFSET} results; deeper pages follow `next`."),
            ),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description=(f"Results per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."),
            ),
        ],
    )
    def get(self, request):
        """Search and browse the catalogue; the exact total and facet counts come with every page."""
        found = asset_search(user=request.user, params=request.query_params, as_rows=True)
        prefix = request.build_absolute_uri(url_path("api:asset-list"))
        next_url, previous_url = keyset_links(
            request, next_cursor=found.next_cursor, previous_cursor=found.previous_cursor, page=found.page
        )
        return Response(
            {
                "count": found.count,
                "next": next_url,
                "previous": previous_url,
                "results": [asset_list_item(row, prefix, found.highlights.get(row["id"])) for row in found.assets],
                "facets": found.facets,
            }
        )

    @extend_schema(request=AssetInputSerializer, responses={201: AssetSerializer})
    def post(self, request):
        """Register an asset owned by one of your teams."""
        data = dict(parse_input(AssetInputSerializer, request.data))
        team = team_get(user=request.user, slug=data.pop("team"))
        asset = asset_create(user=request.user, team=team, **data)
        return Response(AssetSerializer(asset, context={"request": request}).data, status=status.HTTP_201_CREATED)


class AssetDetailView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(responses=AssetSerializer)
    def get(self, request, team, slug):
        asset = asset_get(user=request.user, team=team, slug=slug)
        return Response(AssetSerializer(asset, context={"request": request}).data)

    @extend_schema(request=AssetUpdateSerializer, responses=AssetSerializer)
    def patch(self, request, team, slug):
        """Edit descriptive fields (members of the owning team)."""
        fields = dict(parse_input(AssetUpdateSerializer, request.data))
        asset = asset_update(user=request.user, asset=asset_get(user=request.user, team=team, slug=slug), fields=fields)
        return Response(AssetSerializer(asset, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, team, slug):
        """Delete the asset and its versions (maintainers of the owning team)."""
        asset_delete(user=request.user, asset=asset_get(user=request.user, team=team, slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Lineage of a version: its graph (up- and downstream), declaring and removing edges, and impact."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictRegexField, parse_input
from marketplace.api.views import APIView
from registry.assets.models import AssetKind
from registry.kernel.lib.slugs import SLUG_URL_PATTERN
from registry.lineage.models import LineageKind
from registry.lineage.selectors import (
    DEFAULT_DEPTH,
    MAX_DEPTH,
    LineageDirection,
    lineage_edge_get,
    lineage_graph,
    lineage_impact,
)
from registry.lineage.services import lineage_edge_add, lineage_edge_remove
from registry.tokens.models import Scope
from registry.versions.models import VersionStatus
from registry.versions.selectors import visible_version_get
from registry.versions.semver import SEMVER_PATTERN


class LineageNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="version.pk")
    asset = serializers.CharField(source="version.asset.full_slug", help_text="`team/slug` of the asset.")
    version = serializers.CharField(source="version.version")
    kind = serializers.ChoiceField(source="version.asset.kind", choices=AssetKind.choices)
    status = serializers.ChoiceField(source="version.status", choices=VersionStatus.choices)


class LineageImpactNodeSerializer(LineageNodeSerializer):
    distance = serializers.IntegerField(help_text="Edges on the shortest path from the dependant to this version.")


class LineageEdgeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField(source="source_id", help_text="Node id of the dependant version.")
    target = serializers.IntegerField(source="target_id", help_text="Node id of the version it depends on.")
    kind = serializers.ChoiceField(choices=LineageKind.choices)


class LineageGraphSerializer(serializers.Serializer):
    root = serializers.IntegerField(source="root.pk", help_text="Node id of the version asked about.")
    nodes = LineageNodeSerializer(many=True)
    edges = LineageEdgeSerializer(many=True)
    hidden_nodes = serializers.IntegerField(
        help_text="Versions in the walk you may not see: left out, with their edges, and only counted."
    )


class LineageImpactSerializer(serializers.Serializer):
    root = LineageNodeSerializer(source="root_node", help_text="The version asked about.")
    versions = LineageImpactNodeSerializer(
        many=True, help_text="Approved versions that depend on it, directly or transitively, nearest first."
    )
    hidden_versions = serializers.IntegerField(help_text="Such versions you may not see, only counted.")


class LineageEdgeCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=LineageKind.choices,
        help_text=("trained_on: model -> dataset; derived_from: model -> model; uses: solution -> model or dataset."),
    )
    asset = StrictRegexField(
        rf"^{SLUG_URL_PATTERN}/{SLUG_URL_PATTERN}$",
        max_length=201,
        help_text="`team/slug` of the asset the version depends on.",
    )
    version = StrictRegexField(SEMVER_PATTERN, max_length=100, help_text="The version it depends on.")


class LineageQuerySerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=LineageDirection.choices,
        default=LineageDirection.BOTH,
        help_text=("upstream: what the version depends on; downstream: what depends on it; both."),
    )
    depth = serializers.IntegerField(
        min_value=1, max_value=MAX_DEPTH, default=DEFAULT_DEPTH, help_text=f"Edges to follow, 1 to {MAX_DEPTH}."
    )


class LineageView(APIView):
    write_scope = Scope.VERSIONS_WRITE
    query_params = ("direction", "depth")

    @extend_schema(
        operation_id="versions_lineage_retrieve", parameters=[LineageQuerySerializer], responses=LineageGraphSerializer
    )
    def get(self, request, team, slug, version):
        """The version's lineage graph within `depth` edges, as far as you may see it."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        # A plain dict: DRF would read an empty `?direction=` from a QueryDict as "not given".
        params = parse_input(LineageQuerySerializer, request.query_params.dict())
        graph = lineage_graph(user=request.user, version=found, direction=params["direction"], depth=params["depth"])
        return Response(LineageGraphSerializer(graph).data)

    @extend_schema(
        operation_id="versions_lineage_create",
        request=LineageEdgeCreateSerializer,
        responses={201: LineageEdgeSerializer},
    )
    def post(self, request, team, slug, version):
        """Declare that this version depends on another one (team members; refused if it closes a cycle)."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        data = parse_input(LineageEdgeCreateSerializer, request.data)
        edge = lineage_edge_add(
            user=request.user, source=found, kind=data["kind"], asset=data["asset"], version=data["version"]
        )
        return Response(LineageEdgeSerializer(edge).data, status=status.HTTP_201_CREATED)


class LineageEdgeDetailView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(
        operation_id="versions_lineage_destroy",
        parameters=[OpenApiParameter("edge_id", int, OpenApiParameter.PATH)],
        responses={204: OpenApiResponse(description="Removed.")},
    )
    def delete(self, request, team, slug, version, edge_id):
        """Remove one of this version's lineage edges (team members)."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        edge = lineage_edge_get(version=found, edge_id=int(edge_id))
        lineage_edge_remove(user=request.user, edge=edge)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LineageImpactView(APIView):
    @extend_schema(operation_id="versions_impact_retrieve", responses=LineageImpactSerializer)
    def get(self, request, team, slug, version):
        """Approved versions that depend on this one, directly or transitively, with their distance."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        impact = lineage_impact(user=request.user, version=found)
        return Response(LineageImpactSerializer(impact).data)

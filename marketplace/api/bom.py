"""A version's CycloneDX ML-BOM (registry/bom): GET .../versions/{version}/bom."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from marketplace.api.views import APIView
from registry.bom.selectors import SPEC_VERSION, version_bom
from registry.versions.selectors import visible_version_get

MEDIA_TYPE = f"application/vnd.cyclonedx+json; version={SPEC_VERSION}"
_ROUTES = {"detail": "api:version-detail", "signature": "api:version-signature"}


class VersionBOMView(APIView):
    @extend_schema(
        operation_id="version_bom",
        responses={
            (200, "application/vnd.cyclonedx+json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A CycloneDX 1.6 ML-BOM (JSON): the version as a component with its files' SHA-256, "
                "licence, model card (`modelCard`) and approval signature; the dataset and model versions upstream of "
                "it (lineage, two levels) as components, linked in `dependencies`. A solution's BOM lists every model "
                "and dataset it uses. Only what you may see is included.",
            )
        },
    )
    def get(self, request, team, slug, version):
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)

        def link(v, what: str) -> str:
            args = [v.asset.team.slug, v.asset.slug, v.version]
            return request.build_absolute_uri(reverse(_ROUTES[what], args=args))

        bom = version_bom(user=request.user, version=found, link=link)
        filename = f"{found.asset.team.slug}-{found.asset.slug}-{found.version}.cdx.json"
        return Response(bom, content_type=MEDIA_TYPE, headers={"Content-Disposition": f'inline; filename="{filename}"'})

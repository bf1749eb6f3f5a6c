from django.urls import path, re_path

from marketplace.api.assets import AssetDetailView, AssetListView
from marketplace.api.lineage import LineageEdgeDetailView, LineageImpactView, LineageView
from marketplace.api.teams import TeamDetailView, TeamListView, TeamMemberDetailView, TeamMemberListView
from marketplace.api.tokens import TokenDetailView, TokenListView
from marketplace.api.versions import VersionDetailView, VersionDownloadView, VersionListView
from marketplace.lib.slugs import SLUG_URL_PATTERN
from registry.versions.semver import SEMVER_URL_PATTERN

app_name = "api"
_ASSET = rf"^assets/(?P<team>{SLUG_URL_PATTERN})/(?P<slug>{SLUG_URL_PATTERN})"
_VERSION = rf"{_ASSET}/versions/(?P<version>{SEMVER_URL_PATTERN})"

urlpatterns = [
    path("teams/", TeamListView.as_view(), name="team-list"),
    path("teams/<str:slug>/", TeamDetailView.as_view(), name="team-detail"),
    path("teams/<str:slug>/members/", TeamMemberListView.as_view(), name="team-member-list"),
    path("teams/<str:slug>/members/<str:username>/", TeamMemberDetailView.as_view(), name="team-member-detail"),
    path("tokens/", TokenListView.as_view(), name="token-list"),
    path("tokens/<int:pk>/", TokenDetailView.as_view(), name="token-detail"),
    path("assets/", AssetListView.as_view(), name="asset-list"),
    re_path(_ASSET + r"/$", AssetDetailView.as_view(), name="asset-detail"),
    re_path(_ASSET + r"/versions/$", VersionListView.as_view(), name="version-list"),
    re_path(_VERSION + r"/$", VersionDetailView.as_view(), name="version-detail"),
    re_path(_VERSION + r"/download$", VersionDownloadView.as_view(), name="version-download"),
    re_path(_VERSION + r"/lineage$", LineageView.as_view(), name="version-lineage"),
    re_path(_VERSION + r"/lineage/(?P<edge_id>[0-9]{1,18})$", LineageEdgeDetailView.as_view(),
            name="version-lineage-edge"),
    re_path(_VERSION + r"/impact$", LineageImpactView.as_view(), name="version-impact"),
]

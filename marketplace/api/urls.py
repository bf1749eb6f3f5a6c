from django.urls import path, re_path

from marketplace.assets.api import AssetDetailView, AssetListView
from marketplace.teams.api import TeamDetailView, TeamListView, TeamMemberDetailView, TeamMemberListView
from marketplace.tokens.api import TokenDetailView, TokenListView
from registry.versions.api import VersionDetailView, VersionDownloadView, VersionListView
from registry.versions.semver import SEMVER_URL_PATTERN

app_name = "api"
_VERSION = rf"^assets/(?P<slug>[-a-zA-Z0-9_]+)/versions/(?P<version>{SEMVER_URL_PATTERN})"

urlpatterns = [
    path("teams/", TeamListView.as_view(), name="team-list"),
    path("teams/<slug:slug>/", TeamDetailView.as_view(), name="team-detail"),
    path("teams/<slug:slug>/members/", TeamMemberListView.as_view(), name="team-member-list"),
    path("teams/<slug:slug>/members/<str:username>/", TeamMemberDetailView.as_view(), name="team-member-detail"),
    path("tokens/", TokenListView.as_view(), name="token-list"),
    path("tokens/<int:pk>/", TokenDetailView.as_view(), name="token-detail"),
    path("assets/", AssetListView.as_view(), name="asset-list"),
    path("assets/<slug:slug>/", AssetDetailView.as_view(), name="asset-detail"),
    path("assets/<slug:slug>/versions/", VersionListView.as_view(), name="version-list"),
    re_path(_VERSION + r"/$", VersionDetailView.as_view(), name="version-detail"),
    re_path(_VERSION + r"/download$", VersionDownloadView.as_view(), name="version-download"),
]

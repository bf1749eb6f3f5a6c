from django.urls import path, re_path

from marketplace.api.assets import AssetDetailView, AssetListView
from marketplace.api.audit import AuditListView
from marketplace.api.bom import VersionBOMView
from marketplace.api.cards import CardReadmeView, CardView
from marketplace.api.endpoints import (
    EndpointDetailView,
    EndpointKeyDetailView,
    EndpointKeyListView,
    EndpointListView,
    RuntimeAuthorizeView,
)
from marketplace.api.examples import InputExampleView
from marketplace.api.governance import (
    AliasDetailView,
    AliasListView,
    ReviewQueueView,
    SigningKeyDetailView,
    SigningKeyListView,
    SigningKeyView,
    VersionApprovalView,
    VersionByAliasView,
    VersionDeprecateView,
    VersionReviewsView,
    VersionSignatureCheckView,
    VersionSignatureView,
    VersionSubmitView,
)
from marketplace.api.lineage import LineageEdgeDetailView, LineageImpactView, LineageView
from marketplace.api.monitoring import (
    EndpointFeedbackView,
    EndpointMonitoringReportView,
    EndpointMonitoringSettingsView,
    EndpointMonitoringView,
    RuntimeMonitoringView,
)
from marketplace.api.service_accounts import ServiceAccountDetailView, ServiceAccountListView, ServiceAccountTokenView
from marketplace.api.shadows import EndpointShadowView
from marketplace.api.subscriptions import AssetSubscriptionView, SubscriptionListView
from marketplace.api.teams import TeamDetailView, TeamListView, TeamMemberDetailView, TeamMemberListView
from marketplace.api.tokens import TokenDetailView, TokenListView
from marketplace.api.uploads import (
    UploadCompleteView,
    UploadPartView,
    UploadSessionDetailView,
    UploadSessionListView,
)
from marketplace.api.versions import (
    VersionDetailView,
    VersionDownloadView,
    VersionListView,
    VersionMetricsView,
    VersionTagsView,
)
from marketplace.api.webhooks import WebhookDeliveryListView, WebhookDetailView, WebhookListView, WebhookTestView
from registry.kernel.lib.slugs import SLUG_URL_PATTERN
from registry.versions.semver import SEMVER_URL_PATTERN

app_name = "api"
_ASSET = rf"^assets/(?P<team>{SLUG_URL_PATTERN})/(?P<slug>{SLUG_URL_PATTERN})"
_VERSION = rf"{_ASSET}/versions/(?P<version>{SEMVER_URL_PATTERN})"
_UPLOAD = rf"{_ASSET}/uploads/(?P<session_id>[0-9a-f-]{{36}})"

urlpatterns = [
    path("teams/", TeamListView.as_view(), name="team-list"),
    path("teams/<str:slug>/", TeamDetailView.as_view(), name="team-detail"),
    path("teams/<str:slug>/members/", TeamMemberListView.as_view(), name="team-member-list"),
    path("teams/<str:slug>/members/<str:username>/", TeamMemberDetailView.as_view(), name="team-member-detail"),
    path("teams/<str:slug>/service-accounts/", ServiceAccountListView.as_view(), name="service-account-list"),
    path(
        "teams/<str:slug>/service-accounts/<str:name>/",
        ServiceAccountDetailView.as_view(),
        name="service-account-detail",
    ),
    path(
        "teams/<str:slug>/service-accounts/<str:name>/tokens",
        ServiceAccountTokenView.as_view(),
        name="service-account-tokens",
    ),
    path("teams/<str:slug>/webhooks/", WebhookListView.as_view(), name="webhook-list"),
    path("teams/<str:slug>/webhooks/<int:pk>/", WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "teams/<str:slug>/webhooks/<int:pk>/deliveries/",
        WebhookDeliveryListView.as_view(),
        name="webhook-delivery-list",
    ),
    path("teams/<str:slug>/webhooks/<int:pk>/test", WebhookTestView.as_view(), name="webhook-test"),
    path("endpoints/", EndpointListView.as_view(), name="endpoint-list"),
    path("endpoints/<int:pk>/", EndpointDetailView.as_view(), name="endpoint-detail"),
    path("endpoints/<int:pk>/keys/", EndpointKeyListView.as_view(), name="endpoint-key-list"),
    path("endpoints/<int:pk>/keys/<int:key_id>/", EndpointKeyDetailView.as_view(), name="endpoint-key-detail"),
    path("endpoints/<int:pk>/monitoring", EndpointMonitoringView.as_view(), name="endpoint-monitoring"),
    path(
        "endpoints/<int:pk>/monitoring/settings",
        EndpointMonitoringSettingsView.as_view(),
        name="endpoint-monitoring-settings",
    ),
    path(
        "endpoints/<int:pk>/monitoring/reports/<int:report_id>",
        EndpointMonitoringReportView.as_view(),
        name="endpoint-monitoring-report",
    ),
    path("endpoints/<int:pk>/feedback", EndpointFeedbackView.as_view(), name="endpoint-feedback"),
    path("endpoints/<int:pk>/shadow", EndpointShadowView.as_view(), name="endpoint-shadow"),
    path("internal/runtime/authorize", RuntimeAuthorizeView.as_view(), name="runtime-authorize"),
    path("internal/runtime/monitoring", RuntimeMonitoringView.as_view(), name="runtime-monitoring"),
    path("tokens/", TokenListView.as_view(), name="token-list"),
    path("subscriptions/", SubscriptionListView.as_view(), name="subscription-list"),
    path("tokens/<int:pk>/", TokenDetailView.as_view(), name="token-detail"),
    path("assets/", AssetListView.as_view(), name="asset-list"),
    re_path(_ASSET + r"/$", AssetDetailView.as_view(), name="asset-detail"),
    re_path(_ASSET + r"/versions/$", VersionListView.as_view(), name="version-list"),
    re_path(_VERSION + r"/$", VersionDetailView.as_view(), name="version-detail"),
    re_path(_ASSET + r"/uploads/$", UploadSessionListView.as_view(), name="upload-session-list"),
    re_path(_UPLOAD + r"$", UploadSessionDetailView.as_view(), name="upload-session-detail"),
    re_path(_UPLOAD + r"/parts/(?P<number>[0-9]{1,5})$", UploadPartView.as_view(), name="upload-part"),
    re_path(_UPLOAD + r"/complete$", UploadCompleteView.as_view(), name="upload-complete"),
    re_path(_VERSION + r"/download$", VersionDownloadView.as_view(), name="version-download"),
    re_path(_VERSION + r"/submit$", VersionSubmitView.as_view(), name="version-submit"),
    re_path(_VERSION + r"/reviews$", VersionReviewsView.as_view(), name="version-reviews"),
    re_path(_VERSION + r"/deprecate$", VersionDeprecateView.as_view(), name="version-deprecate"),
    re_path(
        _ASSET + rf"/versions/@(?P<alias>{SLUG_URL_PATTERN})/$", VersionByAliasView.as_view(), name="version-by-alias"
    ),
    re_path(_ASSET + r"/aliases/$", AliasListView.as_view(), name="alias-list"),
    re_path(_ASSET + r"/subscription$", AssetSubscriptionView.as_view(), name="asset-subscription"),
    re_path(_ASSET + rf"/aliases/(?P<alias>{SLUG_URL_PATTERN})$", AliasDetailView.as_view(), name="alias-detail"),
    re_path(_VERSION + r"/signature$", VersionSignatureView.as_view(), name="version-signature"),
    re_path(
        _VERSION + r"/signature/verification$",
        VersionSignatureCheckView.as_view(),
        name="version-signature-verification",
    ),
    re_path(_VERSION + r"/approval$", VersionApprovalView.as_view(), name="version-approval"),
    re_path(_VERSION + r"/bom$", VersionBOMView.as_view(), name="version-bom"),
    re_path(_VERSION + r"/tags$", VersionTagsView.as_view(), name="version-tags"),
    re_path(_VERSION + r"/metrics$", VersionMetricsView.as_view(), name="version-metrics"),
    path("reviews/", ReviewQueueView.as_view(), name="review-queue"),
    path("signing-key", SigningKeyView.as_view(), name="signing-key"),
    path("signing-keys", SigningKeyListView.as_view(), name="signing-key-list"),
    path("signing-keys/<str:key_id>", SigningKeyDetailView.as_view(), name="signing-key-detail"),
    path("audit/", AuditListView.as_view(), name="audit-list"),
    re_path(_VERSION + r"/card$", CardView.as_view(), name="version-card"),
    re_path(_VERSION + r"/card/readme$", CardReadmeView.as_view(), name="version-card-readme"),
    re_path(_VERSION + r"/input-example$", InputExampleView.as_view(), name="version-input-example"),
    re_path(_VERSION + r"/lineage$", LineageView.as_view(), name="version-lineage"),
    re_path(
        _VERSION + r"/lineage/(?P<edge_id>[0-9]{1,18})$", LineageEdgeDetailView.as_view(), name="version-lineage-edge"
    ),
    re_path(_VERSION + r"/impact$", LineageImpactView.as_view(), name="version-impact"),
]

from django.urls import path, re_path

from marketplace.pages import accounts, assets, catalogue, compare, endpoints, reviews, sso, teams, tokens
from registry.kernel.lib.slugs import SLUG_URL_PATTERN
from registry.versions.semver import SEMVER_URL_PATTERN

app_name = "pages"
_ASSET = rf"^assets/(?P<team>{SLUG_URL_PATTERN})/(?P<slug>{SLUG_URL_PATTERN})/"
_VERSION = rf"{_ASSET}versions/(?P<version>{SEMVER_URL_PATTERN})/"

urlpatterns = [
    path("", catalogue.home, name="home"),
    path("signin/", accounts.SignInView.as_view(), name="signin"),
    path("signin/sso/", sso.SSOStartView.as_view(), name="sso-start"),
    path("signin/sso/callback/", sso.SSOCallbackView.as_view(), name="sso-callback"),
    path("signout/", accounts.SignOutView.as_view(), name="signout"),
    path("catalogue/", catalogue.catalogue, name="catalogue"),
    path("catalogue/suggest", catalogue.suggest, name="suggest"),
    re_path(_ASSET + r"$", assets.asset_detail, name="asset"),
    re_path(_ASSET + r"upload$", assets.upload, name="upload"),
    re_path(_ASSET + r"compare$", compare.compare, name="compare"),
    re_path(_VERSION + r"status$", assets.version_status, name="version-status"),
    re_path(_VERSION + r"submit$", assets.submit, name="version-submit"),
    re_path(_VERSION + r"signature-check$", assets.signature_check, name="signature-check"),
    re_path(_VERSION + r"deploy$", assets.deploy, name="version-deploy"),
    re_path(_VERSION + r"alias$", assets.alias_point, name="alias-set"),
    re_path(_ASSET + r"alias-delete$", assets.alias_remove, name="alias-delete"),
    path("reviews/", reviews.queue, name="reviews"),
    re_path(
        rf"^reviews/(?P<team>{SLUG_URL_PATTERN})/(?P<slug>{SLUG_URL_PATTERN})/(?P<version>{SEMVER_URL_PATTERN})/$",
        reviews.review,
        name="review",
    ),
    path("endpoints/", endpoints.endpoint_index, name="endpoints"),
    path("endpoints/<int:endpoint_id>/", endpoints.endpoint_detail, name="endpoint"),
    path("endpoints/<int:endpoint_id>/status", endpoints.endpoint_status, name="endpoint-status"),
    path("endpoints/<int:endpoint_id>/keys", endpoints.endpoint_key_new, name="endpoint-key-new"),
    path("endpoints/<int:endpoint_id>/shadow", endpoints.endpoint_shadow_start, name="endpoint-shadow-start"),
    path("endpoints/<int:endpoint_id>/shadow/stop", endpoints.endpoint_shadow_stop, name="endpoint-shadow-stop"),
    path(
        "endpoints/<int:endpoint_id>/keys/<int:key_id>/revoke",
        endpoints.endpoint_key_revoke_view,
        name="endpoint-key-revoke",
    ),
    path("teams/", teams.team_index, name="teams"),
    path("teams/<str:slug>/", teams.team_detail, name="team"),
    path("teams/<str:slug>/members", teams.team_member_action, name="team-members"),
    path("teams/<str:slug>/audit/", teams.team_audit, name="team-audit"),
    path("tokens/", tokens.token_index, name="tokens"),
    path("tokens/<int:token_id>/revoke", tokens.token_revoke_view, name="token-revoke"),
]

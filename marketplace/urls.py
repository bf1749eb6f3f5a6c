from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from marketplace.api.huggingface import HubRepoInfoView, HubResolveView, HubTreeView
from marketplace.api.monitoring import monitoring_metrics
from marketplace.health import healthz, readyz
from registry.kernel.lib.slugs import SLUG_URL_PATTERN

handler400 = "marketplace.api.exceptions.api_bad_request"
handler403 = "marketplace.api.exceptions.api_permission_denied"
handler404 = "marketplace.api.exceptions.api_not_found"
handler500 = "marketplace.api.exceptions.api_server_error"


class RedocView(SpectacularRedocView):
    """ReDoc starts itself with an inline script and renders in a blob worker: its page alone allows both."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src blob:; object-src 'none'; frame-ancestors 'none'"
        )
        return response


_REPO = rf"(?P<team>{SLUG_URL_PATTERN})/(?P<slug>{SLUG_URL_PATTERN})"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("marketplace.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("metrics", monitoring_metrics, name="metrics"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # The Hugging Face Hub's read API (marketplace/api/huggingface.py): HF_ENDPOINT=<portal>/hf.
    re_path(rf"^hf/api/(?P<repo_type>models|datasets)/{_REPO}$", HubRepoInfoView.as_view(), name="hf-repo"),
    re_path(
        rf"^hf/api/(?P<repo_type>models|datasets)/{_REPO}/revision/(?P<revision>[^/]+)$",
        HubRepoInfoView.as_view(),
        name="hf-repo-revision",
    ),
    re_path(
        rf"^hf/api/(?P<repo_type>models|datasets)/{_REPO}/tree/(?P<revision>[^/]+)(?:/(?P<path>.+))?$",
        HubTreeView.as_view(),
        name="hf-tree",
    ),
    re_path(
        rf"^hf/datasets/{_REPO}/resolve/(?P<revision>[^/]+)/(?P<path>.+)$",
        HubResolveView.as_view(),
        {"repo_type": "datasets"},
        name="hf-resolve-dataset",
    ),
    re_path(rf"^hf/{_REPO}/resolve/(?P<revision>[^/]+)/(?P<path>.+)$", HubResolveView.as_view(), name="hf-resolve"),
    path("", include("marketplace.pages.urls")),
]

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from marketplace.api.monitoring import monitoring_metrics

handler400 = "marketplace.api.exceptions.api_bad_request"
handler403 = "marketplace.api.exceptions.api_permission_denied"
handler404 = "marketplace.api.exceptions.api_not_found"
handler500 = "marketplace.api.exceptions.api_server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("marketplace.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("metrics", monitoring_metrics, name="metrics"),
    path("", include("marketplace.pages.urls")),
]

"""Root URL map: every domain app mounts its router under /api/v1/."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from vobemusic.health import healthz, readyz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("catalog.urls")),
    path("api/v1/", include("content.urls")),
    path("api/v1/", include("comments.urls")),
    path("api/v1/", include("feedback.urls")),
    path("api/v1/", include("playlists.urls")),
    path("api/v1/", include("listening.urls")),
    path("api/v1/", include("search.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", healthz),
    path("readyz", readyz),
]

from django.urls import path
from rest_framework.routers import DefaultRouter

from listening import views

router = DefaultRouter()
router.register("history", views.HistoryViewSet, basename="history")

urlpatterns = [
    path("analytics/listen/", views.ListenView.as_view(), name="analytics-listen"),
    path("analytics/user/<int:user_id>/", views.UserAnalyticsView.as_view(), name="analytics-user"),
    path("analytics/track/<int:track_id>/", views.TrackAnalyticsView.as_view(), name="analytics-track"),
    path("analytics/platform/", views.PlatformAnalyticsView.as_view(), name="analytics-platform"),
    *router.urls,
]

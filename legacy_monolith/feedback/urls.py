from rest_framework.routers import DefaultRouter

from feedback.views import TicketViewSet

router = DefaultRouter()
router.register("feedback", TicketViewSet, basename="feedback")

urlpatterns = router.urls

from rest_framework.routers import DefaultRouter

from catalog import views

router = DefaultRouter()
router.register("genres", views.GenreViewSet, basename="genre")
router.register("artists", views.ArtistViewSet, basename="artist")
router.register("albums", views.AlbumViewSet, basename="album")
router.register("tracks", views.TrackViewSet, basename="track")

urlpatterns = router.urls

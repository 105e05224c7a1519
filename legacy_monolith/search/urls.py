from django.urls import path

from search import views

urlpatterns = [
    path("search/", views.MixedSearchView.as_view(), name="search"),
    path("search/tracks/", views.TrackSearchView.as_view(), name="search-tracks"),
    path("search/artists/", views.ArtistSearchView.as_view(), name="search-artists"),
    path("search/albums/", views.AlbumSearchView.as_view(), name="search-albums"),
    path("search/posts/", views.PostSearchView.as_view(), name="search-posts"),
    path("search/suggest/", views.SuggestView.as_view(), name="search-suggest"),
]

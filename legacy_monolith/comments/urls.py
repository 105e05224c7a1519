from rest_framework.routers import DefaultRouter

from comments.views import CommentViewSet, PostCommentViewSet

router = DefaultRouter()
router.register(r"posts/(?P<post_pk>\d+)/comments", PostCommentViewSet, basename="post-comment")
router.register("comments", CommentViewSet, basename="comment")

urlpatterns = router.urls

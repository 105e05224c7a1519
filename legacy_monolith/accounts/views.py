"""Registration, JWT login/refresh/logout, the signed-in user's account, and public user pages."""
from django.contrib.auth import user_logged_in
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.models import User
from accounts.serializers import (
    LoginSerializer,
    LogoutSerializer,
    MeSerializer,
    PublicUserSerializer,
    RegisterSerializer,
    tokens_for,
)
from vobemusic.ordering import StableOrderingFilter


class RegisterView(generics.CreateAPIView):
    """Create an account (and its profile); answers with the user and a token pair."""

    serializer_class = RegisterSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        user_logged_in.send(sender=User, request=request, user=user)
        body = {"user": MeSerializer(user, context=self.get_serializer_context()).data, **tokens_for(user)}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(TokenObtainPairView):
    """username + password -> {refresh, access}; throttled per client address (scope "login")."""

    serializer_class = LoginSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class RefreshView(TokenRefreshView):
    """refresh -> {access, refresh}; the old refresh token is blacklisted (rotation)."""


class LogoutView(generics.GenericAPIView):
    """Blacklist a refresh token. Holding the token is the proof, so no access token is needed
    (an expired access token must not prevent signing out)."""

    serializer_class = LogoutSerializer
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return User.objects.select_related("profile").get(pk=self.request.user.pk)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Public user pages (no emails). Filter by ``role``; ``search`` matches the username."""

    queryset = User.objects.filter(is_active=True).select_related("profile")
    serializer_class = PublicUserSerializer
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_fields = {"role": ["exact"], "username": ["exact"]}
    ordering_fields = ["id", "username", "date_joined"]

    def get_queryset(self):
        queryset = super().get_queryset()
        search = self.request.query_params.get("search")
        return queryset.filter(username__icontains=search) if search else queryset

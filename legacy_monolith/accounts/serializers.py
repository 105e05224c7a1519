"""Account JSON shapes and the JWT claims.

The access token carries ``user_id`` (SIMPLE_JWT USER_ID_CLAIM), ``username`` and ``role``; every
service that accepts monolith tokens reads the same claims."""
from __future__ import annotations

from django.contrib.auth import password_validation
from django.db import transaction
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Profile, User


def tokens_for(user: User) -> dict[str, str]:
    """A fresh refresh/access pair carrying the same claims as a login."""
    refresh = LoginSerializer.get_token(user)
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


class LoginSerializer(TokenObtainPairSerializer):
    """simplejwt's username/password login, with the role and username added as claims."""

    @classmethod
    def get_token(cls, user: User) -> RefreshToken:
        token = super().get_token(user)
        token["username"] = user.username
        token["role"] = user.role
        return token


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = ["display_name", "bio", "avatar_url", "country", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_country(self, value: str) -> str:
        if value and (len(value) != 2 or not value.isalpha()):
            raise serializers.ValidationError("Use a two-letter ISO 3166-1 country code.")
        return value.upper()


class UserSummarySerializer(serializers.ModelSerializer):
    """A user embedded in another resource (post author, comment author, playlist owner).
    Querysets feeding it should ``select_related("<fk>__profile")`` to avoid one query per row."""

    display_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name"]

    def get_display_name(self, user: User) -> str:
        try:
            display_name = user.profile.display_name
        except Profile.DoesNotExist:
            display_name = ""
        return display_name or user.username


class PublicUserSerializer(serializers.ModelSerializer):
    """What anyone may see about a user: no email, no names."""

    profile = ProfileSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "role", "date_joined", "profile"]


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user's own account; PATCH may change email, names and the nested profile."""

    profile = ProfileSerializer(required=False)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "date_joined", "last_login", "profile"]
        read_only_fields = ["id", "username", "role", "date_joined", "last_login"]

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if User.objects.filter(email__iexact=value).exclude(pk=self.instance.pk).exists():
            raise serializers.ValidationError("user with this email already exists.")
        return value

    @transaction.atomic
    def update(self, instance: User, validated_data: dict) -> User:
        profile_data = validated_data.pop("profile", None)
        instance = super().update(instance, validated_data)
        if profile_data:
            try:
                profile = instance.profile
            except Profile.DoesNotExist:
                profile = Profile(user=instance)
            for field, value in profile_data.items():
                setattr(profile, field, value)
            profile.save()
        return instance


class RegisterSerializer(serializers.ModelSerializer):
    """Self-service sign-up. Only the user and artist roles can be chosen; admins are made by admins."""

    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=[User.Role.USER, User.Role.ARTIST], default=User.Role.USER)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True, write_only=True)

    class Meta:
        model = User
        fields = ["username", "email", "password", "role", "display_name"]
        extra_kwargs = {"email": {"required": True}}

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError("user with this email already exists.")
        return value

    def validate(self, attrs):
        candidate = User(username=attrs.get("username"), email=attrs.get("email"))
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except Exception as exc:  # django.core.exceptions.ValidationError -> DRF field error
            raise serializers.ValidationError({"password": list(getattr(exc, "messages", [str(exc)]))})
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict) -> User:
        display_name = validated_data.pop("display_name", "") or validated_data["username"]
        user = User.objects.create_user(**validated_data)
        Profile.objects.create(user=user, display_name=display_name)
        return user


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()

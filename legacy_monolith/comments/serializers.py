"""JSON shapes of comments. A deleted comment keeps its place (id, parent, depth, dates) but
shows neither its text nor its author: ``body`` is "[deleted]" and ``author`` is null."""
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from comments.models import DELETED_PLACEHOLDER, Comment
from comments.tree import nest


class CommentSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    post = serializers.PrimaryKeyRelatedField(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Comment.objects.all(), required=False, allow_null=True,
        style={"base_template": "input.html"},  # no <select> of every comment in the browsable API
    )
    body = serializers.CharField(max_length=5000, trim_whitespace=True)

    class Meta:
        model = Comment
        fields = [
            "id", "post", "parent", "depth", "author", "body", "is_deleted", "edited_at", "created_at", "updated_at",
        ]
        read_only_fields = ["depth", "is_deleted", "edited_at", "created_at", "updated_at"]

    def validate_parent(self, parent):
        problem = Comment.reply_problem(parent, self.context["post"])
        if problem:
            raise serializers.ValidationError(problem)
        return parent

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.is_deleted:
            data["body"] = DELETED_PLACEHOLDER
            data["author"] = None
        return data


class CommentUpdateSerializer(CommentSerializer):
    """Editing changes the text only; where the comment hangs in the thread is fixed."""

    parent = serializers.PrimaryKeyRelatedField(read_only=True)

    def validate(self, attrs):
        if self.instance is not None and self.instance.is_deleted:
            raise serializers.ValidationError({"body": ["A deleted comment cannot be edited."]})
        return attrs

    def update(self, instance, validated_data):
        instance.edit(validated_data.get("body", instance.body))
        return instance


def comment_tree(post) -> list[dict]:
    """The post's whole discussion as nested dicts (``replies`` lists), from a single query."""
    return nest(CommentSerializer(Comment.objects.for_post(post), many=True).data)

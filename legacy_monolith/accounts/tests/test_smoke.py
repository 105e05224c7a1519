import pytest

from accounts.models import User


@pytest.mark.django_db
def test_user_created_in_real_postgres():
    user = User.objects.create_user("ann", "ann@example.com", "pw-123456789")
    assert User.objects.get(pk=user.pk).email == "ann@example.com"

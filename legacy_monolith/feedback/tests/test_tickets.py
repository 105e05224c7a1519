"""Feedback tickets: sending (signed in or anonymous), who sees what, the staff workflow."""
import pytest
from django.core.cache import cache

from feedback.models import Ticket
from vobemusic.testing import client_for, make_user

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/feedback/"
PUBLIC_FIELDS = {"id", "author", "email", "category", "subject", "message", "status", "created_at", "updated_at"}
STAFF_FIELDS = PUBLIC_FIELDS | {"staff_note", "allowed_statuses"}


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()  # the anonymous-sender throttle counts in the cache
    yield
    cache.clear()


@pytest.fixture
def staff_api():
    return client_for(make_user(is_staff=True))


def make_ticket(author=None, **fields) -> Ticket:
    fields.setdefault("subject", "Player stutters")
    fields.setdefault("message", "On track change the audio stutters.")
    fields.setdefault("category", Ticket.Category.BUG)
    return Ticket.objects.create(author=author, email=getattr(author, "email", "anon@example.com"), **fields)


def ids(response):
    return [row["id"] for row in response.json()["results"]]


class TestCreate:
    def test_signed_in_user(self, user_api, user):
        response = user_api.post(
            TICKETS, {"category": "feature", "subject": "Dark mode", "message": "Please"}, format="json"
        )
        assert response.status_code == 201
        body = response.json()
        assert set(body) == PUBLIC_FIELDS
        assert body["author"]["id"] == user.pk and body["email"] == user.email
        assert body["status"] == "open" and body["category"] == "feature"

    def test_anonymous_with_email(self, anon):
        response = anon.post(TICKETS, {"subject": "Hi", "message": "Text", "email": "guest@example.com"}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["author"] is None and body["email"] == "guest@example.com" and body["category"] == "other"

    def test_anonymous_without_email(self, anon):
        response = anon.post(TICKETS, {"subject": "Hi", "message": "Text"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"email": ["This field is required."]}

    def test_validation_errors(self, user_api):
        response = user_api.post(TICKETS, {"category": "rant", "email": "nope"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "email": ["Enter a valid email address."],
            "category": ['"rant" is not a valid choice.'],
            "subject": ["This field is required."],
            "message": ["This field is required."],
        }

    def test_sender_cannot_set_status_or_staff_note(self, user_api):
        body = user_api.post(
            TICKETS, {"subject": "s", "message": "m", "status": "closed", "staff_note": "x"}, format="json"
        ).json()
        ticket = Ticket.objects.get(pk=body["id"])
        assert ticket.status == "open" and ticket.staff_note == ""

    def test_anonymous_senders_are_throttled(self, anon, monkeypatch):
        from feedback.throttling import AnonymousFeedbackThrottle

        monkeypatch.setattr(AnonymousFeedbackThrottle, "rate", "2/hour")
        payload = {"subject": "s", "message": "m", "email": "a@example.com"}
        assert [anon.post(TICKETS, payload, format="json").status_code for _ in range(3)] == [201, 201, 429]


class TestVisibility:
    def test_users_see_only_their_own(self, user_api, user, other_user):
        mine = make_ticket(user)
        make_ticket(other_user)
        make_ticket(None)
        response = user_api.get(TICKETS)
        assert ids(response) == [mine.pk]
        assert set(response.json()["results"][0]) == PUBLIC_FIELDS  # no staff_note

    def test_others_ticket_is_404(self, other_api, user):
        ticket = make_ticket(user)
        response = other_api.get(f"{TICKETS}{ticket.pk}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No Ticket matches the given query."}

    def test_anonymous_cannot_list(self, anon):
        response = anon.get(TICKETS)
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    def test_staff_see_all_with_staff_fields(self, staff_api, user):
        tickets = [make_ticket(user, staff_note="called back"), make_ticket(None)]
        response = staff_api.get(TICKETS)
        assert sorted(ids(response)) == sorted(t.pk for t in tickets)
        row = next(r for r in response.json()["results"] if r["id"] == tickets[0].pk)
        assert set(row) == STAFF_FIELDS
        assert row["staff_note"] == "called back"
        assert row["allowed_statuses"] == ["in_progress", "resolved", "closed"]

    def test_admin_role_counts_as_staff(self, admin_api, user):
        make_ticket(user)
        assert admin_api.get(TICKETS).json()["count"] == 1

    def test_staff_filters(self, staff_api, user):
        bug = make_ticket(user, category="bug")
        feature = make_ticket(user, category="feature", status="in_progress")
        assert ids(staff_api.get(TICKETS, {"category": "bug"})) == [bug.pk]
        assert ids(staff_api.get(TICKETS, {"status": "in_progress"})) == [feature.pk]
        assert ids(staff_api.get(TICKETS, {"ordering": "created_at"})) == [bug.pk, feature.pk]

    def test_invalid_filter_choice(self, staff_api):
        response = staff_api.get(TICKETS, {"status": "lost"})
        assert response.status_code == 400
        assert response.json() == {
            "status": ["Select a valid choice. lost is not one of the available choices."]
        }

    def test_pagination(self, staff_api):
        for _ in range(3):
            make_ticket(None)
        body = staff_api.get(TICKETS, {"page_size": 2}).json()
        assert body["count"] == 3 and len(body["results"]) == 2
        assert body["next"] == "http://testserver/api/v1/feedback/?page=2&page_size=2"


class TestWorkflow:
    def test_staff_moves_ticket_and_writes_note(self, staff_api, user):
        ticket = make_ticket(user)
        response = staff_api.patch(
            f"{TICKETS}{ticket.pk}/", {"status": "in_progress", "staff_note": "Reproduced"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["status"] == "in_progress"
        assert response.json()["allowed_statuses"] == ["open", "resolved", "closed"]
        ticket.refresh_from_db()
        assert ticket.status == "in_progress" and ticket.staff_note == "Reproduced"

    def test_full_path_to_closed(self, staff_api):
        ticket = make_ticket(None)
        for status in ["in_progress", "resolved", "closed"]:
            assert staff_api.patch(f"{TICKETS}{ticket.pk}/", {"status": status}, format="json").status_code == 200
        assert Ticket.objects.get(pk=ticket.pk).status == "closed"

    def test_invalid_transition(self, staff_api):
        ticket = make_ticket(None, status="resolved")
        response = staff_api.patch(f"{TICKETS}{ticket.pk}/", {"status": "open"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "status": ['A ticket cannot move from "resolved" to "open". Allowed: in_progress, closed.']
        }

    def test_closed_is_final(self, staff_api):
        ticket = make_ticket(None, status="closed")
        response = staff_api.patch(f"{TICKETS}{ticket.pk}/", {"status": "in_progress"}, format="json")
        assert response.json() == {
            "status": ['A ticket cannot move from "closed" to "in_progress". Allowed: none (the ticket is closed).']
        }

    def test_unknown_status(self, staff_api):
        ticket = make_ticket(None)
        response = staff_api.patch(f"{TICKETS}{ticket.pk}/", {"status": "done"}, format="json")
        assert response.json() == {"status": ['"done" is not a valid choice.']}

    def test_staff_cannot_rewrite_the_senders_text(self, staff_api):
        ticket = make_ticket(None, subject="Original")
        staff_api.patch(f"{TICKETS}{ticket.pk}/", {"subject": "Edited", "category": "content"}, format="json")
        ticket.refresh_from_db()
        assert ticket.subject == "Original" and ticket.category == "content"

    def test_sender_cannot_change_status(self, user_api, user):
        ticket = make_ticket(user)
        response = user_api.patch(f"{TICKETS}{ticket.pk}/", {"status": "closed"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}
        assert Ticket.objects.get(pk=ticket.pk).status == "open"

    def test_anonymous_cannot_change_status(self, anon):
        ticket = make_ticket(None)
        assert anon.patch(f"{TICKETS}{ticket.pk}/", {"status": "closed"}, format="json").status_code == 401

    def test_only_staff_delete(self, user_api, user, staff_api):
        ticket = make_ticket(user)
        assert user_api.delete(f"{TICKETS}{ticket.pk}/").status_code == 403
        assert staff_api.delete(f"{TICKETS}{ticket.pk}/").status_code == 204


def test_model_transitions_are_consistent():
    for status in Ticket.Status:
        ticket = Ticket(status=status)
        assert ticket.can_move_to(status)
        for target in ticket.allowed_next_statuses():
            assert ticket.can_move_to(target)
    assert not Ticket(status="closed").can_move_to("open")

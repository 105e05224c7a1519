"""Playlists: public or private, with tracks kept in an explicit order.

Positions of a playlist's entries are always 1..n without gaps. Every change to the order runs
in a transaction that first locks the playlist row (SELECT ... FOR UPDATE), so concurrent edits
of the same playlist queue up instead of computing positions from a stale count. The unique
(playlist, position) constraint is deferred to commit, which lets a shift or a swap pass through
intermediate duplicate positions."""
from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Track


class PlaylistOrderError(Exception):
    """A requested change to a playlist's order does not fit its current entries.
    ``field`` names the request field at fault, so the API can answer with a field error."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class PlaylistQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Public playlists for everyone; private ones only for their owner and admins."""
        if user.is_authenticated and getattr(user, "is_platform_admin", False):
            return self
        if user.is_authenticated:
            return self.filter(Q(is_public=True) | Q(owner=user))
        return self.filter(is_public=True)

    def with_track_count(self):
        """Annotate ``track_count``, as a correlated subquery so only the page's rows are counted."""
        entries = (
            PlaylistTrack.objects.filter(playlist=OuterRef("pk"))
            .order_by()
            .values("playlist")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(track_count=Coalesce(Subquery(entries), 0))


class Playlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_public = models.BooleanField(default=True)
    tracks = models.ManyToManyField(Track, through="PlaylistTrack", related_name="playlists")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlaylistQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title

    def is_owned_by(self, user) -> bool:
        return self.owner_id == user.pk

    # -- ordered entries ---------------------------------------------------------------------
    @transaction.atomic
    def add_track(self, track: Track, position: int | None = None) -> "PlaylistTrack":
        """Insert ``track`` at ``position`` (1-based; default: at the end), shifting the entries
        at and after it down by one."""
        size = self._lock_and_count()
        if position is None:
            position = size + 1
        _check_position("position", position, size + 1)
        self.entries.filter(position__gte=position).update(position=F("position") + 1)
        entry = PlaylistTrack.objects.create(playlist=self, track=track, position=position)
        self._touch()
        return entry

    @transaction.atomic
    def remove_entry(self, entry_id: int) -> None:
        """Remove one entry and close the gap it leaves. Raises PlaylistTrack.DoesNotExist."""
        self._lock_and_count()
        entry = self.entries.get(pk=entry_id)
        entry.delete()
        self.entries.filter(position__gt=entry.position).update(position=F("position") - 1)
        self._touch()

    @transaction.atomic
    def move(self, from_position: int, to_position: int) -> None:
        """Move the entry at ``from_position`` to ``to_position``; the ones in between slide
        one place towards the gap."""
        size = self._lock_and_count()
        _check_position("from_position", from_position, size)
        _check_position("to_position", to_position, size)
        if from_position == to_position:
            return
        moving = self.entries.get(position=from_position)
        if from_position < to_position:
            between = self.entries.filter(position__gt=from_position, position__lte=to_position)
            between.update(position=F("position") - 1)
        else:
            between = self.entries.filter(position__gte=to_position, position__lt=from_position)
            between.update(position=F("position") + 1)
        PlaylistTrack.objects.filter(pk=moving.pk).update(position=to_position)
        self._touch()

    @transaction.atomic
    def reorder(self, entry_ids: list[int]) -> None:
        """Give the entries the order of ``entry_ids``, which must name every entry exactly once."""
        self._lock_and_count()
        current = set(self.entries.values_list("pk", flat=True))
        if len(entry_ids) != len(current) or set(entry_ids) != current:
            raise PlaylistOrderError(
                "entries", f"Must list each of the playlist's {len(current)} entries exactly once."
            )
        if entry_ids:
            new_position = Case(
                *(When(pk=pk, then=Value(i)) for i, pk in enumerate(entry_ids, start=1)),
                default=F("position"),
                output_field=models.PositiveIntegerField(),
            )
            self.entries.update(position=new_position)
        self._touch()

    def ordered_entry_ids(self) -> list[int]:
        return list(self.entries.order_by("position").values_list("pk", flat=True))

    def _lock_and_count(self) -> int:
        """Lock this playlist for the rest of the transaction; return its entry count."""
        Playlist.objects.select_for_update().filter(pk=self.pk).values_list("pk").get()
        return self.entries.count()

    def _touch(self) -> None:
        self.updated_at = timezone.now()
        Playlist.objects.filter(pk=self.pk).update(updated_at=self.updated_at)


def _check_position(field: str, position: int, highest: int) -> None:
    # Worded like DRF's own min/max errors: the range depends on the locked playlist, so it
    # can only be checked here, not by the serializer.
    if position < 1:
        raise PlaylistOrderError(field, "Ensure this value is greater than or equal to 1.")
    if position > highest:
        raise PlaylistOrderError(field, f"Ensure this value is less than or equal to {highest}.")


class PlaylistTrackQuerySet(models.QuerySet):
    def with_track(self):
        return self.select_related("track__artist")


class PlaylistTrack(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="playlist_entries")
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    objects = PlaylistTrackQuerySet.as_manager()

    class Meta:
        ordering = ["playlist", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["playlist", "position"],
                name="unique_position_per_playlist",
                deferrable=models.Deferrable.DEFERRED,
            )
        ]

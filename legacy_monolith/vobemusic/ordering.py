"""Deterministic ordering for every list endpoint.

DRF's OrderingFilter replaces the default ordering with the client's fields, so two rows with the
same popularity may come back in any order and pages overlap. This filter appends the primary key
as a tie-breaker, in the direction of the first ordering field, so an index on (field, id) serves
both ``?ordering=field`` and ``?ordering=-field``. Every service that replaces a monolith route
must sort the same way."""
from rest_framework.filters import OrderingFilter


class StableOrderingFilter(OrderingFilter):
    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        ordering = list(ordering)
        names = {field.lstrip("-") for field in ordering}
        if "id" not in names and "pk" not in names:
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering

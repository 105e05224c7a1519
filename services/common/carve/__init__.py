"""The carve kit: what every service that takes a domain over from the monolith uses, so that
carving a domain is a declaration (services/<domain>/domain.py), not a copy of another service.
See docs/carve-a-domain.md and ADR 0010."""
from services.common.carve.declaration import Domain, MirroredTable, Overwrite

__all__ = ["Domain", "MirroredTable", "Overwrite"]

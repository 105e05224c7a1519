"""The catalog service: genres, artists, albums and tracks, carved out of the monolith's `catalog` app.

Layout (the template every later service copies):
- `config.py`     CatalogSettings
- `database.py`   Base, the process's Database
- `<domain>/`     models.py (table + JSON shapes), service.py (queries and writes), views.py (routes)
- `account/`      the read-only copy of the users tokens name (roles for permissions)
- `permissions.py` the monolith's IsArtistOwnerOrAdminOrReadOnly / IsAdminRoleOrReadOnly
- `sync/`         CDC apply (monolith -> service), outbox + reverse sync (service -> monolith), status
- `main.py`       the ASGI app (`uvicorn services.catalog.main:app`)
- `alembic/`      migrations of the service's own database
"""

"""Every table of the catalog database, imported in one place for Alembic and the CDC mapping."""
from services.catalog.account.models import AccountUser  # noqa: F401
from services.catalog.album.models import Album  # noqa: F401
from services.catalog.artist.models import Artist  # noqa: F401
from services.catalog.database import Base  # noqa: F401
from services.catalog.genre.models import Genre  # noqa: F401
from services.catalog.sync.models import SyncState  # noqa: F401
from services.catalog.sync.outbox import OutboxEntry  # noqa: F401
from services.catalog.track.models import Track  # noqa: F401

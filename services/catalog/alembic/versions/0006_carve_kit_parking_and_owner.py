"""outbox: parked entries (attempts, reason, next attempt); the write owner row (the carve kit's shape)

Revision ID: 0006
Revises: 0005
"""
from alembic import op

from services.catalog.domain import DOMAIN
from services.common.carve import migrations

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrations.add_parking_and_ownership(op, DOMAIN)


def downgrade() -> None:
    op.drop_table(DOMAIN.sync_table("write_owner"))
    op.drop_index(f"{DOMAIN.sync_table('outbox')}_parked_idx", table_name=DOMAIN.sync_table("outbox"))
    for column in ("next_attempt_at", "park_reason", "parked_at", "attempts"):
        op.drop_column(DOMAIN.sync_table("outbox"), column)


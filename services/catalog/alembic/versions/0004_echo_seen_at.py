"""outbox echo markers: when the CDC apply saw the marked transaction (settled markers are pruned)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('catalog_outbox_echo', sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('catalog_outbox_echo', 'seen_at')

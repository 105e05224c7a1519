"""outbox: index on applied_at, so pruning replayed entries does not scan the whole outbox

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('catalog_outbox_applied_idx', 'catalog_outbox', ['applied_at'],
                    postgresql_where='applied_at IS NOT NULL')


def downgrade() -> None:
    op.drop_index('catalog_outbox_applied_idx', table_name='catalog_outbox')

"""outbox: the monolith transactions that replayed each entry (echo markers) and the pre-write row

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('catalog_outbox', sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_table('catalog_outbox_echo',
    sa.Column('xid', sa.BigInteger(), nullable=False),
    sa.Column('outbox_id', sa.BigInteger(), nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('row_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('xid', 'outbox_id', name=op.f('pk_catalog_outbox_echo'))
    )


def downgrade() -> None:
    op.drop_table('catalog_outbox_echo')
    op.drop_column('catalog_outbox', 'before')

"""catalog tables, user copy, sync state and outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 09:35:31.723286
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_user',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_staff', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_user'))
    )
    op.create_table('catalog_album',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('artist_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('release_date', sa.Date(), nullable=True),
    sa.Column('cover_image_url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_album'))
    )
    op.create_index('catalog_album_artist_idx', 'catalog_album', ['artist_id'], unique=False)
    op.create_index('catalog_album_release_idx', 'catalog_album', ['release_date', 'id'], unique=False)
    op.create_table('catalog_artist',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_artist'))
    )
    op.create_index('catalog_artist_name_idx', 'catalog_artist', ['name'], unique=False)
    op.create_index('catalog_artist_user_idx', 'catalog_artist', ['user_id'], unique=False)
    op.create_table('catalog_genre',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_genre'))
    )
    op.create_index('catalog_genre_name_idx', 'catalog_genre', ['name'], unique=False)
    op.create_index('catalog_genre_slug_idx', 'catalog_genre', ['slug'], unique=False)
    op.create_table('catalog_outbox',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('row_id', sa.BigInteger(), nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('row', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('echoed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_outbox'))
    )
    op.create_index('catalog_outbox_pending_idx', 'catalog_outbox', ['id'], unique=False, postgresql_where='applied_at IS NULL')
    op.create_index('catalog_outbox_row_idx', 'catalog_outbox', ['table_name', 'row_id'], unique=False)
    op.create_table('catalog_sync_state',
    sa.Column('source', sa.String(length=63), nullable=False),
    sa.Column('last_lsn', sa.BigInteger(), nullable=False),
    sa.Column('last_source_ts', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_catalog_sync_state'))
    )
    op.create_table('catalog_track',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('artist_id', sa.BigInteger(), nullable=False),
    sa.Column('album_id', sa.BigInteger(), nullable=True),
    sa.Column('genre_id', sa.BigInteger(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('popularity', sa.SmallInteger(), nullable=False),
    sa.Column('tempo', sa.Double(), nullable=True),
    sa.Column('energy', sa.Double(), nullable=True),
    sa.Column('valence', sa.Double(), nullable=True),
    sa.Column('price', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('file_path', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_track'))
    )
    op.create_index('catalog_track_album_idx', 'catalog_track', ['album_id'], unique=False)
    op.create_index('catalog_track_artist_idx', 'catalog_track', ['artist_id'], unique=False)
    op.create_index('catalog_track_duration_idx', 'catalog_track', ['duration_ms', 'id'], unique=False)
    op.create_index('catalog_track_genre_idx', 'catalog_track', ['genre_id'], unique=False)
    op.create_index('catalog_track_genre_pop_idx', 'catalog_track', ['genre_id', 'popularity', 'id'], unique=False)
    op.create_index('catalog_track_popularity_idx', 'catalog_track', ['popularity', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('catalog_track_popularity_idx', table_name='catalog_track')
    op.drop_index('catalog_track_genre_pop_idx', table_name='catalog_track')
    op.drop_index('catalog_track_genre_idx', table_name='catalog_track')
    op.drop_index('catalog_track_duration_idx', table_name='catalog_track')
    op.drop_index('catalog_track_artist_idx', table_name='catalog_track')
    op.drop_index('catalog_track_album_idx', table_name='catalog_track')
    op.drop_table('catalog_track')
    op.drop_table('catalog_sync_state')
    op.drop_index('catalog_outbox_row_idx', table_name='catalog_outbox')
    op.drop_index('catalog_outbox_pending_idx', table_name='catalog_outbox', postgresql_where='applied_at IS NULL')
    op.drop_table('catalog_outbox')
    op.drop_index('catalog_genre_slug_idx', table_name='catalog_genre')
    op.drop_index('catalog_genre_name_idx', table_name='catalog_genre')
    op.drop_table('catalog_genre')
    op.drop_index('catalog_artist_user_idx', table_name='catalog_artist')
    op.drop_index('catalog_artist_name_idx', table_name='catalog_artist')
    op.drop_table('catalog_artist')
    op.drop_index('catalog_album_release_idx', table_name='catalog_album')
    op.drop_index('catalog_album_artist_idx', table_name='catalog_album')
    op.drop_table('catalog_album')
    op.drop_table('account_user')

"""replica tables (one per source entity) and the apply-batch sequence

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

REFERENCES = {
    "genre": (), "artist": (), "album": ("artist_id",), "track": ("artist_id", "album_id", "genre_id"),
    "post": ("author_id",), "user": (), "profile": ("user_id",),
}


def upgrade() -> None:
    for entity, refs in REFERENCES.items():
        table = f"replica_{entity}"
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("lsn", sa.BigInteger(), nullable=False),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("deleted", sa.Boolean(), nullable=False),
            sa.Column("data", sa.Text(), nullable=True),
            *(sa.Column(ref, sa.BigInteger(), nullable=True) for ref in refs),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"{table}_seq_idx", table, ["seq"])
        for ref in refs:
            op.create_index(f"{table}_{ref}_idx", table, [ref])
    op.create_table("replica_sequence", sa.Column("id", sa.BigInteger(), nullable=False),
                    sa.Column("value", sa.BigInteger(), nullable=True), sa.PrimaryKeyConstraint("id"))
    op.execute("INSERT INTO replica_sequence (id, value) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("replica_sequence")
    for entity in REFERENCES:
        op.drop_table(f"replica_{entity}")

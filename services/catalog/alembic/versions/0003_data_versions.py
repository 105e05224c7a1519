"""data versions: per catalog table, the id of the last transaction that changed it, set by a statement
trigger in that transaction

The list endpoints reuse exact counts while the versions of the tables they count are unchanged
(services/common/count_cache.py). A trigger, not application code, so that every path that writes
(API, CDC apply, snapshot COPY and TRUNCATE) invalidates them. Transaction ids rather than a counter:
they are never reused within a Postgres cluster, so a recreated database cannot reach an old version.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TABLES = ("catalog_genre", "catalog_artist", "catalog_album", "catalog_track")


def upgrade() -> None:
    op.execute("CREATE TABLE catalog_data_version (table_name varchar(63) PRIMARY KEY, version bigint NOT NULL DEFAULT txid_current())")
    op.execute("INSERT INTO catalog_data_version (table_name) VALUES " + ", ".join(f"('{t}')" for t in TABLES))
    op.execute("""
        CREATE FUNCTION catalog_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE catalog_data_version SET version = txid_current() WHERE table_name = TG_TABLE_NAME;
            RETURN NULL;
        END $$""")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION catalog_bump_data_version()")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
    op.execute("DROP FUNCTION catalog_bump_data_version()")
    op.execute("DROP TABLE catalog_data_version")

"""The carve kit on a toy domain, against real Postgres databases: what the declaration derives,
the outbox the ORM fills, the write guard, the reverse sync's Django delete rules and parking, and
that the monolith's rules file is what Django's models say."""
from __future__ import annotations

import datetime as dt
import json
from typing import Optional

import psycopg
import pytest
from sqlalchemy import BigInteger, DateTime, String, create_engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.carve import Domain, MirroredTable, Overwrite, outbox
from services.common.carve.monolith_rules import RULES_FILE, generate
from services.common.carve.ownership import NotOwner, force_owner, install_write_guard
from services.common.carve.reverse_sync import ReverseSync
from services.common.carve.sync_tables import sync_models
from services.common.database import async_url, declarative_base
from tests.parity.processes import ensure_database

Base = declarative_base()


class Shelf(Base):               # no updated_at: replays compare-and-set
    __tablename__ = "toy_shelf"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))


class Book(Base):
    __tablename__ = "toy_book"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    shelf_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    title: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Reader(Base):              # a read-only copy
    __tablename__ = "toy_reader"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


TOY = Domain("toy", Base, tables=(
    MirroredTable(Reader, "toy_reader"),
    MirroredTable(Shelf, "toy_shelf", writable=True),
    MirroredTable(Book, "toy_book", writable=True),
))
SYNC = sync_models(TOY)
# The monolith's rules for the toy tables, in the shape generate() writes.
RELATIONS = {
    "toy_shelf": {"pk": "id", "referenced_by": [{"table": "toy_book", "column": "shelf_id", "pk": "id",
                                                 "on_delete": "SET_NULL"}]},
    "toy_book": {"pk": "id", "referenced_by": [{"table": "toy_loan", "column": "book_id", "pk": "id",
                                                "on_delete": "CASCADE"},
                                               {"table": "toy_review", "column": "book_id", "pk": "id",
                                                "on_delete": "PROTECT"}]},
}


def test_the_declaration_derives_the_kits_facts():
    assert TOY.topic_map("vobe").topics == ["vobe.public.toy_reader", "vobe.public.toy_shelf", "vobe.public.toy_book"]
    assert list(TOY.writable) == ["toy_shelf", "toy_book"]
    assert [t.target for t in TOY.sequenced] == ["toy_shelf", "toy_book"]        # the copy hands out no ids
    assert TOY.by_target["toy_shelf"].overwrite_rule is Overwrite.COMPARE_AND_SET
    assert TOY.by_target["toy_book"].overwrite_rule is Overwrite.UPDATED_AT
    assert TOY.versioned_tables == ("toy_shelf", "toy_book")
    assert TOY.sync_table("outbox") == "toy_outbox"
    with pytest.raises(ValueError, match="declared twice"):
        Domain("twice", Base, tables=(MirroredTable(Shelf, "toy_shelf"), MirroredTable(Shelf, "toy_shelf")))


def test_the_monolith_rules_file_is_what_djangos_models_say():
    assert json.loads(RULES_FILE.read_text()) == generate(), \
        "regenerate: python -m services.common.carve.monolith_rules --write (see its docstring)"


@pytest.fixture(scope="module")
def databases(pg_port):
    service = ensure_database(pg_port, "carve_kit_service", fresh=True)
    monolith = ensure_database(pg_port, "carve_kit_monolith", fresh=True)
    engine = create_engine(async_url(service))
    Base.metadata.create_all(engine)
    engine.dispose()
    with psycopg.connect(monolith) as conn:
        conn.execute("CREATE TABLE toy_shelf (id bigserial PRIMARY KEY, name varchar(50) NOT NULL)")
        conn.execute("CREATE TABLE toy_book (id bigserial PRIMARY KEY, shelf_id bigint REFERENCES toy_shelf, "
                     "title varchar(50) NOT NULL, updated_at timestamptz NOT NULL)")
        conn.execute("CREATE TABLE toy_loan (id bigserial PRIMARY KEY, book_id bigint NOT NULL REFERENCES toy_book)")
        conn.execute("CREATE TABLE toy_review (id bigserial PRIMARY KEY, book_id bigint NOT NULL REFERENCES toy_book)")
    outbox.install(TOY)
    install_write_guard(TOY)
    return service, monolith


def entries(service: str) -> list[tuple]:
    with psycopg.connect(service) as conn:
        return conn.execute("SELECT table_name, row_id, op, row, before FROM toy_outbox ORDER BY id").fetchall()


def test_orm_writes_fill_the_outbox_only_while_the_service_owns_them(databases):
    service, _ = databases
    engine = create_engine(async_url(service))
    with Session(engine) as session:
        session.add(Shelf(name="refused"))
        with pytest.raises(NotOwner):
            session.commit()
    assert entries(service) == []

    force_owner(service, TOY, "service", "test")
    with Session(engine) as session:
        shelf = Shelf(name="A")
        session.add(shelf)
        session.commit()
        shelf.name = "B"
        session.commit()
        shelf.name = "B"                   # no net change: nothing to replay
        session.commit()
        session.delete(shelf)
        session.commit()
    recorded = entries(service)
    assert [(op, row, before) for _, _, op, row, before in recorded] == [
        ("upsert", {"id": shelf.id, "name": "A"}, None),
        ("upsert", {"id": shelf.id, "name": "B"}, {"id": shelf.id, "name": "A"}),   # compare-and-set image
        ("delete", None, None),
    ]
    engine.dispose()
    with psycopg.connect(service) as conn:
        conn.execute("TRUNCATE toy_outbox")


def test_deletes_replay_with_djangos_rules_and_a_refusal_parks_only_its_row(databases):
    service, monolith = databases
    force_owner(service, TOY, "service", "test")
    now = dt.datetime.now(dt.timezone.utc)
    with psycopg.connect(monolith) as conn:
        conn.execute("INSERT INTO toy_shelf (id, name) VALUES (1, 'S')")
        conn.execute("INSERT INTO toy_book (id, shelf_id, title, updated_at) VALUES (1, 1, 'a', %s), (2, 1, 'b', %s), "
                     "(3, NULL, 'c', %s)", (now, now, now))
        conn.execute("INSERT INTO toy_loan (book_id) VALUES (1), (1), (2)")
        conn.execute("INSERT INTO toy_review (book_id) VALUES (2)")      # protects book 2
    engine = create_engine(async_url(service))
    with Session(engine) as session:
        session.add_all([Shelf(id=1, name="S"), Book(id=1, shelf_id=1, title="a", updated_at=now),
                         Book(id=2, shelf_id=1, title="b", updated_at=now), Book(id=3, title="c", updated_at=now)])
        session.commit()
        with psycopg.connect(service) as conn:
            conn.execute("TRUNCATE toy_outbox")
        for book_id in (2, 1):
            session.delete(session.get(Book, book_id))
        session.commit()
        # A later write of the row whose delete the monolith will refuse.
        session.merge(Book(id=2, shelf_id=None, title="b2", updated_at=now + dt.timedelta(seconds=1)))
        session.delete(session.get(Shelf, 1))
        session.commit()
    engine.dispose()

    sync = ReverseSync(TOY, service, monolith, relations=RELATIONS)
    sync.apply_pending()
    with psycopg.connect(monolith) as conn:
        assert conn.execute("SELECT id FROM toy_book ORDER BY id").fetchall() == [(2,), (3,)]   # 1 gone, 2 protected
        assert conn.execute("SELECT book_id FROM toy_loan ORDER BY id").fetchall() == [(2,)]    # book 1's cascaded
        assert conn.execute("SELECT title FROM toy_book WHERE id = 2").fetchone() == ("b",)     # later write held back
        assert conn.execute("SELECT count(*) FROM toy_shelf").fetchone() == (0,)                # other rows went on
        assert conn.execute("SELECT shelf_id FROM toy_book WHERE id = 2").fetchone() == (None,)  # SET_NULL
    with psycopg.connect(service) as conn:
        parked = conn.execute("SELECT table_name, row_id, op, park_reason FROM toy_outbox WHERE parked_at IS NOT NULL "
                              "AND applied_at IS NULL").fetchall()
        waiting = conn.execute("SELECT count(*) FROM toy_outbox WHERE applied_at IS NULL AND parked_at IS NULL").fetchone()
    assert [(t, r, op) for t, r, op, _ in parked] == [("toy_book", 2, "delete")]
    assert "toy_review" in parked[0][3] and "PROTECT" in parked[0][3]
    assert waiting == (1,)             # the later upsert of book 2 waits behind its parked delete

    # The review goes away; the parked delete applies on its retry, then the later write.
    with psycopg.connect(monolith) as conn:
        conn.execute("DELETE FROM toy_review")
    assert sync.retry_parked() == 1
    sync.apply_pending()
    sync.apply_pending()
    with psycopg.connect(monolith) as conn:
        assert conn.execute("SELECT id, title FROM toy_book ORDER BY id").fetchall() == [(2, "b2"), (3, "c")]
    with psycopg.connect(service) as conn:
        assert conn.execute("SELECT count(*) FROM toy_outbox WHERE applied_at IS NULL").fetchone() == (0,)


def test_the_snapshot_starts_only_when_no_writer_of_its_tables_is_in_flight(databases):
    """A transaction open when the snapshot starts would stream changes with LSNs below the
    snapshot's that the snapshot cannot see; the fence waits for it, so its row is in the copy."""
    import threading

    from services.common.carve.snapshot import consistent_snapshot

    _, monolith = databases
    writer = psycopg.connect(monolith)
    writer.execute("INSERT INTO toy_shelf (name) VALUES ('in flight') RETURNING id")
    result = {}

    def snapshot():
        with psycopg.connect(monolith) as src, psycopg.connect(monolith, autocommit=True) as fence:
            result["lsn"] = consistent_snapshot(src, fence, ["toy_shelf"])
            result["rows"] = src.execute("SELECT name FROM toy_shelf").fetchall()
            src.rollback()

    thread = threading.Thread(target=snapshot)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive(), "the snapshot started while a writer of its table was in flight"
    writer.commit()
    writer.close()
    thread.join(10)
    assert ("in flight",) in result["rows"]


def test_create_sync_tables_builds_what_the_kits_models_declare(pg_port):
    """A new domain's one migration; compared with the models by Alembic's own autogenerate."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from services.common.carve import migrations

    url = ensure_database(pg_port, "carve_kit_migration", fresh=True)
    engine = create_engine(async_url(url))
    domain_tables = [m.__table__ for m in (Shelf, Book, Reader)]
    with engine.begin() as conn:
        Base.metadata.create_all(conn, tables=domain_tables)
        migrations.create_sync_tables(Operations(MigrationContext.configure(conn)), TOY)
    with engine.connect() as conn:
        assert model_differences(conn, Base.metadata, TOY) == []
        versions = conn.exec_driver_sql("SELECT table_name FROM toy_data_version ORDER BY 1").scalars().all()
    assert versions == ["toy_book", "toy_shelf"]
    engine.dispose()


def test_the_catalogs_migrations_give_the_schema_its_models_and_the_kit_declare(pg_port):
    from services.catalog.domain import DOMAIN
    from services.catalog.models import Base as CatalogBase
    from tests.parity.processes import prepare_catalog

    url = ensure_database(pg_port, "carve_kit_catalog_schema", fresh=True)
    prepare_catalog(url)
    engine = create_engine(async_url(url))
    with engine.connect() as conn:
        assert model_differences(conn, CatalogBase.metadata, DOMAIN) == []
    engine.dispose()


def model_differences(conn, metadata, domain) -> list:
    """Alembic autogenerate's differences between the database and the models, less the
    data-version table, which is plain SQL (migrations.py), not a model."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    version_table = domain.sync_table("data_version")
    return [d for d in compare_metadata(MigrationContext.configure(conn), metadata)
            if not (d[0] == "remove_table" and d[1].name == version_table)]

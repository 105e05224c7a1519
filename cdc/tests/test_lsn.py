"""pg_lsn text <-> the integer Debezium writes to source.lsn, checked against Postgres's own arithmetic."""
import psycopg
import pytest

from cdc.lsn import int_to_lsn, lsn_to_int


@pytest.mark.parametrize("text, value", [
    ("0/0", 0),
    ("0/1", 1),
    ("0/FFFFFFFF", 0xFFFFFFFF),
    ("1/0", 1 << 32),
    ("16/B374D848", 0x16B374D848),
    ("FFFFFFFF/FFFFFFFF", (1 << 64) - 1),
])
def test_round_trip(text, value):
    assert lsn_to_int(text) == value
    assert int_to_lsn(value) == text


def test_lower_case_and_surrounding_space_are_read():
    assert lsn_to_int(" 16/b374d848\n") == 0x16B374D848


@pytest.mark.parametrize("text", ["", "16", "/1", "1/", "16/B374D848/0", "G/0", "123456789/0", "-1/0"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        lsn_to_int(text)


@pytest.mark.parametrize("value", [-1, 1 << 64])
def test_out_of_range_integers_are_refused(value):
    with pytest.raises(ValueError):
        int_to_lsn(value)


def test_agrees_with_postgres(pg_port):
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres") as conn:
        text, number = conn.execute("SELECT pg_current_wal_lsn()::text, (pg_current_wal_lsn() - '0/0')::bigint").fetchone()
        assert lsn_to_int(text) == number
        assert conn.execute("SELECT %s::pg_lsn::text", (int_to_lsn(number),)).fetchone()[0] == text

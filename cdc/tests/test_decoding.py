"""Envelope and value decoding without any infrastructure."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Date, DateTime, Float, Interval, Numeric, Time

from cdc.consumer.envelope import PoisonEvent, decode
from cdc.consumer.value_decoding import convert, converter_for


def test_decodes_create_update_delete_and_tombstone():
    value = b'{"before":null,"after":{"id":5,"price":"9.99"},"source":{"lsn":42,"ts_ms":1000,"schema":"public","table":"catalog_track","snapshot":"false","txId":7},"op":"c"}'
    event = decode("vobe.public.catalog_track", 1, 10, b'{"id":5}', value)
    assert (event.op, event.key, event.lsn, event.table, event.row["price"]) == ("c", {"id": 5}, 42, "public.catalog_track", "9.99")
    delete = decode("t", 0, 11, b'{"id":5}', b'{"before":{"id":5},"after":null,"source":{"lsn":43},"op":"d"}')
    assert delete.row == {"id": 5}
    tombstone = decode("t", 0, 12, b'{"id":5}', None)
    assert tombstone.is_tombstone and tombstone.lsn is None


def test_schema_envelopes_are_unwrapped():
    event = decode("t", 0, 0, b'{"id":1}', b'{"schema":{},"payload":{"op":"r","after":{"id":1},"source":{"lsn":1}}}')
    assert event.op == "r" and event.after == {"id": 1}


@pytest.mark.parametrize("value, reason", [
    (b"not json", "value-not-json"), (b'[1,2]', "not-an-envelope"), (b'{"op":"x"}', "unknown-op"),
    (b'{"op":"u","after":null}', "missing-after"), (b'{"op":"d","before":null}', "missing-before"),
])
def test_poison_envelopes(value, reason):
    with pytest.raises(PoisonEvent) as caught:
        decode("t", 0, 0, b'{"id":1}', value)
    assert caught.value.reason == reason


@pytest.mark.parametrize("column_type, raw, expected", [
    (Numeric(8, 2), "9.99", Decimal("9.99")),
    (Numeric(8, 2), {"scale": 2, "value": "A+c="}, Decimal("9.99")),   # VariableScaleDecimal 999e-2
    (Date(), "2024-02-29", dt.date(2024, 2, 29)),
    (Date(), 19782, dt.date(2024, 2, 29)),
    (DateTime(timezone=True), "2024-02-29T10:11:12.123456Z", dt.datetime(2024, 2, 29, 10, 11, 12, 123456, tzinfo=dt.timezone.utc)),
    (DateTime(timezone=True), 1709201472123456, dt.datetime(2024, 2, 29, 10, 11, 12, 123456, tzinfo=dt.timezone.utc)),
    (DateTime(timezone=True), 1709201472123, dt.datetime(2024, 2, 29, 10, 11, 12, 123000, tzinfo=dt.timezone.utc)),
    (DateTime(), "2024-02-29T10:11:12.5", dt.datetime(2024, 2, 29, 10, 11, 12, 500000)),
    (Time(), "10:11:12.5", dt.time(10, 11, 12, 500000)),
    (Time(), 36672500000, dt.time(10, 11, 12, 500000)),
    (Interval(), "P1DT2H3M4.5S", dt.timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
    (Float(), "NaN", float("nan")),
])
def test_value_conversion(column_type, raw, expected):
    value = convert(converter_for(column_type), raw, "c")
    if isinstance(expected, float) and expected != expected:
        assert value != value
    else:
        assert value == expected


def test_bad_values_are_poison():
    with pytest.raises(PoisonEvent):
        convert(converter_for(Numeric(8, 2)), "abc", "price")
    with pytest.raises(PoisonEvent):
        convert(converter_for(Date()), "yesterday", "release_date")

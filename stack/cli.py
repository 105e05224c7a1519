"""`./dev up|down|status|logs|restart`: runs the whole VobeMusic stack on one machine."""
from __future__ import annotations

import subprocess
import sys

import click

from stack import supervisor_config
from stack.component import Component
from stack.components import all_components
from stack.readiness import wait_until
from stack.settings import StackSettings
from stack.supervisor_control import Supervisor


def _select(components: list[Component], names: tuple[str, ...]) -> list[Component]:
    if not names:
        return components
    known = {c.name for c in components}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.BadParameter(f"unknown component(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [c for c in components if c.name in names]


def _write_config(settings: StackSettings, components: list[Component]) -> None:
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    settings.supervisor_conf.write_text(supervisor_config.render(settings, components))


def _bring_up(supervisor: Supervisor, component: Component) -> None:
    click.echo(f"- {component.name}: ", nl=False)
    # A running component is left alone: its set-up already ran before it started.
    if supervisor.state(component.name) != "RUNNING":
        if component.prepare:
            component.prepare()
        supervisor.start(component.name)
    if component.ready and not wait_until(component.ready, component.start_timeout):
        log = supervisor.settings.log_dir / f"{component.name}.log"
        tail = log.read_text()[-3000:] if log.exists() else ""
        raise click.ClickException(f"{component.name} did not become ready; last log lines:\n{tail}")
    if component.after_ready:
        component.after_ready()
    click.echo("ready")


@click.group()
def main() -> None:
    """The VobeMusic stack: Postgres, Redis, broker, CDC relay, monolith, services and proxy."""


@main.command()
@click.argument("names", nargs=-1)
def up(names: tuple[str, ...]) -> None:
    """Start every component (or only NAMES) in order, waiting for each to be ready. Safe to re-run."""
    settings = StackSettings()
    components = all_components(settings)
    _write_config(settings, components)
    supervisor = Supervisor(settings)
    supervisor.ensure_running()
    for component in _select(components, names):
        _bring_up(supervisor, component)
    _print_urls(settings, _select(components, names))


@main.command()
@click.argument("names", nargs=-1)
def down(names: tuple[str, ...]) -> None:
    """Stop every component (or only NAMES) in reverse order; the data stays in .stack/."""
    settings = StackSettings()
    supervisor = Supervisor(settings)
    if not supervisor.is_running():
        click.echo("stack is not running")
        return
    for component in reversed(_select(all_components(settings), names)):
        click.echo(f"- stopping {component.name}")
        supervisor.stop(component.name)
    if not names:
        supervisor.shutdown()


@main.command()
@click.argument("names", nargs=-1)
def restart(names: tuple[str, ...]) -> None:
    """Restart NAMES (or everything), waiting for readiness again."""
    settings = StackSettings()
    components = _select(all_components(settings), names)
    supervisor = Supervisor(settings)
    supervisor.ensure_running()
    for component in reversed(components):
        supervisor.stop(component.name)
    for component in components:
        _bring_up(supervisor, component)


@main.command()
def status() -> None:
    """Show each component's process state, readiness and URLs."""
    settings = StackSettings()
    processes = Supervisor(settings).processes()
    for component in all_components(settings):
        info = processes.get(component.name, {})
        state = info.get("statename", "STOPPED")
        ready = component.ready() if (component.ready and state == "RUNNING") else False
        pid = info.get("pid") or "-"
        click.echo(f"{component.name:<12} {state:<9} pid {pid!s:<8} {'ready' if ready else 'not ready'}")
        for label, url in component.urls.items():
            click.echo(f"{'':<12} {label}: {url}")
    sys.exit(0 if processes else 3)


@main.command()
@click.argument("name")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.option("-n", "--lines", default=50, show_default=True)
def logs(name: str, follow: bool, lines: int) -> None:
    """Print a component's log (JSON lines for the Python components)."""
    log = StackSettings().log_dir / f"{name}.log"
    if not log.exists():
        raise click.ClickException(f"no log at {log}")
    subprocess.run(["tail", "-n", str(lines), *(["-F"] if follow else []), str(log)])


def _print_urls(settings: StackSettings, components: list[Component]) -> None:
    click.echo("\nVobeMusic is up. Where to look:")
    for component in components:
        for label, url in component.urls.items():
            click.echo(f"  {label:<24} {url}")
    click.echo(f"\n  status: ./dev status    logs: ./dev logs NAME    stop: ./dev down    state: {settings.state_dir}")

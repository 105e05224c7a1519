"""The supervisord configuration the stack renders: every component becomes a program that the CLI
starts itself, in order, with its environment quoted the way supervisord parses it."""
import configparser

from stack import supervisor_config
from stack.components import all_components
from stack.settings import StackSettings


def test_every_component_is_a_program_started_by_the_cli(tmp_path):
    settings = StackSettings(state_dir=tmp_path)
    parser = configparser.RawConfigParser()
    parser.read_string(supervisor_config.render(settings, all_components(settings)))
    for component in all_components(settings):
        section = parser[f"program:{component.name}"]
        assert section["autostart"] == "false"
        assert section["stdout_logfile"].startswith(str(tmp_path))


def test_postgres_runs_as_its_own_os_user_and_stops_fast(tmp_path):
    settings = StackSettings(state_dir=tmp_path)
    parser = configparser.RawConfigParser()
    parser.read_string(supervisor_config.render(settings, all_components(settings)))
    assert parser["program:postgres"]["user"] == "postgres"
    assert parser["program:postgres"]["stopsignal"] == "INT"


def test_environment_values_survive_supervisord_quoting(tmp_path):
    from stack.component import Component

    settings = StackSettings(state_dir=tmp_path)
    text = supervisor_config.render(settings, [Component(name="x", command=["true"], env={"RATE": "50%"})])
    assert 'RATE="50%%"' in text

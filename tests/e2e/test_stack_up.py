"""The README's first command, as a new user runs it: `./dev up` starts every component on its own
ports with demo data, every URL it prints answers, `status` reports each component ready, and a second
`up` is harmless. Runs the real stack in a private state folder on free ports."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.postgres_plugin import free_port

ROOT = Path(__file__).resolve().parents[2]
PORT_VARIABLES = [
    "VOBE_PG_PORT", "VOBE_REDIS_PORT", "VOBE_BROKER_PORT", "VOBE_RELAY_PORT", "VOBE_MONOLITH_PORT",
    "VOBE_PROXY_PORT", "VOBE_CATALOG_PORT", "VOBE_SEARCH_PORT",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack_env(tmp_path_factory):
    state = ROOT / ".stack" / "test" / f"stack-{os.getpid()}"
    env = {**os.environ, "VOBE_STATE_DIR": str(state), "VOBE_DEMO_TRACKS": "300"}
    env.update({name: str(free_port()) for name in PORT_VARIABLES})
    yield env
    subprocess.run([sys.executable, "-m", "stack", "down"], cwd=ROOT, env=env, timeout=180)
    subprocess.run(["rm", "-rf", str(state)])


def run_stack(env, *args, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "stack", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_up_prints_urls_that_answer_and_is_safe_to_rerun(stack_env):
    first = run_stack(stack_env, "up")
    assert first.returncode == 0, first.stdout + first.stderr
    urls = re.findall(r"(https?://\S+)", first.stdout.split("Where to look:")[1])
    assert any(f":{stack_env['VOBE_MONOLITH_PORT']}/" in url for url in urls)
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:  # 401/403 from an admin endpoint is an answer too
            status = error.code
        assert status < 500, url

    status = run_stack(stack_env, "status", timeout=120)
    assert status.returncode == 0, status.stdout
    component_lines = [line for line in status.stdout.splitlines() if line and not line.startswith(" ")]
    assert component_lines and all(line.rstrip().endswith(" ready") for line in component_lines), status.stdout

    again = run_stack(stack_env, "up")
    assert again.returncode == 0, again.stdout + again.stderr


def test_demo_data_is_served(stack_env):
    base = f"http://127.0.0.1:{stack_env['VOBE_MONOLITH_PORT']}"
    with urllib.request.urlopen(base + "/api/v1/tracks/", timeout=30) as response:
        body = response.read().decode()
    assert '"count":300' in body.replace(" ", "")

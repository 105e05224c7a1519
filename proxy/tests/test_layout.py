"""The proxy's modules import one another without cycles (lazy and TYPE_CHECKING imports count:
they only hide a cycle), and every module imports on its own."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(("proxy", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py") if "tests" not in path.relative_to(PACKAGE).parts)


def _imports(module: str) -> set[str]:
    parts = module.split(".")
    path = PACKAGE.joinpath(*parts[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from proxy.shadow import frames` names a module; `from proxy.x import Class` does not
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in MODULES and name != module)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    graph = {module: _imports(module) for module in MODULES}
    assert _cycles(graph) == []


@pytest.mark.parametrize("module", [m for m in MODULES if m not in ("proxy.__main__",)])
def test_module_imports_alone(module):
    importlib.import_module(module)


def test_django_is_not_a_dependency_of_the_proxy():
    """Only `cli coverage` reads the monolith's URLconf, and imports Django when it runs."""
    import subprocess
    import sys

    code = ("import sys, proxy.app, proxy.cli, proxy.serving.process, proxy.shadow.worker; "
            "print('django' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

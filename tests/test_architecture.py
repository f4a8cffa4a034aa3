"""Imports point one way: the contracts in .importlinter hold, and no module import circles back.

``lint-imports`` (import-linter) checks the layers: apps build on accounts,
pages, billing, the studio and organise on the library and search, and samplemind's
kernel (errors, text, api, celery, ops) imports no app; only its URLconf and
management commands, the project's glue, do. The analyser imports no Django.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
from django.conf import settings

from library.services.queue import ANALYZE_SAMPLE_TASK, ANALYZE_SAMPLES_TASK
from library.tasks import analyze_sample, analyze_samples
from organise.soundmap import LAYOUT_MAP_TASK
from organise.tasks import layout_map
from studio.services.renders import RENDER_SAMPLE_TASK
from studio.tasks import render_sample

PACKAGES = ("samplemind", "accounts", "library", "search", "billing", "studio", "organise", "web")
# Known cycles, each to be removed (also in .importlinter): importer -> imported.
KNOWN_CYCLE_IMPORTS = {("search.filters.values", "search.filters.registry")}


def test_the_import_contracts_hold():
    # In a process of its own: lint-imports configures logging with dictConfig, which
    # would switch off every logger this test session had already made.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    config = str(settings.BASE_DIR / ".importlinter")

    done = subprocess.run(
        [lint_imports, "--config", config, "--no-cache"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_no_module_imports_itself_round_a_circle():
    """Any cycle, across apps or between a package and its modules, names its modules."""
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    for importer, imported in KNOWN_CYCLE_IMPORTS:
        graph.remove_import(importer=importer, imported=imported)

    cycles = _cycles(graph)

    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_services_send_tasks_by_their_registered_names():
    # The services name their tasks instead of importing the tasks modules (which import them).
    assert analyze_sample.name == ANALYZE_SAMPLE_TASK
    assert analyze_samples.name == ANALYZE_SAMPLES_TASK
    assert render_sample.name == RENDER_SAMPLE_TASK
    assert layout_map.name == LAYOUT_MAP_TASK


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(found)

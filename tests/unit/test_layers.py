"""Imports point one way: handlers -> services -> db and delivery -> the shared base.

Read from the source (every import, also those inside functions), so a new module that reaches
back up, or two modules that import each other, fail here before anyone has to find out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "sandbox")

#: Shared low modules anyone may import; they import only one another.
BASE = ("bot.clock", "bot.config", "bot.i18n", "bot.markup", "bot.metrics", "bot.telegram_models")
#: Entry points and the composition root: they may import anything.
TOP = ("bot.app", "bot.cli", "bot.demo", "bot.demo_seed", "bot.web", "bot.__main__")

#: What each layer may import of ours (prefixes); the first matching layer applies.
ALLOWED: dict[str, tuple[str, ...]] = {
    "sandbox": ("sandbox",),
    "bot.db": (*BASE, "bot.db"),
    "bot.delivery": (*BASE, "bot.db", "bot.delivery"),
    "bot.services": (*BASE, "bot.db", "bot.delivery.outbox", "bot.services"),
    "bot.scheduling": (*BASE, "bot.services", "bot.scheduling", "bot.delivery"),
    "handlers": (*BASE, "bot.services", "handlers"),
}


#: Imports against the direction that are still to be taken out (registration's handlers that
#: read a table or type the sender themselves). The list may only shrink: a new
#: entry fails the test, and so does an entry that no longer exists, so it stays true.
KNOWN: set[str] = set()


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module of ours that ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target in MODULES:
                yield target


GRAPH = {name: sorted(set(_imports(name, path)) - {name}) for name, path in MODULES.items()}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _layer(name: str) -> str | None:
    if any(_within(name, top) for top in TOP):
        return None
    if name in BASE:
        return "base"
    return next((layer for layer in ALLOWED if _within(name, layer)), None)


def test_every_module_of_ours_belongs_to_a_layer() -> None:
    unplaced = [
        name
        for name in MODULES
        if name not in PACKAGES
        and _layer(name) is None
        and not any(_within(name, top) for top in TOP)
    ]
    assert unplaced == []


def _against(layer: str) -> list[str]:
    allowed = BASE if layer == "base" else ALLOWED[layer]
    return [
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if _layer(name) == layer
        for target in targets
        if target not in PACKAGES and not any(_within(target, ok) for ok in allowed)
    ]


@pytest.mark.parametrize("layer", [*ALLOWED, "base"])
def test_imports_point_down(layer: str) -> None:
    assert [wrong for wrong in _against(layer) if wrong not in KNOWN] == []


def test_the_list_of_imports_still_to_fix_is_true() -> None:
    found = {wrong for layer in [*ALLOWED, "base"] for wrong in _against(layer)}
    assert sorted(KNOWN - found) == []


def test_no_module_imports_itself_round_a_loop() -> None:
    # A package's __init__ that only hands on its modules' names is a face, not a step.
    edges = {
        name: [t for t in targets if t not in PACKAGES and MODULES[t].name != "__init__.py"]
        for name, targets in GRAPH.items()
    }
    loops: list[str] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in edges[name]:
            if state.get(target) == 1:
                loops.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)
    assert loops == []


def test_the_checks_read_the_code() -> None:
    # The graph is not empty by accident: the handlers import services, the app imports both.
    assert any(_within(t, "bot.services") for t in GRAPH["handlers.start"])
    assert "handlers" in GRAPH["bot.app"] or any(_within(t, "handlers") for t in GRAPH["bot.app"])

"""The sandbox stands apart from the product: it imports nothing of bot/ or handlers/."""

from __future__ import annotations

import ast
from pathlib import Path

import sandbox

PRODUCT = ("bot", "handlers")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_sandbox_imports_nothing_of_the_product() -> None:
    root = Path(sandbox.__file__).parent
    offending = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        for name in _imported(path)
        if name.split(".")[0] in PRODUCT
    }
    assert offending == set()

"""The package's metadata builds without setuptools' deprecation notices on a fresh machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_license_is_an_spdx_expression_without_classifiers() -> None:
    project = PYPROJECT["project"]
    # A table ({text = ...} or {file = ...}) is deprecated; so are License classifiers next to
    # an expression, which setuptools refuses outright.
    assert project["license"] == "MIT"
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    for pattern in project.get("license-files", []):
        assert list(ROOT.glob(pattern)), pattern


def test_the_build_uses_a_setuptools_that_reads_license_expressions() -> None:
    # setuptools 77 is the first to take `license = "MIT"`; the build runs without isolation,
    # from requirements-tools.in, so both must ask for it.
    needed = Version("77")
    build = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    tools = [
        Requirement(line)
        for line in (ROOT / "requirements-tools.in").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for requirements in (build, tools):
        [setuptools] = [r for r in requirements if r.name == "setuptools"]
        assert setuptools.specifier.contains(needed)
        assert not setuptools.specifier.contains(Version("76.9"))

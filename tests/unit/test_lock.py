"""The lock file installs what pyproject.toml asks for: every dependency, inside its range."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in _PIN.findall(text)}


def _wanted() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    tools = (ROOT / "requirements-tools.in").read_text(encoding="utf-8").splitlines()
    lines += [line for line in tools if line.strip() and not line.startswith("#")]
    return [Requirement(line) for line in lines]


def test_every_dependency_is_locked_inside_its_range() -> None:
    locked = _locked()
    missing = [str(r) for r in _wanted() if canonicalize_name(r.name) not in locked]
    outside = [
        f"{r} (locked {locked[canonicalize_name(r.name)]})"
        for r in _wanted()
        if canonicalize_name(r.name) in locked
        and not r.specifier.contains(locked[canonicalize_name(r.name)], prereleases=True)
    ]
    assert missing == [], "run `make lock`: not in requirements.lock"
    assert outside == [], "run `make lock`: locked outside pyproject.toml's range"


def test_every_locked_package_carries_a_hash() -> None:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1])
    unhashed = [e.split()[0] for e in entries if "==" in e and "--hash=sha256:" not in e]
    assert unhashed == []

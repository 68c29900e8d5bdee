"""A bad setting stops the program with one line naming it and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import SettingsError, load_settings


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "BOT_TOKEN",
            "DATABASE_URL",
            "TELEGRAM_API_URL",
            "ADMIN_IDS",
            "DEFAULT_LOCALE",
            "LOG_LEVEL",
            "REDIS_URL",
            "WEBHOOK_URL",
            "WEBHOOK_SECRET",
            "REPLICAS",
        }
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_TOKEN", "not-a-token"),
        ("DEFAULT_LOCALE", "de"),
        ("TELEGRAM_API_URL", "ftp://example"),
        ("DATABASE_URL", "mysql://x"),
        ("ADMIN_IDS", "12,abc"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_setting_is_one_clear_line_and_exit_2(name: str, value: str, tmp_path) -> None:
    result = run_cli("migrate", **{name: value, "PYTHONPATH": os.getcwd()})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_run_without_token_is_refused(tmp_path) -> None:
    result = run_cli("run", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_normalise_urls_and_ids() -> None:
    settings = load_settings(
        _env_file=None,
        database_url="postgresql://u:p@db/trainees",
        admin_ids="1, 2,3",
        telegram_api_url="http://127.0.0.1:8081/",
    )
    assert settings.database_url == "postgresql+asyncpg://u:p@db/trainees"
    assert settings.admin_ids == [1, 2, 3]
    assert settings.telegram_api_url == "http://127.0.0.1:8081"


def test_load_settings_raises_settings_error_naming_the_field() -> None:
    with pytest.raises(SettingsError, match="DEFAULT_TIMEZONE"):
        load_settings(_env_file=None, default_timezone="Mars/Olympus")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WEBHOOK_URL": "https://bot.example.org/telegram/webhook"}, "WEBHOOK_SECRET"),
        (
            {"WEBHOOK_URL": "http://bot.example.org/hook", "WEBHOOK_SECRET": "abc"},
            "WEBHOOK_URL",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": "has spaces"},
            "WEBHOOK_SECRET",
        ),
        ({"REPLICAS": "2", "REDIS_URL": "redis://127.0.0.1:9/0"}, "DATABASE_URL"),
        ({"REDIS_URL": "redis://127.0.0.1:9/0"}, "REDIS_URL"),
    ],
)
def test_bad_run_configuration_is_one_line_and_exit_2(
    env: dict[str, str], named: str, tmp_path
) -> None:
    result = run_cli(
        "run",
        BOT_TOKEN="123456:" + "A" * 35,
        DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
        **env,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_http_webhook_is_allowed_on_this_machine_only() -> None:
    base = {"_env_file": None, "bot_token": "123456:" + "A" * 35, "webhook_secret": "abc"}
    local = load_settings(**base, webhook_url="http://127.0.0.1:8080/telegram/webhook")
    assert local.run_problem() is None
    remote = load_settings(**base, webhook_url="http://203.0.113.5/telegram/webhook")
    assert "https" in (remote.run_problem() or "")

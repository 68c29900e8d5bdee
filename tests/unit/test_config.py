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

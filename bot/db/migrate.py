"""Running Alembic from the application (start-up, ``trainee-bot migrate``, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url`` that leaves the application's logging alone."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def revisions(database_url: str) -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema up to ``revision``.

    Alembic's async env runs its own event loop, so it runs in a worker thread here.
    """
    if database_url.startswith("sqlite+aiosqlite:///"):
        path = database_url.removeprefix("sqlite+aiosqlite:///").split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), revision)


async def downgrade(database_url: str, revision: str) -> None:
    """Take the schema down to ``revision`` (``"base"`` removes every table)."""
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), revision)

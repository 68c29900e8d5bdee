"""A programme's staff get the organisers' command menu while they hold a role, and lose it."""

from __future__ import annotations

import json

from sandbox import Sandbox, SandboxUser
from tests.support.e2e import RunningBot
from tests.timetable.support import make_cohort


def _menu(sandbox: Sandbox, chat_id: int, language: str) -> list[str]:
    scope = json.dumps({"chat_id": chat_id, "type": "chat"}, separators=(",", ":"))
    return [c["command"] for c in sandbox.commands.get((scope, language), [])]


async def test_granted_staff_see_the_admin_menu_until_revoked(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_cohort(session, "DT27A")
    coordinator = SandboxUser(id=8201, first_name="Olga", language_code="ru")
    await sandbox.send_text(coordinator, "/start")
    await sandbox.next_bot_message(coordinator.id)
    assert _menu(sandbox, coordinator.id, "ru") == []

    await sandbox.send_text(admin, f"/grant {coordinator.id} DT27A coordinator")
    done = await sandbox.next_bot_message(admin.id)
    assert "is now coordinator of DT27A" in done.content
    menu = _menu(sandbox, coordinator.id, "ru")
    assert {"cohorts", "roster", "announce", "schedule"} <= set(menu)
    assert "status" not in menu  # for the super-admins only

    await sandbox.send_text(admin, f"/revoke {coordinator.id} DT27A coordinator")
    await sandbox.next_bot_message(admin.id)
    assert _menu(sandbox, coordinator.id, "ru") == []
    assert _menu(sandbox, coordinator.id, "") == []


async def test_help_lists_the_organiser_commands_for_programme_staff(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_cohort(session, "DT27A")
    coordinator = SandboxUser(id=8202, first_name="Olga", language_code="en")
    await sandbox.send_text(coordinator, "/help")
    before = await sandbox.next_bot_message(coordinator.id)
    assert "For organisers" not in before.content

    await sandbox.send_text(admin, f"/grant {coordinator.id} DT27A coordinator")
    await sandbox.next_bot_message(admin.id)
    await sandbox.send_text(coordinator, "/help")
    after = await sandbox.next_bot_message(coordinator.id)
    assert "For organisers" in after.content
    assert "/announce" in after.content
    assert "/status" not in after.content  # for the super-admins only

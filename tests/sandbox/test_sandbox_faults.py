"""Injected faults answer exactly as Telegram does and never count as the bot's violations."""

from __future__ import annotations

import pytest

from sandbox import SandboxChat


@pytest.mark.parametrize(
    ("inject", "status", "description"),
    [
        ("block", 403, "Forbidden: bot was blocked by the user"),
        ("deactivate", 403, "Forbidden: user is deactivated"),
        ("chat_not_found", 400, "Bad Request: chat not found"),
    ],
)
async def test_chat_faults(sandbox, raw, inject, status, description):
    getattr(sandbox.faults, inject)(1001)
    got_status, body = await raw.call("sendMessage", chat_id=1001, text="hi")
    assert got_status == status
    assert body == {"ok": False, "error_code": status, "description": description}
    assert (await raw.call("sendMessage", chat_id=1002, text="hi"))[0] == 200
    sandbox.faults.clear()
    assert (await raw.call("sendMessage", chat_id=1001, text="hi"))[0] == 200
    assert sandbox.violations == []
    assert sandbox.delivered[1001] == ["hi"]


async def test_server_error_for_the_next_sends(sandbox, raw):
    sandbox.faults.server_error(chat_id=1001, times=2)
    sandbox.faults.server_error(status=502)
    first = await raw.call("sendMessage", chat_id=1002, text="a")
    assert first == (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    for _ in range(2):
        status, body = await raw.call("sendMessage", chat_id=1001, text="b")
        assert (status, body["description"]) == (500, "Internal Server Error")
    assert (await raw.call("sendMessage", chat_id=1001, text="c"))[0] == 200
    assert sandbox.delivered[1001] == ["c"]
    assert sandbox.violations == []


async def test_random_server_errors_are_reproducible(sandbox, raw):
    async def pattern() -> list[int]:
        sandbox.faults.random_server_errors(0.5, seed=7)
        return [(await raw.call("sendMessage", chat_id=1001, text="x"))[0] for _ in range(12)]

    first = await pattern()
    second = await pattern()
    assert first == second
    assert set(first) == {200, 500}


async def test_latency_still_answers(sandbox, raw):
    sandbox.faults.latency = 0.01
    assert (await raw.call("getMe"))[0] == 200


async def test_user_blocks_bot_sends_my_chat_member(sandbox, raw, ann):
    await sandbox.send_text(ann, "/start")
    await sandbox.user_blocks_bot(ann)
    updates = await raw.ok("getUpdates")
    assert updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    status, body = await raw.call("sendMessage", chat_id=ann.id, text="hi")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")


async def test_migrated_group(sandbox, raw, ann):
    group = SandboxChat(id=-4001, type="group", title="Cohort")
    await sandbox.add_bot_to_group(ann, group)
    supergroup = await sandbox.migrate_group(group, -1004001)
    assert supergroup.type == "supergroup"
    updates = await raw.ok("getUpdates")
    assert updates[-2]["message"]["migrate_to_chat_id"] == -1004001
    assert updates[-1]["message"]["migrate_from_chat_id"] == -4001
    assert updates[-1]["message"]["chat"]["type"] == "supergroup"

    status, body = await raw.call("sendMessage", chat_id=-4001, text="hi")
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1004001},
    }
    assert (await raw.call("sendMessage", chat_id=-1004001, text="hi"))[0] == 200
    assert sandbox.violations == []


async def test_bot_removed_from_group(sandbox, raw, ann, cohort):
    await sandbox.add_bot_to_group(ann, cohort)
    await sandbox.remove_bot_from_group(ann, cohort)
    status, body = await raw.call("sendMessage", chat_id=cohort.id, text="hi")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
    )
    await sandbox.remove_bot_from_group(ann, cohort, kicked=True)
    status, body = await raw.call("sendMessage", chat_id=cohort.id, text="hi")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot was kicked from the supergroup chat",
    )


async def test_unknown_chats_when_auto_creation_is_off(raw, sandbox):
    sandbox.world.auto_create_chats = False
    status, body = await raw.call("sendMessage", chat_id=424242, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    assert sandbox.violations == []

"""Groups: adding the bot, members, invite links and join requests."""

from __future__ import annotations

import pytest


async def drain(raw) -> None:
    """Fetch and confirm every pending update."""
    pending = await raw.ok("getUpdates")
    if pending:
        await raw.ok("getUpdates", offset=pending[-1]["update_id"] + 1)


async def test_add_bot_to_group(sandbox, raw, ann, cohort):
    await sandbox.add_bot_to_group(ann, cohort)
    [membership, service] = await raw.ok("getUpdates")
    change = membership["my_chat_member"]
    assert change["chat"]["id"] == cohort.id
    assert change["from"]["id"] == ann.id
    assert change["old_chat_member"]["status"] == "left"
    assert change["new_chat_member"]["status"] == "member"
    assert change["new_chat_member"]["user"]["id"] == sandbox.world.bot_id
    assert service["message"]["new_chat_members"][0]["is_bot"]

    owner = await raw.ok("getChatMember", chat_id=cohort.id, user_id=ann.id)
    assert owner["status"] == "creator"
    admins = await raw.ok("getChatAdministrators", chat_id=cohort.id)
    assert [a["user"]["id"] for a in admins] == [ann.id]
    assert await raw.ok("getChatMemberCount", chat_id=cohort.id) == 2


async def test_group_messages_and_member_statuses(sandbox, raw, ann, bob, cohort):
    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    message = await sandbox.send_text(bob, "/help@trainee_assistant_bot", chat=cohort)
    assert message["chat"]["type"] == "supergroup"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 27}]
    assert (await raw.ok("getChatMember", chat_id=cohort.id, user_id=bob.id))["status"] == "member"

    sandbox.set_chat_member(cohort.id, bob, "administrator")
    admin = await raw.ok("getChatMember", chat_id=cohort.id, user_id=bob.id)
    assert admin["status"] == "administrator"
    assert admin["can_invite_users"] is True
    sandbox.set_chat_member(cohort.id, bob, "kicked")
    assert (await raw.ok("getChatMember", chat_id=cohort.id, user_id=bob.id))["status"] == "kicked"
    with pytest.raises(ValueError, match="unknown member status"):
        sandbox.set_chat_member(cohort.id, bob, "boss")

    status, body = await raw.call("getChatMember", chat_id=cohort.id, user_id=555)
    assert (status, body["description"]) == (400, "Bad Request: user not found")

    await raw.ok("sendMessage", chat_id=cohort.id, text="Welcome all")
    assert [e.text for e in sandbox.transcript(cohort.id)] == [
        None,
        "/help@trainee_assistant_bot",
        "Welcome all",
    ]


async def test_invite_links_and_join_requests(sandbox, raw, ann, bob, cohort):
    status, body = await raw.call("createChatInviteLink", chat_id=cohort.id)
    assert status == 200, body  # an unseen group: the bot is taken to be its administrator

    await sandbox.add_bot_to_group(ann, cohort)
    status, body = await raw.call("createChatInviteLink", chat_id=cohort.id)
    assert (status, body["description"]) == (
        400,
        "Bad Request: not enough rights to manage chat invite links",
    )

    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    link = await raw.ok(
        "createChatInviteLink",
        chat_id=cohort.id,
        name="Spring",
        creates_join_request=True,
        expire_date=4_102_444_800,
    )
    assert link["invite_link"].startswith("https://t.me/+")
    assert link["creates_join_request"] is True
    assert link["expire_date"] == 4_102_444_800
    assert link["name"] == "Spring"
    limited = await raw.ok("createChatInviteLink", chat_id=cohort.id, member_limit=5)
    assert limited["member_limit"] == 5
    status, body = await raw.call(
        "createChatInviteLink", chat_id=cohort.id, member_limit=5, creates_join_request=True
    )
    assert status == 400
    assert "member limit" in body["description"]

    await drain(raw)
    await sandbox.request_join(bob, cohort, invite_link=link["invite_link"])
    [update] = await raw.ok("getUpdates", allowed_updates=["chat_join_request", "message"])
    request = update["chat_join_request"]
    assert request["from"]["id"] == bob.id
    assert request["user_chat_id"] == bob.id
    assert request["invite_link"]["invite_link"] == link["invite_link"]

    assert await raw.ok("approveChatJoinRequest", chat_id=cohort.id, user_id=bob.id) is True
    member = await raw.ok("getChatMember", chat_id=cohort.id, user_id=bob.id)
    assert member["status"] == "member"
    status, body = await raw.call("approveChatJoinRequest", chat_id=cohort.id, user_id=bob.id)
    assert (status, body["description"]) == (400, "Bad Request: HIDE_REQUESTER_MISSING")

    await sandbox.request_join(ann, cohort)
    assert await raw.ok("declineChatJoinRequest", chat_id=cohort.id, user_id=ann.id) is True

    revoked = await raw.ok(
        "revokeChatInviteLink", chat_id=cohort.id, invite_link=link["invite_link"]
    )
    assert revoked["is_revoked"] is True


async def test_ban_unban_and_leave(sandbox, raw, ann, bob, cohort):
    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    await sandbox.join_chat(bob, cohort)
    assert await raw.ok("banChatMember", chat_id=cohort.id, user_id=bob.id)
    assert (await raw.ok("getChatMember", chat_id=cohort.id, user_id=bob.id))["status"] == "kicked"
    assert await raw.ok("unbanChatMember", chat_id=cohort.id, user_id=bob.id, only_if_banned=True)
    assert (await raw.ok("getChatMember", chat_id=cohort.id, user_id=bob.id))["status"] == "left"
    status, body = await raw.call("banChatMember", chat_id=cohort.id, user_id=ann.id)
    assert (status, body["description"]) == (400, "Bad Request: can't remove chat owner")

    assert await raw.ok("leaveChat", chat_id=cohort.id)
    status, body = await raw.call("sendMessage", chat_id=cohort.id, text="x")
    assert status == 403
    assert "not a member" in body["description"]

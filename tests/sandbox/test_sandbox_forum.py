"""Forum supergroups over raw HTTP and the control API: topics the bot creates, edits, closes
and deletes, sends into topics, replies, and staff members posting in topics.

The same through aiogram is in test_sandbox_forum_aiogram.py; the ``staff`` and ``forum``
fixtures are in conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox import SandboxChat
from sandbox.methods.forum import ICON_COLORS

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x00\x80\x08\x02\x00\x00\x00"


async def drain(raw) -> list[dict[str, Any]]:
    """Fetch and confirm every pending update; returns them."""
    pending: list[dict[str, Any]] = await raw.ok("getUpdates")
    if pending:
        await raw.ok("getUpdates", offset=pending[-1]["update_id"] + 1)
    return pending


async def error(raw, method: str, **params) -> tuple[int, str]:
    status, body = await raw.call(method, encoding="json", **params)
    assert body["ok"] is False, body
    return status, body["description"]


# -- forum supergroups -----------------------------------------------------------------------


async def test_create_forum_makes_the_bot_a_topic_managing_admin(sandbox, raw, ann, staff):
    await sandbox.create_forum(ann, staff)
    membership, joined = await raw.ok("getUpdates")
    change = membership["my_chat_member"]
    assert change["chat"] == {
        "id": staff.id,
        "type": "supergroup",
        "title": "Staff inbox",
        "is_forum": True,
    }
    assert change["new_chat_member"]["status"] == "administrator"
    assert change["new_chat_member"]["can_manage_topics"] is True
    assert joined["message"]["new_chat_members"][0]["id"] == sandbox.world.bot_id
    assert "message_thread_id" not in joined["message"]

    info = await raw.ok("getChat", chat_id=staff.id)
    assert info["is_forum"] is True
    assert info["type"] == "supergroup"
    me = await raw.ok("getChatMember", chat_id=staff.id, user_id=sandbox.world.bot_id)
    assert me["can_manage_topics"] is True
    assert (await raw.ok("getChatMember", chat_id=staff.id, user_id=ann.id))["status"] == "creator"

    await sandbox.create_forum(ann, staff, bot_can_manage_topics=False)
    me = await raw.ok("getChatMember", chat_id=staff.id, user_id=sandbox.world.bot_id)
    assert me["can_manage_topics"] is False


async def test_topics_turned_on_for_an_existing_supergroup(sandbox, raw, ann, cohort):
    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    assert "is_forum" not in await raw.ok("getChat", chat_id=cohort.id)
    me = await raw.ok("getChatMember", chat_id=cohort.id, user_id=sandbox.world.bot_id)
    assert "can_manage_topics" not in me
    await drain(raw)

    await sandbox.create_forum(ann, cohort)
    assert await raw.ok("getUpdates") == []  # the bot was an administrator already
    assert (await raw.ok("getChat", chat_id=cohort.id))["is_forum"] is True
    assert (await raw.ok("createForumTopic", chat_id=cohort.id, name="Q&A"))["name"] == "Q&A"


async def test_only_a_supergroup_can_be_a_forum(sandbox, ann):
    with pytest.raises(ValueError, match="only a supergroup"):
        await sandbox.create_forum(ann, SandboxChat(-42, "group", "Small group"))


# -- createForumTopic -----------------------------------------------------------------------


async def test_create_forum_topic_posts_the_service_message(sandbox, raw, forum):
    topic = await raw.ok("createForumTopic", chat_id=forum.id, name="Ann Lee: visa question")
    assert set(topic) == {"message_thread_id", "name", "icon_color"}
    assert topic["name"] == "Ann Lee: visa question"
    assert topic["icon_color"] in ICON_COLORS
    thread_id = topic["message_thread_id"]

    [update] = await drain(raw)
    service = update["message"]
    assert service["message_id"] == thread_id
    assert service["message_thread_id"] == thread_id
    assert service["is_topic_message"] is True
    assert service["from"]["id"] == sandbox.world.bot_id
    assert service["chat"]["is_forum"] is True
    assert service["forum_topic_created"] == {
        "name": "Ann Lee: visa question",
        "icon_color": topic["icon_color"],
    }
    assert "reply_to_message" not in service

    coloured = await raw.ok(
        "createForumTopic", chat_id=forum.id, name="Bob", icon_color=16478047, encoding="json"
    )
    assert coloured["icon_color"] == 16478047
    assert coloured["message_thread_id"] > thread_id
    [entry] = sandbox.topic_transcript(forum.id, thread_id)
    assert entry.service == "forum_topic_created"
    assert entry.from_bot
    assert sandbox.bot_messages_in_topic(forum.id, thread_id) == []
    assert sandbox.bot_messages(forum.id) == []
    assert f"(topic {thread_id}) [forum_topic_created]" in sandbox.describe_chat(forum.id)
    assert sandbox.delivered.get(forum.id) is None  # service messages are not deliveries
    assert [t.name for t in sandbox.topics(forum.id)] == ["Ann Lee: visa question", "Bob"]
    assert sandbox.violations == []


async def test_create_forum_topic_names(sandbox, raw, forum):
    long = await raw.ok("createForumTopic", chat_id=forum.id, name="x" * 200)
    assert long["name"] == "x" * 128  # cut, as Telegram does, not refused
    spaced = await raw.ok("createForumTopic", chat_id=forum.id, name="  Ann\nLee  ")
    assert spaced["name"] == "Ann Lee"
    for blank in ("", "   "):
        status, description = await error(raw, "createForumTopic", chat_id=forum.id, name=blank)
        assert (status, description) == (400, "Bad Request: title must be non-empty")
    status, description = await error(
        raw, "createForumTopic", chat_id=forum.id, name="x", icon_color=0x1000000
    )
    assert (status, description) == (400, "Bad Request: invalid icon color specified")


async def test_create_forum_topic_needs_a_forum_and_the_right(sandbox, raw, ann, cohort, staff):
    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    status, description = await error(raw, "createForumTopic", chat_id=cohort.id, name="x")
    assert (status, description) == (400, "Bad Request: the chat is not a forum")
    status, description = await error(raw, "createForumTopic", chat_id=ann.id, name="x")
    assert description == "Bad Request: the chat is not a forum"

    await sandbox.create_forum(ann, staff, bot_can_manage_topics=False)
    status, description = await error(raw, "createForumTopic", chat_id=staff.id, name="x")
    assert (status, description) == (400, "Bad Request: not enough rights to create a topic")
    sandbox.set_chat_member(staff.id, ann, "creator")
    await sandbox.add_bot_to_group(ann, staff)  # a plain member now
    status, description = await error(raw, "createForumTopic", chat_id=staff.id, name="x")
    assert description == "Bad Request: not enough rights to create a topic"
    assert len(sandbox.violations) == 4


async def test_forum_methods_are_validated_against_the_reference(sandbox, raw, forum):
    status, description = await error(raw, "createForumTopic", chat_id=forum.id, name="x", colour=1)
    assert (status, description) == (400, 'Bad Request: unknown parameter "colour"')
    status, description = await error(raw, "createForumTopic", chat_id=forum.id)
    assert description == 'Bad Request: parameter "name" is required'
    status, body = await raw.call(
        "sendMessage", chat_id=forum.id, text="x", message_thread_id="seven"
    )
    assert status == 400
    assert '"message_thread_id" must be of type Integer' in body["description"]
    status, description = await error(raw, "closeForumTopic", chat_id=forum.id)
    assert description == 'Bad Request: parameter "message_thread_id" is required'
    assert len(sandbox.violations) == 4


# -- sending into topics --------------------------------------------------------------------


async def test_send_methods_land_in_the_topic(sandbox, raw, ann, forum):
    topic = await raw.ok("createForumTopic", chat_id=forum.id, name="Ann")
    thread_id = topic["message_thread_id"]

    sent = await raw.ok("sendMessage", chat_id=forum.id, text="Hello", message_thread_id=thread_id)
    assert sent["message_thread_id"] == thread_id
    assert sent["is_topic_message"] is True
    root = sent["reply_to_message"]
    assert root["message_id"] == thread_id
    assert root["forum_topic_created"]["name"] == "Ann"

    document = await raw.ok(
        "sendDocument",
        encoding="multipart",
        chat_id=forum.id,
        message_thread_id=thread_id,
        document=("notes.txt", b"notes"),
    )
    photo = await raw.ok(
        "sendPhoto",
        encoding="multipart",
        chat_id=forum.id,
        message_thread_id=thread_id,
        photo=("chart.png", PNG),
    )
    album = await raw.ok(
        "sendMediaGroup",
        encoding="json",
        chat_id=forum.id,
        message_thread_id=thread_id,
        media=[
            {"type": "document", "media": document["document"]["file_id"]},
            {"type": "document", "media": document["document"]["file_id"]},
        ],
    )
    copied = await raw.ok(
        "copyMessage",
        chat_id=forum.id,
        from_chat_id=forum.id,
        message_id=sent["message_id"],
        message_thread_id=thread_id,
    )
    forwarded = await raw.ok(
        "forwardMessage",
        chat_id=forum.id,
        from_chat_id=forum.id,
        message_id=sent["message_id"],
        message_thread_id=thread_id,
    )
    for message in (document, photo, *album, forwarded):
        assert message["message_thread_id"] == thread_id
        assert message["is_topic_message"] is True
        assert message["reply_to_message"]["message_id"] == thread_id
    assert await raw.ok(
        "sendChatAction", chat_id=forum.id, action="typing", message_thread_id=thread_id
    )

    general = await raw.ok("sendMessage", chat_id=forum.id, text="To everyone")
    assert "message_thread_id" not in general
    assert "is_topic_message" not in general

    posted = sandbox.bot_messages_in_topic(forum.id, thread_id)
    assert [e.message_id for e in posted] == [
        sent["message_id"],
        document["message_id"],
        photo["message_id"],
        *(m["message_id"] for m in album),
        copied["message_id"],
        forwarded["message_id"],
    ]
    assert posted[0].text == "Hello"
    assert posted[0].thread_id == thread_id
    assert posted[0].reply_to_message_id == thread_id
    assert sandbox.transcript(forum.id)[-1].thread_id is None
    assert sandbox.violations == []


async def test_a_thread_that_does_not_exist(sandbox, raw, forum, cohort, ann):
    status, description = await error(
        raw, "sendMessage", chat_id=forum.id, text="x", message_thread_id=999
    )
    assert (status, description) == (400, "Bad Request: message thread not found")
    status, description = await error(
        raw, "sendChatAction", chat_id=forum.id, action="typing", message_thread_id=999
    )
    assert description == "Bad Request: message thread not found"
    await sandbox.add_bot_to_group(ann, cohort)
    status, description = await error(
        raw, "sendMessage", chat_id=cohort.id, text="x", message_thread_id=999
    )
    assert description == "Bad Request: message thread not found"
    assert len(sandbox.violations) == 3


async def test_a_topic_deleted_by_an_admin(sandbox, raw, ann, bob, forum):
    thread_id = (await raw.ok("createForumTopic", chat_id=forum.id, name="Bob"))[
        "message_thread_id"
    ]
    staff_post = await sandbox.post_in_topic(ann, forum, thread_id, "On it")
    await raw.ok("sendMessage", chat_id=forum.id, text="Noted", message_thread_id=thread_id)

    with pytest.raises(ValueError, match="not an administrator"):
        await sandbox.delete_topic(bob, forum.id, thread_id)
    await sandbox.delete_topic(ann, forum.id, thread_id)
    assert sandbox.topic_transcript(forum.id, thread_id) == []
    assert staff_post["message_id"] not in [e.message_id for e in sandbox.transcript(forum.id)]
    assert sandbox.topics(forum.id) == []

    status, description = await error(
        raw, "sendMessage", chat_id=forum.id, text="Any news?", message_thread_id=thread_id
    )
    assert (status, description) == (400, "Bad Request: message thread not found")
    assert sandbox.violations == []  # someone else deleted it: not the bot's mistake
    fresh = await raw.ok("createForumTopic", chat_id=forum.id, name="Bob")
    assert fresh["message_thread_id"] != thread_id
    with pytest.raises(LookupError, match="no topic"):
        await sandbox.post_in_topic(ann, forum, thread_id, "hello?")


async def test_delete_forum_topic(sandbox, raw, ann, forum):
    thread_id = (await raw.ok("createForumTopic", chat_id=forum.id, name="Ann"))[
        "message_thread_id"
    ]
    await sandbox.post_in_topic(ann, forum, thread_id, "Question")
    await raw.ok("sendMessage", chat_id=forum.id, text="Answer", message_thread_id=thread_id)
    await raw.ok("sendMessage", chat_id=forum.id, text="General")
    assert await raw.ok("deleteForumTopic", chat_id=forum.id, message_thread_id=thread_id)
    assert [e.text for e in sandbox.transcript(forum.id) if e.service is None] == ["General"]
    status, description = await error(
        raw, "sendMessage", chat_id=forum.id, text="x", message_thread_id=thread_id
    )
    assert description == "Bad Request: message thread not found"
    status, description = await error(
        raw, "deleteForumTopic", chat_id=forum.id, message_thread_id=thread_id
    )
    assert (status, description) == (400, "Bad Request: TOPIC_ID_INVALID")


# -- editing, closing, reopening ------------------------------------------------------------


async def test_edit_close_and_reopen(sandbox, raw, ann, forum):
    thread_id = (await raw.ok("createForumTopic", chat_id=forum.id, name="Ann"))[
        "message_thread_id"
    ]
    await drain(raw)
    assert await raw.ok(
        "editForumTopic", chat_id=forum.id, message_thread_id=thread_id, name="Ann Lee"
    )
    assert sandbox.topics(forum.id)[0].name == "Ann Lee"
    status, description = await error(
        raw, "editForumTopic", chat_id=forum.id, message_thread_id=thread_id, name="Ann Lee"
    )
    assert (status, description) == (400, "Bad Request: TOPIC_NOT_MODIFIED")
    assert await raw.ok("editForumTopic", chat_id=forum.id, message_thread_id=thread_id)

    assert await raw.ok("closeForumTopic", chat_id=forum.id, message_thread_id=thread_id)
    status, description = await error(
        raw, "sendMessage", chat_id=forum.id, text="x", message_thread_id=thread_id
    )
    assert (status, description) == (400, "Bad Request: TOPIC_CLOSED")
    status, description = await error(
        raw, "closeForumTopic", chat_id=forum.id, message_thread_id=thread_id
    )
    assert description == "Bad Request: TOPIC_NOT_MODIFIED"
    assert await raw.ok("reopenForumTopic", chat_id=forum.id, message_thread_id=thread_id)
    status, description = await error(
        raw, "reopenForumTopic", chat_id=forum.id, message_thread_id=thread_id
    )
    assert description == "Bad Request: TOPIC_NOT_MODIFIED"
    await raw.ok("sendMessage", chat_id=forum.id, text="Back", message_thread_id=thread_id)

    edited, closed, reopened = (u["message"] for u in await drain(raw))
    assert edited["forum_topic_edited"] == {"name": "Ann Lee"}
    assert closed["forum_topic_closed"] == {}
    assert reopened["forum_topic_reopened"] == {}
    for service in (edited, closed, reopened):
        assert service["message_thread_id"] == thread_id
        assert service["is_topic_message"] is True
        assert service["reply_to_message"]["message_id"] == thread_id
    assert [e.service for e in sandbox.topic_transcript(forum.id, thread_id)] == [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        None,
    ]


async def test_topic_methods_errors(sandbox, raw, ann, forum, cohort):
    for method in ("editForumTopic", "closeForumTopic", "reopenForumTopic", "deleteForumTopic"):
        status, description = await error(raw, method, chat_id=forum.id, message_thread_id=555)
        assert (status, description) == (400, "Bad Request: TOPIC_ID_INVALID")
        status, description = await error(raw, method, chat_id=forum.id, message_thread_id=0)
        assert description == "Bad Request: invalid message thread identifier specified"
    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    status, description = await error(
        raw, "closeForumTopic", chat_id=cohort.id, message_thread_id=1
    )
    assert description == "Bad Request: the chat is not a forum"

    opened = await sandbox.create_topic(ann, forum, "Opened by Ann")
    thread_id = opened.message_thread_id
    await sandbox.create_forum(ann, forum, bot_can_manage_topics=False)
    status, description = await error(
        raw, "editForumTopic", chat_id=forum.id, message_thread_id=thread_id, name="Mine"
    )
    assert description == "Bad Request: not enough rights to edit the topic"
    status, description = await error(
        raw, "closeForumTopic", chat_id=forum.id, message_thread_id=thread_id
    )
    assert description == "Bad Request: not enough rights to close or open the topic"
    # Deleting needs can_delete_messages, which the bot still has.
    assert await raw.ok("deleteForumTopic", chat_id=forum.id, message_thread_id=thread_id)


async def test_a_topic_closed_by_an_admin(sandbox, raw, ann, bob, forum):
    thread_id = (await raw.ok("createForumTopic", chat_id=forum.id, name="Bob"))[
        "message_thread_id"
    ]
    await drain(raw)
    await sandbox.close_topic(ann, forum.id, thread_id)
    [update] = await drain(raw)
    assert update["message"]["forum_topic_closed"] == {}
    assert update["message"]["from"]["id"] == ann.id
    status, description = await error(
        raw, "sendMessage", chat_id=forum.id, text="x", message_thread_id=thread_id
    )
    assert (status, description) == (400, "Bad Request: TOPIC_CLOSED")
    assert sandbox.violations == []
    with pytest.raises(ValueError, match="closed"):
        await sandbox.post_in_topic(bob, forum, thread_id, "Let me in")
    await sandbox.post_in_topic(ann, forum, thread_id, "Admins still may")
    await sandbox.close_topic(ann, forum.id, thread_id, closed=False)
    await raw.ok("sendMessage", chat_id=forum.id, text="x", message_thread_id=thread_id)


# -- replies --------------------------------------------------------------------------------


async def test_replies_in_a_topic(sandbox, raw, ann, forum):
    thread_id = (await raw.ok("createForumTopic", chat_id=forum.id, name="Ann"))[
        "message_thread_id"
    ]
    question = await sandbox.post_in_topic(ann, forum, thread_id, "Where is my visa?")

    answer = await raw.ok(
        "sendMessage",
        encoding="json",
        chat_id=forum.id,
        text="Being processed",
        reply_parameters={"message_id": question["message_id"]},
    )
    assert answer["message_thread_id"] == thread_id  # a reply stays in the topic it answers
    assert answer["is_topic_message"] is True
    assert answer["reply_to_message"]["message_id"] == question["message_id"]
    assert answer["reply_to_message"]["text"] == "Where is my visa?"
    assert "reply_to_message" not in answer["reply_to_message"]

    explicit = await raw.ok(
        "sendMessage",
        encoding="json",
        chat_id=forum.id,
        text="Same chat named",
        message_thread_id=thread_id,
        reply_parameters={"message_id": question["message_id"], "chat_id": forum.id},
    )
    assert explicit["reply_to_message"]["message_id"] == question["message_id"]

    status, description = await error(
        raw,
        "sendMessage",
        chat_id=forum.id,
        text="x",
        message_thread_id=thread_id,
        reply_parameters={"message_id": 9999},
    )
    assert (status, description) == (400, "Bad Request: message to be replied not found")
    anyway = await raw.ok(
        "sendMessage",
        encoding="json",
        chat_id=forum.id,
        text="Sent anyway",
        message_thread_id=thread_id,
        reply_parameters={"message_id": 9999, "allow_sending_without_reply": True},
    )
    assert anyway["reply_to_message"]["message_id"] == thread_id
    plain = await raw.ok(
        "sendMessage",
        encoding="json",
        chat_id=ann.id,
        text="x",
        reply_parameters={"message_id": 9999, "allow_sending_without_reply": True},
    )
    assert "reply_to_message" not in plain

    await raw.ok("closeForumTopic", chat_id=forum.id, message_thread_id=thread_id)
    status, description = await error(
        raw,
        "sendMessage",
        chat_id=forum.id,
        text="x",
        reply_parameters={"message_id": question["message_id"]},
    )
    assert description == "Bad Request: TOPIC_CLOSED"


async def test_staff_posts_in_a_topic(sandbox, raw, ann, bob, forum):
    thread_id = (await raw.ok("createForumTopic", chat_id=forum.id, name="Bob"))[
        "message_thread_id"
    ]
    bot_post = await raw.ok(
        "sendMessage", chat_id=forum.id, text="Bob asks: when?", message_thread_id=thread_id
    )
    await drain(raw)

    plain = await sandbox.post_in_topic(ann, forum, thread_id, "Looking")
    reply = await sandbox.post_in_topic(
        ann, forum, thread_id, "Tomorrow", reply_to_message_id=bot_post["message_id"]
    )
    first, second = (u["message"] for u in await drain(raw))
    assert first == plain
    assert second == reply
    for message in (first, second):
        assert message["message_thread_id"] == thread_id
        assert message["is_topic_message"] is True
        assert message["from"]["id"] == ann.id
        assert message["chat"]["id"] == forum.id
    assert first["reply_to_message"]["message_id"] == thread_id
    assert first["reply_to_message"]["forum_topic_created"]["name"] == "Bob"
    assert second["reply_to_message"]["message_id"] == bot_post["message_id"]
    assert second["reply_to_message"]["text"] == "Bob asks: when?"
    assert second["reply_to_message"]["from"]["id"] == sandbox.world.bot_id

    with pytest.raises(LookupError, match="no message 999"):
        await sandbox.post_in_topic(ann, forum, thread_id, "x", reply_to_message_id=999)
    with pytest.raises(ValueError, match="not a forum"):
        await sandbox.post_in_topic(ann, SandboxChat(-1005550001, "supergroup", "Plain"), 1, "x")
    assert [(e.from_bot, e.text) for e in sandbox.topic_transcript(forum.id, thread_id)] == [
        (True, None),
        (True, "Bob asks: when?"),
        (False, "Looking"),
        (False, "Tomorrow"),
    ]


# -- the control HTTP API -------------------------------------------------------------------


@pytest.fixture
async def control(sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sandbox.url) as session:
        yield session


async def test_forum_over_the_control_api(sandbox, raw, control):
    chat_id = -1007770001
    async with control.post(
        f"/sandbox/chats/{chat_id}/forum", json={"owner_id": 501, "chat_title": "Staff"}
    ) as response:
        assert response.status == 200, await response.text()
    assert (await raw.ok("getChat", chat_id=chat_id))["is_forum"] is True
    topic = await raw.ok("createForumTopic", chat_id=chat_id, name="Eve")
    thread_id = topic["message_thread_id"]
    sent = await raw.ok("sendMessage", chat_id=chat_id, text="Hi", message_thread_id=thread_id)

    async with control.post(
        "/sandbox/users/501/topic_messages",
        json={
            "chat_id": chat_id,
            "message_thread_id": thread_id,
            "text": "Hello",
            "reply_to_message_id": sent["message_id"],
        },
    ) as response:
        posted = await response.json()
    assert posted["reply_to_message"]["message_id"] == sent["message_id"]
    assert posted["is_topic_message"] is True

    async with control.get(
        f"/sandbox/chats/{chat_id}/topics/{thread_id}/transcript?from_bot=1"
    ) as response:
        assert [e["text"] for e in await response.json()] == ["Hi"]
    async with control.get(f"/sandbox/chats/{chat_id}/topics/{thread_id}/transcript") as response:
        entries = await response.json()
    assert [e["service"] for e in entries] == ["forum_topic_created", None, None]
    assert entries[2]["reply_to_message_id"] == sent["message_id"]
    assert entries[2]["thread_id"] == thread_id

    async with control.post(
        f"/sandbox/chats/{chat_id}/topics", json={"user_id": 501, "name": "Opened by Eve"}
    ) as response:
        opened = await response.json()
    assert opened["name"] == "Opened by Eve"
    async with control.post(
        f"/sandbox/chats/{chat_id}/topics/{thread_id}/close", json={"user_id": 501}
    ) as response:
        assert response.status == 200
    status, body = await raw.call(
        "sendMessage", chat_id=chat_id, text="x", message_thread_id=thread_id
    )
    assert body["description"] == "Bad Request: TOPIC_CLOSED"
    async with control.post(
        f"/sandbox/chats/{chat_id}/topics/{thread_id}/reopen", json={"user_id": 501}
    ) as response:
        assert response.status == 200

    async with control.delete(f"/sandbox/chats/{chat_id}/topics/{thread_id}") as response:
        assert response.status == 400
    async with control.delete(
        f"/sandbox/chats/{chat_id}/topics/{thread_id}?user_id=501"
    ) as response:
        assert response.status == 200
    status, body = await raw.call(
        "sendMessage", chat_id=chat_id, text="x", message_thread_id=thread_id
    )
    assert (status, body["description"]) == (400, "Bad Request: message thread not found")
    async with control.post(
        "/sandbox/users/501/topic_messages",
        json={"chat_id": chat_id, "message_thread_id": thread_id, "text": "x"},
    ) as response:
        assert response.status == 400
        assert "no topic" in (await response.json())["error"]

"""The control HTTP API drives the sandbox from another process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
async def control(sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sandbox.url) as session:
        yield session


async def test_inject_and_read_back(sandbox, raw, control):
    async with control.post(
        "/sandbox/users/501/messages", json={"text": "/start", "first_name": "Eve"}
    ) as response:
        assert response.status == 200
        message = await response.json()
    assert message["from"]["first_name"] == "Eve"
    assert message["entities"][0]["type"] == "bot_command"

    sent = await raw.ok(
        "sendMessage",
        chat_id=501,
        text="Pick",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    async with control.post(
        "/sandbox/users/501/callback", json={"message_id": sent["message_id"], "data": "a"}
    ) as response:
        query_id = (await response.json())["callback_query_id"]

    form = aiohttp.FormData()
    form.add_field("file", b"hello", filename="hello.txt")
    form.add_field("caption", "greeting")
    async with control.post("/sandbox/users/501/documents", data=form) as response:
        document = await response.json()
    assert document["document"]["file_name"] == "hello.txt"
    assert document["caption"] == "greeting"

    updates = await raw.ok("getUpdates")
    assert updates[1]["callback_query"]["id"] == query_id

    async with control.get("/sandbox/chats/501/transcript") as response:
        transcript = await response.json()
    assert [(e["from_bot"], e["text"]) for e in transcript] == [
        (False, "/start"),
        (True, "Pick"),
        (False, None),
    ]
    assert transcript[1]["buttons"] == [[{"text": "A", "callback_data": "a", "url": None}]]
    assert transcript[2]["document_size"] == 5

    async with control.get("/sandbox/chats/501/next_bot_message?timeout=1") as response:
        assert (await response.json())["text"] == "Pick"
    async with control.get("/sandbox/requests") as response:
        assert "sendMessage" in [r["method"] for r in await response.json()]


async def test_violations_limits_and_faults(sandbox, raw, control):
    await raw.call("sendMessage", chat_id=1, text="")
    async with control.get("/sandbox/violations") as response:
        assert await response.json() == ["sendMessage: Bad Request: message text is empty"]

    async with control.put(
        "/sandbox/limits", json={"enabled": True, "private_burst": 1}
    ) as response:
        assert (await response.json())["private_burst"] == 1
    assert sandbox.limits.enabled
    assert sandbox.limits.private_burst == 1
    async with control.put("/sandbox/limits", json={"speed": 1}) as response:
        assert response.status == 400

    async with control.post("/sandbox/faults", json={"kind": "block", "chat_id": 7}) as response:
        assert response.status == 200
    status, body = await raw.call("sendMessage", chat_id=7, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    async with control.post("/sandbox/faults", json={"kind": "explode"}) as response:
        assert response.status == 400
    async with control.delete("/sandbox/faults") as response:
        assert response.status == 200
    sandbox.limits.enabled = False
    assert (await raw.call("sendMessage", chat_id=7, text="x"))[0] == 200


async def test_bad_control_input_is_400(control):
    async with control.post("/sandbox/users/5/messages", data=b"not json") as response:
        assert response.status == 400
    async with control.post(
        "/sandbox/users/5/callback", json={"message_id": 99, "data": "x"}
    ) as response:
        assert response.status == 400
        assert "no message 99" in (await response.json())["error"]


async def test_serve_forever_prints_its_url_and_stops_on_cancel(capsys):
    import asyncio

    from sandbox import Limits, serve_forever

    task = asyncio.create_task(serve_forever("127.0.0.1", 0, "demo_bot", Limits(enabled=False)))
    printed = ""
    for _ in range(200):
        await asyncio.sleep(0.01)
        printed += capsys.readouterr().out
        if "http://" in printed:
            break
    url = printed.strip().rsplit(" ", 1)[-1]
    async with aiohttp.ClientSession() as session, session.get(f"{url}/bot1:x/getMe") as response:
        assert (await response.json())["result"]["username"] == "demo_bot"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

"""getUpdates long polling: wakes on new updates, confirms by offset, survives disconnects."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp


async def test_long_poll_returns_when_an_update_arrives(sandbox, raw, ann):
    poll = asyncio.create_task(raw.call("getUpdates", timeout=30))
    await sandbox.wait_for(lambda: sandbox.polling)
    assert not poll.done()
    await sandbox.send_text(ann, "hello")
    status, body = await asyncio.wait_for(poll, timeout=10)
    assert status == 200
    [update] = body["result"]
    assert update["message"]["text"] == "hello"


async def test_offset_confirms_updates(sandbox, raw, ann):
    for text in ("one", "two", "three"):
        await sandbox.send_text(ann, text)
    first = await raw.ok("getUpdates", limit=2)
    assert [u["message"]["text"] for u in first] == ["one", "two"]
    again = await raw.ok("getUpdates")
    assert [u["message"]["text"] for u in again] == ["one", "two", "three"]
    rest = await raw.ok("getUpdates", offset=first[-1]["update_id"] + 1)
    assert [u["message"]["text"] for u in rest] == ["three"]
    assert await raw.ok("getUpdates", offset=rest[-1]["update_id"] + 1) == []
    assert len(sandbox.world.updates) == 0


async def test_negative_offset_keeps_the_latest(sandbox, raw, ann):
    for text in ("one", "two", "three"):
        await sandbox.send_text(ann, text)
    latest = await raw.ok("getUpdates", offset=-1)
    assert [u["message"]["text"] for u in latest] == ["three"]


async def test_allowed_updates_filters_kinds(sandbox, raw, ann):
    sent = await raw.ok("sendMessage", chat_id=ann.id, text="pick")
    await sandbox.send_text(ann, "text")
    await sandbox.press_button(ann, sent["message_id"], "x")
    updates = await raw.ok("getUpdates", allowed_updates=["callback_query"])
    assert [("callback_query" in u) for u in updates] == [True]
    # The setting persists, as in Telegram.
    await sandbox.send_text(ann, "ignored")
    assert [("callback_query" in u) for u in await raw.ok("getUpdates")] == [True]


async def test_second_poller_terminates_the_first(sandbox, raw):
    first = asyncio.create_task(raw.call("getUpdates", timeout=30))
    await sandbox.wait_for(lambda: sandbox.polling)
    second = asyncio.create_task(raw.call("getUpdates", timeout=1))
    status, body = await asyncio.wait_for(first, timeout=10)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert (await second)[0] == 200
    assert sandbox.violations == []


async def test_client_disconnect_mid_poll_does_not_break_the_server(sandbox, token, raw, ann):
    async with aiohttp.ClientSession() as session:
        request = asyncio.create_task(
            session.post(f"{sandbox.url}/bot{token}/getUpdates", data={"timeout": "30"})
        )
        await sandbox.wait_for(lambda: sandbox.polling)
        request.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await request
    await sandbox.send_text(ann, "still here")
    updates = await raw.ok("getUpdates", timeout=5)
    assert updates[-1]["message"]["text"] == "still here"


async def test_webhook_blocks_polling(sandbox, raw):
    await raw.ok("setWebhook", url="https://example.org/hook")
    info = await raw.ok("getWebhookInfo")
    assert info["url"] == "https://example.org/hook"
    status, body = await raw.call("getUpdates")
    assert status == 409
    assert "webhook is active" in body["description"]
    await raw.ok("deleteWebhook", drop_pending_updates=True)
    assert (await raw.ok("getWebhookInfo"))["url"] == ""
    assert await raw.ok("getUpdates") == []


async def test_stop_releases_a_waiting_poll(token, ann):
    from sandbox import Limits, Sandbox

    sandbox = Sandbox(limits=Limits(enabled=False), token=token)
    await sandbox.start()
    async with aiohttp.ClientSession() as session:
        poll = asyncio.create_task(
            session.post(f"{sandbox.url}/bot{token}/getUpdates", data={"timeout": "60"})
        )
        await sandbox.wait_for(lambda: sandbox.polling)
        await sandbox.stop()
        with contextlib.suppress(aiohttp.ClientError):
            response = await asyncio.wait_for(poll, timeout=10)
            assert (await response.json())["result"] == []


async def test_settle_waits_for_fetching_and_quiet(sandbox, raw, ann):
    await sandbox.send_text(ann, "hi")
    settling = asyncio.create_task(sandbox.settle(quiet=0.05, timeout=10))
    await asyncio.sleep(0)
    assert not settling.done()
    await raw.ok("getUpdates")
    await asyncio.wait_for(settling, timeout=10)
    assert not sandbox.world.updates.has_unfetched()

"""Flood limits: token buckets per private chat, per group and overall, on a frozen clock."""

from __future__ import annotations

from typing import Any

from sandbox import Limits

GROUP = -1001234567890


async def send(raw: Any, chat_id: int, **extra: Any) -> tuple[int, dict[str, Any]]:
    status, body = await raw.call("sendMessage", chat_id=chat_id, text="hi", **extra)
    return status, body


async def test_private_chat_burst_then_429(limited, fake_clock):
    sandbox, raw = limited
    for _ in range(3):
        status, _ = await send(raw, 1001)
        assert status == 200
    status, body = await send(raw, 1001)
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert [chat for _, chat in sandbox.rate_limited] == [1001]
    assert sandbox.violations == []
    assert sandbox.delivered[1001] == ["hi", "hi", "hi"]

    # Another chat is not affected, and time refills the bucket.
    assert (await send(raw, 1002))[0] == 200
    fake_clock.advance(1.0)
    assert (await send(raw, 1001))[0] == 200


async def test_21st_group_message_in_a_minute_is_429(limited, fake_clock):
    sandbox, raw = limited
    for _ in range(20):
        assert (await send(raw, GROUP))[0] == 200
    status, body = await send(raw, GROUP)
    assert status == 429
    assert body["parameters"]["retry_after"] == 3
    fake_clock.advance(3.0)
    assert (await send(raw, GROUP))[0] == 200
    assert len(sandbox.rate_limited) == 1


async def test_global_rate(limited):
    sandbox, raw = limited
    sandbox.limits = Limits(global_per_second=5, private_burst=10)
    for chat_id in range(2001, 2006):
        assert (await send(raw, chat_id))[0] == 200
    status, body = await send(raw, 2006)
    assert status == 429
    assert body["parameters"]["retry_after"] >= 1


async def test_paid_broadcast_uses_the_paid_rate(limited):
    sandbox, raw = limited
    sandbox.limits = Limits(global_per_second=2, paid_global_per_second=1000)
    for chat_id in range(3001, 3011):
        status, body = await send(raw, chat_id, allow_paid_broadcast=True)
        assert status == 200, body
    assert sandbox.rate_limited == []


async def test_only_sending_methods_count(limited):
    sandbox, raw = limited
    for _ in range(3):
        assert (await send(raw, 1001))[0] == 200
    for _ in range(5):
        await raw.ok("sendChatAction", chat_id=1001, action="typing")
        await raw.ok("getChat", chat_id=1001)
    assert sandbox.rate_limited == []


async def test_limits_off_never_429(limited):
    sandbox, raw = limited
    sandbox.limits = Limits(enabled=False)
    for _ in range(40):
        assert (await send(raw, GROUP))[0] == 200
    assert sandbox.rate_limited == []


async def test_strict_count_refuses_the_31st_call_in_any_sliding_second(limited, fake_clock):
    sandbox, raw = limited
    sandbox.limits = Limits(strict=True)
    # A token bucket refilling evenly would take one more call every 1/30 s; a sliding
    # window takes none until the second since the first call has passed.
    for chat_id in range(4001, 4031):
        assert (await send(raw, chat_id))[0] == 200
        fake_clock.advance(0.03)
    status, body = await send(raw, 4031)
    assert status == 429
    assert body["parameters"]["retry_after"] == 1
    fake_clock.advance(0.11)  # now a second after the first call
    assert (await send(raw, 4031))[0] == 200


async def test_strict_count_includes_edits_and_callback_answers(limited, fake_clock):
    sandbox, raw = limited
    sandbox.limits = Limits(strict=True, global_per_second=3)
    message = await raw.ok("sendMessage", chat_id=1001, text="hi")
    await raw.ok("editMessageText", chat_id=1001, message_id=message["message_id"], text="ho")
    await raw.ok("sendChatAction", chat_id=1001, action="typing")
    status, _ = await raw.call(
        "editMessageText", chat_id=1001, message_id=message["message_id"], text="hu"
    )
    assert status == 429
    # Reading and the bot's own set-up never count.
    await raw.ok("getChat", chat_id=1001)
    await raw.ok("getMe")


async def test_strict_count_of_a_group_is_a_sliding_minute(limited, fake_clock):
    sandbox, raw = limited
    sandbox.limits = Limits(strict=True)
    for _ in range(20):
        assert (await send(raw, GROUP))[0] == 200
        fake_clock.advance(2.0)
    # 40 s later a refilling bucket would have room again; the sliding minute does not.
    status, body = await send(raw, GROUP)
    assert status == 429
    assert body["parameters"]["retry_after"] == 20

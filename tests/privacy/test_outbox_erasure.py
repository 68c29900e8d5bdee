"""Erasing a person's outbox rows while a sender holds some of them, on a real database.

A row the sender has claimed (or is handing to Telegram) when the person erases their data
is not sent afterwards and keeps nothing of them, whatever the sender then reports; rows
already settled keep their status, for the campaign's figures, and nothing else of the person.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import outbox as outbox_db
from bot.db.models import OutboxMessage
from bot.delivery.outbox import Envelope, enqueue

PERSON = 7001
OTHER = 7002


async def _rows(factory: async_sessionmaker[AsyncSession]) -> dict[str, OutboxMessage]:
    async with factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return {row.payload.get("name", row.dedupe_key): row for row in rows}


async def test_rows_held_by_a_sender_are_never_sent_after_erasure(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    names = ["sent", "failed", "claimed", "sending", "queued", "later", "other"]
    async with session_factory() as session:
        await enqueue(
            session,
            [
                Envelope(
                    chat_id=OTHER if name == "other" else PERSON,
                    user_id=OTHER if name == "other" else PERSON,
                    kind="reminder",
                    dedupe_key=f"reminder:1:{PERSON}:{name}",
                    due_at=now + timedelta(hours=1) if name == "later" else now,
                    payload={"text": f"Hello Amina ({name})", "name": name},
                )
                for name in names
            ],
            now,
        )
        await session.commit()
    ids = {name: row.id or 0 for name, row in (await _rows(session_factory)).items()}
    # A sender takes what is due; two are settled, one is on its way to Telegram.
    async with session_factory() as session:
        claimed = await outbox_db.claim_due(session, now=now, worker="w1", limit=10)
        assert {row.payload["name"] for row in claimed} == {
            "sent",
            "failed",
            "claimed",
            "sending",
            "queued",
            "other",
        }
        await outbox_db.apply_results(
            session,
            [
                (ids["sent"], {"status": outbox_db.SENT, "sent_at": now, "telegram_message_id": 5}),
                (ids["failed"], {"status": outbox_db.FAILED, "last_error": "[blocked] by 7001"}),
                (ids["queued"], {"status": outbox_db.PENDING, "claimed_by": None}),
            ],
        )
        assert await outbox_db.mark_sending(session, [ids["sending"]]) == {ids["sending"]}
        await session.commit()

    async with session_factory() as session:
        erased = await outbox_db.erase_rows(session, user_id=PERSON)
        await session.commit()
    assert (erased.deleted, erased.blanked) == (2, 4)  # "queued" and "later" were only waiting

    # The sender goes on with what it held: the erased rows are not handed over, and what it
    # reports of the one that was on its way does not bring anything back.
    async with session_factory() as session:
        moving = await outbox_db.mark_sending(
            session, [ids["claimed"], ids["sending"], ids["other"]]
        )
        await outbox_db.apply_results(
            session,
            [
                (ids["sending"], {"status": outbox_db.SENT, "sent_at": now}),
                (ids["claimed"], {"status": outbox_db.PENDING, "claimed_by": None}),
            ],
        )
        await session.commit()
    assert moving == {ids["other"]}

    rows = await _rows(session_factory)
    assert sorted(rows) == sorted(
        ["other", *(f"erased:{ids[n]}" for n in ("sent", "failed", "claimed", "sending"))]
    )
    kept = {name: row for name, row in rows.items() if name != "other"}
    assert sorted((row.id, row.status) for row in kept.values()) == sorted(
        [
            (ids["sent"], "sent"),
            (ids["failed"], "failed"),
            (ids["claimed"], "cancelled"),
            (ids["sending"], "cancelled"),
        ]
    )
    for row in kept.values():
        assert (row.chat_id, row.user_id, row.payload, row.telegram_message_id) == (
            0,
            None,
            {},
            None,
        )
        assert str(PERSON) not in (row.last_error or "") + row.dedupe_key
    assert rows["other"].chat_id == OTHER
    async with session_factory() as session:
        assert (
            await outbox_db.claim_due(session, now=now + timedelta(days=1), worker="w2", limit=10)
            == []
        )

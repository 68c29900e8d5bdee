"""Announcement service on SQLite and PostgreSQL: who gets what, in which language, and when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import Campaign, OutboxMessage
from bot.services import announcements as ann
from tests.delivery.conftest import add_cohort, add_programme, add_trainee, grant

CONTENT = {
    "en": {"text": "<b>Hello</b>"},
    "zh": {"text": "你好"},
    "ru": {"text": "Привет"},
}


async def rows(session: AsyncSession, campaign_id: int) -> dict[int, OutboxMessage]:
    found = await session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.campaign_id) == campaign_id)
        .execution_options(populate_existing=True)
    )
    return {r.chat_id: r for r in found.all()}


async def test_each_trainee_gets_their_language_then_programme_default_then_english(
    session: AsyncSession, clock: ManualClock
) -> None:
    ru_programme = await add_programme(session, "DIGI", default_locale="ru")
    es_programme = await add_programme(session, "AGRI", default_locale="es")
    digi = await add_cohort(session, ru_programme, "DIGI-1")
    agri = await add_cohort(session, es_programme, "AGRI-1")
    await add_trainee(session, digi, 101, locale="zh")
    await add_trainee(session, digi, 102, roster_language="fr")
    await add_trainee(session, digi, 103)
    await add_trainee(session, digi, 104, locale="en", roster_language="ar")
    await add_trainee(session, agri, 105, roster_language="es-MX")
    await session.commit()

    report = await ann.create_campaign(
        session,
        scope=ann.EVERYTHING,
        audience=ann.Audience(cohort_ids=(digi.id or 0, agri.id or 0)),
        content=CONTENT,
        clock=clock,
    )

    queued = await rows(session, report.campaign_id)
    texts = {chat: r.payload["text"] for chat, r in queued.items()}
    assert texts == {
        101: "你好",  # their own choice
        102: "Привет",  # French missing: the programme's default
        103: "Привет",  # no language known: the programme's default
        104: "<b>Hello</b>",  # the chosen locale wins over the roster's language
        105: "<b>Hello</b>",  # Spanish programme without Spanish: English
    }
    assert report.missing_languages == ["fr", "es"]
    assert {r.dedupe_key for r in queued.values()} == {
        f"campaign:{report.campaign_id}:{chat}" for chat in texts
    }
    assert {r.kind for r in queued.values()} == {"announcement"}
    assert all(r.user_id == r.chat_id for r in queued.values())
    campaign = await session.get(Campaign, report.campaign_id)
    assert campaign is not None
    assert ann.missing_languages(campaign) == ["fr", "es"]
    assert campaign.status == "running"


async def test_filters_by_language_and_country(session: AsyncSession, clock: ManualClock) -> None:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1")
    await add_trainee(session, cohort, 201, locale="ru", country="UZ")
    await add_trainee(session, cohort, 202, locale="ru", country="KZ")
    await add_trainee(session, cohort, 203, locale="en", country="UZ")
    await add_trainee(session, cohort, 204, locale="fr")
    await session.commit()

    by_language = await ann.resolve(
        session, ann.Audience(cohort_ids=(cohort.id or 0,), languages=("ru",)), ann.EVERYTHING
    )
    assert sorted(r.chat_id for r in by_language.people) == [201, 202]
    by_country = await ann.resolve(
        session, ann.Audience(cohort_ids=(cohort.id or 0,), countries=("uz",)), ann.EVERYTHING
    )
    assert sorted(r.chat_id for r in by_country.people) == [201, 203]
    both = await ann.resolve(
        session,
        ann.Audience(cohort_ids=(cohort.id or 0,), languages=("ru",), countries=("UZ",)),
        ann.EVERYTHING,
    )
    assert [r.chat_id for r in both.people] == [201]
    assert both.all_countries == {"UZ": 2, "KZ": 1}


async def test_group_chats_pinned_and_unreachable_people_skipped(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme = await add_programme(session, "P", default_locale="zh")
    first = await add_cohort(session, programme, "P-1", group_chat_id=-1001)
    second = await add_cohort(session, programme, "P-2", group_chat_id=-1002)
    await add_trainee(session, first, 301)
    await add_trainee(session, second, 301)  # in both cohorts: one message
    await add_trainee(session, first, 302, reachable=False)
    await add_trainee(session, first, 303, status="withdrawn")
    await session.commit()

    report = await ann.create_campaign(
        session,
        scope=ann.EVERYTHING,
        audience=ann.Audience(cohort_ids=(first.id or 0, second.id or 0), groups=True),
        content=CONTENT,
        clock=clock,
        pin=True,
    )

    queued = await rows(session, report.campaign_id)
    assert sorted(queued) == [-1002, -1001, 301]
    assert (report.people, report.groups, report.unreachable) == (1, 2, 1)
    assert queued[-1001].payload == {"text": "你好", "pin": True}
    assert queued[-1001].user_id is None
    assert queued[301].payload == {"text": "你好"}  # pinning is for groups only


async def test_group_chats_alone(session: AsyncSession, clock: ManualClock) -> None:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1", group_chat_id=-500)
    await add_cohort(session, programme, "P-2")
    await add_trainee(session, cohort, 311)
    await session.commit()
    resolved = await ann.resolve(session, ann.Audience(groups=True), ann.EVERYTHING)
    assert [r.chat_id for r in resolved.groups] == [-500]
    assert resolved.people == []


async def test_documents_and_photos_go_with_their_caption(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1")
    await add_trainee(session, cohort, 321, locale="ru")
    await add_trainee(session, cohort, 322)
    await session.commit()
    report = await ann.create_campaign(
        session,
        scope=ann.EVERYTHING,
        audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
        content={
            "en": {"text": "Timetable", "file_id": "DOC1", "file_kind": "document"},
            "ru": {"text": "", "file_id": "PHOTO1", "file_kind": "photo"},
        },
        clock=clock,
    )
    queued = await rows(session, report.campaign_id)
    assert queued[322].payload == {
        "file_id": "DOC1",
        "file_kind": "document",
        "caption": "Timetable",
    }
    assert queued[321].payload == {"file_id": "PHOTO1", "file_kind": "photo"}


async def test_scheduled_campaign_waits_and_can_be_cancelled(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1")
    for user_id in (401, 402, 403):
        await add_trainee(session, cohort, user_id)
    await session.commit()
    later = clock.now() + timedelta(days=2)

    report = await ann.create_campaign(
        session,
        scope=ann.EVERYTHING,
        audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
        content=CONTENT,
        clock=clock,
        scheduled_at=later,
    )
    assert report.status == "scheduled"
    queued = await rows(session, report.campaign_id)
    assert {r.due_at for r in queued.values()} == {later}

    # One row already went out before the organiser changed their mind.
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.chat_id) == 401).values(status="sent")
    )
    await session.commit()
    cancelled = await ann.cancel_campaign(session, report.campaign_id, ann.EVERYTHING, clock)
    assert cancelled == 2
    statuses = {chat: r.status for chat, r in (await rows(session, report.campaign_id)).items()}
    assert statuses == {401: "sent", 402: "cancelled", 403: "cancelled"}
    campaign = await session.get(Campaign, report.campaign_id)
    assert campaign is not None
    assert campaign.status == "cancelled"
    assert await ann.finish_if_done(session, campaign, clock)
    assert campaign.finished_at == clock.now()
    with pytest.raises(ann.AlreadyFinished):
        await ann.cancel_campaign(session, report.campaign_id, ann.EVERYTHING, clock)


async def test_time_in_the_past_and_bad_html_queue_nothing(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1")
    await add_trainee(session, cohort, 501)
    await session.commit()
    audience = ann.Audience(cohort_ids=(cohort.id or 0,))
    with pytest.raises(ann.TimeInPast):
        await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=audience,
            content=CONTENT,
            clock=clock,
            scheduled_at=clock.now() - timedelta(minutes=1),
        )
    with pytest.raises(ann.InvalidContent):
        await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=audience,
            content={"en": {"text": "<b>unclosed"}},
            clock=clock,
        )
    with pytest.raises(ann.InvalidContent):
        await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=audience,
            content={"en": {"text": "x" * 4097}},
            clock=clock,
        )
    assert (await session.exec(select(Campaign))).all() == []
    assert (await session.exec(select(OutboxMessage))).all() == []


async def test_campaign_done_when_nothing_left_to_send(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1")
    await add_trainee(session, cohort, 601)
    await add_trainee(session, cohort, 602)
    await session.commit()
    report = await ann.create_campaign(
        session,
        scope=ann.EVERYTHING,
        audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
        content=CONTENT,
        clock=clock,
    )
    campaign = await session.get(Campaign, report.campaign_id)
    assert campaign is not None
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.chat_id) == 601).values(status="sent")
    )
    await session.commit()
    assert not await ann.finish_if_done(session, campaign, clock)
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.chat_id) == 602).values(status="failed")
    )
    await session.commit()
    assert await ann.finish_if_done(session, campaign, clock)
    assert (campaign.status, campaign.finished_at) == ("done", clock.now())


async def test_organiser_reaches_only_their_programmes(
    session: AsyncSession, clock: ManualClock
) -> None:
    mine = await add_programme(session, "MINE")
    theirs = await add_programme(session, "THEIRS")
    my_cohort = await add_cohort(session, mine, "MINE-1")
    their_cohort = await add_cohort(session, theirs, "THEIRS-1")
    await add_trainee(session, my_cohort, 701)
    await add_trainee(session, their_cohort, 702)
    await grant(session, 42, mine)
    await session.commit()

    assert await ann.scope_of(session, 43, admin_ids=[1]) is None
    assert (await ann.scope_of(session, 1, admin_ids=[1])) == ann.Scope(1, None)
    scope = await ann.scope_of(session, 42, admin_ids=[1])
    assert scope is not None
    everyone = await ann.resolve(session, ann.Audience(everyone=True), scope)
    assert [r.chat_id for r in everyone.people] == [701]
    with pytest.raises(ann.NotAllowed):
        await ann.resolve(session, ann.Audience(cohort_ids=(their_cohort.id or 0,)), scope)
    other = await ann.create_campaign(
        session,
        scope=ann.Scope(1, None),
        audience=ann.Audience(cohort_ids=(their_cohort.id or 0,)),
        content=CONTENT,
        clock=clock,
        scheduled_at=clock.now() + timedelta(hours=1),
    )
    with pytest.raises(ann.NotAllowed):
        await ann.cancel_campaign(session, other.campaign_id, scope, clock)
    listed = await ann.list_campaigns(session, scope)
    assert listed == []


async def test_nobody_reachable_is_refused(session: AsyncSession, clock: ManualClock) -> None:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1")
    await add_trainee(session, cohort, 801, reachable=False)
    await session.commit()
    with pytest.raises(ann.EmptyAudience):
        await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
            content=CONTENT,
            clock=clock,
        )


async def test_large_audience_queued_in_chunks(session: AsyncSession, clock: ManualClock) -> None:
    programme = await add_programme(session, "BIG")
    cohort = await add_cohort(session, programme, "BIG-1")
    await session.commit()
    from bot.db.models import Enrolment, User

    session.add_all([User(id=10_000 + i, first_name="T") for i in range(1200)])
    session.add_all([Enrolment(user_id=10_000 + i, cohort_id=cohort.id or 0) for i in range(1200)])
    await session.commit()
    report = await ann.create_campaign(
        session,
        scope=ann.EVERYTHING,
        audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
        content=CONTENT,
        clock=clock,
    )
    assert report.queued == 1200
    assert len(await rows(session, report.campaign_id)) == 1200

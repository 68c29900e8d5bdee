"""Who the organisers' routers admit, fed to the Dispatcher: super-admins, programme admins and
coordinators, each within their programmes; trainees and strangers are refused.
"""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import RoleGrant
from tests.delivery.conftest import add_cohort, add_programme, add_trainee
from tests.support.recording import RecordingSession, button_press, private_message
from tests.support.settings import ADMIN_ID

PROGRAMME_ADMIN = 5551001
COORDINATOR = 5551002
TRAINEE = 5551003
STRANGER = 5551004
OTHER_ROLE = 5551005

WHO_RECEIVES = "Who should receive the announcement?"
REFUSED = "only for the programme's organisers"


@pytest.fixture
async def programmes(session: AsyncSession) -> None:
    """Two programmes with a cohort each; the staff hold roles in the first one only."""
    ours = await add_programme(session, "OURS")
    theirs = await add_programme(session, "THEIRS")
    cohort = await add_cohort(session, ours, "OURS-1")
    await add_cohort(session, theirs, "THEIRS-1")
    await add_trainee(session, cohort, TRAINEE)
    assert ours.id is not None
    for user_id, role in (
        (PROGRAMME_ADMIN, "programme_admin"),
        (COORDINATOR, "coordinator"),
        (OTHER_ROLE, "observer"),
    ):
        session.add(RoleGrant(user_id=user_id, programme_id=ours.id, role=role))
    await session.commit()


def _cohort_buttons(recorder: RecordingSession, chat_id: int) -> list[str]:
    [ask] = [m for m in recorder.of_type(SendMessage) if m.chat_id == chat_id]
    return [
        b.text
        for row in ask.reply_markup.inline_keyboard
        for b in row
        if b.text.startswith("☐ ") and "-1" in b.text
    ]


@pytest.mark.usefixtures("programmes")
async def test_super_admin_may_announce_to_every_programme(
    feed, recorder: RecordingSession
) -> None:
    await feed(private_message(ADMIN_ID, "/announce"))
    [text] = recorder.sent_texts(ADMIN_ID)
    assert text.startswith(WHO_RECEIVES)
    buttons = _cohort_buttons(recorder, ADMIN_ID)
    assert any("OURS-1" in b for b in buttons)
    assert any("THEIRS-1" in b for b in buttons)


@pytest.mark.usefixtures("programmes")
@pytest.mark.parametrize("organiser", [PROGRAMME_ADMIN, COORDINATOR])
async def test_programme_staff_may_announce_within_their_programme(
    feed, recorder: RecordingSession, organiser: int
) -> None:
    await feed(private_message(organiser, "/announce"))
    [text] = recorder.sent_texts(organiser)
    assert text.startswith(WHO_RECEIVES)
    buttons = _cohort_buttons(recorder, organiser)
    assert any("OURS-1" in b for b in buttons)
    assert not any("THEIRS-1" in b for b in buttons)


@pytest.mark.usefixtures("programmes")
@pytest.mark.parametrize("organiser", [ADMIN_ID, PROGRAMME_ADMIN, COORDINATOR])
async def test_every_organiser_router_admits_the_same_people(
    feed, recorder: RecordingSession, organiser: int
) -> None:
    await feed(private_message(organiser, "/campaigns"))
    await feed(private_message(organiser, "/cohorts"))
    campaigns, cohorts = recorder.sent_texts(organiser)
    assert campaigns.startswith("No announcements yet.")
    assert "OURS-1" in cohorts


@pytest.mark.usefixtures("programmes")
@pytest.mark.parametrize("person", [TRAINEE, STRANGER, OTHER_ROLE])
async def test_trainees_strangers_and_other_roles_are_refused(
    feed, recorder: RecordingSession, person: int
) -> None:
    for command in ("/announce", "/campaigns", "/cohorts"):
        await feed(private_message(person, command))
    texts = recorder.sent_texts(person)
    assert len(texts) == 3
    assert all(REFUSED in text for text in texts)
    await feed(button_press(person, "an:cx:1"))
    [answer] = recorder.of_type(AnswerCallbackQuery)
    assert answer.text == "This button is no longer active."

"""``/results`` end to end: an organiser gets the summary, the chart as a photo and the workbook
as a document; cohorts come as buttons when there are several; staff of another programme and
trainees get nothing of it. The real bot, polling the sandbox over HTTP."""

from __future__ import annotations

from bot.db.models import RoleGrant
from bot.services import spreadsheets
from sandbox import Sandbox, SandboxUser
from tests.feedback.results_support import seeded
from tests.support.e2e import RunningBot
from tests.timetable.support import make_cohort


async def _say(sandbox: Sandbox, user: SandboxUser, text: str):
    await sandbox.send_text(user, text)
    return await sandbox.next_bot_message(user.id)


async def test_an_organiser_gets_the_summary_the_chart_and_the_workbook(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        cohort, (first, _second, _third) = await seeded(session)
        cohort_id, first_id = cohort.id, first.id

    summary = await _say(sandbox, admin, "/results")  # the one cohort there is
    assert "Feedback: DT27-A" in summary.content
    assert "9 of 11 (82%)" in summary.content
    assert "<b>4.3</b> of 5" in (summary.html or "")
    assert "Longer breaks" in summary.content
    for secret in ("Secretname1", "Secretname2"):
        assert secret not in summary.content
    chart = await sandbox.next_bot_message(admin.id)
    assert chart.photo

    [[workbook_button]] = summary.buttons
    assert len((workbook_button.callback_data or "").encode()) <= 64
    await sandbox.press_button(admin, summary.message_id, workbook_button.callback_data or "")
    document = await sandbox.next_bot_message(admin.id)
    assert document.document_name == "feedback-DT27-A.xlsx"
    assert document.document_bytes is not None
    sheets = spreadsheets.read_back(document.document_bytes)
    assert "Typed answers" in sheets
    assert any("Longer breaks" in row for row in sheets["Typed answers"])

    one = await _say(sandbox, admin, f"/results DT27-A {first_id}")
    assert "Digital trade rules" in one.content
    assert "3 of 4 (75%)" in one.content
    assert (await sandbox.next_bot_message(admin.id)).photo

    direct = await _say(sandbox, admin, "/results DT27-A xlsx")
    assert direct.document_name == "feedback-DT27-A.xlsx"
    assert cohort_id is not None


async def test_several_cohorts_come_as_buttons_and_a_cohort_without_answers_says_so(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await seeded(session)
        await make_cohort(session, "DT27-Z", programme_code="OTHER-2027")
    listing = await _say(sandbox, admin, "/results")
    assert "Which cohort" in listing.content
    labels = [button.text for row in listing.buttons for button in row]
    assert any(label.startswith("DT27-A") for label in labels)
    assert any(label.startswith("DT27-Z") for label in labels)
    for row in listing.buttons:
        for button in row:
            assert len((button.callback_data or "").encode()) <= 64
    other = next(b for row in listing.buttons for b in row if b.text.startswith("DT27-Z"))
    await sandbox.press_button(admin, listing.message_id, other.callback_data or "")
    empty = await sandbox.next_bot_message(admin.id)
    assert "No feedback was requested yet." in empty.content
    await sandbox.settle()
    assert sandbox.unread_bot_messages(admin.id) == []  # no chart for nothing

    unknown = await _say(sandbox, admin, "/results DT27-A 999999")
    assert "no such session" in unknown.content


async def test_staff_of_another_programme_and_trainees_see_nothing(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await seeded(session)
        other = await make_cohort(session, "DT27-Z", programme_code="OTHER-2027")
        session.add(RoleGrant(user_id=8300, programme_id=other.programme_id, role="coordinator"))
        await session.commit()
    coordinator = SandboxUser(id=8300, first_name="Bea", language_code="en")

    refused = await _say(sandbox, coordinator, "/results DT27-A")
    assert (
        "There is no cohort DT27-A among the programmes you organise (OTHER-2027)"
        in refused.content
    )
    own = await _say(sandbox, coordinator, "/results")  # only their own cohort, no list
    assert "Feedback: DT27-Z" in own.content
    forged = await sandbox.press_button(coordinator, own.message_id, "fbrc:1")
    await sandbox.settle()
    assert sandbox.callback_answers[forged].get("text") == "This button is no longer active."
    assert sandbox.unread_bot_messages(coordinator.id) == []

    answer = await _say(sandbox, trainee, "/results DT27-A")
    assert "Feedback" not in answer.content
    assert "only for the programme's organisers" in answer.content
    await sandbox.settle()
    assert not any(entry.photo for entry in sandbox.bot_messages(trainee.id))

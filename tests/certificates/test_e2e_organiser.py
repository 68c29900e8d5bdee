"""Certificates issued and revoked from Telegram, the real bot polling the sandbox: the
organiser's preview (who gets one, who is refused and why), Confirm pressed twice issuing
once, the PDF in the trainee's chat, a stale preview, others refused, and /certificate_revoke
then /verify. The preview of a cohort of 200 fits one message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.db import certificates as certificates_db
from bot.db.models import User
from bot.services import roles
from bot.services.certificates import codes, issuing, render
from bot.services.certificates.plans import MESSAGE_LIMIT, describe_plan
from sandbox import Sandbox, SandboxUser, TranscriptEntry
from tests.certificates.test_e2e_certificates import HOLDER, SECOND, STRANGER, _deliver, _setup
from tests.support.e2e import RunningBot
from tests.support.fonts import require_certificate_fonts
from tests.support.settings import make_settings
from tests.timetable.support import make_cohort

pytestmark = pytest.mark.e2e

ORGANISER = SandboxUser(id=7800, first_name="Olga", language_code="en")
OUTSIDER = SandboxUser(id=7801, first_name="Omar", language_code="en")


async def _grant(bot: RunningBot, clock: ManualClock, user: SandboxUser, programme: str) -> None:
    async with bot.session_factory() as session:
        session.add(User(id=user.id, first_name=user.first_name, locale="en"))
        await session.flush()
        result = await roles.change_grant(
            session,
            actor_id=None,
            user_id=user.id,
            programme_code=programme,
            role_word="coordinator",
            grant=True,
            settings=make_settings(),
            now=clock.now(),
        )
        assert result.outcome == roles.GrantOutcome.DONE


async def _ask(sandbox: Sandbox, user: SandboxUser, text: str) -> TranscriptEntry:
    await sandbox.send_text(user, text)
    return await sandbox.next_bot_message(user.id)


def _data(entry: TranscriptEntry, label: str) -> str:
    for row in entry.buttons:
        for button in row:
            if label in button.text and button.callback_data:
                return button.callback_data
    raise AssertionError(f"no button {label!r} in {entry.buttons}")


def _labels(entry: TranscriptEntry) -> list[str]:
    return [button.text for row in entry.buttons for button in row]


async def _setup_all(bot: RunningBot, clock: ManualClock, trainee: SandboxUser) -> None:
    await _setup(bot, clock, trainee)
    async with bot.session_factory() as session:
        await make_cohort(session, "OTHER1")
        await session.commit()
    await _grant(bot, clock, ORGANISER, "DT27A")
    await _grant(bot, clock, OUTSIDER, "OTHER1")


async def _certificates(bot: RunningBot, user_id: int) -> list[certificates_db.Certificate]:
    async with bot.session_factory() as session:
        return list(await certificates_db.of_user(session, user_id))


async def test_preview_confirm_twice_and_revoke(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, trainee: SandboxUser
) -> None:
    require_certificate_fonts()
    bot = running_bot
    await _setup_all(bot, clock, trainee)

    # Others are refused; the usage names the organiser's cohorts; an unknown code is said.
    refused = (await _ask(sandbox, STRANGER, "/certificates DT27A")).content
    assert "Only the organisers of a programme can issue" in refused
    outside = (await _ask(sandbox, OUTSIDER, "/certificates DT27A")).content
    assert "There is no cohort DT27A among the programmes you organise" in outside
    usage = (await _ask(sandbox, ORGANISER, "/certificates")).content
    assert "Usage: /certificates COHORT" in usage
    assert "DT27A" in usage
    assert "OTHER1" not in usage
    unknown = (await _ask(sandbox, ORGANISER, "/certificates NOPE")).content
    assert "There is no cohort NOPE" in unknown

    # The preview: who would get one, who is refused and why; nothing issued yet.
    preview = await _ask(sandbox, ORGANISER, "/certificates DT27A")
    text = preview.content
    assert "nothing is issued until you press Issue" in text
    assert "Would issue 1 certificate for DT27A." in text
    assert HOLDER in text
    assert "Refused 1 trainee:" in text
    assert "Bilal: did not complete the programme: Attendance" in text
    assert not any("send again" in label for label in _labels(preview))
    issue = _data(preview, "Issue")
    assert len(issue.encode()) <= 64
    assert await _certificates(bot, trainee.id) == []

    # Someone else's press on the organiser's preview is refused and issues nothing.
    forged = await sandbox.press_button(OUTSIDER, preview.message_id, issue, chat_id=ORGANISER.id)
    await sandbox.settle()
    assert "Only the organisers" in sandbox.callback_answers[forged].get("text", "")
    assert await _certificates(bot, trainee.id) == []

    # Confirm pressed twice: issued once, the trainee gets one PDF, Bilal nothing.
    first = await sandbox.press_button(ORGANISER, preview.message_id, issue)
    second = await sandbox.press_button(ORGANISER, preview.message_id, issue)
    await sandbox.settle()
    assert "Issuing" in sandbox.callback_answers[first].get("text", "")
    assert second in sandbox.callback_answers
    await _deliver(bot, clock, sandbox)
    [certificate] = await _certificates(bot, trainee.id)
    assert certificate.version == 1
    documents = [m for m in sandbox.bot_messages(trainee.id) if m.document_name]
    assert len(documents) == 1
    assert documents[0].document_bytes is not None
    assert documents[0].document_bytes.startswith(b"%PDF")
    assert not [m for m in sandbox.bot_messages(SECOND.id) if m.document_name]
    assert await _certificates(bot, SECOND.id) == []
    messages = {m.message_id: m for m in sandbox.bot_messages(ORGANISER.id)}
    summary = messages[preview.message_id].content
    assert "Issued 1 certificate for DT27A; 1 queued to send." in summary
    code = codes.shown(certificate.code)
    assert f"{HOLDER}: {code}" in summary
    stale = sandbox.unread_bot_messages(ORGANISER.id)
    assert len(stale) == 1, "the second press gets the plan as it is now"
    assert "changed since that preview; nothing was issued" in stale[0].content
    assert "Would issue 0 certificates for DT27A." in stale[0].content
    assert "Already issued to 1 trainee" in stale[0].content
    assert any("send again" in label for label in _labels(stale[0]))

    # The old preview pressed again later: still nothing issued.
    await sandbox.press_button(ORGANISER, preview.message_id, issue)
    await sandbox.settle()
    assert "changed since that preview" in (await sandbox.next_bot_message(ORGANISER.id)).content
    await _deliver(bot, clock, sandbox)
    assert len([m for m in sandbox.bot_messages(trainee.id) if m.document_name]) == 1

    # Revoking: organisers of the certificate's programme only, with a reason.
    revoke = f"/certificate_revoke {code} Attendance records corrected"
    assert "Only the organisers" in (await _ask(sandbox, STRANGER, revoke)).content
    assert "There is no certificate" in (await _ask(sandbox, OUTSIDER, revoke)).content
    usage = (await _ask(sandbox, ORGANISER, f"/certificate_revoke {code}")).content
    assert "Usage: /certificate_revoke CODE reason" in usage
    malformed = (await _ask(sandbox, ORGANISER, "/certificate_revoke 12 x")).content
    assert "not a certificate code" in malformed
    unknown = (await _ask(sandbox, ORGANISER, "/certificate_revoke ZZZZZ-ZZZZZ oops")).content
    assert "There is no certificate ZZZZZ-ZZZZZ" in unknown
    [still] = await _certificates(bot, trainee.id)
    assert still.status == "valid"

    clock.advance(timedelta(days=1))
    done = (await _ask(sandbox, ORGANISER, revoke)).content
    assert f"Revoked certificate {code} of {HOLDER}" in done
    await _deliver(bot, clock, sandbox)
    told = [m.content for m in sandbox.unread_bot_messages(trainee.id)]
    assert any("has been revoked" in m and "Attendance records corrected" in m for m in told)
    verified = (await _ask(sandbox, STRANGER, f"/verify {code}")).content
    assert "Status: revoked on" in verified
    again = (await _ask(sandbox, ORGANISER, revoke)).content
    assert "already revoked" in again


async def test_cancel_and_a_completion_meanwhile(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, trainee: SandboxUser
) -> None:
    bot = running_bot
    await _setup_all(bot, clock, trainee)
    preview = await _ask(sandbox, ORGANISER, "/certificates DT27A")
    await sandbox.press_button(ORGANISER, preview.message_id, _data(preview, "Cancel"))
    await sandbox.settle()
    cancelled = {m.message_id: m for m in sandbox.bot_messages(ORGANISER.id)}
    assert "Cancelled. No certificate was issued." in cancelled[preview.message_id].content

    # Bilal completes (by exception) after the preview: its Issue issues nothing, and the new
    # preview names him.
    preview = await _ask(sandbox, ORGANISER, "/certificates DT27A")
    reason = "Followed the recordings"
    excepted = await _ask(sandbox, ORGANISER, f"/completion_except DT27A Bilal | {reason}")
    assert "Bilal" in excepted.content
    await sandbox.press_button(ORGANISER, preview.message_id, _data(preview, "Issue"))
    await sandbox.settle()
    fresh = (await sandbox.next_bot_message(ORGANISER.id)).content
    assert "changed since that preview; nothing was issued" in fresh
    assert "Would issue 2 certificates for DT27A." in fresh
    assert await _certificates(bot, trainee.id) == []
    assert await _certificates(bot, SECOND.id) == []


async def test_fonts_missing_is_said_and_nothing_issued(
    running_bot: RunningBot,
    sandbox: Sandbox,
    clock: ManualClock,
    trainee: SandboxUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = running_bot
    await _setup_all(bot, clock, trainee)
    # The font's file is looked for where no file is, as on a machine without the package.
    gone = ("/nonexistent/NotoSans-Regular.ttf", 0, "fonts-noto-core")
    monkeypatch.setitem(render.FONT_FILES, "sans", gone)
    monkeypatch.setattr(render, "_checked", set())
    preview = await _ask(sandbox, ORGANISER, "/certificates DT27A")
    await sandbox.press_button(ORGANISER, preview.message_id, _data(preview, "Issue"))
    await sandbox.settle()
    shown = {m.message_id: m for m in sandbox.bot_messages(ORGANISER.id)}
    said = shown[preview.message_id].content
    assert "No certificate was issued: a font the certificates need is missing" in said
    assert "fonts-noto-core" in said
    assert "Traceback" not in said
    assert await _certificates(bot, trainee.id) == []


def test_the_preview_of_200_fits_one_message() -> None:
    long = "Maria-Fernanda de los Ángeles Rodríguez & Castañeda-Villanueva"
    plan = issuing.IssuePlan(
        cohort_code="BIG-2027",
        issue=[f"{long} {n}" for n in range(120)],
        already=[f"{long} {n}" for n in range(120, 160)],
        refused=[
            (
                f"{long} {n}",
                "did not complete the programme: Attendance 50% / 80%; Feedback forms 0% / 100%",
            )
            for n in range(160, 200)
        ],
    )
    for dry_run in (True, False):
        if not dry_run:
            plan.codes = {name: "ABCDE-12345" for name in plan.issue}
            plan.queued = len(plan.issue)
        text = describe_plan(plan, dry_run, html=True, limit=MESSAGE_LIMIT - 100)
        assert len(text) < MESSAGE_LIMIT - 100
        assert "more" in text
        assert "&amp;" in text
    full = describe_plan(plan, True)
    assert full.startswith("Would issue 120 certificates for BIG-2027.")
    assert "Already issued to 40 trainees:" in full
    assert "Refused 40 trainees:" in full
    assert len(full.splitlines()) == 1 + 120 + 1 + 40 + 1 + 40

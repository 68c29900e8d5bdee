"""Issuing certificates to a cohort's trainees who completed, revoking one, and a trainee's own.

Issuing renders each PDF (in a worker thread), keeps it with the record and queues it
through the outbox as a document (the payload names the certificate; the transport loads
the bytes, see :mod:`.files`), captioned in the trainee's language. Issuing again queues
nothing for those who already have one, unless ``reissue``: then the same code is rendered
again and sent again.

Each plan carries a ``token``: a digest of whom it covers and of the certificates they hold.
A confirmation names the token it saw (:class:`PlanChanged` when the cohort moved on since),
and issuing to one cohort runs one at a time in this process, so a button pressed twice, or
a stale preview, never issues twice nor to anyone the preview did not show.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from babel.dates import format_date
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import attendance as attendance_db
from bot.db import certificates as certificates_db
from bot.db import timetable as timetable_db
from bot.db import users as users_db
from bot.db.certificates import Certificate, CertificateStatus
from bot.db.models import Cohort, Programme
from bot.delivery.outbox import Envelope, enqueue
from bot.delivery.outbox import Waker as Waker
from bot.i18n import babel_locale, use_locale
from bot.i18n import gettext as _
from bot.markup import h
from bot.services import people
from bot.services.attendance.marking import held_sessions
from bot.services.certificates import codes
from bot.services.certificates.eligibility import eligibility
from bot.services.certificates.render import CertificateContent, render_many_async
from bot.services.roster.importing import bot_username
from bot.services.timetable.views import pick_title

RTL_LOCALES = frozenset({"ar", "fa", "he", "ur"})


def verify_link(username: str | None, code: str) -> str:
    """The deep link that verifies ``code`` in the bot."""
    return f"https://t.me/{username or 'bot'}?start=verify-{code}"


def date_span(starts: date | None, ends: date | None, locale: str) -> str:
    """``1 June 2026 – 19 June 2026`` in ``locale`` (either end may be unknown)."""
    where = babel_locale(locale)
    parts = [format_date(day, "long", locale=where) for day in (starts, ends) if day is not None]
    return " – ".join(dict.fromkeys(parts)) or "—"


def hours_text(hours: float) -> str:
    return f"{hours:g}"


def _labels(locale: str) -> dict[str, str]:
    with use_locale(locale):
        return {
            "title": _("Certificate of completion"),
            "certify": _("This is to certify that"),
            "completed": _("has completed the programme"),
            "dates": _("Dates"),
            "hours": _("Hours"),
            "verify": _("Check this certificate in the bot with the code or the QR code:"),
        }


def content_of(
    certificate: Certificate,
    programme_title_en: str,
    organisation: str,
    username: str | None,
) -> CertificateContent:
    """What the certificate's page says, from its record."""
    locale = certificate.language or "en"
    return CertificateContent(
        holder_name=certificate.holder_name,
        programme_title=certificate.programme_title,
        programme_title_en=programme_title_en,
        dates=date_span(certificate.starts_on, certificate.ends_on, locale),
        dates_en=date_span(certificate.starts_on, certificate.ends_on, "en"),
        hours=hours_text(certificate.hours),
        organisation=organisation,
        code=codes.shown(certificate.code),
        link=verify_link(username, certificate.code),
        issued_at=certificate.issued_at,
        rtl=locale in RTL_LOCALES,
        labels=_labels(locale),
        labels_en=_labels("en"),
    )


async def cohort_hours(session: AsyncSession, cohort_id: int, now: datetime) -> float:
    """The hours of the cohort's held, not cancelled, sessions (timed ones only)."""
    held = await held_sessions(session, cohort_id, now)
    seconds = sum(max((row.ends_at - row.starts_at).total_seconds(), 0) for row in held)
    return round(seconds / 3600, 1)


@dataclass
class IssuePlan:
    """What issuing to a cohort does (or did): names of those issued, skipped, refused."""

    cohort_code: str
    issue: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    #: (name, why not)
    refused: list[tuple[str, str]] = field(default_factory=list)
    queued: int = 0
    codes: dict[str, str] = field(default_factory=dict)
    #: The cohort's programme (whose organisers may issue) and the plan's digest.
    programme_id: int = 0
    token: str = ""
    #: Whether the cohort has ended (before, those issued met every part so far).
    ended: bool = True


class IssueError(Exception):
    """Issuing cannot start (no such cohort); ``str()`` says why."""


class PlanChanged(IssueError):
    """The cohort's plan is no longer the one confirmed; nothing was issued."""


#: One issue at a time per cohort (by id) in this process, per event loop.
_cohort_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _cohort_lock(cohort_id: int) -> asyncio.Lock:
    locks = _cohort_locks.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(cohort_id, asyncio.Lock())


def plan_token(
    trainee_ids: list[int], completed: Collection[int], issued: dict[int, Certificate]
) -> str:
    """A short digest of who completed, who did not, and each certificate's version: any
    completion, issue or re-issue in the cohort changes it."""
    parts = sorted(
        f"{user_id}:{int(user_id in completed)}:"
        f"{issued[user_id].version if user_id in issued else 0}"
        for user_id in trainee_ids
    )
    return hashlib.sha256(",".join(parts).encode()).hexdigest()[:12]


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = codes.new_code()
        if not await certificates_db.code_taken(session, code):
            return code


def _caption(locale: str, title: str) -> str:
    with use_locale(locale):
        return _("Your certificate of completion: {programme}").format(programme=h(title))[:1024]


def _file_name(cohort: Cohort, code: str) -> str:
    return f"certificate-{cohort.code}-{code}.pdf"[:128]


async def issue(
    session: AsyncSession,
    settings: Settings,
    cohort_code: str,
    now: datetime,
    *,
    dry_run: bool = False,
    reissue: bool = False,
    sender: Waker | None = None,
    expected: str | None = None,
    on_start: Callable[[IssuePlan], Awaitable[None]] | None = None,
) -> IssuePlan:
    """Issue certificates to the cohort's trainees who completed; commits unless ``dry_run``.

    With ``expected`` (the token of the plan someone confirmed), raises :class:`PlanChanged`
    and issues nothing when the plan is no longer that one. ``on_start`` hears the plan once
    it is checked, before the rendering (which takes a while). Refusals are in the current
    locale.
    """
    cohort = await timetable_db.cohort_by_code(session, cohort_code)
    if cohort is None or cohort.id is None:
        raise IssueError(_("There is no cohort {code}.").format(code=cohort_code))
    if dry_run:
        return await _issue(session, settings, cohort, now, True, reissue, sender, expected, None)
    async with _cohort_lock(cohort.id):
        return await _issue(
            session, settings, cohort, now, False, reissue, sender, expected, on_start
        )


async def _issue(
    session: AsyncSession,
    settings: Settings,
    cohort: Cohort,
    now: datetime,
    dry_run: bool,
    reissue: bool,
    sender: Waker | None,
    expected: str | None,
    on_start: Callable[[IssuePlan], Awaitable[None]] | None,
) -> IssuePlan:
    assert cohort.id is not None
    pair = await timetable_db.cohort_with_programme(session, cohort.id)
    assert pair is not None
    programme: Programme = pair[1]
    standing = await eligibility(session, cohort.id, now)
    completed = standing.completed
    issued = await certificates_db.of_cohort(session, cohort.id)
    trainees = await attendance_db.cohort_trainees(session, cohort.id)
    plan = IssuePlan(
        cohort_code=cohort.code,
        programme_id=programme.id or 0,
        token=plan_token([t.user_id for t in trainees], completed, issued),
        ended=standing.ended,
    )
    if expected is not None and expected != plan.token:
        await session.rollback()
        raise PlanChanged(
            _("The certificates of {code} have changed since the preview.").format(
                code=plan.cohort_code
            )
        )
    hours = await cohort_hours(session, cohort.id, now)
    username = await bot_username(session, settings)
    envelopes: list[Envelope] = []
    made: list[tuple[Certificate, CertificateContent, str]] = []
    for trainee in trainees:
        if trainee.user_id not in completed:
            why = standing.refused.get(trainee.user_id) or _("did not complete the programme")
            plan.refused.append((trainee.name, why))
            continue
        existing = issued.get(trainee.user_id)
        if existing is not None and not reissue:
            plan.already.append(trainee.name)
            continue
        plan.issue.append(trainee.name)
        if dry_run:
            continue
        user = await users_db.get_user(session, trainee.user_id)
        locale = people.locale_of(
            user, user.language_code if user else None, programme.default_locale
        )
        title = pick_title(programme.titles, locale, programme.default_locale)
        if existing is None:
            certificate = Certificate(
                code=await _new_code(session),
                user_id=trainee.user_id,
                cohort_id=cohort.id,
                holder_name=trainee.name,
                programme_title=title,
                issued_at=now,
            )
        else:
            certificate = existing
            certificate.version += 1
            certificate.holder_name = trainee.name
            certificate.programme_title = title
            certificate.status = CertificateStatus.VALID
            certificate.revoked_at = None
            certificate.revoke_reason = None
            certificate.issued_at = now
        certificate.starts_on = cohort.starts_on or programme.starts_on
        certificate.ends_on = cohort.ends_on or programme.ends_on
        certificate.hours = hours
        certificate.language = locale
        certificate.exception = completed[trainee.user_id]
        content = content_of(
            certificate,
            pick_title(programme.titles, "en", "en"),
            settings.organisation_name,
            username,
        )
        certificate.file_name = _file_name(cohort, certificate.code)
        certificate.file_id = None
        plan.codes[trainee.name] = codes.shown(certificate.code)
        made.append((certificate, content, _caption(locale, title)))
    if on_start is not None and not dry_run:
        await on_start(plan)
    # One batch: the fonts are prepared once for every page (see render_many).
    pdfs = await render_many_async([content for _c, content, _caption_ in made])
    for (certificate, _content, caption), pdf in zip(made, pdfs, strict=True):
        certificate.pdf = pdf
        session.add(certificate)
        await session.flush()
        assert certificate.id is not None
        assert certificate.user_id is not None
        envelopes.append(
            Envelope(
                chat_id=certificate.user_id,
                user_id=certificate.user_id,
                kind="certificate",
                dedupe_key=f"certificate:{certificate.id}:{certificate.version}",
                due_at=now,
                payload={"certificate_id": certificate.id, "caption": caption},
            )
        )
    if dry_run:
        await session.rollback()
        return plan
    plan.queued = await enqueue(session, envelopes, now)
    await session.commit()
    if sender is not None and plan.queued:
        sender.wake()
    return plan


class RevokeError(Exception):
    """The certificate cannot be revoked; ``str()`` says why."""


async def revoke(
    session: AsyncSession,
    settings: Settings,
    code_text: str,
    reason: str,
    now: datetime,
    sender: Waker | None = None,
) -> Certificate:
    """Revoke the certificate with this code and tell its holder; commits."""
    reason = " ".join(reason.split())
    if not reason:
        raise RevokeError(_("Say why the certificate is revoked."))
    code = codes.normalise(code_text)
    if code is None:
        raise RevokeError(_("{code} is not a certificate code.").format(code=code_text))
    certificate = await certificates_db.by_code(session, code)
    if certificate is None:
        raise RevokeError(_("There is no certificate {code}.").format(code=codes.shown(code)))
    if certificate.status == CertificateStatus.REVOKED:
        raise RevokeError(
            _("Certificate {code} is already revoked.").format(code=codes.shown(code))
        )
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    certificate.revoke_reason = reason[:512]
    session.add(certificate)
    if certificate.user_id is not None:
        user = await users_db.get_user(session, certificate.user_id)
        locale = certificate.language or people.locale_of(
            user, user.language_code if user else None, settings.default_locale
        )
        with use_locale(locale):
            text = _(
                "Your certificate {code} ({programme}) has been revoked. Reason: {reason}"
            ).format(
                code=codes.shown(code), programme=h(certificate.programme_title), reason=h(reason)
            )
        await enqueue(
            session,
            [
                Envelope(
                    chat_id=certificate.user_id,
                    user_id=certificate.user_id,
                    kind="certificate_revoked",
                    dedupe_key=f"certificate-revoked:{certificate.id}:{certificate.version}",
                    due_at=now,
                    payload={"text": text[:4096]},
                )
            ],
            now,
        )
    await session.commit()
    if sender is not None:
        sender.wake()
    return certificate


async def certificate_by_code(session: AsyncSession, code_text: str) -> Certificate | None:
    """The certificate with this code as typed (any case, with or without the dash)."""
    code = codes.normalise(code_text)
    return None if code is None else await certificates_db.by_code(session, code)


async def programme_of(session: AsyncSession, certificate: Certificate) -> int | None:
    """The id of the programme the certificate's cohort belongs to (None: cohort gone)."""
    if certificate.cohort_id is None:
        return None
    pair = await timetable_db.cohort_with_programme(session, certificate.cohort_id)
    return None if pair is None else pair[1].id


async def certificates_of(session: AsyncSession, user_id: int) -> list[Certificate]:
    """A person's certificates, newest first."""
    return list(await certificates_db.of_user(session, user_id))


async def remember_file_id(session: AsyncSession, certificate_id: int, file_id: str) -> None:
    """Keep the file id Telegram gave a certificate's document; commits."""
    await certificates_db.set_file_id(session, certificate_id, file_id)
    await session.commit()


def revoked_text(certificate: Certificate, locale: str) -> str:
    """A trainee's certificate was revoked: what /certificate says."""
    when = certificate.revoked_at.date() if certificate.revoked_at else None
    return _("Your certificate {code} ({programme}) was revoked on {date}.").format(
        code=codes.shown(certificate.code),
        programme=h(certificate.programme_title),
        date=date_span(when, None, locale),
    )

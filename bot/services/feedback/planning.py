"""When forms go out, when they are nudged and when they close: the planner's side of feedback.

A job calls :func:`plan_feedback` every few minutes. It

1. writes a **request** for every trainee of a cohort for each occasion a form follows (a
   session of the named kinds or keys that ended, or the cohort's last session), opening
   ``delay_minutes`` after the session ends, moved out of the reader's night to their morning,
   and queues the form's message for that time (outbox key ``fb:<request>:form``);
2. opens the requests whose time came, and sets their first nudge;
3. nudges those who have not answered: at most ``form.nudges`` times, ``nudge_every_hours``
   apart, each in the reader's daytime, never after the form closes, never to someone who
   withdrew (their request is cancelled) or whom Telegram no longer lets us reach;
4. closes requests past their time (unanswered ones end ``closed``).

A trainee who joined a cohort after a session ended is not asked about it. Everything is
idempotent: a request is unique per (form, person, occasion), a message per dedupe key.
Nothing here sends; rows go to the outbox, each in its reader's language and time zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db import outbox as outbox_db
from bot.db import timetable as timetable_db
from bot.db.feedback import FeedbackForm, FeedbackRequest, FormTrigger, Recipient, RequestStatus
from bot.db.models import Cohort, Programme, TrainingSession
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import gettext as _
from bot.i18n import ngettext, use_locale
from bot.markup import h
from bot.services.feedback.texts import form_title
from bot.services.reminders import daytime_from, in_quiet_hours
from bot.services.timetable.views import Viewer, pick_title, viewer_locale, when_text

#: Forms are written this long before they open, so the sender has them queued in time.
DEFAULT_LEAD: Final = timedelta(hours=1)
FORM_KIND: Final = "feedback_form"
NUDGE_KIND: Final = "feedback_nudge"
#: No nudge this close to the form's closing: it could not be answered in time anyway.
NUDGE_BEFORE_CLOSE: Final = timedelta(hours=1)
#: Roughly how long one question takes, for the "about N minutes" line.
SECONDS_PER_QUESTION: Final = 25


def start_data(request_id: int) -> str:
    """The callback data of a form's Start button (``fb:s:<request>``)."""
    return f"fb:s:{request_id}"


def message_key(request_id: int, what: str) -> str:
    """The outbox key of a request's message: ``form`` or ``n1``, ``n2`` for nudges."""
    return f"fb:{request_id}:{what}"


def keys_prefix(request_id: int) -> str:
    """The prefix every outbox key of one request starts with."""
    return f"fb:{request_id}:"


@dataclass(frozen=True, slots=True)
class _Occasion:
    form: FeedbackForm
    cohort: Cohort
    programme: Programme
    key: str
    ends_at: datetime
    row: TrainingSession | None


@dataclass(slots=True)
class PlanResult:
    """What one planning run did."""

    created: int = 0
    opened: int = 0
    nudged: int = 0
    closed: int = 0
    cancelled: int = 0

    @property
    def queued(self) -> int:
        """Messages written to the outbox (forms and nudges)."""
        return self.created + self.nudged


def _viewer(recipient: Recipient | None, programme: Programme, locale: str) -> Viewer:
    zone = recipient.timezone if recipient is not None else None
    return Viewer(locale, zone, programme.home_timezone, programme.default_locale)


def _locale_of(recipient: Recipient, programme: Programme) -> str:
    return viewer_locale(recipient.locale, recipient.language_code, programme.default_locale)


def about_line(row: TrainingSession | None, viewer: Viewer) -> str:
    """ "About: Opening lecture, Mon 8 Mar, 09:00" or "About the whole programme"."""
    if row is None:
        return _("About the whole programme.")
    title = pick_title(row.titles, viewer.locale, viewer.default_locale)
    return _("About: {title}, {when}").format(
        title=h(title), when=when_text(row.starts_at, row.all_day, viewer)
    )


def form_message(
    form: FeedbackForm,
    row: TrainingSession | None,
    viewer: Viewer,
    closes_at: datetime,
    request_id: int,
) -> dict[str, object]:
    """The form's first message (in the current locale): what it is about, how long, Start."""
    count = len(form.questions)
    minutes = max(1, round(count * SECONDS_PER_QUESTION / 60))
    lines = [
        f"📝 <b>{h(form_title(form, viewer.locale, viewer.default_locale))}</b>",
        about_line(row, viewer),
        ngettext("{count} question", "{count} questions", count).format(count=count)
        + " · "
        + ngettext("about {n} minute", "about {n} minutes", minutes).format(n=minutes),
        _("Open until {when}.").format(when=when_text(closes_at, False, viewer)),
    ]
    if form.anonymous:
        lines.append(_("Your answers are anonymous: they are kept without your name."))
    return {
        "text": "\n".join(lines),
        "buttons": [[{"text": "▶ " + _("Start"), "callback_data": start_data(request_id)}]],
    }


def nudge_message(
    form: FeedbackForm, row: TrainingSession | None, viewer: Viewer, request: FeedbackRequest
) -> dict[str, object]:
    """A reminder to someone who has not answered yet (in the current locale)."""
    lines = [
        "🔔 "
        + _("We would still like your view: <b>{title}</b>").format(
            title=h(form_title(form, viewer.locale, viewer.default_locale))
        ),
        about_line(row, viewer),
        _("Open until {when}.").format(when=when_text(request.closes_at, False, viewer)),
    ]
    label = _("Continue") if request.draft else _("Answer now")
    return {
        "text": "\n".join(lines),
        "buttons": [[{"text": "▶ " + label, "callback_data": start_data(request.id or 0)}]],
    }


def _matches(form: FeedbackForm, row: TrainingSession) -> bool:
    values = {value.strip().lower() for value in form.trigger_values}
    if form.trigger == FormTrigger.AFTER_KIND:
        return (row.kind or "").strip().lower() in values
    if form.trigger == FormTrigger.AFTER_SESSIONS:
        return row.key.strip().lower() in values or str(row.id) in values
    return False


async def _occasions(
    session: AsyncSession, forms: list[FeedbackForm], now: datetime, lead: timedelta
) -> list[_Occasion]:
    by_programme: dict[int, list[FeedbackForm]] = defaultdict(list)
    for form in forms:
        by_programme[form.programme_id].append(form)
    cohorts = await feedback_db.cohorts_of_programmes(session, by_programme)
    pairs = await timetable_db.programmes_of_cohorts(session, [c.id for c in cohorts if c.id])
    found: list[_Occasion] = []
    for form in forms:
        delay = timedelta(minutes=form.delay_minutes)
        # A session ending in this window opens its form by the lead, and is not stale yet.
        start = now - delay - timedelta(hours=form.open_hours)
        end = now + lead - delay
        ids = [c.id for c in cohorts if c.id and c.programme_id == form.programme_id]
        if form.trigger == FormTrigger.END:
            for cohort_id, last in (await feedback_db.last_session_ends(session, ids)).items():
                if start <= last < end and cohort_id in pairs:
                    cohort, programme = pairs[cohort_id]
                    key = feedback_db.end_occasion(cohort_id)
                    found.append(_Occasion(form, cohort, programme, key, last, None))
            continue
        for row in await feedback_db.sessions_ended_between(session, ids, start, end):
            if row.id is None or row.cohort_id not in pairs or not _matches(form, row):
                continue
            cohort, programme = pairs[row.cohort_id]
            key = feedback_db.session_occasion(row.id)
            found.append(_Occasion(form, cohort, programme, key, row.ends_at, row))
    return found


async def _create_requests(session: AsyncSession, now: datetime, lead: timedelta) -> int:
    forms = [form for form in await feedback_db.all_forms(session) if form.questions]
    if not forms:
        return 0
    occasions = await _occasions(session, forms, now, lead)
    if not occasions:
        return 0
    cohort_ids = {occasion.cohort.id for occasion in occasions if occasion.cohort.id}
    people: dict[int, list[Recipient]] = defaultdict(list)
    for recipient in await feedback_db.recipients_of_cohorts(session, cohort_ids):
        people[recipient.cohort_id].append(recipient)

    created: list[tuple[FeedbackRequest, _Occasion, Recipient]] = []
    for occasion in occasions:
        form = occasion.form
        assert form.id is not None
        assert occasion.cohort.id is not None
        known = await feedback_db.existing_occasions(session, form.id, [occasion.key])
        for recipient in people.get(occasion.cohort.id, []):
            if (recipient.user_id, occasion.key) in known:
                continue
            if occasion.row is not None and recipient.enrolled_at > occasion.ends_at:
                continue
            zone = recipient.timezone or occasion.programme.home_timezone
            opens = daytime_from(occasion.ends_at + timedelta(minutes=form.delay_minutes), zone)
            if opens > now + lead:
                continue  # a later run writes it, with whatever is true by then
            request = FeedbackRequest(
                form_id=form.id,
                cohort_id=occasion.cohort.id,
                session_id=occasion.row.id if occasion.row is not None else None,
                occasion=occasion.key,
                user_id=recipient.user_id,
                status=RequestStatus.PLANNED,
                opens_at=opens,
                closes_at=opens + timedelta(hours=form.open_hours),
                created_at=now,
                updated_at=now,
            )
            session.add(request)
            created.append((request, occasion, recipient))
    if not created:
        return 0
    await session.flush()
    envelopes = []
    for request, occasion, recipient in created:
        assert request.id is not None
        zone = recipient.timezone or occasion.programme.home_timezone
        locale = _locale_of(recipient, occasion.programme)
        with use_locale(locale):
            payload = form_message(
                occasion.form,
                occasion.row,
                _viewer(recipient, occasion.programme, locale),
                request.closes_at,
                request.id,
            )
        envelopes.append(
            Envelope(
                chat_id=recipient.user_id,
                user_id=recipient.user_id,
                kind=FORM_KIND,
                dedupe_key=message_key(request.id, "form"),
                due_at=request.opens_at if request.opens_at >= now else daytime_from(now, zone),
                not_after=request.closes_at,
                payload=payload,
            )
        )
    return await enqueue(session, envelopes, now)


def _next_nudge(
    form: FeedbackForm, after: datetime, request: FeedbackRequest, zone: str
) -> datetime | None:
    if request.nudges_sent >= form.nudges:
        return None
    due = daytime_from(after + timedelta(hours=form.nudge_every_hours), zone)
    return due if due < request.closes_at - NUDGE_BEFORE_CLOSE else None


@dataclass(frozen=True, slots=True)
class _Context:
    """What a batch of requests needs, read in a handful of queries whatever its size."""

    forms: dict[int, FeedbackForm]
    pairs: dict[int, tuple[Cohort, Programme]]
    recipients: dict[tuple[int, int], Recipient]
    #: (cohort, person) still active in the cohort, reachable or not.
    active: set[tuple[int, int]]
    sessions: dict[int, TrainingSession]

    def still_enrolled(self, request: FeedbackRequest) -> bool:
        """Whether the person is still active in the request's cohort."""
        return request.user_id is not None and (request.cohort_id, request.user_id) in self.active


async def _context(
    session: AsyncSession, requests: list[FeedbackRequest], *, with_sessions: bool = False
) -> _Context:
    forms = {}
    for form_id in {request.form_id for request in requests}:
        form = await feedback_db.get_form(session, form_id)
        if form is not None:
            forms[form_id] = form
    cohort_ids = {request.cohort_id for request in requests}
    pairs = await timetable_db.programmes_of_cohorts(session, cohort_ids)
    user_ids = {request.user_id for request in requests if request.user_id is not None}
    recipients = {
        (r.cohort_id, r.user_id): r
        for r in await feedback_db.recipients_of_cohorts(session, cohort_ids, user_ids=user_ids)
    }
    active = await feedback_db.active_members(session, cohort_ids, user_ids)
    session_ids = {r.session_id for r in requests if r.session_id is not None}
    sessions = await feedback_db.sessions_by_id(session, session_ids) if with_sessions else {}
    return _Context(forms, pairs, recipients, active, sessions)


async def _open_due(session: AsyncSession, now: datetime, result: PlanResult) -> None:
    requests = await feedback_db.due_to_open(session, now)
    if not requests:
        return
    context = await _context(session, requests)
    pairs = context.pairs
    for request in requests:
        form = context.forms.get(request.form_id)
        recipient = context.recipients.get((request.cohort_id, request.user_id or 0))
        if form is None or request.cohort_id not in pairs:
            continue
        if recipient is None and not context.still_enrolled(request):
            request.status = RequestStatus.CANCELLED
            result.cancelled += 1
        else:
            request.status = RequestStatus.OPEN
            zone = (recipient.timezone if recipient else None) or pairs[request.cohort_id][
                1
            ].home_timezone
            request.next_nudge_at = _next_nudge(form, request.opens_at, request, zone)
            result.opened += 1
        request.updated_at = now
        session.add(request)


async def _nudge_due(session: AsyncSession, now: datetime, result: PlanResult) -> None:
    requests = await feedback_db.due_for_nudge(session, now)
    if not requests:
        return
    context = await _context(session, requests, with_sessions=True)
    pairs = context.pairs
    envelopes = []
    for request in requests:
        form = context.forms.get(request.form_id)
        if form is None or request.cohort_id not in pairs or request.id is None:
            continue
        _cohort, programme = pairs[request.cohort_id]
        recipient = context.recipients.get((request.cohort_id, request.user_id or 0))
        request.updated_at = now
        session.add(request)
        if recipient is None:
            # Withdrawn: nothing more for them. Unreachable: no nudge, the form stays listed.
            if not context.still_enrolled(request):
                request.status = RequestStatus.CANCELLED
                result.cancelled += 1
            request.next_nudge_at = None
            continue
        zone = recipient.timezone or programme.home_timezone
        if in_quiet_hours(now, zone):
            # The run came a little after the nudge's time and the reader's night began.
            request.next_nudge_at = daytime_from(now, zone)
            continue
        request.nudges_sent += 1
        request.next_nudge_at = _next_nudge(form, now, request, zone)
        locale = _locale_of(recipient, programme)
        row = context.sessions.get(request.session_id) if request.session_id is not None else None
        with use_locale(locale):
            payload = nudge_message(form, row, _viewer(recipient, programme, locale), request)
        envelopes.append(
            Envelope(
                chat_id=recipient.user_id,
                user_id=recipient.user_id,
                kind=NUDGE_KIND,
                dedupe_key=message_key(request.id, f"n{request.nudges_sent}"),
                due_at=now,
                not_after=request.closes_at,
                payload=payload,
            )
        )
    result.nudged += await enqueue(session, envelopes, now)


async def _close_due(session: AsyncSession, now: datetime, result: PlanResult) -> None:
    for request in await feedback_db.due_to_close(session, now):
        request.status = RequestStatus.CLOSED
        request.next_nudge_at = None
        request.updated_at = now
        session.add(request)
        if request.id is not None:
            await outbox_db.cancel_pending(session, key_prefix=keys_prefix(request.id))
        result.closed += 1


async def plan_feedback(
    session: AsyncSession, now: datetime, *, lead: timedelta = DEFAULT_LEAD
) -> PlanResult:
    """One planning run (see the module's docstring); commits."""
    result = PlanResult()
    result.created = await _create_requests(session, now, lead)
    await _open_due(session, now, result)
    await _close_due(session, now, result)
    await _nudge_due(session, now, result)
    await session.commit()
    return result


async def cancel_for_withdrawal(session: AsyncSession, user_id: int, cohort_id: int) -> int:
    """A person left a cohort: their unanswered forms of it are cancelled (flushes only)."""
    requests = await feedback_db.requests_of_cohort(session, cohort_id)
    cancelled = 0
    for request in requests:
        if request.user_id == user_id and request.status in (
            RequestStatus.PLANNED,
            RequestStatus.OPEN,
        ):
            request.status = RequestStatus.CANCELLED
            request.next_nudge_at = None
            session.add(request)
            if request.id is not None:
                await outbox_db.cancel_pending(session, key_prefix=keys_prefix(request.id))
            cancelled += 1
    await session.flush()
    return cancelled

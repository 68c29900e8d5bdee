"""Answering a form in Telegram: one question at a time, Back, Skip, typed answers, changes.

Every step is checked against the request: it must be the person's own (a forwarded button
pressed by someone else changes nothing), still open, and on the question the button was
made for (a stale button re-shows the current question). Answers go to the request's draft
as they come; after the last question the form is submitted. A named form can be changed
while it is open (the response is updated in place); an anonymous one is stored without the
person and can no longer be changed, which the trainee is told before they start.

Callback data (under 64 bytes): ``fb:s:<request>`` start or continue, ``fb:a:<request>:<q>:<v>``
an answer, ``fb:t:<request>:<q>:<option>`` a toggle of a multi question, ``fb:d:<request>:<q>``
done with it, ``fb:k:<request>:<q>`` skip, ``fb:b:<request>:<q>`` back, ``fb:p:<request>`` stop
for now.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from weakref import WeakKeyDictionary

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db import outbox as outbox_db
from bot.db import timetable as timetable_db
from bot.db.feedback import (
    FeedbackForm,
    FeedbackRequest,
    FeedbackResponse,
    QuestionKind,
    RequestStatus,
)
from bot.db.models import Programme
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.feedback.planning import about_line, keys_prefix, start_data
from bot.services.feedback.texts import answer_label, form_title, question_options, question_text
from bot.services.text_cleaning import clean_line
from bot.services.timetable.views import Viewer, viewer_locale, when_text

#: The longest typed answer kept.
MAX_TEXT: Final = 2000
#: Requests a trainee can still open from /feedback.
UNSETTLED: Final = (RequestStatus.OPEN, RequestStatus.ANSWERED)

Buttons = list[list[dict[str, str]]]


class Outcome(StrEnum):
    """What became of a step."""

    SHOWN = "shown"  # a question is shown
    DONE = "done"  # the form was submitted
    PAUSED = "paused"  # the trainee stopped for now
    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"
    LOCKED = "locked"  # an anonymous form, already in
    WANTS_BUTTON = "wants_button"  # text typed where a button was asked
    INVALID = "invalid"  # a value the question does not take


@dataclass(slots=True)
class Step:
    """What to show the trainee next."""

    outcome: Outcome
    text: str = ""
    buttons: Buttons = field(default_factory=list)
    request_id: int | None = None
    #: The question shown wants a typed answer.
    expects_text: bool = False
    #: A short line for the button's little pop-up.
    notice: str = ""
    #: Show the text in a new message below the one pressed (Start, Change), not in its place.
    below: bool = False


@dataclass(frozen=True, slots=True)
class OpenForm:
    """A form the trainee may answer (or change) now, for /feedback."""

    request_id: int
    title: str
    about: str
    answered: bool
    given: int
    total: int
    closes: str


def _data(op: str, request_id: int, *parts: object) -> str:
    return ":".join(["fb", op, str(request_id), *(str(part) for part in parts)])


class _FormCache:
    """Forms and their programmes, kept a minute per database: a press reads one row.

    A form is read on every button a trainee presses, and changes only when the organisers
    import a new file; a minute's delay before a changed form is seen costs nothing, reading
    it three times a second per answering trainee would. Held per engine, so two databases in
    one process (tests, the demo) never see each other's forms.
    """

    def __init__(self) -> None:
        self._by_engine: WeakKeyDictionary[object, dict[tuple[int, int], _Cached]] = (
            WeakKeyDictionary()
        )

    async def get(
        self, session: AsyncSession, form_id: int, cohort_id: int
    ) -> tuple[FeedbackForm, Programme] | None:
        engine = session.bind
        cache = self._by_engine.setdefault(engine, {})
        key = (form_id, cohort_id)
        hit = cache.get(key)
        moment = time.monotonic()
        if hit is not None and hit[0] > moment:
            return hit[1], hit[2]
        form = await feedback_db.get_form(session, form_id)
        pairs = await timetable_db.programmes_of_cohorts(session, [cohort_id])
        if form is None or cohort_id not in pairs:
            cache.pop(key, None)
            return None
        if len(cache) > FORM_CACHE_SIZE:
            cache.clear()
        cache[key] = (moment + FORM_CACHE_SECONDS, form, pairs[cohort_id][1])
        return form, pairs[cohort_id][1]


_Cached = tuple[float, FeedbackForm, Programme]
#: How long a form is read from memory, and how many are kept per database.
FORM_CACHE_SECONDS: Final = 60.0
FORM_CACHE_SIZE: Final = 512
_forms = _FormCache()


async def _load(
    session: AsyncSession, request_id: int
) -> tuple[FeedbackRequest, FeedbackForm, Programme] | None:
    request = await feedback_db.get_request(session, request_id)
    if request is None:
        return None
    found = await _forms.get(session, request.form_id, request.cohort_id)
    if found is None:
        return None
    return request, found[0], found[1]


def _check(request: FeedbackRequest, user_id: int, now: datetime, viewer: Viewer) -> Step | None:
    if request.user_id != user_id:
        return Step(Outcome.NOT_YOURS, notice=_("This form is someone else's."))
    if request.status in (RequestStatus.CLOSED, RequestStatus.CANCELLED) or (
        now >= request.closes_at
    ):
        return Step(
            Outcome.CLOSED,
            notice=_("This form closed on {when}.").format(
                when=when_text(request.closes_at, False, viewer)
            ),
        )
    if request.status == RequestStatus.PLANNED and now < request.opens_at:
        return Step(Outcome.NOT_OPEN_YET, notice=_("This form is not open yet."))
    return None


def _viewer_for(locale: str, zone: str | None, programme: Programme) -> Viewer:
    return Viewer(locale, zone, programme.home_timezone, programme.default_locale)


def render_question(
    request: FeedbackRequest, form: FeedbackForm, viewer: Viewer, *, notice: str = ""
) -> Step:
    """The question the request is on, with its buttons (in the current locale)."""
    assert request.id is not None
    index = min(request.cursor, len(form.questions) - 1)
    question = form.questions[index]
    locale, default = viewer.locale, viewer.default_locale
    kind = question.get("kind")
    current = request.draft.get(str(question["id"]))
    lines = [
        f"📝 <b>{h(form_title(form, locale, default))}</b> · "
        + _("{n} of {total}").format(n=index + 1, total=len(form.questions)),
        "",
        f"<b>{h(question_text(question, locale, default))}</b>",
    ]
    rid = request.id
    buttons: Buttons = []
    expects_text = False
    if kind == QuestionKind.RATING:
        buttons.append(
            [
                {
                    "text": ("✅ " if current == v else "") + f"{v} ⭐",
                    "callback_data": _data("a", rid, index, v),
                }
                for v in range(1, 6)
            ]
        )
        lines.append(_("1 = poor, 5 = excellent"))
    elif kind == QuestionKind.NPS:
        values = list(range(11))
        for chunk in (values[:6], values[6:]):
            buttons.append(
                [
                    {
                        "text": ("✅" if current == v else "") + str(v),
                        "callback_data": _data("a", rid, index, v),
                    }
                    for v in chunk
                ]
            )
        lines.append(_("0 = not at all likely, 10 = extremely likely"))
    elif kind == QuestionKind.CHOICE:
        for position, option in enumerate(question_options(question, locale, default)):
            mark = "✅ " if current == position else ""
            buttons.append(
                [{"text": mark + option, "callback_data": _data("a", rid, index, position)}]
            )
    elif kind == QuestionKind.MULTI:
        chosen = set(current or [])
        for position, option in enumerate(question_options(question, locale, default)):
            mark = "☑️ " if position in chosen else "⬜ "
            buttons.append(
                [{"text": mark + option, "callback_data": _data("t", rid, index, position)}]
            )
        buttons.append([{"text": "✔ " + _("Done"), "callback_data": _data("d", rid, index)}])
        lines.append(_("Choose all that apply, then press Done."))
    else:
        expects_text = True
        lines.append(_("Type your answer as a message."))
        if isinstance(current, str) and current:
            lines.append(_("Your answer so far: {text}").format(text=h(current[:300])))
    footer: list[dict[str, str]] = []
    if index > 0:
        footer.append({"text": "◀ " + _("Back"), "callback_data": _data("b", rid, index)})
    if question.get("skip"):
        footer.append({"text": _("Skip") + " ▶", "callback_data": _data("k", rid, index)})
    elif current is not None and kind != QuestionKind.MULTI:
        footer.append({"text": _("Keep") + " ▶", "callback_data": _data("k", rid, index)})
    footer.append({"text": "⏸ " + _("Later"), "callback_data": _data("p", rid)})
    buttons.append(footer)
    if notice:
        lines.extend(["", notice])
    return Step(
        Outcome.SHOWN,
        text="\n".join(lines),
        buttons=buttons,
        request_id=rid,
        expects_text=expects_text,
    )


def _summary(form: FeedbackForm, answers: dict[str, Any], viewer: Viewer) -> list[str]:
    lines = []
    for question in form.questions:
        value = answers.get(str(question["id"]))
        lines.append(
            "• "
            + h(question_text(question, viewer.locale, viewer.default_locale))
            + ": "
            + h(answer_label(question, value, viewer.locale, viewer.default_locale))
        )
    return lines


async def _submit(
    session: AsyncSession,
    request: FeedbackRequest,
    form: FeedbackForm,
    viewer: Viewer,
    now: datetime,
) -> Step:
    assert request.id is not None
    answers = dict(request.draft)
    if form.anonymous:
        session.add(
            FeedbackResponse(
                form_id=form.id or 0,
                cohort_id=request.cohort_id,
                session_id=request.session_id,
                answers=answers,
                submitted_at=now,
                updated_at=now,
            )
        )
        request.draft = {}
    else:
        response = await feedback_db.response_of_request(session, request.id)
        if response is None:
            response = FeedbackResponse(
                form_id=form.id or 0,
                cohort_id=request.cohort_id,
                session_id=request.session_id,
                request_id=request.id,
                user_id=request.user_id,
                submitted_at=now,
            )
        response.answers = answers
        response.updated_at = now
        session.add(response)
    first_time = request.status != RequestStatus.ANSWERED
    request.status = RequestStatus.ANSWERED
    request.answered_at = request.answered_at or now
    request.next_nudge_at = None
    request.cursor = 0
    request.updated_at = now
    session.add(request)
    await outbox_db.cancel_pending(session, key_prefix=keys_prefix(request.id))
    await session.commit()
    title = form_title(form, viewer.locale, viewer.default_locale)
    lines = [
        "✅ "
        + (
            _("Thank you! Your answers to <b>{title}</b> are in.")
            if first_time
            else _("Your changed answers to <b>{title}</b> are saved.")
        ).format(title=h(title)),
    ]
    buttons: Buttons = []
    if form.anonymous:
        lines.append(_("They were stored without your name."))
    else:
        lines.extend(["", *_summary(form, answers, viewer)])
        lines.append("")
        lines.append(
            _("You can change them until {when}.").format(
                when=when_text(request.closes_at, False, viewer)
            )
        )
        buttons.append(
            [{"text": "✏️ " + _("Change answers"), "callback_data": start_data(request.id)}]
        )
    return Step(Outcome.DONE, text="\n".join(lines), buttons=buttons, request_id=request.id)


async def _advance(
    session: AsyncSession,
    request: FeedbackRequest,
    form: FeedbackForm,
    viewer: Viewer,
    now: datetime,
) -> Step:
    request.cursor += 1
    request.updated_at = now
    session.add(request)
    if request.cursor >= len(form.questions):
        return await _submit(session, request, form, viewer, now)
    if request.status == RequestStatus.PLANNED:
        request.status = RequestStatus.OPEN
    await session.commit()
    return render_question(request, form, viewer)


async def _prepare(
    session: AsyncSession,
    request_id: int,
    user_id: int,
    now: datetime,
    locale: str,
    zone: str | None,
) -> tuple[FeedbackRequest, FeedbackForm, Viewer] | Step:
    loaded = await _load(session, request_id)
    if loaded is None:
        return Step(Outcome.NOT_FOUND, notice=_("This form no longer exists."))
    request, form, programme = loaded
    viewer = _viewer_for(locale, zone, programme)
    failed = _check(request, user_id, now, viewer)
    if failed is not None:
        return failed
    if not form.questions:
        return Step(Outcome.NOT_FOUND, notice=_("This form no longer exists."))
    return request, form, viewer


async def start(
    session: AsyncSession,
    request_id: int,
    user_id: int,
    now: datetime,
    *,
    locale: str,
    zone: str | None,
) -> Step:
    """Start, continue or change a form: the current question (the first when changing)."""
    prepared = await _prepare(session, request_id, user_id, now, locale, zone)
    if isinstance(prepared, Step):
        return prepared
    request, form, viewer = prepared
    if request.status == RequestStatus.ANSWERED:
        if form.anonymous:
            return Step(
                Outcome.LOCKED,
                notice=_("Your anonymous answers are in; they cannot be changed."),
            )
        response = await feedback_db.response_of_request(session, request.id or 0)
        request.draft = dict(response.answers) if response is not None else {}
        request.cursor = 0
    if request.status == RequestStatus.PLANNED:
        request.status = RequestStatus.OPEN
    request.cursor = min(request.cursor, len(form.questions) - 1)
    request.updated_at = now
    session.add(request)
    await session.commit()
    return render_question(request, form, viewer)


async def _on_question(
    session: AsyncSession,
    request_id: int,
    question_index: int,
    user_id: int,
    now: datetime,
    locale: str,
    zone: str | None,
) -> tuple[FeedbackRequest, FeedbackForm, Viewer, dict[str, Any]] | Step:
    prepared = await _prepare(session, request_id, user_id, now, locale, zone)
    if isinstance(prepared, Step):
        return prepared
    request, form, viewer = prepared
    if request.status == RequestStatus.ANSWERED and form.anonymous:
        return Step(
            Outcome.LOCKED, notice=_("Your anonymous answers are in; they cannot be changed.")
        )
    if question_index != request.cursor:
        # A button of another question: show where we are.
        return render_question(request, form, viewer, notice=_("That question was passed already."))
    return request, form, viewer, form.questions[question_index]


@dataclass(frozen=True, slots=True)
class _At:
    """A press on the question the trainee is at, checked: whose, which form, which question."""

    session: AsyncSession
    request: FeedbackRequest
    form: FeedbackForm
    viewer: Viewer
    question: dict[str, Any]
    now: datetime

    @property
    def key(self) -> str:
        return str(self.question["id"])

    def without_answer(self) -> dict[str, Any]:
        return {k: v for k, v in self.request.draft.items() if k != self.key}

    async def advance(self) -> Step:
        return await _advance(self.session, self.request, self.form, self.viewer, self.now)

    async def again(self) -> Step:
        """Store the draft and show the same question."""
        self.request.updated_at = self.now
        self.session.add(self.request)
        await self.session.commit()
        return render_question(self.request, self.form, self.viewer)


def _not_a_choice() -> Step:
    return Step(Outcome.INVALID, notice=_("That is not one of the choices."))


async def _answer(at: _At, value: int) -> Step:
    """A button answer to a rating, NPS or choice question; on to the next question."""
    kind = at.question.get("kind")
    limits = {QuestionKind.RATING: (1, 5), QuestionKind.NPS: (0, 10)}
    if kind in limits:
        low, high = limits[QuestionKind(kind)]
    elif kind == QuestionKind.CHOICE:
        options = question_options(at.question, at.viewer.locale, at.viewer.default_locale)
        low, high = 0, len(options) - 1
    else:
        return render_question(at.request, at.form, at.viewer)
    if not low <= value <= high:
        return _not_a_choice()
    at.request.draft = {**at.request.draft, at.key: value}
    return await at.advance()


async def _toggle(at: _At, option: int) -> Step:
    """Tick or untick an option of a multi question; the same question again."""
    options = question_options(at.question, at.viewer.locale, at.viewer.default_locale)
    if at.question.get("kind") != QuestionKind.MULTI or not 0 <= option < len(options):
        return _not_a_choice()
    chosen = set(at.request.draft.get(at.key) or []) ^ {option}
    at.request.draft = {**at.request.draft, at.key: sorted(chosen)}
    return await at.again()


async def _done(at: _At) -> Step:
    """Done with a multi question: nothing ticked counts as skipped when skipping is allowed."""
    if not at.request.draft.get(at.key):
        if not at.question.get("skip"):
            return Step(Outcome.INVALID, notice=_("Please choose at least one."))
        at.request.draft = at.without_answer()
    return await at.advance()


async def _skip(at: _At) -> Step:
    """Skip a question that allows it (or keep the answer already given) and go on."""
    if not at.question.get("skip"):
        if at.key not in at.request.draft:
            return Step(Outcome.INVALID, notice=_("This question needs an answer."))
    else:
        at.request.draft = at.without_answer()
    return await at.advance()


async def _back(at: _At) -> Step:
    """Back to the previous question (its answer is kept until changed)."""
    at.request.cursor = max(0, at.request.cursor - 1)
    return await at.again()


#: The buttons of a question: ``fb:<op>:<request>:<question>[:<value>]``, op → what it does.
_ON_QUESTION: Final[dict[str, Callable[..., Awaitable[Step]]]] = {
    "a": _answer,
    "t": _toggle,
    "d": _done,
    "k": _skip,
    "b": _back,
}
#: How many numbers each question button carries after the question's index.
_VALUES: Final = {"a": 1, "t": 1, "d": 0, "k": 0, "b": 0}


async def press(
    session: AsyncSession,
    data: str,
    user_id: int,
    now: datetime,
    *,
    locale: str,
    zone: str | None,
) -> Step | None:
    """A press on one of the form's buttons; None when the data is not one of ours.

    Start (``s``) and Later (``p``) carry the request only; a question's buttons also carry
    the question's index (a button of a question already passed shows where the trainee is)
    and, for an answer or a tick, the value.
    """
    parsed = parse_data(data)
    if parsed is None:
        return None
    op, request_id, numbers = parsed
    if op == "s" and not numbers:
        step = await start(session, request_id, user_id, now, locale=locale, zone=zone)
        step.below = True
        return step
    if op == "p" and not numbers:
        return await pause(session, request_id, user_id, now, locale=locale, zone=zone)
    action = _ON_QUESTION.get(op)
    if action is None or len(numbers) != 1 + _VALUES[op]:
        return None
    found = await _on_question(session, request_id, numbers[0], user_id, now, locale, zone)
    if isinstance(found, Step):
        return found
    request, form, viewer, question = found
    return await action(_At(session, request, form, viewer, question, now), *numbers[1:])


async def typed(
    session: AsyncSession,
    request_id: int,
    text: str,
    user_id: int,
    now: datetime,
    *,
    locale: str,
    zone: str | None,
) -> Step:
    """A message typed while answering: the answer to a text question, else a hint."""
    prepared = await _prepare(session, request_id, user_id, now, locale, zone)
    if isinstance(prepared, Step):
        return prepared
    request, form, viewer = prepared
    if request.status == RequestStatus.ANSWERED and form.anonymous:
        return Step(
            Outcome.LOCKED, notice=_("Your anonymous answers are in; they cannot be changed.")
        )
    question = form.questions[min(request.cursor, len(form.questions) - 1)]
    if question.get("kind") != QuestionKind.TEXT:
        step = render_question(
            request, form, viewer, notice=_("Please answer with the buttons above this line.")
        )
        step.outcome = Outcome.WANTS_BUTTON
        return step
    cleaned = clean_line(text, MAX_TEXT)
    if not cleaned:
        return render_question(request, form, viewer)
    request.draft = {**request.draft, str(question["id"]): cleaned}
    return await _advance(session, request, form, viewer, now)


async def pause(
    session: AsyncSession,
    request_id: int,
    user_id: int,
    now: datetime,
    *,
    locale: str,
    zone: str | None,
) -> Step:
    """Stop for now: the answers so far are kept; /feedback continues."""
    prepared = await _prepare(session, request_id, user_id, now, locale, zone)
    if isinstance(prepared, Step):
        return prepared
    request, _form, viewer = prepared
    return Step(
        Outcome.PAUSED,
        text=_("Saved. Continue any time before {when} with /feedback.").format(
            when=when_text(request.closes_at, False, viewer)
        ),
        request_id=request.id,
    )


async def open_forms(
    session: AsyncSession, user_id: int, now: datetime, *, locale: str, zone: str | None
) -> list[OpenForm]:
    """The forms the trainee may answer or change now, the oldest closing first."""
    requests = [
        request
        for request in await feedback_db.requests_of_user(
            session, user_id, [RequestStatus.PLANNED, *UNSETTLED]
        )
        if request.opens_at <= now < request.closes_at
    ]
    found: list[OpenForm] = []
    for request in sorted(requests, key=lambda r: r.closes_at):
        loaded = await _load(session, request.id or 0)
        if loaded is None:
            continue
        _request, form, programme = loaded
        if request.status == RequestStatus.ANSWERED and form.anonymous:
            continue
        viewer = _viewer_for(locale, zone, programme)
        row = (
            await timetable_db.get_session(session, request.session_id)
            if request.session_id is not None
            else None
        )
        found.append(
            OpenForm(
                request_id=request.id or 0,
                title=form_title(form, locale, programme.default_locale),
                about=about_line(row, viewer),
                answered=request.status == RequestStatus.ANSWERED,
                given=len(request.draft),
                total=len(form.questions),
                closes=when_text(request.closes_at, False, viewer),
            )
        )
    return found


def locale_of(user_locale: str | None, language_code: str | None, programme: Programme) -> str:
    """The language a form speaks to a person in (their choice, else Telegram's, else the
    programme's)."""
    return viewer_locale(user_locale, language_code, programme.default_locale)


def parse_data(data: str) -> tuple[str, int, Sequence[int]] | None:
    """``fb:<op>:<request>[:<n>...]`` → (op, request id, numbers), None when malformed."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != "fb":
        return None
    try:
        numbers = [int(part) for part in parts[2:]]
    except ValueError:
        return None
    return parts[1], numbers[0], numbers[1:]

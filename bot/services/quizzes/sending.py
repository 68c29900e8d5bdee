"""When quizzes open and what is sent: the planner's side of quizzes.

A job calls :func:`plan_quizzes` every few minutes. It keeps one **run** per quiz and cohort
(opening ``delay_minutes`` after the attached session's end, or the cohort's last session's,
and closing ``open_hours`` later; a run not yet open follows a moved session), and sends each
active trainee of an open run an intro (title, number of questions, until when, in their
language and time zone) and the first question as a Telegram quiz poll. The next question is
queued when the previous one is answered (:mod:`bot.services.quizzes.answering`).

Everything goes through the outbox with a dedupe key (``qz:<run>:<person>:intro``,
``...:q<n>``) and ``not_after`` the run's close, so nothing is sent twice or too late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db import quizzes as quiz_db
from bot.db import timetable as timetable_db
from bot.db.models import Programme, TrainingSession
from bot.db.quizzes import ATTACH_END, Quiz, QuizPoll, QuizRun
from bot.db.status import SessionStatus
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import gettext as _
from bot.i18n import ngettext, use_locale
from bot.markup import h
from bot.services.quizzes.library import question_in, quiz_title
from bot.services.timetable.views import Viewer, viewer_locale, when_text

INTRO_KIND: Final = "quiz_intro"
POLL_KIND: Final = "quiz_poll"
SCORE_KIND: Final = "quiz_score"


def poll_key(run_id: int, user_id: int, question: int, sends: int = 1) -> str:
    """The outbox key of one question for one person (a resend adds ``:r<n>``)."""
    base = f"qz:{run_id}:{user_id}:q{question}"
    return base if sends <= 1 else f"{base}:r{sends}"


def poll_payload(
    quiz: Quiz,
    index: int,
    locale: str,
    default_locale: str,
    *,
    run_id: int,
    user_id: int,
    sends: int = 1,
) -> dict[str, Any]:
    """One question as a ``sendPoll`` quiz payload in one language (the transport sends it),
    with what the sender needs to bind the poll's id to the question once it is sent."""
    question = quiz.questions[index]
    texts = question_in(question, locale, default_locale)
    total = len(quiz.questions)
    prefix = f"{index + 1}/{total} " if total > 1 else ""
    text = (prefix + str(texts["q"] or ""))[:300]
    poll: dict[str, Any] = {
        "question": text,
        "options": list(texts["options"] or []),
        "correct_option_id": int(question["correct"]),
    }
    if texts["explanation"]:
        poll["explanation"] = texts["explanation"]
    bind = {"run": run_id, "user": user_id, "question": index, "sends": sends}
    return {"poll": poll, "bind_poll": bind}


def intro_text(quiz: Quiz, viewer: Viewer, closes_at: datetime) -> str:
    """The message before the first question (in the current locale)."""
    count = len(quiz.questions)
    return "\n".join(
        [
            "🧠 <b>" + h(quiz_title(quiz, viewer.locale, viewer.default_locale)) + "</b>",
            ngettext("{count} question", "{count} questions", count).format(count=count),
            _("Open until {when}.").format(when=when_text(closes_at, False, viewer)),
            _("Tap the answer you think is right; each question counts once."),
        ]
    )


@dataclass(slots=True)
class PlanResult:
    """What one planning run did."""

    runs: int = 0
    started: int = 0


def _anchor(quiz: Quiz, sessions: list[TrainingSession]) -> datetime | None:
    scheduled = [row for row in sessions if row.status == SessionStatus.SCHEDULED]
    if quiz.attach == ATTACH_END:
        return max((row.ends_at for row in scheduled), default=None)
    ref = (quiz.session_ref or "").strip().casefold()
    for row in scheduled:
        titles = {str(title).strip().casefold() for title in row.titles.values()}
        if row.key.strip().casefold() == ref or ref in titles:
            return row.ends_at
    return None


async def _keep_runs(session: AsyncSession, now: datetime) -> int:
    quizzes = [quiz for quiz in await quiz_db.all_quizzes(session) if quiz.questions]
    if not quizzes:
        return 0
    cohorts = await feedback_db.cohorts_of_programmes(session, {q.programme_id for q in quizzes})
    runs = {
        (run.quiz_id, run.cohort_id): run
        for run in await quiz_db.runs_of_cohorts(session, [c.id for c in cohorts if c.id])
    }
    written = 0
    for cohort in cohorts:
        assert cohort.id is not None
        sessions = await timetable_db.sessions_of_cohort(session, cohort.id)
        for quiz in quizzes:
            if quiz.programme_id != cohort.programme_id or quiz.id is None:
                continue
            anchor = _anchor(quiz, sessions)
            if anchor is None:
                continue
            opens = anchor + timedelta(minutes=quiz.delay_minutes)
            closes = opens + timedelta(hours=quiz.open_hours)
            run = runs.get((quiz.id, cohort.id))
            if run is None:
                run = QuizRun(
                    quiz_id=quiz.id,
                    cohort_id=cohort.id,
                    opens_at=opens,
                    closes_at=closes,
                    created_at=now,
                )
            elif run.opens_at > now and (run.opens_at, run.closes_at) != (opens, closes):
                run.opens_at, run.closes_at = opens, closes
            else:
                continue
            session.add(run)
            written += 1
    await session.flush()
    return written


def viewer_of(
    locale: str | None, language_code: str | None, timezone: str | None, programme: Programme
) -> Viewer:
    """The reader's language and zone, the programme's as fall-backs."""
    chosen = viewer_locale(locale, language_code, programme.default_locale)
    return Viewer(chosen, timezone, programme.home_timezone, programme.default_locale)


async def _start_open_runs(session: AsyncSession, now: datetime) -> int:
    runs = [run for run in await quiz_db.open_runs(session, now) if run.id is not None]
    if not runs:
        return 0
    quizzes = await quiz_db.quizzes_by_id(session, {run.quiz_id for run in runs})
    pairs = await timetable_db.programmes_of_cohorts(session, {run.cohort_id for run in runs})
    recipients = await feedback_db.recipients_of_cohorts(session, {r.cohort_id for r in runs})
    started = await quiz_db.started_users(session, [run.id for run in runs if run.id])
    envelopes: list[Envelope] = []
    for run in runs:
        assert run.id is not None
        quiz = quizzes.get(run.quiz_id)
        if quiz is None or not quiz.questions or run.cohort_id not in pairs:
            continue
        programme = pairs[run.cohort_id][1]
        for person in recipients:
            if person.cohort_id != run.cohort_id or (run.id, person.user_id) in started:
                continue
            viewer = viewer_of(person.locale, person.language_code, person.timezone, programme)
            with use_locale(viewer.locale):
                text = intro_text(quiz, viewer, run.closes_at)
            session.add(
                QuizPoll(
                    run_id=run.id,
                    quiz_id=run.quiz_id,
                    cohort_id=run.cohort_id,
                    user_id=person.user_id,
                    question=0,
                    queued_at=now,
                )
            )
            common = {"chat_id": person.user_id, "user_id": person.user_id}
            envelopes.append(
                Envelope(
                    **common,
                    kind=INTRO_KIND,
                    dedupe_key=f"qz:{run.id}:{person.user_id}:intro",
                    due_at=now,
                    not_after=run.closes_at,
                    payload={"text": text},
                )
            )
            envelopes.append(
                Envelope(
                    **common,
                    kind=POLL_KIND,
                    dedupe_key=poll_key(run.id, person.user_id, 0),
                    due_at=now,
                    not_after=run.closes_at,
                    payload=poll_payload(
                        quiz,
                        0,
                        viewer.locale,
                        programme.default_locale,
                        run_id=run.id,
                        user_id=person.user_id,
                    ),
                )
            )
    await session.flush()
    await enqueue(session, envelopes, now)
    return len(envelopes) // 2


async def plan_quizzes(session: AsyncSession, now: datetime) -> PlanResult:
    """One planning run (see the module's docstring); commits."""
    result = PlanResult()
    result.runs = await _keep_runs(session, now)
    result.started = await _start_open_runs(session, now)
    await session.commit()
    return result

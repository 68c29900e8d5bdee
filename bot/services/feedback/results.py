"""What trainees said: a cohort's feedback (or one session's) as figures an organiser reads.

For each form: the response rate (answered requests of those not cancelled); per question the
answers given, the average (ratings 1-5, recommendations 0-10, with the NPS: the share of
promoters, 9-10, less the share of detractors, 0-6), the count of each value or option, and the
typed answers; the same per session; and for each rating question its average session after
session, in time order. Who answered never appears, so an anonymous form's answers stay so.

:func:`build_report` reads the cohort in four queries and counts in one pass; the
:class:`Report` says it as JSON, a Telegram message, a chart and a workbook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db import timetable as timetable_db
from bot.db.feedback import FeedbackForm, QuestionKind, RequestStatus
from bot.db.models import TrainingSession
from bot.i18n import format_date, ngettext, use_locale
from bot.i18n import gettext as _
from bot.markup import h
from bot.services import charts, spreadsheets
from bot.services.feedback.results_text import (
    Budget,
    QuestionResult,
    in_language,
    kind_label,
    number,
    question_texts,
    rate_text,
    share,
    signed,
)

#: Typed answers quoted per question in the Telegram summary (the workbook has them all).
QUOTES_PER_QUESTION: Final = 5
#: Sessions listed in the summary at most, the latest (the workbook has them all).
SESSIONS_SHOWN: Final = 12


def _questions(form: FeedbackForm) -> list[QuestionResult]:
    results = []
    for item in form.questions:
        questions, options = question_texts(item.get("texts") or {})
        count = max((len(labels) for labels in options.values()), default=0)
        results.append(
            QuestionResult(
                question_id=str(item.get("id", "")),
                kind=str(item.get("kind", "")),
                texts=questions,
                options=options,
                option_count=count,
            )
        )
    return results


@dataclass(slots=True)
class Occasion:
    """A form's figures for one session (``session_id`` None: the end of the cohort)."""

    session_id: int | None
    requested: int = 0
    answered: int = 0
    responses: int = 0
    questions: list[QuestionResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The figures as plain data."""
        return {
            "session_id": self.session_id,
            "requested": self.requested,
            "answered": self.answered,
            "responses": self.responses,
            "questions": [question.to_json() for question in self.questions],
        }


@dataclass(slots=True)
class FormResult:
    """One form's figures for the whole report, and per session."""

    form_id: int
    key: str
    titles: dict[str, str]
    anonymous: bool
    requested: int = 0
    answered: int = 0
    responses: int = 0
    questions: list[QuestionResult] = field(default_factory=list)
    occasions: list[Occasion] = field(default_factory=list)

    def title(self, locale: str) -> str:
        """The form's title in the reader's language (else English, else any, else its key)."""
        return in_language(self.titles, locale, self.key)

    def to_json(self) -> dict[str, Any]:
        """The figures as plain data."""
        return {
            "form_id": self.form_id,
            "key": self.key,
            "titles": dict(self.titles),
            "anonymous": self.anonymous,
            "requested": self.requested,
            "answered": self.answered,
            "responses": self.responses,
            "questions": [question.to_json() for question in self.questions],
            "sessions": [occasion.to_json() for occasion in self.occasions],
        }


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as the report names it."""

    session_id: int
    titles: dict[str, str]
    starts_at: datetime

    def label(self, locale: str, zone: ZoneInfo) -> str:
        """ "Digital trade rules, 8 Mar 2027" in the reader's language."""
        title = in_language(self.titles, locale, f"#{self.session_id}")
        return f"{title}, {format_date(self.starts_at, zone, 'medium', locale)}"


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """A rating question's average after one session."""

    session_id: int
    average: float
    answers: int


@dataclass(frozen=True, slots=True)
class Trend:
    """A rating question's average session after session, in time order."""

    form_id: int
    question_id: str
    texts: dict[str, str]
    points: tuple[TrendPoint, ...]

    def to_json(self) -> dict[str, Any]:
        """The points as plain data."""
        return {
            "form_id": self.form_id,
            "question_id": self.question_id,
            "points": [
                {"session_id": p.session_id, "average": round(p.average, 2), "answers": p.answers}
                for p in self.points
            ],
        }


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One submitted form without who gave it."""

    response_id: int
    form_id: int
    session_id: int | None
    submitted_at: datetime
    answers: dict[str, Any]


@dataclass(slots=True)
class Report:
    """A cohort's (or one session's) feedback results."""

    cohort_id: int
    cohort_code: str
    cohort_name: str
    home_timezone: str
    #: The one session reported on, or None for the whole cohort.
    session: SessionInfo | None
    #: The sessions with requests or responses, in time order.
    sessions: list[SessionInfo]
    requested: int
    answered: int
    forms: list[FormResult]
    trends: list[Trend]
    raw: list[RawResponse]

    @property
    def responses(self) -> int:
        """How many forms were submitted."""
        return len(self.raw)

    @property
    def rate(self) -> float:
        """Answered requests in percent of those not cancelled."""
        return share(self.answered, self.requested)

    @property
    def zone(self) -> ZoneInfo:
        """The programme's home time zone, for the sessions' dates."""
        try:
            return ZoneInfo(self.home_timezone)
        except (KeyError, ValueError):
            return ZoneInfo("UTC")

    def session_label(self, session_id: int | None, locale: str) -> str:
        """A session's title and date; the end of the cohort for None."""
        if session_id is None:
            return _("End of the programme")
        found = next((s for s in self.sessions if s.session_id == session_id), None)
        return found.label(locale, self.zone) if found is not None else f"#{session_id}"

    def to_json(self) -> dict[str, Any]:
        """The whole report as plain data (JSON-ready)."""
        return {
            "cohort": {"id": self.cohort_id, "code": self.cohort_code, "name": self.cohort_name},
            "session_id": self.session.session_id if self.session is not None else None,
            "requested": self.requested,
            "answered": self.answered,
            "responses": self.responses,
            "response_rate": round(self.rate, 1),
            "sessions": [
                {"id": s.session_id, "titles": dict(s.titles), "starts_at": s.starts_at.isoformat()}
                for s in self.sessions
            ],
            "forms": [form.to_json() for form in self.forms],
            "trends": [trend.to_json() for trend in self.trends],
        }

    # --- for Telegram -----------------------------------------------------------------------

    def text(self, locale: str) -> str:
        """A short summary for Telegram: HTML, in ``locale``, under 4,096 characters."""
        with use_locale(locale):
            return _summary(self, locale)

    def chart_png(self, locale: str) -> bytes | None:
        """The trend of the rating questions across sessions when there are two sessions or
        more, else each rating's average; None when nothing was rated."""
        with use_locale(locale):
            return _chart(self, locale)

    def to_xlsx(self, locale: str = "en") -> bytes:
        """A workbook: summary, distribution per question, typed answers, raw answers, trend."""
        with use_locale(locale):
            return _workbook(self, locale)


# --- building ---------------------------------------------------------------------------------


async def build_report(
    session: AsyncSession, cohort_id: int, session_id: int | None = None
) -> Report | None:
    """The results of a cohort, or of one of its sessions; None when the cohort (or the
    session, in this cohort) does not exist."""
    found = await timetable_db.cohort_with_programme(session, cohort_id)
    if found is None:
        return None
    cohort, programme = found
    all_sessions = await timetable_db.sessions_of_cohort(session, cohort_id)
    chosen: TrainingSession | None = None
    if session_id is not None:
        chosen = next((row for row in all_sessions if row.id == session_id), None)
        if chosen is None:
            return None
    counts = await feedback_db.request_counts(session, cohort_id, session_id)
    rows = await feedback_db.response_rows(session, cohort_id, session_id)
    form_ids = {form_id for form_id, *_rest in counts} | {row[1] for row in rows}
    forms = await feedback_db.forms_by_ids(session, form_ids)
    used = {occasion for _form, occasion, *_rest in counts} | {row[2] for row in rows}
    sessions = [
        SessionInfo(row.id, dict(row.titles), row.starts_at)
        for row in all_sessions
        if row.id is not None and row.id in used
    ]
    report = Report(
        cohort_id=cohort_id,
        cohort_code=cohort.code,
        cohort_name=cohort.name,
        home_timezone=programme.home_timezone,
        session=SessionInfo(chosen.id or 0, dict(chosen.titles), chosen.starts_at)
        if chosen is not None
        else None,
        sessions=sessions,
        requested=0,
        answered=0,
        forms=[],
        trends=[],
        raw=[RawResponse(row[0], row[1], row[2], row[4], row[3]) for row in rows],
    )
    _tally(report, forms, counts)
    return report


def _tally(
    report: Report,
    forms: Sequence[FeedbackForm],
    counts: Sequence[tuple[int, int | None, str, int]],
) -> None:
    order = {info.session_id: index for index, info in enumerate(report.sessions)}
    results: dict[int, FormResult] = {}
    occasions: dict[tuple[int, int | None], Occasion] = {}
    templates: dict[int, FeedbackForm] = {}
    for form in forms:
        if form.id is None:
            continue
        templates[form.id] = form
        results[form.id] = FormResult(
            form_id=form.id,
            key=form.key,
            titles=dict(form.titles),
            anonymous=form.anonymous,
            questions=_questions(form),
        )

    def occasion(form_id: int, session_id: int | None) -> Occasion:
        key = (form_id, session_id)
        if key not in occasions:
            occasions[key] = Occasion(session_id, questions=_questions(templates[form_id]))
        return occasions[key]

    for form_id, session_id, status, count in counts:
        if form_id not in results or status == RequestStatus.CANCELLED:
            continue
        answered = count if status == RequestStatus.ANSWERED else 0
        for target in (results[form_id], occasion(form_id, session_id)):
            target.requested += count
            target.answered += answered
        report.requested += count
        report.answered += answered
    for raw in report.raw:
        if raw.form_id not in results:
            continue
        form_result = results[raw.form_id]
        per_session = occasion(raw.form_id, raw.session_id)
        form_result.responses += 1
        per_session.responses += 1
        for overall, local in zip(form_result.questions, per_session.questions, strict=True):
            value = raw.answers.get(overall.question_id)
            if value is not None:
                overall.add(value)
                local.add(value)

    def when(key: tuple[int, int | None]) -> int:
        # Sessions in time order; the end of the programme after them.
        return len(order) + 1 if key[1] is None else order.get(key[1], len(order))

    for key in sorted(occasions, key=when):
        results[key[0]].occasions.append(occasions[key])
    report.forms = [results[form.form_id] for form in results.values()]
    report.trends = _trends(report)


def _trends(report: Report) -> list[Trend]:
    trends = []
    for form in report.forms:
        for index, question in enumerate(form.questions):
            if question.kind != QuestionKind.RATING:
                continue
            points = []
            for found in form.occasions:
                local = found.questions[index]
                if found.session_id is not None and local.average is not None:
                    points.append(TrendPoint(found.session_id, local.average, local.answers))
            if points:
                trends.append(
                    Trend(form.form_id, question.question_id, question.texts, tuple(points))
                )
    return trends


# --- the summary ------------------------------------------------------------------------------


def _question_line(question: QuestionResult, locale: str) -> str:
    name = h(question.question(locale))
    if question.kind == QuestionKind.RATING and question.average is not None:
        figures = _("<b>{average}</b> of 5").format(average=number(question.average, locale))
    elif question.kind == QuestionKind.NPS and question.nps is not None:
        figures = _("NPS <b>{nps}</b>, average {average} of 10").format(
            nps=signed(question.nps, locale), average=number(question.average or 0, locale)
        )
    elif question.kind in (QuestionKind.CHOICE, QuestionKind.MULTI) and question.answers:
        labels = question.labels(locale)
        ranked = sorted(question.distribution().items(), key=lambda item: -item[1])
        figures = " · ".join(f"{h(labels[value])} {count}" for value, count in ranked if count)
    elif question.kind == QuestionKind.TEXT:
        figures = ""
    else:
        figures = _("no answers")
    answers = ngettext("{count} answer", "{count} answers", question.answers).format(
        count=question.answers
    )
    return f"• {name} — {figures} ({answers})" if figures else f"• {name} ({answers})"


def _summary(report: Report, locale: str) -> str:
    budget = Budget()
    head = _("📊 <b>Feedback: {cohort}</b>").format(cohort=h(report.cohort_code))
    if report.cohort_name:
        head += f" — {h(report.cohort_name)}"
    budget.add(head)
    if report.session is not None:
        budget.add(h(report.session.label(locale, report.zone)))
    if not report.requested and not report.responses:
        budget.add(_("No feedback was requested yet."))
        return budget.text()
    budget.add(
        _("Answered: {rate}").format(rate=rate_text(report.answered, report.requested, locale))
    )
    if not report.responses:
        budget.add(_("No responses yet."))
        return budget.text()
    for form in report.forms:
        budget.add("")
        title = f"<b>{h(form.title(locale))}</b>"
        if form.anonymous:
            title += " · " + _("anonymous")
        budget.add(f"{title} — {rate_text(form.answered, form.requested, locale)}")
        for question in form.questions:
            budget.add(_question_line(question, locale))
            if question.kind == QuestionKind.TEXT and question.typed:
                budget.quotes(question.typed, QUOTES_PER_QUESTION)
    if report.session is None and len(report.sessions) > 1:
        _by_session(report, locale, budget)
    return budget.text()


def _by_session(report: Report, locale: str, budget: Budget) -> None:
    """Each session's response rate and ratings, the latest last, then each rating's trend."""
    rates: dict[int, list[int]] = {}
    for form in report.forms:
        for found in form.occasions:
            if found.session_id is not None:
                figures = rates.setdefault(found.session_id, [0, 0])
                figures[0] += found.answered
                figures[1] += found.requested
    averages: dict[int, list[str]] = {}
    for trend in report.trends:
        for point in trend.points:
            averages.setdefault(point.session_id, []).append(number(point.average, locale))
    budget.add("")
    budget.add(_("<b>Session by session</b>"))
    for info in report.sessions[-SESSIONS_SHOWN:]:
        answered, requested = rates.get(info.session_id, [0, 0])
        line = f"• {h(info.label(locale, report.zone))} — {rate_text(answered, requested, locale)}"
        if averages.get(info.session_id):
            line += " · " + " / ".join(averages[info.session_id])
        budget.add(line)
    if report.trends:
        budget.add(_("Trend of the ratings (average of 5):"))
        for trend in report.trends:
            steps = " → ".join(number(point.average, locale) for point in trend.points[-8:])
            budget.add(f"• {h(in_language(trend.texts, locale, trend.question_id))}: {steps}")


# --- the chart --------------------------------------------------------------------------------


def _question_name(
    form: FormResult, question_texts: Mapping[str, str], qid: str, locale: str, many: bool
) -> str:
    name = in_language(question_texts, locale, qid)
    return f"{form.title(locale)}: {name}" if many else name


def _chart(report: Report, locale: str) -> bytes | None:
    many = len(report.forms) > 1
    titles = {form.form_id: form for form in report.forms}
    if report.session is None and len(report.sessions) > 1 and report.trends:
        order = [info.session_id for info in report.sessions]
        series: dict[str, list[float | None]] = {}
        for trend in report.trends:
            by_session = {point.session_id: point.average for point in trend.points}
            name = _question_name(
                titles[trend.form_id], trend.texts, trend.question_id, locale, many
            )
            series[name] = [by_session.get(session_id) for session_id in order]
        labels = [info.label(locale, report.zone) for info in report.sessions]
        return charts.line_chart(
            _("Average rating per session: {cohort}").format(cohort=report.cohort_code),
            labels,
            series,
            locale=locale,
            value_label=_("average (1-5)"),
            y_range=(1, 5.2),
        )
    names, values = [], []
    for form in report.forms:
        for question in form.questions:
            if question.kind == QuestionKind.RATING and question.average is not None:
                names.append(
                    _question_name(form, question.texts, question.question_id, locale, many)
                )
                values.append(question.average)
    if not values:
        return None
    title = _("Average rating: {cohort}").format(cohort=report.cohort_code)
    if report.session is not None:
        title += " · " + report.session.label(locale, report.zone)
    return charts.bar_chart(
        title,
        names,
        values,
        locale=locale,
        value_label=_("average (1-5)"),
        horizontal=True,
        max_value=5.4,
    )


# --- the workbook -----------------------------------------------------------------------------


def _answer_cell(question: QuestionResult, value: Any, locale: str) -> spreadsheets.Cell:
    if value is None:
        return None
    if question.kind in (QuestionKind.CHOICE, QuestionKind.MULTI):
        labels = question.labels(locale)
        picked = value if isinstance(value, list) else [value]
        return "; ".join(
            labels.get(item, str(item)) if isinstance(item, int) else str(item) for item in picked
        )
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    return str(value)


def _workbook(report: Report, locale: str) -> bytes:
    form_head, question_head = _("Form"), _("Question")
    session_head = _("Session")
    summary: list[list[spreadsheets.Cell]] = []
    distribution: list[list[spreadsheets.Cell]] = []
    typed: list[list[spreadsheets.Cell]] = []
    for form in report.forms:
        title = form.title(locale)
        for found in [None, *form.occasions]:
            requested = form.requested if found is None else found.requested
            answered = form.answered if found is None else found.answered
            where = (
                _("All sessions")
                if found is None
                else report.session_label(found.session_id, locale)
            )
            questions = form.questions if found is None else found.questions
            for question in questions:
                average, nps = question.average, question.nps
                summary.append(
                    [
                        title,
                        where,
                        requested,
                        answered,
                        round(share(answered, requested), 1),
                        question.question(locale),
                        kind_label(question.kind),
                        question.answers,
                        round(average, 2) if average is not None else None,
                        round(nps, 1) if nps is not None else None,
                    ]
                )
                if found is not None:
                    continue
                labels = question.labels(locale)
                for value, count in question.distribution().items():
                    distribution.append(
                        [
                            title,
                            question.question(locale),
                            labels[value],
                            count,
                            round(share(count, question.answers), 1),
                        ]
                    )
    questions_of = {form.form_id: form for form in report.forms}
    raw_rows: list[list[spreadsheets.Cell]] = []
    for raw in report.raw:
        answered_form = questions_of.get(raw.form_id)
        if answered_form is None:
            continue
        where = report.session_label(raw.session_id, locale)
        name = answered_form.title(locale)
        for question in answered_form.questions:
            given = raw.answers.get(question.question_id)
            if given is None:
                continue
            shown = _answer_cell(question, given, locale)
            raw_rows.append(
                [raw.response_id, name, where, raw.submitted_at, question.question(locale), shown]
            )
            if question.kind == QuestionKind.TEXT and isinstance(given, str) and given.strip():
                typed.append([name, where, question.question(locale), given])
    trend_rows: list[list[spreadsheets.Cell]] = [
        [
            questions_of[trend.form_id].title(locale),
            in_language(trend.texts, locale, trend.question_id),
            report.session_label(point.session_id, locale),
            round(point.average, 2),
            point.answers,
        ]
        for trend in report.trends
        for point in trend.points
    ]
    rate = _("Answered, %")
    return spreadsheets.write_workbook(
        {
            _("Summary"): (
                [
                    form_head,
                    session_head,
                    _("Requested"),
                    _("Answered"),
                    rate,
                    question_head,
                    _("Kind"),
                    _("Answers"),
                    _("Average"),
                    _("NPS"),
                ],
                summary,
            ),
            _("Distribution"): (
                [form_head, question_head, _("Answer"), _("Count"), _("Share, %")],
                distribution,
            ),
            _("Typed answers"): ([form_head, session_head, question_head, _("Answer")], typed),
            _("Raw answers"): (
                [
                    _("Response"),
                    form_head,
                    session_head,
                    _("Submitted (UTC)"),
                    question_head,
                    _("Answer"),
                ],
                raw_rows,
            ),
            _("Trend"): (
                [form_head, question_head, session_head, _("Average"), _("Answers")],
                trend_rows,
            ),
        }
    )

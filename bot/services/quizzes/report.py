"""A cohort's quiz report: per question the share correct (the most misleading first, with the
wrong option chosen most), per trainee the score; as text, JSON and a workbook with a chart."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import quizzes as quiz_db
from bot.db import timetable as timetable_db
from bot.db.models import User
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.quizzes.library import question_in, quiz_title
from bot.services.quizzes.scores import cohort_quiz_scores


@dataclass(frozen=True, slots=True)
class QuestionLine:
    """One question's figures."""

    quiz: str
    number: int  # 1-based
    text: str
    answered: int
    correct: int
    share_correct: float | None
    top_wrong: str | None
    top_wrong_count: int


@dataclass(frozen=True, slots=True)
class TraineeLine:
    """One trainee's score over the opened quizzes."""

    user_id: int
    name: str
    points: float
    max_points: float
    answered: int
    questions: int


@dataclass(slots=True)
class QuizReport:
    """Everything the report shows."""

    cohort_code: str
    questions: list[QuestionLine] = field(default_factory=list)
    trainees: list[TraineeLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (``--json``)."""
        return {
            "cohort": self.cohort_code,
            "questions": [asdict(line) for line in self.questions],
            "trainees": [asdict(line) for line in self.trainees],
        }

    def text(self) -> str:
        """The report as a message (in the current locale)."""
        lines = ["🧠 <b>" + _("Quizzes of {cohort}").format(cohort=h(self.cohort_code)) + "</b>"]
        if not self.questions:
            lines.append(_("No quiz has opened in this cohort yet."))
            return "\n".join(lines)
        lines.append("")
        lines.append("<b>" + _("Questions, the most missed first") + "</b>")
        for q in self.questions[:15]:
            share = "—" if q.share_correct is None else f"{q.share_correct:.0%}"
            line = f"{share} · {h(q.quiz)} #{q.number}: {h(q.text[:80])}"
            if q.top_wrong:
                line += "\n   " + _("most chosen wrong answer: {option} ({n})").format(
                    option=h(q.top_wrong[:60]), n=q.top_wrong_count
                )
            lines.append(line)
        lines.append("")
        lines.append("<b>" + _("Trainees") + "</b>")
        for t in self.trainees[:40]:
            lines.append(f"{h(t.name)}: {t.points:g} / {t.max_points:g}")
        if len(self.trainees) > 40:
            lines.append(_("… and {n} more (see the workbook).").format(n=len(self.trainees) - 40))
        return "\n".join(lines)

    def to_xlsx(self) -> bytes:
        """A workbook: questions (with a chart of the share correct) and trainees."""
        from openpyxl import Workbook
        from openpyxl.chart import BarChart, Reference

        book = Workbook()
        sheet = book.create_sheet("Questions", 0)
        default = book.worksheets[-1]
        book.remove(default)
        sheet.append(
            [
                "Quiz",
                "Question",
                "Text",
                "Answered",
                "Correct",
                "Share correct",
                "Wrong answer chosen most",
                "Times",
            ]
        )
        for q in self.questions:
            sheet.append(
                [
                    q.quiz,
                    q.number,
                    q.text,
                    q.answered,
                    q.correct,
                    q.share_correct,
                    q.top_wrong,
                    q.top_wrong_count,
                ]
            )
        if self.questions:
            chart = BarChart()
            chart.type = "bar"
            chart.title = "Share correct"
            rows = len(self.questions) + 1
            chart.add_data(
                Reference(sheet, min_col=6, min_row=1, max_row=rows), titles_from_data=True
            )
            chart.set_categories(Reference(sheet, min_col=2, min_row=2, max_row=rows))
            sheet.add_chart(chart, "J2")
        people = book.create_sheet("Trainees")
        people.append(["User id", "Name", "Points", "Max points", "Answered", "Questions"])
        for t in self.trainees:
            people.append([t.user_id, t.name, t.points, t.max_points, t.answered, t.questions])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


async def build_report(
    session: AsyncSession, cohort_id: int, now: datetime, locale: str = "en"
) -> QuizReport | None:
    """The report of one cohort (None if it does not exist)."""
    pair = await timetable_db.cohort_with_programme(session, cohort_id)
    if pair is None:
        return None
    cohort, programme = pair
    report = QuizReport(cohort.code)
    runs = [r for r in await quiz_db.runs_of_cohorts(session, [cohort_id]) if r.opens_at <= now]
    quizzes = await quiz_db.quizzes_by_id(session, {run.quiz_id for run in runs})
    for run in runs:
        quiz = quizzes.get(run.quiz_id)
        if quiz is None or run.id is None:
            continue
        polls = [p for p in await quiz_db.polls_of_run(session, run.id) if p.answered_at]
        title = quiz_title(quiz, locale, programme.default_locale)
        for index, question in enumerate(quiz.questions):
            texts = question_in(question, locale, programme.default_locale)
            mine = [p for p in polls if p.question == index]
            right = sum(1 for p in mine if p.correct)
            wrong = Counter(p.option for p in mine if not p.correct and p.option is not None)
            top = wrong.most_common(1)
            options = list(texts["options"] or [])
            top_text = None
            if top and top[0][0] is not None and top[0][0] < len(options):
                top_text = options[top[0][0]]
            report.questions.append(
                QuestionLine(
                    quiz=title,
                    number=index + 1,
                    text=str(texts["q"] or ""),
                    answered=len(mine),
                    correct=right,
                    share_correct=right / len(mine) if mine else None,
                    top_wrong=top_text,
                    top_wrong_count=top[0][1] if top else 0,
                )
            )
    report.questions.sort(key=lambda q: (q.share_correct is None, q.share_correct or 0.0))
    scores = await cohort_quiz_scores(session, cohort_id, now)
    people = await session.exec(select(User).where(col(User.id).in_(sorted(scores))))
    names = {u.id: " ".join(filter(None, [u.first_name, u.last_name])) for u in people.all()}
    for user_id, items in scores.items():
        report.trainees.append(
            TraineeLine(
                user_id=user_id,
                name=names.get(user_id) or str(user_id),
                points=sum(s.points for s in items),
                max_points=sum(s.max_points for s in items),
                answered=sum(s.answered for s in items),
                questions=sum(s.questions for s in items),
            )
        )
    report.trainees.sort(key=lambda t: (-t.points, t.name))
    return report

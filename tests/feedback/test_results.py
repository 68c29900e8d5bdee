"""Feedback results on the real database: the figures an organiser would check by hand, the
JSON, the workbook read back, the Telegram summary's length, and the chart."""

from __future__ import annotations

import io
import json
import warnings

from openpyxl import load_workbook
from PIL import Image

from bot.db.feedback import FeedbackRequest, FeedbackResponse, RequestStatus, session_occasion
from bot.services import charts, spreadsheets
from bot.services.feedback.results import build_report
from tests.feedback.results_support import (
    LECTURE_QUESTIONS,
    PROGRAMME,
    TRAINEES,
    ask,
    form,
    lectures,
    seeded,
)
from tests.support.fonts import require_fonts
from tests.timetable.support import add_trainee, make_cohort


async def test_one_session_has_its_rate_average_nps_and_distribution(session) -> None:
    cohort, (first, _second, _third) = await seeded(session)
    assert cohort.id is not None
    report = await build_report(session, cohort.id, first.id)
    assert report is not None
    # Four asked and not cancelled, three answered.
    assert (report.answered, report.requested) == (3, 4)
    assert round(report.rate) == 75
    [after] = report.forms
    useful, recommend, pace, following, comment = after.questions
    assert useful.answers == 3
    assert round(useful.average or 0, 1) == 4.3
    assert useful.distribution() == {1: 0, 2: 0, 3: 0, 4: 2, 5: 1}
    # Promoters 2 of 3, detractors 1 of 3.
    assert round(recommend.nps or 0) == 33
    assert round(recommend.average or 0, 2) == 7.33
    assert pace.distribution() == {0: 0, 1: 2, 2: 1}
    assert list(pace.labels("zh").values()) == ["太慢", "合适", "太快"]
    assert following.distribution() == {0: 1, 1: 0, 2: 2}
    assert following.answers == 2
    assert comment.typed == ["More cases, please", '=HYPERLINK("x")']

    text = report.text("en")
    assert "3 of 4 (75%)" in text
    assert "<b>4.3</b> of 5" in text
    assert "NPS <b>+33</b>" in text
    assert "Right 2 · Too fast 1" in text
    assert "More cases, please" in text
    assert "=HYPERLINK(&quot;x&quot;)" in text or '=HYPERLINK("x")' in text
    assert "Digital trade rules" in text


async def test_the_whole_cohort_with_trends_in_session_order(session) -> None:
    cohort, (first, second, third) = await seeded(session)
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    # Lectures: 4 + 2 + 2 asked, 3 + 2 + 2 answered; the end: 3 asked, 2 answered.
    assert (report.answered, report.requested) == (9, 11)
    assert report.responses == 9
    assert [info.session_id for info in report.sessions] == [first.id, second.id, third.id]
    after, end = report.forms
    assert after.key == "after-lecture"
    assert [o.session_id for o in after.occasions] == [first.id, second.id, third.id]
    assert [(o.requested, o.answered) for o in after.occasions] == [(4, 3), (2, 2), (2, 2)]
    assert after.questions[0].answers == 7
    [trend] = report.trends
    assert trend.question_id == "useful"
    assert [p.session_id for p in trend.points] == [first.id, second.id, third.id]
    assert [round(p.average, 2) for p in trend.points] == [4.33, 3.5, 5.0]
    assert "4.3 → 3.5 → 5" in report.text("en")
    assert "• E-commerce, 9 Mar 2027 — 2 of 2 (100%) · 3.5" in report.text("en")

    # The anonymous form: its typed answers listed, nobody's name anywhere.
    assert end.anonymous
    assert end.questions[1].typed == ["Longer breaks", "Slides earlier"]
    text = report.text("en")
    assert "anonymous" in text
    assert "Longer breaks" in text
    for _user_id, name in TRAINEES:
        assert name not in text
    assert "Secretname" not in str(report.to_json())


async def test_question_texts_in_the_readers_language_with_fallbacks(session) -> None:
    cohort, _lectures = await seeded(session)
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    after, end = report.forms
    assert after.questions[0].question("zh") == "这次课程有用吗？"
    assert after.questions[0].question("ru") == "How useful was the session?"  # English
    assert end.questions[1].question("zh") == "À améliorer ?"  # the one language there is
    assert after.title("zh") == "课后反馈"
    zh = report.text("zh")
    assert "这次课程有用吗？" in zh
    # Session by session, each titled in Chinese, with its date as Chinese readers write it.
    assert "• 数字贸易规则, 2027年3月8日 — 3 / 4（75%） · 4.3" in zh


async def test_json_shape(session) -> None:
    cohort, (first, _second, _third) = await seeded(session)
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    data = report.to_json()
    assert set(data) == {
        "cohort",
        "session_id",
        "requested",
        "answered",
        "responses",
        "response_rate",
        "sessions",
        "forms",
        "trends",
    }
    assert data["cohort"] == {"id": cohort.id, "code": "DT27-A", "name": "Cohort DT27-A"}
    assert data["response_rate"] == 81.8
    form_data = data["forms"][0]
    assert form_data["sessions"][0]["session_id"] == first.id
    useful = form_data["sessions"][0]["questions"][0]
    assert useful == {
        "id": "useful",
        "kind": "rating",
        "texts": {
            "en": "How useful was the session?",
            "zh": "这次课程有用吗？",
            "ar": "ما مدى فائدة الجلسة؟",
        },
        "answers": 3,
        "average": 4.33,
        "nps": None,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1},
        "texts_given": [],
    }
    assert form_data["sessions"][0]["questions"][1]["nps"] == 33.3
    assert data["trends"][0]["points"][1] == {
        "session_id": report.sessions[1].session_id,
        "average": 3.5,
        "answers": 2,
    }
    json.dumps(data)  # JSON-ready as it is


async def test_workbook_read_back(session) -> None:
    cohort, _lectures = await seeded(session)
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    data = report.to_xlsx("en")
    sheets = spreadsheets.read_back(data)
    assert list(sheets) == ["Summary", "Distribution", "Typed answers", "Raw answers", "Trend"]
    summary = sheets["Summary"]
    assert summary[0][:5] == ["Form", "Session", "Requested", "Answered", "Answered, %"]
    useful_all = next(
        r for r in summary if r[1] == "All sessions" and r[5] == "How useful was the session?"
    )
    assert useful_all[2:5] == [8, 7, 87.5]
    assert useful_all[7:9] == [7, 4.29]
    first_lecture = next(r for r in summary if str(r[1]).startswith("Digital trade rules"))
    assert first_lecture[2:5] == [4, 3, 75.0]
    distribution = sheets["Distribution"]
    assert ["After the lecture", "The pace was", "Right", 2, 66.7] in distribution
    typed = sheets["Typed answers"]
    assert ["End of programme", "End of the programme", "À améliorer ?", "Longer breaks"] in typed
    # What a trainee typed as a formula stays text.
    workbook = load_workbook(io.BytesIO(data))
    cells = [c for row in workbook["Typed answers"].iter_rows() for c in row]
    formula = next(c for c in cells if "HYPERLINK" in str(c.value))
    assert formula.data_type == "s"
    assert formula.value == '\'=HYPERLINK("x")'
    assert all(c.data_type != "f" for ws in workbook.worksheets for r in ws.iter_rows() for c in r)
    raw = sheets["Raw answers"]
    assert raw[0] == ["Response", "Form", "Session", "Submitted (UTC)", "Question", "Answer"]
    assert any(r[4] == "What should come next?" and r[5] == "Cases; Tools" for r in raw)
    assert len(sheets["Trend"]) == 4  # header and three sessions


async def test_many_typed_answers_fit_one_message(session) -> None:
    cohort = await make_cohort(session, "DT27-B", programme_code=PROGRAMME)
    [first, *_rest] = await lectures(session, cohort)
    row = await form(session, cohort, "after-lecture", LECTURE_QUESTIONS)
    for n in range(120):
        await add_trainee(session, 8000 + n, cohort)
        comment = f"Comment {n}: " + "a long and thoughtful remark <with> & markup " * 8
        await ask(
            session,
            row,
            cohort,
            8000 + n,
            first,
            RequestStatus.ANSWERED,
            {"useful": 4, "comment": comment},
        )
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    text = report.text("en")
    assert len(text) < 4096
    assert "Comment 0:" in text
    assert "…and 115 more answers" in text
    assert "&lt;with&gt; &amp; markup" in text
    assert "<with>" not in text


async def test_no_responses_yet(session) -> None:
    cohort = await make_cohort(session, "DT27-C", programme_code=PROGRAMME)
    [first, *_rest] = await lectures(session, cohort)
    row = await form(session, cohort, "after-lecture", LECTURE_QUESTIONS)
    await add_trainee(session, 7101, cohort)
    await ask(session, row, cohort, 7101, first, RequestStatus.OPEN)
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    assert "No responses yet." in report.text("en")
    assert "0 of 1 (0%)" in report.text("en")
    assert report.chart_png("en") is None
    empty = await make_cohort(session, "DT27-D", programme_code=PROGRAMME)
    assert empty.id is not None
    nothing = await build_report(session, empty.id)
    assert nothing is not None
    assert "No feedback was requested yet." in nothing.text("en")
    assert await build_report(session, 999_999) is None
    assert await build_report(session, cohort.id, 999_999) is None


async def test_invalid_answers_are_not_counted(session) -> None:
    cohort = await make_cohort(session, "DT27-E", programme_code=PROGRAMME)
    [first, *_rest] = await lectures(session, cohort)
    row = await form(session, cohort, "after-lecture", LECTURE_QUESTIONS)
    await add_trainee(session, 7201, cohort)
    await ask(
        session,
        row,
        cohort,
        7201,
        first,
        RequestStatus.ANSWERED,
        {"useful": 9, "recommend": True, "pace": 7, "next": [1, 5], "comment": "  "},
    )
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    assert [q.answers for q in report.forms[0].questions] == [0, 0, 0, 0, 0]


async def test_the_chart_with_chinese_labels(session) -> None:
    cohort, (first, _second, _third) = await seeded(session)
    assert cohort.id is not None
    report = await build_report(session, cohort.id)
    assert report is not None
    one = await build_report(session, cohort.id, first.id)
    assert one is not None
    for png in (report.chart_png("zh"), one.chart_png("zh"), one.chart_png("ar")):
        assert png is not None
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (charts.WIDTH_PX, charts.HEIGHT_PX)
    require_fonts()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report.chart_png("zh")
        one.chart_png("ar")
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []


async def test_a_cohort_of_500_is_reported_and_charted(session) -> None:
    cohort = await make_cohort(session, "DT27-F", programme_code=PROGRAMME)
    [first, *_rest] = await lectures(session, cohort)
    row = await form(session, cohort, "after-lecture", LECTURE_QUESTIONS)
    assert cohort.id is not None
    assert row.id is not None
    assert first.id is not None
    session.add_all(
        FeedbackRequest(
            form_id=row.id,
            cohort_id=cohort.id,
            session_id=first.id,
            occasion=session_occasion(first.id),
            user_id=10_000 + n,
            status=RequestStatus.ANSWERED,
            opens_at=first.ends_at,
            closes_at=first.ends_at,
        )
        for n in range(500)
    )
    session.add_all(
        FeedbackResponse(
            form_id=row.id,
            cohort_id=cohort.id,
            session_id=first.id,
            answers={
                "useful": 1 + n % 5,
                "recommend": n % 11,
                "pace": n % 3,
                "next": [n % 3],
                "comment": f"note {n}",
            },
        )
        for n in range(500)
    )
    await session.commit()
    report = await build_report(session, cohort.id)
    assert report is not None
    report.text("en")
    assert report.chart_png("en") is not None
    assert (report.answered, report.requested) == (500, 500)
    assert report.forms[0].questions[0].answers == 500
    assert report.forms[0].questions[0].average == 3.0

"""Reading forms files without a database: the sample, every refusal named, XLSX both ways."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from openpyxl import Workbook, load_workbook

from bot.db.feedback import FormTrigger, QuestionKind
from bot.services.feedback.files import forms_yaml, looks_like_forms, parse_forms
from bot.services.feedback.sheets import guard, unguard, workbook_bytes
from tests.feedback.support import FEEDBACK_YAML, LANGUAGES, PROGRAMME, sample_text


def _messages(data: bytes | str, filename: str = "feedback.yaml", default: str = "en") -> str:
    raw = data.encode() if isinstance(data, str) else data
    result = parse_forms(raw, filename, default_language=default)
    assert not result.ok
    assert result.forms == []
    return "\n".join(problem.message for problem in result.problems)


def test_the_sample_has_two_forms_in_all_six_languages() -> None:
    result = parse_forms(FEEDBACK_YAML.read_bytes(), "feedback.yaml")
    assert result.ok, result.problems
    assert result.programme == PROGRAMME
    lecture, end = result.forms
    assert lecture.key == "after-lecture"
    assert (lecture.trigger, lecture.trigger_values) == (FormTrigger.AFTER_KIND, ("lecture",))
    assert (lecture.delay_minutes, lecture.open_hours, lecture.anonymous) == (15, 48, False)
    assert [(q.key, q.kind, q.skip) for q in lecture.questions] == [
        ("overall", QuestionKind.RATING, False),
        ("recommend", QuestionKind.NPS, False),
        ("pace", QuestionKind.CHOICE, False),
        ("useful", QuestionKind.MULTI, True),
        ("comments", QuestionKind.TEXT, True),
    ]
    assert end.key == "end-of-programme"
    assert (end.trigger, end.trigger_values, end.anonymous) == (FormTrigger.END, (), True)
    assert (end.nudges, end.nudge_every_hours) == (3, 24)
    assert 4 <= len(end.questions) <= 6
    for form in result.forms:
        assert form.languages() == LANGUAGES
        assert list(form.titles) == LANGUAGES
        for question in form.questions:
            assert list(question.texts) == LANGUAGES
            counts = {len(text.options) for text in question.texts.values()}
            assert len(counts) == 1
            assert (counts.pop() > 0) == (
                question.kind in (QuestionKind.CHOICE, QuestionKind.MULTI)
            )
    pace = lecture.questions[2].stored()
    assert pace == {
        "id": "pace",
        "kind": "choice",
        "skip": False,
        "texts": {
            code: {"q": text.question, "options": list(text.options)}
            for code, text in lecture.questions[2].texts.items()
        },
    }
    assert pace["texts"]["zh"] == {"q": "讲座的节奏如何？", "options": ["太慢", "正合适", "太快"]}
    assert lecture.questions[0].stored()["texts"]["ar"]["options"] == []


def test_defaults_and_a_form_after_named_sessions() -> None:
    text = """
forms:
  - id: visit
    title: {en: The visit}
    when: {after: {sessions: ["2027-03-17 Virtual Visit: Yiwu International Trade City"]}}
    questions:
      - {id: liked, kind: rating, en: "Did you like it?"}
"""
    (form,) = parse_forms(text.encode()).forms
    assert form.trigger is FormTrigger.AFTER_SESSIONS
    assert form.trigger_values == ("2027-03-17 Virtual Visit: Yiwu International Trade City",)
    assert (form.delay_minutes, form.open_hours, form.anonymous) == (15, 48, False)
    assert (form.nudges, form.nudge_every_hours) == (2, 12)
    assert form.questions[0].skip is False


def _replace(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return change


_RECOMMEND = (
    "      - id: recommend\n        kind: nps\n        en: How likely are you to recommend this"
)

REFUSALS: dict[str, tuple[Callable[[str], str], list[str]]] = {
    "unknown-kind": (
        _replace(_RECOMMEND, _RECOMMEND.replace("kind: nps", "kind: stars")),
        [
            "Line 39",
            "form “after-lecture”",
            "question “recommend”",
            "unknown question kind “stars”",
        ],
    ),
    "duplicate-form": (
        _replace("  - id: end-of-programme", "  - id: after-lecture"),
        ["the form id “after-lecture” is already used by the form on line 12"],
    ),
    "duplicate-question": (
        _replace("      - id: organisation", "      - id: recommend"),
        ["form “end-of-programme”", "question id “recommend” is already used in this form"],
    ),
    "required-without-english": (
        _replace("        en: Overall, how would you rate today's lecture?\n", ""),
        ["question “overall”", "has no English text"],
    ),
    "required-missing-a-language": (
        _replace("        zh: 您向同事推荐这场讲座的可能性有多大？\n", ""),
        ["question “recommend”", "may not be skipped but has no zh text"],
    ),
    "title-missing-a-language": (
        _replace("      ru: Ваш отзыв о сегодняшней лекции\n", ""),
        ["form “after-lecture”", "the title has no ru text"],
    ),
    "options-count": (
        _replace("options: [太慢, 正合适, 太快]", "options: [太慢, 太快]"),
        ["question “pace”", "number of options differs between languages (en 3, zh 2, ru 3"],
    ),
    "choice-without-options": (
        _replace(
            "          q: How was the pace of the lecture?\n"
            "          options: [Too slow, About right, Too fast]\n",
            "          q: How was the pace of the lecture?\n",
        ),
        ["question “pace”, en: a choice question needs its options"],
    ),
    "options-on-a-rating": (
        _replace(
            "        en: Overall, how would you rate today's lecture?\n",
            '        en: {q: "Overall?", options: [Good, Bad]}\n',
        ),
        ["question “overall”, en: only choice and multi questions have options"],
    ),
    "bad-when": (
        _replace("    when: end", "    when: tomorrow"),
        ["form “end-of-programme”", "“when” should be one of", "found “tomorrow”"],
    ),
    "bad-when-shape": (
        _replace("        kind: [lecture]", "        type: [lecture]"),
        ["form “after-lecture”", "“when” should be one of"],
    ),
    "nudges-out-of-range": (
        _replace("    nudges: 3", "    nudges: 5"),
        ["“nudges” should be a whole number from 0 to 3; found “5”"],
    ),
    "delay-not-a-number": (
        _replace("    delay_minutes: 15", "    delay_minutes: soon"),
        ["Line 24", "“delay_minutes” should be a whole number"],
    ),
    "anonymous-not-a-flag": (
        _replace("    anonymous: true", "    anonymous: perhaps"),
        ["“anonymous” should be true or false; found “perhaps”"],
    ),
    "unknown-form-key": (
        _replace("    anonymous: true", "    anonymous: true\n    colour: blue"),
        ["form “end-of-programme”", "unknown field “colour”"],
    ),
    "unknown-question-key": (
        _replace("      - id: overall\n", "      - id: overall\n        hint: stars\n"),
        ["question “overall”", "unknown field “hint”"],
    ),
    "unknown-language": (
        _replace("        ru: Как вы в целом", "        de: Как вы в целом"),
        ["question “overall”", "“de” is not a language code we know"],
    ),
    "bad-id": (
        _replace("  - id: end-of-programme", "  - id: end of programme"),
        ["the id “end of programme” should be at most 32 letters"],
    ),
    "no-questions": (
        lambda text: text[: text.index("    questions:\n      - id: satisfaction")],
        ["form “end-of-programme”: the form has no questions"],
    ),
    "broken-yaml": (
        _replace("        kind: [lecture]", "        kind: [lecture"),
        ["not valid YAML"],
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_each_refusal_names_its_place_and_reason(name: str) -> None:
    change, named = REFUSALS[name]
    messages = _messages(change(sample_text()))
    for part in named:
        assert part in messages, messages


def test_every_problem_is_named_at_once() -> None:
    text = sample_text()
    for name in ("unknown-kind", "duplicate-form", "options-count", "nudges-out-of-range"):
        text = REFUSALS[name][0](text)
    messages = _messages(text)
    for name in ("unknown-kind", "duplicate-form", "options-count", "nudges-out-of-range"):
        assert REFUSALS[name][1][-1] in messages


def test_a_question_that_may_be_skipped_may_lack_languages() -> None:
    text = sample_text().replace("        zh: 您有什么想对讲师或主办方说的吗？\n", "")
    result = parse_forms(text.encode())
    assert result.ok, result.problems
    assert "zh" not in result.forms[0].questions[4].texts


def test_the_programmes_default_language_may_stand_in_for_english() -> None:
    text = """
forms:
  - id: day
    title: {zh: 今天的课, ru: Сегодняшнее занятие}
    when: end
    questions:
      - {id: liked, kind: rating, zh: 您喜欢吗？, ru: "Вам понравилось?"}
"""
    assert parse_forms(text.encode(), default_language="zh").ok
    messages = _messages(text, default="en")
    assert "the title has no English text" in messages
    assert "question “liked”: the question has no English text" in messages
    messages = _messages(text, default="fr")
    assert "no text in English or in fr, the programme's default language" in messages


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"", "feedback.yaml", "The file is empty."),
        (b"# nothing yet\n", "feedback.yaml", "The file is empty."),
        (b"forms: []\n", "feedback.yaml", "The file has no forms."),
        (b"programme: DIGITRADE-2027\n", "feedback.yaml", "The file has no “forms:”"),
        (b"- id: x\n", "feedback.yaml", "The file should start with “forms:”"),
        (b"\xff\xfe\x00\x01garbage", "feedback.yaml", "neither UTF-8 YAML nor an Excel"),
        (b"not a workbook", "feedback.xlsx", "not a readable Excel workbook"),
        (b"PK\x03\x04broken zip", "feedback.xlsx", "The Excel file could not be read"),
    ],
)
def test_empty_foreign_and_unreadable_files(data: bytes, filename: str, expected: str) -> None:
    (problem,) = parse_forms(data, filename).problems
    assert expected in problem.message
    assert "Traceback" not in problem.message


def test_yaml_written_back_reads_the_same() -> None:
    forms = parse_forms(FEEDBACK_YAML.read_bytes()).forms
    again = parse_forms(forms_yaml(forms, PROGRAMME))
    assert again.ok, again.problems
    assert again.forms == forms
    assert again.programme == PROGRAMME


def test_xlsx_round_trip_of_the_sample() -> None:
    forms = parse_forms(FEEDBACK_YAML.read_bytes()).forms
    data = workbook_bytes(forms)
    assert looks_like_forms(data, "forms.xlsx")
    again = parse_forms(data, "forms.xlsx")
    assert again.ok, again.problems
    assert again.forms == forms
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["forms", "questions"]
    # One row per question and language, after the header.
    questions = sum(len(q.texts) for form in forms for q in form.questions)
    assert book["questions"].max_row == questions + 1


def test_cells_that_look_like_formulas_are_guarded_and_read_back() -> None:
    text = """
forms:
  - id: odd
    title: {en: "=HYPERLINK(\\"http://x\\")"}
    when: {after: {sessions: ["@home; later", "+1 session"]}}
    questions:
      - id: q1
        kind: choice
        en: {q: "-5 or +5?", options: ["-5", "+5", "'=quoted"]}
      - {id: q2, kind: text, en: "'already an apostrophe"}
"""
    forms = parse_forms(text.encode()).forms
    assert forms, parse_forms(text.encode()).problems
    data = workbook_bytes(forms)
    book = load_workbook(io.BytesIO(data))
    form_row = [cell.value for cell in book["forms"][2]]
    assert form_row[0] == "odd"
    assert form_row[2] == "'@home; later\n+1 session"
    assert form_row[8] == '\'=HYPERLINK("http://x")'
    rows = [[cell.value for cell in row] for row in book["questions"].iter_rows(min_row=2)]
    assert rows[0][5] == "'-5 or +5?"
    # The cell is guarded once, as a whole.
    assert rows[0][6] == "'-5; +5; '=quoted"
    assert rows[1][5] == "''already an apostrophe"
    assert not any(
        str(value).startswith(("=", "+", "-", "@"))
        for row in [*rows, form_row]
        for value in row
        if value is not None
    )
    assert parse_forms(data, "odd.xlsx").forms == forms
    for value in ("=1", "+1", "-1", "@x", "'x", "''=y", "plain"):
        assert unguard(guard(value)) == value


def _workbook(forms: list[list[object]], questions: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Forms"
    sheet.append(["Feedback forms of the seminar"])
    sheet.append(["ID", "When", "After", "Anonymous", "Title EN", "Title (fr)"])
    for row in forms:
        sheet.append(row)
    sheet = book.create_sheet("Questions")
    sheet.append(["form", "id", "kind", "skip", "lang", "question", "options"])
    for row in questions:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_written_by_hand() -> None:
    data = _workbook(
        [["day", "after kind", "lecture; workshop", True, "The day", "La journée"]],
        [
            ["day", "pace", "choice", None, "en", "The pace?", "Slow\nRight\nFast"],
            ["day", "pace", None, None, "fr", "Le rythme ?", "Lent; Bon; Rapide"],
            ["day", "more", "text", "yes", "en", "Anything else?", None],
        ],
    )
    assert looks_like_forms(data, "forms.xlsx")
    result = parse_forms(data, "forms.xlsx")
    assert result.ok, result.problems
    (form,) = result.forms
    assert (form.trigger, form.trigger_values) == (FormTrigger.AFTER_KIND, ("lecture", "workshop"))
    assert form.anonymous is True
    assert form.titles == {"en": "The day", "fr": "La journée"}
    pace, more = form.questions
    assert pace.texts["fr"].options == ("Lent", "Bon", "Rapide")
    assert pace.texts["en"].options == ("Slow", "Right", "Fast")
    assert more.skip is True


def test_xlsx_problems_name_sheets_and_rows() -> None:
    data = _workbook(
        [
            ["day", "after_kind", "lecture", None, "The day", "La journée"],
            ["day", "end", None, None, "Again", "Encore"],
            ["week", "weekly", None, "maybe", "Week", "Semaine"],
        ],
        [
            ["day", "pace", "choice", None, "en", "The pace?", "Slow; Fast"],
            ["day", "pace", "multi", None, "fr", "Le rythme ?", "Lent; Rapide"],
            ["day", "pace", None, None, "en", "Pace again?", "Slow; Fast"],
            ["nope", "q", "text", None, "en", "Who?", None],
            ["day", "stars", "stars", None, "en", "Stars?", None],
            ["week", "q", "text", None, "", "No language", None],
        ],
    )
    messages = [problem.message for problem in parse_forms(data, "forms.xlsx").problems]
    assert (
        "Sheet “questions”, row 3, form “day”, question “pace”: “kind” is “multi” here but "
        "“choice” on row 2." in messages
    )
    assert "Sheet “questions”, row 5: there is no form “nope” on the sheet “forms”." in messages
    assert (
        "Sheet “questions”, row 7, form “week”, question “q”: the language is missing." in messages
    )
    joined = "\n".join(messages)
    assert "Sheet “forms”, row 4: the form id “day” is already used by the form on row 3." in joined
    assert "Sheet “forms”, row 5, form “week”: “when” should be after_kind" in joined
    assert "Sheet “forms”, row 5, form “week”: “anonymous” should be true or false" in joined
    assert "Sheet “questions”, row 6, form “day”, question “stars”: unknown question kind" in joined


def test_xlsx_without_the_two_sheets_or_their_headers() -> None:
    book = Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    assert not looks_like_forms(buffer.getvalue(), "forms.xlsx")
    (problem,) = parse_forms(buffer.getvalue(), "forms.xlsx").problems
    assert "should have a sheet “forms”" in problem.message

    data = _workbook([], [])
    (problem,) = parse_forms(data, "forms.xlsx").problems
    assert problem.message == "The file has no forms."


def test_which_files_look_like_forms() -> None:
    assert looks_like_forms(FEEDBACK_YAML.read_bytes(), "feedback.yaml")
    faq = (FEEDBACK_YAML.parent / "faq.yaml").read_bytes()
    assert not looks_like_forms(faq, "faq.yaml")
    assert not looks_like_forms(FEEDBACK_YAML.read_bytes(), "feedback.txt")
    roster = (FEEDBACK_YAML.parent / "roster.xlsx").read_bytes()
    assert not looks_like_forms(roster, "roster.xlsx")

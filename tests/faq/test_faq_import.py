"""Importing and exporting a programme's FAQ on a real database: all or nothing, round trips."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.services.faq import library
from bot.services.faq.files import MESSAGE_LIMIT, parse_faq
from tests.faq.import_support import (
    FAQ_YAML,
    PROGRAMME,
    make_programme,
    sample_rows,
    sample_text,
    stored,
    workbook,
)


async def _import(
    session: AsyncSession, data: bytes, clock: ManualClock, name: str = "faq.yaml"
) -> library.FaqOutcome:
    return await library.import_faq(session, PROGRAMME, data, name, clock.now())


async def test_sample_faq_imports_fifteen_entries_and_names_missing_languages(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    outcome = await _import(session, FAQ_YAML.read_bytes(), clock)
    assert outcome.ok, outcome.problems
    result = outcome.result
    assert result is not None
    assert len(result.created) == 15
    assert result.updated == result.unchanged == result.removed == []
    # As the sample has them: recordings in en, ru and zh only; join-classin in all six.
    assert result.missing["recordings"] == ["fr", "es", "ar"]
    assert result.missing["camera"] == ["zh", "fr", "es", "ar"]
    assert "join-classin" not in result.missing
    summary = library.describe_import(result, done=True)
    assert "New: 15" in summary
    assert "recordings: fr, es, ar" in summary

    rows = await stored(session, programme_id)
    assert [key for key, _category, _texts in rows][:3] == [
        "join-classin",
        "connection-lost",
        "recordings",
    ]
    key, category, texts = rows[2]
    assert key == "recordings"
    assert category == "classroom"
    assert sorted(texts) == ["en", "ru", "zh"]
    assert texts["zh"]["q"] == "错过的课程可以回看吗？"
    assert texts["en"]["keywords"] == []

    entries = await library.load_entries(session, programme_id)
    assert len(entries) == 15
    recordings = entries[2]
    assert recordings.id == "recordings"
    assert recordings.category == "classroom"
    assert set(recordings.questions) == set(recordings.answers) == {"en", "ru", "zh"}
    assert recordings.answers["en"].startswith("Yes. Recordings")


async def test_reimport_is_unchanged_and_a_changed_file_updates_and_removes(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    assert (await _import(session, FAQ_YAML.read_bytes(), clock)).ok
    before = await stored(session, programme_id)

    again = await _import(session, FAQ_YAML.read_bytes(), clock)
    assert again.result is not None
    assert len(again.result.unchanged) == 15
    assert not again.result.changed
    assert await stored(session, programme_id) == before

    text = sample_text()
    # One answer edited, keywords added to another, one entry dropped.
    text = text.replace("Join 10 minutes early to test your audio.", "Join 15 minutes early.")
    text = text.replace(
        "    q: Can I watch a session later if I miss it?\n",
        "    q: Can I watch a session later if I miss it?\n    keywords: [replay; video, missed]\n",
    )
    start = text.index("- id: feedback")
    text = text[:start]
    outcome = await _import(session, text.encode(), clock)
    assert outcome.result is not None
    assert outcome.result.updated == ["join-classin", "recordings"]
    assert outcome.result.removed == ["feedback"]
    assert len(outcome.result.unchanged) == 12
    rows = {key: texts for key, _category, texts in await stored(session, programme_id)}
    assert "feedback" not in rows
    assert rows["recordings"]["en"]["keywords"] == ["replay", "video", "missed"]
    assert rows["join-classin"]["en"]["a"].endswith("Join 15 minutes early.")


async def test_xlsx_written_by_hand_imports_the_same_as_the_yaml(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with session_factory() as session:
        programme_id = await make_programme(session)
        assert (await _import(session, FAQ_YAML.read_bytes(), clock)).ok
        from_yaml = await stored(session, programme_id)
    # Rows sorted by language, as an organiser might keep them: an entry's rows need not touch.
    rows = sorted(sample_rows(), key=lambda row: str(row[2]))
    async with session_factory() as session:
        outcome = await _import(session, workbook(rows), clock, "faq.xlsx")
        assert outcome.result is not None, outcome.problems
        assert len(outcome.result.unchanged) == 15
        assert sorted(await stored(session, programme_id)) == sorted(from_yaml)


async def test_xlsx_lower_case_header_and_keywords_column(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    data = workbook(
        [
            ["visa", "logistics", "EN", "Do I need a visa?", "No, it is online.", "visa; passport"],
            ["visa", "", "fr", "Faut-il un visa ?", "Non, c'est en ligne.", "visa\nvisé"],
        ],
        header=("id", "category", "language", "question", "answer", "keywords"),
    )
    outcome = await _import(session, data, clock, "faq.xlsx")
    assert outcome.result is not None, outcome.problems
    assert outcome.result.missing == {"visa": ["zh", "ru", "es", "ar"]}
    ((key, category, texts),) = await stored(session, programme_id)
    assert (key, category) == ("visa", "logistics")
    assert texts["en"]["keywords"] == ["visa", "passport"]
    assert texts["fr"]["keywords"] == ["visa", "visé"]


def _duplicate_id(text: str) -> str:
    return text.replace("- id: feedback", "- id: recordings")


def _missing_id(text: str) -> str:
    return text.replace("- id: camera\n  category: classroom", "- category: classroom")


def _unknown_language(text: str) -> str:
    return text.replace("  ru:\n    q: Можно ли", "  de:\n    q: Можно ли")


def _too_long(text: str) -> str:
    # About 2200 characters as written, over 5000 once "<" is escaped for Telegram's HTML.
    return text.replace(
        "    a: Yes. Recordings of every lecture", "    a: Yes. " + "a<" * 1000 + " Recordings"
    )


def _broken_yaml(text: str) -> str:
    return text.replace("    q: Can I watch a session later", "    q: [Can I watch a session later")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_duplicate_id, ["entry “recordings”", "already used by the entry on line 38"]),
        (_missing_id, ["Line 186", "the id is missing"]),
        (_unknown_language, ["Line 43", "entry “recordings”", "“de”"]),
        (_too_long, ["entry “recordings”, en", "characters long", str(MESSAGE_LIMIT)]),
        (_broken_yaml, ["Line 4", "not valid YAML"]),
    ],
    ids=["duplicate-id", "missing-id", "unknown-language", "too-long-answer", "broken-yaml"],
)
async def test_a_bad_file_is_refused_whole_and_changes_nothing(
    session: AsyncSession, clock: ManualClock, change, named: list[str]
) -> None:
    programme_id = await make_programme(session)
    # The programme has an FAQ already: a refused file must leave it exactly as it was.
    first = sample_text().replace("Join 10 minutes early", "Join 5 minutes early")
    assert (await _import(session, first.encode(), clock)).ok
    before = await stored(session, programme_id)

    outcome = await _import(session, change(sample_text()).encode(), clock)
    assert not outcome.ok
    assert outcome.result is None
    messages = "\n".join(problem.message for problem in outcome.problems)
    for part in named:
        assert part in messages
    assert await stored(session, programme_id) == before
    assert "nothing changed" in library.describe_problems(outcome.problems)


def test_broken_yaml_names_its_line() -> None:
    text = sample_text()
    broken = text.replace(
        "    q: Can I watch a session later", "    q: [Can I watch a session later"
    )
    (problem,) = parse_faq(broken.encode()).problems
    # The bracket opens on line 40 and is still open when the next key comes.
    assert problem.line is not None
    assert problem.line >= 40
    assert f"Line {problem.line}" in problem.message


def test_every_problem_is_named_at_once() -> None:
    text = _too_long(_unknown_language(_missing_id(_duplicate_id(sample_text()))))
    text = text.replace("    a: Install ClassIn on your computer", "    a: ''\n    x: Install")
    problems = parse_faq(text.encode()).problems
    messages = [problem.message for problem in problems]
    assert any("already used" in m for m in messages)
    assert any("the id is missing" in m for m in messages)
    assert any("“de”" in m for m in messages)
    assert any("characters long" in m for m in messages)
    assert any("join-classin" in m and "the answer is missing" in m for m in messages)
    assert any("unknown field “x”" in m for m in messages)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (b"# nothing yet\n", "The file is empty."),
        (b"[]\n", "The file has no FAQ entries."),
        (b"id: x\n", "should be a list of entries"),
    ],
)
def test_empty_and_shapeless_files(data: bytes, expected: str) -> None:
    (problem,) = parse_faq(data).problems
    assert expected in problem.message


def test_xlsx_problems_name_rows_and_entries() -> None:
    data = workbook(
        [
            ["visa", "logistics", "en", "Do I need a visa?", "No.", None],
            ["visa", "logistics", "en", "Visa?", "No.", None],
            ["", "logistics", "en", "Who?", "Me.", None],
            ["hotel", "logistics", "de", "Hotel?", "Yes.", None],
            ["taxi", "logistics", "fr", "Taxi ?", "", None],
            ["bus", "travel", "en", "Bus?", "Yes.", None],
            ["bus", "logistics", "ru", "Автобус?", "Да.", None],
        ]
    )
    messages = [problem.message for problem in parse_faq(data, "faq.xlsx").problems]
    assert messages == [
        "Row 4, entry “visa”: there is already a en row for this entry (row 3).",
        "Row 5: the id is missing.",
        "Row 6, entry “hotel”: “de” is not a language code we know; use one of "
        "en, zh, ru, fr, es, ar.",
        "Row 7, entry “taxi”, fr: the answer is missing.",
        "Row 9, entry “bus”: the category “logistics” differs from “travel” on row 8.",
    ]


def test_xlsx_without_the_header_is_refused() -> None:
    data = workbook([["visa", "en", "Visa?", "No."]], header=("id", "lang", "question", "reply"))
    (problem,) = parse_faq(data, "faq.xlsx").problems
    assert "header row was not found" in problem.message


async def test_export_then_import_is_unchanged_for_yaml_and_xlsx(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    text = sample_text().replace(
        "    q: Can I watch a session later if I miss it?\n",
        "    q: Can I watch a session later if I miss it?\n    keywords: [replay, '=1+1']\n",
    )
    text = text.replace(
        "    a: Yes. Recordings of every lecture",
        "    a: |-\n      - first line\n      - second line\n      Recordings of every lecture",
    )
    assert (await _import(session, text.encode(), clock)).ok
    before = await stored(session, programme_id)

    exported = await library.export_faq(session, PROGRAMME, "yaml")
    outcome = await _import(session, exported, clock)
    assert outcome.result is not None, outcome.problems
    assert len(outcome.result.unchanged) == 15
    assert await stored(session, programme_id) == before

    sheet = await library.export_faq(session, PROGRAMME, "xlsx")
    cells = [
        row
        for row in load_workbook(io.BytesIO(sheet)).active.iter_rows(values_only=True)  # type: ignore[union-attr]
        if row[0] == "recordings" and row[2] == "en"
    ]
    (row,) = cells
    # Cells that a spreadsheet would run as a formula start with an apostrophe.
    assert str(row[4]).startswith("'- first line")
    assert row[5] == "replay; =1+1"
    outcome = await _import(session, sheet, clock, "faq.xlsx")
    assert outcome.result is not None, outcome.problems
    assert len(outcome.result.unchanged) == 15
    assert await stored(session, programme_id) == before


async def test_unknown_programme(session: AsyncSession, clock: ManualClock) -> None:
    with pytest.raises(library.UnknownProgramme):
        await _import(session, FAQ_YAML.read_bytes(), clock)
    with pytest.raises(library.UnknownProgramme):
        await library.export_faq(session, PROGRAMME, "yaml")

"""Importing and exporting a programme's feedback forms on a real database: all or nothing,
import twice is unchanged, forms left out are kept, round trips through YAML and XLSX."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.services.feedback import library
from tests.feedback.support import (
    FEEDBACK_YAML,
    LANGUAGES,
    PROGRAMME,
    make_programme,
    sample_text,
    stored,
)


async def _import(
    session: AsyncSession, data: bytes, clock: ManualClock, name: str = "feedback.yaml"
) -> library.FormsOutcome:
    return await library.import_forms(session, PROGRAMME, data, name, clock.now())


async def test_the_sample_imports_two_forms_stored_as_documented(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    outcome = await _import(session, FEEDBACK_YAML.read_bytes(), clock)
    assert outcome.ok, outcome.problems
    assert outcome.result is not None
    assert outcome.result.created == ["after-lecture", "end-of-programme"]
    assert outcome.result.updated == outcome.result.unchanged == outcome.result.kept == []
    summary = library.describe_import(outcome.result, done=True)
    assert "Feedback forms of DIGITRADE-2027 imported." in summary
    assert "New: 2" in summary
    assert "after-lecture (new): after every session of kind lecture, 15 min" in summary
    assert "end-of-programme (new, anonymous): at the end of the programme" in summary
    assert "5 questions (2 may be skipped); en, zh, ru, fr, es, ar" in summary

    (lecture_key, lecture), (end_key, end) = await stored(session, programme_id)
    assert (lecture_key, end_key) == ("after-lecture", "end-of-programme")
    assert lecture["trigger"] == "after_kind"
    assert lecture["trigger_values"] == ["lecture"]
    assert (lecture["delay_minutes"], lecture["open_hours"], lecture["position"]) == (15, 48, 0)
    assert (end["trigger"], end["trigger_values"], end["anonymous"]) == ("end", [], True)
    assert (end["nudges"], end["nudge_every_hours"], end["position"]) == (3, 24, 1)
    assert list(lecture["titles"]) == LANGUAGES
    assert lecture["titles"]["ar"] == "رأيك في محاضرة اليوم"
    overall, _recommend, pace, useful, comments = lecture["questions"]
    assert overall == {
        "id": "overall",
        "kind": "rating",
        "skip": False,
        "texts": {
            "en": {"q": "Overall, how would you rate today's lecture?", "options": []},
            "zh": {"q": "总体而言，您如何评价今天的讲座？", "options": []},
            "ru": {"q": "Как вы в целом оцениваете сегодняшнюю лекцию?", "options": []},
            "fr": {
                "q": "Dans l'ensemble, comment évaluez-vous la conférence d'aujourd'hui ?",
                "options": [],
            },
            "es": {"q": "En general, ¿cómo valora la conferencia de hoy?", "options": []},
            "ar": {"q": "بشكل عام، كيف تقيّم محاضرة اليوم؟", "options": []},
        },
    }
    assert pace["texts"]["en"]["options"] == ["Too slow", "About right", "Too fast"]
    assert (useful["kind"], useful["skip"], comments["kind"]) == ("multi", True, "text")
    assert len(useful["texts"]["fr"]["options"]) == 4


async def test_import_twice_is_unchanged_and_a_change_updates_one_form(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    assert (await _import(session, FEEDBACK_YAML.read_bytes(), clock)).ok
    before = await stored(session, programme_id)

    again = await _import(session, FEEDBACK_YAML.read_bytes(), clock)
    assert again.result is not None
    assert again.result.unchanged == ["after-lecture", "end-of-programme"]
    assert not again.result.changed
    assert await stored(session, programme_id) == before

    changed = sample_text().replace("    nudges: 3", "    nudges: 1")
    outcome = await _import(session, changed.encode(), clock)
    assert outcome.result is not None
    assert (outcome.result.updated, outcome.result.unchanged) == (
        ["end-of-programme"],
        ["after-lecture"],
    )
    rows = dict(await stored(session, programme_id))
    assert rows["end-of-programme"]["nudges"] == 1


async def test_forms_left_out_of_the_file_are_kept(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    assert (await _import(session, FEEDBACK_YAML.read_bytes(), clock)).ok
    text = sample_text()
    only_end = text[: text.index("  - id: after-lecture")] + text[text.index("  - id: end-of-") :]
    outcome = await _import(session, only_end.encode(), clock)
    assert outcome.result is not None, outcome.problems
    assert outcome.result.unchanged == ["end-of-programme"]
    assert outcome.result.kept == ["after-lecture"]
    assert "Kept as they are (not in the file): after-lecture" in library.describe_import(
        outcome.result, done=True
    )
    rows = await stored(session, programme_id)
    assert [(key, row["position"]) for key, row in rows] == [
        ("end-of-programme", 0),
        ("after-lecture", 1),
    ]


async def test_a_bad_file_changes_nothing(session: AsyncSession, clock: ManualClock) -> None:
    programme_id = await make_programme(session)
    first = sample_text().replace("    open_hours: 168", "    open_hours: 72")
    assert (await _import(session, first.encode(), clock)).ok
    before = await stored(session, programme_id)
    # One good change, one bad one: the good one is not taken either.
    bad = sample_text().replace("    nudges: 2", "    nudges: 9")
    outcome = await _import(session, bad.encode(), clock)
    assert not outcome.ok
    assert outcome.result is None
    (problem,) = outcome.problems
    assert "“nudges” should be a whole number from 0 to 3; found “9”" in problem.message
    assert "nothing changed" in library.describe_problems(outcome.problems)
    assert await stored(session, programme_id) == before


async def test_unknown_programme_and_a_file_for_another_programme(
    session: AsyncSession, clock: ManualClock
) -> None:
    outcome = await _import(session, FEEDBACK_YAML.read_bytes(), clock)
    assert outcome.unknown
    assert outcome.result is None
    assert outcome.problems[0].message == "There is no programme DIGITRADE-2027."
    assert await library.export_forms(session, PROGRAMME, "yaml") is None

    await make_programme(session, "OTHER-2027")
    outcome = await library.import_forms(
        session, "OTHER-2027", FEEDBACK_YAML.read_bytes(), "feedback.yaml", clock.now()
    )
    assert not outcome.unknown
    (problem,) = outcome.problems
    assert "The file is for the programme DIGITRADE-2027, not OTHER-2027" in problem.message


async def test_the_programmes_default_language_decides(
    session: AsyncSession, clock: ManualClock
) -> None:
    await make_programme(session, "ZH-2027", default_locale="zh")
    text = b"""
forms:
  - id: day
    title: {zh: "\xe4\xbb\x8a\xe5\xa4\xa9"}
    when: end
    questions:
      - {id: liked, kind: rating, zh: "\xe5\x96\x9c\xe6\xac\xa2\xe5\x90\x97"}
"""
    outcome = await library.import_forms(session, "ZH-2027", text, "f.yaml", clock.now())
    assert outcome.ok, outcome.problems
    await make_programme(session, "EN-2027")
    outcome = await library.import_forms(session, "EN-2027", text, "f.yaml", clock.now())
    assert any("no English text" in problem.message for problem in outcome.problems)


async def test_export_then_import_is_unchanged_for_yaml_and_xlsx(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    text = sample_text().replace(
        "options: [Too slow, About right, Too fast]", "options: [Too slow, '=About right', -fast]"
    )
    assert (await _import(session, text.encode(), clock)).ok
    before = await stored(session, programme_id)
    for fmt, name in (("yaml", "forms.yaml"), ("xlsx", "forms.xlsx")):
        exported = await library.export_forms(session, PROGRAMME, fmt)
        assert exported is not None
        outcome = await _import(session, exported, clock, name)
        assert outcome.result is not None, outcome.problems
        assert outcome.result.unchanged == ["after-lecture", "end-of-programme"]
        assert await stored(session, programme_id) == before


async def test_preview_changes_nothing(session: AsyncSession, clock: ManualClock) -> None:
    programme_id = await make_programme(session)
    outcome = await library.preview(
        session, PROGRAMME, FEEDBACK_YAML.read_bytes(), "feedback.yaml", clock.now()
    )
    assert outcome.result is not None
    assert outcome.result.created == ["after-lecture", "end-of-programme"]
    assert "ready to import" in library.describe_import(outcome.result, done=False)
    assert await stored(session, programme_id) == []

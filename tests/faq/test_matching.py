"""The FAQ matcher against the example programme's FAQ, as a trainee would notice it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.services.faq.matching import EntryText, Matcher, entries_from_faq

FAQ = Path(__file__).resolve().parents[2] / "examples" / "faq.yaml"


@pytest.fixture(scope="module")
def entries() -> list[EntryText]:
    return entries_from_faq(yaml.safe_load(FAQ.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def matcher(entries: list[EntryText]) -> Matcher:
    return Matcher(entries)


def _best(matcher: Matcher, text: str, lang: str) -> str | None:
    verdict = matcher.ask(text, lang)
    assert not verdict.escalate, (text, verdict)
    return verdict.matches[0].id


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("هل سنحصل على شهادة في النهاية", "ar", "certificate"),
        ("كيف اغير لغة البوت", "ar", "change-language"),
        ("有结业证书吗", "zh", "certificate"),
        ("错过的课可以看录像吗", "zh", "recordings"),
        ("怎么进classin上课", "zh", "join-classin"),
    ],
)
def test_arabic_and_chinese_questions_find_their_entry(matcher, text, lang, expected) -> None:
    assert _best(matcher, text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("certifcate", "en", "certificate"),
        ("interpretaion", "en", "interpretation"),
        ("сертификт", "ru", "certificate"),
        ("certificdo", "es", "certificate"),
    ],
)
def test_typos_still_match(matcher, text, lang, expected) -> None:
    assert _best(matcher, text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("هل يجب تشغيل الكاميرا", "ar", "camera"),
        ("faut il allumer la camera", "fr", "camera"),
        ("如何提交行动计划", "zh", "action-plan"),
        ("как оставить отзыв о лекции", "ru", "feedback"),
    ],
)
def test_an_entry_without_the_askers_language_is_found(
    entries, matcher, text, lang, expected
) -> None:
    entry = next(e for e in entries if e.id == expected)
    assert lang not in entry.questions
    assert _best(matcher, text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("what's the weather tomorrow", "en"),
        ("who won the match", "en"),
        ("明天天气怎么样", "zh"),
        ("какая погода в москве", "ru"),
        ("من فاز بالمباراة", "ar"),
        ("quel temps fait il", "fr"),
    ],
)
def test_off_topic_goes_to_a_person(matcher, text, lang) -> None:
    verdict = matcher.ask(text, lang)
    assert verdict.escalate
    assert not verdict.confident


@pytest.mark.parametrize("text", ["شَهَادَة", "شـــهـــادة", "الشهاده", "شهادة"])
def test_arabic_diacritics_and_tatweel_do_not_matter(matcher, text) -> None:
    assert _best(matcher, text, "ar") == "certificate"


@pytest.mark.parametrize("text", ["", "   ", "😀🎉", "???", "!!!"])
def test_empty_or_emoji_only_text_escalates(matcher, text) -> None:
    verdict = matcher.ask(text, "en")
    assert verdict.escalate
    assert verdict.matches == ()


def test_at_most_three_matches_best_first_scores_in_range(matcher) -> None:
    verdict = matcher.ask("session", "en")
    assert len(verdict.matches) <= 3
    scores = [m.score for m in verdict.matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_a_clear_question_is_confident(matcher) -> None:
    verdict = matcher.ask("will i get a certificate", "en")
    assert verdict.confident
    assert verdict.matches[0].id == "certificate"


def test_keywords_widen_an_entry(entries) -> None:
    extra = EntryText(
        id="visa",
        category="logistics",
        questions={"en": "Do I need a visa?"},
        answers={"en": "No, the programme is online."},
        keywords={"en": ["passport", "embassy invitation letter"]},
    )
    matcher = Matcher([*entries, extra])
    assert _best(matcher, "passport", "en") == "visa"
    assert _best(matcher, "تأشيرة", "ar") == "visa"

"""Countries typed by organisers and trainees resolve to ISO codes in every language."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.i18n import SUPPORTED_LOCALES
from bot.services.countries import (
    country_codes,
    country_name,
    fold_name,
    resolve_country,
    suggest_countries,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Côte d'Ivoire", "CI"),
        ("cote divoire", "CI"),
        ("CÔTE D’IVOIRE", "CI"),
        ("Кот-д’Ивуар", "CI"),
        ("科特迪瓦", "CI"),
        ("乌兹别克斯坦", "UZ"),
        ("Uzbekistan", "UZ"),
        ("  uzbekistan  ", "UZ"),
        ("Узбекистан", "UZ"),
        ("Ouzbékistan", "UZ"),
        ("Uzbekistán", "UZ"),
        ("أوزبكستان", "UZ"),
        ("UZ", "UZ"),
        ("uz", "UZ"),
        ("UZB", "UZ"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Laos", "LA"),
        ("Iran", "IR"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Burma", "MM"),
        ("Swaziland", "SZ"),
        ("Bosnia and Herzegovina", "BA"),
        ("Bosnia & Herzegovina", "BA"),
        ("Saint Kitts and Nevis", "KN"),
        ("St. Lucia", "LC"),
        ("The Gambia", "GM"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("USA", "US"),
        ("الأردن", "JO"),
        ("الاردن", "JO"),
        ("Россия", "RU"),
        ("Estados Unidos", "US"),
        ("Royaume-Uni", "GB"),
        ("Congo-Kinshasa", "CD"),
        ("Kosovo", "XK"),
        ("台灣", "TW"),
    ],
)
def test_names_and_codes_in_any_language_resolve(text: str, code: str) -> None:
    assert resolve_country(text) == code


@pytest.mark.parametrize(
    "text",
    ["", "   ", "Atlantis", "xx123", "Korea", "Congo", "EU", "UN", "ZZ", "001", "Canary Islands"],
)
def test_unknown_ambiguous_and_non_country_texts_do_not_resolve(text: str) -> None:
    assert resolve_country(text) is None


def test_codes_can_be_turned_off() -> None:
    assert resolve_country("EST") == "EE"
    assert resolve_country("EST", codes=False) is None
    assert resolve_country("Estonia", codes=False) == "EE"


def test_every_country_of_the_sample_roster_resolves() -> None:
    with (EXAMPLES / "roster.csv").open(encoding="utf-8") as file:
        countries = [row["Country"] for row in csv.DictReader(file)]
    assert len(countries) == 40
    assert [name for name in countries if resolve_country(name) is None] == []
    assert len({resolve_country(name) for name in countries}) == 37


def test_every_country_has_a_name_in_every_language_that_resolves_back() -> None:
    unresolved = []
    for code in country_codes():
        for locale in SUPPORTED_LOCALES:
            name = country_name(code, locale)
            assert name != code
            if resolve_country(name) != code:
                unresolved.append((code, locale, name))
    # Spanish calls the Republic of the Congo just "Congo", which English uses for both.
    assert unresolved == [("CG", "es", "Congo")]


def test_country_codes_are_real_two_letter_codes() -> None:
    codes = country_codes()
    assert {"UZ", "UG", "CI", "XK", "TW", "PS"} <= codes
    assert not codes & {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in codes)
    assert len(codes) > 240


@pytest.mark.parametrize(
    ("locale", "name"),
    [
        ("en", "Uzbekistan"),
        ("ru", "Узбекистан"),
        ("zh", "乌兹别克斯坦"),
        ("fr", "Ouzbékistan"),
        ("es", "Uzbekistán"),
        ("ar", "أوزبكستان"),
    ],
)
def test_country_name_is_in_the_requested_language(locale: str, name: str) -> None:
    assert country_name("UZ", locale) == name
    assert country_name("uz", locale) == name


def test_country_name_of_an_unknown_code_is_the_code() -> None:
    assert country_name("QQ", "en") == "QQ"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Uzbekstan", "UZ"),
        ("Uzbek", "UZ"),
        ("Узбек", "UZ"),
        ("乌兹", "UZ"),
        ("Russian Federation", "RU"),
        ("Syrian Arab Republic", "SY"),
        ("Kyrgyz Republic", "KG"),
        ("Lao PDR", "LA"),
        ("Tanzania, United Republic of", "TZ"),
        ("Nigeria", "NG"),
        ("Pakisatn", "PK"),
    ],
)
def test_suggestions_put_the_intended_country_first(text: str, code: str) -> None:
    suggestions = suggest_countries(text, "en")
    assert suggestions
    assert suggestions[0][0] == code


def test_suggestions_offer_both_countries_for_an_ambiguous_name() -> None:
    codes = [code for code, _name in suggest_countries("Korea", "en")]
    assert {"KR", "KP"} <= set(codes[:2])
    codes = [code for code, _name in suggest_countries("Congo", "en")]
    assert {"CG", "CD"} <= set(codes[:2])


def test_suggestions_are_named_in_the_requested_language_and_limited() -> None:
    suggestions = suggest_countries("Ni", "ru", limit=3)
    assert len(suggestions) == 3
    assert ("NE", "Нигер") in suggestions or ("NG", "Нигерия") in suggestions
    assert suggest_countries("Uzbekstan", "zh")[0] == ("UZ", "乌兹别克斯坦")


def test_no_suggestions_for_garbage() -> None:
    assert suggest_countries("xx123", "en") == []
    assert suggest_countries("", "en") == []
    assert suggest_countries("Uzbekistan", "en", limit=0) == []


def test_fold_name_ignores_case_accents_punctuation_and_spaces() -> None:
    assert fold_name("Côte d’Ivoire") == fold_name("COTE DIVOIRE") == "cotedivoire"
    assert fold_name("Ёлка") == fold_name("елка")
    assert fold_name("ＵＺＢ") == "uzb"

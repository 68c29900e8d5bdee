"""Time zones from what people type, and how zones are named and offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.countries import country_codes
from bot.services.timezones import (
    MAX_OFFSET_CHOICES,
    default_zone_for_country,
    resolve_timezone_text,
    utc_offset_label,
    zone_label,
    zones_for_country,
)

WINTER = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2027, 7, 15, 12, 0, tzinfo=UTC)


def test_zones_for_country_put_the_main_zone_first() -> None:
    assert zones_for_country("UZ") == ["Asia/Tashkent", "Asia/Samarkand"]
    assert zones_for_country("RU")[0] == "Europe/Moscow"
    assert zones_for_country("BR")[0] == "America/Sao_Paulo"
    assert zones_for_country("US")[0] == "America/New_York"
    assert zones_for_country("CN")[0] == "Asia/Shanghai"
    assert zones_for_country("KZ")[0] == "Asia/Almaty"
    assert zones_for_country("ug") == ["Africa/Kampala"]
    assert zones_for_country("IN") == ["Asia/Kolkata"]
    assert zones_for_country("QQ") == []


def test_every_zone_of_every_country_loads() -> None:
    for code in country_codes():
        for zone in zones_for_country(code):
            ZoneInfo(zone)


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("UZ", "Asia/Tashkent"),
        ("KZ", "Asia/Almaty"),
        ("NP", "Asia/Kathmandu"),
        ("IN", "Asia/Kolkata"),
        ("UG", "Africa/Kampala"),
        ("DE", "Europe/Berlin"),
        ("MY", "Asia/Kuala_Lumpur"),
        ("XK", "Europe/Belgrade"),
    ],
)
def test_countries_with_one_clock_get_a_default_zone(code: str, zone: str) -> None:
    assert default_zone_for_country(code, WINTER) == zone


@pytest.mark.parametrize("code", ["RU", "BR", "US", "ID", "MX", "AU", "CA", "ES", "QQ"])
def test_countries_with_several_clocks_ask_the_person(code: str) -> None:
    assert default_zone_for_country(code, WINTER) is None


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Tashkent", "Asia/Tashkent"),
        ("tashkent", "Asia/Tashkent"),
        ("Ташкент", "Asia/Tashkent"),
        ("塔什干", "Asia/Tashkent"),
        ("Tachkent", "Asia/Tashkent"),
        ("طشقند", "Asia/Tashkent"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("new york", "America/New_York"),
        ("Nueva York", "America/New_York"),
        ("Kampala", "Africa/Kampala"),
        ("Kiev", "Europe/Kyiv"),
        ("Calcutta", "Asia/Kolkata"),
        ("Asia/Kathmandu", "Asia/Kathmandu"),
        ("Beijing", "Asia/Shanghai"),
        ("北京", "Asia/Shanghai"),
        ("Tashkant", "Asia/Tashkent"),
    ],
)
def test_a_city_gives_its_zone(text: str, zone: str) -> None:
    assert resolve_timezone_text(text, "en", WINTER)[0] == zone


def test_a_country_gives_its_zones() -> None:
    assert resolve_timezone_text("Uzbekistan", "en", WINTER) == ["Asia/Tashkent", "Asia/Samarkand"]
    assert resolve_timezone_text("Узбекистан", "ru", WINTER)[0] == "Asia/Tashkent"
    assert resolve_timezone_text("Uganda", "en", WINTER) == ["Africa/Kampala"]
    russia = resolve_timezone_text("Россия", "ru", WINTER)
    assert russia[0] == "Europe/Moscow"
    assert "Asia/Vladivostok" in russia


def test_a_city_state_is_not_listed_twice() -> None:
    assert resolve_timezone_text("Singapore", "en", WINTER) == ["Asia/Singapore"]


@pytest.mark.parametrize(
    ("text", "first", "generic"),
    [
        ("+5", "Asia/Tashkent", "Etc/GMT-5"),
        ("UTC+5", "Asia/Karachi", "Etc/GMT-5"),
        ("utc+8", "Asia/Shanghai", "Etc/GMT-8"),
        ("GMT-3", "America/Sao_Paulo", "Etc/GMT+3"),
        ("UTC −3", "America/Argentina/Buenos_Aires", "Etc/GMT+3"),
        ("UTC", "Europe/London", "Etc/UTC"),
    ],
)
def test_a_whole_hour_offset_gives_main_zones_then_the_generic_zone(
    text: str, first: str, generic: str
) -> None:
    zones = resolve_timezone_text(text, "en", WINTER)
    assert first in zones
    assert zones[-1] == generic
    assert len(zones) <= MAX_OFFSET_CHOICES
    offset = ZoneInfo(generic).utcoffset(WINTER)
    assert all(WINTER.astimezone(ZoneInfo(zone)).utcoffset() == offset for zone in zones)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("UTC+5:30", "Asia/Kolkata"),
        ("+5.5", "Asia/Kolkata"),
        ("+0530", "Asia/Kolkata"),
        ("+0545", "Asia/Kathmandu"),
        ("GMT+5:45", "Asia/Kathmandu"),
    ],
)
def test_a_half_hour_offset_gives_only_real_zones(text: str, zone: str) -> None:
    zones = resolve_timezone_text(text, "en", WINTER)
    assert zones[0] == zone
    assert not any(candidate.startswith("Etc/") for candidate in zones)


def test_an_offset_is_matched_at_the_given_moment() -> None:
    assert "Europe/London" in resolve_timezone_text("+1", "en", SUMMER)
    assert "Europe/London" not in resolve_timezone_text("+1", "en", WINTER)


@pytest.mark.parametrize("text", ["", "xyzzy", "+15", "UTC+5:99", "5", "EST", "Atlantis"])
def test_nothing_found_gives_an_empty_list(text: str) -> None:
    assert resolve_timezone_text(text, "en", WINTER) == []


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        resolve_timezone_text("+5", "en", datetime(2027, 1, 1))


@pytest.mark.parametrize(
    ("locale", "label"),
    [
        ("en", "Tashkent (Uzbekistan)"),
        ("ru", "Ташкент (Узбекистан)"),
        ("zh", "塔什干（乌兹别克斯坦）"),
        ("fr", "Tachkent (Ouzbékistan)"),
        ("es", "Taskent (Uzbekistán)"),
        ("ar", "طشقند (أوزبكستان)"),
    ],
)
def test_zone_label_names_city_and_country_in_the_language(locale: str, label: str) -> None:
    assert zone_label("Asia/Tashkent", locale) == label


def test_zone_labels_of_special_zones() -> None:
    assert zone_label("Asia/Singapore", "en") == "Singapore"
    assert zone_label("Asia/Hong_Kong", "en") == "Hong Kong"
    assert zone_label("America/Argentina/Buenos_Aires", "en") == "Buenos Aires (Argentina)"
    assert zone_label("Asia/Kolkata", "ru") == "Калькутта (Индия)"
    assert zone_label("Etc/GMT-5", "en") == "UTC+5"
    assert zone_label("Etc/GMT+3", "en") == "UTC-3"
    assert zone_label("Etc/UTC", "ar") == "UTC"


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Asia/Kathmandu", "UTC+5:45"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("Asia/Tashkent", "UTC+5"),
        ("America/Sao_Paulo", "UTC-3"),
        ("America/St_Johns", "UTC-3:30"),
        ("Etc/UTC", "UTC+0"),
    ],
)
def test_utc_offset_label(zone: str, label: str) -> None:
    assert utc_offset_label(zone, WINTER) == label


def test_havana_moves_to_summer_time_on_14_march_2027() -> None:
    # Cuba changes at midnight local time (05:00 UTC).
    before = datetime(2027, 3, 14, 4, 59, tzinfo=UTC)
    after = before + timedelta(minutes=2)
    assert utc_offset_label("America/Havana", before) == "UTC-5"
    assert utc_offset_label("America/Havana", after) == "UTC-4"
    assert "America/Havana" in resolve_timezone_text("-5", "en", before)
    assert "America/Havana" in resolve_timezone_text("-4", "en", after)


def test_belgrade_moves_to_summer_time_on_28_march_2027() -> None:
    before = datetime(2027, 3, 28, 0, 59, tzinfo=UTC)
    after = before + timedelta(minutes=2)
    assert utc_offset_label("Europe/Belgrade", before) == "UTC+1"
    assert utc_offset_label("Europe/Belgrade", after) == "UTC+2"
